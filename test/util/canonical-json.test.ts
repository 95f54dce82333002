import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { canonicalize, canonicalizeBytes } from '../../src/util/canonical-json.js';

test('RFC 8785 §3.2.3: keys sorted by UTF-16 code units', (t) => {
  const o = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  t.is(
    canonicalize(o),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
});

test('RFC 8785 §3.2.2: numbers in ECMAScript form, strings with minimal escapes', (t) => {
  // eslint-disable-next-line no-loss-of-precision -- RFC 8785's own vector: the literal is rounded on purpose
  const rfcRounded = 333333333.33333329;
  t.is(
    canonicalize([rfcRounded, 1e30, 4.5, 2e-3, 0.000001, 1e-7, 1e21, -0, 0, -1.5]),
    '[333333333.3333333,1e+30,4.5,0.002,0.000001,1e-7,1e+21,0,0,-1.5]',
  );
  t.is(
    canonicalize({
      numbers: [rfcRounded, 1e30, 4.5, 2e-3, 0.000000000000000000000000001],
      string: '\u20ac$\u000f\u000aA\'\u0042\u0022\u005c\\"/',
      literals: [null, true, false],
    }),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
  t.is(canonicalize('\u007f\u2028\b\t\f'), '"\u007f\u2028\\b\\t\\f"');
  t.deepEqual(canonicalizeBytes({ b: 1, a: [] }), new TextEncoder().encode('{"a":[],"b":1}'));
});

test('nested objects sort at every level; undefined members are dropped', (t) => {
  t.is(
    canonicalize({ z: { y: 1, x: [{ b: 2, a: 1 }] }, a: undefined }),
    '{"z":{"x":[{"a":1,"b":2}],"y":1}}',
  );
});

test('values with no canonical form are refused', (t) => {
  for (const v of [
    NaN,
    Infinity,
    -Infinity,
    '\ud800',
    { k: '\udc00x' },
    1n,
    () => 1,
    new Date(0),
    new Map(),
    Symbol('s'),
  ]) {
    const err = t.throws(() => canonicalize(v), { instanceOf: StellaError });
    t.is(err?.code, 'INPUT_INVALID');
  }
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  t.throws(() => canonicalize(deep), { instanceOf: StellaError });
});

test('every string is quoted exactly as JSON.stringify quotes it (RFC 8785 §3.2.2.2), with or without escapes', (t) => {
  let differ = 0;
  for (let c = 0; c <= 0xffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue; // lone surrogates are refused (test above)
    const ch = String.fromCharCode(c);
    for (const s of [ch, `a${ch}`, `${ch}b`, `MIIB${ch}x+/=`])
      if (canonicalize(s) !== JSON.stringify(s)) differ++;
  }
  t.is(differ, 0);
  const long = 'QUJD'.repeat(1000);
  t.is(canonicalize({ k: long }), `{"k":"${long}"}`);
  t.is(canonicalize('😀'), '"😀"');
});

test('integersOnly: safe integers are written; fractions and integers past 2^53 - 1 are refused', (t) => {
  const o = { integersOnly: true };
  t.is(canonicalize({ n: 1, m: -(2 ** 53 - 1), z: 0 }, o), `{"m":${-(2 ** 53 - 1)},"n":1,"z":0}`);
  for (const bad of [1.5, 2 ** 53, -(2 ** 53)])
    t.throws(
      () => canonicalize({ n: bad }, o),
      { instanceOf: StellaError, message: /is not a safe integer/ },
      String(bad),
    );
  t.is(canonicalize({ n: 1.5 }), '{"n":1.5}');
});
