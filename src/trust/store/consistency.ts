/**
 * The one consistency check, for every path that accepts bundles into an offline host:
 * `stella attest verify` (one bundle, or a whole shipment with --archive) calls it once per run
 * after the bundles verified, and `attest import` inside its import transaction, all through
 * ../../commands/attest/consistency-run.ts checkConsistencyAgainstStore.
 *
 *   checkConsistency(store, { trust, checkpoints, shipmentCheckpoints, shipment, requireConsistency, source }, ctx)
 *
 * 1. Each bundle's checkpoint is verified again against its log's key (cheap; it binds the
 *    note to the log), and each shipment log's latest checkpoint is verified against the
 *    log's key: nothing unsigned is ever compared or stored.
 * 2. Per log, ../../tlog/consistency.ts judges them against what the store holds.
 * 3. A split view or a rollback: the evidence (both signed notes, the failing proof) is kept
 *    in the store and printed, nothing else is recorded, and the command fails with
 *    SPLIT_VIEW_DETECTED / CHECKPOINT_ROLLBACK. An invalid proof: CONSISTENCY_PROOF_INVALID,
 *    nothing recorded.
 * 4. Witness policy (per log, at least K of its N witnesses): each bundle checkpoint needs K
 *    distinct witness keys whose cosignatures verify, on the checkpoint itself or on the
 *    shipment's latest checkpoint when a verified proof links the two (a witness that cosigned
 *    the later tree vouched for its prefixes). Else WITNESS_POLICY_UNMET, nothing recorded.
 * 5. --require-consistency: a checkpoint still unproven is CONSISTENCY_UNPROVEN, nothing recorded.
 * 6. Otherwise new checkpoints (proven or unproven) and status changes are written in one
 *    transaction.
 */
import type Database from 'better-sqlite3';
import { fail, StellaError } from '../../errors.js';
import { fromHex, toHex } from '../../util/encoding.js';
import {
  windowContains,
  type TransparencyLogInstance,
  type TrustMaterial,
} from '../../model/trust-material.js';
import { parseSignedNote, verifyCheckpoint } from '../../tlog/note.js';
import { verifyCosignatures, type VerifiedCosignature } from '../../tlog/cosignature.js';
import {
  assessLog,
  entryCheckpointKey,
  keyOf,
  type CheckpointView,
  type EntryCheckpoint,
  type LogAssessment,
  type ShipmentLog,
} from '../../tlog/consistency.js';
import type { ShipmentConsistency } from '../../archive/consistency.js';
import { writeTransaction, type ChangeContext, type TrustStore, type WriteTx } from './db.js';
import {
  heldCheckpointsIn,
  witnessesIn,
  witnessPoliciesIn,
  writeCheckpoints,
  writeSplitView,
  type StoredWitnessPolicy,
  type WitnessWithWindow,
} from './checkpoints.js';
import { findLog } from '../../tlog/verify.js';
import { compareCodeUnits } from '../../util/text.js';

export interface ConsistencyInput {
  trust: TrustMaterial;
  /**
   * The checkpoints of the bundles being accepted (that verified, or that are imported):
   * what the logs showed (../../tlog/consistency.ts entryCheckpointsOf). Each must be signed by
   * its trusted log.
   */
  checkpoints: readonly EntryCheckpoint[];
  /**
   * The checkpoints of the other bundles of the same shipment: what the shipment's proofs
   * start from, so they are judged and recorded too (not reported, and not held to the witness
   * policy or --require-consistency: those are about the bundles being accepted). One whose log
   * is not trusted or whose signature does not verify is left out.
   */
  shipmentCheckpoints?: readonly EntryCheckpoint[] | undefined;
  /** From an archive's consistency.json, when it has one. */
  shipment?: ShipmentConsistency | undefined;
  requireConsistency?: boolean;
  /** Where the checkpoints came from (a file name), recorded with them. */
  source: string;
}

export interface CheckpointReport {
  log: string;
  origin: string;
  treeSize: number;
  rootHash: string;
  status: 'proven' | 'unproven';
  /** Store witnesses whose cosignatures verify on it (or on the shipment checkpoint it is proven to). */
  witnesses: string[];
  /** The log's witness policy, when it has one. */
  policy: { threshold: number; witnesses: string[] } | null;
}

export interface ConsistencyReport {
  store: string;
  checkpoints: CheckpointReport[];
  /** Shipment logs whose latest checkpoint was checked: the store now holds it. */
  latest: { log: string; treeSize: number; status: 'proven' | 'unproven' }[];
  /** Checkpoints newly written or newly proven. */
  recorded: number;
}

interface LogWork {
  log: TransparencyLogInstance;
  observed: CheckpointView[];
  /** Keys of the checkpoints of `bundles` (reported and held to policy). */
  primary: Set<string>;
  shipment: ShipmentLog | undefined;
  latestNote: string | undefined;
}

