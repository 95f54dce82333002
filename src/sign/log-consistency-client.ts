/**
 * The connected side of `export-bundle --include-consistency`: ask a log for its latest
 * checkpoint and for consistency proofs from the checkpoints a shipment's bundles carry.
 *
 *   Rekor v1   GET <base>/api/v1/log                                   {signedTreeHead, treeSize, rootHash, treeID}
 *              GET <base>/api/v1/log/proof?firstSize=M&lastSize=N      {rootHash, hashes}
 *   Rekor v2   GET <base>/checkpoint                                   C2SP tlog-tiles checkpoint
 *              GET <base>/tile/<L>/<N>[.p/<W>]                         proofs computed from tiles (../tlog/tiles.ts)
 *
 * and, for `--refresh-proofs`, inclusion proofs to the latest checkpoint (fetchInclusionProofs):
 *   Rekor v1   GET <base>/api/v1/log/entries?logIndex=I                {uuid: {verification: {inclusionProof}}}
 *   Rekor v2   inclusion proofs computed from the same tiles
 *
 * Nothing fetched is trusted here: the receiver verifies the checkpoint's signature against
 * its own trust and each proof against two signed checkpoints. A refreshed inclusion proof is
 * also checked before it replaces a bundle's own (checkRefreshedProof). A bundle checkpoint from
 * another Rekor v1 shard (origin differs from the latest's) gets no proof and stays unproven.
 */
import { fail, StellaError } from '../errors.js';
import type { TransparencyLogEntry } from '../bundle/model.js';
import { verifyTlogEntryInclusion } from '../tlog/verify.js';
import { decodeUtf8Text, fromHex, toBase64, toHex, utf8, utf8Decoder } from '../util/encoding.js';
import { parseBundle } from '../bundle/parse.js';
import { rekorVersionOf } from '../tlog/rekor-entry.js';
import type { TransparencyLogInstance } from '../model/trust-material.js';
import { parseCheckpoint, parseSignedNote } from '../tlog/note.js';
import { consistencyProofFromTiles, inclusionProofFromTiles, tilePath } from '../tlog/tiles.js';
import type { ShipmentLogConsistency, ShipmentProof } from '../archive/consistency.js';
import { describeOutcome, requestBytes, requestJson, type RetryPolicy } from './http.js';
import { withoutTrailing } from '../util/text.js';

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
  /** ms since the epoch: when a refreshed checkpoint's log key must be valid (default now). */
  now?: number;
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

/**
 * A Rekor v2 log's `/checkpoint`: a signed note, UTF-8 by its spec (C2SP signed-note). Decoded
 * strictly, as every input: a lenient decoder would read other bytes as U+FFFD, and the note
 * would then be refused for its signature, or its text, not for what it is.
 */
