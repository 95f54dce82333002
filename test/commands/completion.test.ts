/**
 * The completion script (src/commands/completion.ts), made from the project's real oclif
 * configuration and run in real shells: bash, zsh through its bashcompinit, and fish (zsh and
 * fish from Debian's packages, which scripts/ensure-test-tools.sh installs; without one, its
 * test is declared skipped). Each case sets the words a user typed, the last one at the
 * cursor, and reads what the shell offers.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '@oclif/core';
import {
  completedCommands,
  completionScript,
  completionTree,
} from '../../src/commands/completion.js';
import type { CompletionShell } from '../../src/commands/autocomplete.js';
import { listedUnder, spoken } from '../../src/commands/help-subject.js';
import { fishQuoted, shellQuoted } from '../../src/util/text.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { osTool } from '../helpers/os-tools.js';

const config = await Config.load(PROJECT_ROOT);
const tree = completionTree(config);
const META = { bin: 'stella', version: config.version };

const ZSH = osTool('/usr/bin/zsh', 'zsh');
const FISH = osTool('/usr/bin/fish', 'fish');

/** The files in the folder each shell completes in: what "file names" are in the cases. */
const FILES = ['artifact.txt', 'out.json'];

/**
 * What the script offers for each case, in one shell process started in a folder holding
 * FILES. bash: the function is called as bash's `complete -F` calls it (file names are then
 * bash's own `-o default`, not the function's). zsh: through bashcompinit's `compgen -F`, as
 * its completion widget calls it; zsh's compgen does not filter by the word at the cursor (zsh's
 * matcher does that later), so the zsh lists are filtered here the same way. fish: `complete -C`
 * on the whole command line, what fish itself offers, file names included.
 */
