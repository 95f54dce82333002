import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import path from 'node:path';
import { sha256 } from '../../src/crypto.js';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { concatBytes, toHex } from '../../src/util/encoding.js';
import { TIME_MAX_MS } from '../../src/util/time.js';
import { parseCertificate, type Extension } from '../../src/x509/certificate.js';
import {
  buildTbsCertificate,
  ctPoisonExtension,
  deterministicP256Signer,
  sctListExtension,
  signTbsCertificate,
  type KeyedSigner,
} from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';
import {
  buildPrecertSignedData,
  encodeSct,
  encodeSctList,
  parseSctList,
  precertTbsOf,
  removeExtensionFromTbs,
  TlsHash,
  TlsSignature,
  verifyEmbeddedScts,
} from '../../src/x509/sct.js';

import { conformanceCase, sharedTest } from '../helpers/shared.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { derBomb } from '../helpers/der-bomb.js';
import {
  buildPki,
  ctLog,
  defaultLeafExtensions,
  fixturePem,
  INTERMEDIATE_DN,
  MIN,
  seed,
  T0,
} from './helpers.js';

const pki = buildPki('sct');
const ctSigner = deterministicP256Signer(seed('sct:ct-log'));
const log = ctLog(ctSigner, T0 - 1000 * MIN);
const intermediate = parseCertificate(pki.intermediate);

interface IssueWithSct {
  sctTimestamp?: number;
  sctExtensions?: Uint8Array;
  logSigner?: KeyedSigner;
  corruptSignature?: boolean;
  /** The hash the SCT names (TLS HashAlgorithm); its signature is always over SHA-256. */
  hashAlgorithm?: number;
}

/** The sandbox Fulcio + CT log flow: precert with poison -> SCT over it -> final cert with the SCT list. */
function issueWithSct(o: IssueWithSct = {}): Uint8Array {
  const logSigner = o.logSigner ?? ctSigner;
  const extsBefore: Extension[] = defaultLeafExtensions(
    pki.intermediateSigner.spki,
    pki.leafSigner.spki,
  );
  const base = {
    serial: 77n,
    issuerName: INTERMEDIATE_DN,
    subjectName: {},
    notBefore: T0,
    notAfter: T0 + 10 * MIN,
    subjectPublicKeySpki: pki.leafSigner.spki,
    signatureAlgorithmOid: pki.intermediateSigner.algorithmOid,
  };
  const precertTbs = buildTbsCertificate({
    ...base,
    extensions: [...extsBefore, ctPoisonExtension()],
  });
  // The CT log side: strip the poison, sign the precert entry.
  const timestamp = o.sctTimestamp ?? T0 + 1000;
  const extensions = o.sctExtensions ?? new Uint8Array(0);
  const signed = buildPrecertSignedData({
    timestamp,
    issuerKeyHash: sha256(pki.intermediateSigner.spki),
    precertTbs: removeExtensionFromTbs(precertTbs, OID.ctPoison),
    extensions,
  });
  const signature = logSigner.sign(signed);
  if (o.corruptSignature) signature[signature.length - 1]! ^= 1;
  const sct = encodeSct({
    logId: sha256(logSigner.spki),
    timestamp,
    extensions,
    hashAlgorithm: o.hashAlgorithm ?? TlsHash.sha256,
    signatureAlgorithm: TlsSignature.ecdsa,
    signature,
  });
  const finalTbs = buildTbsCertificate({
    ...base,
    extensions: [...extsBefore, sctListExtension(encodeSctList([sct]))],
  });
  return signTbsCertificate(finalTbs, pki.intermediateSigner);
}

function rejects(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  code: ErrorCode,
  pattern: RegExp,
): void {
  const e = t.throws(fn, { instanceOf: StellaError });
  t.is(e?.code, code, e?.message);
  t.regex(e?.message ?? '', pattern);
}

