/**
 * The strict bundle parser: untrusted bytes -> typed Bundle, or a StellaError naming the field.
 * Reads the protobuf-specs JSON form (camelCase, as sigstore-js reads it; int64 as decimal
 * string or number; `null` means absent; unknown fields ignored for forward compatibility).
 * Every base64 field is decoded once here, strictly; every count is limited (checklist B15-B18).
 */
import { failureOf, StellaError, type ErrorCode, type FailureSummary } from '../errors.js';
import {
  isAbsent,
  parseJsonStrict,
  readArray,
  readBase64,
  readObject,
  readOptional,
  readString,
  readUint,
  type JsonReadContext,
} from '../util/json.js';
import { boundedSeconds } from '../util/time.js';
import { bytesEqual, toHex } from '../util/encoding.js';
import {
  BUNDLE_LIMITS,
  BUNDLE_MEDIA_TYPES,
  BUNDLE_VERSION_RULES,
  type Bundle,
  type BundleContent,
  type BundleVersion,
  type DsseSignature,
  type HashAlgorithm,
  type InclusionProof,
  type MessageDigest,
  type SigningMaterial,
  type TransparencyLogEntry,
  type VerificationMaterial,
} from './model.js';
import { quoted } from '../util/text.js';
import { digestNameOf, digestSize } from '../util/digest.js';
import { misplacedDocumentNote } from '../model/media-types.js';

type Json = Record<string, unknown>;

const HASH_ALGORITHMS: ReadonlySet<string> = new Set<HashAlgorithm>([
  'SHA2_256',
  'SHA2_384',
  'SHA2_512',
]);

function refuse(code: ErrorCode, message: string): never {
  throw new StellaError(code, 'bundle', message);
}

function malformed(message: string): never {
  return refuse('BUNDLE_MALFORMED', message);
}

const BUNDLE_TIME = { code: 'BUNDLE_MALFORMED', check: 'bundle' } as const;

/** The protobuf JSON mapping, read by util/json.ts's readers: null means absent (the default). */
const B: JsonReadContext = {
  code: 'BUNDLE_MALFORMED',
  check: 'bundle',
  limitCode: 'BUNDLE_LIMIT_EXCEEDED',
  nullIsAbsent: true,
};
/** The document itself and array items, where null is a value of the wrong type. */
const VALUE: JsonReadContext = { ...B, nullIsAbsent: false };

/** Present and not null (protobuf JSON: null means the default). */
function isSet(v: unknown): boolean {
  return !isAbsent(v, B);
}

function object(v: unknown, path: string): Json {
  return readObject(v, path, VALUE);
}

function optionalObject(v: unknown, path: string): Json | undefined {
  return readOptional(v, B, (o) => readObject(o, path, B));
}

/** A repeated field: absent is empty. */
function array(v: unknown, path: string, max: number): unknown[] {
  return readOptional(v, B, (a) => readArray(a, path, B, { max })) ?? [];
}

/** A string field: absent is ''. */
function string(v: unknown, path: string): string {
  return readOptional(v, B, (x) => readString(x, path, B)) ?? '';
}

function requiredString(v: unknown, path: string): string {
  return readString(v, path, B, { nonEmpty: true });
}

/** A bytes field: absent is empty. */
function bytes(v: unknown, path: string): Uint8Array {
  return readOptional(v, B, (x) => readBase64(x, path, B)) ?? new Uint8Array(0);
}

function requiredBytes(v: unknown, path: string, what = `${path} missing`): Uint8Array {
  const b = bytes(v, path);
  if (b.length === 0) malformed(what);
  return b;
}

/** protobuf JSON int64: a decimal string or a number; here also non-negative and exact in a double. Absent is 0. */
function uint(v: unknown, path: string): number {
  return readOptional(v, B, (x) => readUint(x, path, B, { decimalString: true })) ?? 0;
}

export function parseBundle(input: Uint8Array | string): Bundle {
  const root = parseJsonStrict(input, {
    maxDepth: BUNDLE_LIMITS.maxJsonDepth,
    maxBytes: BUNDLE_LIMITS.maxBytes,
    what: 'bundle',
  });
  const doc = object(root, 'bundle');

  const mediaType = doc.mediaType;
  if (!isSet(mediaType) || mediaType === '') malformed('bundle mediaType missing');
  if (typeof mediaType !== 'string') malformed('bundle mediaType: expected a string');
  const version: BundleVersion | undefined = Object.hasOwn(BUNDLE_MEDIA_TYPES, mediaType)
    ? BUNDLE_MEDIA_TYPES[mediaType]
    : undefined;
  if (version === undefined)
    refuse(
      'BUNDLE_UNSUPPORTED',
      `unsupported bundle media type ${quoted(mediaType, 100)}${misplacedDocumentNote(mediaType, 'bundle')}`,
    );

  if (!isSet(doc.verificationMaterial)) malformed('verificationMaterial missing');
  const verificationMaterial = parseVerificationMaterial(
    object(doc.verificationMaterial, 'verificationMaterial'),
    version,
  );
  const content = parseContent(doc);
  return { mediaType, version, verificationMaterial, content };
}

