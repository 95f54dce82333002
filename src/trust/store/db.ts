/**
 * Opening the trust store: the only place that creates a better-sqlite3 connection.
 *
 * Read paths (`readonly`) open the file read-only and never write: no WAL switch, no table
 * created, no migration (checklist H51). Before SQLite sees the file, its header must name it
 * a Stella trust store (application id 'STEL'): a foreign SQLite file or an empty file is
 * refused untouched (STORE_FOREIGN). Only `create` (trust init) makes a new store, and only
 * `allowOlderSchema` (trust migrate) opens one at an older schema; everything else refuses
 * it (STORE_MIGRATION_REQUIRED), so no command migrates, and thereby re-seals, a store behind
 * the operator's back (H52). A writer gets WAL + synchronous=FULL (a WAL database defaults to
 * NORMAL, which can lose the last commit on power failure) and a busy timeout; every open
 * checks for corruption and, at the current schema, the schema's shape and the tamper seal
 * (./integrity.ts).
 *
 * Writes go through `writeTransaction`: one `BEGIN IMMEDIATE` transaction per command (a
 * deferred read-then-write transaction can fail with SQLITE_BUSY_SNAPSHOT regardless of the
 * busy timeout), which appends history and re-seals before it commits. A process killed at
 * any point leaves the old state or the new one.
 */
import { makeFolder } from '../../util/fs.js';
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { fail } from '../../errors.js';
import {
  orphanWalReason,
  readSqliteHeader,
  schemaShape,
  storeBusyTimeoutMs,
  switchToWal,
} from '../../util/sqlite-file.js';
import { guardStore, storeErrorFrom } from './errors.js';
import {
  chainUnhashedHistory,
  sealChanges,
  setMeta,
  verifyIntegrity,
  type HistoryRecord,
} from './integrity.js';
import {
  APPLICATION_ID,
  expectedSchemaShape,
  SCHEMA_DDL,
  SCHEMA_VERSION,
  type Migration,
} from './schema.js';
import type { JsonValue } from '../../util/canonical-json.js';

export interface OpenOptions {
  readonly?: boolean;
  /** Create the store when the file is missing or empty; used by `trust init` only. */
  create?: boolean;
  /** Open a store at an older schema version, unchanged; used by `trust migrate` only. */
  allowOlderSchema?: boolean;
  /** Default: STELLA_STORE_BUSY_TIMEOUT_MS, else 5000. */
  busyTimeoutMs?: number;
  /** Clock and command line for the history row a creation writes. */
  now?: number;
  command?: string;
}

export interface TrustStore {
  readonly path: string;
  readonly db: Database.Database;
  readonly readonly: boolean;
  /** True when this open created the store. */
  readonly created: boolean;
  /** The file's schema version (older than SCHEMA_VERSION only with allowOlderSchema). */
  readonly schemaVersion: number;
  close(): void;
}

export const MIGRATIONS: Migration[] = [
  { version: 1, ddl: SCHEMA_DDL[0]! },
  { version: 2, ddl: SCHEMA_DDL[1]!, backfill: chainUnhashedHistory },
  { version: 3, ddl: SCHEMA_DDL[2]! },
];

function busyTimeout(opts: OpenOptions): number {
  return opts.busyTimeoutMs ?? storeBusyTimeoutMs();
}

function foreign(path: string, why: string, details: Record<string, unknown> = {}): never {
  return fail(
    'STORE_FOREIGN',
    'trust-store',
    `${path} is not a Stella trust store (${why}); it was left untouched`,
    { path, ...details },
  );
}

/**
 * The file's marks and table count, read in one transaction: one snapshot. Read one by one,
 * a store created by another process between the reads showed its version 0 and its
 * application id, "marked as a Stella trust store but has no schema" (stop 60's race test).
 */
