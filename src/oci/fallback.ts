/**
 * The referrers index under the tag `sha256-<hex>` (distribution spec, "Referrers Tag Schema"),
 * for registries without the referrers API. Several clients may attach to one image at once,
 * and the distribution API has no compare-and-swap on tags, so one client's read–merge–push
 * can overwrite another's. The update is built so that nothing another client added is lost:
 *
 *   1. read the index (404: start empty), remembering its ETag;
 *   2. merge: every entry this run has ever seen in the index, plus ours (a union only grows;
 *      entries are compared by digest, order kept);
 *   3. push it, conditionally (If-Match the ETag read, If-None-Match: * when there was none):
 *      a registry that honours conditions answers 412 to a lost race → back to 1. A push is
 *      made only if it follows its read within `windowMs`; a slower round starts again, with
 *      the window and the settle period doubled (up to 8 s and 16 s) for a slow registry;
 *   4. settle: wait `settleMs` (plus jitter), read again: if anything in the union is missing —
 *      another client's push overwrote ours, or ours overwrote one it read before — merge and
 *      push again (back to 2); otherwise done.
 *
 * Step 4 closes the race between clients that all run it: a client whose push clobbered
 * another's entry made that push within `windowMs` of its read, which was before the other's
 * push landed, so the other client's settle read (`settleMs` > `windowMs` after its push)
 * sees the loss and repairs it. What it cannot cover is a registry that takes longer than
 * `windowMs` to complete a manifest push, or a client that does not settle (README).
 */
import { StellaError } from '../errors.js';
import { MEDIA_TYPES, parseIndex, type Descriptor, type RegistryClient } from './client.js';
import { referrersTag } from './reference.js';
import { utf8 } from '../util/encoding.js';

export interface FallbackOptions {
  /** Wait after a push before checking it stuck (default 1000 ms). */
  settleMs?: number;
  /** Longest read-to-push time of a round (default settleMs / 2). */
  windowMs?: number;
  /** Rounds before giving up (default 10). */
  maxRounds?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serializeIndex(entries: Descriptor[]): Uint8Array {
  return utf8.encode(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: entries }),
  );
}

async function readIndex(
  client: RegistryClient,
  tag: string,
): Promise<{ entries: Descriptor[]; etag: string | undefined; exists: boolean }> {
  const m = await client.getManifest(tag, [MEDIA_TYPES.ociIndex], `referrers index (tag ${tag})`);
  if (!m) return { entries: [], etag: undefined, exists: false };
  return {
    entries: parseIndex(m.bytes, `referrers index (tag ${tag}) from ${client.name}`),
    etag: m.etag,
    exists: true,
  };
}

/** Add `ours` to the referrers index of `subjectDigest`; returns the number of rounds it took. */
export async function updateReferrersIndex(
  client: RegistryClient,
  subjectDigest: string,
  ours: Descriptor,
  opts: FallbackOptions = {},
): Promise<number> {
  const tag = referrersTag(subjectDigest);
  let settleMs = opts.settleMs ?? 1000;
  let windowMs = opts.windowMs ?? Math.max(1, Math.floor(settleMs / 2));
  const maxRounds = opts.maxRounds ?? 10;
  // Every entry seen in the index during this run, and ours: the union the index must hold.
  const union = new Map<string, Descriptor>();
  for (let round = 1; round <= maxRounds; round++) {
    const started = Date.now();
    const current = await readIndex(client, tag);
    for (const e of current.entries) if (!union.has(e.digest)) union.set(e.digest, e);
    if (!union.has(ours.digest)) union.set(ours.digest, ours);
    const present = new Set(current.entries.map((e) => e.digest));
    const missing = [...union.values()].filter((e) => !present.has(e.digest));
    if (missing.length === 0) {
      // Nothing to add: either ours is already there from an earlier run (nothing of this run
      // to lose), or our push stuck through a settle period.
      return round;
    }
    // (From round 2 on, something missing means another client's push overwrote the index.)
    const merged = [...current.entries, ...missing];
    if (Date.now() - started > windowMs) {
      // Our read is stale: read again. A registry this slow gets a longer window and settle
      // (doubled, up to 16 s), so a far-away registry still completes.
      settleMs = Math.min(settleMs * 2, 16_000);
      windowMs = Math.min(windowMs * 2, 8_000);
      continue;
    }
    const conditions: Record<string, string> = current.exists
      ? current.etag
        ? { 'If-Match': current.etag }
        : {}
      : { 'If-None-Match': '*' };
    const put = await client.putManifest(
      tag,
      serializeIndex(merged),
      MEDIA_TYPES.ociIndex,
      `referrers index (tag ${tag})`,
      conditions,
    );
    if (put.conflict) continue;
    await sleep(settleMs + Math.floor(Math.random() * (settleMs / 2)));
  }
  throw new StellaError(
    'REGISTRY_REJECTED',
    'registry',
    `referrers index (tag ${tag}) at ${client.name}: still losing entries to concurrent writers after ${maxRounds} rounds; the referrer manifest ${ours.digest} is pushed, run the attach again`,
  );
}
