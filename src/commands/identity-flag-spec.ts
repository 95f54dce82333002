/**
 * The identity flags every verifying command shares (`attest verify`, and later ones that
 * verify), as plain data: identity-flags.ts turns their values into buildPolicy options.
 */
import type { FlagSpecs } from './flag-spec.js';

export const IDENTITY_FLAGS = {
  'certificate-identity': {
    type: 'string',
    description:
      'RE2 regex (Go syntax, as cosign) the certificate identity must match WHOLE (implicitly anchored): SAN, OIDC subject, or a subject derived from Fulcio extensions',
  },
  'certificate-identity-regexp': {
    type: 'string',
    description: "alias of --certificate-identity (cosign's name for a regex identity)",
  },
  'certificate-oidc-issuer': {
    type: 'string',
    description:
      'exact OIDC issuer URL the certificate must carry (several issuers: a policy file)',
  },
  'certificate-extension': {
    type: 'string',
    multiple: true,
    description:
      'NAME=REGEX a Fulcio extension must match whole (repeatable), e.g. deployment-environment=production, source-repository-ref=refs/heads/main',
  },
  policy: {
    type: 'string',
    description:
      'policy file (YAML) with one policy per environment (default: $STELLA_POLICY, else policy.yaml next to the trust store)',
  },
  environment: {
    type: 'string',
    description: 'environment of the policy file to apply (default: default)',
  },
  'allow-broad-identity': {
    type: 'boolean',
    description:
      'accept an identity pattern that matches identities of arbitrary, unrelated owners (e.g. "repo:.*")',
    default: false,
  },
} as const satisfies FlagSpecs;
