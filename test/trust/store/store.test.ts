import test from 'ava';
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore, MIGRATIONS } from '../../../src/trust/store/db.js';
import { SCHEMA_VERSION, APPLICATION_ID } from '../../../src/trust/store/schema.js';
import {
  importFile,
  listEntries,
  exportTrustedRoot,
  retireEntry,
  history,
  trustMaterialFromStore,
  checkStaleness,
  storeFreshness,
  showEntry,
} from '../../../src/trust/store/operations.js';
import { trustFromStoreIfPresent } from '../../../src/trust/store/verify-source.js';
import { initStore } from '../../../src/trust/store/init.js';
import { computeStateDigest } from '../../../src/trust/store/integrity.js';
import { resolveStorePath, defaultStorePath } from '../../../src/trust/store/paths.js';
import { publicGoodTrustedRootPath } from '../../../src/trust/public-good.js';
import { toHex, utf8 } from '../../../src/util/encoding.js';
import type { TransparencyLogInstance } from '../../../src/model/trust-material.js';
import { sha256 } from '../../../src/crypto.js';
import { CTX, DAY, NOW, dumpStore, tempDir, tempStorePath, trustedRootOf } from './helpers.js';

const PUBLIC_GOOD = new Uint8Array(readFileSync(publicGoodTrustedRootPath()));

/** `n` fresh Ed25519 log keys under `baseUrl`. */
function edLogs(n: number, baseUrl: string): TransparencyLogInstance[] {
  return Array.from({ length: n }, (_, i) => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    return {
      baseUrl: `${baseUrl}/${i}`,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: spki,
        keyDetails: 'PKIX_ED25519',
        key: publicKey,
        validFor: { start: NOW - DAY, end: undefined },
      },
      logId: sha256(spki),
      checkpointKeyId: undefined,
    };
  });
}

function newStore(label = 'store') {
  return openTrustStore(tempStorePath(label), {
    create: true,
    now: NOW,
    command: 'stella test init',
  });
}

function code(
  t: { throws: (fn: () => unknown, e?: object) => unknown },
  fn: () => unknown,
): string {
  const e = t.throws(fn, { instanceOf: StellaError }) as StellaError;
  return e.code;
}

