import test from 'ava';
import {
  parseDer,
  readBitString,
  readInteger,
  readOid,
  readPreciseTime,
  readString,
  readTime,
  Tag,
} from '../../src/der/reader.js';
import {
  bitString,
  bool,
  explicit,
  generalizedTime,
  ia5String,
  implicit,
  contextPrimitive,
  int,
  namedBitString,
  octetString,
  oid,
  printableString,
  seq,
  setOf,
  utcTime,
  utf8String,
  x509Time,
} from '../../src/der/writer.js';
import { toHex, utf8 } from '../../src/util/encoding.js';

test("int: minimal two's complement, round trips through the strict reader", (t) => {
  for (const v of [
    0n,
    1n,
    127n,
    128n,
    255n,
    256n,
    -1n,
    -128n,
    -129n,
    -256n,
    2n ** 64n + 3n,
    -(2n ** 70n),
  ]) {
    t.is(readInteger(parseDer(int(v))), v, String(v));
  }
  t.is(toHex(int(128)), '02020080');
  t.is(
    toHex(int(Uint8Array.of(0, 0, 0x80))),
    '02020080',
    'unsigned bytes: leading zeros stripped, sign octet added',
  );
  t.is(toHex(int(Uint8Array.of(0, 0))), '020100');
  t.throws(() => int(2 ** 60));
});

test('oid: encodes and round trips', (t) => {
  for (const o of [
    '1.2.840.113549.1.1.11',
    '1.3.6.1.4.1.57264.1.8',
    '2.5.29.19',
    '2.999.3',
    '1.3.6.1.4.1.11129.2.4.2',
    // Two arcs are the fewest an OID has, and one octet holds both.
    '1.2',
    '2.999',
  ]) {
    t.is(readOid(parseDer(oid(o))), o);
  }
  t.deepEqual([...oid('1.2')], [0x06, 0x01, 0x2a]);
  t.throws(() => oid('1'));
  t.throws(() => oid(''));
  t.throws(() => oid('1.40'));
  t.throws(() => oid('1.02'));
});

test('lengths use the minimal form', (t) => {
  t.is(toHex(octetString(new Uint8Array(127)).subarray(0, 2)), '047f');
  t.is(toHex(octetString(new Uint8Array(128)).subarray(0, 3)), '048180');
  t.is(toHex(octetString(new Uint8Array(70000)).subarray(0, 5)), '0483011170');
  t.is(parseDer(octetString(new Uint8Array(70000))).length, 70000);
});

test('x509Time chooses UTCTime through 2049 and GeneralizedTime from 2050', (t) => {
  const a = Date.UTC(2049, 11, 31, 23, 59, 59);
  const b = Date.UTC(2050, 0, 1);
  t.is(parseDer(x509Time(a)).tagNumber, Tag.UTC_TIME);
  t.is(parseDer(x509Time(b)).tagNumber, Tag.GENERALIZED_TIME);
  t.is(readTime(parseDer(x509Time(a))), a);
  t.is(readTime(parseDer(x509Time(b))), b);
  t.is(readTime(parseDer(generalizedTime(a))), a);
  t.throws(() => utcTime(b));
  // And from 1950 on: the first instant of 1950 is UTCTime "500101000000Z", 1949 is not.
  const y1950 = Date.UTC(1950, 0, 1);
  t.is(readTime(parseDer(utcTime(y1950))), y1950);
  t.is(parseDer(x509Time(y1950)).tagNumber, Tag.UTC_TIME);
  t.throws(() => utcTime(y1950 - 1000));
  t.is(parseDer(x509Time(y1950 - 1000)).tagNumber, Tag.GENERALIZED_TIME);
});

