/**
 * Unknown commands and extra words, through the real CLI. oclif reads `stella trust list
 * b.json` as the command `trust:list:b.json`; the hook hands it to `trust list`, whose reader
 * names the extra word. A command that does not exist is a usage error naming the
 * closest one. Both are exit 2, and one JSON object with --json.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, usageStderr, usageJson } from '../../helpers/cli.js';

const home = mkdtempSync(join(tmpdir(), 'stella-not-found-'));
const run = (args: string[]) => runCli(args, { env: { HOME: home, XDG_DATA_HOME: undefined } });

test('an extra word after a command is that command\'s "unexpected argument", exit 2', async (t) => {
  for (const args of [
    ['trust', 'history', 'bundle.json'],
    ['trust', 'list', 'bundle.json'],
    ['trust', 'keys', 'list', 'bundle.json'],
  ]) {
    const r = await run(args);
    t.is(r.code, 2, args.join(' '));
    t.is(
      r.stderr,
      usageStderr('unexpected argument "bundle.json": this command takes flags only'),
      args.join(' '),
    );
    t.is(r.stdout, '');
  }
});

test('an extra word with --json: one USAGE_ERROR object naming the word', async (t) => {
  const r = await run(['trust', 'list', 'bundle.json', 'other', '--json']);
  t.is(r.code, 2);
  t.deepEqual(
    JSON.parse(r.stdout),
    usageJson('unexpected argument "bundle.json": this command takes flags only', {
      details: { argument: 'bundle.json' },
    }),
  );
  t.is(r.stderr, '');
  // A command that takes one argument names the word after it (attest inspect BUNDLE, since stop 52).
  const one = await run(['attest', 'inspect', 'bundle.json', 'other', '--json']);
  t.is(one.code, 2);
  t.deepEqual(
    JSON.parse(one.stdout),
    usageJson('unexpected argument "other": this command takes at most 1 (BUNDLE)', {
      details: { argument: 'other' },
    }),
  );
});

test('the extra word is refused before the command does anything: no trust store is read', async (t) => {
  const r = await run(['trust', 'list', 'extra', '--store', join(home, 'absent.db')]);
  t.is(r.code, 2);
  t.is(r.stderr, usageStderr('unexpected argument "extra": this command takes flags only'));
  // Without the extra word the same command reads the store, and fails on its absence.
  const r2 = await run(['trust', 'list', '--store', join(home, 'absent.db')]);
  t.not(r2.code, 2);
  t.regex(r2.stderr, /no trust store at/);
});

test('an unknown command names the closest one; a far one names none', async (t) => {
  const near = await run(['trust', 'lst']);
  t.is(near.code, 2);
  t.is(
    near.stderr,
    usageStderr('unknown command "stella trust lst" (did you mean "stella trust list"?)'),
  );
  const nested = await run(['trust', 'keys', 'ad']);
  t.is(nested.code, 2);
  t.regex(nested.stderr, /did you mean "stella trust keys add"\?/);
  const flag = await run(['--bogus']);
  t.is(flag.code, 2);
  t.is(
    flag.stderr,
    usageStderr('unknown flag --bogus: a command comes first (`stella --help` lists them)'),
  );
  // A misspelt topic is named as `stella help` names it (a hidden command is never suggested:
  // help-subject.test.ts, on a fixture program).
  const topic = await run(['sandboxx']);
  t.is(topic.code, 2);
  t.is(
    topic.stderr,
    usageStderr('unknown command "stella sandboxx" (did you mean "stella sandbox"?)'),
  );
  const far = await run(['frobnicate']);
  t.is(far.code, 2);
  t.is(far.stderr, usageStderr('unknown command "stella frobnicate"'));
});

test('an unknown command with --json: one USAGE_ERROR object; --json after -- is an argument, not the flag', async (t) => {
  const r = await run(['attest', 'verfy', '--json']);
  t.is(r.code, 2);
  t.deepEqual(
    JSON.parse(r.stdout),
    usageJson('unknown command "stella attest verfy" (did you mean "stella attest verify"?)'),
  );
  const after = await run(['attest', 'verfy', '--', '--json']);
  t.is(after.code, 2);
  t.is(after.stdout, '');
  t.regex(after.stderr, /^error: unknown command "stella attest verfy"/);
});

test('a cosign command typed to stella names the Stella command that does it, exit 2, through `stella help` too', async (t) => {
  const verify = await run(['verify-blob', 'artifact.txt', '--bundle', 'a.sigstore.json']);
  t.is(verify.code, 2);
  t.is(
    verify.stderr,
    usageStderr(
      'unknown command "stella verify-blob": cosign\'s verify-blob is `stella attest verify ARTIFACT --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL`',
    ),
  );
  const help = await run(['help', 'sign-blob', '--json']);
  t.is(help.code, 2);
  t.deepEqual(
    JSON.parse(help.stdout),
    usageJson(
      'unknown command "stella sign-blob": cosign\'s sign-blob is `stella attest sign ARTIFACT --keyless` (the bundle goes to ARTIFACT.sigstore.json)',
      { details: { command: 'sign-blob' } },
    ),
  );
});
