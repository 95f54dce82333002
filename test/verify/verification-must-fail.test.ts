/**
 * The outside review's verification findings (checklist section H, lines 48, 49 and 58) end to
 * end through the library: untrusted JSON -> parseBundle -> verifyBundleReport, one test per way
 * to break each rule, each next to a control that verifies. Bundles come from the samples, from
 * an in-process sandbox authority (test/helpers/crafted-bundles.ts) and, for Rekor v2, from the
 * shared conformance data (declared skipped when ../shared is absent).
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { bundleToJson, serializeBundle } from '../../src/bundle/serialize.js';
import type { Bundle } from '../../src/bundle/model.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import {
  buildPolicy,
  type PolicyOptions,
  type VerificationPolicy,
} from '../../src/verify/policy.js';
import type { Artifact } from '../../src/verify/artifact.js';
import { ctPoisonExtension } from '../../src/x509/issue.js';
import { bytesEqual, utf8 } from '../../src/util/encoding.js';
import { CONFORMANCE_DIR, PROJECT_ROOT } from '../helpers/paths.js';
import { conformanceCase, sharedTest } from '../helpers/shared.js';
import { ISSUER_URL, signBlob, testAuthority, testTsa } from '../helpers/authority-bundles.js';
import {
  craftLeaf,
  LEAF_LIFETIME,
  reissue,
  trustWithTsa,
  tsaTimedBundle,
  V01,
  V02,
  V03,
  withoutSetTimedByTsa,
  withTlogWindow,
  withTsaTime,
} from '../helpers/crafted-bundles.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

type Json = any;

const ARTIFACT = utf8.encode('the signed artifact\n');
const NOW = Date.UTC(2025, 6, 1);
/** When the authority-signed bundles are signed (whole seconds: certificate times have no milliseconds). */
const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const SEC = 1000;
const MIN = 60 * SEC;
const YEAR = 365 * 24 * 60 * MIN;
const TSA = testTsa('h-review', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));

type Verdict = { ok: true } | { ok: false; code: ErrorCode; message: string };

const bytes = (data: Uint8Array): Artifact => ({ kind: 'bytes', data });
const policy = (
  identity: string,
  extra: PolicyOptions = {},
  issuer = ISSUER_URL,
): VerificationPolicy =>
  buildPolicy({
    certificateIdentity: literalPattern(identity),
    certificateOidcIssuer: issuer,
    now: NOW,
    ...extra,
  });

/** Serialize (a typed Bundle, or bundle JSON edited by hand), parse as untrusted text, verify: a StellaError anywhere is the verdict. */
async function verdict(o: {
  bundle: Json;
  trust: TrustMaterial;
  policy: VerificationPolicy;
  artifact?: Artifact;
}): Promise<Verdict> {
  const text =
    'version' in o.bundle ? serializeBundle(o.bundle as Bundle) : JSON.stringify(o.bundle);
  let bundle: Bundle;
  try {
    bundle = parseBundle(text);
  } catch (e) {
    if (e instanceof StellaError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
  const r = await verifyBundleReport({
    bundle,
    artifact: o.artifact ?? bytes(ARTIFACT),
    trust: o.trust,
    policy: o.policy,
  });
  if (r.ok) return { ok: true };
  return { ok: false, code: r.error!.code, message: r.error!.message };
}

function refused(
  t: ExecutionContext,
  v: Verdict,
  code: ErrorCode,
  message: RegExp,
  what: string,
): void {
  if (v.ok) return void t.fail(`${what}: ACCEPTED, expected ${code}`);
  t.is(v.code, code, `${what}: ${v.message}`);
  t.regex(v.message, message, what);
}

function accepted(t: ExecutionContext, v: Verdict, what: string): void {
  t.true(v.ok, `${what}: ${v.ok ? '' : `${v.code}: ${v.message}`}`);
}

function throwsCode(
  t: ExecutionContext,
  fn: () => unknown,
  code: ErrorCode,
  message: RegExp,
  what: string,
): void {
  try {
    fn();
    t.fail(`${what}: ACCEPTED, expected ${code}`);
  } catch (e) {
    if (!(e instanceof StellaError)) return void t.fail(`${what}: crashed: ${String(e)}`);
    t.is(e.code, code, `${what}: ${e.message}`);
    t.regex(e.message, message, what);
  }
}

// ---------------------------------------------------------------------------------------
// H48: every verified time inside the window of every log key that vouched for the entry

test('H48 Rekor v1 entry without a SET, timed by a TSA: the checkpoint key must be valid at the TSA time', async (t) => {
  const a = testAuthority('h48-no-set');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T });
  const p = policy(s.identity);
  const tsaTime = T + MIN;
  const bundle = withoutSetTimedByTsa(s.bundle, TSA, tsaTime);
  const trust = trustWithTsa(a, TSA);
  const created = Date.UTC(2025, 0, 1);
  t.is(bundle.verificationMaterial.tlogEntries[0]!.inclusionPromise, undefined);
  accepted(
    t,
    await verdict({ bundle, trust, policy: p }),
    'no SET, TSA time, open log window (control)',
  );
  accepted(
    t,
    await verdict({
      bundle,
      trust: withTlogWindow(trust, { start: created, end: tsaTime }),
      policy: p,
    }),
    'log window ends exactly at the TSA time (inclusive)',
  );
  refused(
    t,
    await verdict({
      bundle,
      trust: withTlogWindow(trust, { start: created, end: tsaTime - 1 }),
      policy: p,
    }),
    'TLOG_UNTRUSTED',
    /^key of log https:\/\/rekor\.test\.invalid is not valid at verified time 2025-06-01T12:01:00\.000Z \(valid 2025-01-01T00:00:00\.000Z\.\.2025-06-01T12:00:59\.999Z\)$/,
    'log window ends 1 ms before the TSA time',
  );
  refused(
    t,
    await verdict({
      bundle,
      trust: withTlogWindow(trust, { start: tsaTime + 1, end: undefined }),
      policy: p,
    }),
    'TLOG_UNTRUSTED',
    /is not valid at verified time 2025-06-01T12:01:00\.000Z \(valid 2025-06-01T12:01:00\.001Z\.\.open\)/,
    'log window starts 1 ms after the TSA time (and before now)',
  );
});

