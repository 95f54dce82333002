/**
 * The I/O edge of `stella attest import`: check the archive whole (preamble and seal, then a
 * structural pass: nothing is written for a bad archive), then stream its bundles into the
 * attestation store inside one transaction (store/attestations.ts batch): all or nothing.
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
import { utf8Decoder } from '../../util/encoding.js';
import { AttestationStore, resolveAttestationStorePath } from '../../store/attestations.js';
import { readExportArchiveStream, readPreamble } from '../../archive/export-stream.js';
import { checkSeal, type SealStatus } from '../../shipment/seal.js';
import { StellaError, type FailureSummary } from '../../errors.js';
import type { PolicyOptions } from '../../verify/policy.js';
import type { ExporterTrust } from '../../shipment/seal.js';
import type { ArchiveSource } from '../../archive/export-stream.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import { archiveFileSource, exportersFor, parseJobs } from './shipment-run.js';
import { selectTrust } from './verify-run.js';

export interface ImportOptions {
  archivePath: string;
  attestationStorePath?: string | undefined;
  storePath?: string | undefined;
  sealKey?: string | undefined;
  sealIdentity?: string | undefined;
  sealIssuer?: string | undefined;
  trustedRootPath?: string | undefined;
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
  archivePath: string,
  trust: TrustMaterial,
  exporters: ExporterTrust | undefined,
): Promise<{ seal: SealStatus; manifestSha256: string }> {
  const pre = await readPreamble(source);
  const seal = await checkSeal(pre, exporters, trust, Date.now(), source.name);
  try {
    await readExportArchiveStream(source, { expectManifestSha256: pre.manifestSha256 });
  } catch (e) {
    if (
      seal.status === 'verified' &&
      e instanceof StellaError &&
      e.code === 'ARCHIVE_MANIFEST_MISMATCH'
    ) {
      throw new StellaError(
        'SEALED_ARCHIVE_MISMATCH',
        'seal',
        `sealed archive ${archivePath} does not match its sealed manifest: ${e.message}`,
        e.details,
        { cause: e },
      );
    }
    throw e;
  }
  return { seal, manifestSha256: pre.manifestSha256 };
}

export async function runImport(o: ImportOptions): Promise<ImportResult> {
  const source = archiveFileSource(o.archivePath);
  const { trust } = await selectTrust({
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
    : await checkArchive(source, o.archivePath, trust, exporters);
  const { seal, manifestSha256 } = checked;
  const storePath = resolveAttestationStorePath(o.attestationStorePath, o.env);
  const store = AttestationStore.open(storePath, 'write');
  try {
    let lastArtifact = '';
    let artifacts = 0;
    const { result: count, added } = await store.batch(async (save) => {
      const read = await readExportArchiveStream(source, {
        expectManifestSha256: manifestSha256,
        onBundle: (entry, bytes) => {
          // Parsed strictly: a bundle that does not parse stops the import (and rolls it back).
          const bundle = parseBundle(bytes);
          const m = bundle.verificationMaterial.content;
          const der =
            m.kind === 'certificate'
              ? m.certificate
              : m.kind === 'x509CertificateChain'
                ? m.certificates[0]
                : undefined;
          const cert = der ? parseCertificate(der) : undefined;
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
    };
  } finally {
    store.close();
  }
}
