/**
 * Process control for `stella sandbox up --detach` and `stella sandbox down`. A detached
 * sandbox is a child node process running ./main.js with its output in DIR/sandbox.log;
 * `up` returns once that child answers on its URL. `down` signals the pid recorded in
 * sandbox.json only after the server at the recorded URL proves (X-Stella-Sandbox instance
 * id) that it is that sandbox, so a stale file never kills an unrelated process.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fail } from '../../errors.js';
import { ensureDataDir, readSandboxState, sandboxPath, writeSandboxState, type SandboxState } from './data-dir.js';
import { sandboxAnswers } from './sandbox.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startDetachedSandbox(opts: { dataDir: string; port?: number; waitMs?: number }): Promise<SandboxState> {
  const dataDir = ensureDataDir(opts.dataDir);
  const before = readSandboxState(dataDir);
  if (before?.pid && (await sandboxAnswers(before))) {
    fail('SANDBOX_ERROR', 'sandbox', `a sandbox is already running for ${dataDir} at ${before.urls.base} (pid ${before.pid})`);
  }
  const logPath = sandboxPath(dataDir, 'log_output');
  const out = openSync(logPath, 'a', 0o600);
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(process.execPath, [main, '--data-dir', dataDir, '--port', String(opts.port ?? 0)], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? 1;
  });
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  while (Date.now() < deadline) {
    if (exited !== null) fail('SANDBOX_ERROR', 'sandbox', `the sandbox exited with status ${exited} during start-up; see ${logPath}`);
    const state = readSandboxState(dataDir);
    if (state && state.pid === child.pid && (await sandboxAnswers(state))) {
      child.unref();
      return state;
    }
    await sleep(100);
  }
  if (child.pid) process.kill(child.pid, 'SIGTERM');
  return fail('SANDBOX_ERROR', 'sandbox', `the sandbox did not answer within ${opts.waitMs ?? 15_000} ms; see ${logPath}`);
}

export interface StopResult {
  stopped: boolean;
  pid: number | null;
  url: string | undefined;
  message: string;
}

export async function stopSandbox(opts: { dataDir: string; waitMs?: number }): Promise<StopResult> {
  const state = readSandboxState(opts.dataDir);
  if (!state) fail('SANDBOX_ERROR', 'sandbox', `no sandbox state in ${opts.dataDir}`);
  if (state.pid === null) return { stopped: false, pid: null, url: state.urls.base, message: 'sandbox is not running' };
  if (!(await sandboxAnswers(state))) {
    writeSandboxState(opts.dataDir, { ...state, pid: null });
    return { stopped: false, pid: state.pid, url: state.urls.base, message: `sandbox at ${state.urls.base} is not answering; marked stopped (pid ${state.pid} not signalled)` };
  }
  const pid = state.pid;
  if (pid === process.pid) fail('SANDBOX_ERROR', 'sandbox', 'the sandbox runs in this process; close it with close()');
  try {
    process.kill(pid, 'SIGTERM');
  } catch (e) {
    fail('SANDBOX_ERROR', 'sandbox', `cannot signal sandbox pid ${pid}: ${(e as Error).message}`, undefined, { cause: e });
  }
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  while (Date.now() < deadline) {
    if (!alive(pid)) {
      const after = readSandboxState(opts.dataDir);
      if (after && after.pid === pid) writeSandboxState(opts.dataDir, { ...after, pid: null });
      return { stopped: true, pid, url: state.urls.base, message: `stopped sandbox pid ${pid}` };
    }
    await sleep(50);
  }
  return fail('SANDBOX_ERROR', 'sandbox', `sandbox pid ${pid} did not stop within ${opts.waitMs ?? 10_000} ms`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