test('H48 Rekor v1 entry with a SET and a later TSA time: the log key must cover both', async (t) => {
  const a = testAuthority('h48-set-and-tsa');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T });
  const integrated = s.bundle.verificationMaterial.tlogEntries[0]!.integratedTime * SEC;
  t.is(integrated, T + 5 * SEC);
  const bundle = withTsaTime(s.bundle, TSA, T + 2 * MIN);
  const trust = trustWithTsa(a, TSA);
  const p = policy(s.identity);
  accepted(
    t,
    await verdict({ bundle, trust, policy: p }),
    'SET and TSA times inside an open window (control)',
  );
  // The SET verifies (its own time is inside); the checkpoint's key is not valid at the TSA time.
  refused(
    t,
    await verdict({
      bundle,
      trust: withTlogWindow(trust, { start: Date.UTC(2025, 0, 1), end: T + MIN }),
      policy: p,
    }),
    'TLOG_UNTRUSTED',
    /not valid at verified time 2025-06-01T12:02:00\.000Z/,
    'window covers the SET time, ends before the TSA time',
  );
});

test('H48 v0.1 bundle (SET only, no proof) with a TSA time: the SET key must cover the TSA time too', async (t) => {
  const a = testAuthority('h48-v01');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T });
  const j = bundleToJson(withTsaTime(s.bundle, TSA, T + 2 * MIN)) as Json;
  j.mediaType = V01;
  j.verificationMaterial.x509CertificateChain = {
    certificates: [j.verificationMaterial.certificate],
  };
  delete j.verificationMaterial.certificate;
  delete j.verificationMaterial.tlogEntries[0].inclusionProof;
  const trust = trustWithTsa(a, TSA);
  const p = policy(s.identity);
  accepted(
    t,
    await verdict({ bundle: j, trust, policy: p }),
    'v0.1, SET only, TSA time, open window (control)',
  );
  refused(
    t,
    await verdict({
      bundle: j,
      trust: withTlogWindow(trust, { start: Date.UTC(2025, 0, 1), end: T + MIN }),
      policy: p,
    }),
    'TLOG_UNTRUSTED',
    /not valid at verified time 2025-06-01T12:02:00\.000Z/,
    'SET key window ends between the SET and the TSA time',
  );
});

