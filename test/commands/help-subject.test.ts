/**
 * What `stella help WORDS` is about, and its --json form, on the project's real oclif
 * configuration (src/commands/help-subject.ts). The CLI side is test/commands/help.test.ts.
 */
import test from 'ava';
import { Config } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  COSIGN_COMMANDS,
  helpJson,
  helpSubject,
  listedUnder,
  spoken,
  unknownCommandMessage,
} from '../../src/commands/help-subject.js';
import { COMMANDS } from '../../src/commands/index.js';
import { StellaError } from '../../src/errors.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

const config = await Config.load(PROJECT_ROOT);
/** A tiny oclif program with a hidden command and one without a summary. */
const fixture = await Config.load(join(PROJECT_ROOT, 'test', 'fixtures', 'cli', 'oclif-hidden'));

interface ListJson {
  kind: string;
  topic: string | null;
  description: string | null;
  topics: { topic: string; description: string | null }[];
  commands: { command: string; summary: string | null }[];
}
interface CommandJson {
  kind: string;
  command: string;
  summary: string | null;
  args: { name: string; required: boolean }[];
  flags: {
    name: string;
    char: string | null;
    takesValue: boolean;
    repeatable: boolean;
    required: boolean;
    options: string[] | null;
    default: unknown;
  }[];
  examples: string[];
}

test('no words is the root; words name a topic or a command', (t) => {
  t.deepEqual(helpSubject(config, []), { kind: 'root' });
  const topic = helpSubject(config, ['trust', 'keys']);
  t.is(topic.kind, 'topic');
  t.is(topic.kind === 'topic' && topic.id, 'trust:keys');
  const command = helpSubject(config, ['attest', 'verify']);
  t.is(command.kind, 'command');
  t.is(command.kind === 'command' && command.command.id, 'attest:verify');
});

test('an unknown subject is a usage error naming the closest command, or none when nothing is near', (t) => {
  const near = t.throws(() => helpSubject(config, ['trust', 'lst']), { instanceOf: StellaError });
  t.is(near.code, 'USAGE_ERROR');
  t.is(near.message, 'unknown command "stella trust lst" (did you mean "stella trust list"?)');
  t.deepEqual(near.details, { command: 'trust lst' });
  // A topic is a candidate too.
  const topic = t.throws(() => helpSubject(config, ['sandboxx']), { instanceOf: StellaError });
  t.is(topic.message, 'unknown command "stella sandboxx" (did you mean "stella sandbox"?)');
  const far = t.throws(() => helpSubject(config, ['qqqqqqqqqq']), { instanceOf: StellaError });
  t.is(far.message, 'unknown command "stella qqqqqqqqqq"');
});

test('a hidden command is no subject, is listed nowhere and is never suggested (a fixture program: Stella has none)', (t) => {
  t.true(fixture.findCommand('tools:secret')?.hidden);
  t.throws(() => helpSubject(fixture, ['tools', 'secret']), { instanceOf: StellaError });
  t.deepEqual(
    listedUnder(fixture, '', true).commands.map((c) => c.id),
    ['plain', 'tools:shown'],
  );
  // One letter from the hidden command, five from the visible one: nothing near is shown.
  t.is(unknownCommandMessage(fixture, 'tools:secre'), 'unknown command "stella tools secre"');
  t.is(
    unknownCommandMessage(fixture, 'tools:shwn'),
    'unknown command "stella tools shwn" (did you mean "stella tools shown"?)',
  );
});

