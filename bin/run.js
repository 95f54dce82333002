#!/usr/bin/env node
// `stella attest verify` runs in CI jobs one process at a time, so its start-up counts: it
// goes through a launcher that parses the same flags without loading oclif. Everything else
// (and `attest verify --help`) is served by oclif.
const argv = process.argv.slice(2);
if (
  argv[0] === 'attest' &&
  argv[1] === 'verify' &&
  !argv.some((a) => a === '--help' || a === '-h')
) {
  const { runVerifyFast } = await import('../dist/src/commands/attest/verify-fast.js');
  process.exitCode = await runVerifyFast(argv.slice(2));
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