sharedTest(
  'H48 Rekor v2 conformance bundle (shared): the log key validFor must cover the TSA time',
  async (t) => {
    const dir = conformanceCase('rekor2-happy-path');
    const bundle = parseBundle(readFileSync(path.join(dir, 'bundle.sigstore.json')));
    const trust = parseTrustedRoot(readFileSync(path.join(dir, 'trusted_root.json')));
    const artifact = bytes(new Uint8Array(readFileSync(path.join(CONFORMANCE_DIR, 'a.txt'))));
    const p = buildPolicy({
      certificateIdentity:
        'https://github\\.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/\\.github/workflows/extremely-dangerous-oidc-beacon\\.yml@refs/heads/main',
      certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
    });
    const entry = bundle.verificationMaterial.tlogEntries[0]!;
    t.is(entry.kindVersion.version, '0.0.2');
    t.is(entry.inclusionPromise, undefined, 'a Rekor v2 entry has no SET');
    const control = await verifyBundleReport({ bundle, artifact, trust, policy: p });
    t.true(control.ok, JSON.stringify(control.error));
    t.deepEqual(
      control.verifiedTimes.map((v) => v.source),
      ['rfc3161'],
    );
    const tsaTime = Date.parse(control.verifiedTimes[0]!.time);
    const log = trust.tlogs.find((l) => bytesEqual(l.logId, entry.logId))!;
    const withWindow = (validFor: { start: number; end: number | undefined }): TrustMaterial => ({
      ...trust,
      tlogs: trust.tlogs.map((l) =>
        l === log ? { ...l, publicKey: { ...l.publicKey, validFor } } : l,
      ),
    });
    const run = async (tm: TrustMaterial): Promise<Verdict> =>
      verdict({ bundle, trust: tm, policy: p, artifact });
    accepted(
      t,
      await run(withWindow({ start: log.publicKey.validFor.start, end: tsaTime })),
      'validFor.end equal to the TSA time',
    );
    refused(
      t,
      await run(withWindow({ start: log.publicKey.validFor.start, end: tsaTime - SEC })),
      'TLOG_UNTRUSTED',
      /key of log https:\/\/log2025-alpha1\.rekor\.sigstage\.dev is not valid at verified time 2025-06-12T12:02:20\.000Z/,
      'validFor ends before the TSA time',
    );
    refused(
      t,
      await run(withWindow({ start: tsaTime + SEC, end: undefined })),
      'TLOG_UNTRUSTED',
      /is not valid at verified time 2025-06-12T12:02:20\.000Z \(valid 2025-06-12T12:02:21\.000Z\.\.open\)/,
      'validFor starts after the TSA time (before now)',
    );
  },
);

// ---------------------------------------------------------------------------------------
// H49: a user pattern is compiled alone before it is anchored

test('H49 an identity pattern cannot escape its anchoring; RE2 flags stay inside it', async (t) => {
  const a = testAuthority('h49');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo-evil', now: T });
  const run = async (pattern: string): Promise<Verdict> =>
    verdict({
      bundle: s.bundle,
      trust: a.trustMaterial(),
      policy: buildPolicy({
        certificateIdentity: pattern,
        certificateOidcIssuer: ISSUER_URL,
        now: NOW,
      }),
    });
  accepted(
    t,
    await run(
      'https://github\\.com/org/repo-evil/\\.github/workflows/release\\.yml@refs/heads/main',
    ),
    'its own identity (control)',
  );
  // Wrapped before compiling, each of these became ^(?:…)|(…)$: "…, or anything".
  for (const escape of [
    'x)|(?:.*',
    'https://github\\.com/org/repo)|(.*',
    ')|(',
    '.*)|(?:',
    'x)|.*|(?:y',
  ]) {
    throwsCode(
      t,
      () =>
        buildPolicy({ certificateIdentity: escape, certificateOidcIssuer: ISSUER_URL, now: NOW }),
      'INPUT_INVALID',
      /^--certificate-identity is not a valid RE2 regular expression on its own: /,
      `escape ${escape}`,
    );
  }
  // Lookaround has no RE2 form: refused, not silently different.
  throwsCode(
    t,
    () =>
      buildPolicy({
        certificateIdentity: 'https://github\\.com/org/repo(?=-evil)',
        certificateOidcIssuer: ISSUER_URL,
      }),
    'INPUT_INVALID',
    /RE2 has no lookahead/,
    'lookahead',
  );
  // A prefix is not the identity: matched whole.
  refused(
    t,
    await run('https://github\\.com/org/repo'),
    'IDENTITY_MISMATCH',
    /^identity mismatch/,
    'a prefix of the identity',
  );
  // (?m) and (?s) change ^ $ . inside the pattern, never the whole-value match.
  refused(
    t,
    await run('(?m)https://github\\.com/org/repo$'),
    'IDENTITY_MISMATCH',
    /^identity mismatch/,
    '(?m) with $',
  );
  accepted(
    t,
    await run('(?i)HTTPS://GITHUB\\.COM/org/repo-evil/.*'),
    'RE2 inline flags, as cosign users write them',
  );
});

