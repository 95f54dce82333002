/**
 * Stella as a library: `import { verifyBundle, parseBundle, parseTrustedRoot } from 'stella'`.
 * The CLI commands are thin wrappers over these functions.
 */
export { StellaError, EXIT_CODES, isStellaError, type ErrorCode, type CheckName } from './errors.js';
// Parsing and serialization
export { parseBundle } from './bundle/parse.js';
export { serializeBundle } from './bundle/serialize.js';
export { parseInTotoStatement, buildInTotoStatement } from './bundle/intoto.js';
export { preAuthEncoding } from './bundle/dsse.js';
export type * from './bundle/model.js';
export { parseTrustedRoot, serializeTrustedRoot } from './trust/trusted-root.js';
export { publicGoodTrustedRootPath } from './trust/public-good.js';
export type * from './trust/material.js';
// Verification
export { verifyBundle, verifyBundleReport, type VerificationReport, type CheckResult } from './verify/pipeline.js';
export { buildPolicy, type PolicyOptions, type VerificationPolicy } from './verify/policy.js';
export { parseDigestReference, type Artifact } from './verify/artifact.js';
export { runVerify, selectTrust } from './verify/cli.js';
// Primitives
export { parseCertificate, oidcIssuer, type Certificate } from './x509/certificate.js';
export { verifyCertificateChain } from './x509/chain.js';
export { verifyEmbeddedScts } from './x509/sct.js';
export { verifyRfc3161Timestamp, checkRfc3161Timestamp } from './timestamp/rfc3161.js';
export { MerkleTree, rootFromInclusionProof, verifyInclusion, verifyConsistency, leafHash } from './tlog/merkle.js';
export { parseSignedNote, parseCheckpoint, verifyCheckpoint, signCheckpoint } from './tlog/note.js';
export { tilePath, parseTilePath, readTile, splitTile, encodeEntryBundle, decodeEntryBundle, tileAvailableWidth } from './tlog/tiles.js';
// Signing, trust store, sandbox
export { signArtifact } from './sign/sign.js';
export { runSign } from './sign/run.js';
export { parseSigningConfig, loadSigningConfig, selectSigningServices, type SigningConfig, type SelectedServices } from './sign/signing-config.js';
export { openTrustStore, trustMaterialFromStore, checkStaleness, migrateTrustStore } from './trust/store/index.js';
export { startSandbox } from './sandbox/server/index.js';
// Export archives (many bundles in one reproducible tar) and the strict tar reader
export { buildExportArchive, readExportArchive, bundlesForArtifact, type ExportArchive, type ExportInput } from './archive/export.js';
export { runExportBundle, readExportArchiveFile } from './archive/collect.js';
export type { ExportManifest, ExportManifestEntry } from './archive/manifest.js';
