/**
 * oclif's `command_not_found` hook. With a space as topic separator, oclif reads leading words
 * into the command id for as long as the command it has found takes no positional argument:
 * `stella attest inspect b.json` arrives here as the id `attest:inspect:b.json`, and oclif alone
 * would say "command attest:inspect:b.json not found" (and ignore --json). A run that starts
 * with a real command is handed to that command, so its own reader names the extra word
 * ("unexpected argument"), with the wording and exit status of every other usage error. Any
 * other unknown command is a usage error of its own, naming the closest visible command or
 * topic (the same list `stella help` draws from).
 */
import type { Hook } from '@oclif/core';
import { asksForJson } from '../argv.js';
import { unknownCommandMessage } from '../help-subject.js';
import { printUsageError } from '../render.js';

const hook: Hook<'command_not_found'> = async function ({ id, argv = [], config }) {
  const words = id.split(':');
  for (let n = words.length - 1; n > 0; n--) {
    const command = words.slice(0, n).join(':');
    if (config.findCommand(command))
      return config.runCommand(command, [...words.slice(n), ...argv]);
  }
  const json = asksForJson(argv);
  if (id.startsWith('-')) {
    // `stella --bogus`: oclif takes a first word that is no command or topic for the id.
    process.exitCode = printUsageError(
      `unknown flag ${id}: a command comes first (\`stella --help\` lists them)`,
      json,
    );
    return;
  }
  process.exitCode = printUsageError(unknownCommandMessage(config, id), json);
};

export default hook;
