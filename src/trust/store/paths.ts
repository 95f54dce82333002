/** Where the trust store lives: --store, else STELLA_TRUST_STORE, else a per-user default. */
import { homedir } from '../../util/os.js';
import { join } from 'node:path';

export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  const dataHome =
    env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/')
      ? env.XDG_DATA_HOME
      : join(homedir(), '.local', 'share');
  return join(dataHome, 'stella', 'trust.db');
}

export function resolveStorePath(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (flag) return flag;
  if (env.STELLA_TRUST_STORE) return env.STELLA_TRUST_STORE;
  return defaultStorePath(env);
}
