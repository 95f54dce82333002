/**
 * HTTP routes of the sandbox's Rekor v2 log and RFC 3161 TSA (../authority/rekor-v2.ts,
 * ../authority/tsa.ts), mapped the way rekor-tiles and Sigstore's timestamp-authority answer:
 *
 *   POST /api/v2/log/entries          CreateEntryRequest (JSON) -> 201 TransparencyLogEntry;
 *                                     400 {code, message} when refused; 409 + x-log-index for
 *                                     a body already logged
 *   GET  /checkpoint                  C2SP tlog-tiles, text/plain; charset=utf-8
 *   GET  /tile/<L>/<N>[.p/<W>]        application/octet-stream (404 until the tree has it)
 *   GET  /tile/entries/<N>[.p/<W>]    application/octet-stream
 *   (the same three under /api/v2/, rekor-tiles' gateway paths)
 *   POST /api/v1/timestamp            application/timestamp-query (DER TimeStampReq) or
 *                                     application/json (timestamp-authority's JSON request)
 *                                     -> application/timestamp-reply (DER TimeStampResp)
 *   GET  /api/v1/timestamp/certchain  the TSA chain, PEM
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isStellaError } from '../../errors.js';
import { collectBytes } from '../../util/encoding.js';
import { mediaTypeOf } from '../../util/http-body.js';
import { parseTilePath } from '../../tlog/tiles.js';
import {
  TIMESTAMP_QUERY_CONTENT_TYPE,
  TIMESTAMP_REPLY_CONTENT_TYPE,
} from '../../timestamp/request.js';
import type { LocalRekorV2Log } from '../authority/rekor-v2.js';
import type { LocalTsa } from '../authority/tsa.js';
import { quoted } from '../../util/text.js';

export interface V2Services {
  rekorV2: LocalRekorV2Log;
  tsa: LocalTsa;
  /** ms since the epoch. */
  now: () => number;
}

/** Largest request body: a DSSE envelope is the big part (the v1 routes allow the same). */
export const MAX_V2_BODY_BYTES = 10 * 1024 * 1024;
/** A TimeStampReq is under 200 bytes; anything near this is not one. */
export const MAX_TSA_BODY_BYTES = 64 * 1024;

export const TSA_PATH = '/api/v1/timestamp';

function sendBytes(
  res: ServerResponse,
  status: number,
  body: Uint8Array | string,
  type: string,
  headers: Record<string, string> = {},
): void {
  const buf =
    typeof body === 'string'
      ? Buffer.from(body, 'utf8')
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': buf.length, ...headers });
  res.end(buf);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendBytes(res, status, JSON.stringify(body), 'application/json', {
    'Cache-Control': 'no-store',
    ...headers,
  });
}

/** grpc-gateway error body: {code: grpc status, message}. */
function grpcError(
  res: ServerResponse,
  httpStatus: number,
  grpcCode: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, httpStatus, { code: grpcCode, message, details: [] }, headers);
}

/**
 * Serve `path` if it is one of these routes; false when it is not (the caller goes on). The
 * caller has already stripped trailing slashes and parsed the URL.
 */
export async function routeV2(
  s: V2Services,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  const method = req.method ?? 'GET';
  const only = (m: string): boolean => {
    if (method === m) return true;
    sendJson(res, 405, { code: 405, message: `${method} not allowed on ${path}` }, { Allow: m });
    return false;
  };

  // Rekor v2 write API.
  if (path === '/api/v2/log/entries') {
    if (only('POST')) await createV2Entry(s, req, res);
    return true;
  }
  // tlog-tiles read API (at the log's prefix, and at rekor-tiles' gateway paths).
  const read = path.startsWith('/api/v2/') ? path.slice('/api/v2'.length) : path;
  if (read === '/checkpoint') {
    if (!only('GET')) return true;
    sendBytes(res, 200, s.rekorV2.checkpoint(), 'text/plain; charset=utf-8', {
      'Cache-Control': 'no-store',
    });
    return true;
  }
  if (read.startsWith('/tile/')) {
    if (only('GET')) serveTile(s, res, path, read.slice('/tile/'.length));
    return true;
  }
  // RFC 3161 TSA.
  if (path === TSA_PATH) {
    if (only('POST')) await answerTimestamp(s, req, res);
    return true;
  }
  if (path === `${TSA_PATH}/certchain`) {
    if (!only('GET')) return true;
    sendBytes(res, 200, s.tsa.certChainPem(), 'application/pem-certificate-chain');
    return true;
  }
  return false;
}