function observe(input: ConsistencyInput): Map<string, LogWork> {
  const work = new Map<string, LogWork>();
  const at = (log: TransparencyLogInstance): LogWork => {
    const id = toHex(log.logId);
    let w = work.get(id);
    if (!w)
      work.set(
        id,
        (w = { log, observed: [], primary: new Set(), shipment: undefined, latestNote: undefined }),
      );
    return w;
  };
  const seen = new Set<string>();
  const look = (c: EntryCheckpoint, primary: boolean): void => {
    let log;
    let cp;
    try {
      log = findLog({ logId: fromHex(c.logId), logIndex: c.logIndex }, input.trust.tlogs);
      cp = verifyCheckpoint(c.note, [log], { rekor: c.rekor });
    } catch (e) {
      // A bundle being accepted must carry a checkpoint its trusted log signed; another
      // bundle of the shipment that does not is merely not evidence of anything.
      if (primary) throw e;
      return;
    }
    const w = at(log);
    const view = {
      logId: c.logId,
      origin: cp.origin,
      treeSize: cp.treeSize,
      rootHash: toHex(cp.rootHash),
      note: c.note,
    };
    if (!w.observed.some((o) => o.treeSize === view.treeSize && o.rootHash === view.rootHash))
      w.observed.push(view);
    if (primary) w.primary.add(keyOf(view));
  };
  for (const c of input.checkpoints) {
    const k = entryCheckpointKey(c);
    if (seen.has(k)) continue;
    seen.add(k);
    look(c, true);
  }
  for (const c of input.shipmentCheckpoints ?? []) {
    const k = entryCheckpointKey(c);
    if (seen.has(k)) continue;
    seen.add(k);
    look(c, false);
  }
  for (const s of input.shipment?.logs ?? []) {
    const log = input.trust.tlogs.find((l) => toHex(l.logId) === s.logId);
    // A log the receiver does not trust: nothing it signs can be checked, so nothing is used.
    if (!log) continue;
    const cp = verifyCheckpoint(s.checkpoint, [log], { rekor: s.rekor });
    const w = at(log);
    w.latestNote = s.checkpoint;
    w.shipment = {
      latest: {
        logId: s.logId,
        origin: cp.origin,
        treeSize: cp.treeSize,
        rootHash: toHex(cp.rootHash),
        note: s.checkpoint,
      },
      proofs: s.proofs.map((p) => ({
        size1: p.fromSize,
        rootHash1: p.fromRootHash,
        hashes: p.hashes.map((h) => fromHex(h)),
      })),
    };
  }
  return work;
}

/** Evidence, printable and in --json details. */
function evidenceDetails(
  a: Extract<LogAssessment, { ok: false }>,
  log: TransparencyLogInstance,
): Record<string, unknown> {
  const e = a.evidence;
  return {
    log: log.baseUrl,
    ...(e
      ? {
          reason: e.reason,
          held: { treeSize: e.held.treeSize, rootHash: e.held.rootHash, checkpoint: e.held.note },
          presented: {
            treeSize: e.presented.treeSize,
            rootHash: e.presented.rootHash,
            checkpoint: e.presented.note,
          },
          proof: e.proof,
        }
      : {}),
  };
}

export function checkConsistency(
  store: TrustStore,
  input: ConsistencyInput,
  ctx: ChangeContext,
): ConsistencyReport {
  const work = observe(input);
  let alarm: StellaError | undefined;
  const report = writeTransaction(store, ctx, (tx) => {
    const assessed = assessEachLog(tx, work, input.source);
    if (assessed instanceof StellaError) {
      // Kept, and nothing else from this run: the alarm is the only change committed.
      alarm = assessed;
      return undefined;
    }
    const checkpoints = witnessedCheckpoints(tx.db, assessed);
    // Reported by log, then tree size: the same archive or store gives the same report,
    // whatever order the bundles arrived in (archive order follows artifact digests).
    checkpoints.sort(byLogThenTreeSize);
    if (input.requireConsistency) requireAllProven(checkpoints);
    return { store: store.path, checkpoints, ...recordAssessments(tx, assessed, input.source) };
  });
  if (alarm) throw alarm;
  return report!;
}

interface AssessedLog {
  w: LogWork;
  a: Extract<LogAssessment, { ok: true }>;
}

/**
 * Each log's checkpoints judged against what the store holds. A split view or rollback with
 * evidence is written to the store and returned as the alarm to raise once that is committed;
 * any other refusal throws (nothing recorded).
 */
function assessEachLog(
  tx: WriteTx,
  work: ReadonlyMap<string, LogWork>,
  source: string,
): AssessedLog[] | StellaError {
  const results: AssessedLog[] = [];
  for (const [logId, w] of work) {
    const a = assessLog(heldCheckpointsIn(tx.db, logId), w.observed, w.shipment);
    if (!a.ok) {
      const details = evidenceDetails(a, w.log);
      if (a.evidence) {
        writeSplitView(tx, a.code, a.evidence, source);
        return new StellaError(
          a.code,
          'consistency',
          `${a.message}; the evidence (both signed checkpoints) is kept in the trust store (stella trust checkpoints) and nothing was imported`,
          details,
        );
      }
      fail(a.code, 'consistency', a.message, details);
    }
    results.push({ w, a });
  }
  return results;
}

