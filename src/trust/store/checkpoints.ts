/**
 * What each log has shown (schema v3): the checkpoints the store has verified, per log (origin,
 * tree size, root hash, the signed note itself, proven or not, when and from where), the
 * evidence of any split view it caught (both signed notes, and the failing proof), and the
 * witnesses (C2SP tlog-cosignature v1 Ed25519 keys, each with a name and a validity window)
 * with per-log "at least K of these N" policies.
 *
 * Reads run in one snapshot; every change is one writeTransaction (./db.ts): history row and
 * seal in the same BEGIN IMMEDIATE transaction, so a process killed at any point leaves the old
 * state or the new one. The judging is pure (../../tlog/consistency.ts); ./consistency.ts is
 * the one place the verify path (and `attest import`) calls.
 */
import { fail } from '../../errors.js';
import { formatTimeOrNull } from '../../util/time.js';
import { toHex } from '../../util/encoding.js';
import {
  parseWitnessKey,
  witnessFingerprint,
  formatWitnessVkey,
  type WitnessKey,
} from '../../tlog/cosignature.js';
import type { HeldCheckpoint, SplitViewEvidence } from '../../tlog/consistency.js';
import type { TransparencyLogInstance } from '../../model/trust-material.js';
import {
  readSnapshot,
  writeTransaction,
  type ChangeContext,
  type TrustStore,
  type WriteTx,
} from './db.js';
import { storedTime, storedTimeOrNull } from './time.js';
import type Database from 'better-sqlite3';
import { quoted } from '../../util/text.js';

interface CheckpointRow {
  id: number;
  log_id: string;
  log_url: string;
  origin: string;
  tree_size: number;
  root_hash: string;
  note: string;
  proven: number;
  latest: number;
  first_seen_at: number;
  proven_at: number | null;
  source: string;
}

export interface StoredCheckpoint {
  logId: string;
  logUrl: string;
  origin: string;
  treeSize: number;
  rootHash: string;
  note: string;
  status: 'proven' | 'unproven';
  /** A shipment presented it as the log's latest checkpoint. */
  latest: boolean;
  firstSeenAt: string;
  provenAt: string | null;
  source: string;
}

export interface StoredSplitView {
  id: number;
  logId: string;
  origin: string;
  detectedAt: string;
  code: string;
  reason: string;
  heldNote: string;
  presentedNote: string;
  proof: string[] | null;
  source: string;
}

export interface StoredWitness {
  name: string;
  vkey: string;
  keyFingerprint: string;
  validFrom: string;
  validUntil: string | null;
  addedAt: string;
  source: string;
}

export interface StoredWitnessPolicy {
  logId: string;
  logUrl: string;
  threshold: number;
  witnesses: string[];
  setAt: string;
}

export function heldCheckpointsIn(db: Database.Database, logId: string): HeldCheckpoint[] {
  const rows = db
    .prepare('SELECT * FROM checkpoints WHERE log_id = ? ORDER BY tree_size')
    .all(logId) as CheckpointRow[];
  return rows.map((r) => ({
    logId: r.log_id,
    origin: r.origin,
    treeSize: r.tree_size,
    rootHash: r.root_hash,
    note: r.note,
    proven: r.proven === 1,
    latest: r.latest === 1,
  }));
}

