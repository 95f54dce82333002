/**
 * Checklist H57, library side: the sandbox's control channel (proof of the control key,
 * authenticated stop), loopback-only URLs, and the /proc command-line check.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkHello,
  helloProof,
  ControlServer,
  CONTROL_PATHS,
  encodeControlKey,
  forkMac,
  helloSandbox,
  isLoopbackUrl,
  newControlKey,
  newNonce,
  stopMac,
} from '../../../src/sandbox/server/control-channel.js';
import { StellaError } from '../../../src/errors.js';
import {
  forkSandboxLog,
  isSandboxMain,
  startDetachedSandbox,
  stopSandbox,
} from '../../../src/sandbox/server/control.js';
import {
  readControlKey,
  readSandboxState,
  sandboxPath,
  writeSandboxState,
} from '../../../src/sandbox/server/data-dir.js';
import { sandboxAnswers, startSandbox } from '../../../src/sandbox/server/sandbox.js';
import { sha256 } from '../../../src/crypto.js';
import { toHex, utf8 } from '../../../src/util/encoding.js';
import { hashedRekordProposal } from '../../../src/sign/rekor-client.js';
import { signerKey } from '../authority/helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'stella-control-'));
/** Tests that read Linux's /proc: declared skipped where there is none. */
const withProc = existsSync('/proc/self/cmdline') ? test : test.skip;

test('H57 only plain http URLs on 127.0.0.1, ::1 or localhost count as the sandbox', (t) => {
  for (const u of [
    'http://127.0.0.1:8080',
    'http://127.0.0.1:1/',
    'http://[::1]:9000',
    'http://localhost:3000',
    'http://2130706433:80',
  ])
    t.true(isLoopbackUrl(u), u);
  for (const u of [
    'http://192.0.2.1:8080',
    'http://127.0.0.1.nip.io:8080',
    'http://localhost.example:80',
    'https://127.0.0.1:8443',
    'http://user:pw@127.0.0.1:80',
    // A user name alone, or a password alone, is as foreign as both.
    'http://user@127.0.0.1:80',
    'http://:pw@127.0.0.1:80',
    'http://10.0.0.1',
    'file:///etc/passwd',
    'not a url',
  ]) {
    t.false(isLoopbackUrl(u), u);
  }
});

test('H57 hello: the proof verifies only with the key, for this client nonce and the pid it names', (t) => {
  const key = newControlKey();
  const server = new ControlServer(key, 4242, 'abcdef');
  const nonce = newNonce();
  const answer = server.hello({ clientNonce: nonce })!;
  t.is(checkHello(key, nonce, answer)?.pid, 4242);
  t.is(checkHello(newControlKey(), nonce, answer), undefined, 'another key');
  t.is(checkHello(key, newNonce(), answer), undefined, 'another nonce (a replayed answer)');
  t.is(checkHello(key, nonce, { ...answer, pid: 1 }), undefined, 'a pid changed in transit');
  t.is(checkHello(key, nonce, { ...answer, proof: 'zz' }), undefined);
  t.is(server.hello({ clientNonce: 'short' }), undefined);
  // A pid of 0 or below names no one process (kill(0) signals the whole process group): an
  // answer naming one is refused even with a proof made by the right key.
  for (const pid of [0, -1]) {
    const odd = new ControlServer(key, pid, 'abcdef');
    const n = newNonce();
    t.is(checkHello(key, n, odd.hello({ clientNonce: n })), undefined, `pid ${pid}`);
  }
  // The instance id names the sandbox's files: only 1-64 lower-case hex digits, even with a
  // proof made by the right key.
  for (const instanceId of ['', 'ABCDEF', 'abcdeg', '../x', 'a'.repeat(65)]) {
    const odd = new ControlServer(key, 4242, instanceId);
    const n = newNonce();
    t.is(
      checkHello(key, n, odd.hello({ clientNonce: n })),
      undefined,
      `instance id "${instanceId}"`,
    );
  }
  const n = newNonce();
  t.is(
    checkHello(key, n, new ControlServer(key, 4242, 'a'.repeat(64)).hello({ clientNonce: n }))
      ?.instanceId,
    'a'.repeat(64),
  );
  // The server nonce is what the stop and fork MACs bind: only 64 lower-case hex digits, even
  // with a proof made by the right key over it.
  for (const serverNonce of ['', 'A'.repeat(64), 'a'.repeat(63), `${'a'.repeat(64)}\n`]) {
    const fields = { pid: 4242, instanceId: 'abcdef', serverNonce };
    const proof = helloProof(key, n, fields);
    t.is(checkHello(key, n, { ...fields, proof }), undefined, `server nonce "${serverNonce}"`);
  }
  const fields = { pid: 4242, instanceId: 'abcdef', serverNonce: 'b'.repeat(64) };
  t.is(
    checkHello(key, n, { ...fields, proof: helloProof(key, n, fields) })?.serverNonce,
    'b'.repeat(64),
  );
});

