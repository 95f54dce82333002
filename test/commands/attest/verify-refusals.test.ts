/**
 * The outside review's verification findings (checklist section H, lines 48, 49 and 58) through
 * the real CLI, where a user meets them: bundles and trust roots written to files, a trust store
 * built with `stella trust init/import/retire`, `stella attest verify` run with networking made
 * to throw. Each refusal sits next to a control run that verifies (exit 0).
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES } from '../../../src/errors.js';
import { serializeBundle } from '../../../src/bundle/serialize.js';
import type { Bundle } from '../../../src/bundle/model.js';
import { serializeTrustedRoot } from '../../../src/trust/trusted-root.js';
import type { TrustMaterial } from '../../../src/model/trust-material.js';
import { MAX_IDENTITY_PATTERN_LENGTH } from '../../../src/verify/identity-pattern.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { CONFORMANCE_DIR, NO_NETWORK_PRELOAD, PROJECT_ROOT } from '../../helpers/paths.js';
import { conformanceCase, sharedTest } from '../../helpers/shared.js';
import { ISSUER_URL, signBlob, testAuthority, testTsa } from '../../helpers/authority-bundles.js';
import {
  craftLeaf,
  LEAF_LIFETIME,
  trustWithTsa,
  tsaTimedBundle,
  V01,
  withoutSetTimedByTsa,
} from '../../helpers/crafted-bundles.js';
import { tempDir } from '../../helpers/temp.js';
import { verifyFlags } from '../../helpers/argv.js';
import { sampleBundle, verifySampleArgs } from '../../helpers/samples.js';
import { findBundlesByDigest } from '../../../src/store/attestations.js';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { literalPattern } from '../../../src/verify/identity-pattern.js';

const OFFLINE = { nodeArgs: ['--import', NO_NETWORK_PRELOAD] };
const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const SAMPLE_IDENTITY =
  'https://github\\.com/stella-samples/demo/\\.github/workflows/release\\.yml@refs/heads/main';
const SAMPLE_ISSUER = 'https://oidc.stella.invalid';
const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const SEC = 1000;
const MIN = 60 * SEC;
const TSA = testTsa('h-cli', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
const ARTIFACT = new TextEncoder().encode('an artifact for the CLI\n');

const tmp = (t: import('ava').ExecutionContext): string => tempDir(t, 'stella-h-verify-');

interface Files {
  bundle: string;
  artifact: string;
  root: string;
}

function writeCase(
  dir: string,
  name: string,
  bundle: Bundle | string,
  trust: TrustMaterial,
  artifact = ARTIFACT,
): Files {
  const f = {
    bundle: path.join(dir, `${name}.sigstore.json`),
    artifact: path.join(dir, `${name}.artifact`),
    root: path.join(dir, `${name}.trusted_root.json`),
  };
  writeFileSync(f.bundle, typeof bundle === 'string' ? bundle : serializeBundle(bundle));
  writeFileSync(f.artifact, artifact);
  writeFileSync(f.root, serializeTrustedRoot(trust));
  return f;
}

function verify(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(['attest', 'verify', ...args], { ...OFFLINE, env });
}

function exits(
  t: ExecutionContext,
  r: CliResult,
  code: number,
  stderr: RegExp | undefined,
  what: string,
): void {
  t.is(r.code, code, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  if (stderr) t.regex(r.stderr, stderr, what);
  t.notRegex(r.stderr, /NETWORK ATTEMPT|\n\s+at /, `${what}: no network, no stack trace`);
}

/** The sample blob's bundle and the trusted root it verifies under. */
const SAMPLE_BLOB = [
  '--bundle',
  path.join(SAMPLES, 'blob.sigstore.json'),
  '--trusted-root',
  path.join(SAMPLES, 'trusted_root.json'),
];

test('the artifact as an argument verifies as --artifact does; given both ways it is a usage error naming both', async (t) => {
  const artifact = path.join(SAMPLES, 'artifact.txt');
  const rest = [
    ...SAMPLE_BLOB,
    '--certificate-identity',
    SAMPLE_IDENTITY,
    '--certificate-oidc-issuer',
    SAMPLE_ISSUER,
  ];
  exits(t, await verify([artifact, ...rest]), 0, undefined, 'as an argument');
  exits(
    t,
    await verify([artifact, ...rest, '--artifact', artifact]),
    2,
    /^error: the artifact was given twice \("[^"]*artifact\.txt" and --artifact "[^"]*artifact\.txt"\): give it once\n/,
    'both ways',
  );
});

