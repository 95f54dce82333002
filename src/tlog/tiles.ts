/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the read API of a tiled transparency log
 * (Rekor v2). One implementation for the side that serves tiles (the sandbox's Rekor v2 log)
 * and the side that reads them (tests, monitors, a witness):
 *
 *   <prefix>/checkpoint                   the signed checkpoint (./note.ts)
 *   <prefix>/tile/<L>/<N>[.p/<W>]         hashes at tree level 8*L, 256 per full tile
 *   <prefix>/tile/entries/<N>[.p/<W>]     the entries, big-endian uint16 length-prefixed
 *
 * The n-th tile at level l holds MTH(D[(n*256+i)*256^l : (n*256+i+1)*256^l]) for i < width:
 * level-0 tiles hold leaf hashes, higher tiles the roots of full tiles below (./merkle.ts
 * keeps exactly these complete-subtree hashes). <N> is written in 3-digit groups, all but the
 * last prefixed with "x" (1234067 -> x001/x234/067); <W> is 1..255 for a partial tile.
 */
import { fail } from '../errors.js';
import {
  buildConsistencyProof,
  buildInclusionProof,
  HASH_SIZE,
  nodeHash,
  type CompleteSubtreeHash,
  type MerkleTree,
} from './merkle.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** The largest entry an entry bundle can carry (uint16 length prefix). */
export const MAX_BUNDLED_ENTRY_BYTES = 0xffff;

export interface TileAddress {
  /** A tree level 0..63, or 'entries' for an entry bundle. */
  level: number | 'entries';
  /** Tile index within its level. */
  index: number;
  /** 1..255 for a partial tile; undefined for a full one. */
  width: number | undefined;
}

function bad(message: string): never {
  return fail('INPUT_INVALID', 'tlog', `tlog-tiles: ${message}`);
}

/** <N> as 3-digit path elements: 5 -> "005", 1234067 -> "x001/x234/067". */
export function formatTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) bad(`tile index ${n} is not a non-negative integer`);
  let out = String(n % 1000).padStart(3, '0');
  for (let rest = Math.floor(n / 1000); rest > 0; rest = Math.floor(rest / 1000))
    out = `x${String(rest % 1000).padStart(3, '0')}/${out}`;
  return out;
}

/** "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" (no leading slash). */
export function tilePath(a: TileAddress): string {
  if (a.level !== 'entries' && (!Number.isInteger(a.level) || a.level < 0 || a.level > 63))
    bad(`tile level ${a.level} is not 0..63`);
  if (a.width !== undefined && (!Number.isInteger(a.width) || a.width < 1 || a.width >= TILE_WIDTH))
    bad(`partial tile width ${a.width} is not 1..255`);
  return `tile/${a.level}/${formatTileIndex(a.index)}${a.width === undefined ? '' : `.p/${a.width}`}`;
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/**
 * Parse the part of a request path after "<prefix>/tile/". Only the canonical spelling is
 * accepted (no "x000" groups, no leading zeros in L or W), so one tile has one URL.
 */
export function parseTilePath(rest: string): TileAddress | undefined {
  const parts = rest.split('/');
  const levelText = parts.shift();
  if (levelText === undefined) return undefined;
  let level: number | 'entries';
  if (levelText === 'entries') level = 'entries';
  else if (DECIMAL.test(levelText) && Number(levelText) <= 63) level = Number(levelText);
  else return undefined;
  let width: number | undefined;
  if (parts.length >= 2 && parts[parts.length - 2]!.endsWith('.p')) {
    const w = parts.pop()!;
    if (!DECIMAL.test(w) || Number(w) < 1 || Number(w) >= TILE_WIDTH) return undefined;
    width = Number(w);
    parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, -2);
  }
  if (parts.length === 0 || parts.length > 6) return undefined;
  let index = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const last = i === parts.length - 1;
    const m = (last ? /^([0-9]{3})$/ : /^x([0-9]{3})$/).exec(p);
    if (!m) return undefined;
    index = index * 1000 + Number(m[1]);
  }
  if (!Number.isSafeInteger(index)) return undefined;
  const a: TileAddress = { level, index, width };
  // Canonical form only: "x000/005" and "005" would otherwise name the same tile.
  return tilePath(a) === `tile/${rest}` ? a : undefined;
}

/**
 * How many hashes (or entries) of tile `index` at `level` exist in a tree of `treeSize`
 * leaves: 0..256. A tile can be served full when this is 256, or partial with any width up to it.
 */
export function tileAvailableWidth(level: number, index: number, treeSize: number): number {
  const span = 256n ** BigInt(level); // leaves under one hash of this level
  const complete = BigInt(treeSize) / span; // complete hashes at this level
  const before = BigInt(index) * 256n;
  if (complete <= before) return 0;
  const n = complete - before;
  return Number(n > 256n ? 256n : n);
}

/** The bytes of a tile (concatenated 32-byte hashes), or undefined when the tree lacks it. */
export function readTile(
  tree: MerkleTree,
  level: number,
  index: number,
  width: number | undefined,
): Uint8Array | undefined {
  const want = width ?? TILE_WIDTH;
  if (tileAvailableWidth(level, index, tree.size) < want) return undefined;
  const out = new Uint8Array(want * HASH_SIZE);
  for (let i = 0; i < want; i++)
    out.set(tree.completeSubtreeHash(TILE_HEIGHT * level, index * TILE_WIDTH + i), i * HASH_SIZE);
  return out;
}

