/**
 * Child processes told to start at the same moment, for races: each is spawned, says "ready"
 * on stdout once it has loaded, and is sent "go" on stdin only when all have said it, so all
 * reach the code under test within a fraction of a millisecond of one another rather than
 * spread over their start-up times.
 */
import { spawn } from 'node:child_process';

export interface TogetherResult {
  code: number | null;
  /** What it wrote to stdout after its "ready" line, trimmed. */
  said: string;
}

/** Runs `node ...argv` for each argv, all at once; the results in the order given. */
export async function runTogether(
  argvs: readonly (readonly string[])[],
): Promise<TogetherResult[]> {
  const children = argvs.map((argv) => {
    const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const ready = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.startsWith('ready\n')) resolve();
      }),
    );
    // 'close', not 'exit': a process can exit before its last stdout chunk has been read.
    const exit = new Promise<TogetherResult>((resolve) =>
      child.on('close', (code) => resolve({ code, said: out.replace(/^ready\n/, '').trim() })),
    );
    return { child, ready, exit };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.end('go\n');
  return Promise.all(children.map((c) => c.exit));
}
