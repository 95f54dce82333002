import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from '../../src/crypto.js';
import {
  contextPrimitive,
  explicit,
  implicit,
  int,
  octetString,
  oid,
  seq,
  setOf,
} from '../../src/der/writer.js';
import { parseDer, type DerNode } from '../../src/der/reader.js';
import { derBomb } from '../helpers/der-bomb.js';
import { StellaError } from '../../src/errors.js';
import { issueTimestampToken } from '../../src/timestamp/issue.js';
import {
  checkRfc3161Timestamp,
  parseTimeStampToken,
  verifyRfc3161Timestamp,
} from '../../src/timestamp/rfc3161.js';
import type { CertificateAuthority } from '../../src/model/trust-material.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { concatBytes, utf8 } from '../../src/util/encoding.js';
import { parseCertificate, type Extension } from '../../src/x509/certificate.js';
import type { PreciseTime } from '../../src/util/time.js';
import {
  deterministicP256Signer,
  extKeyUsageExtension,
  issueCertificate,
  keyIdentifierFromSpki,
  keyUsageExtension,
  subjectKeyIdExtension,
  type KeyedSigner,
} from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';
import { conformanceCase, sharedTest } from '../helpers/shared.js';
import { caCert, FIXTURES, fixturePem, seed, T0, YEAR, MIN } from '../x509/helpers.js';

// --- the real sigstage token (public data copied from the conformance suite) -------------

const fixture = JSON.parse(
  readFileSync(path.join(FIXTURES, 'timestamp', 'sigstage-token.json'), 'utf8'),
) as { signature: string; signedTimestamp: string };
const realToken = new Uint8Array(Buffer.from(fixture.signedTimestamp, 'base64'));
const realSignature = new Uint8Array(Buffer.from(fixture.signature, 'base64'));
const sigstageTsa = (end?: number): CertificateAuthority => ({
  subject: { organization: 'sigstore.dev', commonName: 'sigstore-tsa-selfsigned' },
  uri: 'https://timestamp.sigstage.dev/api/v1/timestamp',
  certChain: fixturePem('timestamp/sigstage-tsa-chain.pem'),
  validFor: { start: Date.parse('2025-04-09T00:00:00Z'), end },
});

function rejects(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  pattern: RegExp,
): StellaError {
  const e = t.throws(fn, { instanceOf: StellaError });
  t.is(e?.code, 'TIMESTAMP_INVALID', e?.message);
  t.is(e?.check, 'verified-times');
  t.regex(e?.message ?? '', pattern);
  return e!;
}

test('parses a real sigstage TimeStampResp', (t) => {
  const tok = parseTimeStampToken(realToken);
  t.is(tok.tstInfo.version, 1);
  t.is(tok.tstInfo.messageImprint.hashAlgorithmOid, OID.sha256);
  t.deepEqual(tok.tstInfo.genTime, { ms: Date.parse('2025-08-06T19:03:51Z'), subMs: '' });
  t.is(tok.certificates.length, 0);
  t.is(tok.signerInfo.sid.kind, 'issuerAndSerialNumber');
  t.is(tok.signerInfo.contentType, OID.tstInfo);
});

test('a real sigstage token verifies against the sigstage TSA', (t) => {
  const r = verifyRfc3161Timestamp(realToken, realSignature, [sigstageTsa()]);
  t.deepEqual(r.time, { ms: Date.parse('2025-08-06T19:03:51Z'), subMs: '' });
  t.is(r.tsa.uri, 'https://timestamp.sigstage.dev/api/v1/timestamp');
});

test("verification never writes into the caller's buffer (Buffer.slice is a view)", (t) => {
  const asBuffer = Buffer.from(realToken);
  const before = Buffer.from(asBuffer);
  for (let i = 0; i < 2; i++)
    t.is(
      verifyRfc3161Timestamp(asBuffer, Buffer.from(realSignature), [sigstageTsa()]).time.ms,
      Date.parse('2025-08-06T19:03:51Z'),
    );
  t.true(before.equals(asBuffer));
});

test('a real token over other bytes is refused (checklist D29)', (t) => {
  const other = realSignature.slice();
  other[0]! ^= 1;
  rejects(
    t,
    () => verifyRfc3161Timestamp(realToken, other, [sigstageTsa()]),
    /^timestamp imprint does not match the signature$/,
  );
});

test('a real token outside the TSA validFor is refused', (t) => {
  rejects(
    t,
    () =>
      verifyRfc3161Timestamp(realToken, realSignature, [
        sigstageTsa(Date.parse('2025-06-01T00:00:00Z')),
      ]),
    /timestamp outside TSA validity/,
  );
});

