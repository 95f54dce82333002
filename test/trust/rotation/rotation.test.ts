/**
 * Rotation rules: checklist section G (43–45), dry runs, and what a refused rotation leaves
 * behind (nothing).
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore, readSnapshot } from '../../../src/trust/store/db.js';
import { allEntryRows } from '../../../src/trust/store/entries.js';
import { listRotationKeys, addRotationKeys } from '../../../src/trust/store/rotation-keys.js';
import { initStore } from '../../../src/trust/store/init.js';
import {
  history,
  importFile,
  listEntries,
  trustMaterialFromStore,
} from '../../../src/trust/store/operations.js';
import { applyRotation } from '../../../src/trust/rotation/apply.js';
import {
  readRotationBundle,
  createRotation,
  ROTATION_LIMITS,
} from '../../../src/trust/rotation/bundle.js';
import { readTarStrict, writeTar } from '../../../src/archive/tar.js';
import { toBase64, utf8 } from '../../../src/util/encoding.js';
import {
  caEntry,
  CTX,
  DAY,
  dumpStore,
  makeCa,
  misnamedIntermediate,
  NOW,
  pemOf,
  rotationKeyPair,
  tempStorePath,
  trustedRootOf,
  type RotationKeyPair,
} from '../store/helpers.js';
import {
  canonicalJson,
  craftTar,
  keyB64,
  payloadFor,
  rotationTar,
  storeWithKeys,
} from './helpers.js';
import { ecPublicPoint, keyIdOf, spkiOf } from '../../../src/crypto.js';

const YEAR = 365 * DAY;
const EXPIRES = NOW + 30 * DAY;

let ROOT_A = '';
let ROOT_B = '';
let A_DER: Uint8Array = new Uint8Array();
let B_DER: Uint8Array = new Uint8Array();
test.before(async () => {
  const a = await makeCa('Root A', NOW - 2 * YEAR, NOW + 10 * YEAR);
  const b = await makeCa('Root B', NOW - DAY, NOW + 10 * YEAR);
  A_DER = a.der;
  B_DER = b.der;
  ROOT_A = trustedRootOf([caEntry([a.der], NOW - 2 * YEAR)]);
  ROOT_B = trustedRootOf([caEntry([a.der], NOW - 2 * YEAR, NOW), caEntry([b.der], NOW)]);
});

function keys(n: number, type: 'ec' | 'ed25519' = 'ec'): RotationKeyPair[] {
  return Array.from({ length: n }, () => rotationKeyPair(type));
}

function apply(file: string, tar: Uint8Array, now = NOW, dryRun = false) {
  const s = openTrustStore(file, { readonly: dryRun });
  try {
    return applyRotation(
      s,
      tar,
      { sourceFile: 'rotation.tar', dryRun },
      { now, command: 'stella trust rotate rotation.tar' },
    );
  } finally {
    s.close();
  }
}

/** The actions of the store's last `n` history rows. */
function lastActions(s: ReturnType<typeof openTrustStore>, n: number): string[] {
  return history(s)
    .slice(-n)
    .map((h) => h.action);
}

function refusedUnchanged(
  t: import('ava').ExecutionContext,
  file: string,
  tar: Uint8Array,
  code: string,
  msg?: RegExp,
  now = NOW,
): void {
  const before = dumpStore(file);
  const e = t.throws(() => apply(file, tar, now), { instanceOf: StellaError }) as StellaError;
  t.is<string, string>(e.code, code, e.message);
  if (msg) t.regex(e.message, msg);
  t.is(dumpStore(file), before, 'a refused rotation changes nothing');
}

test('a rotation signed by K distinct trusted keys applies: entries added, version recorded, history written', async (t) => {
  const k = keys(3);
  const file = storeWithKeys(k, 2);
  const r = apply(
    file,
    await rotationTar({ root: ROOT_A, version: 1, expires: EXPIRES, signers: [k[0]!, k[2]!] }),
  );
  t.true(r.applied);
  t.is(r.version, 1);
  t.is(r.previousVersion, 0);
  t.deepEqual(r.signers, [keyIdOf(k[0]!.publicKey), keyIdOf(k[2]!.publicKey)].sort());
  t.is(r.changes.length, 1);
  t.is(r.changes[0]!.action, 'add');
  const s = openTrustStore(file, { readonly: true });
  t.is(listEntries(s)[0]!.rotationVersion, 1);
  t.is(listRotationKeys(s).lastVersion, 1);
  t.deepEqual(lastActions(s, 2), ['rotate-add', 'rotate']);
  s.close();
});

test('--dry-run reports the same changes and writes nothing', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  apply(file, await rotationTar({ root: ROOT_A, version: 1, expires: EXPIRES, signers: k }));
  const tar = await rotationTar({ root: ROOT_B, version: 2, expires: EXPIRES, signers: k });
  const before = dumpStore(file);
  const dry = apply(file, tar, NOW + DAY, true);
  t.false(dry.applied);
  t.true(dry.dryRun);
  t.is(dumpStore(file), before);
  const real = apply(file, tar, NOW + DAY);
  t.deepEqual(real.changes, dry.changes);
  // The entries a rotation reports are the ones it wrote: one per change, each of version 2.
  t.is(real.entries.length, real.changes.length);
  t.deepEqual(
    real.entries.map((e) => e.rotationVersion),
    real.entries.map(() => 2),
  );
  t.deepEqual(dry.changes.map((c) => c.action).sort(), ['add', 'update']);
});

