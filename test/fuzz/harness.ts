/**
 * The fuzz loop: deterministic iterations, each with its own PRNG derived from (seed, target,
 * iteration), so any iteration can be replayed alone. The number of iterations decides the
 * run (reproducible); a wall-clock cap only stops a run that got slow (reported, never a
 * failure in itself).
 *
 *   STELLA_FUZZ_SEED        base seed (decimal or 0x hex; "random" for a fresh one). Default fixed.
 *   STELLA_FUZZ_ITERATIONS  iterations per target (default: each target's own, a few seconds' worth).
 *   STELLA_FUZZ_SECONDS     wall-clock cap per target (default 60). Given without
 *                           STELLA_FUZZ_ITERATIONS, runs until the time is up.
 *   STELLA_FUZZ_FROM        first iteration (to replay one: FROM=n ITERATIONS=1).
 *
 * On a failure the test stops at the first failing iteration and prints the seed, target,
 * iteration, the replay command, the mutations applied, a hex dump of a minimized input
 * (byte inputs) and the path of a file holding the whole input.
 */
import type { ExecutionContext } from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { Prng, iterationSeed } from './prng.js';
import type { Trail } from './mutate-bytes.js';

export const DEFAULT_SEED = 0x5e11a;

export interface FuzzConfig {
  seed: number;
  iterations: number;
  seconds: number;
  from: number;
}

function envNumber(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`${name}=${JSON.stringify(v)} is not a non-negative number`);
  return n;
}

let randomSeed: number | undefined;

export function fuzzConfig(defaultIterations: number): FuzzConfig {
  const seedText = process.env.STELLA_FUZZ_SEED;
  let seed: number;
  if (seedText === 'random') seed = randomSeed ??= Math.floor(Math.random() * 2 ** 32);
  else seed = (envNumber('STELLA_FUZZ_SEED') ?? DEFAULT_SEED) >>> 0;
  const seconds = envNumber('STELLA_FUZZ_SECONDS');
  const iterations =
    envNumber('STELLA_FUZZ_ITERATIONS') ??
    (seconds !== undefined ? Number.MAX_SAFE_INTEGER : defaultIterations);
  return { seed, iterations, seconds: seconds ?? 60, from: envNumber('STELLA_FUZZ_FROM') ?? 0 };
}

/** What one iteration produced. */
export type IterationResult =
  /** Nothing was produced to judge (the test's own construction refused a value). */
  | { kind: 'skipped' }
  | { kind: 'refused'; code: string }
  | { kind: 'accepted'; by: string }
  | { kind: 'known-crash'; id: string }
  | {
      kind: 'failure';
      problem: string;
      error?: unknown;
      input: Uint8Array | string;
      minimize?: (input: Uint8Array) => Promise<boolean>;
    };

export interface FuzzTarget {
  /** Names the PRNG stream: changing it changes every input. */
  name: string;
  defaultIterations: number;
  run(rng: Prng, trail: Trail, iteration: number): Promise<IterationResult> | IterationResult;
}

/**
 * A target over named seeds: each iteration picks one (named first in the trail), mutates it
 * and judges the result against that seed.
 */
export function seededTarget<S extends { name: string }, I>(
  name: string,
  defaultIterations: number,
  seeds: readonly S[],
  mutate: (rng: Prng, s: S, trail: Trail) => I,
  judge: (s: S, input: I) => Promise<IterationResult> | IterationResult,
): FuzzTarget {
  return {
    name,
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(seeds);
      trail.push(`seed ${s.name}`);
      return judge(s, mutate(rng, s, trail));
    },
  };
}

export interface FuzzStats {
  iterations: number;
  ms: number;
  outcomes: Map<string, number>;
  stoppedByClock: boolean;
}

function hexDump(b: Uint8Array, max = 512): string {
  const lines: string[] = [];
  for (let i = 0; i < Math.min(b.length, max); i += 32)
    lines.push(
      `  ${i.toString(16).padStart(6, '0')}  ${Buffer.from(b.subarray(i, Math.min(i + 32, max))).toString('hex')}`,
    );
  if (b.length > max) lines.push(`  ... ${b.length - max} more bytes`);
  return lines.join('\n');
}

/**
 * Shrink a failing byte input (ddmin-style chunk removal, then byte zeroing), keeping it
 * failing. Bounded: at most `budget` attempts.
 */
