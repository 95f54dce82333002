import test from 'ava';
import { createHash, X509Certificate as NodeX509, webcrypto } from 'node:crypto';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import * as px509 from '@peculiar/x509';
import { sha256, verifySignature } from '../../src/crypto.js';
import { StellaError } from '../../src/errors.js';
import { sigstoreJsRewrites } from '../../src/der/octet-reparse.js';
import { parseDer, readBitString } from '../../src/der/reader.js';
import { bytesEqual, fromHex, toHex } from '../../src/util/encoding.js';
import {
  oidcIssuer,
  parseCertificate,
  verifyCertificateSignature,
} from '../../src/x509/certificate.js';
import {
  basicConstraintsExtension,
  deterministicEd25519Signer,
  deterministicP256Signer,
  extKeyUsageExtension,
  fulcioIssuerV1Extension,
  fulcioIssuerV2Extension,
  fulcioExtension,
  issueCertificate,
  keyIdentifierFromSpki,
  keyUsageExtension,
  subjectAltNameExtension,
  subjectKeyIdExtension,
  type KeyedSigner,
} from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';
import { buildPki, INTERMEDIATE_DN, MIN, ROOT_DN, seed, T0 } from './helpers.js';

px509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof px509.cryptoProvider.set>[0]);

test('deterministic P-256 signer: same seed, same key and signature; verifies with node:crypto', (t) => {
  const a = deterministicP256Signer(seed('det'));
  const b = deterministicP256Signer(seed('det'));
  const msg = new TextEncoder().encode('hello');
  t.deepEqual(a.spki, b.spki);
  t.deepEqual(a.sign(msg), b.sign(msg));
  t.true(verifySignature(a.publicKey, msg, a.sign(msg), 'sha256'));
  t.false(verifySignature(a.publicKey, new TextEncoder().encode('hellp'), a.sign(msg), 'sha256'));
  t.is(a.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.throws(() => deterministicP256Signer(new Uint8Array(31)), { message: /32 bytes/ });
  t.throws(() => deterministicP256Signer(new Uint8Array(32)), {
    message: /not a valid private scalar/,
  });
});

test('deterministic Ed25519 signer verifies with node:crypto', (t) => {
  const s = deterministicEd25519Signer(seed('ed'));
  const msg = new TextEncoder().encode('hello');
  t.true(verifySignature(s.publicKey, msg, s.sign(msg), null));
  t.is(s.publicKey.asymmetricKeyType, 'ed25519');
  t.deepEqual(deterministicEd25519Signer(seed('ed')).sign(msg), s.sign(msg));
  for (const size of [0, 31, 33, 64])
    t.throws(() => deterministicEd25519Signer(new Uint8Array(size)), {
      instanceOf: StellaError,
      code: 'INPUT_INVALID',
      message: 'Ed25519 seed must be 32 bytes',
    });
});

test('issued CA and leaf parse with this parser, node:crypto and @peculiar/x509; signatures verify', async (t) => {
  const pki = buildPki('issue');
  for (const der of [pki.root, pki.intermediate, pki.leaf]) {
    const mine = parseCertificate(der);
    const node = new NodeX509(Buffer.from(der));
    const peculiar = new px509.X509Certificate(der);
    t.is(mine.serialNumber, node.serialNumber.toLowerCase());
    t.is(mine.notBefore, Date.parse(node.validFrom));
    t.is(mine.notAfter, peculiar.notAfter.getTime());
    t.is(peculiar.issuer, node.issuer.split('\n').join(', '));
  }
  const root = parseCertificate(pki.root);
  const intermediate = parseCertificate(pki.intermediate);
  const leaf = parseCertificate(pki.leaf);
  t.true(verifyCertificateSignature(root, root.publicKey));
  t.true(verifyCertificateSignature(intermediate, root.publicKey));
  t.true(verifyCertificateSignature(leaf, intermediate.publicKey));
  t.false(verifyCertificateSignature(leaf, root.publicKey));

  // Independent verifiers agree.
  t.true(
    new NodeX509(Buffer.from(pki.leaf)).verify(
      new NodeX509(Buffer.from(pki.intermediate)).publicKey,
    ),
  );
  t.true(
    new NodeX509(Buffer.from(pki.intermediate)).verify(
      new NodeX509(Buffer.from(pki.root)).publicKey,
    ),
  );
  t.true(
    await new px509.X509Certificate(pki.leaf).verify({
      publicKey: new px509.X509Certificate(pki.intermediate),
      signatureOnly: true,
    }),
  );

  // Fields as issued.
  t.deepEqual(root.subject, ROOT_DN);
  t.deepEqual(intermediate.subject, INTERMEDIATE_DN);
  t.true(root.isSelfIssued);
  t.deepEqual(root.basicConstraints, { ca: true, pathLen: 1 });
  t.deepEqual([...(intermediate.keyUsage ?? [])].sort(), ['cRLSign', 'keyCertSign']);
  t.deepEqual(leaf.extKeyUsage, [OID.ekuCodeSigning]);
  t.is(leaf.subjectAltName?.uris.length, 1);
  t.is(oidcIssuer(leaf), 'https://token.actions.githubusercontent.com');
  t.true(bytesEqual(leaf.authorityKeyId!, intermediate.subjectKeyId!));
  const pecLeaf = new px509.X509Certificate(pki.leaf);
  t.is(
    pecLeaf.getExtension(px509.AuthorityKeyIdentifierExtension)?.keyId,
    toHex(leaf.authorityKeyId!),
  );
  const ku = pecLeaf.getExtension(px509.KeyUsagesExtension);
  t.is(ku?.usages, px509.KeyUsageFlags.digitalSignature);
});

test('issuing is deterministic', (t) => {
  t.deepEqual(buildPki('same').leaf, buildPki('same').leaf);
  t.notDeepEqual(buildPki('same').leaf, buildPki('other').leaf);
});

test('Fulcio extensions, otherName SAN and Ed25519 issuer round trip', (t) => {
  const ca = deterministicEd25519Signer(seed('ed-ca'));
  const key = deterministicP256Signer(seed('ed-leaf'));
  const der = issueCertificate({
    serial: Uint8Array.of(0x80, 1),
    issuerName: { commonName: 'ed-ca' },
    subjectName: {},
    notBefore: Date.UTC(2051, 0, 1),
    notAfter: Date.UTC(2051, 0, 2),
    subjectPublicKeySpki: key.spki,
    extensions: [
      keyUsageExtension(['digitalSignature']),
      extKeyUsageExtension([OID.ekuCodeSigning]),
      basicConstraintsExtension(false),
      subjectAltNameExtension({
        otherNames: [{ oid: OID.fulcioOtherNameSan, value: 'user!github.com' }],
        emails: ['dev@example.com'],
      }),
      fulcioIssuerV1Extension('https://issuer.example'),
      fulcioIssuerV2Extension('https://issuer.example'),
      fulcioExtension('1.3.6.1.4.1.57264.1.12', 'https://github.com/stella/test'),
    ],
    signer: ca,
  });
  const c = parseCertificate(der);
  t.is(c.serialNumber, '8001');
  t.is(c.notBefore, Date.UTC(2051, 0, 1), 'GeneralizedTime after 2049');
  t.deepEqual(
    c.subjectAltName?.otherNames.map((o) => [o.oid, o.value]),
    [[OID.fulcioOtherNameSan, 'user!github.com']],
  );
  t.deepEqual(c.subjectAltName?.emails, ['dev@example.com']);
  t.deepEqual(c.basicConstraints, { ca: false });
  t.is(c.fulcio.values.get('1.3.6.1.4.1.57264.1.12'), 'https://github.com/stella/test');
  t.is(c.fulcio.issuerV1, 'https://issuer.example');
  t.true(verifyCertificateSignature(c, ca.publicKey));
  t.true(new NodeX509(Buffer.from(der)).verify(ca.publicKey));
  t.is(
    new NodeX509(Buffer.from(der)).subjectAltName,
    'othername:<unsupported>, email:dev@example.com',
  );
});

test('fulcioExtension encodes by the extension table: raw bytes for the deprecated .1-.6, a DER UTF8String after; other OIDs refused', (t) => {
  const F = (n: number): string => `1.3.6.1.4.1.57264.1.${n}`;
  t.deepEqual(fulcioExtension(F(1), 'ab').value, Uint8Array.of(0x61, 0x62));
  t.deepEqual(fulcioExtension(F(6), 'ab').value, Uint8Array.of(0x61, 0x62));
  t.deepEqual(fulcioExtension(F(8), 'ab').value, Uint8Array.of(0x0c, 2, 0x61, 0x62));
  t.deepEqual(fulcioExtension(F(24), 'ab').value, Uint8Array.of(0x0c, 2, 0x61, 0x62));
  t.false(fulcioExtension(F(12), 'ab').critical);
  t.deepEqual(fulcioIssuerV1Extension('ab'), fulcioExtension(F(1), 'ab'));
  t.deepEqual(fulcioIssuerV2Extension('ab'), fulcioExtension(F(8), 'ab'));
  // .7 (OtherName SAN) is not a string extension; 2.5.29.17 is not Fulcio's.
  for (const oid of [F(7), '2.5.29.17'])
    t.throws(() => fulcioExtension(oid, 'ab'), {
      message: `not a Fulcio string extension: ${oid}`,
    });
});

test('issuing refuses duplicate extensions and non-ASCII SAN values', (t) => {
  const s = deterministicP256Signer(seed('dup'));
  const base = {
    serial: 1n,
    issuerName: {},
    subjectName: {},
    notBefore: T0,
    notAfter: T0 + MIN,
    subjectPublicKeySpki: s.spki,
    signer: s,
  };
  t.throws(
    () =>
      issueCertificate({
        ...base,
        extensions: [
          keyUsageExtension(['digitalSignature']),
          keyUsageExtension(['digitalSignature']),
        ],
      }),
    { message: /duplicate extension/ },
  );
  t.throws(() => subjectAltNameExtension({ emails: ['é@example.com'] }), { message: /not ASCII/ });
});

/** The 32-byte seed `n` (big-endian), as the search that found the key below counted. */
const counterSeed = (n: number): Uint8Array => {
  const b = new Uint8Array(32);
  new DataView(b.buffer).setUint32(28, n);
  return b;
};
/** A P-256 key whose SHA-1 key identifier sigstore-js misreads (found by counting seeds up from 1). */
const MISREAD_KEY = deterministicP256Signer(counterSeed(5145));
const MISREAD_SHA1 = '8881113659b03bcd6aa4ba44afd50eef17b800a1';

/** A self-signed CA of `signer` carrying `keyId` as its subject key identifier. */
function selfSignedWithKeyId(signer: KeyedSigner, keyId: Uint8Array): Uint8Array {
  return issueCertificate({
    serial: 7n,
    issuerName: ROOT_DN,
    subjectName: ROOT_DN,
    notBefore: T0,
    notAfter: T0 + 60 * MIN,
    subjectPublicKeySpki: signer.spki,
    extensions: [
      keyUsageExtension(['keyCertSign']),
      basicConstraintsExtension(true, 0),
      subjectKeyIdExtension(keyId),
    ],
    signer,
  });
}

/** The subjectPublicKey BIT STRING's contents: what key identifiers are hashes of. */
const subjectPublicKeyOf = (spki: Uint8Array): Uint8Array =>
  readBitString(
    parseDer(spki, { code: 'INPUT_INVALID', check: 'signing', what: 'spki' }).child(
      1,
      'subjectPublicKey',
    ),
  ).bytes;

test('key identifiers: SHA-1 of the key (RFC 5280), unless sigstore-js would misread it; then the leftmost 160 bits of SHA-256 (RFC 7093)', (t) => {
  const subjectPublicKey = subjectPublicKeyOf(MISREAD_KEY.spki);
  t.is(toHex(new Uint8Array(createHash('sha1').update(subjectPublicKey).digest())), MISREAD_SHA1);
  t.true(sigstoreJsRewrites(fromHex(MISREAD_SHA1)));
  t.is(
    toHex(keyIdentifierFromSpki(MISREAD_KEY.spki)),
    toHex(sha256(subjectPublicKey).slice(0, 20)),
  );
  // Any other key: SHA-1, as before.
  const ordinary = deterministicP256Signer(counterSeed(5146));
  const ordinaryKey = subjectPublicKeyOf(ordinary.spki);
  t.is(
    toHex(keyIdentifierFromSpki(ordinary.spki)),
    toHex(new Uint8Array(createHash('sha1').update(ordinaryKey).digest())),
  );
});

test('a certificate carrying the misread SHA-1 key identifier: @sigstore/core refuses its valid signature (Stella does not); with the identifier Stella issues, both accept it', (t) => {
  const misread = selfSignedWithKeyId(MISREAD_KEY, fromHex(MISREAD_SHA1));
  const issued = selfSignedWithKeyId(MISREAD_KEY, keyIdentifierFromSpki(MISREAD_KEY.spki));
  for (const [der, peerAccepts] of [
    [misread, false],
    [issued, true],
  ] as const) {
    t.true(verifyCertificateSignature(parseCertificate(der), MISREAD_KEY.publicKey));
    t.is(SigstoreX509.parse(Buffer.from(der)).verify(), peerAccepts);
  }
});
