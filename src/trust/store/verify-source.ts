/**
 * The trust store as `stella attest verify`'s trust source (used when --trusted-root is not
 * given): open read-only, load the TrustMaterial from one snapshot, apply the stale-store
 * rule (older than --max-age days, default 90: a warning; --max-age given: an error).
 */
import { existsSync } from 'node:fs';
import type { TrustMaterial } from '../../model/trust-material.js';
import { openTrustStore } from './db.js';
import { checkStaleness, DEFAULT_MAX_AGE_DAYS, trustMaterialFromStore } from './operations.js';
import { resolveStorePath } from './paths.js';
import { listExporters, type StoredExporter } from './exporters.js';
import { parseMaxAgeDays } from './max-age.js';

export interface StoreTrustOptions {
  /** --store */
  storePath?: string;
  /** --max-age, as typed (days). */
  maxAge?: string;
  now?: number;
  env?: NodeJS.ProcessEnv;
}

export interface StoreTrust {
  trust: TrustMaterial;
  /** Who may seal export archives (empty: no seal required). */
  exporters: StoredExporter[];
  source: string;
  warnings: string[];
  /** The store the trust came from (its checkpoints are checked against what the logs show). */
  storePath: string;
}

/**
 * The store's trust, or undefined when no store was asked for and the default one does not
 * exist (the caller then falls back to the embedded public-good root). A store named by
 * --store or STELLA_TRUST_STORE must exist.
 */
export function trustFromStoreIfPresent(opts: StoreTrustOptions): StoreTrust | undefined {
  const env = opts.env ?? process.env;
  const explicitPath = Boolean(opts.storePath || env.STELLA_TRUST_STORE);
  const path = resolveStorePath(opts.storePath, env);
  if (!explicitPath && !existsSync(path)) return undefined;
  const explicitAge = opts.maxAge !== undefined;
  const maxAge = explicitAge ? parseMaxAgeDays(opts.maxAge!) : DEFAULT_MAX_AGE_DAYS;
  const now = opts.now ?? Date.now();
  const store = openTrustStore(path, { readonly: true, now });
  try {
    const staleness = checkStaleness(store, maxAge, explicitAge, now);
    const trust = trustMaterialFromStore(store);
    const exporters = listExporters(store);
    return {
      trust,
      exporters,
      source: `trust store ${path}`,
      warnings: staleness.warning ? [staleness.warning.replace(/^warning: /, '')] : [],
      storePath: path,
    };
  } finally {
    store.close();
  }
}
