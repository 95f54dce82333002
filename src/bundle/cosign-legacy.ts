/**
 * cosign's formats from before Sigstore bundles, read as a Sigstore bundle v0.1:
 *
 *   - the Rekor bundle cosign keeps beside a signature (`{"SignedEntryTimestamp", "Payload":
 *     {"body", "integratedTime", "logIndex", "logID"}}`): one tlog entry with its inclusion
 *     promise and no inclusion proof. A registry's `.att` layers carry it as an annotation
 *     (src/oci/cosign-legacy.ts);
 *   - the file `cosign sign-blob --bundle FILE` writes without `--new-bundle-format`
 *     (cosign's LocalSignedPayload: `{"base64Signature", "cert", "rekorBundle"}`), where
 *     `cert` is base64 of PEM: the certificate (leaf first), or for `--key` the public key;
 *     `cosign attest-blob --bundle FILE` writes the same file with the DSSE envelope's JSON in
 *     base64Signature.
 *
 * The conversion makes no claim of its own: every field lands where the verifier checks it
 * (signature, certificate, entry body, SET), so what the bundle says is verified exactly as if
 * cosign had written a v0.1 bundle. Only the leaf certificate is kept: the verifier builds the
 * chain from its own trust.
 */
import { fail, StellaError, type CheckName, type ErrorCode } from '../errors.js';
import { decodeBase64, fromHex, toBase64, toLatin1, utf8, utf8Decoder } from '../util/encoding.js';
import { isPlainObject, parseJsonStrict } from '../util/json.js';
import { pemBlocks, pemToDerList } from '../util/pem.js';
import { BUNDLE_LIMITS, type Bundle } from './model.js';
import { parseBundle } from './parse.js';

/** How a reader's refusals are coded: a registry's answer and a bundle file differ. */
export interface LegacyErrors {
  code: ErrorCode;
  limitCode: ErrorCode;
  check: CheckName;
}

const BUNDLE_ERRORS: LegacyErrors = {
  code: 'BUNDLE_MALFORMED',
  limitCode: 'BUNDLE_LIMIT_EXCEEDED',
  check: 'bundle',
};

export const BUNDLE_V01_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.1';

/** cosign's Rekor bundle: the SET, the entry's coordinates, and its body's kind. */
export interface CosignRekorBundle {
  signedEntryTimestamp: string;
  body: string;
  logID: string;
  integratedTime: number;
  logIndex: number;
  kind: string;
  apiVersion: string;
  /**
   * The SHA-256 a hashedrekord entry records for the artifact, when it records one: cosign's
   * legacy file names no digest beside its signature, and an export must know which artifact
   * a bundle is for. Taken as a claim only: the verifier holds the artifact to it, the
   * signature to the artifact, and the entry to the log.
   */
  artifactSha256: Uint8Array | undefined;
}

/** Read a cosign Rekor bundle (already parsed JSON, or its text). */
export function readCosignRekorBundle(
  value: unknown,
  what: string,
  errors: LegacyErrors,
): CosignRekorBundle {
  const rekor =
    typeof value === 'string'
      ? parseJsonStrict(value, { what, maxBytes: 1024 * 1024, maxDepth: 8, ...errors })
      : value;
  const bad = (message: string): never => fail(errors.code, errors.check, message);
  if (
    !isPlainObject(rekor) ||
    typeof rekor.SignedEntryTimestamp !== 'string' ||
    !isPlainObject(rekor.Payload)
  )
    bad(`${what} is not a cosign Rekor bundle`);
  const p = (rekor as { Payload: Record<string, unknown> }).Payload;
  if (
    typeof p.body !== 'string' ||
    typeof p.logID !== 'string' ||
    !/^[0-9a-f]{64}$/.test(p.logID) ||
    !Number.isSafeInteger(p.integratedTime) ||
    !Number.isSafeInteger(p.logIndex)
  ) {
    bad(`${what} lacks body, integratedTime, logIndex or logID`);
  }
  // The one strict reading of both layers (the bundle's parser reads the body again, as the
  // verifier does: what is read here only names the entry's kind and the digest it records).
  const bodyWhat = `${what}: the Rekor entry body`;
  const body = parseJsonStrict(decodeBase64(p.body, bodyWhat, errors.check, errors.code), {
    what: bodyWhat,
    maxBytes: 1024 * 1024,
    maxDepth: 16,
    ...errors,
  });
  if (!isPlainObject(body) || typeof body.kind !== 'string' || typeof body.apiVersion !== 'string')
    bad(`${what}: the Rekor entry body has no kind and apiVersion`);
  const entry = body as {
    kind: string;
    apiVersion: string;
    spec?: { data?: { hash?: { algorithm?: unknown; value?: unknown } } };
  };
  const hash = entry.spec?.data?.hash;
  const artifactSha256 =
    entry.kind === 'hashedrekord' &&
    hash?.algorithm === 'sha256' &&
    typeof hash.value === 'string' &&
    /^[0-9a-f]{64}$/.test(hash.value)
      ? fromHex(hash.value)
      : undefined;
  return {
    signedEntryTimestamp: (rekor as { SignedEntryTimestamp: string }).SignedEntryTimestamp,
    body: p.body as string,
    logID: p.logID as string,
    integratedTime: p.integratedTime as number,
    logIndex: p.logIndex as number,
    kind: entry.kind,
    apiVersion: entry.apiVersion,
    artifactSha256,
  };
}

