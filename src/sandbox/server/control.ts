/**
 * Process control for `stella sandbox up --detach` and `stella sandbox down`. A detached
 * sandbox is a child node process running ./main.js with its output in DIR/sandbox.log;
 * `up` returns once that child proves itself on its URL.
 *
 * sandbox.json is writable by whoever can write the data directory, so nothing in it is
 * acted on by its word alone (checklist H57): its URL is contacted only when it is loopback,
 * the server must prove it holds the control key (./control-channel.ts) before it is asked
 * to stop, and it then stops itself. A pid is signalled only when /proc/<pid>/cmdline shows
 * this installation's sandbox main for this data directory: one that accepted the stop but
 * did not exit, or one too hung to answer at all.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../../errors.js';
import { openAppendOnly, readFileBounded } from '../../util/fs.js';
import { processRuns } from '../../util/os.js';
import { isLoopbackUrl, requestFork, requestStop } from './control-channel.js';
import {
  ensureDataDir,
  readControlKey,
  readSandboxState,
  sandboxPath,
  writeSandboxState,
  type SandboxState,
} from './data-dir.js';
import { proveSandbox, sandboxAnswers } from './sandbox.js';
import { quoted } from '../../util/text.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export async function startDetachedSandbox(opts: {
  dataDir: string;
  port?: number;
  witnesses?: number;
  waitMs?: number;
}): Promise<SandboxState> {
  const dataDir = ensureDataDir(opts.dataDir);
  const before = readSandboxState(dataDir);
  if (before?.pid && (await sandboxAnswers(dataDir, before))) {
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `a sandbox is already running for ${dataDir} at ${before.urls.base} (pid ${before.pid})`,
    );
  }
  const logPath = sandboxPath(dataDir, 'log_output');
  const out = openAppendOnly(logPath, {
    what: 'sandbox log',
    mode: 0o600,
    code: 'SANDBOX_ERROR',
    check: 'sandbox',
  });
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--data-dir',
      dataDir,
      '--port',
      String(opts.port ?? 0),
      '--witnesses',
      String(opts.witnesses ?? 0),
    ],
    {
      detached: true,
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  // Set by the exit callback: a holder, so the loop below reads it afresh each time.
  const exit: { code: number | null } = { code: null };
  child.once('exit', (code) => {
    exit.code = code ?? 1;
  });
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  // An exit is looked for once more after the last wait, so one at the deadline is reported
  // as the exit it is.
  for (;;) {
    if (exit.code !== null)
      fail(
        'SANDBOX_ERROR',
        'sandbox',
        `the sandbox exited with status ${exit.code} during start-up; see ${logPath}`,
      );
    if (Date.now() >= deadline) break;
    const state = readSandboxState(dataDir);
    if (state && state.pid === child.pid) {
      const r = await proveSandbox(dataDir, state);
      if (r.kind === 'proven' && r.pid === child.pid) {
        child.unref();
        return state;
      }
    }
    await sleep(100);
  }
  // Our own child: its pid comes from spawn, not from a file. It may exit between the last
  // look and here; then there is nothing to stop, and that is no error of its own.
  try {
    if (child.pid) process.kill(child.pid, 'SIGTERM');
  } catch {
    // exited just now
  }
  return fail(
    'SANDBOX_ERROR',
    'sandbox',
    `the sandbox did not answer within ${opts.waitMs ?? 15_000} ms; see ${logPath}`,
  );
}

export interface StopResult {
  stopped: boolean;
  pid: number | null;
  url: string | undefined;
  message: string;
}

export async function stopSandbox(opts: { dataDir: string; waitMs?: number }): Promise<StopResult> {
  const dataDir = resolve(opts.dataDir);
  const waitMs = opts.waitMs ?? 10_000;
  const state = readSandboxState(dataDir);
  if (!state) fail('SANDBOX_ERROR', 'sandbox', `no sandbox state in ${opts.dataDir}`);
  if (state.pid === null)
    return { stopped: false, pid: null, url: state.urls.base, message: 'sandbox is not running' };
  const base = state.urls.base;
  if (!isLoopbackUrl(base)) {
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `sandbox state ${sandboxPath(dataDir, 'state')} names ${quoted(base)}, which is not a loopback URL: the sandbox only listens on 127.0.0.1; refusing to contact it or to signal pid ${state.pid}`,
    );
  }
  const hello = await proveSandbox(dataDir, state);

  if (hello.kind === 'unproven') {
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `the server at ${base} did not prove it is the sandbox of ${dataDir} (no valid proof of its control key); pid ${state.pid} not signalled`,
    );
  }

  if (hello.kind === 'silent') {
    // Nothing answers. Signal the recorded pid only if the kernel says it is our sandbox main
    // for this data directory (a hung one); otherwise the record is just stale.
    if (isSandboxMain(state.pid, dataDir)) {
      signal(state.pid);
      await waitForExit(state.pid, waitMs);
      clearPid(dataDir, state.pid);
      return {
        stopped: true,
        pid: state.pid,
        url: base,
        message: `stopped unresponsive sandbox pid ${state.pid} (its command line is this data directory's sandbox)`,
      };
    }
    clearPid(dataDir, state.pid);
    return {
      stopped: false,
      pid: state.pid,
      url: base,
      message: `sandbox at ${base} is not answering; marked stopped (pid ${state.pid} not signalled)`,
    };
  }

  // Proven: the pid is the server's own word, and it stops itself on our authenticated request.
  const pid = hello.pid;
  const key = readControlKey(dataDir)!;
  if (!(await requestStop(base, key, hello.serverNonce))) {
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `the sandbox at ${base} (pid ${pid}) did not accept the stop request`,
    );
  }
  if (pid === process.pid) {
    // A sandbox running in this process (library use): it has closed its server; wait for that.
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && (await sandboxAnswers(dataDir, state, 500))) await sleep(50);
  } else if (!(await waitForExit(pid, waitMs))) {
    // It accepted the stop but did not exit. Signal it only if the kernel also says it is our
    // sandbox main: the proof came from whoever holds the key, and the pid is its word.
    if (!isSandboxMain(pid, dataDir))
      fail(
        'SANDBOX_ERROR',
        'sandbox',
        `sandbox pid ${pid} accepted the stop request but did not exit within ${waitMs} ms; not signalled`,
      );
    signal(pid);
    if (!(await waitForExit(pid, waitMs)))
      fail('SANDBOX_ERROR', 'sandbox', `sandbox pid ${pid} did not stop within ${2 * waitMs} ms`);
  }
  clearPid(dataDir, state.pid);
  return { stopped: true, pid, url: base, message: `stopped sandbox pid ${pid}` };
}

function clearPid(dataDir: string, pid: number): void {
  const after = readSandboxState(dataDir);
  if (after && after.pid === pid) writeSandboxState(dataDir, { ...after, pid: null });
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH')
      fail(
        'SANDBOX_ERROR',
        'sandbox',
        `cannot signal sandbox pid ${pid}: ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
  }
}

async function waitForExit(pid: number, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (!processRuns(pid)) return true;
    await sleep(50);
  }
  return !processRuns(pid);
}

/**
 * Is `pid` this installation's sandbox main (./main.js) serving `dataDir`, by the kernel's
 * account (/proc/<pid>/cmdline)? False wherever that cannot be read.
 */
