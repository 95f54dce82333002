/**
 * Which test files reach a source file on their own, for `npm run mutate` (scripts/mutate.ts).
 * A test reaches a file when it imports it, or runs through the CLI the command the file is or
 * a command that imports it. Stop 46 found two survivors whose killing tests reached their file
 * in exactly these ways but were not run for it: the hand-written RELATED map had missed them.
 * Pure: the caller passes the texts, so a test can pass its own.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The `.ts` files (not `.d.ts`) under `dir` of the project at `root`, as project-relative paths, sorted. */
export function tsFilesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(path.join(root, d)).sort()) {
      const f = `${d}/${name}`;
      if (statSync(path.join(root, f)).isDirectory()) walk(f);
      else if (f.endsWith('.ts') && !f.endsWith('.d.ts')) out.push(f);
    }
  };
  walk(dir);
  return out;
}

/**
 * The project's texts reachingTests reads: every `test/**\/*.test.ts` file, and every `src/`
 * file. Left out of the tests: helpers (they build inputs) and the tests of these scripts
 * (test-reach's own tests quote imports and argv as data).
 */
export function projectTexts(root: string): {
  tests: Map<string, string>;
  sources: Map<string, string>;
} {
  const read = (files: string[]) =>
    new Map(files.map((f) => [f, readFileSync(path.join(root, f), 'utf8')] as const));
  return {
    tests: read(
      tsFilesUnder(root, 'test').filter(
        (f) => f.endsWith('.test.ts') && !f.startsWith('test/scripts/'),
      ),
    ),
    sources: read(tsFilesUnder(root, 'src')),
  };
}

/**
 * The project files a TypeScript file imports by relative path (`../x.js` → `src/x.ts`),
 * statically or with `await import('./x.js')`: `attest verify` loads its run code that way,
 * and stop 59 found a file whose killing tests were missed because the dynamic import was.
 */
export function importsOf(from: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)'(\.{1,2}\/[^']+)'/g))
    out.push(path.posix.join(path.posix.dirname(from), m[1]!).replace(/\.js$/, '.ts'));
  return out;
}

/**
 * The test files that name a command's words in order as string literals, the way argv is
 * written: `src/commands/trust/keys/add.ts` is run by a test that says `'trust', 'keys', 'add'`
 * (over line breaks too). Topic index files are not commands.
 */
export function commandCallers(command: string, tests: ReadonlyMap<string, string>): string[] {
  const words = /^src\/commands\/(.+)\.ts$/.exec(command)?.[1]?.split('/');
  if (!words || words.at(-1) === 'index') return [];
  const said = new RegExp(words.map((w) => `'${w}'`).join(',\\s*'));
  return [...tests].filter(([, text]) => said.test(text)).map(([t]) => t);
}

/**
 * The test files (keys of `tests`, project-relative paths to their texts) that reach `file`:
 * its importers, its command's callers, and, for a file under src/commands, the callers of each
 * command in `sources` that imports it. Sorted, each once.
 */
export function reachingTests(
  file: string,
  tests: ReadonlyMap<string, string>,
  sources: ReadonlyMap<string, string>,
): string[] {
  const out = new Set(
    [...tests].filter(([t, text]) => importsOf(t, text).includes(file)).map(([t]) => t),
  );
  for (const t of commandCallers(file, tests)) out.add(t);
  if (file.startsWith('src/commands/')) {
    for (const [command, text] of sources)
      if (command.startsWith('src/commands/') && importsOf(command, text).includes(file))
        for (const t of commandCallers(command, tests)) out.add(t);
  }
  return [...out].sort();
}

/**
 * For a file under src/commands: the test files that run a command importing it through any
 * chain of other src/commands files (`attest verify` → verify-execute → verify-run →
 * shipment-run). Wider than reachingTests, which follows one step: for a helper deep in a
 * command these are dozens of CLI tests, too many to run for every mutant, so the mutation
 * harness runs them only to take a second look at its survivors. Sorted, each once; empty for
 * a file outside src/commands.
 */
export function commandReach(
  file: string,
  tests: ReadonlyMap<string, string>,
  sources: ReadonlyMap<string, string>,
): string[] {
  if (!file.startsWith('src/commands/')) return [];
  const commandSources = [...sources].filter(([f]) => f.startsWith('src/commands/'));
  const reached = new Set([file]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [importer, text] of commandSources)
      if (!reached.has(importer) && importsOf(importer, text).some((f) => reached.has(f))) {
        reached.add(importer);
        grew = true;
      }
  }
  return [...new Set([...reached].flatMap((f) => commandCallers(f, tests)))].sort();
}

/**
 * The test file, of the compiled `files` one ava run was given, that wrote `failureLine` ("✘
 * [fail]: commands › attest › sign-preflight › title message"). ava prefixes a title with its
 * file's path under `test/`, without `.test.js` and with ` › ` for `/`, when it runs more than
 * one file, and with nothing when it runs one. The title and the assertion's message run on
 * after the prefix with no mark between them (stop 60's second look named a killer ending in a
 * stray "{", the first line of a message), so the file is what can be named exactly, and it is
 * what RELATED needs. Undefined when no file's prefix matches.
 */
export function failedTestFile(failureLine: string, files: readonly string[]): string | undefined {
  const title = failureLine.trim().replace(/^✘\s*(\[fail\]:\s*)?/, '');
  if (files.length === 1) return files[0];
  const prefixOf = (f: string): string =>
    `${f
      .replace(/^(dist\/)?test\//, '')
      .replace(/\.test\.[jt]s$/, '')
      .split('/')
      .join(' › ')} › `;
  // The longest prefix wins: `a › b ›` must not be taken for `a › b › c ›`.
  return files
    .filter((f) => title.startsWith(prefixOf(f)))
    .sort((a, b) => prefixOf(b).length - prefixOf(a).length)[0];
}
