/**
 * A small seeded PRNG for the fuzz tests: sfc32 (Chris Doty-Humphrey's Small Fast Counter),
 * seeded through splitmix32 so nearby seeds give unrelated streams. Deterministic across
 * platforms (32-bit integer arithmetic only), which is what makes a failure reproducible from
 * the seed and iteration number the fuzz test prints. Not for cryptography.
 */

/** splitmix32 step: a good 32-bit mixer for turning (seed, label, index) into a state. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a label, so each fuzz target and mutator draws from its own stream. */
export function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The seed of iteration `i` of `target` under base seed `seed`: iterations are independent. */
export function iterationSeed(seed: number, target: string, i: number): number {
  return mix32(mix32(seed ^ hashLabel(target)) ^ mix32(i + 0x632be5ab));
}

export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = mix32(seed);
    this.#b = mix32(this.#a ^ 0x6a09e667);
    this.#c = mix32(this.#b ^ 0xbb67ae85);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform uint32. */
  next(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    this.#c = ((c << 21) | (c >>> 11)) + t;
    this.#c |= 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [0, n); n >= 1. */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Prng.pick: empty list');
    return items[this.int(items.length)]!;
  }

  /** Pick by weight: [[weight, value], ...]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of items) total += w;
    let r = this.float() * total;
    for (const [w, v] of items) {
      if ((r -= w) < 0) return v;
    }
    return items[items.length - 1]![1];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** Small sizes are far more likely than large ones (boundaries live near 0). */
  smallSize(max: number): number {
    return Math.min(max, Math.floor(Math.pow(this.float(), 3) * (max + 1)));
  }

  /** A child stream: later draws from this PRNG do not shift the child's. */
  fork(label: string): Prng {
    return new Prng(this.next() ^ hashLabel(label));
  }
}
