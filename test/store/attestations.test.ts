import test from 'ava';
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import {
  ATTESTATION_STORE_APPLICATION_ID,
  AttestationStore,
  findBundlesByDigest,
  normalizeArtifactDigest,
  resolveAttestationStorePath,
} from '../../src/store/attestations.js';
import { StellaError } from '../../src/errors.js';
import { runTogether } from '../helpers/together.js';
import { readSqliteHeader } from '../../src/util/sqlite-file.js';
import {
  NOT_OURS,
  ORPHAN_WAL,
  snapshotWithoutShm,
  WAL_PENDING,
} from '../helpers/foreign-sqlite.js';
import { orphanWalReason } from '../../src/util/sqlite-file.js';

const D1 = 'sha256:' + 'ab'.repeat(32);
const D2 = 'sha256:' + 'cd'.repeat(32);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'stella-store-'));
}

test('signers told at once to keep a bundle in a store that does not exist yet: one creates it, every save is kept', async (t) => {
  // A CI matrix whose jobs sign into one store on a shared disk. Each judges the file absent,
  // then creates the schema in an IMMEDIATE transaction that looks again: one that lost the
  // race finds the store made and uses it.
  const module = new URL('../../src/store/attestations.js', import.meta.url).href;
  const child = `
    const { AttestationStore } = await import(process.argv[1]);
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      try {
        const s = AttestationStore.open(process.argv[2], 'write');
        s.save({ artifactDigest: process.argv[3], bundleJson: '{}', contentKind: 'messageSignature', createdAt: 1 });
        s.close();
        process.stdout.write('kept\\n');
      } catch (e) {
        process.stdout.write('error ' + e.code + ' ' + e.message + '\\n');
        process.exitCode = 1;
      }
    });`;
  for (let round = 0; round < 4; round++) {
    const path = join(tmp(), 'attestations.db');
    const digests = Array.from({ length: 6 }, (_, i) => `sha256:${String(i).repeat(64)}`);
    const results = await runTogether(
      digests.map((d) => ['--input-type=module', '-e', child, module, path, d]),
    );
    t.deepEqual(
      results.map((r) => [r.code, r.said]),
      digests.map(() => [0, 'kept']),
      `round ${round}`,
    );
    const s = AttestationStore.open(path, 'read');
    t.deepEqual(
      digests.map((d) => s.findBundlesByDigest(d).length),
      digests.map(() => 1),
    );
    s.close();
  }
});

test('a store another process holds past the busy timeout: STORE_BUSY naming it, on a save, on an import batch and on the open to read or write; kept once it is free', (t) => {
  const path = join(tmp(), 'attestations.db');
  AttestationStore.open(path, 'write').close();
  const module = new URL('../../src/store/attestations.js', import.meta.url).href;
  const child = `
    const { AttestationStore } = await import(process.argv[1]);
    const input = { artifactDigest: 'sha256:' + 'e'.repeat(64), bundleJson: '{}', contentKind: 'messageSignature', createdAt: 1 };
    try {
      const s = AttestationStore.open(process.argv[2], process.argv[3] === 'read' ? 'read' : 'write');
      if (process.argv[3] === 'read') s.findBundlesByDigest(input.artifactDigest);
      else if (process.argv[3] === 'batch') await s.batch(async (save) => save(input));
      else s.save(input);
      s.close();
      process.stdout.write('kept');
    } catch (e) {
      process.stdout.write(e.code + ' ' + e.message);
    }`;
  const keep = (how: string): string =>
    spawnSync(process.execPath, ['--input-type=module', '-e', child, module, path, how], {
      env: { ...process.env, STELLA_STORE_BUSY_TIMEOUT_MS: '100' },
      encoding: 'utf8',
    }).stdout;
  const holder = new Database(path);
  holder.exec('BEGIN IMMEDIATE');
  for (const how of ['save', 'batch'])
    t.is(
      keep(how),
      `STORE_BUSY store busy: another process is using attestation store ${path}; try again`,
      how,
    );
  holder.exec('COMMIT');
  // In exclusive locking mode a write keeps its lock after the commit, and readers wait too:
  // now the open itself meets the busy store, in either mode.
  holder.pragma('locking_mode = EXCLUSIVE');
  holder.exec('BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS held (x); DROP TABLE held; COMMIT');
  for (const how of ['read', 'save'])
    t.is(
      keep(how),
      `STORE_BUSY store busy: another process is using attestation store ${path}; try again`,
      `open to ${how}`,
    );
  holder.close();
  t.is(keep('save'), 'kept');
  t.is(keep('batch'), 'kept');
  t.is(keep('read'), 'kept');
});

