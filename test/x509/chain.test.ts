import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import type { CertificateAuthority } from '../../src/model/trust-material.js';
import { parseCertificate, type Certificate, type Extension } from '../../src/x509/certificate.js';
import {
  parsedAuthority,
  verifyCertificateChain,
  verifyIssuedChain,
} from '../../src/x509/chain.js';
import {
  basicConstraintsExtension,
  ctPoisonExtension,
  deterministicP256Signer,
  extKeyUsageExtension,
  issueCertificate,
  keyUsageExtension,
  subjectAltNameExtension,
} from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';

import { conformanceCase, conformanceTrustedRootPath, sharedTest } from '../helpers/shared.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import {
  authority,
  buildPki,
  caCert,
  defaultLeafExtensions,
  fixturePem,
  INTERMEDIATE_DN,
  leafCert,
  MIN,
  ROOT_DN,
  seed,
  T0,
  YEAR,
} from './helpers.js';

const pki = buildPki('chain');
const leaf = parseCertificate(pki.leaf);
const intermediate = parseCertificate(pki.intermediate);

function rejects(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  code: ErrorCode,
  pattern: RegExp,
): StellaError | undefined {
  const e = t.throws(fn, { instanceOf: StellaError });
  t.is(e?.code, code, e?.message);
  t.regex(e?.message ?? '', pattern);
  return e;
}

test('valid chain: path is leaf, intermediate, root', (t) => {
  const r = verifyCertificateChain(leaf, [], [pki.ca], [T0 + MIN]);
  t.is(r.ca, pki.ca);
  t.deepEqual(
    r.path.map((c) => c.subject.commonName),
    [undefined, 'stella-intermediate', 'stella-root'],
  );
});

test("a CA's chain is parsed once: every verification under it shares the same certificates", (t) => {
  // Parsing the trust material once is the verifier's speed contract (a shipment verifies
  // thousands of bundles under one root); a cache that misses would parse it per bundle.
  t.is(parsedAuthority(pki.ca), parsedAuthority(pki.ca));
  const a = verifyCertificateChain(leaf, [], [pki.ca], [T0 + MIN]);
  const b = verifyCertificateChain(leaf, [], [pki.ca], [T0 + MIN]);
  t.is(a.path[1], b.path[1]);
  t.is(a.path[2], b.path[2]);
  t.is(a.path[2], parsedAuthority(pki.ca).certs.at(-1));
});

test('a trusted CA whose certChain cannot be read is passed over when another CA issues the leaf; alone, it is TRUSTED_ROOT_INVALID naming it', (t) => {
  const unreadable: CertificateAuthority = { ...pki.ca, certChain: [Uint8Array.of(0x30, 0x00)] };
  const empty: CertificateAuthority = { ...pki.ca, certChain: [] };
  for (const broken of [unreadable, empty])
    t.is(verifyCertificateChain(leaf, [], [broken, pki.ca], [T0 + MIN]).ca, pki.ca);
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [unreadable], [T0 + MIN]),
    'TRUSTED_ROOT_INVALID',
    /^trusted root certificate 0 of .*: /,
  );
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [empty], [T0 + MIN]),
    'TRUSTED_ROOT_INVALID',
    /has an empty certChain$/,
  );
});

test('a v0.1 bundle may ship the intermediate when it is byte-identical to the trusted one', (t) => {
  t.notThrows(() => verifyCertificateChain(leaf, [intermediate], [pki.ca], [T0]));
});

test('validity is inclusive at both ends of the leaf window', (t) => {
  t.notThrows(() => verifyCertificateChain(leaf, [], [pki.ca], [leaf.notBefore, leaf.notAfter]));
});

