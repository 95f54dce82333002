/**
 * Inclusion of one tlog entry in a trusted log: body -> leaf hash -> inclusion proof -> root
 * hash -> checkpoint signed by that same log. An RFC 6962 proof alone does not bind the tree
 * size (a proof for index 5 of 8 also chains as index 5 of 7), so the proof's size and root
 * must both equal the signed checkpoint's (checklist E35).
 *
 * Rekor v1 logs are sharded: entry.logIndex is global, inclusionProof.logIndex is the index
 * within the shard's tree, and the Merkle computation uses the latter (as sigstore-js and
 * sigstore-go do). Rekor v2 logs are not sharded, so there the two must be equal. A v1 shard
 * is recognised by its checkpoint origin "<host> - <tree id>".
 *
 * Which Rekor wrote the entry (its kind/version) decides how the checkpoint's signer is found
 * (./note.ts): by exact name for Rekor v2, by key hint for Rekor v1, whose names are not bound
 * to keys.
 */
import { fail, type CheckName, type ErrorCode } from '../errors.js';
import { bytesEqual, toHex } from '../util/encoding.js';
import type { TransparencyLogEntry } from '../bundle/model.js';
import { windowContains, type TransparencyLogInstance } from '../model/trust-material.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { verifyCheckpoint } from './note.js';
import { rekorVersionOf } from './rekor-entry.js';
import { formatTime, type TimeValue } from '../util/time.js';
import { clipped } from '../util/text.js';

export interface InclusionResult {
  log: TransparencyLogInstance;
  treeSize: number;
  rootHash: Uint8Array;
  checkpointOrigin: string;
  /** The name on the checkpoint signature line that verified (reported, see ./note.ts). */
  checkpointSigner: string;
  rekor: 'v1' | 'v2';
}

function invalid(message: string, details?: Record<string, unknown>): never {
  return fail('INCLUSION_PROOF_INVALID', 'tlog', message, details);
}

/** The trusted log an entry names by its log id, else TLOG_UNTRUSTED. */
export function findLog(
  entry: Pick<TransparencyLogEntry, 'logId' | 'logIndex'>,
  tlogs: readonly TransparencyLogInstance[],
): TransparencyLogInstance {
  const log = tlogs.find((l) => bytesEqual(l.logId, entry.logId));
  if (!log)
    fail(
      'TLOG_UNTRUSTED',
      'tlog',
      `tlog entry ${entry.logIndex}: log id ${clipped(toHex(entry.logId), 64)} is not a trusted transparency log`,
    );
  return log;
}

/**
 * A log key vouches only inside its validFor (checklist H48). Whatever the time's source — the
 * SET's own integrated time, another log's SET, or an RFC 3161 timestamp (Rekor v2 entries and
 * v1 entries without a SET carry no time of their own) — every verified time must lie inside
 * the window of every log key that signed for the entry: the checkpoint's key and the SET's.
 * A window closed by `stella trust retire` is a validFor.end like any other.
 */
export function requireLogKeyValidAt(
  log: TransparencyLogInstance,
  times: readonly TimeValue[],
  o: { code: ErrorCode; check: CheckName; timeLabel: string; prefix?: string } = {
    code: 'TLOG_UNTRUSTED',
    check: 'tlog',
    timeLabel: 'verified time',
  },
): void {
  // With no time there is nothing to hold the window against: refuse rather than skip.
  if (times.length === 0)
    fail(
      'NO_VERIFIED_TIME',
      'verified-times',
      `no verified time to check the key of log ${log.baseUrl} at`,
    );
  const w = log.publicKey.validFor;
  for (const t of times) {
    if (!windowContains(w, t)) {
      fail(
        o.code,
        o.check,
        `${o.prefix ?? ''}key of log ${log.baseUrl} is not valid at ${o.timeLabel} ${formatTime(t)} (valid ${formatTime(w.start)}..${w.end === undefined ? 'open' : formatTime(w.end)})`,
        {
          log: log.baseUrl,
          time: formatTime(t),
          validFrom: formatTime(w.start),
          validUntil: w.end === undefined ? null : formatTime(w.end),
        },
      );
    }
  }
}

/**
 * Verify the entry's inclusion proof and checkpoint. `verifiedTimes` (ms): the checkpoint's
 * log key must be valid at every one of them (requireLogKeyValidAt).
 */
export function verifyTlogEntryInclusion(
  entry: TransparencyLogEntry,
  tlogs: readonly TransparencyLogInstance[],
  verifiedTimes: readonly TimeValue[],
): InclusionResult {
  const log = findLog(entry, tlogs);
  const proof = entry.inclusionProof;
  if (!proof)
    fail(
      'REKOR_PROOF_MISSING',
      'tlog',
      `Rekor proof missing: tlog entry ${entry.logIndex} has no inclusion proof`,
    );
  requireLogKeyValidAt(log, verifiedTimes);

  // Only the log the entry names may sign its checkpoint.
  const rekor = rekorVersionOf(entry.kindVersion);
  const cp = verifyCheckpoint(proof.checkpoint, [log], { rekor });
  if (cp.treeSize !== proof.treeSize) {
    invalid(
      `inclusion proof tree size ${proof.treeSize} does not match the signed checkpoint size ${cp.treeSize}`,
    );
  }
  if (!bytesEqual(cp.rootHash, proof.rootHash)) {
    invalid('inclusion proof root hash does not match the signed checkpoint root hash', {
      proof: toHex(proof.rootHash),
      checkpoint: toHex(cp.rootHash),
    });
  }

  const sharded = cp.treeId !== undefined; // "<host> - <tree id>": a Rekor v1 shard
  if (sharded ? proof.logIndex > entry.logIndex : proof.logIndex !== entry.logIndex) {
    invalid(
      `inclusion proof log index ${proof.logIndex} does not fit entry log index ${entry.logIndex}`,
    );
  }
  verifyInclusion(
    proof.logIndex,
    proof.treeSize,
    leafHash(entry.canonicalizedBody),
    proof.hashes,
    cp.rootHash,
  );
  return {
    log,
    treeSize: cp.treeSize,
    rootHash: cp.rootHash,
    checkpointOrigin: cp.origin,
    checkpointSigner: cp.signerName,
    rekor,
  };
}
