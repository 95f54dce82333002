/**
 * Rekor entry bodies (the canonicalizedBody of a tlog entry): strict parsing, binding to the
 * bundle, and building them for the local log.
 *
 * A log entry proves only that SOME body was logged. It is evidence for this bundle only when
 * the body records this bundle's signature, this key or certificate, and this artifact
 * (cosign GHSA-ccxc-vr6p-4858, checklist E32/E33). verifyEntryBinding checks each of these.
 *
 * Shapes (Rekor v1 OpenAPI types; Rekor v2 protobuf JSON, rekor-tiles / protobuf-specs):
 *   hashedrekord 0.0.1  spec.data.hash{algorithm: sha256|sha384|sha512, value: hex}
 *                       spec.signature{content: b64 sig, publicKey.content: b64(PEM cert|key)}
 *   hashedrekord 0.0.2  spec.hashedRekordV002{data{algorithm: SHA2_256.., digest: b64},
 *                       signature{content: b64, verifier{x509Certificate|publicKey{rawBytes}, keyDetails}}}
 *   dsse 0.0.1          spec{envelopeHash, payloadHash: {algorithm, value hex},
 *                       signatures[{signature: b64 sig, verifier: b64(PEM)}]}
 *   dsse 0.0.2          spec.dsseV002{payloadHash{algorithm, digest b64}, signatures[{content, verifier}]}
 *   intoto 0.0.2        spec.content{envelope{payload: b64(b64 payload), payloadType,
 *                       signatures[{sig: b64(b64 sig), publicKey: b64(PEM), keyid?}]}, hash, payloadHash}
 * A DSSE envelope logged to Rekor v2 as hashedrekord 0.0.2 records Hash(PAE(type, payload))
 * and the envelope signature (rekor-v2 spec §6.1.4; conformance case rekor2-dsse-happy-path).
 *
 * Not compared: dsse 0.0.1 envelopeHash and intoto 0.0.2 content.hash. Rekor computes them
 * over the raw envelope bytes the client uploaded (rekor types/dsse/v0.0.1 and
 * intoto/v0.0.2), and clients serialize differently (sigstore-go uses protojson, whose
 * whitespace is deliberately unstable), so they cannot be recomputed from a bundle; neither
 * sigstore-go nor sigstore-js checks them. The signature, key, payload hash (and for intoto
 * the payload and type themselves) are compared instead; the DSSE signature over PAE binds
 * the payload type.
 */
import { digest, sha256 } from '../crypto.js';
import { fail, StellaError } from '../errors.js';
import {
  bytesEqual,
  decodeBase64,
  fromHex,
  toBase64,
  toHex,
  toLatin1,
  utf8,
  utf8Decoder,
} from '../util/encoding.js';
import {
  parseJsonStrict,
  readArray,
  readBase64,
  readObject,
  readOptional,
  readString,
  type JsonReadContext,
} from '../util/json.js';
import { derToPem, pemToDer } from '../util/pem.js';
import { digestNameOf, digestSize, hashAlgorithmOf, isDigestName } from '../util/digest.js';
import { preAuthEncoding } from '../bundle/dsse.js';
import {
  BUNDLE_LIMITS,
  type Bundle,
  type DsseEnvelopeContent,
  type HashAlgorithm,
  type KindVersion,
  type MessageDigest,
  type TransparencyLogEntry,
} from '../bundle/model.js';
import { canonicalize, canonicalizeBytes } from '../util/canonical-json.js';
import { leafHash } from './merkle.js';
import { quoted } from '../util/text.js';

export type EntryVerifier =
  { kind: 'certificate'; der: Uint8Array } | { kind: 'publicKey'; spki: Uint8Array };

export interface BodySignature {
  signature: Uint8Array;
  verifier: EntryVerifier;
  /** Rekor v2 only: the verifier's declared key and signature algorithm (PublicKeyDetails). */
  keyDetails?: string;
}

export interface BodyHash {
  algorithm: HashAlgorithm;
  value: Uint8Array;
}

