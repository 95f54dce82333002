/**
 * Applying a verified rotation to the store, in one write transaction (the checks are re-run
 * inside the write lock, against the state the change is applied to).
 *
 * Rotations manage only the entries rotations added (checklist H53). The new root is the
 * complete set of rotation-managed entries:
 *  - an entry in the root that the store lacks is added (and managed by rotations from now on);
 *  - a rotation-managed entry the root lists again takes the root's window, so a root listing
 *    old root A with `validFor.end = T` retires A at T;
 *  - a rotation-managed entry the root no longer lists is closed at the apply time (never
 *    deleted: signatures made under it before then keep verifying; one that had not started
 *    yet is withdrawn whole: its window ends before it starts and it trusts nothing).
 * An entry imported by hand is the operator's: a root that lists it is refused
 * (ROTATION_CONFLICT), because taking it over would replace the window the operator gave it,
 * and a later rotation that dropped it would close it at that rotation's time, losing its
 * own end. The operator may hand such an entry to rotations explicitly (`--adopt ID`; history
 * records the window it had). An operator's local `retire` is kept on any entry (the
 * effective end is the earlier of the two).
 */
import { sha256, spkiKeyId } from '../../crypto.js';
import { toHex } from '../../util/encoding.js';
import {
  readSnapshot,
  writeTransaction,
  type ChangeContext,
  type TrustStore,
  type WriteTx,
} from '../store/db.js';
import { fail } from '../../errors.js';
import {
  allEntryRows,
  candidatesFromTrustMaterial,
  entryFromRow,
  entryRowById,
  entryRowByIdentity,
  insertEntry,
  type EntryCandidate,
  type EntryRow,
  type StoreEntry,
} from '../store/entries.js';
import {
  activeKeyRows,
  addKeysTx,
  lastRotationVersion,
  thresholdOf,
} from '../store/rotation-keys.js';
import { setMeta } from '../store/integrity.js';
import type Database from 'better-sqlite3';
import { createPublicKey } from 'node:crypto';
import { readRotationBundle } from './bundle.js';
import { verifyRotation, type VerifiedRotation } from './verify.js';
import { formatTimeOrNull } from '../../util/time.js';

export type RotationChange =
  | {
      action: 'add';
      kind: string;
      subject: string;
      fingerprint: string;
      validFrom: string;
      validUntil: string | null;
    }
  | {
      action: 'update';
      id: number;
      kind: string;
      subject: string;
      fingerprint: string;
      from: { validFrom: string; validUntil: string | null };
      to: { validFrom: string; validUntil: string | null };
    }
  | {
      action: 'adopt';
      id: number;
      kind: string;
      subject: string;
      fingerprint: string;
      from: { validFrom: string; validUntil: string | null };
      to: { validFrom: string; validUntil: string | null };
    }
  | {
      action: 'close';
      id: number;
      kind: string;
      subject: string;
      fingerprint: string;
      validUntil: string;
    }
  | { action: 'keys'; removed: string[]; added: string[]; threshold: number };

export interface RotationResult {
  applied: boolean;
  dryRun: boolean;
  version: number;
  previousVersion: number;
  expires: string;
  payloadSha256: string;
  rootSha256: string;
  signers: string[];
  newKeySigners: string[];
  changes: RotationChange[];
  entries: StoreEntry[];
}

interface PlannedAdd {
  change: RotationChange & { action: 'add' };
  candidate: EntryCandidate;
}
interface PlannedUpdate {
  change: RotationChange & { action: 'update' | 'adopt' };
  candidate: EntryCandidate;
}

interface Plan {
  adds: PlannedAdd[];
  updates: PlannedUpdate[];
  closes: (RotationChange & { action: 'close' })[];
  keys: (RotationChange & { action: 'keys' }) | undefined;
}

function trustOf(db: Database.Database) {
  return {
    keys: activeKeyRows(db).map((r) => ({ spki: new Uint8Array(r.spki) })),
    threshold: thresholdOf(db),
    lastVersion: lastRotationVersion(db),
  };
}

