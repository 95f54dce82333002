/** Archives: the strict tar reader/writer and export archives of many bundles. */
export { readTarStrict, writeTar, BLOCK, type TarFile, type TarReadLimits, type TarNameRule } from './tar.js';
export { encodeManifest, decodeManifest, EXPORT_FORMAT, EXPORT_FORMAT_VERSION, MANIFEST_NAME, TRUSTED_ROOT_NAME, type ExportManifest, type ExportManifestEntry } from './manifest.js';
export { buildExportArchive, readExportArchive, bundlesForArtifact, artifactDigestsOf, requireProof, EXPORT_LIMITS, EXPORT_NAME_PATTERN, type ExportArchive, type ExportInput, type BuildExportOptions } from './export.js';
