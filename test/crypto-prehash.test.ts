/**
 * ECDSA over a bare digest: the OpenSSL path (the fixed message under a shifted key) held to
 * @noble/curves over the digest and to OpenSSL's own verification over the message, on every
 * curve and digest, with keys and signatures derived from fixed seeds.
 */
import test from 'ava';
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hash,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import {
  modInverse,
  PRIME_CURVES,
  verifyPrehashed,
  verifyPrehashedWithNoble,
  verifyPrehashedWithOpenssl,
  type PrimeCurve,
} from '../src/crypto-prehash.js';
import { ecPublicPoint, parsePublicKey } from '../src/crypto.js';
import { invert } from '@noble/curves/abstract/modular.js';
import { bitString, int, oid, seq, tlv } from '../src/der/writer.js';
import { concatBytes, fromHex, toBase64Url, toHex, utf8 } from '../src/util/encoding.js';

type DigestName = 'sha256' | 'sha384' | 'sha512';
const DIGESTS: readonly DigestName[] = ['sha256', 'sha384', 'sha512'];
const CURVE_OIDS: Record<string, string> = {
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
};
const JWK_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

function bytesOf(value: bigint, size: number): Uint8Array {
  return fromHex(value.toString(16).padStart(size * 2, '0'));
}

function sha(name: DigestName, data: Uint8Array): Uint8Array {
  return new Uint8Array(hash(name, data, 'buffer'));
}

interface SeededKey {
  secret: Uint8Array;
  privateKey: KeyObject;
  /** Built by parsePublicKey from an SPKI (the path a certificate's key takes). */
  parsed: KeyObject;
  /** Built by node from a JWK (the path a generated or imported key takes). */
  jwk: KeyObject;
  uncompressed: Uint8Array;
  compressed: Uint8Array;
}

/** A key pair whose secret scalar is derived from `seed`. */
function seededKey(curve: PrimeCurve, seed: string): SeededKey {
  const wide = BigInt(`0x${Buffer.from(sha('sha512', utf8.encode(seed))).toString('hex')}`);
  return keyOfSecret(curve, (wide % (curve.n - 1n)) + 1n);
}

/** The key pair of a secret scalar in [1, n − 1]. */
function keyOfSecret(curve: PrimeCurve, scalar: bigint): SeededKey {
  const secret = bytesOf(scalar, curve.size);
  const ecdh = createECDH(curve.opensslName);
  ecdh.setPrivateKey(secret);
  const uncompressed = new Uint8Array(ecdh.getPublicKey());
  const compressed = new Uint8Array(ecdh.getPublicKey(null, 'compressed'));
  const coordinate = (i: number): string =>
    toBase64Url(uncompressed.subarray(1 + i * curve.size, 1 + (i + 1) * curve.size));
  const jwk = {
    kty: 'EC',
    crv: JWK_NAMES[curve.opensslName]!,
    x: coordinate(0),
    y: coordinate(1),
  };
  return {
    secret,
    privateKey: createPrivateKey({ key: { ...jwk, d: toBase64Url(secret) }, format: 'jwk' }),
    parsed: parsePublicKey(namedCurveSpki(curve, uncompressed), 'test key'),
    jwk: createPublicKey({ key: jwk, format: 'jwk' }),
    uncompressed,
    compressed,
  };
}

function namedCurveSpki(curve: PrimeCurve, point: Uint8Array): Uint8Array {
  return seq(seq(oid('1.2.840.10045.2.1'), oid(CURVE_OIDS[curve.opensslName]!)), bitString(point));
}

/** RFC 6979 signature by @noble/curves over the digest itself. */
function nobleSign(curve: PrimeCurve, key: SeededKey, digest: Uint8Array): Uint8Array {
  return curve.noble.sign(digest, key.secret, { prehash: false, format: 'der', lowS: false });
}

function rs(curve: PrimeCurve, signature: Uint8Array): { r: bigint; s: bigint } {
  const { r, s } = curve.noble.Signature.fromBytes(signature, 'der');
  return { r, s };
}

function derSignature(r: bigint, s: bigint): Uint8Array {
  return seq(int(r), int(s));
}

/** The same SEQUENCE with its length in one octet more than DER allows. */
function withNonMinimalLength(der: Uint8Array): Uint8Array {
  const short = der[1]! < 0x80;
  const lengthOctets = short ? 0 : der[1]! & 0x7f;
  const length = der.subarray(short ? 1 : 2, 2 + lengthOctets);
  return concatBytes(
    Uint8Array.of(0x30, 0x80 | (length.length + 1), 0),
    length,
    der.subarray(2 + lengthOctets),
  );
}