/** A tile's hashes, each 32 bytes. */
export function splitTile(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length === 0 || bytes.length % HASH_SIZE !== 0 || bytes.length > TILE_WIDTH * HASH_SIZE)
    bad(`a tile of ${bytes.length} bytes is not 1..256 hashes of ${HASH_SIZE} bytes`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += HASH_SIZE) out.push(bytes.slice(i, i + HASH_SIZE));
  return out;
}

/** An entry bundle: each entry as a big-endian uint16 length, then its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const e of entries) {
    if (e.length > MAX_BUNDLED_ENTRY_BYTES)
      bad(
        `an entry of ${e.length} bytes does not fit an entry bundle (at most ${MAX_BUNDLED_ENTRY_BYTES})`,
      );
    size += 2 + e.length;
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const e of entries) {
    out[off] = e.length >> 8;
    out[off + 1] = e.length & 0xff;
    out.set(e, off + 2);
    off += 2 + e.length;
  }
  return out;
}

export function decodeEntryBundle(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (off + 2 > bytes.length) bad('entry bundle ends inside a length prefix');
    const n = (bytes[off]! << 8) | bytes[off + 1]!;
    if (off + 2 + n > bytes.length) bad('entry bundle ends inside an entry');
    out.push(bytes.slice(off + 2, off + 2 + n));
    off += 2 + n;
    if (out.length > TILE_WIDTH) bad('entry bundle holds more than 256 entries');
  }
  return out;
}

/** Fetch a tile's bytes (level, index, width: undefined for a full tile). */
export type TileFetcher = (
  level: number,
  index: number,
  width: number | undefined,
) => Promise<Uint8Array>;

/**
 * RFC 6962 consistency proof PROOF(size1, D[0:size2]) of a tiled log, from its tiles alone (a
 * Rekor v2 log has no proof endpoint): the proof's subtree hashes are each a complete subtree
 * (./merkle.ts subtreeRoot), and a complete subtree at tree level h is the fold of 2^(h mod 8)
 * hashes of the tile level below it. Tiles are fetched once each. The result is checked by
 * the receiver against two signed checkpoints, so the tiles need not be trusted here.
 */
export async function consistencyProofFromTiles(
  size1: number,
  size2: number,
  fetchTile: TileFetcher,
): Promise<Uint8Array[]> {
  return proofFromTiles(size2, (c) => buildConsistencyProof(size1, size2, c), fetchTile);
}

/**
 * RFC 6962 inclusion proof PATH(index, D[0:size]) of a tiled log, from its tiles alone, the
 * same way (`export-bundle --refresh-proofs` re-proves Rekor v2 entries against one
 * checkpoint). Checked by the receiver against the signed checkpoint's root.
 */
export async function inclusionProofFromTiles(
  index: number,
  size: number,
  fetchTile: TileFetcher,
): Promise<Uint8Array[]> {
  return proofFromTiles(size, (c) => buildInclusionProof(index, size, c), fetchTile);
}

/** Run `build` once to learn the complete subtrees it needs, fetch them from tiles, run it again. */
async function proofFromTiles(
  size: number,
  build: (complete: CompleteSubtreeHash) => Uint8Array[],
  fetchTile: TileFetcher,
): Promise<Uint8Array[]> {
  const needed = new Map<string, { level: number; index: number }>();
  build((level, index) => {
    needed.set(`${level}/${index}`, { level, index });
    return new Uint8Array(HASH_SIZE);
  });
  const tiles = new Map<string, Uint8Array[]>();
  const tileHash = async (tileLevel: number, j: number): Promise<Uint8Array> => {
    const ti = Math.floor(j / TILE_WIDTH);
    const key = `${tileLevel}/${ti}`;
    let hashes = tiles.get(key);
    if (!hashes) {
      const width = tileAvailableWidth(tileLevel, ti, size);
      if (width === 0) bad(`tree size ${size} has no tile ${tileLevel}/${ti}`);
      hashes = splitTile(await fetchTile(tileLevel, ti, width === TILE_WIDTH ? undefined : width));
      if (hashes.length < width)
        bad(`tile ${tileLevel}/${ti} has ${hashes.length} hashes, want ${width}`);
      tiles.set(key, hashes);
    }
    return hashes[j % TILE_WIDTH]!;
  };
  const complete = new Map<string, Uint8Array>();
  for (const { level, index } of needed.values()) {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const r = level - TILE_HEIGHT * tileLevel;
    let row: Uint8Array[] = [];
    for (let j = index * 2 ** r; j < (index + 1) * 2 ** r; j++)
      row.push(await tileHash(tileLevel, j));
    while (row.length > 1) {
      const next: Uint8Array[] = [];
      for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i]!, row[i + 1]!));
      row = next;
    }
    complete.set(`${level}/${index}`, row[0]!);
  }
  return build((level, index) => complete.get(`${level}/${index}`)!);
}
