/**
 * The --max-age rule: a positive number of days, plain digits, no longer than Stella's whole
 * time range. The CLI asks maxAgeDaysMistake before anything is read (a usage error);
 * parseMaxAgeDays is the same rule for library callers (INPUT_INVALID).
 */
import test from 'ava';
import { StellaError } from '../../../src/errors.js';
import {
  checkMaxAgeDays,
  maxAgeDaysMistake,
  parseMaxAgeDays,
} from '../../../src/trust/store/max-age.js';

const ACCEPTED: Array<[string, number]> = [
  ['90', 90],
  ['0.5', 0.5],
  [' 7 ', 7],
  ['2932896', 2932896],
];
const REFUSED = [
  '',
  'abc',
  '0',
  '0.0',
  '-1',
  '+1',
  '1e3',
  '.5',
  '5.',
  '0x10',
  'Infinity',
  'NaN',
  '2932897',
  '2932896.5',
  '99999999999999999999',
];

test('--max-age values that are days: the mistake is undefined and the number is returned', (t) => {
  for (const [s, days] of ACCEPTED) {
    t.is(maxAgeDaysMistake(s), undefined, s);
    t.is(parseMaxAgeDays(s), days, s);
  }
});

test('--max-age values that are not: the same message from both, naming the value and the limit', (t) => {
  for (const s of REFUSED) {
    const mistake = maxAgeDaysMistake(s);
    t.is(
      mistake,
      `--max-age must be a positive number of days up to 2932896, not ${JSON.stringify(s)}`,
      s,
    );
    const e = t.throws(() => parseMaxAgeDays(s), { instanceOf: StellaError }, s) as StellaError;
    t.is(e.code, 'INPUT_INVALID', s);
    t.is(e.message, mistake ?? '', s);
  }
});

test('a number of days from a library caller: the same limits, NaN and Infinity refused', (t) => {
  for (const days of [0.5, 1, 90, 2932896]) t.is(checkMaxAgeDays(days), days);
  for (const days of [0, -1, 2932896.5, Number.NaN, Infinity, -Infinity]) {
    const e = t.throws(() => checkMaxAgeDays(days), { instanceOf: StellaError }, String(days));
    t.is(e.code, 'INPUT_INVALID');
    t.is(e.message, `--max-age must be a positive number of days up to 2932896, not ${days}`);
  }
});