test('generalizedTime writes every fraction digit of a PreciseTime, DER-minimal (no trailing zeros)', (t) => {
  const at = Date.UTC(2025, 0, 1, 12);
  const text = (v: Uint8Array): string => Buffer.from(parseDer(v).value).toString('latin1');
  t.is(text(generalizedTime({ ms: at, subMs: '1' })), '20250101120000.0001Z');
  t.is(text(generalizedTime({ ms: at + 120, subMs: '' })), '20250101120000.12Z');
  t.is(text(generalizedTime({ ms: at, subMs: '' })), '20250101120000Z');
  t.is(
    text(generalizedTime(at + 999)),
    '20250101120000Z',
    'a number is whole seconds, as certificates need',
  );
  for (const p of [
    { ms: at, subMs: '1' },
    { ms: at + 7, subMs: '000321' },
    { ms: at + 999, subMs: '999999' },
  ]) {
    t.deepEqual(readPreciseTime(parseDer(generalizedTime(p)), { allowFraction: true }), p);
  }
  // The writer writes what it is given (the tests' hostile TSA needs that); the reader stops
  // at the nanosecond.
  t.is(text(generalizedTime({ ms: at + 999, subMs: '9999991' })), '20250101120000.9999999991Z');
  t.throws(() => generalizedTime({ ms: at, subMs: '1e' }), { instanceOf: RangeError });
});

test('setOf sorts elements by their encoding', (t) => {
  const s = parseDer(setOf(int(300), int(1), int(2)));
  t.deepEqual(
    s.children.map((c) => readInteger(c)),
    [1n, 2n, 300n],
  );
});

test('strings, booleans and bit strings', (t) => {
  t.is(readString(parseDer(utf8String('héllo'))), 'héllo');
  t.is(readString(parseDer(ia5String('a@b'))), 'a@b');
  t.throws(() => ia5String('é'));
  // PrintableString (X.680 41.4): letters, digits, space and '()+,-./:=? only.
  const printable = "Az09 '()+,-./:=?";
  t.is(toHex(printableString(printable)), `1310${toHex(utf8.encode(printable))}`);
  t.is(readString(parseDer(printableString('Example Org'))), 'Example Org');
  for (const bad of ['a@b', 'a_b', 'a*b', 'é', 'a\nb', '"'])
    t.throws(() => printableString(bad), { instanceOf: RangeError }, JSON.stringify(bad));
  t.is(toHex(bool(true)), '0101ff');
  const ku = readBitString(parseDer(namedBitString([0])));
  t.is(ku.unusedBits, 7);
  t.is(toHex(namedBitString([5, 6])), '03020106');
  t.is(toHex(bitString(Uint8Array.of(0xff), 4)), '030204f0');
  // X.690 8.6.2.2: 0..7 unused bits, and none in an empty string.
  t.is(toHex(bitString(Uint8Array.of(0x80), 7)), '03020780');
  for (const [bytes, unused] of [
    [Uint8Array.of(0xff), 8],
    [Uint8Array.of(0xff), -1],
    [new Uint8Array(0), 1],
  ] as const)
    t.throws(
      () => bitString(bytes, unused),
      { instanceOf: RangeError },
      `${unused} of ${bytes.length}`,
    );
});

test('explicit and implicit context tags', (t) => {
  const e = parseDer(explicit(3, seq(int(1))));
  t.true(e.isContext(3) && e.constructed);
  t.is(readInteger(e.children[0]!.children[0]!), 1n);
  const i = parseDer(implicit(0, setOf(int(1))));
  t.true(i.isContext(0) && i.constructed);
  const p = parseDer(implicit(2, int(5)));
  t.true(p.isContext(2) && !p.constructed);
  // 30 is the last tag number the low-tag-number form holds (31 means "high form follows").
  t.is(toHex(implicit(30, int(5))), '9e0105');
  t.is(toHex(explicit(30, int(5))), 'be03020105');
  t.throws(() => implicit(31, int(5)), { instanceOf: RangeError });
  t.throws(() => explicit(31, int(5)), { instanceOf: RangeError });
  t.is(toHex(contextPrimitive(30, new Uint8Array([0x61]))), '9e0161');
  t.throws(() => contextPrimitive(31, new Uint8Array([0x61])), { instanceOf: RangeError });
});
