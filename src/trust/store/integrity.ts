/**
 * Tamper evidence (checklist G47). Every history row is chained to the one before it by
 * SHA-256, and each write transaction's rows commit to a digest of the whole trust state
 * (entries, rotation keys, applied rotations, settings) after the change. `meta` holds the
 * chain head and the state digest. At open, all three are recomputed: an entry, key or
 * history row edited, added or removed with sqlite3 behind the tool's back no longer
 * matches. (Without a secret this cannot stop someone who rewrites the whole chain
 * consistently; it catches edits that bypass Stella, which is what it is for.)
 */
import type Database from 'better-sqlite3';
import { fail } from '../../errors.js';
import { sha256 } from '../../crypto.js';
import { toHex, utf8 } from '../../util/encoding.js';
import { canonicalize, type JsonValue } from '../../util/canonical-json.js';

type Row = Record<string, unknown>;

/** The store writes integers only: a fraction in what it seals is a bug. */
const INTEGERS = { integersOnly: true } as const;

function canonicalRow(row: Row): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) out[k] = null;
    else if (v instanceof Uint8Array) out[k] = 'hex:' + toHex(v);
    else if (typeof v === 'bigint') out[k] = 'int:' + v.toString();
    else out[k] = v as JsonValue;
  }
  return out;
}

/** Meta keys that hold the seal itself (excluded from the state they seal). */
const SEAL_KEYS = ['state_digest', 'history_head'];

/** Tables sealed from schema v3 on (./checkpoints.ts); a v2 store's seal does not cover them. */
const V3_TABLES: readonly [string, string][] = [
  ['checkpoints', 'id'],
  ['splitViews', 'id'],
  ['witnesses', 'name'],
  ['witnessPolicies', 'log_id'],
];

export function computeStateDigest(db: Database.Database): string {
  const version = db.pragma('user_version', { simple: true }) as number;
  const state: Record<string, JsonValue> = {
    entries: db
      .prepare('SELECT * FROM entries ORDER BY id')
      .all()
      .map((r) => canonicalRow(r as Row)),
    rotationKeys: db
      .prepare('SELECT * FROM rotation_keys ORDER BY key_id')
      .all()
      .map((r) => canonicalRow(r as Row)),
    rotations: db
      .prepare('SELECT * FROM rotations ORDER BY version')
      .all()
      .map((r) => canonicalRow(r as Row)),
    meta: db
      .prepare(
        `SELECT key, value FROM meta WHERE key NOT IN (${SEAL_KEYS.map(() => '?').join(',')}) ORDER BY key`,
      )
      .all(...SEAL_KEYS)
      .map((r) => canonicalRow(r as Row)),
  };
  if (version >= 3) {
    for (const [name, order] of V3_TABLES) {
      const table = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      state[name] = db
        .prepare(`SELECT * FROM ${table} ORDER BY ${order}`)
        .all()
        .map((r) => canonicalRow(r as Row));
    }
  }
  return toHex(sha256(utf8.encode(canonicalize(state, INTEGERS))));
}

export interface HistoryRecord {
  at: number;
  action: string;
  entryId: number | null;
  detail: Record<string, JsonValue>;
  sourceFile: string | null;
  sourceSha256: string | null;
  command: string;
}

function historyRowHash(prev: string, row: Row): string {
  const fields: JsonValue = [
    prev,
    row.id as number,
    row.at as number,
    row.action as string,
    (row.entry_id as number | null) ?? null,
    row.detail as string,
    (row.source_file as string | null) ?? null,
    (row.source_sha256 as string | null) ?? null,
    row.command as string,
    (row.state_digest as string | null) ?? null,
  ];
  return toHex(sha256(utf8.encode(canonicalize(fields, INTEGERS))));
}

function metaValue(db: Database.Database, key: string): string | undefined {
  const r = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
    { value: string } | undefined;
  return r?.value;
}

export function setMeta(db: Database.Database, key: string, value: string): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}

export function getMeta(db: Database.Database, key: string): string | undefined {
  return metaValue(db, key);
}

/**
 * Append this transaction's history rows and re-seal: call last, inside the transaction,
 * after every change it makes.
 */
export function sealChanges(db: Database.Database, records: HistoryRecord[]): void {
  const digest = computeStateDigest(db);
  let prev = metaValue(db, 'history_head') ?? '';
  const insert = db.prepare(
    'INSERT INTO history (at, action, entry_id, detail, source_file, source_sha256, command, state_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const setHash = db.prepare('UPDATE history SET prev_hash = ?, hash = ? WHERE id = ?');
  for (const r of records) {
    const info = insert.run(
      r.at,
      r.action,
      r.entryId,
      canonicalize(r.detail, INTEGERS),
      r.sourceFile,
      r.sourceSha256,
      r.command,
      digest,
    );
    const id = Number(info.lastInsertRowid);
    const row = db.prepare('SELECT * FROM history WHERE id = ?').get(id) as Row;
    const hash = historyRowHash(prev, row);
    setHash.run(prev, hash, id);
    prev = hash;
  }
  setMeta(db, 'history_head', prev);
  setMeta(db, 'state_digest', digest);
}

/**
 * Chain every pre-v2 history row (migration backfill): old rows carry no state digest; the
 * migration's own row, sealed next, commits to the current state.
 */
export function chainUnhashedHistory(db: Database.Database): void {
  let prev = '';
  const setHash = db.prepare('UPDATE history SET prev_hash = ?, hash = ? WHERE id = ?');
  for (const row of db.prepare('SELECT * FROM history ORDER BY id').all() as Row[]) {
    const hash = historyRowHash(prev, row);
    setHash.run(prev, hash, row.id);
    prev = hash;
  }
  setMeta(db, 'history_head', prev);
}

/** Recompute the chain and the state digest; any difference is STORE_TAMPERED. */
export function verifyIntegrity(db: Database.Database, path: string): void {
  let prev = '';
  let last: Row | undefined;
  for (const row of db.prepare('SELECT * FROM history ORDER BY id').iterate() as Iterable<Row>) {
    if (row.prev_hash !== prev || row.hash !== historyRowHash(prev, row)) {
      fail(
        'STORE_TAMPERED',
        'trust-store',
        `trust store ${path} was modified outside stella: history row ${String(row.id)} does not match its hash chain`,
        {
          path,
          historyRow: row.id,
        },
      );
    }
    prev = row.hash;
    last = row;
  }
  if ((metaValue(db, 'history_head') ?? '') !== prev) {
    fail(
      'STORE_TAMPERED',
      'trust-store',
      `trust store ${path} was modified outside stella: history rows were added or removed`,
      { path },
    );
  }
  const digest = computeStateDigest(db);
  if (
    metaValue(db, 'state_digest') !== digest ||
    (last !== undefined && last.state_digest !== digest)
  ) {
    fail(
      'STORE_TAMPERED',
      'trust-store',
      `trust store ${path} was modified outside stella: trust entries or keys do not match the sealed state digest`,
      {
        path,
        expected: metaValue(db, 'state_digest') ?? null,
        actual: digest,
      },
    );
  }
}
