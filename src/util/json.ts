/**
 * Strict JSON for untrusted input. `JSON.parse` is fast but silently keeps the last of two
 * duplicate keys (checklist B15), has no depth or size limit, and a lenient UTF-8 decode would
 * turn bad bytes into U+FFFD. So: decode UTF-8 fatally, check the size, run one cheap
 * structural scan (string bodies are skipped with native indexOf) that enforces the depth limit
 * and refuses duplicate keys, then hand the text to the native parser, which does the full
 * grammar check and builds the value.
 */
import { StellaError, type CheckName, type ErrorCode } from '../errors.js';
import { utf8Decoder } from './encoding.js';

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
    throw new StellaError(code, check, `malformed JSON in ${opts.what}: ${why}`, undefined, options);
  };

  let text: string;
  if (typeof input === 'string') {
    // UTF-16 length <= UTF-8 length <= 3 * UTF-16 length: only count bytes when it matters.
    if (input.length > opts.maxBytes || (input.length * 3 > opts.maxBytes && Buffer.byteLength(input, 'utf8') > opts.maxBytes)) {
      throw new StellaError(limitCode, check, `${opts.what} is larger than the ${opts.maxBytes}-byte limit`);
    }
    text = input;
  } else {
    if (input.byteLength > opts.maxBytes) {
      throw new StellaError(limitCode, check, `${opts.what} is larger than the ${opts.maxBytes}-byte limit (${input.byteLength} bytes)`);
    }
    try {
      text = utf8Decoder.decode(input);
    } catch (e) {
      return malformed('invalid UTF-8', { cause: e });
    }
  }

  scanStructure(text, opts.maxDepth, malformed, () => {
    throw new StellaError(limitCode, check, `${opts.what} nests deeper than the limit of ${opts.maxDepth}`);
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
function scanStructure(text: string, maxDepth: number, malformed: (why: string) => never, tooDeep: () => never): void {
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
    return malformed(`duplicate key ${JSON.stringify(key)} in object at ${where}`);
  }
}
