/**
 * `stella help [COMMAND...]`, in place of oclif's help plugin so that it reads its command
 * line as every other command does: an unknown command or topic is a usage error naming the
 * closest one (exit 2), and `--json` gives the help as one object (src/commands/help-subject.ts)
 * for tools that build on the CLI. The text itself is oclif's, as `-h` and `--help` print it.
 */
import { Args, Flags, Help, type Interfaces } from '@oclif/core';
import { StellaCommand } from './base.js';
import { helpJson, helpSubject, listedUnder } from './help-subject.js';

/**
 * oclif's help text, with `-n` meaning what it means in --json: every command under the
 * subject. (oclif's own `all` option nests at the root only, and shows hidden commands too.)
 */
class StellaHelp extends Help {
  constructor(
    config: Interfaces.Config,
    private readonly nested: boolean,
  ) {
    super(config);
  }

  protected override async showRootHelp(): Promise<void> {
    if (!this.nested) return super.showRootHelp();
    this.log(this.formatRoot());
    this.log('');
    this.showListed('');
  }

  protected override async showTopicHelp(topic: Interfaces.Topic): Promise<void> {
    if (!this.nested) return super.showTopicHelp(topic);
    this.log(this.formatTopic(topic));
    this.showListed(topic.name);
  }

  private showListed(parent: string): void {
    const { topics, commands } = listedUnder(this.config, parent, true);
    if (topics.length > 0) this.log(`${this.formatTopics(topics)}\n`);
    if (commands.length > 0) this.log(`${this.formatCommands(commands)}\n`);
  }
}

export default class HelpCommand extends StellaCommand {
  static override summary = 'Show help for stella, a topic or a command';
  static override description =
    'With no words, lists the topics and commands; `stella help trust` lists a topic; `stella help attest verify` shows a command with its flags. An unknown name is a usage error (exit 2) naming the closest command. With --json, one object: kind "root", "topic" or "command", and the topics, commands, arguments, flags and examples.';

  static override examples = [
    '<%= config.bin %> help attest verify',
    '<%= config.bin %> help trust --json',
  ];

  static override args = {
    command: Args.string({ description: 'a topic or command, as words', required: false }),
  };

  static override strict = false;
  static override flags = {
    'nested-commands': Flags.boolean({
      char: 'n',
      description: 'list every command under the topic, not only its direct ones',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(HelpCommand);
    const words = argv as string[];
    const subject = helpSubject(this.config, words);
    if (this.jsonMode) {
      this.printJson(helpJson(this.config, subject, flags['nested-commands']));
      return;
    }
    const help = new StellaHelp(this.config, flags['nested-commands']);
    if (subject.kind === 'command') await help.showCommandHelp(subject.command);
    else await help.showHelp(words);
  }
}