test('G43: a rotation that replaces the rotation keys needs K old AND K new signatures', async (t) => {
  const old = keys(3);
  const fresh = keys(2, 'ed25519');
  const file = storeWithKeys(old, 2);
  const spec = { root: ROOT_A, version: 1, expires: EXPIRES, newKeys: fresh, newThreshold: 2 };
  refusedUnchanged(
    t,
    file,
    await rotationTar({ ...spec, signers: [old[0]!, old[1]!] }),
    'ROTATION_THRESHOLD_NOT_MET',
    /0 of the 2 required NEW keys/,
  );
  refusedUnchanged(
    t,
    file,
    await rotationTar({ ...spec, signers: [old[0]!, old[1]!, fresh[0]!] }),
    'ROTATION_THRESHOLD_NOT_MET',
    /1 of the 2 required NEW keys/,
  );
  refusedUnchanged(
    t,
    file,
    await rotationTar({ ...spec, signers: fresh }),
    'ROTATION_THRESHOLD_NOT_MET',
    /0 of the 2 required trusted rotation keys/,
  );
  const ok = apply(file, await rotationTar({ ...spec, signers: [old[0]!, old[2]!, ...fresh] }));
  t.is(ok.newKeySigners.length, 2);
  const keyChange = ok.changes.find((c) => c.action === 'keys');
  t.truthy(keyChange);
  const s = openTrustStore(file, { readonly: true });
  const listed = listRotationKeys(s);
  t.is(listed.keys.filter((x) => x.active).length, 2);
  t.is(listed.keys.filter((x) => !x.active).length, 3, 'old keys are kept, marked removed');
  s.close();
  // From now on the old keys count for nothing, the new ones do.
  refusedUnchanged(
    t,
    file,
    await rotationTar({ root: ROOT_B, version: 2, expires: EXPIRES, signers: old }),
    'ROTATION_THRESHOLD_NOT_MET',
    /0 of the 2/,
  );
  t.true(
    apply(file, await rotationTar({ root: ROOT_B, version: 2, expires: EXPIRES, signers: fresh }))
      .applied,
  );
});

test('a rotation that restates the current rotation keys and threshold applies, with no key change', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  const before = openTrustStore(file, { readonly: true });
  const keysBefore = listRotationKeys(before).keys;
  before.close();
  const r = apply(
    file,
    await rotationTar({
      root: ROOT_A,
      version: 1,
      expires: EXPIRES,
      signers: k,
      newKeys: k,
      newThreshold: 2,
    }),
  );
  t.true(r.applied);
  t.deepEqual(
    r.changes.map((c) => c.action),
    ['add'],
  );
  const s = openTrustStore(file, { readonly: true });
  const listed = listRotationKeys(s);
  t.deepEqual(listed.keys, keysBefore);
  t.is(listed.lastVersion, 1);
  t.deepEqual(lastActions(s, 2), ['rotate-add', 'rotate']);
  s.close();
});

test('a rotation that hands over to new keys with a new threshold sets it, once, in history; keeping the threshold records none', async (t) => {
  const old = keys(3);
  const fresh = keys(2);
  const file = storeWithKeys(old, 2);
  const thresholdRows = () => {
    const s = openTrustStore(file, { readonly: true });
    const rows = history(s).filter((h) => h.action === 'threshold');
    const listed = listRotationKeys(s);
    s.close();
    return { rows: rows.length, threshold: listed.threshold };
  };
  const start = thresholdRows();
  t.is(start.threshold, 2);
  // Same threshold, new keys: the keys change, the threshold does not, and no row says it did.
  const third = keys(2);
  apply(
    file,
    await rotationTar({
      root: ROOT_A,
      version: 1,
      expires: EXPIRES,
      signers: [...old, ...third],
      newKeys: third,
      newThreshold: 2,
    }),
  );
  t.deepEqual(thresholdRows(), start);
  // A lower threshold: set, with one history row.
  apply(
    file,
    await rotationTar({
      root: ROOT_B,
      version: 2,
      expires: EXPIRES,
      signers: [...third, fresh[0]!],
      newKeys: fresh,
      newThreshold: 1,
    }),
    NOW + DAY,
  );
  t.deepEqual(thresholdRows(), { rows: start.rows + 1, threshold: 1 });
  // And it counts: one of the new keys now signs a rotation alone.
  t.true(
    apply(
      file,
      await rotationTar({ root: ROOT_A, version: 3, expires: EXPIRES, signers: [fresh[1]!] }),
      NOW + 2 * DAY,
    ).applied,
  );
});

test('a rotation signed by the keys but whose root trusts nothing is refused on the receiving side, the store unchanged', async (t) => {
  // createRotation refuses to make one; another tool could (or a key holder gone wrong).
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  const empty = trustedRootOf([]);
  const tar = await craftTar(canonicalJson(payloadFor(empty, 1, EXPIRES)), empty, k);
  refusedUnchanged(t, file, tar, 'ROTATION_INVALID', /^root\.json has no entries$/);
});

