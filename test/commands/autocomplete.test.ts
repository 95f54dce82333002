/**
 * `stella autocomplete` through the real CLI: the script it prints is the library's
 * (src/commands/completion.ts, run in real shells by completion.test.ts), --json carries it,
 * and a shell it cannot complete for is a usage error.
 */
import test from 'ava';
import { Config } from '@oclif/core';
import { shellFromEnv } from '../../src/commands/autocomplete.js';
import { completionScript, completionTree } from '../../src/commands/completion.js';
import { runCli, usageJson, usageStderr } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/paths.js';

const config = await Config.load(PROJECT_ROOT);
const tree = completionTree(config);
const script = (shell: 'bash' | 'zsh' | 'fish') =>
  completionScript(shell, tree, { bin: 'stella', version: config.version });

test('autocomplete bash, zsh and fish print the script; without a shell, the one $SHELL names', async (t) => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const r = await runCli(['autocomplete', shell], { env: { SHELL: '/bin/sh' } });
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, script(shell));
    t.is(r.stderr, '');
  }
  const fromEnv = await runCli(['autocomplete'], { env: { SHELL: '/usr/bin/zsh' } });
  t.is(fromEnv.code, 0, fromEnv.stderr);
  t.is(fromEnv.stdout, script('zsh'));
});

test('autocomplete --json: one object with the shell, version, install line, commands and script', async (t) => {
  const r = await runCli(['autocomplete', 'bash', '--json']);
  t.is(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as Record<string, unknown>;
  t.deepEqual(Object.keys(json), ['ok', 'shell', 'version', 'install', 'commands', 'script']);
  t.is(json.ok, true);
  t.is(json.shell, 'bash');
  t.is(json.version, config.version);
  t.regex(json.install as string, /^stella autocomplete bash > /);
  t.true((json.commands as string[]).includes('attest verify'));
  t.true((json.commands as string[]).includes('trust keys add'));
  t.is(json.script, script('bash'));
});

test('a shell it cannot complete for is a usage error (exit 2), with or without --json', async (t) => {
  const tcsh = await runCli(['autocomplete', 'tcsh']);
  t.is(tcsh.code, 2);
  t.is(tcsh.stderr, usageStderr('Expected tcsh to be one of: bash, zsh, fish'));
  t.is(tcsh.stdout, '');
  for (const [env, said] of [
    [{ SHELL: '/bin/tcsh' }, '"/bin/tcsh"'],
    [{ SHELL: '' }, 'not set'],
  ] as const) {
    const r = await runCli(['autocomplete'], { env });
    t.is(r.code, 2, said);
    t.is(r.stderr, usageStderr(`say which shell: bash, zsh, fish ($SHELL is ${said})`));
    const json = await runCli(['autocomplete', '--json'], { env });
    t.is(json.code, 2);
    t.deepEqual(
      JSON.parse(json.stdout),
      usageJson(`say which shell: bash, zsh, fish ($SHELL is ${said})`),
    );
  }
});

test('shellFromEnv: the last part of $SHELL, when it is bash, zsh or fish', (t) => {
  t.is(shellFromEnv('/bin/bash'), 'bash');
  t.is(shellFromEnv('/usr/local/bin/zsh'), 'zsh');
  t.is(shellFromEnv('zsh'), 'zsh');
  t.is(shellFromEnv('/usr/bin/fish'), 'fish');
  for (const other of [undefined, '', '/bin/sh', '/bin/tcsh', '/bin/bash5'])
    t.is(shellFromEnv(other), undefined, String(other));
});
