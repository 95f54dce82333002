/** oclif flag definitions built from a plain FlagSpecs table (see flag-spec.ts). */
import { Flags, type Interfaces } from '@oclif/core';
import type { FlagSpecs } from './flag-spec.js';

/** Every flag but --json and --verbose, which StellaCommand's baseFlags already declares. */
// oclif types a flag table by its flags; this one is built at run time from a FlagSpecs table.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function oclifFlags(spec: FlagSpecs): Interfaces.FlagInput<any> {
  return Object.fromEntries(
    Object.entries(spec)
      .filter(([name]) => name !== 'json' && name !== 'verbose')
      .map(([name, f]) => [
        name,
        f.type === 'boolean'
          ? Flags.boolean({ description: f.description, default: f.default ?? false })
          : f.multiple
            ? Flags.string({ description: f.description, multiple: true, multipleNonGreedy: true })
            : f.required
              ? Flags.string({ description: f.description, required: true })
              : Flags.string({ description: f.description }),
      ]),
  );
}
