/**
 * Checklist H52 (review item 4): schema migration cannot launder tampering. A store at an
 * older schema is opened by nothing but `trust migrate` (no read path writes), and migrate
 * refuses a store its history does not account for — in particular the downgrade attack:
 * drop the newer columns, set the version back, edit an entry.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { migrateTrustStore } from '../../../src/trust/store/migrate.js';
import {
  history,
  importFile,
  listEntries,
  retireEntry,
  trustMaterialFromStore,
} from '../../../src/trust/store/operations.js';
import { addRotationKeys, listRotationKeys } from '../../../src/trust/store/rotation-keys.js';
import { trustFromStoreIfPresent } from '../../../src/trust/store/verify-source.js';
import { applyRotation } from '../../../src/trust/rotation/apply.js';
import { SCHEMA_VERSION } from '../../../src/trust/store/schema.js';
import { publicGoodTrustedRootPath } from '../../../src/trust/public-good.js';
import { PROJECT_ROOT } from '../../helpers/paths.js';
import {
  caEntry,
  CTX,
  DAY,
  makeCa,
  NOW,
  rotationKeyPair,
  tempStorePath,
  trustedRootOf,
} from './helpers.js';
import { rotationTar } from '../rotation/helpers.js';

const V1_SQL = readFileSync(
  path.join(PROJECT_ROOT, 'test', 'fixtures', 'trust', 'store-v1.sql'),
  'utf8',
);
const PUBLIC_GOOD = new Uint8Array(readFileSync(publicGoodTrustedRootPath()));
const MIGRATE = { now: NOW + DAY, command: 'stella trust migrate' };

function v1Store(label = 'v1'): string {
  const file = tempStorePath(label);
  const raw = new Database(file);
  raw.exec(V1_SQL);
  raw.close();
  return file;
}

/** The file and whatever lies beside it, byte for byte. */
function snapshot(file: string): Record<string, string> {
  const dir = path.dirname(file);
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((n) => [n, readFileSync(path.join(dir, n)).toString('hex')]),
  );
}

function refusedWith(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  code: string,
  msg?: RegExp,
): StellaError {
  const e = t.throws(fn, { instanceOf: StellaError }) as StellaError;
  t.is<string, string>(e.code, code, e.message);
  if (msg) t.regex(e.message, msg);
  // A history that does not account for the store shows three problems and counts the rest.
  const problems = e.details?.['problems'];
  if (Array.isArray(problems)) {
    t.true(e.message.includes(problems.slice(0, 3).join('; ')), e.message);
    t.is(
      /; and (\d+) more \(see --json\)/.exec(e.message)?.[1],
      problems.length > 3 ? String(problems.length - 3) : undefined,
      `${problems.length} problems: ${e.message}`,
    );
  }
  return e;
}

function migrate(file: string, dryRun = false) {
  const s = openTrustStore(file, { allowOlderSchema: true, readonly: dryRun });
  try {
    return migrateTrustStore(s, { dryRun }, MIGRATE);
  } finally {
    s.close();
  }
}

/**
 * Take a current store back to schema 1 the way an attacker would: drop the newer columns and
 * set the version back. `hideTraces` also removes what schema 2 left behind (the seal rows,
 * the creation row's version), as a careful attacker would.
 */
function downgrade(file: string, edit: string, hideTraces = false): void {
  const db = new Database(file);
  db.pragma('journal_mode = DELETE');
  db.exec(
    'ALTER TABLE entries DROP COLUMN rotation_version; ALTER TABLE history DROP COLUMN state_digest; ALTER TABLE history DROP COLUMN prev_hash; ALTER TABLE history DROP COLUMN hash;',
  );
  // Schema 3's tables (checkpoints, witnesses) go too.
  db.exec(
    'DROP TABLE checkpoints; DROP TABLE split_views; DROP TABLE witnesses; DROP TABLE witness_policies;',
  );
  if (hideTraces) {
    db.exec("DELETE FROM meta WHERE key IN ('history_head', 'state_digest')");
    db.prepare("UPDATE history SET detail = ? WHERE action = 'create'").run('{"schemaVersion":1}');
  }
  db.pragma('user_version = 1');
  if (edit) db.exec(edit);
  db.close();
}

