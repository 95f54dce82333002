/**
 * The completion script (src/commands/completion.ts), made from the project's real oclif
 * configuration and run in real shells: bash, and zsh through its bashcompinit (zsh from
 * Debian's zsh package, which scripts/ensure-test-tools.sh installs; without it the zsh test
 * is declared skipped). Each case sets the words a user typed, the last one at the cursor, and
 * reads what the function offers.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '@oclif/core';
import {
  completedCommands,
  completionScript,
  completionTree,
  type CompletionShell,
} from '../../src/commands/completion.js';
import { listedUnder, spoken } from '../../src/commands/help-subject.js';
import { shellQuoted } from '../../src/util/text.js';
import { PROJECT_ROOT } from '../helpers/paths.js';

const config = await Config.load(PROJECT_ROOT);
const tree = completionTree(config);
const META = { bin: 'stella', version: config.version };

const ZSH = '/usr/bin/zsh';
const zshMissing = existsSync(ZSH)
  ? undefined
  : `${ZSH} not found (Debian's zsh package; scripts/ensure-test-tools.sh installs it as root)`;

/**
 * What the script offers for each case, in one shell process. bash: the function is called as
 * bash's `complete -F` calls it. zsh: through bashcompinit's `compgen -F`, as its completion
 * widget calls it; zsh's compgen does not filter by the word at the cursor (zsh's own matcher
 * does that later), so the zsh lists are filtered here the same way.
 */
