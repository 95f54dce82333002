/**
 * The sandbox authority in one object: OIDC issuer, Fulcio CA (with its CT log) and Rekor log,
 * wired from one key set, one creation time and the base URLs the servers answer on. Pure and
 * in memory (the Rekor storage is injected); the HTTP servers in src/sandbox/server/ and the
 * samples script are its only users.
 */
import type { TrustMaterial } from '../../model/trust-material.js';
import { FulcioCA, type FulcioIssuerConfig } from './fulcio.js';
import type { AuthorityKeys } from './keys.js';
import { OidcIssuer } from './oidc.js';
import { LocalRekorLog, MemoryLogStorage, type LogStorage } from './rekor.js';
import {
  authorityTrustMaterial,
  authorityTrustedRootJson,
  type AuthorityTrustInput,
} from './trust.js';

export interface AuthorityUrls {
  oidcIssuer: string;
  fulcio: string;
  rekor: string;
  ctLog: string;
}

export interface SandboxAuthorityOptions {
  keys: AuthorityKeys;
  /** When the CA certificates and log keys start being valid (ms since the epoch). */
  createdAt: number;
  urls: AuthorityUrls;
  storage?: LogStorage;
  /** Extra OIDC issuers Fulcio accepts besides the sandbox's own (their JWKS are supplied per request). */
  extraIssuers?: FulcioIssuerConfig[];
}

export interface SandboxAuthority {
  readonly keys: AuthorityKeys;
  readonly urls: AuthorityUrls;
  readonly oidc: OidcIssuer;
  readonly fulcio: FulcioCA;
  readonly rekor: LocalRekorLog;
  /** `more`: logs and TSAs listed beside the authority's own (a Rekor v2 log, a TSA). */
  trustMaterial(more?: AuthorityTrustExtras): TrustMaterial;
  /** trusted_root.json text (v0.2). */
  trustedRootJson(more?: AuthorityTrustExtras): string;
}

export type AuthorityTrustExtras = Pick<AuthorityTrustInput, 'extraTlogs' | 'timestampAuthorities'>;

export function createSandboxAuthority(opts: SandboxAuthorityOptions): SandboxAuthority {
  const oidc = new OidcIssuer({ issuerUrl: opts.urls.oidcIssuer, key: opts.keys.oidc });
  const fulcio = new FulcioCA({
    rootKey: opts.keys.rootCa,
    intermediateKey: opts.keys.intermediateCa,
    ctLogKey: opts.keys.ctLog,
    createdAt: opts.createdAt,
    issuers: [{ issuerUrl: oidc.issuerUrl }, ...(opts.extraIssuers ?? [])],
  });
  const rekor = new LocalRekorLog({
    key: opts.keys.rekorLog,
    storage: opts.storage ?? new MemoryLogStorage(),
    baseUrl: opts.urls.rekor,
  });
  const trustInput = {
    fulcio,
    fulcioUrl: opts.urls.fulcio,
    rekorUrl: opts.urls.rekor,
    rekorKeySpki: opts.keys.rekorLog.spki,
    ctLogUrl: opts.urls.ctLog,
  };
  return {
    keys: opts.keys,
    urls: opts.urls,
    oidc,
    fulcio,
    rekor,
    trustMaterial: (more = {}) => authorityTrustMaterial({ ...trustInput, ...more }),
    trustedRootJson: (more = {}) => authorityTrustedRootJson({ ...trustInput, ...more }),
  };
}

export * from './keys.js';
export * from './oidc.js';
export * from './fulcio-identity.js';
export * from './fulcio.js';
export * from './rekor.js';
export * from './rekor-v2.js';
export * from './tsa.js';
export * from './keys-v2.js';
export * from './trust.js';
export * from '../../bundle/from-rekor.js';
