/**
 * Shared command base: --json flag, one error handler mapping StellaError codes to exit codes,
 * and colour only on a TTY. Commands stay thin: parse flags, call the library, render.
 */
import { Command, Flags } from '@oclif/core';
import { EXIT_CODES, StellaError } from '../errors.js';

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
    return Boolean(process.stdout.isTTY) && !this.jsonMode && !process.env.NO_COLOR;
  }

  protected paint(code: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string): string {
    if (!this.isTty) return text;
    const c = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 }[code];
    return `\u001b[${c}m${text}\u001b[0m`;
  }

  protected printJson(value: unknown): void {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  }

  /** Progress lines for long work go to stderr, and only on a TTY. */
  protected progress(text: string): void {
    if (process.stderr.isTTY && !this.jsonMode) process.stderr.write(this.paint('dim', text) + '\n');
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof StellaError) {
      if (this.jsonMode) this.printJson({ ok: false, error: err.toJSON() });
      else process.stderr.write(`${this.paint('red', 'error')}: ${err.check}: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return this.exit(err.exitCode);
    }
    // oclif's own exit and usage errors keep their codes (usage errors exit 2).
    if (err.oclif?.exit !== undefined) throw err;
    if (this.jsonMode) this.printJson({ ok: false, error: { code: 'INTERNAL', message: err.message, exitCode: 1 } });
    else process.stderr.write(`error: internal: ${err.message}\n`);
    return this.exit(1);
  }
}

export { EXIT_CODES };
