/** `stella attest verify`: its flags (shared by the oclif command and the fast launcher). */
import { VERBOSE_DESCRIPTION, type FlagSpecs } from '../flag-spec.js';
import { IDENTITY_FLAGS, PREDICATE_TYPE_FLAG } from '../identity-flag-spec.js';

export const VERIFY_SUMMARY = 'Verify a Sigstore bundle entirely offline';

export const VERIFY_FLAGS = {
  offline: {
    type: 'boolean',
    description:
      'verify without any network access (always the case; accepted for cosign compatibility)',
    default: true,
  },
  bundle: {
    type: 'string',
    description:
      'Sigstore bundle (v0.1-v0.3 JSON); without it, the local attestation store is searched by artifact digest',
  },
  artifact: {
    type: 'string',
    multiple: true,
    description:
      'artifact path, or sha256:<64 hex> to verify from the digest alone (required unless --image); with --archive, repeatable',
  },
  image: {
    type: 'string',
    description:
      'REGISTRY/REPO@sha256:<hex>: verify the bundles attached to that image in its registry (fetched; trust stays local); sha256:<hex>: like --artifact',
  },
  'allow-insecure-registry': {
    type: 'boolean',
    description:
      'plain HTTP to a loopback registry (127.0.0.0/8, ::1, localhost); other hosts must also be in STELLA_INSECURE_REGISTRIES',
    default: false,
  },
  'registry-username': {
    type: 'string',
    description:
      'registry user name (password from --registry-password-stdin or STELLA_REGISTRY_PASSWORD); default: the Docker config file, else anonymous',
  },
  'registry-password-stdin': {
    type: 'boolean',
    description: 'read the registry password from standard input',
    default: false,
  },
  ...IDENTITY_FLAGS,
  ...PREDICATE_TYPE_FLAG,
  explain: {
    type: 'boolean',
    description:
      'list every identity the certificate offers, whether each pattern matched it, and the issuer comparison',
    default: false,
  },
  key: {
    type: 'string',
    description:
      'PEM public key for managed-key bundles (instead of an identity): a file, or env://VAR',
  },
  'trusted-root': {
    type: 'string',
    description: 'trusted_root.json (v0.1 or v0.2) to verify against',
  },
  'require-rekor': {
    type: 'boolean',
    description: 'fail a bundle that has no transparency log entry',
    default: false,
  },
  store: {
    type: 'string',
    description: 'trust store path (default: $STELLA_TRUST_STORE or the per-user store)',
  },
  'max-age': {
    type: 'string',
    description:
      'trust store age limit in days; given explicitly, a staler store is an error (default 90: a warning)',
  },
  'attestation-store': {
    type: 'string',
    description: 'attestation store path used when --bundle is not given',
  },
  archive: {
    type: 'string',
    description:
      'export archive (stella attest export-bundle; .tar or .tar.gz; - reads it from standard input) to take the bundles for --artifact from; its trusted_root.json is NOT trusted automatically',
  },
  all: {
    type: 'boolean',
    description: 'with --archive: verify every artifact in the archive',
    default: false,
  },
  'artifacts-dir': {
    type: 'string',
    description:
      'with --archive: hash every regular file in DIR (recursively) and verify each against the archive',
  },
  jobs: {
    type: 'string',
    description:
      'with --archive: worker threads verifying bundles (default: one per core, at most one per 128 bundles; 1 = in process)',
  },
  'json-lines': {
    type: 'boolean',
    description:
      'with --archive: one JSON object per artifact as it is judged, then a summary object',
    default: false,
  },
  report: {
    type: 'string',
    description: 'with --archive: write a self-contained HTML report to this file',
  },
  'seal-key': {
    type: 'string',
    description:
      'with --archive: require a seal by this PEM public key, a file or env://VAR (instead of the trust store exporters)',
  },
  'seal-identity': {
    type: 'string',
    description:
      'with --archive: require a keyless seal by this exact certificate identity (with --seal-issuer)',
  },
  'seal-issuer': { type: 'string', description: 'OIDC issuer of --seal-identity (exact)' },
  'require-consistency': {
    type: 'boolean',
    description:
      'refuse a bundle whose checkpoint is not proven consistent with the checkpoints the trust store holds for its log (prove it with an archive made by export-bundle --include-consistency)',
    default: false,
  },
  json: {
    type: 'boolean',
    description: 'print one JSON object (stable schema) on stdout',
    default: false,
  },
  verbose: { type: 'boolean', description: VERBOSE_DESCRIPTION, default: false },
} as const satisfies FlagSpecs;

/** The positional argument: the artifact, as cosign's `verify-blob FILE` (or --artifact). */
export const VERIFY_ARGS = ['artifact'] as const;
