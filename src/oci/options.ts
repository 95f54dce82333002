/**
 * Registry options from the command line and the environment, shared by `attest sign`,
 * `attest attach`, `attest export-bundle` and `attest verify`:
 *
 *   --allow-insecure-registry   plain HTTP, to loopback registries only (127.0.0.0/8, ::1,
 *                               localhost); a non-loopback host must also be listed in
 *                               STELLA_INSECURE_REGISTRIES (comma-separated host[:port])
 *   --registry-username U       with the password on stdin (--registry-password-stdin), or
 *   STELLA_REGISTRY_USERNAME / STELLA_REGISTRY_PASSWORD
 *   otherwise the Docker config file, otherwise anonymous (./credentials.ts).
 */
import { fail } from '../errors.js';
import { readTextFileBounded, STDIN_PATH } from '../util/fs.js';
import { credentialsFromEnv } from './credentials.js';
import type { RegistryClientOptions } from './client.js';

export interface RegistryFlags {
  allowInsecureRegistry?: boolean | undefined;
  registryUsername?: string | undefined;
  /** Read the password from standard input. */
  registryPasswordStdin?: boolean | undefined;
}

const MAX_PASSWORD_BYTES = 64 * 1024;

/**
 * The password on standard input, as `docker login --password-stdin` takes it: read to its
 * end through the one bounded reader (a directory on stdin is refused by name, an endless
 * stream stops at the limit), strict UTF-8, one trailing newline dropped.
 */
function readPasswordFromStdin(): string {
  return readTextFileBounded(STDIN_PATH, {
    what: '--registry-password-stdin',
    maxBytes: MAX_PASSWORD_BYTES,
  }).replace(/\r?\n$/, '');
}

export function registryOptionsFrom(
  flags: RegistryFlags,
  env: NodeJS.ProcessEnv = process.env,
): RegistryClientOptions {
  if (flags.registryPasswordStdin && !flags.registryUsername)
    fail('INPUT_INVALID', 'input', '--registry-password-stdin needs --registry-username');
  // --registry-username takes its password from stdin or STELLA_REGISTRY_PASSWORD; otherwise
  // the two environment variables together.
  let explicit = flags.registryUsername === undefined ? credentialsFromEnv(env) : undefined;
  if (flags.registryUsername !== undefined) {
    if (!flags.registryPasswordStdin && env.STELLA_REGISTRY_PASSWORD === undefined) {
      fail(
        'INPUT_INVALID',
        'input',
        '--registry-username needs the password on standard input (--registry-password-stdin) or in STELLA_REGISTRY_PASSWORD; a password is never taken as a flag',
      );
    }
    const password = flags.registryPasswordStdin
      ? readPasswordFromStdin()
      : env.STELLA_REGISTRY_PASSWORD!;
    if (password.length === 0)
      fail('INPUT_INVALID', 'input', '--registry-password-stdin: the password is empty');
    explicit = {
      username: flags.registryUsername,
      password,
      source: `--registry-username ${flags.registryUsername}`,
    };
  }
  const insecureHosts = (env.STELLA_INSECURE_REGISTRIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return {
    allowInsecure: flags.allowInsecureRegistry ?? false,
    insecureHosts,
    credentials: { explicit, env },
  };
}