export async function minimizeBytes(
  input: Uint8Array,
  stillFails: (b: Uint8Array) => Promise<boolean>,
  budget = 400,
): Promise<Uint8Array> {
  let cur = input;
  let tries = 0;
  for (let chunk = Math.max(1, cur.length >> 1); chunk >= 1 && tries < budget; chunk = chunk >> 1) {
    for (let at = 0; at < cur.length && tries < budget;) {
      const next = new Uint8Array([...cur.subarray(0, at), ...cur.subarray(at + chunk)]);
      tries++;
      if (next.length > 0 && (await stillFails(next))) cur = next;
      else at += chunk;
    }
  }
  return cur;
}

function outcomeKey(r: IterationResult): string {
  switch (r.kind) {
    case 'refused':
      return `refused ${r.code}`;
    case 'accepted':
      return `accepted (${r.by})`;
    case 'known-crash':
      return `KNOWN CRASH ${r.id}`;
    default:
      return r.kind;
  }
}

/** Run a target; fails the test at the first failing iteration. */
export async function runFuzz(t: ExecutionContext, target: FuzzTarget): Promise<FuzzStats> {
  const cfg = fuzzConfig(target.defaultIterations);
  // Ava's inactivity timeout must not stop a long run: tell it how long this one may take.
  t.timeout(cfg.seconds * 1000 + 120_000);
  const started = Date.now();
  const outcomes = new Map<string, number>();
  let done = 0;
  let stoppedByClock = false;
  let slowest = { ms: 0, iteration: -1 };
  const end = cfg.from + cfg.iterations;
  for (let i = cfg.from; i < end; i++) {
    if (Date.now() - started > cfg.seconds * 1000) {
      stoppedByClock = true;
      break;
    }
    const rng = new Prng(iterationSeed(cfg.seed, target.name, i));
    const trail: Trail = [];
    let r: IterationResult;
    const t0 = performance.now();
    try {
      r = await target.run(rng, trail, i);
    } catch (e) {
      // The harness or the test's own construction threw: still a failure to look at.
      r = { kind: 'failure', problem: 'the fuzz target itself threw', error: e, input: '' };
    }
    // The slowest input is reported (never judged: the clock is not reproducible) as a lead
    // for size/count limits that are missing.
    const took = performance.now() - t0;
    if (took > slowest.ms) slowest = { ms: took, iteration: i };
    done++;
    if (r.kind === 'failure') {
      await report(t, cfg, target, i, trail, r);
      break;
    }
    const k = outcomeKey(r);
    outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    // Let ava's IPC and timers breathe on long runs.
    if (done % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const ms = Date.now() - started;
  const summary = [...outcomes.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  t.log(
    `${target.name}: seed 0x${cfg.seed.toString(16)}, ${done} iterations in ${(ms / 1000).toFixed(1)} s (${Math.round((done * 1000) / Math.max(ms, 1))}/s)${stoppedByClock ? ` — stopped by the ${cfg.seconds} s clock cap` : ''}; slowest iteration ${slowest.iteration} (${Math.round(slowest.ms)} ms): ${summary}`,
  );
  return { iterations: done, ms, outcomes, stoppedByClock };
}

async function report(
  t: ExecutionContext,
  cfg: FuzzConfig,
  target: FuzzTarget,
  i: number,
  trail: Trail,
  r: Extract<IterationResult, { kind: 'failure' }>,
): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-fuzz-'));
  const file = path.join(dir, `${target.name.replace(/[^a-z0-9-]/gi, '_')}-${i}.bin`);
  const bytes = typeof r.input === 'string' ? Buffer.from(r.input, 'utf8') : r.input;
  writeFileSync(file, bytes);
  let shown = bytes;
  if (r.minimize && bytes.length > 0) {
    try {
      shown = await minimizeBytes(bytes, r.minimize);
      writeFileSync(`${file}.min`, shown);
    } catch {
      shown = bytes;
    }
  }
  const lines = [
    `FUZZ FAILURE in ${target.name}: ${r.problem}`,
    `  seed 0x${cfg.seed.toString(16)}, iteration ${i}`,
    `  replay: STELLA_FUZZ_SEED=0x${cfg.seed.toString(16)} STELLA_FUZZ_FROM=${i} STELLA_FUZZ_ITERATIONS=1 npx ava dist/test/fuzz/fuzz.test.js --match '*${target.name}*'`,
    `  mutations:\n${trail.map((s) => `    - ${s.slice(0, 300)}`).join('\n') || '    (none)'}`,
    r.error !== undefined
      ? `  error: ${inspect(r.error, { depth: 2 }).split('\n').slice(0, 12).join('\n  ')}`
      : '',
    `  input: ${bytes.length} bytes in ${file}${shown !== bytes ? ` (minimized to ${shown.length} bytes: ${file}.min)` : ''}`,
    hexDump(shown),
  ].filter(Boolean);
  t.fail(lines.join('\n'));
}
