/**
 * `stella trust rotation create`: new rotation keys and their threshold go together, a usage
 * error (exit 2) before any file is read. Until stop 48 it was INPUT_INVALID (exit 10).
 */
import test from 'ava';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, usageStderr } from '../../../helpers/cli.js';

test('--new-rotation-keys and --new-threshold go together: a usage error, nothing read or written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-rotation-create-'));
  const out = join(dir, 'rotation.tar');
  const base = [
    'trust',
    'rotation',
    'create',
    '--root',
    join(dir, 'never-read.json'),
    '--version',
    '2',
    '--expires',
    '2099-01-01T00:00:00Z',
    '--sign-with',
    join(dir, 'never-read.pem'),
    '--output',
    out,
  ];
  for (const pair of [
    ['--new-threshold', '1'],
    ['--new-rotation-keys', join(dir, 'never-read-keys.pem')],
  ]) {
    const r = await runCli([...base, ...pair]);
    t.is(r.code, 2, r.stderr);
    t.is(r.stderr, usageStderr('--new-rotation-keys and --new-threshold go together'));
  }
  // Without the pair the same command goes on to read --root, and fails on its absence.
  const r = await runCli(base);
  t.not(r.code, 2);
  t.regex(r.stderr, /never-read\.json/);
  t.false(existsSync(out));
});
