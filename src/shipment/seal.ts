/**
 * Sealed shipments: `manifest.sigstore.json`, a Sigstore bundle (message signature) over the
 * exact bytes of `manifest.cbor`. The manifest lists every other entry's SHA-256, so a valid
 * seal from a trusted exporter binds the whole archive: an entry dropped, added, reordered or
 * swapped no longer matches the sealed manifest (SEALED_ARCHIVE_MISMATCH).
 *
 * Exporters are trusted by key (ECDSA P-256/P-384/P-521, `trust keys add --role exporter` or
 * --seal-key) or by identity and issuer for keyless seals (Fulcio certificate + Rekor entry,
 * verified by the full pipeline against the same trust material as the bundles).
 */
import type { KeyObject } from 'node:crypto';
import { fail, failureOf, StellaError } from '../errors.js';
import { parseBundle } from '../bundle/parse.js';
import { verifyPrehashed } from '../crypto-prehash.js';
import { fromHex, bytesEqual, toHex } from '../util/encoding.js';
import { buildPolicy } from '../verify/policy.js';
import { verifyBundleReport } from '../verify/pipeline.js';
import type { TrustMaterial } from '../model/trust-material.js';
import {
  readExportArchiveStream,
  readPreamble,
  type ArchivePreamble,
  type ArchiveSource,
  type StreamedArchive,
  type StreamReadOptions,
  type StreamLimits,
} from '../archive/export-stream.js';
import { literalPattern } from '../verify/identity-pattern.js';

export interface ExporterTrust {
  keys: { keyId: string; key: KeyObject }[];
  /** Keyless exporters: the certificate identity (exact) and OIDC issuer (exact). */
  identities: { identity: string; issuer: string }[];
}

export type SealStatus =
  /** Checked against the trusted exporters. */
  | { status: 'verified'; by: string }
  /** No seal, and none required. */
  | { status: 'unsealed' }
  /** A seal, but no exporter is trusted to check it against: it proves nothing. */
  | { status: 'unchecked' };

/** The seal's status as a reader of a summary or report is told it. */
export function describeSeal(seal: SealStatus): string {
  if (seal.status === 'verified') return `sealed by ${seal.by}`;
  if (seal.status === 'unchecked') return 'sealed, not checked (no exporter trusted)';
  return 'not sealed';
}

function invalid(message: string, cause?: unknown): never {
  throw new StellaError(
    'SEAL_INVALID',
    'seal',
    message,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

export function exportersTrusted(e: ExporterTrust | undefined): e is ExporterTrust {
  return e !== undefined && e.keys.length + e.identities.length > 0;
}

/** Judge an archive's seal before anything else of it is read. */
export async function checkSeal(
  pre: ArchivePreamble,
  exporters: ExporterTrust | undefined,
  trust: TrustMaterial,
  now: number,
  archiveName: string,
): Promise<SealStatus> {
  const required = exportersTrusted(exporters);
  if (!pre.seal) {
    if (required)
      fail(
        'SEAL_REQUIRED',
        'seal',
        `${archiveName} is not sealed, and a seal from a trusted exporter is required (${exporters.keys.length} exporter key(s), ${exporters.identities.length} exporter identit(ies))`,
      );
    return { status: 'unsealed' };
  }
  if (!required) return { status: 'unchecked' };
  let bundle;
  try {
    bundle = parseBundle(pre.seal);
  } catch (e) {
    invalid(`manifest.sigstore.json is not a valid Sigstore bundle: ${failureOf(e).message}`, e);
  }
  const c = bundle.content;
  if (c.kind !== 'messageSignature' || c.messageDigest?.algorithm !== 'SHA2_256')
    invalid(
      'manifest.sigstore.json must be a message signature with a SHA-256 digest of manifest.cbor',
    );
  const manifestDigest = fromHex(pre.manifestSha256);
  const sealed = c.messageDigest.digest;
  if (!bytesEqual(sealed, manifestDigest))
    invalid(
      `the seal is over other bytes (sha256:${toHex(sealed)}), not this manifest.cbor (sha256:${pre.manifestSha256})`,
    );
  const m = bundle.verificationMaterial.content;
  if (m.kind === 'publicKey') {
    for (const k of exporters.keys)
      if (verifyPrehashed(k.key, manifestDigest, c.signature))
        return { status: 'verified', by: `exporter key ${k.keyId}` };
    invalid(`the seal is not signed by a trusted exporter key (${exporters.keys.length} trusted)`);
  }
  let firstFailure: string | undefined;
  for (const id of exporters.identities) {
    const policy = buildPolicy({
      certificateIdentity: literalPattern(id.identity),
      certificateOidcIssuer: id.issuer,
      now,
    });
    const report = await verifyBundleReport({
      bundle,
      artifact: { kind: 'digest', algorithm: 'SHA2_256', digest: manifestDigest },
      trust,
      policy,
    });
    if (report.ok) return { status: 'verified', by: `exporter ${id.identity} (${id.issuer})` };
    if (report.error)
      firstFailure ??= `${report.error.code} (${report.error.check}): ${report.error.message}`;
  }
  return invalid(
    exporters.identities.length === 0
      ? 'the seal is keyless, and only exporter keys are trusted'
      : `the seal does not verify for any trusted exporter identity: ${firstFailure ?? 'no match'}`,
  );
}

/**
 * An archive's preamble and seal, then its whole structure (every entry against the manifest).
 * Once a seal verified, an entry that does not match the manifest breaks the seal, so
 * ARCHIVE_MANIFEST_MISMATCH becomes SEALED_ARCHIVE_MISMATCH: refused before any bundle is
 * judged. The one check `verify --archive` and `attest import` both start from.
 */
export async function readSealedArchive(
  source: ArchiveSource,
  exporters: ExporterTrust | undefined,
  trust: TrustMaterial,
  now: number,
  limits?: StreamLimits,
  /** Called during the structural pass (the manifest's head; each entry as it checks out). */
  watch: Pick<StreamReadOptions, 'onHeader' | 'onBundle'> = {},
): Promise<{ pre: ArchivePreamble; seal: SealStatus; structure: StreamedArchive }> {
  const pre = await readPreamble(source, limits);
  const seal = await checkSeal(pre, exporters, trust, now, source.name);
  try {
    const structure = await readExportArchiveStream(source, {
      limits,
      expectManifestSha256: pre.manifestSha256,
      ...watch,
    });
    return { pre, seal, structure };
  } catch (e) {
    if (
      seal.status === 'verified' &&
      e instanceof StellaError &&
      e.code === 'ARCHIVE_MANIFEST_MISMATCH'
    ) {
      throw new StellaError(
        'SEALED_ARCHIVE_MISMATCH',
        'seal',
        // The reader's own words, without the archive's name it added (said here first).
        `${source.name} is sealed, and does not match its sealed manifest: ${e.cause instanceof StellaError ? e.cause.message : e.message}`,
        e.details,
        { cause: e },
      );
    }
    throw e;
  }
}
