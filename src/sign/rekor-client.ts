/**
 * Rekor v1 client: POST {url}/api/v1/log/entries with a proposed hashedrekord or dsse entry;
 * the answer is `{ "<uuid>": LogEntry }`. A bundle needs the entry's inclusion proof with a
 * checkpoint; when the POST answer lacks it, the entry is fetched again once by uuid. Without
 * a proof we stop: no bundle may claim a log entry it cannot prove ("Rekor proof missing").
 */
import { fail } from '../errors.js';
import { toBase64, utf8 } from '../util/encoding.js';
import { describeOutcome, requestJson, type RetryPolicy } from './http.js';
import type { RekorEntryJsonInput } from '../bundle/from-rekor.js';
import { isRetryableStatus } from '../util/retry.js';
import { quoted, withoutTrailing } from '../util/text.js';

/** Rekor's LogEntry (v1 REST JSON): the shape src/bundle/from-rekor.ts turns into a tlog entry. */
export type RekorLogEntry = RekorEntryJsonInput;

export interface RekorEntryResult {
  uuid: string;
  entry: RekorLogEntry;
}

export type ProposedEntry =
  | {
      apiVersion: '0.0.1';
      kind: 'hashedrekord';
      spec: {
        data: { hash: { algorithm: 'sha256'; value: string } };
        signature: { content: string; publicKey: { content: string } };
      };
    }
  | {
      apiVersion: '0.0.1';
      kind: 'dsse';
      spec: { proposedContent: { envelope: string; verifiers: string[] } };
    };

/** hashedrekord v0.0.1: the artifact's SHA-256, the signature, the signing certificate (PEM, base64). */
export function hashedRekordProposal(
  sha256Hex: string,
  signature: Uint8Array,
  certificatePem: string,
): ProposedEntry {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: sha256Hex } },
      signature: {
        content: toBase64(signature),
        publicKey: { content: toBase64(utf8.encode(certificatePem)) },
      },
    },
  };
}

/** dsse v0.0.1: the envelope as JSON text and the verifier (certificate PEM, base64). */
export function dsseProposal(envelopeJson: string, certificatePem: string): ProposedEntry {
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      proposedContent: {
        envelope: envelopeJson,
        verifiers: [toBase64(utf8.encode(certificatePem))],
      },
    },
  };
}

/**
 * A Rekor v1 entry UUID as the API writes it: the entry's leaf hash (64 lower-case hex digits),
 * after the 16-hex-digit tree ID on sharded logs.
 */
export const ENTRY_UUID = /^(?:[0-9a-f]{16})?[0-9a-f]{64}$/;

export async function uploadEntry(
  rekorUrl: string,
  proposed: ProposedEntry,
  policy: RetryPolicy,
  fetchImpl?: typeof fetch,
): Promise<RekorEntryResult> {
  const base = withoutTrailing(rekorUrl, '/');
  const outcome = await requestJson(
    { method: 'POST', url: `${base}/api/v1/log/entries`, body: proposed },
    policy,
    fetchImpl,
  );
  let result: RekorEntryResult;
  if (outcome.kind === 'response' && outcome.status === 409) {
    // The same entry is already logged: fetch it by the uuid in the Location header.
    const location = outcome.headers.get('location') ?? '';
    const uuid = location.split('/').pop() ?? '';
    if (!ENTRY_UUID.test(uuid))
      fail(
        'REKOR_REJECTED',
        'tlog',
        `Rekor proof missing: entry already exists but Rekor gave no usable location`,
      );
    result = await fetchEntry(base, uuid, policy, fetchImpl);
  } else if (outcome.kind === 'unreachable' || isRetryableStatus(outcome.status)) {
    return fail(
      'REKOR_UNAVAILABLE',
      'tlog',
      `Rekor proof missing: Rekor unavailable at ${rekorUrl}: ${describeOutcome(outcome)}`,
      { url: base },
    );
  } else if (outcome.status !== 201 && outcome.status !== 200) {
    return fail(
      'REKOR_REJECTED',
      'tlog',
      `Rekor proof missing: Rekor refused the entry: ${describeOutcome(outcome)}`,
      { url: base, status: outcome.status },
    );
  } else {
    result = parseEntryResponse(outcome.body);
  }
  if (!hasProof(result.entry)) result = await fetchEntry(base, result.uuid, policy, fetchImpl);
  if (!hasProof(result.entry)) {
    fail(
      'REKOR_PROOF_MISSING',
      'tlog',
      `Rekor proof missing: entry ${result.uuid} has no inclusion proof with a checkpoint`,
      { uuid: result.uuid },
    );
  }
  if (!result.entry.verification?.signedEntryTimestamp) {
    fail(
      'REKOR_PROOF_MISSING',
      'tlog',
      `Rekor proof missing: entry ${result.uuid} has no signed entry timestamp`,
      { uuid: result.uuid },
    );
  }
  return result;
}

