/**
 * The pure split-view judge (src/tlog/consistency.ts): anchors, unproven newer checkpoints,
 * proofs that prove a group together, same-size forks, failing proofs against held and
 * unheld checkpoints, rollbacks. Trees are real (src/tlog/merkle.ts), so a fork is a fork.
 */
import test from 'ava';
import {
  assessLog,
  entryCheckpointsOf,
  keyOf,
  type CheckpointView,
  type HeldCheckpoint,
} from '../../src/tlog/consistency.js';
import { MerkleTree } from '../../src/tlog/merkle.js';
import { toHex } from '../../src/util/encoding.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseBundle } from '../../src/bundle/parse.js';
import { SAMPLES } from '../helpers/samples.js';

function tree(n: number, tag = 'a'): MerkleTree {
  const t = new MerkleTree();
  for (let i = 0; i < n; i++)
    t.appendData(new TextEncoder().encode(`${i < 5 ? 'shared' : tag} ${i}`));
  return t;
}
const A = tree(20);
const B = tree(20, 'b'); // agrees with A on the first 5 leaves only
const view = (t: MerkleTree, size: number): CheckpointView => ({
  logId: 'aa',
  origin: 'log',
  treeSize: size,
  rootHash: toHex(t.root(size)),
  note: `note ${size}`,
});
const held = (t: MerkleTree, size: number, proven = true, latest = false): HeldCheckpoint => ({
  ...view(t, size),
  proven,
  latest,
});
const proof = (t: MerkleTree, m: number, n: number) => ({
  size1: m,
  rootHash1: toHex(t.root(m)),
  hashes: t.consistencyProof(m, n),
});

test('the first checkpoint of a log is its anchor; a newer one nothing links is unproven', (t) => {
  const a = assessLog([], [view(A, 8)], undefined);
  if (!a.ok) return t.fail(a.message);
  t.deepEqual(
    a.upserts.map((u) => [u.treeSize, u.proven]),
    [[8, true]],
  );
  const b = assessLog([held(A, 8)], [view(A, 10)], undefined);
  if (!b.ok) return t.fail(b.message);
  t.is(b.status.get(keyOf(view(A, 10))), 'unproven');
  t.deepEqual(
    b.upserts.map((u) => [u.treeSize, u.proven]),
    [[10, false]],
  );
  // No checkpoint seen and none held: nothing is recorded, and no anchor is made.
  const none = assessLog([], [], undefined);
  if (!none.ok) return t.fail(none.message);
  t.deepEqual([none.upserts, none.newlyProven], [[], []]);
});

test('a shipment proves its group from a held checkpoint, and upgrades held unproven ones it covers', (t) => {
  const h = [held(A, 8), held(A, 10, false)];
  const a = assessLog(h, [view(A, 8), view(A, 10)], {
    latest: view(A, 16),
    proofs: [proof(A, 8, 16), proof(A, 10, 16)],
  });
  if (!a.ok) return t.fail(a.message);
  t.is(a.status.get(keyOf(view(A, 10))), 'proven');
  t.is(a.latestStatus, 'proven');
  t.deepEqual(a.upserts.map((u) => [u.treeSize, u.proven, u.latest]).sort(), [
    [10, true, false],
    [16, true, true],
  ]);
  t.deepEqual(a.newlyProven.sort(), [keyOf(view(A, 10)), keyOf(view(A, 16))].sort());
});

test('a bundle checkpoint no proof links to the latest stays out of its group, and unproven', (t) => {
  const a = assessLog([held(A, 8)], [view(A, 8), view(A, 12)], {
    latest: view(A, 16),
    proofs: [proof(A, 8, 16)],
  });
  if (!a.ok) return t.fail(a.message);
  t.is(a.latestStatus, 'proven');
  t.deepEqual([...a.linked].sort(), [keyOf(view(A, 16)), keyOf(view(A, 8))].sort());
  t.is(a.status.get(keyOf(view(A, 12))), 'unproven');
  t.deepEqual(a.newlyProven, [keyOf(view(A, 16))]);
});

test("a bundle checkpoint that is the shipment's latest itself (proofs refreshed to it) is in the group; only a larger one is refused as newer", (t) => {
  const a = assessLog([held(A, 8)], [view(A, 8), view(A, 16)], {
    latest: view(A, 16),
    proofs: [proof(A, 8, 16)],
  });
  if (!a.ok) return t.fail(a.message);
  t.is(a.latestStatus, 'proven');
  t.is(a.status.get(keyOf(view(A, 16))), 'proven');
  const newer = assessLog([held(A, 8)], [view(A, 17)], {
    latest: view(A, 16),
    proofs: [proof(A, 8, 16)],
  });
  t.false(newer.ok);
  t.like(newer, { code: 'CONSISTENCY_PROOF_INVALID' });
});

test('a group linked to no proven checkpoint stays unproven', (t) => {
  const a = assessLog([held(A, 3)], [view(A, 8)], {
    latest: view(A, 16),
    proofs: [proof(A, 8, 16)],
  });
  if (!a.ok) return t.fail(a.message);
  t.is(a.latestStatus, 'unproven');
  t.is(a.status.get(keyOf(view(A, 8))), 'unproven');
});

test('same size, other root: a split view against the store and within one shipment', (t) => {
  const a = assessLog([held(A, 8)], [view(B, 8)], undefined);
  t.false(a.ok);
  if (!a.ok) {
    t.is(a.code, 'SPLIT_VIEW_DETECTED');
    t.is(a.evidence!.held.note, 'note 8');
    t.is(a.evidence!.presented.rootHash, toHex(B.root(8)));
  }
  const b = assessLog([], [view(A, 8), view(B, 8)], undefined);
  t.like(b, { ok: false, code: 'SPLIT_VIEW_DETECTED' });
});

