/**
 * The one time parser and bound (src/util/time.ts): strict RFC 3339, Stella's range
 * 1970-01-01T00:00:00Z..9999-12-31T23:59:59.999Z, full-precision comparisons, and a formatter
 * that never throws. Checklist H50 (every time bounded at parse) and H58 (sub-millisecond
 * times compared at full precision).
 */
import test from 'ava';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import {
  boundedMs,
  boundedSeconds,
  daysFromCivil,
  formatTime,
  formatTimeCompact,
  isoString,
  parseRfc3339,
  parseTimeFlag,
  secondFraction,
  timeAtOrAfter,
  timeAtOrBefore,
  timeInWindow,
  TIME_MAX_MS,
  TIME_MIN_MS,
  windowEndMs,
  windowStartMs,
} from '../../src/util/time.js';
import { Prng } from '../fuzz/prng.js';

function refused(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  pattern: RegExp,
  code: ErrorCode = 'INPUT_INVALID',
): void {
  const e = t.throws(fn, { instanceOf: StellaError }, String(pattern)) as StellaError;
  t.is(e.code, code, e.message);
  t.regex(e.message, pattern);
}

test('the range is 1970-01-01T00:00:00Z through 9999-12-31T23:59:59.999Z', (t) => {
  t.is(TIME_MIN_MS, Date.parse('1970-01-01T00:00:00.000Z'));
  t.is(TIME_MAX_MS, Date.parse('9999-12-31T23:59:59.999Z'));
});

test('RFC 3339 date-times are read exactly, with offsets and up to nine fraction digits', (t) => {
  t.deepEqual(parseRfc3339('2026-01-31T00:00:00Z', 'x'), { ms: Date.UTC(2026, 0, 31), subMs: '' });
  t.deepEqual(parseRfc3339('2026-01-31t02:00:00+02:00', 'x'), {
    ms: Date.UTC(2026, 0, 31),
    subMs: '',
  });
  t.deepEqual(parseRfc3339('2026-01-30T23:30:00.5-00:30', 'x'), {
    ms: Date.UTC(2026, 0, 31, 0, 0, 0, 500),
    subMs: '',
  });
  t.deepEqual(parseRfc3339('2024-02-29T12:00:00.123456789z', 'x'), {
    ms: Date.UTC(2024, 1, 29, 12, 0, 0, 123),
    subMs: '456789',
  });
  t.deepEqual(
    parseRfc3339('2024-02-29T12:00:00.000100000Z', 'x'),
    { ms: Date.UTC(2024, 1, 29, 12), subMs: '1' },
    'trailing zeros below the ms are not precision',
  );
  t.deepEqual(parseRfc3339('1970-01-01T00:00:00Z', 'x'), { ms: 0, subMs: '' });
  t.deepEqual(
    parseRfc3339('1969-12-31T23:00:00-01:00', 'x'),
    { ms: 0, subMs: '' },
    'an offset may bring a local 1969 into range',
  );
  t.deepEqual(parseRfc3339('9999-12-31T23:59:59.999999999Z', 'x'), {
    ms: TIME_MAX_MS,
    subMs: '999999',
  });
});

test('impossible date-times are refused, never rolled over (review item 15)', (t) => {
  for (const s of [
    '2025-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2025-04-31T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-00-10T00:00:00Z',
    '2025-01-00T00:00:00Z',
  ]) {
    refused(t, () => parseRfc3339(s, '--at'), /^--at: ".*" is not a valid date-time/);
  }
  for (const s of [
    '2025-01-01T24:00:00Z',
    '2025-01-01T23:60:00Z',
    '2025-06-30T23:59:60Z',
    '2025-01-01T00:00:00+24:00',
    '2025-01-01T00:00:00+01:60',
  ]) {
    refused(t, () => parseRfc3339(s, '--at'), /is not a valid date-time/);
  }
});

test('anything but a full RFC 3339 date-time is refused: no date alone, no missing seconds or zone, no junk', (t) => {
  for (const s of [
    '2025-01-01',
    '2025-01-01T00:00Z',
    '2025-01-01T00:00:00',
    '2025-01-01 00:00:00Z',
    ' 2025-01-01T00:00:00Z',
    '2025-01-01T00:00:00Z ',
    '2025-01-01T00:00:00.Z',
    '2025-01-01T00:00:00.1234567890Z',
    '+02025-01-01T00:00:00Z',
    'yesterday',
    '',
  ]) {
    refused(
      t,
      () => parseRfc3339(s, '--valid-from'),
      /^--valid-from: ".*" is not an RFC 3339 time/,
    );
  }
  refused(
    t,
    () => parseRfc3339(1735689600, 'validFor.start'),
    /^validFor\.start: expected an RFC 3339 time .*not a number/,
  );
  refused(t, () => parseRfc3339(null, 'validFor.start'), /not a null/);
});