test('G43/G44: one key counts once — the same signature repeated under another key id does not meet K=2', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  const payload = canonicalJson(payloadFor(ROOT_A, 1, EXPIRES));
  const one = await craftTar(payload, ROOT_A, [k[0]!]);
  const sigs = JSON.parse(
    Buffer.from(
      readTarStrict(one, {
        names: ['payload.json', 'root.json', 'signatures.json'],
        maxSize: { 'payload.json': 1e6, 'root.json': 1e6, 'signatures.json': 1e6 },
        maxArchiveBytes: 1e7,
      }).get('signatures.json')!,
    ).toString(),
  ) as {
    signatures: { keyId: string; signature: string }[];
  };
  const dup = await craftTar(
    payload,
    ROOT_A,
    [k[0]!],
    [
      { keyId: keyIdOf(k[1]!.publicKey), signature: sigs.signatures[0]!.signature },
      sigs.signatures[0]!,
    ],
  );
  refusedUnchanged(t, file, dup, 'ROTATION_THRESHOLD_NOT_MET', /1 of the 2/);
});

test('--rotation-keys is read as UTF-8 text strictly: UTF-16 and other bytes are refused by name, no store made; a leading BOM is read', (t) => {
  const k = keys(2);
  const pem = k.map((x) => x.publicPem).join('');
  const init = (bytes: Uint8Array, label: string) => {
    const file = tempStorePath(label);
    return {
      file,
      run: () =>
        initStore(
          file,
          { rotationKeys: { path: 'keys.pem', bytes }, threshold: 2 },
          { now: NOW, command: 'init' },
        ),
    };
  };
  for (const [label, bytes, problem] of [
    [
      'utf16',
      new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(pem, 'utf16le')])),
      'UTF-16LE (it starts with the byte order mark FF FE), not UTF-8 text: save it as UTF-8',
    ],
    [
      'latin1',
      new Uint8Array(Buffer.concat([Buffer.from([0xe9, 0x0a]), Buffer.from(pem)])),
      'not UTF-8 text',
    ],
  ] as const) {
    const { file, run } = init(bytes, label);
    const e = t.throws(run, { instanceOf: StellaError });
    t.is(e?.code, 'ROTATION_KEYS_INVALID', label);
    t.is(e?.message, `--rotation-keys keys.pem: ${problem}`, label);
    t.false(existsSync(file), `${label}: no store made`);
  }
  const bom = init(
    new Uint8Array(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(pem)])),
    'bom',
  );
  t.deepEqual(bom.run().rotationKeys.added.length, 2);
});

test('G44: rotation keys without a threshold are refused at init and at keys add; the same threshold again is no change', (t) => {
  const k = keys(2);
  const bytes = utf8.encode(k.map((x) => x.publicPem).join(''));
  const file = tempStorePath('no-threshold');
  const e = t.throws(
    () =>
      initStore(file, { rotationKeys: { path: 'keys.pem', bytes } }, { now: NOW, command: 'init' }),
    { instanceOf: StellaError },
  ) as StellaError;
  t.is(e.code, 'ROTATION_KEYS_INVALID');
  t.is(e.message, '--rotation-keys needs --threshold K (how many keys must sign a rotation)');

  // A store made without keys: its first keys need a threshold too.
  const bare = tempStorePath('bare');
  initStore(bare, {}, { now: NOW, command: 'init' });
  const s = openTrustStore(bare);
  const first = t.throws(
    () => addRotationKeys(s, [createPublicKey(k[0]!.publicPem)], undefined, 'k.pem', CTX),
    {
      instanceOf: StellaError,
    },
  ) as StellaError;
  t.is(first.code, 'ROTATION_KEYS_INVALID');
  t.is(
    first.message,
    'the store has no rotation threshold yet: give --threshold K (the keys are added as rotation keys; a key that seals export archives is added with --role exporter)',
  );
  t.deepEqual(listRotationKeys(s).keys, [], 'nothing was added');
  addRotationKeys(
    s,
    k.map((x) => createPublicKey(x.publicPem)),
    1,
    'k.pem',
    CTX,
  );
  const thresholdRows = () => history(s).filter((h) => h.action === 'threshold').length;
  t.is(thresholdRows(), 1);
  addRotationKeys(s, [], 1, 'again', CTX);
  t.is(thresholdRows(), 1, 'the same threshold again records nothing');
  addRotationKeys(s, [], 2, 'raise', CTX);
  t.is(thresholdRows(), 2);
  s.close();
});

