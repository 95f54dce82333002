/**
 * ECDSA verification over a precomputed digest (the artifact is known only by its digest).
 * Node cannot verify a bare digest, but OpenSSL can be made to check the same equation: ECDSA
 * accepts (r, s) for digest e under key Q iff x(e·s⁻¹·G + r·s⁻¹·Q) ≡ r (mod n). Verifying the
 * unchanged signature over a fixed message m′ (digest h′) in a group whose base point is
 * G′ = (e·h′⁻¹)·G computes h′·s⁻¹·G′ + r·s⁻¹·Q: the same point, with OpenSSL's own r/s range
 * checks (same order n) and strict DER parsing of the signature. Measured ~3–4x faster than
 * @noble/curves, which stays as the fallback for OpenSSL builds that refuse explicit curve
 * parameters (FIPS) and for e ≡ 0 (mod n), where G′ would be the point at infinity. A module
 * of its own so that only verifications that need it pay for loading @noble/curves.
 */
import {
  createECDH,
  createPublicKey,
  hash,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { ecPublicPoint } from './crypto.js';
import { bitString, int, octetString, oid, seq } from './der/writer.js';
import { fromHex, toHex } from './util/encoding.js';

/** A short Weierstrass curve y² = x³ + ax + b over GF(p) with a base point of prime order n. */
export interface PrimeCurve {
  /** OpenSSL's name, as crypto.ts's ecPublicPoint and createECDH use it. */
  opensslName: string;
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
  /** Bits of n: where bits2int cuts a longer digest. */
  orderBits: number;
  /** Octets of a field element (and of a scalar: n has as many bits as p on these curves). */
  size: number;
  noble: typeof p256;
}

export const PRIME_CURVES: readonly PrimeCurve[] = [
  {
    opensslName: 'prime256v1',
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    orderBits: 256,
    size: 32,
    noble: p256,
  },
  {
    opensslName: 'secp384r1',
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    orderBits: 384,
    size: 48,
    noble: p384,
  },
  {
    opensslName: 'secp521r1',
    p: (1n << 521n) - 1n,
    a: (1n << 521n) - 4n,
    b: 0x51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    n: 0x1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    orderBits: 521,
    size: 66,
    noble: p521,
  },
];

/** The fixed message OpenSSL is asked to verify, and the digest it hashes it with. */
const FIXED_MESSAGE = new Uint8Array(0);
const FIXED_DIGEST = 'sha256';

/** What each curve's explicit SPKI needs besides G′ and Q, computed on first use. */
interface ScaledGeneratorParts {
  /** h′⁻¹ mod n, h′ = bits2int(SHA-256(m′)). */
  fixedDigestInverse: bigint;
  /** version, fieldID, curve: the ECParameters before the base point. */
  head: Uint8Array[];
  /** order, cofactor: the ECParameters after it. */
  tail: Uint8Array[];
}

const ID_EC_PUBLIC_KEY = oid('1.2.840.10045.2.1');
const PRIME_FIELD = oid('1.2.840.10045.1.1');
const partsMemo = new WeakMap<PrimeCurve, ScaledGeneratorParts>();

function scaledGeneratorParts(curve: PrimeCurve): ScaledGeneratorParts {
  let parts = partsMemo.get(curve);
  if (parts === undefined) {
    const fixed = bits2int(curve, new Uint8Array(hash(FIXED_DIGEST, FIXED_MESSAGE, 'buffer')));
    parts = {
      fixedDigestInverse: modInverse(fixed % curve.n, curve.n),
      head: [
        int(1),
        seq(PRIME_FIELD, int(curve.p)),
        seq(
          octetString(fixedBytes(curve.a, curve.size)),
          octetString(fixedBytes(curve.b, curve.size)),
        ),
      ],
      tail: [int(curve.n), int(1)],
    };
    partsMemo.set(curve, parts);
  }
  return parts;
}

/**
 * Verify a DER ECDSA signature over `messageDigest` with a P-256, P-384 or P-521 key; never
 * throws. Which digest may go with which curve is decided by the caller (verify/algorithms.ts).
 */
export function verifyPrehashed(
  key: KeyObject,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean {
  return (
    verifyPrehashedWithOpenssl(key, messageDigest, signature) ??
    verifyPrehashedWithNoble(key, messageDigest, signature)
  );
}

/**
 * The fast path: OpenSSL over m′ with base point G′ = (e·h′⁻¹)·G. Undefined when it cannot be
 * asked (e ≡ 0 (mod n), or a build that refuses explicit curve parameters); never throws.
 */
export function verifyPrehashedWithOpenssl(
  key: KeyObject,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean | undefined {
  return withCurveAndPoint(key, (curve, point) =>
    verifyWithScaledGenerator(curve, point, messageDigest, signature),
  );
}

/**
 * The fallback, and the reference the tests hold the OpenSSL path to: @noble/curves over the
 * digest itself (prehash off; high-S accepted, as OpenSSL does). Never throws.
 */
export function verifyPrehashedWithNoble(
  key: KeyObject,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean {
  return withCurveAndPoint(key, (curve, point) =>
    verifyWithNoble(curve, point, messageDigest, signature),
  );
}

/** `verify` over the key's curve and point; false for other keys or when anything throws. */
function withCurveAndPoint<T>(
  key: KeyObject,
  verify: (curve: PrimeCurve, point: Uint8Array) => T,
): T | false {
  try {
    const ec = ecPublicPoint(key);
    const curve = PRIME_CURVES.find((c) => c.opensslName === ec?.curve);
    return ec && curve ? verify(curve, ec.point) : false;
  } catch {
    return false;
  }
}

function verifyWithNoble(
  curve: PrimeCurve,
  point: Uint8Array,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean {
  return curve.noble.verify(signature, messageDigest, point, {
    prehash: false,
    format: 'der',
    lowS: false,
  });
}

/**
 * The signature checked by OpenSSL over m′ in the group with base point G′ = (e·h′⁻¹)·G;
 * undefined when this cannot be asked: e ≡ 0 (mod n), or a build that refuses keys with
 * explicit curve parameters.
 */
function verifyWithScaledGenerator(
  curve: PrimeCurve,
  point: Uint8Array,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean | undefined {
  const parts = scaledGeneratorParts(curve);
  const scale = ((bits2int(curve, messageDigest) % curve.n) * parts.fixedDigestInverse) % curve.n;
  if (scale === 0n) return undefined;
  const ecdh = createECDH(curve.opensslName);
  ecdh.setPrivateKey(fixedBytes(scale, curve.size));
  const generator = ecdh.getPublicKey();
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: Buffer.from(explicitSpki(parts, generator, point)),
      format: 'der',
      type: 'spki',
    });
  } catch {
    return undefined;
  }
  return nodeVerify(FIXED_DIGEST, FIXED_MESSAGE, key, signature);
}

/** SubjectPublicKeyInfo of `point` in the curve's group with base point `generator` (RFC 3279). */
function explicitSpki(
  parts: ScaledGeneratorParts,
  generator: Uint8Array,
  point: Uint8Array,
): Uint8Array {
  const parameters = seq(...parts.head, octetString(generator), ...parts.tail);
  return seq(seq(ID_EC_PUBLIC_KEY, parameters), bitString(point));
}

/**
 * ECDSA's conversion of a digest to an integer (SEC 1 4.1.4, RFC 6979 bits2int): a digest
 * longer than the order's bit length keeps its leftmost bits; a shorter one is taken whole.
 */
function bits2int(curve: PrimeCurve, digest: Uint8Array): bigint {
  const value = digest.length === 0 ? 0n : BigInt(`0x${toHex(digest)}`);
  const excess = digest.length * 8 - curve.orderBits;
  return excess > 0 ? value >> BigInt(excess) : value;
}

function fixedBytes(value: bigint, size: number): Uint8Array {
  return fromHex(value.toString(16).padStart(size * 2, '0'));
}

/** x⁻¹ mod a prime m (Fermat), for x not divisible by m. */
function modInverse(x: bigint, m: bigint): bigint {
  let result = 1n;
  let base = x % m;
  for (let e = m - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * base) % m;
    base = (base * base) % m;
  }
  return result;
}
