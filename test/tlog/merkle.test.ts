import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  EMPTY_ROOT,
  MerkleTree,
  buildInclusionProof,
  inclusionProofLength,
  leafHash,
  nodeHash,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../src/tlog/merkle.js';
import { StellaError } from '../../src/errors.js';
import { fromHex, toHex } from '../../src/util/encoding.js';
import { PROJECT_ROOT } from '../helpers/paths.js';

interface Vectors {
  leavesHex: string[];
  rootsBySize: Record<string, string>;
  inclusion: { index: number; size: number; proof: string[] }[];
  consistency: { size1: number; size2: number; proof: string[] }[];
}

const V = JSON.parse(
  readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'tlog', 'rfc6962-vectors.json'), 'utf8'),
) as Vectors;
const leaves = V.leavesHex.map(fromHex);
const root = (n: number): Uint8Array => fromHex(V.rootsBySize[String(n)]!);

function tree(n: number): MerkleTree {
  const t = new MerkleTree();
  for (let i = 0; i < n; i++) t.appendData(new TextEncoder().encode(`leaf ${i}`));
  return t;
}

function refuses(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  message?: string | RegExp,
): void {
  const err = t.throws(fn, { instanceOf: StellaError });
  t.is(err?.code, 'INCLUSION_PROOF_INVALID');
  t.is(err?.check, 'tlog');
  if (typeof message === 'string') t.is(err?.message, message);
  else if (message) t.regex(err?.message ?? '', message);
}

test('leaf and node hashing use the RFC 6962 prefixes', (t) => {
  t.is(toHex(EMPTY_ROOT), V.rootsBySize['0']!);
  t.is(
    toHex(leafHash(new Uint8Array(0))),
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  );
  t.deepEqual(nodeHash(leafHash(leaves[0]!), leafHash(leaves[1]!)), root(2));
});

test('builder roots match the reference roots for sizes 0..8', (t) => {
  const mt = new MerkleTree();
  t.deepEqual(mt.root(), root(0));
  for (const l of leaves) mt.appendData(l);
  for (let n = 0; n <= 8; n++) t.is(toHex(mt.root(n)), V.rootsBySize[String(n)]!, `size ${n}`);
});

test('the builder refuses a tree size it does not have: negative, fractional, past its size', (t) => {
  const mt = new MerkleTree();
  for (const l of leaves) mt.appendData(l);
  for (const size of [-1, 1.5, 9, Number.NaN]) {
    for (const ask of [() => mt.root(size), () => mt.consistencyProof(0, size)]) {
      const e = t.throws(ask, { instanceOf: StellaError });
      t.is(e?.code, 'INPUT_INVALID');
      t.is(e?.message, `tree size ${size} not in [0, 8]`);
    }
  }
});

test('the builder refuses a leaf index it does not have: negative, fractional, at or past the size asked about', (t) => {
  const mt = new MerkleTree();
  for (const l of leaves) mt.appendData(l);
  const asks: [number, number | undefined, () => unknown][] = [];
  for (const [index, size] of [
    [-1, 8],
    [0.5, 8],
    [8, 8],
    [5, 5],
    [6, 5],
  ] as const)
    asks.push([index, size, () => mt.inclusionProof(index, size)]);
  for (const index of [8, 9, -1]) asks.push([index, undefined, () => mt.leafHashAt(index)]);
  for (const [index, size, ask] of asks) {
    const e = t.throws(ask, { instanceOf: StellaError }, `index ${index}, size ${size ?? 8}`);
    t.is(e?.message, `log index ${index} not in [0, ${size ?? 8})`);
  }
  // The last leaf of each size is there.
  t.is(mt.inclusionProof(4, 5).length, 1);
  t.deepEqual(mt.leafHashAt(7), leafHash(leaves[7]!));
});