test('G44: threshold 0, negative or fractional is refused everywhere', async (t) => {
  const k = keys(2);
  for (const threshold of [0, -1]) {
    const e = t.throws(() => storeWithKeys(k, threshold), {
      instanceOf: StellaError,
    }) as StellaError;
    t.is(e.code, 'ROTATION_KEYS_INVALID');
    t.regex(e.message, /at least 1/);
  }
  const file = storeWithKeys(k, 1);
  const s = openTrustStore(file);
  t.is(
    (
      t.throws(() => addRotationKeys(s, [], 0, 'x', CTX), {
        instanceOf: StellaError,
      }) as StellaError
    ).code,
    'ROTATION_KEYS_INVALID',
  );
  t.is(
    (
      t.throws(() => addRotationKeys(s, [], 3, 'x', CTX), {
        instanceOf: StellaError,
      }) as StellaError
    ).code,
    'ROTATION_KEYS_INVALID',
    'more than the keys',
  );
  s.close();
  // A payload that asks for threshold 0 (createRotation refuses to make one, so craft it).
  await t.throwsAsync(
    () =>
      rotationTar({
        root: ROOT_A,
        version: 1,
        expires: EXPIRES,
        signers: k,
        newKeys: k,
        newThreshold: 0,
      }),
    { instanceOf: StellaError },
  );
  // 0.5 is below the key count, so only the whole-number rule refuses it.
  for (const threshold of [0, -2, 0.5]) {
    const payload = canonicalJson(
      payloadFor(ROOT_A, 1, EXPIRES, { keys: [keyB64(k[0]!)], threshold }),
    );
    refusedUnchanged(
      t,
      file,
      await craftTar(payload, ROOT_A, k),
      'ROTATION_KEYS_INVALID',
      new RegExp(`threshold must be a whole number of at least 1, not ${threshold}$`),
    );
  }
  // A payload's threshold that is not a number at all is shown as the JSON it is.
  for (const [threshold, shown] of [
    ['1', '"1"'],
    [null, 'null'],
    [true, 'true'],
  ] as const) {
    const payload = canonicalJson({
      ...payloadFor(ROOT_A, 1, EXPIRES),
      rotationKeys: { keys: [keyB64(k[0]!)], threshold },
    });
    refusedUnchanged(
      t,
      file,
      await craftTar(payload, ROOT_A, k),
      'ROTATION_KEYS_INVALID',
      new RegExp(`rotationKeys: threshold must be a whole number of at least 1, not ${shown}$`),
    );
  }
});

test('G44: the same key under two ids or encodings counts once (store keys and payload keys)', async (t) => {
  const k = keys(1);
  // The same P-256 key as a compressed point: different SPKI bytes, same key.
  // From its DER, not a JWK export: on Node 20 that can hang a generated key (src/crypto.ts).
  const point = ecPublicPoint(k[0]!.publicKey)!.point;
  const x = Buffer.from(point.subarray(1, 33));
  const y = Buffer.from(point.subarray(33, 65));
  const compressedSpki = Buffer.concat([
    Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
    Buffer.from([y[y.length - 1]! & 1 ? 3 : 2]),
    x,
  ]);
  const sameKey = createPublicKey({ key: compressedSpki, format: 'der', type: 'spki' });
  t.notDeepEqual(new Uint8Array(compressedSpki), spkiOf(k[0]!.publicKey));
  const pem =
    k[0]!.publicPem +
    `-----BEGIN PUBLIC KEY-----\n${compressedSpki.toString('base64')}\n-----END PUBLIC KEY-----\n`;
  const file = tempStorePath('samekey');
  const e = t.throws(
    () =>
      initStore(
        file,
        { rotationKeys: { path: 'k.pem', bytes: utf8.encode(pem) }, threshold: 2 },
        CTX,
      ),
    { instanceOf: StellaError },
  ) as StellaError;
  t.is(e.code, 'ROTATION_KEYS_INVALID');
  t.regex(e.message, /threshold 2 is more than the 1 distinct/);
  const r = initStore(
    file,
    { rotationKeys: { path: 'k.pem', bytes: utf8.encode(pem) }, threshold: 1 },
    CTX,
  );
  t.is(r.rotationKeys.added.length, 1);
  t.is(r.rotationKeys.duplicates.length, 1);
  // In a payload: two encodings of one key listed as two keys.
  const payload = canonicalJson(
    payloadFor(ROOT_A, 1, EXPIRES, {
      keys: [keyB64(k[0]!), compressedSpki.toString('base64')],
      threshold: 2,
    }),
  );
  refusedUnchanged(
    t,
    file,
    await craftTar(payload, ROOT_A, k),
    'ROTATION_KEYS_INVALID',
    /same key/,
  );
  t.deepEqual(spkiOf(sameKey), spkiOf(k[0]!.publicKey));
});

test('G45: rollback (equal or lower version) and freeze (expired) are refused', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  apply(file, await rotationTar({ root: ROOT_A, version: 1, expires: EXPIRES, signers: k }));
  apply(file, await rotationTar({ root: ROOT_A, version: 2, expires: EXPIRES, signers: k }));
  refusedUnchanged(
    t,
    file,
    await rotationTar({ root: ROOT_B, version: 2, expires: EXPIRES, signers: k }),
    'ROTATION_ROLLBACK',
    /not greater than the last applied version 2/,
  );
  refusedUnchanged(
    t,
    file,
    await rotationTar({ root: ROOT_B, version: 1, expires: EXPIRES, signers: k }),
    'ROTATION_ROLLBACK',
  );
  refusedUnchanged(
    t,
    file,
    await rotationTar({ root: ROOT_B, version: 3, expires: NOW - 1, signers: k }),
    'ROTATION_EXPIRED',
    /expired at .* \(freeze refused\)/,
  );
  refusedUnchanged(
    t,
    file,
    await rotationTar({ root: ROOT_B, version: 3, expires: NOW, signers: k }),
    'ROTATION_EXPIRED',
  );
  t.true(
    apply(file, await rotationTar({ root: ROOT_B, version: 3, expires: NOW + 1, signers: k }))
      .applied,
  );
});

