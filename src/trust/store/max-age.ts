/**
 * The --max-age rule (days a trust store may go without an import or rotation), kept apart
 * from the store itself so that the CLI can check the flag before it loads SQLite.
 */
import { fail } from '../../errors.js';
import { DAY_MS, TIME_MAX_MS } from '../../util/time.js';
import { quoted } from '../../util/text.js';

/** No store can be older than Stella's whole time range (util/time.ts): a longer limit is a typo. */
const MAX_AGE_LIMIT_DAYS = Math.floor(TIME_MAX_MS / DAY_MS);

const RULE = `--max-age must be a positive number of days up to ${MAX_AGE_LIMIT_DAYS}`;

function inRange(days: number): boolean {
  return days > 0 && days <= MAX_AGE_LIMIT_DAYS;
}

/**
 * Why `s` is not a --max-age value, or undefined when it is one: the one rule for the flag.
 * The CLI asks it before anything is read (a usage error); parseMaxAgeDays enforces it for
 * callers of the library.
 */
export function maxAgeDaysMistake(s: string): string | undefined {
  if (/^[0-9]+(\.[0-9]+)?$/.test(s.trim()) && inRange(Number(s))) return undefined;
  return `${RULE}, not ${quoted(s)}`;
}

export function parseMaxAgeDays(s: string): number {
  const mistake = maxAgeDaysMistake(s);
  if (mistake !== undefined) fail('INPUT_INVALID', 'input', mistake);
  return Number(s);
}

/** The same limits for a library caller that passes a number (NaN and Infinity are refused). */
export function checkMaxAgeDays(days: number): number {
  if (!inRange(days)) fail('INPUT_INVALID', 'input', `${RULE}, not ${days}`);
  return days;
}
