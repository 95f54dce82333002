import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { addRotationKeys, parsePublicKeysPem } from '../../../src/trust/store/rotation-keys.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { CTX, dumpStore, tempStorePath } from './helpers.js';

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

test('keys add: a store with keys needs a threshold; adding nothing to a store without keys is no change', (t) => {
  const file = tempStorePath('keys-add');
  const s = openTrustStore(file, { create: true, now: CTX.now });
  try {
    const before = dumpStore(file);
    t.like(addRotationKeys(s, [], undefined, 'none', CTX), { added: [], threshold: 0 });
    t.is(dumpStore(file), before);
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    t.throws(() => addRotationKeys(s, [key], undefined, 'k.pem', CTX), {
      instanceOf: StellaError,
      message:
        'the store has no rotation threshold yet: give --threshold K (the keys are added as rotation keys; a key that seals export archives is added with --role exporter)',
    });
    t.is(dumpStore(file), before, 'the refused add changed nothing');
    t.like(addRotationKeys(s, [key], 1, 'k.pem', CTX), { threshold: 1 });
  } finally {
    s.close();
  }
});
