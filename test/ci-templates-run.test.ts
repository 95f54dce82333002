/**
 * The CI templates run as written (issue 11): the shell of each step that signs or verifies is
 * executed with bash, `stella` on PATH (this checkout's bin/run.js), against a sandbox on
 * loopback, with the environment the CI platform would give (a token from the sandbox's
 * issuer for that platform, its CI variables, `${{ ... }}` expressions filled in as the
 * runner would). Not run here: the steps that install Stella (a clone and `npm ci`, which
 * need the network) and build container images; the tests check those never install
 * `stella` by name from the npm registry.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startSandbox, type RunningSandbox } from '../src/sandbox/server/index.js';
import { runCli } from './helpers/cli.js';
import { CLI, PROJECT_ROOT } from './helpers/paths.js';

type Json = Record<string, any>;
const load = (rel: string): Json => parse(readFileSync(join(PROJECT_ROOT, rel), 'utf8')) as Json;
const DIGEST = `sha256:${'ab'.repeat(32)}`;

interface Shell {
  code: number;
  stdout: string;
  stderr: string;
}

function bash(script: string, env: NodeJS.ProcessEnv, cwd: string): Promise<Shell> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-e', '-o', 'pipefail', '-c', script],
      {
        cwd,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        resolve({
          code: err
            ? typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 1
            : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** `${{ a.b }}` filled in from `values`, as the runner does; an expression the test does not know fails it. */
function expand(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    if (!(expr in values)) throw new Error(`unknown expression \${{ ${expr} }}`);
    return values[expr]!;
  });
}

async function setup(
  t: import('ava').ExecutionContext,
): Promise<{ dir: string; sandbox: RunningSandbox; path: string; trustStore: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'stella-ci-'));
  const sandbox = await startSandbox({ dataDir: join(dir, 'sandbox') });
  t.teardown(() => sandbox.close());
  // `stella` on PATH, as the install step leaves it.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'stella'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'stella'), 0o755);
  // The verifying side trusts the sandbox through its trust store, as a host would.
  const trustStore = join(dir, 'trust.db');
  for (const args of [
    ['trust', 'init'],
    ['trust', 'import', sandbox.trustedRootPath],
  ]) {
    const r = await runCli(args, { env: { STELLA_TRUST_STORE: trustStore } });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  return { dir, sandbox, path: `${bin}:${process.env.PATH}`, trustStore };
}

