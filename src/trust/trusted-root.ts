/**
 * trusted_root.json (protobuf-specs TrustedRoot, v0.1 and v0.2) <-> TrustMaterial. Parsing is
 * strict: every key is decoded and parsed into a KeyObject once, here; every validity window
 * must have a start (checklist D31: a missing start is an invalid root, never "unbounded").
 */
import { createPublicKey } from 'node:crypto';
import { StellaError } from '../errors.js';
import { toBase64 } from '../util/encoding.js';
import {
  isAbsent,
  parseJsonStrict,
  readArray,
  readBase64,
  readObject,
  readOptional,
  readString,
  type JsonReadContext,
} from '../util/json.js';
import {
  formatTimeCompact,
  parseRfc3339,
  windowEndMs,
  windowStartMs,
  type PreciseTime,
} from '../util/time.js';
import type {
  CertificateAuthority,
  DistinguishedNameInfo,
  TransparencyLogInstance,
  TrustedPublicKey,
  TrustMaterial,
  ValidityWindow,
} from '../model/trust-material.js';
import { quoted } from '../util/text.js';
import { misplacedDocumentNote } from '../model/media-types.js';

export const TRUSTED_ROOT_MEDIA_TYPE_V01 =
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
export const TRUSTED_ROOT_MEDIA_TYPE_V02 = 'application/vnd.dev.sigstore.trustedroot.v0.2+json';
/** protobuf-specs lets clients accept this spelling too. */
export const TRUSTED_ROOT_MEDIA_TYPE_V01_NEW = 'application/vnd.dev.sigstore.trustedroot.v0.1+json';

export const TRUSTED_ROOT_MEDIA_TYPES: ReadonlySet<string> = new Set([
  TRUSTED_ROOT_MEDIA_TYPE_V01,
  TRUSTED_ROOT_MEDIA_TYPE_V01_NEW,
  TRUSTED_ROOT_MEDIA_TYPE_V02,
]);

export const TRUSTED_ROOT_LIMITS = {
  maxBytes: 4 * 1024 * 1024,
  maxJsonDepth: 32,
  maxEntries: 256,
  maxChainLength: 10,
} as const;

type Json = Record<string, unknown>;

function invalid(message: string, options?: { cause?: unknown }): never {
  throw new StellaError(
    'TRUSTED_ROOT_INVALID',
    'trusted-root',
    `invalid trusted root: ${message}`,
    undefined,
    options,
  );
}

/** The protobuf JSON mapping, read by util/json.ts's readers: null means absent. */
const R: JsonReadContext = {
  code: 'TRUSTED_ROOT_INVALID',
  check: 'trusted-root',
  prefix: 'invalid trusted root: ',
  nullIsAbsent: true,
};

function isSet(v: unknown): boolean {
  return !isAbsent(v, R);
}

function object(v: unknown, path: string): Json {
  return readObject(v, path, R);
}

/** A repeated field: absent is empty. */
function array(v: unknown, path: string, max: number): unknown[] {
  return readOptional(v, R, (a) => readArray(a, path, R, { max })) ?? [];
}

function string(v: unknown, path: string, required: boolean): string {
  return required
    ? readString(v, path, R, { nonEmpty: true })
    : (readOptional(v, R, (x) => readString(x, path, R)) ?? '');
}

function bytes(v: unknown, path: string): Uint8Array {
  return readBase64(v, path, R, { nonEmpty: true });
}

const TIME_CONTEXT = { code: 'TRUSTED_ROOT_INVALID', check: 'trusted-root' } as const;

/** A protobuf Timestamp in its JSON form, by the one strict RFC 3339 parser. */
function timestamp(v: unknown, path: string): PreciseTime {
  try {
    return parseRfc3339(v, path, TIME_CONTEXT);
  } catch (e) {
    // The shared parser names the field; this module's errors all start "invalid trusted root".
    if (e instanceof StellaError) throw e.reworded(`invalid trusted root: ${e.message}`);
    throw e;
  }
}

function validity(v: unknown, path: string): ValidityWindow {
  const w = object(v, path);
  if (!isSet(w.start)) invalid(`${path}.start missing`);
  // Windows are kept in whole milliseconds, narrowed inward when a bound has more digits:
  // a start rounds up and an end rounds down, never in the signer's favour.
  const start = windowStartMs(timestamp(w.start, `${path}.start`));
  const end = isSet(w.end) ? windowEndMs(timestamp(w.end, `${path}.end`)) : undefined;
  if (end !== undefined && end < start) invalid(`${path}: end is before start`);
  return { start, end };
}

function publicKey(v: unknown, path: string): TrustedPublicKey {
  const pk = object(v, path);
  const rawBytes = bytes(pk.rawBytes, `${path}.rawBytes`);
  const keyDetails = string(pk.keyDetails, `${path}.keyDetails`, true);
  const validFor = validity(pk.validFor, `${path}.validFor`);
  let key;
  try {
    // PKCS1_* key details (old staging CT log) carry a bare PKCS#1 RSAPublicKey, not an SPKI.
    const type = keyDetails.startsWith('PKCS1_') ? 'pkcs1' : 'spki';
    key = createPublicKey({
      key: Buffer.from(rawBytes.buffer, rawBytes.byteOffset, rawBytes.byteLength),
      format: 'der',
      type,
    });
  } catch (e) {
    return invalid(
      `${path}.rawBytes: not a valid ${keyDetails.startsWith('PKCS1_') ? 'PKCS#1 RSA public key' : 'SubjectPublicKeyInfo'}`,
      { cause: e },
    );
  }
  return { rawBytes, keyDetails, key, validFor };
}