/** Insert or update the rows an assessment asks for (inside the caller's transaction). */
export function writeCheckpoints(
  tx: WriteTx,
  log: TransparencyLogInstance,
  upserts: readonly HeldCheckpoint[],
  source: string,
): void {
  const logId = toHex(log.logId);
  for (const u of upserts) {
    const existing = tx.db
      .prepare('SELECT * FROM checkpoints WHERE log_id = ? AND tree_size = ?')
      .get(logId, u.treeSize) as CheckpointRow | undefined;
    if (!existing) {
      tx.db
        .prepare(
          'INSERT INTO checkpoints (log_id, log_url, origin, tree_size, root_hash, note, proven, latest, first_seen_at, proven_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          logId,
          log.baseUrl,
          u.origin,
          u.treeSize,
          u.rootHash,
          u.note,
          u.proven ? 1 : 0,
          u.latest ? 1 : 0,
          tx.now,
          u.proven ? tx.now : null,
          source,
        );
      tx.record('checkpoint', {
        detail: {
          log: log.baseUrl,
          origin: u.origin,
          treeSize: u.treeSize,
          rootHash: u.rootHash,
          status: u.proven ? 'proven' : 'unproven',
          latest: u.latest,
        },
        sourceFile: source,
      });
    } else {
      if (existing.root_hash !== u.rootHash)
        throw new Error(
          'checkpoint update with a different root hash (a split view the assessment missed)',
        );
      const nowProven = existing.proven === 1 || u.proven;
      tx.db
        .prepare('UPDATE checkpoints SET proven = ?, latest = ?, proven_at = ? WHERE id = ?')
        .run(
          nowProven ? 1 : 0,
          u.latest || existing.latest === 1 ? 1 : 0,
          existing.proven_at ?? (nowProven ? tx.now : null),
          existing.id,
        );
      tx.record('checkpoint-update', {
        detail: {
          log: log.baseUrl,
          treeSize: u.treeSize,
          rootHash: u.rootHash,
          status: nowProven ? 'proven' : 'unproven',
          latest: u.latest || existing.latest === 1,
        },
        sourceFile: source,
      });
    }
  }
}

export function writeSplitView(
  tx: WriteTx,
  code: string,
  e: SplitViewEvidence,
  source: string,
): void {
  tx.db
    .prepare(
      'INSERT INTO split_views (log_id, origin, detected_at, code, reason, held_note, presented_note, proof, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      e.logId,
      e.origin,
      tx.now,
      code,
      e.reason,
      e.held.note,
      e.presented.note,
      e.proof === null ? null : JSON.stringify(e.proof),
      source,
    );
  tx.record('split-view', {
    detail: {
      code,
      origin: e.origin,
      heldTreeSize: e.held.treeSize,
      presentedTreeSize: e.presented.treeSize,
      reason: e.reason,
    },
    sourceFile: source,
  });
}

export interface CheckpointListing {
  logs: {
    logId: string;
    logUrl: string | null;
    origin: string;
    checkpoints: StoredCheckpoint[];
    policy: StoredWitnessPolicy | null;
  }[];
  splitViews: StoredSplitView[];
}

function checkpointOf(r: CheckpointRow): StoredCheckpoint {
  return {
    logId: r.log_id,
    logUrl: r.log_url,
    origin: r.origin,
    treeSize: r.tree_size,
    rootHash: r.root_hash,
    note: r.note,
    status: r.proven === 1 ? 'proven' : 'unproven',
    latest: r.latest === 1,
    firstSeenAt: formatTimeOrNull(storedTime(r.first_seen_at, `checkpoint ${r.id} first_seen_at`)),
    provenAt: formatTimeOrNull(storedTimeOrNull(r.proven_at, `checkpoint ${r.id} proven_at`)),
    source: r.source,
  };
}

function policyOf(r: {
  log_id: string;
  log_url: string;
  threshold: number;
  witnesses: string;
  set_at: number;
}): StoredWitnessPolicy {
  let names: unknown;
  try {
    names = JSON.parse(r.witnesses);
  } catch (e) {
    return fail(
      'STORE_CORRUPT',
      'trust-store',
      `witness policy for ${r.log_url}: its witness list is not JSON`,
      undefined,
      { cause: e },
    );
  }
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
    fail(
      'STORE_CORRUPT',
      'trust-store',
      `witness policy for ${r.log_url}: its witness list is not a list of names`,
    );
  return {
    logId: r.log_id,
    logUrl: r.log_url,
    threshold: r.threshold,
    witnesses: names,
    setAt: formatTimeOrNull(storedTime(r.set_at, `witness policy ${r.log_url} set_at`)),
  };
}

