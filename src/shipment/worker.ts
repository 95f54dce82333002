/**
 * A shipment worker thread: its own verifier over the trust material and policy the main
 * thread parsed once and sent (structured clone keeps KeyObjects and bytes; the policy is
 * rebuilt here from its options). Each
 * message is one archived bundle; each answer its verdict, tagged with the job id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyArchivedBundle, type ArchivedBundle, type VerdictOptions } from './verdict.js';
import type { TrustMaterial } from '../model/trust-material.js';
import { buildPolicy, type PolicyOptions } from '../verify/policy.js';

// Compiled RE2 patterns do not survive a structured clone: each worker builds its own policy
// from the same options (and the main thread's clock).
const { trust, policyOptions, verdictOptions } = workerData as {
  trust: TrustMaterial;
  policyOptions: PolicyOptions;
  verdictOptions: VerdictOptions;
};
const policy = buildPolicy(policyOptions);

parentPort!.on('message', (msg: { id: number; bundle: ArchivedBundle }) => {
  void verifyArchivedBundle(msg.bundle, trust, policy, verdictOptions).then((verdict) =>
    parentPort!.postMessage({ id: msg.id, verdict }),
  );
});
