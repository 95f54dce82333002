import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { keyDetailsOf } from '../../../src/trust/store/keys.js';

test('keyDetailsOf names each supported key type and refuses the rest', (t) => {
  const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve }).publicKey;
  t.is(keyDetailsOf(ec('prime256v1')), 'PKIX_ECDSA_P256_SHA_256');
  t.is(keyDetailsOf(ec('secp384r1')), 'PKIX_ECDSA_P384_SHA_384');
  t.is(keyDetailsOf(ec('secp521r1')), 'PKIX_ECDSA_P521_SHA_512');
  t.is(keyDetailsOf(generateKeyPairSync('ed25519').publicKey), 'PKIX_ED25519');
  const rsa = (modulusLength: number) => generateKeyPairSync('rsa', { modulusLength }).publicKey;
  t.is(keyDetailsOf(rsa(2048)), 'PKIX_RSA_PKCS1V15_2048_SHA256');
  t.is(keyDetailsOf(rsa(3072)), 'PKIX_RSA_PKCS1V15_3072_SHA256');
  for (const key of [ec('secp256k1'), rsa(1024), generateKeyPairSync('ed448').publicKey]) {
    const e = t.throws(() => keyDetailsOf(key), { instanceOf: StellaError });
    t.is(e?.code, 'IMPORT_INVALID');
    t.regex(e?.message ?? '', /unsupported public key type/);
  }
});
