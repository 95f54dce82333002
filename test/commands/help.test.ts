/**
 * `stella help` through the real CLI (src/commands/help.ts): oclif's text for the root, a
 * topic and a command; an unknown name is a usage error naming the closest command (oclif's
 * help plugin said "Command trust:lst not found."); --json gives the help as one object.
 */
import test from 'ava';
import { runCli, usageStderr, usageJson } from '../helpers/cli.js';

test('an unknown command after help is a usage error naming the closest one, exit 2', async (t) => {
  const r = await runCli(['help', 'trust', 'lst']);
  t.is(r.code, 2);
  t.is(
    r.stderr,
    usageStderr('unknown command "stella trust lst" (did you mean "stella trust list"?)'),
  );
  t.is(r.stdout, '');
});

test('the same with --json: one USAGE_ERROR object on stdout', async (t) => {
  const r = await runCli(['help', 'trust', 'lst', '--json']);
  t.is(r.code, 2);
  t.deepEqual(
    JSON.parse(r.stdout),
    usageJson('unknown command "stella trust lst" (did you mean "stella trust list"?)', {
      details: { command: 'trust lst' },
    }),
  );
  t.is(r.stderr, '');
});

test('help reads its flags as every command does: an unknown one is named, with its closest', async (t) => {
  const r = await runCli(['help', 'trust', '--nested-command']);
  t.is(r.code, 2);
  t.is(r.stderr, usageStderr('unknown flag --nested-command (did you mean --nested-commands?)'));
});

test('help --json: the root, a topic and a command, each one object', async (t) => {
  const root = await runCli(['help', '--json']);
  t.is(root.code, 0, root.stderr);
  t.like(JSON.parse(root.stdout), { ok: true, kind: 'root', topic: null });

  const topic = await runCli(['help', 'trust', 'keys', '--json']);
  t.is(topic.code, 0, topic.stderr);
  const keys = JSON.parse(topic.stdout) as { kind: string; commands: { command: string }[] };
  t.is(keys.kind, 'topic');
  t.deepEqual(
    keys.commands.map((c) => c.command),
    ['trust keys add', 'trust keys list'],
  );

  const command = await runCli(['help', 'policy', 'lint', '--json']);
  t.is(command.code, 0, command.stderr);
  t.like(JSON.parse(command.stdout), {
    ok: true,
    kind: 'command',
    command: 'policy lint',
    args: [{ name: 'file', required: true }],
  });
});

test('-n lists every command under a topic; without it only the direct ones', async (t) => {
  const direct = await runCli(['help', 'trust']);
  t.is(direct.code, 0, direct.stderr);
  t.notRegex(direct.stdout, /trust keys add/);
  const nested = await runCli(['help', 'trust', '-n']);
  t.is(nested.code, 0, nested.stderr);
  t.regex(nested.stdout, /trust keys add/);
  // At the root too. (Hidden commands stay hidden: help-subject.test.ts, on a fixture program.)
  const root = await runCli(['help', '-n']);
  t.is(root.code, 0, root.stderr);
  t.regex(root.stdout, /attest verify[\s\S]*trust keys add/);
  t.notRegex((await runCli(['help'])).stdout, /trust keys add/);
});

test('help help shows the help command itself, not the root', async (t) => {
  const r = await runCli(['help', 'help']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /USAGE\s+\$ stella help \[COMMAND\.\.\.\]/);
  t.notRegex(r.stdout, /TOPICS/);
});

test('a usage line written by hand (where oclif draws exclusions wrongly) names every visible flag of its command, and no other', async (t) => {
  const commands = [
    (await import('../../src/commands/attest/sign.js')).default,
    (await import('../../src/commands/attest/export-bundle.js')).default,
    (await import('../../src/commands/policy/test.js')).default,
  ];
  for (const command of commands) {
    const usage = command.usage as string;
    const flags = { ...command.baseFlags, ...command.flags } as Record<
      string,
      { hidden?: boolean; char?: string }
    >;
    const visible = Object.entries(flags).filter(([, f]) => !f.hidden);
    const named = new Set(
      [...usage.matchAll(/(?<![\w-])(--[a-z0-9-]+|-[a-z])\b/g)].map((m) => m[1]!),
    );
    const spelled = (name: string, f: { char?: string }) =>
      named.has(`--${name}`) || (f.char !== undefined && named.has(`-${f.char}`));
    t.deepEqual(
      visible.filter(([name, f]) => !spelled(name, f)).map(([name]) => name),
      [],
      `${usage}: flags missing`,
    );
    const known = new Set(
      visible.flatMap(([name, f]) => [`--${name}`, ...(f.char ? [`-${f.char}`] : [])]),
    );
    t.deepEqual(
      [...named].filter((n) => !known.has(n)),
      [],
      `${usage}: words that are no flag`,
    );
  }
});