/**
 * The report line of each accepted bundle's checkpoint: its status and the store witnesses
 * that cosigned it, refused (WITNESS_POLICY_UNMET) when its log's witness policy is not met.
 */
function witnessedCheckpoints(
  db: Database.Database,
  assessed: readonly AssessedLog[],
): CheckpointReport[] {
  const witnesses = witnessesIn(db);
  const policies = witnessPoliciesIn(db);
  const checkpoints: CheckpointReport[] = [];
  for (const { w, a } of assessed) {
    const policy = policies.get(toHex(w.log.logId)) ?? null;
    const latestCosigners = w.latestNote
      ? verifyCosignatures(parseSignedNote(w.latestNote), witnesses)
      : [];
    for (const c of w.observed) {
      if (!w.primary.has(keyOf(c))) continue;
      const own = verifyCosignatures(parseSignedNote(c.note), witnesses);
      const linked = a.linked.has(keyOf(c));
      const keys = cosigningKeys([...own, ...(linked ? latestCosigners : [])], witnesses);
      const names = [...new Set(keys.values())].sort();
      if (policy) requireWitnessPolicy(policy, w.log, c, keys, names);
      checkpoints.push({
        log: w.log.baseUrl,
        origin: c.origin,
        treeSize: c.treeSize,
        rootHash: c.rootHash,
        status: a.status.get(keyOf(c))!,
        witnesses: names,
        policy: policy ? { threshold: policy.threshold, witnesses: policy.witnesses } : null,
      });
    }
  }
  return checkpoints;
}

/**
 * The distinct witness keys (fingerprint to witness name) among verified cosignatures, each
 * counted while its witness was valid at the cosignature's own time: --valid-from..--valid-until,
 * both ends inclusive, as every trust window is (windowContains).
 */
export function cosigningKeys(
  cosignatures: readonly VerifiedCosignature[],
  witnesses: readonly WitnessWithWindow[],
): Map<string, string> {
  const valid = cosignatures.filter((v) => {
    const wk = witnesses.find((x) => x.name === v.name)!;
    return windowContains(
      { start: wk.validFrom, end: wk.validUntil ?? undefined },
      v.timestamp * 1000,
    );
  });
  const keys = new Map<string, string>();
  for (const v of valid) if (!keys.has(v.keyFingerprint)) keys.set(v.keyFingerprint, v.name);
  return keys;
}

/** At least the policy's threshold of its witnesses' keys must have cosigned `c`. */
function requireWitnessPolicy(
  policy: StoredWitnessPolicy,
  log: TransparencyLogInstance,
  c: CheckpointView,
  keys: ReadonlyMap<string, string>,
  names: readonly string[],
): void {
  const counted = [...keys.entries()].filter(([, name]) => policy.witnesses.includes(name)).length;
  if (counted >= policy.threshold) return;
  fail(
    'WITNESS_POLICY_UNMET',
    'witness',
    `witness policy of log ${log.baseUrl} not met: checkpoint at tree size ${c.treeSize} is cosigned by ${counted} of the required ${policy.threshold} witnesses (${policy.witnesses.join(', ')})${counted > 0 ? `: ${names.filter((n) => policy.witnesses.includes(n)).join(', ')}` : ''}; nothing was imported`,
    {
      log: log.baseUrl,
      treeSize: c.treeSize,
      threshold: policy.threshold,
      policyWitnesses: policy.witnesses,
      verifiedWitnesses: names,
    },
  );
}

function byLogThenTreeSize(x: CheckpointReport, y: CheckpointReport): number {
  return (
    compareCodeUnits(x.log, y.log) ||
    x.treeSize - y.treeSize ||
    compareCodeUnits(x.rootHash, y.rootHash)
  );
}

/** --require-consistency: a checkpoint still unproven refuses the run (CONSISTENCY_UNPROVEN). */
function requireAllProven(checkpoints: readonly CheckpointReport[]): void {
  const unproven = checkpoints.filter((c) => c.status === 'unproven');
  if (unproven.length === 0) return;
  const u = unproven[0]!;
  fail(
    'CONSISTENCY_UNPROVEN',
    'consistency',
    `checkpoint of log ${u.log} at tree size ${u.treeSize} is not proven consistent with the checkpoints the trust store holds (--require-consistency); verify an export archive made with --include-consistency to prove it; nothing was imported`,
    {
      unproven: unproven.map((x) => ({
        log: x.log,
        treeSize: x.treeSize,
        rootHash: x.rootHash,
      })),
    },
  );
}

/** Write each log's new and changed checkpoints; what was recorded, and each shipment latest. */
function recordAssessments(
  tx: WriteTx,
  assessed: readonly AssessedLog[],
  source: string,
): Pick<ConsistencyReport, 'latest' | 'recorded'> {
  let recorded = 0;
  const latest: ConsistencyReport['latest'] = [];
  for (const { w, a } of assessed) {
    writeCheckpoints(tx, w.log, a.upserts, source);
    recorded += a.upserts.length;
    if (w.shipment) {
      latest.push({
        log: w.log.baseUrl,
        treeSize: w.shipment.latest.treeSize,
        status: a.latestStatus ?? 'unproven',
      });
    }
  }
  return { latest, recorded };
}
