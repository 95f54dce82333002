/**
 * Bundle -> protobuf-specs JSON, written the way sigstore-js writes it: camelCase, fields in
 * .proto order, int64 as decimal strings, bytes as padded base64, default values (0, "", empty
 * bytes, empty lists) omitted. parseBundle(serializeBundle(b)) deep-equals b.
 */
import { toBase64 } from '../util/encoding.js';
import type { Bundle, InclusionProof, SigningMaterial, TransparencyLogEntry } from './model.js';

/** The media type new bundles are written with. */
export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

type Json = Record<string, unknown>;

export interface SerializeOptions {
  /** JSON.stringify indentation; default none (compact). */
  indent?: number;
}

export function serializeBundle(b: Bundle, opts: SerializeOptions = {}): string {
  return JSON.stringify(bundleToJson(b), null, opts.indent);
}

/** The JSON object form (what JSON.parse of serializeBundle's output gives). */
export function bundleToJson(b: Bundle): Json {
  const vm: Json = {};
  signingMaterialToJson(b.verificationMaterial.content, vm);
  if (b.verificationMaterial.tlogEntries.length > 0)
    vm.tlogEntries = b.verificationMaterial.tlogEntries.map(tlogEntryToJson);
  if (b.verificationMaterial.rfc3161Timestamps.length > 0) {
    vm.timestampVerificationData = {
      rfc3161Timestamps: b.verificationMaterial.rfc3161Timestamps.map((t) => ({
        signedTimestamp: toBase64(t),
      })),
    };
  }

  const out: Json = { mediaType: b.mediaType, verificationMaterial: vm };
  const c = b.content;
  if (c.kind === 'messageSignature') {
    const ms: Json = {};
    if (c.messageDigest)
      ms.messageDigest = {
        algorithm: c.messageDigest.algorithm,
        digest: toBase64(c.messageDigest.digest),
      };
    ms.signature = toBase64(c.signature);
    out.messageSignature = ms;
  } else {
    out.dsseEnvelope = {
      payload: toBase64(c.payload),
      payloadType: c.payloadType,
      signatures: c.signatures.map((s) =>
        s.keyid === '' ? { sig: toBase64(s.sig) } : { sig: toBase64(s.sig), keyid: s.keyid },
      ),
    };
  }
  return out;
}

function signingMaterialToJson(m: SigningMaterial, vm: Json): void {
  switch (m.kind) {
    case 'publicKey':
      vm.publicKey = m.hint === '' ? {} : { hint: m.hint };
      break;
    case 'x509CertificateChain':
      vm.x509CertificateChain = {
        certificates: m.certificates.map((c) => ({ rawBytes: toBase64(c) })),
      };
      break;
    case 'certificate':
      vm.certificate = { rawBytes: toBase64(m.certificate) };
      break;
  }
}

function tlogEntryToJson(e: TransparencyLogEntry): Json {
  const out: Json = {};
  if (e.logIndex !== 0) out.logIndex = String(e.logIndex);
  out.logId = { keyId: toBase64(e.logId) };
  out.kindVersion = { kind: e.kindVersion.kind, version: e.kindVersion.version };
  if (e.integratedTime !== 0) out.integratedTime = String(e.integratedTime);
  if (e.inclusionPromise)
    out.inclusionPromise = {
      signedEntryTimestamp: toBase64(e.inclusionPromise.signedEntryTimestamp),
    };
  if (e.inclusionProof) out.inclusionProof = inclusionProofToJson(e.inclusionProof);
  out.canonicalizedBody = toBase64(e.canonicalizedBody);
  return out;
}

function inclusionProofToJson(p: InclusionProof): Json {
  const out: Json = {};
  if (p.logIndex !== 0) out.logIndex = String(p.logIndex);
  out.rootHash = toBase64(p.rootHash);
  if (p.treeSize !== 0) out.treeSize = String(p.treeSize);
  if (p.hashes.length > 0) out.hashes = p.hashes.map(toBase64);
  out.checkpoint = { envelope: p.checkpoint };
  return out;
}
