/**
 * Crypto behind one small module. node:crypto (OpenSSL) for hashing, verification and key
 * generation: measured ~30x faster than a pure-JS curve for P-256 verification. @noble/curves
 * only where Node cannot (x509/issue.ts: deterministic RFC 6979 signatures; ./crypto-prehash.ts:
 * one point addition for ECDSA over a bare digest, and the rare case OpenSSL cannot take), and
 * loaded only with those modules: importing it costs ~25 ms of start-up that `stella attest
 * verify` on a file does not need.
 */
import {
  createHash,
  createPublicKey,
  hash,
  verify as nodeVerify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { fail, type CheckName, type ErrorCode } from './errors.js';
import {
  bytesEqual,
  concatBytes,
  decodeBase64Url,
  fromHex,
  toBase64Url,
  toHex,
} from './util/encoding.js';
import type { DigestName } from './util/digest.js';
import { pemToDerList } from './util/pem.js';

export type { DigestName } from './util/digest.js';

/** One-shot: node's crypto.hash skips the Hash object; the result is a view, not a copy. */
export function digest(alg: DigestName, data: Uint8Array): Uint8Array {
  const d = hash(alg, data, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export function sha256(data: Uint8Array): Uint8Array {
  return digest('sha256', data);
}

/** SHA-256 of the concatenation of `chunks`, without joining them. */
export function sha256OfChunks(chunks: Iterable<Uint8Array>): Uint8Array {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return new Uint8Array(h.digest());
}

/**
 * Parse a DER SubjectPublicKeyInfo, or PEM text holding exactly one PUBLIC KEY block (read by
 * the one strict PEM decoder, not OpenSSL's, which would also take a private key or a
 * certificate and derive a public key from it).
 */
export function parsePublicKey(
  input: Uint8Array | string,
  what: string,
  code: ErrorCode = 'INPUT_INVALID',
  check: CheckName = 'input',
): KeyObject {
  let der: Uint8Array;
  if (typeof input === 'string') {
    const blocks = pemToDerList(input, 'PUBLIC KEY', { code, check, what });
    if (blocks.length !== 1)
      fail(code, check, `${what}: expected exactly one PUBLIC KEY block, found ${blocks.length}`);
    der = blocks[0]!;
  } else {
    der = input;
  }
  const ec = ecPublicPointOfSpki(der);
  let key: KeyObject;
  try {
    key =
      ec?.curve === 'prime256v1' && ec.point.length === 65 && ec.point[0] === 4
        ? createPublicKey({ key: p256Jwk(ec.point), format: 'jwk' })
        : createPublicKey({
            key: Buffer.from(der.buffer, der.byteOffset, der.byteLength),
            format: 'der',
            type: 'spki',
          });
  } catch (e) {
    return fail(code, check, `${what}: not a valid public key`, undefined, { cause: e });
  }
  if (ec !== undefined) {
    curveMemo.set(key, ec.curve);
    // A copy: the point is a view into whatever buffer held the SPKI (often a whole certificate).
    ecPointMemo.set(key, { curve: ec.curve, point: ec.point.slice() });
  }
  return key;
}

/**
 * An EC public key from its OpenSSL curve name and SEC 1 point, by the route parsePublicKey
 * takes for a certificate's key (a P-256 point as a JWK, other curves as a named-curve SPKI);
 * OpenSSL checks the point is on the curve. Throws (INPUT_INVALID) when it is not.
 */
export function ecPublicKeyFromPoint(curve: string, point: Uint8Array): KeyObject {
  const algorithm = EC_ALGORITHM_IDS.find(([name]) => name === curve)?.[1];
  if (algorithm === undefined) return fail('INPUT_INVALID', 'input', `unsupported curve ${curve}`);
  const bits = concatBytes(derHeader(0x03, point.length + 1), Uint8Array.of(0), point);
  const spki = concatBytes(derHeader(0x30, algorithm.length + bits.length), algorithm, bits);
  return parsePublicKey(spki, `${curve} point`);
}

/** A DER tag and length (short or one-octet long form: these SPKIs stay under 256 octets). */
function derHeader(tag: number, length: number): Uint8Array {
  return length < 0x80 ? Uint8Array.of(tag, length) : Uint8Array.of(tag, 0x81, length);
}

/**
 * An uncompressed P-256 point as a JWK. OpenSSL 3.0 builds a key from its coordinates
 * (checking the point is on the curve) in about two thirds of the time its SPKI decoder
 * takes (measured: ~80 vs ~125 us of CPU, first verification included), and a Fulcio leaf's
 * key is built for every bundle. Other curves are faster through DER.
 */
function p256Jwk(point: Uint8Array): JsonWebKey {
  return {
    kty: 'EC',
    crv: 'P-256',
    x: toBase64Url(point.subarray(1, 33)),
    y: toBase64Url(point.subarray(33, 65)),
  };
}

/**
 * The AlgorithmIdentifier of an EC SubjectPublicKeyInfo (RFC 5480: id-ecPublicKey and a
 * named-curve OID), as DER bytes, by OpenSSL's curve name.
 */
const EC_ALGORITHM_IDS: readonly (readonly [string, Uint8Array])[] = [
  ['prime256v1', '301306072a8648ce3d020106082a8648ce3d030107'],
  ['secp384r1', '301006072a8648ce3d020106052b81040022'],
  ['secp521r1', '301006072a8648ce3d020106052b81040023'],
].map(([curve, hex]) => [curve!, fromHex(hex!)] as const);

/** A DER length at `at` (short or one-octet long form, minimal): [length, header octets]. */
function derLength(der: Uint8Array, at: number): [number, number] | undefined {
  const first = der[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return [first, 1];
  const second = der[at + 1];
  return first === 0x81 && second !== undefined && second >= 0x80 ? [second, 2] : undefined;
}

/**
 * The named curve and the point of an EC SPKI in its one DER form (SEQUENCE { named-curve
 * AlgorithmIdentifier, BIT STRING with no unused bits }, nothing after), read without building
 * a key (the point is a view into `der`, not yet checked to be on the curve); undefined for
 * anything else, which goes to OpenSSL as it is. parsePublicKey remembers the curve for the
 * key because OpenSSL 3 answers asymmetricKeyDetails by converting the key to a legacy EC_KEY,
 * which costs about as much as building it again: for a certificate's key, built once per
 * bundle, that is measurable. A digest-only ECDSA check (crypto-prehash.ts) needs only the
 * point, so a certificate's own key is not built for it.
 */
export function ecPublicPointOfSpki(der: Uint8Array): EcPublicPoint | undefined {
  const outer = der[0] === 0x30 ? derLength(der, 1) : undefined;
  if (!outer || 1 + outer[1] + outer[0] !== der.length) return undefined;
  const at = 1 + outer[1];
  for (const [curve, alg] of EC_ALGORITHM_IDS) {
    if (!bytesEqual(der.subarray(at, at + alg.length), alg)) continue;
    const bitsAt = at + alg.length;
    const bits = der[bitsAt] === 0x03 ? derLength(der, bitsAt + 1) : undefined;
    const contentAt = bitsAt + 1 + (bits?.[1] ?? 0);
    if (!bits || contentAt + bits[0] !== der.length || bits[0] < 2 || der[contentAt] !== 0)
      return undefined;
    return { curve, point: der.subarray(contentAt + 1) };
  }
  return undefined;
}

const curveMemo = new WeakMap<KeyObject, string | undefined>();

/** An EC key's OpenSSL curve name (prime256v1, secp384r1, ...); undefined for other keys. */
export function namedCurveOf(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType !== 'ec') return undefined;
  if (!curveMemo.has(key)) curveMemo.set(key, key.asymmetricKeyDetails?.namedCurve);
  return curveMemo.get(key);
}

/** An EC public key's OpenSSL curve name and SEC1 point (as encoded: compressed or not). */
export interface EcPublicPoint {
  curve: string;
  point: Uint8Array;
}

/**
 * An EC public key: a KeyObject, or a curve and SEC 1 point not yet built into one (a
 * certificate's, read from its SPKI, for a digest-only check: crypto-prehash.ts).
 */
export type EcPublicKey = KeyObject | EcPublicPoint;

const ecPointMemo = new WeakMap<KeyObject, EcPublicPoint | null>();

/**
 * Why Stella reads a KeyObject it did not build from bytes through its DER export, never its
 * JWK export. On Node 20, exporting a JWK holds the key's lock while it allocates JavaScript
 * strings. An allocation can start a garbage collection, and the collection can free the job
 * that generated the key (generateKeyPairSync), whose destructor takes the same lock. The
 * thread then waits on itself for ever. A key derived from it (createPublicKey(privateKey))
 * shares the lock. Measured here: of seven runs that generated up to 200,000 P-256 keys and
 * exported each as a JWK, five hung, the earliest after ~60,000 keys; Ed25519 keys and
 * private JWKs too. DER and PEM exports, signing and asymmetricKeyDetails ran 200,000 without
 * a hang. A key imported from bytes has a lock of its own, which no generation job holds, so a
 * JWK export of it is safe: Stella still uses one where the DER form is not the one it needs
 * (a compressed point, which only an imported key has).
 */
function publicSpkiDer(key: KeyObject): Uint8Array {
  const k = key.type === 'private' ? createPublicKey(key) : key;
  return new Uint8Array(k.export({ format: 'der', type: 'spki' }));
}

/**
 * An EC key's curve and point: as parsePublicKey read them from the SPKI (compressed or not),
 * else from the key's DER export, uncompressed (see publicSpkiDer for why not its JWK).
 * Undefined for other keys and for curves Stella does not name.
 */
export function ecPublicPoint(key: KeyObject): EcPublicPoint | undefined {
  let memo = ecPointMemo.get(key);
  if (memo === undefined) ecPointMemo.set(key, (memo = ecPublicPointOfKey(key)));
  return memo ?? undefined;
}

function ecPublicPointOfKey(key: KeyObject): EcPublicPoint | null {
  if (key.asymmetricKeyType !== 'ec') return null;
  const ec = ecPublicPointOfSpki(publicSpkiDer(key));
  if (ec === undefined) return null;
  if (ec.point[0] === 4) return ec;
  const point = uncompressedPointOfImportedKey(key);
  return point && { curve: ec.curve, point };
}

/**
 * The uncompressed point of an EC key that holds a compressed one, from its JWK (which OpenSSL
 * always gives with both coordinates). Only a key imported from bytes holds a compressed point,
 * so this JWK export is a safe one (see publicSpkiDer).
 */
function uncompressedPointOfImportedKey(key: KeyObject): Uint8Array | null {
  // The public half only: a private key's JWK would carry its scalar into a string.
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.x === undefined || jwk.y === undefined) return null;
  return concatBytes(
    Uint8Array.of(4),
    decodeBase64Url(jwk.x, 'JWK x'),
    decodeBase64Url(jwk.y, 'JWK y'),
  );
}

/** The DER prefix of every Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32-byte key. */
const ED25519_SPKI_PREFIX = fromHex('302a300506032b6570032100');

/** An Ed25519 key's 32 public-key bytes, from its DER export (see publicSpkiDer). */
export function ed25519PublicKeyBytes(key: KeyObject): Uint8Array | undefined {
  if (key.asymmetricKeyType !== 'ed25519') return undefined;
  const der = publicSpkiDer(key);
  if (der.length !== ED25519_SPKI_PREFIX.length + 32) return undefined;
  if (!bytesEqual(der.subarray(0, ED25519_SPKI_PREFIX.length), ED25519_SPKI_PREFIX))
    return undefined;
  return der.subarray(ED25519_SPKI_PREFIX.length);
}

/**
 * DER SPKI as node re-encodes it. Two encodings of one key (a compressed and an uncompressed
 * EC point, PEM vs DER) become the same bytes, so a key is never counted twice (checklist G44)
 * and a CA's re-encoding of our key is still our key.
 */
export function spkiOf(key: KeyObject): Uint8Array {
  const der = publicSpkiDer(key);
  if (key.asymmetricKeyType !== 'ec') return der;
  // OpenSSL re-exports an EC key in the point form it was given (compressed stays
  // compressed): a compressed point is rebuilt uncompressed, as its JWK (x, y).
  const ec = ecPublicPointOfSpki(der);
  if (ec === undefined || ec.point[0] === 4) return der;
  const point = uncompressedPointOfImportedKey(key);
  if (point === null) return der;
  const uncompressed = ecPublicKeyFromPoint(ec.curve, point);
  return new Uint8Array(uncompressed.export({ format: 'der', type: 'spki' }));
}

/**
 * How Stella names a key it holds (rotation keys, exporter keys): the hex SHA-256 of its
 * normalised DER SPKI (spkiOf), so a key given in two encodings has one id. The same value
 * is what Sigstore calls a log's key id, in hex.
 */
export function spkiKeyId(spki: Uint8Array): string {
  return toHex(sha256(spki));
}

/** spkiKeyId of a key object (a private key is named by its public half). */
export function keyIdOf(key: KeyObject): string {
  return spkiKeyId(spkiOf(key));
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
    const c = namedCurveOf(key);
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
export function verifySignature(
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
  hash?: DigestName | null,
): boolean {
  try {
    const alg = hash === undefined ? defaultDigestForKey(key) : hash;
    return nodeVerify(alg, data, key, signature);
  } catch {
    return false;
  }
}
