/**
 * `stella trust migrate`: the only way a store at an older schema reaches the current one
 * (checklist H52). Migrating seals the store (./integrity.ts), so it must never seal what an
 * attacker put there: drop the newer columns, set user_version back, edit an entry — if any
 * open migrated, the edit would be sealed as genuine. So before anything is written, the old
 * store is checked against its own record:
 *
 *  - its tables, columns, indexes and triggers are exactly those of its schema version;
 *  - from schema 2 on, its hash chain and seal verify (./integrity.ts);
 *  - at schema 1 (no hash chain yet), its history is replayed: every entry, rotation key,
 *    applied rotation and setting must be what the history rows say was added, retired,
 *    rotated or set, each entry's columns must agree with its own certificate or key, and no
 *    trace of a newer schema (a `create` or `migrate` row for a later version, seal rows in
 *    `meta`) may be present: that is a downgrade.
 *
 * Anything the history does not account for is refused (STORE_TAMPERED) and the file is left
 * byte for byte as it was: the check runs before the WAL switch and the migration's one
 * IMMEDIATE transaction, and again inside that transaction. Without a secret key nothing can
 * stop someone who rewrites the entries and their history consistently; what this stops is a
 * downgrade used to launder an edit.
 */
import type Database from 'better-sqlite3';
import { createPublicKey } from 'node:crypto';
import { fail } from '../../errors.js';
import { sha256 } from '../../crypto.js';
import { bytesEqual, toHex } from '../../util/encoding.js';
import { isPlainObject } from '../../util/json.js';
import {
  checkSchemaShape,
  MIGRATIONS,
  readSnapshot,
  type ChangeContext,
  type TrustStore,
} from './db.js';
import {
  allEntryRows,
  authorityCandidate,
  authorityFromRow,
  entryFromRow,
  logCandidate,
  logFromRow,
  type EntryCandidate,
  type EntryRow,
  type StoreEntry,
} from './entries.js';
import { guardStore } from './errors.js';
import { getMeta, sealChanges, verifyIntegrity } from './integrity.js';
import { keyDetailsOf } from './keys.js';
import {
  lastRotationVersion,
  listRotationKeys,
  thresholdOf,
  type RotationKeyInfo,
} from './rotation-keys.js';
import { SCHEMA_VERSION } from './schema.js';
import { formatTimeOrNull } from '../../util/time.js';
import { quoted } from '../../util/text.js';
import { switchToWal } from '../../util/sqlite-file.js';

export interface MigrationResult {
  store: string;
  from: number;
  to: number;
  /** The store was already at the current schema: nothing to do. */
  upToDate: boolean;
  dryRun: boolean;
  migrated: boolean;
  /** History rows the check replayed (or, at the current schema, verified). */
  historyRows: number;
  /** What the migration seals (or sealed). */
  entries: StoreEntry[];
  rotationKeys: RotationKeyInfo[];
  threshold: number;
  lastRotationVersion: number;
  /** After migrating: the head of the history hash chain, i.e. the new seal. */
  historyHead: string | null;
}

/** Problems reported at most (the first few go into the one-line message, all into details). */
const MAX_PROBLEMS = 50;

type Json = Record<string, unknown>;

interface HistoryRowV1 {
  id: number;
  at: number;
  action: string;
  entry_id: number | null;
  detail: string;
  source_file: string | null;
  source_sha256: string | null;
}

interface ExpectedEntry {
  kind: unknown;
  subject: unknown;
  fingerprint: unknown;
  /** undefined: the history does not say (older rows recorded less). */
  validFrom: number | undefined;
  validUntil: number | null | undefined;
  retiredAt: number | null;
  addedAt: number;
  sourceFile: string | null;
  sourceSha256: string | null;
}

/** The columns an entry's own material determines (what an importer computed from it). */
function derivedFromMaterial(row: EntryRow): EntryCandidate {
  return row.kind === 'ca' || row.kind === 'tsa'
    ? authorityCandidate(row.kind, authorityFromRow(row))
    : logCandidate(row.kind, logFromRow(row));
}

/**
 * Replay a schema-1 store's history and compare it with what the store holds. Returns the
 * problems found (empty: the history accounts for everything).
 */
function auditHistoryV1(db: Database.Database, from: number): string[] {
  const problems: string[] = [];
  const problem = (s: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(s);
  };
  const replay = replayHistoryV1(db, from, problem);
  compareEntriesV1(db, replay.entries, problem);
  compareRotationKeysV1(db, replay.keys, problem);
  compareRotationsV1(db, replay.rotations, problem);
  compareMetaV1(db, replay, from, problem);
  return problems;
}