/** A current store with public-good entries and one retirement. */
function currentStore(label: string): string {
  const file = tempStorePath(label);
  const s = openTrustStore(file, { create: true, now: NOW, command: 'stella trust init' });
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  retireEntry(s, 2, Date.UTC(2030, 0, 1), CTX);
  s.close();
  return file;
}

for (const wal of [false, true]) {
  test(`a store at an older schema is refused by every open but \`trust migrate\`, naming it, and left byte for byte (${wal ? 'WAL' : 'rollback journal'})`, (t) => {
    const file = v1Store();
    if (wal) {
      const raw = new Database(file);
      raw.pragma('journal_mode = WAL');
      raw.close();
    }
    const before = snapshot(file);
    for (const opts of [{ readonly: true }, {}, { create: true }]) {
      refusedWith(
        t,
        () => openTrustStore(file, opts),
        'STORE_MIGRATION_REQUIRED',
        new RegExp(
          `schema version 1, older than this stella's \\(${SCHEMA_VERSION}\\); nothing was changed: run \`stella trust migrate\``,
        ),
      );
    }
    // attest verify's trust source is a read path too.
    refusedWith(
      t,
      () => trustFromStoreIfPresent({ storePath: file, env: {} }),
      'STORE_MIGRATION_REQUIRED',
    );
    t.deepEqual(snapshot(file), before, 'nothing written, nothing created beside it');
  });
}

test('trust migrate --dry-run checks the store and shows what it would seal, writing nothing', (t) => {
  const file = v1Store();
  const before = snapshot(file);
  const r = migrate(file, true);
  t.true(r.dryRun);
  t.false(r.migrated);
  t.is(r.from, 1);
  t.is(r.to, SCHEMA_VERSION);
  t.is(r.historyRows, 3);
  t.deepEqual(
    r.entries.map((e) => [e.id, e.kind, e.subject]),
    [
      [1, 'ca', 'O=sigstore.dev, CN=sigstore'],
      [2, 'tlog', 'https://rekor.sigstore.dev'],
    ],
  );
  t.is(r.entries[0]!.rotationVersion, null);
  t.is(r.historyHead, null);
  t.deepEqual(snapshot(file), before);
});

test('a genuine schema-1 store migrates through `trust migrate` only: entries and history kept, sealed, WAL from then on', (t) => {
  const file = v1Store();
  const r = migrate(file);
  t.true(r.migrated);
  t.regex(r.historyHead!, /^[0-9a-f]{64}$/);
  const s = openTrustStore(file, { readonly: true });
  t.is(s.schemaVersion, SCHEMA_VERSION);
  t.is(s.db.pragma('journal_mode', { simple: true }), 'wal');
  t.deepEqual(
    listEntries(s).map((e) => e.kind),
    ['ca', 'tlog'],
  );
  const h = history(s);
  t.deepEqual(
    h.map((x) => x.action),
    ['create', 'add', 'add', 'migrate'],
  );
  t.deepEqual(h[3]!.detail, { from: 1, to: SCHEMA_VERSION, historyRows: 3 });
  t.is(h[3]!.command, 'stella trust migrate');
  t.is(trustMaterialFromStore(s).tlogs.length, 1);
  s.close();
  // Migrating again: nothing to do.
  const again = migrate(file);
  t.true(again.upToDate);
  t.false(again.migrated);
});

