/**
 * RFC 6962 / RFC 9162 Merkle trees over SHA-256: proof verification (for bundles) and a tree
 * builder (for the local log). One hashing rule for both: leaves are hashed with a 0x00 prefix
 * and interior nodes with 0x01, so a leaf can never be passed off as a node.
 *
 * Verification follows transparency-dev/merkle proof/verify.go: split the path into the
 * "inner" part (below the point where the paths to `index` and to `size - 1` diverge) and the
 * "border" part (the right border above it). That gives the exact expected proof length up
 * front, so a short, long or padded proof is refused by count before any hashing.
 * Index arithmetic uses BigInt: tree sizes beyond 2^31 break JavaScript's 32-bit bit operators.
 */
import { sha256 } from '../crypto.js';
import { fail } from '../errors.js';
import { bytesEqual, concatBytes } from '../util/encoding.js';

export const HASH_SIZE = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** MTH({}) = SHA-256() — the root of the empty tree. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF_PREFIX, data));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

function invalid(message: string, details?: Record<string, unknown>): never {
  return fail('INCLUSION_PROOF_INVALID', 'tlog', message, details);
}

function checkCount(n: number, what: string, context: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0)
    invalid(`${context}: ${what} ${n} is not a non-negative integer`);
  return BigInt(n);
}

function checkHashes(hashes: readonly Uint8Array[], context: string): void {
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE)
      invalid(`${context}: hash ${i} is ${h.length} bytes, want ${HASH_SIZE}`);
  });
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function onesCount(n: bigint): number {
  let c = 0;
  for (const ch of n.toString(2)) if (ch === '1') c++;
  return c;
}

function trailingZeros(n: bigint): number {
  let z = 0;
  while (n > 0n && (n & 1n) === 0n) {
    n >>= 1n;
    z++;
  }
  return z;
}

/** Lengths of the inner and border parts of the inclusion proof for `index` in a tree of `size`. */
function decompInclProof(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  const border = onesCount(index >> BigInt(inner));
  return { inner, border };
}

/** Expected number of hashes in an inclusion proof for (index, size); index < size. */
export function inclusionProofLength(index: number, size: number): number {
  const { inner, border } = decompInclProof(BigInt(index), BigInt(size));
  return inner + border;
}

function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    h = ((index >> BigInt(i)) & 1n) === 0n ? nodeHash(h, p) : nodeHash(p, h);
  });
  return h;
}

/** Like chainInner, but only the nodes where the seed is the right child. */
function chainInnerRight(
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  index: bigint,
): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    if (((index >> BigInt(i)) & 1n) === 1n) h = nodeHash(p, h);
  });
  return h;
}

function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  let h = seed;
  for (const p of proof) h = nodeHash(p, h);
  return h;
}

