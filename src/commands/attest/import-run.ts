/**
 * The I/O edge of `stella attest import`: check the archive whole (preamble and seal, then a
 * structural pass: nothing is written for a bad archive), then stream its bundles into the
 * attestation store inside one transaction (store/attestations.ts batch): all or nothing.
 * Inside that transaction, before it commits, the bundles' checkpoints and the archive's
 * consistency.json are held against the trust store (./consistency-run.ts, the same step as
 * `attest verify`): a split view, a rollback, a bad proof or (--require-consistency) an
 * unproven checkpoint rolls the import back, so nothing is imported.
 *
 * With a policy (--policy or identity flags), the whole archive is first verified offline by
 * the code `verify --archive --all` uses (shipment/verify.ts: preamble, seal, structure, every
 * bundle): every artifact needs a bundle that verifies, else IMPORT_POLICY_UNMET lists each
 * failing artifact and nothing is imported. The import pass then requires the manifest the
 * verification saw, and the manifest pins every bundle's SHA-256: what is stored is what was
 * verified.
 */
import { parseBundle } from '../../bundle/parse.js';
import { certificateIdentities, oidcIssuer, parseCertificate } from '../../x509/certificate.js';
import { toHex, utf8Decoder } from '../../util/encoding.js';
import { AttestationStore, resolveAttestationStorePath } from '../../store/attestations.js';
import { readExportArchiveStream } from '../../archive/export-stream.js';
import { readSealedArchive, type SealStatus } from '../../shipment/seal.js';
import { StellaError, type FailureSummary } from '../../errors.js';
import type { PolicyOptions } from '../../verify/policy.js';
import type { ExporterTrust } from '../../shipment/seal.js';
import type { ArchiveSource } from '../../archive/export-stream.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import { archiveFileSource, exportersFor, parseJobs } from './shipment-run.js';
import { selectTrust } from './verify-run.js';
import { checkConsistencyAgainstStore } from './consistency-run.js';
import {
  entryCheckpointKey,
  entryCheckpointsOf,
  type EntryCheckpoint,
} from '../../tlog/consistency.js';
import type { ConsistencyReport } from '../../trust/store/consistency.js';
import { leafCertificateDer } from '../../bundle/model.js';

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
  /** Verifier threads for the policy check (default: every core). */
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

/**
 * The policy check: verify every artifact of the archive (shipment/verify.ts, as `verify
 * --archive --all`); IMPORT_POLICY_UNMET naming each artifact without a verifying bundle.
 * Only the failures are kept in memory.
 */
async function checkImportPolicy(o: {
  source: ArchiveSource;
  archivePath: string;
  trust: TrustMaterial;
  policy: PolicyOptions;
  jobs: number;
  exporters: ExporterTrust | undefined;
}): Promise<{ seal: SealStatus; manifestSha256: string; artifacts: number }> {
  const { verifyShipment } = await import('../../shipment/verify.js');
  const unmet: UnmetArtifact[] = [];
  const summary = await verifyShipment({
    source: o.source,
    trust: o.trust,
    policy: o.policy,
    jobs: o.jobs,
    exporters: o.exporters,
    onArtifact: (r) => {
      if (!r.ok)
        unmet.push({
          artifactDigest: r.artifactDigest,
          failures: r.bundles.map((b) => ({ path: b.path, ...b.error })),
        });
    },
  });
  if (unmet.length > 0) {
    const shown = unmet
      .slice(0, 50)
      .map(
        (u) =>
          `${u.artifactDigest} (${u.failures.map((f) => `${f.path}: ${f.check ?? '?'}: ${f.code ?? '?'}: ${f.message ?? ''}`).join('; ')})`,
      );
    throw new StellaError(
      'IMPORT_POLICY_UNMET',
      'policy',
      `nothing imported: ${unmet.length} of ${summary.artifacts} artifact(s) in ${o.archivePath} have no bundle that verifies under the policy: ${shown.join(', ')}${unmet.length > shown.length ? `, and ${unmet.length - shown.length} more` : ''}`,
      { artifacts: unmet },
    );
  }
  return {
    seal: summary.seal,
    manifestSha256: summary.manifestSha256,
    artifacts: summary.artifacts,
  };
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

export async function runImport(o: ImportOptions): Promise<ImportResult> {
  const source = archiveFileSource(o.archivePath);
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
  const checked: { seal: SealStatus; manifestSha256: string; artifacts?: number } = o.policy
    ? await checkImportPolicy({
        source,
        archivePath: o.archivePath,
        trust,
        policy: o.policy,
        jobs: o.jobs ?? parseJobs(undefined),
        exporters,
      })
    : await checkArchive(source, trust, exporters);
  const { seal, manifestSha256 } = checked;
  const storePath = resolveAttestationStorePath(o.attestationStorePath, o.env);
  const store = AttestationStore.open(storePath, 'write');
  try {
    let lastArtifact = '';
    let artifacts = 0;
    // One per distinct checkpoint; those of logs the receiver does not trust cannot be checked.
    const checkpoints = new Map<string, EntryCheckpoint>();
    let untrusted = 0;
    let consistency: ConsistencyReport | undefined;
    const { result: count, added } = await store.batch(async (save) => {
      const read = await readExportArchiveStream(source, {
        expectManifestSha256: manifestSha256,
        onBundle: (entry, bytes) => {
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
            identity: cert ? certificateIdentities(cert)[0]?.value : undefined,
            issuer: cert ? oidcIssuer(cert) : undefined,
          });
          if (process.env.STELLA_TEST_IMPORT_DELAY_MS) {
            // Test hook: slows the import so a test can kill it mid-transaction.
            const until = Date.now() + Number(process.env.STELLA_TEST_IMPORT_DELAY_MS);
            while (Date.now() < until);
          }
        },
      });
      if (untrusted > 0)
        warnings.push(
          `${untrusted} checkpoint(s) of logs the trust does not name were not checked for consistency`,
        );
      // Before the import commits: a refusal here rolls every bundle back.
      consistency = await checkConsistencyAgainstStore(
        {
          trust,
          trustStorePath,
          trustedRootPath: o.trustedRootPath,
          storePath: o.storePath,
          requireConsistency: o.requireConsistency ?? false,
          checkpoints: [...checkpoints.values()],
          consistency: read.consistency,
          source: o.archivePath,
          command: o.command ?? 'stella attest import',
        },
        warnings,
      );
      return read.count;
    });
    return {
      archive: o.archivePath,
      attestationStore: storePath,
      bundles: count,
      added,
      duplicates: count - added,
      artifacts,
      seal,
      manifestSha256,
      verified: checked.artifacts ?? null,
      consistency: consistency ?? null,
      warnings,
    };
  } finally {
    store.close();
  }
}
