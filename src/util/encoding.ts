/** Strict byte encodings. Lenient decoders (Buffer.from(x, 'base64')) silently drop junk. */
import { fail, type CheckName, type ErrorCode } from '../errors.js';
import { quoted } from './text.js';

const BASE64URL_RE = /^[A-Za-z0-9_-]*$/;

/** Any character outside the standard alphabet and its padding. */
const NOT_BASE64_RE = /[^A-Za-z0-9+/=]/;

/**
 * Strict standard base64: alphabet, padding only at the end and only as needed, length a
 * multiple of 4. Line breaks (CR, LF) are skipped, as Go's and Python's decoders do, since
 * real bundles carry MIME-wrapped RFC 3161 tokens; any other character is refused.
 * A regex search for a character outside the alphabet (V8 compiles it to machine code at
 * once, where a loop runs interpreted for the first calls of a process) plus a look at where
 * the first `=` is: measured ~1.6x faster than one anchored pattern /^[A-Za-z0-9+/]*={0,2}$/,
 * which it is equivalent to.
 */
function isStrictBase64(s: string): boolean {
  const n = s.length;
  if (n % 4 !== 0 || NOT_BASE64_RE.test(s)) return false;
  const pad = s.indexOf('=');
  // No padding; or `=` only in the last place; or `==` in the last two.
  return pad === -1 || pad === n - 1 || (pad === n - 2 && s.charCodeAt(n - 1) === 0x3d);
}

/**
 * Decode standard base64 with padding; anything else is `code` (default BUNDLE_MALFORMED)
 * naming `what`. The one base64 decoder: bundles, trusted roots, PEM bodies, signed notes.
 */
