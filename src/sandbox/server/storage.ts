/**
 * The sandbox Rekor log's storage in SQLite (better-sqlite3): one row per entry, dense
 * indexes from 0, the leaf hash unique. Implements the authority's LogStorage interface, so
 * the log core stays pure and a restarted sandbox rebuilds its tree from these rows.
 */
import Database from 'better-sqlite3';
import { fail, StellaError } from '../../errors.js';
import { toHex } from '../../util/encoding.js';
import { switchToWal } from '../../util/sqlite-file.js';
import type { LogStorage, StoredEntry } from '../authority/rekor.js';

const SCHEMA_VERSION = 1;

interface Row {
  idx: number;
  body: Buffer;
  integrated_time: number;
  leaf_hash: Buffer;
}

export class SqliteLogStorage implements LogStorage {
  readonly #db: Database.Database;
  readonly #count: Database.Statement<[], { n: number }>;
  readonly #byIndex: Database.Statement<[number], Row>;
  readonly #byUuid: Database.Statement<[string], { idx: number }>;
  readonly #insert: Database.Statement<[number, string, Buffer, number, Buffer]>;

  constructor(path: string) {
    try {
      this.#db = new Database(path, { timeout: 5000 });
      switchToWal(this.#db);
      this.#db.pragma('synchronous = FULL');
      const version = this.#db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION)
        fail(
          'SANDBOX_ERROR',
          'sandbox',
          `log database ${path} has schema ${version}, newer than this Stella (${SCHEMA_VERSION})`,
        );
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS log_entries (
          idx             INTEGER PRIMARY KEY,
          uuid            TEXT NOT NULL UNIQUE,
          body            BLOB NOT NULL,
          integrated_time INTEGER NOT NULL,
          leaf_hash       BLOB NOT NULL
        );
      `);
      this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (e) {
      if (e instanceof StellaError) throw e;
      throw new StellaError(
        'SANDBOX_ERROR',
        'sandbox',
        `cannot open the sandbox log database ${path}: ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    this.#count = this.#db.prepare('SELECT count(*) AS n FROM log_entries');
    this.#byIndex = this.#db.prepare(
      'SELECT idx, body, integrated_time, leaf_hash FROM log_entries WHERE idx = ?',
    );
    this.#byUuid = this.#db.prepare('SELECT idx FROM log_entries WHERE uuid = ?');
    this.#insert = this.#db.prepare(
      'INSERT INTO log_entries (idx, uuid, body, integrated_time, leaf_hash) VALUES (?, ?, ?, ?, ?)',
    );
  }

  size(): number {
    return this.#count.get()!.n;
  }

  leafHash(index: number): Uint8Array {
    return this.entry(index).leafHash;
  }

  append(entry: StoredEntry): number {
    const uuid = toHex(entry.leafHash);
    // One transaction: the index is the row count at the moment of insertion.
    return this.#db.transaction(() => {
      if (this.#byUuid.get(uuid))
        fail('REKOR_REJECTED', 'tlog', `entry ${uuid} is already in the log`);
      const idx = this.size();
      this.#insert.run(
        idx,
        uuid,
        Buffer.from(entry.body),
        entry.integratedTime,
        Buffer.from(entry.leafHash),
      );
      return idx;
    })();
  }

  entry(index: number): StoredEntry {
    const row = Number.isSafeInteger(index) ? this.#byIndex.get(index) : undefined;
    if (!row) fail('INPUT_INVALID', 'tlog', `no log entry at index ${index}`);
    return {
      body: new Uint8Array(row.body),
      integratedTime: row.integrated_time,
      leafHash: new Uint8Array(row.leaf_hash),
    };
  }

  findByUuid(uuid: string): number | undefined {
    return this.#byUuid.get(uuid.toLowerCase())?.idx;
  }

  truncate(size: number): void {
    this.#db.prepare('DELETE FROM log_entries WHERE idx >= ?').run(size);
  }

  close(): void {
    this.#db.close();
  }
}