function parseVerificationMaterial(vm: Json, version: BundleVersion): VerificationMaterial {
  const content = parseSigningMaterial(vm, version);
  const entries = array(
    vm.tlogEntries,
    'verificationMaterial.tlogEntries',
    BUNDLE_LIMITS.maxTlogEntries,
  );
  const tlogEntries = new Array<TransparencyLogEntry>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    tlogEntries[i] = parseTlogEntry(entries[i], `verificationMaterial.tlogEntries[${i}]`, version);
    // One log entry listed twice (the same log, the same index) is refused, as sigstore-go
    // refuses it: a copy could pass for a second log's evidence of the signing.
    const e = tlogEntries[i]!;
    const j = tlogEntries.findIndex(
      (d, k) => k < i && d.logIndex === e.logIndex && bytesEqual(d.logId, e.logId),
    );
    if (j >= 0)
      malformed(
        `verificationMaterial.tlogEntries[${i}] repeats tlogEntries[${j}] (log ${toHex(e.logId)}, log index ${e.logIndex})`,
      );
  }
  return { content, tlogEntries, rfc3161Timestamps: parseRfc3161Timestamps(vm) };
}

/**
 * Exactly one of x509CertificateChain, certificate and publicKey, and the one the bundle's
 * version allows (a v0.3 bundle carries one certificate, not a chain).
 */
function parseSigningMaterial(vm: Json, version: BundleVersion): SigningMaterial {
  const chain = optionalObject(
    vm.x509CertificateChain,
    'verificationMaterial.x509CertificateChain',
  );
  const cert = optionalObject(vm.certificate, 'verificationMaterial.certificate');
  const key = optionalObject(vm.publicKey, 'verificationMaterial.publicKey');
  const kinds = (chain ? 1 : 0) + (cert ? 1 : 0) + (key ? 1 : 0);
  if (kinds === 0)
    malformed(
      'verificationMaterial has no signing material (x509CertificateChain, certificate or publicKey)',
    );
  if (kinds > 1)
    malformed(
      'verificationMaterial has more than one of x509CertificateChain, certificate, publicKey',
    );
  const rules = BUNDLE_VERSION_RULES[version];
  const kind: SigningMaterial['kind'] = chain
    ? 'x509CertificateChain'
    : cert
      ? 'certificate'
      : 'publicKey';
  if (!rules.material.includes(kind))
    malformed(
      `a v${version} bundle must carry ${rules.materialText}, not verificationMaterial.${kind} (its media type does not match its structure)`,
    );
  if (chain) return { kind: 'x509CertificateChain', certificates: parseCertificateChain(chain) };
  if (cert)
    return {
      kind: 'certificate',
      certificate: requiredBytes(
        cert.rawBytes,
        'verificationMaterial.certificate.rawBytes',
        'verificationMaterial.certificate: empty certificate',
      ),
    };
  return { kind: 'publicKey', hint: string(key!.hint, 'verificationMaterial.publicKey.hint') };
}

/** x509CertificateChain.certificates: at least one, each with non-empty DER bytes. */
function parseCertificateChain(chain: Json): Uint8Array[] {
  const list = array(
    chain.certificates,
    'verificationMaterial.x509CertificateChain.certificates',
    BUNDLE_LIMITS.maxCertificates,
  );
  if (list.length === 0)
    malformed(
      'empty certificate chain: verificationMaterial.x509CertificateChain.certificates has no certificates',
    );
  const certificates = new Array<Uint8Array>(list.length);
  for (let i = 0; i < list.length; i++) {
    const path = `verificationMaterial.x509CertificateChain.certificates[${i}]`;
    certificates[i] = requiredBytes(
      object(list[i], path).rawBytes,
      `${path}.rawBytes`,
      `${path}: empty certificate`,
    );
  }
  return certificates;
}

