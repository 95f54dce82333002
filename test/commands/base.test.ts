/**
 * Progress lines for long work (export, import, rotation, sandbox start) go to stderr on a
 * terminal only: run once under a pseudo-terminal (util-linux `script`) and once with pipes.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Args, Config, Errors, Flags } from '@oclif/core';
import { argvShapeOf, StellaCommand } from '../../src/commands/base.js';
import { parseArgv } from '../../src/commands/argv.js';
import { runCli, usageStderr } from '../helpers/cli.js';
import { verifyFlags } from '../helpers/argv.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';
import { capturedOutput } from '../helpers/output.js';
import { CLI, PROJECT_ROOT } from '../helpers/paths.js';
import { shellQuoted } from '../../src/util/text.js';

/** What a run under a pseudo-terminal printed (stdout and stderr are both the terminal). */
function underTty(
  args: string[],
  opts: { colour?: boolean; fails?: boolean; env?: Record<string, string> } = {},
): Promise<string> {
  const command = [process.execPath, CLI, ...args].map(shellQuoted).join(' ');
  const env = { ...process.env, ...opts.env };
  if (opts.colour) delete env.NO_COLOR;
  else env.NO_COLOR = '1';
  return new Promise((resolve, reject) => {
    execFile(
      'script',
      ['-qec', command, '/dev/null'],
      { cwd: PROJECT_ROOT, env, timeout: 60_000 },
      (err, stdout) => {
        if (err && !opts.fails) reject(new Error(`${err.message}\n${stdout}`));
        else resolve(stdout);
      },
    );
  });
}

const ESC = '\u001b[';

/** `attest export-bundle` of the blob sample into `output`: a command that prints progress and a coloured line. */
const exportSampleTo = (output: string): string[] => [
  'attest',
  'export-bundle',
  '--all',
  '--bundle',
  join(PROJECT_ROOT, 'samples', 'blob.sigstore.json'),
  '--output',
  output,
];

test('progress on a terminal, silence in a pipe or with STELLA_NO_PROGRESS: export-bundle and trust import', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-progress-'));
  const exportArgs = exportSampleTo(join(dir, 'e.tar'));
  const tty = await underTty(exportArgs);
  t.regex(tty, /reading and checking bundles .*then writing .*e\.tar\.\.\./);
  const quiet = await underTty(exportSampleTo(join(dir, 'q.tar')), {
    env: { STELLA_NO_PROGRESS: '1' },
  });
  t.notRegex(quiet, /reading and checking bundles/);
  t.regex(quiet, /exported/);
  const piped = await runCli(exportArgs);
  t.is(piped.code, 0, piped.stderr);
  t.is(piped.stderr, '', 'nothing on stderr when it is not a terminal');
  const store = join(dir, 'trust.db');
  t.is((await runCli(['trust', 'init', '--store', store])).code, 0);
  const importArgs = [
    'trust',
    'import',
    join(PROJECT_ROOT, 'samples', 'trusted_root.json'),
    '--store',
    store,
  ];
  t.regex(await underTty(importArgs), /importing .*trusted_root\.json into .*trust\.db\.\.\./);
  const again = await runCli(importArgs);
  t.notRegex(again.stderr, /importing/);
});

test('verify --archive: progress (bundles, rate, ETA) on a terminal, with --json too, ending on its own line; none with STELLA_NO_PROGRESS or in a pipe', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-progress-'));
  const tar = join(dir, 'e.tar');
  const sample = (name: string) => join(PROJECT_ROOT, 'samples', name);
  const exported = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--bundle',
    sample('blob.sigstore.json'),
    '--bundle',
    sample('digest-only.sigstore.json'),
    '--output',
    tar,
  ]);
  t.is(exported.code, 0, exported.stderr);
  const verifyArgs = [
    'attest',
    'verify',
    '--archive',
    tar,
    '--all',
    '--jobs',
    '1',
    ...verifyFlags({
      trustedRoot: sample('trusted_root.json'),
      identity: literalPattern(
        'https://github.com/stella-samples/demo/.github/workflows/release.yml@refs/heads/main',
      ),
      issuer: 'https://oidc.stella.invalid',
    }),
  ];
  const tty = await underTty(verifyArgs);
  // The first bundle always prints (nothing printed yet); the last always does, and ends the line.
  t.regex(tty, /\r1\/2 bundles, \d+\/s, ETA \d+s {3}/, JSON.stringify(tty));
  t.regex(tty, /\r2\/2 bundles, \d+\/s, ETA 0s {3}\r?\nok {3}sha256:/, JSON.stringify(tty));
  // With --json too: stdout carries only the JSON, and a shipment can take minutes.
  const json = await underTty([...verifyArgs, '--json']);
  t.regex(json, /\r2\/2 bundles, \d+\/s, ETA 0s {3}\r?\n\{/);
  t.like(JSON.parse(json.slice(json.indexOf('{'))), { ok: true });
  const quiet = await underTty(verifyArgs, { env: { STELLA_NO_PROGRESS: '1' } });
  t.notRegex(quiet, /bundles, /);
  t.regex(quiet, /^ok {3}sha256:/m);
  const piped = await runCli(verifyArgs);
  t.is(piped.code, 0, piped.stderr);
  t.is(piped.stderr, '', 'nothing on stderr when it is not a terminal');
});

