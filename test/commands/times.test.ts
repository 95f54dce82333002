/**
 * Times, through the real CLI (checklist H50, H58; review items 3, 12, 15): every time a user
 * can hand Stella — in a bundle, a TSA token, a token, a trusted root, a flag, an export
 * archive, a sandbox data dir — is refused out of range with its own exit code and a message
 * naming the field (with --json: one object), never a stack trace; one bad bundle never stops
 * `export-bundle` or hides the good bundles in `verify --archive`; a TSA time is compared at
 * full precision; and every time flag takes the one strict RFC 3339 parser.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES } from '../../src/errors.js';
import { readExportArchive } from '../../src/archive/export.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { serializeBundle } from '../../src/bundle/serialize.js';
import type { Bundle } from '../../src/bundle/model.js';
import { loadOrCreateAuthority, sandboxPath } from '../../src/sandbox/server/data-dir.js';
import { AttestationStore } from '../../src/store/attestations.js';
import { parseTrustedRoot, serializeTrustedRoot } from '../../src/trust/trusted-root.js';
import type { PreciseTime } from '../../src/util/time.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { rawExportArchive } from '../helpers/export-archive.js';
import { testTsa } from '../helpers/authority-bundles.js';
import { NO_NETWORK_PRELOAD, PROJECT_ROOT } from '../helpers/paths.js';
import { rotationKeyPair } from '../trust/store/helpers.js';
import { tempDir } from '../helpers/temp.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const s = (f: string): string => path.join(SAMPLES, f);
const IDENTITY =
  'https://github.com/stella-samples/demo/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://oidc.stella.invalid';
const ARTIFACT_DIGEST = 'sha256:ce123e3b1696dcb279b0db568fe3897d5d4859efac4e98856586de920bfec0e9'; // samples/artifact.txt
const OFFLINE = { nodeArgs: ['--import', NO_NETWORK_PRELOAD] };
const POLICY = [
  '--certificate-identity',
  literalPattern(IDENTITY),
  '--certificate-oidc-issuer',
  ISSUER,
];
const BLOB_TEXT = readFileSync(s('blob.sigstore.json'), 'utf8');

const tmp = (t: import('ava').ExecutionContext): string => tempDir(t, 'stella-times-');

/** A one-line refusal with this exit code: no stack trace, the message matching. */
function refusedLine(
  t: ExecutionContext,
  r: CliResult,
  code: keyof typeof EXIT_CODES,
  message: RegExp,
  what: string,
): void {
  t.is(r.code, EXIT_CODES[code], `${what}: ${r.stdout}${r.stderr}`);
  t.regex(r.stderr, message, what);
  t.notRegex(r.stderr, /\n\s+at /, `${what}: no stack trace`);
}

/** With --json: exactly one object on stdout, ok false, this code. */
function refusedJson(
  t: ExecutionContext,
  r: CliResult,
  code: keyof typeof EXIT_CODES,
  message: RegExp,
  what: string,
): void {
  t.is(r.code, EXIT_CODES[code], `${what}: ${r.stdout}${r.stderr}`);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    error: { code: string; message: string; exitCode: number };
  };
  t.false(out.ok, what);
  t.is(out.error.code, code, what);
  t.is(out.error.exitCode, EXIT_CODES[code], what);
  t.regex(out.error.message, message, what);
}

/** The sample blob bundle with its integrated time replaced (protobuf JSON int64 as text). */
function blobWithIntegratedTime(seconds: string): string {
  const j = JSON.parse(BLOB_TEXT) as {
    verificationMaterial: { tlogEntries: { integratedTime: string }[] };
  };
  j.verificationMaterial.tlogEntries[0]!.integratedTime = seconds;
  return JSON.stringify(j);
}

test('verify: an integrated time no Date can hold is BUNDLE_MALFORMED naming the field, one line or one JSON object', async (t) => {
  const dir = tmp(t);
  for (const seconds of ['10000000000000', '253402300800']) {
    const file = path.join(dir, `bad-${seconds}.json`);
    writeFileSync(file, blobWithIntegratedTime(seconds));
    const args = [
      'attest',
      'verify',
      '--bundle',
      file,
      '--artifact',
      s('artifact.txt'),
      '--trusted-root',
      s('trusted_root.json'),
      ...POLICY,
    ];
    const re = new RegExp(
      `verificationMaterial\\.tlogEntries\\[0\\]\\.integratedTime: ${seconds} is not a time in range`,
    );
    refusedLine(
      t,
      await runCli(args, OFFLINE),
      'BUNDLE_MALFORMED',
      new RegExp(`^error: bundle: ${re.source}`),
      `integratedTime ${seconds}`,
    );
    refusedJson(
      t,
      await runCli([...args, '--json'], OFFLINE),
      'BUNDLE_MALFORMED',
      re,
      `integratedTime ${seconds} --json`,
    );
  }
});

