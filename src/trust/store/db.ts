/**
 * Opening the trust store: the only place that creates a better-sqlite3 connection.
 * WAL + synchronous=FULL (a WAL database defaults to NORMAL, which can lose the last commit
 * on power failure), a busy timeout, schema migrations, a corruption check and the tamper
 * check (./integrity.ts) all happen here, so every caller gets a store it can trust or a
 * clear StellaError.
 *
 * Writes go through `writeTransaction`: one `BEGIN IMMEDIATE` transaction per command (a
 * deferred read-then-write transaction can fail with SQLITE_BUSY_SNAPSHOT regardless of the
 * busy timeout), which appends history and re-seals before it commits. A process killed at
 * any point leaves the old state or the new one.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fail } from '../../errors.js';
import { guardStore, storeErrorFrom } from './errors.js';
import { chainUnhashedHistory, sealChanges, setMeta, verifyIntegrity, type HistoryRecord } from './integrity.js';
import { APPLICATION_ID, MIGRATION_V1_DDL, MIGRATION_V2_DDL, SCHEMA_VERSION, type Migration } from './schema.js';
import type { CanonicalValue } from './canonical.js';

export interface OpenOptions {
  readonly?: boolean;
  /** Create the file (and its directory) when missing; used by `trust init` only. */
  create?: boolean;
  /** Default: STELLA_STORE_BUSY_TIMEOUT_MS, else 5000. */
  busyTimeoutMs?: number;
  /** Clock and command line for the history rows a migration or creation writes. */
  now?: number;
  command?: string;
}

export interface TrustStore {
  readonly path: string;
  readonly db: Database.Database;
  readonly readonly: boolean;
  /** True when this open created the store. */
  readonly created: boolean;
  /** Schema version the file had before this open migrated it (0 = new). */
  readonly migratedFrom: number;
  close(): void;
}

export const MIGRATIONS: Migration[] = [
  { version: 1, ddl: MIGRATION_V1_DDL },
  { version: 2, ddl: MIGRATION_V2_DDL, backfill: chainUnhashedHistory },
];

function busyTimeout(opts: OpenOptions): number {
  if (opts.busyTimeoutMs !== undefined) return opts.busyTimeoutMs;
  const env = Number(process.env.STELLA_STORE_BUSY_TIMEOUT_MS);
  return Number.isSafeInteger(env) && env >= 0 ? env : 5000;
}