test('--image REGISTRY/REPO@sha256 with --bundle or --archive is a usage error, before anything is read or asked of a registry', async (t) => {
  const image =
    'registry.stella.invalid/demo@sha256:96469f2be9c77488103a0528bbfd75327f8fb822ea81304370a633e76ee352e9';
  const policy = [
    '--trusted-root',
    path.join(SAMPLES, 'trusted_root.json'),
    '--certificate-identity',
    SAMPLE_IDENTITY,
    '--certificate-oidc-issuer',
    SAMPLE_ISSUER,
  ];
  // The archive need not exist: the flags are judged first.
  for (const source of [
    ['--bundle', path.join(SAMPLES, 'blob.sigstore.json')],
    ['--archive', path.join(tmp(t), 'absent.tar')],
  ])
    exits(
      t,
      await verify(['--image', image, ...source, ...policy]),
      2,
      /^error: --image REGISTRY\/REPO@sha256:<hex> takes the bundles from the registry: it cannot be combined with --bundle or --archive\nSee more help with --help\n$/,
      source[0]!,
    );
});

// ---------------------------------------------------------------------------------------
// H49: the identity pattern is compiled alone; a bad one is a usage error (exit 2)

test('H49 an identity pattern that is not a regular expression on its own is a usage error, before anything is read', async (t) => {
  const base = [
    ...SAMPLE_BLOB,
    '--artifact',
    path.join(SAMPLES, 'artifact.txt'),
    '--certificate-oidc-issuer',
    SAMPLE_ISSUER,
  ];
  exits(
    t,
    await verify([...base, '--certificate-identity', SAMPLE_IDENTITY]),
    0,
    undefined,
    'the sample identity (control)',
  );
  exits(
    t,
    await verify([...base, '--certificate-identity', `(?i)${SAMPLE_IDENTITY.toUpperCase()}`]),
    0,
    undefined,
    'RE2 (?i) flags, as cosign users write them (control)',
  );
  exits(
    t,
    await verify([...base, '--certificate-identity', 'x)|(?:.*']),
    2,
    /^error: --certificate-identity is not a valid RE2 regular expression on its own: unexpected \): `x\)\|\(\?:\.\*`\nSee more help with --help\n$/,
    'x)|(?:.* (before the fix: matched every identity, exit 0)',
  );
  exits(
    t,
    await verify([...base, '--certificate-identity', 'https://github\\.com/other/repo/.*)|(.*']),
    2,
    /unexpected \)/,
    'a real-looking prefix with the escape',
  );
  exits(
    t,
    await verify([
      ...base,
      '--certificate-identity',
      'https://github\\.com/stella-samples/demo(?=/)/.*',
    ]),
    2,
    /invalid or unsupported Perl syntax.*RE2 has no lookahead/,
    'a lookahead (no RE2 form)',
  );
  exits(
    t,
    await verify([
      ...base,
      '--certificate-identity',
      `${'a'.repeat(MAX_IDENTITY_PATTERN_LENGTH)}.*`,
    ]),
    2,
    new RegExp(
      `is ${MAX_IDENTITY_PATTERN_LENGTH + 2} characters long; the limit is ${MAX_IDENTITY_PATTERN_LENGTH}`,
    ),
    'over-long pattern',
  );
  const json = await verify([...base, '--json', '--certificate-identity', 'x)|(?:.*']);
  t.is(json.code, 2, '--json: still a usage error');
  const out = JSON.parse(json.stdout);
  t.is(
    out.error.code,
    'USAGE_ERROR',
    'with --json, a usage error is one JSON object on stdout (no report: nothing was verified)',
  );
  t.regex(out.error.message, /not a valid RE2 regular expression on its own/);
  t.is(out.checks, undefined);
  // A pattern that escapes nothing but matches another identity is a plain mismatch (exit 45).
  exits(
    t,
    await verify([...base, '--certificate-identity', 'https://github\\.com/stella-samples/demo']),
    EXIT_CODES.IDENTITY_MISMATCH,
    /identity mismatch: .* matches \^\(\?:https:\/\/github\\\.com\/stella-samples\/demo\)\$/,
    'anchored prefix',
  );
});

