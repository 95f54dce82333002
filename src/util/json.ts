/**
 * Strict JSON for untrusted input. `JSON.parse` is fast but silently keeps the last of two
 * duplicate keys (checklist B15), has no depth or size limit, and a lenient UTF-8 decode would
 * turn bad bytes into U+FFFD. So: decode UTF-8 fatally, check the size, run one cheap
 * structural scan (string bodies are skipped with native indexOf) that enforces the depth limit
 * and refuses duplicate keys, then hand the text to the native parser, which does the full
 * grammar check and builds the value.
 */
import { StellaError, type CheckName, type ErrorCode } from '../errors.js';
import { decodeBase64, decodeUtf8Text, isWellFormedText } from './encoding.js';
import { quoted } from './text.js';

export interface StrictJsonOptions {
  /** Deepest nesting of objects/arrays allowed (the top-level value is depth 1). */
  maxDepth: number;
  /** Largest input accepted, in UTF-8 bytes. */
  maxBytes: number;
  /** What is being parsed, for messages ("bundle", "trusted root", ...). */
  what: string;
  /** Code for malformed input. Default BUNDLE_MALFORMED. */
  code?: ErrorCode;
  /** Code for size/depth limits. Default BUNDLE_LIMIT_EXCEEDED. */
  limitCode?: ErrorCode;
  /** Default 'bundle'. */
  check?: CheckName;
}

/** Objects with more keys than this switch from a linear array scan to a Set. */
const SMALL_OBJECT_KEYS = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;

