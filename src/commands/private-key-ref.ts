/**
 * A private key named as cosign's `--key` names one when it signs: a file, or `env://VAR`, the
 * key in an environment variable, as CI jobs pass `COSIGN_PRIVATE_KEY` from a secret. A cosign
 * key's password is $COSIGN_PASSWORD, else asked on the terminal. Kept apart from ./key-ref.ts
 * so the verify path, which reads public keys only, does not load the cipher a cosign key needs.
 */
import type { KeyObject } from 'node:crypto';
import {
  COSIGN_PASSWORD_ENV,
  parsePrivateKeyPem,
  readPrivateKeyFile,
} from '../sign/private-key.js';
import { quoted } from '../util/text.js';
import { resolveKeyRef } from './key-ref.js';
import { fail } from '../errors.js';
import { askPasswordOnTerminal, INPUT_ENDED } from './terminal-password.js';

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
  // As cosign: $COSIGN_PASSWORD when set (even empty), else asked on the terminal.
  const password = (): string | undefined => {
    const set = env[COSIGN_PASSWORD_ENV];
    if (set !== undefined) return set;
    const typed = askPasswordOnTerminal(`Enter password for private key (${what} ${ref}): `);
    if (typed === INPUT_ENDED)
      fail(
        'INPUT_INVALID',
        'input',
        `${what} ${quoted(ref)}: no password was typed (the input ended)`,
      );
    return typed;
  };
  if (target.kind === 'file')
    return readPrivateKeyFile(target.path, {
      what,
      password,
      ...(opts.secret ? { secret: true } : {}),
    });
  return parsePrivateKeyPem(target.text, `${what} ${quoted(ref)}`, password);
}
