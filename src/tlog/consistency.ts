/**
 * What a log has shown, judged against what it showed before: the pure part of the split-view
 * defence (the trust store keeps the history, ../trust/store/checkpoints.ts; this decides).
 *
 * A log that shows one host a different history than the rest of the world signs, sooner or
 * later, two checkpoints that cannot both be true:
 *  - two checkpoints of the same tree size with different root hashes, or
 *  - a consistency proof (RFC 6962 / 9162, ./merkle.ts verifyConsistency) from a checkpoint the
 *    store holds to a newer one that does not verify.
 * Either is signed evidence of a split view (SPLIT_VIEW_DETECTED). A shipment whose "latest"
 * checkpoint is smaller than one the log already presented as its latest is a rollback
 * (CHECKPOINT_ROLLBACK). A malformed proof, or one that fails between checkpoints the store
 * does not hold, is CONSISTENCY_PROOF_INVALID.
 *
 * Proven: the first checkpoint the store ever sees for a log is its anchor (trust on first
 * use, like a witness's first checkpoint); a checkpoint is proven when it equals a proven one
 * or a verified consistency proof links it with one. Checkpoints linked by proofs to one
 * shipment's latest checkpoint are consistent with each other (all are prefixes of it), so
 * they are proven together as soon as one of them is. A newer checkpoint that nothing links
 * yet is recorded as unproven, and proven later when a shipment's proofs link it.
 */
import { fail, isStellaError } from '../errors.js';
import { fromHex, toHex } from '../util/encoding.js';
import type { Bundle } from '../bundle/model.js';
import { verifyConsistency } from './merkle.js';
import { rekorVersionOf } from './rekor-entry.js';
import { quoted } from '../util/text.js';

/**
 * A checkpoint one bundle's log entry carries, before anything about it is verified: what the
 * consistency step takes in. Plain data (a shipment worker sends it back with its verdict), and
 * small: a run over many bundles keeps one per distinct checkpoint (entryCheckpointKey).
 */
export interface EntryCheckpoint {
  /** Hex log ID the entry names. */
  logId: string;
  logIndex: number;
  rekor: 'v1' | 'v2';
  /** The signed note, exactly as in the bundle. */
  note: string;
}

/** The checkpoints a bundle's entries carry (entries without an inclusion proof carry none). */
export function entryCheckpointsOf(bundle: Bundle): EntryCheckpoint[] {
  const out: EntryCheckpoint[] = [];
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    const note = entry.inclusionProof?.checkpoint;
    if (note === undefined) continue;
    out.push({
      logId: toHex(entry.logId),
      logIndex: entry.logIndex,
      rekor: rekorVersionOf(entry.kindVersion),
      note,
    });
  }
  return out;
}

/** Two entry checkpoints with the same key are the same observation (the log index aside). */
export const entryCheckpointKey = (c: EntryCheckpoint): string =>
  `${c.logId}\n${c.rekor}\n${c.note}`;

export interface CheckpointView {
  /** Hex log ID (the trusted root's logId.keyId). */
  logId: string;
  origin: string;
  treeSize: number;
  /** Hex root hash. */
  rootHash: string;
  /** The signed note as presented (signatures, cosignatures included): the evidence. */
  note: string;
}

export interface HeldCheckpoint extends CheckpointView {
  proven: boolean;
  /** A shipment presented it as the log's latest checkpoint. */
  latest: boolean;
}

export interface ConsistencyProofView {
  /** The older checkpoint's size and root (one of the bundles' checkpoints). */
  size1: number;
  rootHash1: string;
  /** Hashes, lowest level first. */
  hashes: Uint8Array[];
}

/** What a shipment carries for one log: its latest checkpoint and proofs to it. */
export interface ShipmentLog {
  latest: CheckpointView;
  proofs: ConsistencyProofView[];
}