// ---------------------------------------------------------------------------------------
// H48: retiring a log in the trust store takes effect for TSA-timed entries

/** init a store, import `root`, return the id of the tlog entry for `logUrl`. */
async function storeWith(
  t: ExecutionContext,
  store: string,
  root: string,
  logUrl: string,
): Promise<number> {
  const env = { env: { STELLA_TRUST_STORE: store } };
  t.is((await runCli(['trust', 'init'], env)).code, 0);
  const imp = await runCli(['trust', 'import', root, '--json'], env);
  t.is(imp.code, 0, imp.stdout + imp.stderr);
  const entries = (
    JSON.parse((await runCli(['trust', 'list', '--json'], env)).stdout) as {
      entries: { id: number; kind: string; uri: string }[];
    }
  ).entries;
  const log = entries.find((e) => e.kind === 'tlog' && e.uri === logUrl);
  if (!log) throw new Error(`no tlog ${logUrl} in ${JSON.stringify(entries)}`);
  return log.id;
}

async function retire(t: ExecutionContext, store: string, id: number, at: string): Promise<void> {
  const r = await runCli(['trust', 'retire', String(id), '--at', at, '--json'], {
    env: { STELLA_TRUST_STORE: store },
  });
  t.is(r.code, 0, r.stdout + r.stderr);
}

test('H48 trust retire closes a log for a Rekor v1 entry timed only by a TSA (no SET)', async (t) => {
  const dir = tmp(t);
  const a = testAuthority('h48-cli');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T });
  const tsaTime = T + MIN;
  const f = writeCase(
    dir,
    'no-set',
    withoutSetTimedByTsa(s.bundle, TSA, tsaTime),
    trustWithTsa(a, TSA),
  );
  const store = path.join(dir, 'trust.db');
  const id = await storeWith(t, store, f.root, a.urls.rekor);
  const args = verifyFlags({
    bundle: f.bundle,
    artifact: f.artifact,
    identity: literalPattern(s.identity),
    issuer: ISSUER_URL,
    store,
  });
  exits(t, await verify(args), 0, undefined, 'before the retirement (control)');
  await retire(t, store, id, new Date(tsaTime).toISOString());
  exits(
    t,
    await verify(args),
    0,
    undefined,
    'retired at exactly the TSA time (the end is inclusive)',
  );
  await retire(t, store, id, new Date(tsaTime - SEC).toISOString());
  exits(
    t,
    await verify(args),
    EXIT_CODES.TLOG_UNTRUSTED,
    /^error: tlog: key of log https:\/\/rekor\.test\.invalid is not valid at verified time 2025-06-01T12:01:00\.000Z \(valid 2025-01-01T00:00:00\.000Z\.\.2025-06-01T12:00:59\.000Z\) \(trust: trust store [^)]*\)\n$/,
    'retired one second before the TSA time',
  );
  const json = await verify([...args, '--json']);
  t.is(json.code, EXIT_CODES.TLOG_UNTRUSTED);
  const report = JSON.parse(json.stdout) as {
    ok: boolean;
    error: { code: string; check: string };
    checks: { check: string; status: string }[];
  };
  t.false(report.ok);
  t.deepEqual(report.error.code, 'TLOG_UNTRUSTED');
  t.deepEqual(
    report.checks.map((c) => `${c.check}:${c.status}`),
    [
      'verified-times:pass',
      'certificate-chain:pass',
      'sct:pass',
      'tlog:fail',
      'signature:skip',
      'policy:skip',
    ],
  );
});

