/**
 * Digest names and the one strict parser for `<algorithm>:<hex>` digest references
 * (`sha256:…`, `sha384:…`, `sha512:…`). Everything that maps between the three spellings
 * Sigstore uses — "sha256" (in-toto subjects, Rekor v1 bodies, --artifact), "SHA2_256"
 * (bundles, Rekor v2 bodies) and the digest size — takes it from here, so a new algorithm is
 * added in one place.
 *
 * Lower-case hex only: a digest reference is an identifier (store keys, archive paths, report
 * lines), and two spellings of one digest would be two identifiers.
 */
import { fail, type CheckName, type ErrorCode } from '../errors.js';
import { fromHex, toHex } from './encoding.js';
import { quoted } from './text.js';

export type DigestName = 'sha256' | 'sha384' | 'sha512';

/** protobuf-specs HashAlgorithm: how bundles and Rekor v2 bodies name a digest. */
export type HashAlgorithm = 'SHA2_256' | 'SHA2_384' | 'SHA2_512';

/** The digests Stella computes, strongest last (report order). */
export const DIGEST_NAMES: readonly DigestName[] = ['sha256', 'sha384', 'sha512'];

const SIZE: Readonly<Record<DigestName, number>> = { sha256: 32, sha384: 48, sha512: 64 };
const TO_ALGORITHM: Readonly<Record<DigestName, HashAlgorithm>> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
};
const TO_NAME: Readonly<Record<HashAlgorithm, DigestName>> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
};

export function isDigestName(s: string): s is DigestName {
  return s === 'sha256' || s === 'sha384' || s === 'sha512';
}

/** Bytes of a digest of this algorithm. */
export function digestSize(name: DigestName): number {
  return SIZE[name];
}

/** "sha256" -> "SHA2_256" (the protobuf-specs HashAlgorithm). */
export function hashAlgorithmOf(name: DigestName): HashAlgorithm {
  return TO_ALGORITHM[name];
}

/** "SHA2_256" -> "sha256". */
export function digestNameOf(algorithm: HashAlgorithm): DigestName {
  return TO_NAME[algorithm];
}

export interface ParsedDigest {
  name: DigestName;
  algorithm: HashAlgorithm;
  digest: Uint8Array;
}

/** True when `s` is written as a digest reference (`sha…:`) rather than, say, a path. */
export function looksLikeDigestReference(s: string): boolean {
  return /^sha(256|384|512):/.test(s);
}

/** `<name>:<lower-case hex>`, the one way Stella writes a digest. */
export function formatDigest(name: DigestName, digest: Uint8Array): string {
  return `${name}:${toHex(digest)}`;
}

const REFERENCE = /^(sha256|sha384|sha512):([0-9a-f]+)$/;

/**
 * Parse `sha256:<64 hex>`, `sha384:<96 hex>` or `sha512:<128 hex>`, lower-case hex only.
 * Anything else is `code` (default INPUT_INVALID) naming `what` and the expected forms.
 */
export function parseDigest(
  s: string,
  what: string,
  code: ErrorCode = 'INPUT_INVALID',
  check: CheckName = 'input',
): ParsedDigest {
  const m = REFERENCE.exec(s);
  const name = m?.[1] as DigestName | undefined;
  if (!m || !name || m[2]!.length !== SIZE[name] * 2) {
    fail(
      code,
      check,
      `${what} ${quoted(s, 140)}: expected sha256:<64 lower-case hex digits>, sha384:<96> or sha512:<128>`,
    );
  }
  return { name, algorithm: TO_ALGORITHM[name], digest: fromHex(m[2]!) };
}

/**
 * A digest reference that must be SHA-256 (attestation store keys, export archive paths,
 * signing a bare digest): `sha256:<64 lower-case hex>`, by the same rule as parseDigest.
 */
export function parseSha256Digest(
  s: string,
  what: string,
  code: ErrorCode = 'INPUT_INVALID',
  check: CheckName = 'input',
): ParsedDigest & { name: 'sha256' } {
  const m = REFERENCE.exec(s);
  if (!m || m[1] !== 'sha256' || m[2]!.length !== 64) {
    fail(code, check, `${what} ${quoted(s, 140)}: expected sha256:<64 hex digits> in lower case`);
  }
  return { name: 'sha256', algorithm: 'SHA2_256', digest: fromHex(m[2]!) };
}
