/**
 * The registry client's transport (src/oci/http.ts) against a loopback server written for
 * each case: redirects (which keep the method and body, which become a GET, where credentials
 * go), retries (what is retried, what is final, what is returned after the last try), the
 * plain-HTTP rule, and the registry's error text as messages show it.
 */
import test from 'ava';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  checkUrlAllowed,
  isLoopbackHost,
  isRegistryOutage,
  registryErrorText,
  schemeFor,
  send,
  type HttpRequest,
} from '../../src/oci/http.js';
import { StellaError } from '../../src/errors.js';

interface Seen {
  method: string;
  path: string;
  body: string;
  authorization: string | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A loopback server answering with `handler` (n: the request's number, from 0); what it saw. */
async function server(
  t: import('ava').ExecutionContext,
  handler: Handler,
): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        authorization: req.headers.authorization,
      });
      handler(req, res, seen.length - 1);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => s.close(() => r())));
  return { base: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen };
}

const OPTS = { allowInsecure: true, retries: 2, backoffMs: () => 0 };
const enc = new TextEncoder();

function request(base: string, over: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'GET',
    url: new URL('/v2/start', base),
    maxBytes: 1024,
    what: 'the test',
    ...over,
  };
}

function redirectThen(status: number, location: string): Handler {
  return (req, res) => {
    if (req.url === '/v2/start') res.writeHead(status, { Location: location }).end();
    else res.writeHead(200).end('done');
  };
}

for (const status of [307, 308]) {
  test(`a POST or PUT redirected with ${status}: the same method and body at the new place`, async (t) => {
    for (const method of ['POST', 'PUT'] as const) {
      const { base, seen } = await server(t, redirectThen(status, '/v2/moved'));
      const r = await send(request(base, { method, body: enc.encode('payload') }), OPTS);
      t.is(r.status, 200);
      t.is(r.url.pathname, '/v2/moved');
      t.deepEqual(
        seen.map((s) => [s.method, s.path, s.body]),
        [
          [method, '/v2/start', 'payload'],
          [method, '/v2/moved', 'payload'],
        ],
      );
    }
  });
}

for (const status of [301, 302]) {
  test(`a POST redirected with ${status} becomes a GET without a body (as browsers and fetch do); a PUT stays a PUT`, async (t) => {
    const { base, seen } = await server(t, redirectThen(status, '/v2/moved'));
    await send(request(base, { method: 'POST', body: enc.encode('payload') }), OPTS);
    await send(request(base, { method: 'PUT', body: enc.encode('payload') }), OPTS);
    t.deepEqual(
      seen.map((s) => [s.method, s.path, s.body]),
      [
        ['POST', '/v2/start', 'payload'],
        ['GET', '/v2/moved', ''],
        ['PUT', '/v2/start', 'payload'],
        ['PUT', '/v2/moved', 'payload'],
      ],
    );
  });
}

test('a 303 makes any method a GET without a body', async (t) => {
  const { base, seen } = await server(t, redirectThen(303, '/v2/moved'));
  await send(request(base, { method: 'PUT', body: enc.encode('payload') }), OPTS);
  t.deepEqual(seen[1], { method: 'GET', path: '/v2/moved', body: '', authorization: undefined });
});

test('credentials follow a redirect on the same origin and are dropped on one to another origin', async (t) => {
  const other = await server(t, (_req, res) => res.writeHead(200).end());
  const { base, seen } = await server(t, (req, res) => {
    if (req.url === '/v2/start') res.writeHead(307, { Location: '/v2/same' }).end();
    else res.writeHead(307, { Location: `${other.base}/blob` }).end();
  });
  const r = await send(request(base, { authorization: 'Bearer secret-token' }), OPTS);
  t.is(r.url.origin, other.base);
  t.deepEqual(
    seen.map((s) => s.authorization),
    ['Bearer secret-token', 'Bearer secret-token'],
  );
  t.is(other.seen[0]!.authorization, undefined);
});