function offers(shell: CompletionShell, cases: string[][]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'stella-completion-'));
  const script = join(dir, `stella.${shell}`);
  writeFileSync(script, completionScript(shell, tree, META));
  const call =
    shell === 'bash'
      ? '_stella_complete; printf "%s\\n" "${COMPREPLY[*]}"'
      : 'printf "%s\\n" "$(compgen -F _stella_complete -- "${COMP_WORDS[-1]}" | tr "\\n" " ")"';
  const driver = [
    `source ${shellQuoted(script)}`,
    `t() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); ${call}; }`,
    ...cases.map((words) => `t stella ${words.map(shellQuoted).join(' ')}`),
    shell === 'bash' ? 'complete -p stella' : 'print -r -- "$_comps[stella]"',
  ].join('\n');
  const r = spawnSync(shell === 'bash' ? 'bash' : ZSH, shell === 'bash' ? ['--norc'] : ['-f'], {
    input: driver,
    encoding: 'utf8',
    // zsh's compinit writes its dump under ZDOTDIR (else HOME): keep it out of the user's.
    env: { PATH: process.env.PATH, HOME: dir, ZDOTDIR: dir, TERM: 'dumb' },
  });
  if (r.status !== 0) throw new Error(`${shell} exited ${r.status}: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  const registration = lines[cases.length]!;
  if (!/-o default -F _stella_complete/.test(registration))
    throw new Error(`${shell}: stella is not registered: ${registration}`);
  return cases.map((words, i) => {
    const cur = words[words.length - 1]!;
    const got = lines[i]!.split(' ').filter((w) => w !== '');
    return shell === 'zsh' && !cur.includes('=') ? got.filter((w) => w.startsWith(cur)) : got;
  });
}

const CASES: { words: string[]; offers: string[]; why: string }[] = [
  {
    words: [''],
    offers: ['attest', 'autocomplete', 'help', 'policy', 'sandbox', 'trust'],
    why: 'the root',
  },
  { words: ['at'], offers: ['attest'], why: 'a topic by its start' },
  { words: ['attest', 've'], offers: ['verify'], why: 'a command under a topic' },
  { words: ['trust', 'keys', 'a'], offers: ['add'], why: 'two topics deep' },
  {
    words: ['attest', 'verify', '--arch'],
    offers: ['--archive'],
    why: 'a flag of the command',
  },
  {
    words: ['attest', 'sign', '--type', ''],
    offers: ['blob', 'image'],
    why: "a flag's fixed values",
  },
  {
    words: ['attest', 'sign', '--output', 'out.json', '--ty'],
    offers: ['--type'],
    why: "a value flag's value is skipped",
  },
  {
    words: ['attest', 'sign', '-o', 'out.json', '--ty'],
    offers: ['--type'],
    why: 'the one-letter form of a value flag takes its value too',
  },
  {
    words: ['attest', 'sign', '--output', ''],
    offers: [],
    why: 'any value: left to the shell (file names)',
  },
  {
    words: ['attest', 'verify', 'artifact.txt', '--bun'],
    offers: ['--bundle'],
    why: "a command's own argument does not change the command",
  },
  {
    words: ['attest', 'verify', '--', '--bun'],
    offers: [],
    why: 'after --, arguments only',
  },
  { words: ['help', 'attest', 'v'], offers: ['verify'], why: 'help completes what it explains' },
  { words: ['help', '--nes'], offers: ['--nested-commands'], why: "help's own flags" },
  { words: ['nosuch', ''], offers: [], why: 'an unknown word: nothing of its own' },
];

test('bash: commands, topics, flags and fixed values, with each value flag followed', (t) => {
  const got = offers(
    'bash',
    CASES.map((c) => c.words),
  );
  CASES.forEach((c, i) => t.deepEqual(got[i], c.offers, `${c.why}: ${c.words.join(' ')}`));
  // bash splits --type=i into three words; the value after '=' is the flag's.
  t.deepEqual(
    offers('bash', [
      ['attest', 'sign', '--type', '=', 'i'],
      ['attest', 'sign', '--type', '='],
    ]),
    [['image'], ['blob', 'image']],
  );
});

(zshMissing === undefined ? test : test.skip)(
  `zsh, through bashcompinit: the same answers as bash${zshMissing ? ` [skipped: ${zshMissing}]` : ''}`,
  (t) => {
    const got = offers(
      'zsh',
      CASES.map((c) => c.words),
    );
    CASES.forEach((c, i) => t.deepEqual(got[i], c.offers, `${c.why}: ${c.words.join(' ')}`));
    // zsh keeps --type=i as one word.
    t.deepEqual(offers('zsh', [['attest', 'sign', '--type=']]), [['--type=blob', '--type=image']]);
  },
);

test('every visible command is reached by its words, and offers exactly its visible flags and --help', (t) => {
  const commands = listedUnder(config, '', true).commands;
  t.deepEqual(
    completedCommands(tree),
    commands.map((c) => spoken(c.id)),
  );
  const cases: string[][] = [];
  for (const c of commands) {
    const words = c.id.split(':');
    // The last word by its first letter, then the command's flags.
    cases.push([...words.slice(0, -1), words[words.length - 1]!.slice(0, 1)]);
    cases.push([...words, '--']);
  }
  // '--' at the cursor is a flag's start, not the end of flags: only a word before it ends them.
  const got = offers('bash', cases);
  commands.forEach((c, i) => {
    const words = c.id.split(':');
    t.true(got[2 * i]!.includes(words[words.length - 1]!), spoken(c.id));
    const flags = Object.values(c.flags)
      .filter((f) => !f.hidden)
      .map((f) => `--${f.name}`);
    t.deepEqual(got[2 * i + 1], [...flags, '--help'].sort(), spoken(c.id));
  });
  t.true(commands.length >= 30, 'the real command set');
});

test('the script names the version it describes and how to install it', (t) => {
  const bash = completionScript('bash', tree, META);
  t.true(bash.startsWith(`# bash completion for stella ${config.version}:`));
  t.regex(bash, /~\/\.local\/share\/bash-completion\/completions\/stella/);
  t.notRegex(bash, /bashcompinit/);
  const zsh = completionScript('zsh', tree, META);
  t.regex(zsh, /autoload -U \+X bashcompinit && bashcompinit/);
  t.true(zsh.endsWith('complete -o default -F _stella_complete stella\n'));
});

test('hidden commands are not completed (a fixture program: Stella has none)', async (t) => {
  const fixture = await Config.load(join(PROJECT_ROOT, 'test', 'fixtures', 'cli', 'oclif-hidden'));
  const small = completionTree(fixture);
  t.deepEqual(Object.fromEntries(small.children), { '': ['plain', 'tools'], tools: ['shown'] });
  t.deepEqual([...small.flags.keys()].sort(), ['plain', 'tools:shown']);
});
