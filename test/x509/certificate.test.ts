import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  bitString,
  bool,
  explicit,
  ia5String,
  int,
  nul,
  octetString,
  printableString,
  oid,
  seq,
  utf8String,
  x509Time,
} from '../../src/der/writer.js';
import { StellaError } from '../../src/errors.js';
import { constants as cryptoConstants, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { parseDer } from '../../src/der/reader.js';
import { concatBytes, toHex, utf8 } from '../../src/util/encoding.js';
import {
  MAX_CERTIFICATE_BYTES,
  oidcIssuer,
  parseCertificate,
  verifyCertificateSignature,
  verifyWithAlgorithm,
} from '../../src/x509/certificate.js';
import { conformanceCase, conformanceCaseNames, sharedTest } from '../helpers/shared.js';
import { MAX_DER_ELEMENTS } from '../../src/der/reader.js';
import { derBomb, derNulls, wrapDer } from '../helpers/der-bomb.js';
import { buildPki, fixturePem, T0, MIN, INTERMEDIATE_DN, seed } from './helpers.js';
import { OID } from '../../src/x509/oids.js';
import {
  deterministicP256Signer,
  encodeName,
  fulcioIssuerV1Extension,
  fulcioIssuerV2Extension,
  issueCertificate,
  signatureAlgorithmIdentifier,
  subjectAltNameExtension,
} from '../../src/x509/issue.js';
import { derToPem, pemToDerList } from '../../src/util/pem.js';

const [leafDer] = fixturePem('x509/fulcio-leaf-2024-03-19.pem') as [Uint8Array];
const [intermediateDer] = fixturePem('x509/fulcio-public-good-intermediate.pem') as [Uint8Array];
const [rootDer] = fixturePem('x509/fulcio-public-good-root.pem') as [Uint8Array];

test('parses a real Fulcio leaf certificate', (t) => {
  const intermediateDer = fixturePem('x509/fulcio-public-good-intermediate.pem')[0]!;
  const c = parseCertificate(leafDer);
  const node = new X509Certificate(Buffer.from(leafDer));
  t.is(c.serialNumber, node.serialNumber.toLowerCase());
  t.is(c.notBefore, Date.parse(node.validFrom));
  t.is(c.notAfter, Date.parse(node.validTo));
  t.is(c.version, 3);
  t.deepEqual(c.subject, {});
  t.deepEqual(c.issuer, { organization: 'sigstore.dev', commonName: 'sigstore-intermediate' });
  t.deepEqual(c.subjectAltName?.uris, [
    'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
  ]);
  t.is(c.fulcio.issuerV1, 'https://token.actions.githubusercontent.com');
  t.is(c.fulcio.issuerV2, 'https://token.actions.githubusercontent.com');
  t.is(oidcIssuer(c), 'https://token.actions.githubusercontent.com');
  t.is(
    c.fulcio.values.get('1.3.6.1.4.1.57264.1.9'),
    'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
  );
  t.deepEqual([...(c.keyUsage ?? [])], ['digitalSignature']);
  t.deepEqual(c.extKeyUsage, [OID.ekuCodeSigning]);
  t.is(c.basicConstraints, undefined);
  t.false(c.isSelfIssued);
  t.true((c.embeddedSctList?.length ?? 0) > 100);
  t.is(c.signatureAlgorithmOid, OID.ecdsaWithSha384);
  t.is(c.publicKey.asymmetricKeyType, 'ec');
  t.deepEqual(c.unhandledCriticalExtensions, []);
  t.is(c.der.buffer, leafDer.buffer, 'fields are views into the input');
  t.is(c.subjectKeyId?.length, 20);
  t.is(toHex(c.authorityKeyId!), toHex(parseCertificate(intermediateDer).subjectKeyId!));
});

test('real Fulcio chain: signatures verify, tampering does not', (t) => {
  const leaf = parseCertificate(leafDer);
  const intermediate = parseCertificate(intermediateDer);
  const root = parseCertificate(rootDer);
  t.true(verifyCertificateSignature(leaf, intermediate.publicKey));
  t.true(verifyCertificateSignature(intermediate, root.publicKey));
  t.true(verifyCertificateSignature(root, root.publicKey));
  t.false(verifyCertificateSignature(leaf, root.publicKey));
  t.true(root.isSelfIssued);
  t.deepEqual(root.basicConstraints, { ca: true });
  t.deepEqual(intermediate.basicConstraints, { ca: true, pathLen: 0 });
  t.true(root.keyUsage?.has('keyCertSign'));
  const tampered = leafDer.slice();
  tampered[tampered.length - 5]! ^= 1;
  t.false(verifyCertificateSignature(parseCertificate(tampered), intermediate.publicKey));
  // Results are memoized per (key, data, signature): asking again gives the same answers.
  t.true(verifyCertificateSignature(leaf, intermediate.publicKey));
  t.false(verifyCertificateSignature(leaf, root.publicKey));
  t.false(verifyCertificateSignature(parseCertificate(tampered), intermediate.publicKey));
});

function malformed(t: import('ava').ExecutionContext, der: Uint8Array, pattern: RegExp): void {
  const e = t.throws(() => parseCertificate(der), { instanceOf: StellaError });
  t.is(e?.code, 'CERTIFICATE_MALFORMED');
  t.regex(e?.message ?? '', pattern);
}

test('refuses trailing bytes, non-minimal lengths and truncation', (t) => {
  malformed(t, concatBytes(leafDer, Uint8Array.of(0)), /trailing byte/);
  // Re-encode the outer length in a needlessly long form.
  t.is(leafDer[1], 0x82);
  malformed(
    t,
    concatBytes(Uint8Array.of(0x30, 0x83, 0x00), leafDer.subarray(2)),
    /non-minimal length/,
  );
  malformed(t, leafDer.subarray(0, leafDer.length - 1), /past the end|truncated/);
  malformed(t, Uint8Array.of(0x30, 0x80, 0, 0), /indefinite length/);
});

/** A certificate with hand-written extensions, so the test can build what the issuer refuses. */
function certWithRawExtensions(extensions: Uint8Array[]): Uint8Array {
  const signer = deterministicP256Signer(seed('raw-ext'));
  const algo = signatureAlgorithmIdentifier(signer.algorithmOid);
  const name = encodeName(INTERMEDIATE_DN);
  const tbs = seq(
    explicit(0, int(2)),
    int(7n),
    algo,
    name,
    seq(x509Time(T0), x509Time(T0 + MIN)),
    name,
    signer.spki,
    explicit(3, seq(...extensions)),
  );
  return seq(tbs, algo, bitString(signer.sign(tbs)));
}

test('refuses duplicate extensions (checklist C25)', (t) => {
  const ext = seq(oid(OID.fulcioIssuerV2), octetString(utf8String('https://a')));
  malformed(
    t,
    certWithRawExtensions([ext, ext]),
    /duplicate extension 1\.3\.6\.1\.4\.1\.57264\.1\.8/,
  );
});

test('refuses an explicitly encoded critical FALSE', (t) => {
  malformed(
    t,
    certWithRawExtensions([
      seq(oid(OID.fulcioIssuerV2), bool(false), octetString(utf8String('https://a'))),
    ]),
    /critical FALSE must be omitted/,
  );
});

test('refuses a Fulcio .1.8 extension that is not a DER UTF8String', (t) => {
  malformed(
    t,
    certWithRawExtensions([
      seq(oid(OID.fulcioIssuerV2), octetString(new TextEncoder().encode('https://a'))),
    ]),
    /1\.3\.6\.1\.4\.1\.57264\.1\.8/,
  );
});

test("a Fulcio otherName SAN must be a UTF8String; another otherName's string type is left as it is", (t) => {
  // GeneralName otherName: [0] { type-id OID, [0] EXPLICIT value }.
  const san = (typeId: string, value: Uint8Array): Uint8Array =>
    seq(
      oid(OID.subjectAltName),
      octetString(seq(explicit(0, concatBytes(oid(typeId), explicit(0, value))))),
    );
  const fulcio = parseCertificate(
    certWithRawExtensions([san(OID.fulcioOtherNameSan, utf8String('octocat'))]),
  );
  t.deepEqual(
    fulcio.subjectAltName?.otherNames.map((o) => [o.oid, o.value]),
    [[OID.fulcioOtherNameSan, 'octocat']],
  );
  for (const value of [printableString('octocat'), ia5String('octocat')])
    malformed(
      t,
      certWithRawExtensions([san(OID.fulcioOtherNameSan, value)]),
      /Fulcio otherName must be a UTF8String/,
    );
  // Not Fulcio's: read as any of the three string types, never refused for it.
  const other = parseCertificate(
    certWithRawExtensions([san('1.3.6.1.5.5.7.8.9', printableString('octocat'))]),
  );
  t.deepEqual(
    other.subjectAltName?.otherNames.map((o) => [o.oid, o.value]),
    [['1.3.6.1.5.5.7.8.9', 'octocat']],
  );
});

test('verifyWithAlgorithm: parameters only where the algorithm has them; a malformed one is false, never a throw', (t) => {
  const signer = deterministicP256Signer(seed('with-algorithm'));
  const key = signer.publicKey;
  const data = utf8.encode('to be signed');
  const signature = signer.sign(data);
  const node = (der: Uint8Array) => parseDer(der, { code: 'CERTIFICATE_MALFORMED' });
  t.true(verifyWithAlgorithm(OID.ecdsaWithSha256, undefined, key, data, signature));
  // ECDSA identifiers carry no parameters (RFC 5758 3.2); NULL ones are refused, not ignored.
  t.false(verifyWithAlgorithm(OID.ecdsaWithSha256, node(nul()), key, data, signature));
  // RSA-PSS parameters whose hash is not an AlgorithmIdentifier (the reader throws on it),
  // under an RSA key: false, not an exception, and never true.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  t.false(verifyWithAlgorithm(OID.rsaPss, node(seq(explicit(0, int(5)))), rsa, data, signature));
});

test('verifyWithAlgorithm: RSA-PSS verifies only under parameters it can read whole (hash, MGF1 with the same hash, trailer 1)', (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = utf8.encode('to be signed');
  const signature = cryptoSign('sha256', data, {
    key: privateKey,
    padding: cryptoConstants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  });
  const node = (der: Uint8Array) => parseDer(der, { code: 'CERTIFICATE_MALFORMED' });
  const alg = (o: string) => seq(oid(o), nul());
  const hash = explicit(0, alg(OID.sha256));
  const mgf = (h: string) => explicit(1, seq(oid(OID.mgf1), alg(h)));
  const salt = explicit(2, int(32));
  const verifies = (params: Uint8Array | undefined) =>
    verifyWithAlgorithm(OID.rsaPss, params ? node(params) : undefined, publicKey, data, signature);
  t.true(verifies(seq(hash, mgf(OID.sha256), salt)));
  t.true(verifies(seq(hash, mgf(OID.sha256), salt, explicit(3, int(1)))));
  // A key whose SubjectPublicKeyInfo says id-RSASSA-PSS (Node's 'rsa-pss') verifies the same
  // way; a key that is not RSA never does.
  const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
  const pssSignature = cryptoSign('sha256', data, {
    key: pss.privateKey,
    padding: cryptoConstants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  });
  const params = node(seq(hash, mgf(OID.sha256), salt));
  t.is(pss.publicKey.asymmetricKeyType, 'rsa-pss');
  t.true(verifyWithAlgorithm(OID.rsaPss, params, pss.publicKey, data, pssSignature));
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecSignature = cryptoSign('sha256', data, ec.privateKey);
  t.false(verifyWithAlgorithm(OID.rsaPss, params, ec.publicKey, data, ecSignature));
  // Each of these leaves the parameters unread, with the same valid signature: never true.
  for (const [why, params] of [
    ['no parameters', undefined],
    ['NULL parameters', nul()],
    ['no hash (SHA-1 by default, which Stella does not take)', seq(mgf(OID.sha256), salt)],
    ['MGF1 over another hash', seq(hash, mgf(OID.sha384), salt)],
    ['a mask generation function other than MGF1', seq(hash, explicit(1, alg(OID.sha256)), salt)],
    ['trailer field 2', seq(hash, mgf(OID.sha256), salt, explicit(3, int(2)))],
    // A field that is not [n] EXPLICIT (here a bare OID) is not RSASSA-PSS-params.
    ['a universal field among the parameters', seq(hash, mgf(OID.sha256), salt, oid(OID.sha256))],
    // The salt length is part of what was signed: 20 declared, 32 used.
    ['another salt length', seq(hash, mgf(OID.sha256), explicit(2, int(20)))],
  ] as const)
    t.false(verifies(params), why);
  // Readable parameters and a signature that does not match the data: false.
  const good = node(seq(hash, mgf(OID.sha256), salt));
  t.false(verifyWithAlgorithm(OID.rsaPss, good, publicKey, utf8.encode('other data'), signature));
  const flipped = Uint8Array.from(signature);
  flipped[10]! ^= 1;
  t.false(verifyWithAlgorithm(OID.rsaPss, good, publicKey, data, flipped));
});

test('reports unknown critical extensions', (t) => {
  const c = parseCertificate(
    certWithRawExtensions([seq(oid('1.2.3.4.5'), bool(true), octetString(Uint8Array.of(5, 0)))]),
  );
  t.deepEqual(c.unhandledCriticalExtensions, ['1.2.3.4.5']);
  t.deepEqual(
    c.extensions.map((e) => [e.oid, e.critical]),
    [['1.2.3.4.5', true]],
  );
});

/** A leaf with an email SAN and `exts`, issued by a PKI of its own, parsed. */
function leafWithExtensions(
  label: string,
): (exts: ReturnType<typeof fulcioIssuerV1Extension>[]) => ReturnType<typeof parseCertificate> {
  const pki = buildPki(label);
  return (exts) =>
    parseCertificate(
      issueCertificate({
        serial: 9n,
        issuerName: INTERMEDIATE_DN,
        subjectName: {},
        notBefore: T0,
        notAfter: T0 + MIN,
        subjectPublicKeySpki: pki.leafSigner.spki,
        extensions: [subjectAltNameExtension({ emails: ['a@example.com'] }), ...exts],
        signer: pki.intermediateSigner,
      }),
    );
}

test('oidcIssuer: .1.8 preferred, .1.1 fallback, disagreement refused (checklist C24)', (t) => {
  const mk = leafWithExtensions('issuer');
  t.is(oidcIssuer(mk([fulcioIssuerV1Extension('https://v1')])), 'https://v1');
  t.is(oidcIssuer(mk([fulcioIssuerV2Extension('https://v2')])), 'https://v2');
  t.is(oidcIssuer(mk([])), undefined);
  t.is(
    oidcIssuer(
      mk([fulcioIssuerV1Extension('https://same'), fulcioIssuerV2Extension('https://same')]),
    ),
    'https://same',
  );
  const e = t.throws(
    () =>
      oidcIssuer(
        mk([
          fulcioIssuerV1Extension('https://accounts.google.com'),
          fulcioIssuerV2Extension('https://evil.example'),
        ]),
      ),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'ISSUER_MISMATCH');
  t.is(e?.check, 'policy');
  t.regex(e?.message ?? '', /issuer mismatch/);
});

test('oidcIssuer: an issuer extension with a byte order mark before the URL is not that URL (Go reads the BOM too)', (t) => {
  const mk = leafWithExtensions('issuer-bom');
  // Before: TextDecoder dropped the BOM, and both read as the pinned https://same.
  t.is(oidcIssuer(mk([fulcioIssuerV2Extension('\ufeffhttps://same')])), '\ufeffhttps://same');
  t.is(oidcIssuer(mk([fulcioIssuerV1Extension('\ufeffhttps://same')])), '\ufeffhttps://same');
  const e = t.throws(
    () =>
      oidcIssuer(
        mk([
          fulcioIssuerV1Extension('\ufeffhttps://same'),
          fulcioIssuerV2Extension('https://same'),
        ]),
      ),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'ISSUER_MISMATCH');
});

test('PEM: several blocks, round trip, strict base64 and labels', (t) => {
  const pem = derToPem(leafDer) + 'subject=ignored\n' + derToPem(rootDer);
  const ders = pemToDerList(pem);
  t.is(ders.length, 2);
  t.deepEqual(ders[0], leafDer);
  t.deepEqual(ders[1], rootDer);
  t.throws(() => pemToDerList('-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n'), {
    message: /invalid base64/,
  });
  t.throws(() => pemToDerList(derToPem(leafDer, 'PUBLIC KEY')), {
    message: /expected CERTIFICATE/,
  });
  t.throws(() => pemToDerList('nothing here'), { message: /no CERTIFICATE block/ });
});

sharedTest(
  'shared conformance: every bundle certificate parses and agrees with node:crypto',
  (t) => {
    let n = 0;
    for (const name of conformanceCaseNames()) {
      if (name === 'bundle-malformed-json_fail') continue; // not JSON: no certificate to read
      const file = path.join(conformanceCase(name), 'bundle.sigstore.json');
      const bundle = JSON.parse(readFileSync(file, 'utf8')) as {
        verificationMaterial?: {
          certificate?: { rawBytes: string };
          x509CertificateChain?: { certificates: { rawBytes: string }[] };
        };
      };
      const vm = bundle.verificationMaterial ?? {};
      const raws = vm.certificate
        ? [vm.certificate.rawBytes]
        : (vm.x509CertificateChain?.certificates ?? []).map((c) => c.rawBytes);
      for (const raw of raws) {
        const der = new Uint8Array(Buffer.from(raw, 'base64'));
        const c = parseCertificate(der);
        const node = new X509Certificate(Buffer.from(der));
        t.is(c.serialNumber, node.serialNumber.toLowerCase(), name);
        t.is(c.notAfter, Date.parse(node.validTo), name);
        t.true(
          node.subjectAltName?.includes(
            c.subjectAltName?.uris[0] ?? c.subjectAltName?.emails[0] ?? '\u0000',
          ) ?? false,
          name,
        );
        n++;
      }
    }
    t.true(n > 30);
  },
);

test('serial numbers: positive and at most 20 octets (RFC 5280 §4.1.2.2, checklist H58)', (t) => {
  const pki = buildPki('serials');
  const issue = (serial: bigint | Uint8Array): Uint8Array =>
    issueCertificate({
      serial,
      issuerName: INTERMEDIATE_DN,
      subjectName: {},
      notBefore: T0,
      notAfter: T0 + MIN,
      subjectPublicKeySpki: pki.leafSigner.spki,
      extensions: [subjectAltNameExtension({ uris: ['https://x.test'] })],
      signer: pki.intermediateSigner,
    });
  const parseOk = (serial: bigint, hex: string): void => {
    t.is(parseCertificate(issue(serial)).serialNumber, hex, `serial ${serial}`);
  };
  parseOk(1n, '01');
  parseOk(0x80n, '80');
  parseOk(2n ** 159n - 1n, `7f${'ff'.repeat(19)}`);
  const refused = (
    serial: bigint,
    re: RegExp,
    ctx?: Parameters<typeof parseCertificate>[1],
  ): void => {
    const e = t.throws(
      () => parseCertificate(issue(serial), ctx),
      { instanceOf: StellaError },
      `serial ${serial}`,
    );
    t.is(e?.code, ctx?.code ?? 'CERTIFICATE_MALFORMED');
    t.regex(e?.message ?? '', re);
  };
  refused(
    0n,
    /^certificate: serialNumber is zero \(RFC 5280 §4\.1\.2\.2 requires a positive integer\) \(at offset \d+\)$/,
  );
  refused(-1n, /serialNumber is negative/);
  refused(-(2n ** 64n), /serialNumber is negative/);
  refused(2n ** 159n, /serialNumber is 21 octets long \(RFC 5280 §4\.1\.2\.2 allows at most 20\)/);
  refused(2n ** 160n, /serialNumber is 21 octets long/);
  // The parse context decides the code: a trusted root's certificate, an RFC 3161 signer.
  refused(0n, /^trusted root certificate 0: serialNumber is zero/, {
    code: 'TRUSTED_ROOT_INVALID',
    check: 'trusted-root',
    what: 'trusted root certificate 0',
  });
  refused(-5n, /^RFC 3161 embedded certificate: serialNumber is negative/, {
    code: 'TIMESTAMP_INVALID',
    check: 'verified-times',
    what: 'RFC 3161 embedded certificate',
  });
});

test('H55 certificate input is bounded: size before parsing, then the element budget', (t) => {
  // 16 MB of tiny elements: refused on its size, before a node is built.
  const huge = derBomb(16 * 1024 * 1024);
  const e = t.throws(() => parseCertificate(huge), { instanceOf: StellaError });
  t.is(e?.code, 'DER_LIMIT_EXCEEDED');
  t.regex(e?.message ?? '', new RegExp(`larger than the ${MAX_CERTIFICATE_BYTES}-byte limit`));
  // Under the size limit, 30,000 elements: refused by the element budget.
  const dense = derBomb(60 * 1024);
  t.true(dense.length <= MAX_CERTIFICATE_BYTES);
  const d = t.throws(() => parseCertificate(dense), { instanceOf: StellaError });
  t.is(d?.code, 'DER_LIMIT_EXCEEDED');
  t.regex(d?.message ?? '', new RegExp(`more than ${MAX_DER_ELEMENTS} elements`));
  // The wrong outer shape is refused on its first octet.
  const set = t.throws(() => parseCertificate(derBomb(60 * 1024, 0x31)), {
    instanceOf: StellaError,
  });
  t.is(set?.code, 'CERTIFICATE_MALFORMED');
  t.regex(set?.message ?? '', /expected SEQUENCE, found identifier octet 0x31/);
});

test('H55 an extension value of the wrong shape is refused before its contents are parsed', (t) => {
  // subjectAltName must wrap a SEQUENCE; here it wraps a SET of 3,000 elements.
  const cert = certWithRawExtensions([
    seq(oid(OID.subjectAltName), octetString(wrapDer(0x31, derNulls(3000)))),
  ]);
  const e = t.throws(() => parseCertificate(cert), { instanceOf: StellaError });
  t.is(e?.code, 'CERTIFICATE_MALFORMED');
  t.regex(
    e?.message ?? '',
    /certificate extension 2\.5\.29\.17: expected SEQUENCE, found identifier octet 0x31/,
  );
});
