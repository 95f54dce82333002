/**
 * JSON over HTTP with a per-attempt timeout and a bounded number of retries. Retries happen
 * only where repeating is safe and may help: connection failures, timeouts, 408, 429, 5xx.
 * A 4xx answer is the server's decision and is returned at once.
 */
import { parseJsonStrict, type StrictJsonOptions } from '../util/json.js';
import { logDebug } from '../util/log.js';

export interface RetryPolicy {
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** Backoff before retry n (1-based), ms. Kept small: the signer waits in a CI job. */
  backoffMs?: (attempt: number) => number;
}

export type HttpOutcome =
  | {
      kind: 'response';
      status: number;
      body: unknown;
      text: string;
      headers: Headers;
      attempts: number;
    }
  | { kind: 'unreachable'; reason: string; attempts: number };

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

const retryableStatus = (s: number) => s === 408 || s === 429 || s >= 500;

/**
 * Why a request failed, as the user needs it: the errno (ECONNREFUSED, ENOTFOUND...) or the
 * reason fetch gives (a bad port, an invalid URL), never a bare "fetch failed". A failure with
 * no network errno behind it (the URL itself cannot work) is permanent: not retried.
 */
export function networkFailure(
  e: unknown,
  timeoutMs: number,
): { reason: string; permanent: boolean } {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError')
    return { reason: `timed out after ${timeoutMs} ms`, permanent: false };
  if (err.cause?.code)
    return {
      reason: `${err.cause.code}${err.cause.message && !err.cause.message.includes(err.cause.code) ? ` (${err.cause.message})` : ''}`,
      permanent: false,
    };
  return { reason: err.cause?.message ?? err.message, permanent: true };
}

export async function requestJson(
  req: JsonRequest,
  policy: RetryPolicy,
  fetchImpl: typeof fetch = fetch,
): Promise<HttpOutcome> {
  const backoff = policy.backoffMs ?? ((n: number) => Math.min(2000, 100 * 2 ** (n - 1)));
  let last: HttpOutcome = { kind: 'unreachable', reason: 'no attempt made', attempts: 0 };
  for (let attempt = 1; attempt <= policy.retries + 1; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, backoff(attempt - 1)));
    try {
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
      const text = await res.text();
      let body: unknown = undefined;
      try {
        // Strict (duplicate keys refused): a service's answer is untrusted input like any other.
        body = text.length > 0 ? parseJsonStrict(text, RESPONSE_LIMITS) : undefined;
      } catch {
        body = undefined;
      }
      last = {
        kind: 'response',
        status: res.status,
        body,
        text,
        headers: res.headers,
        attempts: attempt,
      };
      logDebug(`${req.url}: HTTP ${res.status}, ${text.length} bytes`);
      if (!retryableStatus(res.status)) return last;
    } catch (e) {
      const { reason, permanent } = networkFailure(e, policy.timeoutMs);
      last = { kind: 'unreachable', reason, attempts: attempt };
      logDebug(`${req.url}: attempt ${attempt} failed: ${reason}`);
      if (permanent) return last;
    }
  }
  return last;
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
  | { kind: 'unreachable'; reason: string; attempts: number };

/**
 * A binary POST (an RFC 3161 TimeStampReq) with the same timeout and retry rules as
 * requestJson. The answer is read up to `maxBytes`; a longer one is cut there (the caller's
 * parser refuses it).
 */
export async function requestBytes(
  req: { url: string; body: Uint8Array; contentType: string; accept: string },
  policy: RetryPolicy,
  fetchImpl: typeof fetch = fetch,
  maxBytes = 1024 * 1024,
): Promise<BytesOutcome> {
  const backoff = policy.backoffMs ?? ((n: number) => Math.min(2000, 100 * 2 ** (n - 1)));
  let last: BytesOutcome = { kind: 'unreachable', reason: 'no attempt made', attempts: 0 };
  for (let attempt = 1; attempt <= policy.retries + 1; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, backoff(attempt - 1)));
    try {
      const res = await fetchImpl(req.url, {
        method: 'POST',
        headers: { Accept: req.accept, 'Content-Type': req.contentType },
        body: req.body,
        signal: AbortSignal.timeout(policy.timeoutMs),
        redirect: 'error',
      });
      const buf = new Uint8Array(await res.arrayBuffer());
      last = {
        kind: 'response',
        status: res.status,
        body: buf.length > maxBytes ? buf.slice(0, maxBytes) : buf,
        contentType: res.headers.get('content-type') ?? '',
        headers: res.headers,
        attempts: attempt,
      };
      if (!retryableStatus(res.status)) return last;
    } catch (e) {
      const { reason, permanent } = networkFailure(e, policy.timeoutMs);
      last = { kind: 'unreachable', reason, attempts: attempt };
      logDebug(`${req.url}: attempt ${attempt} failed: ${reason}`);
      if (permanent) return last;
    }
  }
  return last;
}

/** A short description of a failed outcome for error messages (server message if JSON). */
export function describeOutcome(o: HttpOutcome): string {
  if (o.kind === 'unreachable')
    return `${o.reason} (${o.attempts} attempt${o.attempts === 1 ? '' : 's'})`;
  const msg = (o.body as { message?: unknown } | undefined)?.message;
  const detail = typeof msg === 'string' ? msg : o.text.slice(0, 200);
  return `HTTP ${o.status}${detail ? `: ${detail}` : ''}`;
}
