/**
 * Canonical JSON for the store's own digests and the rotation payload: object keys sorted by
 * UTF-16 code unit, no whitespace, integers only (no floats: their text form is not unique).
 * Only used on values this code builds, so an unsupported value is a programming error.
 */
export type CanonicalValue = string | number | boolean | null | CanonicalValue[] | { [k: string]: CanonicalValue | undefined };

export function canonicalJson(v: CanonicalValue): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new TypeError(`canonical JSON: not a safe integer: ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(v[k] as CanonicalValue)).join(',') + '}';
}