/**
 * What applying `v` changes, checked against the store: entries to add, to update (or adopt),
 * to close; rotation keys and threshold. Refuses a root that lists an entry imported by hand
 * (ROTATION_CONFLICT) and an --adopt that names no such entry of this root.
 */
function planRotation(
  db: Database.Database,
  v: VerifiedRotation,
  now: number,
  adopt: ReadonlySet<number>,
): Plan {
  const { adds, updates, named, conflicts } = planListedEntries(db, v, adopt);
  checkAdoptions(db, adopt, named);
  if (conflicts.length > 0) refuseHandImported(v.payload.version, conflicts);
  return {
    adds,
    updates,
    closes: planCloses(db, named, now),
    keys: planKeys(db, v.payload.rotationKeys),
  };
}

const windowOf = (validFrom: number, validUntil: number | null) => ({
  validFrom: formatTimeOrNull(validFrom),
  validUntil: formatTimeOrNull(validUntil),
});

/**
 * Each entry the new root lists: added when the store lacks it; its window updated when a
 * rotation manages it (or adopted, when the operator hands it over); a conflict when it was
 * imported by hand. `named`: the store entries the root lists.
 */
function planListedEntries(
  db: Database.Database,
  v: VerifiedRotation,
  adopt: ReadonlySet<number>,
): { adds: PlannedAdd[]; updates: PlannedUpdate[]; named: Set<number>; conflicts: EntryRow[] } {
  const adds: PlannedAdd[] = [];
  const updates: PlannedUpdate[] = [];
  const named = new Set<number>();
  const conflicts: EntryRow[] = [];
  for (const c of candidatesFromTrustMaterial(v.root)) {
    const row = entryRowByIdentity(db, c.kind, c.identity);
    if (!row) {
      if (adds.some((a) => a.candidate.kind === c.kind && a.candidate.identity === c.identity))
        continue;
      adds.push({
        candidate: c,
        change: {
          action: 'add',
          kind: c.kind,
          subject: c.subject,
          fingerprint: c.fingerprint,
          ...windowOf(c.validFrom, c.validUntil),
        },
      });
      continue;
    }
    if (named.has(row.id)) continue;
    named.add(row.id);
    // rotation_version is set only by rotations (and by an explicit adoption).
    const handImported = row.rotation_version === null;
    if (handImported && !adopt.has(row.id)) {
      conflicts.push(row);
      continue;
    }
    if (handImported || row.valid_from !== c.validFrom || row.valid_until !== c.validUntil) {
      updates.push({
        candidate: c,
        change: {
          action: handImported ? 'adopt' : 'update',
          id: row.id,
          kind: row.kind,
          subject: row.subject,
          fingerprint: row.fingerprint,
          from: windowOf(row.valid_from, row.valid_until),
          to: windowOf(c.validFrom, c.validUntil),
        },
      });
    }
  }
  return { adds, updates, named, conflicts };
}

/** Each --adopt names an entry imported by hand that this rotation lists. */
function checkAdoptions(
  db: Database.Database,
  adopt: ReadonlySet<number>,
  named: ReadonlySet<number>,
): void {
  for (const id of adopt) {
    const row = entryRowById(db, id);
    if (!row || row.rotation_version !== null || !named.has(id)) {
      fail(
        'INPUT_INVALID',
        'rotation',
        `--adopt ${id}: ${!row ? 'no such entry' : row.rotation_version !== null ? 'the entry is already managed by rotations' : 'this rotation does not list that entry'}`,
        { id },
      );
    }
  }
}

