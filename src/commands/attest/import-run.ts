/**
 * The I/O edge of `stella attest import`: check the archive whole (preamble and seal, then a
 * structural pass: nothing is written for a bad archive), then stream its bundles into the
 * attestation store inside one transaction (store/attestations.ts batch): all or nothing.
 * Inside that transaction, before it commits, the bundles' checkpoints and the archive's
 * consistency.json are held against the trust store (./consistency-run.ts, the same step as
 * `attest verify`): a split view, a rollback, a bad proof or (--require-consistency) an
 * unproven checkpoint rolls the import back, so nothing is imported.
 */
import { parseBundle } from '../../bundle/parse.js';
import { certificateIdentities, oidcIssuer, parseCertificate } from '../../x509/certificate.js';
import { toHex, utf8Decoder } from '../../util/encoding.js';
import { AttestationStore, resolveAttestationStorePath } from '../../store/attestations.js';
import { readExportArchiveStream, readPreamble } from '../../archive/export-stream.js';
import { checkSeal, type SealStatus } from '../../shipment/seal.js';
import { StellaError } from '../../errors.js';
import { archiveFileSource, exportersFor } from './shipment-run.js';
import { selectTrust } from './verify-run.js';
import { checkConsistencyAgainstStore } from './consistency-run.js';
import {
  entryCheckpointKey,
  entryCheckpointsOf,
  type EntryCheckpoint,
} from '../../tlog/consistency.js';
import type { ConsistencyReport } from '../../trust/store/consistency.js';

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
  env?: NodeJS.ProcessEnv;
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
        `sealed archive ${o.archivePath} does not match its sealed manifest: ${e.message}`,
        e.details,
        { cause: e },
      );
    }
    throw e;
  }
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
        expectManifestSha256: pre.manifestSha256,
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
      manifestSha256: pre.manifestSha256,
      consistency: consistency ?? null,
      warnings,
    };
  } finally {
    store.close();
  }
}
