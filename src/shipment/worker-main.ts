/**
 * A shipment worker thread's body: its own verifier over the trust material and policy the
 * main thread parsed once and sent (structured clone keeps KeyObjects and bytes; the policy is
 * rebuilt here from its options). Each message is a batch of archived bundles; each answer
 * their verdicts, tagged with the job ids. Two entries run it: ./worker.ts (the modules of
 * dist/src, for the library) and bin/shipment-worker.js (the verify bundle, for the CLI: see
 * pool.ts, verifierWorkerEntry).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyArchivedBundle, type VerdictOptions } from './verdict.js';
import type { TrustMaterial } from '../model/trust-material.js';
import { buildPolicy, type PolicyOptions } from '../verify/policy.js';
import type { WorkerAnswer, WorkerJob } from './pool.js';

export function runShipmentWorker(): void {
  const port = parentPort;
  if (!port) throw new Error('runShipmentWorker: not in a worker thread');
  // Compiled RE2 patterns do not survive a structured clone: each worker builds its own policy
  // from the same options (and the main thread's clock).
  const { trust, policyOptions, verdictOptions } = workerData as {
    trust: TrustMaterial;
    policyOptions: PolicyOptions;
    verdictOptions: VerdictOptions;
  };
  const policy = buildPolicy(policyOptions);

  // One message per batch of jobs, one answer per batch (pool.ts: a message per bundle woke
  // the main thread per bundle). Verified one after the other: the worker is one verifier.
  //
  // The port keeps the thread alive only while it has no batch: while it verifies, only the
  // verification's own work does. So a verification that waits for something nothing will
  // ever deliver empties the thread's event loop and ends it, and the pool reports the stopped
  // thread (pool.ts), where a port kept referenced would leave the whole run waiting for ever.
  let busy = 0;
  port.on('message', (batch: WorkerJob[]) => {
    if (busy++ === 0) port.unref();
    void (async () => {
      const answers: WorkerAnswer[] = [];
      for (const { id, bundle } of batch)
        answers.push({
          id,
          verdict: await verifyArchivedBundle(bundle, trust, policy, verdictOptions),
        });
      port.postMessage(answers);
      if (--busy === 0) port.ref();
    })();
  });
}
