/**
 * The connected side of `export-bundle --include-consistency`: ask a log for its latest
 * checkpoint and for consistency proofs from the checkpoints a shipment's bundles carry.
 *
 *   Rekor v1   GET <base>/api/v1/log                                   {signedTreeHead, treeSize, rootHash, treeID}
 *              GET <base>/api/v1/log/proof?firstSize=M&lastSize=N      {rootHash, hashes}
 *   Rekor v2   GET <base>/checkpoint                                   C2SP tlog-tiles checkpoint
 *              GET <base>/tile/<L>/<N>[.p/<W>]                         proofs computed from tiles (../tlog/tiles.ts)
 *
 * Nothing fetched is trusted here: the receiver verifies the checkpoint's signature against
 * its own trust and each proof against two signed checkpoints. A bundle checkpoint from
 * another Rekor v1 shard (origin differs from the latest's) gets no proof and stays unproven.
 */
import { fail } from '../errors.js';
import { toHex } from '../util/encoding.js';
import { parseCheckpoint, parseSignedNote } from '../tlog/note.js';
import { consistencyProofFromTiles, tilePath } from '../tlog/tiles.js';
import type { ShipmentLogConsistency, ShipmentProof } from '../archive/consistency.js';
import { describeOutcome, requestBytes, requestJson, type RetryPolicy } from './http.js';

export interface LogToQuery {
  logId: string;
  baseUrl: string;
  rekor: 'v1' | 'v2';
}

export interface CheckpointToProve {
  origin: string;
  treeSize: number;
  rootHash: string;
}

export interface LogClientOptions {
  fetchImpl?: typeof fetch;
  policy?: RetryPolicy;
}

const DEFAULT_POLICY: RetryPolicy = { timeoutMs: 15_000, retries: 2 };
const MAX_GET_BYTES = 1024 * 1024;

function unavailable(log: LogToQuery, message: string): never {
  return fail('REKOR_UNAVAILABLE', 'consistency', `log ${log.baseUrl}: ${message}`);
}

async function getBytes(log: LogToQuery, url: string, opts: LogClientOptions): Promise<Uint8Array> {
  const o = await requestBytes(
    { method: 'GET', url },
    opts.policy ?? DEFAULT_POLICY,
    opts.fetchImpl,
    {
      maxBytes: MAX_GET_BYTES,
      code: 'REKOR_UNAVAILABLE',
      check: 'consistency',
      what: `log ${log.baseUrl}: the answer to GET ${url}`,
    },
  );
  if (o.kind === 'response' && o.status === 200) return o.body;
  return unavailable(
    log,
    `GET ${url} failed: ${o.kind === 'response' ? `HTTP ${o.status}` : describeOutcome(o)}`,
  );
}

async function getJson(
  log: LogToQuery,
  url: string,
  opts: LogClientOptions,
): Promise<Record<string, unknown>> {
  const o = await requestJson(
    { method: 'GET', url },
    opts.policy ?? DEFAULT_POLICY,
    opts.fetchImpl,
  );
  if (o.kind !== 'response' || o.status !== 200)
    unavailable(log, `GET ${url} failed: ${describeOutcome(o)}`);
  if (typeof o.body !== 'object' || o.body === null || Array.isArray(o.body))
    unavailable(log, `GET ${url}: the answer is not a JSON object`);
  return o.body as Record<string, unknown>;
}

function hexList(log: LogToQuery, v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)))
    unavailable(log, `${what}: hashes are not a list of 64-hex-digit strings`);
  return v as string[];
}

/** The log's latest checkpoint and a proof to it from each of `from` (older, same tree). */
export async function fetchLogConsistency(
  log: LogToQuery,
  from: readonly CheckpointToProve[],
  opts: LogClientOptions = {},
): Promise<ShipmentLogConsistency> {
  const base = log.baseUrl.replace(/\/+$/, '');
  let note: string;
  if (log.rekor === 'v1') {
    const info = await getJson(log, `${base}/api/v1/log`, opts);
    if (typeof info.signedTreeHead !== 'string')
      unavailable(log, 'GET /api/v1/log: no signedTreeHead');
    note = info.signedTreeHead;
  } else {
    note = Buffer.from(await getBytes(log, `${base}/checkpoint`, opts)).toString('utf8');
  }
  const latest = parseCheckpoint(parseSignedNote(note).text);
  const proofs: ShipmentProof[] = [];
  const sizes = new Map<number, CheckpointToProve>();
  for (const c of from)
    if (c.origin === latest.origin && c.treeSize > 0 && c.treeSize < latest.treeSize)
      sizes.set(c.treeSize, c);
  for (const c of [...sizes.values()].sort((a, b) => a.treeSize - b.treeSize)) {
    let hashes: string[];
    if (log.rekor === 'v1') {
      const p = await getJson(
        log,
        `${base}/api/v1/log/proof?firstSize=${c.treeSize}&lastSize=${latest.treeSize}`,
        opts,
      );
      hashes = hexList(log, p.hashes ?? [], `proof ${c.treeSize} -> ${latest.treeSize}`);
    } else {
      const proof = await consistencyProofFromTiles(
        c.treeSize,
        latest.treeSize,
        (level, index, width) =>
          getBytes(log, `${base}/${tilePath({ level, index, width })}`, opts),
      );
      hashes = proof.map(toHex);
    }
    proofs.push({ fromSize: c.treeSize, fromRootHash: c.rootHash, hashes });
  }
  return { logId: log.logId, baseUrl: log.baseUrl, rekor: log.rekor, checkpoint: note, proofs };
}
