/** Times on the command line and in output: RFC 3339 in, ISO 8601 UTC out, ms inside. */
import { fail, type CheckName, type ErrorCode } from '../../errors.js';

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/**
 * Parse `2026-01-31`, `2026-01-31T12:00:00Z` or `...+02:00` (a date alone is midnight UTC).
 * A time without a zone is refused: it would mean different instants on different hosts.
 */
export function parseTime(s: string, what: string, code: ErrorCode = 'INPUT_INVALID', check: CheckName = 'input'): number {
  const t = s.trim();
  if (!RFC3339_RE.test(t)) fail(code, check, `${what}: ${JSON.stringify(s.slice(0, 60))} is not an RFC 3339 time (e.g. 2026-01-31T00:00:00Z)`);
  const ms = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t.replace(' ', 'T'));
  if (!Number.isFinite(ms)) fail(code, check, `${what}: ${JSON.stringify(s.slice(0, 60))} is not a valid time`);
  return ms;
}

export function isoTime(ms: number): string;
export function isoTime(ms: number | null | undefined): string | null;
export function isoTime(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