test('a real token with no trusted TSA is refused', (t) => {
  rejects(
    t,
    () => verifyRfc3161Timestamp(realToken, realSignature, [tsa.authority]),
    /TSA not trusted/,
  );
  rejects(t, () => verifyRfc3161Timestamp(realToken, realSignature, []), /TSA not trusted/);
});

test('malformed tokens are TIMESTAMP_INVALID', (t) => {
  rejects(
    t,
    () =>
      verifyRfc3161Timestamp(concatBytes(realToken, Uint8Array.of(0)), realSignature, [
        sigstageTsa(),
      ]),
    /trailing byte/,
  );
  rejects(
    t,
    () => verifyRfc3161Timestamp(realToken.subarray(0, 100), realSignature, [sigstageTsa()]),
    /RFC 3161 timestamp/,
  );
  rejects(t, () => parseTimeStampToken(Uint8Array.of(0x30, 0x80, 0, 0)), /indefinite length/);
});

test('H55 a TSA token bomb is refused by the element budget, and a wrong outer shape on its first octet', (t) => {
  const e = t.throws(
    () => verifyRfc3161Timestamp(derBomb(4 * 1024 * 1024), realSignature, [sigstageTsa()]),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'DER_LIMIT_EXCEEDED');
  t.is(e?.check, 'verified-times');
  t.regex(e?.message ?? '', /more than \d+ elements/);
  rejects(
    t,
    () => parseTimeStampToken(derBomb(4 * 1024 * 1024, 0x31)),
    /expected SEQUENCE, found identifier octet 0x31/,
  );
  // The TSTInfo inside eContent is parsed from the token's budget, after its tag is checked.
  const tampered = Uint8Array.from(realToken);
  let at = Buffer.from(tampered).indexOf(Buffer.from('060b2a864886f70d0109100104', 'hex'));
  t.true(at > 0, 'the real token names id-ct-TSTInfo');
  const skipHeader = (p: number): number =>
    tampered[p + 1]! < 0x80 ? p + 2 : p + 2 + (tampered[p + 1]! & 0x7f);
  at += 13;
  t.is(tampered[at], 0xa0);
  at = skipHeader(at);
  t.is(tampered[at], 0x04);
  at = skipHeader(at);
  t.is(tampered[at], 0x30, 'eContent holds the TSTInfo SEQUENCE');
  tampered[at] = 0x31;
  rejects(
    t,
    () => parseTimeStampToken(tampered),
    /RFC 3161 TSTInfo: expected SEQUENCE, found identifier octet 0x31/,
  );
});

// --- a local TSA built with the project's issuer -----------------------------------------

interface Tsa {
  rootSigner: KeyedSigner;
  leafSigner: KeyedSigner;
  root: Uint8Array;
  leaf: Uint8Array;
  authority: CertificateAuthority;
}

function makeTsa(
  label: string,
  opts: {
    leafEku?: string[];
    leafNotAfter?: number;
    leafExtra?: Extension[];
    rootExtra?: Extension[];
    rootSeed?: string;
    leafSeed?: string;
  } = {},
): Tsa {
  const rootSigner = deterministicP256Signer(seed(opts.rootSeed ?? `${label}:tsa-root`));
  const leafSigner = deterministicP256Signer(seed(opts.leafSeed ?? `${label}:tsa-leaf`));
  const rootName = { organization: 'stella.test', commonName: `${label}-tsa-root` };
  const root = caCert({
    name: rootName,
    issuerName: rootName,
    signer: rootSigner,
    issuerSigner: rootSigner,
    pathLen: 0,
    extraExtensions: opts.rootExtra,
  });
  const leaf = issueCertificate({
    serial: 5n,
    issuerName: rootName,
    subjectName: { organization: 'stella.test', commonName: `${label}-tsa` },
    notBefore: T0 - YEAR,
    notAfter: opts.leafNotAfter ?? T0 + YEAR,
    subjectPublicKeySpki: leafSigner.spki,
    extensions: [
      keyUsageExtension(['digitalSignature']),
      extKeyUsageExtension(opts.leafEku ?? [OID.ekuTimeStamping], true),
      ...(opts.leafExtra ?? []),
    ],
    signer: rootSigner,
  });
  return {
    rootSigner,
    leafSigner,
    root,
    leaf,
    authority: {
      subject: rootName,
      uri: `https://${label}.tsa.test`,
      certChain: [leaf, root],
      validFor: { start: T0 - YEAR, end: undefined },
    },
  };
}

const tsa = makeTsa('local');
const data = utf8.encode('the bundle signature bytes');