export function decodeBase64(
  s: unknown,
  what: string,
  check: CheckName = 'bundle',
  code: ErrorCode = 'BUNDLE_MALFORMED',
): Uint8Array {
  if (typeof s !== 'string') fail(code, check, `${what}: invalid base64 (not a string)`);
  const text = s.includes('\n') || s.includes('\r') ? s.replace(/\r?\n/g, '') : s;
  if (!isStrictBase64(text)) fail(code, check, `${what}: invalid base64`);
  const buf = Buffer.from(text, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Decode unpadded base64url (JWTs, JWKs); anything else is `code` (default INPUT_INVALID). */
export function decodeBase64Url(
  s: string,
  what: string,
  check: CheckName = 'input',
  code: ErrorCode = 'INPUT_INVALID',
): Uint8Array {
  if (!BASE64URL_RE.test(s) || s.length % 4 === 1) fail(code, check, `${what}: invalid base64url`);
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

/**
 * Decode a protobuf JSON `bytes` field as Go's protojson reads one (Rekor v2's API takes its
 * requests in protojson): the URL-safe alphabet when the text has `-` or `_`, else the standard
 * one, and unpadded when its length is not a multiple of 4. A text mixing both alphabets, or
 * padded to a length that is not a multiple of 4, is refused, as protojson refuses it.
 */
export function decodeProtoJsonBytes(
  s: unknown,
  what: string,
  check: CheckName = 'bundle',
  code: ErrorCode = 'BUNDLE_MALFORMED',
): Uint8Array {
  if (typeof s !== 'string') return decodeBase64(s, what, check, code);
  const urlSafe = s.includes('-') || s.includes('_');
  if (urlSafe && (s.includes('+') || s.includes('/')))
    fail(code, check, `${what}: invalid base64 (standard and URL-safe alphabets mixed)`);
  const std = urlSafe ? s.replace(/-/g, '+').replace(/_/g, '/') : s;
  const rem = std.length % 4;
  if (rem === 0) return decodeBase64(std, what, check, code);
  if (std.includes('='))
    fail(code, check, `${what}: invalid base64 (padding on an unpadded length)`);
  return decodeBase64(std + '='.repeat(4 - rem), what, check, code);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Is `s` well-formed Unicode (no lone surrogate)? JSON text can carry one as an escape; it is
 * no character, UTF-8 cannot encode it, and canonical JSON cannot write it.
 */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Unpadded base64url (JWTs, JWKs). */
export function toBase64Url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Any character that is not a hex digit (either case). */
const NOT_HEX_RE = /[^0-9a-fA-F]/;

/**
 * Hex (either case) to bytes. Buffer's decoder stops at the first non-hex pair and drops an odd
 * last digit without a word; here both throw. Callers check untrusted text against their own
 * pattern first and name it in their error, so a throw here is a bug, never a verdict.
 */
export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || NOT_HEX_RE.test(s))
    throw new RangeError(`fromHex: ${quoted(s, 70)} is not an even number of hex digits`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/**
 * Bytes as the characters they are, one per byte (ISO 8859-1), read in place: tar header fields,
 * file magic, raw bytes used as map keys.
 */
export function toLatin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** The reverse of toLatin1: each character's low byte (characters here are all below 256). */
export function fromLatin1(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/**
 * Native (memcmp): a JavaScript loop over a few kilobytes, such as a certificate compared with
 * the one its log entry records, made V8 compile the loop on the spot and cost a cold
 * `attest verify` about 5 ms. Not constant-time, and need not be: nothing compared is secret.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return joinBytes(parts);
}

/** `parts` joined into one new Uint8Array (an array, not arguments: an archive has 100,000 chunks). */
function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Every chunk of `source`, joined. With `maxBytes`, reading stops as soon as the chunks pass
 * it (the source is closed: a response body cancelled, a request destroyed) and undefined
 * comes back, so no more than `maxBytes` plus one chunk is ever held; the caller says what
 * was too large. (An HTTP response is read by util/http-body.ts through its stream's reader,
 * which cancels before the stream pulls another chunk; an async iterator pulls one first.)
 */
export async function collectBytes(source: AsyncIterable<Uint8Array>): Promise<Uint8Array>;
export async function collectBytes(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array | undefined>;
export async function collectBytes(
  source: AsyncIterable<Uint8Array>,
  maxBytes = Infinity,
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of source) {
    total += c.byteLength;
    if (total > maxBytes) return undefined;
    chunks.push(c);
  }
  return joinBytes(chunks);
}

export const utf8 = new TextEncoder();
/**
 * Strict UTF-8: invalid bytes throw, and a leading byte order mark is kept as the U+FEFF it
 * is. TextDecoder drops a leading BOM by default, which made two byte strings one text: a
 * certificate's UTF8String "\uFEFFhttps://issuer" read as the pinned "https://issuer" (Go,
 * and so cosign, keeps the BOM and refuses), and a tlog body with a BOM before its canonical
 * JSON passed the byte-for-byte canonical check.
 */
export const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Text that is UTF-16, said as such where UTF-8 is required: PowerShell 5 writes `>`
 * redirections as UTF-16LE with a byte order mark (`cosign public-key > key.pub` among them),
 * and what a UTF-8 reader says of it ("invalid UTF-8", or for JSON "expected property name at
 * position 1" without a BOM) does not tell the user what to change. Without a BOM, text that
 * starts with two ASCII characters (JSON, PEM, YAML do) has every other byte of the four NUL;
 * fewer than four bytes tell nothing (and past its end, `b[3] !== 0` would hold for `00 7B 00`).
 */
export function utf16Form(b: Uint8Array): string | undefined {
  if (b[0] === 0xff && b[1] === 0xfe) return 'UTF-16LE (it starts with the byte order mark FF FE)';
  if (b[0] === 0xfe && b[1] === 0xff) return 'UTF-16BE (it starts with the byte order mark FE FF)';
  if (b.length < 4) return undefined;
  if (b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0) return 'UTF-16LE';
  if (b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0) return 'UTF-16BE';
  return undefined;
}

/**
 * Bytes read as UTF-8 text, strictly, or what is wrong with them: UTF-16 named as such, else
 * "not UTF-8 text" (`problem`, the words for a file; `utf16` and `cause` for a reader that
 * words it its own way). One reading for every text input (files a person writes, imports,
 * keys, JSON, a log's note); a lenient decoder would turn bad bytes into U+FFFD and leave the
 * parser after it to report something else.
 */
export function decodeUtf8Text(
  bytes: Uint8Array,
):
  | { ok: true; text: string }
  | { ok: false; problem: string; utf16: string | undefined; cause?: unknown } {
  const utf16 = utf16Form(bytes);
  if (utf16 !== undefined)
    return { ok: false, problem: `${utf16}, not UTF-8 text: save it as UTF-8`, utf16 };
  try {
    return { ok: true, text: utf8Decoder.decode(bytes) };
  } catch (cause) {
    return { ok: false, problem: 'not UTF-8 text', utf16: undefined, cause };
  }
}