test('a new store uses WAL, synchronous=FULL, the current schema version and its application id', (t) => {
  const s = newStore();
  t.is(s.db.pragma('journal_mode', { simple: true }), 'wal');
  t.is(s.db.pragma('synchronous', { simple: true }), 2); // FULL
  t.is(s.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.is(s.db.pragma('application_id', { simple: true }), APPLICATION_ID);
  t.true(s.created);
  t.deepEqual(
    history(s).map((h) => h.action),
    ['create'],
  );
  s.close();
});

test('importing a trusted_root.json adds every entry; importing it again adds nothing and changes nothing', (t) => {
  const s = newStore();
  const r = importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  t.is(r.format, 'trusted-root');
  t.is(r.added.length, 7);
  t.deepEqual(
    r.added.map((e) => e.kind),
    ['ca', 'ca', 'tlog', 'tlog', 'ctlog', 'ctlog', 'tsa'],
  );
  const before = dumpStore(s.path);
  const again = importFile(
    s,
    { path: 'pg-again.json', bytes: PUBLIC_GOOD },
    {},
    { now: NOW + DAY, command: 'again' },
  );
  t.is(again.added.length, 0);
  t.is(again.duplicates.length, 7);
  t.is(dumpStore(s.path), before);
  s.close();
});

test("round trip: import -> export -> import changes nothing, and the export equals a fresh store's export", (t) => {
  const s = newStore();
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  const exported = exportTrustedRoot(s);
  const before = dumpStore(s.path);
  const r = importFile(s, { path: 'exported.json', bytes: utf8.encode(exported) }, {}, CTX);
  t.is(r.added.length, 0);
  t.is(dumpStore(s.path), before);
  const s2 = newStore('rt2');
  importFile(s2, { path: 'exported.json', bytes: utf8.encode(exported) }, {}, CTX);
  t.is(exportTrustedRoot(s2), exported);
  s.close();
  s2.close();
});

test('the exported v0.2 trusted root is accepted by @sigstore/verify with the same entries', (t) => {
  const s = newStore();
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  retireEntry(s, 2, Date.UTC(2030, 0, 1), CTX);
  const json = JSON.parse(exportTrustedRoot(s)) as Record<string, unknown>;
  t.is(json.mediaType, 'application/vnd.dev.sigstore.trustedroot.v0.2+json');
  const tm = toTrustMaterial(TrustedRoot.fromJSON(json));
  t.is(tm.certificateAuthorities.length, 2);
  t.is(tm.timestampAuthorities.length, 1);
  t.is(tm.tlogs.length, 2);
  t.is(tm.ctlogs.length, 2);
  // The retirement is in the exported window.
  t.is(tm.certificateAuthorities[1]!.validFor.end.toISOString(), '2030-01-01T00:00:00.000Z');
  s.close();
});

test('a failed import leaves the store exactly as it was (one bad entry among good ones)', (t) => {
  const s = newStore();
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  const before = dumpStore(s.path);
  const doc = JSON.parse(Buffer.from(PUBLIC_GOOD).toString('utf8')) as {
    certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
  };
  const bad = structuredClone(doc);
  bad.certificateAuthorities.push(structuredClone(bad.certificateAuthorities[0]!));
  bad.certificateAuthorities[2]!.certChain.certificates[0]!.rawBytes = 'not base64!';
  t.throws(
    () => importFile(s, { path: 'bad.json', bytes: utf8.encode(JSON.stringify(bad)) }, {}, CTX),
    { instanceOf: StellaError },
  );
  t.throws(
    () => importFile(s, { path: 'junk.bin', bytes: new Uint8Array([0xff, 0xfe, 0x00]) }, {}, CTX),
    { instanceOf: StellaError, message: /not UTF-8/ },
  );
  t.throws(() => importFile(s, { path: 'x.json', bytes: utf8.encode('{"hello":1}') }, {}, CTX), {
    instanceOf: StellaError,
    message: /unrecognised JSON/,
  });
  t.throws(
    () =>
      importFile(
        s,
        { path: 'x.json', bytes: utf8.encode('{"mediaType":"a","mediaType":"b"}') },
        {},
        CTX,
      ),
    { instanceOf: StellaError },
  );
  t.is(dumpStore(s.path), before);

  // The files above are refused before the transaction starts. This one is valid (six new log
  // keys) and fails after three of its rows are written: a connection-local TEMP trigger (not
  // part of the store file, so the seal is untouched) aborts the fourth insert, as a full disk
  // or an I/O error would. Only the transaction can undo the three rows already written.
  const six = utf8.encode(trustedRootOf([], { tlogs: edLogs(6, 'https://rekor.midway.test') }));
  const rowsBefore = listEntries(s).length;
  s.db
    .exec(`CREATE TEMP TRIGGER fail_midway BEFORE INSERT ON main.entries WHEN (SELECT count(*) FROM main.entries) >= ${rowsBefore + 3}
             BEGIN SELECT RAISE(ABORT, 'injected failure after three rows'); END`);
  const midway = t.throws(() => importFile(s, { path: 'six.json', bytes: six }, {}, CTX), {
    instanceOf: StellaError,
  });
  t.regex(midway?.message ?? '', /injected failure after three rows/);
  s.db.exec('DROP TRIGGER temp.fail_midway');
  s.close();
  t.is(dumpStore(s.path), before);
  // Control: without the injected failure the same import writes all six.
  const again = openTrustStore(s.path);
  t.is(importFile(again, { path: 'six.json', bytes: six }, {}, CTX).added.length, 6);
  again.close();
});

test('retire closes the window at --at (inclusive) and never re-opens it; history records it', (t) => {
  const s = newStore();
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  const at = Date.UTC(2026, 0, 31);
  const r = retireEntry(s, 2, at, {
    now: NOW + 1,
    command: 'stella trust retire 2 --at 2026-01-31',
  });
  t.true(r.changed);
  t.is(r.entry.effectiveUntil, new Date(at).toISOString());
  t.is(trustMaterialFromStore(s).certificateAuthorities[1]!.validFor.end, at);
  const later = retireEntry(s, 2, at + DAY, CTX);
  t.false(later.changed);
  t.is(trustMaterialFromStore(s).certificateAuthorities[1]!.validFor.end, at);
  const last = history(s).at(-1)!;
  t.is(last.action, 'retire');
  t.is(last.entryId, 2);
  t.is(last.command, 'stella trust retire 2 --at 2026-01-31');
  t.is(
    code(t, () => retireEntry(s, 99, at, CTX)),
    'STORE_ENTRY_NOT_FOUND',
  );
  t.is(
    code(t, () => retireEntry(s, 'abc', at, CTX)),
    'STORE_ENTRY_NOT_FOUND',
  );
  t.is(
    code(t, () => retireEntry(s, 3, Date.UTC(2000, 0, 1), CTX)),
    'INPUT_INVALID',
  );
  // The window's first instant is a retirement time (a window of one instant, inclusive); the
  // instant before it is not.
  const third = listEntries(s).find((e) => e.id === 3)!;
  const from = Date.parse(third.validFrom);
  const before = t.throws(() => retireEntry(s, 3, from - 1, CTX), { instanceOf: StellaError });
  t.is(before?.code, 'INPUT_INVALID');
  t.is(
    before?.message,
    `--at ${new Date(from - 1).toISOString()} is before entry 3's window starts (${third.validFrom})`,
  );
  const exact = retireEntry(s, 3, from, CTX);
  t.true(exact.changed);
  t.is(exact.entry.effectiveUntil, third.validFrom);
  s.close();
});

test("history records what, when, the source file sha256 and the command; show lists an entry's history", (t) => {
  const s = newStore();
  importFile(
    s,
    { path: 'pg.json', bytes: PUBLIC_GOOD },
    {},
    { now: NOW + 5, command: 'stella trust import pg.json' },
  );
  const h = history(s);
  t.is(h.length, 8);
  const add = h[1]!;
  t.is(add.action, 'add');
  t.is(add.at, new Date(NOW + 5).toISOString());
  t.is(add.sourceFile, 'pg.json');
  t.is(add.sourceSha256, toHex(sha256(PUBLIC_GOOD)));
  t.is(add.command, 'stella trust import pg.json');
  const e = showEntry(s, 1);
  t.is(e.history.length, 1);
  t.is(e.sourceFile, 'pg.json');
  t.is(e.addedAt, new Date(NOW + 5).toISOString());
  s.close();
});

test('a store with a newer schema is refused clearly (STORE_SCHEMA_TOO_NEW) and left untouched', (t) => {
  const s = newStore();
  const file = s.path;
  s.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  s.close();
  const before = readFileSync(file);
  const e = t.throws(() => openTrustStore(file), { instanceOf: StellaError });
  t.is(e.code, 'STORE_SCHEMA_TOO_NEW');
  t.regex(
    e.message,
    new RegExp(
      `schema version ${SCHEMA_VERSION + 1}, newer than this stella understands \\(${SCHEMA_VERSION}\\)`,
    ),
  );
  t.is(
    code(t, () => openTrustStore(file, { readonly: true })),
    'STORE_SCHEMA_TOO_NEW',
  );
  t.deepEqual(readFileSync(file), before);
});

test("a store whose header opens but one of whose tables is damaged is refused by SQLite's quick_check, naming it, on every open, and left as it was", (t) => {
  const s = newStore();
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  s.db.pragma('journal_mode = DELETE');
  const { rootpage } = s.db
    .prepare("SELECT rootpage FROM sqlite_master WHERE name = 'rotations'")
    .get() as { rootpage: number };
  const pageSize = s.db.pragma('page_size', { simple: true }) as number;
  s.close();
  // The b-tree page type byte of a table nothing reads at open, zeroed.
  const bytes = readFileSync(s.path);
  bytes[(rootpage - 1) * pageSize] = 0;
  writeFileSync(s.path, bytes);
  for (const readonly of [false, true]) {
    const e = t.throws(() => openTrustStore(s.path, { readonly }), {
      instanceOf: StellaError,
    }) as StellaError;
    t.is(e.code, 'STORE_CORRUPT');
    t.true(e.message.startsWith(`trust store ${s.path} is corrupt (integrity check: `), e.message);
    t.regex(e.message, new RegExp(`page ${rootpage}`));
  }
  t.deepEqual(readFileSync(s.path), bytes);
});

test('corrupt, truncated, empty, foreign and missing files give clear store errors', (t) => {
  const dir = tempDir('corrupt');
  const junk = path.join(dir, 'junk.db');
  writeFileSync(junk, Buffer.alloc(8192, 0x41));
  t.is(
    code(t, () => openTrustStore(junk)),
    'STORE_CORRUPT',
  );
  t.is(
    code(t, () => openTrustStore(junk, { readonly: true })),
    'STORE_CORRUPT',
  );

  // A real store, checkpointed into the main file, then cut in half.
  const s = newStore();
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  s.db.pragma('journal_mode = DELETE');
  s.close();
  const full = readFileSync(s.path);
  const truncated = path.join(dir, 'truncated.db');
  writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 2)));
  const e = t.throws(() => openTrustStore(truncated), { instanceOf: StellaError }) as StellaError;
  t.is(e.code, 'STORE_CORRUPT');
  t.regex(e.message, /corrupt/);

  const header = path.join(dir, 'header-only.db');
  writeFileSync(header, full.subarray(0, 100));
  t.is(
    code(t, () => openTrustStore(header)),
    'STORE_CORRUPT',
  );

  const empty = path.join(dir, 'empty.db');
  writeFileSync(empty, '');
  t.is(
    code(t, () => openTrustStore(empty)),
    'STORE_FOREIGN',
  );

  const foreign = path.join(dir, 'foreign.db');
  const f = new Database(foreign);
  f.exec('CREATE TABLE t (x); PRAGMA user_version = 2;');
  f.close();
  const fe = t.throws(() => openTrustStore(foreign), { instanceOf: StellaError }) as StellaError;
  t.is(fe.code, 'STORE_FOREIGN');
  t.regex(fe.message, /not a Stella trust store/);

  t.is(
    code(t, () => openTrustStore(path.join(dir, 'missing.db'))),
    'STORE_NOT_FOUND',
  );
  t.is(
    code(t, () => openTrustStore(dir)),
    'STORE_CORRUPT',
  );
});

