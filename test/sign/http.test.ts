/**
 * The signing side's HTTP: one retry loop (withRetries) under requestJson and requestBytes,
 * against a real server on loopback. Retryable statuses are tried again, others returned at
 * once; an answer over its size limit is refused, not retried and not cut.
 */
import test, { type ExecutionContext } from 'ava';
import type { ServerResponse } from 'node:http';
import { StellaError } from '../../src/errors.js';
import {
  describeOutcome,
  readServiceJson,
  requestBytes,
  requestJson,
  type RetryPolicy,
} from '../../src/sign/http.js';
import { closedPort, serve } from '../helpers/loopback.js';

const POLICY: RetryPolicy = { timeoutMs: 10_000, retries: 2, backoffMs: () => 1 };

/** A loopback server answering the n-th request (1-based) with `answer`; counts requests. */
async function counting(
  t: ExecutionContext,
  answer: (n: number, res: ServerResponse) => void,
): Promise<{ url: string; count: () => number }> {
  let n = 0;
  const base = await serve(t, (_req, res) => answer(++n, res));
  return { url: `${base}/x`, count: () => n };
}

test('requestJson retries 503 and returns the 200 that follows, with its JSON', async (t) => {
  const s = await counting(t, (n, res) => {
    if (n < 3) res.writeHead(503).end('busy');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  const o = await requestJson({ method: 'GET', url: s.url }, POLICY);
  t.is(o.kind, 'response');
  if (o.kind !== 'response') return;
  t.is(o.status, 200);
  t.is(o.attempts, 3);
  t.deepEqual(o.body, { ok: true });
  t.is(s.count(), 3);
});

test('a 4xx is the server decision: returned at once, not retried', async (t) => {
  const s = await counting(t, (_n, res) => res.writeHead(404).end('{"message":"no such"}'));
  const o = await requestJson({ method: 'POST', url: s.url, body: {} }, POLICY);
  t.like(o, { kind: 'response', status: 404, attempts: 1, body: { message: 'no such' } });
  const b = await requestBytes({ url: s.url, body: Uint8Array.of(1) }, POLICY);
  t.like(b, { kind: 'response', status: 404, attempts: 1 });
  t.is(s.count(), 2);
});

test('the retries end: the last retryable answer is returned after retries + 1 attempts', async (t) => {
  const s = await counting(t, (_n, res) => res.writeHead(429).end());
  t.like(await requestBytes({ method: 'GET', url: s.url }, POLICY), {
    kind: 'response',
    status: 429,
    attempts: 3,
  });
  t.is(s.count(), 3);
});

test('nothing listening: unreachable with the errno, after every attempt; said with the count', async (t) => {
  const o = await requestJson({ method: 'GET', url: await closedPort() }, POLICY);
  t.like(o, { kind: 'unreachable', attempts: 3 });
  if (o.kind === 'unreachable') t.regex(o.reason, /ECONNREFUSED/);
  t.regex(describeOutcome(o), /ECONNREFUSED.* \(3 attempts\)$/);
  const once = await requestJson(
    { method: 'GET', url: await closedPort() },
    { ...POLICY, retries: 0 },
  );
  t.regex(describeOutcome(once), / \(1 attempt\)$/);
});

test('an answer over its limit is refused (declared or streamed), not retried and not cut', async (t) => {
  const big = new Uint8Array(300);
  const s = await counting(t, (n, res) => {
    // Odd requests declare their length, even ones stream without it.
    if (n % 2 === 1) res.writeHead(200, { 'content-length': String(big.length) }).end(big);
    else {
      res.writeHead(503, { 'transfer-encoding': 'chunked' });
      res.write(big.subarray(0, 150));
      res.end(big.subarray(150));
    }
  });
  const limit = { maxBytes: 256, code: 'TSA_REJECTED', check: 'signing' } as const;
  const declared = await t.throwsAsync(
    requestBytes({ url: s.url, body: Uint8Array.of(1) }, POLICY, fetch, limit),
    { instanceOf: StellaError },
  );
  t.is(declared?.code, 'TSA_REJECTED');
  t.is(
    declared?.message,
    `the answer from POST ${s.url} is larger than its 256-byte limit (Content-Length 300)`,
  );
  const streamed = await t.throwsAsync(
    requestBytes({ url: s.url, body: Uint8Array.of(1) }, POLICY, fetch, limit),
    { instanceOf: StellaError },
  );
  t.regex(streamed?.message ?? '', /larger than its 256-byte limit \(more than 256 bytes sent\)/);
  // Two requests for two calls: the 503 with an oversize body was not tried again.
  t.is(s.count(), 2);
});

test('requestBytes sends the Accept and Content-Type asked for, and no Accept of its own otherwise; POST unless told', async (t) => {
  const seen: { method: string; accept: string | undefined; type: string | undefined }[] = [];
  const base = await serve(t, (req, res) => {
    seen.push({
      method: req.method ?? '',
      accept: req.headers.accept,
      type: req.headers['content-type'],
    });
    res.writeHead(200).end('ok');
  });
  const url = `${base}/x`;
  await requestBytes(
    {
      url,
      body: Uint8Array.of(1),
      accept: 'application/timestamp-reply',
      contentType: 'application/timestamp-query',
    },
    POLICY,
  );
  await requestBytes({ method: 'GET', url }, POLICY);
  t.deepEqual(seen, [
    {
      method: 'POST',
      accept: 'application/timestamp-reply',
      type: 'application/timestamp-query',
    },
    // fetch's own default, not one of ours.
    { method: 'GET', accept: '*/*', type: undefined },
  ]);
});

test("a service's answer is JSON read strictly from its bytes: a byte order mark or invalid UTF-8 is no JSON, quoted as received", async (t) => {
  t.deepEqual(readServiceJson(Uint8Array.of(0x7b, 0x7d)), {});
  t.is(readServiceJson(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d)), undefined);
  t.is(readServiceJson(Uint8Array.of(0x22, 0xff, 0x22)), undefined);
  t.is(readServiceJson(new Uint8Array(0)), undefined);
  const s = await counting(t, (_n, res) =>
    res.writeHead(200).end(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])),
  );
  const o = await requestJson({ method: 'GET', url: s.url }, POLICY);
  t.is(o.kind, 'response');
  if (o.kind !== 'response') return;
  t.is(o.body, undefined);
  t.is(o.text, '\ufeff{}');
});
