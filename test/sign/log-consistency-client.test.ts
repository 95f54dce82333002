/**
 * refreshShipmentProofs against the sandbox's Rekor v1, some answers edited by a loopback
 * proxy: bundles of logs the trust does not name are left as they are, a log that answers an
 * entry without its proof is unavailable, and a refreshed proof that does not verify is refused
 * (the CLI's side of that is in test/commands/attest/refresh-proofs.test.ts).
 */
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server/sandbox.js';
import { StellaError } from '../../src/errors.js';
import {
  fetchInclusionProofs,
  fetchLogConsistency,
  refreshShipmentProofs,
} from '../../src/sign/log-consistency-client.js';
import { serve } from '../helpers/loopback.js';
import { toHex } from '../../src/util/encoding.js';
import { checkpointOf } from '../helpers/consistency-kit.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import type { TransparencyLogInstance } from '../../src/model/trust-material.js';
import { consistencyKit, type RekorV1Edits } from '../helpers/consistency-kit.js';

let sandbox: RunningSandbox;
let kit: ReturnType<typeof consistencyKit>;
let tlogs: TransparencyLogInstance[];
test.before(async () => {
  const root = mkdtempSync(join(tmpdir(), 'stella-refresh-client-'));
  sandbox = await startSandbox({ dataDir: join(root, 'sandbox'), port: 0 });
  kit = consistencyKit(sandbox, root);
  tlogs = parseTrustedRoot(readFileSync(sandbox.trustedRootPath)).tlogs;
});
test.after.always(async () => {
  await sandbox?.close();
});

/** The trust with the sandbox's Rekor v1 answered by a proxy that applies `edits`. */
async function proxyRekor(
  t: import('ava').ExecutionContext,
  edits: RekorV1Edits,
): Promise<TransparencyLogInstance[]> {
  const url = await kit.editingRekorV1(t, edits);
  return tlogs.map((l) =>
    l.baseUrl.replace(/\/+$/, '') === kit.rekorV1Url() ? { ...l, baseUrl: url } : l,
  );
}

const bundleBytes = async (n: number): Promise<Uint8Array[]> => {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(new Uint8Array(readFileSync((await kit.sign()).bundle)));
  return out;
};

test('refreshed against the log itself: every bundle at one checkpoint; a bundle of a log the trust does not name, or that does not parse, is left as it is', async (t) => {
  const [a, b] = await bundleBytes(2);
  const notABundle = new TextEncoder().encode('{"not": "a bundle"}');
  const r = await refreshShipmentProofs([a!, b!, notABundle], tlogs);
  t.is(r.logs.length, 1);
  t.is(r.logs[0]!.proofs, 2);
  t.notDeepEqual(r.bundles[0], a, 'the first bundle (an older tree) was refreshed');
  t.is(r.bundles[2], notABundle);
  const proof = (bytes: Uint8Array) =>
    JSON.parse(Buffer.from(bytes).toString('utf8')).verificationMaterial.tlogEntries[0]
      .inclusionProof as { treeSize: string; checkpoint: { envelope: string } };
  t.is(proof(r.bundles[0]!).checkpoint.envelope, proof(r.bundles[1]!).checkpoint.envelope);
  // No log in the trust: nothing to ask, nothing changed.
  const none = await refreshShipmentProofs([a!, b!], []);
  t.deepEqual(none.logs, []);
  t.is(none.bundles[0], a);
  t.is(none.bundles[1], b);
});

test('a log answering an entry without its inclusion proof: REKOR_UNAVAILABLE naming the request', async (t) => {
  const [a] = await bundleBytes(1);
  const proxied = await proxyRekor(t, {
    entry: (e) => {
      delete e.verification?.inclusionProof;
    },
  });
  const e = await t.throwsAsync(refreshShipmentProofs([a!], proxied), { instanceOf: StellaError });
  t.is(e.code, 'REKOR_UNAVAILABLE');
  t.regex(e.message, /GET \/api\/v1\/log\/entries\?logIndex=\d+: no inclusion proof/);
});

test("a refreshed proof for another position, or a checkpoint the log's key did not sign, is refused before any bundle changes", async (t) => {
  const [a] = await bundleBytes(1);
  const shifted = await proxyRekor(t, {
    entry: (e) => {
      const p = e.verification?.inclusionProof as { logIndex: number } | undefined;
      if (p) p.logIndex += 1;
    },
  });
  const e = await t.throwsAsync(refreshShipmentProofs([a!], shifted), { instanceOf: StellaError });
  t.regex(
    e.message,
    /^--refresh-proofs: the log's new inclusion proof for entry \d+ does not verify/,
  );
  const resigned = await proxyRekor(t, {
    log: (info) => {
      // The signature line's last base64 characters changed: the note no longer verifies.
      info.signedTreeHead = info.signedTreeHead.replace(/[A-Za-z0-9+/]{4}(=*)\n$/, 'AAAA$1\n');
    },
  });
  const bad = await t.throwsAsync(refreshShipmentProofs([a!], resigned), {
    instanceOf: StellaError,
  });
  t.regex(
    bad.message,
    /^--refresh-proofs: the log's new inclusion proof for entry \d+ does not verify/,
  );
  t.is(e.code, 'INCLUSION_PROOF_INVALID', e.message);
  t.is(bad.code, 'CHECKPOINT_INVALID', bad.message);
});