test('verify: a trusted root with a validFor out of range or impossible is TRUSTED_ROOT_INVALID naming the field', async (t) => {
  const dir = tmp(t);
  const root = JSON.parse(readFileSync(s('trusted_root.json'), 'utf8')) as {
    tlogs: { publicKey: { validFor: { start: string; end?: string } } }[];
  };
  for (const [end, re] of [
    [
      '9999-12-31T23:59:59-01:00',
      /tlogs\[0\]\.publicKey\.validFor\.end: "9999-12-31T23:59:59-01:00" is not a time in range/,
    ],
    [
      '2030-02-30T00:00:00Z',
      /tlogs\[0\]\.publicKey\.validFor\.end: "2030-02-30T00:00:00Z" is not a valid date-time/,
    ],
  ] as const) {
    root.tlogs[0]!.publicKey.validFor.end = end;
    const file = path.join(dir, 'root.json');
    writeFileSync(file, JSON.stringify(root));
    refusedJson(
      t,
      await runCli(
        [
          'attest',
          'verify',
          '--bundle',
          s('blob.sigstore.json'),
          '--artifact',
          s('artifact.txt'),
          '--trusted-root',
          file,
          '--json',
          ...POLICY,
        ],
        OFFLINE,
      ),
      'TRUSTED_ROOT_INVALID',
      re,
      end,
    );
  }
});

test('verify --archive: a bad bundle is reported and the good one after it still verifies', async (t) => {
  const dir = tmp(t);
  const archive = path.join(dir, 'export.tar');
  const bad = new TextEncoder().encode(blobWithIntegratedTime('10000000000000'));
  writeFileSync(
    archive,
    await rawExportArchive([
      { artifactDigest: ARTIFACT_DIGEST, bytes: bad },
      { artifactDigest: ARTIFACT_DIGEST, bytes: readFileSync(s('blob.sigstore.json')) },
    ]),
  );
  const args = [
    'attest',
    'verify',
    '--archive',
    archive,
    '--artifact',
    ARTIFACT_DIGEST,
    '--trusted-root',
    s('trusted_root.json'),
    ...POLICY,
  ];
  const human = await runCli(args, OFFLINE);
  t.is(human.code, 0, human.stderr);
  t.regex(human.stdout, /Verified OK/);
  t.regex(
    human.stderr,
    new RegExp(
      `^warning: archive ${literalPattern(archive)}: bundles/ce123e3b[0-9a-f]{56}/0\\.sigstore\\.json not verified: BUNDLE_MALFORMED \\(exit 11\\): verificationMaterial\\.tlogEntries\\[0\\]\\.integratedTime: 10000000000000 is not a time in range`,
      'm',
    ),
  );
  const json = await runCli([...args, '--json'], OFFLINE);
  t.is(json.code, 0, json.stdout);
  const out = JSON.parse(json.stdout) as { ok: boolean; warnings: string[] };
  t.true(out.ok);
  t.is(out.warnings.length, 1);
  t.regex(out.warnings[0]!, /0\.sigstore\.json not verified: BUNDLE_MALFORMED/);
  // The bad bundle alone: its own refusal, as a one-line error.
  const onlyBad = path.join(dir, 'only-bad.tar');
  writeFileSync(onlyBad, await rawExportArchive([{ artifactDigest: ARTIFACT_DIGEST, bytes: bad }]));
  refusedJson(
    t,
    await runCli(
      [
        'attest',
        'verify',
        '--archive',
        onlyBad,
        '--artifact',
        ARTIFACT_DIGEST,
        '--trusted-root',
        s('trusted_root.json'),
        '--json',
        ...POLICY,
      ],
      OFFLINE,
    ),
    'BUNDLE_MALFORMED',
    /integratedTime: 10000000000000/,
    'only the bad bundle',
  );
});