test('H53: versions advance by exactly one (TUF) — a skipped version is refused, so a huge one cannot freeze later rotations', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  refusedUnchanged(
    t,
    file,
    await rotationTar({ root: ROOT_A, version: 2, expires: EXPIRES, signers: k }),
    'ROTATION_VERSION_GAP',
    /version 2 is not the next version \(the last applied is 0: apply version 1 first\)/,
  );
  apply(file, await rotationTar({ root: ROOT_A, version: 1, expires: EXPIRES, signers: k }));
  refusedUnchanged(
    t,
    file,
    await rotationTar({ root: ROOT_B, version: 3, expires: EXPIRES, signers: k }),
    'ROTATION_VERSION_GAP',
    /apply version 2 first/,
  );
  // A validly signed rotation with a huge version: refused, so it cannot make every later
  // version a "rollback".
  refusedUnchanged(
    t,
    file,
    await rotationTar({
      root: ROOT_B,
      version: Number.MAX_SAFE_INTEGER,
      expires: EXPIRES,
      signers: k,
    }),
    'ROTATION_VERSION_GAP',
  );
  t.true(
    apply(file, await rotationTar({ root: ROOT_B, version: 2, expires: EXPIRES, signers: k }))
      .applied,
  );
  t.true(
    apply(file, await rotationTar({ root: ROOT_B, version: 3, expires: EXPIRES, signers: k }))
      .applied,
  );
  const s = openTrustStore(file, { readonly: true });
  t.is(listRotationKeys(s).lastVersion, 3);
  s.close();
});

test('a validly signed rotation to a Fulcio CA chain that no verification could pass is refused and changes nothing', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  apply(file, await rotationTar({ root: ROOT_A, version: 1, expires: EXPIRES, signers: k }));
  const root = await makeCa('Private Root', NOW - YEAR, NOW + 10 * YEAR);
  const misnamed = await misnamedIntermediate(root, NOW - YEAR, NOW + 5 * YEAR);
  const broken = trustedRootOf([
    caEntry([A_DER], NOW - 2 * YEAR),
    caEntry([misnamed.der, root.der], NOW),
  ]);
  // `trust rotate create` will not sign it: every host would refuse it.
  const created = (await t.throwsAsync(
    createRotation({
      rootBytes: utf8.encode(broken),
      version: 2,
      expires: EXPIRES,
      signWith: [k[0]!.privateKey],
      now: NOW,
    }),
    { instanceOf: StellaError },
  )) as StellaError;
  t.is(created.code, 'ROTATION_INVALID');
  t.regex(
    created.message,
    /^every host would refuse the new trusted root: Certificate chain invalid: CA certificate O=stella\.test, CN=Private Intermediate: its authority key identifier/,
  );
  // One signed anyway (crafted past the check), refused where it is applied.
  refusedUnchanged(
    t,
    file,
    await craftTar(canonicalJson(payloadFor(broken, 2, EXPIRES)), broken, k),
    'IMPORT_INVALID',
    /CN=Private Intermediate: its authority key identifier [0-9a-f]{40} is not the subject key identifier [0-9a-f]{40} of O=stella\.test, CN=Private Root \(Fulcio CA https:\/\/fulcio\.stella\.test: nothing issued under it could verify\)/,
  );
  // Control: the same rotation with the intermediate naming its issuer's key applies.
  const named = await makeCa('Private Intermediate', NOW - YEAR, NOW + 5 * YEAR, root);
  const fixed = trustedRootOf([
    caEntry([A_DER], NOW - 2 * YEAR),
    caEntry([named.der, root.der], NOW),
  ]);
  t.true(
    apply(file, await rotationTar({ root: fixed, version: 2, expires: EXPIRES, signers: k }))
      .applied,
  );
});

test('H53: rotation create refuses a rotation that is already expired (no host would accept it)', async (t) => {
  const k = keys(1);
  for (const expires of [NOW - DAY, NOW]) {
    const e = (await t.throwsAsync(
      () =>
        createRotation({
          rootBytes: utf8.encode(ROOT_A),
          version: 1,
          expires,
          signWith: [k[0]!.privateKey],
          now: NOW,
        }),
      { instanceOf: StellaError },
    )) as StellaError;
    t.is(e.code, 'ROTATION_EXPIRED');
    t.regex(e.message, /is not in the future/);
  }
  t.truthy(
    (
      await createRotation({
        rootBytes: utf8.encode(ROOT_A),
        version: 1,
        expires: NOW + 1,
        signWith: [k[0]!.privateKey],
        now: NOW,
      })
    ).tar,
  );
});

