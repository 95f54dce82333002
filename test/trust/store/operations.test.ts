import test from 'ava';
import { parseEntryId } from '../../../src/trust/store/operations.js';
import { StellaError } from '../../../src/errors.js';

// Entry ids are SQLite rowids: positive safe integers, written in decimal without a sign or
// leading zeros. A number and its text are held to the same rule (the CLI passes text, the
// library's callers numbers).
test('parseEntryId: positive integers as numbers or plain decimal text; 0, negatives, fractions and other spellings are not ids', (t) => {
  t.is(parseEntryId(1), 1);
  t.is(parseEntryId(7), 7);
  t.is(parseEntryId('7'), 7);
  t.is(parseEntryId('9007199254740991'), Number.MAX_SAFE_INTEGER);
  for (const bad of [
    0,
    -1,
    1.5,
    NaN,
    Infinity,
    2 ** 53,
    '0',
    '-1',
    '01',
    '+1',
    '1.0',
    '1e3',
    ' 1',
    '',
    'x',
  ]) {
    const e = t.throws(() => parseEntryId(bad), { instanceOf: StellaError }, String(bad));
    t.is(e?.code, 'STORE_ENTRY_NOT_FOUND', String(bad));
    t.true(e?.message.includes(JSON.stringify(String(bad))), String(bad));
    t.true(e?.message.includes('stella trust list'), String(bad));
  }
});
