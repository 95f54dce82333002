/**
 * Rekor v1 signed entry timestamp (SET, the "inclusion promise"): the log's signature over
 *
 *   canonical JSON {body: base64(canonicalizedBody), integratedTime, logIndex, logID: hex(logId)}
 *
 * It is the only thing that makes integratedTime a trusted time (checklist D26). The payload
 * carries the global logIndex (entry.logIndex), not the shard-local proof index.
 */
import { defaultDigestForKey, verifySignature } from '../crypto.js';
import { fail } from '../errors.js';
import { bytesEqual, toBase64, toHex } from '../util/encoding.js';
import type { TransparencyLogInstance } from '../model/trust-material.js';
import type { TransparencyLogEntry } from '../bundle/model.js';
import { canonicalizeBytes } from '../util/canonical-json.js';
import { requireLogKeyValidAt } from './verify.js';
import { clipped } from '../util/text.js';

export interface SetFields {
  canonicalizedBody: Uint8Array;
  /** Seconds since the epoch. */
  integratedTime: number;
  logIndex: number;
  logId: Uint8Array;
}

/** The exact bytes a Rekor v1 log signs for a SET. */
export function setPayload(f: SetFields): Uint8Array {
  return canonicalizeBytes({
    body: toBase64(f.canonicalizedBody),
    integratedTime: f.integratedTime,
    logIndex: f.logIndex,
    logID: toHex(f.logId),
  });
}

function invalid(message: string): never {
  return fail('SET_INVALID', 'verified-times', message);
}

/**
 * Verify the entry's SET with `log`'s key. The log must be the one the entry names, and its
 * key must be valid at the integrated time. Returns the verified time in ms since the epoch.
 */
export function verifySet(entry: TransparencyLogEntry, log: TransparencyLogInstance): number {
  const set = entry.inclusionPromise?.signedEntryTimestamp;
  if (!set || set.length === 0)
    invalid(`tlog entry ${entry.logIndex} has no signed entry timestamp`);
  if (!bytesEqual(entry.logId, log.logId))
    invalid(
      `tlog entry ${entry.logIndex}: log id ${clipped(toHex(entry.logId), 64)} is not the id of log ${log.baseUrl}`,
    );
  if (!Number.isSafeInteger(entry.integratedTime) || entry.integratedTime <= 0)
    invalid(
      `tlog entry ${entry.logIndex}: integrated time ${entry.integratedTime} is not a positive integer`,
    );
  if (!Number.isSafeInteger(entry.logIndex) || entry.logIndex < 0)
    invalid(`tlog entry log index ${entry.logIndex} is not a non-negative integer`);
  const timeMs = entry.integratedTime * 1000;
  requireLogKeyValidAt(log, [timeMs], {
    code: 'SET_INVALID',
    check: 'verified-times',
    timeLabel: 'integrated time',
    prefix: `tlog entry ${entry.logIndex}: `,
  });
  const key = log.publicKey.key;
  if (!verifySignature(key, setPayload(entry), set, defaultDigestForKey(key))) {
    invalid(
      `tlog entry ${entry.logIndex}: signed entry timestamp does not verify with the key of log ${log.baseUrl}`,
    );
  }
  return timeMs;
}

/** Sign a SET for the local log. `sign` returns the signature over the given bytes. */
export function signSet(f: SetFields, sign: (payload: Uint8Array) => Uint8Array): Uint8Array {
  if (!Number.isSafeInteger(f.integratedTime) || f.integratedTime <= 0)
    fail('INPUT_INVALID', 'tlog', `integrated time ${f.integratedTime} is not a positive integer`);
  if (!Number.isSafeInteger(f.logIndex) || f.logIndex < 0)
    fail('INPUT_INVALID', 'tlog', `log index ${f.logIndex} is not a non-negative integer`);
  return sign(setPayload(f));
}
