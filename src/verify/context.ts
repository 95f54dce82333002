/** What the verification steps share: inputs, and what earlier steps established. */
import type { KeyObject } from 'node:crypto';
import type { Bundle, HashAlgorithm } from '../bundle/model.js';
import type {
  TrustMaterial,
  CertificateAuthority,
  TransparencyLogInstance,
} from '../model/trust-material.js';
import type { Certificate } from '../x509/certificate.js';
import type { VerifiedSct } from '../x509/sct.js';
import type { EcPublicKey } from '../crypto.js';
import type { PreciseTime } from '../util/time.js';
import type { Artifact } from './artifact.js';
import type { VerificationPolicy } from './policy.js';
import { fail, type CheckName } from '../errors.js';

export interface VerifiedTime {
  source: 'tlog-set' | 'rfc3161';
  /** ms since epoch, rounded down (see subMs) */
  time: number;
  /**
   * Digits below the millisecond an RFC 3161 genTime carried ('' or absent: none). Window
   * checks take the time at full precision (preciseTime), never rounded in the signer's favour.
   */
  subMs?: string;
  /** Log base URL or TSA URI that vouched for the time. */
  authority: string;
}

export type SigningKey =
  | { kind: 'certificate'; leaf: Certificate; intermediates: Certificate[]; key: KeyObject }
  | { kind: 'publicKey'; key: KeyObject; spki: Uint8Array };

export type CertificateKey = Extract<SigningKey, { kind: 'certificate' }>;

/**
 * The certificate a certificate-only step (chain, SCT, identity) works on. The pipeline runs
 * those steps for certificate bundles only (their `applies`); a caller that runs one on a key
 * bundle is refused by name here, in one place, rather than by a guard in each step.
 */
export function certificateKeyOf(state: VerifyState, check: CheckName): CertificateKey {
  const key = state.signingKey;
  if (key?.kind !== 'certificate')
    fail('INPUT_INVALID', check, `the ${check} check applies to certificate bundles only`);
  return key;
}

export interface VerifyInput {
  bundle: Bundle;
  artifact: Artifact;
  trust: TrustMaterial;
  policy: VerificationPolicy;
}

/** Filled in step by step; a later step may rely on what an earlier one set. */
export interface VerifyState {
  /** ECDSA over a bare digest; loaded (with @noble/curves) only when the artifact is a digest. */
  verifyPrehashed?: (key: EcPublicKey, digest: Uint8Array, signature: Uint8Array) => boolean;
  signingKey?: SigningKey;
  /** The signature bytes timestamps must cover (message signature or the DSSE signature). */
  signatureBytes?: Uint8Array;
  verifiedTimes?: VerifiedTime[];
  chain?: { ca: CertificateAuthority; path: Certificate[] };
  scts?: VerifiedSct[];
  tlog?: {
    log: TransparencyLogInstance;
    logIndex: number;
    treeSize: number | undefined;
    kind: string;
    rekor: 'v1' | 'v2';
    /** The checkpoint's signer name and origin, as signed (Rekor v1 names are not bound to keys). */
    checkpoint: { signer: string; origin: string } | undefined;
    /** What the entry declares about the signature (verify/algorithms.ts). */
    declared: { hash?: HashAlgorithm; keyDetails?: string };
  }[];
  /** RFC 3161 timestamps set aside while verifying times (also among the warnings). */
  ignoredTimestamps?: string[];
  signature?: import('./signature.js').SignatureResult;
  /** Evidence set aside, with the reason (a timestamp from a TSA the trust root does not know). */
  warnings: string[];
  identity?: import('./identity.js').IdentityResult;
}

/** A verified time at full precision, for window checks. */
export function preciseTime(t: VerifiedTime): PreciseTime {
  return { ms: t.time, subMs: t.subMs ?? '' };
}
