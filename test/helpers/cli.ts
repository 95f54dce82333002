/** Run the real CLI (bin/run.js) as a child process. */
import { execFile } from 'node:child_process';
import { CLI, PROJECT_ROOT } from './paths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** At most this many CLI children at once: the suite spawns one per conformance case. */
const MAX_CHILDREN = 4;
let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CHILDREN) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  nodeArgs?: string[];
  cwd?: string;
  input?: string;
  /** Kill the child after this long (code -1): for inputs that could hang a broken CLI. */
  timeoutMs?: number;
  /** Another copy of bin/run.js to run (default: the project's). */
  bin?: string;
}

/**
 * This process's environment without cosign's trust variables and the ambient token sources a
 * CI host may have set: a developer who uses cosign may have SIGSTORE_ROOT_FILE set, which the
 * CLI warns of (trust-selection.ts), and a Buildkite agent running the tests would give every
 * signing test a token. A test that wants one sets it in `opts.env`.
 */
function hostEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !name.startsWith('SIGSTORE_') &&
        name !== 'TUF_MIRROR' &&
        name !== 'BUILDKITE_AGENT_ACCESS_TOKEN',
    ),
  );
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return slot(() => spawnCli(args, opts));
}

function spawnCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...(opts.nodeArgs ?? []), opts.bin ?? CLI, ...args],
      {
        cwd: opts.cwd ?? PROJECT_ROOT,
        env: { ...hostEnv(), NO_COLOR: '1', ...opts.env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 0,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        if (err && (err as { killed?: boolean }).killed) {
          resolve({ code: -1, stdout, stderr: `${stderr}\n(killed after ${opts.timeoutMs} ms)` });
          return;
        }
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
    // No input: standard input ends at once, as from /dev/null (a pipe left open would hang a
    // command that reads it, as a cosign key's password is read when nothing else gives one).
    child.stdin?.end(opts.input);
  });
}

/** What a usage error prints on stderr without --json (src/commands/render.ts). */
export const usageStderr = (message: string): string =>
  `error: ${message}\nSee more help with --help\n`;

/** What a usage error prints on stdout with --json: `extra` holds its details, if any. */
export const usageJson = (message: string, extra: object = {}) => ({
  ok: false,
  error: { code: 'USAGE_ERROR', check: 'input', message, exitCode: 2, ...extra },
});
