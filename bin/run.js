#!/usr/bin/env node
// CommonJS (bin/package.json), so that start-up does not begin Node's ES module loader.
//
// `stella attest verify` runs in CI jobs one process at a time, so its start-up counts: it
// goes through a launcher that parses the same flags without loading oclif, bundled by
// `npm run build` into one file compiled from a V8 code cache (./verify-bundle.js).
// Everything else (and `attest verify --help`) is served by oclif.
'use strict';
const argv = process.argv.slice(2);

// A command whose promise can no longer settle (it awaits something that will never happen)
// lets the event loop empty, and Node then exits with status 0 and nothing printed: a
// verifier would pass by stopping. 'beforeExit' is emitted only when the loop empties (never
// on process.exit() or a signal), so reaching it before the command has finished means it
// never will: that is an internal error, exit 1, said as every internal error is.
let finished = false;
const finish = () => {
  finished = true;
};
process.once('beforeExit', () => {
  if (finished) return;
  const message = 'the command stopped before it finished (a bug: please report it)';
  if (argv.includes('--json') || argv.includes('--json-lines'))
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: { code: 'INTERNAL', check: 'internal', message, exitCode: 1 } }, null, 2)}\n`,
    );
  else process.stderr.write(`error: internal: ${message}\n`);
  process.exitCode = 1;
});

// `stella ... | head`: the reader closed the pipe before the command finished writing. Node
// ignores SIGPIPE, so the write fails with EPIPE, which unhandled is a crash with a stack
// trace. Stop as a Unix tool (cosign among them: Go dies of SIGPIPE) stops: silently, the reader
// having asked for no more; but with an exit code of our own, since the shell's SIGPIPE status
// 141 is TSA_REJECTED here: OUTPUT_CLOSED, 3 in src/errors.ts. The command was stopped, not
// finished: 3 is never a pass.
const OUTPUT_CLOSED = 3;
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (!e || e.code !== 'EPIPE') throw e;
    finish();
    process.exit(OUTPUT_CLOSED);
  });

if (
  argv[0] === 'attest' &&
  argv[1] === 'verify' &&
  !argv.some((a) => a === '--help' || a === '-h')
) {
  const bundle = require('./verify-bundle.js').loadVerifyBundle();
  bundle.exports.runVerifyFast(argv.slice(2)).then((code) => {
    finish();
    process.exitCode = code;
  });
} else {
  import('@oclif/core')
    .then(({ execute }) =>
      // The project root: bin/ has a package.json of its own, which oclif must not take for it.
      execute({ dir: require('node:path').join(__dirname, '..') }),
    )
    .finally(finish);
}