// ---------------------------------------------------------------------------------------
// H58: the declared version and the structure agree

const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const SAMPLE_TRUST = parseTrustedRoot(readFileSync(path.join(SAMPLES, 'trusted_root.json')));
const SAMPLE_ARTIFACT = bytes(new Uint8Array(readFileSync(path.join(SAMPLES, 'artifact.txt'))));
const SAMPLE_POLICY = (extra: PolicyOptions = {}): VerificationPolicy =>
  buildPolicy({
    certificateIdentity:
      'https://github\\.com/stella-samples/demo/\\.github/workflows/release\\.yml@refs/heads/main',
    certificateOidcIssuer: 'https://oidc.stella.invalid',
    now: NOW,
    ...extra,
  });
const sampleBlob = (): Json =>
  JSON.parse(readFileSync(path.join(SAMPLES, 'blob.sigstore.json'), 'utf8'));
const asChain = (j: Json): Json => {
  j.verificationMaterial.x509CertificateChain = {
    certificates: [j.verificationMaterial.certificate],
  };
  delete j.verificationMaterial.certificate;
  return j;
};

test('H58 a v0.1 media type on a v0.3 structure (single certificate, proof stripped) is refused, with or without --require-rekor', async (t) => {
  const run = async (j: Json, extra: PolicyOptions = {}): Promise<Verdict> =>
    verdict({
      bundle: j,
      trust: SAMPLE_TRUST,
      policy: SAMPLE_POLICY(extra),
      artifact: SAMPLE_ARTIFACT,
    });
  accepted(t, await run(sampleBlob(), { requireTlog: true }), 'the sample as signed (control)');
  const relabelled = (mediaType: string, stripProof: boolean): Json => {
    const j = sampleBlob();
    j.mediaType = mediaType;
    if (stripProof) delete j.verificationMaterial.tlogEntries[0].inclusionProof;
    return j;
  };
  for (const requireTlog of [false, true]) {
    refused(
      t,
      await run(relabelled(V01, true), { requireTlog }),
      'BUNDLE_MALFORMED',
      /^a v0\.1 bundle must carry an x509CertificateChain or a publicKey, not verificationMaterial\.certificate/,
      `v0.1 + certificate, proof stripped (requireTlog ${requireTlog})`,
    );
  }
  refused(
    t,
    await run(relabelled(V01, false)),
    'BUNDLE_MALFORMED',
    /a v0\.1 bundle must carry/,
    'v0.1 + certificate, proof kept',
  );
  refused(
    t,
    await run(relabelled(V02, false)),
    'BUNDLE_MALFORMED',
    /^a v0\.2 bundle must carry an x509CertificateChain or a publicKey, not verificationMaterial\.certificate/,
    'v0.2 + certificate',
  );
  refused(
    t,
    await run(asChain(relabelled(V03, false))),
    'BUNDLE_MALFORMED',
    /^a v0\.3 bundle must carry a single certificate or a publicKey, not verificationMaterial\.x509CertificateChain/,
    'v0.3 + chain',
  );
  refused(
    t,
    await run(asChain(relabelled(V02, true))),
    'REKOR_PROOF_MISSING',
    /has no inclusionProof \(required in a v0\.2 bundle\)/,
    'v0.2 + chain, proof stripped',
  );
  // The genuine v0.1 shape (chain, SET only) still verifies: v0.1 predates inclusion proofs.
  accepted(
    t,
    await run(asChain(relabelled(V01, true)), { requireTlog: true }),
    'v0.1 + chain, SET only (control)',
  );
  const noSet = asChain(relabelled(V01, false));
  delete noSet.verificationMaterial.tlogEntries[0].inclusionPromise;
  refused(
    t,
    await run(noSet),
    'REKOR_PROOF_MISSING',
    /has no inclusionPromise \(required in a v0\.1 bundle\)/,
    'v0.1 + chain, proof but no SET',
  );
});

// ---------------------------------------------------------------------------------------
// H58: precertificates never sign; serials positive and at most 20 octets; SCT inside the leaf's window

