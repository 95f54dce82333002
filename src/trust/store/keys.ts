/** Public keys as the store compares them: normalised DER SubjectPublicKeyInfo. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { fail } from '../../errors.js';

/**
 * DER SPKI as node re-encodes it. Two encodings of one key (a compressed and an uncompressed
 * EC point, PEM vs DER) become the same bytes, so a key is never counted twice (checklist G44).
 */
export function spkiOf(key: KeyObject): Uint8Array {
  // OpenSSL re-exports an EC key in the point form it was given (compressed stays
  // compressed); a round trip through JWK (x, y) always yields the uncompressed form.
  const k = key.type === 'private' ? createPublicKey(key) : key;
  const canonical = k.asymmetricKeyType === 'ec' ? createPublicKey({ key: k.export({ format: 'jwk' }), format: 'jwk' }) : k;
  return new Uint8Array(canonical.export({ type: 'spki', format: 'der' }));
}

/** protobuf-specs PublicKeyDetails for a key. */
export function keyDetailsOf(key: KeyObject): string {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return 'PKIX_ED25519';
  if (t === 'ec') {
    const c = key.asymmetricKeyDetails?.namedCurve;
    if (c === 'prime256v1') return 'PKIX_ECDSA_P256_SHA_256';
    if (c === 'secp384r1') return 'PKIX_ECDSA_P384_SHA_384';
    if (c === 'secp521r1') return 'PKIX_ECDSA_P521_SHA_512';
  }
  if (t === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return `PKIX_RSA_PKCS1V15_${bits}_SHA256`;
  }
  return fail('IMPORT_INVALID', 'trust-store', `unsupported public key type ${t ?? 'unknown'}`);
}
