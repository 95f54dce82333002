/** SQLite failures become StellaErrors with a store code: never a stack trace for a bad file. */
import { StellaError } from '../../errors.js';
import { isSqliteBusy, storeBusyError } from '../../util/sqlite-file.js';

interface SqliteLikeError {
  code?: unknown;
  message?: unknown;
}

export function storeErrorFrom(e: unknown, path: string): StellaError {
  if (e instanceof StellaError) return e;
  const like = (typeof e === 'object' && e !== null ? e : {}) as SqliteLikeError;
  const code = typeof like.code === 'string' ? like.code : '';
  const msg = typeof like.message === 'string' ? like.message : String(e);
  if (isSqliteBusy(e)) return storeBusyError('trust store', path, e);
  if (
    code === 'SQLITE_NOTADB' ||
    code.startsWith('SQLITE_CORRUPT') ||
    code === 'SQLITE_FORMAT' ||
    code.startsWith('SQLITE_IOERR_SHORT_READ')
  ) {
    return new StellaError(
      'STORE_CORRUPT',
      'trust-store',
      `trust store ${path} is corrupt or not a SQLite database (${msg})`,
      { path, sqlite: code },
      { cause: e },
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new StellaError(
      'STORE_NOT_FOUND',
      'trust-store',
      `cannot open trust store ${path} (${msg})`,
      { path, sqlite: code },
      { cause: e },
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new StellaError(
      'STORE_NOT_FOUND',
      'trust-store',
      `trust store ${path} cannot be written (${msg})`,
      { path, sqlite: code },
      { cause: e },
    );
  }
  if (code.startsWith('SQLITE_')) {
    return new StellaError(
      'STORE_CORRUPT',
      'trust-store',
      `trust store ${path}: ${msg}`,
      { path, sqlite: code },
      { cause: e },
    );
  }
  return new StellaError(
    'STORE_CORRUPT',
    'trust-store',
    `trust store ${path}: ${msg}`,
    { path },
    { cause: e },
  );
}

/** Run `fn`, turning any SQLite error into a store StellaError. */
export function guardStore<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw storeErrorFrom(e, path);
  }
}
