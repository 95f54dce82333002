import test from 'ava';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import {
  parseJsonStrict,
  readObject,
  readString,
  type StrictJsonOptions,
} from '../../src/util/json.js';

const opts: StrictJsonOptions = { maxDepth: 8, maxBytes: 4096, what: 'test document' };

function refused(
  t: import('ava').ExecutionContext,
  input: string | Uint8Array,
  code: ErrorCode,
  pattern: RegExp,
  o: StrictJsonOptions = opts,
): void {
  const err = t.throws(() => parseJsonStrict(input, o), { instanceOf: StellaError });
  t.is(err?.code, code);
  t.regex(err?.message ?? '', pattern);
}

test('parses valid JSON from a string and from UTF-8 bytes', (t) => {
  const text = '{"a":[1,{"b":"x\\"y"}],"c":null,"é":"ü"}';
  const want = { a: [1, { b: 'x"y' }], c: null, é: 'ü' };
  t.deepEqual(parseJsonStrict(text, opts), want);
  t.deepEqual(parseJsonStrict(new TextEncoder().encode(text), opts), want);
});

test('the same key in different objects is not a duplicate', (t) => {
  t.deepEqual(parseJsonStrict('{"a":{"k":1},"b":{"k":2},"c":[{"k":3},{"k":4}]}', opts), {
    a: { k: 1 },
    b: { k: 2 },
    c: [{ k: 3 }, { k: 4 }],
  });
});

test('strings that look like keys or structure are not mistaken for them', (t) => {
  const text = '{"a":"{\\"a\\":1,","b":["a","a"],"c":"\\\\","d":"]}"}';
  t.deepEqual(parseJsonStrict(text, opts), { a: '{"a":1,', b: ['a', 'a'], c: '\\', d: ']}' });
});

test('malformed JSON is refused as BUNDLE_MALFORMED by default', (t) => {
  refused(t, '{"a":1', 'BUNDLE_MALFORMED', /malformed JSON in test document/);
  refused(t, '{"a":"unterminated', 'BUNDLE_MALFORMED', /malformed JSON.*unterminated string/);
  refused(t, '{"a":1}}', 'BUNDLE_MALFORMED', /malformed JSON/);
  refused(t, '', 'BUNDLE_MALFORMED', /malformed JSON/);
  refused(t, "{'a':1}", 'BUNDLE_MALFORMED', /malformed JSON/);
});

test('empty input (an empty file or pipe, or only whitespace) is said to be empty', (t) => {
  for (const input of ['', ' \n\t\r\n', new Uint8Array(0)])
    refused(
      t,
      input,
      'BUNDLE_MALFORMED',
      /^malformed JSON in test document: the input is empty \(no JSON value at all\)$/,
    );
  // Other whitespace is not JSON whitespace: JSON.parse names it.
  refused(
    t,
    '\u00a0',
    'BUNDLE_MALFORMED',
    /^malformed JSON in test document: (?!the input is empty)/,
  );
});

test('a closing bracket with nothing open is named, before anything after it is read', (t) => {
  refused(t, '{"a":1}}', 'BUNDLE_MALFORMED', /: unexpected '\}'$/);
  refused(t, ']', 'BUNDLE_MALFORMED', /: unexpected '\]'$/);
  // Not read on past it as if a container were open: the duplicate after it is not reached.
  refused(t, ']{"a":1,"a":2}', 'BUNDLE_MALFORMED', /: unexpected '\]'$/);
});

test('a duplicate top-level key is refused', (t) => {
  refused(
    t,
    '{"mediaType":"x","mediaType":"y"}',
    'BUNDLE_MALFORMED',
    /duplicate key "mediaType" in object at \$$/,
  );
});

test('a duplicate nested key is refused and the path is named', (t) => {
  refused(
    t,
    '{"a":{"b":[{"k":1,"k":2}]}}',
    'BUNDLE_MALFORMED',
    /duplicate key "k" in object at \$\.a\.b\[\]/,
  );
});

test('a duplicate spelled with an escape is still a duplicate', (t) => {
  refused(t, '{"ab":1,"a\\u0062":2}', 'BUNDLE_MALFORMED', /duplicate key "ab"/);
});

