/**
 * The CLI end to end, as a user runs it: `stella sandbox up --detach`, `sandbox token`,
 * `attest sign`, `attest verify --artifact sha256:...` from the attestation store, `sandbox down`.
 */
import test from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintSandboxToken } from '../../../src/sandbox/server/sandbox.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const bin = join(repo, 'bin', 'run.js');

function stella(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
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
  // The Rekor v2 + TSA signing config: its path and the two URLs are in the --json report.
  t.is(state.files.signingConfig, join(data, 'signing_config.json'));
  t.true(existsSync(state.files.signingConfig));
  t.is(state.urls.rekorV2, state.urls.base);
  t.is(state.urls.tsa, `${state.urls.base}/api/v1/timestamp`);

  const tok = await stella([
    'sandbox',
    'token',
    '--data-dir',
    data,
    '--platform',
    'github',
    '--repo',
    'org/repo',
    '--ref',
    'refs/tags/v1.0.0',
  ]);
  t.is(tok.code, 0, tok.stderr);
  const token = tok.stdout.trim();
  t.regex(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);

  const artifact = join(root, 'app.tgz');
  writeFileSync(artifact, 'cli artifact');
  /** `attest sign` of the artifact through the sandbox into `output`, with --identity-token when given. */
  const signArgs = (output: string, identityToken?: string): string[] => [
    'attest',
    'sign',
    '--keyless',
    '--artifact',
    artifact,
    ...(identityToken === undefined ? [] : ['--identity-token', identityToken]),
    '--config',
    join(data, 'signer.yaml'),
    '--attestation-store',
    store,
    '--output',
    join(root, output),
  ];
  const sign = await stella([...signArgs('app.sigstore.json'), '--json'], {
    STELLAOPS_OIDC_TOKEN: token,
  });
  t.is(sign.code, 0, sign.stderr + sign.stdout);
  const signed = JSON.parse(sign.stdout);
  t.is(signed.ok, true);
  t.is(signed.tokenSource, 'env');
  t.is(
    signed.identity,
    'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0',
  );
  t.true(existsSync(signed.bundle));

  // Verify offline from the digest alone: the bundle comes from the attestation store.
  const verify = await stella([
    'attest',
    'verify',
    '--artifact',
    signed.artifactDigest,
    '--attestation-store',
    store,
    '--trusted-root',
    join(data, 'trusted_root.json'),
    '--certificate-identity',
    'https://github\\.com/org/repo/\\.github/workflows/release\\.yml@refs/tags/v.*',
    '--certificate-oidc-issuer',
    state.urls.oidcIssuer,
    '--json',
  ]);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
  t.is(JSON.parse(verify.stdout).ok, true);

  // cosign's --identity-token: the token, or the path of a file holding it (with its newline).
  const tokenFile = join(root, 'oidc-token');
  writeFileSync(tokenFile, token + '\n');
  const fromFile = await stella([...signArgs('from-file.sigstore.json', tokenFile), '--json']);
  t.is(fromFile.code, 0, fromFile.stderr + fromFile.stdout);
  t.is(JSON.parse(fromFile.stdout).tokenSource, 'file');
  t.is(JSON.parse(fromFile.stdout).identity, signed.identity);

  const none = await stella([
    'attest',
    'verify',
    '--artifact',
    'sha256:' + '11'.repeat(32),
    '--attestation-store',
    store,
    '--trusted-root',
    join(data, 'trusted_root.json'),
    '--certificate-identity',
    'https://github\\.com/org/repo/.*',
    '--certificate-oidc-issuer',
    state.urls.oidcIssuer,
    '--json',
  ]);
  t.is(none.code, 73, none.stdout);
  t.regex(none.stdout, /no attestations found/);

  // An expired token: exit code of OIDC_TOKEN_EXPIRED, one JSON error, no bundle.
  // (minted by the library with a clock an hour back: the CLI always mints fresh tokens)
  const old = {
    stdout: mintSandboxToken(data, {
      platform: 'github',
      repo: 'org/repo',
      now: Date.now() - 3_600_000,
    }),
  };
  const expired = await stella([...signArgs('expired.json', old.stdout.trim()), '--json']);
  t.is(expired.code, 66, expired.stdout + expired.stderr);
  const e = JSON.parse(expired.stdout);
  t.is(e.ok, false);
  t.is(e.error.code, 'OIDC_TOKEN_EXPIRED');
  t.regex(e.error.message, /OIDC token expired/);
  t.false(existsSync(join(root, 'expired.json')));
  // Human mode: one line "error: <check>: <message>".
  const human = await stella(signArgs('expired.json', old.stdout.trim()));
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

/** Is the child still running (no exit seen)? process.kill(pid, 0) would also say yes for a zombie. */
async function stillRunning(child: ChildProcess): Promise<boolean> {
  await new Promise((r) => setTimeout(r, 300));
  return child.exitCode === null && child.signalCode === null;
}

test.serial(
  'H57 sandbox down acts on proof, not on sandbox.json: an unrelated pid survives every forgery; the real sandbox still stops',
  async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'stella-down-'));
    const data = join(root, 'sandbox');
    const up = await stella(['sandbox', 'up', '--data-dir', data, '--detach', '--json']);
    t.is(up.code, 0, up.stderr);
    const real = JSON.parse(readFileSync(join(data, 'sandbox.json'), 'utf8'));
    t.teardown(async () => {
      writeFileSync(join(data, 'sandbox.json'), JSON.stringify(real));
      await stella(['sandbox', 'down', '--data-dir', data]);
    });
    const key = readFileSync(join(data, 'control.key'), 'utf8').trim();

    // An unrelated process whose pid the file will name.
    const victim = spawn('sleep', ['600'], { stdio: 'ignore' });
    t.teardown(() => victim.kill('SIGKILL'));
    // Something on loopback that is not the sandbox, answering everything the way the old check
    // trusted (200 and the file's instance id), and recording what it is sent.
    const seen: string[] = [];
    const impostor = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'X-Stella-Sandbox': real.instanceId,
        });
        res.end(
          JSON.stringify({
            pid: victim.pid,
            instanceId: real.instanceId,
            serverNonce: '00'.repeat(32),
            proof: '11'.repeat(32),
          }),
        );
      });
    });
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    t.teardown(() => impostor.close());
    const impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
    const forge = (base: string) =>
      writeFileSync(
        join(data, 'sandbox.json'),
        JSON.stringify({ ...real, pid: victim.pid, urls: { ...real.urls, base } }),
      );

    // 1. The file points at the impostor: it cannot prove the key, so nothing is signalled or stopped.
    forge(impostorUrl);
    const a = await stella(['sandbox', 'down', '--data-dir', data, '--json']);
    t.is(a.code, 74, a.stdout + a.stderr);
    t.regex(
      JSON.parse(a.stdout).error.message,
      /did not prove it is the sandbox .* pid \d+ not signalled/,
    );
    t.true(await stillRunning(victim), 'the unrelated process survives');
    t.true(
      seen.length > 0 && seen.every((s) => s.startsWith('POST /stella/v1/sandbox/hello ')),
      `only a hello was sent: ${seen.join(' | ')}`,
    );
    t.false(
      seen.some((s) => s.includes(key)),
      "the control key never leaves the machine's disk",
    );

    // 2. Non-loopback hosts: refused before any request.
    for (const base of [
      'http://192.0.2.1:8080',
      `http://127.0.0.1.nip.io:${(impostor.address() as AddressInfo).port}`,
    ]) {
      seen.length = 0;
      forge(base);
      const b = await stella(['sandbox', 'down', '--data-dir', data, '--json']);
      t.is(b.code, 74, b.stdout + b.stderr);
      t.regex(
        JSON.parse(b.stdout).error.message,
        /not a loopback URL.*refusing to contact it or to signal pid/,
      );
      t.true(await stillRunning(victim));
    }

    // 3. Nothing answers at a loopback URL: the pid's command line is not our sandbox, so it is
    // not signalled; the record is cleared.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    forge(`http://127.0.0.1:${deadPort}`);
    const c = await stella(['sandbox', 'down', '--data-dir', data, '--json']);
    t.is(c.code, 0, c.stdout + c.stderr);
    t.false(JSON.parse(c.stdout).stopped);
    t.regex(
      JSON.parse(c.stdout).message,
      /not answering; marked stopped \(pid \d+ not signalled\)/,
    );
    t.is(
      JSON.parse(readFileSync(join(data, 'sandbox.json'), 'utf8')).pid,
      null,
      'the record is cleared',
    );
    t.true(await stillRunning(victim));

    // The real record: the sandbox proves itself and goes down.
    writeFileSync(join(data, 'sandbox.json'), JSON.stringify(real));
    const d = await stella(['sandbox', 'down', '--data-dir', data, '--json']);
    t.is(d.code, 0, d.stdout + d.stderr);
    t.true(JSON.parse(d.stdout).stopped);
    t.is(JSON.parse(d.stdout).pid, real.pid);
    let alive = true;
    try {
      process.kill(real.pid, 0);
    } catch {
      alive = false;
    }
    t.false(alive, 'the sandbox process is gone');
    t.true(await stillRunning(victim));
  },
);