// Checklist G47: a store edited behind the tool's back is detected at open.
const TAMPERS: [string, string][] = [
  ["an entry's window widened", 'UPDATE entries SET valid_until = NULL WHERE id = 1'],
  [
    'an entry added',
    "INSERT INTO entries (kind, identity, subject, uri, fingerprint, key_id, der, material, valid_from, source_kind, source_file, source_sha256, added_at) SELECT kind, 'x', subject, uri, fingerprint, key_id, der, material, valid_from, source_kind, source_file, source_sha256, added_at FROM entries WHERE id = 1",
  ],
  ['an entry deleted', 'DELETE FROM entries WHERE id = 3'],
  ['a retirement removed', 'UPDATE entries SET retired_at = NULL WHERE id = 2'],
  ['a history row edited', "UPDATE history SET command = 'someone else' WHERE id = 2"],
  ['the last history row deleted', 'DELETE FROM history WHERE id = (SELECT max(id) FROM history)'],
  [
    'a rotation key inserted',
    "INSERT INTO rotation_keys VALUES ('ab', X'00', 'PKIX_ED25519', 0, NULL, 'evil')",
  ],
  [
    'the threshold lowered',
    "INSERT INTO meta (key, value) VALUES ('rotation_threshold', '1') ON CONFLICT(key) DO UPDATE SET value = '1'",
  ],
  [
    'an applied rotation version rolled back',
    "INSERT INTO rotations VALUES (99, 0, 0, 'x', 'y', '{}')",
  ],
  [
    'the seal recomputed for edited entries only',
    "UPDATE entries SET valid_until = NULL WHERE id = 1; UPDATE meta SET value = 'x' WHERE key = 'state_digest'",
  ],
];

