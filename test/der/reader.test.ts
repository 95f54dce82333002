import test from 'ava';
import {
  MAX_DER_DEPTH,
  MAX_DER_ELEMENTS,
  parseDer,
  parseNested,
  readBitString,
  readBoolean,
  readInteger,
  readSmallInteger,
  readOid,
  readPreciseTime,
  readString,
  readTime,
  Tag,
} from '../../src/der/reader.js';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import { fromHex, utf8 } from '../../src/util/encoding.js';
import { derNulls, wrapDer } from '../helpers/der-bomb.js';

const h = fromHex;

function refuses(
  t: import('ava').ExecutionContext,
  input: Uint8Array,
  pattern: RegExp,
  code: ErrorCode = 'CERTIFICATE_MALFORMED',
): void {
  const e = t.throws(() => parseDer(input), { instanceOf: StellaError });
  t.is(e?.code, code);
  t.regex(e?.message ?? '', pattern);
}

test('parses a nested structure with offsets and views', (t) => {
  // SEQUENCE { INTEGER 5, SEQUENCE { BOOLEAN TRUE } }
  const buf = h('3008020105300301' + '01ff');
  const root = parseDer(buf);
  t.true(root.is(Tag.SEQUENCE));
  t.is(root.children.length, 2);
  t.is(readInteger(root.children[0]!), 5n);
  const inner = root.children[1]!;
  t.is(inner.start, 5);
  t.is(inner.headerLength, 2);
  t.true(readBoolean(inner.children[0]!));
  t.is(inner.der.buffer, buf.buffer, 'nodes are views, not copies');
});

test('refuses indefinite lengths', (t) =>
  refuses(t, h('3080020101' + '0000'), /indefinite length/));
test('refuses non-minimal long-form lengths', (t) =>
  refuses(t, h('308103020101'), /non-minimal length/));
test('refuses long-form lengths with a leading zero', (t) =>
  refuses(t, h('30820003020101'), /non-minimal length/));
test('refuses lengths past the end', (t) => refuses(t, h('3005020101'), /runs past the end/));
test('refuses long-form length octets cut off by the end of the input', (t) => {
  refuses(t, h('3082'), /truncated length/);
  refuses(t, h('308201'), /truncated length/);
  // Inside a parent: the child's length octets run past the parent's end.
  refuses(t, h('30030482010000'), /truncated length|runs past the end/);
});
test('refuses trailing bytes after the top element', (t) =>
  refuses(t, h('300302010100'), /trailing byte/));
test('refuses inner elements that overrun their parent', (t) =>
  refuses(t, h('30030202010100'), /runs past the end|truncated/));
test('refuses empty input', (t) => refuses(t, new Uint8Array(0), /empty input/));
test('refuses high-tag-number form for small tag numbers', (t) =>
  refuses(t, h('1f0500'), /high tag number form used for tag 5/));
test('refuses a high tag number cut off by the end of the input, or of its parent', (t) => {
  refuses(t, h('1f'), /truncated high tag number/);
  refuses(t, h('9fa1'), /truncated high tag number/);
  // Inside a parent whose length ends in the middle of the tag: the byte after it (here one
  // that would end the tag as 33) belongs to no one and is never read as part of it.
  refuses(t, h('30019f21'), /truncated high tag number/);
});
test('refuses non-minimal high tag numbers', (t) =>
  refuses(t, h('9f802100'), /non-minimal high tag number/));
test('refuses constructed encodings of primitive universal types', (t) =>
  refuses(t, h('2203020101'), /constructed encoding/));
