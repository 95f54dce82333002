/**
 * One archived bundle, verified: the one function every shipment worker calls (in process
 * for --jobs 1, in each worker thread otherwise), so a check added to archive verification is
 * added in one place. Pure: bytes, trust material, policy in; a small, cloneable verdict out.
 */
import { failureOf, type FailureSummary } from '../errors.js';
import { parseBundle } from '../bundle/parse.js';
import { verifyBundleReport, type TrustWindow } from '../verify/pipeline.js';
import { parseSha256Digest } from '../util/digest.js';
import type { TrustMaterial } from '../model/trust-material.js';
import { entryCheckpointsOf, type EntryCheckpoint } from '../tlog/consistency.js';
import type { VerificationPolicy } from '../verify/policy.js';

export interface BundleVerdict {
  /** Path inside the archive. */
  path: string;
  ok: boolean;
  identity: string | null;
  issuer: string | null;
  /** The earliest verified signing time (RFC 3339), when verification got that far. */
  verifiedTime: string | null;
  logIndex: number | null;
  /** The leaf certificate's validity window, for the report's timeline. */
  certificate: { notBefore: string; notAfter: string } | null;
  /** The CA and log-key windows the verified times were checked against (the report's timeline). */
  windows: TrustWindow[];
  error: FailureSummary | null;
  /**
   * The checkpoints its log entries carry (when it parsed), unverified here: the main thread
   * holds them against the trust store once per run (the consistency step; workers stay
   * store-free).
   */
  checkpoints: EntryCheckpoint[];
}

export interface ArchivedBundle {
  path: string;
  /** "sha256:<hex>" the bundle is filed under. */
  artifactDigest: string;
  bytes: Uint8Array;
}

export interface VerdictOptions {
  /** false: leave `checkpoints` empty (no trust store will take them; see ShipmentOptions). */
  checkpoints?: boolean;
  /**
   * false: leave `certificate` null and `windows` empty (no report will draw its timeline):
   * they are ~6 times formatted and objects cloned back from a worker, per bundle.
   */
  timeline?: boolean;
}

export async function verifyArchivedBundle(
  b: ArchivedBundle,
  trust: TrustMaterial,
  policy: VerificationPolicy,
  options: VerdictOptions = {},
): Promise<BundleVerdict> {
  const verdict: BundleVerdict = {
    path: b.path,
    ok: false,
    identity: null,
    issuer: null,
    verifiedTime: null,
    logIndex: null,
    certificate: null,
    windows: [],
    error: null,
    checkpoints: [],
  };
  try {
    const bundle = parseBundle(b.bytes);
    if (options.checkpoints !== false) verdict.checkpoints = entryCheckpointsOf(bundle);
    verdict.logIndex = bundle.verificationMaterial.tlogEntries[0]?.logIndex ?? null;
    const { digest } = parseSha256Digest(b.artifactDigest, 'artifact digest');
    const report = await verifyBundleReport(
      { bundle, artifact: { kind: 'digest', algorithm: 'SHA2_256', digest }, trust, policy },
      { trustWindows: options.timeline !== false, checks: false },
    );
    verdict.windows = report.trustWindows ?? [];
    // Taken from the verification's own parse of the certificate, not parsed again.
    verdict.certificate = report.certificateValidity ?? null;
    verdict.verifiedTime = report.verifiedTimes.map((t) => t.time).sort()[0] ?? null;
    if (report.ok) {
      verdict.ok = true;
      verdict.identity =
        report.signer?.identity ??
        (report.signer?.publicKey ? `key ${report.signer.publicKey.slice(0, 16)}` : null);
      verdict.issuer = report.signer?.issuer ?? null;
    } else {
      verdict.error = report.error
        ? {
            code: report.error.code,
            check: report.error.check,
            message: report.error.message,
            exitCode: report.error.exitCode,
          }
        : null;
    }
  } catch (e) {
    verdict.error = failureOf(e);
  }
  return verdict;
}
