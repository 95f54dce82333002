/**
 * ECDSA verification over a precomputed digest (the artifact is known only by its digest).
 * Node cannot verify a bare digest, but OpenSSL can be made to check the same equation: ECDSA
 * accepts (r, s) for digest e under key Q iff x(e·s⁻¹·G + r·s⁻¹·Q) ≡ r (mod n). Verifying the
 * unchanged signature over a fixed message m′ (digest h′) under the shifted key
 * Q′ = Q + k·G, k = (e − h′)·r⁻¹, computes h′·s⁻¹·G + r·s⁻¹·Q′ = e·s⁻¹·G + r·s⁻¹·Q: the same
 * point, on the same named curve, with OpenSSL's own r/s range checks and strict DER parsing
 * of the signature (r is read from the same bytes by the one strict DER reader first).
 * k·G comes from OpenSSL (ECDH's fixed-base multiplication); the one point addition is done
 * here. Measured on P-256, a fresh key each time: ~0.29–0.32 ms, against ~0.53–0.55 ms for the
 * explicit-parameter group with a scaled base point this replaced (building that key, and
 * OpenSSL's generic code for such a group) and ~2 ms for @noble/curves alone, which stays as
 * the fallback for the corner a signer must aim at, k·G = ±Q. A module of its own so that only
 * verifications that need it pay for loading @noble/curves.
 */
import { createECDH, hash, verify as nodeVerify, type ECDH } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { ecPublicKeyFromPoint, ecPublicPoint, type EcPublicKey } from './crypto.js';
import { Tag, parseDer, readInteger } from './der/reader.js';
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

const multiplierMemo = new WeakMap<PrimeCurve, ECDH>();

/**
 * One ECDH object per curve, reused: setPrivateKey(k) then getPublicKey() is k·G by OpenSSL's
 * fixed-base code. Creating one per check cost ~25 µs (a new EC group each time); the object
 * is only ever used synchronously, and each worker thread has its own.
 */
function fixedBaseMultiplier(curve: PrimeCurve): ECDH {
  let ecdh = multiplierMemo.get(curve);
  if (ecdh === undefined) multiplierMemo.set(curve, (ecdh = createECDH(curve.opensslName)));
  return ecdh;
}

const fixedDigestMemo = new WeakMap<PrimeCurve, bigint>();

/** h′ = bits2int(SHA-256(m′)) mod n: what OpenSSL computes from the fixed message. */
function fixedDigest(curve: PrimeCurve): bigint {
  let h = fixedDigestMemo.get(curve);
  if (h === undefined) {
    const digest = new Uint8Array(hash(FIXED_DIGEST, FIXED_MESSAGE, 'buffer'));
    fixedDigestMemo.set(curve, (h = bits2int(curve, digest) % curve.n));
  }
  return h;
}

/**
 * Verify a DER ECDSA signature over `messageDigest` with a P-256, P-384 or P-521 key; never
 * throws. Which digest may go with which curve is decided by the caller (verify/algorithms.ts).
 */
