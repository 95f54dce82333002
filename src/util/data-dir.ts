/**
 * Stella's per-user data folder, where the trust store and the attestation store live unless a
 * flag or variable names them: $XDG_DATA_HOME/stella, else ~/.local/share/stella. The XDG Base
 * Directory spec says a relative (or empty) $XDG_DATA_HOME is to be ignored; a relative one
 * would put the stores wherever the command happens to run.
 */
import { isAbsolute, join } from 'node:path';
import { homedir } from './os.js';

export function stellaDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const dataHome = env.XDG_DATA_HOME;
  return join(
    dataHome && isAbsolute(dataHome) ? dataHome : join(homedir(), '.local', 'share'),
    'stella',
  );
}
