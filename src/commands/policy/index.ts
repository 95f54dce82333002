import type { Command } from '@oclif/core';
import PolicyLint from './lint.js';
import PolicyTest from './test.js';

export const commands: Record<string, Command.Class> = {
  'policy:lint': PolicyLint,
  'policy:test': PolicyTest,
};
