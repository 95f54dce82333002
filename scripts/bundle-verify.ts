/**
 * Part of `npm run build` (after tsc): bundles the `stella attest verify` fast path
 * (dist/src/commands/attest/verify-fast.js and everything it imports) into one CommonJS file,
 * dist/verify-fast/verify-fast.cjs, which bin/run.js loads through bin/verify-bundle.js (see
 * README "Speed"). Then it records a V8 code cache for that file from verifications of two
 * samples (a Rekor v1 and a Rekor v2 bundle) through the same loader.
 *
 * Why CommonJS and one file: start-up is what a CI job pays per `attest verify`. A CommonJS
 * entry does not start Node's ES module loader (about 13 ms of the ~130 ms `node -e 0` takes
 * here), and only a classic script can be compiled from a code cache in Node 20 (`vm.Script`
 * `cachedData`; ES modules cannot until Node 22's module compile cache), which skips parsing
 * and compiling the functions the run needs. The file is one function expression with the
 * CommonJS wrapper's parameters, so it is compiled as it is (no string concatenation).
 * Everything the path loads lazily (trust store, archives, OCI) is in the same file, so every
 * module exists once per process (one StellaError class, one log level); it is only compiled
 * when first called. Native or optional modules stay external: better-sqlite3, cbor-x.
 *
 * A module that finds files next to itself (`new URL(..., import.meta.url)`) gets its original
 * location, so the public-good root and the shipment worker resolve as they do unbundled.
 * inputs.json lists every bundled file of dist/src with its SHA-256: the bundle test
 * recomputes them, so a bundle older than the compiled sources fails a test instead of running
 * silently. The code cache starts with the SHA-256 of the bundle it was made from; the loader
 * ignores a cache made from other bytes, and V8 itself rejects one from another V8 version or
 * flags, so a stale cache only costs speed.
 */
import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SAMPLES_TRUSTED_ROOT, verifySampleArgs } from '../test/helpers/samples.js';

const ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
const VERIFY_BUNDLE_DIR = path.join(ROOT, 'dist', 'verify-fast');
const ENTRY = path.join(ROOT, 'dist', 'src', 'commands', 'attest', 'verify-fast.js');
const BUNDLE_FILE = path.join(VERIFY_BUNDLE_DIR, 'verify-fast.cjs');
const EXTERNAL = ['better-sqlite3', 'cbor-x', 'cbor-extract'];

/** Gives each module of dist/src that reads import.meta.url the URL it has unbundled. */
const keepModuleUrls: Plugin = {
  name: 'keep-module-urls',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = path.relative(VERIFY_BUNDLE_DIR, args.path).split(path.sep).join('/');
      return {
        contents: text.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(rel)}, __stellaBundleUrl()).href`,
        ),
        loader: 'js',
      };
    });
  },
};

rmSync(VERIFY_BUNDLE_DIR, { recursive: true, force: true });
const result = await build({
  entryPoints: [ENTRY],
  outfile: BUNDLE_FILE,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // One function expression taking CommonJS's wrapper parameters (see the module comment).
  banner: {
    // The bundle's own file URL, made on first use: pathToFileURL costs a cold process about
    // a millisecond, and the verification of one bundle never asks for it.
    js: "(function (exports, require, module, __filename, __dirname) {'use strict';let __stellaBundleHref;const __stellaBundleUrl = () => (__stellaBundleHref ??= require('node:url').pathToFileURL(__filename).href);",
  },
  footer: { js: '})' },
  // Less to read and hash at every start; names are kept for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [keepModuleUrls],
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: ROOT,
});

// bin/verify-bundle.js decodes the bundle as latin1, which is exact only for ASCII.
if (/[^\x00-\x7f]/.test(readFileSync(BUNDLE_FILE, 'latin1')))
  throw new Error(`${BUNDLE_FILE} is not ASCII: bin/verify-bundle.js would decode it wrongly`);

const inputs: Record<string, string> = {};
for (const file of Object.keys(result.metafile.inputs).sort()) {
  const abs = path.resolve(ROOT, file);
  if (!abs.startsWith(path.join(ROOT, 'dist', 'src') + path.sep)) continue;
  inputs[path.relative(ROOT, abs).split(path.sep).join('/')] = createHash('sha256')
    .update(readFileSync(abs))
    .digest('hex');
}
writeFileSync(path.join(VERIFY_BUNDLE_DIR, 'inputs.json'), JSON.stringify(inputs, null, 1) + '\n');
console.log(
  `bundled the verify fast path: ${Object.keys(inputs).length} modules of dist/src into ${pathToFileURL(VERIFY_BUNDLE_DIR).pathname}`,
);

// The code cache: verifications of the samples through the loader bin/run.js uses, in a fresh
// `node` with no flags (as bin/run.js runs, so the V8 flags match), which then writes the cache
// of everything the runs compiled. Two samples, one of each kind of log Sigstore runs: the blob
// (Rekor v1: signed entry timestamp, ECDSA checkpoint) and rekor-v2 (RFC 3161 timestamp,
// Ed25519 checkpoint, v0.0.2 entry), so that neither kind compiles its steps at start-up.
// Identities escaped (literals), as the tests verify them; runVerifyFast takes what follows
// `attest verify`. Measured (README "Speed"), in CPU profiles and phase by phase:
// - With the blob's cache alone, a Rekor v2 bundle's verification took ~0.8 ms longer.
// - The second verification runs functions the first made warm, and V8's baseline compiler
//   (Sparkplug) compiles warm functions; a cache written after that left out functions both
//   runs use (their compile time showed up at start-up: the blob's ~0.4 ms slower than with its
//   own cache). So the recording runs with Sparkplug off, and turns it back on before writing:
//   V8 stamps the cache with a hash of its flags and rejects a cache whose hash differs, and
//   the hash is taken as the cache is written (a test loads the cache in a fresh node).
// - The DSSE, managed-key and digest-only samples as well: a 19% bigger cache, whose loading
//   took ~0.3 ms longer for every bundle, for ~0.5 ms less verification of a DSSE bundle.
//   Left out.
const warmups = ['blob', 'rekor-v2'].map((name) =>
  verifySampleArgs(name, '--offline', '--trusted-root', SAMPLES_TRUSTED_ROOT).slice(2),
);
const warmupScript = `
const v8 = require('node:v8');
v8.setFlagsFromString('--no-sparkplug');
const bundle = require(${JSON.stringify(path.join(ROOT, 'bin', 'verify-bundle.js'))}).loadVerifyBundle();
(async () => {
  for (const args of ${JSON.stringify(warmups)}) {
    const code = await bundle.exports.runVerifyFast(args);
    if (code !== 0) throw new Error('exit ' + code + ' verifying ' + args[1]);
  }
  v8.setFlagsFromString('--sparkplug');
  bundle.writeCodeCache();
})().catch((e) => { console.error(e); process.exit(1); });
`;
const warm = spawnSync(process.execPath, ['-e', warmupScript], { encoding: 'utf8' });
if (warm.status !== 0)
  throw new Error(
    `the warm-up verification for the code cache failed:\n${warm.stdout}${warm.stderr}`,
  );
console.log(
  `recorded the V8 code cache of the verify bundle (${readFileSync(`${BUNDLE_FILE}.cache`).length} bytes)`,
);
