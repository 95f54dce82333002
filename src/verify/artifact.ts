/** What is being verified: the artifact's bytes, or only its digest (`sha256:<hex>`). */
import { fail } from '../errors.js';
import { digest as hash, type DigestName } from '../crypto.js';
import { bytesEqual, fromHex } from '../util/encoding.js';
import type { HashAlgorithm } from '../bundle/model.js';

export type Artifact =
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'digest'; algorithm: HashAlgorithm; digest: Uint8Array };

const DIGEST_RE = /^(sha256|sha384|sha512):([0-9a-f]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
export const HASH_NAMES: Record<HashAlgorithm, DigestName> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };
const ALGORITHMS: Record<string, HashAlgorithm> = { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' };

/** True when the string is a digest reference rather than a path. */
export function isDigestReference(s: string): boolean {
  return /^sha(256|384|512):/.test(s);
}

export function parseDigestReference(s: string): Artifact {
  const m = DIGEST_RE.exec(s);
  if (!m || m[2]!.length !== HEX_LENGTH[m[1]!]) {
    fail('INPUT_INVALID', 'input', `--artifact ${JSON.stringify(s)}: expected sha256:<64 lowercase hex digits> (or sha384/sha512)`);
  }
  return { kind: 'digest', algorithm: ALGORITHMS[m[1]!]!, digest: fromHex(m[2]!) };
}

/** The artifact's digest with the given algorithm (computed for bytes; compared for digests). */
export function artifactDigest(a: Artifact, algorithm: HashAlgorithm): Uint8Array | undefined {
  if (a.kind === 'bytes') return hash(HASH_NAMES[algorithm], a.data);
  return a.algorithm === algorithm ? a.digest : undefined;
}

export function digestMatches(a: Artifact, algorithm: HashAlgorithm, expected: Uint8Array): boolean {
  const d = artifactDigest(a, algorithm);
  return d !== undefined && bytesEqual(d, expected);
}