/** The leaf issued with `o` carries an SCT whose signature the trusted log key does not verify. */
function signatureRefused(t: import('ava').ExecutionContext, o: IssueWithSct): void {
  rejects(
    t,
    () => verifyEmbeddedScts(parseCertificate(issueWithSct(o)), intermediate, [log]),
    'SCT_INVALID',
    /SCT signature from CT log [0-9a-f]{64} does not verify/,
  );
}

test('an SCT issued by the signing-side encoder verifies', (t) => {
  const leaf = parseCertificate(issueWithSct());
  const r = verifyEmbeddedScts(leaf, intermediate, [log]);
  t.deepEqual(r, [
    {
      logId: toHex(sha256(ctSigner.spki)),
      baseUrl: 'https://ct.stella.test',
      timestamp: T0 + 1000,
      validFor: log.publicKey.validFor,
    },
  ]);
});

test('an SCT naming a hash other than SHA-256/384/512 is SCT_INVALID, its signature never taken on trust', (t) => {
  // TLS HashAlgorithm: none (0), md5 (1), sha1 (2), sha224 (3), intrinsic (8, Ed25519 only),
  // and values with no name. The signature itself is a valid one over SHA-256.
  for (const hash of [0, 1, 2, 3, 8, 7, 255]) signatureRefused(t, { hashAlgorithm: hash });
  t.is(
    verifyEmbeddedScts(
      parseCertificate(issueWithSct({ hashAlgorithm: TlsHash.sha256 })),
      intermediate,
      [log],
    ).length,
    1,
  );
});

test('an SCT naming SHA-384 or SHA-512 verifies when the log signed over that hash, and is refused when it signed over another', (t) => {
  const sk = seed('sct:ct-log');
  const over = (hash: 'sha384' | 'sha512' | 'sha256') => ({
    ...ctSigner,
    sign: (data: Uint8Array) =>
      p256.sign(new Uint8Array(createHash(hash).update(data).digest()), sk, {
        prehash: false,
        format: 'der',
      }),
  });
  for (const [name, tls] of [
    ['sha384', TlsHash.sha384],
    ['sha512', TlsHash.sha512],
  ] as const) {
    const leaf = parseCertificate(issueWithSct({ hashAlgorithm: tls, logSigner: over(name) }));
    t.is(verifyEmbeddedScts(leaf, intermediate, [log]).length, 1, name);
    signatureRefused(t, { hashAlgorithm: tls, logSigner: over('sha256') });
  }
});

test('an SCT with non-empty extensions verifies (Static CT)', (t) => {
  const leaf = parseCertificate(
    issueWithSct({ sctExtensions: Uint8Array.of(0, 0, 5, 0, 0, 0, 0, 42) }),
  );
  t.is(verifyEmbeddedScts(leaf, intermediate, [log]).length, 1);
  const scts = parseSctList(leaf.embeddedSctList!);
  t.deepEqual([...scts[0]!.extensions], [0, 0, 5, 0, 0, 0, 0, 42]);
});

test('the SCT encoder refuses fields longer than their TLS length prefix can say', (t) => {
  // A 16-bit prefix holds up to 65,535 bytes; one more would be written modulo 2^16, giving an
  // SCT that parses as something else.
  const sct = (extensions: Uint8Array, signature: Uint8Array) =>
    encodeSct({
      logId: new Uint8Array(32),
      timestamp: T0,
      extensions,
      hashAlgorithm: TlsHash.sha256,
      signatureAlgorithm: TlsSignature.ecdsa,
      signature,
    });
  const max = new Uint8Array(0xffff);
  const one = Uint8Array.of(1);
  t.is(sct(max, one).length, 1 + 32 + 8 + 2 + 0xffff + 2 + 2 + 1);
  t.throws(() => sct(new Uint8Array(0x10000), one), {
    instanceOf: RangeError,
    message: 'value does not fit 16 bits',
  });
  t.throws(() => sct(one, new Uint8Array(0x10000)), { instanceOf: RangeError });
  t.throws(() => encodeSctList([new Uint8Array(0x10000)]), { instanceOf: RangeError });
  t.throws(
    () =>
      buildPrecertSignedData({
        timestamp: T0,
        issuerKeyHash: new Uint8Array(32),
        precertTbs: new Uint8Array(0x1000000),
      }),
    { instanceOf: RangeError, message: 'value does not fit 24 bits' },
  );
});

