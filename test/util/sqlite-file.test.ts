/**
 * Judging a path before SQLite opens it (src/util/sqlite-file.ts): the header's kinds, a WAL
 * beside it, and the schema shape that tells whether a database is one Stella made.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readSqliteHeader,
  schemaShape,
  schemaShapeOf,
  sqliteCreationUndo,
  switchToWal,
} from '../../src/util/sqlite-file.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';

const tmp = () => mkdtempSync(join(tmpdir(), 'stella-sqlite-file-'));

test('kinds: missing, a folder, empty, not SQLite, SQLite with its user version and application id', (t) => {
  const dir = tmp();
  t.is(readSqliteHeader(join(dir, 'none.db')).kind, 'missing');
  mkdirSync(join(dir, 'folder.db'));
  t.is(readSqliteHeader(join(dir, 'folder.db')).kind, 'not-a-file');
  writeFileSync(join(dir, 'empty.db'), '');
  t.is(readSqliteHeader(join(dir, 'empty.db')).kind, 'empty');
  writeFileSync(join(dir, 'short.db'), 'SQLite format 3\0');
  t.is(readSqliteHeader(join(dir, 'short.db')).kind, 'not-sqlite', 'a header needs 100 bytes');
  writeFileSync(join(dir, 'junk.db'), Buffer.alloc(4096, 0x61));
  t.is(readSqliteHeader(join(dir, 'junk.db')).kind, 'not-sqlite');
  const db = new Database(join(dir, 'real.db'));
  db.pragma('application_id = 1398033474');
  db.pragma('user_version = 7');
  db.exec('CREATE TABLE t (a)');
  db.close();
  t.deepEqual(readSqliteHeader(join(dir, 'real.db')), {
    kind: 'sqlite',
    applicationId: 1398033474,
    userVersion: 7,
    walPending: false,
  });
});

test('walPending: only a non-empty -wal file beside the database (an empty one, a folder or none is not)', (t) => {
  const dir = tmp();
  const path = join(dir, 'junk.db');
  writeFileSync(path, Buffer.alloc(4096, 0x61));
  t.false(readSqliteHeader(path).walPending, 'no WAL');
  writeFileSync(`${path}-wal`, '');
  t.false(readSqliteHeader(path).walPending, 'an empty WAL holds nothing');
  writeFileSync(`${path}-wal`, 'x');
  t.true(readSqliteHeader(path).walPending);
  const other = join(dir, 'other.db');
  writeFileSync(other, Buffer.alloc(4096, 0x61));
  mkdirSync(`${other}-wal`);
  t.false(readSqliteHeader(other).walPending, 'a folder is not a WAL');
  // Reported whatever the main file is.
  writeFileSync(join(dir, 'gone.db-wal'), 'x');
  t.deepEqual(readSqliteHeader(join(dir, 'gone.db')), {
    kind: 'missing',
    applicationId: 0,
    userVersion: 0,
    walPending: true,
  });
});

test("schemaShape: a table's columns count, not only its name; the SQL text does not", (t) => {
  const ddl = [
    'CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)',
    'CREATE INDEX t_b ON t (b)',
  ];
  const shape = schemaShapeOf(ddl);
  const same = new Database(':memory:');
  // The same schema in other words (spacing, case of keywords).
  same.exec('create table t (  a integer primary key,  b text not null )');
  same.exec('create index t_b on t(b)');
  t.is(schemaShape(same), shape);
  same.close();
  for (const altered of [
    ['CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)', 'CREATE INDEX t_b ON t (b)'],
    ['CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL, c)', 'CREATE INDEX t_b ON t (b)'],
    ['CREATE TABLE t (a INTEGER PRIMARY KEY, b BLOB NOT NULL)', 'CREATE INDEX t_b ON t (b)'],
    ['CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)'],
  ])
    t.not(schemaShapeOf(altered), shape, altered.join('; '));
});

test('sqliteCreationUndo puts back what was at the path: a database made is removed with its WAL and -shm, an empty file emptied, anything else left', (t) => {
  const dir = tmp();
  const made = join(dir, 'made.db');
  const undoMade = sqliteCreationUndo(made);
  for (const f of [made, `${made}-wal`, `${made}-shm`]) writeFileSync(f, 'written by the write');
  undoMade();
  t.deepEqual(readdirSync(dir), [], 'the database and both side files are gone');

  const empty = join(dir, 'empty.db');
  writeFileSync(empty, '');
  const undoEmpty = sqliteCreationUndo(empty);
  writeFileSync(empty, 'filled');
  writeFileSync(`${empty}-wal`, 'wal');
  undoEmpty();
  t.is(readFileSync(empty).length, 0);
  t.false(existsSync(`${empty}-wal`));

  // A store that was there is left to its own rollback, and so are side files that were there.
  const held = join(dir, 'held.db');
  writeFileSync(held, 'a store');
  writeFileSync(`${held}-wal`, 'its wal');
  const undoHeld = sqliteCreationUndo(held);
  writeFileSync(`${held}-shm`, 'made by the write');
  undoHeld();
  t.is(readFileSync(held, 'utf8'), 'a store');
  t.is(readFileSync(`${held}-wal`, 'utf8'), 'its wal');
  t.true(existsSync(`${held}-shm`), 'nothing undone beside a store that was there');
  const missingWithWal = join(dir, 'orphan.db');
  writeFileSync(`${missingWithWal}-wal`, 'an orphan wal, not ours');
  const undoOrphan = sqliteCreationUndo(missingWithWal);
  writeFileSync(missingWithWal, 'made');
  undoOrphan();
  t.false(existsSync(missingWithWal));
  t.is(readFileSync(`${missingWithWal}-wal`, 'utf8'), 'an orphan wal, not ours');
});

test('switchToWal waits out another process holding the write lock, which the bare pragma does not, up to the busy timeout', async (t) => {
  const file = join(tmp(), 'x.db');
  const setup = new Database(file);
  setup.exec('CREATE TABLE t (x)');
  setup.close();
  /** Another process holds BEGIN IMMEDIATE on `file` for `ms`, then commits. */
  const holdWriteLock = async (ms: number) => {
    const script = `
      const Database = require(process.argv[1]);
      const db = new Database(process.argv[2]);
      db.exec('BEGIN IMMEDIATE');
      process.stdout.write('held\\n');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[3]));`;
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const child = spawn(process.execPath, ['-e', script, sqlite, file, String(ms)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(child.stdout, 'data');
    return { exited: once(child, 'exit') };
  };
  // better-sqlite3's SqliteError is not an Error ava recognises: its code, or 'done'.
  const outcome = (f: () => unknown): unknown => {
    try {
      f();
      return 'done';
    } catch (e) {
      return (e as { code?: unknown }).code;
    }
  };
  // SQLite gives SQLITE_BUSY at once here, whatever the busy timeout.
  let { exited } = await holdWriteLock(300);
  const bare = new Database(file, { timeout: 5000 });
  t.is(
    outcome(() => bare.pragma('journal_mode = WAL')),
    'SQLITE_BUSY',
  );
  bare.close();
  await exited;
  ({ exited } = await holdWriteLock(300));
  const db = new Database(file, { timeout: 5000 });
  switchToWal(db);
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
  await exited;
  // A lock held past the busy timeout is still SQLITE_BUSY, once the timeout is spent.
  const other = join(tmp(), 'y.db');
  new Database(other).exec('CREATE TABLE t (x)');
  const copy = readFileSync(other);
  writeFileSync(file, copy);
  ({ exited } = await holdWriteLock(2000));
  const short = new Database(file, { timeout: 100 });
  t.is(
    outcome(() => switchToWal(short)),
    'SQLITE_BUSY',
  );
  t.is(short.pragma('journal_mode', { simple: true }), 'delete');
  short.close();
  await exited;
});