export interface SplitViewEvidence {
  logId: string;
  origin: string;
  reason: string;
  held: CheckpointView;
  presented: CheckpointView;
  /** The failing proof's hashes (hex), when a proof failed. */
  proof: string[] | null;
}

export type LogAssessment =
  | {
      ok: true;
      /** Rows to write: new checkpoints, and held ones whose status or latest flag changes. */
      upserts: HeldCheckpoint[];
      /** Each observed (bundle) checkpoint's status after this assessment, by "size:root". */
      status: Map<string, 'proven' | 'unproven'>;
      /** Checkpoints newly proven consistent (size:root). */
      newlyProven: string[];
      /** Checkpoints linked to the shipment's latest by a verified proof, the latest included. */
      linked: Set<string>;
      /** The shipment's latest checkpoint's status, when there is a shipment. */
      latestStatus: 'proven' | 'unproven' | undefined;
    }
  | {
      ok: false;
      code: 'SPLIT_VIEW_DETECTED' | 'CHECKPOINT_ROLLBACK' | 'CONSISTENCY_PROOF_INVALID';
      message: string;
      evidence: SplitViewEvidence | undefined;
    };

export const keyOf = (c: { treeSize: number; rootHash: string }): string =>
  `${c.treeSize}:${c.rootHash}`;

function describe(c: CheckpointView): string {
  return `tree size ${c.treeSize}, root ${c.rootHash.slice(0, 16)}…`;
}

/** A refusal: the log showed a split view, rolled back, or shipped a proof that is no proof. */
type Refusal = Extract<LogAssessment, { ok: false }>;

const isRefusal = (x: object): x is Refusal => 'ok' in x && x.ok === false;

/**
 * Judge one log's observed checkpoints (bundle checkpoints, already verified against the log's
 * key) and optional shipment (latest checkpoint, verified, and proofs) against what the store
 * holds for that log. Pure: returns what to record or why to refuse.
 */
export function assessLog(
  held: readonly HeldCheckpoint[],
  observed: readonly CheckpointView[],
  shipment: ShipmentLog | undefined,
): LogAssessment {
  const heldByKey = new Map(held.map((h) => [keyOf(h), h]));
  const all = distinctCheckpoints(observed, shipment);
  if (isRefusal(all)) return all;
  const conflict = conflictWithHeld(held, all);
  if (conflict) return conflict;
  const group = shipment
    ? linkedToLatest(held, heldByKey, observed, all, shipment)
    : new Set<string>();
  if (isRefusal(group)) return group;

  const { proven, groupProven } = provenAfter(held, heldByKey, all, group);
  const latestKey = shipment ? keyOf(shipment.latest) : undefined;
  const { upserts, newlyProven } = changesToRecord(
    heldByKey,
    all,
    proven,
    groupProven ? group : new Set(),
    latestKey,
  );
  const status = new Map<string, 'proven' | 'unproven'>();
  for (const c of observed) status.set(keyOf(c), proven.has(keyOf(c)) ? 'proven' : 'unproven');
  return {
    ok: true,
    upserts,
    status,
    newlyProven,
    linked: group,
    latestStatus:
      latestKey === undefined ? undefined : proven.has(latestKey) ? 'proven' : 'unproven',
  };
}

/**
 * The observed checkpoints and the shipment's latest, one per tree size (observed first); two
 * of one size with different roots are a split view.
 */
function distinctCheckpoints(
  observed: readonly CheckpointView[],
  shipment: ShipmentLog | undefined,
): CheckpointView[] | Refusal {
  const all: CheckpointView[] = [];
  const seen = new Map<number, CheckpointView>();
  for (const c of [...observed, ...(shipment ? [shipment.latest] : [])]) {
    const other = seen.get(c.treeSize);
    if (other) {
      if (other.rootHash !== c.rootHash)
        return splitView(
          other,
          c,
          'two checkpoints of the same tree size with different root hashes',
          null,
        );
      continue;
    }
    seen.set(c.treeSize, c);
    all.push(c);
  }
  return all;
}