test('leaf outside its window at the verified time: CERT_EXPIRED', (t) => {
  const e = rejects(
    t,
    () => verifyCertificateChain(leaf, [], [pki.ca], [T0 + 11 * MIN]),
    'CERT_EXPIRED',
    /^certificate expired: leaf valid 2025-01-01T12:00:00.000Z..2025-01-01T12:10:00.000Z, verified time 2025-01-01T12:11:00.000Z$/,
  );
  t.is(e?.check, 'certificate-chain');
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [pki.ca], [T0 - 1]),
    'CERT_EXPIRED',
    /leaf valid/,
  );
});

test('every verified time must pass (checklist D28)', (t) => {
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [pki.ca], [T0 + MIN, T0 + 20 * MIN]),
    'CERT_EXPIRED',
    /verified time 2025-01-01T12:20:00.000Z/,
  );
});

test('the CA validFor must contain every verified time; its end is inclusive', (t) => {
  const ended = authority([pki.intermediate, pki.root], T0 - YEAR, T0 + 5 * MIN);
  t.notThrows(() => verifyCertificateChain(leaf, [], [ended], [T0 + 5 * MIN]));
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [ended], [T0 + 5 * MIN + 1]),
    'CERT_CHAIN_INVALID',
    /outside the validity window of certificate authority/,
  );
  const notYet = authority([pki.intermediate, pki.root], T0 + MIN);
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [notYet], [T0]),
    'CERT_CHAIN_INVALID',
    /outside the validity window/,
  );
});

test('a bundle that ships a root certificate is refused (checklist C19)', (t) => {
  rejects(
    t,
    () => verifyCertificateChain(leaf, [intermediate, parseCertificate(pki.root)], [pki.ca], [T0]),
    'CERT_CHAIN_INVALID',
    /^Certificate chain invalid: bundle includes a root certificate$/,
  );
});

test('a bundle intermediate that is not in the trusted root is refused (checklist C19)', (t) => {
  // Same name, different key: a look-alike intermediate.
  const other = deterministicP256Signer(seed('chain:rogue-intermediate'));
  const rogue = parseCertificate(
    caCert({
      name: INTERMEDIATE_DN,
      issuerName: ROOT_DN,
      signer: other,
      issuerSigner: other,
      serial: 3n,
    }),
  );
  rejects(
    t,
    () => verifyCertificateChain(leaf, [rogue], [pki.ca], [T0]),
    'CERT_CHAIN_INVALID',
    /intermediate certificate O=stella.test, CN=stella-intermediate in the bundle is not in the trusted root/,
  );
});

test('a leaf signed by another key under the same issuer name is refused', (t) => {
  const rogueCa = deterministicP256Signer(seed('chain:rogue-ca'));
  const forged = parseCertificate(
    leafCert({ issuerSigner: rogueCa, subjectSpki: pki.leafSigner.spki }),
  );
  rejects(
    t,
    () => verifyCertificateChain(forged, [], [pki.ca], [T0]),
    'CERT_CHAIN_INVALID',
    /leaf certificate signature does not verify/,
  );
});

test('a leaf from an unknown issuer is refused', (t) => {
  const other = buildPki('chain-other');
  const stranger = parseCertificate(
    leafCert({
      issuerName: { commonName: 'elsewhere' },
      issuerSigner: other.intermediateSigner,
      subjectSpki: other.leafSigner.spki,
    }),
  );
  rejects(
    t,
    () => verifyCertificateChain(stranger, [], [pki.ca], [T0]),
    'CERT_CHAIN_INVALID',
    /leaf issuer CN=elsewhere is not a trusted certificate authority/,
  );
});

function leafWith(extensions: Parameters<typeof leafCert>[0]['extensions']): Certificate {
  return parseCertificate(
    leafCert({
      issuerSigner: pki.intermediateSigner,
      subjectSpki: pki.leafSigner.spki,
      extensions,
    }),
  );
}
const san = subjectAltNameExtension({ uris: ['https://example.com/wf'] });