sharedTest(
  'H48 trust retire closes a Rekor v2 log for its TSA-timed entries (shared conformance rekor2-happy-path)',
  async (t) => {
    const dir = tmp(t);
    const caseDir = conformanceCase('rekor2-happy-path');
    // The case's staging root lists an old CT log with a bare PKCS#1 RSA key, which the trust
    // store accepts on import but cannot load back (a separate store bug); it plays no part here.
    const root = JSON.parse(readFileSync(path.join(caseDir, 'trusted_root.json'), 'utf8')) as {
      ctlogs: { publicKey: { keyDetails: string } }[];
    };
    root.ctlogs = root.ctlogs.filter((c) => !c.publicKey.keyDetails.startsWith('PKCS1_'));
    const rootPath = path.join(dir, 'trusted_root.json');
    writeFileSync(rootPath, JSON.stringify(root));
    const store = path.join(dir, 'trust.db');
    const id = await storeWith(t, store, rootPath, 'https://log2025-alpha1.rekor.sigstage.dev');
    const args = verifyFlags({
      bundle: path.join(caseDir, 'bundle.sigstore.json'),
      artifact: path.join(CONFORMANCE_DIR, 'a.txt'),
      identity: literalPattern(
        'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
      ),
      issuer: 'https://token.actions.githubusercontent.com',
      store,
    });
    const control = await verify([...args, '--json']);
    exits(t, control, 0, undefined, 'before the retirement (control)');
    const times = (
      JSON.parse(control.stdout) as { verifiedTimes: { source: string; time: string }[] }
    ).verifiedTimes;
    t.deepEqual(times, [
      {
        source: 'rfc3161',
        time: '2025-06-12T12:02:20.000Z',
        authority: 'https://timestamp.sigstage.dev/api/v1/timestamp',
      },
    ]);
    await retire(t, store, id, '2025-06-12T12:02:19Z');
    exits(
      t,
      await verify(args),
      EXIT_CODES.TLOG_UNTRUSTED,
      /key of log https:\/\/log2025-alpha1\.rekor\.sigstage\.dev is not valid at verified time 2025-06-12T12:02:20\.000Z/,
      'retired one second before the TSA time (before the fix: exit 0)',
    );
  },
);

// ---------------------------------------------------------------------------------------
// H58: declared version and structure agree

test('H58 a v0.1 media type on a single certificate with its proof stripped is refused, even with --require-rekor', async (t) => {
  const dir = tmp(t);
  const j = JSON.parse(readFileSync(path.join(SAMPLES, 'blob.sigstore.json'), 'utf8')) as {
    mediaType: string;
    verificationMaterial: { tlogEntries: { inclusionProof?: unknown }[] };
  };
  j.mediaType = V01;
  delete j.verificationMaterial.tlogEntries[0]!.inclusionProof;
  const relabelled = path.join(dir, 'relabelled.sigstore.json');
  writeFileSync(relabelled, JSON.stringify(j));
  const args = (bundle: string): string[] =>
    verifyFlags({
      bundle,
      artifact: path.join(SAMPLES, 'artifact.txt'),
      trustedRoot: path.join(SAMPLES, 'trusted_root.json'),
      identity: SAMPLE_IDENTITY,
      issuer: SAMPLE_ISSUER,
      requireRekor: true,
    });
  exits(
    t,
    await verify(args(path.join(SAMPLES, 'blob.sigstore.json'))),
    0,
    undefined,
    'the sample as signed (control)',
  );
  exits(
    t,
    await verify(args(relabelled)),
    EXIT_CODES.BUNDLE_MALFORMED,
    /^error: bundle: a v0\.1 bundle must carry an x509CertificateChain or a publicKey, not verificationMaterial\.certificate \(its media type does not match its structure\)\n$/,
    'relabelled v0.1 (before the fix: exit 0)',
  );
});

// ---------------------------------------------------------------------------------------
// H58: certificates: serials, precertificates, SCT times

