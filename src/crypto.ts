/**
 * Crypto behind one small module. node:crypto (OpenSSL) for hashing, verification and key
 * generation: measured ~30x faster than a pure-JS curve for P-256 verification. @noble/curves
 * only where Node cannot (./crypto-prehash.ts: ECDSA over a bare digest; x509/issue.ts:
 * deterministic RFC 6979 signatures), and loaded only then: importing it costs ~25 ms of
 * start-up that `stella attest verify` on a file does not need.
 */
import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { fail, type CheckName, type ErrorCode } from './errors.js';
import type { DigestName } from './util/digest.js';

export type { DigestName } from './util/digest.js';

export function digest(alg: DigestName, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(alg).update(data).digest());
}

export function sha256(data: Uint8Array): Uint8Array {
  return digest('sha256', data);
}

/** Parse a DER SubjectPublicKeyInfo or a PEM public key. */
export function parsePublicKey(input: Uint8Array | string, what: string, code: ErrorCode = 'INPUT_INVALID', check: CheckName = 'input'): KeyObject {
  try {
    if (typeof input === 'string') return createPublicKey(input);
    return createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
  } catch (e) {
    return fail(code, check, `${what}: not a valid public key`, undefined, { cause: e });
  }
}

/** Reading asymmetricKeyDetails crosses into C++ each time; trust keys are asked per bundle. */
const digestMemo = new WeakMap<KeyObject, DigestName | null>();

/** The hash that goes with a key for Sigstore signatures (ECDSA curve size; Ed25519: none). */
export function defaultDigestForKey(key: KeyObject): DigestName | null {
  let d = digestMemo.get(key);
  if (d === undefined) digestMemo.set(key, (d = digestForKey(key)));
  return d;
}

function digestForKey(key: KeyObject): DigestName | null {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519' || t === 'ed448') return null;
  if (t === 'ec') {
    const c = key.asymmetricKeyDetails?.namedCurve;
    if (c === 'secp384r1') return 'sha384';
    if (c === 'secp521r1') return 'sha512';
    return 'sha256';
  }
  return 'sha256';
}

/**
 * Verify `signature` over `data`. For ECDSA the signature is DER; `hash` null means the
 * key's natural digest (Ed25519: pure). Returns false on any malformed input; never throws.
 */
export function verifySignature(key: KeyObject, data: Uint8Array, signature: Uint8Array, hash?: DigestName | null): boolean {
  try {
    const alg = hash === undefined ? defaultDigestForKey(key) : hash;
    return nodeVerify(alg, data, key, signature);
  } catch {
    return false;
  }
}