export type RekorBody =
  | {
      kind: 'hashedrekord';
      apiVersion: '0.0.1' | '0.0.2';
      digest: BodyHash;
      signature: BodySignature;
    }
  | {
      kind: 'dsse';
      apiVersion: '0.0.1' | '0.0.2';
      payloadHash: BodyHash;
      signatures: BodySignature[];
      envelopeHash: BodyHash | undefined;
    }
  | {
      kind: 'intoto';
      apiVersion: '0.0.2';
      payloadType: string;
      payload: Uint8Array | undefined;
      payloadHash: BodyHash | undefined;
      signatures: BodySignature[];
    };

const V2_ALGORITHMS: ReadonlySet<string> = new Set(['SHA2_256', 'SHA2_384', 'SHA2_512']);
const size = (a: HashAlgorithm): number => digestSize(digestNameOf(a));

/**
 * Which Rekor logged an entry of this kind/version: 0.0.2 hashedrekord and dsse are Rekor v2
 * (rekor-tiles) types; every other kind Stella reads (hashedrekord, dsse 0.0.1, intoto 0.0.2)
 * is a Rekor v1 type. The kind/version is bound to the entry: it must equal the body's, and the
 * body is the Merkle leaf.
 */
export function rekorVersionOf(kv: KindVersion): 'v1' | 'v2' {
  return kv.version === '0.0.2' && (kv.kind === 'hashedrekord' || kv.kind === 'dsse') ? 'v2' : 'v1';
}

// ---------------------------------------------------------------------------------------
// Parsing

type Obj = Record<string, unknown>;

function malformed(message: string, options?: { cause?: unknown }): never {
  return fail('BUNDLE_MALFORMED', 'tlog', message, undefined, options);
}

/** Bodies are read by util/json.ts's readers: every field known, every value non-empty. */
const BODY: JsonReadContext = {
  code: 'BUNDLE_MALFORMED',
  check: 'tlog',
  prefix: 'tlog entry body: ',
};

function obj(
  v: unknown,
  where: string,
  required: readonly string[],
  optional: readonly string[] = [],
): Obj {
  return readObject(v, where, BODY, { required, optional });
}

function str(v: unknown, where: string): string {
  return readString(v, where, BODY, { nonEmpty: true });
}

function b64(v: unknown, where: string): Uint8Array {
  return readBase64(v, where, BODY, { nonEmpty: true });
}

function arr(v: unknown, where: string): unknown[] {
  return readArray(v, where, BODY, { max: BUNDLE_LIMITS.maxDsseSignatures, nonEmpty: true });
}

function hashV1(v: unknown, where: string): BodyHash {
  const o = obj(v, where, ['algorithm', 'value']);
  const name = str(o.algorithm, `${where}.algorithm`);
  if (!isDigestName(name))
    malformed(`tlog entry body: ${where}.algorithm ${quoted(o.algorithm)} is not supported`);
  const algorithm = hashAlgorithmOf(name);
  const hex = str(o.value, `${where}.value`);
  // Rekor v1's schema allows upper-case hex here; the bytes are what is compared.
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length !== size(algorithm) * 2)
    malformed(`tlog entry body: ${where}.value is not a ${size(algorithm)}-byte hex digest`);
  return { algorithm, value: fromHex(hex) };
}

function hashV2(v: unknown, where: string): BodyHash {
  const o = obj(v, where, ['algorithm', 'digest']);
  const algorithm = str(o.algorithm, `${where}.algorithm`);
  if (!V2_ALGORITHMS.has(algorithm))
    malformed(`tlog entry body: ${where}.algorithm ${quoted(algorithm)} is not supported`);
  const value = b64(o.digest, `${where}.digest`);
  if (value.length !== size(algorithm as HashAlgorithm))
    malformed(
      `tlog entry body: ${where}.digest is ${value.length} bytes, want ${size(algorithm as HashAlgorithm)}`,
    );
  return { algorithm: algorithm as HashAlgorithm, value };
}