type Problem = (s: string) => void;

/** What a schema-1 store must hold, by its history. */
interface ReplayV1 {
  entries: Map<number, ExpectedEntry>;
  keys: Map<string, { addedAt: number; removedAt: number | null; source: unknown }>;
  rotations: Map<
    number,
    {
      appliedAt: number;
      expires: number | undefined;
      payloadSha256: unknown;
      rootSha256: unknown;
      signers: string;
    }
  >;
  threshold: number | undefined;
  createdAt: number | undefined;
}

/** Replay the history rows in order into the state they say the store is in. */
function replayHistoryV1(db: Database.Database, from: number, problem: Problem): ReplayV1 {
  const state: ReplayV1 = {
    entries: new Map(),
    keys: new Map(),
    rotations: new Map(),
    threshold: undefined,
    createdAt: undefined,
  };
  const history = db.prepare('SELECT * FROM history ORDER BY id').all() as HistoryRowV1[];
  history.forEach((row, index) => {
    const where = `history row ${row.id} (${row.action})`;
    const detail = historyDetail(row, where, problem);
    if (!detail) return;
    if (index === 0 && row.action !== 'create')
      problem(`${where}: the first history row is not the store's creation`);
    // Own properties only: an action named "constructor" is not one stella records.
    const replayAction = Object.hasOwn(REPLAY_V1, row.action) ? REPLAY_V1[row.action] : undefined;
    if (replayAction) replayAction({ state, row, index, detail, where, from, problem });
    else problem(`${where}: not an action schema version ${from} records`);
  });
  if (history.length === 0) problem('the history is empty: nothing says how the store came to be');
  return state;
}

/** One history row being replayed, with where to report what it does not account for. */
interface ReplayedRow {
  state: ReplayV1;
  row: HistoryRowV1;
  /** Its position in the history (0: must be the creation). */
  index: number;
  detail: Json;
  /** "history row <id> (<action>)", for problems. */
  where: string;
  /** The schema version the store claims. */
  from: number;
  problem: Problem;
}

/** A row's detail column as the JSON object stella writes, or undefined (a problem). */
function historyDetail(row: HistoryRowV1, where: string, problem: Problem): Json | undefined {
  try {
    const parsed = JSON.parse(row.detail) as unknown;
    if (isPlainObject(parsed)) return parsed;
  } catch {
    // reported below
  }
  problem(`${where}: its detail is not a JSON object`);
  return undefined;
}

/** History writes times with isoTime; anything else was not written by stella. */
function historyTime(v: unknown, where: string, problem: Problem): number | undefined {
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    if (Number.isFinite(ms) && new Date(ms).toISOString() === v) return ms;
  }
  problem(`${where}: ${quoted(v)} is not a time stella writes`);
  return undefined;
}

function historyTimeOrNull(v: unknown, where: string, problem: Problem): number | null | undefined {
  return v === null ? null : historyTime(v, where, problem);
}

/** The entry an entry-changing row names, which an earlier row must have added. */
function changedEntry({ state, row, where, problem }: ReplayedRow): ExpectedEntry | undefined {
  const e = row.entry_id === null ? undefined : state.entries.get(row.entry_id);
  if (!e)
    problem(
      `${where}: changes entry ${row.entry_id === null ? '(none)' : `#${row.entry_id}`}, which no earlier row adds`,
    );
  return e;
}

function replayAdd({ state, row, detail: d, where, problem }: ReplayedRow): void {
  if (row.entry_id === null) problem(`${where}: names no entry`);
  else if (state.entries.has(row.entry_id))
    problem(`${where}: adds entry #${row.entry_id} a second time`);
  else {
    state.entries.set(row.entry_id, {
      kind: d.kind,
      subject: d.subject,
      fingerprint: d.fingerprint,
      validFrom:
        'validFrom' in d ? historyTime(d.validFrom, `${where} validFrom`, problem) : undefined,
      validUntil:
        'validUntil' in d
          ? historyTimeOrNull(d.validUntil, `${where} validUntil`, problem)
          : undefined,
      retiredAt: null,
      addedAt: row.at,
      sourceFile: row.source_file,
      sourceSha256: row.source_sha256,
    });
  }
}

