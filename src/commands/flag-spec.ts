/**
 * A command's flags declared once as plain data, so that the oclif command and the
 * dependency-free launcher (bin/run.js fast path) accept exactly the same command line.
 */
export interface FlagSpec {
  type: 'string' | 'boolean';
  description: string;
  required?: boolean;
  default?: boolean;
  /** A string flag that may be given several times (each value kept, in order). */
  multiple?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

/** Values as parsed by either front end. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K]['type'] extends 'boolean' ? boolean : S[K]['multiple'] extends true ? string[] | undefined : string | undefined;
};
