import test, { type ExecutionContext } from 'ava';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../src/errors.js';
import { sha256 } from '../../src/crypto.js';
import { concatBytes, toBase64, toHex, utf8 } from '../../src/util/encoding.js';
import {
  formatCheckpoint,
  logSignerNames,
  noteKeyHint,
  noteKeyId,
  parseCheckpoint,
  parseSignedNote,
  signCheckpoint,
  signNote,
  verifyCheckpoint,
  type NoteSigner,
} from '../../src/tlog/note.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { sharedTest } from '../helpers/shared.js';
import { loadCase, makeLog } from './helpers.js';

const root = sha256(utf8.encode('root'));
const cp = { origin: 'log.example.dev', treeSize: 736, rootHash: root };

function refused(t: ExecutionContext, fn: () => unknown, message?: string | RegExp): void {
  const err = t.throws(fn, { instanceOf: StellaError });
  t.is(err?.code, 'CHECKPOINT_INVALID');
  t.is(err?.check, 'tlog');
  if (typeof message === 'string') t.is(err?.message, message);
  else if (message) t.regex(err?.message ?? '', message);
}

for (const type of ['ec', 'ed25519'] as const) {
  test(`${type}: sign and verify a checkpoint round trip`, (t) => {
    const l = makeLog('https://log.example.dev', type);
    const note = signCheckpoint(
      { ...cp, extensions: ['Timestamp: 1689177396617352539'] },
      l.signer,
    );
    t.true(
      note.startsWith(
        `log.example.dev\n736\n${toBase64(root)}\nTimestamp: 1689177396617352539\n\n\u2014 log.example.dev `,
      ),
    );
    const v = verifyCheckpoint(note, [l.log]);
    t.is(v.origin, 'log.example.dev');
    t.is(v.treeSize, 736);
    t.deepEqual(v.rootHash, root);
    t.deepEqual(v.extensions, ['Timestamp: 1689177396617352539']);
    t.is(v.log, l.log);
  });

  test(`${type}: a known name and key hint with a bad signature is refused (E38)`, (t) => {
    const l = makeLog('https://log.example.dev', type);
    const note = signCheckpoint(cp, l.signer);
    const line = note.slice(note.lastIndexOf('\u2014 '));
    const raw = Buffer.from(line.trim().split(' ')[2]!, 'base64');
    raw[raw.length - 5]! ^= 1;
    const bad = note.replace(line, `\u2014 log.example.dev ${raw.toString('base64')}\n`);
    refused(
      t,
      () => verifyCheckpoint(bad, [l.log]),
      /signature by trusted log log\.example\.dev .* does not verify/,
    );
    // Also when a good signature from the same log comes first.
    refused(
      t,
      () => verifyCheckpoint(note + `\u2014 log.example.dev ${raw.toString('base64')}\n`, [l.log]),
      /does not verify/,
    );
  });

  test(`${type}: a signature over a different body is refused`, (t) => {
    const l = makeLog('https://log.example.dev', type);
    const note = signCheckpoint(cp, l.signer);
    refused(
      t,
      () => verifyCheckpoint(note.replace('\n736\n', '\n737\n'), [l.log]),
      /does not verify/,
    );
  });
}

test('unknown cosignatures are ignored, in any position', (t) => {
  const l = makeLog('https://log.example.dev', 'ed25519');
  const witness = makeLog('https://witness.example', 'ed25519');
  const w2 = makeLog('https://witness2.example', 'ec');
  t.is(
    verifyCheckpoint(signCheckpoint(cp, [l.signer, witness.signer, w2.signer]), [l.log]).log,
    l.log,
  );
  t.is(verifyCheckpoint(signCheckpoint(cp, [witness.signer, l.signer]), [l.log]).log, l.log);
  // A witness line that does not even verify is ignored: it claims no trusted key.
  const garbage = `\u2014 witness.example ${toBase64(concatBytes(witness.signer.keyHint, new Uint8Array(64)))}\n`;
  t.is(verifyCheckpoint(signCheckpoint(cp, l.signer) + garbage, [l.log]).log, l.log);
});

