/**
 * A private key named as cosign's `--key` names one when it signs: a file, or `env://VAR`, the
 * key in an environment variable, as CI jobs pass `COSIGN_PRIVATE_KEY` from a secret. A cosign
 * key's password is $COSIGN_PASSWORD, else asked on the terminal, else read from standard input
 * (cosign's readPasswordFn: `printf '%s' "$PW" | cosign sign-blob --key cosign.key`). Kept
 * apart from ./key-ref.ts so the verify path, which reads public keys only, does not load the
 * cipher a cosign key needs.
 */
import type { KeyObject } from 'node:crypto';
import {
  COSIGN_PASSWORD_ENV,
  parsePrivateKeyPem,
  readPrivateKeyFile,
  type KeyPassword,
} from '../sign/private-key.js';
import { quoted } from '../util/text.js';
import { resolveKeyRef } from './key-ref.js';
import { fail } from '../errors.js';
import { askPasswordOnTerminal, INPUT_ENDED } from './terminal-password.js';
import { isatty } from 'node:tty';
import { writeStderr } from './render.js';
import { readTextFileBounded, stdinReadFor, STDIN_PATH } from '../util/fs.js';

/** A password read from standard input: far more than any passphrase, bounded as every input is. */
const MAX_PASSWORD_BYTES = 64 * 1024;

/** The private key `ref` names; `secret`: a file must be the user's own, mode 0600. */
export function readPrivateKeyRef(
  ref: string,
  what: string,
  opts: { secret?: boolean; env?: NodeJS.ProcessEnv } = {},
): KeyObject {
  const env = opts.env ?? process.env;
  const target = resolveKeyRef(
    ref,
    what,
    env,
    () =>
      'Stella signs with a local key only: give a PEM or cosign.key file, or the key in an environment variable (env://VAR)',
  );
  // As cosign: $COSIGN_PASSWORD when set (even empty), else asked on the terminal, else all of
  // standard input (a pipe, a file), every byte of it.
  const password = (): KeyPassword | undefined => {
    const set = env[COSIGN_PASSWORD_ENV];
    if (set !== undefined) return { value: set, from: `$${COSIGN_PASSWORD_ENV}` };
    const typed = askPasswordOnTerminal(`Enter password for private key (${what} ${ref}): `);
    if (typed === INPUT_ENDED)
      fail(
        'INPUT_INVALID',
        'input',
        `${what} ${quoted(ref)}: no password was typed (the input ended)`,
      );
    if (typed !== undefined) return { value: typed, from: 'the password typed' };
    // A terminal with no controlling terminal to ask on: nothing can be read without echo.
    if (isatty(0)) return undefined;
    const taken = stdinReadFor();
    if (taken !== undefined)
      fail(
        'INPUT_INVALID',
        'input',
        `${what} ${quoted(ref)}: a cosign encrypted private key, and standard input was read for ${taken}: set $${COSIGN_PASSWORD_ENV} to its password`,
      );
    // Said where a person may be waiting: an open pipe that is never closed would wait for ever.
    if (isatty(2))
      writeStderr(
        `reading the password for ${what} ${ref} from standard input ($${COSIGN_PASSWORD_ENV} is not set)\n`,
      );
    const value = readTextFileBounded(STDIN_PATH, {
      what: `${what} ${quoted(ref)}: its password on standard input`,
      maxBytes: MAX_PASSWORD_BYTES,
    });
    const empty = `standard input was empty: set $${COSIGN_PASSWORD_ENV} to the key's password, or pipe it in`;
    return { value, from: 'the password on standard input', ...(value === '' && { hint: empty }) };
  };
  if (target.kind === 'file')
    return readPrivateKeyFile(target.path, {
      what,
      password,
      ...(opts.secret ? { secret: true } : {}),
    });
  return parsePrivateKeyPem(target.text, `${what} ${quoted(ref)}`, password);
}