async function fetchEntry(
  base: string,
  uuid: string,
  policy: RetryPolicy,
  fetchImpl?: typeof fetch,
): Promise<RekorEntryResult> {
  const outcome = await requestJson(
    { method: 'GET', url: `${base}/api/v1/log/entries/${uuid}` },
    policy,
    fetchImpl,
  );
  if (outcome.kind !== 'response' || outcome.status !== 200) {
    const code =
      outcome.kind === 'unreachable' || isRetryableStatus(outcome.status)
        ? 'REKOR_UNAVAILABLE'
        : 'REKOR_PROOF_MISSING';
    fail(
      code,
      'tlog',
      `Rekor proof missing: cannot fetch entry ${uuid}: ${describeOutcome(outcome)}`,
      { uuid },
    );
  }
  return parseEntryResponse(outcome.body);
}

function hasProof(e: RekorLogEntry): boolean {
  const p = e.verification?.inclusionProof;
  return Boolean(
    p &&
    typeof p.checkpoint === 'string' &&
    p.checkpoint.length > 0 &&
    Array.isArray(p.hashes) &&
    typeof p.rootHash === 'string',
  );
}

/** `{ uuid: LogEntry }` with exactly one entry, shapes checked. */
export function parseEntryResponse(body: unknown): RekorEntryResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    fail('REKOR_REJECTED', 'tlog', 'Rekor proof missing: Rekor answer is not a JSON object');
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length !== 1)
    fail(
      'REKOR_REJECTED',
      'tlog',
      `Rekor proof missing: expected one entry in Rekor's answer, got ${entries.length}`,
    );
  const [uuid, raw] = entries[0]!;
  if (!ENTRY_UUID.test(uuid))
    fail(
      'REKOR_REJECTED',
      'tlog',
      `Rekor proof missing: the entry's UUID ${quoted(uuid, 100)} is not a Rekor entry UUID`,
    );
  const e = raw as Partial<RekorLogEntry> | null;
  if (
    !e ||
    typeof e.body !== 'string' ||
    typeof e.integratedTime !== 'number' ||
    typeof e.logID !== 'string' ||
    !/^[0-9a-f]{64}$/.test(e.logID) ||
    typeof e.logIndex !== 'number' ||
    !Number.isSafeInteger(e.logIndex) ||
    e.logIndex < 0
  ) {
    return fail('REKOR_REJECTED', 'tlog', `Rekor proof missing: entry ${uuid} is malformed`);
  }
  // null is JSON's "absent" (as protobuf-specs read it): no proof, fetched or refused below.
  // The type says an object; the JSON may say null.
  type Proof = NonNullable<NonNullable<RekorLogEntry['verification']>['inclusionProof']>;
  const p = e.verification?.inclusionProof as Proof | null | undefined;
  if (p !== undefined && p !== null) {
    const okProof =
      typeof p.logIndex === 'number' &&
      typeof p.treeSize === 'number' &&
      typeof p.rootHash === 'string' &&
      /^[0-9a-f]{64}$/.test(p.rootHash) &&
      Array.isArray(p.hashes) &&
      p.hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h));
    if (!okProof)
      fail(
        'REKOR_REJECTED',
        'tlog',
        `Rekor proof missing: entry ${uuid} has a malformed inclusion proof`,
      );
  }
  return { uuid, entry: e as RekorLogEntry };
}