test('a redirect without a Location, or past the fifth: REGISTRY_RESPONSE_INVALID', async (t) => {
  const none = await server(t, (_req, res) => res.writeHead(302).end());
  const e1 = await t.throwsAsync(send(request(none.base), OPTS), { instanceOf: StellaError });
  t.is(e1.code, 'REGISTRY_RESPONSE_INVALID');
  t.regex(e1.message, /answered 302 without a Location/);

  const chain = await server(t, (req, res) => {
    const n = Number(/\d+$/.exec(req.url ?? '')?.[0] ?? 0);
    res.writeHead(302, { Location: `/v2/hop${n + 1}` }).end();
  });
  const e2 = await t.throwsAsync(send(request(chain.base), OPTS), { instanceOf: StellaError });
  t.is(e2.code, 'REGISTRY_RESPONSE_INVALID');
  t.regex(e2.message, /more than 5 redirects/);
  t.is(chain.seen.length, 6, 'the first request and five redirects, then no more');
});

test('a redirect to a Location that is no URL: REGISTRY_RESPONSE_INVALID naming it, never an internal error', async (t) => {
  const bad = await server(t, redirectThen(302, 'http://[::1'));
  const e = await t.throwsAsync(send(request(bad.base), OPTS), { instanceOf: StellaError });
  t.is(e.code, 'REGISTRY_RESPONSE_INVALID');
  t.regex(e.message, /^the test: .* redirected to an invalid URL$/);
  t.is(bad.seen.length, 1);
});

test('five redirects are followed', async (t) => {
  const { base } = await server(t, (req, res) => {
    const n = Number(/\d+$/.exec(req.url ?? '')?.[0] ?? 0);
    if (n < 5) res.writeHead(302, { Location: `/v2/hop${n + 1}` }).end();
    else res.writeHead(200).end('arrived');
  });
  const r = await send(request(base), OPTS);
  t.is(Buffer.from(r.body).toString(), 'arrived');
});

test('a redirect to a plain-HTTP host that is not loopback: REGISTRY_INSECURE, not followed', async (t) => {
  const { base } = await server(t, redirectThen(302, 'http://registry.example/v2/x'));
  const e = await t.throwsAsync(send(request(base), OPTS), { instanceOf: StellaError });
  t.is(e.code, 'REGISTRY_INSECURE');
});

test('from HTTPS a redirect is followed to HTTPS only: never down to plain HTTP, not even to loopback', async (t) => {
  // No TLS server here: fetch is replaced, and answers for the HTTPS registry it is given.
  const asked: string[] = [];
  const redirecting = (location: string): typeof fetch =>
    (async (input: URL) => {
      const url = input.href;
      asked.push(url);
      return url.startsWith('https://registry.example/v2/start')
        ? new Response(null, { status: 307, headers: { Location: location } })
        : new Response('done', { status: 200 });
    }) as typeof fetch;
  const start = new URL('https://registry.example/v2/start');
  const https = await send(request('https://registry.example', { url: start }), {
    ...OPTS,
    fetchImpl: redirecting('https://mirror.example/v2/x'),
  });
  t.is(https.status, 200);
  t.is(https.url.href, 'https://mirror.example/v2/x');
  asked.length = 0;
  const e = await t.throwsAsync(
    send(request('https://registry.example', { url: start }), {
      ...OPTS,
      fetchImpl: redirecting('http://127.0.0.1:5000/v2/x'),
    }),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'REGISTRY_INSECURE');
  t.regex(
    e?.message ?? '',
    /refused a redirect from https:\/\/registry\.example.* to http:\/\/127\.0\.0\.1:5000: never from HTTPS/,
  );
  t.deepEqual(asked, [start.href], 'the plain-HTTP place is never asked');
});

