import test from 'ava';
import {
  bytesEqual,
  collectBytes,
  decodeBase64,
  decodeProtoJsonBytes,
  fromHex,
  fromLatin1,
  isWellFormedText,
  toHex,
  toLatin1,
  utf16Form,
  utf8,
  utf8Decoder,
} from '../../src/util/encoding.js';
import { StellaError } from '../../src/errors.js';

test('strict base64: valid input decodes, padding only where needed', (t) => {
  t.deepEqual(Buffer.from(decodeBase64('aGVsbG8=', 'x')), Buffer.from('hello'));
  t.deepEqual(Buffer.from(decodeBase64('aGVsbG8h', 'x')), Buffer.from('hello!'));
  t.deepEqual(decodeBase64('', 'x').length, 0);
});

test('protojson bytes: standard or URL-safe alphabet, padded or not, as Go reads them; mixed alphabets and stray padding refused', (t) => {
  const bytes = Uint8Array.from([0xfb, 0xff, 0xfe, 0x68, 0x69]);
  for (const form of ['+//+aGk=', '+//+aGk', '-__-aGk=', '-__-aGk']) {
    t.deepEqual(decodeProtoJsonBytes(form, 'x'), bytes, form);
  }
  t.is(decodeProtoJsonBytes('', 'x').length, 0);
  for (const [bad, why] of [
    ['+__-aGk=', /alphabets mixed/],
    ['-//-aGk', /alphabets mixed/],
    ['+//+aG=', /padding on an unpadded length/],
    ['-__-a', /invalid base64/],
    ['+//+aGk!', /invalid base64/],
  ] as const) {
    const e = t.throws(() => decodeProtoJsonBytes(bad, 'req.digest', 'tlog', 'REKOR_REJECTED'), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'REKOR_REJECTED', bad);
    t.regex(e.message, /^req\.digest: /, bad);
    t.regex(e.message, why, bad);
  }
  t.throws(() => decodeProtoJsonBytes(7, 'x'), {
    instanceOf: StellaError,
    message: /not a string/,
  });
});

test('line-wrapped base64 (MIME, as RFC 3161 tokens are often stored) decodes, like Go and Python', (t) => {
  t.deepEqual(Buffer.from(decodeBase64('aGVs\nbG8h\r\n', 'x')), Buffer.from('hello!'));
});

test('anything else is refused naming the field', (t) => {
  for (const bad of [
    'aGVsbG8',
    'aGVsbG8==',
    'aGV sbG8=',
    'aGVsbG8=\t',
    'aGVs_G8=',
    '=aGVsbG8',
    'aG=sbG8=',
    '====',
    'aGVsbG8\r=',
    'ä===',
  ]) {
    const e = t.throws(
      () => decodeBase64(bad, 'messageSignature.signature'),
      { instanceOf: StellaError },
      JSON.stringify(bad),
    );
    t.is(e.code, 'BUNDLE_MALFORMED');
    t.regex(e.message, /messageSignature\.signature: invalid base64/);
  }
  t.throws(() => decodeBase64(42, 'f'), { instanceOf: StellaError });
});

test('bytesEqual compares contents, whatever the views and backing buffers', (t) => {
  const big = new Uint8Array(3000).map((_, i) => i % 251);
  const copy = Uint8Array.from(big);
  t.true(bytesEqual(big, copy));
  t.true(bytesEqual(new Uint8Array(0), new Uint8Array(0)));
  // Views into one buffer at different offsets, and a Buffer against a Uint8Array.
  const backing = new Uint8Array([9, 1, 2, 3, 9, 1, 2, 3]);
  t.true(bytesEqual(backing.subarray(1, 4), backing.subarray(5, 8)));
  t.true(bytesEqual(Buffer.from([1, 2, 3]), backing.subarray(1, 4)));
  t.false(bytesEqual(backing.subarray(0, 4), backing.subarray(1, 5)));
  // Same prefix, different length; a difference in the last byte.
  t.false(bytesEqual(big, big.subarray(0, 2999)));
  copy[2999] = copy[2999]! ^ 1;
  t.false(bytesEqual(big, copy));
});

/** Chunks of `sizes` bytes; `state` says how many were taken and whether the source was closed. */
function source(sizes: number[]) {
  const state = { taken: 0, closed: false };
  async function* gen(): AsyncGenerator<Uint8Array> {
    try {
      for (const [i, n] of sizes.entries()) {
        state.taken++;
        yield Buffer.alloc(n, i + 1);
      }
    } finally {
      state.closed = true;
    }
  }
  return { chunks: gen(), state };
}