test('save and find by digest; duplicates collapse; an upper-case digest is refused', (t) => {
  const path = join(tmp(), 'a', 'attestations.db');
  const s = AttestationStore.open(path, 'write');
  s.save({
    artifactDigest: D1,
    bundleJson: '{"b":1}',
    contentKind: 'messageSignature',
    identity: 'id',
    issuer: 'iss',
    createdAt: 1,
  });
  // One spelling of a digest (util/digest.ts, issue 8): upper-case hex is refused, not normalised.
  t.is(
    (
      t.throws(() =>
        s.save({
          artifactDigest: D1.toUpperCase().replace('SHA256', 'sha256'),
          bundleJson: '{"b":1}',
          contentKind: 'messageSignature',
          createdAt: 2,
        }),
      ) as StellaError
    ).code,
    'INPUT_INVALID',
  );
  s.save({
    artifactDigest: D1,
    bundleJson: '{"b":1}',
    contentKind: 'messageSignature',
    createdAt: 2,
  });
  s.save({
    artifactDigest: D1,
    bundleJson: '{"b":2}',
    contentKind: 'dsseEnvelope',
    predicateType: 'https://slsa.dev/provenance/v1',
    createdAt: 3,
  });
  s.save({
    artifactDigest: D2,
    bundleJson: '{"b":3}',
    contentKind: 'messageSignature',
    createdAt: 4,
  });
  t.is(s.count(), 3);
  const found = s.findBundlesByDigest(D1);
  t.deepEqual(
    found.map((f) => f.bundleJson),
    ['{"b":1}', '{"b":2}'],
  );
  t.is(found[0]!.identity, 'id');
  t.is(found[1]!.predicateType, 'https://slsa.dev/provenance/v1');
  s.close();
  // Reopen: data persisted.
  t.is(findBundlesByDigest(path, D2).length, 1);
});

test('export reads: keys in listAll order without the JSON, then each bundle by id as its exact UTF-8 bytes', (t) => {
  const path = join(tmp(), 'attestations.db');
  const s = AttestationStore.open(path, 'write');
  const json = ['{"n":"é ☃ 𝄞"}', '{"b":1}', '{"c":"\\u0000"}'];
  s.save({
    artifactDigest: D2,
    bundleJson: json[0]!,
    contentKind: 'messageSignature',
    createdAt: 1,
  });
  s.save({
    artifactDigest: D1,
    bundleJson: json[1]!,
    contentKind: 'messageSignature',
    createdAt: 2,
  });
  s.save({ artifactDigest: D1, bundleJson: json[2]!, contentKind: 'dsseEnvelope', createdAt: 3 });
  const all = s.listAll();
  const keys = [...s.eachStoredKey()];
  t.deepEqual(
    keys,
    all.map((r) => ({ id: r.id, artifactDigest: r.artifactDigest })),
  );
  t.deepEqual(
    keys.map((k) => k.artifactDigest),
    [D1, D1, D2],
  );
  t.deepEqual([...s.eachStoredKey(D1)], keys.slice(0, 2));
  t.deepEqual([...s.eachStoredKey(`sha256:${'ef'.repeat(32)}`)], []);
  for (const r of all)
    t.deepEqual(
      new Uint8Array(s.bundleBytesById(r.id)!),
      new Uint8Array(Buffer.from(r.bundleJson, 'utf8')),
    );
  t.is(s.bundleBytesById(9999), undefined);
  s.close();
});

test('no attestations found: missing store and empty result are NO_ATTESTATIONS_FOUND', (t) => {
  const dir = tmp();
  let e = t.throws(() => findBundlesByDigest(join(dir, 'none.db'), D1)) as StellaError;
  t.is(e.code, 'NO_ATTESTATIONS_FOUND');
  t.regex(e.message, /no attestations found/);
  const path = join(dir, 'x.db');
  AttestationStore.open(path, 'write').close();
  e = t.throws(() => findBundlesByDigest(path, D1)) as StellaError;
  t.is(e.code, 'NO_ATTESTATIONS_FOUND');
  t.regex(e.message, new RegExp(`no attestations found for ${D1}`));
});

