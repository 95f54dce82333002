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
 */
import { fail } from '../errors.js';
import { bytesEqual, toHex } from '../util/encoding.js';
import type { TransparencyLogEntry } from '../bundle/model.js';
import type { TransparencyLogInstance } from '../trust/material.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { verifyCheckpoint } from './note.js';
import { formatTime } from '../util/time.js';

export interface InclusionResult {
  log: TransparencyLogInstance;
  treeSize: number;
  rootHash: Uint8Array;
  checkpointOrigin: string;
}

function invalid(message: string, details?: Record<string, unknown>): never {
  return fail('INCLUSION_PROOF_INVALID', 'tlog', message, details);
}

export function findLog(entry: TransparencyLogEntry, tlogs: readonly TransparencyLogInstance[]): TransparencyLogInstance {
  const log = tlogs.find((l) => bytesEqual(l.logId, entry.logId));
  if (!log) fail('TLOG_UNTRUSTED', 'tlog', `tlog entry ${entry.logIndex}: log id ${toHex(entry.logId)} is not a trusted transparency log`);
  return log;
}

/**
 * Verify the entry's inclusion proof and checkpoint. `nowMs`: the log key's validity must
 * have started by then (a key the trust root schedules for the future is not trusted yet).
 */
export function verifyTlogEntryInclusion(entry: TransparencyLogEntry, tlogs: readonly TransparencyLogInstance[], nowMs: number): InclusionResult {
  const log = findLog(entry, tlogs);
  const proof = entry.inclusionProof;
  if (!proof) fail('REKOR_PROOF_MISSING', 'tlog', `Rekor proof missing: tlog entry ${entry.logIndex} has no inclusion proof`);
  if (log.publicKey.validFor.start > nowMs) {
    fail('TLOG_UNTRUSTED', 'tlog', `key of log ${log.baseUrl} is not valid before ${formatTime(log.publicKey.validFor.start)}`);
  }

  // Only the log the entry names may sign its checkpoint.
  const cp = verifyCheckpoint(proof.checkpoint, [log]);
  if (cp.treeSize !== proof.treeSize) {
    invalid(`inclusion proof tree size ${proof.treeSize} does not match the signed checkpoint size ${cp.treeSize}`);
  }
  if (!bytesEqual(cp.rootHash, proof.rootHash)) {
    invalid('inclusion proof root hash does not match the signed checkpoint root hash', { proof: toHex(proof.rootHash), checkpoint: toHex(cp.rootHash) });
  }

  const sharded = cp.origin !== cp.signerName; // "<host> - <tree id>": a Rekor v1 shard
  if (sharded ? proof.logIndex > entry.logIndex : proof.logIndex !== entry.logIndex) {
    invalid(`inclusion proof log index ${proof.logIndex} does not fit entry log index ${entry.logIndex}`);
  }
  verifyInclusion(proof.logIndex, proof.treeSize, leafHash(entry.canonicalizedBody), proof.hashes, cp.rootHash);
  return { log, treeSize: cp.treeSize, rootHash: cp.rootHash, checkpointOrigin: cp.origin };
}