test('the root lists the top-level topics and commands, with the version', (t) => {
  const root = helpJson(config, { kind: 'root' }) as ListJson & { version: string };
  t.is(root.kind, 'root');
  t.is(root.topic, null);
  t.is(root.version, config.version);
  // The root's description is the package's; a topic's is its own (below).
  t.is(
    root.description,
    'Sigstore-style keyless signing, air-gap export and fully offline verification',
  );
  t.deepEqual(
    root.topics.map((x) => x.topic),
    ['attest', 'policy', 'sandbox', 'trust'],
  );
  t.deepEqual(
    root.commands.map((x) => x.command),
    ['autocomplete', 'help'],
  );
  t.is(root.topics.find((x) => x.topic === 'trust')?.description, 'Manage the local trust store');
  // A command with a description but no summary (the fixture's `plain`; every Stella command
  // has a summary) is summed up by the description's first line.
  t.is(fixture.findCommand('plain')?.summary, undefined);
  const fixtureRoot = helpJson(fixture, { kind: 'root' }) as ListJson;
  t.is(
    fixtureRoot.commands.find((x) => x.command === 'plain')?.summary,
    'Summed up by this first line',
  );
});

test('a topic lists its direct topics and commands; nested lists every command under it', (t) => {
  const subject = helpSubject(config, ['trust']);
  const direct = helpJson(config, subject) as ListJson;
  t.is(direct.kind, 'topic');
  t.is(direct.topic, 'trust');
  t.is(direct.description, 'Manage the local trust store');
  t.deepEqual(
    direct.topics.map((x) => x.topic),
    ['trust keys', 'trust rotation', 'trust witness'],
  );
  const ours = Object.keys(COMMANDS).filter((id) => id.startsWith('trust:'));
  t.deepEqual(
    direct.commands.map((x) => x.command),
    ours
      .filter((id) => id.split(':').length === 2)
      .map(spoken)
      .sort(),
  );
  for (const c of direct.commands) t.truthy(c.summary, c.command);
  const nested = helpJson(config, subject, true) as ListJson;
  t.deepEqual(nested.commands.map((x) => x.command).sort(), ours.map(spoken).sort());
  t.true(nested.topics.some((x) => x.topic === 'trust keys'));
});

test('every topic has its own description in package.json (without one, oclif shows a command\'s summary as the topic\'s: `trust witness` read "Add a witness ..." until stop 50)', (t) => {
  type Topics = Record<string, { description?: string; subtopics?: Topics }>;
  const declared = (
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      oclif: { topics: Topics };
    }
  ).oclif.topics;
  const described = (words: string[]): string | undefined => {
    let level: Topics | undefined = declared;
    let found: { description?: string; subtopics?: Topics } | undefined;
    for (const w of words) {
      found = level?.[w];
      level = found?.subtopics;
    }
    return found?.description;
  };
  const topics = new Set(
    Object.keys(COMMANDS).flatMap((id) =>
      id
        .split(':')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join(':')),
    ),
  );
  t.true(topics.has('trust:witness'));
  const summaries = new Set(config.commands.map((c) => c.summary));
  for (const topic of topics) {
    const description = described(topic.split(':'));
    t.truthy(description, `${spoken(topic)} has no description of its own`);
    t.false(summaries.has(description), `${spoken(topic)} borrows a command's summary`);
    t.is(config.findTopic(topic)?.description, description, spoken(topic));
  }
});

test('a command gives its arguments, flags (with switches, values, repeats, options, defaults) and examples', (t) => {
  const verify = helpJson(config, helpSubject(config, ['attest', 'verify'])) as CommandJson;
  t.is(verify.kind, 'command');
  t.is(verify.command, 'attest verify');
  t.deepEqual(
    verify.args.map((a) => [a.name, a.required]),
    [['artifact', false]],
  );
  const flag = (c: CommandJson, name: string) => c.flags.find((f) => f.name === name);
  t.like(flag(verify, 'bundle'), { takesValue: true, repeatable: false, required: false });
  t.like(flag(verify, 'json'), { takesValue: false, default: false, char: null });
  t.true(verify.examples.length > 0);
  for (const e of verify.examples) t.regex(e, /^stella attest verify /);

  const exportBundle = helpJson(
    config,
    helpSubject(config, ['attest', 'export-bundle']),
  ) as CommandJson;
  t.like(flag(exportBundle, 'artifact'), { takesValue: true, repeatable: true });

  const fork = helpJson(config, helpSubject(config, ['sandbox', 'fork'])) as CommandJson;
  t.like(flag(fork, 'log'), { options: ['v1', 'v2'], default: 'v1' });

  const help = helpJson(config, helpSubject(config, ['help'])) as CommandJson;
  t.like(flag(help, 'nested-commands'), { char: 'n', takesValue: false });
});

