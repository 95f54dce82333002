/**
 * scripts/test-reach.ts: which test files `npm run mutate` also runs for a source file. On small
 * texts of our own, then on the project itself for the two stop-46 gaps it exists for.
 */
import test from 'ava';
import {
  commandCallers,
  commandReach,
  failedTestFile,
  importsOf,
  projectTexts,
  reachingTests,
} from '../../scripts/test-reach.js';
import { PROJECT_ROOT } from '../helpers/paths.js';

test('importsOf: relative imports and re-exports as project .ts paths; packages left out', (t) => {
  const text = [
    "import test from 'ava';",
    "import { a } from '../../src/verify/chain.js';",
    "import type { B } from '../helpers/b.js';",
    'import {',
    '  c,',
    '  d,',
    "} from './sibling.js';",
    "export { e } from '../../src/util/e.js';",
    "import { f } from 'node:fs';",
    "const { g } = await import('../../src/commands/g.js');",
    "const h = await import( './h.js' );",
    "const i = await import('node:os');",
  ].join('\n');
  t.deepEqual(importsOf('test/verify/x.test.ts', text), [
    'src/verify/chain.ts',
    'test/helpers/b.ts',
    'test/verify/sibling.ts',
    'src/util/e.ts',
    'src/commands/g.ts',
    'test/verify/h.ts',
  ]);
});

test("commandCallers: a command's words in order, over line breaks; not another order, not an index", (t) => {
  const tests = new Map([
    ['test/a.test.ts', "runCli(['trust', 'keys', 'add', '--role', 'exporter'])"],
    ['test/b.test.ts', "const argv = [\n  'trust',\n  'keys',\n  'add',\n];"],
    ['test/c.test.ts', "runCli(['keys', 'trust', 'add'])"],
    ['test/d.test.ts', "runCli(['trust', 'keys', 'list'])"],
    ['test/e.test.ts', 'runCli(["trust", "keys", "add"])'],
  ]);
  t.deepEqual(commandCallers('src/commands/trust/keys/add.ts', tests), [
    'test/a.test.ts',
    'test/b.test.ts',
  ]);
  t.deepEqual(commandCallers('src/commands/trust/index.ts', tests), []);
  t.deepEqual(commandCallers('src/verify/chain.ts', tests), []);
});

test('reachingTests: importers, callers of the command, and callers of the commands that import it', (t) => {
  const tests = new Map([
    ['test/commands/attest/z.test.ts', "runCli(['attest', 'export-bundle'])"],
    [
      'test/commands/attest/run.test.ts',
      "import { run } from '../../../src/commands/attest/run.js';",
    ],
    ['test/commands/attest/sign.test.ts', "runCli(['attest', 'sign'])"],
    ['test/other.test.ts', "import { x } from '../src/other.js';"],
  ]);
  const sources = new Map([
    ['src/commands/attest/export-bundle.ts', "import { run } from './run.js';"],
    ['src/commands/attest/sign.ts', "import { other } from '../../other.js';"],
    ['src/verify/uses-run.ts', "import { run } from '../commands/attest/run.js';"],
  ]);
  t.deepEqual(reachingTests('src/commands/attest/run.ts', tests, sources), [
    'test/commands/attest/run.test.ts',
    'test/commands/attest/z.test.ts',
  ]);
  t.deepEqual(reachingTests('src/commands/attest/export-bundle.ts', tests, sources), [
    'test/commands/attest/z.test.ts',
  ]);
  // Outside src/commands only importers count: a command importing src/other.ts does not make
  // every CLI test of that command a test of it.
  t.deepEqual(reachingTests('src/other.ts', tests, sources), ['test/other.test.ts']);
  t.deepEqual(reachingTests('src/nothing.ts', tests, sources), []);
});