/**
 * Both implementations give `expected` for the digest, never through a throw, and the OpenSSL
 * path answers itself (or, for `fallback`, declines so that noble answers).
 */
function agree(
  t: { is: (a: unknown, b: unknown, m?: string) => void },
  key: KeyObject,
  digest: Uint8Array,
  signature: Uint8Array,
  expected: boolean,
  what: string,
  path: 'openssl' | 'fallback' = 'openssl',
): void {
  t.is(verifyPrehashedWithNoble(key, digest, signature), expected, `noble: ${what}`);
  const openssl = verifyPrehashedWithOpenssl(key, digest, signature);
  t.is(openssl, path === 'openssl' ? expected : undefined, `openssl: ${what}`);
  t.is(verifyPrehashed(key, digest, signature), expected, `verifyPrehashed: ${what}`);
  // The same key by its curve and point, not built (a certificate's, on the digest-only path).
  const byPoint = ecPublicPoint(key);
  if (byPoint) {
    const point = { curve: byPoint.curve, point: byPoint.point };
    const viaPoint = verifyPrehashedWithOpenssl(point, digest, signature);
    t.is(viaPoint, path === 'openssl' ? expected : undefined, `openssl, by point: ${what}`);
    t.is(verifyPrehashed(point, digest, signature), expected, `by point: ${what}`);
  }
}

test('the curve table holds the constants @noble/curves and OpenSSL use', (t) => {
  for (const curve of PRIME_CURVES) {
    const c = curve.noble.Point.CURVE();
    t.deepEqual([curve.p, curve.a, curve.b, curve.n], [c.p, c.a, c.b, c.n], curve.opensslName);
    t.is(curve.orderBits, curve.noble.Point.Fn.BITS);
    t.is(curve.size, curve.noble.Point.Fp.BYTES);
    t.is(createECDH(curve.opensslName).generateKeys().length, 1 + 2 * curve.size);
  }
});