export function listCheckpoints(store: TrustStore): CheckpointListing {
  return readSnapshot(store, (db) => {
    const rows = db
      .prepare('SELECT * FROM checkpoints ORDER BY log_id, tree_size')
      .all() as CheckpointRow[];
    const policies = new Map(
      (
        db.prepare('SELECT * FROM witness_policies ORDER BY log_id').all() as Parameters<
          typeof policyOf
        >[0][]
      ).map((p) => [p.log_id, policyOf(p)]),
    );
    const logs = new Map<string, CheckpointListing['logs'][number]>();
    for (const r of rows) {
      let l = logs.get(r.log_id);
      if (!l)
        logs.set(
          r.log_id,
          (l = {
            logId: r.log_id,
            logUrl: r.log_url,
            origin: r.origin,
            checkpoints: [],
            policy: policies.get(r.log_id) ?? null,
          }),
        );
      l.checkpoints.push(checkpointOf(r));
    }
    for (const [id, p] of policies)
      if (!logs.has(id))
        logs.set(id, { logId: id, logUrl: p.logUrl, origin: '', checkpoints: [], policy: p });
    const splitViews = (
      db.prepare('SELECT * FROM split_views ORDER BY id').all() as Record<string, unknown>[]
    ).map((r) => ({
      id: r.id as number,
      logId: r.log_id as string,
      origin: r.origin as string,
      detectedAt: formatTimeOrNull(
        storedTime(r.detected_at, `split view ${String(r.id)} detected_at`),
      ),
      code: r.code as string,
      reason: r.reason as string,
      heldNote: r.held_note as string,
      presentedNote: r.presented_note as string,
      proof: r.proof === null ? null : (JSON.parse(r.proof as string) as string[]),
      source: r.source as string,
    }));
    return { logs: [...logs.values()], splitViews };
  });
}

// ---------------------------------------------------------------------------------------
// Witnesses

interface WitnessRow {
  name: string;
  public_key: Uint8Array;
  key_fingerprint: string;
  valid_from: number;
  valid_until: number | null;
  added_at: number;
  source: string;
}

export interface WitnessWithWindow extends WitnessKey {
  validFrom: number;
  validUntil: number | null;
}

export function witnessesIn(db: Database.Database): WitnessWithWindow[] {
  return (db.prepare('SELECT * FROM witnesses ORDER BY name').all() as WitnessRow[]).map((r) => ({
    name: r.name,
    publicKey: new Uint8Array(r.public_key),
    validFrom: storedTime(r.valid_from, `witness ${r.name} valid_from`),
    validUntil: storedTimeOrNull(r.valid_until, `witness ${r.name} valid_until`),
  }));
}

export function witnessPoliciesIn(db: Database.Database): Map<string, StoredWitnessPolicy> {
  return new Map(
    (db.prepare('SELECT * FROM witness_policies').all() as Parameters<typeof policyOf>[0][]).map(
      (p) => [p.log_id, policyOf(p)],
    ),
  );
}

function witnessOf(r: WitnessRow): StoredWitness {
  return {
    name: r.name,
    vkey: formatWitnessVkey({ name: r.name, publicKey: new Uint8Array(r.public_key) }),
    keyFingerprint: r.key_fingerprint,
    validFrom: formatTimeOrNull(storedTime(r.valid_from, `witness ${r.name} valid_from`)),
    validUntil: formatTimeOrNull(storedTimeOrNull(r.valid_until, `witness ${r.name} valid_until`)),
    addedAt: formatTimeOrNull(storedTime(r.added_at, `witness ${r.name} added_at`)),
    source: r.source,
  };
}

export function listWitnesses(store: TrustStore): {
  witnesses: StoredWitness[];
  policies: StoredWitnessPolicy[];
} {
  return readSnapshot(store, (db) => ({
    witnesses: (db.prepare('SELECT * FROM witnesses ORDER BY name').all() as WitnessRow[]).map(
      witnessOf,
    ),
    policies: [...witnessPoliciesIn(db).values()],
  }));
}

export interface AddWitnessOptions {
  /** A vkey, or a PEM Ed25519 public key (then `name` is required). */
  keyText: string;
  name?: string | undefined;
  validFrom: number;
  validUntil?: number | undefined;
  source: string;
}

