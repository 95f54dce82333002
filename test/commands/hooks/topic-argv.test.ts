/**
 * A topic given a flag or a word, through the real CLI (src/commands/hooks/topic-argv.ts).
 * oclif printed the topic's help and exited 0, so `stella trust --bogus` in a script passed;
 * it is a usage error now, exit 2, one JSON object with --json. The topic alone, or with -h or
 * --help, still prints its help. Help asked of an unknown command (`stella verify-blob --help`)
 * is said as `stella help` says it, where oclif said "Command verify-blob not found".
 */
import test from 'ava';
import { runCli, usageStderr, usageJson } from '../../helpers/cli.js';

test('a flag after a topic is a usage error naming the flag and the topic, exit 2', async (t) => {
  for (const [args, topic] of [
    [['trust', '--bogus'], 'trust'],
    [['trust', 'keys', '--bogus'], 'trust keys'],
  ] as const) {
    const r = await runCli([...args]);
    t.is(r.code, 2, args.join(' '));
    t.is(
      r.stderr,
      usageStderr(
        `"stella ${topic}" is a topic, not a command: it takes no flag --bogus (\`stella help ${topic}\` lists its commands)`,
      ),
    );
    t.is(r.stdout, '', 'no help printed after the error');
  }
});

test('an argument after -- is named as an argument', async (t) => {
  const r = await runCli(['trust', '--', '--not-a-flag']);
  t.is(r.code, 2);
  t.is(
    r.stderr,
    usageStderr(
      '"stella trust" is a topic, not a command: it takes no argument "--not-a-flag" (`stella help trust` lists its commands)',
    ),
  );
});

test('--json after a topic: the usage error as one JSON object', async (t) => {
  const r = await runCli(['attest', '--json']);
  t.is(r.code, 2);
  t.deepEqual(
    JSON.parse(r.stdout),
    usageJson(
      '"stella attest" is a topic, not a command: it takes no flag --json (`stella help attest` lists its commands)',
    ),
  );
  t.is(r.stderr, '');
});

test('a topic alone, with -h or with --help, prints its help (exit 0)', async (t) => {
  for (const args of [
    ['trust'],
    ['trust', '-h'],
    ['trust', '--help'],
    ['trust', '--bogus', '-h'],
  ]) {
    const r = await runCli(args);
    t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stdout, /^Manage the local trust store\n/, args.join(' '));
  }
});

test('a command is not a topic: its own reader answers its flags', async (t) => {
  const r = await runCli(['trust', 'list', '--bogus']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^error: unknown flag --bogus/);
});

test('help asked of an unknown command is said as `stella help WORDS` says it (hint, cosign answer, --json), exit 2; of a known one it is shown', async (t) => {
  const hint = 'unknown command "stella attest verfy" (did you mean "stella attest verify"?)';
  const cosign =
    'unknown command "stella verify-blob": cosign\'s verify-blob is `stella attest verify ARTIFACT --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL`';
  // Before: oclif's " ›   Error: Command attest:verfy not found." with no hint.
  for (const [args, message] of [
    [['attest', 'verfy', '--help'], hint],
    [['attest', 'verfy', '-h'], hint],
    [['--help', 'attest', 'verfy'], hint],
    [['verify-blob', '--help'], cosign],
    [['-h', 'verify-blob', 'a.txt'], cosign],
    [['trust', 'bogus', '--help'], 'unknown command "stella trust bogus"'],
  ] as const) {
    const r = await runCli([...args]);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stderr, usageStderr(message), args.join(' '));
    t.is(r.stdout, '', args.join(' '));
    const same = await runCli(['help', ...args.filter((a) => !a.startsWith('-'))]);
    t.is(same.stderr, r.stderr, `the same as stella help: ${args.join(' ')}`);
  }
  const json = await runCli(['attest', 'verfy', '--json', '--help']);
  t.is(json.code, 2);
  t.deepEqual(JSON.parse(json.stdout), usageJson(hint));
  // A known command's help, with words after it (its arguments), and help for a topic, are shown.
  for (const [args, first] of [
    [['--help', 'attest', 'verify'], /^Verify a Sigstore bundle entirely offline\n/],
    [['attest', 'inspect', 'x.json', '--help'], /^Show what a bundle claims/],
    [['--help', 'attest', 'inspect', 'x.json'], /^Show what a bundle claims/],
    [['--help', 'trust'], /^Manage the local trust store\n/],
  ] as const) {
    const r = await runCli([...args]);
    t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stdout, first, args.join(' '));
  }
});
