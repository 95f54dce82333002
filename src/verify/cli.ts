/**
 * The I/O edge of `stella attest verify`: read the files named by flags, pick the trust
 * source, build the policy, run the pipeline. Everything after reading is pure.
 */
import { readFileSync } from 'node:fs';
import { fail } from '../errors.js';
import { parseBundle } from '../bundle/parse.js';
import { parseTrustedRoot } from '../trust/trusted-root.js';
import { publicGoodTrustedRootPath } from '../trust/public-good.js';
import { buildPolicy } from './policy.js';
import { artifactDigest, isDigestReference, parseDigestReference, type Artifact } from './artifact.js';
import { toHex } from '../util/encoding.js';
import { verifyBundleReport, type VerificationReport } from './pipeline.js';
import type { TrustMaterial } from '../trust/material.js';
import type { Bundle } from '../bundle/model.js';

export interface VerifyCommandOptions {
  bundlePath?: string;
  artifact: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  keyPath?: string;
  trustedRootPath?: string;
  requireRekor?: boolean;
  storePath?: string;
  maxAge?: string;
  attestationStorePath?: string;
  /** Export archive to take the bundles for the artifact from (its trusted root is not used). */
  archivePath?: string;
  now?: number;
}

export interface VerifyOutcome {
  report: VerificationReport;
  trustSource: string;
  warnings: string[];
}

export function readInputFile(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail('INPUT_INVALID', 'input', `${what} ${JSON.stringify(path)}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`, undefined, { cause: e });
  }
}

export function loadArtifact(ref: string): Artifact {
  if (isDigestReference(ref)) return parseDigestReference(ref);
  return { kind: 'bytes', data: readInputFile(ref, '--artifact') };
}

export interface TrustSelection {
  trust: TrustMaterial;
  source: string;
  warnings: string[];
}

/** --trusted-root, else the local trust store when one exists, else the embedded public-good root. */
export async function selectTrust(opts: Pick<VerifyCommandOptions, 'trustedRootPath' | 'storePath' | 'maxAge' | 'now'>): Promise<TrustSelection> {
  if (opts.trustedRootPath) {
    return { trust: parseTrustedRoot(readInputFile(opts.trustedRootPath, '--trusted-root')), source: `trusted root ${opts.trustedRootPath}`, warnings: [] };
  }
  const { trustFromStoreIfPresent } = await import('../trust/store/verify-source.js');
  const fromStore = trustFromStoreIfPresent(opts);
  if (fromStore) return fromStore;
  const path = publicGoodTrustedRootPath();
  return { trust: parseTrustedRoot(readInputFile(path, 'embedded public-good trusted root')), source: 'embedded public-good trusted root', warnings: [] };
}

async function loadBundles(opts: VerifyCommandOptions, artifact: Artifact): Promise<Bundle[]> {
  if (opts.bundlePath && opts.archivePath) fail('INPUT_INVALID', 'input', '--bundle and --archive cannot be combined: the bundles come from one or the other');
  if (opts.bundlePath) return [parseBundle(readInputFile(opts.bundlePath, '--bundle'))];
  if (opts.archivePath) {
    // An export archive is keyed by sha256; a file artifact is looked up by its sha256.
    const digest = artifactDigest(artifact, 'SHA2_256');
    if (!digest) fail('NO_ATTESTATIONS_FOUND', 'archive', 'no attestations found: export archives are keyed by sha256 digests');
    const { readExportArchiveFile } = await import('../archive/collect.js');
    const { bundlesForArtifact } = await import('../archive/export.js');
    return bundlesForArtifact(readExportArchiveFile(opts.archivePath), `sha256:${toHex(digest)}`, `archive ${opts.archivePath}`);
  }
  if (artifact.kind !== 'digest') {
    fail('INPUT_INVALID', 'input', '--bundle (or --archive) is required unless --artifact is a sha256:<hex> digest found in the attestation store');
  }
  const { findBundlesForDigest } = await import('../store/lookup.js');
  return findBundlesForDigest(artifact, opts.attestationStorePath);
}

export async function runVerify(opts: VerifyCommandOptions): Promise<VerifyOutcome> {
  const policy = buildPolicy({
    certificateIdentity: opts.certificateIdentity,
    certificateOidcIssuer: opts.certificateOidcIssuer,
    publicKeyPem: opts.keyPath ? Buffer.from(readInputFile(opts.keyPath, '--key')).toString('utf8') : undefined,
    requireTlog: opts.requireRekor ?? false,
    now: opts.now,
  });
  const artifact = loadArtifact(opts.artifact);
  const bundles = await loadBundles(opts, artifact);
  const { trust, source, warnings } = await selectTrust(opts);
  // With several stored attestations for one digest, the first that verifies wins; if none
  // does, the first failure is reported.
  let first: VerificationReport | undefined;
  for (const bundle of bundles) {
    const report = await verifyBundleReport({ bundle, artifact, trust, policy });
    if (report.ok) return { report, trustSource: source, warnings: [...warnings, ...report.warnings] };
    first ??= report;
  }
  return { report: first!, trustSource: source, warnings: [...warnings, ...first!.warnings] };
}