/** POST /api/v2/log/entries: errors in Rekor v2's gRPC-gateway shape (code 3, 6, 8). */
async function createV2Entry(s: V2Services, req: IncomingMessage, res: ServerResponse) {
  const raw = await collectBytes(req, MAX_V2_BODY_BYTES);
  if (!raw) {
    grpcError(res, 413, 8, `request body larger than ${MAX_V2_BODY_BYTES} bytes`);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    grpcError(res, 400, 3, 'request body is not valid JSON');
    return;
  }
  let r;
  try {
    r = s.rekorV2.createEntry(body, { now: s.now() });
  } catch (e) {
    // The log refuses a request only with REKOR_REJECTED; anything else is the sandbox's fault (500).
    if (isStellaError(e) && e.code === 'REKOR_REJECTED') {
      grpcError(res, 400, 3, e.message);
      return;
    }
    throw e;
  }
  if (!r.created) {
    grpcError(res, 409, 6, `an equivalent entry already exists in the log at index ${r.logIndex}`, {
      'x-log-index': String(r.logIndex),
    });
    return;
  }
  sendJson(res, 201, r.entry);
}

/** GET /tile/…: a hash tile or an entry bundle; both immutable once they exist. */
function serveTile(s: V2Services, res: ServerResponse, path: string, tilePath: string) {
  const a = parseTilePath(tilePath);
  if (!a) {
    sendJson(res, 400, { code: 400, message: `not a tlog-tiles path: ${path}` });
    return;
  }
  const bytes =
    a.level === 'entries'
      ? s.rekorV2.entryBundle(a.index, a.width)
      : s.rekorV2.tile(a.level, a.index, a.width);
  if (!bytes) {
    sendJson(res, 404, {
      code: 404,
      message: `${path}: the log has no such ${a.level === 'entries' ? 'entry bundle' : 'tile'} (tree size ${s.rekorV2.size})`,
    });
    return;
  }
  // Tiles never change once they exist (a partial tile names its width).
  sendBytes(res, 200, bytes, 'application/octet-stream', {
    'Cache-Control': 'public, max-age=31536000, immutable',
  });
}

/** POST to the TSA: a DER TimeStampReq, or sigstore's JSON request form. */
async function answerTimestamp(s: V2Services, req: IncomingMessage, res: ServerResponse) {
  const type = mediaTypeOf(req.headers['content-type']);
  const raw = await collectBytes(req, MAX_TSA_BODY_BYTES);
  if (!raw) {
    sendJson(res, 413, {
      code: 413,
      message: `request body larger than ${MAX_TSA_BODY_BYTES} bytes`,
    });
    return;
  }
  let answer;
  if (type === TIMESTAMP_QUERY_CONTENT_TYPE) {
    answer = s.tsa.answerDer(raw, s.now());
  } else if (type === 'application/json') {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(raw).toString('utf8'));
    } catch {
      sendJson(res, 400, { code: 400, message: 'request body is not valid JSON' });
      return;
    }
    answer = s.tsa.answerJson(body, s.now());
  } else {
    sendJson(res, 415, {
      code: 415,
      message: `content type must be ${TIMESTAMP_QUERY_CONTENT_TYPE} or application/json, not ${quoted(type)}`,
    });
    return;
  }
  sendBytes(res, answer.httpStatus, answer.response, TIMESTAMP_REPLY_CONTENT_TYPE, {
    'Cache-Control': 'no-store',
  });
}
