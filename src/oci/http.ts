/**
 * HTTP for registries, on `fetch`, with the limits discipline of the tar reader: every answer
 * has a size limit checked against Content-Length before reading and enforced while
 * streaming (never more than limit + one chunk buffered), every request a timeout, redirects
 * are followed by hand (at most REGISTRY_LIMITS.maxRedirects, never from HTTPS to HTTP, the
 * Authorization header dropped when the origin changes), and plain HTTP is used only where
 * the insecure rule allows it (./transport-policy below).
 *
 * Errors never carry credentials: messages name the method, the URL without query string
 * and the status, and the registry's own error text is passed through `redact`.
 */
import { isIP } from 'node:net';
import { StellaError, type ErrorCode } from '../errors.js';
import { BUNDLE_LIMITS } from '../bundle/model.js';
import { readBodyWithin } from '../util/http-body.js';
import { isPlainObject } from '../util/json.js';
import { serverText } from '../util/text.js';
import { isRetryableStatus, withRetries } from '../util/retry.js';
import { networkFailure } from '../util/network-failure.js';

export const REGISTRY_LIMITS = {
  /** An image or artifact manifest, a referrers index (the spec asks registries to take 4 MiB). */
  maxManifestBytes: 4 * 1024 * 1024,
  /** A Sigstore bundle layer: the same limit as a --bundle file. */
  maxBundleBytes: BUNDLE_LIMITS.maxBytes,
  /** An error body, a token answer, the /v2/ probe: read only this much. */
  maxSmallBodyBytes: 64 * 1024,
  /** Referrers of one image considered (across pages and the fallback index). */
  maxReferrers: 1024,
  /** Pages of a referrers answer followed (Link: rel="next"). */
  maxReferrerPages: 16,
  maxRedirects: 5,
  /** Per request, connection to last byte. */
  timeoutMs: 30_000,
  /** Retries after the first attempt, for connection errors, 408, 429 and 5xx. */
  retries: 2,
} as const;

export interface TransportOptions {
  /** Plain HTTP allowed to loopback registries (and to hosts in `insecureHosts`). */
  allowInsecure?: boolean;
  /** Non-loopback `host[:port]`s allowed over plain HTTP too (STELLA_INSECURE_REGISTRIES), only with allowInsecure. */
  insecureHosts?: readonly string[];
  timeoutMs?: number;
  retries?: number;
  /** Backoff before retry n (1-based), ms. */
  backoffMs?: (attempt: number) => number;
  fetchImpl?: typeof fetch;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH';
  url: URL;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Largest body accepted from the answer (any status). */
  maxBytes: number;
  /** What is fetched, for messages ("manifest sha256:…", "referrers index"). */
  what: string;
  /** Authorization value for this request's origin (dropped on a redirect to another origin). */
  authorization?: string | undefined;
  /** Code for an answer over maxBytes; default REGISTRY_LIMIT_EXCEEDED. */
  limitCode?: ErrorCode;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /** The URL that answered (after redirects). */
  url: URL;
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** The scheme a registry host is contacted with: HTTPS unless the insecure rule allows HTTP. */
export function schemeFor(hostPort: string, opts: TransportOptions): 'http' | 'https' {
  if (!opts.allowInsecure) return 'https';
  const host = hostPort.replace(/:\d+$/, '');
  if (isLoopbackHost(host)) return 'http';
  if (
    (opts.insecureHosts ?? []).some(
      (h) => h.toLowerCase() === hostPort.toLowerCase() || h.toLowerCase() === host.toLowerCase(),
    )
  )
    return 'http';
  return 'https';
}

/** May this URL be fetched? HTTPS always; HTTP only where schemeFor would choose it. */
export function checkUrlAllowed(url: URL, opts: TransportOptions, what: string): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && schemeFor(url.host, opts) === 'http') return;
  const why =
    url.protocol === 'http:'
      ? 'plain HTTP is used only for loopback registries with --allow-insecure-registry (other hosts must also be listed in STELLA_INSECURE_REGISTRIES)'
      : `scheme ${url.protocol} is not allowed`;
  throw new StellaError(
    'REGISTRY_INSECURE',
    'registry',
    `${what}: refused ${describeUrl(url)}: ${why}`,
  );
}

/** A URL for messages: origin and path only (a query string may carry upload state or tokens). */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