/** timestampVerificationData.rfc3161Timestamps: each signedTimestamp's bytes (none when absent). */
function parseRfc3161Timestamps(vm: Json): Uint8Array[] {
  const tsData = optionalObject(
    vm.timestampVerificationData,
    'verificationMaterial.timestampVerificationData',
  );
  const tsList = tsData
    ? array(
        tsData.rfc3161Timestamps,
        'verificationMaterial.timestampVerificationData.rfc3161Timestamps',
        BUNDLE_LIMITS.maxTimestamps,
      )
    : [];
  const rfc3161Timestamps = new Array<Uint8Array>(tsList.length);
  for (let i = 0; i < tsList.length; i++) {
    const path = `verificationMaterial.timestampVerificationData.rfc3161Timestamps[${i}]`;
    const token = requiredBytes(object(tsList[i], path).signedTimestamp, `${path}.signedTimestamp`);
    // The same token twice is refused (sigstore-js refuses a repeated timestamp): one TSA's
    // answer counted as two.
    const j = rfc3161Timestamps.findIndex((d, k) => k < i && bytesEqual(d, token));
    if (j >= 0) malformed(`${path} repeats rfc3161Timestamps[${j}]`);
    rfc3161Timestamps[i] = token;
  }
  return rfc3161Timestamps;
}

/**
 * One TransparencyLogEntry in its protobuf JSON form, by the rules of a v0.3 bundle's entries:
 * what a Rekor v2 log answers to POST /api/v2/log/entries (the signer checks it with the code
 * that verifies bundles). `what` names it in messages.
 */
export function parseTransparencyLogEntryJson(
  v: unknown,
  what = 'tlog entry',
): TransparencyLogEntry {
  return parseTlogEntry(v, what, '0.3');
}

function parseTlogEntry(v: unknown, path: string, version: BundleVersion): TransparencyLogEntry {
  const e = object(v, path);
  const logIndex = uint(e.logIndex, `${path}.logIndex`);
  if (!isSet(e.logId)) malformed(`${path}.logId missing`);
  const logId = requiredBytes(object(e.logId, `${path}.logId`).keyId, `${path}.logId.keyId`);
  if (!isSet(e.kindVersion)) malformed(`${path}.kindVersion missing`);
  const kv = object(e.kindVersion, `${path}.kindVersion`);
  const kindVersion = {
    kind: requiredString(kv.kind, `${path}.kindVersion.kind`),
    version: requiredString(kv.version, `${path}.kindVersion.version`),
  };
  // Seconds; 0 (absent) is "no integrated time" (Rekor v2). Bounded here so that nothing
  // later turns it into a Date that cannot be formatted.
  const integratedTime = boundedSeconds(
    uint(e.integratedTime, `${path}.integratedTime`),
    `${path}.integratedTime`,
    BUNDLE_TIME,
  );

  const promise = optionalObject(e.inclusionPromise, `${path}.inclusionPromise`);
  const inclusionPromise = promise
    ? {
        signedEntryTimestamp: requiredBytes(
          promise.signedEntryTimestamp,
          `${path}.inclusionPromise.signedEntryTimestamp`,
        ),
      }
    : undefined;

  const proof = optionalObject(e.inclusionProof, `${path}.inclusionProof`);
  const inclusionProof = proof ? parseInclusionProof(proof, `${path}.inclusionProof`) : undefined;

  const needs = BUNDLE_VERSION_RULES[version].tlogEntryNeeds;
  if (!(needs === 'inclusionPromise' ? inclusionPromise : inclusionProof)) {
    refuse(
      'REKOR_PROOF_MISSING',
      `Rekor proof missing: ${path} has no ${needs} (required in a v${version} bundle)`,
    );
  }

  const canonicalizedBody = requiredBytes(e.canonicalizedBody, `${path}.canonicalizedBody`);
  return {
    logIndex,
    logId,
    kindVersion,
    integratedTime,
    inclusionPromise,
    inclusionProof,
    canonicalizedBody,
  };
}

