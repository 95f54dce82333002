import test from 'ava';
import { isRetryableStatus, withRetries, type RetryJudge } from '../../src/util/retry.js';

const now = { retries: 3, backoffMs: () => 0 };

/** Answers are statuses; a thrown Error's message is the failure, permanent when it says so. */
const judge: RetryJudge<number, string> = {
  retryable: isRetryableStatus,
  failed: (e) => {
    const message = (e as Error).message;
    if (message === 'fatal') throw e;
    return { failure: message, permanent: message === 'permanent' };
  },
};

/** An attempt that gives each scripted outcome in turn, and counts the attempts made. */
function script(outcomes: (number | string)[]): {
  attempt: () => Promise<number>;
  made: () => number;
} {
  let n = 0;
  return {
    attempt: () => {
      const o = outcomes[n++];
      return typeof o === 'number' ? Promise.resolve(o) : Promise.reject(new Error(o));
    },
    made: () => n,
  };
}

test('retryable statuses are 408, 429 and 5xx only', (t) => {
  t.deepEqual([200, 301, 400, 404, 408, 429, 500, 503].map(isRetryableStatus), [
    false,
    false,
    false,
    false,
    true,
    true,
    true,
    true,
  ]);
});

test('an answer that is not retryable is returned at once', async (t) => {
  const s = script([404, 200]);
  t.deepEqual(await withRetries(now, s.attempt, judge), { ok: true, answer: 404, attempts: 1 });
  t.is(s.made(), 1);
});

test('retryable answers and failures are tried again until an answer that is final', async (t) => {
  const s = script([503, 'ECONNRESET', 429, 201]);
  t.deepEqual(await withRetries(now, s.attempt, judge), { ok: true, answer: 201, attempts: 4 });
});

test('when the attempts run out, the last outcome is returned, answer or failure', async (t) => {
  t.deepEqual(await withRetries(now, script([500, 500, 500, 502, 200]).attempt, judge), {
    ok: true,
    answer: 502,
    attempts: 4,
  });
  t.deepEqual(await withRetries(now, script([500, 500, 500, 'ETIMEDOUT']).attempt, judge), {
    ok: false,
    failure: 'ETIMEDOUT',
    attempts: 4,
  });
});

test('a permanent failure ends the loop; a failure the judge throws ends it with that error', async (t) => {
  const s = script(['permanent', 200]);
  t.deepEqual(await withRetries(now, s.attempt, judge), {
    ok: false,
    failure: 'permanent',
    attempts: 1,
  });
  await t.throwsAsync(withRetries(now, script([500, 'fatal', 200]).attempt, judge), {
    message: 'fatal',
  });
});

test('the backoff is asked for each retry, 1-based, and never before the first attempt', async (t) => {
  const asked: number[] = [];
  await withRetries(
    { retries: 2, backoffMs: (n) => (asked.push(n), 0) },
    script([500, 500, 500]).attempt,
    judge,
  );
  t.deepEqual(asked, [1, 2]);
});
