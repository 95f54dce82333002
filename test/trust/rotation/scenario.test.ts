/**
 * The private-Fulcio scenario from issue 3, with keys generated here: root A signs leaf 1;
 * a rotation moves trust to root B with A retired at T; leaf 2 from B verifies; leaf 1
 * (signed before T) still verifies; a leaf from A dated after T fails with a clear error;
 * rotations with too few signatures, an older version, an expiry in the past and a
 * tampered root file are each refused and change nothing. "Verifies" is the project's
 * certificate chain check (src/x509/chain.ts) against the TrustMaterial loaded from the store.
 */
import test from 'ava';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import {
  trustMaterialFromStore,
  listEntries,
  history,
} from '../../../src/trust/store/operations.js';
import { applyRotation } from '../../../src/trust/rotation/apply.js';
import { readTarStrict, writeTar } from '../../../src/archive/tar.js';
import { ROTATION_FILES, ROTATION_LIMITS } from '../../../src/trust/rotation/bundle.js';
import { verifyCertificateChain } from '../../../src/x509/chain.js';
import { parseCertificate } from '../../../src/x509/certificate.js';
import { utf8 } from '../../../src/util/encoding.js';
import {
  caEntry,
  DAY,
  dumpStore,
  makeCa,
  makeLeaf,
  NOW,
  rotationKeyPair,
  trustedRootOf,
} from '../store/helpers.js';
import { rotationTar, storeWithKeys } from './helpers.js';

const YEAR = 365 * DAY;
const MIN = 60_000;
/** The moment trust moves from root A to root B. */
const T = NOW;

function verifyAt(file: string, leafDer: Uint8Array, time: number) {
  const s = openTrustStore(file, { readonly: true });
  try {
    return verifyCertificateChain(
      parseCertificate(leafDer),
      [],
      trustMaterialFromStore(s).certificateAuthorities,
      [time],
    );
  } finally {
    s.close();
  }
}

function rotate(file: string, tar: Uint8Array, now: number) {
  const s = openTrustStore(file);
  try {
    return applyRotation(
      s,
      tar,
      { sourceFile: 'rotation.tar' },
      { now, command: 'stella trust rotate rotation.tar' },
    );
  } finally {
    s.close();
  }
}