/** Same size as a held checkpoint, different root: a split view, whatever else is true. */
function conflictWithHeld(
  held: readonly HeldCheckpoint[],
  all: readonly CheckpointView[],
): Refusal | undefined {
  const heldBySize = new Map(held.map((h) => [h.treeSize, h]));
  for (const c of all) {
    const h = heldBySize.get(c.treeSize);
    if (h && h.rootHash !== c.rootHash)
      return splitView(
        h,
        c,
        'the log presents a checkpoint of a size it already signed with a different root hash',
        null,
      );
  }
  return undefined;
}

/**
 * The checkpoints a shipment links to its latest one (the latest and every proof's start),
 * after refusing a rollback, a bundle checkpoint newer than the "latest", and any proof that
 * does not verify.
 */
function linkedToLatest(
  held: readonly HeldCheckpoint[],
  heldByKey: ReadonlyMap<string, HeldCheckpoint>,
  observed: readonly CheckpointView[],
  all: readonly CheckpointView[],
  shipment: ShipmentLog,
): Set<string> | Refusal {
  const latest = shipment.latest;
  const rollback = rollbackOf(held, latest);
  if (rollback) return rollback;
  const group = new Set<string>([keyOf(latest)]);
  for (const c of observed) {
    if (c.treeSize > latest.treeSize) {
      return {
        ok: false,
        code: 'CONSISTENCY_PROOF_INVALID',
        message: `log ${latest.origin}: a bundle's checkpoint (tree size ${c.treeSize}) is newer than the shipment's "latest" checkpoint (tree size ${latest.treeSize})`,
        evidence: undefined,
      };
    }
  }
  for (const p of shipment.proofs) {
    const from = all.find((c) => c.treeSize === p.size1 && c.rootHash === p.rootHash1);
    if (!from)
      return {
        ok: false,
        code: 'CONSISTENCY_PROOF_INVALID',
        message: `log ${latest.origin}: a consistency proof starts at tree size ${p.size1}, which no bundle's checkpoint has`,
        evidence: undefined,
      };
    const refused = checkProof(p, latest, heldByKey.get(keyOf(from)));
    if (refused) return refused;
    group.add(keyOf(from));
  }
  // No other checkpoint of the latest's size can be here: distinctCheckpoints keeps one per
  // size and refuses a second root as a split view.
  return group;
}

/** A shipment whose latest is smaller than a latest the log presented before: a rollback. */
function rollbackOf(held: readonly HeldCheckpoint[], latest: CheckpointView): Refusal | undefined {
  const latestHeld = held
    .filter((h) => h.latest)
    .reduce<HeldCheckpoint | undefined>(
      (a, h) => (!a || h.treeSize > a.treeSize ? h : a),
      undefined,
    );
  if (!latestHeld || latest.treeSize >= latestHeld.treeSize) return undefined;
  return {
    ok: false,
    code: 'CHECKPOINT_ROLLBACK',
    message: `log ${latest.origin} rolled back: the shipment's latest checkpoint has tree size ${latest.treeSize}, but the log already presented tree size ${latestHeld.treeSize} as its latest`,
    evidence: {
      logId: latest.logId,
      origin: latest.origin,
      reason: 'rollback',
      held: latestHeld,
      presented: latest,
      proof: null,
    },
  };
}

/**
 * Verify one consistency proof to the shipment's latest. A proof of the right shape from a held
 * checkpoint that computes other roots is signed evidence of a split view; any other failure
 * only makes the proof invalid.
 */
