/**
 * The I/O edge of `stella attest import`: check the archive whole (preamble and seal, then a
 * structural pass: nothing is written for a bad archive), then stream its bundles into the
 * attestation store inside one transaction (store/attestations.ts batch): all or nothing.
 * Inside that transaction, before it commits, the bundles' checkpoints and the archive's
 * consistency.json are held against the trust store (./consistency-run.ts, the same step as
 * `attest verify`): a split view, a rollback, a bad proof or (--require-consistency) an
 * unproven checkpoint rolls the import back, so nothing is imported.
 *
 * With a policy (--policy or identity flags), the whole archive is verified offline by the
 * code `verify --archive --all` uses (shipment/verify.ts: preamble, seal, structure, every
 * bundle): every artifact needs a bundle that verifies, else IMPORT_POLICY_UNMET lists each
 * failing artifact and nothing is imported. The bundles are stored from the verifying pass
 * itself (inside the transaction, rolled back when the policy is unmet), so what is stored is
 * the very bytes that were verified, and the archive is read twice (structure, then verify and
 * store) rather than three times.
 */
import { sqliteCreationUndo } from '../../util/sqlite-file.js';
import { writeStderr } from '../render.js';
import { parseBundle } from '../../bundle/parse.js';
import { certificateIdentities, oidcIssuer, parseCertificate } from '../../x509/certificate.js';
import { toHex, utf8Decoder } from '../../util/encoding.js';
import {
  AttestationStore,
  resolveAttestationStorePath,
  type SaveAttestationInput,
} from '../../store/attestations.js';
import type { ExportManifestEntry } from '../../archive/manifest.js';
import { readExportArchiveStream } from '../../archive/export-stream.js';
import { readSealedArchive, type SealStatus } from '../../shipment/seal.js';
import { StellaError, type FailureSummary } from '../../errors.js';
import type { PolicyOptions } from '../../verify/policy.js';
import type { ExporterTrust } from '../../shipment/seal.js';
import type { ArchiveSource } from '../../archive/export-stream.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import { archiveFileSource, exportersFor } from './shipment-run.js';
import { selectTrust } from './trust-selection.js';
import { checkConsistencyAgainstStore } from './consistency-run.js';
import {
  entryCheckpointKey,
  entryCheckpointsOf,
  type EntryCheckpoint,
} from '../../tlog/consistency.js';
import type { ConsistencyReport } from '../../trust/store/consistency.js';
import { leafCertificateDer } from '../../bundle/model.js';
import { bundlePredicateType } from '../../bundle/intoto.js';
import { sleepSync } from '../../util/retry.js';

export interface ImportOptions {
  archivePath: string;
  attestationStorePath?: string | undefined;
  storePath?: string | undefined;
  sealKey?: string | undefined;
  sealIdentity?: string | undefined;
  sealIssuer?: string | undefined;
  trustedRootPath?: string | undefined;
  /** Refuse checkpoints not proven consistent with the trust store's. */
  requireConsistency?: boolean | undefined;
  /** The command line, as the trust store's history records it. */
  command?: string | undefined;
  /** Every artifact must have a bundle verifying under this policy (plain options, as verify --archive takes them). */
  policy?: PolicyOptions | undefined;
  /** Verifier threads for the policy check (default: one per core, no more than the archive repays: defaultJobs). */
  jobs?: number | undefined;
  env?: NodeJS.ProcessEnv;
}

/** An artifact of the archive that does not meet the import policy: every bundle's failure. */
export interface UnmetArtifact {
  artifactDigest: string;
  /** As `verify --archive --json` lists them: the path, and the failure when there is one. */
  failures: ({ path: string } & Partial<FailureSummary>)[];
}

export interface ImportResult {
  archive: string;
  attestationStore: string;
  bundles: number;
  added: number;
  duplicates: number;
  artifacts: number;
  seal: SealStatus;
  manifestSha256: string;
  /** What the logs' checkpoints showed against the trust store (when one is in use). */
  consistency: ConsistencyReport | null;
  warnings: string[];
  /** With a policy: how many artifacts were verified under it (all of them). */
  verified: number | null;
}

/** Without a policy: the preamble and seal, then the structural pass (nothing is written for a bad archive). */
async function checkArchive(
  source: ArchiveSource,
  trust: TrustMaterial,
  exporters: ExporterTrust | undefined,
): Promise<{ seal: SealStatus; manifestSha256: string }> {
  const { pre, seal } = await readSealedArchive(source, exporters, trust, Date.now());
  return { seal, manifestSha256: pre.manifestSha256 };
}