test('H58 serial numbers: negative, zero or longer than 20 octets are refused at parse, in the leaf', async (t) => {
  const a = testAuthority('h58-serial');
  const trust = trustWithTsa(a, TSA);
  const run = async (label: string, serial: bigint): Promise<Verdict> => {
    const leaf = craftLeaf(a, { label, notBefore: T, serial });
    return verdict({
      bundle: tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2 * SEC),
      trust,
      policy: policy(leaf.identity),
    });
  };
  accepted(t, await run('one', 1n), 'serial 1 (control)');
  accepted(t, await run('max', 2n ** 159n - 1n), 'serial 2^159-1: 20 octets');
  refused(
    t,
    await run('zero', 0n),
    'CERTIFICATE_MALFORMED',
    /^certificate: serialNumber is zero \(RFC 5280 §4\.1\.2\.2 requires a positive integer\)/,
    'serial 0',
  );
  refused(
    t,
    await run('minus-one', -1n),
    'CERTIFICATE_MALFORMED',
    /serialNumber is negative/,
    'serial -1',
  );
  refused(
    t,
    await run('negative-long', -(2n ** 100n)),
    'CERTIFICATE_MALFORMED',
    /serialNumber is negative/,
    'serial -2^100',
  );
  refused(
    t,
    await run('pad', 2n ** 159n),
    'CERTIFICATE_MALFORMED',
    /serialNumber is 21 octets long \(RFC 5280 §4\.1\.2\.2 allows at most 20\)/,
    'serial 2^159: 20 value octets plus the sign octet',
  );
  refused(
    t,
    await run('long', 2n ** 256n),
    'CERTIFICATE_MALFORMED',
    /serialNumber is 33 octets long/,
    'serial 2^256',
  );
});

test('H58 serial numbers: refused in a bundle intermediate, a trusted CA and a TSA certificate too', async (t) => {
  const a = testAuthority('h58-serial-ca');
  const trust = trustWithTsa(a, TSA);
  const leaf = craftLeaf(a, { label: 'leaf', notBefore: T });
  const p = policy(leaf.identity);
  const rootSigner = a.keys.rootCa.certSigner;
  const intermediate = a.fulcio.intermediateCertificate;
  accepted(
    t,
    await verdict({
      bundle: tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2 * SEC, [intermediate]),
      trust,
      policy: p,
    }),
    'v0.2 chain with the trusted intermediate (control)',
  );
  refused(
    t,
    await verdict({
      bundle: tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2 * SEC, [
        reissue(intermediate, rootSigner, { serial: 0n }),
      ]),
      trust,
      policy: p,
    }),
    'CERTIFICATE_MALFORMED',
    /serialNumber is zero/,
    'bundle intermediate with serial 0',
  );

  const caWith = (serial: bigint): TrustMaterial => ({
    ...trust,
    certificateAuthorities: trust.certificateAuthorities.map((ca) => ({
      ...ca,
      certChain: [reissue(intermediate, rootSigner, { serial }), ...ca.certChain.slice(1)],
    })),
  });
  accepted(
    t,
    await verdict({
      bundle: tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2 * SEC),
      trust: caWith(12345n),
      policy: p,
    }),
    'trusted intermediate re-issued with another valid serial (control)',
  );
  refused(
    t,
    await verdict({
      bundle: tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2 * SEC),
      trust: caWith(-12345n),
      policy: p,
    }),
    'TRUSTED_ROOT_INVALID',
    /trusted root certificate 0 of .*: serialNumber is negative/,
    'trusted intermediate with a negative serial',
  );

  // TSA certificates: the signer (embedded in the token and trusted) and the TSA root.
  const range = [Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1)] as const;
  const tsaRun = async (label: string, certs: Parameters<typeof testTsa>[4]): Promise<Verdict> => {
    const tsa = testTsa(label, range[0], range[1], undefined, certs);
    return verdict({
      bundle: tsaTimedBundle(leaf, ARTIFACT, tsa, T + 2 * SEC),
      trust: trustWithTsa(a, tsa),
      policy: p,
    });
  };
  accepted(t, await tsaRun('h58-tsa-ok', { leafSerial: 99n }), 'TSA with valid serials (control)');
  refused(
    t,
    await tsaRun('h58-tsa-leaf', { leafSerial: 0n }),
    'TIMESTAMP_INVALID',
    /RFC 3161 embedded certificate: serialNumber is zero/,
    'TSA signing certificate with serial 0',
  );
  refused(
    t,
    await tsaRun('h58-tsa-root', { rootSerial: 2n ** 168n }),
    'TRUSTED_ROOT_INVALID',
    /serialNumber is 22 octets long/,
    'TSA root with a 22-octet serial',
  );
});