test('export-bundle --all: a bad bundle is left out and reported, the others exported, and the command exits EXPORT_INCOMPLETE', async (t) => {
  const dir = tmp(t);
  const storePath = path.join(dir, 'attestations.db');
  const store = AttestationStore.open(storePath, 'write');
  // The bad one first: it used to stop the export before the good ones.
  store.save({
    artifactDigest: ARTIFACT_DIGEST,
    bundleJson: blobWithIntegratedTime('10000000000000'),
    contentKind: 'messageSignature',
    createdAt: 1,
  });
  store.save({
    artifactDigest: ARTIFACT_DIGEST,
    bundleJson: BLOB_TEXT,
    contentKind: 'messageSignature',
    createdAt: 2,
  });
  store.save({
    artifactDigest: ARTIFACT_DIGEST,
    bundleJson: readFileSync(s('attestation.sigstore.json'), 'utf8'),
    contentKind: 'dsseEnvelope',
    createdAt: 3,
  });
  store.close();

  const out = path.join(dir, 'all.tar');
  const r = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--attestation-store',
    storePath,
    '--output',
    out,
    '--json',
  ]);
  t.is(r.code, EXIT_CODES.EXPORT_INCOMPLETE, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as {
    ok: boolean;
    bundles: unknown[];
    refused: { source: string; code: string; message: string }[];
    error: { code: string; message: string };
  };
  t.false(report.ok);
  t.is(report.bundles.length, 2);
  t.is(report.refused.length, 1);
  t.regex(report.refused[0]!.source, /attestation store .* \(row 1\)$/);
  t.is(report.refused[0]!.code, 'BUNDLE_MALFORMED');
  t.regex(report.refused[0]!.message, /integratedTime: 10000000000000 is not a time in range/);
  t.is(report.error.code, 'EXPORT_INCOMPLETE');
  t.is(
    readExportArchive(readFileSync(out)).bundles.length,
    2,
    'the archive holds the good bundles',
  );
  const v = await runCli(
    [
      'attest',
      'verify',
      '--archive',
      out,
      '--artifact',
      s('artifact.txt'),
      '--trusted-root',
      s('trusted_root.json'),
      ...POLICY,
    ],
    OFFLINE,
  );
  t.is(v.code, 0, v.stderr);

  // Human form: the good ones on stdout, one line per bad bundle and the overall refusal on stderr.
  const human = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--attestation-store',
    storePath,
    '--output',
    path.join(dir, 'human.tar'),
  ]);
  t.is(human.code, EXIT_CODES.EXPORT_INCOMPLETE, human.stderr);
  t.regex(human.stdout, /^exported 2 bundle\(s\) for 1 artifact\(s\)/);
  t.regex(
    human.stderr,
    /^error: bundle: left out attestation store .* \(row 1\): verificationMaterial\.tlogEntries\[0\]\.integratedTime: 10000000000000 is not a time in range/m,
  );
  t.regex(
    human.stderr,
    /^error: archive: export incomplete: 1 bundle\(s\) left out of .*human\.tar, 2 exported$/m,
  );
  t.notRegex(human.stderr, /\n\s+at /);

  // An unreadable --bundle file among good ones is reported the same way.
  const files = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--bundle',
    path.join(dir, 'missing.json'),
    '--bundle',
    s('blob.sigstore.json'),
    '--output',
    path.join(dir, 'files.tar'),
    '--json',
  ]);
  t.is(files.code, EXIT_CODES.EXPORT_INCOMPLETE, files.stdout);
  t.regex(
    (JSON.parse(files.stdout) as { refused: { source: string }[] }).refused[0]!.source,
    /^--bundle .*missing\.json$/,
  );
  t.true(existsSync(path.join(dir, 'files.tar')));
});