test('H57 stop: the MAC over an outstanding server nonce, once; nothing else', (t) => {
  const key = newControlKey();
  let now = 1_000_000;
  const server = new ControlServer(key, 1, 'ab', () => now);
  const { serverNonce } = server.hello({ clientNonce: newNonce() })!;
  t.false(
    server.authorizeStop({ serverNonce, mac: stopMac(newControlKey(), serverNonce) }),
    'wrong key',
  );
  // A failed attempt uses the nonce up.
  t.false(
    server.authorizeStop({ serverNonce, mac: stopMac(key, serverNonce) }),
    'nonce already used',
  );
  const second = server.hello({ clientNonce: newNonce() })!.serverNonce;
  t.false(
    server.authorizeStop({ serverNonce: newNonce(), mac: stopMac(key, second) }),
    'a nonce the server never issued',
  );
  t.true(server.authorizeStop({ serverNonce: second, mac: stopMac(key, second) }));
  t.false(server.authorizeStop({ serverNonce: second, mac: stopMac(key, second) }), 'replay');
  const late = server.hello({ clientNonce: newNonce() })!.serverNonce;
  now += 61_000;
  t.false(server.authorizeStop({ serverNonce: late, mac: stopMac(key, late) }), 'expired');
  t.false(server.authorizeStop(null));
  t.false(server.authorizeStop({ serverNonce: 'x', mac: 'y' }));
});

test('H57 fork: the MAC binds the log and the fork point; only v1 or v2 and a decimal point are taken, even with a valid MAC', (t) => {
  const key = newControlKey();
  const server = new ControlServer(key, 1, 'ab');
  const nonce = () => server.hello({ clientNonce: newNonce() })!.serverNonce;
  const request = (log: unknown, at: unknown, macLog = log, macAt = at) => {
    const serverNonce = nonce();
    return {
      serverNonce,
      log,
      at,
      mac: forkMac(key, serverNonce, String(macLog), String(macAt)),
    };
  };
  t.deepEqual(server.authorizeFork(request('v1', '')), { log: 'v1', at: '' });
  t.deepEqual(server.authorizeFork(request('v2', '0')), { log: 'v2', at: '0' });
  t.deepEqual(server.authorizeFork(request('v1', '1234567890123456')), {
    log: 'v1',
    at: '1234567890123456',
  });
  // The MAC made for another log or point does not carry over.
  t.is(server.authorizeFork(request('v1', '3', 'v2', '3')), undefined, 'log changed in transit');
  t.is(server.authorizeFork(request('v1', '3', 'v1', '4')), undefined, 'point changed in transit');
  const serverNonce = nonce();
  t.is(
    server.authorizeFork({
      serverNonce,
      log: 'v1',
      at: '',
      mac: forkMac(newControlKey(), serverNonce, 'v1', ''),
    }),
    undefined,
    'wrong key',
  );
  // Refused by shape, whatever the MAC: another log, a point that is no plain decimal index.
  for (const [log, at] of [
    ['v3', '1'],
    ['V1', '1'],
    ['v1 ', '1'],
    [1, '1'],
    ['v1', '01'],
    ['v1', '-1'],
    ['v1', '1e3'],
    ['v1', '12345678901234567'],
    ['v1', 5],
    [undefined, ''],
  ] as const)
    t.is(server.authorizeFork(request(log, at)), undefined, `${String(log)} at ${String(at)}`);
  t.is(server.authorizeFork(null), undefined);
});

