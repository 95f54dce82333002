/**
 * Fulcio v2 client: POST {url}/api/v2/signingCert with the OIDC token, the ephemeral public key
 * and a proof of possession (a signature over the token's `sub`). Request and response are
 * the JSON forms of fulcio's CreateSigningCertificateRequest / SigningCertificate messages.
 *
 * Unreachable, timed out or 5xx after the configured retries: FULCIO_UNAVAILABLE ("Fulcio
 * unavailable"). Any other refusal (bad token, wrong audience, untrusted issuer, bad proof):
 * FULCIO_REJECTED with the server's message.
 */
import { fail, StellaError } from '../errors.js';
import { spkiOf } from '../crypto.js';
import { bytesEqual, toBase64, utf8 } from '../util/encoding.js';
import { pemToDer } from '../util/pem.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { describeOutcome, requestJson, type RetryPolicy } from './http.js';
import type { EphemeralKey } from './keys.js';
import { isRetryableStatus } from '../util/retry.js';
import { withoutTrailing } from '../util/text.js';

export interface FulcioCertificateRequest {
  credentials: { oidcIdentityToken: string };
  publicKeyRequest: {
    publicKey: { algorithm: 'ECDSA' | 'ED25519'; content: string };
    /** base64 signature over the token's `sub` claim. */
    proofOfPossession: string;
  };
}

/** Fulcio's answer as read off the wire: every field is checked before use. */
export interface FulcioCertificateResponse {
  signedCertificateEmbeddedSct?: { chain?: { certificates?: unknown } } | null;
  signedCertificateDetachedSct?: {
    chain?: { certificates?: unknown };
    signedCertificateTimestamp?: unknown;
  } | null;
}

export interface IssuedCertificate {
  /** Leaf first, then the rest of the chain as Fulcio returned it; parsed by the verifier's own parser. */
  chain: Certificate[];
  /** The detached SCT (base64 JSON), when Fulcio returned one instead of embedding it. */
  detachedSct: string | undefined;
}

export function buildCertificateRequest(
  token: string,
  subject: string,
  key: EphemeralKey,
): FulcioCertificateRequest {
  const proof = key.sign(utf8.encode(subject));
  return {
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: {
      publicKey: {
        algorithm: key.algorithm === 'Ed25519' ? 'ED25519' : 'ECDSA',
        content: key.publicKeyPem,
      },
      proofOfPossession: toBase64(proof),
    },
  };
}

export async function requestSigningCertificate(
  fulcioUrl: string,
  token: string,
  subject: string,
  key: EphemeralKey,
  policy: RetryPolicy,
  fetchImpl?: typeof fetch,
): Promise<IssuedCertificate> {
  const url = `${withoutTrailing(fulcioUrl, '/')}/api/v2/signingCert`;
  const outcome = await requestJson(
    { method: 'POST', url, body: buildCertificateRequest(token, subject, key) },
    policy,
    fetchImpl,
  );
  if (outcome.kind === 'unreachable' || isRetryableStatus(outcome.status)) {
    fail(
      'FULCIO_UNAVAILABLE',
      'signing',
      `Fulcio unavailable at ${fulcioUrl}: ${describeOutcome(outcome)}`,
      { url },
    );
  }
  if (outcome.status !== 200 && outcome.status !== 201) {
    fail(
      'FULCIO_REJECTED',
      'signing',
      `Fulcio refused the certificate request: ${describeOutcome(outcome)}`,
      { url, status: outcome.status },
    );
  }
  return parseCertificateResponse(outcome.body, key);
}

/** Parse Fulcio's answer and check the leaf certifies OUR key (a CA answering for another key is refused). */
export function parseCertificateResponse(body: unknown, key: EphemeralKey): IssuedCertificate {
  const r = (body ?? {}) as FulcioCertificateResponse;
  const holder = r.signedCertificateEmbeddedSct ?? r.signedCertificateDetachedSct;
  const pems = holder?.chain?.certificates;
  if (!Array.isArray(pems) || pems.length === 0 || !pems.every((p) => typeof p === 'string')) {
    fail('FULCIO_REJECTED', 'signing', 'Fulcio response has no certificate chain');
  }
  // The same strict PEM and X.509 parsers as verification: a certificate the signer accepts
  // here is one a verifier can read.
  const chain = pems.map((pem, i) => {
    try {
      return parseCertificate(
        pemToDer(pem, ['CERTIFICATE'], {
          code: 'FULCIO_REJECTED',
          check: 'signing',
          what: `Fulcio response: certificate ${i}`,
        }).der,
      );
    } catch (e) {
      if (!(e instanceof StellaError)) throw e;
      return fail(
        'FULCIO_REJECTED',
        'signing',
        `Fulcio response: certificate ${i} is not a valid X.509 certificate: ${e.message}`,
        undefined,
        { cause: e },
      );
    }
  });
  // Compared as node re-encodes them, so two encodings of one key are one key.
  if (!bytesEqual(spkiOf(chain[0]!.publicKey), key.publicKeyDer)) {
    fail('FULCIO_REJECTED', 'signing', 'Fulcio returned a certificate for a different public key');
  }
  const detached = r.signedCertificateEmbeddedSct
    ? undefined
    : r.signedCertificateDetachedSct?.signedCertificateTimestamp;
  return { chain, detachedSct: typeof detached === 'string' ? detached : undefined };
}