/** Rotations manage only the entries rotations added: a root listing others is refused. */
function refuseHandImported(version: number, conflicts: readonly EntryRow[]): never {
  const list = conflicts
    .map((r) => `#${r.id} ${r.kind} ${r.subject} (imported by hand from ${r.source_file})`)
    .join(', ');
  return fail(
    'ROTATION_CONFLICT',
    'rotation',
    `rotation version ${version} lists ${conflicts.length === 1 ? 'an entry' : 'entries'} imported by hand: ${list}; rotations manage only the entries rotations added, so it was not applied (to hand ${conflicts.length === 1 ? 'it' : 'them'} to rotations, with the window the rotation gives: --adopt ${conflicts.map((r) => r.id).join(' --adopt ')})`,
    {
      version,
      conflicts: conflicts.map((r) => ({
        id: r.id,
        kind: r.kind,
        subject: r.subject,
        fingerprint: r.fingerprint,
        sourceFile: r.source_file,
      })),
    },
  );
}

/** Rotation-managed entries the root no longer lists and still open: closed at `now`. */
function planCloses(
  db: Database.Database,
  named: ReadonlySet<number>,
  now: number,
): Plan['closes'] {
  const closes: Plan['closes'] = [];
  for (const row of allEntryRows(db)) {
    if (row.rotation_version === null || named.has(row.id)) continue;
    if (row.valid_until !== null && row.valid_until <= now) continue;
    // Closed now; an entry whose window had not started yet is withdrawn whole (end < start).
    closes.push({
      action: 'close',
      id: row.id,
      kind: row.kind,
      subject: row.subject,
      fingerprint: row.fingerprint,
      validUntil: formatTimeOrNull(now),
    });
  }
  return closes;
}

/** The rotation keys removed and added, and the threshold, when the payload changes them. */
function planKeys(
  db: Database.Database,
  rk: VerifiedRotation['payload']['rotationKeys'],
): Plan['keys'] {
  if (!rk) return undefined;
  const current = activeKeyRows(db).map((r) => r.key_id);
  const next = rk.keys.map(spkiKeyId);
  const removed = current.filter((id) => !next.includes(id));
  const added = next.filter((id) => !current.includes(id));
  if (removed.length > 0 || added.length > 0 || thresholdOf(db) !== rk.threshold)
    return { action: 'keys', removed, added, threshold: rk.threshold };
  return undefined;
}

/** Write the plan and the rotation's own row, each change with its history row. */
function applyPlan(
  tx: WriteTx,
  v: VerifiedRotation,
  plan: Plan,
  source: { file: string; sha256: string },
): void {
  writeEntryChanges(tx, v.payload.version, plan, source);
  const rk = v.payload.rotationKeys;
  if (rk && plan.keys) writeKeyChanges(tx, v.payload.version, plan.keys, rk);
  recordRotation(tx, v, source);
}

function writeEntryChanges(
  tx: WriteTx,
  version: number,
  plan: Plan,
  source: { file: string; sha256: string },
): void {
  const from = { sourceFile: source.file, sourceSha256: source.sha256 };
  for (const a of plan.adds) {
    const id = insertEntry(
      tx.db,
      a.candidate,
      { sourceKind: 'rotation', ...from, rotationVersion: version },
      tx.now,
    );
    tx.record('rotate-add', { entryId: id, detail: { version, ...a.change }, ...from });
  }
  for (const u of plan.updates) {
    tx.db
      .prepare(
        'UPDATE entries SET valid_from = ?, valid_until = ?, rotation_version = ? WHERE id = ?',
      )
      .run(u.candidate.validFrom, u.candidate.validUntil, version, u.change.id);
    tx.record(u.change.action === 'adopt' ? 'rotate-adopt' : 'rotate-update', {
      entryId: u.change.id,
      detail: { version, ...u.change },
      ...from,
    });
  }
  for (const c of plan.closes) {
    tx.db
      .prepare('UPDATE entries SET valid_until = ? WHERE id = ?')
      .run(Date.parse(c.validUntil), c.id);
    tx.record('rotate-close', { entryId: c.id, detail: { version, ...c }, ...from });
  }
}

