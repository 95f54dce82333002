/**
 * RFC 3161 TSA client: POST a DER TimeStampReq (SHA-256 of the signature bytes, a random
 * nonce, certReq) to the TSA's full URL as application/timestamp-query; the answer is an
 * application/timestamp-reply TimeStampResp. Before it goes into a bundle the answer is
 * checked with the verifier's own code (src/timestamp/rfc3161.ts): granted, a token over
 * THIS signature, by a TSA of the trust material, at a time inside that TSA's windows, with
 * our nonce, and inside the signing certificate's validity (else no verifier could use it).
 *
 * Unreachable, timing out or answering 408/429/5xx after the retries: TSA_UNAVAILABLE (140).
 * Any other refusal or an answer that does not verify: TSA_REJECTED (141).
 */
import { randomBytes } from 'node:crypto';
import { StellaError } from '../errors.js';
import { sha256 } from '../crypto.js';
import {
  parseTimeStampResp,
  encodeTimeStampReq,
  PKI_STATUS,
  TIMESTAMP_QUERY_CONTENT_TYPE,
  TIMESTAMP_REPLY_CONTENT_TYPE,
} from '../timestamp/request.js';
import { verifyRfc3161Timestamp, type VerifiedTimestamp } from '../timestamp/rfc3161.js';
import type { TrustMaterial } from '../model/trust-material.js';
import { formatTime } from '../util/time.js';
import type { Certificate } from '../x509/certificate.js';
import { certValidAt } from '../x509/chain.js';
import { describeOutcome, requestBytes, type RetryPolicy } from './http.js';
import { isRetryableStatus } from '../util/retry.js';
import { mediaTypeOf } from '../util/http-body.js';
import { quoted, serverText } from '../util/text.js';

/** The largest TimeStampResp accepted (a token with its certificate chain is a few KB). */
export const MAX_TIMESTAMP_RESPONSE_BYTES = 256 * 1024;

export interface TimestampResponse {
  url: string;
  /** The DER TimeStampResp exactly as the TSA sent it (what a bundle's signedTimestamp holds). */
  response: Uint8Array;
  nonce: bigint;
}

function unavailable(url: string, why: string): never {
  throw new StellaError('TSA_UNAVAILABLE', 'signing', `TSA unavailable at ${url}: ${why}`, { url });
}

function rejected(url: string, why: string, cause?: unknown): never {
  throw new StellaError(
    'TSA_REJECTED',
    'signing',
    `TSA at ${url}: ${why}`,
    { url },
    cause === undefined ? undefined : { cause },
  );
}

/** Ask the TSA at `url` (the full URL, as a signing config's tsaUrls give it) to stamp `signature`. */
export async function requestTimestamp(
  url: string,
  signature: Uint8Array,
  policy: RetryPolicy,
  fetchImpl?: typeof fetch,
): Promise<TimestampResponse> {
  // A positive 63-bit nonce: the answer must repeat it (RFC 3161 §2.4.2), so it cannot be an old one replayed.
  const nonce = BigInt(`0x${randomBytes(8).toString('hex')}`) & 0x7fffffffffffffffn || 1n;
  const body = encodeTimeStampReq({
    hash: 'sha256',
    digest: sha256(signature),
    nonce,
    certReq: true,
  });
  const outcome = await requestBytes(
    { url, body, contentType: TIMESTAMP_QUERY_CONTENT_TYPE, accept: TIMESTAMP_REPLY_CONTENT_TYPE },
    policy,
    fetchImpl,
    {
      maxBytes: MAX_TIMESTAMP_RESPONSE_BYTES,
      code: 'TSA_REJECTED',
      check: 'signing',
      what: `the answer of the TSA at ${url}`,
    },
  );
  if (outcome.kind === 'unreachable') return unavailable(url, describeOutcome(outcome));
  if (isRetryableStatus(outcome.status))
    unavailable(
      url,
      `HTTP ${outcome.status} (${outcome.attempts} attempt${outcome.attempts === 1 ? '' : 's'})`,
    );
  if (outcome.status !== 200)
    rejected(url, `refused the request: HTTP ${outcome.status}${refusalText(outcome.body)}`);
  const type = mediaTypeOf(outcome.contentType);
  if (type !== TIMESTAMP_REPLY_CONTENT_TYPE)
    rejected(
      url,
      `answered with content type ${quoted(outcome.contentType)}, not ${TIMESTAMP_REPLY_CONTENT_TYPE}`,
    );
  return { url, response: outcome.body, nonce };
}

function refusalText(body: Uint8Array): string {
  try {
    const r = parseTimeStampResp(body);
    return r.statusText ? `: ${quoted(r.statusText)}` : `: status ${r.status}`;
  } catch {
    // Not a TimeStampResp: the server's own words (an HTML page, a proxy's message).
    const text = serverText(Buffer.from(body).toString('utf8'));
    return text ? `: ${text}` : '';
  }
}

/**
 * Check a TSA's answer as a verifier will, for the bundle about to be written: granted, a
 * token over `signature` by a trusted TSA (verifyRfc3161Timestamp), our nonce, and a time at
 * which the signing certificate was valid. Returns the verified time.
 */
export function checkTimestamp(
  t: TimestampResponse,
  signature: Uint8Array,
  trust: TrustMaterial,
  leaf: Certificate | undefined,
  trustSource?: string,
): VerifiedTimestamp {
  let status;
  try {
    status = parseTimeStampResp(t.response);
  } catch (e) {
    return rejected(t.url, `the answer is not a TimeStampResp: ${(e as Error).message}`, e);
  }
  if (status.status !== PKI_STATUS.granted && status.status !== PKI_STATUS.grantedWithMods) {
    rejected(
      t.url,
      `refused to stamp (PKIStatus ${status.status}${status.statusText ? `: ${quoted(status.statusText)}` : ''})`,
    );
  }
  if (!status.token) rejected(t.url, 'granted, but the answer carries no token');
  let verified: VerifiedTimestamp;
  try {
    verified = verifyRfc3161Timestamp(t.response, signature, trust.timestampAuthorities);
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    return rejected(
      t.url,
      `the timestamp does not verify${trustSource ? ` against the ${trustSource}` : ''}: ${e.message}`,
      e,
    );
  }
  if (verified.tstInfo.nonce !== t.nonce)
    rejected(
      t.url,
      `the timestamp carries nonce ${String(verified.tstInfo.nonce)}, not the ${String(t.nonce)} asked for`,
    );
  if (leaf && !certValidAt(leaf, verified.time)) {
    rejected(
      t.url,
      `the timestamp's time ${formatTime(verified.time)} is outside the signing certificate's validity (${formatTime(leaf.notBefore)}..${formatTime(leaf.notAfter)})`,
    );
  }
  return verified;
}
