// CommonJS (bin/package.json). Loads the `stella attest verify` bundle that `npm run build`
// makes (scripts/bundle-verify.ts): dist/verify-fast/verify-fast.cjs, one function expression
// taking the CommonJS wrapper's parameters, compiled from the V8 code cache recorded next to
// it when that cache was made from these exact bytes (its first 32 bytes are their SHA-256)
// and V8 accepts it (same V8 version and flags). A stale or foreign cache only costs speed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DEFAULT_DIR = path.join(__dirname, '..', 'dist', 'verify-fast');

/**
 * Compiles and runs the bundle in `dir`. Returns its exports, whether V8 compiled it from the
 * code cache, and writeCodeCache() (used by the build after one verification, so the cache
 * holds every function that run compiled).
 */
function loadVerifyBundle(dir = DEFAULT_DIR) {
  const file = path.join(dir, 'verify-fast.cjs');
  const cacheFile = `${file}.cache`;
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    if (e.code === 'ENOENT')
      throw new Error(`the verify bundle ${file} is missing: run \`npm run build\``, { cause: e });
    throw e;
  }
  const sha256 = require('node:crypto').createHash('sha256').update(bytes).digest();
  let cachedData;
  try {
    const cache = fs.readFileSync(cacheFile);
    if (cache.length > 32 && sha256.equals(cache.subarray(0, 32))) cachedData = cache.subarray(32);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  const vm = require('node:vm');
  // The bundle is ASCII (esbuild escapes the rest; the build checks), so latin1 decodes it
  // exactly, and faster than UTF-8.
  const script = new vm.Script(bytes.toString('latin1'), {
    filename: file,
    cachedData,
    // A dynamic import() left in the bundle resolves as it would in any CommonJS module.
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext().call(
    module.exports,
    module.exports,
    // This module's require: it resolves packages from the same node_modules as the bundle's
    // own location would, without loading node:module at start-up.
    require,
    module,
    file,
    dir,
  );
  return {
    exports: module.exports,
    usedCodeCache: cachedData !== undefined && !script.cachedDataRejected,
    writeCodeCache() {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, Buffer.concat([sha256, script.createCachedData()]));
      fs.renameSync(tmp, cacheFile);
    },
  };
}

module.exports = { loadVerifyBundle };
