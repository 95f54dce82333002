/**
 * `stella/shipment`: verify a whole export archive on the disconnected side (every artifact
 * against one policy, streamed, on worker threads), judge its seal, and seal one on the
 * exporting side with a key. `stella attest verify --archive` and `attest import` are thin
 * over these; the archive itself is opened with `stella/archive`'s fileSource or bytesSource.
 */
export {
  verifyShipment,
  type ShipmentOptions,
  type ShipmentSummary,
  type ArtifactResult,
} from './verify.js';
export {
  readSealedArchive,
  checkSeal,
  describeSeal,
  exportersTrusted,
  type ExporterTrust,
  type SealStatus,
} from './seal.js';
export { keySeal, type KeySeal } from './key-seal.js';
export { defaultJobs, MAX_JOBS } from './pool.js';
export type { BundleVerdict } from './verdict.js';
