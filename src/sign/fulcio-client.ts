/**
 * Fulcio v2 client: POST {url}/api/v2/signingCert with the OIDC token, the ephemeral public key
 * and a proof of possession (a signature over the token's `sub`). Request and response are
 * the JSON forms of fulcio's CreateSigningCertificateRequest / SigningCertificate messages.
 *
 * Unreachable, timed out or 5xx after the configured retries: FULCIO_UNAVAILABLE ("Fulcio
 * unavailable"). Any other refusal (bad token, wrong audience, untrusted issuer, bad proof):
 * FULCIO_REJECTED with the server's message.
 */
import { X509Certificate } from 'node:crypto';
import { fail } from '../errors.js';
import { bytesEqual } from '../util/encoding.js';
import { describeOutcome, requestJson, type RetryPolicy } from './http.js';
import type { EphemeralKey } from './keys.js';

export interface FulcioCertificateRequest {
  credentials: { oidcIdentityToken: string };
  publicKeyRequest: {
    publicKey: { algorithm: 'ECDSA' | 'ED25519'; content: string };
    /** base64 signature over the token's `sub` claim. */
    proofOfPossession: string;
  };
}

export interface FulcioCertificateResponse {
  signedCertificateEmbeddedSct?: { chain: { certificates: string[] } };
  signedCertificateDetachedSct?: { chain: { certificates: string[] }; signedCertificateTimestamp: string };
}

export interface IssuedCertificate {
  /** DER: leaf first, then the rest of the chain as Fulcio returned it. */
  chain: Uint8Array[];
  /** The detached SCT (base64 JSON), when Fulcio returned one instead of embedding it. */
  detachedSct: string | undefined;
}

export function buildCertificateRequest(token: string, subject: string, key: EphemeralKey): FulcioCertificateRequest {
  const proof = key.sign(new TextEncoder().encode(subject));
  return {
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: {
      publicKey: { algorithm: key.algorithm === 'Ed25519' ? 'ED25519' : 'ECDSA', content: key.publicKeyPem },
      proofOfPossession: Buffer.from(proof).toString('base64'),
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
  const url = `${fulcioUrl.replace(/\/+$/, '')}/api/v2/signingCert`;
  const outcome = await requestJson({ method: 'POST', url, body: buildCertificateRequest(token, subject, key) }, policy, fetchImpl);
  if (outcome.kind === 'unreachable' || outcome.status >= 500 || outcome.status === 408 || outcome.status === 429) {
    fail('FULCIO_UNAVAILABLE', 'signing', `Fulcio unavailable at ${fulcioUrl}: ${describeOutcome(outcome)}`, { url });
  }
  if (outcome.status !== 200 && outcome.status !== 201) {
    fail('FULCIO_REJECTED', 'signing', `Fulcio refused the certificate request: ${describeOutcome(outcome)}`, { url, status: outcome.status });
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
  const chain = pems.map((pem, i) => {
    try {
      return new Uint8Array(new X509Certificate(pem).raw);
    } catch (e) {
      return fail('FULCIO_REJECTED', 'signing', `Fulcio response: certificate ${i} is not a valid X.509 certificate`, undefined, { cause: e });
    }
  });
  const leaf = new X509Certificate(Buffer.from(chain[0]!));
  const leafKey = new Uint8Array(leaf.publicKey.export({ format: 'der', type: 'spki' }));
  if (!bytesEqual(leafKey, key.publicKeyDer)) {
    fail('FULCIO_REJECTED', 'signing', 'Fulcio returned a certificate for a different public key');
  }
  const detached = r.signedCertificateEmbeddedSct ? undefined : r.signedCertificateDetachedSct?.signedCertificateTimestamp;
  return { chain, detachedSct: typeof detached === 'string' ? detached : undefined };
}