test('private Fulcio: rotate from root A to root B across the air gap', async (t) => {
  const rootA = await makeCa('Private Fulcio Root A', T - 2 * YEAR, T + 10 * YEAR);
  const rootB = await makeCa('Private Fulcio Root B', T - DAY, T + 10 * YEAR);
  const signed1 = T - 10 * DAY; // leaf 1: issued by A before T
  const leaf1 = await makeLeaf(rootA, signed1, signed1 + 10 * MIN, '11');
  const signed2 = T + 2 * DAY; // leaf 2: issued by B after T
  const leaf2 = await makeLeaf(rootB, signed2, signed2 + 10 * MIN, '12');
  const leafALate = await makeLeaf(rootA, signed2, signed2 + 10 * MIN, '13'); // A used after its retirement

  const [k1, k2, k3] = [rotationKeyPair(), rotationKeyPair('ed25519'), rotationKeyPair()];
  const file = storeWithKeys([k1, k2, k3], 2, 'scenario');

  // Version 1: root A, open-ended.
  const v1 = trustedRootOf([caEntry([rootA.der], T - 2 * YEAR)]);
  rotate(
    file,
    await rotationTar({ root: v1, version: 1, expires: T + 30 * DAY, signers: [k1, k2] }),
    T - 30 * DAY,
  );
  t.is(verifyAt(file, leaf1, signed1 + MIN).path.length, 2);
  t.throws(() => verifyAt(file, leaf2, signed2 + MIN), {
    instanceOf: StellaError,
    message: /not a trusted certificate authority/,
  });

  // Version 2: root A ends at T, root B starts at T. Applied after T, as an operator would.
  const v2 = trustedRootOf([caEntry([rootA.der], T - 2 * YEAR, T), caEntry([rootB.der], T)]);
  const v2Tar = await rotationTar({
    root: v2,
    version: 2,
    expires: T + 30 * DAY,
    signers: [k2, k3],
  });
  const applied = rotate(file, v2Tar, T + DAY);
  t.deepEqual(applied.changes.map((c) => c.action).sort(), ['add', 'update']);

  // Leaf 2 from B verifies.
  const r2 = verifyAt(file, leaf2, signed2 + MIN);
  t.deepEqual(r2.path[1]!.der, rootB.der);
  // Leaf 1, signed before T, still verifies under A.
  const r1 = verifyAt(file, leaf1, signed1 + MIN);
  t.deepEqual(r1.path[1]!.der, rootA.der);
  // A leaf from A dated after T fails, naming the window.
  const e = t.throws(() => verifyAt(file, leafALate, signed2 + MIN), {
    instanceOf: StellaError,
  }) as StellaError;
  t.is(e.code, 'CERT_CHAIN_INVALID');
  t.regex(
    e.message,
    /Certificate chain invalid: verified time .* is outside the validity window of certificate authority/,
  );

  // History keeps root A: its entry is not deleted, only given an end time.
  const s = openTrustStore(file, { readonly: true });
  const a = listEntries(s).find((x) => x.subject.includes('Root A'))!;
  t.is(a.effectiveUntil, new Date(T).toISOString());
  t.true(history(s).some((h) => h.action === 'rotate-update' && h.entryId === a.id));
  s.close();

  // Refusals, each leaving the store exactly as it was.
  const v3 = trustedRootOf([caEntry([rootB.der], T)]);
  const refusals: [string, Promise<Uint8Array>, string][] = [
    [
      'too few signatures',
      rotationTar({ root: v3, version: 3, expires: T + 30 * DAY, signers: [k1] }),
      'ROTATION_THRESHOLD_NOT_MET',
    ],
    [
      'an older version',
      rotationTar({ root: v1, version: 1, expires: T + 30 * DAY, signers: [k1, k2, k3] }),
      'ROTATION_ROLLBACK',
    ],
    ['the same version again', Promise.resolve(v2Tar), 'ROTATION_ROLLBACK'],
    [
      'an expired rotation',
      rotationTar({ root: v3, version: 3, expires: T + DAY, signers: [k1, k2] }),
      'ROTATION_EXPIRED',
    ],
  ];
  // A tampered root file: the signed payload and signatures of a valid v3, root.json edited to
  // re-open root A (the kind of change an attacker wants).
  const good3 = await rotationTar({
    root: v3,
    version: 3,
    expires: T + 30 * DAY,
    signers: [k1, k3],
  });
  const files = readTarStrict(good3, {
    names: ROTATION_FILES,
    maxSize: ROTATION_LIMITS.maxSize,
    maxArchiveBytes: ROTATION_LIMITS.maxArchiveBytes,
  });
  const tamperedRoot = trustedRootOf([caEntry([rootA.der], T - 2 * YEAR), caEntry([rootB.der], T)]);
  const tampered = writeTar([
    { name: 'payload.json', data: files.get('payload.json')! },
    { name: 'root.json', data: utf8.encode(tamperedRoot) },
    { name: 'signatures.json', data: files.get('signatures.json')! },
  ]);
  refusals.push(['a tampered root file', tampered, 'ROTATION_INVALID']);

  const now = T + 3 * DAY;
  for (const [what, tarP, code] of refusals) {
    const tar = await tarP;
    const before = dumpStore(file);
    const err = t.throws(
      () => rotate(file, tar, now),
      { instanceOf: StellaError },
      what,
    ) as StellaError;
    t.is<string, string>(err.code, code, `${what}: ${err.message}`);
    t.is(dumpStore(file), before, `${what} changes nothing`);
  }
  // After all that, leaf 2 still verifies and A still ends at T.
  t.deepEqual(verifyAt(file, leaf2, signed2 + MIN).path[1]!.der, rootB.der);
  t.throws(() => verifyAt(file, leafALate, signed2 + MIN), { instanceOf: StellaError });
  // And the valid version 3 applies: root A, no longer listed, stays closed at T (not re-closed later).
  const v3r = rotate(file, good3, now);
  t.true(v3r.applied);
  t.deepEqual(verifyAt(file, leaf1, signed1 + MIN).path[1]!.der, rootA.der);
});
