/**
 * Ask for a password on the terminal, as cosign asks for a key's password when
 * $COSIGN_PASSWORD is unset and standard input is a terminal (cosign's GetPassFromTerm).
 *
 * The reading is done by `sh` on the controlling terminal: it turns echo off, writes the
 * prompt, reads one line, and turns echo back on, also when the user presses Ctrl-C (a trap
 * the shell runs while Node, in a synchronous read, could not). The password comes back on a
 * pipe, never in an argument or the environment.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';

const READ_WITHOUT_ECHO = [
  "trap 'stty echo' EXIT",
  // A newline first: the cursor is left after the prompt.
  'trap \'printf "\\n" >&2; exit 130\' INT TERM HUP',
  'stty -echo',
  'printf "%s" "$1" >&2',
  'IFS= read -r password',
  'status=$?',
  'printf "\\n" >&2',
  '[ $status -eq 0 ] || exit 1',
  'printf "%s" "$password"',
].join('\n');

/** The shell's exit status on Ctrl-C, and this process's: 128 + SIGINT, as a shell reports it. */
const INTERRUPTED = 130;

/** What the terminal gave when the input ended (Ctrl-D) before a line was typed. */
export const INPUT_ENDED = Symbol('input ended');

/**
 * The line typed after `prompt`; undefined when there is no terminal to ask on (standard input
 * is not one, or the process has no controlling terminal); INPUT_ENDED on Ctrl-D. Ctrl-C ends
 * the process (exit 130) once the terminal echoes again.
 */
export function askPasswordOnTerminal(prompt: string): string | typeof INPUT_ENDED | undefined {
  // isatty, not process.stdin.isTTY: that getter opens standard input as a stream.
  if (!isatty(0)) return undefined;
  let tty: number;
  try {
    tty = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  // Ctrl-C reaches this process and the shell alike. The shell owns it: it turns echo back
  // on and exits 130, and only then does this process end, the same way. Dying at once
  // instead would race the shell's restoring of the terminal.
  const interrupted = (): void => {};
  process.on('SIGINT', interrupted);
  try {
    return execFileSync('sh', ['-c', READ_WITHOUT_ECHO, 'stella', prompt], {
      stdio: [tty, 'pipe', tty],
      encoding: 'utf8',
      maxBuffer: 64 * 1024,
    });
  } catch (e) {
    const status = (e as { status?: unknown }).status;
    if (status === INTERRUPTED) process.exit(INTERRUPTED);
    // The shell exits 1 when `read` meets the end of input; anything else: no terminal after all.
    return status === 1 ? INPUT_ENDED : undefined;
  } finally {
    process.off('SIGINT', interrupted);
    closeSync(tty);
  }
}
