/**
 * The one JWT decoder (RFC 7519, JWS compact serialization): structure only, never trust.
 * Three dot-separated parts; header and payload unpadded base64url (strict), UTF-8 (fatal),
 * strict JSON (duplicate keys refused: two readers of one token must not see two different
 * claim sets), each a JSON object. Verifying the signature, and deciding whether an empty one
 * is acceptable, is the caller's business (the sandbox's issuer verifies; a signer only
 * reads the claims, and Fulcio verifies).
 */
import { fail, type CheckName, type ErrorCode } from '../errors.js';
import { decodeBase64Url } from './encoding.js';
import { isPlainObject, parseJsonStrict } from './json.js';

export interface JwtContext {
  code: ErrorCode;
  check: CheckName;
  /** What the token is, for messages: "identity token", ... */
  what: string;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `<header>.<payload>` as received: the bytes the signature covers. */
  signingInput: string;
  /** The signature part, decoded (empty for an unsigned token). */
  signature: Uint8Array;
}

/** Claims are small; a larger or deeper part is not a token. */
const PART_LIMITS = { maxBytes: 256 * 1024, maxDepth: 32 } as const;

function jsonPart(
  part: string,
  name: 'header' | 'payload',
  ctx: JwtContext,
): Record<string, unknown> {
  const what = `${ctx.what} ${name}`;
  const bytes = decodeBase64Url(part, what, ctx.check, ctx.code);
  // parseJsonStrict throws only StellaErrors, with the caller's code.
  const value = parseJsonStrict(bytes, {
    ...PART_LIMITS,
    what,
    code: ctx.code,
    limitCode: ctx.code,
    check: ctx.check,
  });
  if (!isPlainObject(value)) fail(ctx.code, ctx.check, `${what} is not a JSON object`);
  return value;
}

/** Decode a compact JWT; surrounding whitespace (a token read from a file or variable) is ignored. */
export function decodeJwt(token: string, ctx: JwtContext): DecodedJwt {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || parts[0] === '' || parts[1] === '')
    fail(ctx.code, ctx.check, `${ctx.what} is not a JWT (expected three dot-separated parts)`);
  const [h, p, s] = parts as [string, string, string];
  // The payload first: when both are broken, the claims are what the reader came for.
  const payload = jsonPart(p, 'payload', ctx);
  const header = jsonPart(h, 'header', ctx);
  return {
    header,
    payload,
    signingInput: `${h}.${p}`,
    signature: decodeBase64Url(s, `${ctx.what} signature`, ctx.check, ctx.code),
  };
}
