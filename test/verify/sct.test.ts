/**
 * Step 3 end to end: a certificate bundle must carry an SCT from a CT log of the trust root
 * (requireSCT, on by default). The primitive is tested in test/x509/sct.test.ts; here the
 * pipeline must actually run it: a missing or untrusted SCT fails the bundle, and a passing
 * step names the log that vouched.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from '../../src/crypto.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { bundleToJson } from '../../src/bundle/serialize.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { toBase64, toHex, utf8 } from '../../src/util/encoding.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import { buildPolicy, type PolicyOptions } from '../../src/verify/policy.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { derToPem } from '../../src/util/pem.js';
import { deterministicP256Signer } from '../../src/x509/issue.js';
import {
  INTERMEDIATE_NAME,
  bundleFromRekorResponse,
  seedFromString,
} from '../../src/sandbox/authority/index.js';
import { StellaError } from '../../src/errors.js';
import type { VerifyInput } from '../../src/verify/context.js';
import { verifySctStep } from '../../src/verify/sct.js';
import { verifyCertificateChain } from '../../src/x509/chain.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import {
  authority,
  buildPki,
  defaultLeafExtensions,
  leafCert,
  ROOT_DN,
  T0 as X509_T0,
  YEAR,
} from '../x509/helpers.js';
import { githubIdentity, ISSUER_URL, testAuthority } from '../helpers/authority-bundles.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const MANIFEST = JSON.parse(readFileSync(path.join(SAMPLES, 'samples.json'), 'utf8')) as {
  trustedRoot: string;
  bundles: { name: string; bundle: string; identity?: string; issuer?: string }[];
};
const BLOB = MANIFEST.bundles.find((b) => b.name === 'blob')!;
const TRUST = parseTrustedRoot(readFileSync(path.join(SAMPLES, MANIFEST.trustedRoot)));
const ARTIFACT = new Uint8Array(readFileSync(path.join(SAMPLES, 'artifact.txt')));
const NOW = Date.UTC(2025, 6, 1);
const T = Date.UTC(2025, 5, 1, 12, 0, 0);

async function verify(
  bundleJson: string,
  trust = TRUST,
  identity = BLOB.identity!,
  issuer = BLOB.issuer!,
  extra: PolicyOptions = {},
) {
  return verifyBundleReport({
    bundle: parseBundle(bundleJson),
    artifact: { kind: 'bytes', data: ARTIFACT },
    trust,
    policy: buildPolicy({
      certificateIdentity: literalPattern(identity),
      certificateOidcIssuer: issuer,
      now: NOW,
      ...extra,
    }),
  });
}

test('a passing SCT step names the CT log of the trust root that vouched for the certificate', async (t) => {
  const r = await verify(readFileSync(path.join(SAMPLES, BLOB.bundle), 'utf8'));
  t.true(r.ok, r.error?.message);
  const sct = r.checks.find((c) => c.check === 'sct')!;
  t.is(sct.status, 'pass');
  const scts = (sct.details as { scts: { baseUrl: string; logId: string }[] }).scts;
  t.deepEqual(
    scts.map((s) => [s.baseUrl, s.logId]),
    TRUST.ctlogs.map((l) => [l.baseUrl, toHex(l.logId)]),
  );
});

test('an SCT from a CT log the trust root does not list fails the bundle (SCT_INVALID)', async (t) => {
  const r = await verify(readFileSync(path.join(SAMPLES, BLOB.bundle), 'utf8'), {
    ...TRUST,
    ctlogs: [],
  });
  t.false(r.ok);
  t.is(r.error?.code, 'SCT_INVALID', r.error?.message);
  t.is(r.error?.check, 'sct');
  t.regex(r.error?.message ?? '', /^no valid SCT: SCT from unknown CT log [0-9a-f]{64}$/);
});

test('a certificate with no embedded SCT fails unless requireSCT is off (SCT_MISSING)', async (t) => {
  // A Fulcio-like leaf issued by the sandbox intermediate, never sent to a CT log, logged in
  // the sandbox Rekor: everything verifies except the SCT.
  const a = testAuthority('verify-sct');
  const key = deterministicP256Signer(seedFromString('verify-sct-leaf'));
  const issuer = a.keys.intermediateCa.certSigner;
  const identity = githubIdentity('org/repo');
  const leaf = leafCert({
    serial: 0x5c7n,
    issuerName: INTERMEDIATE_NAME,
    notBefore: T,
    notAfter: T + 10 * 60_000,
    subjectSpki: key.spki,
    extensions: defaultLeafExtensions(issuer.spki, key.spki, identity, ISSUER_URL),
    issuerSigner: issuer,
  });
  const signature = key.sign(ARTIFACT);
  const entry = a.rekor.createEntry(
    {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: toHex(sha256(ARTIFACT)) } },
        signature: {
          content: toBase64(signature),
          publicKey: { content: toBase64(utf8.encode(derToPem(leaf))) },
        },
      },
    },
    { now: T + 5000 },
  );
  const json = JSON.stringify(
    bundleToJson(
      bundleFromRekorResponse({
        content: {
          kind: 'messageSignature',
          messageDigest: { algorithm: 'SHA2_256', digest: sha256(ARTIFACT) },
          signature,
        },
        signer: { certificate: leaf },
        rekorEntry: entry.response,
      }),
    ),
  );

  const required = await verify(json, a.trustMaterial(), identity, ISSUER_URL);
  t.false(required.ok);
  t.is(required.error?.code, 'SCT_MISSING', required.error?.message);
  t.is(required.error?.message, 'leaf certificate has no embedded SCT');
  // Control: the same bundle verifies when SCTs are not required, so the SCT is all that was missing.
  const optional = await verify(json, a.trustMaterial(), identity, ISSUER_URL, {
    requireSct: false,
  });
  t.true(optional.ok, optional.error?.message);
  t.is(optional.checks.find((c) => c.check === 'sct')?.status, 'skip');
});

test('the SCT step runs whatever the path length: a leaf issued directly by a trusted root needs an SCT too', (t) => {
  // Chains built by the real chain step: leaf -> root (two certificates) and leaf ->
  // intermediate -> root (three). Neither leaf has an SCT, so both must be refused.
  const pki = buildPki('verify-sct-path-length');
  const direct = parseCertificate(
    leafCert({
      issuerName: ROOT_DN,
      issuerSigner: pki.rootSigner,
      subjectSpki: pki.leafSigner.spki,
      extensions: defaultLeafExtensions(pki.rootSigner.spki, pki.leafSigner.spki),
    }),
  );
  const viaIntermediate = parseCertificate(pki.leaf);
  for (const [leaf, ca, length] of [
    [direct, authority([pki.root], X509_T0 - YEAR), 2],
    [viaIntermediate, pki.ca, 3],
  ] as const) {
    const chain = verifyCertificateChain(leaf, [], [ca], [X509_T0]);
    t.is(chain.path.length, length);
    // The step reads the trust's CT logs from its input and the leaf and path from the state.
    const input = { trust: TRUST } as VerifyInput;
    const e = t.throws(
      () =>
        verifySctStep(input, {
          signingKey: { kind: 'certificate', leaf, intermediates: [], key: leaf.publicKey },
          chain,
          warnings: [],
        }),
      { instanceOf: StellaError },
      `path of ${length}`,
    );
    t.is(e?.code, 'SCT_MISSING', `path of ${length}: ${e?.message}`);
  }
});