function token(
  o: { t?: Tsa; genTime?: number | PreciseTime; embed?: boolean; data?: Uint8Array } = {},
): Uint8Array {
  const x = o.t ?? tsa;
  return issueTimestampToken({
    data: o.data ?? data,
    genTime: o.genTime ?? T0,
    serial: 99n,
    policy: '1.3.6.1.4.1.57264.2',
    nonce: 12345n,
    signerCertificate: x.leaf,
    embedCertificates: o.embed ? [x.leaf] : undefined,
    signer: x.leafSigner,
  });
}

test('a locally issued token verifies, with and without an embedded certificate', (t) => {
  const plain = verifyRfc3161Timestamp(token(), data, [tsa.authority]);
  t.deepEqual(plain.time, { ms: T0, subMs: '' });
  t.is(plain.tstInfo.nonce, 12345n);
  const embedded = verifyRfc3161Timestamp(token({ embed: true }), data, [tsa.authority]);
  t.is(embedded.tsa, tsa.authority);
  t.is(parseTimeStampToken(token({ embed: true })).certificates.length, 1);
});

// A TSA whose leaf carries a subject key identifier, for tokens that name their signer by it.
const skiTsa = (() => {
  const signer = deterministicP256Signer(seed('ski:tsa-leaf'));
  return makeTsa('ski', {
    leafSeed: 'ski:tsa-leaf',
    leafExtra: [subjectKeyIdExtension(keyIdentifierFromSpki(signer.spki))],
  });
})();
const rootOnly = (x: Tsa): CertificateAuthority => ({ ...x.authority, certChain: [x.root] });

function skiToken(embed: boolean): Uint8Array {
  return issueTimestampToken({
    data,
    genTime: T0,
    serial: 97n,
    policy: '1.3.6.1.4.1.57264.2',
    signerCertificate: skiTsa.leaf,
    signerIdentifier: 'subjectKeyIdentifier',
    embedCertificates: embed ? [skiTsa.leaf] : undefined,
    signer: skiTsa.leafSigner,
  });
}

test('a token naming its signer by subject key identifier (SignerInfo v3) verifies, embedded or not', (t) => {
  const si = parseTimeStampToken(skiToken(false)).signerInfo;
  t.is(si.version, 3);
  t.is(si.sid.kind, 'subjectKeyIdentifier');
  t.deepEqual(
    si.sid.kind === 'subjectKeyIdentifier' ? si.sid.keyId : undefined,
    parseCertificate(skiTsa.leaf).subjectKeyId,
  );
  for (const embed of [false, true])
    t.is(verifyRfc3161Timestamp(skiToken(embed), data, [skiTsa.authority]).time.ms, T0);
  // The key identifier is what ties it to the TSA: another TSA's chain does not claim it.
  t.is(checkRfc3161Timestamp(skiToken(false), data, [tsa.authority]).status, 'unknown-tsa');
});

test('a TSA trusted by its root alone accepts a token embedding a leaf that root issued', (t) => {
  // Trust roots may list only a TSA's CA; the token then brings its leaf. Named by issuer and
  // serial, the sid names the trusted root as issuer; named by key identifier, only the
  // embedded certificate's issuer ties it to the trusted root.
  t.is(verifyRfc3161Timestamp(token({ embed: true }), data, [rootOnly(tsa)]).time.ms, T0);
  t.is(verifyRfc3161Timestamp(skiToken(true), data, [rootOnly(skiTsa)]).time.ms, T0);
  // Without the leaf in the token there is no signer certificate to check the signature with.
  rejects(
    t,
    () => verifyRfc3161Timestamp(token(), data, [rootOnly(tsa)]),
    /^TSA not trusted: the timestamp signer is not a certificate of a trusted TSA$/,
  );
  // By key identifier and not embedded, nothing names the root-only TSA: set aside.
  t.is(checkRfc3161Timestamp(skiToken(false), data, [rootOnly(skiTsa)]).status, 'unknown-tsa');
  // The embedded leaf is still held to the root's signature on it.
  const forged = makeTsa('local', { rootSeed: 'forged:tsa-root', leafSeed: 'forged:tsa-leaf' });
  rejects(
    t,
    () => verifyRfc3161Timestamp(token({ t: forged, embed: true }), data, [rootOnly(tsa)]),
    /^TSA not trusted: timestamp signer O=stella\.test, CN=local-tsa does not chain to a trusted TSA$/,
  );
});

test("ContentInfo's content is exactly one SignedData inside a constructed [0]", (t) => {
  const tok = token();
  const ci = parseDer(tok, { code: 'TIMESTAMP_INVALID', check: 'verified-times', what: 'token' });
  const [type, wrap] = ci.children as [DerNode, DerNode];
  const sd = wrap.children[0]!.der;
  t.deepEqual(seq(type.der, explicit(0, sd)), tok, 'the token is rebuilt as issued');
  // Two SignedData, a primitive [0], a [1].
  for (const content of [
    explicit(0, concatBytes(sd, sd)),
    contextPrimitive(0, sd),
    explicit(1, sd),
  ])
    rejects(
      t,
      () => verifyRfc3161Timestamp(seq(type.der, content), data, [tsa.authority]),
      /ContentInfo content must be \[0\] EXPLICIT/,
    );
});

