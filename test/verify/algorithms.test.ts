import test, { type ExecutionContext } from 'ava';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import {
  chooseSignatureHash,
  keyFamily,
  SIGNATURE_ALGORITHMS,
  type SignatureDeclarations,
} from '../../src/verify/algorithms.js';
import { PROJECT_ROOT } from '../helpers/paths.js';

const ec = (namedCurve: string): KeyObject => generateKeyPairSync('ec', { namedCurve }).publicKey;
const P256 = ec('P-256');
const P384 = ec('P-384');
const P521 = ec('P-521');
const ED = generateKeyPairSync('ed25519').publicKey;
const RSA = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const none: SignatureDeclarations = { hashes: [], keyDetails: [] };
const msg = (algorithm: 'SHA2_256' | 'SHA2_384' | 'SHA2_512'): SignatureDeclarations => ({
  hashes: [{ algorithm, where: "the bundle's messageDigest" }],
  keyDetails: [],
});

function refused(t: ExecutionContext, fn: () => unknown, code: ErrorCode, re: RegExp): void {
  const e = t.throws(fn, { instanceOf: StellaError });
  t.is(e?.code, code, e?.message);
  t.regex(e?.message ?? '', re);
}

test('key families', (t) => {
  t.is(keyFamily(P256), 'ECDSA P-256');
  t.is(keyFamily(P384), 'ECDSA P-384');
  t.is(keyFamily(P521), 'ECDSA P-521');
  t.is(keyFamily(ED), 'Ed25519');
  t.is(keyFamily(RSA), 'RSA');
  t.is(keyFamily(ec('secp256k1')), undefined);
  refused(
    t,
    () => chooseSignatureHash(ec('secp256k1'), '0.3', none),
    'BUNDLE_UNSUPPORTED',
    /signing key type ECDSA secp256k1 is not supported/,
  );
});

test('nothing declared: the allowed hashes for the key, registry first, then compatibility', (t) => {
  t.deepEqual(chooseSignatureHash(P256, '0.3', none), {
    family: 'ECDSA P-256',
    candidates: ['sha256'],
    declared: false,
  });
  t.deepEqual(chooseSignatureHash(P384, '0.3', none).candidates, ['sha384', 'sha256']);
  t.deepEqual(chooseSignatureHash(P521, '0.1', none).candidates, ['sha512', 'sha256']);
  t.deepEqual(chooseSignatureHash(ED, '0.3', none).candidates, [null]);
  t.deepEqual(chooseSignatureHash(RSA, '0.2', none).candidates, ['sha256']);
});

