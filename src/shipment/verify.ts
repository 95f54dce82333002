/**
 * Verify a whole shipment: every artifact of an export archive (or those asked for) against
 * one policy. The archive is read as a stream three times (archive/export-stream.ts): the
 * preamble (manifest digest, seal: judged first), a structural pass (a bad entry anywhere
 * refuses the archive before any bundle is checked), then the verifying pass, each bundle
 * handed to the verifier pool as it arrives. An artifact passes when at least one of its
 * bundles verifies; an artifact asked for and absent is a failure. Results come out in archive
 * order (then the missing ones, in the order asked), one per artifact, as soon as an artifact's
 * last bundle is judged.
 */
import {
  readExportArchiveStream,
  type ArchiveSource,
  type StreamLimits,
  type StreamReadOptions,
} from '../archive/export-stream.js';
import { STREAM_LIMITS } from '../archive/export.js';
import type { ExportManifestEntry } from '../archive/manifest.js';
import { createVerifierPool, defaultJobs, type VerifierPool } from './pool.js';
import { readSealedArchive, type ExporterTrust, type SealStatus } from './seal.js';
import type { BundleVerdict } from './verdict.js';
import type { TrustMaterial } from '../model/trust-material.js';
import { buildPolicy, type PolicyOptions } from '../verify/policy.js';
import { parseBundle } from '../bundle/parse.js';
import {
  entryCheckpointKey,
  entryCheckpointsOf,
  type EntryCheckpoint,
} from '../tlog/consistency.js';

export interface ArtifactResult {
  artifactDigest: string;
  /** What the user named it by (files from --artifacts-dir or --artifact paths); empty for --all. */
  names: string[];
  ok: boolean;
  /** Absent from the archive. */
  missing: boolean;
  /** The bundle that verified (the first in archive order). */
  verified: BundleVerdict | null;
  /** Every bundle judged, in archive order. */
  bundles: BundleVerdict[];
}

export interface ShipmentOptions {
  source: ArchiveSource;
  trust: TrustMaterial;
  /**
   * The policy as options (plain data: worker threads build their own policy from them, since
   * compiled RE2 patterns do not survive a structured clone). Functions in them are dropped.
   */
  policy: PolicyOptions;
  /**
   * Verifier threads (1: in process). Not given: one per core, no more than the shipment
   * repays (defaultJobs).
   */
  jobs?: number | undefined;
  /** undefined: every artifact in the archive; else these digests ("sha256:<hex>" -> names). */
  select?: Map<string, string[]>;
  exporters?: ExporterTrust;
  limits?: StreamLimits;
  onArtifact?: (r: ArtifactResult) => void | Promise<void>;
  /**
   * Called for every bundle of the verifying pass as it is read (after it matched its manifest
   * entry, before it is judged), selected or not: a caller that keeps what was verified (attest
   * import --policy) takes the bytes here instead of reading the archive again.
   */
  onBundleRead?: (entry: ExportManifestEntry, bytes: Uint8Array) => void | Promise<void>;
  /** Called with bundles judged so far and the archive's bundle count (progress). */
  onProgress?: (done: number, total: number) => void;
  /**
   * false when no trust store will take the checkpoints (the consistency step has nothing to
   * hold them against): they are then not kept. Every bundle of a growing log carries its own
   * checkpoint, so kept, they grow with the shipment (100,000 bundles, 100,000 checkpoints).
   */
  keepCheckpoints?: boolean;
  /**
   * false when no report will draw the timeline: the verdicts then carry no certificate
   * validity and no trust windows (BundleVerdict.certificate, .windows). Default true.
   */
  timeline?: boolean;
}

export interface ShipmentSummary {
  seal: SealStatus;
  manifestSha256: string;
  createdAt: string;
  artifacts: number;
  passed: number;
  failed: number;
  missing: number;
  bundles: number;
  jobs: number;
  /**
   * What the consistency step takes in (../trust/store/consistency.ts, run by the caller in
   * the main thread): the checkpoints of the bundles that verified, those of the archive's
   * other bundles when it carries consistency.json (its proofs start at them), one per distinct
   * checkpoint, and the consistency.json bytes.
   */
  checkpoints: { verified: EntryCheckpoint[]; others: EntryCheckpoint[] };
  consistency: Uint8Array | undefined;
}

/** Distinct entry checkpoints, in the order first seen. */
class CheckpointSet {
  private readonly seen = new Map<string, EntryCheckpoint>();
  add(cs: readonly EntryCheckpoint[]): void {
    for (const c of cs) {
      const k = entryCheckpointKey(c);
      if (!this.seen.has(k)) this.seen.set(k, c);
    }
  }
  list(): EntryCheckpoint[] {
    return [...this.seen.values()];
  }
}

/**
 * Verdicts grouped into artifacts: bundles of one artifact are adjacent in an archive, so an
 * artifact is complete (and handed to `onArtifact`) when a verdict for another one arrives,
 * or at the end. Counts the totals and collects the checkpoints on the way.
 */
