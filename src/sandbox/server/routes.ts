/**
 * HTTP routes of the sandbox: the real Fulcio v2 and Rekor v1 REST paths and JSON shapes (as
 * @sigstore/sign and cosign call them), plus the OIDC discovery documents. The authority cores
 * (../authority/*) do the work; this file only maps requests to calls and StellaErrors to HTTP
 * statuses with `{ code, message }` bodies, as Fulcio's and Rekor's gateways answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isStellaError, type ErrorCode } from '../../errors.js';
import { collectBytes, toHex } from '../../util/encoding.js';
import { parseJsonStrict } from '../../util/json.js';
import { mediaTypeOf } from '../../util/http-body.js';
import { leafHash } from '../../tlog/merkle.js';
import type { FulcioCA } from '../authority/fulcio.js';
import type { OidcIssuer } from '../authority/oidc.js';
import { canonicalizeProposedEntry, type LocalRekorLog } from '../authority/rekor.js';
import { CONTROL_PATHS, type ControlServer } from './control-channel.js';
import { routeV2, type V2Services } from './routes-v2.js';
import { withoutTrailing } from '../../util/text.js';

export interface SandboxServices {
  issuer: OidcIssuer;
  fulcio: FulcioCA;
  rekor: LocalRekorLog;
  /** ms since the epoch. */
  now: () => number;
  /** Written into every answer's X-Stella-Sandbox header (informational: anyone can send a header). */
  instanceId: string;
  /** The authenticated control channel (./control-channel.ts). */
  control: ControlServer;
  /** Called once an authorized stop request has been answered. */
  onStop: () => void;
  /** The Rekor v2 log (with its tlog-tiles read API) and the RFC 3161 TSA (./routes-v2.ts). */
  v2?: Omit<V2Services, 'now'>;
}

/** Path prefix of the same Fulcio CA issuing as Fulcio before v1.8.6 did (no OIDC subject extension .24). */
export const LEGACY_FULCIO_PREFIX = '/fulcio-pre-1.8.6';

/** Largest request body accepted (a DSSE envelope is the big part). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  OIDC_TOKEN_MISSING: 401,
  OIDC_TOKEN_INVALID: 401,
  OIDC_TOKEN_EXPIRED: 401,
  FULCIO_REJECTED: 400,
  REKOR_REJECTED: 400,
  INPUT_INVALID: 400,
};

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const body = await collectBytes(req, MAX_BODY_BYTES);
  if (body === undefined)
    throw new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`);
  try {
    // Strict (duplicate keys refused, fatal UTF-8), as every untrusted JSON is read.
    return parseJsonStrict(body, {
      maxBytes: MAX_BODY_BYTES,
      maxDepth: 64,
      what: 'request body',
      code: 'INPUT_INVALID',
      check: 'input',
    });
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

/**
 * A Rekor v1 request body. Rekor (go-openapi) consumes application/json only and answers any
 * other Content-Type, or none (read as application/octet-stream), with 415 before it reads the
 * body; the sandbox does the same, so a client that forgets the header fails here as it would
 * against the real log.
 */
async function readRekorBody(req: IncomingMessage): Promise<unknown> {
  const type = mediaTypeOf(req.headers['content-type'] ?? 'application/octet-stream');
  if (type !== 'application/json')
    throw new HttpError(
      415,
      `unsupported media type ${JSON.stringify(type)}, only [application/json] are allowed`,
    );
  return readBody(req);
}

function intParam(url: URL, name: string, required: boolean): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) {
    if (required) throw new HttpError(400, `query parameter ${name} is required`);
    return undefined;
  }
  if (!/^\d{1,15}$/.test(v))
    throw new HttpError(400, `query parameter ${name} must be a non-negative integer`);
  return Number(v);
}

export function createHandler(
  s: SandboxServices,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.setHeader('X-Stella-Sandbox', s.instanceId);
    route(s, req, res).catch((e: unknown) => {
      if (e instanceof HttpError) {
        send(res, e.status, { code: e.status, message: e.message }, e.headers);
        return;
      }
      if (isStellaError(e)) {
        const status = STATUS_BY_CODE[e.code] ?? 500;
        send(res, status, { code: status, message: e.message });
        return;
      }
      send(res, 500, { code: 500, message: `internal error: ${(e as Error).message}` });
    });
  };
}

