/**
 * A private key named as cosign's `--key` names one when it signs: a file (PEM, or cosign's
 * encrypted key with $COSIGN_PASSWORD), or `env://VAR`, the key in an environment variable,
 * as CI jobs pass `COSIGN_PRIVATE_KEY` from a secret. Kept apart from ./key-ref.ts so the
 * verify path, which reads public keys only, does not load the cipher a cosign key needs.
 */
import type { KeyObject } from 'node:crypto';
import {
  COSIGN_PASSWORD_ENV,
  parsePrivateKeyPem,
  readPrivateKeyFile,
} from '../sign/private-key.js';
import { quoted } from '../util/text.js';
import { resolveKeyRef } from './key-ref.js';

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
  if (target.kind === 'file')
    return readPrivateKeyFile(target.path, { what, env, ...(opts.secret ? { secret: true } : {}) });
  return parsePrivateKeyPem(target.text, `${what} ${quoted(ref)}`, () => env[COSIGN_PASSWORD_ENV]);
}