function connect(path: string, readonly: boolean, mustExist: boolean, timeout: number): Database.Database {
  const db = guardStore(path, () => new Database(path, { readonly, fileMustExist: mustExist, timeout }));
  try {
    db.pragma(`busy_timeout = ${timeout}`);
    if (!readonly) {
      // journal_mode reads the header: a file that is not a database fails here.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    db.pragma('foreign_keys = ON');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') fail('STORE_CORRUPT', 'trust-store', `trust store ${path} is corrupt (integrity check: ${String(check)})`, { path });
    return db;
  } catch (e) {
    db.close();
    throw storeErrorFrom(e, path);
  }
}

function headerOf(db: Database.Database): { userVersion: number; applicationId: number; tables: number } {
  return {
    userVersion: db.pragma('user_version', { simple: true }) as number,
    applicationId: db.pragma('application_id', { simple: true }) as number,
    tables: (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n,
  };
}

/** Run the missing migrations in one IMMEDIATE transaction (re-checked inside it: two openers race safely). */
function migrate(db: Database.Database, path: string, now: number, command: string): number {
  return db
    .transaction(() => {
      const h = headerOf(db);
      if (h.userVersion > SCHEMA_VERSION) return h.userVersion;
      if (h.userVersion === SCHEMA_VERSION) return h.userVersion;
      if (h.userVersion === 0 && h.tables > 0) {
        fail('STORE_CORRUPT', 'trust-store', `${path} is a SQLite database but not a Stella trust store`, { path });
      }
      const from = h.userVersion;
      for (const m of MIGRATIONS) {
        if (m.version <= from) continue;
        db.exec(m.ddl);
        m.backfill?.(db);
        db.pragma(`user_version = ${m.version}`);
      }
      const records: HistoryRecord[] = [];
      if (from === 0) {
        db.pragma(`application_id = ${APPLICATION_ID}`);
        setMeta(db, 'created_at', String(now));
        records.push({ at: now, action: 'create', entryId: null, detail: { schemaVersion: SCHEMA_VERSION }, sourceFile: null, sourceSha256: null, command });
      } else {
        records.push({ at: now, action: 'migrate', entryId: null, detail: { from, to: SCHEMA_VERSION }, sourceFile: null, sourceSha256: null, command });
      }
      sealChanges(db, records);
      return from;
    })
    .immediate();
}

export function openTrustStore(path: string, opts: OpenOptions = {}): TrustStore {
  const readonly = opts.readonly ?? false;
  const create = opts.create ?? false;
  const now = opts.now ?? Date.now();
  const command = opts.command ?? 'stella';
  const timeout = busyTimeout(opts);
  if (!existsSync(path)) {
    if (!create) fail('STORE_NOT_FOUND', 'trust-store', `no trust store at ${path} (create one with \`stella trust init\`)`, { path });
    guardStore(path, () => mkdirSync(dirname(path), { recursive: true }));
  } else if (!statSync(path).isFile()) {
    fail('STORE_CORRUPT', 'trust-store', `trust store ${path} is not a regular file`, { path });
  }
  let created = false;
  let migratedFrom = SCHEMA_VERSION;
  let db = connect(path, readonly && !create, !create, timeout);
  try {
    let h = guardStore(path, () => headerOf(db));
    if (h.userVersion === 0 && h.tables === 0 && !create) {
      fail('STORE_CORRUPT', 'trust-store', `trust store ${path} is empty (not initialised; run \`stella trust init\`)`, { path });
    }
    if (h.userVersion !== 0 && h.applicationId !== APPLICATION_ID) {
      fail('STORE_CORRUPT', 'trust-store', `${path} is a SQLite database but not a Stella trust store`, { path, applicationId: h.applicationId });
    }
    if (h.userVersion > SCHEMA_VERSION) {
      fail('STORE_SCHEMA_TOO_NEW', 'trust-store', `trust store ${path} has schema version ${h.userVersion}, newer than this stella understands (${SCHEMA_VERSION}); upgrade stella`, {
        path,
        schemaVersion: h.userVersion,
        supported: SCHEMA_VERSION,
      });
    }
    if (h.userVersion < SCHEMA_VERSION) {
      if (db.readonly) {
        // Migrating needs a writer; do it, then continue read-only as asked.
        db.close();
        db = connect(path, false, true, timeout);
      }
      migratedFrom = guardStore(path, () => migrate(db, path, now, command));
      if (migratedFrom > SCHEMA_VERSION) {
        fail('STORE_SCHEMA_TOO_NEW', 'trust-store', `trust store ${path} has schema version ${migratedFrom}, newer than this stella understands (${SCHEMA_VERSION}); upgrade stella`, {
          path,
          schemaVersion: migratedFrom,
          supported: SCHEMA_VERSION,
        });
      }
      created = migratedFrom === 0;
      if (readonly) {
        db.close();
        db = connect(path, true, true, timeout);
      }
      h = guardStore(path, () => headerOf(db));
    }
    guardStore(path, () => db.transaction(() => verifyIntegrity(db, path))());
  } catch (e) {
    db.close();
    throw storeErrorFrom(e, path);
  }
  const conn = db;
  return {
    path,
    db: conn,
    readonly: conn.readonly,
    created,
    migratedFrom,
    close: () => conn.close(),
  };
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
  record(action: string, fields: { entryId?: number | null; detail?: Record<string, CanonicalValue>; sourceFile?: string | null; sourceSha256?: string | null }): void;
  /** Number of history rows recorded so far. */
  readonly changes: number;
}

/**
 * Run `fn` as one BEGIN IMMEDIATE transaction; its recorded changes are appended to history
 * and sealed before commit. Throwing inside `fn` leaves the store exactly as it was.
 * When `fn` records nothing, nothing is written.
 */
export function writeTransaction<T>(store: TrustStore, ctx: ChangeContext, fn: (tx: WriteTx) => T): T {
  if (store.readonly) fail('INPUT_INVALID', 'trust-store', `trust store ${store.path} was opened read-only`);
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