test('H58 odd certificates through the CLI: bad serial (15), precertificate leaf (27), SCT outside the leaf validity (28)', async (t) => {
  const dir = tmp(t);
  const a = testAuthority('h58-cli');
  const trust = trustWithTsa(a, TSA);
  const run = async (
    name: string,
    o: Omit<Parameters<typeof craftLeaf>[1], 'label' | 'notBefore'>,
  ): Promise<CliResult> => {
    const leaf = craftLeaf(a, { label: name, notBefore: T, ...o });
    const f = writeCase(dir, name, tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2 * SEC), trust);
    return verify(
      verifyFlags({
        bundle: f.bundle,
        artifact: f.artifact,
        trustedRoot: f.root,
        identity: literalPattern(leaf.identity),
        issuer: ISSUER_URL,
      }),
    );
  };
  exits(t, await run('control', {}), 0, undefined, 'a well-formed leaf with its SCT (control)');
  exits(
    t,
    await run('serial-zero', { serial: 0n }),
    EXIT_CODES.CERTIFICATE_MALFORMED,
    /^error: certificate-chain: certificate: serialNumber is zero/,
    'serial 0',
  );
  exits(
    t,
    await run('serial-negative', { serial: -42n }),
    EXIT_CODES.CERTIFICATE_MALFORMED,
    /serialNumber is negative/,
    'negative serial',
  );
  exits(
    t,
    await run('serial-long', { serial: 2n ** 200n }),
    EXIT_CODES.CERTIFICATE_MALFORMED,
    /serialNumber is 26 octets long/,
    '26-octet serial',
  );
  exits(
    t,
    await run('precert', { precert: true }),
    EXIT_CODES.CERT_USAGE_INVALID,
    /^error: certificate-chain: leaf certificate is a precertificate/,
    'precertificate as the leaf',
  );
  exits(
    t,
    await run('sct-late', { sctTime: T + LEAF_LIFETIME + 3 * 365 * 24 * 60 * MIN }),
    EXIT_CODES.SCT_INVALID,
    /^error: sct: no valid SCT: SCT timestamp 2028-05-31T12:10:00\.000Z .* outside the certificate's validity/,
    'SCT three years after expiry',
  );
  exits(
    t,
    await run('sct-early', { sctTime: T - MIN }),
    EXIT_CODES.SCT_INVALID,
    /outside the certificate's validity/,
    'SCT before notBefore',
  );
});

test('a log entry is required by --require-rekor, or by a policy environment with requireRekor, either one alone', async (t) => {
  const dir = tmp(t);
  const a = testAuthority('require-rekor-cli');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T });
  // Timed by a TSA, with no log entry at all.
  const timed = withoutSetTimedByTsa(s.bundle, TSA, T + MIN);
  const noLog = {
    ...timed,
    verificationMaterial: { ...timed.verificationMaterial, tlogEntries: [] },
  };
  const f = writeCase(dir, 'no-log', noLog, trustWithTsa(a, TSA));
  const base = { bundle: f.bundle, artifact: f.artifact, trustedRoot: f.root };
  const flags = verifyFlags({ ...base, identity: literalPattern(s.identity), issuer: ISSUER_URL });
  exits(t, await verify(flags), 0, undefined, 'no log entry asked for (control)');
  const required = await verify([
    ...verifyFlags({
      ...base,
      identity: literalPattern(s.identity),
      issuer: ISSUER_URL,
      requireRekor: true,
    }),
    '--json',
  ]);
  t.not(required.code, 0, required.stdout);
  t.is(JSON.parse(required.stdout).error.check, 'tlog', required.stdout);
  const policy = path.join(dir, 'policy.yaml');
  const env = (requireRekor: boolean): string =>
    `environments:\n  default:\n    issuer: ${ISSUER_URL}\n    identity: ${JSON.stringify(literalPattern(s.identity))}\n    requireRekor: ${requireRekor}\n`;
  const byPolicy = async (requireRekor: boolean): Promise<CliResult> => {
    writeFileSync(policy, env(requireRekor));
    return verify([
      ...verifyFlags({ ...base, offline: true, json: true }),
      '--policy',
      policy,
      '--environment',
      'default',
    ]);
  };
  exits(t, await byPolicy(false), 0, undefined, 'the policy does not ask for a log entry');
  const policyRequired = await byPolicy(true);
  t.is(policyRequired.code, required.code, policyRequired.stdout);
  t.is(JSON.parse(policyRequired.stdout).error.code, JSON.parse(required.stdout).error.code);
});

