/**
 * Step 1: verified times. Only times vouched for by a signature count: a Rekor v1
 * integratedTime when its signed entry timestamp verifies (GHSA-xgjw-pm74-86q4: an unsigned
 * integratedTime is attacker-controlled), and RFC 3161 timestamps from a trusted TSA over
 * this signature. Every verified time is then checked by the later steps (checklist D28).
 *
 * A timestamp whose signer has nothing to do with any trusted TSA is set aside, its reason
 * pushed to `ignored` (reported as a warning), rather than refused: bundles may carry an extra
 * company TSA's timestamp for other verifiers, as sigstore-go and sigstore-python allow. It
 * never counts as a time. One that names a trusted TSA and fails is refused (fail closed).
 */
import { fail } from '../errors.js';
import { verifySet } from '../tlog/set.js';
import { findLog } from '../tlog/verify.js';
import { checkRfc3161Timestamp } from '../timestamp/rfc3161.js';
import { formatTime, timeAtOrBefore } from '../util/time.js';
import { preciseTime, type VerifyInput, type VerifiedTime } from './context.js';

export function verifyTimes(
  input: VerifyInput,
  signature: Uint8Array,
  ignored: string[] = [],
): VerifiedTime[] {
  const { bundle, trust, policy } = input;
  const times: VerifiedTime[] = [];
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    if (!entry.inclusionPromise) continue;
    const log = findLog(entry, trust.tlogs);
    verifySet(entry, log);
    times.push({ source: 'tlog-set', time: entry.integratedTime * 1000, authority: log.baseUrl });
  }
  bundle.verificationMaterial.rfc3161Timestamps.forEach((token, i) => {
    const r = checkRfc3161Timestamp(token, signature, trust.timestampAuthorities);
    if (r.status === 'unknown-tsa') ignored.push(`RFC 3161 timestamp ${i} ignored: ${r.reason}`);
    else
      times.push({
        source: 'rfc3161',
        time: r.time.ms,
        ...(r.time.subMs ? { subMs: r.time.subMs } : {}),
        authority: r.tsa.uri,
      });
  });
  for (const t of times) {
    if (!timeAtOrBefore(preciseTime(t), policy.now)) {
      fail(
        'TIME_IN_FUTURE',
        'verified-times',
        `verified time ${formatTime(preciseTime(t))} from ${t.authority} is in the future`,
      );
    }
  }
  return times;
}