/**
 * RFC 9162 §2.1.3.2: the root hash implied by an inclusion proof for the leaf with hash
 * `leaf` at `index` in a tree of `size` leaves. Refuses index >= size (and so size 0) and a
 * proof of the wrong length for (index, size).
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  const i = checkCount(index, 'log index', 'inclusion proof');
  const n = checkCount(size, 'tree size', 'inclusion proof');
  if (i >= n) invalid(`inclusion proof: log index ${index} >= tree size ${size}`);
  if (leaf.length !== HASH_SIZE)
    invalid(`inclusion proof: leaf hash is ${leaf.length} bytes, want ${HASH_SIZE}`);
  const { inner, border } = decompInclProof(i, n);
  if (proof.length !== inner + border)
    invalid(`inclusion proof: expected ${inner + border} hashes, got ${proof.length}`);
  checkHashes(proof, 'inclusion proof');
  const h = chainInner(leaf, proof.slice(0, inner), i);
  return chainBorderRight(h, proof.slice(inner));
}

/** Verify an inclusion proof against a known root hash; throws INCLUSION_PROOF_INVALID. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const got = rootFromInclusionProof(index, size, leaf, proof);
  if (!bytesEqual(got, root)) invalid('inclusion proof: computed root hash does not match');
}

/**
 * RFC 9162 §2.1.4.2: verify that the tree of size1 with root1 is a prefix of the tree of
 * size2 with root2. Throws INCLUSION_PROOF_INVALID (message prefix "consistency proof").
 * As in transparency-dev/merkle (whose published vectors pin this function, see
 * test/tlog/consistency-vectors.test.ts), a proof from the empty tree is refused: every tree
 * extends the empty one, so such a "proof" shows nothing and is a caller's mistake.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const m = checkCount(size1, 'size1', 'consistency proof');
  const n = checkCount(size2, 'size2', 'consistency proof');
  if (n < m) invalid(`consistency proof: size2 ${size2} < size1 ${size1}`);
  if (m === 0n) invalid('consistency proof: a proof from the empty tree (size1 0) is meaningless');
  if (m === n) {
    if (proof.length > 0)
      invalid(`consistency proof: expected 0 hashes for equal sizes, got ${proof.length}`);
    if (!bytesEqual(root1, root2)) invalid('consistency proof: roots differ for equal tree sizes');
    return;
  }
  if (proof.length === 0) invalid('consistency proof: empty proof');
  checkHashes(proof, 'consistency proof');

  const d = decompInclProof(m - 1n, n);
  const shift = trailingZeros(m);
  const inner = d.inner - shift; // shift < inner because m < n
  // The proof starts with the root of the 2^shift subtree ending at m, unless that subtree
  // is the whole old tree (m is a power of two): then the seed is root1 itself.
  let seed = proof[0]!;
  let start = 1;
  if (m === 1n << BigInt(shift)) {
    seed = root1;
    start = 0;
  }
  if (proof.length !== start + inner + d.border)
    invalid(`consistency proof: expected ${start + inner + d.border} hashes, got ${proof.length}`);
  const rest = proof.slice(start);
  const mask = (m - 1n) >> BigInt(shift);

  const hash1 = chainBorderRight(
    chainInnerRight(seed, rest.slice(0, inner), mask),
    rest.slice(inner),
  );
  if (!bytesEqual(hash1, root1))
    invalid('consistency proof: computed old root hash does not match');
  const hash2 = chainBorderRight(chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!bytesEqual(hash2, root2))
    invalid('consistency proof: computed new root hash does not match');
}

/** Largest power of two strictly less than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The hash of the complete subtree of 2^level leaves starting at leaf index * 2^level. */
export type CompleteSubtreeHash = (level: number, index: number) => Uint8Array;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * MTH(D[start:start+n]) from complete-subtree hashes, for any n >= 1 where start is aligned
 * as RFC 6962's recursion leaves it: the one recursion for the local tree (cached levels) and
 * for a tiled log read over HTTP (./tiles.ts).
 */
export function subtreeRoot(start: number, n: number, complete: CompleteSubtreeHash): Uint8Array {
  if (isPowerOfTwo(n)) return complete(Math.round(Math.log2(n)), start / n);
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(start, k, complete), subtreeRoot(start + k, n - k, complete));
}

/** RFC 6962 §2.1.2 PROOF(m, D[0:n]) from complete-subtree hashes; empty for m = 0 or m = n. */
export function buildConsistencyProof(
  m: number,
  n: number,
  complete: CompleteSubtreeHash,
): Uint8Array[] {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n)
    fail('INPUT_INVALID', 'tlog', `consistency proof: size1 ${m} not in [0, ${n}]`);
  const out: Uint8Array[] = [];
  const sub = (m: number, start: number, n: number, whole: boolean): void => {
    if (m === n) {
      if (!whole) out.push(subtreeRoot(start, n, complete));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, k, whole);
      out.push(subtreeRoot(start + k, n - k, complete));
    } else {
      sub(m - k, start + k, n - k, false);
      out.push(subtreeRoot(start, k, complete));
    }
  };
  if (m > 0 && m < n) sub(m, 0, n, true);
  return out;
}

