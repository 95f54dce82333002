/**
 * src/trust/store/errors.ts: what each SQLite failure becomes. Real SQLite errors where one can
 * be made here (busy, not a database, read-only, cannot open, a constraint), the codes that
 * cannot (corruption, locked tables, permission) as SQLite names them. Also the busy timeout
 * every open sets (db.ts), from its option, STELLA_STORE_BUSY_TIMEOUT_MS, or 5000.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../../src/errors.js';
import { guardStore, storeErrorFrom } from '../../../src/trust/store/errors.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { tempDir, tempStorePath } from './helpers.js';

/** What `fn` throws, as SQLite threw it. */
function sqliteError(fn: () => unknown): Error & { code: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code: string };
  }
  throw new Error('expected SQLite to throw');
}

test('real SQLite failures: busy, not a database, read-only, cannot open, anything else SQLite', (t) => {
  const dir = tempDir('errors');
  const file = path.join(dir, 'a.db');
  const holder = new Database(file);
  holder.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  holder.exec('BEGIN IMMEDIATE');
  const waiter = new Database(file, { timeout: 0 });
  const busy = storeErrorFrom(
    sqliteError(() => waiter.exec('BEGIN IMMEDIATE')),
    file,
  );
  t.is(busy.code, 'STORE_BUSY');
  t.is(busy.check, 'trust-store');
  t.is(busy.message, `store busy: another process is using trust store ${file}; try again`);
  t.is(busy.details?.['sqlite'], 'SQLITE_BUSY');
  t.is((busy.cause as { code: string }).code, 'SQLITE_BUSY');
  holder.exec('ROLLBACK');
  waiter.close();

  holder.exec("INSERT INTO t VALUES ('x')");
  const constraint = sqliteError(() => holder.exec("INSERT INTO t VALUES ('x')"));
  t.regex(constraint.code, /^SQLITE_CONSTRAINT/);
  const other = storeErrorFrom(constraint, file);
  t.is(other.code, 'STORE_CORRUPT');
  t.is(other.message, `trust store ${file}: ${constraint.message}`);
  t.is(other.details?.['sqlite'], constraint.code);
  holder.close();

  const junk = path.join(dir, 'junk.db');
  writeFileSync(junk, Buffer.alloc(8192, 0x41));
  const notADb = new Database(junk);
  const corrupt = storeErrorFrom(
    sqliteError(() => notADb.prepare('SELECT * FROM sqlite_master').all()),
    junk,
  );
  notADb.close();
  t.is(corrupt.code, 'STORE_CORRUPT');
  t.regex(corrupt.message, /^trust store .*junk\.db is corrupt or not a SQLite database \(/);
  t.is(corrupt.details?.['sqlite'], 'SQLITE_NOTADB');

  const ro = new Database(file, { readonly: true });
  const readonly = storeErrorFrom(
    sqliteError(() => ro.exec("INSERT INTO t VALUES ('y')")),
    file,
  );
  ro.close();
  t.is(readonly.code, 'STORE_NOT_FOUND');
  t.regex(readonly.message, /^trust store .*a\.db cannot be written \(/);
  t.regex(String(readonly.details?.['sqlite']), /^SQLITE_READONLY/);

  // A directory where the database should be: SQLite cannot open it.
  const cantOpen = storeErrorFrom(
    sqliteError(() => new Database(dir).prepare('SELECT 1').get()),
    dir,
  );
  t.is(cantOpen.code, 'STORE_NOT_FOUND');
  t.is(cantOpen.message, `cannot open trust store ${dir} (unable to open database file)`);
  t.is(cantOpen.details?.['sqlite'], 'SQLITE_CANTOPEN');
});

test('the SQLite codes that cannot be made here, as SQLite names them; anything else; a StellaError as it is', (t) => {
  const as = (code: string) =>
    storeErrorFrom(Object.assign(new Error(`message of ${code}`), { code }), '/s.db');
  for (const code of [
    'SQLITE_BUSY_SNAPSHOT',
    'SQLITE_BUSY_TIMEOUT',
    'SQLITE_LOCKED',
    'SQLITE_LOCKED_SHAREDCACHE',
  ])
    t.is(as(code).code, 'STORE_BUSY', code);
  for (const code of [
    'SQLITE_NOTADB',
    'SQLITE_CORRUPT',
    'SQLITE_CORRUPT_INDEX',
    'SQLITE_FORMAT',
    'SQLITE_IOERR_SHORT_READ',
  ]) {
    const e = as(code);
    t.is(e.code, 'STORE_CORRUPT', code);
    t.is(e.message, `trust store /s.db is corrupt or not a SQLite database (message of ${code})`);
  }
  for (const code of ['SQLITE_CANTOPEN', 'SQLITE_CANTOPEN_ISDIR'])
    t.is(as(code).message, `cannot open trust store /s.db (message of ${code})`, code);
  for (const code of ['SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_PERM', 'SQLITE_AUTH']) {
    const e = as(code);
    t.is(e.code, 'STORE_NOT_FOUND', code);
    t.is(e.message, `trust store /s.db cannot be written (message of ${code})`);
  }
  // Other SQLite codes: the store's fault, said in SQLite's words.
  for (const code of ['SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_PERMX']) {
    const e = as(code);
    t.is(e.code, 'STORE_CORRUPT', code);
    t.is(e.message, `trust store /s.db: message of ${code}`);
    t.is(e.details?.['sqlite'], code);
  }
  // Not SQLite's: no SQLite code claimed; a thrown non-error is said as text.
  const plain = storeErrorFrom(new TypeError('boom'), '/s.db');
  t.is(plain.code, 'STORE_CORRUPT');
  t.is(plain.message, 'trust store /s.db: boom');
  t.deepEqual(plain.details, { path: '/s.db' });
  t.is(storeErrorFrom('text', '/s.db').message, 'trust store /s.db: text');
  t.is(storeErrorFrom(null, '/s.db').message, 'trust store /s.db: null');
  t.is(storeErrorFrom({ code: 7 }, '/s.db').details?.['sqlite'], undefined);
  const own = new StellaError('STORE_TAMPERED', 'trust-store', 'tampered');
  t.is(storeErrorFrom(own, '/s.db'), own);
  // guardStore: the value through, a throw mapped.
  t.is(
    guardStore('/s.db', () => 42),
    42,
  );
  const guarded = t.throws(
    () =>
      guardStore('/s.db', () => {
        throw Object.assign(new Error('locked'), { code: 'SQLITE_BUSY' });
      }),
    { instanceOf: StellaError },
  );
  t.is(guarded?.code, 'STORE_BUSY');
});

test.serial(
  'the busy timeout: the option, else STELLA_STORE_BUSY_TIMEOUT_MS when a whole number >= 0, else 5000',
  (t) => {
    const file = tempStorePath('busy-timeout');
    openTrustStore(file, { create: true }).close();
    const timeoutOf = (opts: { busyTimeoutMs?: number } = {}): number => {
      const s = openTrustStore(file, opts);
      try {
        return s.db.pragma('busy_timeout', { simple: true }) as number;
      } finally {
        s.close();
      }
    };
    const saved = process.env['STELLA_STORE_BUSY_TIMEOUT_MS'];
    try {
      delete process.env['STELLA_STORE_BUSY_TIMEOUT_MS'];
      t.is(timeoutOf(), 5000);
      t.is(timeoutOf({ busyTimeoutMs: 7 }), 7);
      process.env['STELLA_STORE_BUSY_TIMEOUT_MS'] = '123';
      t.is(timeoutOf(), 123);
      t.is(timeoutOf({ busyTimeoutMs: 7 }), 7, 'the option before the environment');
      process.env['STELLA_STORE_BUSY_TIMEOUT_MS'] = '0';
      t.is(timeoutOf(), 0);
      for (const bad of ['-1', '1.5', 'soon', '']) {
        process.env['STELLA_STORE_BUSY_TIMEOUT_MS'] = bad;
        t.is(timeoutOf(), 5000, JSON.stringify(bad));
      }
    } finally {
      if (saved === undefined) delete process.env['STELLA_STORE_BUSY_TIMEOUT_MS'];
      else process.env['STELLA_STORE_BUSY_TIMEOUT_MS'] = saved;
    }
  },
);

test('a store path that cannot be looked at (its folder is a file) is STORE_CORRUPT naming the trust store, on every open', (t) => {
  const file = path.join(tempDir('path-through-file'), 'a-file');
  writeFileSync(file, 'x');
  const store = path.join(file, 'trust.db');
  for (const create of [false, true])
    t.like(
      t.throws(() => openTrustStore(store, { create })),
      {
        code: 'STORE_CORRUPT',
        message: `trust store ${JSON.stringify(store)}: a component of the path is not a directory`,
      },
    );
});
