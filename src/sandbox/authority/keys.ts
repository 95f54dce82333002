/**
 * The sandbox authority's key set: root CA, intermediate CA, CT log, Rekor log and OIDC
 * issuer, all ECDSA P-256. Derived from a seed (byte-for-byte reproducible: keys by HKDF,
 * signatures by RFC 6979 through @noble/curves) or generated at random for a fresh sandbox.
 *
 * These are the AUTHORITY's private keys: persisting them in the sandbox's data dir is fine.
 * A signer's ephemeral key never goes through this module.
 */
import { hkdfSync } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import type { KeyObject } from 'node:crypto';
import { fail } from '../../errors.js';
import { sha256 } from '../../crypto.js';
import { bytesEqual, fromHex, toHex, utf8 } from '../../util/encoding.js';
import { deterministicP256Signer, type KeyedSigner } from '../../x509/issue.js';

/** A P-256 key that signs deterministically (RFC 6979): same key + same data = same bytes. */
export interface AuthorityKey {
  /** 32-byte secret scalar. */
  readonly secretKey: Uint8Array;
  /** 65-byte uncompressed SEC1 point. */
  readonly publicKey: Uint8Array;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  readonly keyObject: KeyObject;
  /** The same key as an X.509 certificate signer (ecdsa-with-SHA256). */
  readonly certSigner: KeyedSigner;
  /** ECDSA-SHA256 over `data`, DER-encoded signature (X.509, SCT, SET, checkpoints). */
  sign(data: Uint8Array): Uint8Array;
  /** ECDSA-SHA256 over `data`, raw r||s (64 bytes: JWS ES256). */
  signRaw(data: Uint8Array): Uint8Array;
  /** ECDSA over a precomputed 32-byte SHA-256 digest, DER (hashedrekord over a bare digest). */
  signDigest(sha256Digest: Uint8Array): Uint8Array;
}

export type AuthorityKeyName = 'rootCa' | 'intermediateCa' | 'ctLog' | 'rekorLog' | 'oidc';
export const AUTHORITY_KEY_NAMES: readonly AuthorityKeyName[] = [
  'rootCa',
  'intermediateCa',
  'ctLog',
  'rekorLog',
  'oidc',
];

export type AuthorityKeys = Readonly<Record<AuthorityKeyName, AuthorityKey>>;

/** The persisted form (sandbox data dir): hex secret scalars. */
export interface AuthorityKeysJson {
  version: 1;
  keys: Record<AuthorityKeyName, { secretKey: string }>;
}

/** Build a deterministic signing key from a 32-byte secret scalar. */
export function authorityKeyFromSecret(secretKey: Uint8Array): AuthorityKey {
  if (!p256.utils.isValidSecretKey(secretKey))
    fail('CONFIG_INVALID', 'sandbox', 'authority key: not a valid P-256 secret key');
  const sk = Uint8Array.from(secretKey);
  // One deterministic ECDSA implementation (x509/issue.ts) for certificates, SCTs, SETs,
  // checkpoints and JWTs alike.
  const signer = deterministicP256Signer(sk);
  return {
    secretKey: sk,
    publicKey: p256.getPublicKey(sk, false),
    spki: signer.spki,
    keyObject: signer.publicKey,
    certSigner: signer,
    sign: (data) => signer.sign(data),
    signRaw: (data) => p256.Signature.fromBytes(signer.sign(data), 'der').toBytes('compact'),
    signDigest: (digest) => {
      if (digest.length !== 32)
        fail(
          'INPUT_INVALID',
          'signing',
          `expected a 32-byte SHA-256 digest, got ${digest.length} bytes`,
        );
      return p256.sign(digest, sk, { prehash: false, format: 'der', lowS: true });
    },
  };
}

/** Keys are derived from the seed with HKDF: a short seed would make them guessable. */
export function checkAuthoritySeed(seed: Uint8Array): void {
  if (seed.length < 16)
    fail('CONFIG_INVALID', 'sandbox', 'authority seed: at least 16 bytes are required');
}

/**
 * Derive a key from a seed and a label. HKDF-SHA256 expands to 48 bytes, which noble reduces
 * modulo n without bias (FIPS 186-5 A.2.1) — the result is a valid scalar for any seed.
 */
export function deriveAuthorityKey(seed: Uint8Array, label: string): AuthorityKey {
  checkAuthoritySeed(seed);
  const okm = new Uint8Array(
    hkdfSync('sha256', seed, utf8.encode('stella-sandbox-authority'), utf8.encode(label), 48),
  );
  return authorityKeyFromSecret(p256.utils.randomSecretKey(okm));
}

/** Seed from a human string (samples, tests): SHA-256 of its UTF-8 bytes. */
export function seedFromString(s: string): Uint8Array {
  return sha256(utf8.encode(s));
}

export function deriveAuthorityKeys(seed: Uint8Array): AuthorityKeys {
  const out = {} as Record<AuthorityKeyName, AuthorityKey>;
  for (const name of AUTHORITY_KEY_NAMES) out[name] = deriveAuthorityKey(seed, name);
  return out;
}

/** Fresh random keys (CSPRNG) for a new sandbox. */
export function generateAuthorityKeys(): AuthorityKeys {
  const out = {} as Record<AuthorityKeyName, AuthorityKey>;
  for (const name of AUTHORITY_KEY_NAMES)
    out[name] = authorityKeyFromSecret(p256.utils.randomSecretKey());
  return out;
}

export function exportAuthorityKeys(keys: AuthorityKeys): AuthorityKeysJson {
  const out = {} as Record<AuthorityKeyName, { secretKey: string }>;
  for (const name of AUTHORITY_KEY_NAMES) out[name] = { secretKey: toHex(keys[name].secretKey) };
  return { version: 1, keys: out };
}

/** Parse the persisted form; anything malformed is CONFIG_INVALID naming the bad field. */
export function importAuthorityKeys(json: unknown): AuthorityKeys {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    fail('CONFIG_INVALID', 'sandbox', 'authority keys: expected a JSON object');
  const o = json as Record<string, unknown>;
  if (o['version'] !== 1)
    fail(
      'CONFIG_INVALID',
      'sandbox',
      `authority keys: unsupported version ${JSON.stringify(o['version'])}`,
    );
  const keys = o['keys'];
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
    fail('CONFIG_INVALID', 'sandbox', 'authority keys: "keys" must be an object');
  const out = {} as Record<AuthorityKeyName, AuthorityKey>;
  for (const name of AUTHORITY_KEY_NAMES) {
    const entry = (keys as Record<string, unknown>)[name];
    const hex =
      typeof entry === 'object' && entry !== null
        ? (entry as Record<string, unknown>)['secretKey']
        : undefined;
    if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex))
      fail(
        'CONFIG_INVALID',
        'sandbox',
        `authority keys: keys.${name}.secretKey must be 64 lowercase hex digits`,
      );
    out[name] = authorityKeyFromSecret(fromHex(hex));
  }
  return out;
}

export function authorityKeysEqual(a: AuthorityKeys, b: AuthorityKeys): boolean {
  return AUTHORITY_KEY_NAMES.every((n) => bytesEqual(a[n].secretKey, b[n].secretKey));
}