/** One PEM block (CERTIFICATE or PUBLIC KEY), strictly: v1 bodies carry keys as base64(PEM). */
export function parsePemVerifier(pem: Uint8Array, where: string): EntryVerifier {
  let text: string;
  try {
    text = utf8Decoder.decode(pem);
  } catch (e) {
    return malformed(`tlog entry body: ${where} is not UTF-8 PEM`, { cause: e });
  }
  const { label, der } = pemToDer(text, ['CERTIFICATE', 'PUBLIC KEY'], {
    code: 'BUNDLE_MALFORMED',
    check: 'tlog',
    what: `tlog entry body: ${where}`,
  });
  return label === 'CERTIFICATE' ? { kind: 'certificate', der } : { kind: 'publicKey', spki: der };
}

function verifierV2(v: unknown, where: string): { verifier: EntryVerifier; keyDetails: string } {
  const o = obj(v, where, ['keyDetails'], ['x509Certificate', 'publicKey']);
  const keyDetails = str(o.keyDetails, `${where}.keyDetails`);
  if ((o.x509Certificate === undefined) === (o.publicKey === undefined))
    malformed(`tlog entry body: ${where} must have exactly one of x509Certificate and publicKey`);
  if (o.x509Certificate !== undefined) {
    return {
      keyDetails,
      verifier: {
        kind: 'certificate',
        der: b64(
          obj(o.x509Certificate, `${where}.x509Certificate`, ['rawBytes']).rawBytes,
          `${where}.x509Certificate.rawBytes`,
        ),
      },
    };
  }
  return {
    keyDetails,
    verifier: {
      kind: 'publicKey',
      spki: b64(
        obj(o.publicKey, `${where}.publicKey`, ['rawBytes']).rawBytes,
        `${where}.publicKey.rawBytes`,
      ),
    },
  };
}

function signatureV2(v: unknown, where: string): BodySignature {
  const o = obj(v, where, ['content', 'verifier']);
  return {
    signature: b64(o.content, `${where}.content`),
    ...verifierV2(o.verifier, `${where}.verifier`),
  };
}

/** base64 of the base64 text of some bytes (intoto 0.0.2 double-encodes payload and sig). */
function b64b64(v: unknown, where: string): Uint8Array {
  const inner = b64(v, where);
  return b64(toLatin1(inner), `${where} (inner base64)`);
}

/**
 * intoto 0.0.2 stores base64(the envelope's base64 signature text). Rekor accepts any bytes
 * there, so an inner value that is not base64 is a well-formed body that matches no envelope
 * signature: it becomes an empty signature, which checkSignatures refuses as a mismatch.
 */
function intotoSignature(v: unknown, where: string): Uint8Array {
  const inner = toLatin1(b64(v, where));
  try {
    return decodeBase64(inner, where, 'tlog');
  } catch {
    return new Uint8Array(0);
  }
}

/** The body's spec, read by the parser of its kind and API version. */
function parseSpec(kind: string, apiVersion: string, spec: unknown): RekorBody {
  const id = `${kind}/${apiVersion}`;
  switch (id) {
    case 'hashedrekord/0.0.1':
      return hashedRekordV001(spec);
    case 'hashedrekord/0.0.2':
      return hashedRekordV002(spec);
    case 'dsse/0.0.1':
      return dsseV001(spec);
    case 'dsse/0.0.2':
      return dsseV002(spec);
    case 'intoto/0.0.2':
      return intotoV002(spec);
    default:
      return fail(
        'BUNDLE_UNSUPPORTED',
        'tlog',
        `tlog entry body: unsupported kind/apiVersion ${quoted(id)}`,
      );
  }
}

/** The spec of a hashedrekord/0.0.1 body. */
function hashedRekordV001(spec: unknown): RekorBody {
  const s = obj(spec, 'spec', ['data', 'signature']);
  const data = obj(s.data, 'spec.data', ['hash']);
  const sig = obj(s.signature, 'spec.signature', ['content', 'publicKey']);
  const pk = obj(sig.publicKey, 'spec.signature.publicKey', ['content']);
  return {
    kind: 'hashedrekord',
    apiVersion: '0.0.1',
    digest: hashV1(data.hash, 'spec.data.hash'),
    signature: {
      signature: b64(sig.content, 'spec.signature.content'),
      verifier: parsePemVerifier(
        b64(pk.content, 'spec.signature.publicKey.content'),
        'spec.signature.publicKey.content',
      ),
    },
  };
}