test('only unknown signatures: refused', (t) => {
  const l = makeLog('https://log.example.dev', 'ed25519');
  const witness = makeLog('https://witness.example', 'ed25519');
  refused(
    t,
    () => verifyCheckpoint(signCheckpoint(cp, witness.signer), [l.log]),
    /no signature from a trusted log \(expected signer log\.example\.dev\//,
  );
});

test("wrong key hint: the line is not the log's, so nothing verifies", (t) => {
  const l = makeLog('https://log.example.dev', 'ec');
  const wrongHint: NoteSigner = { ...l.signer, keyHint: new Uint8Array([1, 2, 3, 4]) };
  refused(
    t,
    () => verifyCheckpoint(signCheckpoint(cp, wrongHint), [l.log]),
    /no signature from a trusted log/,
  );
});

test('signer name compared exactly: regex or substring names are refused (E34)', (t) => {
  // ECDSA key hints do not depend on the name, so these lines carry the log's real hint and a
  // valid signature; sigstore-js accepts them because baseURL.match(name) succeeds.
  const l = makeLog('https://log.example.dev', 'ec');
  for (const name of [
    '.*',
    'log',
    'example',
    'log.example',
    'LOG.EXAMPLE.DEV',
    'log.example.dev.evil',
    'https://log.example.dev',
  ]) {
    const note = signCheckpoint(cp, { ...l.signer, name });
    refused(t, () => verifyCheckpoint(note, [l.log]), /no signature from a trusted log/);
  }
});

test('Rekor v2: the same names are refused, and the origin must be the name itself', (t) => {
  const l = makeLog('https://log.example.dev', 'ed25519');
  t.is(
    verifyCheckpoint(signCheckpoint(cp, l.signer), [l.log], { rekor: 'v2' }).signerName,
    'log.example.dev',
  );
  for (const name of ['.*', 'log', 'example.dev', 'LOG.EXAMPLE.DEV', 'log.example.dev.evil']) {
    refused(
      t,
      () => verifyCheckpoint(signCheckpoint(cp, { ...l.signer, name }), [l.log], { rekor: 'v2' }),
      /no signature from a trusted log/,
    );
  }
  refused(
    t,
    () =>
      verifyCheckpoint(
        signCheckpoint({ ...cp, origin: 'log.example.dev - 1' }, l.signer),
        [l.log],
        { rekor: 'v2' },
      ),
    /origin "log\.example\.dev - 1" does not belong to log log\.example\.dev/,
  );
});

test('Rekor v1: the line is found by key hint (SHA-256 of the SPKI), any name; the signature must verify', (t) => {
  const l = makeLog('https://rekor.example.dev', 'ec');
  const v1cp = { ...cp, origin: 'rekor-server-7d9f - 1193050959916656506' };
  for (const name of ['rekor-server-7d9f', 'rekor.example.dev', '.', 'anything']) {
    const v = verifyCheckpoint(signCheckpoint(v1cp, { ...l.signer, name }), [l.log], {
      rekor: 'v1',
    });
    t.is(v.signerName, name);
    t.is(v.treeId, '1193050959916656506');
    t.is(v.log, l.log);
  }
  t.deepEqual(
    l.signer.keyHint,
    sha256(new Uint8Array(l.log.publicKey.key.export({ format: 'der', type: 'spki' }))).slice(0, 4),
  );
  // Wrong hint: not the log's line. The log's hint on another key's signature: refused (E38).
  refused(
    t,
    () =>
      verifyCheckpoint(
        signCheckpoint(v1cp, { ...l.signer, keyHint: Uint8Array.of(1, 2, 3, 4) }),
        [l.log],
        { rekor: 'v1' },
      ),
    /no signature from a trusted log \(expected signer key hint [0-9a-f]{8} \(https:\/\/rekor\.example\.dev\)\)/,
  );
  const other = makeLog('https://rekor.example.dev', 'ec');
  refused(
    t,
    () =>
      verifyCheckpoint(
        signCheckpoint(v1cp, {
          ...other.signer,
          keyHint: l.signer.keyHint,
          name: 'rekor-server-7d9f',
        }),
        [l.log],
        { rekor: 'v1' },
      ),
    /signature by trusted log rekor-server-7d9f \(key hint [0-9a-f]{8}\) does not verify with the key of https:\/\/rekor\.example\.dev/,
  );
  // Origins: "<valid name> - <decimal tree id>" only.
  for (const origin of [
    'rekor.example.dev',
    'rekor-server-7d9f - ',
    'rekor-server-7d9f - 12a',
    'has space - 1',
    ' - 1',
    // No " - " at all, though cut at the wrong place it would read as a name and a tree id.
    'rk12345',
  ]) {
    refused(
      t,
      () => verifyCheckpoint(signCheckpoint({ ...cp, origin }, l.signer), [l.log], { rekor: 'v1' }),
      /is not a Rekor v1 origin "<name> - <tree id>"/,
    );
  }
  // Unknown cosignatures are still ignored.
  const witness = makeLog('https://witness.example', 'ed25519');
  t.is(
    verifyCheckpoint(
      signCheckpoint(v1cp, [witness.signer, { ...l.signer, name: 'pod' }]),
      [l.log],
      { rekor: 'v1' },
    ).signerName,
    'pod',
  );
});

test('origin must be the signer name or "<name> - <tree id>"', (t) => {
  const l = makeLog('https://log.example.dev', 'ec');
  t.notThrows(() =>
    verifyCheckpoint(
      signCheckpoint({ ...cp, origin: 'log.example.dev - 2605736670972794746' }, l.signer),
      [l.log],
    ),
  );
  for (const origin of [
    'other.example',
    'log.example.dev - ',
    'log.example.dev - 12a',
    'log.example.dev.evil',
    'xlog.example.dev',
  ]) {
    refused(
      t,
      () => verifyCheckpoint(signCheckpoint({ ...cp, origin }, l.signer), [l.log]),
      /origin .* does not belong to log log\.example\.dev/,
    );
  }
});

test('signer names: host with port and without', (t) => {
  t.deepEqual(logSignerNames({ baseUrl: 'https://rekor.sigstore.dev' }), ['rekor.sigstore.dev']);
  t.deepEqual(logSignerNames({ baseUrl: 'http://localhost:8000' }), [
    'localhost:8000',
    'localhost',
  ]);
  refused(t, () => logSignerNames({ baseUrl: 'not a url' }), /is not a URL/);
  const l = makeLog('http://localhost:8000', 'ec');
  t.notThrows(() =>
    verifyCheckpoint(signCheckpoint({ ...cp, origin: 'localhost:8000 - 1' }, l.signer), [l.log]),
  );
});

test('parser: malformed notes are refused', (t) => {
  const l = makeLog('https://log.example.dev', 'ec');
  const good = signCheckpoint(cp, l.signer);
  const sigLine = good.slice(good.indexOf('\u2014'));
  const body = good.slice(0, good.indexOf('\n\n') + 1);
  const cases: [string, RegExp][] = [
    ['', /empty signed note/],
    [body, /no blank line/],
    [body + '\n', /no signature lines/],
    [good.slice(0, -1), /does not end in a newline/],
    [body + '\n' + sigLine.replace('\u2014', '-'), /does not start with/],
    [body + '\n' + sigLine.replace(' ', '  '), /is not "\u2014 <name> <signature>"/],
    [body + '\n' + sigLine.replace('log.example.dev', 'log+example'), /invalid signer name/],
    [body + '\n' + sigLine.replace(/ (\S+)\n$/, ' $1!\n'), /not valid base64/],
    [body + '\n' + sigLine.replace(/.\n$/, '\n'), /not valid base64/],
    [
      body + '\n' + `\u2014 log.example.dev ${toBase64(new Uint8Array(4))}\n`,
      /signature too short/,
    ],
    [body + '\n' + sigLine.repeat(101), /more than 100 signatures/],
    [good.replace('736', '7\u00016'), /control character/],
    // A lone surrogate has no UTF-8 form: the note's bytes could not be the ones signed.
    [good.replace('736', '7\ud8006'), /signed note is not valid Unicode/],
    [
      body + '\n' + sigLine.replace('log.example.dev', 'log.example.dev\udc00'),
      /not valid Unicode/,
    ],
  ];
  for (const [note, re] of cases) refused(t, () => verifyCheckpoint(note, [l.log]), re);
});

/**
 * `b64` (padded, so its last data character has unused low bits) with the lowest unused bit set:
 * it decodes to the same bytes, but is not their canonical encoding.
 */
function withUnusedBitSet(b64: string): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const i = b64.indexOf('=') - 1;
  const v = A.indexOf(b64[i]!);
  return `${b64.slice(0, i)}${A[v | 1]!}${b64.slice(i + 1)}`;
}

