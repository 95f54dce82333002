/** The trust store library, one import for commands and for `attest verify`. */
export {
  openTrustStore,
  writeTransaction,
  readSnapshot,
  MIGRATIONS,
  type TrustStore,
  type OpenOptions,
  type ChangeContext,
} from './db.js';
export { SCHEMA_VERSION } from './schema.js';
export { resolveStorePath, defaultStorePath } from './paths.js';
/** @deprecated the one formatter is util/time.ts's formatTimeOrNull; kept so this entry point's API does not change. */
export { formatTimeOrNull as isoTime } from '../../util/time.js';
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
export { trustFromStoreIfPresent } from './verify-source.js';
export { parseMaxAgeDays, maxAgeDaysMistake, checkMaxAgeDays } from './max-age.js';
export { addExporters, listExporters, exporterTrustOf, type StoredExporter } from './exporters.js';