function artifactTally(o: ShipmentOptions, total: number) {
  let current: ArtifactResult | undefined;
  const counts = { artifacts: 0, passed: 0, failed: 0, missing: 0, bundles: 0 };
  const verified = new CheckpointSet();
  const others = new CheckpointSet();
  const emit = async (r: ArtifactResult): Promise<void> => {
    counts.artifacts++;
    if (r.ok) counts.passed++;
    else if (r.missing) counts.missing++;
    else counts.failed++;
    await o.onArtifact?.(r);
  };
  return {
    counts,
    verified,
    others,
    emit,
    async add(digest: string, v: BundleVerdict): Promise<void> {
      counts.bundles++;
      o.onProgress?.(counts.bundles, total);
      if (current && current.artifactDigest !== digest) {
        await emit(current);
        current = undefined;
      }
      current ??= {
        artifactDigest: digest,
        names: o.select?.get(digest) ?? [],
        ok: false,
        missing: false,
        verified: null,
        bundles: [],
      };
      current.bundles.push(v);
      // Empty when no store takes them: the verifier pool was told not to compute them.
      (v.ok ? verified : others).add(v.checkpoints);
      if (v.ok && !current.ok) {
        current.ok = true;
        current.verified = v;
      }
    },
    /** Emits the last artifact, then those asked for and not in the archive, in the order asked. */
    async finish(seen: Set<string>): Promise<void> {
      if (current) await emit(current);
      for (const [digest, names] of o.select ?? []) {
        if (!seen.has(digest))
          await emit({
            artifactDigest: digest,
            names,
            ok: false,
            missing: true,
            verified: null,
            bundles: [],
          });
      }
    },
  };
}

/** The checkpoints of a bundle that is not verified (where consistency proofs may start); none when it does not parse. */
function checkpointsOfUnverified(bytes: Uint8Array): EntryCheckpoint[] {
  try {
    return entryCheckpointsOf(parseBundle(bytes));
  } catch {
    // Not verified and not evidence: a bundle that does not parse carries nothing.
    return [];
  }
}

export async function verifyShipment(o: ShipmentOptions): Promise<ShipmentSummary> {
  const limits = o.limits ?? STREAM_LIMITS;
  const policyOptions = cloneablePolicyOptions(o.policy);
  const policy = buildPolicy(policyOptions);
  const startPool = (jobs: number): VerifierPool =>
    createVerifierPool(
      jobs,
      o.trust,
      policy,
      { ...policyOptions, now: policy.now },
      { checkpoints: o.keepCheckpoints !== false, timeline: o.timeline !== false },
    );
  // Started before the structural pass, so the worker threads load the verifier while the main
  // thread reads the archive's structure (~0.07 ms per bundle: 0.7 s of 10,000); no bundle
  // reaches them before that structure has passed. A --jobs given is started at once; the
  // default as soon as the manifest's head says how many bundles there are (defaultJobs), or,
  // when only some artifacts are asked for, once the structural pass has counted their bundles
  // (three artifacts of a 10,000-bundle archive are verified in process).
  let pool = o.jobs === undefined ? undefined : startPool(o.jobs);
  const select = o.select;
  let selected = 0;
  // What the structural pass counts for the default (a --jobs given has started its pool).
  let watch: Pick<StreamReadOptions, 'onHeader' | 'onBundle'> = {};
  if (!pool && select)
    watch = {
      onBundle: (entry) => {
        if (select.has(entry.artifactDigest)) selected++;
      },
    };
  else if (!pool)
    watch = {
      onHeader: (_header, bundles) => {
        pool ??= startPool(defaultJobs(bundles));
      },
    };
  try {
    const { pre, seal, structure } = await readSealedArchive(
      o.source,
      o.exporters,
      o.trust,
      policy.now,
      limits,
      watch,
    );
    const verifiers = (pool ??= startPool(defaultJobs(select ? selected : structure.count)));
    // At most `verifiers.window` bundles in flight: verdicts are settled in archive order as it fills.
    const queue: { digest: string; verdict: Promise<BundleVerdict> }[] = [];
    const seen = new Set<string>();
    const tally = artifactTally(o, structure.count);
    const settleOne = async (): Promise<void> => {
      const job = queue.shift()!;
      await tally.add(job.digest, await job.verdict);
    };
    const read = await readExportArchiveStream(o.source, {
      limits,
      expectManifestSha256: pre.manifestSha256,
      onBundle: async (entry, bytes) => {
        await o.onBundleRead?.(entry, bytes);
        if (o.select && !o.select.has(entry.artifactDigest)) {
          // Not asked for, but with consistency.json its checkpoints are where proofs start.
          if (structure.consistency && o.keepCheckpoints !== false)
            tally.others.add(checkpointsOfUnverified(bytes));
          return;
        }
        if (o.select) seen.add(entry.artifactDigest);
        const verdict = verifiers.submit({
          path: entry.path,
          artifactDigest: entry.artifactDigest,
          bytes,
        });
        // A worker that fails rejects every verdict in flight at once, and only the oldest is
        // awaited: the others must not count as unhandled, which would end the process with a
        // stack trace instead of the one error report (the oldest's rejection is still thrown).
        verdict.catch(() => {});
        queue.push({ digest: entry.artifactDigest, verdict });
        while (queue.length >= verifiers.window) await settleOne();
      },
    });
    while (queue.length > 0) await settleOne();
    await tally.finish(seen);
    return {
      seal,
      manifestSha256: pre.manifestSha256,
      createdAt: read.header.createdAt,
      ...tally.counts,
      jobs: verifiers.jobs,
      checkpoints: { verified: tally.verified.list(), others: tally.others.list() },
      consistency: structure.consistency,
    };
  } finally {
    await pool?.close();
  }
}

/** Policy options as plain data: the naming callbacks (for usage errors, already raised by now) are left out. */
function cloneablePolicyOptions(o: PolicyOptions): PolicyOptions {
  const copy: PolicyOptions = { ...o };
  delete copy.patternName;
  delete copy.extensionName;
  return copy;
}
