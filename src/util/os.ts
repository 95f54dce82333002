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