test('times outside the range are refused naming the field', (t) => {
  for (const s of [
    '1969-12-31T23:59:59.999Z',
    '0000-01-01T00:00:00Z',
    '0070-01-01T00:00:00Z',
    '1970-01-01T00:30:00+01:00',
    '9999-12-31T23:59:59-00:01',
  ]) {
    refused(
      t,
      () =>
        parseRfc3339(s, 'tlogs[0].publicKey.validFor.end', {
          code: 'TRUSTED_ROOT_INVALID',
          check: 'trusted-root',
        }),
      /^tlogs\[0\]\.publicKey\.validFor\.end: ".*" is not a time in range/,
      'TRUSTED_ROOT_INVALID',
    );
  }
});

test('day counting agrees with the proleptic Gregorian calendar across the range', (t) => {
  for (let y = 1970; y <= 9999; y += 37) {
    for (const [m, d] of [
      [1, 1],
      [2, 28],
      [3, 1],
      [12, 31],
    ] as const) {
      t.is(daysFromCivil(y, m, d) * 86_400_000, Date.UTC(y, m - 1, d), `${y}-${m}-${d}`);
    }
  }
  t.is(daysFromCivil(2000, 2, 29) * 86_400_000, Date.UTC(2000, 1, 29));
});

test('numbers from input: whole ms or seconds in range, else refused with the field and code given', (t) => {
  const ctx = { code: 'BUNDLE_MALFORMED', check: 'bundle' } as const;
  t.is(boundedMs(TIME_MAX_MS, 'x'), TIME_MAX_MS);
  t.is(boundedMs(0, 'x'), 0);
  for (const v of [
    TIME_MAX_MS + 1,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    1e300,
    '5',
    null,
  ]) {
    refused(
      t,
      () => boundedMs(v, 'sct.timestamp'),
      /^sct\.timestamp: .* is not a time in range \(whole milliseconds from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59\.999Z\)$/,
    );
  }
  t.is(boundedSeconds(253402300799, 'integratedTime', ctx), 253402300799);
  for (const v of [253402300800, 9007199254740991, -1, 1.5]) {
    refused(
      t,
      () => boundedSeconds(v, 'integratedTime', ctx),
      /^integratedTime: .* is not a time in range/,
      'BUNDLE_MALFORMED',
    );
  }
  // A JWT NumericDate may carry a fraction (RFC 7519); still bounded.
  t.is(boundedSeconds(1700000000.25, 'exp', ctx, { fraction: true }), 1700000000.25);
  for (const v of [253402300800, -0.5, 1e20, -1e300, Number.NaN])
    refused(
      t,
      () => boundedSeconds(v, '"exp" claim', ctx, { fraction: true }),
      /"exp" claim/,
      'BUNDLE_MALFORMED',
    );
  t.is(
    (t.throws(() => boundedMs(2n ** 70n, 'x')) as StellaError).details?.value,
    String(2n ** 70n),
  );
  // The message shows a number as written, a string quoted, anything else by its type.
  const said = (v: unknown) => (t.throws(() => boundedMs(v, 'x')) as StellaError).message;
  t.regex(said(-1), /^x: -1 is not/);
  t.regex(said(2n ** 70n), /^x: 1180591620717411303424 is not/);
  t.regex(said('5'), /^x: "5" is not/);
  t.regex(said(null), /^x: null is not/);
  t.regex(said(true), /^x: boolean is not/);
  t.regex(said({ seconds: 5 }), /^x: object is not/);
  t.regex(said(undefined), /^x: undefined is not/);
});

test("sub-millisecond digits never round in the signer's favour", (t) => {
  const end = Date.UTC(2025, 0, 1);
  t.true(timeAtOrBefore({ ms: end, subMs: '' }, end), 'exactly at the end (inclusive)');
  t.false(timeAtOrBefore({ ms: end, subMs: '1' }, end), '100 µs past the end');
  t.false(timeAtOrBefore({ ms: end, subMs: '000000001' }, end), '1 ps past the end');
  t.true(timeAtOrBefore({ ms: end - 1, subMs: '999999' }, end));
  t.true(timeAtOrAfter({ ms: end, subMs: '' }, end), 'exactly at the start (inclusive)');
  t.false(timeAtOrAfter({ ms: end - 1, subMs: '999999999' }, end), 'a fraction before the start');
  t.true(timeInWindow({ ms: end, subMs: '5' }, end, end + 1));
  t.false(timeInWindow({ ms: end, subMs: '5' }, end, end));
  t.true(timeInWindow(end, end, undefined));
  // Window bounds kept in ms are narrowed inward.
  t.is(windowStartMs({ ms: end, subMs: '1' }), end + 1);
  t.is(windowStartMs({ ms: end, subMs: '' }), end);
  t.is(windowEndMs({ ms: end, subMs: '999' }), end);
  t.is(parseTimeFlag('2025-01-01T00:00:00.0001Z', '--valid-from', 'start'), end + 1);
  t.is(parseTimeFlag('2025-01-01T00:00:00.0001Z', '--valid-until', 'end'), end);
});

