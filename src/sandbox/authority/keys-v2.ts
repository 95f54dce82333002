/**
 * The keys of the sandbox's Rekor v2 log and RFC 3161 TSA, kept apart from ./keys.ts's set so
 * that a data directory made before they existed gains them without its other keys changing:
 *
 *   rekorV2Log  Ed25519 (as Rekor v2 logs sign checkpoints: the key the witness network speaks)
 *   tsaRoot     ECDSA P-256, the TSA's root CA
 *   tsaSigner   ECDSA P-256, the TSA's timestamping certificate
 *
 * Like ./keys.ts: derived from a seed (reproducible) or generated at random; signatures are
 * deterministic (Ed25519; RFC 6979 for ECDSA).
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { fail } from '../../errors.js';
import { bytesEqual, fromHex, toHex, utf8 } from '../../util/encoding.js';
import { deterministicEd25519Signer, type KeyedSigner } from '../../x509/issue.js';
import {
  authorityKeyFromSecret,
  checkAuthoritySeed,
  deriveAuthorityKey,
  type AuthorityKey,
} from './keys.js';
import { p256 } from '@noble/curves/nist.js';

/** An Ed25519 signing key from its 32-byte seed. */
export interface Ed25519AuthorityKey {
  readonly seed: Uint8Array;
  /** Pure Ed25519 signer (`sign` gives the 64-byte signature), with its SPKI and KeyObject. */
  readonly signer: KeyedSigner;
}

export interface V2AuthorityKeys {
  readonly rekorV2Log: Ed25519AuthorityKey;
  readonly tsaRoot: AuthorityKey;
  readonly tsaSigner: AuthorityKey;
}

export interface V2AuthorityKeysJson {
  version: 1;
  /** When these keys start being valid (ms since the epoch): the v2 log key's and the TSA's validFor start. */
  createdAt: number;
  keys: {
    rekorV2Log: { seed: string };
    tsaRoot: { secretKey: string };
    tsaSigner: { secretKey: string };
  };
}

export function ed25519KeyFromSeed(seed: Uint8Array): Ed25519AuthorityKey {
  // The signer refuses a seed that is not 32 bytes; every caller here passes 32 (HKDF output,
  // random bytes, or 64 hex digits checked by importV2AuthorityKeys).
  return { seed: Uint8Array.from(seed), signer: deterministicEd25519Signer(seed) };
}

export function generateV2AuthorityKeys(): V2AuthorityKeys {
  return {
    rekorV2Log: ed25519KeyFromSeed(new Uint8Array(randomBytes(32))),
    tsaRoot: authorityKeyFromSecret(p256.utils.randomSecretKey()),
    tsaSigner: authorityKeyFromSecret(p256.utils.randomSecretKey()),
  };
}

/** Reproducible keys (tests, samples): HKDF labels distinct from ./keys.ts's. */
export function deriveV2AuthorityKeys(seed: Uint8Array): V2AuthorityKeys {
  checkAuthoritySeed(seed);
  const edSeed = new Uint8Array(
    hkdfSync(
      'sha256',
      seed,
      utf8.encode('stella-sandbox-authority'),
      utf8.encode('rekorV2Log'),
      32,
    ),
  );
  return {
    rekorV2Log: ed25519KeyFromSeed(edSeed),
    tsaRoot: deriveAuthorityKey(seed, 'tsaRoot'),
    tsaSigner: deriveAuthorityKey(seed, 'tsaSigner'),
  };
}

export function exportV2AuthorityKeys(
  keys: V2AuthorityKeys,
  createdAt: number,
): V2AuthorityKeysJson {
  return {
    version: 1,
    createdAt,
    keys: {
      rekorV2Log: { seed: toHex(keys.rekorV2Log.seed) },
      tsaRoot: { secretKey: toHex(keys.tsaRoot.secretKey) },
      tsaSigner: { secretKey: toHex(keys.tsaSigner.secretKey) },
    },
  };
}

/** Parse the persisted form; anything malformed is CONFIG_INVALID naming the field. */
export function importV2AuthorityKeys(json: unknown): { keys: V2AuthorityKeys; createdAt: number } {
  const bad = (why: string): never =>
    fail('CONFIG_INVALID', 'sandbox', `Rekor v2 / TSA authority keys: ${why}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    bad('expected a JSON object');
  const o = json as Record<string, unknown>;
  if (o['version'] !== 1) bad(`unsupported version ${JSON.stringify(o['version'])}`);
  if (typeof o['createdAt'] !== 'number' || !Number.isSafeInteger(o['createdAt']))
    bad('"createdAt" must be an integer (ms since the epoch)');
  const keys = o['keys'];
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
    bad('"keys" must be an object');
  const hexOf = (name: string, field: string): Uint8Array => {
    const entry = (keys as Record<string, unknown>)[name];
    const hex =
      typeof entry === 'object' && entry !== null
        ? (entry as Record<string, unknown>)[field]
        : undefined;
    if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex))
      return bad(`keys.${name}.${field} must be 64 lowercase hex digits`);
    return fromHex(hex);
  };
  return {
    keys: {
      rekorV2Log: ed25519KeyFromSeed(hexOf('rekorV2Log', 'seed')),
      tsaRoot: authorityKeyFromSecret(hexOf('tsaRoot', 'secretKey')),
      tsaSigner: authorityKeyFromSecret(hexOf('tsaSigner', 'secretKey')),
    },
    createdAt: o['createdAt'] as number,
  };
}

export function v2AuthorityKeysEqual(a: V2AuthorityKeys, b: V2AuthorityKeys): boolean {
  return (
    bytesEqual(a.rekorV2Log.seed, b.rekorV2Log.seed) &&
    bytesEqual(a.tsaRoot.secretKey, b.tsaRoot.secretKey) &&
    bytesEqual(a.tsaSigner.secretKey, b.tsaSigner.secretKey)
  );
}