test('precertTbsOf(final leaf) equals the precert TBS without poison', (t) => {
  const leaf = parseCertificate(issueWithSct());
  const precert = buildTbsCertificate({
    serial: 77n,
    issuerName: INTERMEDIATE_DN,
    subjectName: {},
    notBefore: T0,
    notAfter: T0 + 10 * MIN,
    subjectPublicKeySpki: pki.leafSigner.spki,
    signatureAlgorithmOid: pki.intermediateSigner.algorithmOid,
    extensions: [
      ...defaultLeafExtensions(pki.intermediateSigner.spki, pki.leafSigner.spki),
      ctPoisonExtension(),
    ],
  });
  t.deepEqual(precertTbsOf(leaf), removeExtensionFromTbs(precert, OID.ctPoison));
});

test('precertTbsOf of a certificate without an SCT list is SCT_INVALID: there is no precertificate to rebuild', (t) => {
  rejects(
    t,
    () => precertTbsOf(intermediate),
    'SCT_INVALID',
    /TBSCertificate does not carry exactly one extension 1\.3\.6\.1\.4\.1\.11129\.2\.4\.2/,
  );
});

test('a bad SCT signature, an unknown log, and a log key outside its validity are SCT_INVALID', (t) => {
  signatureRefused(t, { corruptSignature: true });
  const other = deterministicP256Signer(seed('sct:other-log'));
  rejects(
    t,
    () =>
      verifyEmbeddedScts(parseCertificate(issueWithSct({ logSigner: other })), intermediate, [log]),
    'SCT_INVALID',
    /SCT from unknown CT log/,
  );
  const retired = ctLog(ctSigner, T0 - 1000 * MIN, T0);
  rejects(
    t,
    () => verifyEmbeddedScts(parseCertificate(issueWithSct()), intermediate, [retired]),
    'SCT_INVALID',
    /outside the validity of CT log/,
  );
  // A log with the same id but another key (a confused trust root) does not verify either.
  const impostor = {
    ...log,
    publicKey: { ...log.publicKey, key: deterministicP256Signer(seed('sct:impostor')).publicKey },
  };
  rejects(
    t,
    () => verifyEmbeddedScts(parseCertificate(issueWithSct()), intermediate, [impostor]),
    'SCT_INVALID',
    /does not verify/,
  );
});

test("an SCT timestamp outside Stella's time range is refused when parsed, even against a retired log (checklist H50)", (t) => {
  // A retired log makes the verifier name the time in its message: the case that used to throw a RangeError.
  const retired = ctLog(ctSigner, T0 - 1000 * MIN, T0);
  for (const ts of [TIME_MAX_MS + 1, Number.MAX_SAFE_INTEGER]) {
    rejects(
      t,
      () =>
        verifyEmbeddedScts(parseCertificate(issueWithSct({ sctTimestamp: ts })), intermediate, [
          retired,
        ]),
      'SCT_INVALID',
      new RegExp(
        `^SCT: timestamp ${ts} ms is out of range \\(1970-01-01T00:00:00Z to 9999-12-31T23:59:59\\.999Z\\)`,
      ),
    );
  }
  const sct = encodeSct({
    logId: new Uint8Array(32),
    timestamp: 5,
    extensions: new Uint8Array(0),
    hashAlgorithm: 4,
    signatureAlgorithm: 3,
    signature: Uint8Array.of(1, 2, 3),
  });
  sct.fill(0xff, 33, 41); // uint64 max
  rejects(
    t,
    () => parseSctList(encodeSctList([sct])),
    'SCT_INVALID',
    /timestamp 18446744073709551615 ms is out of range/,
  );
  t.is(
    parseSctList(
      encodeSctList([
        encodeSct({
          logId: new Uint8Array(32),
          timestamp: TIME_MAX_MS,
          extensions: new Uint8Array(0),
          hashAlgorithm: 4,
          signatureAlgorithm: 3,
          signature: Uint8Array.of(1),
        }),
      ]),
    )[0]!.timestamp,
    TIME_MAX_MS,
  );
});

