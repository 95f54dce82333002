/**
 * C2SP tlog-cosignature v1 (Ed25519): vkeys (whose base64 may hold "+"), PEM keys, signing and
 * verifying, the signed message's exact form, unknown lines ignored, a configured witness's bad
 * line refused, one key counted once.
 */
import test from 'ava';
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import {
  addCosignatures,
  cosignatureKeyId,
  cosignatureLine,
  cosignatureMessage,
  formatWitnessVkey,
  parseWitnessKey,
  verifyCosignatures,
} from '../../src/tlog/cosignature.js';
import { parseSignedNote } from '../../src/tlog/note.js';
import { StellaError } from '../../src/errors.js';

function witness(name: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })).slice(12);
  return {
    key: { name, publicKey: raw },
    pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (m: Uint8Array) => new Uint8Array(nodeSign(null, m, privateKey)),
    publicKey,
  };
}

const TEXT =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
const LOG_LINE =
  '\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';

test("the signed message is the spec's: header, time line, then the note text", (t) => {
  t.is(
    Buffer.from(cosignatureMessage(TEXT, 1679315147)).toString(),
    `cosignature/v1\ntime 1679315147\n${TEXT}`,
  );
});

test('vkeys round-trip, including a key whose base64 holds "+", and PEM keys read with a name', (t) => {
  for (let i = 0; i < 20; i++) {
    const w = witness(`witness.example.com/w${i}`);
    const v = formatWitnessVkey(w.key);
    t.deepEqual(parseWitnessKey(v), w.key);
    t.deepEqual(parseWitnessKey(w.pem, w.key.name), w.key);
  }
  const w = witness('w');
  const v = formatWitnessVkey(w.key);
  const err = (fn: () => unknown) => t.throws(fn, { instanceOf: StellaError })?.code;
  t.is(
    err(() => parseWitnessKey(v.replace(/^w\+[0-9a-f]{8}/, 'w+00000000'))),
    'WITNESS_INVALID',
  );
  t.is(
    err(() => parseWitnessKey(v, 'other')),
    'WITNESS_INVALID',
  );
  t.is(
    err(() => parseWitnessKey(w.pem)),
    'WITNESS_INVALID',
  );
  // A PEM key's --name must be a signed-note key name: non-empty, no spaces, no "+".
  for (const name of ['', 'two words', 'a+b'])
    t.is(
      t.throws(() => parseWitnessKey(w.pem, name), { instanceOf: StellaError })?.message,
      `witness name ${JSON.stringify(name)} is not a valid signed-note key name (non-empty, no spaces or "+")`,
      name,
    );
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ format: 'pem', type: 'spki' })
    .toString();
  t.is(
    err(() => parseWitnessKey(ec, 'w')),
    'WITNESS_INVALID',
  );
});

