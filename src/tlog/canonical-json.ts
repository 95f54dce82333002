/**
 * RFC 8785 JSON Canonicalization Scheme: object keys sorted by UTF-16 code units, no
 * whitespace, strings with only the mandatory escapes, numbers in ECMAScript Number-to-String
 * form. Rekor canonicalizes entry bodies and the SET payload this way, so the bytes a log
 * signed can be rebuilt from the values.
 */
import { fail } from '../errors.js';
import { utf8 } from '../util/encoding.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function canonicalize(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, 0);
  return parts.join('');
}

export function canonicalizeBytes(value: unknown): Uint8Array {
  return utf8.encode(canonicalize(value));
}

const MAX_DEPTH = 64;

function write(v: unknown, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) bad('nesting too deep');
  if (v === null) {
    out.push('null');
  } else if (typeof v === 'boolean') {
    out.push(v ? 'true' : 'false');
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) bad(`number ${v} has no JSON form`);
    // ES Number::toString is RFC 8785's number form; JSON.stringify(-0) gives "0" as required.
    out.push(JSON.stringify(v));
  } else if (typeof v === 'string') {
    out.push(quote(v));
  } else if (Array.isArray(v)) {
    out.push('[');
    v.forEach((item, i) => {
      if (i > 0) out.push(',');
      write(item, out, depth + 1);
    });
    out.push(']');
  } else if (isPlainObject(v)) {
    const obj = v;
    // Default sort compares UTF-16 code units, exactly as RFC 8785 §3.2.3 requires.
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (i > 0) out.push(',');
      out.push(quote(k), ':');
      write(obj[k], out, depth + 1);
    });
    out.push('}');
  } else {
    bad(`cannot canonicalize a value of type ${typeof v}`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function quote(s: string): string {
  if (LONE_SURROGATE.test(s)) bad('string contains a lone surrogate (not valid Unicode)');
  // JSON.stringify escapes exactly ", \, and U+0000..U+001F (with \b \t \n \f \r short forms
  // and lowercase \u00xx otherwise), which is the RFC 8785 §3.2.2.2 rule.
  return JSON.stringify(s);
}

function bad(why: string): never {
  return fail('INPUT_INVALID', 'input', `canonical JSON: ${why}`);
}