for (const [what, sql] of TAMPERS) {
  test(`G47: a store edited outside stella is refused at open (STORE_TAMPERED): ${what}`, (t) => {
    const s = newStore('tamper');
    importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
    retireEntry(s, 2, Date.UTC(2030, 0, 1), CTX);
    s.close();
    const raw = new Database(s.path);
    raw.exec(sql);
    raw.close();
    const e = t.throws(() => openTrustStore(s.path, { readonly: true }), {
      instanceOf: StellaError,
    }) as StellaError;
    t.is(e.code, 'STORE_TAMPERED');
    t.regex(e.message, /modified outside stella/);
    t.is(
      code(t, () => openTrustStore(s.path)),
      'STORE_TAMPERED',
    );
  });
}

test('G47: entries edited and the sealed digest recomputed to match them is still refused: the last history row sealed the old state', (t) => {
  const s = newStore('tamper-reseal');
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  s.close();
  const raw = new Database(s.path);
  raw.exec('UPDATE entries SET valid_until = NULL WHERE id = 1');
  raw.prepare("UPDATE meta SET value = ? WHERE key = 'state_digest'").run(computeStateDigest(raw));
  raw.close();
  const e = t.throws(() => openTrustStore(s.path, { readonly: true }), {
    instanceOf: StellaError,
  }) as StellaError;
  t.is(e.code, 'STORE_TAMPERED');
  t.regex(e.message, /do not match the sealed state digest/);
});

