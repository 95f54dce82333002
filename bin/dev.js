#!/usr/bin/env node
// CommonJS (bin/package.json). Development entry: every command through oclif, with its
// development settings, from the modules of dist/src, `attest verify` included (bin/run.js
// runs that one from the verify bundle). Rebuilds nothing.
'use strict';
import('@oclif/core').then(({ execute }) =>
  execute({ development: true, dir: require('node:path').join(__dirname, '..') }),
);
