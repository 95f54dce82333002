import type { Command } from '@oclif/core';
import SandboxUp from './up.js';
import SandboxDown from './down.js';
import SandboxToken from './token.js';
import SandboxFork from './fork.js';

export const commands: Record<string, Command.Class> = {
  'sandbox:up': SandboxUp,
  'sandbox:down': SandboxDown,
  'sandbox:token': SandboxToken,
  'sandbox:fork': SandboxFork,
};
