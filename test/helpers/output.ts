/** Capturing what in-process code prints (the CLI in a child process has runCli in ./cli.ts). */

export interface CapturedOutput<T> {
  /** What reached stdout and stderr, as bytes: a string written is its UTF-8. */
  stdout: Buffer;
  stderr: Buffer;
  /** What `fn` returned, or what it threw. */
  value?: T;
  thrown?: unknown;
}

/** Run `fn` with this process's stdout and stderr captured: nothing of it reaches the terminal. */
export async function capturedOutput<T>(fn: () => T | Promise<T>): Promise<CapturedOutput<T>> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    ((chunk: string | Uint8Array) => {
      into.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
      return true;
    }) as typeof process.stdout.write;
  const original = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = sink(out);
  process.stderr.write = sink(err);
  const got = (): Pick<CapturedOutput<T>, 'stdout' | 'stderr'> => ({
    stdout: Buffer.concat(out),
    stderr: Buffer.concat(err),
  });
  try {
    const value = await fn();
    return { ...got(), value };
  } catch (thrown) {
    return { ...got(), thrown };
  } finally {
    process.stdout.write = original.stdout;
    process.stderr.write = original.stderr;
  }
}
