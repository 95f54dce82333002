/**
 * Shared command base: --json flag, one error handler mapping StellaError codes to exit codes,
 * and colour only on a TTY. Commands stay thin: parse flags, call the library, render.
 */
import { Command, Flags } from '@oclif/core';
import { StellaError } from '../errors.js';
import { colourEnabled, paint, printJson, reportError, type Colour } from './render.js';

export abstract class StellaCommand extends Command {
  static override enableJsonFlag = false;
  static override baseFlags = {
    json: Flags.boolean({ description: 'print one JSON object (stable schema) on stdout', default: false }),
  };

  protected get jsonMode(): boolean {
    return this.argv.includes('--json');
  }

  /** True when humans are watching: colour and progress only then. */
  protected get isTty(): boolean {
    return colourEnabled(this.jsonMode);
  }

  protected paint(code: Colour, text: string): string {
    return paint(this.isTty, code, text);
  }

  protected printJson(value: unknown): void {
    printJson(value);
  }

  /** Progress lines for long work go to stderr, and only on a TTY. */
  protected progress(text: string): void {
    if (process.stderr.isTTY && !this.jsonMode) process.stderr.write(this.paint('dim', text) + '\n');
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- oclif's Command.catch is async by contract
  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof StellaError) {
      const code = reportError(err, this.jsonMode);
      process.exitCode = code;
      return this.exit(code);
    }
    // oclif's own exit and usage errors keep their codes (usage errors exit 2).
    if (err.oclif?.exit !== undefined) throw err;
    if (this.jsonMode) this.printJson({ ok: false, error: { code: 'INTERNAL', message: err.message, exitCode: 1 } });
    else process.stderr.write(`error: internal: ${err.message}\n`);
    return this.exit(1);
  }
}