test('bad digests and non-store files are refused clearly', (t) => {
  t.is(
    (t.throws(() => normalizeArtifactDigest('sha256:abc')) as StellaError).code,
    'INPUT_INVALID',
  );
  // One spelling of a digest (util/digest.ts, issue 8): upper case and surrounding spaces are refused, not normalised.
  t.is(
    (t.throws(() => normalizeArtifactDigest(' sha256:' + 'AB'.repeat(32))) as StellaError).code,
    'INPUT_INVALID',
  );
  t.is(normalizeArtifactDigest(D1), D1);
  const junk = join(tmp(), 'junk.db');
  writeFileSync(junk, 'this is not sqlite'.repeat(100));
  const junkBefore = snapshot(junk);
  const e = t.throws(() => AttestationStore.open(junk, 'write')) as StellaError;
  t.is(e.code, 'STORE_CORRUPT');
  // Refused from its header, before SQLite opens it: named as not a database, and left as it
  // was with nothing written beside it.
  t.regex(e.message, /is corrupt or not a SQLite database$/);
  t.deepEqual(snapshot(junk), junkBefore);
  // With a write-ahead log beside it the header alone cannot decide (the WAL may hold the
  // first page), so SQLite's own open does, and its words follow ours: still corrupt, and the
  // file itself untouched. (SQLite discards a log whose header is not a WAL's when it closes.)
  const walled = join(tmp(), 'walled.db');
  writeFileSync(walled, 'this is not sqlite'.repeat(100));
  writeFileSync(walled + '-wal', 'not a wal either'.repeat(10));
  const walledBefore = readFileSync(walled);
  const w = t.throws(() => AttestationStore.open(walled, 'write')) as StellaError;
  t.is(w.code, 'STORE_CORRUPT');
  t.regex(w.message, /: file is not a database$/);
  t.deepEqual(readFileSync(walled), walledBefore);
  // A path that cannot be read at all (its folder is a file) is refused, on a read path and a
  // write path alike, with the reason; nothing is made.
  const file = join(tmp(), 'a-file');
  writeFileSync(file, 'x');
  for (const mode of ['read', 'write'] as const) {
    const u = t.throws(() => AttestationStore.open(join(file, 'store.db'), mode)) as StellaError;
    t.is(u.code, 'STORE_CORRUPT', mode);
    // Named once (before stop 59: "attestation store X cannot be read: attestation store "X": …").
    t.is(
      u.message,
      `attestation store ${JSON.stringify(join(file, 'store.db'))}: a component of the path is not a directory`,
    );
  }
  t.is(readFileSync(file, 'utf8'), 'x');
  // A folder where the store should be (or a device, a pipe) is no store, on either path, and
  // is left as it was. (Without this refusal it was judged as an empty file: "not a Stella
  // attestation store (an empty file)", which misnames it.)
  const folder = tmp();
  for (const mode of ['read', 'write'] as const) {
    t.like(
      t.throws(() => AttestationStore.open(folder, mode)),
      { code: 'STORE_CORRUPT', message: `attestation store ${folder} is not a regular file` },
      mode,
    );
    t.deepEqual(readdirSync(folder), [], mode);
  }
  // A folder that cannot be made for a new store is named, once, on the write path.
  t.like(
    t.throws(() => AttestationStore.open('/proc/self/no-such-folder/store.db', 'write')),
    {
      code: 'STORE_CORRUPT',
      message:
        'attestation store folder "/proc/self/no-such-folder": a folder cannot be created under /proc/self',
    },
  );
});

test('store path: flag, then STELLA_ATTESTATION_STORE, then a per-user default', (t) => {
  t.is(
    resolveAttestationStorePath('/x/flag.db', { STELLA_ATTESTATION_STORE: '/x/env.db' }),
    '/x/flag.db',
  );
  t.is(
    resolveAttestationStorePath(undefined, { STELLA_ATTESTATION_STORE: '/x/env.db' }),
    '/x/env.db',
  );
  t.is(
    resolveAttestationStorePath(undefined, { XDG_DATA_HOME: '/x/data' }),
    '/x/data/stella/attestations.db',
  );
  // An empty or relative XDG_DATA_HOME is ignored (it used to put the store under the
  // current folder): the default is the user's, as for the trust store.
  for (const XDG_DATA_HOME of ['', 'relative'])
    t.is(
      resolveAttestationStorePath(undefined, { XDG_DATA_HOME }),
      join(homedir(), '.local', 'share', 'stella', 'attestations.db'),
    );
});

// Checklist H51 (review item 9): read paths (verify, export-bundle) open the store read-only
// and never create one; no path touches a SQLite file that is not a Stella attestation store.

function snapshot(file: string): Record<string, string> {
  const dir = dirname(file);
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((n) => [n, readFileSync(join(dir, n)).toString('hex')]),
  );
}