test('G45: trust material mixed from two snapshots — a root from one rotation with the payload of another is refused', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  const a = readRotationBundle(
    await rotationTar({ root: ROOT_A, version: 1, expires: EXPIRES, signers: k }),
  );
  const b = readRotationBundle(
    await rotationTar({ root: ROOT_B, version: 1, expires: EXPIRES, signers: k }),
  );
  const mixed = await writeTar([
    { name: 'payload.json', data: b.payloadBytes },
    { name: 'root.json', data: a.rootBytes },
    {
      name: 'signatures.json',
      data: utf8.encode(
        canonicalJson({
          signatures: b.signatures.map((s) => ({
            keyId: s.keyId,
            signature: toBase64(s.signature),
          })),
        }),
      ),
    },
  ]);
  refusedUnchanged(
    t,
    file,
    mixed,
    'ROTATION_INVALID',
    /root\.json does not match the signed payload/,
  );
});

test('G45: a reader sees one snapshot — a rotation committed mid-read does not mix into what it loads', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  apply(file, await rotationTar({ root: ROOT_A, version: 1, expires: EXPIRES, signers: k }));
  const tar = await rotationTar({ root: ROOT_B, version: 2, expires: EXPIRES, signers: k });
  const reader = openTrustStore(file, { readonly: true });
  const [first, second] = readSnapshot(reader, (db) => {
    const first = allEntryRows(db);
    apply(file, tar, NOW + DAY); // another connection commits a rotation now
    return [first, allEntryRows(db)];
  });
  t.deepEqual(second, first);
  t.is(first.length, 1);
  t.is(
    trustMaterialFromStore(reader).certificateAuthorities.length,
    2,
    'the next read sees the new state whole',
  );
  reader.close();
});

test('payload strictness: non-canonical bytes, duplicate keys, unknown fields and a tampered root are refused', async (t) => {
  const k = keys(1);
  const file = storeWithKeys(k, 1);
  const p = payloadFor(ROOT_A, 1, EXPIRES);
  refusedUnchanged(
    t,
    file,
    await craftTar(JSON.stringify(p, null, 1), ROOT_A, k),
    'ROTATION_INVALID',
    /canonical/,
  );
  refusedUnchanged(
    t,
    file,
    await craftTar(canonicalJson(p).replace('{', '{"version":9,'), ROOT_A, k),
    'ROTATION_INVALID',
    /duplicate/,
  );
  refusedUnchanged(
    t,
    file,
    await craftTar(canonicalJson({ ...p, extra: 1 }), ROOT_A, k),
    'ROTATION_INVALID',
    /unexpected field "extra"/,
  );
  refusedUnchanged(
    t,
    file,
    await craftTar(canonicalJson({ ...p, type: 'other' }), ROOT_A, k),
    'ROTATION_INVALID',
    /type/,
  );
  refusedUnchanged(
    t,
    file,
    await craftTar(canonicalJson(p), ROOT_A.replace('Root A', 'Root X'), k),
    'ROTATION_INVALID',
    /does not match the signed payload/,
  );
  // The root's digest and size, each in its one form (the digest checked against the root
  // only after).
  const pRoot = p.root as { sha256: string; size: number };
  for (const [root, why] of [
    [
      { ...pRoot, sha256: pRoot.sha256.toUpperCase() },
      /root\.sha256 must be 64 lowercase hex digits/,
    ],
    [{ ...pRoot, sha256: 7 }, /root\.sha256 must be 64 lowercase hex digits/],
    [{ ...pRoot, size: -1 }, /root\.size must be a whole number/],
    [{ ...pRoot, size: 1.5 }, /root\.size must be a whole number/],
  ] as const)
    refusedUnchanged(
      t,
      file,
      await craftTar(canonicalJson({ ...p, root }), ROOT_A, k),
      'ROTATION_INVALID',
      why,
    );
  // The version, a whole number from 1 (rollback and gap checks compare it as one).
  for (const version of [0, -1, 1.5, '1', 2 ** 53])
    refusedUnchanged(
      t,
      file,
      await craftTar(canonicalJson({ ...p, version }), ROOT_A, k),
      'ROTATION_INVALID',
      /^rotation payload: version must be a whole number of at least 1$/,
    );
  // A signature's key ID in its one form, even beside signatures that meet the threshold.
  for (const keyId of ['AB'.repeat(32), 'ab'.repeat(31), 7])
    refusedUnchanged(
      t,
      file,
      await craftTar(canonicalJson(p), ROOT_A, k, [{ keyId: keyId as string, signature: 'AAAA' }]),
      'ROTATION_INVALID',
      /^rotation signatures\[1\]\.keyId must be 64 lowercase hex digits$/,
    );
  // A signature by an unknown key does not count.
  refusedUnchanged(
    t,
    file,
    await craftTar(canonicalJson(p), ROOT_A, keys(1)),
    'ROTATION_THRESHOLD_NOT_MET',
  );
  // A store without rotation keys cannot accept any rotation.
  const bare = tempStorePath('nokeys');
  openTrustStore(bare, { create: true }).close();
  refusedUnchanged(
    t,
    bare,
    await craftTar(canonicalJson(p), ROOT_A, k),
    'ROTATION_KEYS_INVALID',
    /no rotation keys/,
  );
});

