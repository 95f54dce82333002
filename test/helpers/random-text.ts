/**
 * Texts for equivalence tests: a code path rewritten for linear time is held to the pattern it
 * replaced on many strings made of the pieces that matter to it. Deterministic (fixed seed).
 */
import { Prng } from '../fuzz/prng.js';

/** `count` strings, each up to `maxPieces` pieces drawn from `pieces`. */
export function textsOf(
  pieces: readonly string[],
  count: number,
  maxPieces: number,
  seed = 0x5e11a,
): string[] {
  const rng = new Prng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: rng.int(maxPieces + 1) }, () => rng.pick(pieces)).join(''),
  );
}
