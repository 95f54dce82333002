/** SQLite files (and an empty file) that are not Stella's stores, for the H51 tests of both stores. */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';

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
  ['an empty file', (f) => writeFileSync(f, '')],
];