test('fetchLogConsistency proves each held checkpoint of an older tree of the same log, once a size; an empty tree, the latest size, or another origin asks nothing', async (t) => {
  const first = checkpointOf((await kit.sign()).bundle);
  const second = checkpointOf((await kit.sign()).bundle);
  const held = (c: typeof first, edit: Partial<{ origin: string; treeSize: number }> = {}) => ({
    origin: c.origin,
    treeSize: c.treeSize,
    rootHash: toHex(c.rootHash),
    ...edit,
  });
  const log = { logId: 'the-log', baseUrl: kit.rekorV1Url(), rekor: 'v1' as const };
  const r = await fetchLogConsistency(log, [
    held(first, { treeSize: 0 }),
    held(first),
    held(first),
    held(first, { origin: 'another.example/log' }),
  ]);
  const latest = r.checkpoint.split('\n')[1];
  t.true(Number(latest) >= second.treeSize, r.checkpoint);
  t.deepEqual(
    r.proofs.map((p) => [p.fromSize, p.fromRootHash]),
    [[first.treeSize, toHex(first.rootHash)]],
  );
  t.true(r.proofs[0]!.hashes.length > 0);
});

test('a consistency proof whose hashes are not 64 lowercase hex digits each is the log unavailable, said as such', async (t) => {
  const first = checkpointOf((await kit.sign()).bundle);
  await kit.sign();
  const held = { origin: first.origin, treeSize: first.treeSize, rootHash: toHex(first.rootHash) };
  for (const hashes of [['zz'], ['AB'.repeat(32)], [7], 'ab'.repeat(32)]) {
    const url = await kit.editingRekorV1(t, {
      proof: (p) => {
        p.hashes = hashes;
      },
    });
    const e = await t.throwsAsync(
      fetchLogConsistency({ logId: 'the-log', baseUrl: url, rekor: 'v1' }, [held]),
      { instanceOf: StellaError },
    );
    t.is(e.code, 'REKOR_UNAVAILABLE', JSON.stringify(hashes));
    t.regex(e.message, /proof \d+ -> \d+: hashes are not a list of 64-hex-digit strings/);
  }
});

test('a log whose answer is JSON but not an object (null, a string, a number, a list) is REKOR_UNAVAILABLE saying so, before any field is read', async (t) => {
  for (const answer of ['null', '"signedTreeHead"', '5', '[]']) {
    const baseUrl = await serve(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });
    const e = await t.throwsAsync(
      fetchInclusionProofs({ logId: 'ab'.repeat(32), baseUrl, rekor: 'v1' }, [0]),
      { instanceOf: StellaError },
    );
    t.is(e.code, 'REKOR_UNAVAILABLE', answer);
    t.regex(e.message, /GET .*\/api\/v1\/log: the answer is not a JSON object/, answer);
  }
});

test("a Rekor v2 log's checkpoint that is not UTF-8 is REKOR_UNAVAILABLE saying so, for proofs and for consistency", async (t) => {
  // A note as a log writes it, with one byte that is no UTF-8 in its origin line.
  const note = Buffer.concat([
    Buffer.from('log.example/'),
    Buffer.from([0xff]),
    Buffer.from('\n5\n' + 'A'.repeat(43) + '=\n\n\u2014 log.example AAAAAAAA\n'),
  ]);
  const baseUrl = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(note);
  });
  const log = { logId: 'ab'.repeat(32), baseUrl, rekor: 'v2' as const };
  const held = { origin: 'log.example/\ufffd', treeSize: 2, rootHash: 'cd'.repeat(32) };
  for (const call of [
    () => fetchInclusionProofs(log, [0]),
    () => fetchLogConsistency(log, [held]),
  ]) {
    const e = await t.throwsAsync(call(), { instanceOf: StellaError });
    t.is(e.code, 'REKOR_UNAVAILABLE');
    t.regex(e.message, /GET .*\/checkpoint: the checkpoint is not UTF-8 text$/);
  }
});

test("an entry at or past a Rekor v2 log's checkpoint is REKOR_UNAVAILABLE naming the tree size, before any tile is asked for", async (t) => {
  const v2 = { logId: 'ab'.repeat(32), baseUrl: sandbox.urls.rekorV2, rekor: 'v2' as const };
  const size = Number(
    (await (await fetch(`${sandbox.urls.rekorV2}/checkpoint`)).text()).split('\n')[1],
  );
  for (const index of [size, size + 1]) {
    const e = await t.throwsAsync(fetchInclusionProofs(v2, [index]), { instanceOf: StellaError });
    t.is(e.code, 'REKOR_UNAVAILABLE', String(index));
    t.regex(
      e.message,
      new RegExp(`entry ${index} is not in the latest checkpoint \\(tree size ${size}\\)$`),
    );
  }
});
