/**
 * The CLI end to end, as a user runs it: `stella sandbox up --detach`, `sandbox token`,
 * `attest sign`, `attest verify --artifact sha256:...` from the attestation store, `sandbox down`.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintSandboxToken } from '../../../src/sandbox/server/sandbox.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const bin = join(repo, 'bin', 'run.js');

function stella(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('sandbox up --detach, token, attest sign, verify from the store, sandbox down', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'stella-cli-'));
  const data = join(root, 'sandbox');
  const store = join(root, 'attestations.db');
  const up = await stella(['sandbox', 'up', '--data-dir', data, '--detach', '--json']);
  t.is(up.code, 0, up.stderr);
  const state = JSON.parse(up.stdout);
  t.teardown(async () => {
    await stella(['sandbox', 'down', '--data-dir', data]);
  });
  t.regex(state.urls.base, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.true(Number.isInteger(state.pid) && state.pid !== process.pid);
  t.true(existsSync(join(data, 'trusted_root.json')) && existsSync(join(data, 'signer.yaml')));

  const tok = await stella(['sandbox', 'token', '--data-dir', data, '--platform', 'github', '--repo', 'org/repo', '--ref', 'refs/tags/v1.0.0']);
  t.is(tok.code, 0, tok.stderr);
  const token = tok.stdout.trim();
  t.regex(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);

  const artifact = join(root, 'app.tgz');
  writeFileSync(artifact, 'cli artifact');
  const sign = await stella(
    ['attest', 'sign', '--keyless', '--artifact', artifact, '--config', join(data, 'signer.yaml'), '--attestation-store', store, '--output', join(root, 'app.sigstore.json'), '--json'],
    { STELLAOPS_OIDC_TOKEN: token },
  );
  t.is(sign.code, 0, sign.stderr + sign.stdout);
  const signed = JSON.parse(sign.stdout);
  t.is(signed.ok, true);
  t.is(signed.tokenSource, 'env');
  t.is(signed.identity, 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0');
  t.true(existsSync(signed.bundle));

  // Verify offline from the digest alone: the bundle comes from the attestation store.
  const verify = await stella([
    'attest', 'verify', '--artifact', signed.artifactDigest, '--attestation-store', store, '--trusted-root', join(data, 'trusted_root.json'),
    '--certificate-identity', 'https://github\\.com/org/repo/\\.github/workflows/release\\.yml@refs/tags/v.*', '--certificate-oidc-issuer', state.urls.oidcIssuer, '--json',
  ]);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
  t.is(JSON.parse(verify.stdout).ok, true);
  const none = await stella([
    'attest', 'verify', '--artifact', 'sha256:' + '11'.repeat(32), '--attestation-store', store, '--trusted-root', join(data, 'trusted_root.json'),
    '--certificate-identity', '.*', '--certificate-oidc-issuer', state.urls.oidcIssuer, '--json',
  ]);
  t.is(none.code, 73, none.stdout);
  t.regex(none.stdout, /no attestations found/);

  // An expired token: exit code of OIDC_TOKEN_EXPIRED, one JSON error, no bundle.
  // (minted by the library with a clock an hour back: the CLI always mints fresh tokens)
  const old = { stdout: mintSandboxToken(data, { platform: 'github', repo: 'org/repo', now: Date.now() - 3_600_000 }) };
  const expired = await stella(['attest', 'sign', '--keyless', '--artifact', artifact, '--identity-token', old.stdout.trim(), '--config', join(data, 'signer.yaml'), '--output', join(root, 'expired.json'), '--attestation-store', store, '--json']);
  t.is(expired.code, 66, expired.stdout + expired.stderr);
  const e = JSON.parse(expired.stdout);
  t.is(e.ok, false);
  t.is(e.error.code, 'OIDC_TOKEN_EXPIRED');
  t.regex(e.error.message, /OIDC token expired/);
  t.false(existsSync(join(root, 'expired.json')));
  // Human mode: one line "error: <check>: <message>".
  const human = await stella(['attest', 'sign', '--keyless', '--artifact', artifact, '--identity-token', old.stdout.trim(), '--config', join(data, 'signer.yaml'), '--output', join(root, 'expired.json')]);
  t.regex(human.stderr, /^error: signing: OIDC token expired/);

  const down = await stella(['sandbox', 'down', '--data-dir', data, '--json']);
  t.is(down.code, 0, down.stderr);
  t.is(JSON.parse(down.stdout).stopped, true);
  t.is(JSON.parse(readFileSync(join(data, 'sandbox.json'), 'utf8')).pid, null);
  let alive = true;
  try {
    process.kill(state.pid, 0);
  } catch {
    alive = false;
  }
  t.false(alive, 'the detached sandbox process is gone');
  const again = await stella(['sandbox', 'down', '--data-dir', data]);
  t.is(again.code, 0);
  t.regex(again.stdout, /not running/);
});