test('reference inclusion vectors verify and the builder reproduces them', (t) => {
  const mt = new MerkleTree();
  for (const l of leaves) mt.appendData(l);
  for (const v of V.inclusion) {
    const proof = v.proof.map(fromHex);
    const lh = leafHash(leaves[v.index]!);
    t.deepEqual(rootFromInclusionProof(v.index, v.size, lh, proof), root(v.size));
    t.notThrows(() => verifyInclusion(v.index, v.size, lh, proof, root(v.size)));
    t.deepEqual(
      mt.inclusionProof(v.index, v.size).map(toHex),
      v.proof,
      `builder proof ${v.index}/${v.size}`,
    );
  }
});

test('reference consistency vectors verify and the builder reproduces them', (t) => {
  const mt = new MerkleTree();
  for (const l of leaves) mt.appendData(l);
  for (const v of V.consistency) {
    const proof = v.proof.map(fromHex);
    t.notThrows(() => verifyConsistency(v.size1, v.size2, proof, root(v.size1), root(v.size2)));
    t.deepEqual(
      mt.consistencyProof(v.size1, v.size2).map(toHex),
      v.proof,
      `builder proof ${v.size1}->${v.size2}`,
    );
  }
});

test('builder and verifier agree for every (index, size) up to 64', (t) => {
  const mt = tree(64);
  let checked = 0;
  for (let size = 1; size <= 64; size++) {
    const r = mt.root(size);
    for (let index = 0; index < size; index++) {
      const proof = mt.inclusionProof(index, size);
      if (proof.length !== inclusionProofLength(index, size)) t.fail(`length ${index}/${size}`);
      verifyInclusion(index, size, mt.leafHashAt(index), proof, r);
      checked++;
    }
    for (let m = 1; m <= size; m++)
      verifyConsistency(m, size, mt.consistencyProof(m, size), mt.root(m), r);
  }
  t.is(checked, (64 * 65) / 2);
});

test('builder handles 100k leaves (cached complete subtrees)', (t) => {
  const mt = new MerkleTree();
  const n = 100_000;
  for (let i = 0; i < n; i++)
    mt.appendLeafHash(leafHash(new Uint8Array([i & 0xff, (i >> 8) & 0xff, i >> 16])));
  const r = mt.root();
  // The verifiers throw on a bad proof; assert that explicitly, and that a wrong leaf is refused
  // (so the check below can fail).
  for (const i of [0, 1, 4095, 65536, 99_998, 99_999])
    t.notThrows(
      () => verifyInclusion(i, n, mt.leafHashAt(i), mt.inclusionProof(i), r),
      `leaf ${i}`,
    );
  t.throws(() => verifyInclusion(4095, n, mt.leafHashAt(4096), mt.inclusionProof(4095), r));
  t.notThrows(() => verifyConsistency(65_537, n, mt.consistencyProof(65_537), mt.root(65_537), r));
  t.throws(() => verifyConsistency(65_537, n, mt.consistencyProof(65_537), mt.root(65_536), r));
});

// Broken inputs, modelled on transparency-dev's corruptInclusionProof.
const v58 = V.inclusion[2]!; // index 5, size 8, 3 hashes
const proof58 = (): Uint8Array[] => v58.proof.map(fromHex);
const leaf58 = leafHash(leaves[5]!);

test('inclusion: exact error messages', (t) => {
  refuses(
    t,
    () => verifyInclusion(9, 8, leaf58, proof58(), root(8)),
    'inclusion proof: log index 9 >= tree size 8',
  );
  refuses(
    t,
    () => verifyInclusion(5, 8, leaf58, proof58().slice(0, 2), root(8)),
    'inclusion proof: expected 3 hashes, got 2',
  );
  refuses(
    t,
    () => verifyInclusion(5, 8, leaf58, proof58(), root(7)),
    'inclusion proof: computed root hash does not match',
  );
});