test('G47: an edit made while a store is open is caught by the next write (re-checked inside the write lock)', (t) => {
  const s = newStore('tamper-open');
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  const raw = new Database(s.path);
  raw.exec('UPDATE entries SET valid_until = NULL WHERE id = 1');
  raw.close();
  t.is(
    code(t, () => retireEntry(s, 3, Date.UTC(2030, 0, 1), CTX)),
    'STORE_TAMPERED',
  );
  s.close();
});

test('store busy: a writer blocked past the busy timeout gets STORE_BUSY "store busy" and changes nothing', (t) => {
  const s0 = newStore('busy');
  s0.close();
  const before = dumpStore(s0.path);
  const blocker = new Database(s0.path);
  blocker.exec('BEGIN IMMEDIATE');
  const s = openTrustStore(s0.path, { busyTimeoutMs: 50 });
  const e = t.throws(() => importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX), {
    instanceOf: StellaError,
  }) as StellaError;
  t.is(e.code, 'STORE_BUSY');
  t.regex(e.message, /^store busy/);
  blocker.exec('ROLLBACK');
  blocker.close();
  t.is(dumpStore(s0.path), before);
  // Once the lock is gone the same write goes through.
  t.is(importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX).added.length, 7);
  s.close();
});

test('staleness: newest import or rotation older than max-age warns; explicit --max-age makes it STORE_STALE', (t) => {
  const s = newStore('stale');
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, { now: NOW + DAY, command: 'import' });
  t.is(storeFreshness(s), NOW + DAY);
  // A retire is not a refresh.
  retireEntry(s, 2, Date.UTC(2030, 0, 1), { now: NOW + 50 * DAY, command: 'retire' });
  t.is(storeFreshness(s), NOW + DAY);
  const fresh = checkStaleness(s, undefined, false, NOW + 30 * DAY);
  t.false(fresh.stale);
  t.is(fresh.warning, undefined);
  const stale = checkStaleness(s, undefined, false, NOW + 120 * DAY);
  t.true(stale.stale);
  t.is(stale.ageDays, 119);
  t.regex(stale.warning!, /stale: last import or rotation .* \(119 days ago, more than 90\)/);
  const e = t.throws(() => checkStaleness(s, 30, true, NOW + 40 * DAY), {
    instanceOf: StellaError,
  }) as StellaError;
  t.is(e.code, 'STORE_STALE');
  t.notThrows(() => checkStaleness(s, 30, true, NOW + 20 * DAY));
  // The limits of --max-age hold for a number passed by a library caller too.
  for (const days of [0, Number.NaN, 2932897])
    t.throws(() => checkStaleness(s, days, true, NOW), { message: /--max-age must be a positive/ });
  // Exactly 30 days old is not "more than 30"; one millisecond later it is.
  t.false(checkStaleness(s, 30, false, NOW + DAY + 30 * DAY).stale);
  t.true(checkStaleness(s, 30, false, NOW + DAY + 30 * DAY + 1).stale);
  t.is(
    code(t, () => checkStaleness(s, 0, true, NOW)),
    'INPUT_INVALID',
  );
  s.close();
});

