/**
 * Verifying many archived bundles: in process (--jobs 1) or on N worker threads, each with its
 * own verifier; the trust material and policy are parsed once by the caller and shared. Jobs
 * go out in archive order, at most `window` in flight (so memory stays flat however large the
 * archive), and verdicts come back in that same order whichever thread finished first.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from '../util/os.js';
import { fail } from '../errors.js';
import {
  verifyArchivedBundle,
  type ArchivedBundle,
  type BundleVerdict,
  type VerdictOptions,
} from './verdict.js';
import type { TrustMaterial } from '../model/trust-material.js';
import type { PolicyOptions, VerificationPolicy } from '../verify/policy.js';

/**
 * The most verifier threads one pool starts. Each costs ~13 MB and start-up time, so far more
 * than the cores only loses (README, "Parallel"); a bound keeps a slip of the keyboard from
 * starting a million threads.
 */
export const MAX_JOBS = 9999;

/** Bundles per message to a worker (and verdicts per message back). */
const BATCH = 8;

/**
 * The fewest bundles the default --jobs gives each worker thread. A thread costs ~30 ms to
 * reach a loaded verifier (bin/shipment-worker.js) and ~13 MB, where one bundle costs ~1.1 ms
 * in process. Measured on 2 cores (README, "Parallel"), whole runs: `--jobs 2` took 1.31× the
 * time of `--jobs 1` for 8 bundles, 1.04× for 128, 0.97× for 256, 0.87× for 512, 0.75× for
 * 1,000. (256 until stop 37, when a thread took ~60 ms to load the modules of dist/src.)
 */
export const BUNDLES_PER_THREAD = 128;

/**
 * Each worker's young generation, pinned at what Node 20 and 22 give a worker by default. Node
 * 24 gives 192 MB, and a worker fills it with short-lived parse objects before it collects:
 * `verify --archive --jobs 2` over 10,000 bundles peaked at ~530 MB on Node 24.22 against ~265 MB
 * on 20.20, equally fast. Pinned, Node 24 peaks at ~320 MB, as fast or faster (README,
 * "Other Node.js releases"). Only the young generation is limited: nothing here can end a worker.
 */
const WORKER_YOUNG_GENERATION_MB = 48;

/**
 * Verifier threads for the default --jobs: one per core the process can use, but no more than
 * the shipment repays, at least BUNDLES_PER_THREAD bundles each; 1 (in process) for a shipment
 * of fewer than two threads' worth. Before, every core got a thread: three bundles on a
 * 64-core machine started 64 threads (~830 MB), and on 2 cores a shipment of 8 bundles took
 * 230 ms where in process took 136. A --jobs the user gives is taken as given.
 */
export function defaultJobs(bundles: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.floor(bundles / BUNDLES_PER_THREAD)));
}

// Defined by the verify bundle's banner (scripts/bundle-verify.ts), in the bundle's scope only.
declare const __stellaBundleUrl: (() => string) | undefined;

/**
 * The script each worker thread runs. Inside the verify bundle (the CLI's `attest verify`),
 * bin/shipment-worker.js, which loads the same bundle from its code cache: a thread reaches a
 * loaded verifier in ~30 ms instead of ~60 ms for the modules of dist/src, and its first bundles
 * run compiled code. Anywhere else (the library), ./worker.js. The bundle gives this module the
 * URL it has in dist/src, so the relative path is the same in both.
 */
export function verifierWorkerEntry(): URL {
  return typeof __stellaBundleUrl === 'function'
    ? new URL('../../../bin/shipment-worker.js', import.meta.url)
    : new URL('./worker.js', import.meta.url);
}

/** What a worker is sent: a batch of these. */
export interface WorkerJob {
  id: number;
  bundle: ArchivedBundle;
}

/** What a worker answers: one of these per job of the batch, in the batch's order. */
export interface WorkerAnswer {
  id: number;
  verdict: BundleVerdict;
}

export interface VerifierPool {
  /** Verify one bundle; the promise settles with its verdict. */
  submit(bundle: ArchivedBundle): Promise<BundleVerdict>;
  close(): Promise<void>;
  readonly jobs: number;
  /**
   * How many bundles the caller keeps submitted ahead of the one it waits for (verdicts are
   * settled in archive order): enough to keep every verifier busy, few enough that memory
   * stays flat.
   */
  readonly window: number;
}

