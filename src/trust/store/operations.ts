/**
 * What the trust commands do to the store: import, list, show, retire, history, export and
 * the TrustMaterial the verifier reads. Each write is one `writeTransaction` (one BEGIN
 * IMMEDIATE transaction, history appended, state re-sealed).
 */
import { fail } from '../../errors.js';
import { sha256 } from '../../crypto.js';
import { toHex } from '../../util/encoding.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import { serializeTrustedRoot, TRUSTED_ROOT_MEDIA_TYPE_V02 } from '../trusted-root.js';
import type { JsonValue } from '../../util/canonical-json.js';
import {
  readSnapshot,
  writeTransaction,
  type ChangeContext,
  type TrustStore,
  type WriteTx,
} from './db.js';
import {
  allEntryRows,
  authorityFromRow,
  effectiveEnd,
  effectiveWindow,
  entryFromRow,
  entryRowById,
  entryRowByIdentity,
  insertEntry,
  logFromRow,
  type EntryCandidate,
  type EntryRow,
  type StoreEntry,
} from './entries.js';
import { planImport, type ImportFormat, type ImportOptions } from './importers.js';
import { storedTime } from './time.js';
import { DAY_MS, formatTimeOrNull } from '../../util/time.js';
import { quoted } from '../../util/text.js';
import { checkMaxAgeDays } from './max-age.js';

export interface SourceFile {
  /** Path as given on the command line (recorded in history). */
  path: string;
  bytes: Uint8Array;
}

export interface ImportResult {
  format: ImportFormat;
  source: { file: string; sha256: string };
  added: StoreEntry[];
  duplicates: StoreEntry[];
}

function candidateDetail(c: EntryCandidate): Record<string, JsonValue> {
  return {
    kind: c.kind,
    subject: c.subject,
    fingerprint: c.fingerprint,
    validFrom: formatTimeOrNull(c.validFrom),
    validUntil: formatTimeOrNull(c.validUntil),
  };
}

/** Add candidates not already present (same kind and identity); inside a write transaction. */
export function addCandidates(
  tx: WriteTx,
  candidates: EntryCandidate[],
  source: { kind: string; file: string; sha256: string; rotationVersion?: number | null },
  action = 'add',
): { added: EntryRow[]; duplicates: EntryRow[] } {
  const added: EntryRow[] = [];
  const duplicates: EntryRow[] = [];
  for (const c of candidates) {
    const existing = entryRowByIdentity(tx.db, c.kind, c.identity);
    if (existing) {
      duplicates.push(existing);
      continue;
    }
    const id = insertEntry(
      tx.db,
      c,
      {
        sourceKind: source.kind,
        sourceFile: source.file,
        sourceSha256: source.sha256,
        rotationVersion: source.rotationVersion ?? null,
      },
      tx.now,
    );
    tx.record(action, {
      entryId: id,
      detail: candidateDetail(c),
      sourceFile: source.file,
      sourceSha256: source.sha256,
    });
    added.push(entryRowById(tx.db, id)!);
  }
  return { added, duplicates };
}

/**
 * Import one file. Parsing happens before the transaction; the whole import is one
 * transaction, so a bad file or a crash leaves the store exactly as it was.
 */
export function importFile(
  store: TrustStore,
  file: SourceFile,
  opts: ImportOptions,
  ctx: ChangeContext,
  sourceKind?: string,
): ImportResult {
  const plan = planImport(file.bytes, opts);
  const digest = toHex(sha256(file.bytes));
  const r = writeTransaction(store, ctx, (tx) =>
    addCandidates(tx, plan.candidates, {
      kind: sourceKind ?? plan.format,
      file: file.path,
      sha256: digest,
    }),
  );
  return {
    format: plan.format,
    source: { file: file.path, sha256: digest },
    added: r.added.map(entryFromRow),
    duplicates: r.duplicates.map(entryFromRow),
  };
}

export function listEntries(store: TrustStore): StoreEntry[] {
  return readSnapshot(store, (db) => allEntryRows(db).map(entryFromRow));
}

