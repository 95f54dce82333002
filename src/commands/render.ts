/**
 * Output shared by every command, with or without oclif: JSON on stdout, one-line errors on
 * stderr, colour only on a TTY (and never with NO_COLOR).
 */
import { StellaError } from '../errors.js';
import { logEnabled } from '../util/log.js';
import { terminalLine, terminalText } from '../util/text.js';

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

/**
 * Progress lines for long work go to stderr, only when it is a terminal, and not when
 * STELLA_NO_PROGRESS is set (a terminal being recorded, say). Every command asks here.
 */
export function progressEnabled(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- see colourEnabled
  return Boolean(process.stderr.isTTY) && !process.env.STELLA_NO_PROGRESS;
}

export function paint(enabled: boolean, colour: Colour, text: string): string {
  if (!enabled) return text;
  const c = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 }[colour];
  return `\u001b[${c}m${text}\u001b[0m`;
}

/**
 * Every write of a command's output goes through these two: what a terminal would act on
 * (escape sequences, carriage returns, bidirectional controls) is shown escaped, since
 * output quotes bundles, certificates and servers (`attest inspect` of a hostile bundle
 * cleared the screen and set the window title). See terminalText.
 */
export function writeStdout(text: string): void {
  process.stdout.write(terminalText(text));
}

export function writeStderr(text: string): void {
  process.stderr.write(terminalText(text));
}

export function printJson(value: unknown): void {
  writeStdout(JSON.stringify(value, null, 2) + '\n');
}

/** One JSON Lines record on stdout: the value on a single line (`--json-lines`). */
export function printJsonLine(value: unknown): void {
  writeStdout(JSON.stringify(value) + '\n');
}

/** The one-line human form of a failed check: `error: <check>: <message>` on stderr. */
export function printErrorLine(check: string, message: string): void {
  writeStderr(`${paint(stderrColour(), 'red', 'error')}: ${check}: ${terminalLine(message)}\n`);
}

/** oclif's exit status for a usage error (bad or missing flags). */
export const USAGE_EXIT_CODE = 2;

/**
 * A usage error, the one way every command prints one (oclif commands and the fast verify
 * launcher alike): `error: <message>` and a pointer to --help on stderr, or with --json one
 * `{ok:false,error:{code:"USAGE_ERROR",...}}` object on stdout; exit 2.
 */
export function printUsageError(message: string, json = false): number {
  return reportError(new StellaError('USAGE_ERROR', 'input', message), json);
}

/** Print a StellaError the one way every command does; returns its exit code. */
export function reportError(err: StellaError, json: boolean): number {
  if (json) printJson({ ok: false, error: err.toJSON() });
  else if (err.code === 'USAGE_ERROR')
    writeStderr(
      `${paint(stderrColour(), 'red', 'error')}: ${terminalLine(err.message)}\nSee more help with --help\n`,
    );
  else printErrorLine(err.check, err.message);
  return err.exitCode;
}

/** A warning line on stderr (`warning: ...`), unless the log level is `error`. */
export function printWarning(text: string): void {
  if (logEnabled('warn'))
    writeStderr(`${paint(stderrColour(), 'yellow', 'warning')}: ${terminalLine(text)}\n`);
}
