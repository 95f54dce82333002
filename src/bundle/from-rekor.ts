/**
 * Assemble a v0.3 Bundle from what signing produced: the signing certificate (or a managed
 * key's hint), the content (message signature or DSSE envelope) and the Rekor v1 LogEntry the
 * log answered with. Used by the signer (src/sign/sign.ts, after its HTTP round trips) and by
 * the samples script; pure, no I/O.
 *
 * The Rekor answer is untrusted input here: every field is checked for shape, and an entry
 * without an inclusion proof, checkpoint or SET is refused ("Rekor proof missing"), because a
 * bundle must never claim a log entry it cannot prove.
 */
import { fail } from '../errors.js';
import { decodeBase64, fromHex } from '../util/encoding.js';
import {
  isPlainObject,
  parseJsonStrict,
  readObject,
  readString,
  readUint,
  type JsonReadContext,
} from '../util/json.js';
import { boundedSeconds } from '../util/time.js';
import { BUNDLE_V03_MEDIA_TYPE } from './serialize.js';
import type { Bundle, BundleContent, SigningMaterial, TransparencyLogEntry } from './model.js';
import { BUNDLE_LIMITS } from './model.js';

/** Rekor v1 LogEntry as JSON (the value under the uuid key). */
export interface RekorEntryJsonInput {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification?: {
    signedEntryTimestamp?: string;
    inclusionProof?: {
      checkpoint?: string;
      hashes: string[];
      logIndex: number;
      rootHash: string;
      treeSize: number;
    };
  };
}

export type BundleSigner = { certificate: Uint8Array } | { publicKeyHint: string };

export interface BundleFromRekorInput {
  content: BundleContent;
  signer: BundleSigner;
  /** The LogEntry, or Rekor's `{ uuid: LogEntry }` answer with exactly one entry. */
  rekorEntry: RekorEntryJsonInput | Record<string, RekorEntryJsonInput>;
  /** DER RFC 3161 timestamps, if a TSA was used. */
  rfc3161Timestamps?: Uint8Array[];
}

function missing(message: string): never {
  return fail('REKOR_PROOF_MISSING', 'tlog', `Rekor proof missing: ${message}`);
}

function bad(message: string, options?: { cause?: unknown }): never {
  return fail('REKOR_REJECTED', 'tlog', `Rekor entry malformed: ${message}`, undefined, options);
}

const HEX32 = /^[0-9a-f]{64}$/;

/** Rekor's answer, read by util/json.ts's readers. */
const ENTRY: JsonReadContext = {
  code: 'REKOR_REJECTED',
  check: 'tlog',
  prefix: 'Rekor entry malformed: ',
};

function count(v: unknown, what: string): number {
  return readUint(v, what, ENTRY);
}

/** Rekor's answer is untrusted JSON whatever the caller's type says: checked as `unknown`. */
function unwrap(e: unknown): RekorEntryJsonInput {
  if (!isPlainObject(e)) bad('not a JSON object');
  if (typeof e.body === 'string') return e as unknown as RekorEntryJsonInput;
  const values = Object.values(e);
  if (values.length !== 1) bad(`expected one entry in Rekor's answer, got ${values.length}`);
  // The one entry is as untrusted as the answer around it (null, a list, a number...).
  if (!isPlainObject(values[0])) bad("the entry in Rekor's answer is not a JSON object");
  return values[0] as unknown as RekorEntryJsonInput;
}

/** Rekor v1 LogEntry JSON -> the bundle's TransparencyLogEntry (kind/version read from the body). */
export function tlogEntryFromRekor(
  input: BundleFromRekorInput['rekorEntry'],
): TransparencyLogEntry {
  const e = unwrap(input);
  const body = decodeBase64(e.body, 'Rekor entry body', 'tlog');
  // Only kind and apiVersion are read here; the verifier parses the whole body (tlog/rekor-entry.ts).
  const parsed = readObject(
    parseJsonStrict(body, {
      maxBytes: BUNDLE_LIMITS.maxBytes,
      maxDepth: 16,
      what: 'Rekor entry body',
      code: 'REKOR_REJECTED',
      limitCode: 'REKOR_REJECTED',
      check: 'tlog',
    }),
    'body',
    ENTRY,
  );
  const kind = readString(parsed['kind'], 'body.kind', ENTRY, { nonEmpty: true });
  const version = readString(parsed['apiVersion'], 'body.apiVersion', ENTRY, { nonEmpty: true });
  if (typeof e.logID !== 'string' || !HEX32.test(e.logID))
    bad('logID is not 64 lowercase hex digits');
  const integratedTime = boundedSeconds(
    count(e.integratedTime, 'integratedTime'),
    'Rekor entry integratedTime',
    { code: 'REKOR_REJECTED', check: 'tlog' },
  );
  const logIndex = count(e.logIndex, 'logIndex');

  const set = e.verification?.signedEntryTimestamp;
  if (typeof set !== 'string' || set === '')
    missing(`entry ${logIndex} has no signed entry timestamp`);
  const p = e.verification?.inclusionProof;
  if (!p) missing(`entry ${logIndex} has no inclusion proof`);
  if (typeof p.checkpoint !== 'string' || p.checkpoint === '')
    missing(`entry ${logIndex} has no checkpoint`);
  if (typeof p.rootHash !== 'string' || !HEX32.test(p.rootHash))
    bad('inclusionProof.rootHash is not 64 lowercase hex digits');
  if (
    !Array.isArray(p.hashes) ||
    p.hashes.length > BUNDLE_LIMITS.maxProofHashes ||
    !p.hashes.every((h) => typeof h === 'string' && HEX32.test(h))
  ) {
    bad('inclusionProof.hashes is not a list of 64-hex-digit hashes');
  }
  return {
    logIndex,
    logId: fromHex(e.logID),
    kindVersion: { kind, version },
    integratedTime,
    inclusionPromise: {
      signedEntryTimestamp: decodeBase64(set, 'Rekor signedEntryTimestamp', 'tlog'),
    },
    inclusionProof: {
      logIndex: count(p.logIndex, 'inclusionProof.logIndex'),
      rootHash: fromHex(p.rootHash),
      treeSize: count(p.treeSize, 'inclusionProof.treeSize'),
      hashes: p.hashes.map(fromHex),
      checkpoint: p.checkpoint,
    },
    canonicalizedBody: body,
  };
}

/** A v0.3 bundle: leaf certificate only (or a key hint), one tlog entry with proof and SET. */
export function bundleFromRekorResponse(input: BundleFromRekorInput): Bundle {
  const material: SigningMaterial =
    'certificate' in input.signer
      ? { kind: 'certificate', certificate: input.signer.certificate }
      : { kind: 'publicKey', hint: input.signer.publicKeyHint };
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    version: '0.3',
    verificationMaterial: {
      content: material,
      tlogEntries: [tlogEntryFromRekor(input.rekorEntry)],
      rfc3161Timestamps: input.rfc3161Timestamps ?? [],
    },
    content: input.content,
  };
}