test('leaf usage: a CA leaf, missing codeSigning or digitalSignature is CERT_USAGE_INVALID (checklist C21)', (t) => {
  const isCa = leafWith([
    san,
    keyUsageExtension(['digitalSignature', 'keyCertSign']),
    extKeyUsageExtension([OID.ekuCodeSigning]),
    basicConstraintsExtension(true),
  ]);
  rejects(
    t,
    () => verifyCertificateChain(isCa, [], [pki.ca], [T0]),
    'CERT_USAGE_INVALID',
    /leaf certificate is a CA certificate/,
  );
  const noEku = leafWith([
    san,
    keyUsageExtension(['digitalSignature']),
    extKeyUsageExtension(['1.3.6.1.5.5.7.3.1']),
  ]);
  rejects(
    t,
    () => verifyCertificateChain(noEku, [], [pki.ca], [T0]),
    'CERT_USAGE_INVALID',
    /codeSigning/,
  );
  const noEkuAtAll = leafWith([san, keyUsageExtension(['digitalSignature'])]);
  rejects(
    t,
    () => verifyCertificateChain(noEkuAtAll, [], [pki.ca], [T0]),
    'CERT_USAGE_INVALID',
    /codeSigning/,
  );
  const noDs = leafWith([
    san,
    keyUsageExtension(['keyEncipherment']),
    extKeyUsageExtension([OID.ekuCodeSigning]),
  ]);
  rejects(
    t,
    () => verifyCertificateChain(noDs, [], [pki.ca], [T0]),
    'CERT_USAGE_INVALID',
    /digitalSignature/,
  );
});

test('issuer constraints: not a CA, no keyCertSign, path length exceeded', (t) => {
  const rootSigner = pki.rootSigner;
  const root0 = caCert({
    name: ROOT_DN,
    issuerName: ROOT_DN,
    signer: rootSigner,
    issuerSigner: rootSigner,
    pathLen: 0,
  });
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [authority([pki.intermediate, root0], 0)], [T0]),
    'CERT_CHAIN_INVALID',
    /path length constraint of CA certificate O=stella.test, CN=stella-root \(0\) exceeded/,
  );
  const notCa = caCert({
    name: INTERMEDIATE_DN,
    issuerName: ROOT_DN,
    signer: pki.intermediateSigner,
    issuerSigner: rootSigner,
    ca: false,
  });
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [authority([notCa, pki.root], 0)], [T0]),
    'CERT_CHAIN_INVALID',
    /stella-intermediate is not a CA/,
  );
  const noSign = caCert({
    name: INTERMEDIATE_DN,
    issuerName: ROOT_DN,
    signer: pki.intermediateSigner,
    issuerSigner: rootSigner,
    keyUsage: ['digitalSignature'],
  });
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [authority([noSign, pki.root], 0)], [T0]),
    'CERT_CHAIN_INVALID',
    /lacks the keyCertSign/,
  );
  const wrongRoot = deterministicP256Signer(seed('chain:other-root'));
  const otherRoot = caCert({
    name: ROOT_DN,
    issuerName: ROOT_DN,
    signer: wrongRoot,
    issuerSigner: wrongRoot,
  });
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [authority([pki.intermediate, otherRoot], 0)], [T0]),
    'CERT_CHAIN_INVALID',
    /signature on CA certificate O=stella.test, CN=stella-intermediate does not verify/,
  );
});

/** An extension no verifier knows (OID under the ISO example arc), NULL-valued. */
const unknownExtension = (critical: boolean): Extension => ({
  oid: '1.2.3.4.5.6.7',
  critical,
  value: Uint8Array.of(0x05, 0x00),
});

test('a leaf with an unknown critical extension is refused; the same extension non-critical is not (RFC 5280 4.2)', (t) => {
  const withExt = (critical: boolean): Certificate =>
    parseCertificate(
      leafCert({
        issuerSigner: pki.intermediateSigner,
        subjectSpki: pki.leafSigner.spki,
        extensions: [
          ...defaultLeafExtensions(pki.intermediateSigner.spki, pki.leafSigner.spki),
          unknownExtension(critical),
        ],
      }),
    );
  // Control: an unknown extension is fine when not critical, so the refusal below is about criticality.
  t.notThrows(() => verifyCertificateChain(withExt(false), [], [pki.ca], [T0]));
  const e = rejects(
    t,
    () => verifyCertificateChain(withExt(true), [], [pki.ca], [T0]),
    'CERT_USAGE_INVALID',
    /^leaf certificate has unsupported critical extension\(s\) 1\.2\.3\.4\.5\.6\.7$/,
  );
  t.is(e?.check, 'certificate-chain');
});

