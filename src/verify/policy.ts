/**
 * The verification policy, built once from options (sigstore-go's policy object). Everything
 * the checks compare against lives here, already validated, so checks never re-parse flags.
 */
import type { KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { parsePublicKey } from '../crypto.js';
import { compileIdentityPattern } from './identity-pattern.js';

export interface CertificateIdentityPolicy {
  /** The regex as the user gave it (for reports). */
  pattern: string;
  /** Compiled alone, then anchored: ^(?:pattern)$ (compileIdentityPattern), so `repo:org/repo` never matches `repo:org/repo-evil`. */
  regex: RegExp;
  /** Compared exactly (no regex, no prefix): issuers are pinned. */
  issuer: string;
}

export interface VerificationPolicy {
  identity: CertificateIdentityPolicy | undefined;
  /** Managed-key mode: verify with this key instead of a certificate identity. */
  publicKey: KeyObject | undefined;
  /** --require-rekor: a bundle with no transparency log entry fails. */
  requireTlog: boolean;
  /** requireSCT: true in the seed's config; on by default. */
  requireSct: boolean;
  /** Distinct logs that must include the entry (each log counted once). */
  tlogThreshold: number;
  /** The verifier's clock (ms). Verified times after it are rejected. */
  now: number;
}

export interface PolicyOptions {
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  /** PEM public key text (managed-key bundles). */
  publicKeyPem?: string;
  requireTlog?: boolean;
  requireSct?: boolean;
  tlogThreshold?: number;
  now?: number;
}

export function buildPolicy(opts: PolicyOptions): VerificationPolicy {
  const hasIdentity = opts.certificateIdentity !== undefined || opts.certificateOidcIssuer !== undefined;
  if (hasIdentity && opts.publicKeyPem !== undefined) {
    fail('INPUT_INVALID', 'input', 'give either --certificate-identity/--certificate-oidc-issuer or --key, not both');
  }
  if (!hasIdentity && opts.publicKeyPem === undefined) {
    fail('INPUT_INVALID', 'input', 'an identity policy is required: --certificate-identity and --certificate-oidc-issuer, or --key');
  }
  let identity: CertificateIdentityPolicy | undefined;
  if (hasIdentity) {
    if (!opts.certificateIdentity) fail('INPUT_INVALID', 'input', '--certificate-identity is required with --certificate-oidc-issuer');
    if (!opts.certificateOidcIssuer) fail('INPUT_INVALID', 'input', '--certificate-oidc-issuer is required with --certificate-identity');
    identity = { pattern: opts.certificateIdentity, regex: compileIdentityPattern(opts.certificateIdentity), issuer: opts.certificateOidcIssuer };
  }
  const threshold = opts.tlogThreshold ?? 1;
  if (!Number.isInteger(threshold) || threshold < 1) fail('INPUT_INVALID', 'input', 'tlog threshold must be a positive integer');
  return {
    identity,
    publicKey: opts.publicKeyPem === undefined ? undefined : parsePublicKey(opts.publicKeyPem, '--key'),
    requireTlog: opts.requireTlog ?? false,
    requireSct: opts.requireSct ?? true,
    tlogThreshold: threshold,
    now: opts.now ?? Date.now(),
  };
}
