/**
 * The library entry points: `verifyBundle` as exported from the package (src/index.ts) must run
 * every step verifyBundleReport runs, the policy step included, and reach the same verdict.
 * Self-contained: the committed samples/ only.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  StellaError,
  type ErrorCode,
  verifyBundle,
  verifyBundleReport,
  parseBundle,
  parseTrustedRoot,
  buildPolicy,
  serializeBundle,
  type PolicyOptions,
} from '../../src/index.js';
import { utf8 } from '../../src/util/encoding.js';
import type { Artifact } from '../../src/verify/artifact.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { ISSUER_URL, testAuthority, testTsa } from '../helpers/authority-bundles.js';
import { craftLeaf, trustWithTsa, tsaTimedBundle } from '../helpers/crafted-bundles.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const read = (f: string): Buffer => readFileSync(path.join(SAMPLES, f));
interface SampleEntry {
  name: string;
  bundle: string;
  artifact: string;
  identity?: string;
  issuer?: string;
  key?: string;
}
const MANIFEST = JSON.parse(read('samples.json').toString('utf8')) as {
  trustedRoot: string;
  bundles: SampleEntry[];
};
const sample = (name: string): SampleEntry => MANIFEST.bundles.find((b) => b.name === name)!;
const TRUST = parseTrustedRoot(read(MANIFEST.trustedRoot));
const ARTIFACT: Artifact = { kind: 'bytes', data: new Uint8Array(read('artifact.txt')) };
const NOW = Date.UTC(2025, 6, 1);

const GH = sample('blob').identity!;
const GL = sample('attestation').identity!;
const ISS = sample('blob').issuer!;
const KEY_PEM = read(sample('managed-key').key!).toString('utf8');

interface Case {
  what: string;
  bundle: string;
  policy: PolicyOptions;
  artifact?: Artifact;
  trust?: typeof TRUST;
  /** undefined: must verify. */
  code?: ErrorCode;
}

const json = (name: string, edit: (j: any) => void = () => {}): string => {
  const j = JSON.parse(read(sample(name).bundle).toString('utf8'));
  edit(j);
  return JSON.stringify(j);
};
const idPolicy = (identity: string, issuer = ISS): PolicyOptions => ({
  certificateIdentity: literalPattern(identity),
  certificateOidcIssuer: issuer,
  now: NOW,
});

/** The blob sample as a v0.1 bundle (certificate chain, no inclusion proof: its SET is the promise). */
const v01 = (edit: (j: any) => void = () => {}): string =>
  json('blob', (j) => {
    j.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
    j.verificationMaterial.x509CertificateChain = {
      certificates: [j.verificationMaterial.certificate],
    };
    delete j.verificationMaterial.certificate;
    delete j.verificationMaterial.tlogEntries[0].inclusionProof;
    edit(j);
  });