test('a CA certificate (intermediate or root) with an unknown critical extension is refused (RFC 5280 4.2)', (t) => {
  const intermediateWith = (critical: boolean): Uint8Array =>
    caCert({
      name: INTERMEDIATE_DN,
      issuerName: ROOT_DN,
      signer: pki.intermediateSigner,
      issuerSigner: pki.rootSigner,
      serial: 2n,
      pathLen: 0,
      extraExtensions: [unknownExtension(critical)],
    });
  t.notThrows(
    () =>
      verifyCertificateChain(leaf, [], [authority([intermediateWith(false), pki.root], 0)], [T0]),
    'non-critical (control)',
  );
  rejects(
    t,
    () =>
      verifyCertificateChain(leaf, [], [authority([intermediateWith(true), pki.root], 0)], [T0]),
    'CERT_CHAIN_INVALID',
    /^Certificate chain invalid: CA certificate O=stella\.test, CN=stella-intermediate has unsupported critical extension\(s\) 1\.2\.3\.4\.5\.6\.7 \(trusted root https:\/\/ca\.stella\.test\)$/,
  );
  const rootWith = (critical: boolean): Uint8Array =>
    caCert({
      name: ROOT_DN,
      issuerName: ROOT_DN,
      signer: pki.rootSigner,
      issuerSigner: pki.rootSigner,
      pathLen: 1,
      extraExtensions: [unknownExtension(critical)],
    });
  t.notThrows(
    () =>
      verifyCertificateChain(leaf, [], [authority([pki.intermediate, rootWith(false)], 0)], [T0]),
    'non-critical on the root (control)',
  );
  rejects(
    t,
    () =>
      verifyCertificateChain(leaf, [], [authority([pki.intermediate, rootWith(true)], 0)], [T0]),
    'CERT_CHAIN_INVALID',
    /CA certificate O=stella\.test, CN=stella-root has unsupported critical extension\(s\) 1\.2\.3\.4\.5\.6\.7/,
  );
});

test('an expired intermediate at the verified time is CERT_EXPIRED', (t) => {
  const shortInt = caCert({
    name: INTERMEDIATE_DN,
    issuerName: ROOT_DN,
    signer: pki.intermediateSigner,
    issuerSigner: pki.rootSigner,
    notBefore: T0 - YEAR,
    notAfter: T0 - 1,
  });
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [authority([shortInt, pki.root], 0)], [T0]),
    'CERT_EXPIRED',
    /certificate expired: intermediate valid/,
  );
});

test('tries every CA and reports the most specific failure', (t) => {
  const other = buildPki('chain-other2');
  // The first CA cannot issue this leaf; the second can.
  t.is(verifyCertificateChain(leaf, [], [other.ca, pki.ca], [T0]).ca, pki.ca);
  // Neither works: the expired-leaf error beats "not a trusted certificate authority".
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [other.ca, pki.ca], [T0 + YEAR]),
    'CERT_EXPIRED',
    /leaf valid/,
  );
  // A rotated CA under the same name: the old one fails its time window, the new one succeeds.
  const oldCa = authority([pki.intermediate, pki.root], 0, T0 - 1);
  t.is(verifyCertificateChain(leaf, [], [oldCa, pki.ca], [T0]).ca, pki.ca);
});

test('no verified time is an error, not a pass', (t) => {
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [pki.ca], []),
    'NO_VERIFIED_TIME',
    /no verified time/,
  );
});

