/**
 * Times, one way, in the bottom layer. Every time Stella reads — a bundle's integratedTime, a
 * TSA's genTime, an SCT timestamp, a token's exp/nbf/iat, a trusted root's validFor, a
 * command-line flag, a store row — is bounded here when it is parsed, so that everything
 * after parsing can compare and format it without a check (and without a RangeError: a
 * `Date` holds less than a double, and `toISOString` throws past year 275760 and prints
 * six-digit years past 9999).
 *
 * The range is 1970-01-01T00:00:00Z through 9999-12-31T23:59:59.999Z, both inclusive: nothing
 * Sigstore signs predates the epoch, and RFC 3339 has four-digit years.
 *
 * Precision: a time may carry digits below the millisecond (an RFC 3161 genTime or a
 * trusted_root.json time, each read to at most nine fraction digits). They are kept
 * (PreciseTime) and compared exactly against whole-millisecond window bounds, so a fraction
 * past an end fails and a fraction before a start fails: nothing is ever rounded in the
 * signer's favour.
 */
import { fail, type CheckName, type ErrorCode } from '../errors.js';
import { quoted, withoutTrailing } from './text.js';

/** 1970-01-01T00:00:00.000Z */
export const TIME_MIN_MS = 0;
/** 9999-12-31T23:59:59.999Z */
export const TIME_MAX_MS = 253_402_300_799_999;
/** Milliseconds in a day (UTC days: no leap seconds, as in JavaScript time). */
export const DAY_MS = 86_400_000;
export const TIME_RANGE_TEXT = '1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z';

/** Which error a refused time raises: the code and check of the input it came from. */
export interface TimeErrorContext {
  code: ErrorCode;
  check: CheckName;
}

const INPUT: TimeErrorContext = { code: 'INPUT_INVALID', check: 'input' };

/** An instant at full precision. */
export interface PreciseTime {
  /** Whole milliseconds since the epoch: the instant rounded down. */
  readonly ms: number;
  /**
   * Decimal digits below the millisecond, without trailing zeros; '' for a whole millisecond.
   * At most six as read: every reader stops at the nanosecond.
   */
  readonly subMs: string;
}

export type TimeValue = number | PreciseTime;

/**
 * The fraction-of-second digits a DER GeneralizedTime writes for `t`: every digit the instant
 * has, trailing zeros omitted (X.690 11.7.3); '' for a whole second.
 */
export function secondFraction(t: PreciseTime): string {
  return withoutTrailing(
    `${String(((t.ms % 1000) + 1000) % 1000).padStart(3, '0')}${t.subMs}`,
    '0',
  );
}

/** Is `ms` a whole number of milliseconds inside Stella's time range? */
export function isTimeInRange(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isInteger(ms) && ms >= TIME_MIN_MS && ms <= TIME_MAX_MS;
}

function shown(v: unknown): string {
  if (typeof v === 'string') return quoted(v, 60);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return v === null ? 'null' : typeof v;
}

function outOfRange(field: string, v: unknown, unit: string, ctx: TimeErrorContext): never {
  return fail(
    ctx.code,
    ctx.check,
    `${field}: ${shown(v)} is not a time in range (${unit} from ${TIME_RANGE_TEXT})`,
    {
      field,
      value:
        typeof v === 'number' || typeof v === 'string'
          ? v
          : typeof v === 'bigint'
            ? v.toString()
            : null,
    },
  );
}

/** A time in milliseconds taken from input: a whole number in range, or refused naming `field`. */
export function boundedMs(v: unknown, field: string, ctx: TimeErrorContext = INPUT): number {
  if (typeof v === 'bigint') {
    if (v < BigInt(TIME_MIN_MS) || v > BigInt(TIME_MAX_MS))
      outOfRange(field, v, 'milliseconds', ctx);
    return Number(v);
  }
  if (!isTimeInRange(v)) outOfRange(field, v, 'whole milliseconds', ctx);
  return v;
}

/**
 * A time in seconds taken from input (Rekor integratedTime; with `fraction`, a JWT NumericDate,
 * which RFC 7519 lets carry a fraction). Returns the seconds, checked.
 */
export function boundedSeconds(
  v: unknown,
  field: string,
  ctx: TimeErrorContext = INPUT,
  opts: { fraction?: boolean } = {},
): number {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (opts.fraction || Number.isInteger(v)) &&
    v >= TIME_MIN_MS / 1000 &&
    v * 1000 <= TIME_MAX_MS;
  if (!ok) outOfRange(field, v, opts.fraction ? 'seconds' : 'whole seconds', ctx);
  return v;
}

// ---------------------------------------------------------------------------------------
// RFC 3339

/** RFC 3339 date-time: seconds required, a zone required, at most nine fraction digits. */
const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date. Integer arithmetic (H. Hinnant's
 * days_from_civil) rather than Date.UTC, which maps years 0-99 to 1900-1999.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Parse an RFC 3339 date-time strictly: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. Every
 * field is checked for what it is (no 2025-02-30 rolled over to March, no T24:00, no leap
 * second 60, no offset beyond ±23:59), and the instant must lie in Stella's range. The one
 * parser for trusted_root.json, command-line flags, rotation payloads and export manifests.
 */