/** The tlog entry of a bundle v0.1 made from a cosign Rekor bundle (inclusion promise, no proof). */
export function tlogEntryOfRekorBundle(rekor: CosignRekorBundle): Record<string, unknown> {
  return {
    logIndex: String(rekor.logIndex),
    logId: { keyId: toBase64(fromHex(rekor.logID)) },
    kindVersion: { kind: rekor.kind, version: rekor.apiVersion },
    integratedTime: String(rekor.integratedTime),
    inclusionPromise: { signedEntryTimestamp: rekor.signedEntryTimestamp },
    canonicalizedBody: rekor.body,
  };
}

/**
 * Whether parsed JSON is cosign's legacy blob bundle: `base64Signature`, no `mediaType` (a
 * Sigstore bundle always has one). Only the shape is judged here.
 */
export function isCosignBlobBundle(json: unknown): boolean {
  return isPlainObject(json) && !('mediaType' in json) && 'base64Signature' in json;
}

/** A file's bytes as parsed JSON when they are cosign's legacy blob bundle; undefined otherwise. */
function legacyJson(bytes: Uint8Array): unknown {
  let json: unknown;
  try {
    json = parseJsonStrict(bytes, {
      what: 'bundle',
      maxBytes: BUNDLE_LIMITS.maxBytes,
      maxDepth: 16,
      ...BUNDLE_ERRORS,
    });
  } catch {
    return undefined;
  }
  return isCosignBlobBundle(json) ? json : undefined;
}

/**
 * A `cosign sign-blob --bundle` file (legacy format) as a Sigstore bundle v0.1, as JSON bytes
 * for the one bundle parser. `json` is the file as parsed; `what` names it in messages.
 */
export function bundleFromCosignBlobBundle(json: unknown, what: string): Uint8Array {
  const e = BUNDLE_ERRORS;
  const bad = (message: string): never => fail(e.code, e.check, message);
  const doc = isPlainObject(json) ? json : bad(`${what} is not a JSON object`);
  const known = new Set(['base64Signature', 'cert', 'rekorBundle']);
  const unknown = Object.keys(doc).filter((k) => !known.has(k));
  if (unknown.length > 0)
    bad(`${what}: cosign's legacy bundle has no field ${JSON.stringify(unknown[0]!.slice(0, 60))}`);
  const signature = decodeBase64(doc.base64Signature, `${what}: base64Signature`, e.check, e.code);
  if (signature.length === 0) bad(`${what}: base64Signature is empty`);
  const envelope = dsseEnvelopeOf(signature, what);
  if (typeof doc.cert !== 'string' || doc.cert === '')
    bad(
      `${what}: cosign's legacy bundle has no "cert": it names neither a certificate nor a key to verify against`,
    );
  // base64 of PEM (sign-blob), or of a DER certificate (older `cosign sign --output-file`).
  const certField = decodeBase64(doc.cert, `${what}: cert`, e.check, e.code);
  let material: Record<string, unknown>;
  if (toLatin1(certField.subarray(0, 80)).trimStart().startsWith('-----BEGIN ')) {
    let text: string;
    try {
      text = utf8Decoder.decode(certField);
    } catch (cause) {
      return fail(
        e.code,
        e.check,
        `${what}: cert is PEM with bytes that are not UTF-8`,
        undefined,
        {
          cause,
        },
      );
    }
    const head = pemBlocks(text).next();
    const first = head.done === true ? undefined : head.value.begin;
    const ctx = { code: e.code, check: e.check, what: `${what}: cert` };
    material =
      first === 'PUBLIC KEY'
        ? { publicKey: {} }
        : {
            x509CertificateChain: {
              certificates: [{ rawBytes: toBase64(pemToDerList(text, 'CERTIFICATE', ctx)[0]!) }],
            },
          };
  } else {
    // DER: the bundle parser reads it as a certificate, and refuses it if it is none.
    material = { x509CertificateChain: { certificates: [{ rawBytes: toBase64(certField) }] } };
  }
  const rekor =
    doc.rekorBundle === undefined || doc.rekorBundle === null
      ? undefined
      : readCosignRekorBundle(doc.rekorBundle, `${what}: rekorBundle`, e);
  const digest = rekor?.artifactSha256;
  const bundle = {
    mediaType: BUNDLE_V01_MEDIA_TYPE,
    verificationMaterial: {
      ...material,
      tlogEntries: rekor ? [tlogEntryOfRekorBundle(rekor)] : [],
    },
    ...(envelope
      ? { dsseEnvelope: envelope }
      : {
          messageSignature: {
            // The digest the log entry records, as cosign's new format writes it beside the signature.
            ...(digest
              ? { messageDigest: { algorithm: 'SHA2_256', digest: toBase64(digest) } }
              : {}),
            signature: toBase64(signature),
          },
        }),
  };
  // The bundle parser it goes to holds it to the bundle size limit.
  return utf8.encode(JSON.stringify(bundle));
}

