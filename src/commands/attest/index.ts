import type { Command } from '@oclif/core';
import AttestVerify from './verify.js';
import AttestSign from './sign.js';
import AttestExportBundle from './export-bundle.js';
import AttestAttach from './attach.js';
import AttestImport from './import.js';
import AttestInspect from './inspect.js';

export const commands: Record<string, Command.Class> = {
  'attest:verify': AttestVerify,
  'attest:sign': AttestSign,
  'attest:export-bundle': AttestExportBundle,
  'attest:attach': AttestAttach,
  'attest:import': AttestImport,
  'attest:inspect': AttestInspect,
};