test('collectBytes joins every chunk into one plain Uint8Array, however many there are', async (t) => {
  const joined = await collectBytes(source([3, 0, 2]).chunks);
  t.is(joined.constructor, Uint8Array);
  t.deepEqual([...joined], [1, 1, 1, 3, 3]);
  const many = await collectBytes(source(Array.from({ length: 200_000 }, () => 1)).chunks);
  t.is(many.byteLength, 200_000);
  t.is((await collectBytes(source([]).chunks)).byteLength, 0);
});

test('collectBytes within a limit: exactly the limit is taken; past it, reading stops and the source is closed', async (t) => {
  t.is((await collectBytes(source([4, 4]).chunks, 8))?.byteLength, 8);
  const over = source([4, 4, 1, 1000]);
  t.is(await collectBytes(over.chunks, 8), undefined);
  t.is(over.state.taken, 3);
  t.true(over.state.closed);
});

test('fromHex reads either case and refuses what Buffer would silently cut short', (t) => {
  t.deepEqual([...fromHex('00ff7Fa0')], [0x00, 0xff, 0x7f, 0xa0]);
  t.is(fromHex('').length, 0);
  // Buffer.from(s, 'hex') gives [0x00] for '00zz' and [0x00] for '001': both are bugs to hear of.
  for (const bad of ['00zz', '001', 'zz00', '0g', ' 00', '00 ', '0x00'])
    t.throws(
      () => fromHex(bad),
      { instanceOf: RangeError, message: /not an even number of hex digits/ },
      bad,
    );
  const bytes = new Uint8Array(256).map((_, i) => i);
  t.deepEqual(fromHex(toHex(bytes)), bytes);
  t.deepEqual(fromHex(toHex(bytes).toUpperCase()), bytes);
});

test('toLatin1 reads every byte as the character of that code, in place; fromLatin1 reverses it', (t) => {
  const all = new Uint8Array(258).map((_, i) => (i + 255) % 256);
  const view = all.subarray(1, 257); // 0..255, inside a larger buffer
  const text = toLatin1(view);
  t.is(text.length, 256);
  for (let i = 0; i < 256; i++) t.is(text.charCodeAt(i), i);
  t.deepEqual(fromLatin1(text), view);
  t.is(toLatin1(new Uint8Array([0x75, 0x73, 0x74, 0x61, 0x72])), 'ustar');
});

test('isWellFormedText: a lone surrogate, high or low, or a pair in the wrong order is not Unicode; pairs are', (t) => {
  for (const ok of ['', 'plain', '\u00e9t\u00e9', '\ud83d\ude00', 'a\ud83d\ude00b\ud800\udc00'])
    t.true(isWellFormedText(ok), JSON.stringify(ok));
  for (const bad of ['\ud800', 'a\udc00', '\ude00\ud83d', 'x\ud83d', '\ud83d\ude00\udfff'])
    t.false(isWellFormedText(bad), JSON.stringify(bad));
});

test('utf8Decoder keeps a leading byte order mark as U+FEFF: two byte strings never decode to one text', (t) => {
  t.is(utf8Decoder.decode(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61)), '\ufeffa');
  t.is(utf8Decoder.decode(Uint8Array.of(0x61)), 'a');
  t.throws(() => utf8Decoder.decode(Uint8Array.of(0xef, 0xbb)));
});

test('utf16Form: a UTF-16 byte order mark, or ASCII text with every other byte NUL, from four bytes', (t) => {
  const le = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'));
  const be = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le').swap16());
  t.is(utf16Form(Uint8Array.of(0xff, 0xfe)), 'UTF-16LE (it starts with the byte order mark FF FE)');
  t.is(utf16Form(Uint8Array.of(0xfe, 0xff)), 'UTF-16BE (it starts with the byte order mark FE FF)');
  t.is(utf16Form(le('{"')), 'UTF-16LE');
  t.is(utf16Form(be('--')), 'UTF-16BE');
  for (const bytes of [
    utf8.encode('{"a":1}'),
    Uint8Array.of(0x7b, 0x00, 0x7d),
    Uint8Array.of(0x00, 0x7b, 0x00),
    Uint8Array.of(0x7b, 0x00, 0x7d, 0x20),
    Uint8Array.of(0x00, 0x7b, 0x7d, 0x00),
    Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b),
    new Uint8Array(0),
  ])
    t.is(utf16Form(bytes), undefined, Buffer.from(bytes).toString('hex'));
});
