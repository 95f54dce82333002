/**
 * JSON over HTTP with a per-attempt timeout and a bounded number of retries. Retries happen
 * only where repeating is safe and may help: connection failures, timeouts, 408, 429, 5xx.
 * A 4xx answer is the server's decision and is returned at once. One retry loop
 * (util/retry.ts, with this policy) serves JSON and binary requests; every answer is read within a size limit
 * (util/http-body.ts) and one over it is refused, never cut or retried.
 */
import { StellaError } from '../errors.js';
import { readBodyWithin, type BodyLimit } from '../util/http-body.js';
import { parseJsonStrict, type StrictJsonOptions } from '../util/json.js';
import { logDebug } from '../util/log.js';
import { isRetryableStatus, withRetries } from '../util/retry.js';
import { networkFailure } from '../util/network-failure.js';
import { serverText } from '../util/text.js';

export interface RetryPolicy {
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** Backoff before retry n (1-based), ms. Kept small: the signer waits in a CI job. */
  backoffMs?: (attempt: number) => number;
}

type Unreachable = { kind: 'unreachable'; reason: string; attempts: number };

export type HttpOutcome =
  | {
      kind: 'response';
      status: number;
      body: unknown;
      text: string;
      headers: Headers;
      attempts: number;
    }
  | Unreachable;

export interface JsonRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Fulcio and Rekor answers: a certificate chain or a log entry, far below this. */
const RESPONSE_LIMITS: StrictJsonOptions = {
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  what: 'service response',
  code: 'INPUT_INVALID',
  check: 'signing',
};

/**
 * The signing-side clients' retry policy over util/retry.ts's loop: up to `policy.retries + 1`
 * attempts with backoff between them. `attempt` makes one request and reads its answer; an
 * answer with a retryable status (408, 429, 5xx) is tried again, any other is returned at
 * once. A network failure is retried unless it is permanent (see networkFailure). A
 * StellaError thrown by `attempt` (an answer over its size limit) is not a network failure: it
 * ends the loop.
 */
async function requestWithRetries<R extends { status: number }>(
  url: string,
  policy: RetryPolicy,
  attempt: (n: number) => Promise<R>,
): Promise<(R & { kind: 'response'; attempts: number }) | Unreachable> {
  const outcome = await withRetries(
    {
      retries: policy.retries,
      backoffMs: policy.backoffMs ?? ((n: number) => Math.min(2000, 100 * 2 ** (n - 1))),
    },
    attempt,
    {
      retryable: (answer) => isRetryableStatus(answer.status),
      failed: (e, n) => {
        if (e instanceof StellaError) throw e;
        const { reason, permanent } = networkFailure(e, policy.timeoutMs);
        logDebug(`${url}: attempt ${n} failed: ${reason}`);
        return { failure: reason, permanent };
      },
    },
  );
  return outcome.ok
    ? { ...outcome.answer, kind: 'response', attempts: outcome.attempts }
    : { kind: 'unreachable', reason: outcome.failure, attempts: outcome.attempts };
}

/**
 * A service's JSON answer as the signer reads it: strict (duplicate keys refused, depth and size
 * bounded), since it is untrusted input like any other; undefined when empty or not such JSON,
 * which each client then refuses as its own service's error (no chain, no entry, ...).
 */
export function readServiceJson(bytes: Uint8Array): unknown {
  try {
    return bytes.byteLength > 0 ? parseJsonStrict(bytes, RESPONSE_LIMITS) : undefined;
  } catch {
    return undefined;
  }
}

export async function requestJson(
  req: JsonRequest,
  policy: RetryPolicy,
  fetchImpl: typeof fetch = fetch,
): Promise<HttpOutcome> {
  return requestWithRetries(req.url, policy, async (attempt) => {
    logDebug(`${req.method} ${req.url} (attempt ${attempt} of ${policy.retries + 1})`);
    const res = await fetchImpl(req.url, {
      method: req.method,
      headers: {
        Accept: 'application/json',
        ...(req.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...req.headers,
      },
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      signal: AbortSignal.timeout(policy.timeoutMs),
      redirect: 'error',
    });
    const bytes = await readBodyWithin(res, {
      maxBytes: RESPONSE_LIMITS.maxBytes,
      what: `the answer from ${req.method} ${req.url}`,
      code: 'INPUT_INVALID',
      check: 'signing',
    });
    // The body is parsed from the bytes (strict UTF-8, as every input); the text, decoded
    // leniently but with any byte order mark kept, is only for messages that quote the answer.
    const body = readServiceJson(bytes);
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    logDebug(`${req.url}: HTTP ${res.status}, ${bytes.byteLength} bytes`);
    return { status: res.status, body, text, headers: res.headers };
  });
}

export type BytesOutcome =
  | {
      kind: 'response';
      status: number;
      body: Uint8Array;
      contentType: string;
      headers: Headers;
      attempts: number;
    }
  | Unreachable;

/**
 * A binary request (an RFC 3161 TimeStampReq POSTed, a log's tile or checkpoint fetched) with
 * the same timeout and retry rules as requestJson. An answer over `limit.maxBytes` is refused
 * with the limit's error, not retried.
 */
export async function requestBytes(
  req: {
    method?: 'GET' | 'POST';
    url: string;
    body?: Uint8Array;
    contentType?: string;
    accept?: string;
  },
  policy: RetryPolicy,
  fetchImpl: typeof fetch = fetch,
  limit: Omit<BodyLimit, 'what'> & { what?: string } = {
    maxBytes: 1024 * 1024,
    code: 'INPUT_INVALID',
    check: 'signing',
  },
): Promise<BytesOutcome> {
  const method = req.method ?? 'POST';
  return requestWithRetries(req.url, policy, async () => {
    const res = await fetchImpl(req.url, {
      method,
      headers: {
        ...(req.accept !== undefined ? { Accept: req.accept } : {}),
        ...(req.contentType !== undefined ? { 'Content-Type': req.contentType } : {}),
      },
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal: AbortSignal.timeout(policy.timeoutMs),
      redirect: 'error',
    });
    const body = await readBodyWithin(res, {
      what: `the answer from ${method} ${req.url}`,
      ...limit,
    });
    return {
      status: res.status,
      body,
      contentType: res.headers.get('content-type') ?? '',
      headers: res.headers,
    };
  });
}

/** A short description of a failed outcome for error messages (server message if JSON). */
export function describeOutcome(o: HttpOutcome | Unreachable): string {
  if (o.kind === 'unreachable')
    return `${o.reason} (${o.attempts} attempt${o.attempts === 1 ? '' : 's'})`;
  const msg = (o.body as { message?: unknown } | undefined)?.message;
  const detail = serverText(typeof msg === 'string' ? msg : o.text);
  return `HTTP ${o.status}${detail ? `: ${detail}` : ''}`;
}
