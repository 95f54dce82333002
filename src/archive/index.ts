/** `stella/archive`: export archives (many bundles in one reproducible tar) and their strict reader. */
export {
  buildExportArchive,
  prepareExportArchive,
  inputBytes,
  readExportArchive,
  bundlesForArtifact,
  type ExportArchive,
  type ExportArchiveWriter,
  type BuiltExportArchive,
  type ExportInput,
} from './export.js';
export type { ExportManifest, ExportManifestEntry } from './manifest.js';
export {
  bytesSource,
  readPreamble,
  type ArchiveSource,
  type StreamLimits,
} from './export-stream.js';
export { fileSource, type FileSourceOptions } from './file-source.js';
