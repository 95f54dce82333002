/**
 * Rekor v2 client (rekor-tiles): POST {url}/api/v2/log/entries with a CreateEntryRequest in
 * protobuf JSON — hashedRekordRequestV002 for a message signature, dsseRequestV002 for a DSSE
 * envelope (as @sigstore/sign 4.x sends them) — and read back the TransparencyLogEntry the
 * log answers with, which goes into the bundle as it is.
 *
 * The answer is checked before any bundle is written, by the code that verifies bundles:
 * parsed by the bundle parser's entry rules, bound to OUR signature, certificate and digest
 * (src/tlog/rekor-entry.ts), and included in a log of the trust material at a checkpoint that
 * log signed, with the log's key valid at the TSA's time (src/tlog/verify.ts). A Rekor v2
 * entry has no integrated time and no signed entry timestamp: its time is the TSA's.
 *
 * Unreachable/5xx: REKOR_UNAVAILABLE; refused or an answer that does not verify:
 * REKOR_REJECTED (the entry parser's REKOR_PROOF_MISSING when the proof is absent).
 */
import { StellaError } from '../errors.js';
import { toBase64 } from '../util/encoding.js';
import { parseTransparencyLogEntryJson } from '../bundle/parse.js';
import { envelopeToJson } from '../bundle/dsse.js';
import { BUNDLE_V03_MEDIA_TYPE } from '../bundle/serialize.js';
import type {
  Bundle,
  BundleContent,
  HashAlgorithm,
  TransparencyLogEntry,
} from '../bundle/model.js';
import { verifyEntryBinding } from '../tlog/rekor-entry.js';
import { verifyTlogEntryInclusion } from '../tlog/verify.js';
import type { TrustMaterial } from '../model/trust-material.js';
import type { TimeValue } from '../util/time.js';
import type { Certificate } from '../x509/certificate.js';
import type { SigningAlgorithm } from './config.js';
import { describeOutcome, requestJson, type RetryPolicy } from './http.js';
import { isRetryableStatus } from '../util/retry.js';
import { withoutTrailing } from '../util/text.js';
import { quoted } from '../util/text.js';

/** Rekor v2 verifier keyDetails for the ephemeral key Stella signs with. */
export function keyDetailsFor(algorithm: SigningAlgorithm): string {
  return algorithm === 'Ed25519' ? 'PKIX_ED25519' : 'PKIX_ECDSA_P256_SHA_256';
}

export type CreateEntryRequestV2 =
  | {
      hashedRekordRequestV002: {
        digest: string;
        signature: { content: string; verifier: VerifierJson };
      };
    }
  | {
      dsseRequestV002: {
        envelope: {
          payload: string;
          payloadType: string;
          signatures: { sig: string; keyid: string }[];
        };
        verifiers: VerifierJson[];
      };
    };

interface VerifierJson {
  x509Certificate: { rawBytes: string };
  keyDetails: string;
}

/** The request for `content`, signed by the key of `certificateDer`. */
export function createEntryRequestV2(
  content: BundleContent,
  certificateDer: Uint8Array,
  keyDetails: string,
): CreateEntryRequestV2 {
  const verifier: VerifierJson = {
    x509Certificate: { rawBytes: toBase64(certificateDer) },
    keyDetails,
  };
  if (content.kind === 'messageSignature') {
    if (!content.messageDigest)
      throw new StellaError(
        'INPUT_INVALID',
        'signing',
        'a Rekor v2 hashedrekord needs the message digest',
      );
    return {
      hashedRekordRequestV002: {
        digest: toBase64(content.messageDigest.digest),
        signature: { content: toBase64(content.signature), verifier },
      },
    };
  }
  const env = envelopeToJson(content);
  return {
    dsseRequestV002: {
      envelope: {
        payload: env.payload,
        payloadType: env.payloadType,
        signatures: env.signatures.map((s) => ({ sig: s.sig, keyid: s.keyid ?? '' })),
      },
      verifiers: [verifier],
    },
  };
}