test('--bundle with --archive, and --seal-identity without --seal-issuer over an archive, are usage errors before anything is read', async (t) => {
  const policy = [
    '--certificate-identity',
    SAMPLE_IDENTITY,
    '--certificate-oidc-issuer',
    SAMPLE_ISSUER,
  ];
  const absent = path.join(tmp(t), 'absent.tar');
  exits(
    t,
    await verify([
      '--bundle',
      path.join(SAMPLES, 'blob.sigstore.json'),
      '--archive',
      absent,
      '--artifact',
      path.join(SAMPLES, 'artifact.txt'),
      ...policy,
    ]),
    2,
    /^error: --bundle and --archive cannot be combined: the bundles come from one or the other\nSee more help with --help\n$/,
    '--bundle with --archive',
  );
  exits(
    t,
    await verify([
      '--archive',
      absent,
      '--all',
      '--seal-identity',
      'https://ci.example/x',
      ...policy,
    ]),
    2,
    /^error: --seal-identity and --seal-issuer go together\nSee more help with --help\n$/,
    '--seal-identity alone',
  );
  exits(
    t,
    await verify(['--archive', absent, '--jobs', '2', ...policy]),
    2,
    /^error: with --archive, say which artifacts: --all, --artifact FILE_OR_DIGEST \(repeatable\) or --artifacts-dir DIR \(one of them\)\nSee more help with --help\n$/,
    'no selection',
  );
});