/** The spec of a hashedrekord/0.0.2 body. */
function hashedRekordV002(spec: unknown): RekorBody {
  const s = obj(obj(spec, 'spec', ['hashedRekordV002']).hashedRekordV002, 'spec.hashedRekordV002', [
    'data',
    'signature',
  ]);
  return {
    kind: 'hashedrekord',
    apiVersion: '0.0.2',
    digest: hashV2(s.data, 'spec.hashedRekordV002.data'),
    signature: signatureV2(s.signature, 'spec.hashedRekordV002.signature'),
  };
}

/** The spec of a dsse/0.0.1 body. */
function dsseV001(spec: unknown): RekorBody {
  const s = obj(spec, 'spec', ['payloadHash', 'signatures'], ['envelopeHash']);
  return {
    kind: 'dsse',
    apiVersion: '0.0.1',
    envelopeHash:
      s.envelopeHash === undefined ? undefined : hashV1(s.envelopeHash, 'spec.envelopeHash'),
    payloadHash: hashV1(s.payloadHash, 'spec.payloadHash'),
    signatures: arr(s.signatures, 'spec.signatures').map((x, i) => {
      const o = obj(x, `spec.signatures[${i}]`, ['signature', 'verifier']);
      return {
        signature: b64(o.signature, `spec.signatures[${i}].signature`),
        verifier: parsePemVerifier(
          b64(o.verifier, `spec.signatures[${i}].verifier`),
          `spec.signatures[${i}].verifier`,
        ),
      };
    }),
  };
}

/** The spec of a dsse/0.0.2 body. */
function dsseV002(spec: unknown): RekorBody {
  const s = obj(obj(spec, 'spec', ['dsseV002']).dsseV002, 'spec.dsseV002', [
    'payloadHash',
    'signatures',
  ]);
  return {
    kind: 'dsse',
    apiVersion: '0.0.2',
    envelopeHash: undefined,
    payloadHash: hashV2(s.payloadHash, 'spec.dsseV002.payloadHash'),
    signatures: arr(s.signatures, 'spec.dsseV002.signatures').map((x, i) =>
      signatureV2(x, `spec.dsseV002.signatures[${i}]`),
    ),
  };
}

/** The spec of a intoto/0.0.2 body. */
function intotoV002(spec: unknown): RekorBody {
  const c = obj(
    obj(spec, 'spec', ['content']).content,
    'spec.content',
    ['envelope'],
    ['hash', 'payloadHash'],
  );
  const env = obj(c.envelope, 'spec.content.envelope', ['payloadType', 'signatures'], ['payload']);
  if (c.hash !== undefined) hashV1(c.hash, 'spec.content.hash');
  const payloadHash =
    c.payloadHash === undefined ? undefined : hashV1(c.payloadHash, 'spec.content.payloadHash');
  const payload =
    env.payload === undefined ? undefined : b64b64(env.payload, 'spec.content.envelope.payload');
  if (!payload && !payloadHash)
    malformed('tlog entry body: intoto entry has neither payload nor payloadHash');
  return {
    kind: 'intoto',
    apiVersion: '0.0.2',
    payloadType: str(env.payloadType, 'spec.content.envelope.payloadType'),
    payload,
    payloadHash,
    signatures: arr(env.signatures, 'spec.content.envelope.signatures').map((x, i) => {
      const w = `spec.content.envelope.signatures[${i}]`;
      const o = obj(x, w, ['sig', 'publicKey'], ['keyid']);
      readOptional(o.keyid, BODY, (k) => readString(k, `${w}.keyid`, BODY));
      return {
        signature: intotoSignature(o.sig, `${w}.sig`),
        verifier: parsePemVerifier(b64(o.publicKey, `${w}.publicKey`), `${w}.publicKey`),
      };
    }),
  };
}

/**
 * Parse a canonicalized body. Refuses duplicate keys, unknown fields, unknown kinds, and a
 * body that is not in RFC 8785 canonical form (Rekor stores bodies canonicalized, so a
 * non-canonical body was not produced by a log).
 */
