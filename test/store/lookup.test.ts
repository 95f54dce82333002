/**
 * The verifier's lookup in the attestation store: a row that no longer parses is reported on
 * its own and the good ones are used (checklist H50); only when none parse is the first
 * refusal raised; nothing stored for the digest is "no attestations found".
 */
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StellaError } from '../../src/errors.js';
import { AttestationStore } from '../../src/store/attestations.js';
import { findBundlesForDigest } from '../../src/store/lookup.js';
import { PROJECT_ROOT } from '../helpers/paths.js';

const good = readFileSync(join(PROJECT_ROOT, 'samples', 'blob.sigstore.json'), 'utf8');
const digestOf = (byte: number) => new Uint8Array(32).fill(byte);
const artifact = (byte: number, algorithm = 'SHA2_256') =>
  ({ kind: 'digest', algorithm, digest: digestOf(byte) }) as const;

function store(rows: [byte: number, json: string][]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stella-lookup-')), 'attestations.db');
  const s = AttestationStore.open(path, 'write');
  for (const [byte, bundleJson] of rows)
    s.save({
      artifactDigest: `sha256:${Buffer.from(digestOf(byte)).toString('hex')}`,
      bundleJson,
      contentKind: 'messageSignature',
      createdAt: 1,
    });
  s.close();
  return path;
}

test('a stored bundle that no longer parses is refused on its own; the good one is used', (t) => {
  const path = store([
    [1, '{"mediaType":"not a bundle"}'],
    [1, good],
    [2, good],
  ]);
  const r = findBundlesForDigest(artifact(1), path, {});
  t.is(r.bundles.length, 1);
  t.is(r.refused.length, 1);
  t.regex(r.refused[0]!.source, /row 1\)$/);
  t.is(findBundlesForDigest(artifact(2), path, {}).refused.length, 0);
});

test('when no stored bundle parses, the first refusal is raised; none stored is "no attestations found"', (t) => {
  const path = store([
    [1, '{"mediaType":"not a bundle"}'],
    [1, '[]'],
  ]);
  const e = t.throws(() => findBundlesForDigest(artifact(1), path, {}), {
    instanceOf: StellaError,
  });
  // The first row's refusal (an unknown media type), not the second's (not an object).
  t.is(e?.code, 'BUNDLE_UNSUPPORTED', e?.message);
  t.regex(e?.message ?? '', /not a bundle/);
  const none = t.throws(() => findBundlesForDigest(artifact(3), path, {}), {
    instanceOf: StellaError,
  });
  t.is(none?.code, 'NO_ATTESTATIONS_FOUND');
});

test('only a sha256 digest can be looked up', (t) => {
  const path = store([[1, good]]);
  const e = t.throws(() => findBundlesForDigest(artifact(1, 'SHA2_384'), path, {}), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'NO_ATTESTATIONS_FOUND');
  t.regex(e?.message ?? '', /keyed by sha256 digests/);
});
