/**
 * One error type for the whole library. Every refusal of bad input is a StellaError with a
 * code from the closed union below; the CLI maps codes to exit codes with EXIT_CODES, so
 * each failure class has its own distinct, stable, non-zero exit status.
 */

/** Which step of the work failed (used in reports and in the one-line CLI message). */
export type CheckName =
  | 'input'
  | 'bundle'
  | 'trusted-root'
  | 'verified-times'
  | 'certificate-chain'
  | 'sct'
  | 'tlog'
  | 'signature'
  | 'policy'
  | 'trust-store'
  | 'rotation'
  | 'signing'
  | 'sandbox'
  | 'archive'
  | 'attestation-store'
  | 'config'
  | 'registry'
  | 'seal'
  | 'shipment'
  | 'consistency'
  | 'witness';

/**
 * Exit codes. 0 = success, 1 = unexpected internal error (a bug), 2 = usage error (oclif).
 * Everything else is a specific refusal. Never renumber: scripts depend on these.
 */
export const EXIT_CODES = {
  /** A mistake in the command line (unknown, repeated or missing flag, bad flag value): oclif's exit 2. */
  USAGE_ERROR: 2,
  /**
   * Standard output (or error) was closed by its reader before the command finished writing
   * (`stella ... | head`): stopped, no verdict. Set by bin/run.js, which sees the EPIPE.
   */
  OUTPUT_CLOSED: 3,
  // input and parsing (10-19)
  INPUT_INVALID: 10,
  BUNDLE_MALFORMED: 11,
  BUNDLE_UNSUPPORTED: 12,
  BUNDLE_LIMIT_EXCEEDED: 13,
  TRUSTED_ROOT_INVALID: 14,
  CERTIFICATE_MALFORMED: 15,
  // verified times (20-24)
  TIMESTAMP_INVALID: 20,
  SET_INVALID: 21,
  TIME_IN_FUTURE: 22,
  NO_VERIFIED_TIME: 23,
  // certificates (25-29)
  CERT_CHAIN_INVALID: 25,
  CERT_EXPIRED: 26,
  CERT_USAGE_INVALID: 27,
  SCT_INVALID: 28,
  SCT_MISSING: 29,
  // transparency log (30-39)
  TLOG_BODY_MISMATCH: 30,
  INCLUSION_PROOF_INVALID: 31,
  CHECKPOINT_INVALID: 32,
  TLOG_UNTRUSTED: 33,
  REKOR_PROOF_MISSING: 34,
  // signature and artifact binding (40-44)
  SIGNATURE_INVALID: 40,
  ARTIFACT_MISMATCH: 41,
  DSSE_INVALID: 42,
  // policy (45-49)
  IDENTITY_MISMATCH: 45,
  ISSUER_MISMATCH: 46,
  KEY_MISMATCH: 47,
  // trust store and rotation (50-64)
  STORE_NOT_FOUND: 50,
  STORE_BUSY: 51,
  STORE_CORRUPT: 52,
  STORE_SCHEMA_TOO_NEW: 53,
  STORE_STALE: 54,
  STORE_ENTRY_NOT_FOUND: 55,
  IMPORT_INVALID: 56,
  ROTATION_INVALID: 57,
  ROTATION_THRESHOLD_NOT_MET: 58,
  ROTATION_ROLLBACK: 59,
  ROTATION_EXPIRED: 60,
  ROTATION_KEYS_INVALID: 61,
  STORE_TAMPERED: 62,
  // signing (65-79)
  OIDC_TOKEN_MISSING: 65,
  OIDC_TOKEN_EXPIRED: 66,
  OIDC_TOKEN_INVALID: 67,
  FULCIO_UNAVAILABLE: 68,
  FULCIO_REJECTED: 69,
  REKOR_UNAVAILABLE: 70,
  REKOR_REJECTED: 71,
  CONFIG_INVALID: 72,
  NO_ATTESTATIONS_FOUND: 73,
  SANDBOX_ERROR: 74,
  // archives (80-89)
  ARCHIVE_INVALID: 80,
  ARCHIVE_LIMIT_EXCEEDED: 81,
  ARCHIVE_UNSAFE_ENTRY: 82,
  ARCHIVE_MANIFEST_MISMATCH: 83,
  // batches (95-99)
  /** The archive was written, but without some bundles (each reported): one bad item never stops a batch. */
  EXPORT_INCOMPLETE: 95,
  // stores and rotation, added after the ranges above filled (100-109)
  STORE_MIGRATION_REQUIRED: 100,
  STORE_FOREIGN: 101,
  ROTATION_VERSION_GAP: 102,
  ROTATION_CONFLICT: 103,
  // limits of nested encodings (110-114)
  /** DER over its per-parse budget: element count, nesting depth or certificate size. */
  DER_LIMIT_EXCEEDED: 110,
  // OCI registries (130-139): attaching bundles to images and pulling them back (src/oci/)
  /** Connection refused, timed out, or 5xx/429 after the retries. */
  REGISTRY_UNAVAILABLE: 130,
  /** 401/403 after the auth flow: no credentials, credentials refused, or a token service that failed. */
  REGISTRY_AUTH_FAILED: 131,
  /** Any other refusal of a request (a push the registry answers 4xx, a 404 where content must exist). */
  REGISTRY_REJECTED: 132,
  /** An answer that breaks the distribution spec: bad JSON or media type, digest mismatch, a referrer for another image, redirects. */
  REGISTRY_RESPONSE_INVALID: 133,
  /** An answer over its size or count limit (manifest, index, bundle, referrers, pages). */
  REGISTRY_LIMIT_EXCEEDED: 134,
  /** The image (manifest by digest) is not in the repository. */
  IMAGE_NOT_FOUND: 135,
  /** Plain HTTP asked for where it is not allowed (only loopback with --allow-insecure-registry), or an HTTPS->HTTP redirect. */
  REGISTRY_INSECURE: 136,
  // timestamp authorities, when signing (140-144)
  /** The TSA could not be reached, timed out or answered 408/429/5xx after the retries. */
  TSA_UNAVAILABLE: 140,
  /** The TSA refused the request, or its answer does not verify (not granted, wrong imprint or nonce, untrusted signer). */
  TSA_REJECTED: 141,
  // shipments: sealed export archives, verifying a whole archive (155-164)
  /** The archive's seal (manifest.sigstore.json) does not verify, is over other bytes, or is not from a trusted exporter. */
  SEAL_INVALID: 155,
  /** Exporters are trusted (trust store or --seal-key/--seal-identity) and the archive has no seal. */
  SEAL_REQUIRED: 156,
  /** A sealed archive whose entries differ from its sealed manifest: one dropped, added, reordered or swapped. */
  SEALED_ARCHIVE_MISMATCH: 157,
  /** One or more artifacts of a shipment failed verification or are missing from the archive. */
  SHIPMENT_INCOMPLETE: 158,
  /** An export archive bound for a .json output holds more (or less) than one bundle. */
  EXPORT_NOT_SINGLE_BUNDLE: 159,
  /** `attest import --policy`: an artifact of the archive has no bundle that verifies under the policy; nothing was imported. */
  IMPORT_POLICY_UNMET: 160,
  // identity policies (150-154): policy files, broad patterns, claims beyond the subject
  /** A policy file that is not valid: unknown key, wrong type, uncompilable, broad or unsatisfiable pattern (names the key and line). */
  POLICY_INVALID: 150,
  /** An identity pattern that matches identities of arbitrary, unrelated owners, without --allow-broad-identity. */
  IDENTITY_TOO_BROAD: 151,
  /** A --certificate-extension (or a policy file's extensions:) constraint the certificate does not meet. */
  EXTENSION_MISMATCH: 152,
  /** --predicate-type (or a policy file's predicateType:): the bundle is not an in-toto attestation of that predicate type. */
  PREDICATE_TYPE_MISMATCH: 154,
  /** The policy file has no environment of that name. */
  POLICY_ENVIRONMENT_NOT_FOUND: 153,
  // log consistency and witnesses (170-179): what each log has shown (src/trust/store/checkpoints.ts)
  /** Signed evidence that a log showed two histories: two checkpoints of one size with different roots, or a consistency proof that fails against a held checkpoint. */
  SPLIT_VIEW_DETECTED: 170,
  /** A consistency proof that is malformed or does not verify (and is not evidence against a held checkpoint). */
  CONSISTENCY_PROOF_INVALID: 171,
  /** A log's latest checkpoint is older (smaller) than one it already presented as its latest. */
  CHECKPOINT_ROLLBACK: 172,
  /** --require-consistency: a checkpoint is not proven consistent with what the trust store holds. */
  CONSISTENCY_UNPROVEN: 173,
  /** A log's witness policy (at least K of these N witnesses) is not met by a checkpoint's cosignatures. */
  WITNESS_POLICY_UNMET: 174,
  /** A witness name or key given to `trust witness` is unknown, already present, or malformed. */
  WITNESS_INVALID: 175,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

export class StellaError extends Error {
  override readonly name = 'StellaError';
  readonly code: ErrorCode;
  readonly check: CheckName;
  /** Values that were compared, for --json reports (never secrets). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    check: CheckName,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.check = check;
    this.details = details;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  /**
   * The same failure in a caller's words (where it happened, what it means there): code and
   * check kept, details kept unless others are given, this error as the cause.
   */
  reworded(
    message: string,
    details: Record<string, unknown> | undefined = this.details,
  ): StellaError {
    return new StellaError(this.code, this.check, message, details, { cause: this });
  }

  toJSON(): {
    code: ErrorCode;
    check: CheckName;
    message: string;
    exitCode: number;
    details?: Record<string, unknown>;
  } {
    return {
      code: this.code,
      check: this.check,
      message: this.message,
      exitCode: this.exitCode,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isStellaError(e: unknown): e is StellaError {
  return e instanceof StellaError;
}

/**
 * Shorthand used by parsers and checks: throw a StellaError. When it re-wraps a caught error,
 * pass `{ cause }` so the original (an errno, an SQLite code, a parser message) is kept.
 */
export function fail(
  code: ErrorCode,
  check: CheckName,
  message: string,
  details?: Record<string, unknown>,
  options?: { cause?: unknown },
): never {
  throw new StellaError(code, check, message, details, options);
}

/** A failure as a report shows it: a StellaError's own fields; anything else is an internal error (a bug, exit 1). */
export interface FailureSummary {
  code: ErrorCode | 'INTERNAL';
  check: CheckName | 'internal';
  message: string;
  exitCode: number;
}

export function failureOf(e: unknown): FailureSummary {
  if (e instanceof StellaError)
    return { code: e.code, check: e.check, message: e.message, exitCode: e.exitCode };
  return {
    code: 'INTERNAL',
    check: 'internal',
    message: e instanceof Error ? e.message : String(e),
    exitCode: 1,
  };
}
