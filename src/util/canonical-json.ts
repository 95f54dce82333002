/**
 * The one canonical JSON encoder: RFC 8785 JSON Canonicalization Scheme. Object keys sorted
 * by UTF-16 code units, no whitespace, strings with only the mandatory escapes, numbers in
 * ECMAScript Number-to-String form. Rekor canonicalizes entry bodies and the SET payload this
 * way, so the bytes a log signed can be rebuilt from the values; the trust store's digests
 * and the rotation payload use it too (with `integersOnly`), so there is one notion of
 * "canonical" in Stella.
 */
import { fail } from '../errors.js';
import { isPlainObject } from './json.js';
import { isWellFormedText, utf8 } from './encoding.js';

/** A JSON value; an object member that is undefined is left out, as JSON.stringify does. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue | undefined };

export interface CanonicalOptions {
  /**
   * Refuse any number that is not a safe integer. For Stella's own documents (store digests,
   * rotation payloads), where a fraction or an integer past 2^53 can only be a bug.
   */
  integersOnly?: boolean;
}

export function canonicalize(value: unknown, opts: CanonicalOptions = {}): string {
  const parts: string[] = [];
  write(value, parts, 0, opts.integersOnly === true);
  return parts.join('');
}

export function canonicalizeBytes(value: unknown, opts: CanonicalOptions = {}): Uint8Array {
  return utf8.encode(canonicalize(value, opts));
}

const MAX_DEPTH = 64;

function write(v: unknown, out: string[], depth: number, integersOnly: boolean): void {
  if (depth > MAX_DEPTH) bad('nesting too deep');
  if (v === null) {
    out.push('null');
  } else if (typeof v === 'boolean') {
    out.push(v ? 'true' : 'false');
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) bad(`number ${v} has no JSON form`);
    if (integersOnly && !Number.isSafeInteger(v)) bad(`number ${v} is not a safe integer`);
    // ES Number::toString is RFC 8785's number form; JSON.stringify(-0) gives "0" as required.
    out.push(JSON.stringify(v));
  } else if (typeof v === 'string') {
    out.push(quote(v));
  } else if (Array.isArray(v)) {
    out.push('[');
    v.forEach((item, i) => {
      if (i > 0) out.push(',');
      write(item, out, depth + 1, integersOnly);
    });
    out.push(']');
  } else if (isPlainObject(v)) {
    const obj = v;
    // Default sort compares UTF-16 code units, exactly as RFC 8785 §3.2.3 requires.
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (i > 0) out.push(',');
      out.push(quote(k), ':');
      write(obj[k], out, depth + 1, integersOnly);
    });
    out.push('}');
  } else {
    bad(`cannot canonicalize a value of type ${typeof v}`);
  }
}

/** A character RFC 8785 escapes: ", \ and U+0000..U+001F. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

function quote(s: string): string {
  if (!isWellFormedText(s)) bad('string contains a lone surrogate (not valid Unicode)');
  // Most strings here (base64 certificates and signatures, hex, URLs) need no escape, and
  // quoting them by hand spares JSON.stringify's copy of a string that can be kilobytes long.
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  // JSON.stringify escapes exactly ", \, and U+0000..U+001F (with \b \t \n \f \r short forms
  // and lowercase \u00xx otherwise), which is the RFC 8785 §3.2.2.2 rule.
  return JSON.stringify(s);
}

function bad(why: string): never {
  return fail('INPUT_INVALID', 'input', `canonical JSON: ${why}`);
}
