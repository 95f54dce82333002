/**
 * The identity flags every verifying command shares (`attest verify`, and later ones that
 * verify), as plain data: identity-flags.ts turns their values into buildPolicy options.
 */
import type { FlagSpecs } from './flag-spec.js';

/**
 * cosign's (and gitsign's) GitHub workflow flags, by the Fulcio extension each pins: the exact
 * value of one of the GitHub extensions Fulcio writes (1.3.6.1.4.1.57264.1.2 to .6), compared
 * as cosign compares them, so a cosign verify-blob line keeps its meaning here. Each is
 * `--certificate-extension NAME=VALUE` with VALUE taken literally (identity-flags.ts).
 */
export const GITHUB_WORKFLOW_FLAGS = {
  'certificate-github-workflow-trigger': {
    extension: 'github-workflow-trigger',
    claim: 'event_name (e.g. push, release)',
  },
  'certificate-github-workflow-sha': {
    extension: 'github-workflow-sha',
    claim: 'sha (the commit)',
  },
  'certificate-github-workflow-name': {
    extension: 'github-workflow-name',
    claim: 'workflow (its name)',
  },
  'certificate-github-workflow-repository': {
    extension: 'github-workflow-repository',
    claim: 'repository (OWNER/REPO)',
  },
  'certificate-github-workflow-ref': {
    extension: 'github-workflow-ref',
    claim: 'ref (e.g. refs/heads/main)',
  },
} as const;

export type GithubWorkflowFlag = keyof typeof GITHUB_WORKFLOW_FLAGS;

function githubWorkflowFlagSpecs() {
  const specs = {} as Record<GithubWorkflowFlag, { type: 'string'; description: string }>;
  for (const [flag, { extension, claim }] of Object.entries(GITHUB_WORKFLOW_FLAGS))
    specs[flag as GithubWorkflowFlag] = {
      type: 'string',
      description: `as cosign: the GitHub token's ${claim} must be exactly this (the ${extension} extension; --certificate-extension ${extension}=REGEX for a pattern)`,
    };
  return specs;
}

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
  ...githubWorkflowFlagSpecs(),
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

/**
 * What was signed, beside who signed it: `attest verify` and `attest import` take it with the
 * identity flags or a policy file (whose environment may name one too: they must agree).
 */
export const PREDICATE_TYPE_FLAG = {
  'predicate-type': {
    type: 'string',
    description:
      "require an in-toto attestation (DSSE) of exactly this predicate type URI, e.g. https://slsa.dev/provenance/v1, or cosign's name for one (slsaprovenance1, spdxjson, cyclonedx, ...: cosign verify-attestation --type); a plain signature or another type fails",
  },
} as const satisfies FlagSpecs;

/**
 * Whether any flag of IDENTITY_FLAGS that says which identities to accept was given (all but
 * --allow-broad-identity, which only loosens a policy given otherwise).
 */
export function identityAsked(values: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(IDENTITY_FLAGS).some((name) => {
    if (name === 'allow-broad-identity') return false;
    const v = values[name];
    return Array.isArray(v) ? v.length > 0 : v !== undefined;
  });
}