for (const [what, make] of NOT_OURS) {
  test(`H51: ${what} given as the attestation store is refused by read and write paths and left byte for byte`, (t) => {
    const path = join(tmp(), 'file.db');
    make(path);
    const before = snapshot(path);
    for (const fn of [
      () => findBundlesByDigest(path, D1),
      () => AttestationStore.open(path, 'read'),
      ...(what === 'an empty file' ? [] : [() => AttestationStore.open(path, 'write')]),
    ]) {
      const e = t.throws(fn, { instanceOf: StellaError }) as StellaError;
      t.is(e.code, 'STORE_FOREIGN', e.message);
      t.is(e.check, 'attestation-store');
      t.regex(e.message, /is not a Stella attestation store \(.*\); it was left untouched/);
      // Named from its header, before SQLite opens it (SQLite would see "an empty database").
      if (what === 'an empty file') t.regex(e.message, /\(an empty file\)/);
    }
    t.deepEqual(snapshot(path), before);
  });
}

for (const [what, make, reason] of WAL_PENDING) {
  test(`H51: ${what} is judged by SQLite's read, refused by read and write paths, the database and its WAL left byte for byte`, (t) => {
    const path = join(tmp(), 'pending.db');
    make(path);
    const before = snapshotWithoutShm(path);
    t.true(Object.keys(before).includes('pending.db-wal'));
    for (const fn of [
      () => AttestationStore.open(path, 'read'),
      () => AttestationStore.open(path, 'write'),
      () => findBundlesByDigest(path, D1),
    ]) {
      const e = t.throws(fn, { instanceOf: StellaError }) as StellaError;
      t.is(e.code, 'STORE_FOREIGN');
      t.true(
        e.message.endsWith(`is not a Stella attestation store (${reason}); it was left untouched`),
        e.message,
      );
    }
    // A read-write connection would have checkpointed the WAL into the file on closing.
    t.deepEqual(snapshotWithoutShm(path), before);
  });
}

for (const [what, kind, make] of ORPHAN_WAL) {
  test(`H51: ${what} is refused before SQLite opens it (which would delete the WAL), by read and write paths, left byte for byte`, (t) => {
    const path = join(tmp(), 'orphan.db');
    make(path);
    const before = snapshot(path);
    t.true(Object.keys(before).includes('orphan.db-wal'));
    const paths = [
      () => AttestationStore.open(path, 'write'),
      ...(kind === 'empty'
        ? [() => AttestationStore.open(path, 'read'), () => findBundlesByDigest(path, D1)]
        : []),
    ];
    for (const fn of paths) {
      const e = t.throws(fn, { instanceOf: StellaError }) as StellaError;
      t.is(e.code, 'STORE_FOREIGN', e.message);
      t.is(
        e.message,
        `${path} is not a Stella attestation store (${orphanWalReason(kind)}); it was left untouched`,
      );
    }
    t.deepEqual(snapshot(path), before);
  });
}

test("H51: a store with our tables but another program's application id is refused by its header, untouched", (t) => {
  const path = join(tmp(), 'other-id.db');
  AttestationStore.open(path, 'write').close();
  const raw = new Database(path);
  raw.pragma('application_id = 1280265249');
  raw.close();
  const before = snapshot(path);
  for (const mode of ['read', 'write'] as const) {
    const e = t.throws(() => AttestationStore.open(path, mode), {
      instanceOf: StellaError,
    }) as StellaError;
    t.is(e.code, 'STORE_FOREIGN', mode);
    t.regex(e.message, /\(SQLite application id 1280265249\); it was left untouched$/);
  }
  t.deepEqual(snapshot(path), before);
});

test('H51: a SQLite file with no tables but our application id, or a schema version, is judged by its header, not taken as an empty database', (t) => {
  for (const [pragma, code, message] of [
    [
      `application_id = ${ATTESTATION_STORE_APPLICATION_ID}`,
      'STORE_CORRUPT',
      (path: string) => `attestation store ${path} does not have the tables of schema 1`,
    ],
    [
      'user_version = 1',
      'STORE_FOREIGN',
      (path: string) =>
        `${path} is not a Stella attestation store (SQLite application id 0); it was left untouched`,
    ],
  ] as const) {
    const path = join(tmp(), 'no-tables.db');
    const raw = new Database(path);
    raw.pragma(pragma);
    raw.close();
    const before = snapshot(path);
    for (const mode of ['read', 'write'] as const)
      t.like(
        t.throws(() => AttestationStore.open(path, mode), { instanceOf: StellaError }),
        { code, message: message(path) },
        `${pragma} ${mode}`,
      );
    t.deepEqual(snapshot(path), before);
  }
});

