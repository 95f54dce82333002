/**
 * A command's flags declared once as plain data, so that the oclif command and the
 * dependency-free launcher (bin/run.js fast path) accept exactly the same command line.
 */
export interface FlagSpec {
  type: 'string' | 'boolean';
  description: string;
  required?: boolean;
  default?: boolean;
  /** A string flag that may be given more than once (values in order). */
  multiple?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

/** Values as parsed by either front end. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K]['type'] extends 'boolean'
    ? boolean
    : S[K] extends { multiple: true }
      ? string[] | undefined
      : string | undefined;
};

/** --verbose, on every command (declared here so the fast launcher needs no oclif). */
export const VERBOSE_DESCRIPTION =
  'show each step, request and decision on stderr (log level debug; or STELLAOPS_LOG_LEVEL=error|warn|info|debug)';

/** The shape ./argv.ts reads a command line with, from a FlagSpecs table. */
export function argvShapeOfSpecs(
  spec: FlagSpecs,
  args: readonly string[] = [],
): {
  flags: { name: string; takesValue: boolean; required: boolean; multiple: boolean }[];
  args: readonly string[];
} {
  return {
    flags: Object.entries(spec).map(([name, f]) => ({
      name,
      takesValue: f.type === 'string',
      required: Boolean(f.required),
      multiple: f.type === 'string' && f.multiple === true,
    })),
    args,
  };
}
