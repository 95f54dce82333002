/** SQLite files (and an empty file) that are not Stella's stores, for the H51 tests of both stores. */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

/**
 * Another program's database (application id 1234) that a crash left mid-write: a hot
 * rollback journal beside it. SQLite rolls such a journal back on the first read of a
 * writable connection, changing the file; so only a refusal from the header, before SQLite
 * opens it, leaves it as it was.
 */
function crashedMidWrite(f: string): void {
  const db = new Database(f);
  db.pragma('journal_mode = DELETE');
  db.exec(
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine'); PRAGMA application_id = 1234;",
  );
  db.close();
  // A child starts a transaction large enough to spill to the file, then is killed.
  const script = `
    const Database = require(process.argv[1]);
    const db = new Database(process.argv[2]);
    db.pragma('cache_size = 1');
    db.exec("BEGIN; UPDATE notes SET body = 'during'; INSERT INTO notes (body) SELECT hex(randomblob(2000)) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500) SELECT i FROM c);");
    process.kill(process.pid, 'SIGKILL');`;
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const r = spawnSync(process.execPath, ['-e', script, sqlite, f]);
  if (r.signal !== 'SIGKILL' || !existsSync(`${f}-journal`))
    throw new Error(`no hot journal was left: ${r.stderr.toString()}`);
}

/**
 * A database whose creator was killed in WAL mode after `sql`: its changes are still in the
 * -wal file, so the header cannot be judged alone and SQLite's read of it decides (the stores'
 * second check, after the header's).
 */
function killedInWalMode(sql: string): (f: string) => void {
  return (f) => {
    const script = `
      const Database = require(process.argv[1]);
      const db = new Database(process.argv[2]);
      db.pragma('journal_mode = WAL');
      db.exec(process.argv[3]);
      process.kill(process.pid, 'SIGKILL');`;
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const r = spawnSync(process.execPath, ['-e', script, sqlite, f, sql]);
    if (r.signal !== 'SIGKILL' || !existsSync(`${f}-wal`))
      throw new Error(`no WAL was left: ${r.stderr.toString()}`);
  };
}

/**
 * Files only SQLite's read can judge (a WAL pending), with the reason each store gives: name,
 * how to make one, the reason's start.
 */
export const WAL_PENDING: [string, (file: string) => void, string][] = [
  [
    'an empty database whose WAL is pending',
    killedInWalMode('CREATE TABLE t (x); DROP TABLE t;'),
    'an empty database',
  ],
  [
    "another program's database whose WAL is pending",
    killedInWalMode(
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine'); PRAGMA application_id = 1234;",
    ),
    'SQLite application id 1234',
  ],
];

/**
 * Another program's pending WAL left beside an empty file, or where a missing file's -wal
 * would be: what `orphanWalReason` (src/util/sqlite-file.ts) names. SQLite, opening either,
 * takes the database as empty and deletes the log. Name, the file's kind, how to make one.
 */
export const ORPHAN_WAL: [string, 'empty' | 'missing', (file: string) => void][] = (
  [
    ['an empty file with a WAL beside it', 'empty'],
    ['no file, but a WAL where its -wal would be', 'missing'],
  ] as const
).map(([what, kind]) => [
  what,
  kind,
  (f: string) => {
    killedInWalMode(
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine'); PRAGMA application_id = 1234;",
    )(f);
    if (kind === 'empty') truncateSync(f, 0);
    else rmSync(f);
    rmSync(`${f}-shm`, { force: true });
  },
]);

/** The folder's files, byte for byte, but SQLite's shared-memory index (-shm), which every reader rebuilds. */
export function snapshotWithoutShm(file: string): Record<string, string> {
  const dir = dirname(file);
  return Object.fromEntries(
    readdirSync(dir)
      .filter((n) => !n.endsWith('-shm'))
      .sort()
      .map((n) => [n, readFileSync(join(dir, n)).toString('hex')]),
  );
}

/** Name, and how to make one at a path. */
export const NOT_OURS: [string, (file: string) => void][] = [
  [
    "another program's SQLite database",
    (f) => {
      const db = new Database(f);
      db.exec(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine')",
      );
      db.close();
    },
  ],
  [
    "another program's SQLite database in WAL mode",
    (f) => {
      const db = new Database(f);
      db.pragma('journal_mode = WAL');
      db.exec(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine')",
      );
      db.close();
    },
  ],
  [
    'a SQLite database at user_version 1 without an application id',
    (f) => {
      const db = new Database(f);
      db.exec('CREATE TABLE t (x); PRAGMA user_version = 1;');
      db.close();
    },
  ],
  [
    "another application's id",
    (f) => {
      const db = new Database(f);
      db.exec('CREATE TABLE t (x); PRAGMA application_id = 1234; PRAGMA user_version = 2;');
      db.close();
    },
  ],
  [
    'an empty SQLite database (no tables)',
    (f) => {
      const db = new Database(f);
      db.exec('CREATE TABLE t (x); DROP TABLE t;');
      db.close();
    },
  ],
  ["another application's database left mid-write (a hot journal beside it)", crashedMidWrite],
  ['an empty file', (f) => writeFileSync(f, '')],
];