/** One request as the routers below see it. */
interface Call {
  s: SandboxServices;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  path: string;
  method: string;
  /** Refuses (405) any method but `m`. */
  only: (m: string) => void;
}

async function route(s: SandboxServices, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
  const path = withoutTrailing(url.pathname, '/') || '/';
  const method = req.method ?? 'GET';
  const only = (m: string) => {
    if (method !== m) throw new HttpError(405, `${method} not allowed on ${path}`, { Allow: m });
  };
  const call: Call = { s, req, res, url, path, method, only };
  if (await routeControl(call)) return;
  if (routeOidc(call)) return;
  if (await routeFulcio(call)) return;
  if (await routeRekorV1(call)) return;
  if (s.v2 && (await routeV2({ ...s.v2, now: s.now }, req, res, path))) return;
  throw new HttpError(404, `no such endpoint: ${method} ${path}`);
}

/** Control: proof of identity and authenticated stop (./control-channel.ts). */
async function routeControl({ s, req, res, path, only }: Call): Promise<boolean> {
  if (path === CONTROL_PATHS.hello) {
    only('POST');
    const answer = s.control.hello(await readBody(req));
    if (!answer) throw new HttpError(400, 'body must be {"clientNonce": "<64 hex digits>"}');
    send(res, 200, answer);
    return true;
  }
  if (path === CONTROL_PATHS.stop) {
    only('POST');
    if (!s.control.authorizeStop(await readBody(req)))
      throw new HttpError(403, 'stop request not authorized');
    res.once('finish', () => s.onStop());
    send(res, 202, { stopping: true });
    return true;
  }
  if (path === CONTROL_PATHS.fork) {
    only('POST');
    const f = s.control.authorizeFork(await readBody(req));
    if (!f) throw new HttpError(403, 'fork request not authorized');
    const log = f.log === 'v1' ? s.rekor : s.v2?.rekorV2;
    if (!log) throw new HttpError(404, 'no Rekor v2 log in this sandbox');
    send(res, 200, { log: f.log, ...log.fork(f.at === '' ? undefined : Number(f.at)) });
    return true;
  }
  return false;
}

/** The OIDC issuer's discovery document and keys. */
function routeOidc({ s, res, path, only }: Call): boolean {
  if (path === '/.well-known/openid-configuration') {
    only('GET');
    send(res, 200, s.issuer.discovery());
    return true;
  }
  if (path === '/.well-known/jwks' || path === '/jwks') {
    only('GET');
    send(res, 200, s.issuer.jwks());
    return true;
  }
  return false;
}

/**
 * Fulcio v2. The stack's OIDC key also signs tokens under other issuer URLs (`sandbox token
 * --issuer`: https://token.actions.githubusercontent.com, https://gitlab.com, a self-hosted
 * GitLab or Gitea), so tests sign with the issuers users pin; only the stack's own trust root
 * trusts them. Under LEGACY_FULCIO_PREFIX the same CA issues as Fulcio before v1.8.6: no .24
 * extension.
 */
async function routeFulcio({ s, req, res, path, only }: Call): Promise<boolean> {
  const legacy = path.startsWith(`${LEGACY_FULCIO_PREFIX}/`);
  const fulcioPath = legacy ? path.slice(LEGACY_FULCIO_PREFIX.length) : path;
  if (fulcioPath === '/api/v2/signingCert') {
    only('POST');
    const body = await readBody(req);
    const oidcIssuers = [s.issuer.trusted(), { issuerUrl: '*', jwks: s.issuer.jwks() }];
    send(
      res,
      200,
      s.fulcio.createSigningCertificate(body, { now: s.now(), oidcIssuers, omitSubject: legacy }),
    );
    return true;
  }
  if ((legacy && fulcioPath === '/api/v2/trustBundle') || path === '/api/v2/trustBundle') {
    only('GET');
    send(res, 200, s.fulcio.trustBundle());
    return true;
  }
  if (path === '/api/v2/configuration') {
    only('GET');
    send(res, 200, s.fulcio.configuration());
    return true;
  }
  return false;
}

