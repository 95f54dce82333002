/**
 * Output shared by every command, with or without oclif: JSON on stdout, one-line errors on
 * stderr, colour only on a TTY (and never with NO_COLOR).
 */
import { StellaError } from '../errors.js';

export type Colour = 'red' | 'green' | 'yellow' | 'dim' | 'bold';

export function colourEnabled(json: boolean): boolean {
  // isTTY is undefined, not false, when stdout is not a terminal (@types/node says boolean).
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion
  return Boolean(process.stdout.isTTY) && !json && !process.env.NO_COLOR;
}

/** Colour for stderr lines (errors, warnings, progress): only when stderr is a terminal. */
export function stderrColour(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- see colourEnabled
  return Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
}

export function paint(enabled: boolean, colour: Colour, text: string): string {
  if (!enabled) return text;
  const c = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 }[colour];
  return `\u001b[${c}m${text}\u001b[0m`;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** The one-line human form of a failed check: `error: <check>: <message>` on stderr. */
export function printErrorLine(check: string, message: string): void {
  process.stderr.write(`${paint(stderrColour(), 'red', 'error')}: ${check}: ${message}\n`);
}

/** oclif's exit status for a usage error (bad or missing flags). */
export const USAGE_EXIT_CODE = 2;

/** A usage error the way oclif prints one: one line on stderr, a pointer to --help; exit 2. */
export function printUsageError(message: string): number {
  process.stderr.write(`error: ${message}\nSee more help with --help\n`);
  return USAGE_EXIT_CODE;
}

/** Print a StellaError the one way every command does; returns its exit code. */
export function reportError(err: StellaError, json: boolean): number {
  if (json) printJson({ ok: false, error: err.toJSON() });
  else printErrorLine(err.check, err.message);
  return err.exitCode;
}
