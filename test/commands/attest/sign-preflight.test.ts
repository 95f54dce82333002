/**
 * `stella attest sign` checks everything local before its first request, so a mistake never
 * leaves a permanent log entry and no bundle (issue 11): the output path, the attestation
 * store, the signer config (a private Fulcio without a Rekor URL), the algorithm (Ed25519 on a
 * blob). Each run here is made with networking disabled (NO_NETWORK_PRELOAD): a request would
 * print NETWORK ATTEMPT and fail differently. Then, against a sandbox: a certificate that is
 * already expired (the CA's clock is off) is refused before logging (the log stays empty), and
 * a bundle that cannot be written after logging names the entry and where the bundle is kept.
 */
import test from 'ava';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { NO_NETWORK_PRELOAD, PROJECT_ROOT } from '../../helpers/paths.js';
import { startSandbox } from '../../../src/sandbox/server/index.js';
import { runSign } from '../../../src/commands/attest/sign-run.js';
import { StellaError } from '../../../src/errors.js';
import { AttestationStore } from '../../../src/store/attestations.js';
import { rekorV1TreeSize } from '../../sign/helpers.js';

const OFFLINE = { nodeArgs: ['--import', NO_NETWORK_PRELOAD] };
const ARTIFACT = join(PROJECT_ROOT, 'samples', 'artifact.txt');