test("a TSA time is compared at full precision: 100 µs past the TSA certificate's or the leaf's end is refused", async (t) => {
  const dir = tmp(t);
  const blob = parseBundle(BLOB_TEXT);
  if (blob.content.kind !== 'messageSignature')
    throw new Error('the blob sample is a message signature');
  const signature = blob.content.signature;
  const setTime = blob.verificationMaterial.tlogEntries[0]!.integratedTime * 1000;
  const leaf = parseCertificate(
    blob.verificationMaterial.content.kind === 'certificate'
      ? blob.verificationMaterial.content.certificate
      : new Uint8Array(),
  );
  const sampleTrust = parseTrustedRoot(readFileSync(s('trusted_root.json')));
  const run = async (tsa: ReturnType<typeof testTsa>, genTime: PreciseTime): Promise<CliResult> => {
    const bundle: Bundle = {
      ...blob,
      verificationMaterial: {
        ...blob.verificationMaterial,
        rfc3161Timestamps: [tsa.stamp(signature, genTime)],
      },
    };
    const file = path.join(
      dir,
      `stamped-${tsa.authority.uri.length}-${genTime.ms}-${genTime.subMs}.json`,
    );
    writeFileSync(file, serializeBundle(bundle));
    const root = path.join(dir, `root-${tsa.authority.uri.length}.json`);
    writeFileSync(
      root,
      serializeTrustedRoot({ ...sampleTrust, timestampAuthorities: [tsa.authority] }),
    );
    return runCli(
      [
        'attest',
        'verify',
        '--bundle',
        file,
        '--artifact',
        s('artifact.txt'),
        '--trusted-root',
        root,
        '--json',
        ...POLICY,
      ],
      OFFLINE,
    );
  };
  // A TSA whose certificates end at the sample's signing time (its validFor left open).
  const ending = testTsa('times-cli-ending', Date.UTC(2025, 0, 1), setTime, {
    start: Date.UTC(2025, 0, 1),
    end: undefined,
  });
  const atEnd = await run(ending, { ms: setTime, subMs: '' });
  t.is(atEnd.code, 0, atEnd.stdout);
  refusedJson(
    t,
    await run(ending, { ms: setTime, subMs: '1' }),
    'TIMESTAMP_INVALID',
    /outside TSA certificate validity: .* genTime \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.0001Z/,
    '100 µs past the TSA certificate',
  );
  // A long-lived TSA, the time 100 µs past the leaf certificate's notAfter.
  const long = testTsa('times-cli-long', Date.UTC(2025, 0, 1), Date.UTC(2030, 0, 1));
  const leafEnd = await run(long, { ms: leaf.notAfter, subMs: '' });
  t.is(leafEnd.code, 0, leafEnd.stdout);
  refusedJson(
    t,
    await run(long, { ms: leaf.notAfter, subMs: '1' }),
    'CERT_EXPIRED',
    /^certificate expired: leaf valid .* verified time .*\.0001Z$/,
    '100 µs past the leaf',
  );
});

test('sign: an identity token with an odd exp, nbf or iat is OIDC_TOKEN_INVALID naming the claim, before any request', async (t) => {
  const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  for (const [claim, value] of [
    ['exp', 1e20],
    ['exp', -1e300],
    ['nbf', 'tomorrow'],
  ] as const) {
    const claims = {
      iss: 'https://issuer.example',
      sub: 'repo:org/repo:ref:refs/heads/main',
      aud: 'sigstore',
      iat: now,
      exp: now + 300,
      [claim]: value,
    };
    const jwt = `${b64url({ alg: 'ES256' })}.${b64url(claims)}.${Buffer.from('sig').toString('base64url')}`;
    const args = [
      'attest',
      'sign',
      '--keyless',
      '--artifact',
      s('artifact.txt'),
      '--identity-token',
      jwt,
      '--output',
      path.join(tmp(t), 'out.json'),
      '--fulcio-url',
      'https://fulcio.invalid',
      '--rekor-url',
      'https://rekor.invalid',
    ];
    const json = await runCli([...args, '--json'], OFFLINE);
    t.notRegex(json.stderr, /NETWORK ATTEMPT/);
    refusedJson(
      t,
      json,
      'OIDC_TOKEN_INVALID',
      new RegExp(`^identity token "${claim}" claim: .* is not a time in range`),
      `${claim}=${value}`,
    );
    refusedLine(
      t,
      await runCli(args, OFFLINE),
      'OIDC_TOKEN_INVALID',
      new RegExp(`^error: signing: identity token "${claim}" claim`),
      `${claim}=${value} human`,
    );
  }
});

