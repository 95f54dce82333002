import test from 'ava';
import {
  compareCodeUnits,
  clipped,
  listed,
  PATH_CHARS_SHOWN,
  quoted,
  serverText,
  terminalLine,
  terminalText,
  withoutTrailing,
} from '../../src/util/text.js';
import { paint } from '../../src/commands/render.js';
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

test('quoted: a short string is its JSON text; a long one is cut at max and says how long it was', (t) => {
  t.is(quoted('sha256'), '"sha256"');
  t.is(quoted('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  t.is(quoted('x'.repeat(200)), JSON.stringify('x'.repeat(200)), 'exactly max is whole');
  t.is(quoted('x'.repeat(70_150)), `${JSON.stringify('x'.repeat(200))}… (70150 characters)`);
  t.is(quoted('abcdef', 3), '"abc"… (6 characters)');
  for (const s of ['', 'plain', 'x'.repeat(5000), 'ü'.repeat(300)]) {
    const shown = quoted(s, 100);
    t.true(shown.length <= 100 * 6 + 40, 'bounded by max whatever the input');
    // The quoted part is always valid JSON text for a prefix of the value.
    const json = shown.replace(/… \(\d+ characters\)$/, '');
    t.true(s.startsWith(JSON.parse(json) as string));
  }
});

test('quoted: characters that change how a terminal shows text are escaped (C0, DEL, C1, bidi controls, line separators); others are kept', (t) => {
  t.is(quoted('\u001b[2Jx'), '"\\u001b[2Jx"', 'ESC (JSON escapes C0)');
  for (const c of [
    '\u007f',
    '\u0085',
    '\u009b',
    '\u061c',
    '\u200e',
    '\u200f',
    '\u2028',
    '\u2029',
    '\u202a',
    '\u202e',
    '\u2066',
    '\u2069',
  ]) {
    const shown = quoted(`a${c}b`);
    t.false(shown.includes(c), `U+${c.charCodeAt(0).toString(16)} is not shown raw`);
    t.is(JSON.parse(shown), `a${c}b`, 'and the escape reads back as the same text');
  }
  t.is(quoted('ünïcödé 日本 🙂'), '"ünïcödé 日本 🙂"');
  t.is(quoted('repo:\u202eniam/sfer:fer'), '"repo:\\u202eniam/sfer:fer"');
});

test('quoted: a value that is not a string is shown as JSON, cut the same way', (t) => {
  t.is(quoted(null), 'null');
  t.is(quoted(undefined), 'undefined');
  t.is(quoted(42), '42');
  t.is(quoted(10n), '10');
  t.is(quoted({ a: [1, 2] }), '{"a":[1,2]}');
  t.is(quoted(['x'.repeat(50)], 10), '["xxxxxxxx… (54 characters)', 'a cut value says its length');
});

const TERMINAL_ACTS_ON =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test("terminalText: Stella's own colours, tabs and newlines pass; every other escape sequence, control and bidi character is shown escaped", (t) => {
  for (const c of ['red', 'green', 'yellow', 'dim', 'bold'] as const) {
    const painted = paint(true, c, 'ok');
    t.is(terminalText(painted), painted, c);
  }
  t.is(terminalText('a\tb\nc'), 'a\tb\nc');
  t.is(terminalText('\u001b[2J'), '\\u001b[2J', 'clear screen');
  t.is(terminalText('\u001b]0;title\u0007'), '\\u001b]0;title\\u0007', 'window title');
  t.is(terminalText('\u001b[8mhidden'), '\\u001b[8mhidden', 'conceal is not one of ours');
  t.is(terminalText('\u001b[31;1m'), '\\u001b[31;1m', 'only the exact codes Stella writes');
  t.is(
    terminalText('FAIL x\rok  '),
    'FAIL x\\u000dok  ',
    'a carriage return cannot overwrite a line',
  );
  t.is(terminalText('\u009b2J'), '\\u009b2J', 'C1 CSI');
  t.is(terminalText('a\u202eb'), 'a\\u202eb');
  t.is(terminalText('ünïcödé 日本 🙂'), 'ünïcödé 日本 🙂');
});

test('terminalLine: a value with a newline stays on its line', (t) => {
  t.is(terminalLine('x\nCertificate Issuer: y'), 'x\\nCertificate Issuer: y');
  t.is(terminalLine('a\tb'), 'a\tb');
});

test('terminalText leaves JSON text meaning the same: what it escapes only stands inside strings, where \\uXXXX reads back as the character', (t) => {
  const pieces = [
    'a',
    '"',
    '\\',
    '\n',
    '\r',
    '\t',
    '\u001b',
    '\u0007',
    '\u007f',
    '\u0085',
    '\u009b',
    '\u202e',
    '\u2066',
    '\u2028',
    '\u061c',
    'ü',
    '🙂',
    '[31m',
  ];
  for (const s of textsOf(pieces, 2000, 10)) {
    const json = JSON.stringify({ v: s, list: [s] }, null, 2);
    const shown = terminalText(json);
    t.false(TERMINAL_ACTS_ON.test(shown), JSON.stringify(s));
    t.deepEqual(JSON.parse(shown), { v: s, list: [s] });
  }
});

test("clipped and listed: text and lists whose length is a stranger's are cut the same way", (t) => {
  t.is(clipped('ab'.repeat(32), 64), 'ab'.repeat(32), 'a 32-byte log id is whole');
  t.is(clipped('c7'.repeat(26_000), 64), `${'c7'.repeat(32)}… (52000 characters)`);
  const items = Array.from({ length: 12 }, (_, i) => `s${i}`);
  t.is(listed(items.slice(0, 10)), 's0; s1; s2; s3; s4; s5; s6; s7; s8; s9');
  t.is(listed(items), 's0; s1; s2; s3; s4; s5; s6; s7; s8; s9; and 2 more');
  t.is(listed(items, ', ', 2), 's0, s1, and 10 more');
  t.is(listed([]), '');
});

test("serverText: a server's words on one line (control runs made one space), trimmed, cut with their length, terminal-safe", (t) => {
  t.is(serverText(''), '');
  t.is(serverText('  \r\n '), '');
  t.is(serverText('{"error":\n\t"denied"}\r\n'), '{"error": "denied"}');
  t.is(serverText('a\x1b[2Jb\u009bc\x7fd'), 'a [2Jb c d', 'ESC, CSI (C1) and DEL are controls');
  t.is(serverText('left\u202eright'), 'left\\u202eright', 'a bidi override is escaped, not kept');
  t.is(serverText(`${'p'.repeat(250)}\n`), `${'p'.repeat(200)}… (250 characters)`);
  t.is(serverText('q'.repeat(50), 10), `${'q'.repeat(10)}… (50 characters)`);
  t.is(serverText('unicode é 日本 stays'), 'unicode é 日本 stays');
});

test("a path is the user's own: quoted whole up to PATH_MAX, where a stranger's value is cut at 200", (t) => {
  const path = `/${'d/'.repeat(1500)}bundle.json`;
  t.is(quoted(path, PATH_CHARS_SHOWN), JSON.stringify(path));
  t.regex(quoted(path), /… \(3012 characters\)$/);
});

test('compareCodeUnits: UTF-16 code unit order, as sort() with no comparator and RFC 8785 keys', (t) => {
  t.is(compareCodeUnits('a', 'a'), 0);
  t.is(compareCodeUnits('B', 'a'), -1, 'upper case before lower case, whatever the locale');
  t.is(compareCodeUnits('a', 'B'), 1);
  t.is(compareCodeUnits('z', 'é'), -1);
  t.is(compareCodeUnits('ab', 'a'), 1, 'a prefix first');
  // A character above U+FFFF is a surrogate pair (0xD800...) and sorts before U+FFFF: code
  // units, not code points.
  t.is(compareCodeUnits('\u{10000}', '\uffff'), -1);
  const words = ['é', 'b', 'A', '\uffff', 'a', '\u{10000}', 'B', 'a'];
  t.deepEqual([...words].sort(compareCodeUnits), [...words].sort());
});