test('a TimeStampResp wrapper is accepted when granted and refused otherwise', (t) => {
  const tok = token();
  t.is(verifyRfc3161Timestamp(seq(seq(int(0)), tok), data, [tsa.authority]).time.ms, T0);
  rejects(
    t,
    () => verifyRfc3161Timestamp(seq(seq(int(2)), tok), data, [tsa.authority]),
    /status 2/,
  );
});

test('a changed TSTInfo no longer matches the signed messageDigest', (t) => {
  const tok = token();
  const needle = utf8.encode('20250101120000Z');
  const at = Buffer.from(tok).indexOf(Buffer.from(needle));
  t.true(at > 0);
  const forged = tok.slice();
  forged[at + 3] = 0x36; // 2025 -> 2026
  rejects(
    t,
    () => verifyRfc3161Timestamp(forged, data, [tsa.authority]),
    /message digest does not match the TSTInfo/,
  );
});

test('a bad signature over the signed attributes is refused', (t) => {
  const tok = token();
  const a = parseTimeStampToken(tok).signerInfo.signature;
  const at = Buffer.from(tok).indexOf(Buffer.from(a));
  t.true(at > 0);
  const flipped = tok.slice();
  flipped[at + a.length - 1]! ^= 1;
  rejects(
    t,
    () => verifyRfc3161Timestamp(flipped, data, [tsa.authority]),
    /timestamp signature does not verify/,
  );
});

test("a SignerInfo naming only the key algorithm takes the hash from digestAlgorithm; a key algorithm other than the signer key's is refused", (t) => {
  // Some TSAs write ecPublicKey (or rsaEncryption) as the signature algorithm and leave the
  // hash to digestAlgorithm (SHA-256 here). The named algorithm must still be the key's: an
  // ECDSA signature under a SignerInfo that says rsaEncryption is not a valid RSA signature.
  const named = (algorithmOid: string) =>
    issueTimestampToken({
      data,
      genTime: T0,
      serial: 98n,
      policy: '1.3.6.1.4.1.57264.2',
      signerCertificate: tsa.leaf,
      signer: { ...tsa.leafSigner, algorithmOid },
    });
  t.is(
    parseTimeStampToken(named(OID.ecPublicKey)).signerInfo.signatureAlgorithmOid,
    OID.ecPublicKey,
  );
  t.is(verifyRfc3161Timestamp(named(OID.ecPublicKey), data, [tsa.authority]).time.ms, T0);
  rejects(
    t,
    () => verifyRfc3161Timestamp(named(OID.rsaEncryption), data, [tsa.authority]),
    /timestamp signature does not verify/,
  );
});

test('an embedded signer from an unknown TSA is not trusted (even with a valid signature)', (t) => {
  const rogue = makeTsa('rogue');
  rejects(
    t,
    () => verifyRfc3161Timestamp(token({ t: rogue, embed: true }), data, [tsa.authority]),
    /TSA not trusted/,
  );
  rejects(
    t,
    () => verifyRfc3161Timestamp(token({ t: rogue }), data, [tsa.authority]),
    /TSA not trusted/,
  );
});

test('checkRfc3161Timestamp: a token unrelated to every trusted TSA is set aside, one that names a trusted TSA is held to every check', (t) => {
  const rogue = makeTsa('rogue');
  for (const embed of [true, false]) {
    const r = checkRfc3161Timestamp(token({ t: rogue, embed }), data, [tsa.authority]);
    t.is(r.status, 'unknown-tsa');
    if (r.status === 'unknown-tsa')
      t.regex(
        r.reason,
        embed
          ? /timestamp signer O=stella\.test, CN=rogue-tsa is not a certificate of, or issued by, a trusted TSA/
          : /timestamp signer serial 05 is not/,
      );
  }
  const none = checkRfc3161Timestamp(token(), data, []);
  t.true(
    none.status === 'unknown-tsa' &&
      /the trusted root has no timestamp authorities/.test(none.reason),
  );
  // Unknown even when its imprint is over other bytes: nothing it says is checked or counted.
  t.is(
    checkRfc3161Timestamp(token({ t: rogue, data: utf8.encode('other') }), data, [tsa.authority])
      .status,
    'unknown-tsa',
  );
  // Same names as the trusted TSA, another key: it names the trusted TSA, so it is refused.
  const twin = { ...makeTsa('local'), leafSigner: deterministicP256Signer(seed('twin:tsa-leaf')) };
  rejects(
    t,
    () => checkRfc3161Timestamp(token({ t: twin, embed: true }), data, [tsa.authority]),
    /timestamp signature does not verify/,
  );
  // A trusted TSA's token over other bytes is refused, not set aside.
  rejects(
    t,
    () => checkRfc3161Timestamp(token({ data: utf8.encode('other') }), data, [tsa.authority]),
    /timestamp imprint does not match the signature/,
  );
  const ok = checkRfc3161Timestamp(token(), data, [tsa.authority]);
  t.true(ok.status === 'verified' && ok.time.ms === T0 && ok.time.subMs === '');
  // A trust root whose TSA cannot be read cannot say a token is unknown: fail closed.
  const broken: CertificateAuthority = { ...tsa.authority, certChain: [Uint8Array.of(0x30, 0x00)] };
  const e = t.throws(() => checkRfc3161Timestamp(token({ t: rogue }), data, [broken]), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'TRUSTED_ROOT_INVALID');
});