export function parseJsonStrict(input: string | Uint8Array, opts: StrictJsonOptions): unknown {
  const code = opts.code ?? 'BUNDLE_MALFORMED';
  const limitCode = opts.limitCode ?? 'BUNDLE_LIMIT_EXCEEDED';
  const check = opts.check ?? 'bundle';
  const malformed = (why: string, options?: { cause?: unknown }): never => {
    throw new StellaError(
      code,
      check,
      `malformed JSON in ${opts.what}: ${why}`,
      undefined,
      options,
    );
  };

  let text: string;
  if (typeof input === 'string') {
    // UTF-16 length <= UTF-8 length <= 3 * UTF-16 length: only count bytes when it matters.
    if (
      input.length > opts.maxBytes ||
      (input.length * 3 > opts.maxBytes && Buffer.byteLength(input, 'utf8') > opts.maxBytes)
    ) {
      throw new StellaError(
        limitCode,
        check,
        `${opts.what} is larger than the ${opts.maxBytes}-byte limit`,
      );
    }
    text = input;
  } else {
    if (input.byteLength > opts.maxBytes) {
      throw new StellaError(
        limitCode,
        check,
        `${opts.what} is larger than the ${opts.maxBytes}-byte limit (${input.byteLength} bytes)`,
      );
    }
    const decoded = decodeUtf8Text(input);
    if (!decoded.ok)
      return decoded.utf16 !== undefined
        ? malformed(
            `the input is ${decoded.utf16}, not UTF-8, which JSON requires; save it as UTF-8`,
          )
        : malformed('invalid UTF-8', { cause: decoded.cause });
    text = decoded.text;
  }

  // Said as it is: an empty pipe or file otherwise reads "Unexpected end of JSON input".
  // A byte order mark is refused as cosign (Go's encoding/json) and sigstore-js (JSON.parse)
  // refuse it, so that what Stella accepts its peers read too; JSON.parse's own message for it
  // shows an invisible character.
  if (text.charCodeAt(0) === 0xfeff)
    malformed(
      'the input starts with a byte order mark (U+FEFF), which JSON does not allow; save it as UTF-8 without a BOM',
    );
  if (/^[ \t\r\n]*$/.test(text)) malformed('the input is empty (no JSON value at all)');
  scanStructure(text, opts.maxDepth, malformed, () => {
    throw new StellaError(
      limitCode,
      check,
      `${opts.what} nests deeper than the limit of ${opts.maxDepth}`,
    );
  });

  try {
    return JSON.parse(text);
  } catch (e) {
    return malformed(e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/**
 * One pass over the text: tracks nesting depth and the keys of each open object. It only has
 * to be right for valid JSON; anything it misreads in invalid JSON is refused by JSON.parse.
 */
function scanStructure(
  text: string,
  maxDepth: number,
  malformed: (why: string) => never,
  tooDeep: () => never,
): void {
  // Per open container: null for an array, else the keys seen so far (array or Set).
  const keys: (string[] | Set<string> | null)[] = [];
  const path: string[] = [];
  let depth = 0;
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      let end = text.indexOf('"', start);
      while (end !== -1) {
        let bs = 0;
        for (let j = end - 1; j >= start && text.charCodeAt(j) === BACKSLASH; j--) bs++;
        if ((bs & 1) === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) malformed('unterminated string');
      if (expectKey) {
        expectKey = false;
        let key = text.slice(start, end);
        // "a" and "\u0061" are the same key: compare decoded forms.
        if (key.includes('\\')) {
          try {
            key = JSON.parse(text.slice(start - 1, end + 1)) as string;
          } catch {
            malformed('invalid escape in object key');
          }
        }
        const seen = keys[depth - 1];
        if (seen) {
          if (Array.isArray(seen)) {
            if (seen.includes(key)) duplicate(key);
            seen.push(key);
            if (seen.length > SMALL_OBJECT_KEYS) keys[depth - 1] = new Set(seen);
          } else {
            if (seen.has(key)) duplicate(key);
            seen.add(key);
          }
          path[depth - 1] = key;
        }
      }
      i = end;
    } else if (c === LBRACE || c === LBRACKET) {
      if (++depth > maxDepth) tooDeep();
      const isObject = c === LBRACE;
      keys[depth - 1] = isObject ? [] : null;
      path[depth - 1] = isObject ? '' : '[]';
      expectKey = isObject;
    } else if (c === RBRACE || c === RBRACKET) {
      if (depth === 0) malformed(`unexpected '${String.fromCharCode(c)}'`);
      keys[--depth] = null;
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = depth > 0 && keys[depth - 1] !== null;
    }
  }

  function duplicate(key: string): never {
    const where = ['$', ...path.slice(0, depth - 1)].join('.').replace(/\.\[\]/g, '[]');
    return malformed(`duplicate key ${quoted(key)} in object at ${where}`);
  }
}

/**
 * A JSON object as parsers produce it (JSON.parse, the CBOR decoder with mapsAsObjects): not
 * an array, a Date, a Map or a class instance. The one test every reader of untrusted
 * structured data uses.
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------
// Typed readers: the one set of shape checks every parser of untrusted structured data
// (bundles, trusted roots, Rekor bodies and requests, DSSE envelopes, in-toto statements,
// export manifests, rotation payloads) uses, so "an object", "a string", "a base64 field" or
// "at most N items" mean the same everywhere. Each takes the path of the value and the
// context of the document it is in; every refusal is a StellaError of that context's code.

/** The document being read: how its refusals are raised and worded. */
export interface JsonReadContext {
  code: ErrorCode;
  check: CheckName;
  /** Code for a count over its limit. Default: `code`. */
  limitCode?: ErrorCode;
  /** Prepended to every message ("invalid trusted root: ", "tlog entry body: "). */
  prefix?: string;
  /** protobuf JSON mapping: a null member is the same as an absent one. */
  nullIsAbsent?: boolean;
  /** How the document's messages name an object's faults. Default: JSON_WORDS. */
  words?: JsonWords;
}

/** The words a document's refusals use for objects: each format keeps its own vocabulary. */
export interface JsonWords {
  notObject(path: string): string;
  unknownKey(path: string, key: string): string;
  missingKey(path: string, key: string): string;
}

export const JSON_WORDS: JsonWords = {
  notObject: (path) => `${path}: expected an object`,
  unknownKey: (path, key) => `unknown field ${path}.${key}`,
  missingKey: (path, key) => `${path}.${key} missing`,
};

/** CBOR calls them maps and keys. */
export const CBOR_WORDS: JsonWords = {
  notObject: (path) => `${path}: expected a map`,
  unknownKey: (path, key) => `${path}: unexpected key ${quoted(key)}`,
  missingKey: (path, key) => `${path}: missing key ${key}`,
};

export type JsonObject = Record<string, unknown>;

export function jsonRefusal(ctx: JsonReadContext, message: string, limit = false): never {
  throw new StellaError(
    limit ? (ctx.limitCode ?? ctx.code) : ctx.code,
    ctx.check,
    `${ctx.prefix ?? ''}${message}`,
  );
}

/** Absent: undefined, and under the protobuf mapping null too. */
export function isAbsent(v: unknown, ctx: JsonReadContext): v is undefined | null {
  return v === undefined || (v === null && ctx.nullIsAbsent === true);
}

export interface ObjectShape {
  /** Keys that must be present. */
  required?: readonly string[];
  /** Keys that may be present; with `required`, any other key is refused. Omitted: any key. */
  optional?: readonly string[];
}

/**
 * A plain object (never an array, Date, Map or class instance). With a shape, exactly the
 * keys it allows: a required key absent or an unknown key present is refused.
 */
export function readObject(
  v: unknown,
  path: string,
  ctx: JsonReadContext,
  shape?: ObjectShape,
): JsonObject {
  if (isAbsent(v, ctx)) jsonRefusal(ctx, `${path} missing`);
  const words = ctx.words ?? JSON_WORDS;
  if (!isPlainObject(v)) jsonRefusal(ctx, words.notObject(path));
  if (shape) {
    const required = shape.required ?? [];
    if (shape.optional !== undefined || shape.required !== undefined) {
      const optional = shape.optional ?? [];
      for (const k of Object.keys(v)) {
        if (!required.includes(k) && !optional.includes(k))
          jsonRefusal(ctx, words.unknownKey(path, k.slice(0, 60)));
      }
    }
    for (const k of required) if (isAbsent(v[k], ctx)) jsonRefusal(ctx, words.missingKey(path, k));
  }
  return v;
}

/** An array of at most `max` items (at least one with `nonEmpty`). */
export function readArray(
  v: unknown,
  path: string,
  ctx: JsonReadContext,
  opts: { max: number; nonEmpty?: boolean },
): unknown[] {
  if (isAbsent(v, ctx)) jsonRefusal(ctx, `${path} missing`);
  if (!Array.isArray(v)) jsonRefusal(ctx, `${path}: expected an array`);
  if (v.length > opts.max)
    jsonRefusal(ctx, `${path}: ${v.length} items exceeds the limit of ${opts.max}`, true);
  if (opts.nonEmpty && v.length === 0) jsonRefusal(ctx, `${path} is empty`);
  return v;
}

/** A string; with `nonEmpty`, '' is the same as absent (protobuf's default); `maxLength` in UTF-16 units. */
export function readString(
  v: unknown,
  path: string,
  ctx: JsonReadContext,
  opts: { nonEmpty?: boolean; maxLength?: number } = {},
): string {
  if (isAbsent(v, ctx)) jsonRefusal(ctx, `${path} missing`);
  if (typeof v !== 'string')
    jsonRefusal(
      ctx,
      `${path}: expected a string${opts.maxLength === undefined ? '' : ` of at most ${opts.maxLength} characters`}`,
    );
  if (opts.nonEmpty && v === '') jsonRefusal(ctx, `${path} missing`);
  if (opts.maxLength !== undefined && v.length > opts.maxLength)
    jsonRefusal(ctx, `${path}: expected a string of at most ${opts.maxLength} characters`);
  // An escaped lone surrogate is valid JSON text but no character: what Stella reads it must be
  // able to write again (canonical JSON refuses it), and Go's reader would see U+FFFD instead.
  if (!isWellFormedText(v)) jsonRefusal(ctx, `${path}: not valid Unicode (a lone surrogate)`);
  return v;
}

/** Standard base64 (strict, ./encoding.ts); with `nonEmpty`, no bytes is the same as absent. */
export function readBase64(
  v: unknown,
  path: string,
  ctx: JsonReadContext,
  opts: { nonEmpty?: boolean } = {},
): Uint8Array {
  if (isAbsent(v, ctx)) jsonRefusal(ctx, `${path} missing`);
  if (typeof v !== 'string') jsonRefusal(ctx, `${path}: expected a base64 string`);
  const bytes = decodeBase64(v, `${ctx.prefix ?? ''}${path}`, ctx.check, ctx.code);
  if (opts.nonEmpty && bytes.length === 0) jsonRefusal(ctx, `${path} missing`);
  return bytes;
}

const DECIMAL_UINT = /^[0-9]{1,16}$/;

/**
 * A non-negative integer exact in a double. `decimalString`: protobuf JSON's int64, which
 * may also be written as a decimal string.
 */
export function readUint(
  v: unknown,
  path: string,
  ctx: JsonReadContext,
  opts: { decimalString?: boolean } = {},
): number {
  if (isAbsent(v, ctx)) jsonRefusal(ctx, `${path} missing`);
  let n: number;
  if (typeof v === 'string' && opts.decimalString) {
    if (!DECIMAL_UINT.test(v))
      jsonRefusal(ctx, `${path}: not a non-negative integer (${quoted(v, 40)})`);
    n = Number(v);
  } else if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0)
      jsonRefusal(ctx, `${path}: not a non-negative integer (${v})`);
    n = v;
  } else {
    return jsonRefusal(
      ctx,
      `${path}: expected ${opts.decimalString ? 'an integer' : 'a non-negative integer'}`,
    );
  }
  if (!Number.isSafeInteger(n))
    jsonRefusal(ctx, `${path}: ${String(v)} is out of range (max ${Number.MAX_SAFE_INTEGER})`);
  return n;
}

/** `read(v)` when the member is present, else undefined. */
export function readOptional<T>(
  v: unknown,
  ctx: JsonReadContext,
  read: (v: unknown) => T,
): T | undefined {
  return isAbsent(v, ctx) ? undefined : read(v);
}
