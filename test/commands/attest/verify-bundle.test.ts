/**
 * bin/run.js runs `stella attest verify` from dist/verify-fast/verify-fast.cjs, the esbuild
 * bundle of the fast path that `npm run build` makes (scripts/bundle-verify.ts), compiled from
 * the V8 code cache recorded next to it (bin/verify-bundle.js). These tests hold it to the
 * compiled sources: built from exactly the current dist/src files, actually what the CLI runs
 * (from its code cache, which a changed bundle does not use), and giving the verdicts the
 * unbundled library gives.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONFORMANCE_DIR, PROJECT_ROOT } from '../../helpers/paths.js';
import { runCli } from '../../helpers/cli.js';
import {
  conformanceCase,
  conformanceCaseNames,
  conformanceTrustedRootPath,
  sharedTest,
} from '../../helpers/shared.js';
import {
  BLOB_POLICY,
  SAMPLE_BUNDLES,
  SAMPLES,
  SAMPLES_TRUSTED_ROOT,
  verifyBlobArgs,
} from '../../helpers/samples.js';
import { runVerify, type VerifyCommandOptions } from '../../../src/commands/attest/verify-run.js';
import { StellaError } from '../../../src/errors.js';

const BUNDLE_DIR = path.join(PROJECT_ROOT, 'dist', 'verify-fast');
const RECORD_LOADS = path.join(PROJECT_ROOT, 'test', 'fixtures', 'verify', 'record-loads.mjs');

test('the verify bundle was built from the compiled sources as they are now', (t) => {
  const inputs = JSON.parse(readFileSync(path.join(BUNDLE_DIR, 'inputs.json'), 'utf8')) as Record<
    string,
    string
  >;
  t.true('dist/src/commands/attest/verify-fast.js' in inputs);
  t.true('dist/src/verify/pipeline.js' in inputs);
  const stale = Object.entries(inputs)
    .filter(([file, sha]) => {
      const now = createHash('sha256').update(readFileSync(path.join(PROJECT_ROOT, file)));
      return now.digest('hex') !== sha;
    })
    .map(([file]) => file);
  t.deepEqual(stale, [], 'compiled after the bundle was made: run `npm run build`');
});

test('bin/run.js runs attest verify from the bundle, loading no module of dist/src', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-loads-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const loads = path.join(dir, 'loads.txt');
  const r = await runCli(verifyBlobArgs('--trusted-root', SAMPLES_TRUSTED_ROOT), {
    nodeArgs: ['--import', RECORD_LOADS],
    env: { RECORD_LOADS: loads },
  });
  t.is(r.code, 0, r.stderr);
  const urls = readFileSync(loads, 'utf8').trim().split('\n');
  t.true(
    urls.includes(pathToFileURL(path.join(PROJECT_ROOT, 'bin', 'verify-bundle.js')).href),
    urls.join('\n'),
  );
  t.deepEqual(
    urls.filter((u) => u.startsWith(pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'src')).href)),
    [],
  );
  // And the oclif path is not what ran.
  t.deepEqual(
    urls.filter((u) => u.includes('/@oclif/')),
    [],
  );
});

/** Loads the bundle in `binDir`'s layout in a fresh `node` (no flags, as bin/run.js runs). */
function loadInFreshNode(binDir: string): { usedCodeCache: boolean; exports: string[] } {
  const script = `const b = require(${JSON.stringify(path.join(binDir, 'verify-bundle.js'))}).loadVerifyBundle();
process.stdout.write(JSON.stringify({ usedCodeCache: b.usedCodeCache, exports: Object.keys(b.exports) }));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
    usedCodeCache: boolean;
    exports: string[];
  };
}

test('a fresh process compiles the bundle from the code cache the build recorded', (t) => {
  t.deepEqual(loadInFreshNode(path.join(PROJECT_ROOT, 'bin')), {
    usedCodeCache: true,
    exports: ['runShipmentWorker', 'runVerifyFast'],
  });
});

test('a bundle changed after its code cache was recorded is compiled from source and still verifies', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'stella-stale-cache-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  cpSync(path.join(PROJECT_ROOT, 'bin'), path.join(root, 'bin'), { recursive: true });
  cpSync(BUNDLE_DIR, path.join(root, 'dist', 'verify-fast'), { recursive: true });
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  // The same length, so V8's own check (which hashes only the source's length) would take
  // the old cache, and run the old bytecode, printing "Verified OK".
  const bundle = path.join(root, 'dist', 'verify-fast', 'verify-fast.cjs');
  const text = readFileSync(bundle, 'latin1');
  t.true(text.includes('Verified OK'));
  writeFileSync(bundle, text.replaceAll('Verified OK', 'Verified ok'), 'latin1');
  t.deepEqual(loadInFreshNode(path.join(root, 'bin')), {
    usedCodeCache: false,
    exports: ['runShipmentWorker', 'runVerifyFast'],
  });
  const r = await runCli(verifyBlobArgs('--trusted-root', SAMPLES_TRUSTED_ROOT), {
    bin: path.join(root, 'bin', 'run.js'),
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Verified ok/);
});

test("the CLI's shipment worker threads run from the bundle: --jobs 2 verifies in a layout without dist/src", async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'stella-bundled-workers-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  // An archive of the samples signed by the GitHub identity (artifact.txt twice, the image).
  const github = SAMPLE_BUNDLES.filter((b) => b.identity?.startsWith('https://github.com/'));
  t.true(github.length >= 3);
  const archive = path.join(root, 'github.tar');
  const exported = await runCli([
    'attest',
    'export-bundle',
    '--all',
    ...github.flatMap((b) => ['--bundle', path.join(SAMPLES, b.bundle)]),
    '--output',
    archive,
  ]);
  t.is(exported.code, 0, exported.stderr);
  // bin/ and the bundle only: the ES module worker (dist/src/shipment/worker.js) is not there.
  cpSync(path.join(PROJECT_ROOT, 'bin'), path.join(root, 'bin'), { recursive: true });
  cpSync(BUNDLE_DIR, path.join(root, 'dist', 'verify-fast'), { recursive: true });
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  t.false(existsSync(path.join(root, 'dist', 'src')));
  const r = await runCli(
    [
      'attest',
      'verify',
      '--archive',
      archive,
      '--all',
      '--jobs',
      '2',
      '--trusted-root',
      SAMPLES_TRUSTED_ROOT,
      ...BLOB_POLICY,
      '--json',
    ],
    { bin: path.join(root, 'bin', 'run.js') },
  );
  t.is(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    summary: { jobs: number; artifacts: number; passed: number; bundles: number };
  };
  t.true(out.ok);
  t.like(out.summary, { jobs: 2, artifacts: 2, passed: 2, bundles: github.length });
});

interface Verdict {
  ok: boolean;
  code?: string | undefined;
  check?: string | undefined;
  message?: string | undefined;
}

/** The unbundled library's verdict (dist/src), as the CLI would report it. */
async function libraryVerdict(opts: VerifyCommandOptions): Promise<Verdict> {
  try {
    const { report } = await runVerify(opts);
    return {
      ok: report.ok,
      code: report.error?.code,
      check: report.error?.check,
      message: report.error?.message,
    };
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    return { ok: false, code: e.code, check: e.check, message: e.message };
  }
}

/** The bundled CLI's verdict (bin/run.js --json). */
async function cliVerdict(args: string[]): Promise<Verdict> {
  const r = await runCli([...args, '--json']);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    error?: { code: string; check: string; message: string };
  };
  return {
    ok: out.ok,
    code: out.error?.code,
    check: out.error?.check,
    message: out.error?.message,
  };
}

test('the bundled CLI and the unbundled library agree on the samples', async (t) => {
  for (const b of SAMPLE_BUNDLES.filter((x) => x.identity)) {
    const opts = {
      bundlePath: path.join(SAMPLES, b.bundle),
      artifact: path.join(SAMPLES, b.artifact),
      trustedRootPath: SAMPLES_TRUSTED_ROOT,
      certificateIdentity: b.identity!,
      certificateOidcIssuer: b.issuer!,
    };
    const cli = await cliVerdict([
      'attest',
      'verify',
      '--bundle',
      opts.bundlePath,
      '--artifact',
      opts.artifact,
      '--trusted-root',
      opts.trustedRootPath,
      '--certificate-identity',
      b.identity!,
      '--certificate-oidc-issuer',
      b.issuer!,
    ]);
    t.deepEqual(cli, await libraryVerdict(opts), b.name);
    t.true(cli.ok, b.name);
  }
});

sharedTest(
  'the bundled CLI and the unbundled library agree on every conformance case (shared)',
  async (t) => {
    const identity =
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
    const issuer = 'https://token.actions.githubusercontent.com';
    const names = conformanceCaseNames().filter((n) => !n.startsWith('.'));
    let passes = 0;
    let failures = 0;
    await Promise.all(
      names.map(async (name) => {
        const dir = conformanceCase(name);
        const f = (n: string): string | undefined =>
          existsSync(path.join(dir, n)) ? path.join(dir, n) : undefined;
        const text = (n: string): string | undefined => {
          const p = f(n);
          return p ? readFileSync(p, 'utf8').trim() : undefined;
        };
        const root = conformanceTrustedRootPath(dir);
        const artifact = f('artifact') ?? path.join(CONFORMANCE_DIR, 'a.txt');
        const key = f('key.pub');
        const id = text('identity') ?? identity;
        const iss = text('issuer') ?? issuer;
        const bundlePath = path.join(dir, 'bundle.sigstore.json');
        const opts: VerifyCommandOptions = {
          bundlePath,
          artifact,
          trustedRootPath: root,
          ...(key ? { keyPath: key } : { certificateIdentity: id, certificateOidcIssuer: iss }),
        };
        const args = [
          'attest',
          'verify',
          '--offline',
          '--bundle',
          bundlePath,
          '--artifact',
          artifact,
          '--trusted-root',
          root,
        ];
        args.push(
          ...(key
            ? ['--key', key]
            : ['--certificate-identity', id, '--certificate-oidc-issuer', iss]),
        );
        const [cli, lib] = await Promise.all([cliVerdict(args), libraryVerdict(opts)]);
        t.deepEqual(cli, lib, name);
        if (cli.ok) passes++;
        else failures++;
      }),
    );
    // Both verdicts occur: the comparison covers passes and refusals alike.
    t.true(passes > 10 && failures > 20, `${passes} passed, ${failures} refused`);
  },
);
