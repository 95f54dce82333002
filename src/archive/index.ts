/** `stella/archive`: export archives (many bundles in one reproducible tar) and their strict reader. */
export {
  buildExportArchive,
  readExportArchive,
  bundlesForArtifact,
  type ExportArchive,
  type ExportInput,
} from './export.js';
export type { ExportManifest, ExportManifestEntry } from './manifest.js';
