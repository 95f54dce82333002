/**
 * Step 6, the policy: the OIDC issuer is pinned exactly. Bundles are signed for real by an
 * in-process sandbox authority whose OIDC issuer URL is chosen per test, so the certificate's
 * issuer extension is the only thing that differs between the accepted and the refused run.
 */
import test, { type ExecutionContext } from 'ava';
import { parseBundle } from '../../src/bundle/parse.js';
import { bundleToJson } from '../../src/bundle/serialize.js';
import { utf8 } from '../../src/util/encoding.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import { buildPolicy } from '../../src/verify/policy.js';
import { StellaError } from '../../src/errors.js';
import { explainIdentity, verifyIdentityStep } from '../../src/verify/identity.js';
import { certificateIdentities } from '../../src/x509/certificate.js';
import type { VerifyInput } from '../../src/verify/context.js';
import { parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import { subjectAltNameExtension } from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';
import { ISSUER_URL, signBlob, testAuthority } from '../helpers/authority-bundles.js';
import { buildPki, defaultLeafExtensions, leafCert } from '../x509/helpers.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';
import { nearMissHint } from '../../src/verify/identity-hints.js';

const ARTIFACT = utf8.encode('identity test artifact\n');
const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const NOW = Date.UTC(2025, 6, 1);

/** A bundle whose certificate carries `certIssuer`, verified with `policyIssuer`. */
async function verifyWithIssuers(label: string, certIssuer: string, policyIssuer: string) {
  const a = testAuthority(`identity:${label}`, certIssuer);
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T });
  const bundle = parseBundle(JSON.stringify(bundleToJson(s.bundle)));
  const policy = buildPolicy({
    certificateIdentity: literalPattern(s.identity),
    certificateOidcIssuer: policyIssuer,
    now: NOW,
  });
  return verifyBundleReport({
    bundle,
    artifact: { kind: 'bytes', data: ARTIFACT },
    trust: a.trustMaterial(),
    policy,
  });
}

function issuerRefused(
  t: ExecutionContext,
  r: Awaited<ReturnType<typeof verifyWithIssuers>>,
  certIssuer: string,
  policyIssuer: string,
  /** How the two differ, when a person would not see it (said, the comparison still exact). */
  nearMiss?: string,
): void {
  t.false(r.ok, `certificate issuer ${certIssuer} accepted for policy issuer ${policyIssuer}`);
  t.is(r.error?.code, 'ISSUER_MISMATCH', r.error?.message);
  t.is(r.error?.check, 'policy');
  t.is(
    r.error?.message,
    `issuer mismatch: certificate issuer ${JSON.stringify(certIssuer)}, expected ${JSON.stringify(policyIssuer)}${nearMiss ? ` (${JSON.stringify(policyIssuer)} ${nearMiss}: issuers are compared exactly)` : ''}`,
  );
  // Every earlier step passed: the refusal is the issuer comparison and nothing else.
  t.deepEqual(
    r.checks.filter((c) => c.status === 'fail').map((c) => c.check),
    ['policy'],
  );
}

test('the OIDC issuer is compared exactly: a certificate issuer that merely starts with the pinned one is refused', async (t) => {
  // Control: the same kind of bundle verifies when the policy names its issuer exactly.
  const own = await verifyWithIssuers('exact', ISSUER_URL, ISSUER_URL);
  t.true(own.ok, own.error?.message);
  t.is(own.signer?.issuer, ISSUER_URL);
  // Longer issuers that a prefix (startsWith) comparison would accept.
  for (const [label, certIssuer] of [
    ['dot', `${ISSUER_URL}.evil.example`],
    ['path', `${ISSUER_URL}/evil`],
    ['port', `${ISSUER_URL}:8443`],
  ] as const) {
    const longer = await verifyWithIssuers(label, certIssuer, ISSUER_URL);
    issuerRefused(t, longer, certIssuer, ISSUER_URL);
    // ...and each of them verifies when pinned exactly (the bundle itself is sound).
    const pinned = await verifyWithIssuers(label, certIssuer, certIssuer);
    t.true(pinned.ok, `${certIssuer} pinned exactly: ${pinned.error?.message ?? ''}`);
    t.is(pinned.signer?.issuer, certIssuer, 'the certificate carries the longer issuer');
  }
});

test('the OIDC issuer is compared exactly: a pinned issuer that extends, truncates or re-cases the certificate issuer is refused', async (t) => {
  for (const [policyIssuer, nearMiss] of [
    [`${ISSUER_URL}/`, 'differs only by a trailing /'],
    [ISSUER_URL.slice(0, -1), undefined],
    [ISSUER_URL.replace('https://', ''), undefined],
    [ISSUER_URL.toUpperCase(), 'differs only in letter case'],
  ] as const) {
    issuerRefused(
      t,
      await verifyWithIssuers('exact', ISSUER_URL, policyIssuer),
      ISSUER_URL,
      policyIssuer,
      nearMiss,
    );
  }
  // Whitespace, control characters and wildcards never reach the comparison: refused when the policy is built.
  for (const policyIssuer of [` ${ISSUER_URL}`, `${ISSUER_URL}\n`, 'https://.*', '*']) {
    const e = t.throws(
      () =>
        buildPolicy({
          certificateIdentity: 'repo:org/repo:ref:refs/heads/main',
          certificateOidcIssuer: policyIssuer,
        }),
      { instanceOf: StellaError },
    );
    t.is(e?.code, 'INPUT_INVALID', policyIssuer);
  }
});

