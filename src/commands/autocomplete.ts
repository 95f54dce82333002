/**
 * `stella autocomplete [bash|zsh|fish]`: prints the completion script (src/commands/completion.ts),
 * in place of oclif's autocomplete plugin, which kept a cache under ~/.cache, ran `stella` on
 * every setup, knew no --json and worded its errors as oclif does.
 */
import { basename } from 'node:path';
import { Args } from '@oclif/core';
import { StellaCommand } from './base.js';
import { writeStdout } from './render.js';
import { quoted } from '../util/text.js';

/**
 * Every shell a script is made for. Here, not in completion.ts, so that loading the command
 * (oclif loads every command class at start) does not load the script builder.
 */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

export default class Autocomplete extends StellaCommand {
  static override summary = 'Print the shell completion script for bash, zsh or fish';
  static override description = [
    'The script completes commands, topics, flags and the values of flags with fixed options',
    '(`attest sign --type`: blob, image); after any other flag that takes a value it leaves the',
    'shell to complete file names. It needs no cache and runs no stella process while you',
    'complete; make it again after an upgrade. Without a shell, the one $SHELL names.',
    'With --json, one object: shell, version, install, commands and script.',
  ].join(' ');

  static override examples = [
    '<%= config.bin %> autocomplete bash > ~/.local/share/bash-completion/completions/stella',
    '<%= config.bin %> autocomplete zsh > ~/.stella-completion.zsh   # then source it from ~/.zshrc',
    '<%= config.bin %> autocomplete fish > ~/.config/fish/completions/stella.fish',
  ];

  static override args = {
    shell: Args.string({
      description: 'the shell to complete in (default: the one $SHELL names)',
      options: [...COMPLETION_SHELLS],
      required: false,
    }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Autocomplete);
    const shell = (args.shell ?? shellFromEnv(process.env.SHELL)) as CompletionShell | undefined;
    if (shell === undefined)
      this.usage(
        `say which shell: ${COMPLETION_SHELLS.join(', ')} ($SHELL is ${process.env.SHELL ? quoted(process.env.SHELL) : 'not set'})`,
      );
    const { completedCommands, completionInstall, completionScript, completionTree } =
      await import('./completion.js');
    const tree = completionTree(this.config);
    const meta = { bin: this.config.bin, version: this.config.version };
    const script = completionScript(shell, tree, meta);
    if (this.jsonMode) {
      this.printJson({
        ok: true,
        shell,
        version: meta.version,
        install: completionInstall(shell, meta.bin),
        commands: completedCommands(tree),
        script,
      });
      return;
    }
    writeStdout(script);
  }
}

/** The shell $SHELL names, when it is one the script is made for. */
export function shellFromEnv(shellPath: string | undefined): CompletionShell | undefined {
  const name = shellPath ? basename(shellPath) : '';
  return (COMPLETION_SHELLS as readonly string[]).includes(name)
    ? (name as CompletionShell)
    : undefined;
}