for (const curve of PRIME_CURVES) {
  for (const digestName of DIGESTS) {
    test(`${curve.opensslName} with ${digestName}: a signature over the message verifies over its digest, and only there`, (t) => {
      for (let i = 0; i < 3; i++) {
        const key = seededKey(curve, `${curve.opensslName}/${digestName}/${i}`);
        const other = seededKey(curve, `${curve.opensslName}/${digestName}/${i}/other`);
        const message = utf8.encode(`message ${i} for ${curve.opensslName} ${digestName}`);
        const digest = sha(digestName, message);
        // OpenSSL signs the message (random k); noble signs the digest (RFC 6979).
        const signatures = [
          nodeSign(digestName, message, key.privateKey),
          nobleSign(curve, key, digest),
        ];
        for (const [j, signature] of signatures.entries()) {
          t.true(nodeVerify(digestName, message, key.jwk, signature), 'OpenSSL over the message');
          for (const k of [key.parsed, key.jwk]) agree(t, k, digest, signature, true, `sig ${j}`);
          const flipped = new Uint8Array(digest);
          flipped[i * 7]! ^= 1 << i;
          agree(t, key.parsed, flipped, signature, false, `one bit of the digest, sig ${j}`);
          agree(t, other.parsed, digest, signature, false, `another key, sig ${j}`);
        }
      }
    });
  }

  test(`${curve.opensslName}: a key given with a compressed point verifies the same`, (t) => {
    const key = seededKey(curve, `${curve.opensslName}/compressed`);
    const compressed = parsePublicKey(namedCurveSpki(curve, key.compressed), 'compressed key');
    const digest = sha('sha256', utf8.encode('compressed'));
    const signature = nobleSign(curve, key, digest);
    agree(t, compressed, digest, signature, true, 'compressed');
    agree(t, compressed, sha('sha256', utf8.encode('other')), signature, false, 'other digest');
  });

  test(`${curve.opensslName}: random keys and messages agree with OpenSSL over the message`, (t) => {
    for (let i = 0; i < 4; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ec', {
        namedCurve: curve.opensslName,
      });
      const message = new Uint8Array(hash('sha256', String(Math.random()), 'buffer'));
      const digestName = DIGESTS[i % DIGESTS.length]!;
      const signature = nodeSign(digestName, message, privateKey);
      agree(t, publicKey, sha(digestName, message), signature, true, `random ${i}`);
    }
  });

  test(`${curve.opensslName}: out-of-range, malleated and non-canonical signatures are judged alike`, (t) => {
    const key = seededKey(curve, `${curve.opensslName}/malformed`);
    const message = utf8.encode('malformed signatures');
    const digest = sha('sha256', message);
    const good = nobleSign(curve, key, digest);
    const { r, s } = rs(curve, good);
    const { n } = curve;
    const refused: [string, Uint8Array][] = [
      ['r = 0', derSignature(0n, s)],
      ['s = 0', derSignature(r, 0n)],
      ['r = n', derSignature(n, s)],
      ['s = n', derSignature(r, n)],
      ['r + n', derSignature(r + n, s)],
      ['s + n', derSignature(r, s + n)],
      ['r negative', derSignature(r - n, s)],
      ['r and s swapped', derSignature(s, r)],
      ['trailing byte', concatBytes(good, Uint8Array.of(0))],
      [
        'extra leading zero in r',
        seq(tlv(0x02, concatBytes(Uint8Array.of(0), int(r).subarray(2))), int(s)),
      ],
      ['length in more octets than needed', withNonMinimalLength(good)],
      ['raw r || s', concatBytes(bytesOf(r, curve.size), bytesOf(s, curve.size))],
      ['empty', new Uint8Array(0)],
      ['truncated', good.subarray(0, good.length - 1)],
    ];
    for (const [what, signature] of refused) agree(t, key.parsed, digest, signature, false, what);

    // ECDSA (and OpenSSL) accept the malleated form n − s; noble with lowS off says the same.
    const highS = derSignature(r, n - s);
    const expected = curve.noble.verify(highS, digest, key.uncompressed, {
      prehash: false,
      format: 'der',
      lowS: false,
    });
    t.true(expected);
    t.is(nodeVerify('sha256', message, key.jwk, highS), expected, 'OpenSSL over the message');
    agree(t, key.parsed, digest, highS, expected, 'n − s');
  });

  test(`${curve.opensslName}: a digest ≡ 0 (mod n) and one equal to the fixed message's are verified by OpenSSL`, (t) => {
    const key = seededKey(curve, `${curve.opensslName}/zero`);
    const edgeDigests: [string, Uint8Array][] = [
      ['all zero', new Uint8Array(curve.size)],
      ['SHA-512-sized zero', new Uint8Array(64)],
      // e = h′: the shift k is 0 and the key itself is used.
      ["the fixed message's digest", sha('sha256', new Uint8Array(0))],
    ];
    if (curve.orderBits % 8 === 0) {
      edgeDigests.push(['e = n', bytesOf(curve.n, curve.size)]);
      // Longer than the order: bits2int keeps the leftmost bits, which are n.
      edgeDigests.push([
        'n, then more',
        concatBytes(bytesOf(curve.n, curve.size), Uint8Array.of(0xff)),
      ]);
    }
    for (const [what, digest] of edgeDigests) {
      const signature = nobleSign(curve, key, digest);
      agree(t, key.parsed, digest, signature, true, what);
      const { r, s } = rs(curve, signature);
      const otherS = derSignature(r, (s % (curve.n - 1n)) + 1n);
      agree(t, key.parsed, digest, otherS, false, `${what}, other s`);
    }
  });

  test(`${curve.opensslName}: where the shift k·G is ±Q (a doubling, or Q′ at infinity), the fallback verifies`, (t) => {
    // A signer who knows d can aim at these: pick the nonce (so r) first, then d = ±k with
    // k = (e − h′)·r⁻¹, and sign. The OpenSSL path declines; noble answers, and rightly.
    const { n } = curve;
    const Fn = curve.noble.Point.Fn;
    const digest = sha('sha256', utf8.encode(`aimed at ${curve.opensslName}`));
    const e = Fn.create(bitsToInt(curve, digest));
    const fixed = Fn.create(bitsToInt(curve, sha('sha256', new Uint8Array(0))));
    for (const [what, sign] of [
      ['k·G = Q', 1n],
      ['k·G = −Q', -1n],
    ] as const) {
      const nonce = Fn.create(bitsToInt(curve, sha('sha512', utf8.encode(what))));
      const r = Fn.create(curve.noble.Point.BASE.multiply(nonce).toAffine().x);
      const k = Fn.mul(Fn.sub(e, fixed), Fn.inv(r));
      const secret = Fn.create(sign * k);
      const s = Fn.mul(Fn.inv(nonce), Fn.add(e, Fn.mul(r, secret)));
      const key = keyOfSecret(curve, secret);
      const signature = derSignature(r, s);
      t.true(
        curve.noble.verify(signature, digest, key.uncompressed, {
          prehash: false,
          format: 'der',
          lowS: false,
        }),
        `noble over the digest: ${what}`,
      );
      agree(t, key.parsed, digest, signature, true, what, 'fallback');
      agree(
        t,
        key.parsed,
        digest,
        derSignature(r, (s % (n - 1n)) + 1n),
        false,
        `${what}, other s`,
        'fallback',
      );
    }
  });
}