test('formatting never throws, whatever it is given', (t) => {
  t.is(formatTime(Date.UTC(2026, 0, 31)), '2026-01-31T00:00:00.000Z');
  t.is(
    formatTime({ ms: Date.UTC(2026, 0, 31, 0, 0, 0, 1), subMs: '5' }),
    '2026-01-31T00:00:00.0015Z',
  );
  t.is(formatTimeCompact(Date.UTC(2026, 0, 31)), '2026-01-31T00:00:00Z');
  t.is(formatTimeCompact(Date.UTC(2026, 0, 31, 0, 0, 0, 250)), '2026-01-31T00:00:00.250Z');
  for (const v of [1e20, -1e20, Number.NaN, Number.POSITIVE_INFINITY])
    t.regex(formatTime(v), /^\(time out of range: /);
  // Certificates may predate 1970 (UTCTime reaches back to 1950); they still format.
  t.is(formatTime(Date.UTC(1950, 0, 1)), '1950-01-01T00:00:00.000Z');
});

/** The first millisecond of `year` (UTC), any year, where Date.UTC maps 0-99 to 1900-1999. */
function utcYearStart(year: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, 0, 1);
  return d.getTime();
}

test('isoString writes what Date#toISOString writes, across the whole range a Date holds', (t) => {
  const limit = 8.64e15;
  const values = [
    0,
    -1,
    1,
    limit,
    -limit,
    limit - 1,
    -limit + 1,
    // Date.UTC reads years 0-99 as 1900-1999: the years 0 and 99 themselves, set as such.
    utcYearStart(0),
    utcYearStart(0) - 1,
    utcYearStart(1) - 1,
    utcYearStart(99),
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    Date.UTC(10000, 0, 1),
    Date.UTC(-1, 11, 31, 23, 59, 59, 999),
    Date.UTC(2024, 1, 29, 12),
    Date.UTC(1950, 0, 1),
    1.5,
    -1.5,
    999.999,
  ];
  // A fixed seed, so a failure names a value that can be replayed.
  const rng = new Prng(0x2545f491);
  for (let i = 0; i < 20_000; i++) values.push(Math.round((rng.float() * 2 - 1) * limit));
  for (let i = 0; i < 20_000; i++) values.push(Math.round((rng.float() * 2 - 1) * 4.2e12));
  for (const v of values) {
    const d = new Date(v);
    if (isoString(d) !== d.toISOString()) t.fail(`${v}: ${isoString(d)} vs ${d.toISOString()}`);
  }
  t.is(isoString(new Date(Date.UTC(-1, 0, 1))), '-000001-01-01T00:00:00.000Z');
  t.is(isoString(new Date(Date.UTC(10000, 0, 1))), '+010000-01-01T00:00:00.000Z');
  t.is(isoString(new Date(0)), '1970-01-01T00:00:00.000Z');
  t.is(isoString(new Date(utcYearStart(0))), '0000-01-01T00:00:00.000Z');
});

test('boundedSeconds: both ends of the range are in it, one past either end is not', (t) => {
  const last = TIME_MAX_MS / 1000; // 253402300799.999: a fraction, so only where fractions are allowed
  t.is(boundedSeconds(last, 'exp', undefined, { fraction: true }), last);
  t.is(boundedSeconds(Math.floor(last), 'exp'), Math.floor(last));
  t.is(boundedSeconds(0, 'exp'), 0);
  for (const v of [last + 0.001, Math.floor(last) + 1, -1, -0.001])
    t.throws(() => boundedSeconds(v, 'exp', undefined, { fraction: true }), {
      instanceOf: StellaError,
      message: /^exp: /,
    });
  t.throws(() => boundedSeconds(last, 'exp'), { message: /whole seconds/ });
});

test('secondFraction: the digits a DER GeneralizedTime writes, trailing zeros omitted (X.690 11.7.3)', (t) => {
  const at = (ms: number, subMs = '') => secondFraction({ ms, subMs });
  const second = Date.UTC(2025, 5, 1, 12, 0, 3);
  t.is(at(second), '');
  t.is(at(second + 120), '12');
  t.is(at(second + 123), '123');
  t.is(at(second + 100), '1');
  t.is(at(second + 5, '5'), '0055');
  t.is(at(second, '000001'), '000000001');
  // Before 1970 the remainder is negative: still the digits after the decimal point.
  t.is(at(Date.UTC(1969, 11, 31, 23, 59, 59) + 250), '25');
});