test('H58 a precertificate never signs: not as the leaf (SCTs required or not), not as a CA, not as a TSA', async (t) => {
  const a = testAuthority('h58-precert');
  const trust = trustWithTsa(a, TSA);
  const good = craftLeaf(a, { label: 'good', notBefore: T });
  const precert = craftLeaf(a, { label: 'precert', notBefore: T, precert: true });
  const bundle = (leaf = good): Bundle => tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2 * SEC);
  for (const requireSct of [true, false]) {
    accepted(
      t,
      await verdict({ bundle: bundle(), trust, policy: policy(good.identity, { requireSct }) }),
      `the final certificate (control, requireSct ${requireSct})`,
    );
    refused(
      t,
      await verdict({
        bundle: bundle(precert),
        trust,
        policy: policy(precert.identity, { requireSct }),
      }),
      'CERT_USAGE_INVALID',
      /^leaf certificate is a precertificate \(CT poison extension 1\.3\.6\.1\.4\.1\.11129\.2\.4\.3\): a precertificate never signs$/,
      `precertificate as the leaf (requireSct ${requireSct})`,
    );
  }
  // The sandbox Fulcio's own precertificate (what it submits to its CT log), used to sign.
  const intermediate = a.fulcio.intermediateCertificate;
  const poisonedCa: TrustMaterial = {
    ...trust,
    certificateAuthorities: trust.certificateAuthorities.map((ca) => ({
      ...ca,
      certChain: [
        reissue(intermediate, a.keys.rootCa.certSigner, { extraExtensions: [ctPoisonExtension()] }),
        ...ca.certChain.slice(1),
      ],
    })),
  };
  refused(
    t,
    await verdict({ bundle: bundle(), trust: poisonedCa, policy: policy(good.identity) }),
    'CERT_CHAIN_INVALID',
    /CA certificate O=stella-sandbox\.dev, CN=stella-sandbox-intermediate is a precertificate/,
    'trusted intermediate carrying the poison',
  );
  const poisonedTsa = testTsa(
    'h58-precert-tsa',
    Date.UTC(2025, 0, 1),
    Date.UTC(2026, 0, 1),
    undefined,
    { leafExtensions: [ctPoisonExtension()] },
  );
  refused(
    t,
    await verdict({
      bundle: tsaTimedBundle(good, ARTIFACT, poisonedTsa, T + 2 * SEC),
      trust: trustWithTsa(a, poisonedTsa),
      policy: policy(good.identity),
    }),
    'TIMESTAMP_INVALID',
    /timestamp signer certificate is a precertificate/,
    'TSA signing certificate carrying the poison',
  );
});

test("H58 an SCT timestamp outside the certificate's validity is refused", async (t) => {
  const a = testAuthority('h58-sct');
  const trust = trustWithTsa(a, TSA);
  const run = async (label: string, sctTime: number): Promise<Verdict> => {
    const leaf = craftLeaf(a, { label, notBefore: T, sctTime });
    return verdict({
      bundle: tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2 * SEC),
      trust,
      policy: policy(leaf.identity),
    });
  };
  accepted(t, await run('at-not-before', T), 'SCT at notBefore (inclusive)');
  accepted(t, await run('at-not-after', T + LEAF_LIFETIME), 'SCT at notAfter (inclusive)');
  refused(
    t,
    await run('years-after', T + 2 * YEAR),
    'SCT_INVALID',
    /^no valid SCT: SCT timestamp 2027-06-01T12:00:00\.000Z from CT log [0-9a-f]{64} is outside the certificate's validity 2025-06-01T12:00:00\.000Z\.\.2025-06-01T12:10:00\.000Z$/,
    'SCT two years after notBefore',
  );
  refused(
    t,
    await run('just-after', T + LEAF_LIFETIME + 1),
    'SCT_INVALID',
    /outside the certificate's validity/,
    'SCT 1 ms after notAfter',
  );
  refused(
    t,
    await run('before', T - 1),
    'SCT_INVALID',
    /SCT timestamp 2025-06-01T11:59:59\.999Z .* is outside the certificate's validity/,
    'SCT 1 ms before notBefore',
  );
  // Not needed when SCTs are not required: the check belongs to the SCT step.
  const leaf = craftLeaf(a, { label: 'years-after', notBefore: T, sctTime: T + 2 * YEAR });
  accepted(
    t,
    await verdict({
      bundle: tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2 * SEC),
      trust,
      policy: policy(leaf.identity, { requireSct: false }),
    }),
    'requireSct false skips the SCT step',
  );
});
