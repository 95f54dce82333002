/** How the store names a public key's type (protobuf-specs PublicKeyDetails). Keys are compared by crypto.ts's spkiOf. */
import type { KeyObject } from 'node:crypto';
import { fail } from '../../errors.js';

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
