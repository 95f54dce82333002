/**
 * The launcher bin/run.js uses for `stella attest verify` (without --help): the same flags
 * (VERIFY_FLAGS) and the same executor as the oclif command, parsed with node:util instead of
 * loading oclif, which alone costs more start-up than a whole @sigstore/verify run.
 * Usage errors match oclif's: a one-line message and exit 2.
 */
import { parseArgs } from 'node:util';
import { VERIFY_FLAGS } from './verify-spec.js';
import { executeVerify } from './verify-execute.js';
import { printUsageError as usage } from '../render.js';
import type { FlagValues } from '../flag-spec.js';

type Values = FlagValues<typeof VERIFY_FLAGS>;

export async function runVerifyFast(argv: string[]): Promise<number> {
  const options = Object.fromEntries(Object.entries(VERIFY_FLAGS).map(([name, f]) => [name, { type: f.type, ...('multiple' in f && f.multiple ? { multiple: true } : {}) }])) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | string[] | boolean | undefined>;
  } catch (e) {
    return usage((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  for (const [name, f] of Object.entries(VERIFY_FLAGS)) {
    if (values[name] === undefined) {
      if ('required' in f && f.required) return usage(`Missing required flag --${name}`);
      if (f.type === 'boolean') values[name] = 'default' in f ? f.default : false;
    }
  }
  return executeVerify(values as Values);
}