test('the SCT is bound to the issuer key', (t) => {
  const otherIssuer = parseCertificate(buildPki('sct-other').intermediate);
  rejects(
    t,
    () => verifyEmbeddedScts(parseCertificate(issueWithSct()), otherIssuer, [log]),
    'SCT_INVALID',
    /does not verify/,
  );
});

test('a leaf without SCTs is SCT_MISSING', (t) => {
  rejects(
    t,
    () => verifyEmbeddedScts(parseCertificate(pki.leaf), intermediate, [log]),
    'SCT_MISSING',
    /no embedded SCT/,
  );
});

test('SCT list parsing is strict about lengths', (t) => {
  const sct = encodeSct({
    logId: new Uint8Array(32),
    timestamp: 5,
    extensions: new Uint8Array(0),
    hashAlgorithm: 4,
    signatureAlgorithm: 3,
    signature: Uint8Array.of(1, 2, 3),
  });
  const list = encodeSctList([sct, sct]);
  t.is(parseSctList(list).length, 2);
  t.is(parseSctList(list)[0]!.timestamp, 5);
  rejects(t, () => parseSctList(concatBytes(list, Uint8Array.of(0))), 'SCT_INVALID', /list length/);
  rejects(t, () => parseSctList(list.subarray(0, list.length - 1)), 'SCT_INVALID', /list length/);
  rejects(t, () => parseSctList(Uint8Array.of(0, 0)), 'SCT_INVALID', /empty list/);
  const badVersion = sct.slice();
  badVersion[0] = 1;
  rejects(
    t,
    () => parseSctList(encodeSctList([badVersion])),
    'SCT_INVALID',
    /unsupported SCT version 1/,
  );
  rejects(
    t,
    () => parseSctList(encodeSctList([concatBytes(sct, Uint8Array.of(9))])),
    'SCT_INVALID',
    /trailing bytes/,
  );
  rejects(t, () => parseSctList(encodeSctList([sct.subarray(0, 40)])), 'SCT_INVALID', /truncated/);
});

test('a real public-good leaf: its SCT verifies against the public-good CT log key', (t) => {
  const tm = parseTrustedRoot(
    readFileSync(path.join(PROJECT_ROOT, 'trust-roots', 'public-good.trusted_root.json')),
  );
  const leaf = parseCertificate(fixturePem('x509/fulcio-leaf-2024-03-19.pem')[0]!);
  const issuer = parseCertificate(fixturePem('x509/fulcio-public-good-intermediate.pem')[0]!);
  const r = verifyEmbeddedScts(leaf, issuer, tm.ctlogs);
  t.is(r.length, 1);
  t.is(r[0]!.baseUrl, 'https://ctfe.sigstore.dev/2022');
  t.true(r[0]!.timestamp >= leaf.notBefore && r[0]!.timestamp <= leaf.notAfter);
  // The wrong issuer key breaks the binding.
  rejects(t, () => verifyEmbeddedScts(leaf, leaf, tm.ctlogs), 'SCT_INVALID', /does not verify/);
});