/** How each action a schema-1 store records changes the state its history describes. */
const REPLAY_V1: Record<string, (r: ReplayedRow) => void> = {
  create({ state, row, index, detail: d, where, from, problem }) {
    if (index !== 0) problem(`${where}: a second creation`);
    else state.createdAt = row.at;
    if (typeof d.schemaVersion === 'number' && d.schemaVersion > from) {
      problem(
        `${where}: the store was created at schema version ${d.schemaVersion} but claims ${from}: a downgrade`,
      );
    }
  },
  // Migrations go to schema 2 or later (version 1 is a store's creation), so a schema-1
  // history holds none: one to a later version is a downgrade's trace, any other a row Stella
  // never wrote. (Until stop 61 a row "to": 1 passed: a boundary mutant showed it.)
  migrate({ detail: d, where, from, problem }) {
    if (typeof d.to === 'number' && d.to > from)
      problem(
        `${where}: the store was migrated to schema version ${d.to} before but claims ${from}: a downgrade`,
      );
    else
      problem(
        `${where}: a migration to ${d.to === undefined ? 'no version' : JSON.stringify(d.to)}, which a store at schema version ${from} never records`,
      );
  },
  add: replayAdd,
  'rotate-add': replayAdd,
  retire(r) {
    const e = changedEntry(r);
    if (e) e.retiredAt = historyTime(r.detail.at, `${r.where} at`, r.problem) ?? null;
  },
  'rotate-update'(r) {
    const e = changedEntry(r);
    const to = isPlainObject(r.detail.to) ? r.detail.to : undefined;
    if (e && to) {
      e.validFrom = historyTime(to.validFrom, `${r.where} to.validFrom`, r.problem);
      e.validUntil = historyTimeOrNull(to.validUntil, `${r.where} to.validUntil`, r.problem);
    } else if (e) r.problem(`${r.where}: does not say the new window`);
  },
  'rotate-close'(r) {
    const e = changedEntry(r);
    if (e) e.validUntil = historyTime(r.detail.validUntil, `${r.where} validUntil`, r.problem);
  },
  'key-add'({ state, row, detail: d, where, problem }) {
    if (typeof d.keyId !== 'string') problem(`${where}: names no key`);
    else state.keys.set(d.keyId, { addedAt: row.at, removedAt: null, source: d.source });
  },
  'key-remove'({ state, row, detail: d, where, problem }) {
    const k = typeof d.keyId === 'string' ? state.keys.get(d.keyId) : undefined;
    if (!k) problem(`${where}: removes a key no earlier row adds`);
    else k.removedAt = row.at;
  },
  threshold({ state, detail: d }) {
    // Stella has always recorded the threshold as a number: anything else sets none, and the
    // store's own threshold then differs from history.
    state.threshold = typeof d.to === 'number' ? d.to : undefined;
  },
  rotate({ state, row, detail: d, where, problem }) {
    if (typeof d.version !== 'number') problem(`${where}: names no version`);
    else if (state.rotations.has(d.version))
      problem(`${where}: applies version ${d.version} a second time`);
    else {
      state.rotations.set(d.version, {
        appliedAt: row.at,
        expires: historyTime(d.expires, `${where} expires`, problem),
        payloadSha256: d.payloadSha256,
        rootSha256: d.rootSha256,
        signers: JSON.stringify({ old: d.signers, new: d.newKeySigners }),
      });
    }
  },
};