test('cosignatures verify; unknown ones are ignored; one key counts once; a bad one by a known witness is refused', (t) => {
  const w1 = witness('witness.example.com/w1');
  const w2 = witness('witness.example.com/w2');
  const stranger = witness('stranger.example');
  const l1 = cosignatureLine(TEXT, w1.key, 1679315147, w1.sign);
  const l1b = cosignatureLine(TEXT, w1.key, 1679315999, w1.sign);
  const l2 = cosignatureLine(TEXT, w2.key, 1679315150, w2.sign);
  const ls = cosignatureLine(TEXT, stranger.key, 1679315150, stranger.sign);
  // The line's signature really is Ed25519 over the spec's message.
  const raw = Buffer.from(l1.split(' ')[2]!, 'base64');
  t.deepEqual(
    new Uint8Array(raw.subarray(0, 4)),
    cosignatureKeyId(w1.key.name, w1.key.publicKey).slice(0, 4),
  );
  t.true(nodeVerify(null, cosignatureMessage(TEXT, 1679315147), w1.publicKey, raw.subarray(12)));
  const note = parseSignedNote(`${TEXT}\n${LOG_LINE}${l1}\n${l1b}\n${l2}\n${ls}\n`);
  const got = verifyCosignatures(note, [w1.key, w2.key]);
  t.deepEqual(got.map((g) => [g.name, g.timestamp]).sort(), [
    ['witness.example.com/w1', 1679315147],
    ['witness.example.com/w2', 1679315150],
  ]);
  // The same key configured under a second name still counts once.
  t.is(
    verifyCosignatures(note, [w1.key, { name: 'alias', publicKey: w1.key.publicKey }]).length,
    1,
  );
  // A line claiming w2 that does not verify invalidates the checkpoint.
  const forged = cosignatureLine(TEXT.replace('20852163', '20852164'), w2.key, 1679315150, w2.sign);
  const bad = parseSignedNote(`${TEXT}\n${LOG_LINE}${forged}\n`);
  t.is(
    t.throws(() => verifyCosignatures(bad, [w2.key]), { instanceOf: StellaError })?.code,
    'CHECKPOINT_INVALID',
  );
  t.deepEqual(verifyCosignatures(bad, [w1.key]), [], 'not a configured witness: ignored');
  // A line under a configured witness's name with another key (its next key, say, while the
  // old one is configured) is a line whose key is unknown: ignored, not refused as a forgery.
  const w1next = witness('witness.example.com/w1');
  const lNext = cosignatureLine(TEXT, w1next.key, 1679316000, w1next.sign);
  const rotated = parseSignedNote(`${TEXT}\n${LOG_LINE}${lNext}\n${l1}\n`);
  t.deepEqual(
    verifyCosignatures(rotated, [w1.key]).map((g) => [g.name, g.timestamp]),
    [['witness.example.com/w1', 1679315147]],
  );
});

test('a vkey key ID not written as 8 lower-case hex digits is refused as such, before its key is compared', (t) => {
  // The key ID is also compared with the one computed from the name and key, so a badly written
  // ID is refused either way; what this pins is that the user learns why: an upper-cased vkey
  // names the format, not a key mismatch. A key whose ID has a letter, so upper case differs.
  const parts = (): [string, string, string, ReturnType<typeof witness>] => {
    const w = witness('witness.example.com/upper');
    const v = formatWitnessVkey(w.key);
    const i = v.indexOf('+');
    const j = v.indexOf('+', i + 1);
    return [v.slice(0, i), v.slice(i + 1, j), v.slice(j + 1), w];
  };
  let [name, hint, key, w] = parts();
  while (!/[a-f]/.test(hint)) [name, hint, key, w] = parts();
  t.deepEqual(parseWitnessKey(`${name}+${hint}+${key}`), w.key, 'control: as written');
  for (const bad of [hint.toUpperCase(), hint.slice(1), `${hint}0`, `${hint.slice(1)}g`])
    t.throws(() => parseWitnessKey(`${name}+${bad}+${key}`), {
      instanceOf: StellaError,
      code: 'WITNESS_INVALID',
      message: /^vkey key ID must be 8 lower-case hex digits/,
    });
});

test('a vkey whose key is not 0x04 and 32 bytes is refused as such: a signed-note (0x01) log key, a bare key, a longer one', (t) => {
  const w = witness('witness.example.com/type');
  const v = formatWitnessVkey(w.key);
  // Name and key ID: up to the second "+" (the base64 key may hold "+" itself).
  const head = v.slice(0, v.indexOf('+', v.indexOf('+') + 1) + 1);
  const key = w.key.publicKey;
  for (const [raw, what] of [
    // A log's own vkey (C2SP signed-note, Ed25519 = 0x01) given where a witness's is wanted.
    [Buffer.concat([Buffer.of(0x01), key]), '33 bytes of type 0x01'],
    [Buffer.from(key), `32 bytes of type 0x${key[0]!.toString(16).padStart(2, '0')}`],
    [Buffer.concat([Buffer.of(0x04), key, Buffer.of(0)]), '34 bytes of type 0x04'],
  ] as const)
    t.throws(() => parseWitnessKey(head + raw.toString('base64')), {
      instanceOf: StellaError,
      code: 'WITNESS_INVALID',
      message: `vkey key must be 0x04 followed by a 32-byte Ed25519 key (a tlog-cosignature v1 witness), got ${what}`,
    });
});