test('caches do not leak between CertificateAuthority objects', (t) => {
  const rootSigner = pki.rootSigner;
  const root0 = caCert({
    name: ROOT_DN,
    issuerName: ROOT_DN,
    signer: rootSigner,
    issuerSigner: rootSigner,
    pathLen: 0,
  });
  const bad: CertificateAuthority = authority([pki.intermediate, root0], 0);
  for (let i = 0; i < 3; i++) {
    t.throws(() => verifyCertificateChain(leaf, [], [bad], [T0]));
    t.notThrows(() => verifyCertificateChain(leaf, [], [pki.ca], [T0]));
  }
});

const publicGood = parseTrustedRoot(
  readFileSync(path.join(PROJECT_ROOT, 'trust-roots', 'public-good.trusted_root.json')),
);

test('a real public-good leaf chains at its signing time and is expired now', (t) => {
  const real = parseCertificate(fixturePem('x509/fulcio-leaf-2024-03-19.pem')[0]!);
  const integratedTime = 1710869186_000;
  const r = verifyCertificateChain(real, [], publicGood.certificateAuthorities, [integratedTime]);
  t.is(r.path.length, 3);
  t.is(r.ca.uri, 'https://fulcio.sigstore.dev');
  rejects(
    t,
    () =>
      verifyCertificateChain(real, [], publicGood.certificateAuthorities, [Date.UTC(2030, 0, 1)]),
    'CERT_EXPIRED',
    /leaf valid 2024-03-19T17:26:26.000Z..2024-03-19T17:36:26.000Z/,
  );
});

sharedTest(
  'shared conformance: happy-path and staging leaves chain; a production leaf does not chain to staging (checklist C20)',
  (t) => {
    const load = (
      name: string,
    ): { leaf: Certificate; times: number[]; tm: ReturnType<typeof parseTrustedRoot> } => {
      const dir = conformanceCase(name);
      const b = JSON.parse(readFileSync(path.join(dir, 'bundle.sigstore.json'), 'utf8'));
      const vm = b.verificationMaterial;
      const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain.certificates[0].rawBytes;
      const trp = conformanceTrustedRootPath(dir);
      const times = (vm.tlogEntries ?? [])
        .map((e: { integratedTime?: string }) => Number(e.integratedTime ?? 0) * 1000)
        .filter((x: number) => x > 0);
      return {
        leaf: parseCertificate(new Uint8Array(Buffer.from(raw, 'base64'))),
        times,
        tm: parseTrustedRoot(readFileSync(trp)),
      };
    };
    const v01 = load('happy-path-v0.1');
    t.is(
      verifyCertificateChain(v01.leaf, [], v01.tm.certificateAuthorities, v01.times).path.length,
      3,
    );
    const v03 = load('happy-path-v0.3');
    t.notThrows(() =>
      verifyCertificateChain(v03.leaf, [], v03.tm.certificateAuthorities, v03.times),
    );
    const staging = load('rekor2-happy-path');
    rejects(
      t,
      () => verifyCertificateChain(v03.leaf, [], staging.tm.certificateAuthorities, v03.times),
      'CERT_CHAIN_INVALID',
      /signature does not verify|not a trusted certificate authority/,
    );
    const expired = load('intoto-expired-certificate_fail');
    rejects(
      t,
      () =>
        verifyCertificateChain(expired.leaf, [], expired.tm.certificateAuthorities, expired.times),
      'CERT_EXPIRED',
      /^certificate not yet valid: leaf valid 2030-01-01/,
    );
  },
);