test('inclusion: wrong root, size, index, leaf, and mangled proofs are refused', (t) => {
  const p = proof58();
  refuses(t, () => verifyInclusion(5, 8, leaf58, p, EMPTY_ROOT));
  refuses(t, () => verifyInclusion(5, 16, leaf58, p, root(8)), /expected 4 hashes, got 3/);
  refuses(t, () => verifyInclusion(5, 4, leaf58, p, root(8)), /log index 5 >= tree size 4/);
  refuses(t, () => verifyInclusion(4, 8, leaf58, p, root(8)));
  refuses(t, () => verifyInclusion(6, 8, leaf58, p, root(8)));
  refuses(t, () => verifyInclusion(7, 8, leaf58, p, root(8)));
  refuses(t, () => verifyInclusion(5, 8, leafHash(leaves[4]!), p, root(8)));
  refuses(
    t,
    () => verifyInclusion(-1, 8, leaf58, p, root(8)),
    /log index -1 is not a non-negative integer/,
  );
  refuses(t, () => verifyInclusion(1.5, 8, leaf58, p, root(8)), /not a non-negative integer/);
  refuses(
    t,
    () => verifyInclusion(0, 0, leaf58, [], EMPTY_ROOT),
    'inclusion proof: log index 0 >= tree size 0',
  );
  refuses(
    t,
    () => verifyInclusion(5, 8, leaf58, [...p, root(8)], root(8)),
    'inclusion proof: expected 3 hashes, got 4',
  );
  refuses(
    t,
    () => verifyInclusion(5, 8, leaf58, [root(8), ...p], root(8)),
    'inclusion proof: expected 3 hashes, got 4',
  );
  refuses(
    t,
    () => verifyInclusion(5, 8, leaf58, [p[0]!, p[1]!, new Uint8Array(0)], root(8)),
    /hash 2 is 0 bytes/,
  );
  refuses(t, () => verifyInclusion(5, 8, new Uint8Array(31), p, root(8)), /leaf hash is 31 bytes/);
  for (let i = 0; i < p.length; i++) {
    const q = p.map((h) => h.slice());
    q[i]![0]! ^= 8;
    refuses(
      t,
      () => verifyInclusion(5, 8, leaf58, q, root(8)),
      'inclusion proof: computed root hash does not match',
    );
  }
  const swapped = [p[1]!, p[0]!, p[2]!];
  refuses(t, () => verifyInclusion(5, 8, leaf58, swapped, root(8)));
});

test('an RFC 6962 proof alone does not bind the tree size (why the checkpoint size must, E35)', (t) => {
  // Index 5 chains the same way in trees of 7 and 8 leaves, so the size-8 proof also
  // "verifies" as a size-7 proof against the size-8 root.
  t.notThrows(() => verifyInclusion(5, 7, leaf58, proof58(), root(8)));
  refuses(t, () => verifyInclusion(5, 7, leaf58, proof58(), root(7)));
});

test('inclusion: single-leaf tree has an empty proof and root = leaf hash', (t) => {
  const h = leafHash(new TextEncoder().encode('data'));
  t.notThrows(() => verifyInclusion(0, 1, h, [], h));
  refuses(t, () => verifyInclusion(0, 1, h, [], EMPTY_ROOT));
  refuses(t, () => verifyInclusion(1, 1, h, [], h));
});

test('consistency: broken proofs are refused', (t) => {
  const v = V.consistency[2]!; // 6 -> 8
  const p = v.proof.map(fromHex);
  const r1 = root(6);
  const r2 = root(8);
  refuses(t, () => verifyConsistency(5, 8, p, r1, r2));
  refuses(t, () => verifyConsistency(7, 8, p, r1, r2));
  refuses(t, () => verifyConsistency(6, 16, p, r1, r2));
  refuses(t, () => verifyConsistency(6, 4, p, r1, r2), /size2 4 < size1 6/);
  refuses(t, () => verifyConsistency(6, 8, p, r2, r1));
  refuses(t, () => verifyConsistency(6, 8, [], r1, r2), 'consistency proof: empty proof');
  refuses(t, () => verifyConsistency(6, 8, p.slice(0, 2), r1, r2), /expected 3 hashes, got 2/);
  refuses(t, () => verifyConsistency(6, 8, [...p, r1], r1, r2), /expected 3 hashes, got 4/);
  refuses(t, () => verifyConsistency(6, 8, [p[0]!, ...p], r1, r2));
  for (let i = 0; i < p.length; i++) {
    const q = p.map((h) => h.slice());
    q[i]![0]! ^= 16;
    refuses(t, () => verifyConsistency(6, 8, q, r1, r2));
  }
  // Equal sizes: roots must match and the proof must be empty.
  refuses(t, () => verifyConsistency(8, 8, [], r1, r2));
  refuses(t, () => verifyConsistency(8, 8, [EMPTY_ROOT], r2, r2));
  t.notThrows(() => verifyConsistency(8, 8, [], r2, r2));
  // From the empty tree there is nothing to prove (transparency-dev refuses it too).
  refuses(t, () => verifyConsistency(0, 8, [], EMPTY_ROOT, r2), /from the empty tree/);
  refuses(t, () => verifyConsistency(0, 8, [EMPTY_ROOT], EMPTY_ROOT, r2));
});

