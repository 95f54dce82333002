/** `stella attest verify`: its flags (shared by the oclif command and the fast launcher). */
import type { FlagSpecs } from '../flag-spec.js';

export const VERIFY_SUMMARY = 'Verify a Sigstore bundle entirely offline';

export const VERIFY_FLAGS = {
  offline: { type: 'boolean', description: 'verify without any network access (always the case; accepted for cosign compatibility)', default: true },
  bundle: { type: 'string', description: 'Sigstore bundle (v0.1-v0.3 JSON); without it, the local attestation store is searched by artifact digest' },
  artifact: { type: 'string', description: 'artifact path, or sha256:<64 hex> to verify from the digest alone (required unless --image)' },
  image: { type: 'string', description: 'REGISTRY/REPO@sha256:<hex>: verify the bundles attached to that image in its registry (fetched; trust stays local); sha256:<hex>: like --artifact' },
  'allow-insecure-registry': { type: 'boolean', description: 'plain HTTP to a loopback registry (127.0.0.0/8, ::1, localhost); other hosts must also be in STELLA_INSECURE_REGISTRIES', default: false },
  'registry-username': { type: 'string', description: 'registry user name (password from --registry-password-stdin or STELLA_REGISTRY_PASSWORD); default: the Docker config file, else anonymous' },
  'registry-password-stdin': { type: 'boolean', description: 'read the registry password from standard input', default: false },
  'certificate-identity': { type: 'string', description: 'regex the certificate identity must match WHOLE (implicitly anchored)' },
  'certificate-oidc-issuer': { type: 'string', description: 'exact OIDC issuer URL the certificate must carry' },
  key: { type: 'string', description: 'PEM public key for managed-key bundles (instead of an identity)' },
  'trusted-root': { type: 'string', description: 'trusted_root.json (v0.1 or v0.2) to verify against' },
  'require-rekor': { type: 'boolean', description: 'fail a bundle that has no transparency log entry', default: false },
  store: { type: 'string', description: 'trust store path (default: $STELLA_TRUST_STORE or the per-user store)' },
  'max-age': { type: 'string', description: 'trust store age limit in days; given explicitly, a staler store is an error (default 90: a warning)' },
  'attestation-store': { type: 'string', description: 'attestation store path used when --bundle is not given' },
  archive: { type: 'string', description: 'export archive (stella attest export-bundle) to take the bundles for --artifact from; its trusted_root.json is NOT trusted automatically' },
  'require-consistency': { type: 'boolean', description: "refuse a bundle whose checkpoint is not proven consistent with the checkpoints the trust store holds for its log (prove it with an archive made by export-bundle --include-consistency)", default: false },
  json: { type: 'boolean', description: 'print one JSON object (stable schema) on stdout', default: false },
} as const satisfies FlagSpecs;