test('refuses a primitive SEQUENCE', (t) => refuses(t, h('1000'), /must be constructed/));
test('refuses the reserved universal tags 0 and 15', (t) => {
  refuses(t, h('0000'), /universal tag 0 is reserved/);
  refuses(t, h('0f00'), /universal tag 15 is reserved/);
  refuses(t, h('30020f00'), /universal tag 15 is reserved/);
});
test('refuses universal tags X.680 does not assign, anywhere in the tree', (t) => {
  refuses(t, h('1f2500'), /universal tag 37 is not assigned/);
  refuses(t, h('30031f7f00'), /universal tag 127 is not assigned/);
  // The last assigned ones (DURATION 34, RELATIVE-OID-IRI 36) and the first (BOOLEAN) stand.
  t.is(parseDer(h('1f2200')).tagNumber, 34);
  t.is(parseDer(h('1f2400')).tagNumber, 36);
  t.is(parseDer(h('0101ff')).tagNumber, 1);
  // Only the universal class is X.680's to assign: context tag 37 is anyone's.
  t.is(parseDer(h('9f2500')).tagNumber, 37);
});
test('a refusal names the tag it found: a universal one by its name, another class by class and number', (t) => {
  const found = (hex: string): string =>
    t.throws(() => parseDer(h(hex)).sequence('thing'), { instanceOf: StellaError }).message;
  t.regex(found('020105'), /thing: expected SEQUENCE, found INTEGER \(at offset 0\)$/);
  t.regex(found('1f2200'), /thing: expected SEQUENCE, found universal tag 34 \(at offset 0\)$/);
  t.regex(found('a000'), /thing: expected SEQUENCE, found context tag \[0\] \(constructed\)/);
  t.regex(found('8101ff'), /thing: expected SEQUENCE, found context tag \[1\] \(at/);
  t.regex(found('4000'), /thing: expected SEQUENCE, found application tag \[0\] \(at/);
});
test('EXTERNAL, EMBEDDED PDV and CHARACTER STRING are constructed in DER', (t) => {
  for (const tag of [8, 11, 29]) {
    refuses(t, Uint8Array.of(tag, 0), new RegExp(`tag ${tag} must be constructed`));
    t.is(parseDer(Uint8Array.of(0x20 | tag, 0)).tagNumber, tag);
  }
});
test('refuses lengths of more than four octets', (t) =>
  refuses(t, h('3085000000000100'), /too large/));

test('accepts a proper high tag number', (t) => {
  const n = parseDer(h('9f2100'));
  t.is(n.tagNumber, 33);
  t.is(n.cls, 2);
});

test(`refuses nesting deeper than ${MAX_DER_DEPTH}`, (t) => {
  const nest = (depth: number): Uint8Array => {
    let cur = h('0500');
    for (let i = 1; i < depth; i++) cur = Uint8Array.of(0x30, cur.length, ...cur);
    return cur;
  };
  t.notThrows(() => parseDer(nest(MAX_DER_DEPTH)));
  refuses(t, nest(MAX_DER_DEPTH + 1), /nesting deeper than 32/, 'DER_LIMIT_EXCEEDED');
});

const wrap = wrapDer;
const nulls = derNulls;

test('H55 a 16 MB DER bomb of 8 million empty elements is refused by the element budget', (t) => {
  const bomb = wrap(0x30, nulls(8 * 1024 * 1024));
  t.true(bomb.length > 16 * 1024 * 1024);
  const e = t.throws(() => parseDer(bomb), { instanceOf: StellaError });
  t.is(e?.code, 'DER_LIMIT_EXCEEDED');
  t.regex(e?.message ?? '', new RegExp(`more than ${MAX_DER_ELEMENTS} elements`));
});

test('H55 many elements in a SEQUENCE or a SET: the budget counts every element of the parse', (t) => {
  // The root plus MAX_DER_ELEMENTS - 1 children is exactly the budget; one more is refused.
  for (const tag of [0x30, 0x31]) {
    t.notThrows(() => parseDer(wrap(tag, nulls(MAX_DER_ELEMENTS - 1))));
    refuses(t, wrap(tag, nulls(MAX_DER_ELEMENTS)), /more than 4096 elements/, 'DER_LIMIT_EXCEEDED');
  }
  // Spread over many small SEQUENCEs, the count is the same.
  const small = wrap(0x30, nulls(3));
  const many = new Uint8Array(small.length * 1100);
  for (let i = 0; i < 1100; i++) many.set(small, i * small.length);
  refuses(t, wrap(0x30, many), /more than 4096 elements/, 'DER_LIMIT_EXCEEDED');
});

test('H55 parseNested draws on the budget of the parse its node came from', (t) => {
  // SEQUENCE { SEQUENCE { 3000 NULLs }, OCTET STRING { SEQUENCE { 1500 NULLs } } }: each part
  // fits a budget of its own; together they do not.
  const inner = wrap(0x30, nulls(1500));
  const outer = wrap(0x30, new Uint8Array([...wrap(0x30, nulls(3000)), ...wrap(0x04, inner)]));
  const root = parseDer(outer);
  const e = t.throws(() => parseNested(root.children[1]!, 'wrapped'), { instanceOf: StellaError });
  t.is(e?.code, 'DER_LIMIT_EXCEEDED');
  t.regex(e?.message ?? '', /^wrapped: more than 4096 elements/);
  t.notThrows(() => parseDer(inner), 'the wrapped structure alone is within a budget');
  // Depth continues across parseNested too.
  let deep = h('0500');
  for (let i = 1; i < MAX_DER_DEPTH; i++) deep = Uint8Array.of(0x30, deep.length, ...deep);
  const holder = parseDer(Uint8Array.of(0x30, deep.length + 2, 0x04, deep.length, ...deep));
  const d = t.throws(() => parseNested(holder.children[0]!), { instanceOf: StellaError });
  t.is(d?.code, 'DER_LIMIT_EXCEEDED');
  t.regex(d?.message ?? '', /nesting deeper than 32/);
});

test('H55 the expected tag is checked on the identifier octet before anything inside is parsed', (t) => {
  // A SET holding the bomb, where a SEQUENCE is expected: refused for its shape, not after
  // spending the element budget on its contents.
  const bomb = wrap(0x31, nulls(1024 * 1024));
  const e = t.throws(() => parseDer(bomb, undefined, Tag.SEQUENCE), { instanceOf: StellaError });
  t.is(e?.code, 'CERTIFICATE_MALFORMED');
  t.regex(e?.message ?? '', /expected SEQUENCE, found identifier octet 0x31 \(at offset 0\)/);
  const holder = parseDer(wrap(0x30, wrap(0x04, wrap(0x31, nulls(10)))));
  const n = t.throws(() => parseNested(holder.children[0]!, 'extension', Tag.SEQUENCE), {
    instanceOf: StellaError,
  });
  t.regex(n?.message ?? '', /^extension: expected SEQUENCE, found identifier octet 0x31/);
  t.is(parseNested(holder.children[0]!, 'extension', Tag.SET).children.length, 10);
});

test('error code, check and subject can be chosen by the caller', (t) => {
  const e = t.throws(
    () =>
      parseDer(h('3080'), { code: 'TIMESTAMP_INVALID', check: 'verified-times', what: 'token' }),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'TIMESTAMP_INVALID');
  t.is(e?.check, 'verified-times');
  t.regex(e?.message ?? '', /^token: indefinite length/);
});

test('readInteger: values and minimality', (t) => {
  t.is(readInteger(parseDer(h('020100'))), 0n);
  t.is(readInteger(parseDer(h('02020080'))), 128n);
  t.is(readInteger(parseDer(h('0201ff'))), -1n);
  t.is(readInteger(parseDer(h('020180'))), -128n);
  t.is(readInteger(parseDer(h('0202ff7f'))), -129n);
  t.throws(() => readInteger(parseDer(h('02020001'))), { message: /non-minimal INTEGER/ });
  t.throws(() => readInteger(parseDer(h('0202ff80'))), { message: /non-minimal INTEGER/ });
  t.throws(() => readInteger(parseDer(h('0200'))), { message: /empty INTEGER/ });
  t.throws(() => readInteger(parseDer(h('0500'))), { message: /expected INTEGER/ });
});

test('readSmallInteger: 0 to 2^53-1 only; a negative or larger one is out of range, named', (t) => {
  t.is(readSmallInteger(parseDer(h('020100'))), 0);
  // 2^53-1 = 0x1fffffffffffff
  t.is(readSmallInteger(parseDer(h('02071fffffffffffff'))), Number.MAX_SAFE_INTEGER);
  for (const der of ['0201ff', '020180', '020720000000000000'])
    t.throws(() => readSmallInteger(parseDer(h(der)), 'pathLenConstraint'), {
      instanceOf: StellaError,
      message: /pathLenConstraint out of range/,
    });
});

test('readOid: dotted form and strictness', (t) => {
  t.is(readOid(parseDer(h('06092a864886f70d010101'))), '1.2.840.113549.1.1.1');
  t.is(readOid(parseDer(h('060a2b0601040183bf300101'))), '1.3.6.1.4.1.57264.1.1');
  t.is(readOid(parseDer(h('0603883703'))), '2.999.3');
  t.throws(() => readOid(parseDer(h('06022a80'))), { message: /truncated OBJECT IDENTIFIER/ });
  t.throws(() => readOid(parseDer(h('06032a8001'))), {
    message: /non-minimal OBJECT IDENTIFIER arc/,
  });
  t.throws(() => readOid(parseDer(h('0600'))), { message: /empty OBJECT IDENTIFIER/ });
});

const time = (tag: number, s: string): Uint8Array =>
  Uint8Array.of(tag, s.length, ...utf8.encode(s));

test('readTime: UTCTime and GeneralizedTime', (t) => {
  t.is(readTime(parseDer(time(23, '250101120000Z'))), Date.UTC(2025, 0, 1, 12));
  t.is(readTime(parseDer(time(23, '500101000000Z'))), Date.UTC(1950, 0, 1));
  t.is(readTime(parseDer(time(24, '20500101000000Z'))), Date.UTC(2050, 0, 1));
  t.is(readTime(parseDer(time(24, '20240229235959Z'))), Date.UTC(2024, 1, 29, 23, 59, 59));
});

test('readTime: fractional seconds only where allowed, without trailing zeros', (t) => {
  const n = parseDer(time(24, '20250806190351.25Z'));
  t.throws(() => readTime(n), { message: /fractional seconds/ });
  t.is(readTime(n, { allowFraction: true }), Date.UTC(2025, 7, 6, 19, 3, 51, 250));
  t.throws(() => readTime(parseDer(time(24, '20250806190351.250Z')), { allowFraction: true }), {
    message: /trailing zeros/,
  });
  t.throws(() => readTime(parseDer(time(24, '20250806190351.Z')), { allowFraction: true }), {
    message: /empty fraction/,
  });
});

test('readPreciseTime keeps every fraction digit below the millisecond (checklist H58)', (t) => {
  const at = Date.UTC(2025, 7, 6, 19, 3, 51);
  t.deepEqual(
    readPreciseTime(parseDer(time(24, '20250806190351.0001Z')), { allowFraction: true }),
    { ms: at, subMs: '1' },
  );
  t.deepEqual(
    readPreciseTime(parseDer(time(24, '20250806190351.123456789Z')), { allowFraction: true }),
    { ms: at + 123, subMs: '456789' },
    'nine digits: the nanosecond',
  );
  t.deepEqual(
    readPreciseTime(parseDer(time(24, '20250806190351.000000001Z')), { allowFraction: true }),
    { ms: at, subMs: '000001' },
  );
  t.deepEqual(
    readPreciseTime(parseDer(time(24, '20250806190351.1000001Z')), { allowFraction: true }),
    { ms: at + 100, subMs: '0001' },
    'zeros inside the fraction are kept',
  );
  t.deepEqual(readPreciseTime(parseDer(time(24, '20250806190351.5Z')), { allowFraction: true }), {
    ms: at + 500,
    subMs: '',
  });
  t.deepEqual(readPreciseTime(parseDer(time(24, '20250806190351Z'))), { ms: at, subMs: '' });
  t.is(
    readTime(parseDer(time(24, '20250806190351.0009Z')), { allowFraction: true }),
    at,
    'readTime rounds down to the millisecond',
  );
});

test('a GeneralizedTime fraction of more than nine digits is refused, as Go reads one (cosign, sigstore-go); a million is refused in one pass with a short message', (t) => {
  for (const fraction of ['1234567891', '0000000001', '1000000001']) {
    t.throws(
      () =>
        readPreciseTime(parseDer(time(24, `20250806190351.${fraction}Z`)), { allowFraction: true }),
      { instanceOf: StellaError, message: /fraction has 10 digits; at most nine/ },
      fraction,
    );
  }
  // Zeros then a one: its digits come from a stranger (a TSA token in a bundle). Trimming
  // trailing zeros from that with /0+$/ took ~2.6 s at 60,000 digits and grew with the square;
  // now the digits are counted once and refused, and the message does not quote them.
  const der = wrapDer(24, utf8.encode(`20250806190351.1${'0'.repeat(1_000_000)}1Z`));
  const e = t.throws(() => readPreciseTime(parseDer(der), { allowFraction: true }), {
    instanceOf: StellaError,
    message: /fraction has 1000002 digits; at most nine/,
  });
  t.true(e!.message.length < 200, e!.message.slice(0, 300));
});

test('readTime: strict formats', (t) => {
  for (const [tag, s] of [
    [23, '2501011200Z'],
    [23, '250101120000'],
    [23, '250101120000+0100'],
    [23, '250230120000Z'],
    [23, '251301120000Z'],
    [23, '250101240000Z'],
    [23, '2501011200a0Z'],
    [24, '20230229000000Z'],
    [24, '202501011200Z'],
    [24, '20250101120000'],
  ] as const) {
    t.throws(() => readTime(parseDer(time(tag, s))), { instanceOf: StellaError }, `${tag} ${s}`);
  }
  t.throws(() => readTime(parseDer(h('0500'))), { message: /expected a time/ });
});

test('readString: per-type character sets', (t) => {
  t.is(readString(parseDer(time(Tag.PRINTABLE_STRING, 'sigstore.dev'))), 'sigstore.dev');
  t.is(readString(parseDer(Uint8Array.of(12, 3, 0xe2, 0x82, 0xac))), '€');
  t.throws(() => readString(parseDer(time(Tag.PRINTABLE_STRING, 'a@b'))), {
    message: /PrintableString/,
  });
  t.throws(() => readString(parseDer(Uint8Array.of(22, 1, 0x80))), { message: /IA5String/ });
  t.throws(() => readString(parseDer(Uint8Array.of(12, 1, 0xff))), { message: /not valid UTF-8/ });
  t.throws(() => readString(parseDer(h('0500'))), { message: /expected a string/ });
});

test('readBoolean: only 00 and FF', (t) => {
  t.false(readBoolean(parseDer(h('010100'))));
  t.throws(() => readBoolean(parseDer(h('010101'))), { message: /0x00 or 0xFF/ });
  t.throws(() => readBoolean(parseDer(h('0102ffff'))), { message: /one octet/ });
});

test('readBitString: unused bits', (t) => {
  const b = readBitString(parseDer(h('03020780')));
  t.is(b.unusedBits, 7);
  t.deepEqual([...b.bytes], [0x80]);
  t.throws(() => readBitString(parseDer(h('03020881'))), { message: /above 7/ });
  t.throws(() => readBitString(parseDer(h('03020781'))), { message: /unused bits are not zero/ });
  t.throws(() => readBitString(parseDer(h('030101'))), {
    message: /empty BIT STRING with unused bits/,
  });
  t.throws(() => readBitString(parseDer(h('0300'))), { message: /without unused-bits octet/ });
});

test('parseNested reads DER wrapped in an OCTET STRING, strictly', (t) => {
  const outer = parseDer(h('0405' + '3003020107'));
  t.is(readInteger(parseNested(outer).children[0]!), 7n);
  t.throws(() => parseNested(parseDer(h('0406' + '300302010700'))), { message: /trailing byte/ });
  t.throws(() => parseNested(parseDer(h('0400'))), { message: /empty wrapped DER/ });
});

test('readString: a UTF8String that starts with a byte order mark keeps it (Go does), so it is not the text without one', (t) => {
  const withBom = Uint8Array.of(12, 4, 0xef, 0xbb, 0xbf, 0x61);
  t.is(readString(parseDer(withBom)), '\ufeffa');
  t.not(readString(parseDer(withBom)), readString(parseDer(Uint8Array.of(12, 1, 0x61))));
});
