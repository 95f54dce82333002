#!/usr/bin/env node
// CommonJS (bin/package.json), so that start-up does not begin Node's ES module loader.
//
// `stella attest verify` runs in CI jobs one process at a time, so its start-up counts: it
// goes through a launcher that parses the same flags without loading oclif, bundled by
// `npm run build` into one file compiled from a V8 code cache (./verify-bundle.js).
// Everything else (and `attest verify --help`) is served by oclif.
'use strict';
const argv = process.argv.slice(2);
if (
  argv[0] === 'attest' &&
  argv[1] === 'verify' &&
  !argv.some((a) => a === '--help' || a === '-h')
) {
  const bundle = require('./verify-bundle.js').loadVerifyBundle();
  bundle.exports.runVerifyFast(argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
} else {
  import('@oclif/core').then(({ execute }) =>
    // The project root: bin/ has a package.json of its own, which oclif must not take for it.
    execute({ dir: require('node:path').join(__dirname, '..') }),
  );
}