test('createRotation refuses bad input before signing', async (t) => {
  const k = keys(1);
  const base = { version: 1, expires: EXPIRES, now: NOW };
  await t.throwsAsync(
    () =>
      createRotation({
        ...base,
        rootBytes: utf8.encode(ROOT_A),
        version: 0,
        signWith: [k[0]!.privateKey],
      }),
    { instanceOf: StellaError, message: /--version/ },
  );
  await t.throwsAsync(
    () => createRotation({ ...base, rootBytes: utf8.encode(ROOT_A), signWith: [] }),
    { instanceOf: StellaError, message: /--sign-with/ },
  );
  await t.throwsAsync(
    () =>
      createRotation({ ...base, rootBytes: utf8.encode('{"x":1}'), signWith: [k[0]!.privateKey] }),
    { instanceOf: StellaError, message: /trusted root/ },
  );
  await t.throwsAsync(
    () => createRotation({ ...base, rootBytes: utf8.encode(ROOT_A), signWith: [k[0]!.publicKey] }),
    { instanceOf: StellaError, message: /private key/ },
  );
  // A root that trusts nothing would leave every host unable to verify anything.
  const none = await t.throwsAsync(
    () =>
      createRotation({
        ...base,
        rootBytes: utf8.encode(trustedRootOf([])),
        signWith: [k[0]!.privateKey],
      }),
    { instanceOf: StellaError, message: 'the new trusted root has no entries' },
  );
  t.is(none.code, 'ROTATION_INVALID');
});

test('a payload replacing the rotation keys with none, or with more than the limit, is ROTATION_KEYS_INVALID saying how many it may list', async (t) => {
  const k = keys(1);
  const file = storeWithKeys(k, 1);
  const tooMany = Array.from({ length: ROTATION_LIMITS.maxKeys + 1 }, () => keyB64(k[0]!));
  for (const list of [[], tooMany]) {
    const payload = canonicalJson({
      ...payloadFor(ROOT_A, 1, EXPIRES),
      rotationKeys: { keys: list, threshold: 1 },
    });
    refusedUnchanged(
      t,
      file,
      await craftTar(payload, ROOT_A, k),
      'ROTATION_KEYS_INVALID',
      new RegExp(
        `^rotation payload: rotationKeys\\.keys must list 1 to ${ROTATION_LIMITS.maxKeys} keys$`,
      ),
    );
  }
});

test('a payload naming a rotation key that is not a public key is ROTATION_KEYS_INVALID, naming which', async (t) => {
  const k = keys(1);
  const file = storeWithKeys(k, 1);
  const payload = canonicalJson({
    ...payloadFor(ROOT_A, 1, EXPIRES),
    rotationKeys: { keys: [keyB64(k[0]!), toBase64(utf8.encode('not a key'))], threshold: 1 },
  });
  refusedUnchanged(
    t,
    file,
    await craftTar(payload, ROOT_A, k),
    'ROTATION_KEYS_INVALID',
    /^rotation payload: rotationKeys\.keys\[1\] is not a public key$/,
  );
});

/** Import root A by hand (a PEM bundle with an explicit window), as an operator bootstraps a host. */
function importByHand(file: string, start: number, end: number): number {
  const s = openTrustStore(file);
  try {
    return importFile(
      s,
      { path: 'root-a.pem', bytes: utf8.encode(pemOf(A_DER)) },
      { validFrom: start, validUntil: end, uri: 'https://fulcio.stella.test' },
      CTX,
    ).added[0]!.id;
  } finally {
    s.close();
  }
}

function entry(file: string, id: number) {
  const s = openTrustStore(file, { readonly: true });
  try {
    return listEntries(s).find((e) => e.id === id)!;
  } finally {
    s.close();
  }
}

test('H53: a rotation whose root lists an entry imported by hand is refused (ROTATION_CONFLICT) and changes nothing', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  const handEnd = NOW + YEAR;
  const id = importByHand(file, NOW - 2 * YEAR, handEnd);
  // The root lists A open-ended: taking it over would widen the operator's window.
  const tar = await rotationTar({ root: ROOT_A, version: 1, expires: EXPIRES, signers: k });
  refusedUnchanged(
    t,
    file,
    tar,
    'ROTATION_CONFLICT',
    new RegExp(
      `lists an entry imported by hand: #${id} ca .*Root A \\(imported by hand from root-a\\.pem\\).*--adopt ${id}`,
    ),
  );
  // A dry run says the same.
  t.is(
    (t.throws(() => apply(file, tar, NOW, true), { instanceOf: StellaError }) as StellaError).code,
    'ROTATION_CONFLICT',
  );
  // Also when the root would only narrow it, or lists it next to new entries.
  refusedUnchanged(
    t,
    file,
    await rotationTar({ root: ROOT_B, version: 1, expires: EXPIRES, signers: k }),
    'ROTATION_CONFLICT',
  );
  const e = entry(file, id);
  t.is(e.validUntil, new Date(handEnd).toISOString());
  t.is(e.rotationVersion, null);
});

