#!/usr/bin/env node
// `stella attest verify` runs in CI jobs one process at a time, so its start-up counts: it
// goes through a launcher that parses the same flags without loading oclif, bundled by
// `npm run build` into dist/verify-fast/ (one file to load instead of a hundred modules).
// Everything else (and `attest verify --help`) is served by oclif.
const argv = process.argv.slice(2);
if (
  argv[0] === 'attest' &&
  argv[1] === 'verify' &&
  !argv.some((a) => a === '--help' || a === '-h')
) {
  const dir = new URL('../dist/verify-fast/', import.meta.url);
  let fast;
  try {
    fast = await import(new URL('verify-fast.js', dir).href);
  } catch (e) {
    const { fileURLToPath } = await import('node:url');
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && e.message?.includes(fileURLToPath(dir)))
      throw new Error(
        `the verify bundle in ${fileURLToPath(dir)} is incomplete: run \`npm run build\``,
        {
          cause: e,
        },
      );
    throw e;
  }
  process.exitCode = await fast.runVerifyFast(argv.slice(2));
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
