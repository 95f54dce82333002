/**
 * The referrers index under the fallback tag (src/oci/fallback.ts) against a loopback
 * registry that keeps one tag in memory and can be told to lose a race: conditional pushes,
 * a 412 answered to a lost race, another client's push landing during the settle period, a
 * registry that never stops losing entries, and a registry too slow for the push window.
 */
import test from 'ava';
import type { ServerResponse } from 'node:http';
import { RegistryClient, digestOf, MEDIA_TYPES, type Descriptor } from '../../src/oci/client.js';
import { updateReferrersIndex } from '../../src/oci/fallback.js';
import { parseImageReference, referrersTag } from '../../src/oci/reference.js';
import { StellaError } from '../../src/errors.js';
import { startFakeRegistry } from '../helpers/oci.js';

const SUBJECT = `sha256:${'5'.repeat(64)}`;
const TAG = referrersTag(SUBJECT);
const entry = (n: number): Descriptor => ({
  mediaType: MEDIA_TYPES.ociManifest,
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 100 + n,
  artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
});
const OURS = entry(1);
const THEIRS = entry(2);
const indexOf = (entries: Descriptor[]): Buffer =>
  Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: entries }),
  );
const digestsIn = (index: Buffer | undefined): string[] =>
  index
    ? (JSON.parse(index.toString('utf8')) as { manifests: Descriptor[] }).manifests.map(
        (e) => e.digest,
      )
    : [];

interface Behaviour {
  /** Answer 412 to this many conditional pushes first. */
  conflicts?: number;
  /** After each of our pushes, this long later, the index is replaced by `clobberWith` (another client's push). */
  clobberAfterMs?: number;
  clobberWith?: Descriptor[];
  /** Clobber after every push, not only the first. */
  clobberAlways?: boolean;
  /** Hold every read of the tag this long. */
  readDelayMs?: number;
}

/** A registry holding TAG only, with ETags, honouring If-Match / If-None-Match. */
async function tagRegistry(
  t: import('ava').ExecutionContext,
  b: Behaviour,
  initial?: Descriptor[],
) {
  const state = {
    index: initial ? indexOf(initial) : (undefined as Buffer | undefined),
    version: 0,
    puts: [] as { conditions: Record<string, string>; digests: string[] }[],
    reads: 0,
  };
  let conflicts = b.conflicts ?? 0;
  const etag = () => `"v${state.version}"`;
  const fake = await startFakeRegistry(async (req, res: ServerResponse, url, body) => {
    if (url.pathname !== `/v2/org/app/manifests/${TAG}`) return false;
    if (req.method === 'GET') {
      state.reads++;
      if (b.readDelayMs) await new Promise((r) => setTimeout(r, b.readDelayMs));
      if (!state.index) return false;
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociIndex, ETag: etag() });
      res.end(state.index);
      return true;
    }
    if (req.method !== 'PUT') return false;
    const conditions: Record<string, string> = {};
    for (const h of ['if-match', 'if-none-match'])
      if (typeof req.headers[h] === 'string') conditions[h] = req.headers[h];
    const holds =
      (conditions['if-none-match'] !== '*' || !state.index) &&
      (conditions['if-match'] === undefined || conditions['if-match'] === etag());
    state.puts.push({ conditions, digests: digestsIn(body) });
    if (!holds || (conflicts > 0 && Object.keys(conditions).length > 0)) {
      if (holds) conflicts--;
      res.writeHead(412).end();
      return true;
    }
    state.index = body;
    state.version++;
    if (b.clobberAfterMs !== undefined && (b.clobberAlways || state.puts.length === 1))
      setTimeout(() => {
        state.index = indexOf(b.clobberWith ?? []);
        state.version++;
      }, b.clobberAfterMs);
    res.writeHead(201, { 'Docker-Content-Digest': digestOf(body) }).end();
    return true;
  });
  t.teardown(() => fake.close());
  const client = new RegistryClient(parseImageReference(`${fake.host}/org/app@${SUBJECT}`), {
    allowInsecure: true,
    retries: 0,
  });
  return { state, client };
}

test('no index yet: pushed with If-None-Match: *, then one settle read finds it (two rounds)', async (t) => {
  const { state, client } = await tagRegistry(t, {});
  t.is(await updateReferrersIndex(client, SUBJECT, OURS, { settleMs: 20, windowMs: 5000 }), 2);
  t.deepEqual(state.puts, [{ conditions: { 'if-none-match': '*' }, digests: [OURS.digest] }]);
  t.deepEqual(digestsIn(state.index), [OURS.digest]);
});