test('the signing-certificate attribute (ESSCertIDv2) must name the signer certificate, not a twin with the same issuer and serial', (t) => {
  // Same root, names, serial and keys as `tsa`, another notAfter: a different certificate the
  // signer id (issuer + serial) cannot tell apart. Only the ESSCertIDv2 hash binds the token
  // to the trusted certificate, so a token that names the twin must be refused.
  const twin = makeTsa('local', { leafNotAfter: T0 + 2 * YEAR });
  t.notDeepEqual(twin.leaf, tsa.leaf);
  t.deepEqual(
    parseTimeStampToken(token({ t: twin })).signerInfo.sid,
    parseTimeStampToken(token()).signerInfo.sid,
  );
  const named = parseTimeStampToken(token({ t: twin })).signerInfo.signingCertificate;
  t.is(named?.hash, 'sha256');
  t.deepEqual(named?.certHash, sha256(twin.leaf));
  rejects(
    t,
    () => verifyRfc3161Timestamp(token({ t: twin }), data, [tsa.authority]),
    /^timestamp signing-certificate attribute does not match the signer certificate$/,
  );
  // Control: the same token naming the trusted certificate verifies.
  t.is(verifyRfc3161Timestamp(token(), data, [tsa.authority]).time.ms, T0);
});

/**
 * A token built field by field like src/timestamp/issue.ts, but with the SignerInfo digest
 * algorithm (which hashes the TSTInfo into the signed messageDigest attribute) chosen here.
 */
function tokenWithAttrDigest(
  hash: 'sha1' | 'sha256',
  /** The SignerInfo's signed-attributes field as written ([0] IMPLICIT SET), or none. */
  attrsField: (attrs: Uint8Array) => Uint8Array[] = (attrs) => [implicit(0, attrs)],
  /**
   * The ESSCertIDv2's hash algorithm, written out, and the certificate hashed with it; by
   * default none (SHA-256, the DER default, as src/timestamp/issue.ts writes it).
   */
  certIdHash?: 'sha1' | 'sha256' | 'sha384' | 'sha512',
): Uint8Array {
  const tstInfo = parseTimeStampToken(token()).tstInfo.der;
  const leaf = parseCertificate(tsa.leaf);
  const attrs = setOf(
    seq(oid(OID.attrContentType), setOf(oid(OID.tstInfo))),
    seq(
      oid(OID.attrMessageDigest),
      setOf(octetString(new Uint8Array(createHash(hash).update(tstInfo).digest()))),
    ),
    seq(
      oid(OID.attrSigningCertificateV2),
      setOf(
        seq(
          seq(
            certIdHash === undefined
              ? seq(octetString(sha256(tsa.leaf)))
              : seq(
                  seq(oid(OID[certIdHash])),
                  octetString(new Uint8Array(createHash(certIdHash).update(tsa.leaf).digest())),
                ),
          ),
        ),
      ),
    ),
  );
  const signerInfo = seq(
    int(1),
    seq(leaf.issuerDer, int(leaf.serialBytes)),
    seq(oid(hash === 'sha1' ? OID.sha1 : OID.sha256)),
    ...attrsField(attrs),
    seq(oid(tsa.leafSigner.algorithmOid)),
    octetString(tsa.leafSigner.sign(attrs)),
  );
  return seq(
    oid(OID.signedData),
    explicit(
      0,
      seq(
        int(3),
        setOf(seq(oid(OID.sha256))),
        seq(oid(OID.tstInfo), explicit(0, octetString(tstInfo))),
        setOf(signerInfo),
      ),
    ),
  );
}