async function getNote(log: LogToQuery, url: string, opts: LogClientOptions): Promise<string> {
  const decoded = decodeUtf8Text(await getBytes(log, url, opts));
  return decoded.ok
    ? decoded.text
    : unavailable(log, `GET ${url}: the checkpoint is not UTF-8 text`);
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
  const base = withoutTrailing(log.baseUrl, '/');
  let note: string;
  if (log.rekor === 'v1') {
    const info = await getJson(log, `${base}/api/v1/log`, opts);
    if (typeof info.signedTreeHead !== 'string')
      unavailable(log, 'GET /api/v1/log: no signedTreeHead');
    note = info.signedTreeHead;
  } else {
    note = await getNote(log, `${base}/checkpoint`, opts);
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

/** One entry's inclusion proof against the log's latest checkpoint. */
export interface RefreshedProof {
  /** The entry's index in the log (Rekor v1: the global index asked by). */
  logIndex: number;
  /** The index the proof is for (Rekor v1: within the entry's shard). */
  proofIndex: number;
  hashes: Uint8Array[];
}

export interface RefreshedLog {
  /** The latest checkpoint (signed note) every proof leads to. */
  checkpoint: string;
  treeSize: number;
  rootHash: Uint8Array;
  proofs: Map<number, RefreshedProof>;
}

const REFRESH_ROUNDS = 3;

/**
 * `export-bundle --refresh-proofs`: the log's latest checkpoint and, for each entry index, an
 * inclusion proof to it, so a whole shipment shares one checkpoint. Rekor v1 answers
 * `GET /api/v1/log/entries?logIndex=` with a proof against its current tree: when the log grew
 * between the checkpoint and a proof (the roots differ), everything is asked again (at most
 * three rounds). Rekor v2: proofs computed from tlog-tiles (../tlog/tiles.ts), each tile
 * fetched once for the whole shipment. Nothing is trusted here: the receiver checks each proof
 * against the signed checkpoint.
 */
export async function fetchInclusionProofs(
  log: LogToQuery,
  logIndexes: readonly number[],
  opts: LogClientOptions = {},
): Promise<RefreshedLog> {
  const base = withoutTrailing(log.baseUrl, '/');
  const indexes = [...new Set(logIndexes)].sort((a, b) => a - b);
  if (log.rekor === 'v2') {
    const note = await getNote(log, `${base}/checkpoint`, opts);
    const cp = parseCheckpoint(parseSignedNote(note).text);
    const tiles = new Map<string, Promise<Uint8Array>>();
    const fetchTile = (level: number, index: number, width: number | undefined) => {
      const path = tilePath({ level, index, width });
      let t = tiles.get(path);
      if (!t) tiles.set(path, (t = getBytes(log, `${base}/${path}`, opts)));
      return t;
    };
    const proofs = new Map<number, RefreshedProof>();
    for (const i of indexes) {
      if (i >= cp.treeSize)
        unavailable(log, `entry ${i} is not in the latest checkpoint (tree size ${cp.treeSize})`);
      const hashes = await inclusionProofFromTiles(i, cp.treeSize, fetchTile);
      proofs.set(i, { logIndex: i, proofIndex: i, hashes });
    }
    return { checkpoint: note, treeSize: cp.treeSize, rootHash: cp.rootHash, proofs };
  }
  let last = '';
  for (let round = 0; round < REFRESH_ROUNDS; round++) {
    const info = await getJson(log, `${base}/api/v1/log`, opts);
    if (typeof info.signedTreeHead !== 'string')
      unavailable(log, 'GET /api/v1/log: no signedTreeHead');
    const note = info.signedTreeHead;
    const cp = parseCheckpoint(parseSignedNote(note).text);
    const proofs = new Map<number, RefreshedProof>();
    let grew = false;
    for (const i of indexes) {
      const answer = await getJson(log, `${base}/api/v1/log/entries?logIndex=${i}`, opts);
      const entry = Object.values(answer)[0] as
        { verification?: { inclusionProof?: Record<string, unknown> } } | undefined;
      const p = entry?.verification?.inclusionProof;
      if (
        !p ||
        typeof p.logIndex !== 'number' ||
        typeof p.treeSize !== 'number' ||
        typeof p.rootHash !== 'string'
      )
        unavailable(log, `GET /api/v1/log/entries?logIndex=${i}: no inclusion proof`);
      const hashes = hexList(log, p.hashes ?? [], `inclusion proof of entry ${i}`);
      if (p.treeSize !== cp.treeSize || p.rootHash !== toHex(cp.rootHash)) {
        grew = true;
        last = `entry ${i}'s proof is for tree size ${p.treeSize}, the checkpoint's is ${cp.treeSize}`;
        break;
      }
      proofs.set(i, { logIndex: i, proofIndex: p.logIndex, hashes: hashes.map(fromHex) });
    }
    if (!grew) return { checkpoint: note, treeSize: cp.treeSize, rootHash: cp.rootHash, proofs };
  }
  return unavailable(
    log,
    `the log kept growing: no proofs to one checkpoint in ${REFRESH_ROUNDS} rounds (${last})`,
  );
}

/**
 * A refreshed proof replaces one that verified, so it is checked as `attest verify` will check
 * it before it does (the checkpoint signed by the log's key in `tlogs`, valid `now`; the proof
 * from this entry's leaf to that checkpoint's root): a log answering wrongly fails the export
 * here, at the boundary, instead of spoiling a good bundle for the receiver.
 */
function checkRefreshedProof(
  entry: TransparencyLogEntry,
  log: RefreshedLog,
  proof: RefreshedProof,
  tlogs: readonly TransparencyLogInstance[],
  now: number,
): void {
  const refreshed: TransparencyLogEntry = {
    ...entry,
    inclusionProof: {
      logIndex: proof.proofIndex,
      treeSize: log.treeSize,
      rootHash: log.rootHash,
      hashes: proof.hashes,
      checkpoint: log.checkpoint,
    },
  };
  try {
    verifyTlogEntryInclusion(refreshed, tlogs, [now]);
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    throw e.reworded(
      `--refresh-proofs: the log's new inclusion proof for entry ${entry.logIndex} does not verify, so nothing was exported: ${e.message}`,
      { ...e.details, logIndex: entry.logIndex },
    );
  }
}

/**
 * `export-bundle --refresh-proofs`: every bundle's inclusion proofs re-fetched against its
 * log's one latest checkpoint (fetchInclusionProofs), each bundle's JSON rewritten with the new
 * `inclusionProof` (index, root, size, hashes, checkpoint); nothing else in it changes (a Rekor
 * v1 SET covers the entry, not the proof). An entry that has no proof yet (a bundle v0.1 with
 * only a signed entry timestamp, cosign's legacy bundle file read as one) gets one, checked the
 * same way. Bundles that do not parse, and logs the trust material does not name, are left as
 * they are; a bundle so left with no proof at all is listed in `unknownLogs`.
 */
export async function refreshShipmentProofs(
  bundles: readonly Uint8Array[],
  tlogs: readonly TransparencyLogInstance[],
  opts: LogClientOptions = {},
): Promise<{
  bundles: Uint8Array[];
  logs: { log: string; treeSize: number; proofs: number }[];
  /**
   * Bundles left with no inclusion proof because their entries' logs are not in `tlogs`: the
   * bundle's index and those logs' IDs (hex). The caller says why they cannot be carried.
   */
  unknownLogs: { bundle: number; logIds: string[] }[];
}> {
  const parsed = bundles.map((b) => {
    try {
      return parseBundle(b);
    } catch {
      return undefined; // refused (and reported) by the archive builder
    }
  });
  const wanted = new Map<string, { log: LogToQuery; indexes: number[] }>();
  for (const b of parsed)
    for (const e of b?.verificationMaterial.tlogEntries ?? []) {
      const logId = toHex(e.logId);
      const log = tlogs.find((l) => toHex(l.logId) === logId);
      if (!log) continue;
      let w = wanted.get(logId);
      if (!w)
        wanted.set(
          logId,
          (w = {
            log: { logId, baseUrl: log.baseUrl, rekor: rekorVersionOf(e.kindVersion) },
            indexes: [],
          }),
        );
      w.indexes.push(e.logIndex);
    }
  const refreshed = new Map<string, RefreshedLog>();
  for (const [logId, w] of [...wanted.entries()].sort())
    refreshed.set(logId, await fetchInclusionProofs(w.log, w.indexes, opts));
  const now = opts.now ?? Date.now();
  const unknownLogs: { bundle: number; logIds: string[] }[] = [];
  const out = bundles.map((bytes, i) => {
    const b = parsed[i];
    if (!b) return bytes;
    // Every log `tlogs` names was refreshed above, so an entry whose log was not is one of a
    // log the trust lacks.
    const entries = b.verificationMaterial.tlogEntries;
    if (
      entries.length > 0 &&
      !entries.some((e) => e.inclusionProof?.checkpoint.length || refreshed.has(toHex(e.logId)))
    )
      unknownLogs.push({ bundle: i, logIds: [...new Set(entries.map((e) => toHex(e.logId)))] });
    const json = JSON.parse(utf8Decoder.decode(bytes)) as {
      verificationMaterial: { tlogEntries: { inclusionProof?: unknown }[] };
    };
    let changed = false;
    for (const [k, e] of b.verificationMaterial.tlogEntries.entries()) {
      const r = refreshed.get(toHex(e.logId));
      const p = r?.proofs.get(e.logIndex);
      if (!r || !p) continue;
      checkRefreshedProof(e, r, p, tlogs, now);
      json.verificationMaterial.tlogEntries[k]!.inclusionProof = {
        logIndex: String(p.proofIndex),
        rootHash: toBase64(r.rootHash),
        treeSize: String(r.treeSize),
        hashes: p.hashes.map(toBase64),
        checkpoint: { envelope: r.checkpoint },
      };
      changed = true;
    }
    return changed ? utf8.encode(JSON.stringify(json, null, 2) + '\n') : bytes;
  });
  return {
    bundles: out,
    logs: [...wanted.entries()].sort().map(([logId, w]) => ({
      log: w.log.baseUrl,
      treeSize: refreshed.get(logId)!.treeSize,
      proofs: refreshed.get(logId)!.proofs.size,
    })),
    unknownLogs,
  };
}