/** bits2int (SEC 1 4.1.4): the leftmost orderBits of a longer digest, a shorter one whole. */
function bitsToInt(curve: PrimeCurve, digest: Uint8Array): bigint {
  const value = BigInt(`0x${Buffer.from(digest).toString('hex')}`);
  const excess = digest.length * 8 - curve.orderBits;
  return excess > 0 ? value >> BigInt(excess) : value;
}

test('a point not on its curve is refused on both paths, never thrown on', (t) => {
  for (const curve of PRIME_CURVES) {
    const key = seededKey(curve, `${curve.opensslName}/off-curve`);
    const digest = sha('sha256', utf8.encode('off the curve'));
    const signature = nobleSign(curve, key, digest);
    const good = { curve: curve.opensslName, point: key.uncompressed };
    t.true(verifyPrehashed(good, digest, signature), `${curve.opensslName}: the point itself`);
    const yPlusOne = new Uint8Array(key.uncompressed);
    yPlusOne[yPlusOne.length - 1]! ^= 1;
    // x + p, where it still fits the field's octets (P-521: p = 2^521 − 1 in 66 octets): the
    // same x modulo p, so only the range check refuses it.
    const x = BigInt(`0x${toHex(key.uncompressed.subarray(1, 1 + curve.size))}`);
    const fits = x + curve.p < 1n << BigInt(8 * curve.size);
    const xPlusP = (): Uint8Array =>
      concatBytes(
        Uint8Array.of(4),
        bytesOf(x + curve.p, curve.size),
        key.uncompressed.subarray(1 + curve.size),
      );
    const bad: [string, Uint8Array][] = [
      ['y changed', yPlusOne],
      ['cut short', key.uncompressed.subarray(0, key.uncompressed.length - 1)],
      [
        'compressed, x not on the curve',
        concatBytes(Uint8Array.of(2), new Uint8Array(curve.size).fill(0xff)),
      ],
      ['the point at infinity', Uint8Array.of(0)],
    ];
    if (fits) bad.push(['x + p', xPlusP()]);
    t.is(fits, curve.opensslName === 'secp521r1');
    for (const [what, point] of bad) {
      const signer = { curve: curve.opensslName, point };
      t.is(
        verifyPrehashedWithOpenssl(signer, digest, signature),
        false,
        `${curve.opensslName}: ${what}`,
      );
      t.is(
        verifyPrehashedWithNoble(signer, digest, signature),
        false,
        `${curve.opensslName}: ${what}`,
      );
    }
  }
});

test('truncation: a long digest is cut to the order length, a short one taken whole', (t) => {
  const p256 = PRIME_CURVES[0]!;
  const key = seededKey(p256, 'truncation');
  const long = sha('sha512', utf8.encode('truncation'));
  const signature = nobleSign(p256, key, long);
  // Same leftmost 256 bits, different tail: the same e, so the same verdict.
  const sameHead = concatBytes(long.subarray(0, 32), new Uint8Array(32));
  agree(t, key.parsed, sameHead, signature, true, 'same leftmost bits');
  agree(t, key.parsed, long.subarray(0, 32), signature, true, 'the leftmost bits alone');
  const p384 = PRIME_CURVES[1]!;
  const key384 = seededKey(p384, 'short digest');
  const short = sha('sha256', utf8.encode('short digest'));
  const signature384 = nobleSign(p384, key384, short);
  agree(t, key384.parsed, short, signature384, true, 'SHA-256 on P-384');
  // Taken whole, not left-aligned: zero-padding on the right changes e.
  agree(t, key384.parsed, concatBytes(short, new Uint8Array(16)), signature384, false, 'padded');
});

test('keys other than P-256/384/521 ECDSA are refused, never thrown on', (t) => {
  const digest = sha('sha256', utf8.encode('not ECDSA'));
  const signature = nobleSign(PRIME_CURVES[0]!, seededKey(PRIME_CURVES[0]!, 'x'), digest);
  const others = [
    generateKeyPairSync('ed25519').publicKey,
    generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
    generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
  ];
  for (const key of others) agree(t, key, digest, signature, false, String(key.asymmetricKeyType));
});