function logInstance(v: unknown, path: string): TransparencyLogInstance {
  const t = object(v, path);
  const baseUrl = string(t.baseUrl, `${path}.baseUrl`, true);
  const hashAlgorithm = string(t.hashAlgorithm, `${path}.hashAlgorithm`, true);
  const pk = publicKey(t.publicKey, `${path}.publicKey`);
  const logId = bytes(object(t.logId, `${path}.logId`).keyId, `${path}.logId.keyId`);
  const checkpointKeyId = isSet(t.checkpointKeyId)
    ? bytes(
        object(t.checkpointKeyId, `${path}.checkpointKeyId`).keyId,
        `${path}.checkpointKeyId.keyId`,
      )
    : undefined;
  return { baseUrl, hashAlgorithm, publicKey: pk, logId, checkpointKeyId };
}

function authority(v: unknown, path: string): CertificateAuthority {
  const a = object(v, path);
  const subject: DistinguishedNameInfo = {};
  if (isSet(a.subject)) {
    const s = object(a.subject, `${path}.subject`);
    const organization = string(s.organization, `${path}.subject.organization`, false);
    const commonName = string(s.commonName, `${path}.subject.commonName`, false);
    if (organization !== '') subject.organization = organization;
    if (commonName !== '') subject.commonName = commonName;
  }
  const uri = string(a.uri, `${path}.uri`, false);
  const certs = array(
    object(a.certChain, `${path}.certChain`).certificates,
    `${path}.certChain.certificates`,
    TRUSTED_ROOT_LIMITS.maxChainLength,
  );
  if (certs.length === 0) invalid(`${path}.certChain has no certificates`);
  const certChain = new Array<Uint8Array>(certs.length);
  for (let i = 0; i < certs.length; i++) {
    const p = `${path}.certChain.certificates[${i}]`;
    certChain[i] = bytes(object(certs[i], p).rawBytes, `${p}.rawBytes`);
  }
  const validFor = validity(a.validFor, `${path}.validFor`);
  return { subject, uri, certChain, validFor };
}

function list<T>(v: unknown, path: string, each: (x: unknown, p: string) => T): T[] {
  const a = array(v, path, TRUSTED_ROOT_LIMITS.maxEntries);
  const out = new Array<T>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = each(a[i], `${path}[${i}]`);
  return out;
}

export function parseTrustedRoot(input: Uint8Array | string): TrustMaterial {
  const doc = parseJsonStrict(input, {
    maxDepth: TRUSTED_ROOT_LIMITS.maxJsonDepth,
    maxBytes: TRUSTED_ROOT_LIMITS.maxBytes,
    what: 'trusted root',
    code: 'TRUSTED_ROOT_INVALID',
    limitCode: 'TRUSTED_ROOT_INVALID',
    check: 'trusted-root',
  });
  const root = object(doc, 'trusted root');
  const mediaType = string(root.mediaType, 'mediaType', true);
  if (!TRUSTED_ROOT_MEDIA_TYPES.has(mediaType))
    invalid(
      `unsupported trusted root media type ${quoted(mediaType, 100)}${misplacedDocumentNote(mediaType, 'trusted root')}`,
    );
  return {
    mediaType,
    certificateAuthorities: list(root.certificateAuthorities, 'certificateAuthorities', authority),
    tlogs: list(root.tlogs, 'tlogs', logInstance),
    ctlogs: list(root.ctlogs, 'ctlogs', logInstance),
    timestampAuthorities: list(root.timestampAuthorities, 'timestampAuthorities', authority),
  };
}

function windowToJson(w: ValidityWindow): Json {
  return w.end === undefined
    ? { start: formatTimeCompact(w.start) }
    : { start: formatTimeCompact(w.start), end: formatTimeCompact(w.end) };
}

function logToJson(t: TransparencyLogInstance): Json {
  const out: Json = {
    baseUrl: t.baseUrl,
    hashAlgorithm: t.hashAlgorithm,
    publicKey: {
      rawBytes: toBase64(t.publicKey.rawBytes),
      keyDetails: t.publicKey.keyDetails,
      validFor: windowToJson(t.publicKey.validFor),
    },
    logId: { keyId: toBase64(t.logId) },
  };
  if (t.checkpointKeyId !== undefined) out.checkpointKeyId = { keyId: toBase64(t.checkpointKeyId) };
  return out;
}

function authorityToJson(a: CertificateAuthority): Json {
  const subject: Json = {};
  if (a.subject.organization !== undefined) subject.organization = a.subject.organization;
  if (a.subject.commonName !== undefined) subject.commonName = a.subject.commonName;
  const out: Json = { subject };
  if (a.uri !== '') out.uri = a.uri;
  out.certChain = { certificates: a.certChain.map((c) => ({ rawBytes: toBase64(c) })) };
  out.validFor = windowToJson(a.validFor);
  return out;
}

/**
 * TrustMaterial -> trusted_root.json (protobuf-specs field order, 2-space indent). Written as
 * v0.2 unless another supported media type is asked for.
 */
export function serializeTrustedRoot(
  tm: TrustMaterial,
  mediaType: string = TRUSTED_ROOT_MEDIA_TYPE_V02,
): string {
  if (!TRUSTED_ROOT_MEDIA_TYPES.has(mediaType))
    invalid(`unsupported trusted root media type ${quoted(mediaType)}`);
  const doc = {
    mediaType,
    tlogs: tm.tlogs.map(logToJson),
    certificateAuthorities: tm.certificateAuthorities.map(authorityToJson),
    ctlogs: tm.ctlogs.map(logToJson),
    timestampAuthorities: tm.timestampAuthorities.map(authorityToJson),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
