/**
 * Step 4: transparency log. Each entry must be bound to THIS bundle (signature, key or
 * certificate, artifact digest: cosign GHSA-ccxc-vr6p-4858) and included in a trusted log:
 * inclusion proof -> root hash -> signed checkpoint. Logs are counted once each toward the
 * threshold (sigstore-go GHSA-9vcr-p3rj-q5q6).
 */
import { fail } from '../errors.js';
import { rekorVersionOf, verifyEntryBinding, type RekorBody } from '../tlog/rekor-entry.js';
import { findLog, requireLogKeyValidAt, verifyTlogEntryInclusion } from '../tlog/verify.js';
import { preciseTime, type VerifyInput, type VerifyState } from './context.js';
import type { HashAlgorithm } from '../bundle/model.js';

/**
 * What an entry declares about the bundle signature (verify/algorithms.ts): a hashedrekord's
 * digest algorithm is the signature's hash (of the artifact, or of the DSSE PAE in Rekor v2);
 * a Rekor v2 verifier names its key and signature algorithm. A dsse/intoto entry's payload
 * hash says nothing about the signature.
 */
function declarations(body: RekorBody): { hash?: HashAlgorithm; keyDetails?: string } {
  if (body.kind === 'hashedrekord')
    return {
      hash: body.digest.algorithm,
      ...(body.signature.keyDetails ? { keyDetails: body.signature.keyDetails } : {}),
    };
  if (body.kind === 'dsse' && body.signatures[0]?.keyDetails)
    return { keyDetails: body.signatures[0].keyDetails };
  return {};
}

export function verifyTlogStep(
  input: VerifyInput,
  state: VerifyState,
  artifactDigest: ((algorithm: HashAlgorithm) => Uint8Array | undefined) | undefined,
): NonNullable<VerifyState['tlog']> {
  const { bundle, trust, policy } = input;
  const entries = bundle.verificationMaterial.tlogEntries;
  if (entries.length === 0) {
    if (policy.requireTlog)
      fail(
        'REKOR_PROOF_MISSING',
        'tlog',
        'Rekor proof missing: the bundle has no transparency log entry (--require-rekor)',
      );
    return [];
  }
  const key = state.signingKey!;
  const expect =
    key.kind === 'certificate'
      ? { certificateDer: key.leaf.der, ...(artifactDigest ? { artifactDigest } : {}) }
      : { publicKeySpki: key.spki, ...(artifactDigest ? { artifactDigest } : {}) };
  // Every verified time, whichever authority gave it (checklist H48: a TSA time too).
  const times = state.verifiedTimes!.map(preciseTime);
  const results: NonNullable<VerifyState['tlog']> = [];
  for (const entry of entries) {
    const declared = declarations(verifyEntryBinding(entry, bundle, expect));
    const kind = `${entry.kindVersion.kind}/${entry.kindVersion.version}`;
    if (entry.inclusionProof) {
      const r = verifyTlogEntryInclusion(entry, trust.tlogs, times);
      results.push({
        log: r.log,
        logIndex: entry.logIndex,
        treeSize: r.treeSize,
        kind,
        rekor: r.rekor,
        checkpoint: { signer: r.checkpointSigner, origin: r.checkpointOrigin },
        declared,
      });
    } else if (bundle.version === '0.1' && entry.inclusionPromise) {
      // v0.1 bundles predate inclusion proofs: the SET (verified in step 1) is the promise.
      const log = findLog(entry, trust.tlogs);
      requireLogKeyValidAt(log, times);
      results.push({
        log,
        logIndex: entry.logIndex,
        treeSize: undefined,
        kind,
        rekor: rekorVersionOf(entry.kindVersion),
        checkpoint: undefined,
        declared,
      });
    } else {
      fail(
        'REKOR_PROOF_MISSING',
        'tlog',
        `Rekor proof missing: tlog entry ${entry.logIndex} has no inclusion proof`,
      );
    }
  }
  const distinctLogs = new Set(results.map((r) => r.log));
  if (distinctLogs.size < policy.tlogThreshold) {
    fail(
      'REKOR_PROOF_MISSING',
      'tlog',
      `Rekor proof missing: ${distinctLogs.size} distinct log(s) include the entry, ${policy.tlogThreshold} required`,
    );
  }
  return results;
}