export function parseRekorBody(body: Uint8Array): RekorBody {
  const v = parseJsonStrict(body, {
    maxDepth: 16,
    maxBytes: BUNDLE_LIMITS.maxBytes,
    what: 'tlog entry body',
    code: 'BUNDLE_MALFORMED',
    check: 'tlog',
  });
  let canonical: string;
  try {
    canonical = canonicalize(v);
  } catch (e) {
    // Valid JSON text with no canonical form (an escaped lone surrogate, a number past the
    // double range such as 1e400): no log wrote it, so it is a malformed body like any other
    // non-canonical one, not an error in the caller's input.
    throw new StellaError(
      'BUNDLE_MALFORMED',
      'tlog',
      `tlog entry body is not canonical JSON (RFC 8785): ${(e as Error).message}`,
      undefined,
      { cause: e },
    );
  }
  if (canonical !== utf8Decoder.decode(body))
    malformed('tlog entry body is not canonical JSON (RFC 8785)');
  const top = obj(v, 'body', ['apiVersion', 'kind', 'spec']);
  return parseSpec(str(top.kind, 'kind'), str(top.apiVersion, 'apiVersion'), top.spec);
}

// ---------------------------------------------------------------------------------------
// Binding to the bundle

export interface BindingExpectations {
  /** DER of the verified leaf certificate (certificate-based bundles). */
  certificateDer?: Uint8Array;
  /** DER SPKI of the verification key (key-based bundles). */
  publicKeySpki?: Uint8Array;
  /**
   * The real artifact's digest in a given algorithm (message signatures): asked for the
   * algorithm the entry records; undefined when it cannot be had (an artifact known only by a
   * digest of another algorithm).
   */
  artifactDigest?: (algorithm: HashAlgorithm) => Uint8Array | undefined;
}

function mismatch(message: string, details?: Record<string, unknown>): never {
  return fail('TLOG_BODY_MISMATCH', 'tlog', message, details);
}

function checkVerifier(v: EntryVerifier, expect: BindingExpectations, where: string): void {
  if (expect.certificateDer) {
    if (v.kind !== 'certificate')
      mismatch(
        `tlog entry ${where}records a public key, but the bundle is signed with a certificate`,
      );
    if (!bytesEqual(v.der, expect.certificateDer))
      mismatch(`tlog entry ${where}certificate does not match the bundle certificate`);
  } else if (expect.publicKeySpki) {
    if (v.kind !== 'publicKey')
      mismatch(
        `tlog entry ${where}records a certificate, but the bundle is verified with a public key`,
      );
    if (!bytesEqual(v.spki, expect.publicKeySpki))
      mismatch(`tlog entry ${where}public key does not match the verification key`);
  } else {
    fail(
      'INPUT_INVALID',
      'tlog',
      'tlog entry binding needs the verified certificate or public key',
    );
  }
}

function checkSignatures(
  recorded: readonly BodySignature[],
  env: DsseEnvelopeContent,
  expect: BindingExpectations,
): void {
  if (recorded.length !== 1 || env.signatures.length !== 1) {
    mismatch(
      `tlog entry records ${recorded.length} signature(s) and the envelope has ${env.signatures.length}; exactly one each is supported`,
    );
  }
  const sig = recorded[0]!.signature;
  if (sig.length === 0 || !bytesEqual(sig, env.signatures[0]!.sig))
    mismatch('tlog entry signature does not match the bundle signature');
  checkVerifier(recorded[0]!.verifier, expect, '');
}

function checkPayloadHash(h: BodyHash, env: DsseEnvelopeContent): void {
  if (!bytesEqual(h.value, digest(digestNameOf(h.algorithm), env.payload)))
    mismatch('tlog entry payload hash does not match the DSSE payload');
}

/**
 * Check that `entry` records exactly this bundle: kind/version (E33), signature, certificate
 * or key (compared as DER), and the digest of the artifact or DSSE payload. Returns the
 * parsed body. Throws TLOG_BODY_MISMATCH naming the field that differs.
 */