export function parseEntryId(id: string | number): number {
  const n = typeof id === 'number' ? id : /^[1-9][0-9]{0,15}$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    fail(
      'STORE_ENTRY_NOT_FOUND',
      'trust-store',
      `no trust entry ${quoted(String(id))} (ids are the numbers \`stella trust list\` shows)`,
    );
  return n;
}

export interface EntryDetail extends StoreEntry {
  /** Certificates (CA/TSA), base64 DER, issuing first; or the public key (logs). */
  material: Record<string, unknown>;
  history: HistoryItem[];
}

export function showEntry(store: TrustStore, id: string | number): EntryDetail {
  const n = parseEntryId(id);
  return readSnapshot(store, (db) => {
    const row = entryRowById(db, n);
    if (!row)
      fail('STORE_ENTRY_NOT_FOUND', 'trust-store', `no trust entry ${n} in ${store.path}`, {
        id: n,
      });
    const history = (
      db.prepare('SELECT * FROM history WHERE entry_id = ? ORDER BY id').all(n) as HistoryRow[]
    ).map(historyItem);
    return {
      ...entryFromRow(row),
      material: JSON.parse(row.material) as Record<string, unknown>,
      history,
    };
  });
}

export interface RetireResult {
  entry: StoreEntry;
  previousEnd: string | null;
  changed: boolean;
}

/**
 * Close an entry's window at `at` (inclusive): signatures whose verified time is after it
 * stop verifying against this entry; older ones keep verifying. Retiring again at a later
 * time never re-opens a window: the earliest retirement stands.
 */
export function retireEntry(
  store: TrustStore,
  id: string | number,
  at: number,
  ctx: ChangeContext,
): RetireResult {
  const n = parseEntryId(id);
  return writeTransaction(store, ctx, (tx) => {
    const row = entryRowById(tx.db, n);
    if (!row)
      fail('STORE_ENTRY_NOT_FOUND', 'trust-store', `no trust entry ${n} in ${store.path}`, {
        id: n,
      });
    if (at < row.valid_from) {
      fail(
        'INPUT_INVALID',
        'trust-store',
        `--at ${formatTimeOrNull(at)} is before entry ${n}'s window starts (${formatTimeOrNull(row.valid_from)})`,
      );
    }
    const before = entryFromRow(row);
    // Already over by then (retired, or its own window ended): nothing changes, nothing is recorded.
    const end = effectiveEnd(row);
    if (end !== null && end <= at)
      return { entry: before, previousEnd: before.effectiveUntil, changed: false };
    tx.db.prepare('UPDATE entries SET retired_at = ? WHERE id = ?').run(at, n);
    tx.record('retire', {
      entryId: n,
      detail: {
        kind: row.kind,
        fingerprint: row.fingerprint,
        at: formatTimeOrNull(at),
        previousEnd: before.effectiveUntil,
      },
    });
    return {
      entry: entryFromRow(entryRowById(tx.db, n)!),
      previousEnd: before.effectiveUntil,
      changed: true,
    };
  });
}

interface HistoryRow {
  id: number;
  at: number;
  action: string;
  entry_id: number | null;
  detail: string;
  source_file: string | null;
  source_sha256: string | null;
  command: string;
  hash: string;
}

export interface HistoryItem {
  id: number;
  at: string;
  action: string;
  entryId: number | null;
  detail: Record<string, unknown>;
  sourceFile: string | null;
  sourceSha256: string | null;
  command: string;
  hash: string;
}

function historyItem(r: HistoryRow): HistoryItem {
  return {
    id: r.id,
    at: formatTimeOrNull(storedTime(r.at, `history row ${r.id} at`)),
    action: r.action,
    entryId: r.entry_id,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    sourceFile: r.source_file,
    sourceSha256: r.source_sha256,
    command: r.command,
    hash: r.hash,
  };
}