/** Each entry row against the history that added and changed it, and against its own material. */
function compareEntriesV1(
  db: Database.Database,
  entries: ReplayV1['entries'],
  problem: Problem,
): void {
  for (const row of allEntryRows(db)) {
    const what = `entry #${row.id} (${row.kind} ${row.subject})`;
    const e = entries.get(row.id);
    if (!e) {
      problem(`${what}: no history row adds it`);
      continue;
    }
    entries.delete(row.id);
    const differs = (field: string, actual: unknown, expected: unknown): void => {
      const shown = (v: unknown): string =>
        field.endsWith('_at') || field.startsWith('valid_')
          ? String(formatTimeOrNull(v as number | null))
          : JSON.stringify(v);
      if (actual !== expected)
        problem(`${what}: ${field} is ${shown(actual)}, history says ${shown(expected)}`);
    };
    differs('kind', row.kind, e.kind);
    if (e.subject !== undefined) differs('subject', row.subject, e.subject);
    if (e.fingerprint !== undefined) differs('fingerprint', row.fingerprint, e.fingerprint);
    if (e.validFrom !== undefined) differs('valid_from', row.valid_from, e.validFrom);
    if (e.validUntil !== undefined) differs('valid_until', row.valid_until, e.validUntil);
    differs('retired_at', row.retired_at, e.retiredAt);
    differs('added_at', row.added_at, e.addedAt);
    differs('source_file', row.source_file, e.sourceFile);
    differs('source_sha256', row.source_sha256, e.sourceSha256);
    try {
      const c = derivedFromMaterial(row);
      const columns: [string, unknown, unknown][] = [
        ['identity', row.identity, c.identity],
        ['subject', row.subject, c.subject],
        ['uri', row.uri, c.uri],
        ['fingerprint', row.fingerprint, c.fingerprint],
        ['key_id', row.key_id, c.keyId],
        ['material', row.material, c.material],
      ];
      for (const [field, actual, expected] of columns)
        if (actual !== expected)
          problem(`${what}: ${field} does not match the entry's own certificate or key`);
      if (!bytesEqual(new Uint8Array(row.der), c.der))
        problem(`${what}: der does not match the entry's own certificate or key`);
    } catch (err) {
      problem(`${what}: its material does not parse (${(err as Error).message})`);
    }
  }
  for (const id of entries.keys())
    problem(`history adds entry #${id}, which the store no longer holds`);
}

function compareRotationKeysV1(
  db: Database.Database,
  keys: ReplayV1['keys'],
  problem: Problem,
): void {
  for (const row of db.prepare('SELECT * FROM rotation_keys ORDER BY key_id').all() as {
    key_id: string;
    spki: Uint8Array;
    key_details: string;
    added_at: number;
    removed_at: number | null;
    source: string;
  }[]) {
    const what = `rotation key ${row.key_id.slice(0, 16)}…`;
    const k = keys.get(row.key_id);
    if (!k) {
      problem(`${what}: no history row adds it`);
      continue;
    }
    keys.delete(row.key_id);
    if (row.added_at !== k.addedAt || row.removed_at !== k.removedAt || row.source !== k.source)
      problem(`${what}: when or from where it was added or removed differs from history`);
    try {
      const key = createPublicKey({ key: Buffer.from(row.spki), format: 'der', type: 'spki' });
      if (
        toHex(sha256(new Uint8Array(row.spki))) !== row.key_id ||
        keyDetailsOf(key) !== row.key_details
      )
        problem(`${what}: its id or details do not match its public key`);
    } catch {
      problem(`${what}: not a public key`);
    }
  }
  for (const id of keys.keys())
    problem(`history adds rotation key ${id.slice(0, 16)}…, which the store no longer holds`);
}

function compareRotationsV1(
  db: Database.Database,
  rotations: ReplayV1['rotations'],
  problem: Problem,
): void {
  for (const row of db.prepare('SELECT * FROM rotations ORDER BY version').all() as {
    version: number;
    applied_at: number;
    expires: number;
    payload_sha256: string;
    root_sha256: string;
    signers: string;
  }[]) {
    const r = rotations.get(row.version);
    if (!r) {
      problem(`applied rotation version ${row.version}: no history row applies it`);
      continue;
    }
    rotations.delete(row.version);
    if (
      row.applied_at !== r.appliedAt ||
      row.expires !== r.expires ||
      row.payload_sha256 !== r.payloadSha256 ||
      row.root_sha256 !== r.rootSha256 ||
      row.signers !== r.signers
    ) {
      problem(
        `applied rotation version ${row.version}: differs from the history row that applied it`,
      );
    }
  }
  for (const v of rotations.keys())
    problem(`history applies rotation version ${v}, which the store no longer records`);
}

function compareMetaV1(
  db: Database.Database,
  replay: ReplayV1,
  from: number,
  problem: Problem,
): void {
  const { createdAt } = replay;
  let { threshold } = replay;
  for (const { key, value } of db.prepare('SELECT key, value FROM meta ORDER BY key').all() as {
    key: string;
    value: string;
  }[]) {
    if (key === 'created_at') {
      if (createdAt === undefined || value !== String(createdAt))
        problem(`meta created_at ${value} differs from the creation row`);
    } else if (key === 'rotation_threshold') {
      if (threshold === undefined || value !== String(threshold))
        problem(
          `the rotation threshold ${value} is not the last one history sets (${String(threshold ?? 'none')})`,
        );
      threshold = undefined;
    } else {
      problem(
        `meta "${key}" is not part of schema version ${from} (left by a newer schema: a downgrade?)`,
      );
    }
  }
  if (threshold !== undefined)
    problem(
      `history sets the rotation threshold to ${String(threshold)}, which the store no longer holds`,
    );
}