test('--predicate-type: a bundle passes only as an in-toto attestation of exactly that type, one bundle or a shipment; import takes it only with a policy', async (t) => {
  const SLSA = 'https://slsa.dev/provenance/v1';
  const ROOT = path.join(SAMPLES, 'trusted_root.json');
  const attestation = verifySampleArgs('attestation', '--trusted-root', ROOT);
  const ok = await runCli([...attestation, '--predicate-type', SLSA, '--json'], OFFLINE);
  exits(t, ok, 0, undefined, 'the attestation sample is SLSA provenance v1');
  const policy = (
    JSON.parse(ok.stdout) as { checks: { check: string; summary: string }[] }
  ).checks.find((c) => c.check === 'policy')!;
  t.regex(policy.summary, /; predicate type "https:\/\/slsa\.dev\/provenance\/v1"$/);
  exits(
    t,
    await runCli([...attestation, '--predicate-type', 'https://slsa.dev/provenance/v0.2'], OFFLINE),
    EXIT_CODES.PREDICATE_TYPE_MISMATCH,
    /^error: policy: predicate type mismatch: the bundle's in-toto statement has predicate type "https:\/\/slsa\.dev\/provenance\/v1", not "https:\/\/slsa\.dev\/provenance\/v0\.2"\n/,
    'another type',
  );
  exits(
    t,
    await runCli(
      [...verifySampleArgs('blob', '--trusted-root', ROOT), '--predicate-type', SLSA],
      OFFLINE,
    ),
    EXIT_CODES.PREDICATE_TYPE_MISMATCH,
    /predicate type mismatch: the bundle is a signature over the artifact itself, not an in-toto attestation/,
    'a message signature',
  );
  // --explain still shows how the identity matched: only what was signed failed.
  const explained = await runCli(
    [...verifySampleArgs('blob', '--trusted-root', ROOT), '--predicate-type', SLSA, '--explain'],
    OFFLINE,
  );
  exits(t, explained, EXIT_CODES.PREDICATE_TYPE_MISMATCH, undefined, '--explain');
  t.regex(explained.stdout, /^identity policy \(command line\):\n/);
  t.regex(
    explained.stdout,
    /\n {2}SAN URI +"https:\/\/github\.com\/stella-samples\/demo\/.*": MATCH /,
  );
  // cosign's names for types (verify-attestation --type) stand for their URIs.
  exits(
    t,
    await runCli([...attestation, '--predicate-type', 'slsaprovenance1'], OFFLINE),
    0,
    undefined,
    "cosign's name slsaprovenance1",
  );
  exits(
    t,
    await runCli([...attestation, '--predicate-type', 'spdxjson'], OFFLINE),
    EXIT_CODES.PREDICATE_TYPE_MISMATCH,
    /^error: policy: predicate type mismatch: the bundle's in-toto statement has predicate type "https:\/\/slsa\.dev\/provenance\/v1", not "https:\/\/spdx\.dev\/Document"\n/,
    "cosign's name spdxjson",
  );
  exits(
    t,
    await runCli([...attestation, '--predicate-type', 'slsa'], OFFLINE),
    2,
    /^error: --predicate-type "slsa" is not a URI: a predicate type is a URI, compared exactly, or cosign's name for one \(custom, [a-z0-9, ]+\)\n/,
    'not a URI',
  );

  // A shipment: the sample artifact with its blob signature and its attestation. It passes on
  // the attestation; under another type both bundles fail, each saying why.
  const dir = tmp(t);
  const tar = path.join(dir, 'shipment.tar');
  const digest = `sha256:${createHash('sha256')
    .update(readFileSync(path.join(SAMPLES, 'artifact.txt')))
    .digest('hex')}`;
  const exported = await runCli(
    [
      'attest',
      'export-bundle',
      '--artifact',
      digest,
      '--bundle',
      path.join(SAMPLES, 'blob.sigstore.json'),
      '--bundle',
      path.join(SAMPLES, 'attestation.sigstore.json'),
      '--trusted-root',
      ROOT,
      '--output',
      tar,
    ],
    OFFLINE,
  );
  exits(t, exported, 0, undefined, 'export');
  const either = [
    '--certificate-identity',
    `${literalPattern(sampleBundle('blob').identity!)}|${literalPattern(sampleBundle('attestation').identity!)}`,
    '--certificate-oidc-issuer',
    SAMPLE_ISSUER,
    '--trusted-root',
    ROOT,
  ];
  const shipment = (type: string) =>
    verify(['--archive', tar, '--all', ...either, '--predicate-type', type, '--json']);
  const passed = await shipment(SLSA);
  exits(t, passed, 0, undefined, 'shipment, SLSA');
  const verdict = JSON.parse(passed.stdout).artifacts[0];
  t.true(verdict.ok);
  t.is(
    verdict.verified.identity,
    sampleBundle('attestation').identity,
    'passed on the attestation',
  );
  const failed = await shipment('https://spdx.dev/Document');
  exits(t, failed, EXIT_CODES.SHIPMENT_INCOMPLETE, undefined, 'shipment, another type');
  const failures = JSON.parse(failed.stdout).artifacts[0].failures as { code: string }[];
  t.deepEqual(
    failures.map((f) => f.code),
    ['PREDICATE_TYPE_MISMATCH', 'PREDICATE_TYPE_MISMATCH'],
  );
  // attest import verifies nothing without a policy, so a predicate type alone would be ignored.
  exits(
    t,
    await runCli(
      [
        'attest',
        'import',
        tar,
        '--attestation-store',
        path.join(dir, 'att.db'),
        '--predicate-type',
        SLSA,
      ],
      OFFLINE,
    ),
    2,
    /^error: --jobs, --allow-broad-identity and --predicate-type apply with a policy \(--policy or identity flags\)\n/,
    'import, type alone',
  );
  // With a policy the import takes it; and what it stores records each bundle's predicate
  // type, as signing does (until stop 51 an imported attestation was stored with none).
  const att = path.join(dir, 'att.db');
  exits(
    t,
    await runCli(
      ['attest', 'import', tar, '--attestation-store', att, ...either, '--predicate-type', SLSA],
      OFFLINE,
    ),
    0,
    undefined,
    'import under the type',
  );
  t.deepEqual(
    findBundlesByDigest(att, digest)
      .map((b) => `${b.contentKind} ${b.predicateType ?? '-'}`)
      .sort(),
    ['dsseEnvelope https://slsa.dev/provenance/v1', 'messageSignature -'],
  );
});