test('a precertificate (CT poison) is refused as the leaf and as a CA (checklist H58)', (t) => {
  const poisoned = leafCert({
    issuerSigner: pki.intermediateSigner,
    subjectSpki: pki.leafSigner.spki,
    extensions: [
      ...defaultLeafExtensions(pki.intermediateSigner.spki, pki.leafSigner.spki),
      ctPoisonExtension(),
    ],
  });
  t.true(parseCertificate(poisoned).hasCtPoison);
  rejects(
    t,
    () => verifyCertificateChain(parseCertificate(poisoned), [], [pki.ca], [T0 + MIN]),
    'CERT_USAGE_INVALID',
    /^leaf certificate is a precertificate \(CT poison extension 1\.3\.6\.1\.4\.1\.11129\.2\.4\.3\): a precertificate never signs$/,
  );
  // An intermediate carrying the poison, in the trusted chain.
  const inter = issueCertificate({
    serial: 2n,
    issuerName: ROOT_DN,
    subjectName: INTERMEDIATE_DN,
    notBefore: T0 - YEAR,
    notAfter: T0 + 10 * YEAR,
    subjectPublicKeySpki: pki.intermediateSigner.spki,
    extensions: [
      keyUsageExtension(['keyCertSign', 'cRLSign']),
      basicConstraintsExtension(true, 0),
      ctPoisonExtension(),
    ],
    signer: pki.rootSigner,
  });
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [authority([inter, pki.root], T0 - YEAR)], [T0 + MIN]),
    'CERT_CHAIN_INVALID',
    /CA certificate O=stella\.test, CN=stella-intermediate is a precertificate/,
  );
});

test("a certificate whose authority key identifier names another key than its issuer's is refused, though the issuer signed it (OpenSSL and sigstore-js refuse it too)", (t) => {
  const stranger = deterministicP256Signer(seed('chain:aki-stranger'));
  const subject = deterministicP256Signer(seed('chain:aki-leaf'));
  const leafNaming = (issuerSpki: Uint8Array | undefined): Certificate =>
    parseCertificate(
      leafCert({
        issuerSigner: pki.intermediateSigner,
        subjectSpki: subject.spki,
        extensions: defaultLeafExtensions(issuerSpki ?? stranger.spki, subject.spki).filter(
          (e) => issuerSpki !== undefined || e.oid !== OID.authorityKeyIdentifier,
        ),
      }),
    );
  rejects(
    t,
    () => verifyCertificateChain(leafNaming(stranger.spki), [], [pki.ca], [T0 + MIN]),
    'CERT_CHAIN_INVALID',
    /^Certificate chain invalid: leaf certificate: its authority key identifier [0-9a-f]{40} is not the subject key identifier [0-9a-f]{40} of O=stella\.test, CN=stella-intermediate$/,
  );
  // Controls: the same leaf naming the intermediate's key, and one with no AKI, chain.
  t.notThrows(() =>
    verifyCertificateChain(leafNaming(pki.intermediateSigner.spki), [], [pki.ca], [T0 + MIN]),
  );
  t.notThrows(() => verifyCertificateChain(leafNaming(undefined), [], [pki.ca], [T0 + MIN]));
  // Between CAs: an intermediate the root signed, naming the stranger's key as the root's.
  const root = parseCertificate(pki.root);
  const misnamed = parseCertificate(
    caCert({
      name: INTERMEDIATE_DN,
      issuerName: ROOT_DN,
      signer: pki.intermediateSigner,
      issuerSigner: pki.rootSigner,
      serial: 2n,
      pathLen: 0,
      authorityKeySpki: stranger.spki,
    }),
  );
  rejects(
    t,
    () => verifyIssuedChain([leaf, misnamed, root], [root], [leaf.notBefore], 'roots.pem'),
    'CERT_CHAIN_INVALID',
    /CA certificate O=stella\.test, CN=stella-intermediate: its authority key identifier [0-9a-f]{40} is not the subject key identifier [0-9a-f]{40} of O=stella\.test, CN=stella-root \(trusted root roots\.pem\)$/,
  );
  // Without the root in the chain, the root is looked up by name, key identifier and signature.
  rejects(
    t,
    () => verifyIssuedChain([leaf, misnamed], [root], [leaf.notBefore], 'roots.pem'),
    'CERT_CHAIN_INVALID',
    /does not end at a root in roots\.pem/,
  );
});