test('H56 sandbox up --detach never appends its log through a planted symlink', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'stella-log-'));
  const data = join(root, 'sandbox');
  mkdirSync(data);
  const victim = join(root, 'victim');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, join(data, 'sandbox.log'));
  const up = await stella(['sandbox', 'up', '--data-dir', data, '--detach', '--json']);
  t.teardown(() => stella(['sandbox', 'down', '--data-dir', data]));
  t.is(up.code, 74, up.stdout + up.stderr);
  t.regex(JSON.parse(up.stdout).error.message, /sandbox log .*sandbox\.log.*symbolic link/);
  t.is(readFileSync(victim, 'utf8'), 'precious');
});

test('sandbox up --detach on a port in use: the background sandbox exits, and up says so at once, naming its log', async (t) => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => taken.close(() => r())));
  const port = (taken.address() as AddressInfo).port;
  const data = join(mkdtempSync(join(tmpdir(), 'stella-cli-')), 'sandbox');
  const up = await stella([
    'sandbox',
    'up',
    '--data-dir',
    data,
    '--detach',
    '--port',
    String(port),
  ]);
  t.is(up.code, 74, up.stderr); // SANDBOX_ERROR
  // Told that it exited (not, after the start-up limit, that it did not answer).
  t.regex(up.stderr, /the sandbox exited with status [1-9]\d* during start-up; see .*sandbox\.log/);
  t.regex(readFileSync(join(data, 'sandbox.log'), 'utf8'), /port in use/);
});
