/**
 * Shell completion for `stella autocomplete bash|zsh|fish`: one self-contained script with the
 * commands, topics and flags written into it, as `cosign completion` and `kubectl completion`
 * print theirs. Nothing is cached on disk and nothing runs `stella` while the shell completes,
 * so a TAB costs no process start; the price is that the script is made again after an upgrade
 * (its first line names the version it describes).
 *
 * The same bash function serves zsh through zsh's `bashcompinit`, which runs it under `sh`
 * emulation (zero-based arrays, as in bash). It reads the words before the cursor, follows the
 * topics and commands they name, skips each flag's value, and then offers: a flag's values when
 * the word before is a flag with fixed options (`--type`: blob, image); nothing of its own after
 * a flag that takes any value, or after a command's own words, so the shell completes file
 * names (`-o default`); the command's flags for a word starting with `-`; otherwise the topics
 * and commands under the words so far. After `help`, the words are completed as at the root
 * (`stella help attest v` → verify). fish gets the same walk written in fish (fishFunction),
 * which prints file names itself where bash leaves them to the shell.
 */
import type { Interfaces } from '@oclif/core';
import { fishQuoted, shellQuoted } from '../util/text.js';
import { flagsJson, listedUnder, spoken } from './help-subject.js';
import type { CompletionShell } from './autocomplete.js';

type Config = Interfaces.Config;

export interface CompletionFlag {
  /** `--name`, and `-c` when the flag has a one-letter form. */
  names: string[];
  takesValue: boolean;
  /** The values a value flag accepts, when oclif knows them (`options`); else any. */
  options: string[] | null;
}

export interface CompletionTree {
  /** The words that may follow a topic or command path (`''` for the root, `trust:keys`, ...). */
  children: Map<string, string[]>;
  /** Each command's flags, by id. */
  flags: Map<string, CompletionFlag[]>;
}

/** The visible commands and topics of `config` as a tree of words, with each command's flags. */
export function completionTree(config: Config): CompletionTree {
  const children = new Map<string, string[]>();
  const flags = new Map<string, CompletionFlag[]>();
  const add = (parent: string, word: string): void => {
    const list = children.get(parent) ?? [];
    if (!list.includes(word)) list.push(word);
    children.set(parent, list);
  };
  for (const command of listedUnder(config, '', true).commands) {
    const words = command.id.split(':');
    words.forEach((word, i) => add(words.slice(0, i).join(':'), word));
    flags.set(command.id, [
      ...flagsJson(command).map((f) => ({
        names: [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])],
        takesValue: f.takesValue,
        options: f.options,
      })),
      // oclif reads --help and -h before the command's own flags (package.json additionalHelpFlags).
      { names: ['--help', '-h'], takesValue: false, options: null },
    ]);
  }
  for (const list of children.values()) list.sort();
  return { children, flags };
}

/** One `case` arm per key, setting `_stella_reply` to the words. */
function caseArms(entries: [string, string[]][]): string {
  return entries
    .map(
      ([key, words]) => `    ${shellQuoted(key)}) _stella_reply=${shellQuoted(words.join(' '))} ;;`,
    )
    .join('\n');
}

