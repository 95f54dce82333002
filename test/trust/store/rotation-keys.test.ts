import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { parsePublicKeysPem } from '../../../src/trust/store/rotation-keys.js';

const pem = (n: number): string =>
  Array.from({ length: n }, () =>
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }),
  ).join('');

test('rotation keys: up to 64 in one file; the 65th is refused by the limit, before any is parsed', (t) => {
  t.is(parsePublicKeysPem(pem(64), '--rotation-keys keys.pem').length, 64);
  const e = t.throws(() => parsePublicKeysPem(pem(65), '--rotation-keys keys.pem'), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'ROTATION_KEYS_INVALID');
  t.is(e?.message, '--rotation-keys keys.pem: more than 64 keys');
});
