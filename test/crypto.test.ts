import test from 'ava';
import { createPublicKey, ECDH, generateKeyPairSync, sign } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StellaError } from '../src/errors.js';
import {
  ecPublicKeyFromPoint,
  defaultDigestForKey,
  ecPublicPoint,
  ed25519PublicKeyBytes,
  keyIdOf,
  parsePublicKey,
  sha256,
  spkiKeyId,
  spkiOf,
  verifySignature,
} from '../src/crypto.js';
import { noteKeyId } from '../src/tlog/note.js';
import { concatBytes, toHex, utf8 } from '../src/util/encoding.js';
import { jwkExportsOfGeneratedKeys } from './helpers/keygen-lineage.js';

setFlagsFromString('--expose-gc');
const fullGarbageCollection = runInNewContext('gc') as () => void;

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

test('ecPublicPoint: a curve Stella does not name (secp256k1) has no point here; P-256 has its own', (t) => {
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
  // The JWK of an imported copy: on Node 20 a generated key's JWK export can hang (src/crypto.ts).
  const imported = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const fromJwk = createPublicKey({ key: imported.export({ format: 'jwk' }), format: 'jwk' });
  t.deepEqual(spkiOf(fromJwk), spki);
  const ed = generateKeyPairSync('ed25519').publicKey;
  t.deepEqual(spkiOf(ed), new Uint8Array(ed.export({ type: 'spki', format: 'der' })));
});

test('parsePublicKey: a PEM text with two PUBLIC KEY blocks is refused, naming how many it found', (t) => {
  const pem = p256.export({ type: 'spki', format: 'pem' }) as string;
  const e = t.throws(() => parsePublicKey(pem + pem, '--key k.pub'), { instanceOf: StellaError })!;
  t.is(e.message, '--key k.pub: expected exactly one PUBLIC KEY block, found 2');
  t.truthy(parsePublicKey(pem, '--key k.pub'));
});

test('defaultDigestForKey: the hash Sigstore pairs with each key (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512, Ed25519 none, RSA SHA-256)', (t) => {
  const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve }).publicKey;
  t.is(defaultDigestForKey(ec('prime256v1')), 'sha256');
  t.is(defaultDigestForKey(ec('secp384r1')), 'sha384');
  t.is(defaultDigestForKey(ec('secp521r1')), 'sha512');
  t.is(defaultDigestForKey(generateKeyPairSync('ed25519').publicKey), null);
  t.is(
    defaultDigestForKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey),
    'sha256',
  );
});

test('verifySignature: false, never a throw, when OpenSSL refuses the call itself (a digest an Ed25519 key cannot take, an unknown digest)', (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const data = utf8.encode('data');
  const signature = new Uint8Array(sign(null, data, privateKey));
  t.true(verifySignature(publicKey, data, signature));
  t.false(verifySignature(publicKey, data, signature, 'sha256'));
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecSig = new Uint8Array(sign('sha256', data, pair.privateKey));
  t.true(verifySignature(pair.publicKey, data, ecSig, 'sha256'));
  t.false(verifySignature(pair.publicKey, data, ecSig, 'md-none' as 'sha256'));
});

test('keyIdOf / spkiKeyId: one name for a key, whatever half or encoding it is given in: hex SHA-256 of the canonical SPKI', (t) => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pub = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
  const id = keyIdOf(pair.publicKey);
  t.is(id, toHex(sha256(pub)));
  t.is(spkiKeyId(pub), id);
  t.is(keyIdOf(pair.privateKey), id, 'a private key is named by its public half');
  const compressed = ecPublicKeyFromPoint(
    'prime256v1',
    new Uint8Array(
      ECDH.convertKey(
        ecPublicPoint(pair.publicKey)!.point,
        'prime256v1',
        undefined,
        undefined,
        'compressed',
      ) as Buffer,
    ),
  );
  t.is(keyIdOf(compressed), id, 'a compressed point is the same key');
  t.not(keyIdOf(p256), id);
});

test.serial(
  'the watch for JWK exports of generated keys sees one of a key derived from a generated key, and none of an imported key',
  async (t) => {
    const seen = await jwkExportsOfGeneratedKeys(() => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      // A full collection first frees the generation job, so this one export cannot hang.
      fullGarbageCollection();
      createPublicKey(privateKey).export({ format: 'jwk' });
      const imported = createPublicKey({
        key: createPublicKey(privateKey).export({ format: 'der', type: 'spki' }),
        format: 'der',
        type: 'spki',
      });
      imported.export({ format: 'jwk' });
    });
    t.is(seen.length, 1, seen.join('\n'));
  },
);

test.serial(
  'keys made by generateKeyPairSync are read through their DER, never their JWK (a JWK export of one can hang Node 20): EC points, SPKIs, Ed25519 keys, note key IDs',
  async (t) => {
    const seen = await jwkExportsOfGeneratedKeys(() => {
      for (const [curve, size] of [
        ['prime256v1', 65],
        ['secp384r1', 97],
      ] as const) {
        const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
        const der = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
        const point = der.subarray(der.length - size);
        t.deepEqual(ecPublicPoint(publicKey), { curve, point });
        t.deepEqual(ecPublicPoint(privateKey), { curve, point });
        t.deepEqual(spkiOf(publicKey), der);
        t.deepEqual(spkiOf(privateKey), der);
        t.deepEqual(spkiOf(createPublicKey(privateKey)), der);
      }
      const ed = generateKeyPairSync('ed25519');
      const edDer = new Uint8Array(ed.publicKey.export({ format: 'der', type: 'spki' }));
      const raw = edDer.subarray(edDer.length - 32);
      t.deepEqual(ed25519PublicKeyBytes(ed.publicKey), raw);
      t.deepEqual(ed25519PublicKeyBytes(ed.privateKey), raw);
      t.deepEqual(spkiOf(ed.publicKey), edDer);
      t.deepEqual(
        noteKeyId('log.example', ed.publicKey),
        sha256(concatBytes(utf8.encode('log.example'), Uint8Array.of(0x0a, 0x01), raw)),
      );
    });
    t.deepEqual(seen, []);
  },
);

test('ed25519PublicKeyBytes: undefined for a key that is not Ed25519', (t) => {
  t.is(ed25519PublicKeyBytes(p256), undefined);
  t.is(ed25519PublicKeyBytes(generateKeyPairSync('ed448').publicKey), undefined);
});
