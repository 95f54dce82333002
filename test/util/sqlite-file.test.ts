/**
 * Judging a path before SQLite opens it (src/util/sqlite-file.ts): the header's kinds, a WAL
 * beside it, and the schema shape that tells whether a database is one Stella made.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSqliteHeader, schemaShape, schemaShapeOf } from '../../src/util/sqlite-file.js';

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