function offers(shell: CompletionShell, cases: string[][]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'stella-completion-'));
  const work = join(dir, 'work');
  mkdirSync(work);
  for (const f of FILES) writeFileSync(join(work, f), '');
  const script = join(dir, `stella.${shell}`);
  writeFileSync(script, completionScript(shell, tree, META));
  let driver: string;
  let argv: [string, string[]];
  if (shell === 'fish') {
    driver = [
      `source ${fishQuoted(script)}`,
      ...cases.map(
        (words) =>
          `echo (complete -C ${fishQuoted(['stella', ...words].join(' '))} | string replace -r '\\t.*' '')`,
      ),
      'complete -c stella',
    ].join('\n');
    // fish reads a script from a file, not from a pipe it did not start with.
    writeFileSync(join(dir, 'driver.fish'), driver);
    argv = [FISH.path, ['--no-config', join(dir, 'driver.fish')]];
  } else {
    const call =
      shell === 'bash'
        ? '_stella_complete; printf "%s\\n" "${COMPREPLY[*]}"'
        : 'printf "%s\\n" "$(compgen -F _stella_complete -- "${COMP_WORDS[-1]}" | tr "\\n" " ")"';
    driver = [
      `source ${shellQuoted(script)}`,
      `t() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); ${call}; }`,
      ...cases.map((words) => `t stella ${words.map(shellQuoted).join(' ')}`),
      shell === 'bash' ? 'complete -p stella' : 'print -r -- "$_comps[stella]"',
    ].join('\n');
    argv = shell === 'bash' ? ['bash', ['--norc']] : [ZSH.path, ['-f']];
  }
  const r = spawnSync(argv[0], argv[1], {
    input: driver,
    cwd: work,
    encoding: 'utf8',
    // zsh's compinit writes its dump under ZDOTDIR (else HOME), fish its history and variables
    // under XDG folders: keep all of it out of the user's.
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      ZDOTDIR: dir,
      XDG_CONFIG_HOME: dir,
      XDG_DATA_HOME: dir,
      TERM: 'dumb',
    },
  });
  if (r.status !== 0) throw new Error(`${shell} exited ${r.status}: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  const registration = lines[cases.length]!;
  const registered =
    shell === 'fish'
      ? /complete --no-files stella -a '\(__stella_complete\)'/
      : /-o default -F _stella_complete/;
  if (!registered.test(registration))
    throw new Error(`${shell}: stella is not registered: ${registration}`);
  return cases.map((words, i) => {
    const cur = words[words.length - 1]!;
    const got = lines[i]!.split(' ').filter((w) => w !== '');
    return shell === 'zsh' && !cur.includes('=') ? got.filter((w) => w.startsWith(cur)) : got;
  });
}

/**
 * `offers`: what the function itself gives. `files`: the shell completes file names there
 * (bash and zsh through `-o default`, after the function gave nothing; fish through the
 * function), so fish's answer is the files that start with the word at the cursor.
 */
const CASES: { words: string[]; offers: string[]; files?: true; why: string }[] = [
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
    files: true,
    why: 'any value: file names',
  },
  {
    words: ['attest', 'verify', 'ar'],
    offers: [],
    files: true,
    why: "a command's own argument: file names",
  },
  {
    words: ['attest', 'verify', 'artifact.txt', '--bun'],
    offers: ['--bundle'],
    why: "a command's own argument does not change the command",
  },
  {
    words: ['attest', 'verify', '--', ''],
    offers: [],
    files: true,
    why: 'after --, arguments only',
  },
  { words: ['help', 'attest', 'v'], offers: ['verify'], why: 'help completes what it explains' },
  { words: ['help', '--nes'], offers: ['--nested-commands'], why: "help's own flags" },
  { words: ['nosuch', ''], offers: [], why: 'an unknown word: nothing of its own' },
];

const expected = (c: (typeof CASES)[number], shell: CompletionShell): string[] =>
  c.files && shell === 'fish' ? FILES.filter((f) => f.startsWith(c.words.at(-1)!)) : c.offers;

/** Every case of CASES in `shell`, then how that shell splits --type=VALUE. */
function answersEveryCase(
  t: ExecutionContext,
  shell: CompletionShell,
  typeEquals: { words: string[][]; offers: string[][] },
): void {
  const got = offers(
    shell,
    CASES.map((c) => c.words),
  );
  CASES.forEach((c, i) =>
    t.deepEqual(got[i], expected(c, shell), `${c.why}: ${c.words.join(' ')}`),
  );
  t.deepEqual(offers(shell, typeEquals.words), typeEquals.offers);
}

/** A test that needs a shell declared skipped, with the reason, when that shell is missing. */
const withShell = (
  missing: string | undefined,
  title: string,
  impl: (t: ExecutionContext) => void,
) =>
  missing === undefined ? test(title, impl) : test.skip(`${title} [skipped: ${missing}]`, impl);

test('bash: commands, topics, flags and fixed values, with each value flag followed', (t) => {
  // bash splits --type=i into three words; the value after '=' is the flag's.
  answersEveryCase(t, 'bash', {
    words: [
      ['attest', 'sign', '--type', '=', 'i'],
      ['attest', 'sign', '--type', '='],
    ],
    offers: [['image'], ['blob', 'image']],
  });
});

withShell(ZSH.missing, 'zsh, through bashcompinit: the same answers as bash', (t) => {
  // zsh keeps --type= as one word.
  answersEveryCase(t, 'zsh', {
    words: [['attest', 'sign', '--type=']],
    offers: [['--type=blob', '--type=image']],
  });
});

withShell(
  FISH.missing,
  'fish, through complete -C: the same answers, file names from the function',
  (t) => {
    // fish keeps --type=i as one word too.
    answersEveryCase(t, 'fish', {
      words: [['attest', 'sign', '--type=i']],
      offers: [['--type=image']],
    });
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
  const fish = completionScript('fish', tree, META);
  t.regex(fish, /~\/\.config\/fish\/completions\/stella\.fish/);
  t.true(fish.endsWith("complete -c stella -f -a '(__stella_complete)'\n"));
});

test('hidden commands are not completed (a fixture program: Stella has none)', async (t) => {
  const fixture = await Config.load(join(PROJECT_ROOT, 'test', 'fixtures', 'cli', 'oclif-hidden'));
  const small = completionTree(fixture);
  t.deepEqual(Object.fromEntries(small.children), { '': ['plain', 'tools'], tools: ['shown'] });
  t.deepEqual([...small.flags.keys()].sort(), ['plain', 'tools:shown']);
});
