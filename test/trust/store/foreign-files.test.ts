/**
 * Checklist H51 (review item 9), trust store side: read paths never write, and a file that is
 * not a Stella trust store — another program's SQLite database, an empty file — is refused
 * by every open, read or write, and left byte for byte (nothing created beside it either).
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { importFile, listEntries } from '../../../src/trust/store/operations.js';
import { trustFromStoreIfPresent } from '../../../src/trust/store/verify-source.js';
import { initStore } from '../../../src/trust/store/init.js';
import { migrateTrustStore } from '../../../src/trust/store/migrate.js';
import { orphanWalReason, readSqliteHeader } from '../../../src/util/sqlite-file.js';
import { publicGoodTrustedRootPath } from '../../../src/trust/public-good.js';
import { CTX, tempDir } from './helpers.js';
import {
  NOT_OURS,
  ORPHAN_WAL,
  snapshotWithoutShm,
  WAL_PENDING,
} from '../../helpers/foreign-sqlite.js';

const PUBLIC_GOOD = new Uint8Array(readFileSync(publicGoodTrustedRootPath()));

function fresh(make: (file: string) => void): string {
  const dir = tempDir('foreign');
  const file = path.join(dir, 'file.db');
  make(file);
  return file;
}

/** The directory's files, byte for byte. */
function snapshot(file: string): Record<string, string> {
  const dir = path.dirname(file);
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((n) => [n, readFileSync(path.join(dir, n)).toString('hex')]),
  );
}

function refused(t: import('ava').ExecutionContext, fn: () => unknown): StellaError {
  const e = t.throws(fn, { instanceOf: StellaError }) as StellaError;
  t.is(e.code, 'STORE_FOREIGN', e.message);
  t.regex(e.message, /is not a Stella trust store \(.*\); it was left untouched/);
  return e;
}

for (const [what, make] of NOT_OURS) {
  test(`H51: ${what} is refused by every read path and left byte for byte`, (t) => {
    const file = fresh(make);
    const before = snapshot(file);
    refused(t, () => openTrustStore(file, { readonly: true }));
    refused(t, () => trustFromStoreIfPresent({ storePath: file, env: {} }));
    refused(t, () => openTrustStore(file, { readonly: true, allowOlderSchema: true }));
    t.deepEqual(snapshot(file), before);
  });

  test(`H51: ${what} is refused by every write path and left byte for byte`, (t) => {
    const file = fresh(make);
    const before = snapshot(file);
    refused(t, () => openTrustStore(file));
    refused(t, () => openTrustStore(file, { allowOlderSchema: true }));
    if (what !== 'an empty file') {
      // Even `trust init` creates a store only where there is nothing.
      refused(t, () => openTrustStore(file, { create: true }));
      refused(t, () => initStore(file, { withPublicGood: true }, CTX));
    }
    t.deepEqual(snapshot(file), before);
  });
}

for (const [what, make, reason] of WAL_PENDING) {
  test(`H51: ${what} is judged by SQLite's read: read and write paths refuse it, the database and its WAL left byte for byte`, (t) => {
    const file = fresh(make);
    const before = snapshotWithoutShm(file);
    t.true(Object.keys(before).includes('file.db-wal'));
    for (const fn of [
      () => openTrustStore(file, { readonly: true }),
      () => openTrustStore(file),
      () => openTrustStore(file, { allowOlderSchema: true }),
      () => trustFromStoreIfPresent({ storePath: file, env: {} }),
    ])
      t.true(refused(t, fn).message.includes(`(${reason}`), reason);
    // A read-write connection would have checkpointed the WAL into the file on closing.
    t.deepEqual(snapshotWithoutShm(file), before);
  });
}

for (const [what, kind, make] of ORPHAN_WAL) {
  test(`H51: ${what} is refused before SQLite opens it (which would delete the WAL), \`trust init\` included, left byte for byte`, (t) => {
    const file = path.join(tempDir('orphan-wal'), 'file.db');
    make(file);
    const before = snapshot(file);
    t.true(Object.keys(before).includes('file.db-wal'));
    const paths = [
      () => openTrustStore(file, { create: true }),
      () => initStore(file, { withPublicGood: true }, CTX),
      ...(kind === 'empty'
        ? [
            () => openTrustStore(file, { readonly: true }),
            () => openTrustStore(file),
            () => trustFromStoreIfPresent({ storePath: file, env: {} }),
          ]
        : []),
    ];
    for (const fn of paths)
      t.is(
        refused(t, fn).message,
        `${file} is not a Stella trust store (${orphanWalReason(kind)}); it was left untouched`,
      );
    t.deepEqual(snapshot(file), before);
  });
}

test('H51: `trust init` may make an empty file a store (a write path asked to create one); reading one never does', (t) => {
  const file = fresh((f) => writeFileSync(f, ''));
  // Judged from the file, before SQLite opens it: an empty file, said as such.
  t.regex(
    refused(t, () => openTrustStore(file, { readonly: true })).message,
    /\(an empty file; `stella trust init` creates a store\)/,
  );
  t.is(readFileSync(file).length, 0);
  const r = initStore(file, {}, CTX);
  t.true(r.created);
  t.is(readSqliteHeader(file).kind, 'sqlite');
});

