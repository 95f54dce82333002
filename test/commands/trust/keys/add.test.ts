/**
 * `stella trust keys add`: flags that do not go together are usage errors (exit 2), refused
 * before the trust store is opened. Until stop 48 they were INPUT_INVALID (exit 10), unlike
 * every other pair of flags; no test held them.
 */
import test from 'ava';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, usageStderr } from '../../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'stella-keys-add-'));
const store = join(dir, 'never-opened.db');
const keys = join(dir, 'never-read.pem');

const CASES: [string[], string][] = [
  [
    ['--role', 'exporter', '--threshold', '1', keys],
    '--threshold is for rotation keys, not exporters',
  ],
  [
    ['--role', 'exporter', '--identity', 'https://ci.example/x'],
    '--identity and --issuer go together',
  ],
  [
    ['--role', 'exporter', '--issuer', 'https://issuer.example'],
    '--identity and --issuer go together',
  ],
  [['--role', 'exporter'], 'give a PEM file of exporter keys, or --identity and --issuer'],
  [
    ['--identity', 'https://ci.example/x', '--issuer', 'https://issuer.example'],
    '--identity and --issuer are for --role exporter',
  ],
  [[], 'give a PEM file of keys, --threshold K, or both'],
];

test('flags that do not go together: one usage error each, exit 2, the store never opened', async (t) => {
  for (const [flags, message] of CASES) {
    const r = await runCli(['trust', 'keys', 'add', ...flags, '--store', store]);
    t.is(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    t.is(r.stderr, usageStderr(message), flags.join(' '));
  }
  t.false(existsSync(store));
});

test('with --json: one USAGE_ERROR object', async (t) => {
  const [flags, message] = CASES[0]!;
  const r = await runCli(['trust', 'keys', 'add', ...flags, '--store', store, '--json']);
  t.is(r.code, 2);
  t.deepEqual(JSON.parse(r.stdout), {
    ok: false,
    error: { code: 'USAGE_ERROR', check: 'input', message, exitCode: 2 },
  });
});