// --- which certificate values count as identities ---------------------------------------

const UPN = '1.3.6.1.4.1.311.20.2.3'; // Microsoft UPN: an otherName Fulcio never issues

function leafWithSan(san: Parameters<typeof subjectAltNameExtension>[0]): Certificate {
  const pki = buildPki('identity-san');
  const exts = defaultLeafExtensions(pki.intermediateSigner.spki, pki.leafSigner.spki).map((e) =>
    e.oid === OID.subjectAltName ? subjectAltNameExtension(san) : e,
  );
  return parseCertificate(
    leafCert({
      issuerSigner: pki.intermediateSigner,
      subjectSpki: pki.leafSigner.spki,
      extensions: exts,
    }),
  );
}

/** The policy step on a parsed leaf (by default the issuer is the helpers' own, so only the identity decides). The step reads only the policy from its input. */
function identityStep(
  leaf: Certificate,
  pattern: string,
  issuer = 'https://token.actions.githubusercontent.com',
) {
  const policy = buildPolicy({
    certificateIdentity: pattern,
    certificateOidcIssuer: issuer,
    now: NOW,
  });
  return verifyIdentityStep({ policy } as VerifyInput, {
    signingKey: { kind: 'certificate', leaf, intermediates: [], key: leaf.publicKey },
    warnings: [],
  });
}

test("a leaf with no OIDC issuer extension (neither of Fulcio's two) is refused as such, naming the issuer expected", (t) => {
  const pki = buildPki('identity-no-issuer');
  const exts = defaultLeafExtensions(pki.intermediateSigner.spki, pki.leafSigner.spki).filter(
    (e) => e.oid !== OID.fulcioIssuerV1 && e.oid !== OID.fulcioIssuerV2,
  );
  const leaf = parseCertificate(
    leafCert({
      issuerSigner: pki.intermediateSigner,
      subjectSpki: pki.leafSigner.spki,
      extensions: exts,
    }),
  );
  const e = t.throws(() => identityStep(leaf, 'https://example\\.test/ci'), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'ISSUER_MISMATCH');
  t.is(e?.check, 'policy');
  t.is(
    e?.message,
    'issuer mismatch: certificate has no OIDC issuer extension, expected "https://token.actions.githubusercontent.com"',
  );
});

test('identities are the SAN URIs and emails and the Fulcio username otherName; other otherNames are not', (t) => {
  const leaf = leafWithSan({
    uris: ['https://example.test/ci'],
    emails: ['dev@example.test'],
    otherNames: [
      { oid: OID.fulcioOtherNameSan, value: 'dev-user' },
      { oid: UPN, value: 'admin@corp.test' },
    ],
  });
  t.deepEqual(certificateIdentities(leaf), [
    { field: 'SAN URI', value: 'https://example.test/ci' },
    { field: 'SAN email', value: 'dev@example.test' },
    { field: 'SAN otherName', value: 'dev-user' },
  ]);
  t.is(identityStep(leaf, 'dev-user').matched, 'dev-user');
  // A value under an otherName OID Stella does not read as an identity never matches a policy.
  const e = t.throws(() => identityStep(leaf, 'admin@corp\\.test'), { instanceOf: StellaError });
  t.is(e?.code, 'IDENTITY_MISMATCH');
  // The whole message: every identity offered, the pattern, and no hint when there is none.
  t.is(
    e?.message,
    'identity mismatch: none of the certificate identities (SAN URI "https://example.test/ci"; SAN email "dev@example.test"; SAN otherName "dev-user") matches ^(?:admin@corp\\.test)$',
  );
  // With the UPN alone (no Fulcio username), there is nothing to match either.
  const upnOnly = leafWithSan({
    uris: ['https://example.test/ci'],
    otherNames: [{ oid: UPN, value: 'admin@corp.test' }],
  });
  t.deepEqual(
    certificateIdentities(upnOnly).map((i) => i.field),
    ['SAN URI'],
  );
});

test('explainIdentity says the issuer matches only when it is one of the allowed issuers, exactly', (t) => {
  const leaf = leafWithSan({ uris: ['https://example.test/ci'] });
  const explain = (issuer: string) =>
    explainIdentity(
      buildPolicy({
        certificateIdentity: 'https://example\\.test/ci',
        certificateOidcIssuer: issuer,
        now: NOW,
      }).identity!,
      leaf,
    );
  const right = explain('https://token.actions.githubusercontent.com');
  t.is(right.issuer.certificate, 'https://token.actions.githubusercontent.com');
  t.true(right.issuer.matched);
  // A SAN is the certificate's own statement, never a derived subject (that flag is what
  // --explain's "[derived: the sub template may differ]" is printed from).
  t.deepEqual(right.candidates, [
    {
      field: 'SAN URI',
      value: 'https://example.test/ci',
      derived: false,
      matches: ['https://example\\.test/ci'],
    },
  ]);
  // The refusal's details name the one issuer expected as a string (a list when several).
  const refused = t.throws(
    () => identityStep(leaf, 'https://example\\.test/ci', 'https://gitlab.com'),
    { instanceOf: StellaError },
  );
  t.is(refused?.code, 'ISSUER_MISMATCH');
  t.like(refused?.details, {
    actual: 'https://token.actions.githubusercontent.com',
    expected: 'https://gitlab.com',
  });
  const wrong = explain('https://gitlab.com');
  t.is(wrong.issuer.certificate, 'https://token.actions.githubusercontent.com');
  t.false(wrong.issuer.matched, '--explain must not show another issuer as a match');
});

