/**
 * A shipment worker thread: its own verifier over the trust material and policy the main
 * thread parsed once and sent (structured clone keeps KeyObjects and bytes; the identity matchers travel as patterns and are compiled here). Each
 * message is one archived bundle; each answer its verdict, tagged with the job id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyArchivedBundle, type ArchivedBundle } from './verdict.js';
import type { TrustMaterial } from '../model/trust-material.js';
import { revivePolicy, type VerificationPolicy } from '../verify/policy.js';

const { trust, policy: sent } = workerData as { trust: TrustMaterial; policy: VerificationPolicy };
// Matchers are functions: they arrive as patterns and are compiled here.
const policy = revivePolicy(sent);

parentPort!.on('message', (msg: { id: number; bundle: ArchivedBundle }) => {
  void verifyArchivedBundle(msg.bundle, trust, policy).then((verdict) => parentPort!.postMessage({ id: msg.id, verdict }));
});