/**
 * `cosign attest-blob --bundle` writes the same file, with the DSSE envelope where sign-blob
 * writes the signature: base64Signature is base64 of the envelope's JSON (Go's encoding of it:
 * payload, payloadType, signatures with sig and, when set, keyid). A signature is DER (ECDSA,
 * RSA) or 64 raw bytes (Ed25519), never a JSON object, so bytes that are one are read as the
 * envelope; the bundle parser then checks its fields as it checks any bundle's.
 */
function dsseEnvelopeOf(signature: Uint8Array, what: string): Record<string, unknown> | undefined {
  if (signature[0] !== 0x7b) return undefined;
  let json: unknown;
  try {
    json = parseJsonStrict(signature, {
      what: `${what}: base64Signature`,
      maxBytes: BUNDLE_LIMITS.maxBytes,
      maxDepth: 8,
      ...BUNDLE_ERRORS,
    });
  } catch {
    return undefined;
  }
  if (!isPlainObject(json)) return undefined;
  const unknown = Object.keys(json).filter(
    (k) => k !== 'payload' && k !== 'payloadType' && k !== 'signatures',
  );
  if (unknown.length > 0)
    fail(
      BUNDLE_ERRORS.code,
      BUNDLE_ERRORS.check,
      `${what}: base64Signature holds a JSON object, read as the DSSE envelope cosign attest-blob writes there, which has no field ${JSON.stringify(unknown[0]!.slice(0, 60))}`,
    );
  return json;
}

/**
 * A bundle file that the one parser refused, read as cosign's legacy format when it has that
 * shape (as a bundle v0.1; `note` says so); undefined when it is not that format, so the
 * caller's refusal stands.
 */
export function cosignLegacyBundle(
  bytes: Uint8Array,
  what: string,
): { bundle: Bundle; bytes: Uint8Array; note: string } | undefined {
  const json = legacyJson(bytes);
  if (json === undefined) return undefined;
  const converted = bundleFromCosignBlobBundle(json, what);
  return {
    bundle: parseBundle(converted),
    bytes: converted,
    note: `${what} is cosign's legacy bundle format (cosign sign-blob or attest-blob --bundle without --new-bundle-format): read as a Sigstore bundle v0.1, with its signed entry timestamp and no inclusion proof`,
  };
}

/**
 * The one rule for when a file is read as cosign's legacy format: the bundle parser refused
 * `bytes` as malformed (`refusal`), and they have the legacy shape. Returns the file read so;
 * otherwise throws `refusal`, which stands.
 */
export function cosignLegacyBundleOr(
  refusal: unknown,
  bytes: Uint8Array,
  what: string,
): { bundle: Bundle; bytes: Uint8Array; note: string } {
  if (!(refusal instanceof StellaError && refusal.code === 'BUNDLE_MALFORMED')) throw refusal;
  const legacy = cosignLegacyBundle(bytes, what);
  if (legacy === undefined) throw refusal;
  return legacy;
}