sharedTest(
  'shared conformance: bundle-with-sct-with-extensions verifies against its trusted root',
  (t) => {
    const dir = conformanceCase('bundle-with-sct-with-extensions');
    const tm = parseTrustedRoot(readFileSync(path.join(dir, 'trusted_root.json')));
    const b = JSON.parse(readFileSync(path.join(dir, 'bundle.sigstore.json'), 'utf8'));
    const leaf = parseCertificate(
      new Uint8Array(Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64')),
    );
    const issuer = parseCertificate(
      tm.certificateAuthorities.find(
        (c) => parseCertificate(c.certChain[0]!).subject.commonName === leaf.issuer.commonName,
      )!.certChain[0]!,
    );
    const scts = parseSctList(leaf.embeddedSctList!);
    t.true(scts.some((s) => s.extensions.length > 0));
    const r = verifyEmbeddedScts(leaf, issuer, tm.ctlogs);
    t.true(r.length >= 1);
  },
);

test("an SCT timestamp outside the certificate's validity is SCT_INVALID; both ends inclusive (checklist H58)", (t) => {
  // issueWithSct's leaf is valid T0 .. T0 + 10 min.
  t.is(
    verifyEmbeddedScts(parseCertificate(issueWithSct({ sctTimestamp: T0 })), intermediate, [log])
      .length,
    1,
    'at notBefore',
  );
  t.is(
    verifyEmbeddedScts(
      parseCertificate(issueWithSct({ sctTimestamp: T0 + 10 * MIN })),
      intermediate,
      [log],
    ).length,
    1,
    'at notAfter',
  );
  rejects(
    t,
    () =>
      verifyEmbeddedScts(
        parseCertificate(issueWithSct({ sctTimestamp: T0 + 3 * 365 * 24 * 60 * MIN })),
        intermediate,
        [log],
      ),
    'SCT_INVALID',
    /^no valid SCT: SCT timestamp 2028-01-01T12:00:00\.000Z from CT log [0-9a-f]{64} is outside the certificate's validity 2025-01-01T12:00:00\.000Z\.\.2025-01-01T12:10:00\.000Z$/,
  );
  rejects(
    t,
    () =>
      verifyEmbeddedScts(
        parseCertificate(issueWithSct({ sctTimestamp: T0 + 10 * MIN + 1 })),
        intermediate,
        [log],
      ),
    'SCT_INVALID',
    /outside the certificate's validity/,
  );
  rejects(
    t,
    () =>
      verifyEmbeddedScts(parseCertificate(issueWithSct({ sctTimestamp: T0 - 1 })), intermediate, [
        log,
      ]),
    'SCT_INVALID',
    /SCT timestamp 2025-01-01T11:59:59\.999Z .* outside the certificate's validity/,
  );
});

test('H55 rebuilding the precertificate TBS: the shape is checked first, the element budget holds', (t) => {
  rejects(
    t,
    () => removeExtensionFromTbs(derBomb(1024 * 1024, 0x31), OID.ctPoison),
    'SCT_INVALID',
    /TBSCertificate: expected SEQUENCE, found identifier octet 0x31/,
  );
  rejects(
    t,
    () => removeExtensionFromTbs(derBomb(1024 * 1024), OID.ctPoison),
    'DER_LIMIT_EXCEEDED',
    /TBSCertificate: more than \d+ elements/,
  );
});

test('removeExtensionFromTbs: a TBS whose last field is not one [3] holding one extensions list has no extensions', (t) => {
  const tbs = (...last: number[]) =>
    Uint8Array.from([0x30, 3 + last.length, 0x02, 0x01, 0x01, ...last]);
  // [3] empty, [3] with two lists, [2] with one list.
  for (const bytes of [
    tbs(0xa3, 0x00),
    tbs(0xa3, 0x04, 0x30, 0x00, 0x30, 0x00),
    tbs(0xa2, 0x02, 0x30, 0x00),
  ])
    rejects(
      t,
      () => removeExtensionFromTbs(bytes, OID.ctPoison),
      'SCT_INVALID',
      /^TBSCertificate: TBSCertificate has no extensions \(at offset 0\)$/,
    );
});
