/**
 * Structure-blind byte mutations (the AFL "havoc" family): flips, interesting values,
 * insertions, deletions, truncation, splicing from another input. Every structure-aware
 * mutator falls back to these now and then, so malformed inputs of every kind are reached.
 */
import type { Prng } from './prng.js';
import { concatBytes } from '../../src/util/encoding.js';

/** A mutation log: what was done, in order, printed with a failing input. */
export type Trail = string[];

const INTERESTING_8 = [
  0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x30, 0x31, 0x04, 0x02, 0x05, 0x17, 0x18,
];

/** One havoc step on `input` (never in place). `donors`: other inputs to splice from. */
export function mutateBytes(
  rng: Prng,
  input: Uint8Array,
  trail: Trail,
  donors: readonly Uint8Array[] = [],
): Uint8Array {
  const b = new Uint8Array(input);
  const n = b.length;
  const at = n === 0 ? 0 : rng.int(n);
  const op = rng.weighted<string>([
    [4, 'flip-bit'],
    [3, 'set-byte'],
    [2, 'interesting-byte'],
    [2, 'truncate'],
    [2, 'delete-range'],
    [2, 'insert-random'],
    [1, 'duplicate-range'],
    [1, 'append-random'],
    [1, 'splice'],
    [1, 'empty'],
    [1, 'swap-bytes'],
  ]);
  switch (op) {
    case 'flip-bit':
      if (n === 0) return rng.bytes(1);
      b[at] = b[at]! ^ (1 << rng.int(8));
      trail.push(`bytes: flip bit at ${at}`);
      return b;
    case 'set-byte':
      if (n === 0) return rng.bytes(1);
      b[at] = rng.int(256);
      trail.push(`bytes: set byte ${at} = 0x${b[at].toString(16)}`);
      return b;
    case 'interesting-byte':
      if (n === 0) return Uint8Array.of(rng.pick(INTERESTING_8));
      b[at] = rng.pick(INTERESTING_8);
      trail.push(`bytes: byte ${at} = 0x${b[at].toString(16)}`);
      return b;
    case 'truncate': {
      const len = rng.chance(0.5) ? rng.int(n + 1) : Math.max(0, n - 1 - rng.smallSize(16));
      trail.push(`bytes: truncate ${n} -> ${len}`);
      return b.slice(0, len);
    }
    case 'delete-range': {
      const len = 1 + rng.smallSize(Math.max(1, n - at - 1));
      trail.push(`bytes: delete ${len} at ${at}`);
      return concatBytes(b.subarray(0, at), b.subarray(at + len));
    }
    case 'insert-random': {
      const ins = rng.bytes(1 + rng.smallSize(32));
      trail.push(`bytes: insert ${ins.length} random at ${at}`);
      return concatBytes(b.subarray(0, at), ins, b.subarray(at));
    }
    case 'duplicate-range': {
      const len = 1 + rng.smallSize(Math.max(1, Math.min(256, n - at)));
      trail.push(`bytes: duplicate ${len} at ${at}`);
      return concatBytes(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len));
    }
    case 'append-random': {
      const ins = rng.bytes(1 + rng.smallSize(64));
      trail.push(`bytes: append ${ins.length}`);
      return concatBytes(b, ins);
    }
    case 'splice': {
      if (donors.length === 0) return mutateBytes(rng, input, trail);
      const d = rng.pick(donors);
      const from = rng.int(d.length + 1);
      const len = rng.smallSize(Math.max(0, d.length - from));
      trail.push(`bytes: splice ${len} donor bytes at ${at}`);
      return concatBytes(
        b.subarray(0, at),
        d.subarray(from, from + len),
        b.subarray(at + (rng.chance(0.5) ? len : 0)),
      );
    }
    case 'empty':
      trail.push('bytes: empty');
      return new Uint8Array(0);
    default: {
      if (n < 2) return mutateBytes(rng, input, trail);
      const j = rng.int(n);
      const t = b[at]!;
      b[at] = b[j]!;
      b[j] = t;
      trail.push(`bytes: swap ${at} and ${j}`);
      return b;
    }
  }
}

/** 1..k havoc steps. */
export function havoc(
  rng: Prng,
  input: Uint8Array,
  trail: Trail,
  donors: readonly Uint8Array[] = [],
  k = 3,
): Uint8Array {
  let out = input;
  const steps = 1 + rng.smallSize(k - 1);
  for (let i = 0; i < steps; i++) out = mutateBytes(rng, out, trail, donors);
  return out;
}
