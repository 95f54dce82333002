import test from 'ava';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createEphemeralKey } from '../../src/sign/keys.js';
import { sha256, verifySignature } from '../../src/crypto.js';
import { verifyPrehashed } from '../../src/crypto-prehash.js';
import { StellaError } from '../../src/errors.js';
import { jwkExportsOfGeneratedKeys } from '../helpers/keygen-lineage.js';

const msg = new TextEncoder().encode('hello, stella');

test('ECDSA P-256: message and prehash signatures both verify with the public key', (t) => {
  const k = createEphemeralKey('ECDSA_P256');
  const pub = createPublicKey(k.publicKeyPem);
  t.is(pub.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.true(verifySignature(pub, msg, k.sign(msg)));
  const d = sha256(msg);
  const sig = k.signDigest(d);
  t.true(verifyPrehashed(pub, d, sig));
  // A prehash signature over sha256(m) is an ordinary ECDSA-SHA256 signature over m.
  t.true(verifySignature(pub, msg, sig));
  t.false(verifyPrehashed(pub, sha256(new Uint8Array([1])), sig));
});

test('Ed25519 signs messages but refuses a bare digest', (t) => {
  const k = createEphemeralKey('Ed25519');
  const pub = createPublicKey(k.publicKeyPem);
  t.is(pub.asymmetricKeyType, 'ed25519');
  t.true(verifySignature(pub, msg, k.sign(msg)));
  const e = t.throws(() => k.signDigest(sha256(msg))) as StellaError;
  t.is(e.code, 'INPUT_INVALID');
  // Said as such, not as the P-256 scalar reader's failure on an Ed25519 key.
  t.regex(e.message, /^signing a bare digest needs ECDSA_P256 \(Ed25519 signs whole messages\)/);
});

test('each key is fresh, and a wrong generator is refused', (t) => {
  t.notDeepEqual(
    createEphemeralKey('ECDSA_P256').publicKeyDer,
    createEphemeralKey('ECDSA_P256').publicKeyDer,
  );
  const e = t.throws(() =>
    createEphemeralKey('ECDSA_P256', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })),
  ) as StellaError;
  t.regex(e.message, /expected ECDSA_P256/);
});

test('the key object exposes no private material', (t) => {
  const k = createEphemeralKey('ECDSA_P256');
  const text = JSON.stringify(k);
  t.false(/PRIVATE/.test(text));
  t.deepEqual(Object.keys(k).sort(), [
    'algorithm',
    'publicKeyDer',
    'publicKeyPem',
    'sign',
    'signDigest',
  ]);
});

test('a bare digest must be 32 bytes (SHA-256)', (t) => {
  const k = createEphemeralKey('ECDSA_P256');
  for (const n of [0, 31, 33, 48]) {
    const e = t.throws(() => k.signDigest(new Uint8Array(n)), { instanceOf: StellaError });
    t.is(e.code, 'INPUT_INVALID');
    t.is(e.message, `expected a 32-byte SHA-256 digest, got ${n} bytes`);
  }
});

test.serial(
  'the ephemeral key is never exported as a JWK (on Node 20 that can hang a generated key for ever): a prehash signature reads its scalar from PKCS #8',
  async (t) => {
    const seen = await jwkExportsOfGeneratedKeys(() => {
      for (const algorithm of ['ECDSA_P256', 'Ed25519'] as const) {
        const key = createEphemeralKey(algorithm);
        const publicKey = createPublicKey({
          key: Buffer.from(key.publicKeyDer),
          format: 'der',
          type: 'spki',
        });
        const message = new TextEncoder().encode('artifact');
        t.true(verifySignature(publicKey, message, key.sign(message)));
        if (algorithm === 'ECDSA_P256')
          t.true(verifyPrehashed(publicKey, sha256(message), key.signDigest(sha256(message))));
      }
    });
    t.deepEqual(seen, []);
  },
);
