/**
 * A shipment worker thread: its own verifier over the trust material and policy the main
 * thread parsed once and sent (structured clone keeps KeyObjects and bytes; the policy is
 * rebuilt here from its options). Each message is a batch of archived bundles; each answer
 * their verdicts, tagged with the job ids.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyArchivedBundle, type VerdictOptions } from './verdict.js';
import type { TrustMaterial } from '../model/trust-material.js';
import { buildPolicy, type PolicyOptions } from '../verify/policy.js';
import type { WorkerAnswer, WorkerJob } from './pool.js';

// Compiled RE2 patterns do not survive a structured clone: each worker builds its own policy
// from the same options (and the main thread's clock).
const { trust, policyOptions, verdictOptions } = workerData as {
  trust: TrustMaterial;
  policyOptions: PolicyOptions;
  verdictOptions: VerdictOptions;
};
const policy = buildPolicy(policyOptions);

// One message per batch of jobs, one answer per batch (pool.ts: a message per bundle woke the
// main thread per bundle). Verified one after the other: the worker is one verifier.
//
// The port keeps the thread alive only while it has no batch: while it verifies, only the
// verification's own work does. So a verification that waits for something nothing will ever
// deliver empties the thread's event loop and ends it, and the pool reports the stopped thread
// (pool.ts), where a port kept referenced would leave the whole run waiting for ever.
let busy = 0;
parentPort!.on('message', (batch: WorkerJob[]) => {
  if (busy++ === 0) parentPort!.unref();
  void (async () => {
    const answers: WorkerAnswer[] = [];
    for (const { id, bundle } of batch)
      answers.push({
        id,
        verdict: await verifyArchivedBundle(bundle, trust, policy, verdictOptions),
      });
    parentPort!.postMessage(answers);
    if (--busy === 0) parentPort!.ref();
  })();
});