// One case per step, each failing only that step (and controls that pass every step).
const CASES: Case[] = [
  { what: 'blob, its own identity (control)', bundle: json('blob'), policy: idPolicy(GH) },
  {
    what: 'attestation, its own identity (control)',
    bundle: json('attestation'),
    policy: idPolicy(GL),
  },
  {
    what: 'managed key, its own key (control)',
    bundle: json('managed-key'),
    policy: { publicKeyPem: KEY_PEM, now: NOW },
  },
  {
    // Refused before any step, when the signing key is resolved.
    what: 'bundle: a managed-key bundle under an identity policy',
    bundle: json('managed-key'),
    policy: idPolicy(GH),
    code: 'KEY_MISMATCH',
  },
  {
    what: 'a v0.1 bundle whose entry has only its SET (control)',
    bundle: v01(),
    policy: idPolicy(GH),
  },
  {
    what: 'verified times: a v0.1 entry with only its SET, from a log the trust root does not list',
    bundle: v01(),
    policy: idPolicy(GH),
    trust: { ...TRUST, tlogs: [] },
    code: 'TLOG_UNTRUSTED',
  },
  {
    what: 'policy: another identity',
    bundle: json('blob'),
    policy: idPolicy(GL),
    code: 'IDENTITY_MISMATCH',
  },
  {
    what: 'policy: a longer identity pattern',
    bundle: json('blob'),
    policy: idPolicy(`${GH}x`),
    code: 'IDENTITY_MISMATCH',
  },
  {
    what: 'policy: another issuer',
    bundle: json('blob'),
    policy: idPolicy(GH, 'https://token.actions.githubusercontent.com'),
    code: 'ISSUER_MISMATCH',
  },
  {
    what: 'policy: the issuer with a trailing slash',
    bundle: json('blob'),
    policy: idPolicy(GH, `${ISS}/`),
    code: 'ISSUER_MISMATCH',
  },
  {
    what: 'policy: a prefix of the issuer',
    bundle: json('blob'),
    policy: idPolicy(GH, ISS.slice(0, -3)),
    code: 'ISSUER_MISMATCH',
  },
  {
    what: 'policy on a DSSE bundle: another identity',
    bundle: json('attestation'),
    policy: idPolicy(GH),
    code: 'IDENTITY_MISMATCH',
  },
  {
    what: 'verified times: no SET',
    bundle: json('blob', (j) => delete j.verificationMaterial.tlogEntries[0].inclusionPromise),
    policy: idPolicy(GH),
    code: 'NO_VERIFIED_TIME',
  },
  {
    what: 'verified times: in the future',
    bundle: json('blob'),
    policy: { ...idPolicy(GH), now: Date.UTC(2020, 0, 1) },
    code: 'TIME_IN_FUTURE',
  },
  {
    what: 'tlog: the entry is over other artifact bytes',
    bundle: json('blob'),
    policy: idPolicy(GH),
    artifact: { kind: 'bytes', data: utf8.encode('other\n') },
    code: 'TLOG_BODY_MISMATCH',
  },
  {
    what: 'signature: the artifact is not a subject of the statement',
    bundle: json('attestation'),
    policy: idPolicy(GL),
    artifact: { kind: 'bytes', data: utf8.encode('other\n') },
    code: 'ARTIFACT_MISMATCH',
  },
  {
    what: 'tlog: tree size off',
    bundle: json(
      'blob',
      (j) => (j.verificationMaterial.tlogEntries[0].inclusionProof.treeSize = '5'),
    ),
    policy: idPolicy(GH),
    code: 'INCLUSION_PROOF_INVALID',
  },
];

for (const c of CASES) {
  test(`exported verifyBundle and verifyBundleReport agree: ${c.what}`, async (t) => {
    const input = {
      bundle: parseBundle(c.bundle),
      artifact: c.artifact ?? ARTIFACT,
      trust: c.trust ?? TRUST,
      policy: buildPolicy(c.policy),
    };
    const report = await verifyBundleReport(input);
    t.is(report.error?.code, c.code, `report: ${report.error?.message ?? 'ok'}`);
    t.is(report.ok, c.code === undefined);
    t.true(report.checks.length > 0);
    // Without its list of checks (a shipment's verdict), the same report in every other field.
    const unlisted = await verifyBundleReport(input, { checks: false, trustWindows: true });
    t.deepEqual(unlisted.checks, []);
    t.deepEqual(
      {
        ...unlisted,
        checks: report.checks,
        trustWindows: undefined,
        certificateValidity: undefined,
      },
      { ...report, trustWindows: undefined, certificateValidity: undefined },
    );
    if (c.code === undefined) {
      await t.notThrowsAsync(verifyBundle(input));
      return;
    }
    const e = await t.throwsAsync(verifyBundle(input), { instanceOf: StellaError });
    t.is(e?.code, c.code, e?.message);
    t.is(e?.message, report.error!.message);
  });
}

test('an error that is not a StellaError inside a step (a bug, or a caller object that throws) is thrown, never reported as a failed check', async (t) => {
  const broken = new TypeError('trust material that throws');
  const trust: TrustMaterial = {
    ...TRUST,
    get certificateAuthorities(): TrustMaterial['certificateAuthorities'] {
      throw broken;
    },
  };
  const e = await t.throwsAsync(
    verifyBundleReport({
      bundle: parseBundle(json('blob')),
      artifact: ARTIFACT,
      trust,
      policy: buildPolicy(idPolicy(GH)),
    }),
  );
  t.is(e, broken);
});