function checkProof(
  p: ConsistencyProofView,
  latest: CheckpointView,
  fromHeld: HeldCheckpoint | undefined,
): Refusal | undefined {
  try {
    verifyConsistency(
      p.size1,
      latest.treeSize,
      p.hashes,
      fromHexStrict(p.rootHash1),
      fromHexStrict(latest.rootHash),
    );
    return undefined;
  } catch (e) {
    if (!isStellaError(e)) throw e;
    if (fromHeld && /computed (old|new) root hash does not match/.test(e.message)) {
      return splitView(
        fromHeld,
        latest,
        `the consistency proof from the held checkpoint (tree size ${p.size1}) to the log's latest (tree size ${latest.treeSize}) does not verify: ${e.message}`,
        p.hashes.map(toHex),
      );
    }
    return {
      ok: false,
      code: 'CONSISTENCY_PROOF_INVALID',
      message: `log ${latest.origin}: the consistency proof from tree size ${p.size1} to ${latest.treeSize} is invalid: ${e.message}`,
      evidence: undefined,
    };
  }
}

/**
 * Which checkpoints are proven after this assessment: those held as proven; the linked group
 * when it touches a proven one (or nothing is proven yet); else, with nothing proven and
 * nothing linked, the first checkpoint seen (the anchor).
 */
function provenAfter(
  held: readonly HeldCheckpoint[],
  heldByKey: ReadonlyMap<string, HeldCheckpoint>,
  all: readonly CheckpointView[],
  group: ReadonlySet<string>,
): { proven: Set<string>; groupProven: boolean } {
  const anyProvenHeld = held.some((h) => h.proven);
  const groupProven =
    group.size > 0 && (!anyProvenHeld || [...group].some((k) => heldByKey.get(k)?.proven === true));
  const proven = new Set<string>();
  if (groupProven) for (const k of group) proven.add(k);
  for (const h of held) if (h.proven) proven.add(keyOf(h));
  if (!anyProvenHeld && group.size === 0 && all.length > 0) proven.add(keyOf(all[0]!)); // the anchor
  return { proven, groupProven };
}

/**
 * Rows to write: new checkpoints, held ones whose proven or latest flag changes, and held
 * unproven ones a proven group now covers; and which checkpoints became proven.
 */
function changesToRecord(
  heldByKey: ReadonlyMap<string, HeldCheckpoint>,
  all: readonly CheckpointView[],
  proven: ReadonlySet<string>,
  provenGroup: ReadonlySet<string>,
  latestKey: string | undefined,
): { upserts: HeldCheckpoint[]; newlyProven: string[] } {
  const upserts: HeldCheckpoint[] = [];
  const newlyProven: string[] = [];
  for (const c of all) {
    const k = keyOf(c);
    const h = heldByKey.get(k);
    const isProven = proven.has(k);
    const isLatest = k === latestKey || (h?.latest ?? false);
    if (!h) {
      upserts.push({ ...c, proven: isProven, latest: isLatest });
      if (isProven) newlyProven.push(k);
    } else if (h.proven !== isProven || h.latest !== isLatest) {
      upserts.push({ ...h, proven: h.proven || isProven, latest: isLatest });
      if (!h.proven && isProven) newlyProven.push(k);
    }
  }
  for (const k of provenGroup) {
    const h = heldByKey.get(k);
    if (h && !h.proven && !upserts.some((u) => keyOf(u) === k)) {
      upserts.push({ ...h, proven: true });
      newlyProven.push(k);
    }
  }
  return { upserts, newlyProven };
}

function splitView(
  held: CheckpointView,
  presented: CheckpointView,
  reason: string,
  proof: string[] | null,
): Refusal {
  return {
    ok: false,
    code: 'SPLIT_VIEW_DETECTED',
    message: `split view: log ${presented.origin} signed two inconsistent histories (${describe(held)} vs ${describe(presented)}): ${reason}`,
    evidence: { logId: presented.logId, origin: presented.origin, reason, held, presented, proof },
  };
}

function fromHexStrict(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex))
    fail(
      'CONSISTENCY_PROOF_INVALID',
      'consistency',
      `root hash ${quoted(hex, 70)} is not 64 lower-case hex digits`,
    );
  return fromHex(hex);
}
