/** Where the trust store lives: --store, else STELLA_TRUST_STORE, else a per-user default. */
import { join } from 'node:path';
import { stellaDataDir } from '../../util/data-dir.js';

export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stellaDataDir(env), 'trust.db');
}

export function resolveStorePath(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (flag) return flag;
  if (env.STELLA_TRUST_STORE) return env.STELLA_TRUST_STORE;
  return defaultStorePath(env);
}
