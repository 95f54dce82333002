/**
 * The one private key reader (src/sign/private-key.ts): cosign's encrypted keys, read from
 * cosign's own test data (test/fixtures/sign/cosign-keys, password "hello"), and the PEM
 * forms openssl writes; every refusal says what the file is.
 */
import test from 'ava';
import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scryptSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { StellaError } from '../../src/errors.js';
import { parsePrivateKeyPem, readPrivateKeyFile } from '../../src/sign/private-key.js';
import { toBase64, utf8 } from '../../src/util/encoding.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'sign', 'cosign-keys');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const hello = (): string => 'hello';

function refused(t: import('ava').ExecutionContext, fn: () => unknown, pattern: RegExp): void {
  const e = t.throws(fn, { instanceOf: StellaError });
  t.is(e?.code, 'INPUT_INVALID', e?.message);
  t.regex(e?.message ?? '', pattern);
}

/** The key signs, and its public key verifies what it signed. */
function signsAndVerifies(t: import('ava').ExecutionContext, key: KeyObject): void {
  const data = utf8.encode('a manifest');
  const digest = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  t.true(verify(digest, data, createPublicKey(key), sign(digest, data, key)));
}

/** A cosign-style envelope, as go-securesystemslib's `encrypted.Encrypt` writes it. */
function cosignEnvelope(
  pkcs8: Uint8Array,
  password: string,
  o: { N?: number; nonceBytes?: number; kdf?: string; cipher?: string } = {},
): string {
  const N = o.N ?? 32768;
  const salt = randomBytes(32);
  const nonce = randomBytes(o.nonceBytes ?? 24);
  const key = scryptSync(password, salt, 32, { N, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
  // A nonce of the wrong length is written as given; the box itself needs 24 bytes.
  const boxNonce = nonce.length === 24 ? nonce : randomBytes(24);
  const ciphertext = xsalsa20poly1305(new Uint8Array(key), boxNonce).encrypt(pkcs8);
  const json = JSON.stringify({
    kdf: { name: o.kdf ?? 'scrypt', params: { N, r: 8, p: 1 }, salt: toBase64(salt) },
    cipher: { name: o.cipher ?? 'nacl/secretbox', nonce: toBase64(nonce) },
    ciphertext: toBase64(ciphertext),
  });
  const b64 = toBase64(utf8.encode(json)).replace(/.{64}/g, '$&\n');
  return `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${b64}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
}

test('cosign generate-key-pair keys (ENCRYPTED SIGSTORE / COSIGN PRIVATE KEY) decrypt with the password, as cosign reads them', (t) => {
  const ec = parsePrivateKeyPem(fixture('sigstore-ec-p256.key'), 'cosign.key', hello);
  t.is(ec.asymmetricKeyType, 'ec');
  t.is(ec.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  signsAndVerifies(t, ec);
  const older = parsePrivateKeyPem(fixture('cosign-ec-p256.key'), 'cosign.key', hello);
  t.is(older.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  signsAndVerifies(t, older);
  t.false(createPublicKey(older).equals(createPublicKey(ec)));
  // cosign refuses this one too: SEC1 inside, where its LoadPrivateKey parses PKCS#8 only.
  refused(
    t,
    () => parsePrivateKeyPem(fixture('cosign-ec-sec1.key'), 'cosign.key', hello),
    /^cosign\.key: decrypted, but the key inside is not PKCS#8$/,
  );
});

test('a cosign key without $COSIGN_PASSWORD, or with the wrong one, is refused saying so; an empty password is a password', (t) => {
  const text = fixture('sigstore-ec-p256.key');
  refused(
    t,
    () => parsePrivateKeyPem(text, 'cosign.key', () => undefined),
    /^cosign\.key: a cosign encrypted private key: set \$COSIGN_PASSWORD to its password/,
  );
  // The refusal names where the password came from (the caller says), and what about it a
  // person may not have meant: empty, or a line break at its end (every byte counts, as in cosign).
  refused(
    t,
    () => parsePrivateKeyPem(text, 'cosign.key', () => 'hellO'),
    /^cosign\.key: cannot decrypt this cosign key: the password given is not its password, or the file is damaged$/,
  );
  refused(
    t,
    () =>
      parsePrivateKeyPem(text, 'cosign.key', () => ({ value: 'hellO', from: '$COSIGN_PASSWORD' })),
    /^cosign\.key: cannot decrypt this cosign key: \$COSIGN_PASSWORD is not its password, or the file is damaged$/,
  );
  refused(
    t,
    () => parsePrivateKeyPem(text, 'cosign.key', () => ''),
    /^cosign\.key: cannot decrypt this cosign key: the password given is not its password, or the file is damaged \(it is empty\)$/,
  );
  for (const end of ['\n', '\r\n'])
    refused(
      t,
      () =>
        parsePrivateKeyPem(text, 'cosign.key', () => ({
          value: `hello${end}`,
          from: 'the password typed',
        })),
      /^cosign\.key: cannot decrypt this cosign key: the password typed is not its password, or the file is damaged \(it ends in a line break, which counts: echo adds one, printf '%s' does not\)$/,
    );
  refused(
    t,
    () => parsePrivateKeyPem(text, 'cosign.key', () => ({ value: '', from: 'x', hint: 'a hint' })),
    /^cosign\.key: cannot decrypt this cosign key: x is not its password, or the file is damaged \(a hint\)$/,
  );
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
  const empty = parsePrivateKeyPem(cosignEnvelope(pkcs8, ''), 'k', () => '');
  t.true(createPublicKey(empty).equals(createPublicKey(privateKey)));
});

test('a cosign envelope is read strictly: scrypt parameters other than the three cosign writes, another kdf or cipher, a short nonce, a flipped byte', (t) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
  const ok = parsePrivateKeyPem(cosignEnvelope(pkcs8, 'pw', { N: 131072 }), 'k', () => 'pw');
  t.true(createPublicKey(ok).equals(createPublicKey(privateKey)));
  // N=2^10 would be cheap to derive: refused before any scrypt, as go-securesystemslib does.
  refused(
    t,
    () => parsePrivateKeyPem(cosignEnvelope(pkcs8, 'pw', { N: 1024 }), 'k', () => 'pw'),
    /^k: cosign key envelope: unsupported scrypt parameters N=1024 r=8 p=1/,
  );
  refused(
    t,
    () => parsePrivateKeyPem(cosignEnvelope(pkcs8, 'pw', { kdf: 'pbkdf2' }), 'k', () => 'pw'),
    /unknown kdf "pbkdf2" \(expected scrypt\)/,
  );
  refused(
    t,
    () => parsePrivateKeyPem(cosignEnvelope(pkcs8, 'pw', { cipher: 'aes' }), 'k', () => 'pw'),
    /unknown cipher "aes" \(expected nacl\/secretbox\)/,
  );
  refused(
    t,
    () => parsePrivateKeyPem(cosignEnvelope(pkcs8, 'pw', { nonceBytes: 12 }), 'k', () => 'pw'),
    /cipher\.nonce is 12 bytes, not 24/,
  );
  // The ciphertext's first byte flipped: the secretbox tag no longer matches.
  const text = fixture('sigstore-ec-p256.key');
  const body = text.split('\n').slice(1, -2).join('');
  const envelope = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as {
    ciphertext: string;
  };
  const ct = Buffer.from(envelope.ciphertext, 'base64');
  ct[0]! ^= 1;
  envelope.ciphertext = ct.toString('base64');
  const damaged = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(JSON.stringify(envelope)).toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
  refused(t, () => parsePrivateKeyPem(damaged, 'k', hello), /cannot decrypt this cosign key/);
});

test('unencrypted PEM: PKCS#8, SEC1 after the EC PARAMETERS block openssl ecparam writes, PKCS#1 RSA, Ed25519', (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  const pkcs8 = ec.export({ format: 'pem', type: 'pkcs8' }) as string;
  const sec1 = ec.export({ format: 'pem', type: 'sec1' }) as string;
  // `openssl ecparam -name secp384r1 -genkey` writes the curve's OID block first.
  const params = '-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n';
  for (const text of [pkcs8, sec1, params + sec1, `subject=comment line\n${pkcs8}`]) {
    const k = parsePrivateKeyPem(text, 'k', () => t.fail('no password is asked for'));
    t.true(createPublicKey(k).equals(createPublicKey(ec)));
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const pkcs1 = rsa.export({ format: 'pem', type: 'pkcs1' }) as string;
  t.true(createPublicKey(parsePrivateKeyPem(pkcs1, 'k', hello)).equals(createPublicKey(rsa)));
  const ed = generateKeyPairSync('ed25519').privateKey;
  signsAndVerifies(
    t,
    parsePrivateKeyPem(ed.export({ format: 'pem', type: 'pkcs8' }) as string, 'k', hello),
  );
});

test('what is not one private key is refused saying what it is', (t) => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = pair.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const priv = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  refused(
    t,
    () => parsePrivateKeyPem(pub, 'k.pub', hello),
    /^k\.pub: a public key, not a private key$/,
  );
  refused(
    t,
    () =>
      parsePrivateKeyPem(
        pair.privateKey.export({
          format: 'pem',
          type: 'pkcs8',
          cipher: 'aes-256-cbc',
          passphrase: 'pw',
        }) as string,
        'k',
        hello,
      ),
    /^k: an encrypted PKCS#8 key \(openssl -aes256\)/,
  );
  refused(
    t,
    () => parsePrivateKeyPem(priv + priv, 'k', hello),
    /^k: 2 keys \(PRIVATE KEY, PRIVATE KEY\); give one per file$/,
  );
  refused(
    t,
    () => parsePrivateKeyPem('not a key\n', 'k', hello),
    /^k: not a PEM private key \(no PEM block found\)$/,
  );
  refused(
    t,
    () => parsePrivateKeyPem(priv.replace('M', 'M*'), 'k', hello),
    /^k PRIVATE KEY: invalid base64$/,
  );
  refused(
    t,
    () => parsePrivateKeyPem(priv.slice(0, 80), 'k', hello),
    /^k: BEGIN PRIVATE KEY has no END line \(truncated\?\)$/,
  );
  refused(
    t,
    () =>
      parsePrivateKeyPem(
        '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
        'k',
        hello,
      ),
    /^k: expected PRIVATE KEY or .* found OPENSSH PRIVATE KEY$/,
  );
  refused(
    t,
    () =>
      parsePrivateKeyPem(
        '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
        'k',
        hello,
      ),
    /^k: not a readable PRIVATE KEY \(PKCS#8\)$/,
  );
});

test('readPrivateKeyFile: a cosign key opens with the password given, none is refused; a secret key must be 0600 and a UTF-16 file is said as such', (t) => {
  const dir = tempDir(t, 'stella-private-key-');
  const file = path.join(dir, 'cosign.key');
  writeFileSync(file, fixture('sigstore-ec-p256.key'), { mode: 0o600 });
  const key = readPrivateKeyFile(file, { what: '--seal-key', password: hello });
  t.is(key.asymmetricKeyType, 'ec');
  refused(
    t,
    () => readPrivateKeyFile(file, { what: '--seal-key', password: () => undefined }),
    new RegExp(
      `^--seal-key ${JSON.stringify(file).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: a cosign encrypted private key`,
    ),
  );
  chmodSync(file, 0o644);
  refused(
    t,
    () =>
      readPrivateKeyFile(file, {
        what: '--seal-key',
        secret: true,
        password: hello,
      }),
    /mode 0644 lets others read or write it \(must be 0600\)/,
  );
  t.is(
    readPrivateKeyFile(file, { what: '--sign-with', password: hello }).asymmetricKeyType,
    'ec',
    'without `secret` the mode is not checked',
  );
  const utf16 = path.join(dir, 'utf16.pem');
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
  writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(pem, 'utf16le')]));
  refused(
    t,
    () => readPrivateKeyFile(utf16, { what: '--sign-with', password: hello }),
    /UTF-16.*not UTF-8 text: save it as UTF-8/,
  );
});