/** RFC 6962 §2.1.1 PATH(index, D[0:size]) from complete-subtree hashes, lowest level first. */
export function buildInclusionProof(
  index: number,
  size: number,
  complete: CompleteSubtreeHash,
): Uint8Array[] {
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(index) || index < 0 || index >= size)
    fail('INPUT_INVALID', 'tlog', `inclusion proof: index ${index} not in [0, ${size})`);
  const out: Uint8Array[] = [];
  const path = (m: number, start: number, n: number): void => {
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, start, k);
      out.push(subtreeRoot(start + k, n - k, complete));
    } else {
      path(m - k, start + k, n - k);
      out.push(subtreeRoot(start, k, complete));
    }
  };
  path(index, 0, size);
  return out;
}

/**
 * An append-only RFC 6962 tree for the local log. `levels[h][j]` caches the hash of the
 * complete subtree of 2^h leaves starting at leaf j * 2^h, filled in as leaves arrive, so a
 * root or a proof for any size costs O(log n) hashes. Memory: about two hashes per leaf.
 */
export class MerkleTree {
  private readonly levels: Uint8Array[][] = [[]];

  get size(): number {
    return this.levels[0]!.length;
  }

  /** Append a leaf by its data; returns its index. */
  appendData(data: Uint8Array): number {
    return this.appendLeafHash(leafHash(data));
  }

  /** Append a leaf by its (already computed) leaf hash; returns its index. */
  appendLeafHash(hash: Uint8Array): number {
    if (hash.length !== HASH_SIZE)
      fail('INPUT_INVALID', 'tlog', `leaf hash is ${hash.length} bytes, want ${HASH_SIZE}`);
    const index = this.size;
    this.levels[0]!.push(hash);
    // Complete every subtree that this leaf closes.
    let h = 0;
    let j = index;
    while (j % 2 === 1) {
      const level = this.levels[h]!;
      const parent = nodeHash(level[j - 1]!, level[j]!);
      if (this.levels.length === h + 1) this.levels.push([]);
      this.levels[h + 1]!.push(parent);
      h++;
      j = (j - 1) / 2;
    }
    return index;
  }

  /**
   * MTH of the complete subtree of 2^level leaves starting at leaf index * 2^level (a tlog-tiles
   * tile hash at tree level `level`); only subtrees already complete exist.
   */
  completeSubtreeHash(level: number, index: number): Uint8Array {
    const row = Number.isSafeInteger(level) && level >= 0 ? this.levels[level] : undefined;
    if (!row || !Number.isSafeInteger(index) || index < 0 || index >= row.length)
      fail('INPUT_INVALID', 'tlog', `no complete subtree at level ${level}, index ${index}`);
    return row[index]!;
  }

  leafHashAt(index: number): Uint8Array {
    this.checkIndex(index, this.size);
    return this.levels[0]![index]!;
  }

  /** MTH of the first `size` leaves (default: all). */
  root(size: number = this.size): Uint8Array {
    this.checkSize(size);
    return size === 0 ? EMPTY_ROOT : this.subtree(0, size);
  }

  /** RFC 6962 §2.1.1 PATH(index, D[0:size]), lowest level first. */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.checkSize(size);
    this.checkIndex(index, size);
    return buildInclusionProof(index, size, (h, j) => this.levels[h]![j]!);
  }

  /** RFC 6962 §2.1.2 PROOF(m, D[0:n]). Empty for m = 0 or m = n. */
  consistencyProof(m: number, n: number = this.size): Uint8Array[] {
    this.checkSize(n);
    return buildConsistencyProof(m, n, (h, j) => this.levels[h]![j]!);
  }

  /** Hash of leaves [start, start + n); start is aligned so complete parts hit the cache. */
  private subtree(start: number, n: number): Uint8Array {
    return subtreeRoot(start, n, (h, j) => this.levels[h]![j]!);
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size)
      fail('INPUT_INVALID', 'tlog', `tree size ${size} not in [0, ${this.size}]`);
  }

  private checkIndex(index: number, size: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size)
      fail('INPUT_INVALID', 'tlog', `log index ${index} not in [0, ${size})`);
  }
}
