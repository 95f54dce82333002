/**
 * `consistency.json` in an export archive (`export-bundle --include-consistency`): for each log
 * the shipment's bundles were logged in, the log's latest checkpoint (a signed note, with any
 * witness cosignatures) as the connected side fetched it, and a consistency proof (RFC 6962 /
 * 9162) from every checkpoint the bundles carry to it.
 *
 *   { "mediaType": "application/vnd.stella.consistency.v1+json",
 *     "logs": [ { "logId": "<hex>", "baseUrl": "https://…", "rekor": "v1" | "v2",
 *                 "checkpoint": "<signed note>",
 *                 "proofs": [ { "fromSize": 5, "fromRootHash": "<hex>", "hashes": ["<hex>", …] } ] } ] }
 *
 * Nothing in it is trusted by reading: the checkpoint must verify against the log's key in the
 * receiver's trust, and the proofs must verify (../trust/store/consistency.ts).
 */
import {
  jsonRefusal,
  parseJsonStrict,
  readArray,
  readObject,
  readString,
  readUint,
  type JsonReadContext,
} from '../util/json.js';
import { canonicalizeBytes } from '../util/canonical-json.js';
import { CONSISTENCY_FILE_NAME } from './manifest.js';
import { compareCodeUnits } from '../util/text.js';

export const CONSISTENCY_MEDIA_TYPE = 'application/vnd.stella.consistency.v1+json';
export const CONSISTENCY_LIMITS = {
  maxBytes: 16 * 1024 * 1024,
  maxLogs: 64,
  maxProofsPerLog: 10_000,
  maxHashes: 64,
} as const;

export interface ShipmentProof {
  fromSize: number;
  fromRootHash: string;
  hashes: string[];
}

export interface ShipmentLogConsistency {
  logId: string;
  baseUrl: string;
  rekor: 'v1' | 'v2';
  checkpoint: string;
  proofs: ShipmentProof[];
}

export interface ShipmentConsistency {
  logs: ShipmentLogConsistency[];
}

const C: JsonReadContext = {
  code: 'CONSISTENCY_PROOF_INVALID',
  check: 'consistency',
  limitCode: 'ARCHIVE_LIMIT_EXCEEDED',
  prefix: `${CONSISTENCY_FILE_NAME}: `,
};
const HEX64 = /^[0-9a-f]{64}$/;

function hex64(v: unknown, path: string): string {
  const s = readString(v, path, C, { maxLength: 64 });
  if (!HEX64.test(s)) jsonRefusal(C, `${path}: expected 64 lower-case hex digits`);
  return s;
}

export function parseShipmentConsistency(bytes: Uint8Array): ShipmentConsistency {
  const doc = readObject(
    parseJsonStrict(bytes, {
      maxDepth: 8,
      maxBytes: CONSISTENCY_LIMITS.maxBytes,
      what: CONSISTENCY_FILE_NAME,
      code: 'CONSISTENCY_PROOF_INVALID',
      limitCode: 'ARCHIVE_LIMIT_EXCEEDED',
      check: 'consistency',
    }),
    'document',
    C,
    { required: ['mediaType', 'logs'] },
  );
  if (doc.mediaType !== CONSISTENCY_MEDIA_TYPE)
    jsonRefusal(C, `mediaType: expected ${CONSISTENCY_MEDIA_TYPE}`);
  const logs = readArray(doc.logs, 'logs', C, { max: CONSISTENCY_LIMITS.maxLogs }).map((l, i) => {
    const p = `logs[${i}]`;
    const o = readObject(l, p, C, {
      required: ['logId', 'baseUrl', 'rekor', 'checkpoint', 'proofs'],
    });
    const rekorText = readString(o.rekor, `${p}.rekor`, C, { maxLength: 2 });
    const rekor: 'v1' | 'v2' =
      rekorText === 'v1' || rekorText === 'v2'
        ? rekorText
        : jsonRefusal(C, `${p}.rekor: expected "v1" or "v2"`);
    return {
      logId: hex64(o.logId, `${p}.logId`),
      baseUrl: readString(o.baseUrl, `${p}.baseUrl`, C, { nonEmpty: true, maxLength: 2048 }),
      rekor: rekor,
      checkpoint: readString(o.checkpoint, `${p}.checkpoint`, C, {
        nonEmpty: true,
        maxLength: 64 * 1024,
      }),
      proofs: readArray(o.proofs, `${p}.proofs`, C, {
        max: CONSISTENCY_LIMITS.maxProofsPerLog,
      }).map((x, j) => {
        const q = `${p}.proofs[${j}]`;
        const po = readObject(x, q, C, { required: ['fromSize', 'fromRootHash', 'hashes'] });
        return {
          fromSize: readUint(po.fromSize, `${q}.fromSize`, C),
          fromRootHash: hex64(po.fromRootHash, `${q}.fromRootHash`),
          hashes: readArray(po.hashes, `${q}.hashes`, C, { max: CONSISTENCY_LIMITS.maxHashes }).map(
            (h, k) => hex64(h, `${q}.hashes[${k}]`),
          ),
        };
      }),
    };
  });
  const ids = new Set<string>();
  for (const l of logs) {
    if (ids.has(l.logId)) jsonRefusal(C, `logs: log ${l.logId} listed twice`);
    ids.add(l.logId);
  }
  return { logs };
}

/** Canonical JSON (RFC 8785): the same shipment always gives the same bytes. */
export function serializeShipmentConsistency(s: ShipmentConsistency): Uint8Array {
  const logs = [...s.logs].sort((a, b) => compareCodeUnits(a.logId, b.logId));
  return canonicalizeBytes({
    mediaType: CONSISTENCY_MEDIA_TYPE,
    logs: logs.map((l) => ({
      logId: l.logId,
      baseUrl: l.baseUrl,
      rekor: l.rekor,
      checkpoint: l.checkpoint,
      proofs: [...l.proofs]
        .sort((a, b) => a.fromSize - b.fromSize)
        .map((p) => ({ fromSize: p.fromSize, fromRootHash: p.fromRootHash, hashes: p.hashes })),
    })),
  });
}
