/**
 * Exporters: who may seal an export archive (`manifest.sigstore.json`). Kept in the store's
 * `meta` table under `exporters` (one JSON list), so they are covered by the store's tamper
 * evidence (the state digest of every history row) without a schema change. Each is a public
 * key (`trust keys add FILE --role exporter`) or, for keyless seals, an exact certificate
 * identity and OIDC issuer (`trust keys add --role exporter --identity ID --issuer URL`).
 * When a store has exporters, `verify --archive` requires a seal from one of them.
 */
import type Database from 'better-sqlite3';
import type { KeyObject } from 'node:crypto';
import { fail } from '../../errors.js';
import { parsePublicKey, spkiKeyId, spkiOf } from '../../crypto.js';
import { decodeBase64, toBase64 } from '../../util/encoding.js';
import { isPlainObject, parseJsonStrict } from '../../util/json.js';
import { readSnapshot, writeTransaction, type ChangeContext, type TrustStore } from './db.js';
import { getMeta, setMeta } from './integrity.js';
import { keyDetailsOf } from './keys.js';

export type StoredExporter =
  | { kind: 'key'; keyId: string; spki: string; keyDetails: string; source: string }
  | { kind: 'identity'; identity: string; issuer: string; source: string };

export function readExporters(db: Database.Database): StoredExporter[] {
  const v = getMeta(db, 'exporters');
  if (v === undefined) return [];
  const list = parseJsonStrict(v, {
    what: 'trust store exporters',
    maxDepth: 4,
    code: 'STORE_CORRUPT',
    limitCode: 'STORE_CORRUPT',
    check: 'trust-store',
    maxBytes: 16 * 1024 * 1024,
  });
  if (!Array.isArray(list))
    fail('STORE_CORRUPT', 'trust-store', 'trust store exporters: expected a list');
  list.forEach((item, i) => {
    if (!isStoredExporter(item))
      fail(
        'STORE_CORRUPT',
        'trust-store',
        `trust store exporters: item ${i + 1} is not an exporter key or identity`,
      );
  });
  return list as StoredExporter[];
}

/** The fields each kind must have as non-empty strings (and a string `source`). */
const STRING_FIELDS = {
  key: ['keyId', 'spki', 'keyDetails'],
  identity: ['identity', 'issuer'],
} as const;

/**
 * What addExporters writes, field by field. Read loosely, an item of another kind was skipped
 * without a word, and one missing a field crashed the seal check with a TypeError.
 */
function isStoredExporter(item: unknown): item is StoredExporter {
  if (!isPlainObject(item)) return false;
  const kind = item['kind'];
  if (kind !== 'key' && kind !== 'identity') return false;
  return (
    typeof item['source'] === 'string' &&
    STRING_FIELDS[kind].every((f) => typeof item[f] === 'string' && item[f] !== '')
  );
}

/** The exporters as the seal check takes them (keys parsed). */
export function exporterTrustOf(list: StoredExporter[]): {
  keys: { keyId: string; key: KeyObject }[];
  identities: { identity: string; issuer: string }[];
} {
  return {
    keys: list.flatMap((e) =>
      e.kind === 'key'
        ? [
            {
              keyId: e.keyId,
              key: parsePublicKey(
                decodeBase64(e.spki, 'exporter key', 'trust-store', 'STORE_CORRUPT'),
                `exporter key ${e.keyId}`,
                'STORE_CORRUPT',
                'trust-store',
              ),
            },
          ]
        : [],
    ),
    identities: list.flatMap((e) =>
      e.kind === 'identity' ? [{ identity: e.identity, issuer: e.issuer }] : [],
    ),
  };
}

export interface ExportersAddResult {
  added: string[];
  duplicates: string[];
}

/** Add exporter keys and/or one keyless identity, in one transaction; the same key or identity twice is a duplicate. */
export function addExporters(
  store: TrustStore,
  keys: KeyObject[],
  identity: { identity: string; issuer: string } | undefined,
  source: string,
  ctx: ChangeContext,
): ExportersAddResult {
  return writeTransaction(store, ctx, (tx) => {
    const list = readExporters(tx.db);
    const added: string[] = [];
    const duplicates: string[] = [];
    for (const k of keys) {
      if (k.asymmetricKeyType !== 'ec')
        fail(
          'INPUT_INVALID',
          'trust-store',
          `${source}: exporter keys must be ECDSA (P-256, P-384 or P-521)`,
        );
      const spki = spkiOf(k);
      const keyId = spkiKeyId(spki);
      if (list.some((e) => e.kind === 'key' && e.keyId === keyId)) {
        duplicates.push(keyId);
        continue;
      }
      list.push({ kind: 'key', keyId, spki: toBase64(spki), keyDetails: keyDetailsOf(k), source });
      tx.record('exporter-add', { detail: { keyId, source } });
      added.push(keyId);
    }
    if (identity) {
      const label = `${identity.identity} (${identity.issuer})`;
      if (
        list.some(
          (e) =>
            e.kind === 'identity' &&
            e.identity === identity.identity &&
            e.issuer === identity.issuer,
        )
      )
        duplicates.push(label);
      else {
        list.push({ kind: 'identity', ...identity, source });
        tx.record('exporter-add', {
          detail: { identity: identity.identity, issuer: identity.issuer },
        });
        added.push(label);
      }
    }
    setMeta(tx.db, 'exporters', JSON.stringify(list));
    return { added, duplicates };
  });
}

export function listExporters(store: TrustStore): StoredExporter[] {
  return readSnapshot(store, readExporters);
}
