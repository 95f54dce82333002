/**
 * The ephemeral signing key. It lives only in this process's memory: generated with
 * node:crypto, used for the proof of possession and the one artifact signature, and dropped.
 * Nothing here writes, logs or serializes the private half. The raw scalar is exported only for
 * a prehash signature (a bare sha256: digest: node:crypto cannot sign a digest it did not
 * compute) and is zeroed right after use.
 */
import {
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { fail } from '../errors.js';
import { parseDer, parseNested, readOctetString, Tag } from '../der/reader.js';
import type { SigningAlgorithm } from './config.js';

export interface EphemeralKey {
  readonly algorithm: SigningAlgorithm;
  /** PEM SubjectPublicKeyInfo (what Fulcio and Rekor receive). */
  readonly publicKeyPem: string;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKeyDer: Uint8Array;
  /** Sign a message (ECDSA: SHA-256 + DER signature; Ed25519: pure). */
  sign(message: Uint8Array): Uint8Array;
  /** ECDSA over a precomputed SHA-256 digest (DER signature). Ed25519 cannot do this. */
  signDigest(sha256Digest: Uint8Array): Uint8Array;
}

/** A key pair source. Tests inject one to learn the private key and prove it leaks nowhere. */
export type KeyPairGenerator = (algorithm: SigningAlgorithm) => {
  privateKey: KeyObject;
  publicKey: KeyObject;
};

export const generateEphemeralKeyPair: KeyPairGenerator = (algorithm) => {
  if (algorithm === 'Ed25519') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
};

export function createEphemeralKey(
  algorithm: SigningAlgorithm,
  generate: KeyPairGenerator = generateEphemeralKeyPair,
): EphemeralKey {
  const { privateKey } = generate(algorithm);
  const publicKey = createPublicKey(privateKey);
  const expected = algorithm === 'Ed25519' ? 'ed25519' : 'ec';
  if (
    privateKey.asymmetricKeyType !== expected ||
    (expected === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
  ) {
    fail(
      'INPUT_INVALID',
      'signing',
      `key generator returned a ${privateKey.asymmetricKeyType} key, expected ${algorithm}`,
    );
  }
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const publicKeyDer = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    algorithm,
    publicKeyPem,
    publicKeyDer,
    sign(message) {
      return new Uint8Array(
        nodeSign(algorithm === 'Ed25519' ? null : 'sha256', message, privateKey),
      );
    },
    signDigest(digest) {
      if (algorithm !== 'ECDSA_P256') {
        fail(
          'INPUT_INVALID',
          'signing',
          'signing a bare digest needs ECDSA_P256 (Ed25519 signs whole messages); allow ECDSA_P256 in the config or pass the artifact file',
        );
      }
      if (digest.length !== 32)
        fail(
          'INPUT_INVALID',
          'signing',
          `expected a 32-byte SHA-256 digest, got ${digest.length} bytes`,
        );
      const scalar = p256Scalar(privateKey);
      try {
        return p256.sign(digest, scalar, { prehash: false, format: 'der', lowS: false });
      } finally {
        scalar.fill(0);
      }
    },
  };
}

/**
 * A P-256 key's private scalar, read from its PKCS #8 DER export (RFC 5208; inside it an RFC
 * 5915 ECPrivateKey), which is zeroed once the scalar is copied out. Not from its JWK: on Node
 * 20 a JWK export of a key generateKeyPairSync made can hang the process (see publicSpkiDer in
 * ../crypto.ts), and a JWK's `d` is a string, which cannot be zeroed.
 */
function p256Scalar(privateKey: KeyObject): Uint8Array {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  try {
    const ctx = { code: 'INPUT_INVALID', check: 'signing', what: 'ephemeral key' } as const;
    const info = parseDer(der, ctx, Tag.SEQUENCE);
    const wrapped = info.children[2];
    if (wrapped === undefined)
      return fail('INPUT_INVALID', 'signing', 'ephemeral key: PKCS #8 without a private key');
    const ecPrivateKey = parseNested(wrapped, 'ephemeral key', Tag.SEQUENCE);
    const d = ecPrivateKey.children[1];
    const scalar = d === undefined ? undefined : readOctetString(d);
    if (scalar?.length !== 32)
      return fail('INPUT_INVALID', 'signing', 'ephemeral key has no 32-byte private scalar');
    // A copy: `scalar` is a view into the export, which is zeroed below.
    return Uint8Array.from(scalar);
  } finally {
    der.fill(0);
  }
}