test('a declared hash is used when the combination is allowed, refused otherwise', (t) => {
  for (const version of ['0.1', '0.2', '0.3'] as const) {
    t.deepEqual(
      chooseSignatureHash(P384, version, msg('SHA2_256')),
      { family: 'ECDSA P-384', candidates: ['sha256'], declared: true },
      `P-384/SHA-256 compat in v${version}`,
    );
    t.deepEqual(chooseSignatureHash(P521, version, msg('SHA2_256')).candidates, ['sha256']);
  }
  t.deepEqual(chooseSignatureHash(P384, '0.3', msg('SHA2_384')).candidates, ['sha384']);
  t.deepEqual(chooseSignatureHash(P521, '0.3', msg('SHA2_512')).candidates, ['sha512']);
  refused(
    t,
    () => chooseSignatureHash(P256, '0.3', msg('SHA2_384')),
    'BUNDLE_UNSUPPORTED',
    /ECDSA P-256 with SHA-384 \(declared by the bundle's messageDigest\) is not an allowed signature algorithm; allowed for ECDSA P-256: SHA-256$/,
  );
  refused(
    t,
    () => chooseSignatureHash(P384, '0.3', msg('SHA2_512')),
    'BUNDLE_UNSUPPORTED',
    /ECDSA P-384 with SHA-512 .*allowed for ECDSA P-384: SHA-384, SHA-256$/,
  );
  refused(
    t,
    () => chooseSignatureHash(P521, '0.3', msg('SHA2_384')),
    'BUNDLE_UNSUPPORTED',
    /ECDSA P-521 with SHA-384/,
  );
  refused(
    t,
    () => chooseSignatureHash(RSA, '0.3', msg('SHA2_512')),
    'BUNDLE_UNSUPPORTED',
    /RSA with SHA-512/,
  );
  // Pure Ed25519 signs the bytes: a message digest names the artifact's digest, not a signature hash.
  t.deepEqual(chooseSignatureHash(ED, '0.3', msg('SHA2_512')).candidates, [null]);
});

test('declarations must agree with each other and with the key', (t) => {
  const two: SignatureDeclarations = {
    hashes: [
      { algorithm: 'SHA2_256', where: "the bundle's messageDigest" },
      { algorithm: 'SHA2_384', where: 'tlog entry 7 (hashedrekord/0.0.1)' },
    ],
    keyDetails: [],
  };
  refused(
    t,
    () => chooseSignatureHash(P384, '0.3', two),
    'TLOG_BODY_MISMATCH',
    /declared twice and differently: SHA-256 by the bundle's messageDigest, SHA-384 by tlog entry 7/,
  );
  const kd = (
    value: string,
    algorithm: 'SHA2_256' | 'SHA2_384' = 'SHA2_256',
  ): SignatureDeclarations => ({
    hashes: [{ algorithm, where: 'tlog entry 1 (hashedrekord/0.0.2)' }],
    keyDetails: [{ value, where: 'tlog entry 1 (hashedrekord/0.0.2)' }],
  });
  t.deepEqual(chooseSignatureHash(P256, '0.3', kd('PKIX_ECDSA_P256_SHA_256')).candidates, [
    'sha256',
  ]);
  t.deepEqual(chooseSignatureHash(P384, '0.3', kd('PKIX_ECDSA_P384_SHA_256')).candidates, [
    'sha256',
  ]);
  refused(
    t,
    () => chooseSignatureHash(P384, '0.3', kd('PKIX_ECDSA_P384_SHA_384')),
    'TLOG_BODY_MISMATCH',
    /declared twice and differently: SHA-384 by .*keyDetails PKIX_ECDSA_P384_SHA_384.*, SHA-256 by tlog entry 1/,
  );
  refused(
    t,
    () => chooseSignatureHash(P384, '0.3', kd('PKIX_ECDSA_P256_SHA_256')),
    'TLOG_BODY_MISMATCH',
    /declares keyDetails PKIX_ECDSA_P256_SHA_256, but the signing key is ECDSA P-384/,
  );
  refused(
    t,
    () => chooseSignatureHash(ED, '0.3', kd('PKIX_ED25519_PH')),
    'BUNDLE_UNSUPPORTED',
    /keyDetails "PKIX_ED25519_PH", which Stella does not support/,
  );
  // A DSSE envelope in a Rekor v2 entry: keyDetails alone pins the hash.
  t.deepEqual(
    chooseSignatureHash(P384, '0.3', {
      hashes: [],
      keyDetails: [{ value: 'PKIX_ECDSA_P384_SHA_384', where: 'e' }],
    }),
    { family: 'ECDSA P-384', candidates: ['sha384'], declared: true },
  );
});

test('README: the key/hash table lists exactly SIGNATURE_ALGORITHMS', (t) => {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- signature-algorithms -->');
  const end = readme.indexOf('<!-- /signature-algorithms -->');
  t.true(start > 0 && end > start, 'README has the marked table');
  const rows = readme
    .slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| key') && !l.startsWith('|---'))
    .map((l) => l.split('|').map((c) => c.trim()));
  const documented = rows.map((r) => `${r[1]} / ${r[2]} / ${r[3]}`);
  const expected = SIGNATURE_ALGORITHMS.map(
    (a) =>
      `${a.family} / ${a.hash === null ? 'none (pure)' : a.hash.toUpperCase().replace('SHA', 'SHA-')} / ${a.keyDetails.map((k) => `\`${k}\``).join(', ')}`,
  );
  t.deepEqual(documented, expected);
});
