/**
 * The benchmarks' one median: the middle item by `key` (for an even count, the upper of the
 * two middles; the benchmarks take odd numbers of rounds and runs).
 */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;
}

export function median(xs: readonly number[]): number {
  return medianBy(xs, (x) => x);
}