test('the signed attributes must bind the TSTInfo with SHA-256 or better: a SHA-1 messageDigest is refused', (t) => {
  // Control: the hand-built token verifies with SHA-256, so only the digest algorithm differs.
  t.is(verifyRfc3161Timestamp(tokenWithAttrDigest('sha256'), data, [tsa.authority]).time.ms, T0);
  rejects(
    t,
    () => verifyRfc3161Timestamp(tokenWithAttrDigest('sha1'), data, [tsa.authority]),
    /^timestamp uses unsupported digest 1\.3\.14\.3\.2\.26$/,
  );
});

test('an ESSCertIDv2 that names its hash algorithm: SHA-256, -384 and -512 bind the signer certificate with that hash; SHA-1 is refused', (t) => {
  for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
    const named = tokenWithAttrDigest('sha256', undefined, hash);
    t.is(parseTimeStampToken(named).signerInfo.signingCertificate?.hash, hash);
    t.is(verifyRfc3161Timestamp(named, data, [tsa.authority]).time.ms, T0, hash);
  }
  rejects(
    t,
    () =>
      verifyRfc3161Timestamp(tokenWithAttrDigest('sha256', undefined, 'sha1'), data, [
        tsa.authority,
      ]),
    /^RFC 3161 timestamp: ESSCertIDv2: unsupported digest algorithm 1\.3\.14\.3\.2\.26 \(at offset \d+\)$/,
  );
});

test('a SignerInfo without signed attributes, or with a [0] that is not constructed, is refused as such (the signature covers them)', (t) => {
  for (const [why, field] of [
    ['no signed attributes', () => []],
    // [0] IMPLICIT with the SET's bytes but the primitive form.
    [
      'a primitive [0]',
      (attrs: Uint8Array) => [
        contextPrimitive(0, parseDer(attrs, { code: 'TIMESTAMP_INVALID' }).value),
      ],
    ],
  ] as const)
    t.is(
      rejects(
        t,
        () => verifyRfc3161Timestamp(tokenWithAttrDigest('sha256', field), data, [tsa.authority]),
        /^RFC 3161 timestamp: SignerInfo without signed attributes \(at offset \d+\)$/,
      ).check,
      'verified-times',
      why,
    );
});

test('an embedded signer that names the trusted TSA root as issuer but is signed by another key does not chain', (t) => {
  // Same names as `tsa` (so the token claims the trusted TSA), other root and leaf keys: the
  // embedded leaf is not a certificate the trusted root issued, whatever it says.
  const forged = makeTsa('local', { rootSeed: 'forged:tsa-root', leafSeed: 'forged:tsa-leaf' });
  t.deepEqual(parseCertificate(forged.leaf).issuerDer, parseCertificate(tsa.leaf).issuerDer);
  t.notDeepEqual(forged.leaf, tsa.leaf);
  rejects(
    t,
    () => verifyRfc3161Timestamp(token({ t: forged, embed: true }), data, [tsa.authority]),
    /^TSA not trusted: timestamp signer O=stella\.test, CN=local-tsa does not chain to a trusted TSA$/,
  );
  // Control: the same forged TSA verifies against its own root.
  t.is(
    verifyRfc3161Timestamp(token({ t: forged, embed: true }), data, [forged.authority]).time.ms,
    T0,
  );
});

test('a token without its certificate whose signer is named as issued by the trusted TSA root is held to the checks, not set aside', (t) => {
  // Another key and serial, the trusted root's name as issuer, the certificate not embedded:
  // only the SignerInfo's issuer name ties the token to the trusted TSA, and that is enough
  // to make it the trusted TSA's claim, which then fails (an unknown TSA would be ignored).
  const other = deterministicP256Signer(seed('unknown-serial:tsa-leaf'));
  const leaf = issueCertificate({
    serial: 6n,
    issuerName: { organization: 'stella.test', commonName: 'local-tsa-root' },
    subjectName: { organization: 'stella.test', commonName: 'local-tsa' },
    notBefore: T0 - YEAR,
    notAfter: T0 + YEAR,
    subjectPublicKeySpki: other.spki,
    extensions: [
      keyUsageExtension(['digitalSignature']),
      extKeyUsageExtension([OID.ekuTimeStamping], true),
    ],
    signer: other,
  });
  t.deepEqual(parseCertificate(leaf).issuerDer, parseCertificate(tsa.leaf).issuerDer);
  const stamped = issueTimestampToken({
    data,
    genTime: T0,
    serial: 98n,
    policy: '1.3.6.1.4.1.57264.2',
    signerCertificate: leaf,
    signer: other,
  });
  const e = t.throws(() => checkRfc3161Timestamp(stamped, data, [tsa.authority]), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'TIMESTAMP_INVALID');
  // Control: against a trust root without that TSA, the same token is set aside.
  const rogue = makeTsa('rogue');
  t.is(checkRfc3161Timestamp(stamped, data, [rogue.authority]).status, 'unknown-tsa');
});