export function parseRfc3339(
  text: unknown,
  field: string,
  ctx: TimeErrorContext = INPUT,
): PreciseTime {
  if (typeof text !== 'string')
    return fail(
      ctx.code,
      ctx.check,
      `${field}: expected an RFC 3339 time (e.g. 2026-01-31T00:00:00Z), not a ${text === null ? 'null' : typeof text}`,
    );
  const m = RFC3339_RE.exec(text);
  if (!m)
    fail(
      ctx.code,
      ctx.check,
      `${field}: ${shown(text)} is not an RFC 3339 time (e.g. 2026-01-31T00:00:00Z or 2026-01-31T02:00:00+02:00: date, time with seconds, zone)`,
    );
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(
    Number,
  ) as [number, number, number, number, number, number];
  const offsetHours = m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    fail(
      ctx.code,
      ctx.check,
      `${field}: ${shown(text)} is not a valid date-time (a field is out of range, e.g. day 30 of February, hour 24 or second 60)`,
    );
  }
  const fraction = m[7] ?? '';
  const millis = fraction === '' ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  const subMs = withoutTrailing(fraction.slice(3), '0');
  const offsetMs = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const ms =
    daysFromCivil(year, month, day) * DAY_MS +
    ((hour * 60 + minute) * 60 + second) * 1000 +
    millis -
    offsetMs;
  if (!isTimeInRange(ms)) outOfRange(field, text, 'RFC 3339', ctx);
  return { ms, subMs };
}

/**
 * The first whole millisecond at or after `t`: a window START read at full precision and kept
 * in milliseconds. Rounding up narrows the window, never widens it.
 */
export function windowStartMs(t: PreciseTime): number {
  return t.subMs === '' ? t.ms : t.ms + 1;
}

/** The last whole millisecond at or before `t`: a window END (inclusive), narrowed, never widened. */
export function windowEndMs(t: PreciseTime): number {
  return t.ms;
}

// ---------------------------------------------------------------------------------------
// Comparisons at full precision against whole-millisecond bounds

function precise(t: TimeValue): PreciseTime {
  return typeof t === 'number' ? { ms: t, subMs: '' } : t;
}

/** t >= startMs (whole ms): the digits below the millisecond cannot pull t back before it. */
export function timeAtOrAfter(t: TimeValue, startMs: number): boolean {
  return precise(t).ms >= startMs;
}

/** t <= endMs (whole ms): any fraction past endMs is after it. */
export function timeAtOrBefore(t: TimeValue, endMs: number): boolean {
  const p = precise(t);
  return p.ms < endMs || (p.ms === endMs && p.subMs === '');
}

/** start <= t <= end, both inclusive; `end` undefined is open. */
export function timeInWindow(t: TimeValue, startMs: number, endMs: number | undefined): boolean {
  return timeAtOrAfter(t, startMs) && (endMs === undefined || timeAtOrBefore(t, endMs));
}

// ---------------------------------------------------------------------------------------
// Formatting. Only bounded times reach here; still, formatting never throws, so a message
// about a bad time can always be printed.

/** The largest |ms| a Date holds (ECMA-262 §21.4.1.22). */
const DATE_LIMIT_MS = 8.64e15;

/** ISO 8601 UTC with milliseconds (`2026-01-31T00:00:00.000Z`). */
export function formatTime(t: TimeValue): string {
  const p = precise(t);
  if (!Number.isFinite(p.ms) || Math.abs(p.ms) > DATE_LIMIT_MS)
    return `(time out of range: ${String(p.ms)} ms)`;
  const iso = isoString(new Date(p.ms));
  return p.subMs === '' ? iso : `${iso.slice(0, -1)}${p.subMs}Z`;
}

/** `n` in decimal with leading zeros to `width` digits: the fields of ISO and DER times. */
export function zeroPad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * `Date#toISOString`, written out: measured in a fresh process, V8's first toISOString takes
 * ~0.19 ms and the UTC getters ~0.01 ms, and `attest verify` prints a time once per run. Years
 * outside 0–9999 are written as ECMA-262 (Date Time String Format) says: a sign and six digits.
 * A test compares the two across the whole range.
 */
export function isoString(d: Date): string {
  const y = d.getUTCFullYear();
  const year =
    y >= 0 && y <= 9999 ? zeroPad(y, 4) : `${y < 0 ? '-' : '+'}${zeroPad(Math.abs(y), 6)}`;
  return (
    `${year}-${zeroPad(d.getUTCMonth() + 1, 2)}-${zeroPad(d.getUTCDate(), 2)}` +
    `T${zeroPad(d.getUTCHours(), 2)}:${zeroPad(d.getUTCMinutes(), 2)}:${zeroPad(d.getUTCSeconds(), 2)}` +
    `.${zeroPad(d.getUTCMilliseconds(), 3)}Z`
  );
}

/** As formatTime; null (or undefined) stays null: an open window end, an entry never retired. */
export function formatTimeOrNull(t: TimeValue): string;
export function formatTimeOrNull(t: TimeValue | null | undefined): string | null;
export function formatTimeOrNull(t: TimeValue | null | undefined): string | null {
  return t === null || t === undefined ? null : formatTime(t);
}

/** As formatTime, without the fraction when it is zero (`2026-01-31T00:00:00Z`), as trusted roots are written. */
export function formatTimeCompact(t: TimeValue): string {
  const iso = formatTime(t);
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/**
 * A command-line time flag, by the same parser as trusted_root.json, in whole milliseconds.
 * Digits below the millisecond round the way that narrows: a window start (`--valid-from`)
 * up, an end or expiry (`--valid-until`, `--at`, `--expires`) down.
 */
export function parseTimeFlag(value: string, flag: string, bound: 'start' | 'end'): number {
  const t = parseRfc3339(value, flag);
  return bound === 'start' ? windowStartMs(t) : windowEndMs(t);
}
