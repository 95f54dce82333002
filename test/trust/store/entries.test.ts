/**
 * An entry's effective window (src/trust/store/entries.ts): from its start to the earlier of its
 * end and its local retirement, both ends inclusive as timeInWindow reads them. It trusts nothing
 * only when that end comes strictly before the start.
 */
import test from 'ava';
import { effectiveEnd, effectiveWindow } from '../../../src/trust/store/entries.js';

const row = (valid_from: number, valid_until: number | null, retired_at: number | null) => ({
  valid_from,
  valid_until,
  retired_at,
});

test('the end is the earlier of valid_until and retired_at; open when neither is set', (t) => {
  t.is(effectiveEnd(row(0, null, null)), null);
  t.is(effectiveEnd(row(0, 500, null)), 500);
  t.is(effectiveEnd(row(0, null, 300)), 300);
  t.is(effectiveEnd(row(0, 500, 300)), 300);
  t.is(effectiveEnd(row(0, 300, 500)), 300);
});

test('the window: open, closed, and none when it ends before it starts', (t) => {
  t.deepEqual(effectiveWindow(row(100, null, null)), { start: 100, end: undefined });
  t.deepEqual(effectiveWindow(row(100, 500, 300)), { start: 100, end: 300 });
  // Retired (or withdrawn by a rotation) before it began: it trusts nothing.
  t.is(effectiveWindow(row(100, 500, 99)), undefined);
  t.is(effectiveWindow(row(100, 99, null)), undefined);
});

test('an end equal to the start is a window of one instant, not none (both ends are inclusive)', (t) => {
  t.deepEqual(effectiveWindow(row(100, 100, null)), { start: 100, end: 100 });
  t.deepEqual(effectiveWindow(row(100, null, 100)), { start: 100, end: 100 });
});