test('text with fewer than two "+" is no vkey: refused with the two forms a witness key takes', (t) => {
  const w = witness('witness.example.com/plus');
  const v = formatWitnessVkey(w.key);
  const name = v.slice(0, v.indexOf('+'));
  const rest = v.slice(v.indexOf('+') + 1);
  const hint = rest.slice(0, rest.indexOf('+'));
  for (const bad of ['', 'witness.example.com', `${name}+${hint}`, `${name}+${hint}0123`])
    t.throws(() => parseWitnessKey(bad), {
      instanceOf: StellaError,
      code: 'WITNESS_INVALID',
      message:
        /^a witness key is a vkey "<name>\+<key ID hex>\+<base64 key>" or a PEM Ed25519 public key/,
    });
});

test('cosignatures are added to a whole signed note only: one without its final newline is refused', (t) => {
  t.is(
    addCosignatures('note\n\n— log sig\n', ['— w1 a', '— w2 b']),
    'note\n\n— log sig\n— w1 a\n— w2 b\n',
  );
  t.throws(() => addCosignatures('note\n\n— log sig', ['— w1 a']), {
    instanceOf: StellaError,
    code: 'INPUT_INVALID',
    message: 'a signed note ends in a newline',
  });
});

test('a vkey name that is not a signed-note key name is refused, even with a key ID computed for it', (t) => {
  // Spaces are not allowed in a key name (C2SP signed-note); the key ID matches the name, so
  // only the name rule can refuse it.
  const w = witness('bad name');
  const e = t.throws(() => parseWitnessKey(formatWitnessVkey(w.key)), { instanceOf: StellaError });
  t.is(e?.code, 'WITNESS_INVALID');
  t.regex(e?.message ?? '', /vkey name "bad name" is not a valid signed-note key name/);
  // An empty name is a vkey with a name that is no key name, not text that is no vkey.
  const v = formatWitnessVkey(witness('w').key);
  const empty = t.throws(() => parseWitnessKey(v.slice(v.indexOf('+'))), {
    instanceOf: StellaError,
  });
  t.is(empty?.message, 'vkey name "" is not a valid signed-note key name');
});

test('a cosignature timestamp must be a non-negative safe integer; a line by a known witness of another length is refused', (t) => {
  const w = witness('witness.example.com/w');
  t.notThrows(() => cosignatureLine(TEXT, w.key, 0, w.sign));
  for (const ts of [-1, 1.5, 2 ** 53, Number.NaN]) {
    const e = t.throws(() => cosignatureLine(TEXT, w.key, ts, w.sign), {
      instanceOf: StellaError,
    });
    t.is(e?.code, 'INPUT_INVALID', String(ts));
    t.regex(e?.message ?? '', /is not a non-negative integer/, String(ts));
  }
  // A well-formed line, its signature cut by one byte: 71 bytes after the key ID.
  const line = cosignatureLine(TEXT, w.key, 1679315147, w.sign);
  const [dash, name, b64] = line.split(' ') as [string, string, string];
  const short = Buffer.from(b64, 'base64').subarray(0, -1).toString('base64');
  const note = parseSignedNote(`${TEXT}\n${LOG_LINE}${dash} ${name} ${short}\n`);
  const e = t.throws(() => verifyCosignatures(note, [w.key]), { instanceOf: StellaError });
  t.is(e?.code, 'CHECKPOINT_INVALID');
  t.regex(
    e?.message ?? '',
    /cosignature by witness witness\.example\.com\/w is 71 bytes, not an 8-byte timestamp and a 64-byte Ed25519 signature/,
  );
});
