/**
 * C2SP tlog-tiles primitives: path encoding (the spec's own examples), widths (the spec's
 * tree of 70,000), tiles read from a Merkle tree recompute its root, entry bundles.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { HASH_SIZE, leafHash, MerkleTree, nodeHash } from '../../src/tlog/merkle.js';
import {
  decodeEntryBundle,
  encodeEntryBundle,
  formatTileIndex,
  parseTilePath,
  readTile,
  splitTile,
  tileAvailableWidth,
  tilePath,
} from '../../src/tlog/tiles.js';
import { utf8 } from '../../src/util/encoding.js';

test('tile index and path encoding, as the spec writes them', (t) => {
  t.is(formatTileIndex(1234067), 'x001/x234/067');
  t.is(formatTileIndex(0), '000');
  t.is(formatTileIndex(5), '005');
  t.is(formatTileIndex(1000), 'x001/000');
  // No path for an index that is not a non-negative integer (it would spell "-01" or "1.5").
  for (const n of [-1, 1.5, Number.NaN, 2 ** 53])
    t.throws(() => formatTileIndex(n), {
      instanceOf: StellaError,
      message: /^tlog-tiles: tile index .* is not a non-negative integer$/,
    });
  t.is(tilePath({ level: 0, index: 1234067, width: undefined }), 'tile/0/x001/x234/067');
  t.is(tilePath({ level: 1, index: 0, width: 17 }), 'tile/1/000.p/17');
  t.is(tilePath({ level: 'entries', index: 3, width: 112 }), 'tile/entries/003.p/112');
  t.throws(() => tilePath({ level: 0, index: 0, width: 256 }), { instanceOf: StellaError });
  t.throws(() => tilePath({ level: 64, index: 0, width: undefined }), { instanceOf: StellaError });
  // A level that is not a whole number from 0 to 63 gets no path, nor does a width outside 1..255.
  for (const level of [-1, 1.5, Number.NaN])
    t.throws(() => tilePath({ level, index: 0, width: undefined }), {
      instanceOf: StellaError,
      message: `tlog-tiles: tile level ${level} is not 0..63`,
    });
  for (const width of [0, 1.5])
    t.throws(() => tilePath({ level: 0, index: 0, width }), {
      instanceOf: StellaError,
      message: `tlog-tiles: partial tile width ${width} is not 1..255`,
    });
});

test('parseTilePath reads exactly the canonical paths', (t) => {
  t.deepEqual(parseTilePath('0/x001/x234/067'), { level: 0, index: 1234067, width: undefined });
  t.deepEqual(parseTilePath('2/000.p/1'), { level: 2, index: 0, width: 1 });
  t.deepEqual(parseTilePath('entries/x001/000.p/255'), {
    level: 'entries',
    index: 1000,
    width: 255,
  });
  for (const bad of [
    '',
    '0',
    '0/5',
    '0/0005',
    '00/000',
    '01/000',
    '64/000',
    '0/x000/005',
    '0/005.p/0',
    '0/005.p/256',
    '0/005.p/01',
    '0/005.p',
    '0/001/002',
    'x/000',
    '0/x001',
    '-1/000',
    'entries/000.p/5/6',
  ]) {
    t.is(parseTilePath(bad), undefined, bad);
  }
});

test('widths: a tree of 70,000 leaves, as in the spec', (t) => {
  const size = 70_000;
  t.is(tileAvailableWidth(0, 272, size), 256); // 273 full level-0 tiles
  t.is(tileAvailableWidth(0, 273, size), 112); // one partial of width 112
  t.is(tileAvailableWidth(0, 274, size), 0);
  t.is(tileAvailableWidth(1, 0, size), 256); // one full level-1 tile
  t.is(tileAvailableWidth(1, 1, size), 17); // a partial of width 17
  t.is(tileAvailableWidth(2, 0, size), 1); // a partial level-2 tile of width 1
  t.is(tileAvailableWidth(3, 0, size), 0);
  t.is(tileAvailableWidth(1, 0, 256), 1); // "a tree of size 256: ... a partial level 1 tile of width 1"
});

test('tiles from a tree recompute its root; higher tiles hash full tiles below', (t) => {
  const tree = new MerkleTree();
  const n = 600;
  for (let i = 0; i < n; i++) tree.appendData(utf8.encode(`entry ${i}`));
  const level0 = splitTile(readTile(tree, 0, 0, undefined)!);
  t.is(level0.length, 256);
  t.deepEqual(level0[7], leafHash(utf8.encode('entry 7')));
  t.is(readTile(tree, 0, 2, undefined), undefined, 'the third level-0 tile is not full');
  const partial = splitTile(readTile(tree, 0, 2, 88)!);
  t.is(partial.length, 88);
  t.is(readTile(tree, 0, 2, 89), undefined);
  // Level 1: two complete 256-leaf subtrees so far, each the root of a full level-0 tile.
  const level1 = splitTile(readTile(tree, 1, 0, 2)!);
  const rootOfTile0 = new MerkleTree();
  for (const h of level0) rootOfTile0.appendLeafHash(h);
  t.deepEqual(level1[0], rootOfTile0.root());
  // The root from tiles alone: MTH(600) = node(MTH(first 512), MTH(last 88)).
  const tail = new MerkleTree();
  for (const h of partial) tail.appendLeafHash(h);
  t.deepEqual(nodeHash(nodeHash(level1[0]!, level1[1]!), tail.root()), tree.root());
  t.throws(() => splitTile(new Uint8Array(HASH_SIZE + 1)), { instanceOf: StellaError });
});

test('entry bundles: uint16 length prefixes, refused when truncated', (t) => {
  const entries = [utf8.encode('a'), new Uint8Array(0), new Uint8Array(300).fill(7)];
  const b = encodeEntryBundle(entries);
  t.deepEqual([...b.slice(0, 3)], [0, 1, 0x61]);
  t.deepEqual(decodeEntryBundle(b), entries);
  t.throws(() => decodeEntryBundle(b.slice(0, b.length - 1)), { message: /ends inside an entry/ });
  t.throws(() => decodeEntryBundle(Uint8Array.of(0)), { message: /length prefix/ });
  t.throws(() => encodeEntryBundle([new Uint8Array(0x10000)]), { message: /does not fit/ });
});
