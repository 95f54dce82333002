/**
 * The verifier's side of the attestation store: the parsed bundles kept for an artifact
 * digest. A stored bundle that no longer parses is skipped only when others remain (one bad
 * row must not hide good ones); when none parse, the first parse error is raised.
 */
import { fail, StellaError } from '../errors.js';
import { parseBundle } from '../bundle/parse.js';
import type { Bundle } from '../bundle/model.js';
import { toHex } from '../util/encoding.js';
import { findBundlesByDigest, resolveAttestationStorePath } from './attestations.js';

/** The artifact as the verifier knows it (only a sha256 digest can be looked up). */
export interface DigestArtifact {
  kind: 'digest';
  algorithm: string;
  digest: Uint8Array;
}

export function findBundlesForDigest(artifact: DigestArtifact, attestationStorePath?: string, env: NodeJS.ProcessEnv = process.env): Bundle[] {
  if (artifact.algorithm !== 'SHA2_256') {
    fail('NO_ATTESTATIONS_FOUND', 'attestation-store', 'no attestations found: the attestation store is keyed by sha256 digests');
  }
  const path = resolveAttestationStorePath(attestationStorePath, env);
  const rows = findBundlesByDigest(path, `sha256:${toHex(artifact.digest)}`);
  const bundles: Bundle[] = [];
  let firstError: StellaError | undefined;
  for (const row of rows) {
    try {
      bundles.push(parseBundle(row.bundleJson));
    } catch (e) {
      if (!(e instanceof StellaError)) throw e;
      firstError ??= e;
    }
  }
  if (bundles.length === 0 && firstError) throw firstError;
  return bundles;
}
