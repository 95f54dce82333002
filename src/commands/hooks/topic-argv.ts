/**
 * oclif's `init` hook, for one case: a topic given flags or words (`stella trust --bogus`).
 * oclif shows the topic's help for it and exits 0, dropping what followed, so a typo in a
 * script passes. It is a usage error here, exit 2, one JSON object with --json, as a flag
 * unknown to a command is. `stella trust` alone, and with -h/--help, still prints the help.
 */
import type { Hook } from '@oclif/core';
import { quoted } from '../../util/text.js';
import { asksForJson, flagWords } from '../argv.js';
import { spoken } from '../help-subject.js';
import { printUsageError } from '../render.js';

// eslint-disable-next-line @typescript-eslint/require-await -- oclif awaits a hook's promise
const hook: Hook<'init'> = async function ({ id, argv, config }) {
  if (id === undefined || config.findCommand(id) || !config.findTopic(id)) return;
  if (flagWords(argv).some((a) => a === '--help' || a === '-h')) return;
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
