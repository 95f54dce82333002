import test from 'ava';
import { withoutTrailing } from '../../src/util/text.js';
import { textsOf } from '../helpers/random-text.js';

test('withoutTrailing removes exactly what replace(/[chars]+$/, "") removes', (t) => {
  const cases: [string, RegExp][] = [
    ['/', /\/+$/],
    ['0', /0+$/],
    ['.-', /[.-]+$/],
  ];
  for (const [chars, pattern] of cases) {
    for (const s of textsOf(['/', '0', '.', '-', 'a', '1', '//', '\n'], 3000, 12)) {
      t.is(withoutTrailing(s, chars), s.replace(pattern, ''), JSON.stringify([chars, s]));
    }
  }
});

test('withoutTrailing on a long run: kept when something else ends the text, removed when it ends it', (t) => {
  // The replaced pattern took ~7 s on 100,000 slashes followed by one letter; these are ten
  // times longer.
  const run = '/'.repeat(1_000_000);
  t.is(withoutTrailing(`${run}a`, '/'), `${run}a`);
  t.is(withoutTrailing(`a${run}`, '/'), 'a');
  t.is(withoutTrailing(run, '/'), '');
  t.is(withoutTrailing('', '/'), '');
});