test('H57 a running sandbox: control key 0600, proof over HTTP, unauthenticated stop refused, stopSandbox stops it', async (t) => {
  const dir = tmp();
  const sb = await startSandbox({ dataDir: dir, port: 0 });
  t.teardown(() => sb.close());
  t.is(statSync(sandboxPath(dir, 'control')).mode & 0o777, 0o600);
  const key = readControlKey(dir)!;
  const hello = await helloSandbox(sb.urls.base, key);
  t.is(hello.kind, 'proven');
  t.is(hello.kind === 'proven' ? hello.pid : 0, process.pid);
  t.is(
    (await helloSandbox(sb.urls.base, newControlKey())).kind,
    'unproven',
    'a client with another key gets no proof it can check',
  );
  // A stop without the key: refused, and the sandbox keeps serving.
  const res = await fetch(new URL(CONTROL_PATHS.stop, sb.urls.base), {
    method: 'POST',
    body: JSON.stringify({ serverNonce: newNonce(), mac: newNonce() }),
  });
  t.is(res.status, 403);
  t.is((await helloSandbox(sb.urls.base, key)).kind, 'proven');
  // The authenticated stop: the sandbox closes itself (in this process: no signal at all).
  const r = await stopSandbox({ dataDir: dir });
  t.true(r.stopped);
  t.is(r.pid, process.pid);
  await sb.closed;
  t.is(readSandboxState(dir)?.pid, null);
  t.is((await helloSandbox(sb.urls.base, key)).kind, 'silent');
});

test("closing a sandbox clears its own pid from sandbox.json, and only its own: another process's record is kept, and a removed file is not an error", async (t) => {
  const own = tmp();
  const a = await startSandbox({ dataDir: own, port: 0 });
  await a.close();
  t.is(readSandboxState(own)?.pid, null);

  const taken = tmp();
  const b = await startSandbox({ dataDir: taken, port: 0 });
  // Another sandbox's record in its place (a second start on the folder after this one).
  writeSandboxState(taken, { ...readSandboxState(taken)!, pid: process.pid + 1 });
  await b.close();
  t.is(readSandboxState(taken)?.pid, process.pid + 1);

  const removed = tmp();
  const c = await startSandbox({ dataDir: removed, port: 0 });
  unlinkSync(sandboxPath(removed, 'state'));
  await t.notThrowsAsync(c.close());
  t.is(readSandboxState(removed), undefined);
});

withProc(
  "H57 isSandboxMain: the kernel's command line must be this installation's sandbox main for this data directory (reads /proc)",
  async (t) => {
    const dir = tmp();
    const state = await startDetachedSandbox({ dataDir: dir, port: 0 });
    t.teardown(() => stopSandbox({ dataDir: dir }).catch(() => undefined));
    t.true(isSandboxMain(state.pid!, dir));
    t.false(isSandboxMain(state.pid!, tmp()), 'another data directory');
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    t.teardown(() => sleeper.kill('SIGKILL'));
    t.false(isSandboxMain(sleeper.pid!, dir));
    // A node process whose command line merely mentions the data directory is not it either.
    const impostor = spawn(
      process.execPath,
      ['-e', 'setTimeout(() => {}, 30000)', '--', '--data-dir', dir],
      { stdio: 'ignore' },
    );
    t.teardown(() => impostor.kill('SIGKILL'));
    await new Promise((r) => setTimeout(r, 200));
    t.regex(readFileSync(`/proc/${impostor.pid}/cmdline`, 'utf8'), /--data-dir/);
    t.false(isSandboxMain(impostor.pid!, dir));
    t.false(isSandboxMain(process.pid, dir));
    // A pid with no process (its /proc entry cannot be read) is not it.
    t.false(isSandboxMain(2 ** 30, dir));
  },
);

