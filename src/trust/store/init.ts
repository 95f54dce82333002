/**
 * `trust init`: create the store and, in one further transaction, optionally load the
 * public-good trusted root and set the rotation keys and threshold.
 */
import { fail } from '../../errors.js';
import { sha256 } from '../../crypto.js';
import { decodeUtf8Text, toHex } from '../../util/encoding.js';
import { readFileBounded } from '../../util/fs.js';
import { sqliteCreationUndo } from '../../util/sqlite-file.js';
import { TRUSTED_ROOT_LIMITS } from '../trusted-root.js';
import { publicGoodTrustedRootPath } from '../public-good.js';
import { openTrustStore, writeTransaction, type ChangeContext, type TrustStore } from './db.js';
import { entryFromRow, type StoreEntry } from './entries.js';
import { planImport } from './importers.js';
import { addCandidates, type SourceFile } from './operations.js';
import {
  activeKeyRows,
  addKeysTx,
  parsePublicKeysPem,
  setThresholdTx,
  thresholdOf,
} from './rotation-keys.js';
import { SCHEMA_VERSION } from './schema.js';

export interface InitOptions {
  withPublicGood?: boolean;
  /** PEM file of rotation public keys. */
  rotationKeys?: SourceFile;
  threshold?: number;
}

export interface InitResult {
  store: string;
  created: boolean;
  schemaVersion: number;
  added: StoreEntry[];
  duplicates: StoreEntry[];
  rotationKeys: { added: string[]; duplicates: string[]; threshold: number };
}

/** The --rotation-keys file's keys: UTF-8 text, strictly (as every key file), then PEM. */
function rotationKeysOf(file: SourceFile): ReturnType<typeof parsePublicKeysPem> {
  const what = `--rotation-keys ${file.path}`;
  const decoded = decodeUtf8Text(file.bytes);
  if (!decoded.ok) fail('ROTATION_KEYS_INVALID', 'rotation', `${what}: ${decoded.problem}`);
  return parsePublicKeysPem(decoded.text, what);
}

export function initStore(path: string, opts: InitOptions, ctx: ChangeContext): InitResult {
  if (opts.threshold !== undefined && !opts.rotationKeys)
    fail('INPUT_INVALID', 'trust-store', '--threshold needs --rotation-keys FILE');
  const keys = opts.rotationKeys ? rotationKeysOf(opts.rotationKeys) : [];
  const pgPath = publicGoodTrustedRootPath();
  const pgBytes = opts.withPublicGood
    ? readFileBounded(pgPath, {
        what: 'embedded public-good trusted root',
        maxBytes: TRUSTED_ROOT_LIMITS.maxBytes,
      })
    : undefined;
  // Planned (parsed, checked) before the store is opened: a bad embedded root creates nothing.
  const publicGood = pgBytes ? { bytes: pgBytes, plan: planImport(pgBytes) } : undefined;
  // A refused init leaves no trace: the store it created is removed again (ROTATION_KEYS_INVALID
  // for a threshold the keys cannot meet is found only inside the transaction).
  const undo = sqliteCreationUndo(path);
  const store: TrustStore = openTrustStore(path, {
    create: true,
    now: ctx.now,
    command: ctx.command,
  });
  let done = false;
  try {
    const r = writeTransaction(store, ctx, (tx) => {
      const imported = publicGood
        ? addCandidates(tx, publicGood.plan.candidates, {
            kind: 'public-good',
            file: pgPath,
            sha256: toHex(sha256(publicGood.bytes)),
          })
        : { added: [], duplicates: [] };
      const k = addKeysTx(tx, keys, opts.rotationKeys?.path ?? 'init');
      if (opts.threshold !== undefined) setThresholdTx(tx, opts.threshold);
      else if (keys.length > 0 && thresholdOf(tx.db) === 0)
        fail(
          'ROTATION_KEYS_INVALID',
          'rotation',
          '--rotation-keys needs --threshold K (how many keys must sign a rotation)',
        );
      return {
        imported,
        k,
        threshold: thresholdOf(tx.db),
        activeKeys: activeKeyRows(tx.db).length,
      };
    });
    done = true;
    return {
      store: path,
      created: store.created,
      schemaVersion: SCHEMA_VERSION,
      added: r.imported.added.map(entryFromRow),
      duplicates: r.imported.duplicates.map(entryFromRow),
      rotationKeys: { added: r.k.added, duplicates: r.k.duplicates, threshold: r.threshold },
    };
  } finally {
    store.close();
    if (!done) undo();
  }
}