export function addWitness(
  store: TrustStore,
  opts: AddWitnessOptions,
  ctx: ChangeContext,
): StoredWitness {
  const key = parseWitnessKey(opts.keyText, opts.name);
  if (opts.validUntil !== undefined && opts.validUntil <= opts.validFrom)
    fail(
      'WITNESS_INVALID',
      'witness',
      `witness ${key.name}: --valid-until must be after --valid-from`,
    );
  const fp = witnessFingerprint(key.publicKey);
  return writeTransaction(store, ctx, (tx) => {
    const byName = tx.db.prepare('SELECT name FROM witnesses WHERE name = ?').get(key.name);
    if (byName)
      fail(
        'WITNESS_INVALID',
        'witness',
        `a witness named ${quoted(key.name)} is already in the store`,
        { name: key.name },
      );
    const byKey = tx.db.prepare('SELECT name FROM witnesses WHERE key_fingerprint = ?').get(fp) as
      { name: string } | undefined;
    if (byKey)
      fail(
        'WITNESS_INVALID',
        'witness',
        `this key is already in the store as witness ${quoted(byKey.name)}: one key is one witness (the Ed25519 cosignature does not commit to a name)`,
        { name: byKey.name },
      );
    tx.db
      .prepare(
        'INSERT INTO witnesses (name, public_key, key_fingerprint, valid_from, valid_until, added_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        key.name,
        Buffer.from(key.publicKey),
        fp,
        opts.validFrom,
        opts.validUntil ?? null,
        tx.now,
        opts.source,
      );
    tx.record('witness-add', {
      detail: {
        name: key.name,
        keyFingerprint: fp,
        validFrom: opts.validFrom,
        validUntil: opts.validUntil ?? null,
      },
      sourceFile: opts.source,
    });
    return witnessOf(
      tx.db.prepare('SELECT * FROM witnesses WHERE name = ?').get(key.name) as WitnessRow,
    );
  });
}

export interface WitnessPolicyOptions {
  log: TransparencyLogInstance;
  threshold: number;
  witnesses: string[];
}

/** Set (replace) a log's witness policy; threshold 0 with no witnesses removes it. */
export function setWitnessPolicy(
  store: TrustStore,
  opts: WitnessPolicyOptions,
  ctx: ChangeContext,
): StoredWitnessPolicy | null {
  const names = [...new Set(opts.witnesses)].sort();
  if (names.length !== opts.witnesses.length)
    fail('WITNESS_INVALID', 'witness', 'a witness is named twice in the policy');
  if (!Number.isSafeInteger(opts.threshold) || opts.threshold < 0 || opts.threshold > names.length)
    fail(
      'WITNESS_INVALID',
      'witness',
      `--threshold must be 0..${names.length} (the number of --witness names)`,
    );
  if (opts.threshold === 0 && names.length > 0)
    fail(
      'WITNESS_INVALID',
      'witness',
      '--threshold 0 removes the policy: give no --witness with it',
    );
  const logId = toHex(opts.log.logId);
  return writeTransaction(store, ctx, (tx) => {
    const known = new Set(witnessesIn(tx.db).map((w) => w.name));
    for (const n of names)
      if (!known.has(n))
        fail(
          'WITNESS_INVALID',
          'witness',
          `no witness named ${quoted(n)} in the store (add it with \`stella trust witness add\`)`,
          { name: n },
        );
    if (opts.threshold === 0) {
      const r = tx.db.prepare('DELETE FROM witness_policies WHERE log_id = ?').run(logId);
      if (r.changes > 0)
        tx.record('witness-policy', {
          detail: { log: opts.log.baseUrl, threshold: 0, witnesses: [] },
        });
      return null;
    }
    tx.db
      .prepare(
        'INSERT INTO witness_policies (log_id, log_url, threshold, witnesses, set_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(log_id) DO UPDATE SET log_url = excluded.log_url, threshold = excluded.threshold, witnesses = excluded.witnesses, set_at = excluded.set_at',
      )
      .run(logId, opts.log.baseUrl, opts.threshold, JSON.stringify(names), tx.now);
    tx.record('witness-policy', {
      detail: { log: opts.log.baseUrl, threshold: opts.threshold, witnesses: names },
    });
    return witnessPoliciesIn(tx.db).get(logId)!;
  });
}