test('a dropped connection and a 503 are tried again; the answer after them is used', async (t) => {
  const { base, seen } = await server(t, (req, res, n) => {
    if (n === 0) req.socket.destroy();
    else if (n === 1) res.writeHead(503).end();
    else res.writeHead(200).end('third time');
  });
  const r = await send(request(base), OPTS);
  t.is(r.status, 200);
  t.is(Buffer.from(r.body).toString(), 'third time');
  t.is(seen.length, 3);
});

test('after the last retry: the last answer is returned whatever its status, or REGISTRY_UNAVAILABLE when none came', async (t) => {
  const busy = await server(t, (_req, res) => res.writeHead(500).end('{"errors":[]}'));
  const r = await send(request(busy.base), OPTS);
  t.is(r.status, 500);
  t.is(busy.seen.length, 3, 'the first try and two retries');

  const dropping = await server(t, (req) => req.socket.destroy());
  const e = await t.throwsAsync(send(request(dropping.base), OPTS), { instanceOf: StellaError });
  t.is(e.code, 'REGISTRY_UNAVAILABLE');
  t.regex(e.message, /registry unavailable: the test from http:\/\/127\.0\.0\.1:\d+\/v2\/start/);
  t.is(dropping.seen.length, 3);
});

test('a 404 and an answer over the limit are final: asked once', async (t) => {
  const missing = await server(t, (_req, res) => res.writeHead(404).end());
  t.is((await send(request(missing.base), OPTS)).status, 404);
  t.is(missing.seen.length, 1);

  const large = await server(t, (_req, res) => res.writeHead(200).end('x'.repeat(2048)));
  const e = await t.throwsAsync(send(request(large.base), OPTS), { instanceOf: StellaError });
  t.is(e.code, 'REGISTRY_LIMIT_EXCEEDED');
  t.is(large.seen.length, 1);
});

test('plain HTTP: loopback only with allowInsecure, other hosts only when listed too', (t) => {
  t.true(isLoopbackHost('127.0.0.2'));
  t.true(isLoopbackHost('[::1]'));
  t.true(isLoopbackHost('LocalHost'));
  t.false(isLoopbackHost('128.0.0.1'));
  t.false(isLoopbackHost('localhost.example'));
  t.is(schemeFor('127.0.0.1:5000', {}), 'https');
  t.is(schemeFor('127.0.0.1:5000', { allowInsecure: true }), 'http');
  t.is(schemeFor('registry.lan:5000', { allowInsecure: true }), 'https');
  t.is(
    schemeFor('registry.lan:5000', { allowInsecure: true, insecureHosts: ['Registry.LAN:5000'] }),
    'http',
  );
  t.is(
    schemeFor('registry.lan:5000', { allowInsecure: true, insecureHosts: ['registry.lan'] }),
    'http',
  );
  t.is(schemeFor('registry.lan:5000', { insecureHosts: ['registry.lan'] }), 'https');
  t.notThrows(() => checkUrlAllowed(new URL('http://127.0.0.1/v2/'), { allowInsecure: true }, 'x'));
  for (const [url, opts] of [
    ['http://127.0.0.1/v2/', {}],
    ['http://registry.lan/v2/', { allowInsecure: true }],
    ['ftp://127.0.0.1/v2/', { allowInsecure: true }],
  ] as const) {
    const e = t.throws(() => checkUrlAllowed(new URL(url), opts, 'x'), { instanceOf: StellaError });
    t.is(e.code, 'REGISTRY_INSECURE', url);
  }
});

test("the registry's error text in messages: its error codes and messages, else a clean excerpt, else nothing", (t) => {
  t.is(registryErrorText(new Uint8Array(0)), '');
  t.is(
    registryErrorText(
      enc.encode(
        JSON.stringify({
          errors: [
            { code: 'DENIED', message: 'requested access to the resource is denied' },
            { code: 'UNAUTHORIZED' },
            'not an object',
          ],
        }),
      ),
    ),
    'DENIED: requested access to the resource is denied; UNAUTHORIZED',
  );
  t.is(
    registryErrorText(enc.encode('<html>\n\t<b>Bad Gateway</b>\x1b[31m</html>')),
    '<html> <b>Bad Gateway</b> [31m</html>',
  );
  const long = registryErrorText(enc.encode('e'.repeat(500)));
  t.is(long, `${'e'.repeat(200)}… (500 characters)`);
});

