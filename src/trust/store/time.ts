/**
 * Times in the trust store: INTEGER ms columns, bounded when a row is read (util/time.ts is
 * the one parser and bound; command-line flags go through it before they reach the store).
 */
import { formatTime, boundedMs } from '../../util/time.js';

/** ISO 8601 UTC of a stored or parsed time (never throws). */
export function isoTime(ms: number): string;
export function isoTime(ms: number | null | undefined): string | null;
export function isoTime(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : formatTime(ms);
}

/**
 * A time column as read from the store: a whole number of ms in range, else the store is
 * corrupt (STORE_CORRUPT naming the row and column) — never a time that crashes later.
 */
export function storedTime(v: unknown, what: string): number {
  return boundedMs(v, `trust store ${what}`, { code: 'STORE_CORRUPT', check: 'trust-store' });
}

export function storedTimeOrNull(v: unknown, what: string): number | null {
  return v === null ? null : storedTime(v, what);
}