test("modInverse (Lehmer) agrees with @noble/curves on every curve's p and n: edges, random, short and near-m values; refuses 0 and m", (t) => {
  // A fixed-seed generator: the same values every run, from every size of number.
  let seed = 0x2545f4914f6cdd1dn;
  const next = (): bigint => {
    seed ^= seed << 13n;
    seed ^= seed >> 7n;
    seed ^= seed << 17n;
    seed &= (1n << 64n) - 1n;
    return seed;
  };
  const randomBelow = (m: bigint): bigint => {
    let v = 0n;
    for (let bits = 0n; bits < 600n; bits += 64n) v = (v << 64n) | next();
    return v % m;
  };
  let checked = 0;
  for (const curve of PRIME_CURVES)
    for (const m of [curve.p, curve.n]) {
      const values = [1n, 2n, 3n, m - 1n, m - 2n, (m - 1n) / 2n, (m + 1n) / 2n];
      // Around the 48-bit boundary where the last steps switch to doubles, and around 2^53.
      for (const e of [47n, 48n, 49n, 52n, 53n, 54n, 100n, 200n])
        values.push((1n << e) - 1n, 1n << e, (1n << e) + 1n);
      for (let i = 0; i < 1500; i++) {
        const r = randomBelow(m);
        const short = r >> (next() % BigInt(curve.orderBits));
        values.push(r, short, m - 1n - short);
      }
      for (const a of values) {
        if (a <= 0n || a >= m) continue;
        const inverse = modInverse(a, m);
        if (inverse !== invert(a, m) || (inverse * a) % m !== 1n) {
          t.fail(`modInverse(${a}, ${m}) = ${inverse}`);
          return;
        }
        checked++;
      }
      // 0 by the range check's own message (without it, Euclid ends on a gcd of m: refused too,
      // but as "not invertible", which hides the caller's bug).
      t.throws(() => modInverse(0n, m), {
        instanceOf: RangeError,
        message: /must be in \[1, m - 1\]/,
      });
      t.throws(() => modInverse(m, m), { instanceOf: RangeError });
      t.throws(() => modInverse(-1n, m), { instanceOf: RangeError });
    }
  // A composite m and an a sharing a factor with it: no inverse, said, never a wrong number.
  for (const [a, m] of [
    [6n, 9n],
    [2n, 10n],
    [(1n << 100n) * 3n, (1n << 101n) * 3n + 0n],
  ])
    t.throws(() => modInverse(a!, m!), {
      instanceOf: RangeError,
      message: 'modInverse: a is not invertible modulo m',
    });
  t.true(checked > 6 * 4500, `${checked} inverses checked`);
});

test('a point whose x is written as p (the same x modulo p) is refused, though the point written canonically verifies', (t) => {
  for (const curve of PRIME_CURVES) {
    const { Point } = curve.noble;
    const [Fp, Fn] = [Point.Fp, Point.Fn];
    // (0, √b) is on each of these curves; its x can also be written as p, in the same octets.
    const y = Fp.sqrt(curve.b);
    const Q = Point.fromAffine({ x: 0n, y });
    // The forgery a free choice of digest allows (which is why digests come from artifacts):
    // any u, v give R = u·G + v·Q, r = x(R), s = r/v and e = u·s, and (r, s) verifies for e.
    const [u, v] = [0x1234567n, 0x7654321n];
    const r = Fn.create(Point.BASE.multiply(u).add(Q.multiply(v)).toAffine().x);
    const s = Fn.mul(r, Fn.inv(v));
    const e = Fn.mul(u, s);
    const digest = bytesOf(e << BigInt(8 * curve.size - curve.orderBits), curve.size);
    const signature = derSignature(r, s);
    const point = (x: bigint) =>
      concatBytes(Uint8Array.of(4), bytesOf(x, curve.size), bytesOf(y, curve.size));
    const canonical = { curve: curve.opensslName, point: point(0n) };
    const xAsP = { curve: curve.opensslName, point: point(curve.p) };
    t.true(verifyPrehashedWithOpenssl(canonical, digest, signature), curve.opensslName);
    t.true(verifyPrehashedWithNoble(canonical, digest, signature), curve.opensslName);
    t.false(verifyPrehashedWithOpenssl(xAsP, digest, signature), curve.opensslName);
    t.false(verifyPrehashedWithNoble(xAsP, digest, signature), curve.opensslName);
  }
});
