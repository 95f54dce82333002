/**
 * `stella attest inspect`'s own command-line rules, through the real CLI. What it prints for a
 * bundle is tested with the describer (test/verify/inspect.test.ts) and the CLI's messages
 * (test/commands/messages.test.ts, test/commands/base.test.ts).
 */
import test from 'ava';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, usageStderr } from '../../helpers/cli.js';
import { PROJECT_ROOT } from '../../helpers/paths.js';

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

test('inspect BUNDLE: the bundle as an argument is --bundle (as `gh attestation inspect` takes it); the same output, JSON included', async (t) => {
  const bundle = join(PROJECT_ROOT, 'samples', 'blob.sigstore.json');
  const byFlag = await runCli(['attest', 'inspect', '--bundle', bundle, '--json']);
  const byArgument = await runCli(['attest', 'inspect', bundle, '--json']);
  t.is(byFlag.code, 0, byFlag.stderr);
  t.is(byArgument.code, 0, byArgument.stderr);
  t.is(byArgument.stdout, byFlag.stdout);
  t.regex(
    (JSON.parse(byArgument.stdout) as { bundles: { certificate: { san: string[] } }[] }).bundles[0]!
      .certificate.san[0]!,
    /^https:\/\/github\.com\/stella-samples\/demo\//,
  );
  const text = await runCli(['attest', 'inspect', bundle]);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /Certificate SAN/);
});