export function isSandboxMain(pid: number, dataDir: string): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  let args: string[];
  try {
    args = Buffer.from(
      readFileBounded(`/proc/${pid}/cmdline`, {
        what: 'process command line',
        maxBytes: 64 * 1024,
      }),
    )
      .toString('utf8')
      .split('\0');
  } catch {
    return false;
  }
  const i = args.indexOf('--data-dir');
  return args[1] === MAIN && i > 1 && args[i + 1] === resolve(dataDir);
}

/**
 * `stella sandbox fork`: make a running sandbox's log present a second history from now on
 * (drop its entries from `at` on, default the last one; new entries follow the fork). Only
 * after the server proved it holds this data directory's control key, and with a MAC over
 * which log and where.
 */
export async function forkSandboxLog(opts: {
  dataDir: string;
  log: 'v1' | 'v2';
  at?: number | undefined;
}): Promise<{ log: string; from: number; to: number }> {
  const dataDir = resolve(opts.dataDir);
  const state = readSandboxState(dataDir);
  if (!state || state.pid === null)
    fail('SANDBOX_ERROR', 'sandbox', `no running sandbox for ${opts.dataDir}`);
  if (!isLoopbackUrl(state.urls.base))
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `sandbox state names ${quoted(state.urls.base)}, which is not a loopback URL; refusing to contact it`,
    );
  const hello = await proveSandbox(dataDir, state);
  if (hello.kind !== 'proven')
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `the sandbox at ${state.urls.base} did not prove it is the sandbox of ${dataDir}`,
    );
  const r = await requestFork(
    state.urls.base,
    readControlKey(dataDir)!,
    hello.serverNonce,
    opts.log,
    opts.at === undefined ? '' : String(opts.at),
  );
  const j = r.json as
    { log?: unknown; from?: unknown; to?: unknown; message?: unknown } | undefined;
  if (r.status !== 200 || typeof j?.from !== 'number' || typeof j.to !== 'number') {
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `the sandbox refused the fork: HTTP ${r.status}${typeof j?.message === 'string' ? `: ${j.message}` : ''}`,
    );
  }
  return { log: opts.log, from: j.from, to: j.to };
}
