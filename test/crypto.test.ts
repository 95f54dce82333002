import test from 'ava';
import { createPublicKey, ECDH, generateKeyPairSync } from 'node:crypto';
import { StellaError } from '../src/errors.js';
import { ecPublicKeyFromPoint, ecPublicPoint, parsePublicKey, spkiOf } from '../src/crypto.js';

const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
const spki = new Uint8Array(p256.export({ type: 'spki', format: 'der' }));

test('parsePublicKey: bytes OpenSSL cannot read as a key are refused by name, with the given code', (t) => {
  const cut = spki.subarray(0, spki.length - 1);
  const e = t.throws(
    () => parsePublicKey(cut, 'trusted key', 'TRUSTED_ROOT_INVALID', 'trusted-root'),
    {
      instanceOf: StellaError,
    },
  );
  t.is(e?.code, 'TRUSTED_ROOT_INVALID');
  t.is(e?.check, 'trusted-root');
  t.is(e?.message, 'trusted key: not a valid public key');
  t.true(parsePublicKey(spki, 'key').equals(p256));
});

test('ecPublicKeyFromPoint: a curve outside P-256, P-384 and P-521 is refused by name', (t) => {
  const point = ecPublicPoint(p256)!.point;
  t.true(ecPublicKeyFromPoint('prime256v1', point).equals(p256));
  const e = t.throws(() => ecPublicKeyFromPoint('secp256k1', point), { instanceOf: StellaError });
  t.is(e?.message, 'unsupported curve secp256k1');
});

test('ecPublicPoint: a curve JWK does not name (secp256k1) has no point here; P-256 has its own', (t) => {
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;
  t.is(ecPublicPoint(k1), undefined);
  const fresh = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const p = ecPublicPoint(fresh);
  t.is(p?.curve, 'prime256v1');
  t.deepEqual(p?.point, spki.subarray(spki.length - 65));
});

test('spkiOf: a key given with a compressed point is the same bytes as the uncompressed one (G44)', (t) => {
  const point = ecPublicPoint(p256)!.point;
  const compressedPoint = new Uint8Array(
    ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'compressed') as Buffer,
  );
  const fromCompressed = ecPublicKeyFromPoint('prime256v1', compressedPoint);
  t.not(
    Buffer.from(fromCompressed.export({ type: 'spki', format: 'der' })).toString('hex'),
    Buffer.from(spki).toString('hex'),
    'OpenSSL re-exports the compressed form as given',
  );
  t.deepEqual(spkiOf(fromCompressed), spki);
  const fromJwk = createPublicKey({ key: p256.export({ format: 'jwk' }), format: 'jwk' });
  t.deepEqual(spkiOf(fromJwk), spki);
  const ed = generateKeyPairSync('ed25519').publicKey;
  t.deepEqual(spkiOf(ed), new Uint8Array(ed.export({ type: 'spki', format: 'der' })));
});
