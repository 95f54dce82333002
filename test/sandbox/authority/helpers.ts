/** A deterministic sandbox authority and a signer key for the authority tests. */
import {
  createSandboxAuthority,
  type SandboxAuthority,
} from '../../../src/sandbox/authority/index.js';
import {
  deriveAuthorityKey,
  deriveAuthorityKeys,
  seedFromString,
  type AuthorityKey,
} from '../../../src/sandbox/authority/keys.js';
import type { FulcioIssuerConfig } from '../../../src/sandbox/authority/fulcio.js';
import { derToPem } from '../../../src/util/pem.js';

export const CREATED_AT = Date.UTC(2025, 0, 1);
export const NOW = Date.UTC(2025, 2, 3, 10, 0, 0);
export const URLS = {
  oidcIssuer: 'https://oidc.test.invalid',
  fulcio: 'https://fulcio.test.invalid',
  rekor: 'https://rekor.test.invalid',
  ctLog: 'https://ctfe.test.invalid',
};

export function makeAuthority(
  seed = 'authority tests',
  extraIssuers?: FulcioIssuerConfig[],
): SandboxAuthority {
  return createSandboxAuthority({
    keys: deriveAuthorityKeys(seedFromString(seed)),
    createdAt: CREATED_AT,
    urls: URLS,
    ...(extraIssuers ? { extraIssuers } : {}),
  });
}

/** A stand-in for the signer's ephemeral key (deterministic so failures reproduce). */
export function signerKey(label = 'signer'): { key: AuthorityKey; pem: string } {
  const key = deriveAuthorityKey(seedFromString('authority tests signer'), label);
  return { key, pem: derToPem(key.spki, 'PUBLIC KEY') };
}