test('an identity matched on the certificate itself (not derived from extensions) adds no warning', (t) => {
  const leaf = leafWithSan({ uris: ['https://example.test/ci'] });
  const policy = buildPolicy({
    certificateIdentity: literalPattern('https://example.test/ci'),
    certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
    now: NOW,
  });
  const state = {
    signingKey: { kind: 'certificate' as const, leaf, intermediates: [], key: leaf.publicKey },
    warnings: [] as string[],
  };
  const r = verifyIdentityStep({ policy } as VerifyInput, state);
  t.is(r.matched, 'https://example.test/ci');
  t.false(r.derived);
  t.deepEqual(state.warnings, []);
});

test('an extension the policy names must match, whole: a value that differs, or no such extension, is EXTENSION_MISMATCH naming it', async (t) => {
  const a = testAuthority('identity:extensions');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T });
  const bundle = parseBundle(JSON.stringify(bundleToJson(s.bundle)));
  const verify = (certificateExtensions: [string, string][]) =>
    verifyBundleReport({
      bundle,
      artifact: { kind: 'bytes', data: ARTIFACT },
      trust: a.trustMaterial(),
      policy: buildPolicy({
        certificateIdentity: literalPattern(s.identity),
        certificateOidcIssuer: ISSUER_URL,
        certificateExtensions,
        now: NOW,
      }),
    });
  t.true((await verify([['source-repository-ref', 'refs/heads/main']])).ok);
  for (const [pattern, message] of [
    [
      'refs/heads/release',
      /^extension mismatch: .*is "refs\/heads\/main", which does not match \^\(\?:refs\/heads\/release\)\$$/,
    ],
    ['refs/heads/mai', /which does not match \^\(\?:refs\/heads\/mai\)\$$/],
  ] as const) {
    const r = await verify([['source-repository-ref', pattern]]);
    t.false(r.ok, pattern);
    t.is(r.error?.code, 'EXTENSION_MISMATCH', pattern);
    t.regex(r.error?.message ?? '', message, pattern);
  }
  const absent = await verify([['deployment-environment', '.*']]);
  t.false(absent.ok);
  t.is(absent.error?.code, 'EXTENSION_MISMATCH');
  t.regex(absent.error?.message ?? '', /the certificate has no .* extension/);
});

test('a pattern with white space at either end (pasted) is said to have it, after the mismatch and by --explain; the comparison is unchanged', (t) => {
  const leaf = leafWithSan({ uris: ['https://example.test/ci'] });
  const hint =
    'The identity pattern "https://example\\\\.test/ci " has white space at its start or end, which is matched as any other character is';
  const refused = t.throws(
    () =>
      identityStep(
        leaf,
        'https://example\\.test/ci ',
        'https://token.actions.githubusercontent.com',
      ),
    { instanceOf: StellaError },
  );
  t.is(refused?.code, 'IDENTITY_MISMATCH');
  t.true(refused?.message.endsWith(`. ${hint}`), refused?.message);
  const explain = explainIdentity(
    buildPolicy({
      certificateIdentity: ' https://example\\.test/ci',
      certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
      now: NOW,
    }).identity!,
    leaf,
  );
  t.deepEqual(explain.hints, [
    'The identity pattern " https://example\\\\.test/ci" has white space at its start or end, which is matched as any other character is',
  ]);
  t.deepEqual(explain.candidates[0]?.matches, [], 'still no match');
  // Without the space: no hint, and the identity matches.
  t.deepEqual(
    explainIdentity(
      buildPolicy({
        certificateIdentity: 'https://example\\.test/ci',
        certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
        now: NOW,
      }).identity!,
      leaf,
    ).hints,
    [],
  );
});

test('nearMissHint names only a difference a person would not see, and none for the same text', (t) => {
  t.is(nearMissHint('https://a.example', 'https://a.example'), undefined);
  t.is(nearMissHint('https://a.example/', 'https://a.example/'), undefined);
  t.is(nearMissHint('https://a.example/', 'https://a.example'), 'differs only by a trailing /');
  t.is(nearMissHint('https://a.example', 'https://a.example//'), 'differs only by a trailing /');
  t.is(nearMissHint('https://A.example', 'https://a.example'), 'differs only in letter case');
  t.is(nearMissHint('https://a.example/x', 'https://a.example'), undefined);
});
