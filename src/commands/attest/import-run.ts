/**
 * The I/O edge of `stella attest import`: check the archive whole (preamble and seal, then a
 * structural pass: nothing is written for a bad archive), then stream its bundles into the
 * attestation store inside one transaction (store/attestations.ts batch): all or nothing.
 */
import { parseBundle } from '../../bundle/parse.js';
import { certificateIdentities, oidcIssuer, parseCertificate } from '../../x509/certificate.js';
import { utf8Decoder } from '../../util/encoding.js';
import { AttestationStore, resolveAttestationStorePath } from '../../store/attestations.js';
import { readExportArchiveStream, readPreamble } from '../../archive/export-stream.js';
import { checkSeal, type SealStatus } from '../../shipment/seal.js';
import { StellaError } from '../../errors.js';
import { archiveFileSource, exportersFor } from './shipment-run.js';
import { selectTrust } from './verify-run.js';

export interface ImportOptions {
  archivePath: string;
  attestationStorePath?: string | undefined;
  storePath?: string | undefined;
  sealKey?: string | undefined;
  sealIdentity?: string | undefined;
  sealIssuer?: string | undefined;
  trustedRootPath?: string | undefined;
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
      manifestSha256: pre.manifestSha256,
    };
  } finally {
    store.close();
  }
}