/** A current store with rotation keys (threshold 2) and one applied rotation as well. */
async function storeWithRotation(label: string): Promise<string> {
  const file = currentStore(label);
  const k = [rotationKeyPair(), rotationKeyPair()];
  const a = await makeCa('Migrated Root', NOW - 365 * DAY, NOW + 3650 * DAY);
  const s = openTrustStore(file);
  addRotationKeys(
    s,
    k.map((x) => x.publicKey),
    2,
    'keys.pem',
    CTX,
  );
  applyRotation(
    s,
    await rotationTar({
      root: trustedRootOf([caEntry([a.der], NOW - 365 * DAY)]),
      version: 1,
      expires: NOW + 30 * DAY,
      signers: k,
    }),
    { sourceFile: 'r1.tar' },
    CTX,
  );
  // A second rotation hands over to two new keys: history then removes the first two.
  const next = [rotationKeyPair(), rotationKeyPair()];
  applyRotation(
    s,
    await rotationTar({
      root: trustedRootOf([caEntry([a.der], NOW - 365 * DAY)]),
      version: 2,
      expires: NOW + 30 * DAY,
      signers: [...k, ...next],
      newKeys: next,
      newThreshold: 2,
    }),
    { sourceFile: 'r2.tar' },
    CTX,
  );
  s.close();
  return file;
}

test('a schema-1 store with every kind of history row (import, retire, keys, threshold, rotation) migrates', async (t) => {
  // What an older stella wrote: the same rows without the hash chain. Made here from a current
  // store with its traces of schema 2 removed, the way only a consistent rewrite could.
  const file = await storeWithRotation('v1-full');
  downgrade(file, '', true);
  const r = migrate(file);
  t.true(r.migrated);
  t.is(r.entries.length, 8);
  t.is(r.lastRotationVersion, 2);
  t.is(r.threshold, 2);
  const s2 = openTrustStore(file, { readonly: true });
  t.is(listEntries(s2).length, 8);
  // Four rotation keys: the first two removed by the second rotation, as history says.
  t.deepEqual(
    listRotationKeys(s2)
      .keys.map((k) => k.active)
      .sort(),
    [false, false, true, true],
  );
  s2.close();
});

