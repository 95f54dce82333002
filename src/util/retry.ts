/**
 * The one retry loop, shared by the signing-side clients (sign/http.ts) and the registry
 * client (oci/http.ts). Each caller keeps its own policy: how many retries, the backoff, and
 * which failures end the loop at once; the loop itself (when to wait, what counts as the last
 * outcome) is written once here.
 */

/**
 * Block this thread for `ms`: the wait of a synchronous retry (a SQLite lock, a non-blocking
 * pipe's EAGAIN), where there is no event loop turn to wait for.
 */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Answers worth asking again for: timeouts, throttling and server errors. Any other is the server's decision. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export interface RetrySchedule {
  /** Attempts after the first. */
  retries: number;
  /** Wait before retry n (1-based), ms. */
  backoffMs: (retry: number) => number;
}

export interface RetryJudge<R, F> {
  /** An answer to ask again for; any other is returned at once. */
  retryable: (answer: R) => boolean;
  /**
   * A failed attempt (`attempt` threw): throw to end the loop with that error, or say what the
   * failure is reported as and whether trying again could help.
   */
  failed: (e: unknown, attempt: number) => { failure: F; permanent: boolean };
}

export type RetryOutcome<R, F> =
  { ok: true; answer: R; attempts: number } | { ok: false; failure: F; attempts: number };

/**
 * Up to `schedule.retries + 1` attempts (at least one), waiting `backoffMs(n)` before retry n.
 * The outcome is the first answer that is not retryable, a permanent failure, or else whatever
 * the last attempt gave.
 */
export async function withRetries<R, F>(
  schedule: RetrySchedule,
  attempt: (n: number) => Promise<R>,
  judge: RetryJudge<R, F>,
): Promise<RetryOutcome<R, F>> {
  const attempts = Math.max(0, schedule.retries) + 1;
  let last: RetryOutcome<R, F> | undefined;
  for (let n = 1; n <= attempts; n++) {
    if (n > 1) await new Promise((r) => setTimeout(r, schedule.backoffMs(n - 1)));
    try {
      const answer = await attempt(n);
      last = { ok: true, answer, attempts: n };
      if (!judge.retryable(answer)) return last;
    } catch (e) {
      const { failure, permanent } = judge.failed(e, n);
      last = { ok: false, failure, attempts: n };
      if (permanent) return last;
    }
  }
  return last!;
}