function headerOf(db: Database.Database): {
  userVersion: number;
  applicationId: number;
  tables: number;
} {
  return db.transaction(() => ({
    userVersion: db.pragma('user_version', { simple: true }) as number,
    applicationId: db.pragma('application_id', { simple: true }) as number,
    tables: (
      db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
        n: number;
      }
    ).n,
  }))();
}

/** Run every migration on an empty database, in one IMMEDIATE transaction (re-checked inside it: two creators race safely). */
function createSchema(db: Database.Database, path: string, now: number, command: string): boolean {
  return db
    .transaction(() => {
      const h = headerOf(db);
      if (h.applicationId === APPLICATION_ID && h.userVersion > 0) return false;
      if (h.userVersion !== 0 || h.tables > 0 || h.applicationId !== 0)
        foreign(path, 'a SQLite database with other contents', { applicationId: h.applicationId });
      for (const m of MIGRATIONS) {
        db.exec(m.ddl);
        m.backfill?.(db);
      }
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      setMeta(db, 'created_at', String(now));
      const record: HistoryRecord = {
        at: now,
        action: 'create',
        entryId: null,
        detail: { schemaVersion: SCHEMA_VERSION },
        sourceFile: null,
        sourceSha256: null,
        command,
      };
      sealChanges(db, [record]);
      return true;
    })
    .immediate();
}

/** The refusals that depend on the schema version alone. */
function checkVersion(path: string, userVersion: number, allowOlder: boolean): void {
  if (userVersion > SCHEMA_VERSION) {
    fail(
      'STORE_SCHEMA_TOO_NEW',
      'trust-store',
      `trust store ${path} has schema version ${userVersion}, newer than this stella understands (${SCHEMA_VERSION}); upgrade stella`,
      {
        path,
        schemaVersion: userVersion,
        supported: SCHEMA_VERSION,
      },
    );
  }
  if (userVersion < 1)
    fail(
      'STORE_CORRUPT',
      'trust-store',
      `trust store ${path} is marked as a Stella trust store but has no schema`,
      { path },
    );
  if (userVersion < SCHEMA_VERSION && !allowOlder) {
    fail(
      'STORE_MIGRATION_REQUIRED',
      'trust-store',
      `trust store ${path} has schema version ${userVersion}, older than this stella's (${SCHEMA_VERSION}); nothing was changed: run \`stella trust migrate\` (it checks the store against its history first; --dry-run shows what it would seal)`,
      { path, schemaVersion: userVersion, supported: SCHEMA_VERSION },
    );
  }
}

/** A store at `version` has exactly the tables, columns, indexes and triggers Stella gives it. */
export function checkSchemaShape(db: Database.Database, path: string, version: number): void {
  if (schemaShape(db) !== expectedSchemaShape(version)) {
    fail(
      'STORE_TAMPERED',
      'trust-store',
      `trust store ${path} was modified outside stella: its tables, columns, indexes or triggers differ from schema version ${version}`,
      {
        path,
        schemaVersion: version,
      },
    );
  }
}

