/**
 * A shipment worker thread: its own verifier over the trust material and policy the main
 * thread parsed once and sent (structured clone keeps KeyObjects, RegExps and bytes). Each
 * message is one archived bundle; each answer its verdict, tagged with the job id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyArchivedBundle, type ArchivedBundle } from './verdict.js';
import type { TrustMaterial } from '../model/trust-material.js';
import type { VerificationPolicy } from '../verify/policy.js';

const { trust, policy } = workerData as { trust: TrustMaterial; policy: VerificationPolicy };

parentPort!.on('message', (msg: { id: number; bundle: ArchivedBundle }) => {
  void verifyArchivedBundle(msg.bundle, trust, policy).then((verdict) => parentPort!.postMessage({ id: msg.id, verdict }));
});
