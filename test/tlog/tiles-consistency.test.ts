/**
 * Consistency proofs of a tiled log computed from its tiles alone (src/tlog/tiles.ts
 * consistencyProofFromTiles, what export-bundle --include-consistency does for Rekor v2) equal
 * the tree's own RFC 6962 proofs and verify, across partial tiles and tile levels; each tile is
 * fetched once.
 */
import test from 'ava';
import {
  consistencyProofFromTiles,
  inclusionProofFromTiles,
  readTile,
} from '../../src/tlog/tiles.js';
import { leafHash, MerkleTree, verifyConsistency, verifyInclusion } from '../../src/tlog/merkle.js';
import { toHex } from '../../src/util/encoding.js';

const tree = new MerkleTree();
for (let i = 0; i < 70_000; i++)
  tree.appendLeafHash(leafHash(new Uint8Array([i & 0xff, (i >> 8) & 0xff, i >> 16])));

function fetcherFor(size: number, fetched: string[]) {
  // A server of the tree as it was at `size` leaves: tiles beyond it do not exist.
  const sub = new MerkleTree();
  for (let i = 0; i < size; i++) sub.appendLeafHash(tree.leafHashAt(i));
  return async (level: number, index: number, width: number | undefined) => {
    fetched.push(`${level}/${index}/${width ?? 'full'}`);
    const t = readTile(sub, level, index, width);
    if (!t) throw new Error(`no tile ${level}/${index}/${width}`);
    return t;
  };
}

test("tile-computed proofs equal the tree's proofs and verify (partial tiles, level 1 and 2 tiles)", async (t) => {
  const pairs: [number, number][] = [
    [1, 2],
    [3, 7],
    [255, 256],
    [256, 257],
    [200, 700],
    [1000, 4097],
    [65_535, 65_537],
    [65_536, 70_000],
    [12_345, 70_000],
  ];
  for (const [m, n] of pairs) {
    const fetched: string[] = [];
    const p = await consistencyProofFromTiles(m, n, fetcherFor(n, fetched));
    t.deepEqual(p.map(toHex), tree.consistencyProof(m, n).map(toHex), `${m} -> ${n}`);
    t.notThrows(() => verifyConsistency(m, n, p, tree.root(m), tree.root(n)));
    t.is(new Set(fetched).size, fetched.length, `${m} -> ${n}: each tile fetched once`);
  }
});

test("tile-computed inclusion proofs (export-bundle --refresh-proofs, Rekor v2) equal the tree's and verify", async (t) => {
  const cases: [number, number][] = [
    [0, 1],
    [0, 2],
    [6, 7],
    [255, 257],
    [300, 700],
    [4096, 4097],
    [12_345, 70_000],
    [69_999, 70_000],
  ];
  for (const [index, size] of cases) {
    const p = await inclusionProofFromTiles(index, size, fetcherFor(size, []));
    t.deepEqual(p.map(toHex), tree.inclusionProof(index, size).map(toHex), `${index} in ${size}`);
    t.notThrows(() => verifyInclusion(index, size, tree.leafHashAt(index), p, tree.root(size)));
  }
});

test('a tile with fewer hashes than the tree size gives it is refused, naming the tile', async (t) => {
  // A server that cuts every tile short by one hash: the proof would index past its end.
  const short = fetcherFor(700, []);
  const cut = async (level: number, index: number, width: number | undefined) => {
    const bytes = await short(level, index, width);
    return bytes.subarray(0, bytes.byteLength - 32);
  };
  const e = await t.throwsAsync(consistencyProofFromTiles(200, 700, cut));
  t.regex(e?.message ?? '', /^tlog-tiles: tile \d+\/\d+ has \d+ hashes, want \d+/);
  const i = await t.throwsAsync(inclusionProofFromTiles(300, 700, cut));
  t.regex(i?.message ?? '', /tile \d+\/\d+ has \d+ hashes, want \d+/);
});