test('base64 in a note must be the canonical encoding: a root hash or a signature with unused bits set is refused, though it decodes to the same bytes', (t) => {
  const h = toBase64(root);
  const odd = withUnusedBitSet(h);
  t.not(odd, h);
  t.deepEqual(new Uint8Array(Buffer.from(odd, 'base64')), root);
  refused(t, () => parseCheckpoint(`o\n1\n${odd}\n`), /not the canonical encoding/);
  // A signature line: the log's own signature, its encoding made non-canonical.
  const l = makeLog('https://log.example.dev', 'ed25519');
  const note = signCheckpoint(cp, l.signer);
  t.is(verifyCheckpoint(note, [l.log]).treeSize, cp.treeSize);
  const line = note.slice(note.lastIndexOf('\u2014 '));
  const [dash, name, b64] = line.trim().split(' ');
  t.true(b64!.endsWith('='), 'a 68-byte signature field is padded');
  const bad = note.replace(line, `${dash} ${name} ${withUnusedBitSet(b64!)}\n`);
  refused(t, () => verifyCheckpoint(bad, [l.log]), /not the canonical encoding/);
});

test('checkpoint body: strict fields', (t) => {
  const h = toBase64(root);
  t.deepEqual(parseCheckpoint(`o\n0\n${h}\n`), {
    origin: 'o',
    treeSize: 0,
    rootHash: root,
    extensions: [],
  });
  t.deepEqual(parseCheckpoint(`o\n9007199254740991\n${h}\nx\ny z\n`).extensions, ['x', 'y z']);
  const bad: [string, RegExp][] = [
    [`o\n736\n${h}`, /does not end in a newline/],
    [`736\n${h}\n`, /expected origin, tree size and root hash lines/],
    [`\n736\n${h}\n`, /empty origin/],
    [`o\n0736\n${h}\n`, /not a decimal number/],
    [`o\n-1\n${h}\n`, /not a decimal number/],
    [`o\n+1\n${h}\n`, /not a decimal number/],
    [`o\n 1\n${h}\n`, /not a decimal number/],
    [`o\n9007199254740992\n${h}\n`, /beyond 2\^53-1/],
    // 2^63-1 is a tree size the format allows; only Stella's 2^53-1 limit refuses it.
    [`o\n9223372036854775807\n${h}\n`, /tree size 9223372036854775807 is beyond 2\^53-1/],
    [`o\n9223372036854775808\n${h}\n`, /exceeds 2\^63-1/],
    [`o\n1\n${h.slice(0, -4)}AA==\n`, /root hash is 31 bytes/],
    [`o\n1\n${h.replace('=', '')}\n`, /not valid base64/],
    [
      `o\n1\n${withUnusedBitSet(h)}\n`,
      /root hash line is not valid base64 \(not the canonical encoding/,
    ],
    [`o\n1\n${h}\n\nx\n`, /extension line 1 is empty/],
  ];
  for (const [text, re] of bad) refused(t, () => parseCheckpoint(text), re);
});

test('formatting refuses what parsing would refuse', (t) => {
  for (const c of [
    { ...cp, origin: '' },
    { ...cp, origin: 'a\nb' },
    { ...cp, treeSize: -1 },
    { ...cp, treeSize: 1.5 },
    { ...cp, rootHash: new Uint8Array(31) },
    { ...cp, extensions: [''] },
  ]) {
    const err = t.throws(() => formatCheckpoint(c), { instanceOf: StellaError });
    t.is(err?.code, 'INPUT_INVALID');
  }
  const l = makeLog('https://log.example.dev', 'ec');
  t.throws(() => signNote('no newline', [l.signer]), { instanceOf: StellaError });
  t.throws(() => signNote('x\n', []), { instanceOf: StellaError });
  t.throws(() => signNote('x\n', [{ ...l.signer, name: 'has space' }]), {
    instanceOf: StellaError,
  });
});

test('Ed25519 note vector from golang.org/x/mod/sumdb/note verifies, key ID per C2SP', (t) => {
  const v = JSON.parse(
    readFileSync(
      path.join(PROJECT_ROOT, 'test', 'fixtures', 'tlog', 'signed-note-vectors.json'),
      'utf8',
    ),
  ).ed25519 as { name: string; verifierKey: string; keyHintHex: string; note: string };
  const keyBytes = Buffer.from(v.verifierKey.split('+')[2]!, 'base64');
  t.is(keyBytes[0], 0x01);
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: keyBytes.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  t.is(toHex(noteKeyHint(v.name, key)), v.keyHintHex);
  const n = parseSignedNote(v.note);
  t.is(n.signatures.length, 1);
  t.is(n.signatures[0]!.name, v.name);
  t.is(toHex(n.signatures[0]!.keyHint), v.keyHintHex);
  t.true(nodeVerify(null, utf8.encode(n.text), key, n.signatures[0]!.signature));
});

// --- Real checkpoints from the conformance suite (shared data) ---

sharedTest('shared conformance: Rekor v2 log ID is the C2SP Ed25519 note key ID', (t) => {
  const { trust } = loadCase('rekor2-happy-path');
  const v2 = trust.tlogs.find((l) => l.baseUrl === 'https://log2025-alpha1.rekor.sigstage.dev')!;
  t.deepEqual(noteKeyId('log2025-alpha1.rekor.sigstage.dev', v2.publicKey.key), v2.logId);
  const v1 = trust.tlogs.find((l) => l.baseUrl === 'https://rekor.sigstage.dev')!;
  t.deepEqual(noteKeyId('rekor.sigstage.dev', v1.publicKey.key), v1.logId); // ECDSA: SHA-256(SPKI)
});

const PASS = [
  'rekor2-happy-path',
  'rekor2-checkpoint-cosigned',
  'rekor2-checkpoint-multiple-cosigs',
  'rekor2-checkpoint-origin-not-first',
  'rekor2-checkpoint-two-sigs-from-origin',
  'happy-path-v0.3',
  'checkpoint-wrong-roothash_fail',
];
const FAIL: [string, RegExp][] = [
  ['rekor2-checkpoint-missing-origin_fail', /expected origin, tree size and root hash lines/],
  ['rekor2-checkpoint-no-matching-signature_fail', /no signature from a trusted log/],
  ['rekor2-checkpoint-missing-size_fail', /expected origin, tree size and root hash lines/],
  ['rekor2-checkpoint-missing-log-signature_fail', /no signature lines/],
  [
    'invalid-checkpoint-signature_fail',
    /signature by trusted log rekor\.sigstore\.dev .* does not verify/,
  ],
];

for (const name of PASS) {
  sharedTest(`shared conformance checkpoint verifies: ${name}`, (t) => {
    const { bundle, trust } = loadCase(name);
    const e = bundle.verificationMaterial.tlogEntries[0]!;
    const v = verifyCheckpoint(e.inclusionProof!.checkpoint, trust.tlogs);
    t.deepEqual(v.log.logId, e.logId);
  });
}
for (const [name, re] of FAIL) {
  sharedTest(`shared conformance checkpoint refused: ${name}`, (t) => {
    const { bundle, trust } = loadCase(name);
    refused(
      t,
      () =>
        verifyCheckpoint(
          bundle.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint,
          trust.tlogs,
        ),
      re,
    );
  });
}

test('a verified checkpoint is remembered only for its exact note and keys (export-bundle --refresh-proofs: once per archive)', (t) => {
  const l = makeLog('https://log.example.dev', 'ec');
  const note = signCheckpoint(cp, l.signer);
  const first = verifyCheckpoint(note, [l.log]);
  const again = verifyCheckpoint(note, [l.log]);
  t.deepEqual(again, first, 'the remembered answer is the same answer');
  t.is(again.log, l.log);
  again.rootHash[0] = again.rootHash[0]! ^ 1;
  t.deepEqual(verifyCheckpoint(note, [l.log]).rootHash, root, 'a caller cannot edit the memo');
  // The same key in another KeyObject (trust material parsed again): verified afresh, and kept.
  const sameKey = createPublicKey({
    key: l.log.publicKey.key.export({ format: 'der', type: 'spki' }),
    format: 'der',
    type: 'spki',
  });
  t.deepEqual(
    verifyCheckpoint(note, [{ ...l.log, publicKey: { ...l.log.publicKey, key: sameKey } }])
      .rootHash,
    root,
  );
  // Another key under the same log ID and URL: verified afresh, and refused.
  const other = makeLog('https://log.example.dev', 'ec');
  refused(t, () => verifyCheckpoint(note, [{ ...l.log, publicKey: other.log.publicKey }]));
  // One byte of the note changed: verified afresh, and refused.
  refused(t, () => verifyCheckpoint(note.replace('\n736\n', '\n737\n'), [l.log]));
});
