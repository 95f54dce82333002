/**
 * Stella as a library: `import { verifyBundle, parseBundle, parseTrustedRoot } from 'stella'`.
 * The CLI commands are thin wrappers over these functions.
 *
 * This entry point loads only what a verifier needs: no SQLite, no CBOR, no HTTP clients or
 * servers. The rest has entry points of its own, loaded when asked for:
 * `stella/sign` (keyless signing), `stella/trust-store` (the SQLite trust store),
 * `stella/archive` (export archives), `stella/shipment` (verifying and sealing whole archives),
 * `stella/sandbox` (the local signing stack).
 * test/index.test.ts holds this to account.
 */
export {
  StellaError,
  EXIT_CODES,
  isStellaError,
  type ErrorCode,
  type CheckName,
} from './errors.js';
// Parsing and serialization
export { parseBundle } from './bundle/parse.js';
export { serializeBundle } from './bundle/serialize.js';
export { parseInTotoStatement, buildInTotoStatement } from './bundle/intoto.js';
export { preAuthEncoding } from './bundle/dsse.js';
export type * from './bundle/model.js';
export { parseTrustedRoot, serializeTrustedRoot } from './trust/trusted-root.js';
export { publicGoodTrustedRootPath } from './trust/public-good.js';
export type * from './model/trust-material.js';
// Verification
export {
  verifyBundle,
  verifyBundleReport,
  type VerificationReport,
  type CheckResult,
} from './verify/pipeline.js';
export { buildPolicy, type PolicyOptions, type VerificationPolicy } from './verify/policy.js';
export { parseDigestReference, type Artifact } from './verify/artifact.js';
// Primitives
export { parseCertificate, oidcIssuer, type Certificate } from './x509/certificate.js';
export { verifyCertificateChain } from './x509/chain.js';
export { verifyEmbeddedScts } from './x509/sct.js';
export { verifyRfc3161Timestamp, checkRfc3161Timestamp } from './timestamp/rfc3161.js';
export {
  MerkleTree,
  rootFromInclusionProof,
  verifyInclusion,
  verifyConsistency,
  leafHash,
} from './tlog/merkle.js';
export { parseSignedNote, parseCheckpoint, verifyCheckpoint, signCheckpoint } from './tlog/note.js';
export {
  tilePath,
  parseTilePath,
  readTile,
  splitTile,
  encodeEntryBundle,
  decodeEntryBundle,
  tileAvailableWidth,
} from './tlog/tiles.js';