function refuse(store: TrustStore, from: number, problems: string[]): never {
  const shown = problems.slice(0, 3).join('; ');
  const more = problems.length > 3 ? `; and ${problems.length - 3} more (see --json)` : '';
  return fail(
    'STORE_TAMPERED',
    'trust-store',
    `trust store ${store.path} was modified outside stella and cannot be migrated: its history does not account for what it holds: ${shown}${more}; nothing was changed`,
    { path: store.path, schemaVersion: from, problems },
  );
}

/** Check an older store against its own record (see the file comment); throws STORE_TAMPERED. */
function audit(db: Database.Database, store: TrustStore, from: number): void {
  checkSchemaShape(db, store.path, from);
  if (from >= 2) verifyIntegrity(db, store.path);
  else {
    const problems = auditHistoryV1(db, from);
    if (problems.length > 0) refuse(store, from, problems);
  }
}

function historyCount(db: Database.Database): number {
  return (db.prepare('SELECT count(*) AS n FROM history').get() as { n: number }).n;
}

function describe(
  store: TrustStore,
): Pick<MigrationResult, 'entries' | 'rotationKeys' | 'threshold' | 'lastRotationVersion'> {
  const keys = listRotationKeys(store);
  return readSnapshot(store, (db) => ({
    entries: allEntryRows(db).map(entryFromRow),
    rotationKeys: keys.keys,
    threshold: thresholdOf(db),
    lastRotationVersion: lastRotationVersion(db),
  }));
}

/**
 * Check, then (unless dryRun) migrate a store opened with `allowOlderSchema` (read-only for a
 * dry run). A store already at the current schema is left alone. The `store` handle keeps
 * the schema version it was opened at: reopen the store to use it after migrating.
 */
export function migrateTrustStore(
  store: TrustStore,
  opts: { dryRun?: boolean },
  ctx: ChangeContext,
): MigrationResult {
  const from = store.schemaVersion;
  const dryRun = opts.dryRun ?? false;
  const base = { store: store.path, from, to: SCHEMA_VERSION, dryRun };
  if (from === SCHEMA_VERSION) {
    // Opening verified the seal already.
    const historyRows = readSnapshot(store, historyCount);
    return {
      ...base,
      upToDate: true,
      migrated: false,
      historyRows,
      ...describe(store),
      historyHead: readSnapshot(store, (db) => getMeta(db, 'history_head') ?? null),
    };
  }
  const historyRows = readSnapshot(store, (db) => {
    audit(db, store, from);
    return historyCount(db);
  });
  const sealed = describe(store);
  if (dryRun)
    return { ...base, upToDate: false, migrated: false, historyRows, ...sealed, historyHead: null };
  if (store.readonly)
    fail('INPUT_INVALID', 'trust-store', `trust store ${store.path} was opened read-only`);
  const db = store.db;
  guardStore(store.path, () =>
    db
      .transaction(() => {
        // Inside the write lock: the file may have changed since the check above.
        const now = db.pragma('user_version', { simple: true }) as number;
        if (now !== from)
          fail(
            'STORE_BUSY',
            'trust-store',
            `store busy: trust store ${store.path} changed schema (${from} -> ${now}) while being migrated; try again`,
            { path: store.path },
          );
        audit(db, store, from);
        for (const m of MIGRATIONS) {
          if (m.version <= from) continue;
          db.exec(m.ddl);
          m.backfill?.(db);
        }
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
        sealChanges(db, [
          {
            at: ctx.now,
            action: 'migrate',
            entryId: null,
            detail: { from, to: SCHEMA_VERSION, historyRows },
            sourceFile: null,
            sourceSha256: null,
            command: ctx.command,
          },
        ]);
      })
      .immediate(),
  );
  // Only now, with the store checked and migrated, does it get the journal mode writers use.
  guardStore(store.path, () => {
    switchToWal(db);
    db.transaction(() => {
      checkSchemaShape(db, store.path, SCHEMA_VERSION);
      verifyIntegrity(db, store.path);
    })();
  });
  return {
    ...base,
    upToDate: false,
    migrated: true,
    historyRows,
    ...sealed,
    historyHead: readSnapshot(store, (d) => getMeta(d, 'history_head') ?? null),
  };
}
