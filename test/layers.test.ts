/**
 * Layers that run one way. Every import between src/ folders must go down this table (a unit
 * may import units of a lower rank, never its own rank's neighbours or anything above). The
 * table is the design: change it here, in the README's Design section, and nowhere else.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './helpers/paths.js';

/** Rank of each unit: a src/ folder, trust/store and trust/rotation, or a file at src/'s top. */
export const LAYERS: Record<string, number> = {
  errors: 0,
  util: 1,
  crypto: 2,
  model: 2,
  der: 2,
  'crypto-prehash': 3,
  x509: 3,
  bundle: 3,
  trust: 3,
  tlog: 4,
  timestamp: 4,
  verify: 5,
  archive: 5,
  store: 5,
  oci: 5,
  sign: 6,
  'trust/store': 6,
  shipment: 6,
  'trust/rotation': 7,
  sandbox: 7,
  commands: 8,
  index: 9,
};

export function unitOf(srcRelative: string): string {
  const parts = srcRelative.split('/');
  if (parts.length === 1) return parts[0]!.replace(/\.[jt]s$/, '');
  if (parts[0] === 'trust' && parts.length > 2) return `trust/${parts[1]}`;
  return parts[0]!;
}

/** Relative imports (static, re-exports and dynamic `import()`) of one source text. */
export function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)].map(
    (m) => m[1]!,
  );
}

/** Every import that runs against the table, as "from -> to (file)". */
export function layerViolations(files: { path: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const from = unitOf(f.path);
    for (const spec of importsOf(f.text)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(f.path), spec));
      if (target.startsWith('..')) continue;
      const to = unitOf(target);
      if (to === from) continue;
      const rf = LAYERS[from],
        rt = LAYERS[to];
      if (rf === undefined || rt === undefined)
        out.push(`${f.path}: unit ${rf === undefined ? from : to} has no layer in the table`);
      else if (rt >= rf) out.push(`${from} (${rf}) -> ${to} (${rt}): ${f.path} imports ${spec}`);
    }
  }
  return out;
}

function sourceFiles(dir: string, base = dir): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full, base);
    return e.name.endsWith('.ts')
      ? [
          {
            path: path.relative(base, full).split(path.sep).join('/'),
            text: readFileSync(full, 'utf8'),
          },
        ]
      : [];
  });
}

test('every import in src/ runs down the layer table', (t) => {
  const files = sourceFiles(path.join(PROJECT_ROOT, 'src'));
  t.true(files.length > 100);
  t.deepEqual(layerViolations(files), []);
});

test('the layer check catches imports that run up or sideways, static and dynamic', (t) => {
  t.deepEqual(
    layerViolations([
      { path: 'verify/pipeline.ts', text: "import { x } from '../commands/attest/verify-run.js';" },
      { path: 'x509/chain.ts', text: "const m = await import('../trust/store/index.js');" },
      { path: 'archive/export.ts', text: "export { y } from '../verify/identity.js';" },
      { path: 'trust/store/db.ts', text: "import '../rotation/apply.js';" },
      { path: 'tlog/merkle.ts', text: "import { z } from '../timestamp/rfc3161.js';" },
      {
        path: 'util/fs.ts',
        text: "import { q } from './json.js';\nimport { e } from '../errors.js';",
      },
    ]),
    [
      'verify (5) -> commands (8): verify/pipeline.ts imports ../commands/attest/verify-run.js',
      'x509 (3) -> trust/store (6): x509/chain.ts imports ../trust/store/index.js',
      'archive (5) -> verify (5): archive/export.ts imports ../verify/identity.js',
      'trust/store (6) -> trust/rotation (7): trust/store/db.ts imports ../rotation/apply.js',
      'tlog (4) -> timestamp (4): tlog/merkle.ts imports ../timestamp/rfc3161.js',
    ],
  );
  t.deepEqual(layerViolations([{ path: 'newfolder/a.ts', text: "import '../util/fs.js';" }]), [
    'newfolder/a.ts: unit newfolder has no layer in the table',
  ]);
});