function writeKeyChanges(
  tx: WriteTx,
  version: number,
  keys: NonNullable<Plan['keys']>,
  rk: NonNullable<VerifiedRotation['payload']['rotationKeys']>,
): void {
  for (const id of keys.removed) {
    tx.db.prepare('UPDATE rotation_keys SET removed_at = ? WHERE key_id = ?').run(tx.now, id);
    tx.record('key-remove', { detail: { keyId: id, version } });
  }
  addKeysTx(
    tx,
    rk.keys.map((k) => createPublicKey({ key: Buffer.from(k), format: 'der', type: 'spki' })),
    `rotation v${version}`,
  );
  const before = thresholdOf(tx.db);
  if (before !== rk.threshold) {
    setMeta(tx.db, 'rotation_threshold', String(rk.threshold));
    tx.record('threshold', { detail: { from: before, to: rk.threshold, version } });
  }
}

/** The rotations row and its history row: who signed which payload and root. */
function recordRotation(
  tx: WriteTx,
  v: VerifiedRotation,
  source: { file: string; sha256: string },
): void {
  const version = v.payload.version;
  tx.db
    .prepare(
      'INSERT INTO rotations (version, applied_at, expires, payload_sha256, root_sha256, signers) VALUES (?, ?, ?, ?, ?, ?)',
    )
    .run(
      version,
      tx.now,
      v.payload.expires,
      v.payloadSha256,
      v.payload.root.sha256,
      JSON.stringify({ old: v.signers, new: v.newKeySigners }),
    );
  tx.record('rotate', {
    detail: {
      version,
      expires: formatTimeOrNull(v.payload.expires),
      payloadSha256: v.payloadSha256,
      rootSha256: v.payload.root.sha256,
      signers: v.signers,
      newKeySigners: v.newKeySigners,
    },
    sourceFile: source.file,
    sourceSha256: source.sha256,
  });
}

function changesOf(plan: Plan): RotationChange[] {
  return [
    ...plan.adds.map((a) => a.change),
    ...plan.updates.map((u) => u.change),
    ...plan.closes,
    ...(plan.keys ? [plan.keys] : []),
  ];
}

export interface RotateOptions {
  dryRun?: boolean;
  /** Hand-imported entries (ids) the operator hands over to rotations (`--adopt`). */
  adopt?: number[];
  /** Path of the rotation file, recorded in history. */
  sourceFile: string;
}

/** Verify and apply (or, with dryRun, only plan) a rotation bundle. */
export function applyRotation(
  store: TrustStore,
  tarBytes: Uint8Array,
  opts: RotateOptions,
  ctx: ChangeContext,
): RotationResult {
  const bundle = readRotationBundle(tarBytes);
  const source = { file: opts.sourceFile, sha256: toHex(sha256(tarBytes)) };
  const run = (db: Database.Database, tx: WriteTx | undefined): RotationResult => {
    const trust = trustOf(db);
    const v = verifyRotation(bundle, trust, ctx.now);
    const plan = planRotation(db, v, ctx.now, new Set(opts.adopt ?? []));
    if (tx) applyPlan(tx, v, plan, source);
    const touched = new Set<number>([
      ...plan.updates.map((u) => u.change.id),
      ...plan.closes.map((c) => c.id),
    ]);
    const entries = tx
      ? allEntryRows(db)
          .filter((r) => r.rotation_version === v.payload.version || touched.has(r.id))
          .map(entryFromRow)
      : [...touched].map((id) => entryFromRow(entryRowById(db, id)!));
    return {
      applied: tx !== undefined,
      dryRun: tx === undefined,
      version: v.payload.version,
      previousVersion: trust.lastVersion,
      expires: formatTimeOrNull(v.payload.expires),
      payloadSha256: v.payloadSha256,
      rootSha256: v.payload.root.sha256,
      signers: v.signers,
      newKeySigners: v.newKeySigners,
      changes: changesOf(plan),
      entries,
    };
  };
  if (opts.dryRun) return readSnapshot(store, (db) => run(db, undefined));
  return writeTransaction(store, ctx, (tx) => run(tx.db, tx));
}
