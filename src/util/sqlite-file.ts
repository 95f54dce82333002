/**
 * What a path holds, judged from the file's first 100 bytes before SQLite opens it. Opening a
 * WAL-mode database, even read-only, creates `-wal` and `-shm` files beside it, and opening
 * an empty file read-write makes it a database: a file that is not ours must be recognised,
 * and refused, without SQLite touching it (checklist H51).
 *
 * The SQLite header (https://www.sqlite.org/fileformat.html#the_database_header): the magic
 * string at 0, the user version at 60, the application id at 68, both big-endian signed
 * 32-bit integers (as the pragmas report them).
 */
import Database from 'better-sqlite3';
import { existsSync, lstatSync, rmSync, truncateSync } from 'node:fs';
import { probeFile, type InputFileOptions } from './fs.js';
import { toLatin1 } from './encoding.js';
import { StellaError } from '../errors.js';
import { sleepSync } from './retry.js';

export type SqliteFileKind = 'missing' | 'not-a-file' | 'empty' | 'not-sqlite' | 'sqlite';

export interface SqliteFileHeader {
  kind: SqliteFileKind;
  /** From the header; 0 unless kind is 'sqlite'. */
  applicationId: number;
  userVersion: number;
  /**
   * A non-empty `-wal` file lies beside the database: committed changes may still be in it,
   * so the header can be stale and only SQLite's own view is conclusive.
   */
  walPending: boolean;
}

/**
 * Why a store refuses a missing or empty file with a non-empty `-wal` beside it. Stella never
 * leaves that pair (a store's header is written before its first WAL frame), and SQLite, given
 * it, does not read the log: it takes the database as empty and deletes the log on opening,
 * even read-only. So the pair is refused before SQLite sees it, `trust init` included: the log
 * may be another program's, and a store is created only where there is nothing.
 */
export function orphanWalReason(kind: 'missing' | 'empty'): string {
  return `${kind === 'empty' ? 'an empty file' : 'no file'} with a write-ahead log (-wal) beside it, which SQLite would delete on opening; move the -wal away if it is not wanted`;
}

const MAGIC = 'SQLite format 3\0';
const HEADER_BYTES = 100;

/** Read through util/fs.ts like any input; a failure to look is STORE_CORRUPT unless the caller says otherwise. */
const PROBE: InputFileOptions = {
  what: 'database file',
  code: 'STORE_CORRUPT',
  check: 'trust-store',
};

export function readSqliteHeader(path: string, opts: InputFileOptions = PROBE): SqliteFileHeader {
  const none = { applicationId: 0, userVersion: 0 };
  const file = probeFile(path, HEADER_BYTES, opts);
  const wal = probeFile(`${path}-wal`, 0, { ...opts, what: `${opts.what} WAL` });
  const walPending = wal.kind === 'file' && wal.size > 0;
  if (file.kind !== 'file') return { kind: file.kind, ...none, walPending };
  if (file.size === 0) return { kind: 'empty', ...none, walPending };
  if (file.head.length < HEADER_BYTES) return { kind: 'not-sqlite', ...none, walPending };
  const buf = Buffer.from(file.head.buffer, file.head.byteOffset, file.head.byteLength);
  if (toLatin1(file.head.subarray(0, MAGIC.length)) !== MAGIC)
    return { kind: 'not-sqlite', ...none, walPending };
  return {
    kind: 'sqlite',
    userVersion: buf.readInt32BE(60),
    applicationId: buf.readInt32BE(68),
    walPending,
  };
}

/**
 * A database's schema as SQLite reports it: every object (table, index, trigger, view) by type
 * and name, and every table's columns. SQLite's own objects (sqlite_sequence, autoindexes)
 * are left out: they follow from the rest. Equal shapes mean nothing was added, dropped or
 * altered, whatever the SQL text looks like.
 */
export function schemaShape(db: Database.Database): string {
  const objects = db
    .prepare(
      "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
    )
    .all() as { type: string; name: string; tbl_name: string }[];
  return JSON.stringify(
    objects.map((o) => ({
      ...o,
      columns:
        o.type === 'table'
          ? db
              .prepare(
                'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid',
              )
              .all(o.name)
          : undefined,
    })),
  );
}

const shapes = new Map<string, string>();

/** The shape `ddl` (run in order on an empty database) gives: what a file Stella made must have. */
export function schemaShapeOf(ddl: readonly string[]): string {
  const key = ddl.join('\n;\n');
  let shape = shapes.get(key);
  if (shape === undefined) {
    const db = new Database(':memory:');
    try {
      for (const d of ddl) db.exec(d);
      shape = schemaShape(db);
    } finally {
      db.close();
    }
    shapes.set(key, shape);
  }
  return shape;
}

/**
 * Notes what is at a SQLite database's path before a write that may create the database, and
 * returns how to put it back: a refused write leaves no trace. A database the write created is
 * removed, with the WAL and shared-memory files SQLite made beside it; a file that was empty
 * is emptied again; a database that was there is left to its own rollback.
 */
export function sqliteCreationUndo(path: string): () => void {
  let size: number | undefined;
  try {
    size = lstatSync(path).size;
  } catch {
    size = undefined;
  }
  const made = [`${path}-wal`, `${path}-shm`].filter((f) => !existsSync(f));
  return () => {
    if (size === undefined) rmSync(path, { force: true });
    else if (size === 0) truncateSync(path, 0);
    else return;
    for (const f of made) rmSync(f, { force: true });
  };
}

/**
 * How long a store's connection waits for another process's lock: STELLA_STORE_BUSY_TIMEOUT_MS
 * (milliseconds, 0 for no waiting), else 5 s. Empty is unset (Number('') would be 0: no waiting
 * at all), as with STELLA_TRUST_STORE. Both stores; before stop 60 the attestation store
 * always waited 5 s.
 */
export function storeBusyTimeoutMs(): number {
  const text = process.env.STELLA_STORE_BUSY_TIMEOUT_MS ?? '';
  const env = text === '' ? NaN : Number(text);
  return Number.isSafeInteger(env) && env >= 0 ? env : 5000;
}

/** SQLite's "another connection holds the lock" (SQLITE_BUSY or SQLITE_LOCKED, with any extended code). */
export function isSqliteBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
  );
}

/**
 * Another process held a store's lock past the busy timeout: STORE_BUSY naming which store and
 * where, in the one wording both stores use (until stop 61 the trust store's named only the
 * path). `sqlite` in the details is SQLite's code (SQLITE_BUSY, SQLITE_LOCKED_…).
 */
export function storeBusyError(
  what: 'trust store' | 'attestation store',
  path: string,
  e: unknown,
): StellaError {
  return new StellaError(
    'STORE_BUSY',
    what === 'trust store' ? 'trust-store' : 'attestation-store',
    `store busy: another process is using ${what} ${path}; try again`,
    { path, sqlite: (e as { code?: unknown } | undefined)?.code },
    { cause: e },
  );
}

/**
 * `PRAGMA journal_mode = WAL`, waiting out another connection's lock for up to the
 * connection's busy timeout. SQLite can return SQLITE_BUSY from this switch at once, without
 * calling its busy handler, while another process holds a lock it needs: ten processes told
 * at once to create one trust store, 60 times over, got it about once in 300 opens, 25 to 85 ms
 * after starting, with a 5 s busy timeout (stop 60).
 */
export function switchToWal(db: Database.Database): void {
  const deadline = Date.now() + (db.pragma('busy_timeout', { simple: true }) as number);
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw e;
      sleepSync(5);
    }
  }
}
