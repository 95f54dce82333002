/**
 * A topic given a flag or a word, through the real CLI (src/commands/hooks/topic-argv.ts).
 * oclif printed the topic's help and exited 0, so `stella trust --bogus` in a script passed;
 * it is a usage error now, exit 2, one JSON object with --json. The topic alone, or with -h or
 * --help, still prints its help.
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