test('colour on a terminal only: not with NO_COLOR, not with --json, not in a pipe; errors in red on a terminal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-colour-'));
  const exportArgs = (name: string) => exportSampleTo(join(dir, name));
  const coloured = await underTty(exportArgs('a.tar'), { colour: true });
  t.true(coloured.includes(`${ESC}32mexported${ESC}0m`), JSON.stringify(coloured));
  t.false((await underTty(exportArgs('b.tar'))).includes(ESC), 'NO_COLOR');
  const json = await underTty([...exportArgs('c.tar'), '--json'], { colour: true });
  t.false(json.includes(ESC), '--json');
  t.true(JSON.parse(json.slice(json.indexOf('{'))).ok);
  const piped = await runCli(exportArgs('d.tar'), { env: { NO_COLOR: '' } });
  t.is(piped.code, 0, piped.stderr);
  t.false(piped.stdout.includes(ESC), 'a pipe');
  const missing = ['attest', 'export-bundle', '--all', '--bundle', join(dir, 'none.json')];
  const error = await underTty([...missing, '--output', join(dir, 'e.tar')], {
    colour: true,
    fails: true,
  });
  t.true(error.includes(`${ESC}31merror${ESC}0m: `), JSON.stringify(error));
  const pipedError = await runCli([...missing, '--output', join(dir, 'f.tar')], {
    env: { NO_COLOR: '' },
  });
  t.not(pipedError.code, 0);
  t.regex(pipedError.stderr, /^error: /);
});

/** What StellaCommand.catch prints and the exit it asks for, for an error thrown by a command. */
async function caught(err: Error, argv: string[] = []) {
  class Probe extends StellaCommand {
    async run(): Promise<void> {}
    report(e: Error): Promise<unknown> {
      return this.catch(e);
    }
  }
  const probe = new Probe(argv, await Config.load(PROJECT_ROOT));
  const exitCode = process.exitCode;
  const r = await capturedOutput(() => probe.report(err));
  // catch() sets the process's exit code for the CLI; this process is the test runner's.
  process.exitCode = exitCode;
  return {
    exit: (r.thrown as { oclif?: { exit?: number } } | undefined)?.oclif?.exit,
    stdout: r.stdout.toString(),
    stderr: r.stderr.toString(),
  };
}

test("an error that is not Stella's is an internal error (exit 1); a parse error is a usage error (exit 2)", async (t) => {
  const internal = await caught(new TypeError('x is undefined'));
  t.is(internal.exit, 1);
  t.is(internal.stderr, 'error: internal: x is undefined\n');
  const json = await caught(new TypeError('x is undefined'), ['--json']);
  t.is(json.exit, 1);
  t.like(JSON.parse(json.stdout), { ok: false, error: { code: 'INTERNAL', exitCode: 1 } });
  const parse = Object.assign(
    new Error('Expected an integer but received: abc\nSee more help with --help'),
    {
      parse: {},
      oclif: { exit: 2 },
    },
  );
  const usage = await caught(parse);
  t.is(usage.exit, 2);
  t.regex(
    usage.stderr,
    /^error: Expected an integer but received: abc\nSee more help with --help\n$/,
  );
});