test("a CA certificate the root signed but whose issuer name is not the root's is refused (RFC 5280 name chaining)", (t) => {
  // The root's key signed it, and its authority key identifier names the root's key: only the
  // issuer name is wrong, and a chain is linked by names as well as by keys.
  const renamed = caCert({
    name: INTERMEDIATE_DN,
    issuerName: { organization: 'stella.test', commonName: 'not-the-root' },
    signer: pki.intermediateSigner,
    issuerSigner: pki.rootSigner,
    serial: 2n,
    pathLen: 0,
  });
  const notIssued =
    /^Certificate chain invalid: CA certificate O=stella\.test, CN=stella-intermediate is not issued by O=stella\.test, CN=stella-root/;
  rejects(
    t,
    () => verifyCertificateChain(leaf, [], [authority([renamed, pki.root], T0 - YEAR)], [T0]),
    'CERT_CHAIN_INVALID',
    notIssued,
  );
  const root = parseCertificate(pki.root);
  rejects(
    t,
    () =>
      verifyIssuedChain(
        [leaf, parseCertificate(renamed), root],
        [root],
        [leaf.notBefore],
        'roots.pem',
      ),
    'CERT_CHAIN_INVALID',
    notIssued,
  );
  // Control: the same certificate with the root's name chains.
  t.notThrows(() => verifyCertificateChain(leaf, [], [pki.ca], [T0]));
});

// The signing side (signer.yaml certificate.validateChain) checks Fulcio's answer with the
// same rules; it used to check only that each link's signature verified (issue 8).
test('an issued chain is checked like a verified one and must end at a configured root', (t) => {
  const root = parseCertificate(pki.root);
  t.notThrows(() => verifyIssuedChain([leaf, intermediate], [root], [leaf.notBefore], 'roots.pem'));
  t.notThrows(() =>
    verifyIssuedChain([leaf, intermediate, root], [root], [leaf.notBefore], 'roots.pem'),
  );
  const otherSigner = deterministicP256Signer(seed('chain:issued-other-root'));
  const otherRoot = parseCertificate(
    caCert({ name: ROOT_DN, issuerName: ROOT_DN, signer: otherSigner, issuerSigner: otherSigner }),
  );
  rejects(
    t,
    () => verifyIssuedChain([leaf, intermediate], [otherRoot], [leaf.notBefore], 'roots.pem'),
    'CERT_CHAIN_INVALID',
    /does not end at a root in roots\.pem/,
  );
  rejects(
    t,
    () => verifyIssuedChain([root], [root], [T0], 'roots.pem'),
    'CERT_CHAIN_INVALID',
    /a root certificate, not a leaf/,
  );
  // What the old check let through: every signature verifies, but the intermediate may not issue.
  const notCa = parseCertificate(
    caCert({
      name: INTERMEDIATE_DN,
      issuerName: ROOT_DN,
      signer: pki.intermediateSigner,
      issuerSigner: pki.rootSigner,
      ca: false,
    }),
  );
  rejects(
    t,
    () => verifyIssuedChain([leaf, notCa], [root], [leaf.notBefore], 'roots.pem'),
    'CERT_CHAIN_INVALID',
    /stella-intermediate is not a CA/,
  );
  const noEku = leafWith([san, keyUsageExtension(['digitalSignature'])]);
  rejects(
    t,
    () => verifyIssuedChain([noEku, intermediate], [root], [noEku.notBefore], 'roots.pem'),
    'CERT_USAGE_INVALID',
    /codeSigning/,
  );
  const shortInt = parseCertificate(
    caCert({
      name: INTERMEDIATE_DN,
      issuerName: ROOT_DN,
      signer: pki.intermediateSigner,
      issuerSigner: pki.rootSigner,
      notBefore: T0 - YEAR,
      notAfter: T0 - 1,
    }),
  );
  rejects(
    t,
    () => verifyIssuedChain([leaf, shortInt], [root], [leaf.notBefore], 'roots.pem'),
    'CERT_EXPIRED',
    /intermediate valid/,
  );
});
