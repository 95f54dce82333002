import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttestationStore, findBundlesByDigest, normalizeArtifactDigest, resolveAttestationStorePath } from '../../src/store/attestations.js';
import { StellaError } from '../../src/errors.js';

const D1 = 'sha256:' + 'ab'.repeat(32);
const D2 = 'sha256:' + 'cd'.repeat(32);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'stella-store-'));
}

test('save and find by digest; duplicates collapse; case is normalised', (t) => {
  const path = join(tmp(), 'a', 'attestations.db');
  const s = AttestationStore.open(path);
  s.save({ artifactDigest: D1, bundleJson: '{"b":1}', contentKind: 'messageSignature', identity: 'id', issuer: 'iss', createdAt: 1 });
  s.save({ artifactDigest: D1.toUpperCase().replace('SHA256', 'sha256'), bundleJson: '{"b":1}', contentKind: 'messageSignature', createdAt: 2 });
  s.save({ artifactDigest: D1, bundleJson: '{"b":2}', contentKind: 'dsseEnvelope', predicateType: 'https://slsa.dev/provenance/v1', createdAt: 3 });
  s.save({ artifactDigest: D2, bundleJson: '{"b":3}', contentKind: 'messageSignature', createdAt: 4 });
  t.is(s.count(), 3);
  const found = s.findBundlesByDigest(D1);
  t.deepEqual(found.map((f) => f.bundleJson), ['{"b":1}', '{"b":2}']);
  t.is(found[0]!.identity, 'id');
  t.is(found[1]!.predicateType, 'https://slsa.dev/provenance/v1');
  s.close();
  // Reopen: data persisted.
  t.is(findBundlesByDigest(path, D2).length, 1);
});

test('no attestations found: missing store and empty result are NO_ATTESTATIONS_FOUND', (t) => {
  const dir = tmp();
  let e = t.throws(() => findBundlesByDigest(join(dir, 'none.db'), D1)) as StellaError;
  t.is(e.code, 'NO_ATTESTATIONS_FOUND');
  t.regex(e.message, /no attestations found/);
  const path = join(dir, 'x.db');
  AttestationStore.open(path).close();
  e = t.throws(() => findBundlesByDigest(path, D1)) as StellaError;
  t.is(e.code, 'NO_ATTESTATIONS_FOUND');
  t.regex(e.message, new RegExp(`no attestations found for ${D1}`));
});

test('bad digests and non-store files are refused clearly', (t) => {
  t.is((t.throws(() => normalizeArtifactDigest('sha256:abc')) as StellaError).code, 'INPUT_INVALID');
  t.is(normalizeArtifactDigest(' sha256:' + 'AB'.repeat(32)), D1);
  const junk = join(tmp(), 'junk.db');
  writeFileSync(junk, 'this is not sqlite'.repeat(100));
  t.is((t.throws(() => AttestationStore.open(junk)) as StellaError).code, 'STORE_CORRUPT');
});

test('store path: flag, then STELLA_ATTESTATION_STORE, then a per-user default', (t) => {
  t.is(resolveAttestationStorePath('/x/flag.db', { STELLA_ATTESTATION_STORE: '/x/env.db' }), '/x/flag.db');
  t.is(resolveAttestationStorePath(undefined, { STELLA_ATTESTATION_STORE: '/x/env.db' }), '/x/env.db');
  const def = resolveAttestationStorePath(undefined, { XDG_DATA_HOME: '/x/data' });
  t.true(def.endsWith('attestations.db'));
  if (process.platform === 'linux') t.is(def, '/x/data/stella/attestations.db');
});
