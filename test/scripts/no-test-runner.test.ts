/**
 * The npm scripts (`npm run demo`, `samples`, `mutate`, the bundler) run under plain node, and
 * ava refuses to load outside its CLI ("Test files must be run with the AVA CLI"). They may
 * share helpers with the tests, so this walks each script's static imports, through
 * test/helpers too, and fails on any path that reaches 'ava'.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/paths.js';

const SCRIPTS = ['demo.ts', 'make-samples.ts', 'mutate.ts', 'bundle-verify.ts'];
const IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** The chain of files from `file` to a module importing 'ava', or undefined. */
function chainToAva(file: string, seen = new Set<string>()): string[] | undefined {
  if (seen.has(file)) return undefined;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1]!;
    if (spec === 'ava' || spec.startsWith('ava/')) return [file];
    if (!spec.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
    if (!existsSync(target)) continue;
    const rest = chainToAva(target, seen);
    if (rest) return [file, ...rest];
  }
  return undefined;
}

test('npm scripts never load ava (through shared test helpers or otherwise)', (t) => {
  for (const s of SCRIPTS) {
    const chain = chainToAva(path.join(PROJECT_ROOT, 'scripts', s));
    t.is(
      chain,
      undefined,
      `${s} reaches ava: ${chain?.map((f) => path.relative(PROJECT_ROOT, f)).join(' -> ')}`,
    );
  }
});

test('the walk finds ava through a helper: a script importing the registry hooks is caught', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-no-ava-'));
  try {
    const script = path.join(dir, 'script.ts');
    const hooks = path.join(PROJECT_ROOT, 'test', 'helpers', 'registry-hooks.js');
    writeFileSync(
      script,
      `import { withSandboxAndRegistry } from '${path.relative(dir, hooks)}';\n`,
    );
    const chain = chainToAva(script);
    t.deepEqual(
      chain?.map((f) => path.basename(f)),
      ['script.ts', 'registry-hooks.ts'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