test("argvShapeOf carries oclif's flag kinds to Stella's reader: values, repeatable, required, --no- only for a switch that allows it", (t) => {
  const shape = argvShapeOf(
    {
      output: Flags.string({ char: 'o', required: true }),
      bundle: Flags.string({ multiple: true }),
      json: Flags.boolean(),
      color: Flags.boolean({ allowNo: true }),
    } as unknown as Parameters<typeof argvShapeOf>[0],
    { artifact: Args.string() },
    undefined,
  );
  t.deepEqual(
    shape.flags.map((f) => [f.name, f.char, f.takesValue, f.multiple, f.required, f.allowNo]),
    [
      ['output', 'o', true, false, true, false],
      ['bundle', undefined, true, true, false, false],
      ['json', undefined, false, false, false, false],
      ['color', undefined, false, false, false, true],
    ],
  );
  t.deepEqual(shape.args, ['artifact']);
  t.deepEqual(shape.requiredArgs, []);
  const related = argvShapeOf(
    {
      all: Flags.boolean({ exclusive: ['artifact'] }),
      predicate: Flags.string({ dependsOn: ['predicate-type'] }),
    } as unknown as Parameters<typeof argvShapeOf>[0],
    undefined,
    undefined,
  );
  t.deepEqual(
    related.flags.map((f) => [f.name, f.exclusive, f.dependsOn]),
    [
      ['all', ['artifact'], undefined],
      ['predicate', undefined, ['predicate-type']],
    ],
  );
  t.deepEqual(
    argvShapeOf(
      {},
      { file: Args.string({ required: true, description: 'a file' }), more: Args.string() },
      undefined,
    ).requiredArgs,
    [{ name: 'file', description: 'a file' }],
  );
  t.false(shape.variadic);
  t.true(argvShapeOf({}, undefined, false).variadic);
  t.deepEqual(parseArgv(['--no-color', '-o', 'x'], shape).flags, { color: false, output: 'x' });
  t.throws(() => parseArgv(['--no-json', '-o', 'x'], shape), { message: /--no-json/ });
});

test("a command's own exit code (policy test: no match, 45) is kept, not reported as an internal error", async (t) => {
  const r = await runCli([
    'policy',
    'test',
    '--identity',
    'repo:myorg/myrepo:ref:refs/heads/main',
    '--pattern',
    'repo:myorg/other:ref:refs/heads/main',
  ]);
  t.is(r.code, 45, r.stderr);
  t.regex(r.stdout, /^no match/);
  t.notRegex(r.stderr, /internal/);
});

test("a command's own this.exit(2) leaves with 2 and prints nothing more (it printed 'error: EEXIT: 2')", async (t) => {
  const exit = await caught(new Errors.ExitError(2));
  t.is(exit.exit, 2);
  t.is(exit.stdout, '');
  t.is(exit.stderr, '');
  const exitJson = await caught(new Errors.ExitError(2), ['--json']);
  t.is(exitJson.exit, 2);
  t.is(exitJson.stdout, '');
});

test('usage errors found after parsing are printed once, and as JSON with --json: inspect, policy test, the dev entry', async (t) => {
  const once = (message: string) => usageStderr(message);
  const cases: [string[], string][] = [
    [
      ['attest', 'inspect'],
      'give the bundle (FILE or --bundle FILE), or --artifact sha256:<hex> (from the attestation store or --archive)',
    ],
    [
      ['attest', 'inspect', 'a.json', '--bundle', 'b.json'],
      'the bundle was given twice ("a.json" and --bundle "b.json"): give it once',
    ],
    [
      ['attest', 'inspect', '--bundle', 'b.json', '--archive', 'a.tar'],
      '--archive needs --artifact (the archive is searched by artifact digest)',
    ],
    [
      ['policy', 'test', '--identity', 'x'],
      'give --pattern REGEX, or --policy FILE [--environment NAME]',
    ],
    [
      ['policy', 'test', '--identity', 'x', '--pattern', '(unclosed'],
      '--pattern is not a valid RE2 regular expression on its own: missing closing ): `(unclosed`',
    ],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stderr, once(message), args.join(' '));
    const json = await runCli([...args, '--json']);
    t.is(json.code, 2, args.join(' '));
    t.is(json.stderr, '', args.join(' '));
    t.like(JSON.parse(json.stdout), { ok: false, error: { code: 'USAGE_ERROR', message } });
  }
  // bin/dev.js runs attest verify through oclif (bin/run.js through its fast launcher); the
  // verifier's own usage error then leaves by this.exit(2).
  const dev = await runCli(['attest', 'verify', '--bundle', 'b.json'], {
    bin: join(PROJECT_ROOT, 'bin', 'dev.js'),
  });
  t.is(dev.code, 2);
  t.is(dev.stderr.match(/^error: /gm)?.length, 1, dev.stderr);
});