function unavailable(what: string, url: URL, reason: string, cause?: unknown): StellaError {
  return new StellaError(
    'REGISTRY_UNAVAILABLE',
    'registry',
    `registry unavailable: ${what} from ${describeUrl(url)}: ${reason}`,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

async function readBounded(res: Response, req: HttpRequest, url: URL): Promise<Uint8Array> {
  if (req.method === 'HEAD') return new Uint8Array(0);
  return readBodyWithin(res, {
    maxBytes: req.maxBytes,
    what: `${req.what} from ${describeUrl(url)}`,
    code: req.limitCode ?? 'REGISTRY_LIMIT_EXCEEDED',
    check: 'registry',
  });
}

/** Why fetch could not get an answer, as REGISTRY_UNAVAILABLE, with a hint for HTTPS to a loopback registry. */
function fetchFailed(e: unknown, url: URL, timeoutMs: number, what: string): StellaError {
  let reason = networkFailure(e, timeoutMs).reason;
  if (url.protocol === 'https:' && isLoopbackHost(url.hostname))
    reason += ' (a plain-HTTP loopback registry needs --allow-insecure-registry)';
  return unavailable(what, url, reason, e);
}

/** Where a redirect leads: a Location, within the redirect limit, never from HTTPS to anything else. */
async function redirectTarget(
  res: Response,
  url: URL,
  req: HttpRequest,
  hop: number,
): Promise<URL> {
  await res.body?.cancel().catch(() => undefined);
  const location = res.headers.get('location');
  if (location === null)
    throw new StellaError(
      'REGISTRY_RESPONSE_INVALID',
      'registry',
      `${req.what}: ${describeUrl(url)} answered ${res.status} without a Location`,
    );
  if (hop >= REGISTRY_LIMITS.maxRedirects)
    throw new StellaError(
      'REGISTRY_RESPONSE_INVALID',
      'registry',
      `${req.what}: more than ${REGISTRY_LIMITS.maxRedirects} redirects from ${describeUrl(req.url)}`,
    );
  let next: URL;
  try {
    next = new URL(location, url);
  } catch (e) {
    throw new StellaError(
      'REGISTRY_RESPONSE_INVALID',
      'registry',
      `${req.what}: ${describeUrl(url)} redirected to an invalid URL`,
      undefined,
      { cause: e },
    );
  }
  if (url.protocol === 'https:' && next.protocol !== 'https:') {
    throw new StellaError(
      'REGISTRY_INSECURE',
      'registry',
      `${req.what}: refused a redirect from ${describeUrl(url)} to ${next.protocol}//${next.host}: never from HTTPS to anything else`,
    );
  }
  return next;
}

/** One request, redirects followed by hand; no retries. */
async function sendOnce(req: HttpRequest, opts: TransportOptions): Promise<HttpResponse> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const timeoutMs = opts.timeoutMs ?? REGISTRY_LIMITS.timeoutMs;
  const signal = AbortSignal.timeout(timeoutMs);
  let url = req.url;
  let method = req.method;
  let body = req.body;
  const origin = req.url.origin;
  for (let hop = 0; ; hop++) {
    checkUrlAllowed(url, opts, req.what);
    const headers: Record<string, string> = { ...req.headers };
    // Credentials go only to the origin they were meant for, never along a redirect elsewhere.
    if (req.authorization !== undefined && url.origin === origin)
      headers.Authorization = req.authorization;
    let res: Response;
    try {
      res = await fetchImpl(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        redirect: 'manual',
        signal,
      });
    } catch (e) {
      throw fetchFailed(e, url, timeoutMs, req.what);
    }
    if (REDIRECT.has(res.status)) {
      const next = await redirectTarget(res, url, req, hop);
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      url = next;
      continue;
    }
    try {
      return {
        status: res.status,
        headers: res.headers,
        body: await readBounded(res, req, url),
        url,
      };
    } catch (e) {
      if (e instanceof StellaError) throw e;
      throw unavailable(req.what, url, networkFailure(e, timeoutMs).reason, e);
    }
  }
}

/**
 * A request with retries for connection errors, timeouts, 408, 429 and 5xx (every request a
 * registry client makes is safe to repeat: blob and manifest PUTs are content-addressed or
 * idempotent). The last answer is returned whatever its status; only a failure to get any
 * answer throws (REGISTRY_UNAVAILABLE), or a limit or policy refusal.
 */
export async function send(req: HttpRequest, opts: TransportOptions): Promise<HttpResponse> {
  const outcome = await withRetries(
    {
      retries: opts.retries ?? REGISTRY_LIMITS.retries,
      backoffMs: opts.backoffMs ?? ((n: number) => 200 * 2 ** (n - 1)),
    },
    () => sendOnce(req, opts),
    {
      retryable: (res) => isRetryableStatus(res.status),
      failed: (e) => {
        // Only a failure to get an answer is worth another try; a limit or policy refusal is final.
        if (!(e instanceof StellaError) || e.code !== 'REGISTRY_UNAVAILABLE') throw e;
        return { failure: e, permanent: false };
      },
    },
  );
  if (outcome.ok) return outcome.answer;
  throw outcome.failure;
}

/**
 * The registry cannot be reached or refuses our credentials: that stops a whole pull, where
 * any other failure refuses only the one item it came from.
 */
export function isRegistryOutage(e: unknown): e is StellaError {
  return (
    e instanceof StellaError &&
    (e.code === 'REGISTRY_UNAVAILABLE' || e.code === 'REGISTRY_AUTH_FAILED')
  );
}

/** The registry's own error text (distribution spec error codes), short, for messages. */
export function registryErrorText(body: Uint8Array): string {
  if (body.byteLength === 0) return '';
  const text = Buffer.from(body.subarray(0, REGISTRY_LIMITS.maxSmallBodyBytes)).toString('utf8');
  try {
    const parsed = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(parsed.errors)) {
      const parts = parsed.errors
        .slice(0, 3)
        .map((e: unknown) =>
          (isPlainObject(e) ? [e['code'], e['message']] : [])
            .filter((x) => typeof x === 'string')
            .join(': '),
        );
      const joined = parts.filter((p) => p.length > 0).join('; ');
      if (joined) return serverText(joined);
    }
  } catch {
    // not JSON: a short excerpt
  }
  return serverText(text);
}