/** What the import pass learned of the archive, whichever way it was read. */
interface ArchiveRead {
  seal: SealStatus;
  manifestSha256: string;
  /** Bundles read (every one in the archive). */
  count: number;
  consistency: Uint8Array | undefined;
  /** With a policy: how many artifacts verified under it (all of them). */
  verified: number | null;
}

/** Stores each bundle as it is read, and notes what the consistency step needs of it. */
interface BundleImporter {
  take(entry: ExportManifestEntry, bytes: Uint8Array): void;
  /** Distinct artifacts seen (bundles of one artifact are adjacent in an archive). */
  artifacts(): number;
  /** One per distinct checkpoint of a log the trust names. */
  checkpoints(): EntryCheckpoint[];
  /** Checkpoints of logs the trust does not name: they cannot be checked. */
  untrusted(): number;
}

function bundleImporter(
  trust: TrustMaterial,
  save: (input: SaveAttestationInput) => boolean,
): BundleImporter {
  let lastArtifact = '';
  let artifacts = 0;
  const checkpoints = new Map<string, EntryCheckpoint>();
  let untrusted = 0;
  /** Bundles written in this import's transaction, for the test hook's report. */
  let saved = 0;
  return {
    take(entry, bytes) {
      // Parsed strictly: a bundle that does not parse stops the import (and rolls it back).
      const bundle = parseBundle(bytes);
      const der = leafCertificateDer(bundle.verificationMaterial.content);
      const cert = der ? parseCertificate(der) : undefined;
      for (const c of entryCheckpointsOf(bundle)) {
        if (!trust.tlogs.some((l) => toHex(l.logId) === c.logId)) untrusted++;
        else checkpoints.set(entryCheckpointKey(c), c);
      }
      if (entry.artifactDigest !== lastArtifact) {
        artifacts++;
        lastArtifact = entry.artifactDigest;
      }
      save({
        artifactDigest: entry.artifactDigest,
        bundleJson: utf8Decoder.decode(bytes),
        contentKind: bundle.content.kind,
        predicateType: bundlePredicateType(bundle.content),
        identity: cert ? certificateIdentities(cert)[0]?.value : undefined,
        issuer: cert ? oidcIssuer(cert) : undefined,
      });
      if (process.env.STELLA_TEST_IMPORT_HOLD_AT) {
        // Test hook: once the Nth bundle is written, say so and hold, inside the transaction,
        // so a test kills it at a point it knows to be mid-transaction however loaded the
        // machine is (a delay per bundle, before stop 57, could let the commit win the race).
        if (++saved === Number(process.env.STELLA_TEST_IMPORT_HOLD_AT)) {
          writeStderr(`test hook: saved ${saved} (uncommitted)\n`);
          sleepSync(60_000);
        }
      }
    },
    artifacts: () => artifacts,
    checkpoints: () => [...checkpoints.values()],
    untrusted: () => untrusted,
  };
}

/** IMPORT_POLICY_UNMET naming each artifact without a verifying bundle (the first 50 in the message). */
export function policyUnmet(
  unmet: UnmetArtifact[],
  artifacts: number,
  archivePath: string,
): StellaError {
  const shown = unmet
    .slice(0, 50)
    .map(
      (u) =>
        `${u.artifactDigest} (${u.failures.map((f) => `${f.path}: ${f.check ?? '?'}: ${f.code ?? '?'}: ${f.message ?? ''}`).join('; ')})`,
    );
  return new StellaError(
    'IMPORT_POLICY_UNMET',
    'policy',
    `nothing imported: ${unmet.length} of ${artifacts} artifact(s) in ${archivePath} have no bundle that verifies under the policy: ${shown.join(', ')}${unmet.length > shown.length ? `, and ${unmet.length - shown.length} more` : ''}`,
    { artifacts: unmet },
  );
}

/**
 * With a policy: verify every artifact of the archive (shipment/verify.ts, as `verify --archive
 * --all`: preamble and seal, the structural pass, then the verifying pass) and import in that
 * same verifying pass, so the archive is read twice, not three times: each bundle is handed to
 * `take` as it is read, inside the store's transaction, and an artifact without a verifying
 * bundle throws IMPORT_POLICY_UNMET, which rolls every bundle back. What is stored is exactly
 * the bytes that were verified. Only the failures are kept in memory.
 */
