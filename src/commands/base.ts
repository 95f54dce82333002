/**
 * Shared command base: --json and --verbose, the one command-line reader (./argv.ts: the same
 * rules and wording as the fast verify launcher, a flag given twice refused), one error
 * handler mapping StellaError codes to exit codes (usage errors too: exit 2, and with --json
 * one JSON object on stdout), colour only on a TTY. Commands stay thin: parse flags, call the
 * library, render.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import { StellaError } from '../errors.js';
import { setLogLevel } from '../util/log.js';
import { terminalLine } from '../util/text.js';
import { asksForJson, inputAsUsage, parseArgv, usageError, type ArgvShape } from './argv.js';
import { VERBOSE_DESCRIPTION } from './flag-spec.js';
import {
  type Colour,
  colourEnabled,
  paint,
  printJson,
  printWarning,
  progressEnabled,
  reportError,
  writeStderr,
} from './render.js';

// oclif's FlagOutput / ArgOutput, which its package does not export.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FlagOutput = { [name: string]: any };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ArgOutput = { [name: string]: any };

/** The shape ./argv.ts checks, from an oclif command's flags and args. */
export function argvShapeOf(
  flags: Record<string, Interfaces.Flag<unknown>>,
  args: Record<string, unknown> | undefined,
  strict: boolean | undefined,
): ArgvShape {
  return {
    flags: Object.entries(flags).map(([name, f]) => ({
      name,
      char: f.char,
      takesValue: f.type === 'option',
      multiple: f.type === 'option' && Boolean((f as { multiple?: boolean }).multiple),
      required: Boolean(f.required),
      allowNo: f.type === 'boolean' && Boolean((f as { allowNo?: boolean }).allowNo),
      exclusive: f.exclusive,
      dependsOn: f.dependsOn,
      options: f.type === 'option' ? (f as { options?: readonly string[] }).options : undefined,
    })),
    args: Object.keys(args ?? {}),
    variadic: strict === false,
    requiredArgs: Object.entries(args ?? {})
      .filter(([, a]) => (a as { required?: boolean }).required)
      .map(([name, a]) => ({ name, description: (a as { description?: string }).description })),
  };
}

/** oclif's parser message, as one line in our wording (no "See more help", no colour). */
function oclifUsageMessage(message: string): string {
  return message
    .replace(/\u001b\[[0-9;]*m/g, '')
    .replace(/\n?See more help with --help\s*$/, '')
    .replace(/^The following errors? occurred:\s*/, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
}

export abstract class StellaCommand extends Command {
  static override enableJsonFlag = false;
  static override baseFlags = {
    json: Flags.boolean({
      description: 'print one JSON object (stable schema) on stdout',
      default: false,
    }),
    verbose: Flags.boolean({ description: VERBOSE_DESCRIPTION, default: false }),
  };

  protected get jsonMode(): boolean {
    return asksForJson(this.argv);
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

  protected warning(text: string): void {
    printWarning(text);
  }

  /** Progress lines for long work (progressEnabled); none with --json, whose run is one answer. */
  protected progress(text: string): void {
    if (progressEnabled() && !this.jsonMode) writeStderr(this.paint('dim', text) + '\n');
  }

  /** Our reader first (one wording, repeated flags refused), then oclif's for typed values. */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv: string[] = this.argv,
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const ctor = (options ?? this.ctor) as unknown as {
      flags?: Record<string, Interfaces.Flag<unknown>>;
      baseFlags?: Record<string, Interfaces.Flag<unknown>>;
      args?: Record<string, unknown>;
      strict?: boolean;
    };
    parseArgv(
      argv,
      argvShapeOf({ ...(ctor.baseFlags ?? {}), ...(ctor.flags ?? {}) }, ctor.args, ctor.strict),
    );
    if (argv.includes('--verbose')) setLogLevel('debug');
    return super.parse(options, argv);
  }

  /** A usage error found after parsing (two flags that do not go together, a bad value). */
  protected usage(message: string): never {
    throw usageError(message);
  }

  /** `f()`, checking flag values in the library: its INPUT_INVALID is a usage error here. */
  protected usageMistakes<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw inputAsUsage(e);
    }
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- oclif's Command.catch is async by contract
  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    if (err instanceof StellaError) {
      const code = reportError(err, this.jsonMode);
      process.exitCode = code;
      return this.exit(code);
    }
    // A command's own this.exit(code) reaches here too (oclif's ExitError, code EEXIT): its
    // output is already written, so it leaves with its code. An exit with 2 was taken for a
    // parser error and printed a second line, "error: EEXIT: 2" (until stop 48).
    if ((err as { code?: unknown }).code === 'EEXIT') throw err;
    // oclif's parser errors (options, exclusive flags, ...) in the same wording as ours.
    if ((err as { parse?: unknown }).parse !== undefined || err.oclif?.exit === 2) {
      const code = reportError(usageError(oclifUsageMessage(err.message)), this.jsonMode);
      process.exitCode = code;
      return this.exit(code);
    }
    // oclif's other errors that carry an exit status keep it.
    if (err.oclif?.exit !== undefined) throw err;
    if (this.jsonMode)
      this.printJson({
        ok: false,
        error: { code: 'INTERNAL', check: 'internal', message: err.message, exitCode: 1 },
      });
    else writeStderr(`error: internal: ${terminalLine(err.message)}\n`);
    return this.exit(1);
  }
}