test('the signer certificate needs the timeStamping EKU', (t) => {
  const noEku = makeTsa('noeku', { leafEku: [OID.ekuCodeSigning] });
  rejects(
    t,
    () => verifyRfc3161Timestamp(token({ t: noEku }), data, [noEku.authority]),
    /timeStamping extended key usage/,
  );
});

test('a TSA signer or TSA root with an unknown critical extension is refused; non-critical is accepted (RFC 5280 4.2)', (t) => {
  const unknown = (critical: boolean): Extension => ({
    oid: '1.2.3.4.5.6.7',
    critical,
    value: Uint8Array.of(0x05, 0x00),
  });
  for (const critical of [false, true]) {
    const leafExt = makeTsa(`crit-leaf-${critical}`, { leafExtra: [unknown(critical)] });
    const rootExt = makeTsa(`crit-root-${critical}`, { rootExtra: [unknown(critical)] });
    if (!critical) {
      // Controls: the extension alone is not what refuses the token, its criticality is.
      t.is(verifyRfc3161Timestamp(token({ t: leafExt }), data, [leafExt.authority]).time.ms, T0);
      t.is(verifyRfc3161Timestamp(token({ t: rootExt }), data, [rootExt.authority]).time.ms, T0);
      continue;
    }
    rejects(
      t,
      () => verifyRfc3161Timestamp(token({ t: leafExt }), data, [leafExt.authority]),
      /^timestamp signer certificate has unsupported critical extension\(s\) 1\.2\.3\.4\.5\.6\.7$/,
    );
    rejects(
      t,
      () => verifyRfc3161Timestamp(token({ t: rootExt }), data, [rootExt.authority]),
      /^TSA certificate chain invalid: .*TSA CA certificate O=stella\.test, CN=crit-root-true-tsa-root has unsupported critical extension\(s\) 1\.2\.3\.4\.5\.6\.7/,
    );
  }
});

test("genTime must fall inside the TSA certificates' validity", (t) => {
  const short = makeTsa('short', { leafNotAfter: T0 + MIN });
  t.notThrows(() =>
    verifyRfc3161Timestamp(token({ t: short, genTime: T0 + MIN }), data, [short.authority]),
  );
  rejects(
    t,
    () =>
      verifyRfc3161Timestamp(token({ t: short, genTime: T0 + 2 * MIN }), data, [short.authority]),
    /outside TSA certificate validity/,
  );
});

test("a token whose genTime has more than nine fraction digits is refused, a million of them in one pass and in a short message (the digits are a stranger's: a bundle carries the token)", (t) => {
  const nine = { ms: T0 + 1000, subMs: '000001' };
  t.deepEqual(
    verifyRfc3161Timestamp(token({ genTime: nine }), data, [tsa.authority]).time,
    nine,
    'control: nine digits (the nanosecond) verify',
  );
  rejects(
    t,
    () =>
      verifyRfc3161Timestamp(token({ genTime: { ms: T0 + 1000, subMs: '0000001' } }), data, [
        tsa.authority,
      ]),
    /fraction has 10 digits; at most nine/,
  );
  // Zeros then a one below the millisecond: trimming them with /0+$/ (the DER reader and the
  // DER writer each did) grew with the square of their number: ~12 minutes for these.
  const subMs = `${'0'.repeat(999_999)}1`;
  const e = rejects(
    t,
    () =>
      verifyRfc3161Timestamp(token({ genTime: { ms: T0 + 1000, subMs } }), data, [tsa.authority]),
    /fraction has 1000003 digits; at most nine/,
  );
  t.true(e.message.length < 300, e.message.slice(0, 400));
});

