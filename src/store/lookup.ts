/**
 * The verifier's side of the attestation store: the parsed bundles kept for an artifact
 * digest. A stored bundle that no longer parses is refused on its own and reported (one bad
 * row must not hide good ones, checklist H50); when none parse, the first refusal is raised.
 */
import { fail } from '../errors.js';
import { parseBundles, type RefusedItem } from '../bundle/parse.js';
import type { Bundle } from '../bundle/model.js';
import { toHex } from '../util/encoding.js';
import { findBundlesByDigest, resolveAttestationStorePath } from './attestations.js';

/** The artifact as the verifier knows it (only a sha256 digest can be looked up). */
export interface DigestArtifact {
  kind: 'digest';
  algorithm: string;
  digest: Uint8Array;
}

export function findBundlesForDigest(
  artifact: DigestArtifact,
  attestationStorePath?: string,
  env: NodeJS.ProcessEnv = process.env,
): { bundles: Bundle[]; refused: RefusedItem[] } {
  if (artifact.algorithm !== 'SHA2_256') {
    fail(
      'NO_ATTESTATIONS_FOUND',
      'attestation-store',
      'no attestations found: the attestation store is keyed by sha256 digests',
    );
  }
  const path = resolveAttestationStorePath(attestationStorePath, env);
  const rows = findBundlesByDigest(path, `sha256:${toHex(artifact.digest)}`);
  const { parsed, refused } = parseBundles(
    rows.map((row) => ({
      source: `attestation store ${path} (row ${row.id})`,
      bytes: row.bundleJson,
    })),
  );
  if (parsed.length === 0 && refused.length > 0) throw refused[0]!.error;
  return { bundles: parsed.map((p) => p.bundle), refused };
}
