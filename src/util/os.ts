/**
 * The few node:os calls Stella makes, loading node:os on first use: at start-up it costs a
 * cold `stella attest verify` most of a millisecond, and verifying one bundle against a given
 * trusted root never needs a home directory, a temporary directory or a core count.
 */
type NodeOs = typeof import('node:os');

const os = (): NodeOs => process.getBuiltinModule('node:os');

export const homedir = (): string => os().homedir();
export const tmpdir = (): string => os().tmpdir();
export const availableParallelism = (): number => os().availableParallelism();

/** Whether a process with this pid exists (EPERM: it does, and is another user's). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