test('a registry that never answers: REGISTRY_UNAVAILABLE "timed out after N ms", tried again like any outage', async (t) => {
  // The server takes the request and says nothing; the client's deadline gives up on it. The
  // deadline is a second, not less: the server shares this process's event loop, and on a
  // loaded machine a shorter one expired before the server had read the request at all.
  const { base, seen } = await server(t, (_req, res) => {
    setTimeout(() => res.end(), 10_000).unref();
  });
  const e = await t.throwsAsync(send(request(base), { ...OPTS, retries: 1, timeoutMs: 1000 }), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'REGISTRY_UNAVAILABLE');
  t.is(e?.message, `registry unavailable: the test from ${base}/v2/start: timed out after 1000 ms`);
  t.is(seen.length, 2, 'one try and one retry');
  // A fetch aborted by another signal names its abort the same way.
  const aborted = await t.throwsAsync(
    send(request(base), {
      ...OPTS,
      retries: 0,
      timeoutMs: 5000,
      fetchImpl: () => Promise.reject(new DOMException('aborted', 'AbortError')),
    }),
    { instanceOf: StellaError },
  );
  t.regex(aborted?.message ?? '', /: timed out after 5000 ms$/);
});

test('an answer whose body stalls or is cut off: REGISTRY_UNAVAILABLE with the reason, tried again', async (t) => {
  // The status line and headers come at once, then the body stops: the same deadline as for
  // the answer itself, named the same way.
  const stalled = await server(t, (_req, res) => {
    res.writeHead(200, { 'Content-Length': '100' });
    res.write('abc');
    setTimeout(() => res.end(), 10_000).unref();
  });
  const late = await t.throwsAsync(
    send(request(stalled.base), { ...OPTS, retries: 1, timeoutMs: 1000 }),
    { instanceOf: StellaError },
  );
  t.is(late?.code, 'REGISTRY_UNAVAILABLE');
  t.is(
    late?.message,
    `registry unavailable: the test from ${stalled.base}/v2/start: timed out after 1000 ms`,
  );
  t.is(stalled.seen.length, 2, 'one try and one retry');
  // The connection closed mid-body: the socket's errno, not fetch's bare "terminated".
  const cut = await server(t, (req, res) => {
    res.writeHead(200, { 'Content-Length': '100' });
    res.write('abc', () => setTimeout(() => req.socket.destroy(), 20));
  });
  const dropped = await t.throwsAsync(send(request(cut.base), OPTS), { instanceOf: StellaError });
  t.is(dropped?.code, 'REGISTRY_UNAVAILABLE');
  t.is(
    dropped?.message,
    `registry unavailable: the test from ${cut.base}/v2/start: UND_ERR_SOCKET (other side closed)`,
  );
  t.is(cut.seen.length, 3, 'the first try and two retries');
});

test('an outage stops a whole pull: the registry unreachable or refusing our credentials, nothing else', (t) => {
  const e = (code: 'REGISTRY_UNAVAILABLE' | 'REGISTRY_AUTH_FAILED' | 'REGISTRY_RESPONSE_INVALID') =>
    new StellaError(code, 'registry', 'x');
  t.true(isRegistryOutage(e('REGISTRY_UNAVAILABLE')));
  t.true(isRegistryOutage(e('REGISTRY_AUTH_FAILED')));
  t.false(isRegistryOutage(e('REGISTRY_RESPONSE_INVALID')));
  t.false(isRegistryOutage(new Error('REGISTRY_UNAVAILABLE')));
});