test('a bundle or trusted root saved with a byte order mark is refused saying so, as cosign and sigstore-js refuse it; a PEM key with one is read', async (t) => {
  const dir = tmp(t);
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
  const withBom = (file: string): string => {
    const out = path.join(dir, `bom-${path.basename(file)}`);
    writeFileSync(out, Buffer.concat([BOM, readFileSync(file)]));
    return out;
  };
  const args = (bundle: string, root: string): string[] =>
    verifyFlags({
      bundle,
      artifact: path.join(SAMPLES, 'artifact.txt'),
      trustedRoot: root,
      identity: SAMPLE_IDENTITY,
      issuer: SAMPLE_ISSUER,
    });
  const bundle = path.join(SAMPLES, 'blob.sigstore.json');
  const root = path.join(SAMPLES, 'trusted_root.json');
  exits(t, await verify(args(bundle, root)), 0, undefined, 'the sample as signed (control)');
  exits(
    t,
    await verify(args(withBom(bundle), root)),
    EXIT_CODES.BUNDLE_MALFORMED,
    /^error: bundle: malformed JSON in bundle: the input starts with a byte order mark \(U\+FEFF\), which JSON does not allow; save it as UTF-8 without a BOM\n$/,
    'bundle with a BOM (before the fix: exit 0)',
  );
  exits(
    t,
    await verify(args(bundle, withBom(root))),
    EXIT_CODES.TRUSTED_ROOT_INVALID,
    /^error: trusted-root: malformed JSON in trusted root: the input starts with a byte order mark/,
    'trusted root with a BOM (before the fix: exit 0)',
  );
  // Texts a person writes keep theirs dropped: the managed key's PEM, as Windows editors save it.
  const keyed = await verify([
    path.join(SAMPLES, 'artifact.txt'),
    '--bundle',
    path.join(SAMPLES, 'managed-key.sigstore.json'),
    '--trusted-root',
    root,
    '--key',
    withBom(path.join(SAMPLES, 'key.pub')),
  ]);
  exits(t, keyed, 0, undefined, 'managed key PEM with a BOM');
});

test("--key and --seal-key take cosign's env://VAR (the PEM in the environment) on every verify path; a KMS or URL key is refused saying what to give", async (t) => {
  const dir = tmp(t);
  const pem = readFileSync(path.join(SAMPLES, 'key.pub'), 'utf8');
  const managed = [
    path.join(SAMPLES, 'artifact.txt'),
    '--bundle',
    path.join(SAMPLES, 'managed-key.sigstore.json'),
    '--trusted-root',
    path.join(SAMPLES, 'trusted_root.json'),
  ];
  // The fast path (one bundle).
  exits(t, await verify([...managed, '--key', 'env://K'], { K: pem }), 0, undefined, 'env://K');
  exits(
    t,
    await verify([...managed, '--key', 'env://K']),
    EXIT_CODES.INPUT_INVALID,
    /^error: input: --key "env:\/\/K": \$K is not set\n$/,
    'env://K unset',
  );
  exits(
    t,
    await verify([...managed, '--key', 'awskms:///arn:aws:kms:eu-west-1:1:key/k']),
    EXIT_CODES.INPUT_INVALID,
    /^error: input: --key "awskms:\/\/\/arn:aws:kms:eu-west-1:1:key\/k" names a key in AWS KMS; Stella verifies offline and fetches no key: export its public key/,
    'a KMS key (before: "no such file")',
  );
  // A shipment: the managed-key bundle in a sealed archive, the seal's key from the environment.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const sealPriv = path.join(dir, 'seal.pem');
  writeFileSync(sealPriv, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const tar = path.join(dir, 'managed.tar');
  const exported = await runCli([
    'attest',
    'export-bundle',
    '--bundle',
    path.join(SAMPLES, 'managed-key.sigstore.json'),
    '--seal-key',
    sealPriv,
    '--output',
    tar,
  ]);
  t.is(exported.code, 0, exported.stderr);
  const shipment = [
    '--archive',
    tar,
    '--all',
    '--trusted-root',
    path.join(SAMPLES, 'trusted_root.json'),
    '--key',
    'env://K',
    '--seal-key',
    'env://SEAL',
    '--json',
  ];
  const env = { K: pem, SEAL: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  const ok = await verify(shipment, env);
  exits(t, ok, 0, undefined, 'archive, env:// keys');
  t.like(JSON.parse(ok.stdout), { ok: true, summary: { passed: 1, seal: { status: 'verified' } } });
  const noSeal = await verify(shipment, { K: pem });
  t.is(noSeal.code, EXIT_CODES.INPUT_INVALID, noSeal.stdout);
  t.regex(noSeal.stdout, /--seal-key \\"env:\/\/SEAL\\": \$SEAL is not set/);
});
