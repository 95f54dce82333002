/** The store's rotation keys and threshold (who may sign a rotation). */
import type Database from 'better-sqlite3';
import type { KeyObject } from 'node:crypto';
import { fail } from '../../errors.js';
import { parsePublicKey, spkiKeyId, spkiOf } from '../../crypto.js';
import { pemToDerList } from '../../util/pem.js';
import {
  readSnapshot,
  writeTransaction,
  type ChangeContext,
  type TrustStore,
  type WriteTx,
} from './db.js';
import { getMeta, setMeta } from './integrity.js';
import { keyDetailsOf } from './keys.js';
import { storedTime, storedTimeOrNull } from './time.js';
import { formatTimeOrNull } from '../../util/time.js';

export interface RotationKeyRow {
  key_id: string;
  spki: Uint8Array;
  key_details: string;
  added_at: number;
  removed_at: number | null;
  source: string;
}

export interface RotationKeyInfo {
  keyId: string;
  keyDetails: string;
  addedAt: string;
  removedAt: string | null;
  source: string;
  active: boolean;
}

function info(r: RotationKeyRow): RotationKeyInfo {
  return {
    keyId: r.key_id,
    keyDetails: r.key_details,
    addedAt: formatTimeOrNull(storedTime(r.added_at, `rotation key ${r.key_id} added_at`)),
    removedAt: formatTimeOrNull(
      storedTimeOrNull(r.removed_at, `rotation key ${r.key_id} removed_at`),
    ),
    source: r.source,
    active: r.removed_at === null,
  };
}

export function activeKeyRows(db: Database.Database): RotationKeyRow[] {
  return db
    .prepare('SELECT * FROM rotation_keys WHERE removed_at IS NULL ORDER BY key_id')
    .all() as RotationKeyRow[];
}

export function thresholdOf(db: Database.Database): number {
  const v = getMeta(db, 'rotation_threshold');
  return v === undefined ? 0 : Number(v);
}

export function lastRotationVersion(db: Database.Database): number {
  return (db.prepare('SELECT coalesce(max(version), 0) AS v FROM rotations').get() as { v: number })
    .v;
}

/** Every PUBLIC KEY block in a PEM file, parsed. */
export function parsePublicKeysPem(text: string, what: string): KeyObject[] {
  const ders = pemToDerList(text, 'PUBLIC KEY', {
    code: 'ROTATION_KEYS_INVALID',
    check: 'rotation',
    what,
  });
  if (ders.length > 64) fail('ROTATION_KEYS_INVALID', 'rotation', `${what}: more than 64 keys`);
  return ders.map((d, i) =>
    parsePublicKey(d, `${what} key ${i + 1}`, 'ROTATION_KEYS_INVALID', 'rotation'),
  );
}

/** Add keys inside a write transaction; a key already present (same SPKI) is a duplicate. */
export function addKeysTx(
  tx: WriteTx,
  keys: KeyObject[],
  source: string,
): { added: string[]; duplicates: string[] } {
  const added: string[] = [];
  const duplicates: string[] = [];
  for (const k of keys) {
    const spki = spkiOf(k);
    const id = spkiKeyId(spki);
    const existing = tx.db.prepare('SELECT * FROM rotation_keys WHERE key_id = ?').get(id) as
      RotationKeyRow | undefined;
    if (existing && existing.removed_at === null) {
      duplicates.push(id);
      continue;
    }
    if (existing)
      tx.db
        .prepare(
          'UPDATE rotation_keys SET removed_at = NULL, added_at = ?, source = ? WHERE key_id = ?',
        )
        .run(tx.now, source, id);
    else
      tx.db
        .prepare(
          'INSERT INTO rotation_keys (key_id, spki, key_details, added_at, removed_at, source) VALUES (?, ?, ?, ?, NULL, ?)',
        )
        .run(id, Buffer.from(spki), keyDetailsOf(k), tx.now, source);
    tx.record('key-add', { detail: { keyId: id, source } });
    added.push(id);
  }
  return { added, duplicates };
}

export function setThresholdTx(tx: WriteTx, threshold: number): void {
  const active = activeKeyRows(tx.db).length;
  if (!Number.isSafeInteger(threshold) || threshold <= 0)
    fail(
      'ROTATION_KEYS_INVALID',
      'rotation',
      `threshold must be a whole number of at least 1, not ${threshold}`,
    );
  if (threshold > active)
    fail(
      'ROTATION_KEYS_INVALID',
      'rotation',
      `threshold ${threshold} is more than the ${active} distinct rotation key(s)`,
    );
  const before = thresholdOf(tx.db);
  if (before === threshold) return;
  setMeta(tx.db, 'rotation_threshold', String(threshold));
  tx.record('threshold', { detail: { from: before, to: threshold } });
}

export interface KeysAddResult {
  added: string[];
  duplicates: string[];
  threshold: number;
}

/**
 * `keys add`: add public keys and/or set the threshold, in one transaction. A store with keys
 * must have a threshold: the first keys need --threshold.
 */
export function addRotationKeys(
  store: TrustStore,
  keys: KeyObject[],
  threshold: number | undefined,
  source: string,
  ctx: ChangeContext,
): KeysAddResult {
  return writeTransaction(store, ctx, (tx) => {
    const r = addKeysTx(tx, keys, source);
    if (threshold !== undefined) setThresholdTx(tx, threshold);
    else if (thresholdOf(tx.db) === 0 && activeKeyRows(tx.db).length > 0) {
      fail(
        'ROTATION_KEYS_INVALID',
        'rotation',
        'the store has no rotation threshold yet: give --threshold K (the keys are added as rotation keys; a key that seals export archives is added with --role exporter)',
      );
    }
    return { ...r, threshold: thresholdOf(tx.db) };
  });
}

export function listRotationKeys(store: TrustStore): {
  keys: RotationKeyInfo[];
  threshold: number;
  lastVersion: number;
} {
  return readSnapshot(store, (db) => ({
    keys: (
      db.prepare('SELECT * FROM rotation_keys ORDER BY added_at, key_id').all() as RotationKeyRow[]
    ).map(info),
    threshold: thresholdOf(db),
    lastVersion: lastRotationVersion(db),
  }));
}