test('an index with other entries: ours added after them, pushed If-Match the ETag read; theirs kept', async (t) => {
  const { state, client } = await tagRegistry(t, {}, [THEIRS]);
  t.is(await updateReferrersIndex(client, SUBJECT, OURS, { settleMs: 20, windowMs: 5000 }), 2);
  t.deepEqual(state.puts, [
    { conditions: { 'if-match': '"v0"' }, digests: [THEIRS.digest, OURS.digest] },
  ]);
});

test('ours already in the index: nothing pushed, one round', async (t) => {
  const { state, client } = await tagRegistry(t, {}, [THEIRS, OURS]);
  t.is(await updateReferrersIndex(client, SUBJECT, OURS, { settleMs: 20, windowMs: 5000 }), 1);
  t.deepEqual(state.puts, []);
});

test('a push answered 412 (a race lost at the registry): read again and push again', async (t) => {
  const { state, client } = await tagRegistry(t, { conflicts: 2 }, [THEIRS]);
  t.is(await updateReferrersIndex(client, SUBJECT, OURS, { settleMs: 20, windowMs: 5000 }), 4);
  t.is(state.puts.length, 3);
  t.deepEqual(digestsIn(state.index), [THEIRS.digest, OURS.digest]);
});

test("another client's push landing during the settle period: seen by the settle read and repaired, both kept", async (t) => {
  // Its index was read before ours landed: it has its own entry and not ours. Our settle read
  // comes 300–450 ms after our push; theirs lands 100 ms after it.
  const { state, client } = await tagRegistry(t, { clobberAfterMs: 100, clobberWith: [THEIRS] });
  const rounds = await updateReferrersIndex(client, SUBJECT, OURS, {
    settleMs: 300,
    windowMs: 5000,
  });
  t.is(rounds, 3, 'push, settle read finds ours lost and pushes the union, settle read finds it');
  t.deepEqual(
    state.puts.map((p) => p.digests),
    [[OURS.digest], [THEIRS.digest, OURS.digest]],
  );
  // Long after: still both (no clobber after the repair).
  await new Promise((r) => setTimeout(r, 150));
  t.deepEqual(digestsIn(state.index), [THEIRS.digest, OURS.digest]);
});

test('an entry seen earlier in this run and dropped by a concurrent push is put back with ours', async (t) => {
  // Round 1 reads [THEIRS] and pushes [THEIRS, OURS]. A third client, which had read the index
  // before either, then pushes [OTHER] alone: THEIRS is lost as well as ours. The settle read
  // finds [OTHER]; the repair holds every entry this run saw, not only ours.
  const OTHER = entry(3);
  const { state, client } = await tagRegistry(t, { clobberAfterMs: 100, clobberWith: [OTHER] }, [
    THEIRS,
  ]);
  const rounds = await updateReferrersIndex(client, SUBJECT, OURS, {
    settleMs: 300,
    windowMs: 5000,
  });
  t.is(rounds, 3);
  t.deepEqual(
    state.puts.map((p) => p.digests),
    [
      [THEIRS.digest, OURS.digest],
      [OTHER.digest, THEIRS.digest, OURS.digest],
    ],
  );
  t.deepEqual(digestsIn(state.index), [OTHER.digest, THEIRS.digest, OURS.digest]);
});

test('a registry that loses our entry after every push: REGISTRY_REJECTED after the last round, naming the pushed referrer', async (t) => {
  const { state, client } = await tagRegistry(t, {
    clobberAfterMs: 5,
    clobberWith: [THEIRS],
    clobberAlways: true,
  });
  const e = await t.throwsAsync(
    updateReferrersIndex(client, SUBJECT, OURS, { settleMs: 30, windowMs: 5000, maxRounds: 3 }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'REGISTRY_REJECTED');
  t.regex(e.message, new RegExp(`after 3 rounds; the referrer manifest ${OURS.digest} is pushed`));
  t.is(state.puts.length, 3);
});

test('reads slower than the push window: no push on a stale read; the window doubles until one fits', async (t) => {
  // 60 ms reads against a 10 ms window: the rounds with 10, 20 and 40 ms windows are stale
  // whatever the machine's speed; the one with 80 ms fits unless the machine is very busy.
  const { state, client } = await tagRegistry(t, { readDelayMs: 60 });
  const rounds = await updateReferrersIndex(client, SUBJECT, OURS, { settleMs: 20, windowMs: 10 });
  t.true(rounds >= 5, `at least three stale reads, a push, a settle read (${rounds} rounds)`);
  t.is(state.puts.length, 1, 'one push: none on a stale read');
  t.is(state.reads, rounds);
  t.deepEqual(digestsIn(state.index), [OURS.digest]);
});