test('exported verifyBundle runs the policy step: the report of an accepted bundle says which identity matched', async (t) => {
  // Guard for the table above: a pass of the policy step leaves its trace in the report, so the
  // policy-failure rows are failures of that step and not of an earlier one.
  const report = await verifyBundleReport({
    bundle: parseBundle(json('blob')),
    artifact: ARTIFACT,
    trust: TRUST,
    policy: buildPolicy(idPolicy(GH)),
  });
  t.deepEqual(
    report.checks.map((c) => [c.check, c.status]),
    [
      ['verified-times', 'pass'],
      ['certificate-chain', 'pass'],
      ['sct', 'pass'],
      ['tlog', 'pass'],
      ['signature', 'pass'],
      ['policy', 'pass'],
    ],
  );
  t.deepEqual(report.signer, {
    issuer: ISS,
    identity: GH,
    identityField: 'SAN URI',
    certificateAuthority: report.signer?.certificateAuthority,
  });
  // The verified time says what vouched for it: here the log's signed entry timestamp.
  t.regex(
    report.checks[0]!.summary,
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z \(signed entry timestamp from \S+\)$/,
  );
});

test('a v0.1 entry with only a SET counts as a log entry: the report says so', async (t) => {
  const report = await verifyBundleReport({
    bundle: parseBundle(v01()),
    artifact: ARTIFACT,
    trust: TRUST,
    policy: buildPolicy(idPolicy(GH)),
  });
  t.true(report.ok, report.error?.message);
  const tlog = report.checks.find((c) => c.check === 'tlog')!;
  t.is(tlog.status, 'pass');
  t.regex(
    tlog.summary,
    /^hashedrekord\/0\.0\.1 entry \d+ in \S+ \(signed entry timestamp only, v0\.1\)$/,
  );
  // The same entry in a v0.2 bundle must carry its inclusion proof (refused at parse time).
  const v02 = JSON.parse(v01());
  v02.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
  t.throws(() => parseBundle(JSON.stringify(v02)), {
    instanceOf: StellaError,
    message: /no inclusionProof \(required in a v0\.2 bundle\)/,
  });
});

