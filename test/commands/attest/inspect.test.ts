/**
 * `stella attest inspect`'s own command-line rules, through the real CLI. What it prints for a
 * bundle is tested with the describer (test/verify/inspect.test.ts) and the CLI's messages
 * (test/commands/messages.test.ts, test/commands/base.test.ts).
 */
import test from 'ava';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, usageStderr } from '../../helpers/cli.js';

test('inspect --bundle with --archive and --artifact: a usage error before anything is read', async (t) => {
  const r = await runCli([
    'attest',
    'inspect',
    '--bundle',
    join(tmpdir(), 'never-read.json'),
    '--archive',
    join(tmpdir(), 'never-read.tar'),
    '--artifact',
    `sha256:${'a'.repeat(64)}`,
  ]);
  t.is(r.code, 2, r.stderr);
  t.is(
    r.stderr,
    usageStderr(
      '--bundle and --archive cannot be combined: the bundles come from one or the other',
    ),
  );
});