test('builder refuses out-of-range requests', (t) => {
  const mt = tree(4);
  for (const fn of [
    () => mt.root(5),
    () => mt.inclusionProof(4, 4),
    () => mt.inclusionProof(-1),
    () => mt.consistencyProof(5, 4),
    () => mt.appendLeafHash(new Uint8Array(3)),
  ]) {
    const err = t.throws(fn, { instanceOf: StellaError });
    t.is(err?.code, 'INPUT_INVALID');
  }
});

test('buildInclusionProof (the proof a log builds from its complete subtrees, or from tiles) takes an index in [0, size) only', (t) => {
  // MerkleTree checks first; the tile reader (`--refresh-proofs`) calls the builder directly.
  const mt = tree(4);
  const complete = (h: number, j: number): Uint8Array =>
    h === 0
      ? leafHash(new TextEncoder().encode(`leaf ${j}`))
      : nodeHash(complete(h - 1, 2 * j), complete(h - 1, 2 * j + 1));
  t.deepEqual(buildInclusionProof(3, 4, complete), mt.inclusionProof(3, 4));
  for (const [index, size] of [
    [4, 4],
    [5, 4],
    [-1, 4],
    [0, 0],
    [1.5, 4],
  ] as const) {
    const err = t.throws(() => buildInclusionProof(index, size, complete), {
      instanceOf: StellaError,
    });
    t.is(err?.code, 'INPUT_INVALID', `PATH(${index}, ${size})`);
    t.is(err?.message, `inclusion proof: index ${index} not in [0, ${size})`);
  }
});

test('a consistency proof from size 0 or to the same size is empty; sizes outside [0, n] are refused', (t) => {
  const mt = tree(13);
  for (const n of [1, 2, 7, 13]) {
    t.deepEqual(mt.consistencyProof(0, n), [], `PROOF(0, ${n})`);
    t.deepEqual(mt.consistencyProof(n, n), [], `PROOF(${n}, ${n})`);
  }
  for (const [m, n] of [
    [-1, 5],
    [6, 5],
    [0.5, 5],
  ] as const)
    t.throws(() => mt.consistencyProof(m, n), { instanceOf: StellaError }, `PROOF(${m}, ${n})`);
});

test('completeSubtreeHash: the hash of each complete subtree (a tile hash); one not yet complete, or out of range, is refused', (t) => {
  const tree = new MerkleTree();
  const leaves = [0, 1, 2, 3, 4].map((i) => leafHash(new Uint8Array([i])));
  for (const l of leaves) tree.appendLeafHash(l);
  const hex = (level: number, index: number) => toHex(tree.completeSubtreeHash(level, index));
  leaves.forEach((l, i) => t.is(hex(0, i), toHex(l)));
  t.is(hex(1, 0), toHex(nodeHash(leaves[0]!, leaves[1]!)));
  t.is(hex(1, 1), toHex(nodeHash(leaves[2]!, leaves[3]!)));
  t.is(hex(2, 0), toHex(tree.root(4)));
  for (const [level, index] of [
    [0, 5],
    [1, 2], // leaves 4 and 5: not complete with 5 leaves
    [2, 1],
    [3, 0],
    [0, -1],
    [-1, 0],
    [0, 0.5],
    [0.5, 0],
  ] as const) {
    const e = t.throws(() => tree.completeSubtreeHash(level, index), { instanceOf: StellaError });
    t.is(e?.code, 'INPUT_INVALID');
    t.is(e?.message, `no complete subtree at level ${level}, index ${index}`);
  }
});