test('a bundle timed by a TSA with no log entry: the tlog step is skipped, not passed, and says how to require one', async (t) => {
  const authority = testAuthority('pipeline-no-tlog');
  const tsa = testTsa('pipeline-no-tlog', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
  const signedAt = Date.UTC(2025, 5, 1, 12, 0, 0);
  const leaf = craftLeaf(authority, { label: 'no-tlog', notBefore: signedAt });
  const data = utf8.encode('signed without a transparency log\n');
  const report = await verifyBundleReport({
    bundle: parseBundle(serializeBundle(tsaTimedBundle(leaf, data, tsa, signedAt + 2000))),
    artifact: { kind: 'bytes', data },
    trust: trustWithTsa(authority, tsa),
    policy: buildPolicy(idPolicy(leaf.identity, ISSUER_URL)),
  });
  t.true(report.ok, report.error?.message);
  const tlog = report.checks.find((c) => c.check === 'tlog')!;
  t.deepEqual(tlog, {
    check: 'tlog',
    status: 'skip',
    summary: 'no transparency log entry (use --require-rekor to require one)',
  });
  // Asked for, a log entry that is not there is refused by name in the tlog step itself.
  const required = await verifyBundleReport({
    bundle: parseBundle(serializeBundle(tsaTimedBundle(leaf, data, tsa, signedAt + 2000))),
    artifact: { kind: 'bytes', data },
    trust: trustWithTsa(authority, tsa),
    policy: buildPolicy({ ...idPolicy(leaf.identity, ISSUER_URL), requireTlog: true }),
  });
  t.false(required.ok);
  t.like(required.error, {
    code: 'REKOR_PROOF_MISSING',
    check: 'tlog',
    message: 'Rekor proof missing: the bundle has no transparency log entry (--require-rekor)',
  });
});

test('the trust windows a report lists: each key the verification leaned on, once, and only those', async (t) => {
  // What `verify --archive` prints per artifact (shipment/verdict.ts): a certificate bundle
  // leaned on the CA, the log and the CT log; a managed-key bundle on the log alone.
  const windowsOf = async (name: string, policy: PolicyOptions) =>
    (
      await verifyBundleReport(
        {
          bundle: parseBundle(json(name)),
          artifact: ARTIFACT,
          trust: TRUST,
          policy: buildPolicy(policy),
        },
        { trustWindows: true },
      )
    ).trustWindows;
  const window = (kind: string, name: string) => ({
    kind,
    name,
    start: '2025-01-01T00:00:00.000Z',
    end: null,
  });
  const [ca, tlog, ctlog] = [
    window('ca', TRUST.certificateAuthorities[0]!.uri),
    window('tlog', TRUST.tlogs[0]!.baseUrl),
    window('ctlog', TRUST.ctlogs[0]!.baseUrl),
  ];
  t.deepEqual(await windowsOf('blob', idPolicy(GH)), [ca, tlog, ctlog]);
  t.deepEqual(await windowsOf('managed-key', { publicKeyPem: KEY_PEM, now: NOW }), [tlog]);
});

test('the trust windows of a CT log: its key window once for two SCTs, and the rotated key the SCTs verified with', async (t) => {
  const authority = testAuthority('pipeline-windows');
  const tsa = testTsa('pipeline-windows', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
  const signedAt = Date.UTC(2025, 5, 1, 12, 0, 0);
  // Two SCTs from the same CT log, a second apart.
  const leaf = craftLeaf(authority, {
    label: 'two-scts',
    notBefore: signedAt,
    sctTime: [signedAt + 1000, signedAt + 2000],
  });
  const data = utf8.encode('two SCTs from one log\n');
  const bundle = parseBundle(serializeBundle(tsaTimedBundle(leaf, data, tsa, signedAt + 3000)));
  const windowsWith = async (trust: TrustMaterial) => {
    const r = await verifyBundleReport(
      {
        bundle,
        artifact: { kind: 'bytes', data },
        trust,
        policy: buildPolicy(idPolicy(leaf.identity, ISSUER_URL)),
      },
      { trustWindows: true },
    );
    t.true(r.ok, r.error?.message);
    t.is((r.checks.find((c) => c.check === 'sct')?.details as { scts: unknown[] }).scts.length, 2);
    return r.trustWindows!.filter((w) => w.kind === 'ctlog');
  };
  const trust = trustWithTsa(authority, tsa);
  const ctlog = trust.ctlogs[0]!;
  t.deepEqual(await windowsWith(trust), [
    {
      kind: 'ctlog',
      name: ctlog.baseUrl,
      start: new Date(ctlog.publicKey.validFor.start).toISOString(),
      end: null,
    },
  ]);
  // The same key listed twice, retired and renewed (one log id, two windows): the window
  // listed is the one the SCTs fell in, whichever the trust root lists first.
  const rotatedAt = Date.UTC(2025, 3, 1);
  const retired = {
    ...ctlog,
    publicKey: { ...ctlog.publicKey, validFor: { start: Date.UTC(2024, 0, 1), end: rotatedAt } },
  };
  const renewed = {
    ...ctlog,
    publicKey: { ...ctlog.publicKey, validFor: { start: rotatedAt, end: undefined } },
  };
  for (const ctlogs of [
    [retired, renewed],
    [renewed, retired],
  ])
    t.deepEqual(await windowsWith({ ...trust, ctlogs }), [
      { kind: 'ctlog', name: ctlog.baseUrl, start: '2025-04-01T00:00:00.000Z', end: null },
    ]);
});

test("the signature step's summary names what was verified: a message signature's digest, a DSSE subject", async (t) => {
  const summaryOf = async (name: string, identity: string) =>
    (
      await verifyBundleReport({
        bundle: parseBundle(json(name)),
        artifact: ARTIFACT,
        trust: TRUST,
        policy: buildPolicy(idPolicy(identity)),
      })
    ).checks.find((c) => c.check === 'signature')!.summary;
  t.regex(
    await summaryOf('blob', GH),
    /^signature verifies over sha256:[0-9a-f]{64} \(ECDSA P-256, hash sha256\)$/,
  );
  t.regex(
    await summaryOf('attestation', GL),
    /^DSSE signature verifies; artifact sha256:[0-9a-f]{64} is subject "artifact\.txt" \(ECDSA P-256, hash sha256\)$/,
  );
});

test('a policy that names a predicate type accepts only an in-toto attestation of exactly that type; the policy step says so', async (t) => {
  const SLSA = 'https://slsa.dev/provenance/v1';
  const report = (name: string, policy: PolicyOptions) =>
    verifyBundleReport({
      bundle: parseBundle(json(name)),
      artifact: ARTIFACT,
      trust: TRUST,
      policy: buildPolicy(policy),
    });
  const ok = await report('attestation', { ...idPolicy(GL), predicateType: SLSA });
  t.true(ok.ok, JSON.stringify(ok.error));
  const step = ok.checks.find((c) => c.check === 'policy')!;
  t.regex(step.summary, /; predicate type "https:\/\/slsa\.dev\/provenance\/v1"$/);
  t.is((step.details as { predicateType?: string }).predicateType, SLSA);

  for (const [what, name, policy, message] of [
    [
      'another predicate type',
      'attestation',
      { ...idPolicy(GL), predicateType: 'https://slsa.dev/provenance/v0.2' },
      /^predicate type mismatch: the bundle's in-toto statement has predicate type "https:\/\/slsa\.dev\/provenance\/v1", not "https:\/\/slsa\.dev\/provenance\/v0\.2"$/,
    ],
    [
      'a message signature',
      'blob',
      { ...idPolicy(GH), predicateType: SLSA },
      /^predicate type mismatch: the bundle is a signature over the artifact itself, not an in-toto attestation; required predicate type "https:\/\/slsa\.dev\/provenance\/v1"$/,
    ],
    [
      'a managed-key message signature',
      'managed-key',
      { publicKeyPem: KEY_PEM, now: NOW, predicateType: SLSA },
      /^predicate type mismatch: the bundle is a signature over the artifact itself/,
    ],
  ] as const) {
    const r = await report(name, policy);
    t.false(r.ok, what);
    t.is(r.error?.code, 'PREDICATE_TYPE_MISMATCH', what);
    t.is(r.error?.check, 'policy', what);
    t.regex(r.error?.message ?? '', message, what);
  }
  // Who signed comes first: an identity mismatch is reported as that, whatever the type.
  const who = await report('attestation', {
    ...idPolicy(GH),
    predicateType: 'https://x.invalid/t',
  });
  t.is(who.error?.code, 'IDENTITY_MISMATCH');
  // The managed key with the right type passes only with an attestation, which no sample has under a key:
  // without a predicate type, the same managed-key bundle passes.
  t.true((await report('managed-key', { publicKeyPem: KEY_PEM, now: NOW })).ok);
});

test('a bundle a library caller built by hand, whose v0.3 entry has no inclusion proof (the parser would refuse it), is REKOR_PROOF_MISSING at the tlog step', async (t) => {
  const bundle = parseBundle(json('blob'));
  const entry = bundle.verificationMaterial.tlogEntries[0]!;
  const handBuilt = {
    ...bundle,
    verificationMaterial: {
      ...bundle.verificationMaterial,
      tlogEntries: [{ ...entry, inclusionProof: undefined }],
    },
  };
  const report = await verifyBundleReport({
    bundle: handBuilt,
    artifact: ARTIFACT,
    trust: TRUST,
    policy: buildPolicy(idPolicy(GH)),
  });
  t.is(report.error?.code, 'REKOR_PROOF_MISSING', report.error?.message);
  t.is(
    report.error?.message,
    `Rekor proof missing: tlog entry ${entry.logIndex} has no inclusion proof`,
  );
});