test("genTime is compared at full precision: 100 µs past a certificate's end fails, at the end passes (checklist H58)", (t) => {
  const end = T0 + MIN;
  const short = makeTsa('short', { leafNotAfter: end });
  const at = (p: PreciseTime): Uint8Array => token({ t: short, genTime: p });
  t.deepEqual(
    verifyRfc3161Timestamp(at({ ms: end, subMs: '' }), data, [short.authority]).time,
    { ms: end, subMs: '' },
    'exactly at notAfter (inclusive)',
  );
  t.deepEqual(
    verifyRfc3161Timestamp(at({ ms: end - 1, subMs: '9' }), data, [short.authority]).time,
    { ms: end - 1, subMs: '9' },
    'a fraction before notAfter',
  );
  rejects(
    t,
    () => verifyRfc3161Timestamp(at({ ms: end, subMs: '1' }), data, [short.authority]),
    /outside TSA certificate validity: .* genTime 2025-01-01T12:01:00\.0001Z/,
  );
  rejects(
    t,
    () => verifyRfc3161Timestamp(at({ ms: end, subMs: '000001' }), data, [short.authority]),
    /outside TSA certificate validity/,
  );
  // The same at the TSA's validFor bounds (whole ms): a fraction past the end, or before the start, fails.
  const windowed: CertificateAuthority = {
    ...tsa.authority,
    validFor: { start: T0, end: T0 + MIN },
  };
  t.notThrows(() =>
    verifyRfc3161Timestamp(token({ genTime: { ms: T0, subMs: '' } }), data, [windowed]),
  );
  rejects(
    t,
    () =>
      verifyRfc3161Timestamp(token({ genTime: { ms: T0 - 1, subMs: '999999' } }), data, [windowed]),
    /timestamp outside TSA validity/,
  );
  rejects(
    t,
    () =>
      verifyRfc3161Timestamp(token({ genTime: { ms: T0 + MIN, subMs: '5' } }), data, [windowed]),
    /timestamp outside TSA validity/,
  );
  // The message gives the window: its end, or "open" when it has none.
  const iso = (ms: number) => new Date(ms).toISOString().replace(/[.]/g, '\\.');
  rejects(
    t,
    () =>
      verifyRfc3161Timestamp(token({ genTime: { ms: T0 + 2 * MIN, subMs: '' } }), data, [windowed]),
    new RegExp(`validFor \\(${iso(T0)}\\.\\.${iso(T0 + MIN)}\\)$`),
  );
  const opened: CertificateAuthority = {
    ...tsa.authority,
    validFor: { start: T0 + MIN, end: undefined },
  };
  rejects(
    t,
    () => verifyRfc3161Timestamp(token({ genTime: { ms: T0, subMs: '' } }), data, [opened]),
    new RegExp(`validFor \\(${iso(T0 + MIN)}\\.\\.open\\)$`),
  );
});

test("a genTime outside Stella's time range is refused when the token is parsed (checklist H50)", (t) => {
  rejects(
    t,
    () => parseTimeStampToken(token({ genTime: Date.UTC(1969, 11, 31, 23, 59, 59) })),
    /genTime 1969-12-31T23:59:59\.000Z is out of range \(1970-01-01T00:00:00Z to 9999-12-31T23:59:59\.999Z\)/,
  );
  t.is(
    parseTimeStampToken(token({ genTime: Date.UTC(9999, 11, 31, 23, 59, 59) })).tstInfo.genTime.ms,
    Date.UTC(9999, 11, 31, 23, 59, 59),
  );
});

test('several TSAs: the matching one is used', (t) => {
  const other = makeTsa('other');
  t.is(verifyRfc3161Timestamp(token(), data, [other.authority, tsa.authority]).tsa, tsa.authority);
});

// --- conformance cases with real tokens ---------------------------------------------------

const EXPECTED: Record<string, RegExp | null> = {
  'rekor2-happy-path': null,
  'rekor2-timestamp-with-embedded-cert': null,
  'rekor2-timestamp-without-embedded-cert': null,
  // The token itself is fine; the leaf certificate is what is expired at genTime.
  'rekor2-timestamp-with-incorrect-time_fail': null,
  'intoto-tsa-timestamp-outside-cert-validity_fail': null,
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': /timestamp outside TSA validity/,
  'rekor2-timestamp-payload-mismatch_fail': /timestamp imprint does not match the signature/,
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': /TSA not trusted/,
};

sharedTest('shared conformance: rekor2-timestamp-* and intoto-tsa-* tokens', (t) => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    const dir = conformanceCase(name);
    const b = JSON.parse(readFileSync(path.join(dir, 'bundle.sigstore.json'), 'utf8'));
    const tm = parseTrustedRoot(readFileSync(path.join(dir, 'trusted_root.json')));
    const sig = new Uint8Array(
      Buffer.from(b.messageSignature?.signature ?? b.dsseEnvelope.signatures[0].sig, 'base64'),
    );
    const tok = new Uint8Array(
      Buffer.from(
        b.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp,
        'base64',
      ),
    );
    if (expected === null) {
      const r = verifyRfc3161Timestamp(tok, sig, tm.timestampAuthorities);
      t.true(r.time.ms > Date.UTC(2023, 0, 1), name);
    } else {
      const e = t.throws(
        () => verifyRfc3161Timestamp(tok, sig, tm.timestampAuthorities),
        { instanceOf: StellaError },
        name,
      );
      t.is(e?.code, 'TIMESTAMP_INVALID', name);
      t.regex(e?.message ?? '', expected, name);
    }
  }
});