test('trust time flags take the one strict RFC 3339 parser: impossible dates and out-of-range times are refused, nothing changes', async (t) => {
  const dir = tmp(t);
  const env = { env: { STELLA_TRUST_STORE: path.join(dir, 'trust.db') } };
  t.is((await runCli(['trust', 'init'], env)).code, 0);
  t.is((await runCli(['trust', 'import', s('trusted_root.json')], env)).code, 0);
  const entries = async (): Promise<unknown> =>
    (JSON.parse((await runCli(['trust', 'list', '--json'], env)).stdout) as { entries: unknown })
      .entries;
  const before = await entries();
  const BAD: [string, RegExp][] = [
    ['2025-02-30T00:00:00Z', /is not a valid date-time/],
    ['2025-01-01T24:00:00Z', /is not a valid date-time/],
    ['2024-12-31T23:59:60Z', /is not a valid date-time/],
    ['2025-01-01', /is not an RFC 3339 time/],
    ['2025-01-01T00:00:00', /is not an RFC 3339 time/],
    ['10000-01-01T00:00:00Z', /is not an RFC 3339 time/],
    ['1969-12-31T23:59:59Z', /is not a time in range/],
  ];
  for (const [value, re] of BAD) {
    refusedLine(
      t,
      await runCli(['trust', 'retire', '1', '--at', value], env),
      'INPUT_INVALID',
      new RegExp(`^error: input: --at: "${value}" ${re.source}`),
      `retire --at ${value}`,
    );
  }
  // The import flags go through the same parser: one value of each kind of refusal.
  for (const [value, re] of [BAD[0]!, BAD[3]!, BAD[6]!]) {
    refusedJson(
      t,
      await runCli(
        [
          'trust',
          'import',
          s('key.pub'),
          '--log-url',
          'https://rekor.example.invalid',
          '--valid-from',
          value,
          '--json',
        ],
        env,
      ),
      'INPUT_INVALID',
      new RegExp(`^--valid-from: "${value}" ${re.source}`),
      `import --valid-from ${value}`,
    );
    refusedJson(
      t,
      await runCli(
        [
          'trust',
          'import',
          s('key.pub'),
          '--log-url',
          'https://rekor.example.invalid',
          '--valid-from',
          '2025-01-01T00:00:00Z',
          '--valid-until',
          value,
          '--json',
        ],
        env,
      ),
      'INPUT_INVALID',
      new RegExp(`^--valid-until: "${value}" ${re.source}`),
      `import --valid-until ${value}`,
    );
  }
  t.deepEqual(await entries(), before, 'the store is unchanged');
  // Offsets and fractions are RFC 3339 too; a sub-millisecond end is rounded down, never up.
  const ok = await runCli(
    ['trust', 'retire', '1', '--at', '2099-12-31T23:59:59.9999+01:00', '--json'],
    env,
  );
  t.is(ok.code, 0, ok.stderr);
  t.is(
    (JSON.parse(ok.stdout) as { entry: { retiredAt: string } }).entry.retiredAt,
    '2099-12-31T22:59:59.999Z',
  );
});

test('rotation create --expires, export-bundle --created-at and verify --max-age refuse impossible values', async (t) => {
  const dir = tmp(t);
  const key = path.join(dir, 'k1.pem');
  writeFileSync(key, rotationKeyPair().privatePem);
  for (const [value, re] of [
    ['2026-02-29T00:00:00Z', /is not a valid date-time/],
    ['2026-01-01T00:60:00Z', /is not a valid date-time/],
    ['9999-12-31T23:59:59-23:59', /is not a time in range/],
  ] as const) {
    const out = path.join(dir, 'rotation.tar');
    refusedJson(
      t,
      await runCli([
        'trust',
        'rotation',
        'create',
        '--root',
        s('trusted_root.json'),
        '--version',
        '1',
        '--expires',
        value,
        '--sign-with',
        key,
        '--output',
        out,
        '--json',
      ]),
      'INPUT_INVALID',
      new RegExp(`^--expires: "${value}" ${re.source}`),
      `--expires ${value}`,
    );
    t.false(existsSync(out));
    const tar = path.join(dir, 'export.tar');
    refusedLine(
      t,
      await runCli([
        'attest',
        'export-bundle',
        '--all',
        '--bundle',
        s('blob.sigstore.json'),
        '--created-at',
        value,
        '--output',
        tar,
      ]),
      'INPUT_INVALID',
      new RegExp(`^error: input: --created-at: "${value}" ${re.source}`),
      `--created-at ${value}`,
    );
    t.false(existsSync(tar));
  }
  const store = path.join(dir, 'trust.db');
  t.is((await runCli(['trust', 'init'], { env: { STELLA_TRUST_STORE: store } })).code, 0);
  refusedJson(
    t,
    await runCli(
      [
        'attest',
        'verify',
        '--bundle',
        s('blob.sigstore.json'),
        '--artifact',
        s('artifact.txt'),
        '--store',
        store,
        '--max-age',
        '99999999999',
        '--json',
        ...POLICY,
      ],
      OFFLINE,
    ),
    'USAGE_ERROR',
    /^--max-age must be a positive number of days up to 2932896, not "99999999999"$/,
    '--max-age',
  );
});

test('sandbox: a data dir whose authority time is out of range is SANDBOX_ERROR naming it, not a crash', async (t) => {
  const dir = tmp(t);
  loadOrCreateAuthority(dir, Date.now());
  const meta = sandboxPath(dir, 'authority');
  writeFileSync(meta, JSON.stringify({ version: 1, createdAt: 9_000_000_000_000_000 }));
  // `up` reads the authority before it listens: the refusal comes before any server starts.
  const r = await runCli(['sandbox', 'up', '--data-dir', dir, '--port', '0', '--json']);
  refusedJson(
    t,
    r,
    'SANDBOX_ERROR',
    /authority metadata .* createdAt: 9000000000000000 is not a time in range/,
    'createdAt 9e15',
  );
});