test('every flag the help shows is one the command declares, and none of them is hidden', (t) => {
  for (const [id, cls] of Object.entries(COMMANDS)) {
    const json = helpJson(config, helpSubject(config, id.split(':'))) as CommandJson;
    const declared = { ...(cls.baseFlags ?? {}), ...(cls.flags ?? {}) } as Record<
      string,
      { hidden?: boolean }
    >;
    t.deepEqual(
      json.flags.map((f) => f.name).sort(),
      Object.keys(declared)
        .filter((n) => !declared[n]!.hidden)
        .sort(),
      id,
    );
  }
});

test('a default is shown when it is a plain value (string, number, boolean); one computed by a function is not', (t) => {
  const flag = (name: string, type: 'option' | 'boolean', value: unknown) => ({
    name,
    type,
    default: value,
  });
  const command = {
    id: 'probe',
    args: {},
    flags: {
      text: flag('text', 'option', 'v1'),
      port: flag('port', 'option', 0),
      on: flag('on', 'boolean', true),
      computed: flag('computed', 'option', async () => 'later'),
      none: flag('none', 'option', undefined),
      off: flag('off', 'boolean', undefined),
    },
  } as unknown as Parameters<typeof helpJson>[1] & { kind: 'command' };
  const json = helpJson(config, { kind: 'command', id: 'probe', command: command as never }) as {
    flags: { name: string; default: unknown }[];
  };
  t.deepEqual(
    json.flags.map((f) => [f.name, f.default]),
    [
      ['text', 'v1'],
      ['port', 0],
      ['on', true],
      ['computed', null],
      ['none', null],
      ['off', false],
    ],
  );
  // Through the real configuration: sandbox up's --port defaults to 0.
  const up = helpJson(config, helpSubject(config, ['sandbox', 'up'])) as {
    flags: { name: string; default: unknown }[];
  };
  t.is(up.flags.find((f) => f.name === 'port')?.default, 0);
});

test("cosign's commands are answered with the Stella command that does the same, whose words and flags exist; Stella's own topics keep their spelling hints", async (t) => {
  for (const [word, advice] of Object.entries(COSIGN_COMMANDS)) {
    const message = unknownCommandMessage(config, `${word}:x`);
    t.true(
      message.startsWith(
        `unknown command "stella ${word}": cosign's ${word} is \`${advice.command}\``,
      ),
      message,
    );
    // `stella attest sign ARTIFACT --keyless ...`: the command, then its flags, each real.
    const tokens = advice.command.split(' ').slice(1);
    const words = tokens.filter((w) => /^[a-z][a-z-]*$/.test(w)).slice(0, 2);
    // `stella --version`: oclif's own flag of the program, run below.
    if (words.length === 0) {
      t.deepEqual(tokens, ['--version'], word);
      continue;
    }
    const command = config.findCommand(words.join(':'));
    t.truthy(command, `${word}: ${words.join(' ')}`);
    for (const flag of tokens.filter((w) => w.startsWith('--')))
      t.truthy(command?.flags[flag.slice(2)], `${word}: ${words.join(' ')} ${flag}`);
  }
  t.is(
    unknownCommandMessage(config, 'attest:verfy'),
    'unknown command "stella attest verfy" (did you mean "stella attest verify"?)',
  );
  t.is(
    unknownCommandMessage(config, 'sign-blobs'),
    'unknown command "stella sign-blobs"',
    'only the words cosign has',
  );
  const version = await runCli(['--version']);
  t.is(version.code, 0);
  t.regex(version.stdout, /^stella\/\d+\.\d+\.\d+ /);
});