/** Rekor v1: log info and key, consistency proofs, entries, and the index. */
async function routeRekorV1(call: Call): Promise<boolean> {
  const { s, req, res, url, path, only } = call;
  if (path === '/api/v1/log') {
    only('GET');
    send(res, 200, s.rekor.logInfo());
    return true;
  }
  if (path === '/api/v1/log/publicKey') {
    only('GET');
    send(res, 200, s.rekor.publicKeyPem(), { 'Content-Type': 'application/x-pem-file' });
    return true;
  }
  if (path === '/api/v1/log/proof') {
    only('GET');
    const firstSize = intParam(url, 'firstSize', false) ?? 1;
    const lastSize = intParam(url, 'lastSize', true)!;
    send(res, 200, s.rekor.consistencyProof(firstSize, lastSize));
    return true;
  }
  if (path === '/api/v1/log/entries') {
    await rekorEntries(call);
    return true;
  }
  if (path === '/api/v1/log/entries/retrieve') {
    only('POST');
    send(res, 200, retrieve(s, await readRekorBody(req)));
    return true;
  }
  const m = /^\/api\/v1\/log\/entries\/([^/]+)$/.exec(path);
  if (m) {
    only('GET');
    const found = s.rekor.entryByUuid(decodeURIComponent(m[1]!));
    if (!found) throw new HttpError(404, `no entry with UUID ${m[1]}`);
    send(res, 200, found);
    return true;
  }
  if (path === '/api/v1/index/retrieve') {
    only('POST');
    const body = (await readRekorBody(req)) as { hash?: unknown } | null;
    if (typeof body?.hash !== 'string')
      throw new HttpError(400, 'body must be {"hash": "sha256:<hex>"}');
    send(res, 200, s.rekor.searchByHash(body.hash));
    return true;
  }
  return false;
}

/** /api/v1/log/entries: POST adds an entry (409 for a duplicate), GET reads one by log index. */
async function rekorEntries({ s, req, res, url, method, only }: Call): Promise<void> {
  if (method === 'POST') {
    const body = await readRekorBody(req);
    const r = s.rekor.createEntry(body, { now: s.now() });
    const location = `/api/v1/log/entries/${r.uuid}`;
    if (!r.created) {
      send(
        res,
        409,
        {
          code: 409,
          message: `an equivalent entry already exists in the transparency log with UUID ${r.uuid}`,
        },
        { Location: location },
      );
      return;
    }
    send(res, 201, r.response, { Location: location, ETag: r.uuid });
    return;
  }
  only('GET');
  const index = intParam(url, 'logIndex', true)!;
  const found = s.rekor.entryByIndex(index);
  if (!found) throw new HttpError(404, `no entry at log index ${index}`);
  send(res, 200, found);
}

/** POST /api/v1/log/entries/retrieve: {entryUUIDs?, logIndexes?, entries?} -> [ {uuid: entry}, ... ] */
function retrieve(s: SandboxServices, body: unknown): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'body must be a JSON object');
  const b = body as { entryUUIDs?: unknown; logIndexes?: unknown; entries?: unknown };
  const list = (v: unknown, name: string): unknown[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length > 10)
      throw new HttpError(400, `${name} must be an array of at most 10 items`);
    return v;
  };
  const out: unknown[] = [];
  for (const u of list(b.entryUUIDs, 'entryUUIDs')) {
    if (typeof u !== 'string') throw new HttpError(400, 'entryUUIDs must be strings');
    const e = s.rekor.entryByUuid(u);
    if (e) out.push(e);
  }
  for (const i of list(b.logIndexes, 'logIndexes')) {
    if (typeof i !== 'number') throw new HttpError(400, 'logIndexes must be numbers');
    const e = s.rekor.entryByIndex(i);
    if (e) out.push(e);
  }
  for (const proposed of list(b.entries, 'entries')) {
    const e = s.rekor.entryByUuid(toHex(leafHash(canonicalizeProposedEntry(proposed))));
    if (e) out.push(e);
  }
  return out;
}
