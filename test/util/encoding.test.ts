import test from 'ava';
import { decodeBase64 } from '../../src/util/encoding.js';
import { StellaError } from '../../src/errors.js';

test('strict base64: valid input decodes, padding only where needed', (t) => {
  t.deepEqual(Buffer.from(decodeBase64('aGVsbG8=', 'x')), Buffer.from('hello'));
  t.deepEqual(Buffer.from(decodeBase64('aGVsbG8h', 'x')), Buffer.from('hello!'));
  t.deepEqual(decodeBase64('', 'x').length, 0);
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