test('commandReach: callers of every command reaching the file through src/commands files, any number of steps', (t) => {
  const tests = new Map([
    ['test/a.test.ts', "runCli(['attest', 'verify', '--archive', 'x.tar'])"],
    ['test/b.test.ts', "runCli(['attest', 'import', 'x.tar'])"],
    ['test/c.test.ts', "runCli(['attest', 'sign'])"],
    ['test/d.test.ts', "import { run } from '../src/commands/attest/deep.js';"],
  ]);
  const sources = new Map([
    ['src/commands/attest/verify.ts', "const { x } = await import('./verify-execute.js');"],
    ['src/commands/attest/verify-execute.ts', "import { y } from './verify-run.js';"],
    ['src/commands/attest/verify-run.ts', "import { z } from './deep.js';"],
    ['src/commands/attest/import.ts', "import { z } from './deep.js';"],
    ['src/commands/attest/sign.ts', "import { other } from '../../other.js';"],
    ['src/commands/attest/deep.ts', "import { w } from '../../verify/w.js';"],
    // Outside src/commands an importer is not followed: src/verify/w.ts is no command's step.
    ['src/verify/uses-deep.ts', "import { z } from '../commands/attest/deep.js';"],
  ]);
  t.deepEqual(commandReach('src/commands/attest/deep.ts', tests, sources), [
    'test/a.test.ts',
    'test/b.test.ts',
  ]);
  // reachingTests follows one step: the importer test and `attest import`, not `attest verify`.
  t.deepEqual(reachingTests('src/commands/attest/deep.ts', tests, sources), [
    'test/b.test.ts',
    'test/d.test.ts',
  ]);
  t.deepEqual(commandReach('src/commands/attest/verify.ts', tests, sources), ['test/a.test.ts']);
  t.deepEqual(commandReach('src/verify/w.ts', tests, sources), []);
});

test("the project: the two stop-46 gaps are reached, and a file's mirror test reaches it", (t) => {
  const { tests, sources } = projectTexts(PROJECT_ROOT);
  // Helpers and these scripts' own tests are not read as tests.
  t.false(
    [...tests.keys()].some((f) => f.startsWith('test/helpers/') || f.startsWith('test/scripts/')),
  );
  t.true(sources.has('src/verify/signing-key.ts'));
  const reach = (f: string) => reachingTests(f, tests, sources);
  // The Rekor v2 signing tests import sign-run.ts; the registry tests run `attest export-bundle`,
  // which imports export-bundle-run.ts.
  t.true(reach('src/commands/attest/sign-run.ts').includes('test/sign/rekor-v2.test.ts'));
  t.true(
    reach('src/commands/attest/export-bundle-run.ts').includes(
      'test/commands/attest/registry.test.ts',
    ),
  );
  t.true(reach('src/verify/signing-key.ts').includes('test/verify/signing-key.test.ts'));
  // Stop 59: the tests holding three survivors in shipment-run.ts run `attest verify --archive`,
  // which reaches it through verify-execute.ts (a dynamic import) and verify-run.ts.
  const deep = commandReach('src/commands/attest/shipment-run.ts', tests, sources);
  t.true(deep.includes('test/commands/attest/export-bundle.test.ts'));
  t.true(deep.includes('test/commands/trust/consistency.test.ts'));
});

test('failedTestFile: the file whose ava prefix starts the failure line, the longest when one prefix holds another; the only file when one ran', (t) => {
  const files = [
    'dist/test/commands/attest/sign.test.js',
    'dist/test/commands/attest/sign-preflight.test.js',
    'dist/test/commands/attest.test.js',
  ];
  // Stop 60's line: the title runs on into the first line of the assertion's message ("{").
  const line =
    '  ✘ [fail]: commands › attest › sign-preflight › attest sign --output - | attest verify: the bundle verifies {';
  t.is(failedTestFile(line, files), 'dist/test/commands/attest/sign-preflight.test.js');
  t.is(
    failedTestFile('✘ [fail]: commands › attest › sign › refuses a bad token', files),
    'dist/test/commands/attest/sign.test.js',
  );
  // `commands › attest ›` is a prefix of both others' titles: the longer must win.
  t.is(
    failedTestFile('✘ [fail]: commands › attest › sign › x', [...files].reverse()),
    'dist/test/commands/attest/sign.test.js',
  );
  t.is(
    failedTestFile('✘ [fail]: commands › attest › a title', files),
    'dist/test/commands/attest.test.js',
  );
  t.is(failedTestFile('✘ [fail]: verify › something', files), undefined);
  // One file run: ava writes no prefix at all.
  t.is(failedTestFile('✘ [fail]: a title Error thrown in test', [files[0]!]), files[0]);
});
