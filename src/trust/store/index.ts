/** The trust store library, one import for commands and for `attest verify`. */
export { openTrustStore, writeTransaction, readSnapshot, MIGRATIONS, type TrustStore, type OpenOptions, type ChangeContext } from './db.js';
export { SCHEMA_VERSION } from './schema.js';
export { resolveStorePath, defaultStorePath } from './paths.js';
export { isoTime } from './time.js';
export type { StoreEntry, EntryKind } from './entries.js';
export type { ImportOptions, ImportFormat } from './importers.js';
export {
  importFile,
  listEntries,
  showEntry,
  retireEntry,
  history,
  trustMaterialFromStore,
  loadTrustMaterial,
  exportTrustedRoot,
  storeFreshness,
  checkStaleness,
  DEFAULT_MAX_AGE_DAYS,
  type ImportResult,
  type HistoryItem,
  type StalenessReport,
} from './operations.js';
export { initStore, type InitResult } from './init.js';
export { migrateTrustStore, type MigrationResult } from './migrate.js';
export { addRotationKeys, listRotationKeys, parsePublicKeysPem } from './rotation-keys.js';
export { renderTimeline } from './timeline.js';
export { trustFromStoreIfPresent, parseMaxAgeDays } from './verify-source.js';