test('H51: read paths on a Stella store do not write it: no migration, no WAL switch, no table created', (t) => {
  // A store left in rollback-journal mode (as a copy made with `sqlite3 .backup` would be):
  // a read must not switch it to WAL, which would rewrite its header.
  const dir = tempDir('ro');
  const file = path.join(dir, 'trust.db');
  const s0 = openTrustStore(file, { create: true, now: CTX.now, command: 'init' });
  importFile(s0, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  s0.db.pragma('journal_mode = DELETE');
  s0.close();
  const before = readFileSync(file);
  const s = openTrustStore(file, { readonly: true });
  t.true(s.readonly);
  t.is(s.db.pragma('journal_mode', { simple: true }), 'delete');
  s.close();
  t.truthy(trustFromStoreIfPresent({ storePath: file, env: {} }));
  t.deepEqual(readFileSync(file), before);
  t.deepEqual(readdirSync(dir), ['trust.db']);
  // A write path does switch it.
  openTrustStore(file).close();
  t.is(readFileSync(file)[18], 2, 'WAL after a writer opened it');
});

test('a store another connection holds open, its last writes still in the WAL, opens as asked (a read stays read-only) and shows them', (t) => {
  const file = path.join(tempDir('wal'), 'trust.db');
  const holder = openTrustStore(file, { create: true, now: CTX.now, command: 'init' });
  importFile(holder, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  const header = readSqliteHeader(file);
  t.like(header, { kind: 'sqlite', walPending: true }, 'fixture: the import is in the WAL');
  const entries = listEntries(holder).length;
  t.true(entries > 0);
  // The header may be stale while a WAL is pending: SQLite's own open decides. Nothing may
  // take the store for one to be created, which would also open a read path for writing.
  for (const opts of [{ readonly: true }, {}, { create: true, now: CTX.now }]) {
    const what = JSON.stringify(opts);
    const s = openTrustStore(file, opts);
    t.is(s.readonly, 'readonly' in opts, what);
    t.false(s.created, what);
    t.is(listEntries(s).length, entries, what);
    s.close();
  }
  holder.close();
});

test('H51: a missing store is not created by a read path, nor its directory', (t) => {
  const dir = tempDir('missing');
  const file = path.join(dir, 'sub', 'trust.db');
  t.is(
    (
      t.throws(() => openTrustStore(file, { readonly: true }), {
        instanceOf: StellaError,
      }) as StellaError
    ).code,
    'STORE_NOT_FOUND',
  );
  t.is(
    (t.throws(() => openTrustStore(file), { instanceOf: StellaError }) as StellaError).code,
    'STORE_NOT_FOUND',
  );
  t.deepEqual(readdirSync(dir), []);
});

test('the SQLite header is read without SQLite: kinds and ids', (t) => {
  const dir = tempDir('hdr');
  t.is(readSqliteHeader(path.join(dir, 'none')).kind, 'missing');
  mkdirSync(path.join(dir, 'd'));
  t.is(readSqliteHeader(path.join(dir, 'd')).kind, 'not-a-file');
  writeFileSync(path.join(dir, 'e'), '');
  t.is(readSqliteHeader(path.join(dir, 'e')).kind, 'empty');
  writeFileSync(path.join(dir, 'short'), 'SQLite format 3\0');
  t.is(readSqliteHeader(path.join(dir, 'short')).kind, 'not-sqlite');
  writeFileSync(path.join(dir, 'junk'), Buffer.alloc(4096, 0x41));
  t.is(readSqliteHeader(path.join(dir, 'junk')).kind, 'not-sqlite');
  const f = path.join(dir, 'db');
  const db = new Database(f);
  db.exec('CREATE TABLE t (x); PRAGMA application_id = -2; PRAGMA user_version = 7;');
  db.close();
  t.deepEqual(readSqliteHeader(f), {
    kind: 'sqlite',
    applicationId: -2,
    userVersion: 7,
    walPending: false,
  });
});

test('a migrate of a store that is not ours is refused too (trust migrate is a write path)', (t) => {
  const file = fresh(NOT_OURS[0]![1]);
  const before = snapshot(file);
  refused(t, () => {
    const s = openTrustStore(file, { allowOlderSchema: true });
    migrateTrustStore(s, {}, CTX);
  });
  t.deepEqual(snapshot(file), before);
});

test("`trust init` racing another program for an empty file never makes a store over its table: refused (SQLite answers busy while the other holds the write lock), the other program's table kept", async (t) => {
  const file = fresh((f) => writeFileSync(f, ''));
  // Another program takes the write lock on the empty file and adds a table, committing 1.5 s
  // later; Stella judges the file (empty by its header) meanwhile. SQLite refuses Stella's
  // lock upgrade at once rather than wait (its deadlock rule), so the busy timeout is not
  // waited out. (db.ts createSchema also re-checks inside its transaction, for a program that
  // commits between Stella's judgement and that transaction: processes racing to create one
  // store reach it, test/trust/store/reliability.test.ts.)
  const script = `
    const Database = require(process.argv[1]);
    const db = new Database(process.argv[2]);
    db.exec('BEGIN IMMEDIATE; CREATE TABLE notes (body TEXT);');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, 1500);`;
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const child = spawn(process.execPath, ['-e', script, sqlite, file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  await once(child.stdout, 'data');
  const e = t.throws(() => openTrustStore(file, { create: true, busyTimeoutMs: 20_000 }), {
    instanceOf: StellaError,
  }) as StellaError;
  t.true(['STORE_BUSY', 'STORE_FOREIGN'].includes(e.code), e.message);
  await exited;
  const db = new Database(file, { readonly: true });
  t.deepEqual(
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(),
    [{ name: 'notes' }],
    'no Stella table beside it',
  );
  db.close();
  // Once the other program is done, the file is judged as what it now is.
  t.regex(
    refused(t, () => openTrustStore(file, { create: true })).message,
    /SQLite application id 0|other contents/,
  );
});