/** An unsigned JWT that passes the signer's own checks (expiry, shape): the CA would refuse it, but no request is ever made here. */
function token(): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({ iss: 'https://issuer.test', sub: 'repo:org/repo:ref:refs/heads/main', aud: 'sigstore', iat: now, exp: now + 600 })}.c2ln`;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'stella-preflight-'));
}

const base = (out: string, store: string) => [
  'attest',
  'sign',
  '--keyless',
  '--artifact',
  ARTIFACT,
  '--identity-token',
  token(),
  '--output',
  out,
  '--attestation-store',
  store,
  '--fulcio-url',
  'https://fulcio.invalid',
  '--rekor-url',
  'https://rekor.invalid',
];

const CASES: {
  name: string;
  args: (dir: string) => string[];
  before?: (dir: string) => void;
  code: number;
  message: RegExp;
  /** A file the run must leave exactly as `before` made it. */
  unchanged?: string;
  /** Text neither output may contain. */
  absent?: string;
}[] = [
  {
    name: 'output in a missing folder',
    args: (d) => base(join(d, 'no-such-dir', 'b.json'), join(d, 'a.db')),
    code: 10,
    message: /cannot write bundle \(--output\) .*no-such-dir.*does not exist/,
  },
  {
    name: 'output is a folder',
    args: (d) => base(d, join(d, 'a.db')),
    code: 10,
    message: /cannot write bundle \(--output\) .*: is a directory/,
  },
  {
    name: 'output under a file',
    args: (d) => base(join(d, 'file', 'b.json'), join(d, 'a.db')),
    before: (d) => writeFileSync(join(d, 'file'), 'x'),
    code: 10,
    message: /cannot write bundle \(--output\)/,
  },
  {
    name: 'attestation store is not a Stella store',
    args: (d) => base(join(d, 'b.json'), join(d, 'foreign.db')),
    before: (d) =>
      writeFileSync(
        join(d, 'foreign.db'),
        'not a database at all, just text that is long enough to have a header',
      ),
    code: 52,
    message: /attestation store .*foreign\.db/,
  },
  {
    name: 'private Fulcio without a Rekor URL',
    args: (d) => [
      'attest',
      'sign',
      '--keyless',
      '--artifact',
      ARTIFACT,
      '--identity-token',
      token(),
      '--output',
      join(d, 'b.json'),
      '--attestation-store',
      join(d, 'a.db'),
      '--fulcio-url',
      'https://fulcio.internal.example',
    ],
    code: 72,
    message: /private Fulcio \(https:\/\/fulcio\.internal\.example\) needs an explicit Rekor URL/,
  },
  {
    name: 'signer.yaml: private Fulcio without rekor.url (at config validation)',
    args: (d) => [
      'attest',
      'sign',
      '--keyless',
      '--artifact',
      ARTIFACT,
      '--identity-token',
      token(),
      '--output',
      join(d, 'b.json'),
      '--attestation-store',
      join(d, 'a.db'),
      '--config',
      join(d, 'signer.yaml'),
    ],
    before: (d) =>
      writeFileSync(
        join(d, 'signer.yaml'),
        'signer:\n  signing:\n    keyless:\n      fulcio:\n        url: "https://fulcio.internal.example.com"\n',
      ),
    code: 72,
    message:
      /signer\.yaml: signer\.signing\.keyless\.rekor\.url \(line 5\): missing: a private Fulcio/,
  },
  {
    name: 'Ed25519 only, on a blob',
    args: (d) => [...base(join(d, 'b.json'), join(d, 'a.db')), '--config', join(d, 'signer.yaml')],
    before: (d) =>
      writeFileSync(
        join(d, 'signer.yaml'),
        'signer:\n  signing:\n    keyless:\n      algorithms:\n        preferred: "Ed25519"\n        allowed: ["Ed25519"]\n',
      ),
    code: 72,
    message: /Ed25519 cannot sign a blob or digest/,
  },
  {
    name: 'the artifact given as an argument and by --artifact (a usage error)',
    args: (d) => ['attest', 'sign', ARTIFACT, ...base(join(d, 'b.json'), join(d, 'a.db')).slice(2)],
    code: 2,
    message:
      /the artifact was given twice \(".*artifact\.txt" and --artifact ".*artifact\.txt"\): give it once/,
  },
  // What to sign, named in two ways that do not go together (oci/reference.ts signTargetMistake).
  {
    name: '--type image with a file (a usage error)',
    args: (d) => [...base(join(d, 'b.json'), join(d, 'a.db')), '--type', 'image'],
    code: 2,
    message: /--type image needs --artifact sha256:<64 hex digits>, the image manifest digest/,
  },
  {
    name: '--image with a file (a usage error)',
    args: (d) => [...base(join(d, 'b.json'), join(d, 'a.db')), '--image', 'localhost:5000/org/app'],
    code: 2,
    message: /--image needs --artifact sha256:<64 hex digits>, the image manifest digest/,
  },
  {
    name: '--image with an --artifact that names the image already (a usage error)',
    args: (d) => [
      ...base(join(d, 'b.json'), join(d, 'a.db')).map((a) =>
        a === ARTIFACT ? `localhost:5000/org/app@sha256:${'ab'.repeat(32)}` : a,
      ),
      '--image',
      'localhost:5000/org/app',
    ],
    code: 2,
    message:
      /--image goes with --artifact sha256:<hex>; --artifact REGISTRY\/REPO@sha256:<hex> names the image already/,
  },
  // An in-toto predicate is a JSON object (in-toto's Statement); any other JSON value is refused.
  ...['[{"a": 1}]', '"provenance"', 'null', '7'].map((json) => ({
    name: `a --predicate that is ${json}, not a JSON object`,
    args: (d: string) => [
      ...base(join(d, 'b.json'), join(d, 'a.db')),
      '--predicate',
      join(d, 'predicate.json'),
      '--predicate-type',
      'https://slsa.dev/provenance/v1',
    ],
    before: (d: string) => writeFileSync(join(d, 'predicate.json'), json),
    code: 10,
    message: /--predicate .*predicate\.json: must be a JSON object/,
  })),
  // --output naming what the command reads (until stop 52, `-o a.txt` replaced the artifact).
  {
    name: 'output is the artifact',
    args: (d) =>
      base(join(d, 'art.txt'), join(d, 'a.db')).map((a) =>
        a === ARTIFACT ? join(d, 'art.txt') : a,
      ),
    before: (d) => writeFileSync(join(d, 'art.txt'), 'the artifact\n'),
    code: 10,
    message:
      /cannot write bundle \(--output\) ".*art\.txt": it is --artifact ".*art\.txt": writing there would replace it; give another path/,
    unchanged: 'art.txt',
  },
  {
    name: 'output is the --predicate',
    args: (d) => [
      ...base(join(d, 'predicate.json'), join(d, 'a.db')),
      '--predicate',
      join(d, '.', 'predicate.json'),
      '--predicate-type',
      'https://slsa.dev/provenance/v1',
    ],
    before: (d) => writeFileSync(join(d, 'predicate.json'), '{"builder": {}}'),
    code: 10,
    message:
      /cannot write bundle \(--output\) ".*predicate\.json": it is --predicate ".*predicate\.json"/,
    unchanged: 'predicate.json',
  },
  {
    name: 'output is the attestation store, not made yet',
    args: (d) => base(join(d, 'a.db'), join(d, 'a.db')),
    code: 10,
    message: /cannot write bundle \(--output\) ".*a\.db": it is the attestation store ".*a\.db"/,
  },
  {
    name: 'output is the --identity-token file',
    args: (d) =>
      base(join(d, 'oidc-token'), join(d, 'a.db')).map((a) =>
        a.split('.').length === 3 && a.startsWith('eyJ') ? join(d, 'oidc-token') : a,
      ),
    before: (d) => writeFileSync(join(d, 'oidc-token'), token() + '\n'),
    code: 10,
    message:
      /cannot write bundle \(--output\) ".*oidc-token": it is --identity-token file ".*oidc-token"/,
    unchanged: 'oidc-token',
  },
  {
    name: 'an --identity-token that is neither a token nor a file (the value is not repeated)',
    args: (d) =>
      base(join(d, 'b.json'), join(d, 'a.db')).map((a) =>
        a.split('.').length === 3 && a.startsWith('eyJ') ? join(d, 'secret-value') : a,
      ),
    code: 67,
    message:
      /--identity-token is neither a JWT nor the path of a file that exists \(read as a token: identity token is not a JWT .*\); give the token, or a file holding it/,
    absent: 'secret-value',
  },
  {
    name: 'an empty signer.yaml',
    args: (d) => [...base(join(d, 'b.json'), join(d, 'a.db')), '--config', join(d, 'signer.yaml')],
    before: (d) => writeFileSync(join(d, 'signer.yaml'), ''),
    code: 72,
    message: /signer\.yaml: is empty: expected a signer config/,
  },
];

for (const c of CASES) {
  test(`attest sign refuses before any request: ${c.name}`, async (t) => {
    const dir = tmp();
    c.before?.(dir);
    const before = readdirSync(dir).sort();
    const kept = c.unchanged === undefined ? undefined : readFileSync(join(dir, c.unchanged));
    const r = await runCli(c.args(dir), OFFLINE);
    t.notRegex(r.stderr, /NETWORK ATTEMPT/, 'no request was made');
    t.is(r.code, c.code, r.stdout + r.stderr);
    t.regex(r.stderr, c.message);
    const json = await runCli([...c.args(dir), '--json'], OFFLINE);
    t.is(json.code, c.code, json.stdout + json.stderr);
    t.regex(JSON.parse(json.stdout).error.message, c.message);
    if (c.unchanged !== undefined) t.deepEqual(readFileSync(join(dir, c.unchanged)), kept);
    if (c.absent !== undefined)
      t.false((r.stdout + r.stderr + json.stdout + json.stderr).includes(c.absent));
    // No bundle, no temporary; a store is created only where a store may be.
    t.deepEqual(
      readdirSync(dir).filter((f) => !before.includes(f) && f !== 'a.db'),
      [],
    );
  });
}

test('Ed25519 preferred with ECDSA allowed: a blob falls back to ECDSA P-256, said on stderr before any request', async (t) => {
  const dir = tmp();
  writeFileSync(
    join(dir, 'signer.yaml'),
    'signer:\n  signing:\n    keyless:\n      algorithms:\n        preferred: "Ed25519"\n        allowed: ["Ed25519", "ECDSA_P256"]\n',
  );
  const r = await runCli(
    [
      ...base(join(dir, 'b.json'), join(dir, 'a.db')),
      '--config',
      join(dir, 'signer.yaml'),
      '--verbose',
    ],
    OFFLINE,
  );
  // The decision comes first (stderr, log level info), then the first request, which the preload refuses.
  t.regex(r.stderr, /signing a blob with ECDSA_P256/);
  t.regex(r.stderr, /NETWORK ATTEMPT/);
  t.true(r.stderr.indexOf('with ECDSA_P256') < r.stderr.indexOf('NETWORK ATTEMPT'));
});

/** What `attest verify` needs to verify what sandboxSignArgs signed: the sandbox's trust and the token's identity. */
function sandboxTrustAndIdentity(sandbox: Awaited<ReturnType<typeof startSandbox>>): string[] {
  return [
    '--trusted-root',
    sandbox.trustedRootPath,
    '--certificate-identity',
    'https://github\\.com/org/repo/\\.github/workflows/release\\.yml@refs/heads/main',
    '--certificate-oidc-issuer',
    sandbox.urls.oidcIssuer,
  ];
}

/** `attest sign` of ARTIFACT through a running sandbox, with a fresh GitHub token. */
function sandboxSignArgs(
  sandbox: Awaited<ReturnType<typeof startSandbox>>,
  output: string,
  store: string,
): string[] {
  return [
    'attest',
    'sign',
    '--keyless',
    '--artifact',
    ARTIFACT,
    '--identity-token',
    sandbox.mintToken({ platform: 'github', repo: 'org/repo', expiresIn: 3600 }),
    '--config',
    sandbox.signerConfigPath,
    '--output',
    output,
    '--attestation-store',
    store,
  ];
}

test('a certificate already expired when Fulcio answers (its clock is off) is refused before anything is logged', async (t) => {
  const dir = tmp();
  const skew = 30 * 60 * 1000;
  const sandbox = await startSandbox({ dataDir: join(dir, 'sb'), now: () => Date.now() - skew });
  t.teardown(() => sandbox.close());
  const r = await runCli([
    ...sandboxSignArgs(sandbox, join(dir, 'b.json'), join(dir, 'a.db')),
    '--json',
  ]);
  t.is(r.code, 26, r.stdout + r.stderr);
  const err = JSON.parse(r.stdout).error;
  t.is(err.code, 'CERT_EXPIRED');
  t.regex(
    err.message,
    /certificate expired: .* the CA's clock is probably wrong .*nothing was signed into the log/,
  );
  t.false(existsSync(join(dir, 'b.json')));
  t.is(await rekorV1TreeSize(sandbox.urls.rekor), 0, 'nothing was logged');
});

test('a bundle that cannot be written after logging: the error names the entry, and the bundle is kept in the attestation store', async (t) => {
  const dir = tmp();
  const sandbox = await startSandbox({ dataDir: join(dir, 'sb') });
  t.teardown(() => sandbox.close());
  const outDir = join(dir, 'out');
  mkdirSync(outDir);
  // The output folder disappears while Rekor answers (a full disk, an unmounted volume...).
  const fetchImpl: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (
      (input instanceof Request ? input.url : input.toString()).endsWith('/api/v1/log/entries') &&
      init?.method === 'POST'
    ) {
      renameSync(outDir, join(dir, 'gone'));
      writeFileSync(outDir, 'now a file');
    }
    return res;
  };
  const err = await t.throwsAsync(
    runSign({
      artifact: ARTIFACT,
      identityToken: sandbox.mintToken({ platform: 'github', repo: 'org/repo' }),
      configPath: sandbox.signerConfigPath,
      outputPath: join(outDir, 'b.json'),
      attestationStorePath: join(dir, 'a.db'),
      fetchImpl,
    }),
  );
  t.true(err instanceof StellaError);
  t.regex(
    err!.message,
    /cannot write bundle .*; the signature is logged \(http:\/\/127\.0\.0\.1:\d+ log index 0, entry [0-9a-f]+\): it was kept in the attestation store .*a\.db: recover it with `stella attest export-bundle --attestation-store .*a\.db --artifact sha256:[0-9a-f]{64} --output FILE\.tar`/,
  );
  // ... and the recovery it names works.
  const digest = /--artifact (sha256:[0-9a-f]{64})/.exec(err!.message)![1]!;
  const exp = await runCli([
    'attest',
    'export-bundle',
    '--attestation-store',
    join(dir, 'a.db'),
    '--artifact',
    digest,
    '--output',
    join(dir, 'rec.tar'),
    '--json',
  ]);
  t.is(exp.code, 0, exp.stdout + exp.stderr);
  t.true(readFileSync(join(dir, 'rec.tar')).length > 1024);
});

test('--output - writes the bundle to standard output and the summary to standard error; with --json it is a usage error before any request', async (t) => {
  const dir = tmp();
  const sandbox = await startSandbox({ dataDir: join(dir, 'sb') });
  t.teardown(() => sandbox.close());
  const args = sandboxSignArgs(sandbox, '-', join(dir, 'a.db'));
  const both = await runCli([...args, '--json'], { cwd: dir });
  t.is(both.code, 2, both.stdout + both.stderr);
  t.is(
    JSON.parse(both.stdout).error.message,
    '--output - writes the bundle to standard output, where --json writes its object: give one',
  );
  t.is(await rekorV1TreeSize(sandbox.urls.rekor), 0, 'nothing was logged');

  const r = await runCli(args, { cwd: dir });
  t.is(r.code, 0, r.stderr);
  // Until stop 52 this wrote a file named "-" in the working folder.
  t.false(existsSync(join(dir, '-')));
  const bundle = JSON.parse(r.stdout) as { mediaType: string };
  t.is(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  t.regex(r.stderr, /^signed sha256:[0-9a-f]{64}\n {2}bundle: {3}standard output\n/m);
  // The bytes on standard output are the bundle: it verifies, and is the one kept in the store.
  writeFileSync(join(dir, 'b.json'), r.stdout);
  const v = await runCli([
    'attest',
    'verify',
    '--bundle',
    join(dir, 'b.json'),
    '--artifact',
    ARTIFACT,
    ...sandboxTrustAndIdentity(sandbox),
  ]);
  t.is(v.code, 0, v.stdout + v.stderr);
  const stored = AttestationStore.open(join(dir, 'a.db'), 'read');
  t.teardown(() => stored.close());
  const [key] = [...stored.eachStoredKey()];
  t.is(Buffer.from(stored.bundleBytesById(key!.id)!).toString('utf8'), r.stdout);
});

/** Wait until process `pid` is blocked reading its standard input (Linux: /proc/PID/syscall says read on fd 0). */
async function blockedOnStdin(pid: number): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    try {
      if (readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith('0 0x0 ')) return true;
    } catch {
      // not started yet, or gone
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test('attest sign --output - | attest verify --bundle -: the bundle verifies; the clock is read when it has arrived, so its log time is not "in the future"', async (t) => {
  const dir = tmp();
  const sandbox = await startSandbox({ dataDir: join(dir, 'sb') });
  t.teardown(() => sandbox.close());
  // The receiving end starts first, as in a shell pipe, and waits on its standard input.
  const verify = spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, 'bin', 'run.js'),
      'attest',
      'verify',
      ARTIFACT,
      '--bundle',
      '-',
      ...sandboxTrustAndIdentity(sandbox),
      '--json',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let out = '';
  let err = '';
  verify.stdout.on('data', (d: Buffer) => (out += d.toString()));
  verify.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => verify.on('close', (code) => r(code)));
  t.true(await blockedOnStdin(verify.pid!), 'verify is waiting on its standard input');
  const waitingSince = Date.now();
  // Log times are whole seconds: sign in the next one, so the entry's time is after the moment
  // verify began to wait (Until stop 53 verify had read its clock at start: TIME_IN_FUTURE).
  await new Promise((r) => setTimeout(r, 1000 - (waitingSince % 1000) + 20));
  const signed = await runCli(sandboxSignArgs(sandbox, '-', join(dir, 'a.db')), { cwd: dir });
  t.is(signed.code, 0, signed.stderr);
  const integrated = Number(
    (
      JSON.parse(signed.stdout) as {
        verificationMaterial: { tlogEntries: { integratedTime: string }[] };
      }
    ).verificationMaterial.tlogEntries[0]!.integratedTime,
  );
  t.true(integrated * 1000 > waitingSince, 'the log time is after verify began to wait');
  verify.stdin.end(signed.stdout);
  t.is(await exited, 0, out + err);
  t.is((JSON.parse(out) as { ok: boolean }).ok, true);
});
