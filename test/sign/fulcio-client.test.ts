/**
 * Reading Fulcio's answer (the request itself runs against the sandbox in sign.test.ts): the
 * chain by the verifier's own parsers, the leaf certifying our key, and the SCT form.
 */
import test from 'ava';
import { createPublicKey, verify } from 'node:crypto';
import { StellaError } from '../../src/errors.js';
import { createEphemeralKey } from '../../src/sign/keys.js';
import { buildCertificateRequest, parseCertificateResponse } from '../../src/sign/fulcio-client.js';
import { derToPem } from '../../src/util/pem.js';
import { buildPki, leafCert } from '../x509/helpers.js';

const pki = buildPki('fulcio-client');
const key = createEphemeralKey('ECDSA_P256');
const leaf = leafCert({ issuerSigner: pki.intermediateSigner, subjectSpki: key.publicKeyDer });
const chain = [derToPem(leaf), derToPem(pki.intermediate), derToPem(pki.root)];

function refused(t: import('ava').ExecutionContext, body: unknown, why: RegExp): void {
  const e = t.throws(() => parseCertificateResponse(body, key), { instanceOf: StellaError });
  t.is(e.code, 'FULCIO_REJECTED');
  t.regex(e.message, why);
}

test('an embedded-SCT answer: the chain, leaf first, and no detached SCT', (t) => {
  const r = parseCertificateResponse(
    { signedCertificateEmbeddedSct: { chain: { certificates: chain } } },
    key,
  );
  t.deepEqual(
    r.chain.map((c) => c.der),
    [leaf, pki.intermediate, pki.root],
  );
  t.is(r.detachedSct, undefined);
});

test('a detached-SCT answer keeps its SCT (a string) for the signer to judge; any other value is none', (t) => {
  const detached = (sct: unknown) =>
    parseCertificateResponse(
      {
        signedCertificateDetachedSct: {
          chain: { certificates: chain },
          signedCertificateTimestamp: sct,
        },
      },
      key,
    ).detachedSct;
  t.is(detached('AAEC'), 'AAEC');
  t.is(detached(5), undefined);
  t.is(detached(undefined), undefined);
  // Both forms: the embedded one is used, and its chain.
  t.is(
    parseCertificateResponse(
      {
        signedCertificateEmbeddedSct: { chain: { certificates: chain } },
        signedCertificateDetachedSct: {
          chain: { certificates: [] },
          signedCertificateTimestamp: 'AAEC',
        },
      },
      key,
    ).detachedSct,
    undefined,
  );
});

test('no chain, a chain that is not PEM certificates, or a leaf for another key is refused', (t) => {
  refused(t, undefined, /no certificate chain/);
  refused(t, [], /no certificate chain/);
  refused(
    t,
    { signedCertificateEmbeddedSct: { chain: { certificates: [] } } },
    /no certificate chain/,
  );
  refused(
    t,
    { signedCertificateEmbeddedSct: { chain: { certificates: [1] } } },
    /no certificate chain/,
  );
  refused(
    t,
    { signedCertificateEmbeddedSct: { chain: { certificates: ['not pem'] } } },
    /certificate 0/,
  );
  refused(
    t,
    {
      signedCertificateEmbeddedSct: {
        chain: {
          certificates: [
            chain[0],
            '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
          ],
        },
      },
    },
    /certificate 1 is not a valid X\.509 certificate/,
  );
  refused(
    t,
    { signedCertificateEmbeddedSct: { chain: { certificates: [derToPem(pki.leaf)] } } },
    /a certificate for a different public key/,
  );
});

test("the certificate request names the key's algorithm as Fulcio's PublicKeyAlgorithm and proves possession of the subject", (t) => {
  for (const [algorithm, named] of [
    ['ECDSA_P256', 'ECDSA'],
    ['Ed25519', 'ED25519'],
  ] as const) {
    const key = createEphemeralKey(algorithm);
    const r = buildCertificateRequest('the.token', 'subject@example.com', key);
    t.deepEqual(r.credentials, { oidcIdentityToken: 'the.token' });
    t.deepEqual(r.publicKeyRequest.publicKey, { algorithm: named, content: key.publicKeyPem });
    const proof = Buffer.from(r.publicKeyRequest.proofOfPossession, 'base64');
    t.true(
      verify(
        algorithm === 'Ed25519' ? null : 'sha256',
        Buffer.from('subject@example.com'),
        createPublicKey(key.publicKeyPem),
        proof,
      ),
      `${algorithm}: the proof is a signature over the subject`,
    );
  }
});