// The downgrade attack, and the ways to dress it up. Each must be refused by every read path
// (the version alone does that) and by `trust migrate` (the history check), leaving the file
// byte for byte as it was.
const ATTACKS: [string, string, boolean, RegExp][] = [
  [
    'a retirement removed',
    'UPDATE entries SET retired_at = NULL WHERE id = 2',
    false,
    /entry #2 .*: retired_at is null, history says 2030-01-01T00:00:00.000Z/,
  ],
  [
    'a retirement removed, traces of schema 2 hidden',
    'UPDATE entries SET retired_at = NULL WHERE id = 2',
    true,
    /entry #2 .*: retired_at is null, history says 2030-01-01T00:00:00.000Z/,
  ],
  [
    'a window widened, traces hidden',
    'UPDATE entries SET valid_until = NULL WHERE id = 1',
    true,
    /entry #1 .*: valid_until is null, history says 2022-12-31T23:59:59.999Z/,
  ],
  [
    'a window start moved, traces hidden',
    'UPDATE entries SET valid_from = 0 WHERE id = 3',
    true,
    /entry #3 .*: valid_from is 1970-01-01T00:00:00.000Z, history says/,
  ],
  [
    'an entry added, traces hidden',
    "INSERT INTO entries (kind, identity, subject, uri, fingerprint, key_id, der, material, valid_from, source_kind, source_file, source_sha256, added_at) SELECT kind, 'x', subject, uri, fingerprint, key_id, der, material, valid_from, source_kind, source_file, source_sha256, added_at FROM entries WHERE id = 1",
    true,
    /entry #8 .*: no history row adds it/,
  ],
  [
    'an entry deleted, traces hidden',
    'DELETE FROM entries WHERE id = 3',
    true,
    /history adds entry #3, which the store no longer holds/,
  ],
  [
    "another CA's certificates swapped in, traces hidden",
    'UPDATE entries SET der = (SELECT der FROM entries WHERE id = 2), material = (SELECT material FROM entries WHERE id = 2) WHERE id = 1',
    true,
    /entry #1 .*: identity does not match the entry's own certificate or key/,
  ],
  [
    'a rotation key inserted, traces hidden',
    "INSERT INTO rotation_keys VALUES ('ab', X'00', 'PKIX_ED25519', 0, NULL, 'evil')",
    true,
    /rotation key ab…: no history row adds it/,
  ],
  [
    'the threshold set, traces hidden',
    "INSERT INTO meta (key, value) VALUES ('rotation_threshold', '1')",
    true,
    /the rotation threshold 1 is not the last one history sets \(none\)/,
  ],
  [
    'a trigger added, traces hidden',
    'CREATE TRIGGER evil AFTER INSERT ON history BEGIN UPDATE entries SET retired_at = NULL; END',
    true,
    /its tables, columns, indexes or triggers differ from schema version 1/,
  ],
  [
    'a migration to a later schema left in its history, traces hidden',
    `INSERT INTO history (at, action, entry_id, detail, source_file, source_sha256, command) SELECT at, 'migrate', NULL, '{"to":3}', NULL, NULL, 'stella trust migrate' FROM history ORDER BY id DESC LIMIT 1`,
    true,
    /migrated to schema version 3 before but claims 1: a downgrade/,
  ],
  [
    'a migration row whose version is not a number, traces hidden',
    `INSERT INTO history (at, action, entry_id, detail, source_file, source_sha256, command) SELECT at, 'migrate', NULL, '{"to":"1"}', NULL, NULL, 'stella trust migrate' FROM history ORDER BY id DESC LIMIT 1`,
    true,
    /a migration to "1", which a store at schema version 1 never records/,
  ],
  [
    // Nothing migrates to schema 1 (it is a store's creation): until stop 61 this row passed.
    'a migration to schema 1 itself, traces hidden',
    `INSERT INTO history (at, action, entry_id, detail, source_file, source_sha256, command) SELECT at, 'migrate', NULL, '{"to":1}', NULL, NULL, 'stella trust migrate' FROM history ORDER BY id DESC LIMIT 1`,
    true,
    /a migration to 1, which a store at schema version 1 never records/,
  ],
  [
    'a history row removed, traces hidden',
    "DELETE FROM history WHERE action = 'retire'",
    true,
    /entry #2 .*: retired_at is 2030-01-01T00:00:00.000Z, history says null/,
  ],
  [
    // The entry and its certificate agree; only history says otherwise: still unaccounted for.
    "an entry's subject rewritten in the history row that adds it, traces hidden",
    "UPDATE history SET detail = json_set(detail, '$.subject', 'CN=rewritten') WHERE action = 'add' AND entry_id = 1",
    true,
    /entry #1 .*: subject is ".*", history says "CN=rewritten"/,
  ],
];

for (const [what, edit, hideTraces, why] of ATTACKS) {
  test(`H52: a downgraded, edited store is refused by read paths and by trust migrate, unchanged: ${what}`, (t) => {
    const file = currentStore('downgrade');
    downgrade(file, edit, hideTraces);
    const before = snapshot(file);
    refusedWith(t, () => openTrustStore(file, { readonly: true }), 'STORE_MIGRATION_REQUIRED');
    refusedWith(
      t,
      () => trustFromStoreIfPresent({ storePath: file, env: {} }),
      'STORE_MIGRATION_REQUIRED',
    );
    refusedWith(t, () => migrate(file, true), 'STORE_TAMPERED', why);
    refusedWith(t, () => migrate(file), 'STORE_TAMPERED', why);
    t.deepEqual(snapshot(file), before, 'a refused migration leaves the store byte for byte');
  });
}