test('H51: a write path (signing) makes a missing or empty file a store, marked with its application id', (t) => {
  for (const make of [() => undefined, (p: string) => writeFileSync(p, '')]) {
    const path = join(tmp(), 'a.db');
    make(path);
    AttestationStore.open(path, 'write').close();
    const h = readSqliteHeader(path);
    t.is(h.applicationId, ATTESTATION_STORE_APPLICATION_ID);
    t.is(h.userVersion, 1);
    t.is(AttestationStore.open(path, 'read').count(), 0);
  }
});

test('H51: a read path never creates the store or its directory', (t) => {
  const dir = tmp();
  const path = join(dir, 'sub', 'attestations.db');
  t.is(
    (t.throws(() => findBundlesByDigest(path, D1), { instanceOf: StellaError }) as StellaError)
      .code,
    'NO_ATTESTATIONS_FOUND',
  );
  t.is(
    (
      t.throws(() => AttestationStore.open(path, 'read'), {
        instanceOf: StellaError,
      }) as StellaError
    ).code,
    'NO_ATTESTATIONS_FOUND',
  );
  t.deepEqual(readdirSync(dir), []);
});

test('H51: reading a store leaves it byte for byte (no WAL switch, nothing written)', (t) => {
  const path = join(tmp(), 'a.db');
  const s = AttestationStore.open(path, 'write');
  s.save({
    artifactDigest: D1,
    bundleJson: '{"b":1}',
    contentKind: 'messageSignature',
    createdAt: 1,
  });
  s.close();
  // As a copy made with `sqlite3 .backup` would be: rollback-journal mode.
  const raw = new Database(path);
  raw.pragma('journal_mode = DELETE');
  raw.close();
  const before = snapshot(path);
  t.is(findBundlesByDigest(path, D1).length, 1);
  t.throws(() => findBundlesByDigest(path, D2), { instanceOf: StellaError });
  t.deepEqual(snapshot(path), before);
});

test('a store written before stores were marked is still read, and marked by the next write', (t) => {
  const path = join(tmp(), 'legacy.db');
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.exec(`
    CREATE TABLE IF NOT EXISTS attestations (
      id              INTEGER PRIMARY KEY AUTOINCREMENT,
      artifact_digest TEXT NOT NULL,
      bundle_digest   TEXT NOT NULL,
      bundle_json     TEXT NOT NULL,
      content_kind    TEXT NOT NULL,
      predicate_type  TEXT,
      identity        TEXT,
      issuer          TEXT,
      created_at      INTEGER NOT NULL,
      UNIQUE (artifact_digest, bundle_digest)
    );
    CREATE INDEX IF NOT EXISTS attestations_by_artifact ON attestations (artifact_digest, created_at);
    INSERT INTO attestations (artifact_digest, bundle_digest, bundle_json, content_kind, created_at) VALUES ('${D1}', 'sha256:00', '{"b":1}', 'messageSignature', 1);
  `);
  raw.pragma('user_version = 1');
  raw.close();
  const mainBefore = readFileSync(path);
  t.is(findBundlesByDigest(path, D1).length, 1);
  t.deepEqual(readFileSync(path), mainBefore, 'reading does not mark it');
  AttestationStore.open(path, 'write').close();
  t.is(readSqliteHeader(path).applicationId, ATTESTATION_STORE_APPLICATION_ID);
  t.is(findBundlesByDigest(path, D1).length, 1);
});

test('a marked store with extra tables or triggers, or a newer schema, is refused', (t) => {
  const path = join(tmp(), 'a.db');
  AttestationStore.open(path, 'write').close();
  const raw = new Database(path);
  raw.exec('CREATE TRIGGER t AFTER INSERT ON attestations BEGIN DELETE FROM attestations; END');
  raw.close();
  t.is(
    (
      t.throws(() => AttestationStore.open(path, 'read'), {
        instanceOf: StellaError,
      }) as StellaError
    ).code,
    'STORE_CORRUPT',
  );
  const newer = join(tmp(), 'b.db');
  AttestationStore.open(newer, 'write').close();
  const raw2 = new Database(newer);
  raw2.pragma('user_version = 2');
  raw2.close();
  t.is(
    (
      t.throws(() => AttestationStore.open(newer, 'read'), {
        instanceOf: StellaError,
      }) as StellaError
    ).code,
    'STORE_SCHEMA_TOO_NEW',
  );
});