async function verifyAndImport(
  o: {
    source: ArchiveSource;
    archivePath: string;
    trust: TrustMaterial;
    policy: PolicyOptions;
    jobs: number | undefined;
    exporters: ExporterTrust | undefined;
  },
  take: BundleImporter['take'],
): Promise<ArchiveRead> {
  const { verifyShipment } = await import('../../shipment/verify.js');
  const unmet: UnmetArtifact[] = [];
  const summary = await verifyShipment({
    source: o.source,
    trust: o.trust,
    policy: o.policy,
    jobs: o.jobs,
    exporters: o.exporters,
    onBundleRead: take,
    timeline: false,
    onArtifact: (r) => {
      if (!r.ok)
        unmet.push({
          artifactDigest: r.artifactDigest,
          failures: r.bundles.map((b) => ({ path: b.path, ...b.error })),
        });
    },
  });
  if (unmet.length > 0) throw policyUnmet(unmet, summary.artifacts, o.archivePath);
  return {
    seal: summary.seal,
    manifestSha256: summary.manifestSha256,
    count: summary.bundles,
    consistency: summary.consistency,
    verified: summary.artifacts,
  };
}

/**
 * Without a policy: the preamble and seal, then the structural pass (before the store is
 * touched), then the import pass, which requires the manifest the first passes saw.
 */
async function checkAndImport(
  checked: { seal: SealStatus; manifestSha256: string },
  source: ArchiveSource,
  take: BundleImporter['take'],
): Promise<ArchiveRead> {
  const read = await readExportArchiveStream(source, {
    expectManifestSha256: checked.manifestSha256,
    onBundle: take,
  });
  return { ...checked, count: read.count, consistency: read.consistency, verified: null };
}

export async function runImport(o: ImportOptions): Promise<ImportResult> {
  // The archive is the command's argument (attest import X.tar), not a flag.
  const source = archiveFileSource(o.archivePath, 'archive');
  const {
    trust,
    storePath: trustStorePath,
    warnings,
  } = await selectTrust({
    trustedRootPath: o.trustedRootPath,
    storePath: o.storePath,
  });
  const exporters = await exportersFor({
    sealKey: o.sealKey,
    sealIdentity: o.sealIdentity,
    sealIssuer: o.sealIssuer,
    storePath: o.storePath,
  });
  const policy = o.policy;
  // Nothing is written for a bad archive: without a policy it is judged whole before the store
  // is opened; with one, inside the transaction, whose rollback leaves the store as it was.
  const checked = policy ? undefined : await checkArchive(source, trust, exporters);
  const storePath = resolveAttestationStorePath(o.attestationStorePath, o.env);
  return withImportStore(storePath, async (store) => {
    let consistency: ConsistencyReport | undefined;
    const { result: read, added } = await store.batch(async (save) => {
      const imp = bundleImporter(trust, save);
      const take = imp.take.bind(imp);
      const read = policy
        ? await verifyAndImport(
            {
              source,
              archivePath: o.archivePath,
              trust,
              policy,
              jobs: o.jobs,
              exporters,
            },
            take,
          )
        : await checkAndImport(checked!, source, take);
      if (imp.untrusted() > 0)
        warnings.push(
          `${imp.untrusted()} checkpoint(s) of logs the trust does not name were not checked for consistency`,
        );
      // Before the import commits: a refusal here rolls every bundle back.
      consistency = await checkConsistencyAgainstStore(
        {
          trust,
          trustStorePath,
          trustedRootPath: o.trustedRootPath,
          storePath: o.storePath,
          requireConsistency: o.requireConsistency ?? false,
          checkpoints: imp.checkpoints(),
          consistency: read.consistency,
          source: o.archivePath,
          command: o.command ?? 'stella attest import',
        },
        warnings,
      );
      return { ...read, artifacts: imp.artifacts() };
    });
    return {
      archive: o.archivePath,
      attestationStore: storePath,
      bundles: read.count,
      added,
      duplicates: read.count - added,
      artifacts: read.artifacts,
      seal: read.seal,
      manifestSha256: read.manifestSha256,
      verified: read.verified,
      consistency: consistency ?? null,
      warnings,
    };
  });
}

/**
 * `fn` with the attestation store open for writing, closed after. A refused import leaves no
 * trace: a store it had to create is removed again (the database and the WAL files SQLite
 * made beside it).
 */
async function withImportStore<T>(
  storePath: string,
  fn: (store: AttestationStore) => Promise<T>,
): Promise<T> {
  const undo = sqliteCreationUndo(storePath);
  const store = AttestationStore.open(storePath, 'write');
  let done = false;
  try {
    const result = await fn(store);
    done = true;
    return result;
  } finally {
    store.close();
    if (!done) undo();
  }
}