test('duplicates are found in objects with many keys', (t) => {
  const keys = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`);
  t.is(
    (parseJsonStrict(`{${keys.join(',')}}`, { ...opts, maxBytes: 1e6 }) as Record<string, number>)
      .k39,
    39,
  );
  refused(t, `{${keys.join(',')},"k7":0}`, 'BUNDLE_MALFORMED', /duplicate key "k7"/, {
    ...opts,
    maxBytes: 1e6,
  });
});

test('a depth bomb is refused before parsing', (t) => {
  refused(t, '['.repeat(9) + ']'.repeat(9), 'BUNDLE_LIMIT_EXCEEDED', /deeper than the limit of 8/);
  const bomb = '['.repeat(100_000);
  refused(t, bomb, 'BUNDLE_LIMIT_EXCEEDED', /deeper than the limit/, { ...opts, maxBytes: 1e6 });
  t.deepEqual(parseJsonStrict('['.repeat(8) + ']'.repeat(8), opts), [[[[[[[[]]]]]]]]);
});

test('input over the size limit is refused (string and bytes); input of exactly the limit is read', (t) => {
  const big = JSON.stringify({ a: 'x'.repeat(5000) });
  refused(t, big, 'BUNDLE_LIMIT_EXCEEDED', /larger than the 4096-byte limit/);
  refused(
    t,
    new TextEncoder().encode(big),
    'BUNDLE_LIMIT_EXCEEDED',
    /larger than the 4096-byte limit/,
  );
  // 1500 three-byte characters: 1500 UTF-16 units but 4500 UTF-8 bytes.
  refused(t, JSON.stringify({ a: '€'.repeat(1500) }), 'BUNDLE_LIMIT_EXCEEDED', /larger than/);
  // Exactly the limit is read, as a string and as bytes (ASCII and three-byte characters); one
  // byte more is refused.
  for (const text of [
    JSON.stringify({ a: 'x'.repeat(4096 - 8) }),
    JSON.stringify({ a: 'x'.repeat(4096 - 8 - 3 * 100) + '€'.repeat(100) }),
  ]) {
    t.is(Buffer.byteLength(text), 4096);
    t.is((parseJsonStrict(text, opts) as { a: string }).a.length, text.length - 8);
    t.notThrows(() => parseJsonStrict(new TextEncoder().encode(text), opts));
    refused(t, `${text} `, 'BUNDLE_LIMIT_EXCEEDED', /larger than the 4096-byte limit/);
    refused(t, new TextEncoder().encode(`${text} `), 'BUNDLE_LIMIT_EXCEEDED', /larger than/);
  }
});

test('invalid UTF-8 is refused', (t) => {
  const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]); // {"a":"\xc3("}
  refused(t, bytes, 'BUNDLE_MALFORMED', /invalid UTF-8/);
});

test('callers choose the codes and check', (t) => {
  const o: StrictJsonOptions = {
    ...opts,
    code: 'TRUSTED_ROOT_INVALID',
    limitCode: 'TRUSTED_ROOT_INVALID',
    check: 'trusted-root',
  };
  const err = t.throws(() => parseJsonStrict('{"a":1,"a":2}', o), { instanceOf: StellaError });
  t.is(err?.code, 'TRUSTED_ROOT_INVALID');
  t.is(err?.check, 'trusted-root');
  const deep = t.throws(() => parseJsonStrict('[[[[[[[[[[]]]]]]]]]]', o), {
    instanceOf: StellaError,
  });
  t.is(deep?.code, 'TRUSTED_ROOT_INVALID');
});

test('readString with maxLength: a string of exactly the length is read; one unit more is refused by path', (t) => {
  const ctx = { code: 'BUNDLE_MALFORMED', check: 'bundle', prefix: 'doc: ' } as const;
  t.is(readString('abcd', 'a.b', ctx, { maxLength: 4 }), 'abcd');
  t.is(readString('', 'a.b', ctx, { maxLength: 4 }), '');
  const e = t.throws(() => readString('abcde', 'a.b', ctx, { maxLength: 4 }), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'BUNDLE_MALFORMED');
  t.regex(e?.message ?? '', /a\.b: expected a string of at most 4 characters/);
  t.is(readString('x'.repeat(5000), 'a.b', ctx), 'x'.repeat(5000));
});

const OPTS: StrictJsonOptions = { maxDepth: 4, maxBytes: 1024, what: 'doc' };

test('readString refuses a lone surrogate by path (an escape JSON allows, but no character) and keeps a pair', (t) => {
  const ctx = { code: 'BUNDLE_MALFORMED', check: 'bundle', prefix: 'doc: ' } as const;
  for (const text of ['"a\\ud800"', '"\\udc00b"', '"\\udc00\\ud800"', '"x\\ud83d"']) {
    const v = parseJsonStrict(text, OPTS);
    const e = t.throws(() => readString(v, 'a.b', ctx), { instanceOf: StellaError }, text);
    t.is(e?.code, 'BUNDLE_MALFORMED');
    t.is(e?.message, 'doc: a.b: not valid Unicode (a lone surrogate)');
  }
  const pair = parseJsonStrict('"\\ud83d\\ude00"', OPTS);
  t.is(readString(pair, 'a.b', ctx), '\u{1f600}');
});

test('a byte order mark before the JSON is refused by name, as Go and JSON.parse refuse it; one inside a string is text', (t) => {
  const bom = /the input starts with a byte order mark \(U\+FEFF\), which JSON does not allow/;
  refused(t, '\ufeff{"a":1}', 'BUNDLE_MALFORMED', bom);
  refused(t, Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d), 'BUNDLE_MALFORMED', bom);
  // Not only before whitespace-free JSON: a BOM, then the value, is still refused.
  refused(t, Uint8Array.of(0xef, 0xbb, 0xbf, 0x20, 0x31), 'BUNDLE_MALFORMED', bom);
  t.deepEqual(parseJsonStrict('{"a":"\ufeffb"}', opts), { a: '\ufeffb' });
  t.deepEqual(parseJsonStrict(Uint8Array.of(0x22, 0xef, 0xbb, 0xbf, 0x22), opts), '\ufeff');
});

test('UTF-16 JSON, with a byte order mark or without, is refused as UTF-16, not as invalid UTF-8 or a JSON syntax error', (t) => {
  const json = '{"a":1}';
  const le = Buffer.from(json, 'utf16le');
  const be = Buffer.from(le).swap16();
  const cases: [Uint8Array, string][] = [
    [
      Buffer.concat([Buffer.from([0xff, 0xfe]), le]),
      'UTF-16LE \\(it starts with the byte order mark FF FE\\)',
    ],
    [
      Buffer.concat([Buffer.from([0xfe, 0xff]), be]),
      'UTF-16BE \\(it starts with the byte order mark FE FF\\)',
    ],
    [le, 'UTF-16LE'],
    [be, 'UTF-16BE'],
  ];
  for (const [bytes, named] of cases)
    refused(
      t,
      bytes,
      'BUNDLE_MALFORMED',
      new RegExp(`: the input is ${named}, not UTF-8, which JSON requires; save it as UTF-8$`),
    );
  // Bytes that are no such pattern are judged as UTF-8 JSON, as before: a NUL in one place only,
  // or too few bytes to tell.
  for (const bytes of [
    [0x7b, 0x00, 0x7d, 0x20],
    [0x5b, 0x31, 0x2c, 0x00],
    [0x00, 0x5b, 0x31, 0x5d],
    [0x5b, 0x00, 0x00, 0x00],
    [0x7b, 0x00],
    [0x00, 0x7b, 0x00],
  ])
    refused(
      t,
      Uint8Array.from(bytes),
      'BUNDLE_MALFORMED',
      /^malformed JSON in test document: (?!the input is UTF-16)/,
    );
  t.deepEqual(parseJsonStrict(Uint8Array.of(0x5b, 0x31, 0x5d), opts), [1]);
});

test('readObject: a shape of optional keys alone still refuses any other key; an empty shape, or none, allows any', (t) => {
  const ctx = { code: 'BUNDLE_MALFORMED', check: 'bundle', prefix: 'doc: ' } as const;
  const value = { a: 1, b: 2 };
  t.deepEqual(readObject(value, 'x', ctx, { optional: ['a', 'b'] }), value);
  const e = t.throws(() => readObject(value, 'x', ctx, { optional: ['a'] }), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'BUNDLE_MALFORMED');
  t.is(e?.message, 'doc: unknown field x.b');
  t.deepEqual(readObject(value, 'x', ctx, {}), value);
  t.deepEqual(readObject(value, 'x', ctx), value);
});
