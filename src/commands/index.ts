/** oclif explicit command strategy: one map of every command, built from per-topic maps. */
import { commands as attest } from './attest/index.js';
import { commands as trust } from './trust/index.js';
import { commands as sandbox } from './sandbox/index.js';
import { commands as policy } from './policy/index.js';
import HelpCommand from './help.js';
import Autocomplete from './autocomplete.js';

export const COMMANDS = {
  ...attest,
  ...trust,
  ...sandbox,
  ...policy,
  help: HelpCommand,
  autocomplete: Autocomplete,
};
