/**
 * The sandbox log's storage contract, held by both implementations (SQLite for `stella sandbox
 * up`, memory for in-process logs): dense indexes from 0, a leaf hash stored once, lookups by
 * UUID in either case, truncation for `stella sandbox fork`, and (SQLite) a reopened database
 * with the same rows, a newer schema refused.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StellaError } from '../../../src/errors.js';
import { leafHash } from '../../../src/tlog/merkle.js';
import { toHex, utf8 } from '../../../src/util/encoding.js';
import { MemoryLogStorage, type LogStorage } from '../../../src/sandbox/authority/rekor.js';
import { SqliteLogStorage } from '../../../src/sandbox/server/storage.js';

const entry = (i: number) => {
  const body = utf8.encode(`{"entry":${i}}`);
  return { body, integratedTime: 1_700_000_000 + i, leafHash: leafHash(body) };
};

const dbPath = (): string => join(mkdtempSync(join(tmpdir(), 'stella-storage-')), 'log.db');

const storages: Array<[string, () => LogStorage]> = [
  ['memory', () => new MemoryLogStorage()],
  ['sqlite', () => new SqliteLogStorage(dbPath())],
];

for (const [name, make] of storages) {
  test(`${name}: dense indexes, one row per leaf hash, lookups by UUID in either case`, (t) => {
    const s = make();
    t.is(s.size(), 0);
    for (let i = 0; i < 3; i++) t.is(s.append(entry(i)), i);
    t.is(s.size(), 3);
    const e1 = entry(1);
    t.deepEqual(s.entry(1), e1);
    t.deepEqual(s.leafHash(2), entry(2).leafHash);
    t.is(s.findByUuid(toHex(e1.leafHash)), 1);
    t.is(s.findByUuid(toHex(e1.leafHash).toUpperCase()), 1);
    t.is(s.findByUuid('0'.repeat(64)), undefined);
    const dup = t.throws(() => s.append(entry(1)), { instanceOf: StellaError });
    t.is(dup.code, 'REKOR_REJECTED');
    t.regex(dup.message, /is already in the log/);
    t.is(s.size(), 3, 'the refused entry took no index');
    for (const missing of [3, -1, 1.5, Number.NaN]) {
      const e = t.throws(() => s.entry(missing), { instanceOf: StellaError }, String(missing));
      t.is(e.code, 'INPUT_INVALID');
      t.regex(e.message, /no log entry at index/);
    }
  });

  test(`${name}: truncation drops the tail and its UUIDs; the next entry takes the freed index`, (t) => {
    const s = make();
    for (let i = 0; i < 4; i++) s.append(entry(i));
    s.truncate(2);
    t.is(s.size(), 2);
    t.is(s.findByUuid(toHex(entry(3).leafHash)), undefined);
    t.is(s.append(entry(3)), 2, 'a dropped entry may be logged again');
    t.is(s.findByUuid(toHex(entry(0).leafHash)), 0);
  });
}

test('sqlite: a reopened database has the same rows; a newer schema is refused, not rewritten', (t) => {
  const path = dbPath();
  const a = new SqliteLogStorage(path);
  a.append(entry(0));
  a.append(entry(1));
  a.close();
  const b = new SqliteLogStorage(path);
  t.is(b.size(), 2);
  t.deepEqual(b.entry(1), entry(1));
  b.close();
  const raw = new Database(path);
  raw.pragma('user_version = 2');
  raw.close();
  const e = t.throws(() => new SqliteLogStorage(path), { instanceOf: StellaError });
  t.is(e.code, 'SANDBOX_ERROR');
  t.regex(e.message, /has schema 2, newer than this Stella \(1\)/);
  const after = new Database(path, { readonly: true });
  t.is(after.pragma('user_version', { simple: true }), 2, 'the newer schema is left as it was');
  after.close();
});

test('sqlite: a database that cannot be opened (its folder is a file) is SANDBOX_ERROR naming it', (t) => {
  const path = dbPath();
  const raw = new Database(path);
  raw.close();
  const e = t.throws(() => new SqliteLogStorage(join(path, 'below-a-file.db')), {
    instanceOf: StellaError,
  });
  t.is(e.code, 'SANDBOX_ERROR');
  t.regex(e.message, /cannot open the sandbox log database .*below-a-file\.db/);
});
