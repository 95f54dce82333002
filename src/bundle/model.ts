/**
 * The typed model of a Sigstore bundle (v0.1–v0.3), produced only by the strict parser in
 * ./parse.ts and serialized only by ./serialize.ts. Bytes are decoded once; later code never
 * touches raw JSON.
 */
import type { HashAlgorithm } from '../util/digest.js';

export type BundleVersion = '0.1' | '0.2' | '0.3';

export const BUNDLE_MEDIA_TYPES: Readonly<Record<string, BundleVersion>> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json': '0.3',
};

/** The digest names of protobuf-specs; defined with the digest primitive (util/digest.ts), below every layer. */
export type { HashAlgorithm };

export interface MessageDigest {
  algorithm: HashAlgorithm;
  digest: Uint8Array;
}

export interface MessageSignatureContent {
  kind: 'messageSignature';
  messageDigest: MessageDigest | undefined;
  signature: Uint8Array;
}

export interface DsseSignature {
  sig: Uint8Array;
  keyid: string;
}

export interface DsseEnvelopeContent {
  kind: 'dsseEnvelope';
  payload: Uint8Array;
  payloadType: string;
  signatures: DsseSignature[];
}

export type BundleContent = MessageSignatureContent | DsseEnvelopeContent;

export type SigningMaterial =
  /** v0.1/v0.2: leaf first, then intermediates (a bundle must not ship the root). */
  | { kind: 'x509CertificateChain'; certificates: Uint8Array[] }
  /** v0.3: the leaf only. */
  | { kind: 'certificate'; certificate: Uint8Array }
  /** Managed key: a hint naming the key the verifier must supply. */
  | { kind: 'publicKey'; hint: string };

/**
 * What each declared version requires and allows (protobuf-specs sigstore_bundle.proto), so a
 * media type cannot be swapped to dodge a version's requirements (checklist H58): v0.1 and
 * v0.2 carry an x509CertificateChain or a public key, v0.3 a single certificate (never a chain)
 * or a public key; every tlog entry of a v0.1 bundle needs its inclusion promise (SET), of a
 * v0.2 or v0.3 bundle its inclusion proof.
 */
export const BUNDLE_VERSION_RULES: Readonly<
  Record<
    BundleVersion,
    {
      material: readonly SigningMaterial['kind'][];
      materialText: string;
      tlogEntryNeeds: 'inclusionPromise' | 'inclusionProof';
    }
  >
> = {
  '0.1': {
    material: ['x509CertificateChain', 'publicKey'],
    materialText: 'an x509CertificateChain or a publicKey',
    tlogEntryNeeds: 'inclusionPromise',
  },
  '0.2': {
    material: ['x509CertificateChain', 'publicKey'],
    materialText: 'an x509CertificateChain or a publicKey',
    tlogEntryNeeds: 'inclusionProof',
  },
  '0.3': {
    material: ['certificate', 'publicKey'],
    materialText: 'a single certificate or a publicKey',
    tlogEntryNeeds: 'inclusionProof',
  },
};

export interface KindVersion {
  kind: string;
  version: string;
}

export interface InclusionProof {
  logIndex: number;
  rootHash: Uint8Array;
  treeSize: number;
  hashes: Uint8Array[];
  /** The signed note text (checkpoint envelope), exactly as in the bundle. */
  checkpoint: string;
}

export interface TransparencyLogEntry {
  logIndex: number;
  logId: Uint8Array;
  kindVersion: KindVersion;
  /** Seconds since the epoch; 0 when absent (Rekor v2 entries carry no integrated time). */
  integratedTime: number;
  inclusionPromise: { signedEntryTimestamp: Uint8Array } | undefined;
  inclusionProof: InclusionProof | undefined;
  canonicalizedBody: Uint8Array;
}

export interface VerificationMaterial {
  content: SigningMaterial;
  tlogEntries: TransparencyLogEntry[];
  rfc3161Timestamps: Uint8Array[];
}

export interface Bundle {
  mediaType: string;
  version: BundleVersion;
  verificationMaterial: VerificationMaterial;
  content: BundleContent;
}

/** The signing certificate (DER) of a certificate bundle, whichever form it ships in; none for a managed key. */
export function leafCertificateDer(m: SigningMaterial): Uint8Array | undefined {
  return m.kind === 'certificate'
    ? m.certificate
    : m.kind === 'x509CertificateChain'
      ? m.certificates[0]
      : undefined;
}

/** Limits applied by the parser (adversarial checklist B17). */
export const BUNDLE_LIMITS = {
  maxBytes: 16 * 1024 * 1024,
  maxTlogEntries: 32,
  maxTimestamps: 32,
  maxCertificates: 10,
  maxProofHashes: 64,
  maxDsseSignatures: 16,
  maxJsonDepth: 32,
} as const;