test('verify source: no store asked for and none at the default path -> undefined; explicit missing -> STORE_NOT_FOUND', (t) => {
  const dir = tempDir('vs');
  const env = { XDG_DATA_HOME: dir, HOME: dir };
  t.is(trustFromStoreIfPresent({ env }), undefined);
  t.is(
    code(t, () =>
      trustFromStoreIfPresent({ env: { ...env, STELLA_TRUST_STORE: path.join(dir, 'nope.db') } }),
    ),
    'STORE_NOT_FOUND',
  );
  t.is(
    code(t, () => trustFromStoreIfPresent({ env, storePath: path.join(dir, 'nope.db') })),
    'STORE_NOT_FOUND',
  );
});

test("verify source: loads the store's TrustMaterial and applies the stale rule", (t) => {
  const dir = tempDir('vs2');
  const file = path.join(dir, 'trust.db');
  initStore(file, { withPublicGood: true }, { now: NOW, command: 'init' });
  const ok = trustFromStoreIfPresent({ storePath: file, env: {}, now: NOW + DAY })!;
  t.is(ok.trust.certificateAuthorities.length, 2);
  t.is(ok.trust.tlogs.length, 2);
  t.deepEqual(ok.warnings, []);
  t.is(ok.source, `trust store ${file}`);
  const warned = trustFromStoreIfPresent({ storePath: file, env: {}, now: NOW + 100 * DAY })!;
  t.is(warned.warnings.length, 1);
  t.regex(warned.warnings[0]!, /stale/);
  t.is(
    code(t, () =>
      trustFromStoreIfPresent({ storePath: file, env: {}, now: NOW + 100 * DAY, maxAge: '90' }),
    ),
    'STORE_STALE',
  );
  t.is(
    code(t, () => trustFromStoreIfPresent({ storePath: file, env: {}, maxAge: 'soon' })),
    'INPUT_INVALID',
  );
  // The default location is used through XDG_DATA_HOME.
  const xdg = tempDir('xdg');
  const def = defaultStorePath({ XDG_DATA_HOME: xdg });
  t.is(def, path.join(xdg, 'stella', 'trust.db'));
  initStore(def, { withPublicGood: true }, { now: NOW, command: 'init' });
  t.truthy(trustFromStoreIfPresent({ env: { XDG_DATA_HOME: xdg }, now: NOW }));
  t.true(existsSync(def));
});

test('store path resolution: --store, else STELLA_TRUST_STORE, else the per-user default', (t) => {
  t.is(resolveStorePath('/a/b.db', { STELLA_TRUST_STORE: '/c.db' }), '/a/b.db');
  t.is(resolveStorePath(undefined, { STELLA_TRUST_STORE: '/c.db' }), '/c.db');
  t.is(resolveStorePath(undefined, { XDG_DATA_HOME: '/xdg' }), '/xdg/stella/trust.db');
  t.regex(
    resolveStorePath(undefined, { XDG_DATA_HOME: 'relative' }),
    /\.local\/share\/stella\/trust\.db$/,
  );
});

test('migrations are ordered and end at the schema version', (t) => {
  t.deepEqual(
    MIGRATIONS.map((m) => m.version),
    [1, 2, 3],
  );
  t.is(MIGRATIONS.at(-1)!.version, SCHEMA_VERSION);
});

test('a read-only store refuses writes clearly', (t) => {
  const s0 = newStore('ro');
  s0.close();
  const s = openTrustStore(s0.path, { readonly: true });
  t.is(
    code(t, () => importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX)),
    'INPUT_INVALID',
  );
  s.close();
});
