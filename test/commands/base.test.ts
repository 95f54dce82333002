/**
 * Progress lines for long work (export, import, rotation, sandbox start) go to stderr on a
 * terminal only: run once under a pseudo-terminal (util-linux `script`) and once with pipes.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { CLI, PROJECT_ROOT } from '../helpers/paths.js';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function underTty(args: string[]): Promise<string> {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      'script',
      ['-qec', command, '/dev/null'],
      { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
      (err, stdout) => {
        if (err) reject(new Error(`${err.message}\n${stdout}`));
        else resolve(stdout);
      },
    );
  });
}

test('progress on a terminal, silence in a pipe: export-bundle and trust import', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-progress-'));
  const exportArgs = [
    'attest',
    'export-bundle',
    '--all',
    '--bundle',
    join(PROJECT_ROOT, 'samples', 'blob.sigstore.json'),
    '--output',
    join(dir, 'e.tar'),
  ];
  const tty = await underTty(exportArgs);
  t.regex(tty, /reading and checking bundles .*then writing .*e\.tar\.\.\./);
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