export function verifyEntryBinding(
  entry: TransparencyLogEntry,
  bundle: Bundle,
  expect: BindingExpectations,
): RekorBody {
  const body = parseRekorBody(entry.canonicalizedBody);
  const claimed = `${entry.kindVersion.kind}/${entry.kindVersion.version}`;
  const actual = `${body.kind}/${body.apiVersion}`;
  if (claimed !== actual)
    mismatch(
      `tlog entry kind/version ${quoted(claimed)} does not match its body (${quoted(actual)})`,
    );
  const content = bundle.content;

  if (content.kind === 'messageSignature') {
    if (body.kind !== 'hashedrekord')
      mismatch(`tlog entry kind ${actual} cannot record a message signature`);
    if (!bytesEqual(body.signature.signature, content.signature))
      mismatch('tlog entry signature does not match the bundle signature');
    checkVerifier(body.signature.verifier, expect, '');
    const d = body.digest;
    const label = body.apiVersion === '0.0.1' ? digestNameOf(d.algorithm) : d.algorithm;
    const wants: [MessageDigest, string][] = [];
    if (content.messageDigest) wants.push([content.messageDigest, 'bundle message digest']);
    // The artifact is hashed with the algorithm the bundle (else the entry) declares; an
    // artifact given only as a digest of another algorithm is refused by the signature step.
    const algorithm = content.messageDigest?.algorithm ?? d.algorithm;
    const artifact = expect.artifactDigest?.(algorithm);
    if (artifact) wants.push([{ algorithm, digest: artifact }, 'artifact digest']);
    if (wants.length === 0)
      mismatch(
        'tlog entry digest cannot be checked: no message digest in the bundle and no artifact digest',
      );
    for (const [want, what] of wants) {
      if (want.algorithm !== d.algorithm)
        mismatch(
          `tlog entry digest algorithm ${label} does not match the ${what} algorithm ${want.algorithm}`,
        );
      if (!bytesEqual(want.digest, d.value)) {
        const name = (a: string) =>
          /^SHA2_/.test(a) ? digestNameOf(a as MessageDigest['algorithm']) : a;
        mismatch(
          `tlog entry digest does not match the ${what}: the entry records ${name(d.algorithm)}:${toHex(d.value)}, the ${what === 'artifact digest' ? 'artifact is' : 'bundle has'} ${name(want.algorithm)}:${toHex(want.digest)}${what === 'artifact digest' ? ' (is this the artifact that was signed?)' : ''}`,
          { entry: toHex(d.value), [what]: toHex(want.digest) },
        );
      }
    }
    return body;
  }

  switch (body.kind) {
    case 'dsse':
      checkSignatures(body.signatures, content, expect);
      checkPayloadHash(body.payloadHash, content);
      return body;
    case 'intoto':
      checkSignatures(body.signatures, content, expect);
      if (body.payloadType !== content.payloadType)
        mismatch('tlog entry payload type does not match the DSSE payload type');
      if (body.payload && !bytesEqual(body.payload, content.payload))
        mismatch('tlog entry payload does not match the DSSE payload');
      if (body.payloadHash) checkPayloadHash(body.payloadHash, content);
      return body;
    case 'hashedrekord': {
      // Rekor v2 logs a DSSE envelope as hashedrekord over PAE; Rekor v1 never did.
      if (body.apiVersion !== '0.0.2')
        mismatch(`tlog entry kind ${actual} cannot record a DSSE envelope`);
      checkSignatures([body.signature], content, expect);
      const pae = preAuthEncoding(content.payloadType, content.payload);
      if (!bytesEqual(body.digest.value, digest(digestNameOf(body.digest.algorithm), pae)))
        mismatch('tlog entry digest does not match the DSSE pre-authentication encoding');
      return body;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Building bodies (local log, signing side)

export type VerifierInput = { certificateDer: Uint8Array } | { publicKeySpki: Uint8Array };

/** The PEM a Rekor v1 body carries for a verifier (Rekor re-encodes what it was sent). */
export function verifierPem(v: VerifierInput): string {
  return 'certificateDer' in v
    ? derToPem(v.certificateDer, 'CERTIFICATE')
    : derToPem(v.publicKeySpki, 'PUBLIC KEY');
}

function verifierJsonV2(v: VerifierInput, keyDetails: string): Obj {
  return 'certificateDer' in v
    ? { keyDetails, x509Certificate: { rawBytes: toBase64(v.certificateDer) } }
    : { keyDetails, publicKey: { rawBytes: toBase64(v.publicKeySpki) } };
}

function needKeyDetails(k: string | undefined): string {
  if (!k)
    fail('INPUT_INVALID', 'tlog', 'Rekor v2 bodies need keyDetails (e.g. PKIX_ECDSA_P256_SHA_256)');
  return k;
}

export interface HashedRekordInput {
  version: '0.0.1' | '0.0.2';
  digest: MessageDigest;
  signature: Uint8Array;
  verifier: VerifierInput;
  /** Rekor v2 only: PKIX_ECDSA_P256_SHA_256, PKIX_ED25519, ... */
  keyDetails?: string;
}

/** Canonical hashedrekord body bytes, as a Rekor log would store them. */
export function buildHashedRekordBody(i: HashedRekordInput): Uint8Array {
  if (i.version === '0.0.1') {
    return canonicalizeBytes({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: {
          hash: { algorithm: digestNameOf(i.digest.algorithm), value: toHex(i.digest.digest) },
        },
        signature: {
          content: toBase64(i.signature),
          publicKey: { content: toBase64(utf8.encode(verifierPem(i.verifier))) },
        },
      },
    });
  }
  return canonicalizeBytes({
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: i.digest.algorithm, digest: toBase64(i.digest.digest) },
        signature: {
          content: toBase64(i.signature),
          verifier: verifierJsonV2(i.verifier, needKeyDetails(i.keyDetails)),
        },
      },
    },
  });
}