/** POST the request; returns the parsed (not yet verified) TransparencyLogEntry. */
export async function uploadEntryV2(
  url: string,
  request: CreateEntryRequestV2,
  policy: RetryPolicy,
  fetchImpl?: typeof fetch,
): Promise<TransparencyLogEntry> {
  const base = withoutTrailing(url, '/');
  const outcome = await requestJson(
    { method: 'POST', url: `${base}/api/v2/log/entries`, body: request },
    policy,
    fetchImpl,
  );
  if (outcome.kind === 'unreachable' || isRetryableStatus(outcome.status)) {
    throw new StellaError(
      'REKOR_UNAVAILABLE',
      'tlog',
      `Rekor proof missing: Rekor v2 unavailable at ${base}: ${describeOutcome(outcome)}`,
      { url: base },
    );
  }
  if (outcome.status === 409) {
    const index = outcome.headers.get('x-log-index');
    throw new StellaError(
      'REKOR_REJECTED',
      'tlog',
      `Rekor proof missing: Rekor v2 at ${base} already holds this entry${index ? ` (log index ${index})` : ''} and returns no proof for it`,
      { url: base, status: 409 },
    );
  }
  if (outcome.status !== 201 && outcome.status !== 200) {
    throw new StellaError(
      'REKOR_REJECTED',
      'tlog',
      `Rekor proof missing: Rekor v2 at ${base} refused the entry: ${describeOutcome(outcome)}`,
      { url: base, status: outcome.status },
    );
  }
  if (typeof outcome.body !== 'object' || outcome.body === null || Array.isArray(outcome.body)) {
    throw new StellaError(
      'REKOR_REJECTED',
      'tlog',
      `Rekor proof missing: Rekor v2 at ${base} answered with something that is not a JSON object`,
      { url: base },
    );
  }
  try {
    return parseTransparencyLogEntryJson(outcome.body, 'Rekor v2 answer');
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    const code = e.code === 'REKOR_PROOF_MISSING' ? 'REKOR_PROOF_MISSING' : 'REKOR_REJECTED';
    throw new StellaError(
      code,
      'tlog',
      `${code === 'REKOR_PROOF_MISSING' ? '' : 'Rekor proof missing: '}Rekor v2 at ${base}: ${e.message}`,
      { url: base },
      { cause: e },
    );
  }
}

export interface CheckV2Input {
  url: string;
  content: BundleContent;
  leaf: Certificate;
  /** The artifact digest signed (message signatures), by algorithm. */
  artifactDigest?: (algorithm: HashAlgorithm) => Uint8Array | undefined;
  trust: TrustMaterial;
  /** The verified TSA times: the log key must be valid at each. */
  times: readonly TimeValue[];
  /** Where `trust` came from, for messages. */
  trustSource?: string;
}

/**
 * Refuse an answer that does not prove this signature in a trusted Rekor v2 log: the checks of
 * `stella attest verify`'s tlog step, with the TSA times as verified times.
 */
export function checkLogEntryV2(
  entry: TransparencyLogEntry,
  c: CheckV2Input,
): TransparencyLogEntry {
  const base = withoutTrailing(c.url, '/');
  const refuse = (why: string, cause?: unknown): never => {
    throw new StellaError(
      'REKOR_REJECTED',
      'tlog',
      `Rekor proof missing: Rekor v2 answer from ${base} does not verify${c.trustSource ? ` against the ${c.trustSource}` : ''}: ${why}`,
      { url: base, logIndex: entry.logIndex },
      cause === undefined ? undefined : { cause },
    );
  };
  const expected = c.content.kind === 'messageSignature' ? 'hashedrekord/0.0.2' : 'dsse/0.0.2';
  const got = `${entry.kindVersion.kind}/${entry.kindVersion.version}`;
  if (got !== expected) refuse(`expected a ${expected} entry, got ${quoted(got)}`);
  if (entry.inclusionPromise || entry.integratedTime !== 0)
    refuse('a Rekor v2 entry carries no integrated time and no signed entry timestamp');
  const bundle: Bundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    version: '0.3',
    verificationMaterial: {
      content: { kind: 'certificate', certificate: c.leaf.der },
      tlogEntries: [entry],
      rfc3161Timestamps: [],
    },
    content: c.content,
  };
  try {
    verifyEntryBinding(entry, bundle, {
      certificateDer: c.leaf.der,
      ...(c.artifactDigest ? { artifactDigest: c.artifactDigest } : {}),
    });
    const r = verifyTlogEntryInclusion(entry, c.trust.tlogs, c.times);
    if (r.rekor !== 'v2') refuse(`the entry is a Rekor ${r.rekor} entry`);
  } catch (e) {
    if (
      !(e instanceof StellaError) ||
      e.message.startsWith(`Rekor proof missing: Rekor v2 answer from ${base}`)
    )
      throw e;
    refuse(e.message, e);
  }
  return entry;
}