function parseInclusionProof(p: Json, path: string): InclusionProof {
  const logIndex = uint(p.logIndex, `${path}.logIndex`);
  const rootHash = requiredBytes(p.rootHash, `${path}.rootHash`);
  // Rekor's trees (v1 and v2) are RFC 6962 trees of SHA-256: a root of another size matches
  // no checkpoint, and is not carried whole into the mismatch's details.
  if (rootHash.length !== digestSize('sha256'))
    malformed(
      `${path}.rootHash is ${rootHash.length} bytes, a Merkle tree root (SHA-256) is ${digestSize('sha256')}`,
    );
  const treeSize = uint(p.treeSize, `${path}.treeSize`);
  const list = array(p.hashes, `${path}.hashes`, BUNDLE_LIMITS.maxProofHashes);
  const hashes = new Array<Uint8Array>(list.length);
  for (let i = 0; i < list.length; i++) hashes[i] = requiredBytes(list[i], `${path}.hashes[${i}]`);
  if (!isSet(p.checkpoint)) malformed(`${path}.checkpoint missing`);
  const checkpoint = requiredString(
    object(p.checkpoint, `${path}.checkpoint`).envelope,
    `${path}.checkpoint.envelope`,
  );
  return { logIndex, rootHash, treeSize, hashes, checkpoint };
}

function parseContent(doc: Json): BundleContent {
  const ms = optionalObject(doc.messageSignature, 'messageSignature');
  const dsse = optionalObject(doc.dsseEnvelope, 'dsseEnvelope');
  if (ms && dsse) malformed('bundle has both messageSignature and dsseEnvelope');
  if (ms) {
    let messageDigest: MessageDigest | undefined;
    const md = optionalObject(ms.messageDigest, 'messageSignature.messageDigest');
    if (md) {
      const algorithm = requiredString(md.algorithm, 'messageSignature.messageDigest.algorithm');
      if (!HASH_ALGORITHMS.has(algorithm))
        refuse(
          'BUNDLE_UNSUPPORTED',
          `messageSignature.messageDigest.algorithm: unsupported hash algorithm ${quoted(algorithm, 40)}`,
        );
      const digest = requiredBytes(md.digest, 'messageSignature.messageDigest.digest');
      // A digest of another size than its algorithm's can match nothing; refused here, it is
      // not carried into the log binding's mismatch message (a 70,000-character one was).
      const want = digestSize(digestNameOf(algorithm as HashAlgorithm));
      if (digest.length !== want)
        malformed(
          `messageSignature.messageDigest.digest is ${digest.length} bytes, a ${algorithm} digest is ${want}`,
        );
      messageDigest = { algorithm: algorithm as HashAlgorithm, digest };
    }
    const signature = requiredBytes(
      ms.signature,
      'messageSignature.signature',
      'empty signature: messageSignature.signature is missing or empty',
    );
    return { kind: 'messageSignature', messageDigest, signature };
  }
  if (dsse) {
    const payload = requiredBytes(
      dsse.payload,
      'dsseEnvelope.payload',
      'dsseEnvelope.payload is missing or empty',
    );
    const payloadType = requiredString(dsse.payloadType, 'dsseEnvelope.payloadType');
    const list = array(dsse.signatures, 'dsseEnvelope.signatures', BUNDLE_LIMITS.maxDsseSignatures);
    if (list.length === 0) malformed('dsseEnvelope has no signatures');
    const signatures = new Array<DsseSignature>(list.length);
    for (let i = 0; i < list.length; i++) {
      const path = `dsseEnvelope.signatures[${i}]`;
      const s = object(list[i], path);
      signatures[i] = {
        sig: requiredBytes(
          s.sig,
          `${path}.sig`,
          `empty signature: ${path}.sig is missing or empty`,
        ),
        keyid: string(s.keyid, `${path}.keyid`),
      };
    }
    return { kind: 'dsseEnvelope', payload, payloadType, signatures };
  }
  return malformed('bundle has no content (messageSignature or dsseEnvelope)');
}

/** An item of a batch that was refused on its own; the rest of the batch went on. */
export interface RefusedItem {
  /** Where it came from: a path in an archive, an attestation store row, a file. */
  source: string;
  failure: FailureSummary;
  /** The error itself, to re-raise when nothing in the batch could be used. */
  error: unknown;
}

/**
 * Parse several bundles, each on its own (checklist H50: one bad item never stops a batch). A
 * bundle that fails — for any reason, a bug included — is refused and reported with its
 * source; the others are returned in order.
 */
export function parseBundles<T extends { source: string; bytes: Uint8Array | string }>(
  items: T[],
): { parsed: (T & { bundle: Bundle })[]; refused: RefusedItem[] } {
  const parsed: (T & { bundle: Bundle })[] = [];
  const refused: RefusedItem[] = [];
  for (const item of items) {
    try {
      parsed.push({ ...item, bundle: parseBundle(item.bytes) });
    } catch (e) {
      refused.push({ source: item.source, failure: failureOf(e), error: e });
    }
  }
  return { parsed, refused };
}