export interface DsseBodyInput {
  version: '0.0.1' | '0.0.2';
  envelope: Pick<DsseEnvelopeContent, 'payload' | 'payloadType' | 'signatures'>;
  verifier: VerifierInput;
  keyDetails?: string;
}

/**
 * Canonical dsse body bytes. For 0.0.1 the envelopeHash is SHA-256 of the envelope's
 * canonical JSON ({payload, payloadType, signatures[{keyid?, sig}]}), which is what Rekor
 * computes when the envelope is uploaded in that form (as sigstore-js does).
 */
export function buildDsseBody(i: DsseBodyInput): Uint8Array {
  const env = i.envelope;
  if (env.signatures.length !== 1)
    fail('INPUT_INVALID', 'tlog', 'DSSE bodies are built for exactly one signature');
  const sig = env.signatures[0]!;
  if (i.version === '0.0.1') {
    const envelopeJson = {
      payload: toBase64(env.payload),
      payloadType: env.payloadType,
      signatures: [
        sig.keyid ? { keyid: sig.keyid, sig: toBase64(sig.sig) } : { sig: toBase64(sig.sig) },
      ],
    };
    return canonicalizeBytes({
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: {
          algorithm: 'sha256',
          value: toHex(sha256(canonicalizeBytes(envelopeJson))),
        },
        payloadHash: { algorithm: 'sha256', value: toHex(sha256(env.payload)) },
        signatures: [
          {
            signature: toBase64(sig.sig),
            verifier: toBase64(utf8.encode(verifierPem(i.verifier))),
          },
        ],
      },
    });
  }
  return canonicalizeBytes({
    apiVersion: '0.0.2',
    kind: 'dsse',
    spec: {
      dsseV002: {
        payloadHash: { algorithm: 'SHA2_256', digest: toBase64(sha256(env.payload)) },
        signatures: [
          {
            content: toBase64(sig.sig),
            verifier: verifierJsonV2(i.verifier, needKeyDetails(i.keyDetails)),
          },
        ],
      },
    },
  });
}

/**
 * The Rekor v1 API's entry UUID: hex leaf hash of the body, prefixed with the 16-hex-digit
 * tree ID on sharded logs ("entry ID").
 */
export function entryUuid(body: Uint8Array, treeId?: bigint): string {
  const h = toHex(leafHash(body));
  return treeId === undefined ? h : treeId.toString(16).padStart(16, '0') + h;
}