export function verifyPrehashed(
  key: EcPublicKey,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean {
  return (
    verifyPrehashedWithOpenssl(key, messageDigest, signature) ??
    verifyPrehashedWithNoble(key, messageDigest, signature)
  );
}

/**
 * The fast path: OpenSSL over m′ under the shifted key Q′ = Q + ((e − h′)·r⁻¹)·G. Undefined
 * when it is not asked (k·G = ±Q: a doubling, or Q′ at infinity); never throws.
 */
export function verifyPrehashedWithOpenssl(
  key: EcPublicKey,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean | undefined {
  return withCurveAndPoint(key, (curve, point) =>
    verifyWithShiftedKey(key, curve, point, messageDigest, signature),
  );
}

/**
 * The fallback, and the reference the tests hold the OpenSSL path to: @noble/curves over the
 * digest itself (prehash off; high-S accepted, as OpenSSL does). Never throws.
 */
export function verifyPrehashedWithNoble(
  key: EcPublicKey,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean {
  return withCurveAndPoint(key, (curve, point) =>
    verifyWithNoble(curve, point, messageDigest, signature),
  );
}

/**
 * `verify` over the key's curve and uncompressed point; false for other keys, for a point not
 * on its curve, or when anything throws.
 */
function withCurveAndPoint<T>(
  key: EcPublicKey,
  verify: (curve: PrimeCurve, point: Uint8Array) => T,
): T | false {
  try {
    const ec = 'point' in key ? key : ecPublicPoint(key);
    const curve = PRIME_CURVES.find((c) => c.opensslName === ec?.curve);
    const point = ec && curve ? uncompressedOnCurve(curve, ec.point) : undefined;
    return point ? verify(curve!, point) : false;
  } catch {
    return false;
  }
}

/**
 * The point uncompressed, if it is on the curve (the whole public-key check for these curves:
 * their cofactor is 1); undefined otherwise. A compressed point is decompressed, and so
 * checked, by @noble/curves.
 */
function uncompressedOnCurve(curve: PrimeCurve, point: Uint8Array): Uint8Array | undefined {
  if (point[0] !== 4) return curve.noble.Point.fromBytes(point).toBytes(false);
  if (point.length !== 1 + 2 * curve.size) return undefined;
  const Fp = curve.noble.Point.Fp;
  const [x, y] = [coordinate(curve, point, 0), coordinate(curve, point, 1)];
  if (x >= curve.p || y >= curve.p) return undefined;
  const rhs = Fp.add(Fp.add(Fp.mul(Fp.sqr(x), x), Fp.mul(curve.a, x)), curve.b);
  return Fp.eql(Fp.sqr(y), rhs) ? point : undefined;
}

/** Coordinate i (0: x, 1: y) of an uncompressed point. */
function coordinate(curve: PrimeCurve, point: Uint8Array, i: number): bigint {
  return BigInt(`0x${toHex(point.subarray(1 + i * curve.size, 1 + (i + 1) * curve.size))}`);
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
 * The signature checked by OpenSSL over m′ under Q′ = Q + k·G, k = (e − h′)·r⁻¹ mod n (see
 * the top of this file); undefined when k·G = ±Q (Q′ would be a doubling, or the point at
 * infinity, which OpenSSL cannot hold as a key). False for a signature that is not DER (r, s)
 * with 1 ≤ r, s < n: OpenSSL refuses those too, and r must be known (and invertible) to shift
 * the key.
 */
function verifyWithShiftedKey(
  key: EcPublicKey,
  curve: PrimeCurve,
  point: Uint8Array,
  messageDigest: Uint8Array,
  signature: Uint8Array,
): boolean | undefined {
  const r = signatureR(curve, signature);
  if (r === undefined) return false;
  const Fn = curve.noble.Point.Fn;
  const k = Fn.mul(
    Fn.sub(Fn.create(bits2int(curve, messageDigest)), fixedDigest(curve)),
    modInverse(r, curve.n),
  );
  if (k === 0n) {
    const unshifted = 'point' in key ? ecPublicKeyFromPoint(curve.opensslName, point) : key;
    return nodeVerify(FIXED_DIGEST, FIXED_MESSAGE, unshifted, signature);
  }
  const ecdh = fixedBaseMultiplier(curve);
  ecdh.setPrivateKey(fixedBytes(k, curve.size));
  const shifted = addDistinctPoints(curve, point, ecdh.getPublicKey());
  if (shifted === undefined) return undefined;
  const shiftedKey = ecPublicKeyFromPoint(curve.opensslName, shifted);
  return nodeVerify(FIXED_DIGEST, FIXED_MESSAGE, shiftedKey, signature);
}

/**
 * P1 + P2 for uncompressed points with different x (affine chord rule: one inversion mod p);
 * undefined when the x are equal (P1 = ±P2: a doubling or the point at infinity), which the
 * caller leaves to @noble/curves. Both points are on the curve (checked by withCurveAndPoint,
 * and computed by OpenSSL); OpenSSL checks the sum again when it is made a key. Measured ~5x
 * cheaper than parsing both points into @noble/curves and adding them there (validation,
 * projective coordinates, then a conversion back).
 */
function addDistinctPoints(
  curve: PrimeCurve,
  p1: Uint8Array,
  p2: Uint8Array,
): Uint8Array | undefined {
  const Fp = curve.noble.Point.Fp;
  const [x1, y1, x2, y2] = [
    coordinate(curve, p1, 0),
    coordinate(curve, p1, 1),
    coordinate(curve, p2, 0),
    coordinate(curve, p2, 1),
  ];
  if (x1 === x2) return undefined;
  const slope = Fp.mul(Fp.sub(y2, y1), modInverse(Fp.sub(x2, x1), curve.p));
  const x3 = Fp.sub(Fp.sub(Fp.sqr(slope), x1), x2);
  const y3 = Fp.sub(Fp.mul(slope, Fp.sub(x1, x3)), y1);
  const out = new Uint8Array(1 + 2 * curve.size);
  out[0] = 4;
  out.set(fixedBytes(x3, curve.size), 1);
  out.set(fixedBytes(y3, curve.size), 1 + curve.size);
  return out;
}

/** Bits of the leading digits Lehmer's steps work on: every sum and product below stays under 2^53. */
const LEHMER_BITS = 48;
const LEHMER_LIMIT = 1n << BigInt(LEHMER_BITS);

/**
 * a⁻¹ mod m for 0 < a < m, m an odd prime (the curves' p and n): Lehmer's extended Euclid
 * (Knuth, TAOCP vol. 2, 4.5.2, Algorithm L). Each step runs Euclid on the leading 48 bits of
 * (u, v) in doubles while the quotient is certain, then applies the cofactors it gathered to
 * the full numbers at once; the last 48 bits go the same way exactly. About 150 BigInt
 * operations for a 256-bit inverse where the schoolbook loop (@noble/curves' invert) makes
 * ~900: the two inversions of a digest-only check were ~4% of a shipment's CPU and a fifth of
 * everything it allocated. Every input here is public (r, coordinates of public points).
 */
export function modInverse(a: bigint, m: bigint): bigint {
  if (a <= 0n || a >= m) throw new RangeError('modInverse: a must be in [1, m - 1]');
  // Invariants: u ≡ x1·a and v ≡ x2·a (mod m), u ≥ v ≥ 0.
  let u = m;
  let v = a;
  let x1 = 0n;
  let x2 = 1n;
  while (u >= LEHMER_LIMIT && v !== 0n) {
    // Number(u) rounds to at most 2^bitlen, so the estimate is bitlen or bitlen + 1: û < 2^48.
    const shift = BigInt(Math.max(0, Math.floor(Math.log2(Number(u))) + 1 - LEHMER_BITS));
    let uh = Number(u >> shift);
    let vh = Number(v >> shift);
    let A = 1;
    let B = 0;
    let C = 0;
    let D = 1;
    for (;;) {
      // The quotient of the true (u, v) lies between these two; go on only while they agree.
      if (vh + C <= 0 || vh + D <= 0) break;
      const q = Math.floor((uh + A) / (vh + C));
      if (q !== Math.floor((uh + B) / (vh + D))) break;
      [A, C] = [C, A - q * C];
      [B, D] = [D, B - q * D];
      [uh, vh] = [vh, uh - q * vh];
    }
    if (B === 0) {
      // No certain quotient from the leading bits (a large one, or v already short): one full
      // division.
      const q = u / v;
      [u, v] = [v, u - q * v];
      [x1, x2] = [x2, x1 - q * x2];
    } else {
      const [a1, b1, c1, d1] = [BigInt(A), BigInt(B), BigInt(C), BigInt(D)];
      [u, v] = [a1 * u + b1 * v, c1 * u + d1 * v];
      [x1, x2] = [a1 * x1 + b1 * x2, c1 * x1 + d1 * x2];
    }
  }
  // Both under 2^48 (or v = 0): the rest of Euclid in doubles, exactly (cofactors stay under u).
  let uh = Number(u);
  let vh = Number(v);
  let A = 1;
  let B = 0;
  let C = 0;
  let D = 1;
  while (vh !== 0) {
    const q = Math.floor(uh / vh);
    [A, C] = [C, A - q * C];
    [B, D] = [D, B - q * D];
    [uh, vh] = [vh, uh - q * vh];
  }
  if (uh !== 1) throw new RangeError('modInverse: a is not invertible modulo m');
  const x = (BigInt(A) * x1 + BigInt(B) * x2) % m;
  return x < 0n ? x + m : x;
}

/**
 * r of a DER ECDSA-Sig-Value (SEQUENCE { r INTEGER, s INTEGER }), read by the strict DER
 * reader; undefined unless both are in [1, n − 1]. Any DER OpenSSL accepts is read to the
 * same r: both refuse every non-canonical form.
 */
function signatureR(curve: PrimeCurve, signature: Uint8Array): bigint | undefined {
  const sequence = parseDer(signature, { what: 'ECDSA signature' }, Tag.SEQUENCE);
  if (sequence.children.length !== 2) return undefined;
  const [r, s] = sequence.children.map(readInteger) as [bigint, bigint];
  const inRange = (v: bigint) => v >= 1n && v < curve.n;
  return inRange(r) && inRange(s) ? r : undefined;
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
