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

/**
 * The line typed after `prompt`, or undefined when there is no terminal to ask on (standard
 * input is not one, or the process has no controlling terminal) or the user gave up (Ctrl-C,
 * Ctrl-D).
 */
export function askPasswordOnTerminal(prompt: string): string | undefined {
  // isatty, not process.stdin.isTTY: that getter opens standard input as a stream.
  if (!isatty(0)) return undefined;
  let tty: number;
  try {
    tty = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  try {
    return execFileSync('sh', ['-c', READ_WITHOUT_ECHO, 'stella', prompt], {
      stdio: [tty, 'pipe', tty],
      encoding: 'utf8',
      maxBuffer: 64 * 1024,
    });
  } catch {
    return undefined;
  } finally {
    closeSync(tty);
  }
}