export function openTrustStore(path: string, opts: OpenOptions = {}): TrustStore {
  const create = opts.create ?? false;
  const allowOlder = opts.allowOlderSchema ?? false;
  const now = opts.now ?? Date.now();
  const timeout = busyTimeout(opts);
  const { creating, walPending } = judgeFileBeforeOpening(path, create, allowOlder);
  const readonly = (opts.readonly ?? false) && !creating;
  if (walPending && !readonly) judgeThroughReadOnly(path, create, allowOlder, timeout);
  const db = guardStore(
    path,
    () => new Database(path, { readonly, fileMustExist: !creating, timeout }),
  );
  let created = false;
  let schemaVersion: number;
  try {
    db.pragma(`busy_timeout = ${timeout}`);
    const { empty, userVersion } = judgeOpenedDatabase(db, path, create, allowOlder);
    // Before anything is written: a damaged file is refused as it was (the WAL switch below
    // rewrites the header of a store not yet in WAL mode; before stop 59 it came first).
    requireIntactFile(db, path);
    if (!readonly) db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Created before the switch to WAL, in SQLite's default rollback journal, so the file
    // stays empty until the commit: a process judging it meanwhile finds nothing (and
    // creates, then finds this store inside its own transaction) or finds this store. Created
    // after the switch (until stop 60), the file showed an empty WAL-mode database with
    // application id 0 until the commit, which a process judging it then refused as another
    // program's; and a creator killed there left that file for good.
    if (empty) created = createSchema(db, path, now, opts.command ?? 'stella');
    // Only a current store is switched to WAL here: an older one stays as it is until
    // `trust migrate` has checked it (a refused migration leaves it byte for byte).
    if (!readonly && (empty || userVersion === SCHEMA_VERSION)) switchToWal(db);
    schemaVersion = empty ? SCHEMA_VERSION : userVersion;
    if (schemaVersion === SCHEMA_VERSION) {
      db.transaction(() => {
        checkSchemaShape(db, path, SCHEMA_VERSION);
        verifyIntegrity(db, path);
      })();
    }
  } catch (e) {
    db.close();
    throw storeErrorFrom(e, path);
  }
  return {
    path,
    db,
    readonly: db.readonly,
    created,
    schemaVersion,
    close: () => db.close(),
  };
}

/**
 * A file whose WAL holds changes its header does not show can be judged only by SQLite's read
 * of it, and a read-write connection checkpoints that WAL into the file when it closes: a
 * refused file would be changed (checklist H51). So such a file is judged first through a
 * read-only connection, which leaves the database and its WAL as they were (SQLite rebuilds
 * only its shared-memory index, the -shm file, as every reader does).
 */
function judgeThroughReadOnly(
  path: string,
  create: boolean,
  allowOlder: boolean,
  timeout: number,
): void {
  const db = guardStore(
    path,
    () => new Database(path, { readonly: true, fileMustExist: true, timeout }),
  );
  try {
    judgeOpenedDatabase(db, path, create, allowOlder);
  } catch (e) {
    throw storeErrorFrom(e, path);
  } finally {
    db.close();
  }
}

/**
 * Judge the file from its header before SQLite opens it (see ../../util/sqlite-file.ts):
 * refuse what is not a store of a schema this stella opens. Returns whether the store is to
 * be created (a missing or empty file, with `create`), and whether a pending WAL leaves the
 * judgement to SQLite's read.
 */
function judgeFileBeforeOpening(
  path: string,
  create: boolean,
  allowOlder: boolean,
): { creating: boolean; walPending: boolean } {
  const file = guardStore(path, () =>
    readSqliteHeader(path, { what: 'trust store', code: 'STORE_CORRUPT', check: 'trust-store' }),
  );
  const walPending = file.walPending;
  const creating = judgeHeader(path, file, create, allowOlder);
  return { creating, walPending };
}

function judgeHeader(
  path: string,
  file: ReturnType<typeof readSqliteHeader>,
  create: boolean,
  allowOlder: boolean,
): boolean {
  switch (file.kind) {
    case 'missing':
      if (create && file.walPending) foreign(path, orphanWalReason('missing'));
      if (!create)
        fail(
          'STORE_NOT_FOUND',
          'trust-store',
          `no trust store at ${path} (create one with \`stella trust init\`)`,
          { path },
        );
      makeFolder(dirname(path), {
        what: 'trust store folder',
        code: 'STORE_CORRUPT',
        check: 'trust-store',
      });
      return true;
    case 'not-a-file':
      return fail('STORE_CORRUPT', 'trust-store', `trust store ${path} is not a regular file`, {
        path,
      });
    case 'empty':
      if (file.walPending) foreign(path, orphanWalReason('empty'));
      if (!create) foreign(path, 'an empty file; `stella trust init` creates a store');
      return true;
    case 'not-sqlite':
      if (!file.walPending)
        fail(
          'STORE_CORRUPT',
          'trust-store',
          `trust store ${path} is corrupt or not a SQLite database`,
          { path },
        );
      return false;
    case 'sqlite':
      if (file.walPending) return false;
      // Even `trust init` creates a store only where there is nothing: a missing or empty file.
      if (file.applicationId !== APPLICATION_ID)
        foreign(path, `SQLite application id ${file.applicationId}, not ${APPLICATION_ID}`, {
          applicationId: file.applicationId,
        });
      // Refused before SQLite opens it, which for a WAL-mode file creates files beside it.
      checkVersion(path, file.userVersion, allowOlder);
      return false;
  }
}

