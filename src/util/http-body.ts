/**
 * Reading an HTTP response's body within a limit: the one implementation every client uses
 * (registries, Fulcio/Rekor/TSA, logs, the sandbox's control channel). Size first: a declared
 * Content-Length over the limit is refused before a byte is read; otherwise the stream is read
 * and cancelled as soon as it passes the limit, so a server cannot make us buffer more than
 * `maxBytes` (plus one chunk) whatever it declares.
 */
import { StellaError, type CheckName, type ErrorCode } from '../errors.js';
import { concatBytes } from './encoding.js';

/**
 * The media type of a Content-Type header, without its parameters and in lower case
 * (`Application/JSON; charset=utf-8` -> `application/json`); empty when there is none.
 */
export function mediaTypeOf(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export interface BodyLimit {
  maxBytes: number;
  /** What the body is, for the message: "manifest from https://registry/v2/…". */
  what: string;
  code: ErrorCode;
  check: CheckName;
}

/** The error for a body over its limit; `how` says how we know (declared or sent). */
function tooLarge(limit: BodyLimit, how: string): StellaError {
  return new StellaError(
    limit.code,
    limit.check,
    `${limit.what} is larger than its ${limit.maxBytes}-byte limit (${how})`,
    { limit: limit.maxBytes },
  );
}

/**
 * The body of `res`, at most `limit.maxBytes` bytes; a StellaError with `limit.code` when the
 * server declares or sends more. A response without a body reads as empty.
 */
export async function readBodyWithin(res: Response, limit: BodyLimit): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const declared = res.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit.maxBytes) {
    await res.body.cancel().catch(() => undefined);
    throw tooLarge(limit, `Content-Length ${declared}`);
  }
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit.maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit, `more than ${limit.maxBytes} bytes sent`);
    }
    chunks.push(value);
  }
  return concatBytes(...chunks);
}