test('a fork asked of a folder where no sandbox ever ran, or of one stopped, is SANDBOX_ERROR "no running sandbox"', async (t) => {
  const never = tmp();
  const e = await t.throwsAsync(forkSandboxLog({ dataDir: never, log: 'v1' }), {
    instanceOf: StellaError,
  });
  t.is(e.code, 'SANDBOX_ERROR');
  t.is(e.message, `no running sandbox for ${never}`);
  const stopped = tmp();
  await (await startSandbox({ dataDir: stopped, port: 0 })).close();
  t.is(
    (
      await t.throwsAsync(forkSandboxLog({ dataDir: stopped, log: 'v2' }), {
        instanceOf: StellaError,
      })
    ).message,
    `no running sandbox for ${stopped}`,
  );
});

test('a fork the sandbox refuses is SANDBOX_ERROR with its HTTP status and reason, and the log is kept', async (t) => {
  const dir = tmp();
  const sb = await startSandbox({ dataDir: dir, port: 0 });
  t.teardown(() => sb.close());
  const refusal = async (log: 'v1' | 'v2', at?: number) => {
    const e = await t.throwsAsync(forkSandboxLog({ dataDir: dir, log, at }), {
      instanceOf: StellaError,
    });
    t.is(e?.code, 'SANDBOX_ERROR', log);
    return e?.message;
  };
  for (const log of ['v1', 'v2'] as const)
    t.is(
      await refusal(log),
      'the sandbox refused the fork: HTTP 400: fork: the log is empty; nothing to fork',
    );
  // One entry in the Rekor v1 log, then a fork point past it.
  const data = utf8.encode('fork refusal');
  const signer = signerKey();
  const logged = await fetch(`${sb.urls.rekor}/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(
      hashedRekordProposal(toHex(sha256(data)), signer.key.sign(data), signer.pem),
    ),
  });
  t.is(logged.status, 201);
  t.is(
    await refusal('v1', 5),
    'the sandbox refused the fork: HTTP 400: fork: the log has 1 entry; the fork point must be 0..0',
  );
  const info = (await (await fetch(`${sb.urls.rekor}/api/v1/log`)).json()) as { treeSize: number };
  t.is(info.treeSize, 1, 'the log is kept');
  // A fork asked over HTTP without the control key's MAC (a nonce the sandbox gave, a made-up
  // MAC): 403, and the log is kept.
  const { serverNonce } = (await (
    await fetch(new URL(CONTROL_PATHS.hello, sb.urls.base), {
      method: 'POST',
      body: JSON.stringify({ clientNonce: newNonce() }),
    })
  ).json()) as { serverNonce: string };
  const unauthorized = await fetch(new URL(CONTROL_PATHS.fork, sb.urls.base), {
    method: 'POST',
    body: JSON.stringify({
      log: 'v1',
      at: '0',
      serverNonce,
      mac: forkMac(newControlKey(), serverNonce, 'v1', '0'),
    }),
  });
  t.is(unauthorized.status, 403);
  t.regex(await unauthorized.text(), /fork request not authorized/);
  const after = (await (await fetch(`${sb.urls.rekor}/api/v1/log`)).json()) as {
    treeSize: number;
  };
  t.is(after.treeSize, 1, 'the log is kept');
});

withProc(
  'H57 isSandboxMain: inside the sandbox main itself, its own pid is never the sandbox to signal (reads /proc)',
  (t) => {
    // The sandbox main's own command line, with a probe loaded first through NODE_OPTIONS
    // (which /proc/self/cmdline does not show): the probe asks about its own pid and exits
    // before the sandbox starts. Were its own pid taken, a stop there would signal itself.
    const dir = tmp();
    const probe = join(dir, 'probe.mjs');
    const control = new URL('../../../src/sandbox/server/control.js', import.meta.url).href;
    writeFileSync(
      probe,
      `import { isSandboxMain } from ${JSON.stringify(control)};\n` +
        `process.stdout.write(JSON.stringify(isSandboxMain(process.pid, ${JSON.stringify(dir)})));\n` +
        `process.exit(0);\n`,
    );
    const main = fileURLToPath(new URL('../../../src/sandbox/server/main.js', import.meta.url));
    const r = spawnSync(process.execPath, [main, '--data-dir', dir], {
      env: { ...process.env, NODE_OPTIONS: `--import ${pathToFileURL(probe).href}` },
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout, 'false');
    t.false(existsSync(sandboxPath(dir, 'state')), 'the probe exited before the sandbox started');
  },
);

test('sandboxAnswers: the sandbox that answers must prove it is the instance the state names', async (t) => {
  const dir = tmp();
  const sb = await startSandbox({ dataDir: dir, port: 0 });
  t.teardown(() => sb.close());
  const state = readSandboxState(dir)!;
  t.true(await sandboxAnswers(dir, state));
  t.false(await sandboxAnswers(dir, { ...state, instanceId: 'f'.repeat(32) }), 'another instance');
});

/** A loopback server speaking the control protocol with `key`, claiming to be `pid`. */
async function impostor(
  t: import('ava').ExecutionContext,
  key: Uint8Array,
  pid: number,
  instanceId: string,
): Promise<{ url: string; stops: number[] }> {
  const control = new ControlServer(key, pid, instanceId);
  const stops: number[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const json = JSON.parse(body || 'null') as unknown;
      if (req.url === CONTROL_PATHS.hello) {
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify(control.hello(json)));
      } else if (req.url === CONTROL_PATHS.stop && control.authorizeStop(json)) {
        stops.push(Date.now());
        res.writeHead(202).end('{}');
      } else res.writeHead(403).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stops };
}

function forgeState(dir: string, pid: number, base: string): void {
  writeSandboxState(dir, {
    version: 1,
    pid,
    host: '127.0.0.1',
    port: Number(new URL(base).port),
    urls: { base, oidcIssuer: base, fulcio: base, rekor: base },
    startedAt: new Date().toISOString(),
    instanceId: 'abcdef',
    files: { trustedRoot: '', signerConfig: '', roots: '', log: '' },
  });
}

test('H57 a control key someone else could have written proves nothing: open to others, or a symlink', async (t) => {
  const dir = tmp();
  const victim = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => victim.kill('SIGKILL'));
  const key = newControlKey();
  const fake = await impostor(t, key, victim.pid!, 'abcdef');
  forgeState(dir, victim.pid!, fake.url);
  // The attacker's key, world-readable (a key the sandbox wrote is 0600).
  writeFileSync(sandboxPath(dir, 'control'), encodeControlKey(key), { mode: 0o644 });
  const e = await t.throwsAsync(stopSandbox({ dataDir: dir, waitMs: 500 }), {
    instanceOf: StellaError,
  });
  t.regex(e?.message ?? '', /did not prove it is the sandbox/);
  // The same key through a symlink to a private file elsewhere.
  unlinkSync(sandboxPath(dir, 'control'));
  const elsewhere = join(tmp(), 'k');
  writeFileSync(elsewhere, encodeControlKey(key), { mode: 0o600 });
  symlinkSync(elsewhere, sandboxPath(dir, 'control'));
  await t.throwsAsync(stopSandbox({ dataDir: dir, waitMs: 500 }), {
    message: /did not prove it is the sandbox/,
  });
  t.deepEqual(fake.stops, [], 'no stop request was ever sent');
  t.true(victim.exitCode === null && victim.signalCode === null);
});

test('H57 even a server that holds the key gets no pid signalled unless the kernel says it is our sandbox main', async (t) => {
  const dir = tmp();
  const victim = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => victim.kill('SIGKILL'));
  const key = newControlKey();
  writeFileSync(sandboxPath(dir, 'control'), encodeControlKey(key), { mode: 0o600 });
  const fake = await impostor(t, key, victim.pid!, 'abcdef');
  forgeState(dir, victim.pid!, fake.url);
  const e = await t.throwsAsync(stopSandbox({ dataDir: dir, waitMs: 500 }), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'SANDBOX_ERROR');
  t.regex(
    e?.message ?? '',
    /accepted the stop request but did not exit within 500 ms; not signalled/,
  );
  t.is(fake.stops.length, 1, 'it was asked, authenticated, to stop itself');
  await new Promise((r) => setTimeout(r, 200));
  t.true(
    victim.exitCode === null && victim.signalCode === null,
    'the pid it named was not signalled',
  );
});

/** Pids of live processes whose command line names `needle` (Linux /proc). */
function processesNaming(needle: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(needle))
        found.push(Number(name));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found;
}

withProc(
  'a detached sandbox that does not answer in time is stopped, not left running (reads /proc)',
  async (t) => {
    const dataDir = tmp();
    t.teardown(() => {
      for (const pid of processesNaming(dataDir)) process.kill(pid, 'SIGKILL');
    });
    const e = await t.throwsAsync(startDetachedSandbox({ dataDir, waitMs: 20 }), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'SANDBOX_ERROR');
    t.regex(e.message, /did not answer within 20 ms; see .*sandbox\.log/);
    // The child was sent SIGTERM; give it a moment to go.
    const deadline = Date.now() + 10_000;
    while (processesNaming(dataDir).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    t.deepEqual(processesNaming(dataDir), [], 'no sandbox process is left for this data directory');
  },
);

test('H57 hello to a server whose answer is too long: not the sandbox (its status kept), not an error', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ padding: 'x'.repeat(64 * 1024) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.deepEqual(await helloSandbox(base, newControlKey()), { kind: 'unproven', status: 200 });
});

withProc(
  'a sandbox main that accepted the stop, was signalled (SIGTERM) and still runs is SANDBOX_ERROR saying so, and its record is kept',
  async (t) => {
    const dir = tmp();
    // The real command line of a sandbox main for this data directory (the kernel's proof),
    // held by a preload that ignores SIGTERM and never lets the server start.
    const hold = join(dir, 'hold.mjs');
    writeFileSync(
      hold,
      "process.on('SIGTERM', () => {});\nsetInterval(() => {}, 1000);\nprocess.stdout.write('held\\n');\nawait new Promise(() => {});\n",
    );
    const main = fileURLToPath(new URL('../../../src/sandbox/server/main.js', import.meta.url));
    const held = spawn(process.execPath, [main, '--data-dir', dir], {
      env: { ...process.env, NODE_OPTIONS: `--import ${pathToFileURL(hold).href}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => held.kill('SIGKILL'));
    await new Promise((r) => held.stdout.once('data', r));
    t.true(isSandboxMain(held.pid!, dir));
    const key = newControlKey();
    writeFileSync(sandboxPath(dir, 'control'), encodeControlKey(key), { mode: 0o600 });
    const fake = await impostor(t, key, held.pid!, 'abcdef');
    forgeState(dir, held.pid!, fake.url);
    const e = await t.throwsAsync(stopSandbox({ dataDir: dir, waitMs: 300 }), {
      instanceOf: StellaError,
    });
    t.is(e?.code, 'SANDBOX_ERROR');
    t.is(e?.message, `sandbox pid ${held.pid} did not stop within 600 ms`);
    t.is(fake.stops.length, 1);
    t.true(held.exitCode === null, 'it ignored the signal and runs on');
    t.is(readSandboxState(dir)?.pid, held.pid, 'the record of a sandbox still running is kept');
  },
);
