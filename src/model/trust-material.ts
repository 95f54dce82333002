/**
 * One trust interface, several sources: TrustMaterial comes from a trusted_root.json file
 * (trust/trusted-root.ts) or from the SQLite trust store (trust/store/); the verifier cannot
 * tell which. Times are milliseconds since the epoch; a window's end is inclusive.
 *
 * A plain model at the bottom of the layers (it imports nothing above util/): x509, tlog and
 * timestamp read it, and the trust store and rotation, which sit above them, build it.
 */
import type { KeyObject } from 'node:crypto';
import { timeInWindow, type TimeValue } from '../util/time.js';

export interface ValidityWindow {
  /** Inclusive start, ms since epoch. */
  start: number;
  /** Inclusive end, ms since epoch; undefined = open. */
  end: number | undefined;
}

/** PKIX_ECDSA_P256_SHA_256, PKIX_ED25519, PKIX_RSA_PKCS1V15_2048_SHA256, ... as in protobuf-specs. */
export type KeyDetails = string;

export interface TrustedPublicKey {
  /** DER SubjectPublicKeyInfo (a bare PKCS#1 RSA key when keyDetails says PKCS1_*). */
  rawBytes: Uint8Array;
  keyDetails: KeyDetails;
  /** Parsed once, at load time. */
  key: KeyObject;
  validFor: ValidityWindow;
}

export interface TransparencyLogInstance {
  baseUrl: string;
  hashAlgorithm: string;
  publicKey: TrustedPublicKey;
  /** logId.keyId from the trust root (SHA-256 of the SPKI for Rekor v1 and CT logs). */
  logId: Uint8Array;
  /** Rekor v2 / signed-note key id when the trust root gives one (checkpointKeyId). */
  checkpointKeyId: Uint8Array | undefined;
}

export interface DistinguishedNameInfo {
  organization?: string;
  commonName?: string;
}

export interface CertificateAuthority {
  subject: DistinguishedNameInfo;
  uri: string;
  /** DER certificates as in trusted_root.json: issuing (intermediate) first, root last. */
  certChain: Uint8Array[];
  validFor: ValidityWindow;
}

export interface TrustMaterial {
  mediaType: string;
  certificateAuthorities: CertificateAuthority[];
  tlogs: TransparencyLogInstance[];
  ctlogs: TransparencyLogInstance[];
  timestampAuthorities: CertificateAuthority[];
}

/** Is `t` inside the window, both ends inclusive, at `t`'s full precision? */
export function windowContains(w: ValidityWindow, t: TimeValue): boolean {
  return timeInWindow(t, w.start, w.end);
}
