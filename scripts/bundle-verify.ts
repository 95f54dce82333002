/**
 * Part of `npm run build` (after tsc): bundles the `stella attest verify` fast path
 * (dist/src/commands/attest/verify-fast.js and everything it imports) into
 * dist/verify-fast/, which bin/run.js loads. One file instead of dozens of ES modules to
 * resolve and link at start-up (see README "Speed"). What the path loads lazily (trust store,
 * archives, OCI, digest-only verification) becomes chunks of the same bundle, so every module
 * exists once per process (one StellaError class, one log level). Native or optional modules
 * stay external: better-sqlite3, cbor-x (native cbor-extract).
 *
 * A module that finds files next to itself (`new URL(..., import.meta.url)`) gets its original
 * location as import.meta.url, so the public-good root and the shipment worker resolve as they
 * do unbundled. inputs.json lists every bundled file of dist/src with its SHA-256: the
 * bundle test recomputes them, so a bundle older than the compiled sources fails a test
 * instead of running silently.
 */
import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
const VERIFY_BUNDLE_DIR = path.join(ROOT, 'dist', 'verify-fast');
const ENTRY = path.join(ROOT, 'dist', 'src', 'commands', 'attest', 'verify-fast.js');
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
          `new URL(${JSON.stringify(rel)}, import.meta.url).href`,
        ),
        loader: 'js',
      };
    });
  },
};

const result = await build({
  entryPoints: { 'verify-fast': ENTRY },
  outdir: VERIFY_BUNDLE_DIR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // CommonJS dependencies bundled into ESM still call require() for node: built-ins.
  banner: {
    js: "import { createRequire as __stellaRequire } from 'node:module'; const require = __stellaRequire(import.meta.url);",
  },
  plugins: [keepModuleUrls],
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: ROOT,
});

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
