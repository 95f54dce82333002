/**
 * oclif's `init` hook, for two cases oclif answers in its own way:
 * - A topic given flags or words (`stella trust --bogus`). oclif shows the topic's help for it
 *   and exits 0, dropping what followed, so a typo in a script passes. It is a usage error
 *   here, exit 2, one JSON object with --json, as a flag unknown to a command is. `stella trust`
 *   alone, and with -h/--help, still prints the help.
 * - Help asked of an unknown command (`stella verify-blob --help`, `stella attest verfy -h`,
 *   `stella --help foo`). oclif's help says "Command attest:verfy not found" in its own words,
 *   with no hint and no JSON; here it is said as `stella help attest verfy` says it.
 */
import type { Hook, Interfaces } from '@oclif/core';
import { quoted } from '../../util/text.js';
import { asksForJson, flagWords } from '../argv.js';
import { spoken, unknownCommandMessage } from '../help-subject.js';
import { printUsageError } from '../render.js';

const isHelpFlag = (a: string): boolean => a === '--help' || a === '-h';

/**
 * The command id help is asked for, when it names no command or topic; undefined otherwise.
 * oclif reads words into `id` until they name a command, so an `id` that names none is
 * unknown; `stella --help WORDS` leaves the words in argv.
 */
function unknownHelpSubject(
  id: string,
  argv: readonly string[],
  config: Interfaces.Config,
): string | undefined {
  const known = (c: string): boolean => !!config.findCommand(c) || !!config.findTopic(c);
  if (!isHelpFlag(id)) return known(id) || id.startsWith('-') ? undefined : id;
  const first = flagWords(argv).findIndex((a) => a.startsWith('-'));
  const words = flagWords(argv).slice(0, first === -1 ? undefined : first);
  // Words after a command are its arguments, as oclif reads them.
  for (let n = 1; n <= words.length; n++)
    if (config.findCommand(words.slice(0, n).join(':'))) return undefined;
  return words.length === 0 || known(words.join(':')) ? undefined : words.join(':');
}

// eslint-disable-next-line @typescript-eslint/require-await -- oclif awaits a hook's promise
const hook: Hook<'init'> = async function ({ id, argv, config }) {
  if (id === undefined) return;
  const helpAsked = isHelpFlag(id) || flagWords(argv).some(isHelpFlag);
  const unknown = helpAsked ? unknownHelpSubject(id, argv, config) : undefined;
  // Stops oclif before its help runs; an exit error is not printed again.
  if (unknown !== undefined)
    this.exit(printUsageError(unknownCommandMessage(config, unknown), asksForJson(argv)));
  if (config.findCommand(id) || !config.findTopic(id)) return;
  if (helpAsked) return;
  const first = argv.find((a) => a !== '--');
  if (first === undefined) return;
  // The first word is a flag unless `--` came before it.
  const isFlag = argv[0] !== '--' && /^-./.test(first);
  const topic = spoken(id);
  const code = printUsageError(
    `"stella ${topic}" is a topic, not a command: it takes no ${isFlag ? `flag ${first}` : `argument ${quoted(first)}`} (\`stella help ${topic}\` lists its commands)`,
    asksForJson(argv),
  );
  // Stops oclif before it prints the topic's help; an exit error is not printed again.
  this.exit(code);
};

export default hook;