/** The three tables every shell's script carries, each as sorted [key, words] pairs. */
function completionTables(tree: CompletionTree): {
  children: [string, string[]][];
  longFlags: [string, string[]][];
  values: [string, string[]][];
} {
  const sorted = <T>(m: Map<string, T>): [string, T][] =>
    [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  const longFlags = sorted(tree.flags).map(([id, fs]): [string, string[]] => [
    id,
    fs.map((f) => f.names[0]!).sort(),
  ]);
  // Keyed "<command> <flag>": every spelling of a flag that takes a value, with its options.
  const values: [string, string[]][] = [];
  for (const [id, fs] of sorted(tree.flags))
    for (const f of fs.filter((x) => x.takesValue))
      for (const name of f.names) values.push([`${id} ${name}`, f.options ?? []]);
  return { children: sorted(tree.children), longFlags, values };
}

/** The completion function and its tables, in the subset of bash that zsh's bashcompinit runs. */
function completionFunction(tree: CompletionTree): string {
  const { children, longFlags, values } = completionTables(tree);
  return `# The words that may follow a topic or command (its id, words joined by ':').
_stella_children() {
  case "$1" in
${caseArms(children)}
    *) _stella_reply='' ;;
  esac
}

# A command's flags, long forms.
_stella_flags() {
  case "$1" in
${caseArms(longFlags)}
    *) _stella_reply='' ;;
  esac
}

# Whether flag $2 of command $1 takes a value (status 0), with its fixed values when it has any.
_stella_values() {
  case "$1 $2" in
${caseArms(values)}
    *) return 1 ;;
  esac
}

_stella_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path='' word flag='' i skip=0 helping=0 _stella_reply=''
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    # \`stella help WORDS\`: the words name a topic or command, completed as at the root.
    if [[ "$path" == '' && "$word" == 'help' && $helping == 0 ]]; then helping=1; continue; fi
    # bash splits --flag=value into three words: the value after '=' is the flag's.
    if [[ "$word" == '=' ]]; then skip=1; continue; fi
    if ((skip)); then skip=0; flag=''; continue; fi
    # After --, every word is an argument: the shell completes file names.
    if [[ "$word" == '--' ]]; then return 0; fi
    if [[ "$word" == -* ]]; then
      flag="\${word%%=*}"
      if [[ "$word" != *=* ]] && _stella_values "$path" "$flag"; then skip=1; fi
      continue
    fi
    _stella_children "$path"
    if [[ " $_stella_reply " == *" $word "* ]]; then
      path="\${path:+$path:}$word"
    else
      # A command's own argument; under a topic (no flags of its own), a word Stella does not know.
      _stella_flags "$path"
      if [[ -z "$_stella_reply" ]]; then return 0; fi
    fi
  done
  if [[ "$cur" == '=' ]]; then cur=''; fi
  if ((skip)); then
    # The word at the cursor is the value of $flag.
    _stella_values "$path" "$flag"
    COMPREPLY=($(compgen -W "$_stella_reply" -- "$cur"))
    return 0
  fi
  if [[ "$cur" == --*=* ]]; then
    # zsh keeps --flag=value as one word.
    _stella_values "$path" "\${cur%%=*}" &&
      COMPREPLY=($(compgen -P "\${cur%%=*}=" -W "$_stella_reply" -- "\${cur#*=}"))
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    if ((helping)); then _stella_flags help; else _stella_flags "$path"; fi
  else
    _stella_children "$path"
  fi
  COMPREPLY=($(compgen -W "$_stella_reply" -- "$cur"))
  return 0
}
`;
}

/** One `case` per key, echoing the words (fish's switch; the keys hold no wildcard). */
function switchArms(entries: [string, string[]][], indent: string): string {
  return entries
    .map(
      ([key, words]) =>
        `${indent}case ${fishQuoted(key)}\n${indent}    echo ${fishQuoted(words.join(' '))}`,
    )
    .join('\n');
}

/**
 * The fish form: the same walk as the bash function, as one function that prints the
 * candidates (fish filters them by the word at the cursor), and file names through fish's own
 * `__fish_complete_path` where bash leaves them to `-o default`.
 */
function fishFunction(tree: CompletionTree): string {
  const { children, longFlags, values } = completionTables(tree);
  return `# The words that may follow a topic or command (its id, words joined by ':').
function __stella_children
    switch "$argv[1]"
${switchArms(children, '        ')}
    end
end

# A command's flags, long forms.
function __stella_flags
    switch "$argv[1]"
${switchArms(longFlags, '        ')}
    end
end

# Whether flag $argv[2] of command $argv[1] takes a value (status 0), with its fixed values.
function __stella_values
    switch "$argv[1] $argv[2]"
${switchArms(values, '        ')}
        case '*'
            return 1
    end
end

function __stella_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -e words[1]
    set -l path ''
    set -l flag ''
    set -l skip 0
    set -l helping 0
    for word in $words
        if test $skip = 1
            set skip 0
            continue
        end
        # After --, every word is an argument: file names.
        if test "$word" = '--'
            __fish_complete_path "$cur"
            return
        end
        if string match -q -- '-*' "$word"
            if not string match -q -- '*=*' "$word"; and __stella_values "$path" "$word" >/dev/null
                set skip 1
                set flag "$word"
            end
            continue
        end
        # \`stella help WORDS\`: the words name a topic or command, completed as at the root.
        if test -z "$path"; and test "$word" = help; and test $helping = 0
            set helping 1
            continue
        end
        if contains -- "$word" (string split ' ' -- (__stella_children "$path"))
            if test -z "$path"
                set path "$word"
            else
                set path "$path:$word"
            end
        else if test -z "$(__stella_flags "$path")"
            # Under a topic (no flags of its own), a word Stella does not know.
            return
        end
    end
    if test $skip = 1
        # The word at the cursor is the value of $flag.
        set -l fixed (__stella_values "$path" "$flag")
        if test -n "$fixed"
            string split ' ' -- $fixed
        else
            __fish_complete_path "$cur"
        end
        return
    end
    if string match -q -- '--*=*' "$cur"
        set -l name (string split -m 1 '=' -- "$cur")[1]
        set -l fixed (__stella_values "$path" "$name")
        and test -n "$fixed"
        and for value in (string split ' ' -- $fixed)
            echo "$name=$value"
        end
        return
    end
    if string match -q -- '-*' "$cur"
        if test $helping = 1
            set path help
        end
        string split ' ' -- (__stella_flags "$path")
        return
    end
    set -l next (__stella_children "$path")
    if test -n "$next"
        string split ' ' -- $next
    else
        __fish_complete_path "$cur"
    end
end
`;
}

/** How to install the script, for its header and for --json. */
export function completionInstall(shell: CompletionShell, bin: string): string {
  switch (shell) {
    case 'bash':
      return `${bin} autocomplete bash > ~/.local/share/bash-completion/completions/${bin} (loaded by bash-completion), or write it anywhere and source that file from ~/.bashrc`;
    case 'zsh':
      return `${bin} autocomplete zsh > ~/.${bin}-completion.zsh, then source ~/.${bin}-completion.zsh from ~/.zshrc`;
    case 'fish':
      return `${bin} autocomplete fish > ~/.config/fish/completions/${bin}.fish (fish loads it on the first TAB)`;
  }
}

/** The whole script for `shell`: a header, the function, and its registration for `bin`. */
export function completionScript(
  shell: CompletionShell,
  tree: CompletionTree,
  meta: { bin: string; version: string },
): string {
  const header = [
    `# ${shell} completion for ${meta.bin} ${meta.version}: \`${meta.bin} autocomplete ${shell}\` made it.`,
    `# Install: ${completionInstall(shell, meta.bin)}.`,
    `# It lists the commands and flags of this version: make it again after an upgrade.`,
  ].join('\n');
  if (shell === 'fish')
    return `${header}\n\n${fishFunction(tree)}\n# Stella's function decides where file names are completed.\ncomplete -c ${meta.bin} -f -a '(__stella_complete)'\n`;
  const zshSetup =
    shell === 'zsh'
      ? `\n# zsh runs the bash function through bashcompinit, which needs compinit.\n(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }\nautoload -U +X bashcompinit && bashcompinit\n`
      : '';
  return `${header}\n${zshSetup}\n${completionFunction(tree)}\ncomplete -o default -F _stella_complete ${meta.bin}\n`;
}

/** The words of every command, as `stella help` spells them: for --json and the tests. */
export function completedCommands(tree: CompletionTree): string[] {
  return [...tree.flags.keys()].sort().map(spoken);
}