export function history(store: TrustStore): HistoryItem[] {
  return readSnapshot(store, (db) =>
    (db.prepare('SELECT * FROM history ORDER BY id').all() as HistoryRow[]).map(historyItem),
  );
}

/**
 * Rows -> TrustMaterial (the one trust interface the verifier uses). Entries whose window has
 * ended are kept: the verifier needs them to check old signatures.
 */
export function trustMaterialFromRows(rows: EntryRow[]): TrustMaterial {
  // An entry whose window is empty trusts nothing: it is neither verified against nor
  // exported (a trusted root cannot say "never"; what export writes must import back).
  const keep = rows.filter((r) => effectiveWindow(r) !== undefined);
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE_V02,
    certificateAuthorities: keep.filter((r) => r.kind === 'ca').map(authorityFromRow),
    tlogs: keep.filter((r) => r.kind === 'tlog').map(logFromRow),
    ctlogs: keep.filter((r) => r.kind === 'ctlog').map(logFromRow),
    timestampAuthorities: keep.filter((r) => r.kind === 'tsa').map(authorityFromRow),
  };
}

/** The store's trust as TrustMaterial, read from one snapshot (never mixed across a rotation). */
export function trustMaterialFromStore(store: TrustStore): TrustMaterial {
  return readSnapshot(store, (db) => trustMaterialFromRows(allEntryRows(db)));
}

/** Alias named in the brief: the verifier's entry point. */
export const loadTrustMaterial = trustMaterialFromStore;

/**
 * The store as a v0.2 trusted_root.json (effective windows: retirements are applied; entries
 * that trust nothing are left out). `trust import` of it into any store adds exactly these
 * entries with these windows, so exporting again gives the same bytes.
 */
export function exportTrustedRoot(store: TrustStore): string {
  return serializeTrustedRoot(trustMaterialFromStore(store));
}

const FRESHNESS_ACTIONS = ['create', 'add', 'rotate', 'rotate-add', 'rotate-update'];

/**
 * When the store's trust was last refreshed: the newest import or rotation (ms), or the
 * creation time when nothing was ever imported.
 */
export function storeFreshness(store: TrustStore): number {
  return readSnapshot(store, (db) => {
    const r = db
      .prepare(
        `SELECT max(at) AS at FROM history WHERE action IN (${FRESHNESS_ACTIONS.map(() => '?').join(',')})`,
      )
      .get(...FRESHNESS_ACTIONS) as { at: number | null };
    return r.at === null ? 0 : storedTime(r.at, 'history at');
  });
}

export const DEFAULT_MAX_AGE_DAYS = 90;

export interface StalenessReport {
  stale: boolean;
  lastRefresh: string;
  ageDays: number;
  maxAgeDays: number;
  /** A one-line warning for stderr when stale (and not explicit). */
  warning: string | undefined;
}

/**
 * The stale-store rule for `attest verify`: older than `maxAgeDays` (default 90) warns;
 * when --max-age was given explicitly it is an error (STORE_STALE).
 */
export function checkStaleness(
  store: TrustStore,
  maxAgeDays: number = DEFAULT_MAX_AGE_DAYS,
  explicit = false,
  now: number = Date.now(),
): StalenessReport {
  checkMaxAgeDays(maxAgeDays);
  const last = storeFreshness(store);
  const ageDays = Math.max(0, Math.floor((now - last) / DAY_MS));
  const stale = now - last > maxAgeDays * DAY_MS;
  const message = `trust store ${store.path} is stale: last import or rotation ${formatTimeOrNull(last)} (${ageDays} days ago, more than ${maxAgeDays}); import a fresh trusted root or apply a rotation`;
  if (stale && explicit)
    fail('STORE_STALE', 'trust-store', message, {
      lastRefresh: formatTimeOrNull(last),
      ageDays,
      maxAgeDays,
    });
  return {
    stale,
    lastRefresh: formatTimeOrNull(last),
    ageDays,
    maxAgeDays,
    warning: stale ? `warning: ${message}` : undefined,
  };
}
