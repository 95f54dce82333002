/**
 * ECDSA verification over a precomputed digest (the artifact is known only by its digest).
 * Node cannot verify a bare digest, so this uses @noble/curves with prehash off. A module of
 * its own so that only verifications that need it pay for loading @noble/curves.
 */
import type { KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { decodeBase64Url } from './util/encoding.js';

/**
 * Verify a DER ECDSA signature over `messageDigest` with a P-256, P-384 or P-521 key; never
 * throws. Which digest may go with which curve is decided by the caller (verify/algorithms.ts).
 */
export function verifyPrehashed(
  key: KeyObject,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (key.asymmetricKeyType !== 'ec') return false;
    const jwk = key.export({ format: 'jwk' });
    const curve =
      jwk.crv === 'P-256'
        ? p256
        : jwk.crv === 'P-384'
          ? p384
          : jwk.crv === 'P-521'
            ? p521
            : undefined;
    if (!curve || !jwk.x || !jwk.y) return false;
    const pub = new Uint8Array([
      4,
      ...decodeBase64Url(jwk.x, 'JWK x'),
      ...decodeBase64Url(jwk.y, 'JWK y'),
    ]);
    return curve.verify(signature, messageDigest, pub, {
      prehash: false,
      format: 'der',
      lowS: false,
    });
  } catch {
    return false;
  }
}