/** `policyOptions` (plain data) is what each worker builds its own `policy` from. */
export function createVerifierPool(
  jobs: number,
  trust: TrustMaterial,
  policy: VerificationPolicy,
  policyOptions: PolicyOptions,
  verdictOptions: VerdictOptions = {},
): VerifierPool {
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS)
    fail(
      'INPUT_INVALID',
      'input',
      `jobs must be a whole number from 1 to ${MAX_JOBS}, not ${jobs}`,
    );
  if (jobs === 1) {
    return {
      jobs: 1,
      window: 8,
      submit: (b) => verifyArchivedBundle(b, trust, policy, verdictOptions),
      close: async () => {},
    };
  }
  const waiting = new Map<
    number,
    { resolve: (v: BundleVerdict) => void; reject: (e: unknown) => void }
  >();
  const load = new Array<number>(jobs).fill(0);
  const entry = verifierWorkerEntry();
  // Set by the first worker that fails or stops before close(): every verdict in flight and
  // every later submit is rejected with it. A stopped worker answers nothing, and its queued
  // batches would otherwise be waited for as long as the other workers keep the process alive.
  let failure: Error | undefined;
  let closing = false;
  const failAll = (e: unknown): void => {
    failure ??= e instanceof Error ? e : new Error(String(e));
    for (const [id, p] of waiting) {
      waiting.delete(id);
      p.reject(failure);
    }
  };
  const workers = Array.from({ length: jobs }, (_, index) => {
    const w = new Worker(entry, {
      workerData: { trust, policyOptions, verdictOptions },
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    w.on('message', (verdicts: WorkerAnswer[]) => {
      load[index]! -= verdicts.length;
      for (const { id, verdict } of verdicts) {
        const done = waiting.get(id);
        waiting.delete(id);
        done?.resolve(verdict);
      }
    });
    w.on('error', failAll);
    // After 'error' too (the error is kept); on its own when the worker called process.exit or
    // its event loop emptied with a batch unanswered (worker.ts unrefs its port while busy, so
    // a verification waiting on something that will never come ends the thread, not the run).
    w.on('exit', (code) => {
      if (!closing)
        failAll(
          new Error(`a verifier worker thread stopped (exit code ${code}) before it answered`),
        );
    });
    return w;
  });
  // Bundles go out in batches of up to BATCH, one message each way per batch: a message per
  // bundle woke the other thread per bundle, and on a machine with as many threads as cores
  // those wake-ups preempted a verifying thread. A batch waits at most until the current turn
  // of the event loop ends (setImmediate), so a short archive is not held back.
  let batch: WorkerJob[] = [];
  let batchWorker = 0;
  let flushScheduled = false;
  const flush = (): void => {
    flushScheduled = false;
    if (batch.length === 0) return;
    const jobsOut = batch;
    batch = [];
    workers[batchWorker]!.postMessage(
      jobsOut,
      jobsOut.map((j) => j.bundle.bytes.buffer as ArrayBuffer),
    );
  };
  let next = 0;
  return {
    jobs,
    // Four batches per worker: one being verified, the next queued, and room to refill.
    window: jobs * 4 * BATCH,
    submit(bundle) {
      if (failure !== undefined) return Promise.reject(failure);
      const id = next++;
      if (batch.length === 0) {
        // Least-loaded worker for each batch (ties: round robin), so one slow batch does not
        // stall a queue.
        batchWorker = Math.floor(id / BATCH) % jobs;
        for (let i = 0; i < jobs; i++) if (load[i]! < load[batchWorker]!) batchWorker = i;
      }
      load[batchWorker]!++;
      return new Promise<BundleVerdict>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        // A bundle read from an archive is a view into a 256 KiB read chunk, and a posted view
        // takes its whole buffer along (copied, measured: ~200 µs a message, not the bundle's
        // ~6 KB). So the worker gets its own copy of just the bundle, moved, not copied again.
        const bytes = bundle.bytes.slice();
        batch.push({ id, bundle: { ...bundle, bytes } });
        if (batch.length >= BATCH) flush();
        else if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