/**
 * SQLite's own view of the opened file: conclusive even when a WAL holds changes the header
 * does not show yet. A Stella store of a schema this stella opens, or (with `create`) an empty
 * database.
 */
function judgeOpenedDatabase(
  db: Database.Database,
  path: string,
  create: boolean,
  allowOlder: boolean,
): { empty: boolean; userVersion: number } {
  const h = headerOf(db);
  const empty = h.applicationId === 0 && h.userVersion === 0 && h.tables === 0;
  if (!(h.applicationId === APPLICATION_ID || (empty && create))) {
    foreign(
      path,
      empty
        ? 'an empty database; `stella trust init` creates a store'
        : `SQLite application id ${h.applicationId}, not ${APPLICATION_ID}`,
      { applicationId: h.applicationId },
    );
  }
  if (!empty) checkVersion(path, h.userVersion, allowOlder);
  return { empty, userVersion: h.userVersion };
}

/** SQLite's quick_check: a damaged file is refused before anything reads it. */
function requireIntactFile(db: Database.Database, path: string): void {
  const check = db.pragma('quick_check', { simple: true });
  if (check !== 'ok')
    fail(
      'STORE_CORRUPT',
      'trust-store',
      `trust store ${path} is corrupt (integrity check: ${String(check)})`,
      { path },
    );
}

/** The context every write records in history. */
export interface ChangeContext {
  now: number;
  /** The command line that made the change (history `command`). */
  command: string;
}

export interface WriteTx {
  readonly db: Database.Database;
  readonly now: number;
  record(
    action: string,
    fields: {
      entryId?: number | null;
      detail?: Record<string, JsonValue>;
      sourceFile?: string | null;
      sourceSha256?: string | null;
    },
  ): void;
  /** Number of history rows recorded so far. */
  readonly changes: number;
}

/**
 * Run `fn` as one BEGIN IMMEDIATE transaction; its recorded changes are appended to history
 * and sealed before commit. Throwing inside `fn` leaves the store exactly as it was.
 * When `fn` records nothing, nothing is written.
 */
export function writeTransaction<T>(
  store: TrustStore,
  ctx: ChangeContext,
  fn: (tx: WriteTx) => T,
): T {
  if (store.readonly)
    fail('INPUT_INVALID', 'trust-store', `trust store ${store.path} was opened read-only`);
  checkVersion(store.path, store.schemaVersion, false);
  const db = store.db;
  return guardStore(store.path, () =>
    db
      .transaction(() => {
        // Re-check the seal inside the write lock: another writer may have committed since open.
        verifyIntegrity(db, store.path);
        const records: HistoryRecord[] = [];
        const tx: WriteTx = {
          db,
          now: ctx.now,
          record(action, f) {
            records.push({
              at: ctx.now,
              action,
              entryId: f.entryId ?? null,
              detail: f.detail ?? {},
              sourceFile: f.sourceFile ?? null,
              sourceSha256: f.sourceSha256 ?? null,
              command: ctx.command,
            });
          },
          get changes() {
            return records.length;
          },
        };
        const result = fn(tx);
        if (records.length > 0) sealChanges(db, records);
        return result;
      })
      .immediate(),
  );
}

/** Run `fn` inside one read transaction: every query sees the same snapshot (checklist G45). */
export function readSnapshot<T>(store: TrustStore, fn: (db: Database.Database) => T): T {
  return guardStore(store.path, () => store.db.transaction(() => fn(store.db)).deferred());
}