// Edits of the rotation tables that change one column only: each is caught on its own.
const OTHER_KEY_SPKI = Buffer.from(
  rotationKeyPair().publicKey.export({ type: 'spki', format: 'der' }),
).toString('hex');
for (const [what, edit, why] of [
  [
    "a rotation key's bytes swapped for another key of the same type, its id kept",
    `UPDATE rotation_keys SET spki = X'${OTHER_KEY_SPKI}' WHERE rowid = 1`,
    /rotation key [0-9a-f]{16}…: its id or details do not match its public key/,
  ],
  [
    "a rotation key's source rewritten",
    "UPDATE rotation_keys SET source = 'elsewhere.pem' WHERE rowid = 1",
    /rotation key [0-9a-f]{16}…: when or from where it was added or removed differs from history/,
  ],
  [
    'a removed rotation key made active again',
    'UPDATE rotation_keys SET removed_at = NULL WHERE removed_at IS NOT NULL',
    /rotation key [0-9a-f]{16}…: when or from where it was added or removed differs from history/,
  ],
  [
    "an applied rotation's expiry pushed back",
    'UPDATE rotations SET expires = expires + 86400000 WHERE version = 1',
    /applied rotation version 1: differs from the history row that applied it/,
  ],
] as const) {
  test(`H52: a downgraded store with rotations, one column edited, is refused by trust migrate, unchanged: ${what}`, async (t) => {
    const file = await storeWithRotation('downgrade-rotation');
    downgrade(file, edit, true);
    const before = snapshot(file);
    refusedWith(t, () => migrate(file), 'STORE_TAMPERED', why);
    t.deepEqual(snapshot(file), before);
  });
}

test('H52: the plain downgrade (no edit) is recognised as one: schema 2 left its traces', (t) => {
  const file = currentStore('downgrade-plain');
  downgrade(file, '');
  const e = refusedWith(
    t,
    () => migrate(file),
    'STORE_TAMPERED',
    new RegExp(`created at schema version ${SCHEMA_VERSION} but claims 1: a downgrade`),
  );
  t.true(
    (e.details!.problems as string[]).some((p) =>
      /meta "history_head" is not part of schema version 1/.test(p),
    ),
  );
});

test('H52: a downgrade that keeps a newer column is refused by the schema check', (t) => {
  const file = currentStore('downgrade-col');
  const db = new Database(file);
  db.pragma('user_version = 1');
  db.close();
  refusedWith(t, () => migrate(file), 'STORE_TAMPERED', /differ from schema version 1/);
});

// Edits to a genuine schema-1 store (the fixture, whose history recorded less).
const V1_EDITS: [string, string][] = [
  [
    'an entry with no history row',
    "INSERT INTO entries (kind, identity, subject, uri, fingerprint, key_id, der, material, valid_from, source_kind, source_file, source_sha256, added_at) SELECT 'tsa', identity, subject, uri, fingerprint, key_id, der, material, valid_from, source_kind, source_file, source_sha256, added_at FROM entries WHERE id = 1",
  ],
  [
    "an entry's key swapped",
    "UPDATE entries SET material = replace(material, 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y', 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Z') WHERE id = 2",
  ],
  ["an entry's source rewritten", "UPDATE entries SET source_file = 'elsewhere.json' WHERE id = 1"],
  [
    'a retirement that history does not record',
    'UPDATE entries SET retired_at = 1704067260000 WHERE id = 1',
  ],
  ['a seal row planted', "INSERT INTO meta VALUES ('history_head', 'x')"],
  ['the creation row removed', "DELETE FROM history WHERE action = 'create'"],
];

for (const [what, edit] of V1_EDITS) {
  test(`H52: an edited schema-1 store is refused by trust migrate, unchanged: ${what}`, (t) => {
    const file = v1Store('v1-edit');
    const raw = new Database(file);
    raw.exec(edit);
    raw.close();
    const before = snapshot(file);
    refusedWith(t, () => migrate(file), 'STORE_TAMPERED');
    t.deepEqual(snapshot(file), before);
    t.false(existsSync(`${file}-wal`));
  });
}
