/**
 * What is being verified: the artifact's bytes, or only its digest (`sha256:`, `sha384:` or
 * `sha512:` followed by lower-case hex; parsed by the one digest parser, util/digest.ts).
 */
import { digest as hash } from '../crypto.js';
import { bytesEqual } from '../util/encoding.js';
import {
  digestNameOf,
  looksLikeDigestReference,
  parseDigest,
  type DigestName,
} from '../util/digest.js';
import type { HashAlgorithm } from '../bundle/model.js';

export type Artifact =
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'digest'; algorithm: HashAlgorithm; digest: Uint8Array };

/** True when the string is a digest reference rather than a path. */
export function isDigestReference(s: string): boolean {
  return looksLikeDigestReference(s);
}

/** `what` names the value in errors (`--artifact`, or `artifact` when given as the argument). */
export function parseDigestReference(s: string, what = '--artifact'): Artifact {
  const d = parseDigest(s, what);
  return { kind: 'digest', algorithm: d.algorithm, digest: d.digest };
}

/**
 * Digests of file artifacts, per artifact and algorithm: a DSSE subject match may ask for
 * several algorithms and the tlog and signature steps for the same one; a large file is hashed
 * once per algorithm.
 */
const memo = new WeakMap<Uint8Array, Map<DigestName, Uint8Array>>();

/** The artifact's digest with the given algorithm (computed for bytes; compared for digests). */
export function artifactDigest(a: Artifact, algorithm: HashAlgorithm): Uint8Array | undefined {
  if (a.kind === 'digest') return a.algorithm === algorithm ? a.digest : undefined;
  const name = digestNameOf(algorithm);
  let byName = memo.get(a.data);
  if (!byName) memo.set(a.data, (byName = new Map<DigestName, Uint8Array>()));
  let d = byName.get(name);
  if (!d) byName.set(name, (d = hash(name, a.data)));
  return d;
}

export function digestMatches(
  a: Artifact,
  algorithm: HashAlgorithm,
  expected: Uint8Array,
): boolean {
  const d = artifactDigest(a, algorithm);
  return d !== undefined && bytesEqual(d, expected);
}