test('H53: a root that lists a stored entry twice plans one change for it: one conflict named once, or one adoption', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  const id = importByHand(file, NOW - 2 * YEAR, NOW + YEAR);
  const twice = trustedRootOf([caEntry([A_DER], NOW - 2 * YEAR), caEntry([A_DER], NOW - 2 * YEAR)]);
  const tar = await rotationTar({ root: twice, version: 1, expires: EXPIRES, signers: k });
  const e = t.throws(() => apply(file, tar), { instanceOf: StellaError }) as StellaError;
  t.is(e.code, 'ROTATION_CONFLICT');
  t.regex(
    e.message,
    new RegExp(
      `lists an entry imported by hand: #${id} ca [^#]*\\(imported by hand from root-a\\.pem\\); rotations`,
    ),
  );
  t.regex(
    e.message,
    new RegExp(`\\(to hand it to rotations, with the window the rotation gives: --adopt ${id}\\)$`),
  );
  // Adopted, the entry listed twice is one adoption.
  const s = openTrustStore(file);
  try {
    const r = applyRotation(
      s,
      tar,
      { sourceFile: 'r.tar', adopt: [id] },
      { now: NOW, command: 'x' },
    );
    t.deepEqual(
      r.changes.map((c) => c.action),
      ['adopt'],
    );
  } finally {
    s.close();
  }
});

test('H53: rotations never touch a hand-imported entry they do not list: dropping everything keeps its own end', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  const handEnd = NOW + YEAR;
  const id = importByHand(file, NOW - 2 * YEAR, handEnd);
  const onlyB = trustedRootOf([caEntry([B_DER], NOW)]);
  apply(file, await rotationTar({ root: onlyB, version: 1, expires: EXPIRES, signers: k }));
  const other = trustedRootOf([
    caEntry([(await makeCa('Root C', NOW - DAY, NOW + YEAR)).der], NOW),
  ]);
  // Version 2 drops B (rotation-managed: closed now) and never names A (hand-imported: kept).
  const r = apply(
    file,
    await rotationTar({ root: other, version: 2, expires: EXPIRES, signers: k }),
    NOW + DAY,
  );
  t.deepEqual(
    r.changes.filter((c) => c.action === 'close').map((c) => (c as { id: number }).id),
    [id + 1],
  );
  t.is(entry(file, id).validUntil, new Date(handEnd).toISOString());
  t.is(entry(file, id + 1).validUntil, new Date(NOW + DAY).toISOString());
});

test('H53: --adopt hands a hand-imported entry to rotations explicitly; history keeps the window it had; later rotations then manage it', async (t) => {
  const k = keys(2);
  const file = storeWithKeys(k, 2);
  const handEnd = NOW + YEAR;
  const id = importByHand(file, NOW - 2 * YEAR, handEnd);
  const tar = await rotationTar({ root: ROOT_B, version: 1, expires: EXPIRES, signers: k });
  t.is(
    (t.throws(() => apply(file, tar), { instanceOf: StellaError }) as StellaError).code,
    'ROTATION_CONFLICT',
  );
  const before = dumpStore(file);
  const ro = openTrustStore(file, { readonly: true });
  const dry = applyRotation(
    ro,
    tar,
    { sourceFile: 'r.tar', adopt: [id], dryRun: true },
    { now: NOW, command: 'x' },
  );
  ro.close();
  t.true(dry.dryRun);
  t.deepEqual(dry.changes.map((c) => c.action).sort(), ['add', 'adopt']);
  // --adopt only for entries that are hand-imported and listed by this rotation.
  const s0 = openTrustStore(file);
  const bad = (adopt: number[]) =>
    (
      t.throws(
        () => applyRotation(s0, tar, { sourceFile: 'r.tar', adopt }, { now: NOW, command: 'x' }),
        { instanceOf: StellaError },
      ) as StellaError
    ).code;
  t.is(bad([id, 99]), 'INPUT_INVALID');
  s0.close();
  t.is(dumpStore(file), before);
  const s = openTrustStore(file);
  const r = applyRotation(
    s,
    tar,
    { sourceFile: 'r.tar', adopt: [id] },
    { now: NOW, command: 'stella trust rotate r.tar --adopt 1' },
  );
  s.close();
  const adopt = r.changes.find((c) => c.action === 'adopt') as {
    from: { validUntil: string | null };
    to: { validUntil: string | null };
  };
  t.is(adopt.from.validUntil, new Date(handEnd).toISOString());
  t.is(adopt.to.validUntil, new Date(NOW).toISOString());
  t.is(entry(file, id).rotationVersion, 1);
  const s2 = openTrustStore(file, { readonly: true });
  const row = history(s2).find((h) => h.action === 'rotate-adopt')!;
  t.is(row.entryId, id);
  t.deepEqual((row.detail as { from: unknown }).from, {
    validFrom: new Date(NOW - 2 * YEAR).toISOString(),
    validUntil: new Date(handEnd).toISOString(),
  });
  s2.close();
  // Now rotation-managed: adopting again is refused, and a rotation that drops it closes it.
  const s3 = openTrustStore(file);
  const v2 = await rotationTar({
    root: trustedRootOf([caEntry([B_DER], NOW)]),
    version: 2,
    expires: EXPIRES,
    signers: k,
  });
  t.is(
    (
      t.throws(
        () =>
          applyRotation(
            s3,
            v2,
            { sourceFile: 'v2.tar', adopt: [id] },
            { now: NOW + DAY, command: 'x' },
          ),
        { instanceOf: StellaError },
      ) as StellaError
    ).code,
    'INPUT_INVALID',
  );
  s3.close();
  apply(file, v2, NOW + DAY);
  t.is(
    entry(file, id).effectiveUntil,
    new Date(NOW).toISOString(),
    'already ended at NOW by version 1: not re-closed later',
  );
});