test('a proof that fails from a held checkpoint is a split view; from an unheld one, an invalid proof', (t) => {
  // B's proof from 8 to 16 does not lead from A's root at 8.
  const forged = { size1: 8, rootHash1: toHex(A.root(8)), hashes: B.consistencyProof(8, 16) };
  const a = assessLog([held(A, 8)], [view(A, 8)], { latest: view(B, 16), proofs: [forged] });
  t.like(a, { ok: false, code: 'SPLIT_VIEW_DETECTED' });
  if (!a.ok) t.is(a.evidence!.proof!.length, forged.hashes.length);
  const b = assessLog([], [view(A, 8)], { latest: view(B, 16), proofs: [forged] });
  t.like(b, { ok: false, code: 'CONSISTENCY_PROOF_INVALID' });
  const short = { ...proof(A, 8, 16), hashes: A.consistencyProof(8, 16).slice(1) };
  t.like(assessLog([held(A, 8)], [view(A, 8)], { latest: view(A, 16), proofs: [short] }), {
    ok: false,
    code: 'CONSISTENCY_PROOF_INVALID',
  });
});

test('a latest checkpoint older than one the log presented as latest is a rollback', (t) => {
  const a = assessLog([held(A, 16, true, true)], [view(A, 8)], {
    latest: view(A, 12),
    proofs: [proof(A, 8, 12)],
  });
  t.like(a, { ok: false, code: 'CHECKPOINT_ROLLBACK' });
  // An older bundle checkpoint on its own is normal (bundles carry the checkpoint of their time).
  t.true(assessLog([held(A, 16, true, true)], [view(A, 8)], undefined).ok);
  // A bundle newer than the shipment's "latest" makes no sense.
  t.like(assessLog([], [view(A, 14)], { latest: view(A, 12), proofs: [] }), {
    ok: false,
    code: 'CONSISTENCY_PROOF_INVALID',
  });
});

test('a held checkpoint that a shipment presents as latest is recorded as latest, so a later shipment cannot roll back past it', (t) => {
  // 16 was stored proven from a bundle, never as a latest; now a shipment presents it as latest.
  const before = [held(A, 8), held(A, 16)];
  const a = assessLog(before, [view(A, 8)], { latest: view(A, 16), proofs: [proof(A, 8, 16)] });
  if (!a.ok) return t.fail(a.message);
  t.deepEqual(
    a.upserts.map((u) => [u.treeSize, u.proven, u.latest]),
    [[16, true, true]],
  );
  t.deepEqual(a.newlyProven, []);
  // The store after that write: a shipment whose latest is 12 is a rollback.
  const after = before.map((h) => a.upserts.find((u) => keyOf(u) === keyOf(h)) ?? h);
  t.like(assessLog(after, [view(A, 8)], { latest: view(A, 12), proofs: [proof(A, 8, 12)] }), {
    ok: false,
    code: 'CHECKPOINT_ROLLBACK',
  });
});

test('a valid proof from a tree size no bundle or held checkpoint has proves nothing: CONSISTENCY_PROOF_INVALID', (t) => {
  // The proof from A's 12 to 16 verifies, but nothing the shipment or the store holds is at 12.
  const a = assessLog([held(A, 8)], [view(A, 8)], {
    latest: view(A, 16),
    proofs: [proof(A, 12, 16)],
  });
  t.like(a, { ok: false, code: 'CONSISTENCY_PROOF_INVALID' });
  if (!a.ok)
    t.regex(
      a.message,
      /a consistency proof starts at tree size 12, which no bundle's checkpoint has/,
    );
});

test('a held unproven checkpoint seen again in a group that links to no proven checkpoint stays unproven', (t) => {
  // 3 is the proven anchor; 10 was stored unproven and comes back, proven only to 16.
  const a = assessLog([held(A, 3), held(A, 10, false)], [view(A, 10)], {
    latest: view(A, 16),
    proofs: [proof(A, 10, 16)],
  });
  if (!a.ok) return t.fail(a.message);
  t.is(a.latestStatus, 'unproven');
  t.is(a.status.get(keyOf(view(A, 10))), 'unproven');
  t.false(
    a.upserts.some((u) => u.proven && u.treeSize !== 3),
    JSON.stringify(a.upserts.map((u) => [u.treeSize, u.proven])),
  );
  t.deepEqual(a.newlyProven, []);
});

test('entryCheckpointsOf: the checkpoint of each entry with an inclusion proof, none for an entry without', (t) => {
  const text = readFileSync(path.join(SAMPLES, 'blob.sigstore.json'), 'utf8');
  const sample = JSON.parse(text) as {
    mediaType: string;
    verificationMaterial: {
      certificate?: unknown;
      x509CertificateChain?: { certificates: unknown[] };
      tlogEntries: Array<{ inclusionProof?: { checkpoint: { envelope: string } } }>;
    };
  };
  const note = sample.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint.envelope;
  const withProof = entryCheckpointsOf(parseBundle(text));
  t.is(withProof.length, 1);
  t.like(withProof[0], { rekor: 'v1', note });
  t.regex(withProof[0]!.logId, /^[0-9a-f]{64}$/);
  // A v0.1 bundle may carry an entry with a SET and no inclusion proof: it has no checkpoint.
  const vm = sample.verificationMaterial;
  sample.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
  vm.x509CertificateChain = { certificates: [vm.certificate] };
  delete vm.certificate;
  delete vm.tlogEntries[0]!.inclusionProof;
  t.deepEqual(entryCheckpointsOf(parseBundle(JSON.stringify(sample))), []);
});
