/**
 * Times in the trust store: INTEGER ms columns, bounded when a row is read (util/time.ts is
 * the one parser and bound; command-line flags go through it before they reach the store).
 */
import { boundedMs } from '../../util/time.js';

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
