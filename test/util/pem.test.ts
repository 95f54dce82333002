import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { StellaError } from '../../src/errors.js';
import { derToPem, pemToDer, pemToDerList } from '../../src/util/pem.js';

const spki = new Uint8Array(
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
    type: 'spki',
    format: 'der',
  }),
);
const keyPem = derToPem(spki, 'PUBLIC KEY');

test('a block round-trips through derToPem and both readers', (t) => {
  t.deepEqual(pemToDer(keyPem, ['PUBLIC KEY']), { label: 'PUBLIC KEY', der: spki });
  t.deepEqual(pemToDerList(`${keyPem}text between\n${keyPem}`, 'PUBLIC KEY'), [spki, spki]);
});

test('a block whose END names another label is refused by both readers, whichever label is wanted', (t) => {
  const mismatched = keyPem.replace('-----END PUBLIC KEY-----', '-----END CERTIFICATE-----');
  const one = t.throws(() => pemToDer(mismatched, ['PUBLIC KEY', 'CERTIFICATE']), {
    instanceOf: StellaError,
  });
  t.regex(one?.message ?? '', /is not a single PEM public key or certificate/);
  const list = t.throws(() => pemToDerList(mismatched, 'PUBLIC KEY', { what: 'key file' }), {
    instanceOf: StellaError,
  });
  t.is(list?.message, 'key file: BEGIN PUBLIC KEY closed by END CERTIFICATE');
  // The right label, in a list reader asked for another: named as found.
  const other = t.throws(() => pemToDerList(keyPem, 'CERTIFICATE', { what: 'chain' }), {
    instanceOf: StellaError,
  });
  t.is(other?.message, 'chain: expected CERTIFICATE, found PUBLIC KEY');
});