test('no template installs `stella` by name from the npm registry', (t) => {
  for (const f of [
    'action.yml',
    'ci-templates/gitlab-ci.yml',
    'ci-templates/gitea-actions.yml',
    'ci-templates/github-actions.yml',
  ]) {
    const text = readFileSync(join(PROJECT_ROOT, f), 'utf8');
    t.notRegex(text, /npm (install|i)\b[^\n]*\bstella(@|\s|"|$)/m, f);
    t.notRegex(text, /npx (--yes )?stella@/, f);
  }
});

test('action.yml: the sign step signs with a token in STELLAOPS_OIDC_TOKEN (no ambient request URL), and refuses with neither', async (t) => {
  const { dir, sandbox, path } = await setup(t);
  const action = load('action.yml');
  const step = (action.runs.steps as Json[]).find((s) => s.id === 'sign')!;
  const outputs = join(dir, 'github_output');
  writeFileSync(outputs, '');
  const env = {
    PATH: path,
    GITHUB_OUTPUT: outputs,
    ARTIFACT_DIGEST: DIGEST,
    ARTIFACT_TYPE: 'image',
    PREDICATE: '',
    PREDICATE_TYPE: '',
    SIGNER_CONFIG: sandbox.signerConfigPath,
    FULCIO_URL: '',
    REKOR_URL: '',
    OUTPUT: join(dir, 'attestation.sigstore.json'),
    STELLA_ATTESTATION_STORE: join(dir, 'attestations.db'),
  };
  const r = await bash(
    step.run,
    { ...env, STELLAOPS_OIDC_TOKEN: sandbox.mintToken({ platform: 'github', repo: 'org/repo' }) },
    dir,
  );
  t.is(r.code, 0, r.stdout + r.stderr);
  t.true(existsSync(env.OUTPUT));
  t.is(readFileSync(outputs, 'utf8'), `bundle-path=${env.OUTPUT}\n`);
  const none = await bash(step.run, env, dir);
  t.is(none.code, 1);
  t.regex(none.stderr, /::error::no OIDC token available: add 'permissions: id-token: write'/);
});

test('gitlab-ci.yml: the sign and verify jobs run as written against the sandbox (GitLab token, CI variables)', async (t) => {
  const { dir, sandbox, path, trustStore } = await setup(t);
  const gl = load('ci-templates/gitlab-ci.yml');
  const isInstall = (line: string) => /git clone|npm (ci|pack|install)/.test(line);
  const script = (job: string) =>
    (gl[job].script as string[]).filter((l) => !isInstall(l)).join('\n');
  t.true(
    (gl['stella-sign'].script as string[]).some(isInstall),
    'the template installs Stella itself',
  );
  const env = {
    PATH: path,
    ...gl.variables,
    FULCIO_URL: sandbox.urls.fulcio,
    REKOR_URL: sandbox.urls.rekor,
    ARTIFACT_DIGEST: DIGEST,
    SIGSTORE_ID_TOKEN: sandbox.mintToken({ platform: 'gitlab', repo: 'group/project' }),
    CI_PROJECT_PATH: 'group/project',
    CI_COMMIT_BRANCH: 'main',
    CI_SERVER_URL: sandbox.urls.oidcIssuer,
    STELLA_ATTESTATION_STORE: join(dir, 'attestations.db'),
    STELLA_TRUST_STORE: trustStore,
  };
  const sign = await bash(script('stella-sign'), env, dir);
  t.is(sign.code, 0, sign.stdout + sign.stderr);
  t.true(existsSync(join(dir, 'attestation.sigstore.json')));
  const verify = await bash(script('stella-verify'), { ...env, SIGSTORE_ID_TOKEN: '' }, dir);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
  t.regex(verify.stdout, /Verified OK \(trust: trust store /);
});

test('gitea-actions.yml: build, sign and verify steps run as written against the sandbox (Gitea token)', async (t) => {
  const { dir, sandbox, path, trustStore } = await setup(t);
  const wf = load('ci-templates/gitea-actions.yml');
  const steps = (Object.values(wf.jobs)[0] as Json).steps as Json[];
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.c'), 'int main(void) { return 0; }\n');
  const values: Record<string, string> = {
    'gitea.repository': 'org/repo',
    'gitea.ref': 'refs/heads/main',
    'gitea.server_url': sandbox.urls.oidcIssuer,
    'vars.STELLA_SIGNER_CONFIG': sandbox.signerConfigPath,
    "vars.OIDC_TOKEN_URL != ''": 'false',
  };
  const outputs = join(dir, 'github_output');
  writeFileSync(outputs, '');
  const base = {
    PATH: path,
    GITHUB_OUTPUT: outputs,
    STELLA_ATTESTATION_STORE: join(dir, 'attestations.db'),
    STELLA_TRUST_STORE: trustStore,
    STELLAOPS_OIDC_TOKEN: sandbox.mintToken({ platform: 'gitea', repo: 'org/repo' }),
  };
  let ran = 0;
  for (const step of steps) {
    if (typeof step.run !== 'string' || /^Install Stella$/.test(step.name)) continue;
    if (typeof step.if === 'string' && expand(step.if, values) === 'false') continue;
    const env: Record<string, string> = { ...base };
    for (const [k, v] of Object.entries((step.env ?? {}) as Record<string, string>))
      env[k] = expand(v, values);
    const r = await bash(expand(step.run, values), env, dir);
    t.is(r.code, 0, `${step.name}: ${r.stdout}${r.stderr}`);
    ran++;
  }
  t.is(ran, 3, 'build, sign and verify ran');
  t.true(existsSync(join(dir, 'dist.tar.gz.sigstore.json')));
});
