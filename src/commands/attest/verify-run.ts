/**
 * The I/O edge of `stella attest verify`: read the files named by flags, pick the trust
 * source, find the bundles (a file, an export archive, the attestation store), build the
 * policy, run the pipeline. It lives with the commands: the library (verify/) takes bytes,
 * trust material and a policy, and never reads a flag or a file.
 */
import { fail, failureOf, StellaError } from '../../errors.js';
import { probeFile, readArtifactFile, readFileBounded, STDIN_PATH } from '../../util/fs.js';
import { parseBundle, type RefusedItem } from '../../bundle/parse.js';
import { buildPolicy, type PolicyOptions } from '../../verify/policy.js';
import {
  artifactDigest,
  isDigestReference,
  parseDigestReference,
  type Artifact,
} from '../../verify/artifact.js';
import { toHex, toLatin1 } from '../../util/encoding.js';
import { verifyBundleReport, type VerificationReport } from '../../verify/pipeline.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import { BUNDLE_LIMITS, type Bundle } from '../../bundle/model.js';
import { entryCheckpointsOf } from '../../tlog/consistency.js';
import { checkConsistencyAgainstStore } from './consistency-run.js';
import { selectTrust } from './trust-selection.js';
import { quoted, PATH_CHARS_SHOWN } from '../../util/text.js';
import { readPublicKeyRef } from '../key-ref.js';

export interface VerifyCommandOptions {
  bundlePath?: string;
  /** A path or digest; may be left out with a registry `image` (its digest is the artifact). */
  artifact?: string | undefined;
  /** How errors name `artifact`: `--artifact` (the default), or `artifact` when it was the argument. */
  artifactWhat?: string | undefined;
  /** `REGISTRY/REPO@sha256:…` (bundles fetched from the registry) or a bare `sha256:…` (like artifact). */
  image?: string | undefined;
  /** Registry flags for `image` (src/oci/options.ts). */
  registry?: import('../../oci/options.js').RegistryFlags;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  /** The identity part of the policy (identityPolicyOptions: flags, a policy file); replaces the two above. */
  identityOptions?: PolicyOptions;
  keyPath?: string;
  trustedRootPath?: string;
  requireRekor?: boolean;
  storePath?: string;
  maxAge?: string;
  attestationStorePath?: string;
  /** Export archive to take the bundles for the artifact from (its trusted root is not used). */
  archivePath?: string;
  /** --require-consistency: refuse checkpoints not proven consistent with the trust store's (a policy environment's requireConsistency asks the same). */
  requireConsistency?: boolean;
  now?: number;
  /** The command line, as the trust store's history records it. */
  command?: string;
}

export interface VerifyOutcome {
  report: VerificationReport;
  trustSource: string;
  warnings: string[];
  /** What the logs' checkpoints showed against the trust store (when a store was used). */
  consistency?: import('../../trust/store/consistency.js').ConsistencyReport | undefined;
}

/** A file artifact: its bytes when it fits in memory, else its SHA-256 computed in chunks (any size). */
export function loadArtifact(ref: string, what = '--artifact'): Artifact {
  if (isDigestReference(ref)) return parseDigestReference(ref, what);
  const file = readArtifactFile(ref, { what });
  return file.kind === 'bytes'
    ? { kind: 'bytes', data: file.bytes }
    : { kind: 'digest', algorithm: 'SHA2_256', digest: file.digest };
}

export interface LoadedBundles {
  bundles: Bundle[];
  /** Bundles that could not be read, each reported (one bad bundle never hides the others). */
  refused: RefusedItem[];
  /** Registry referrers set aside (not bundles, legacy cosign signatures), as warnings. */
  skipped?: string[];
  /** An export archive's consistency.json, when it has one. */
  consistency?: Uint8Array | undefined;
  /** With consistency.json: every bundle of the archive (the proofs start at their checkpoints). */
  shipmentBundles?: Bundle[] | undefined;
}

/**
 * Why the options name more than one place to take bundles from, if they do. The one rule: the
 * CLI (`attest verify`, `attest inspect`) refuses these as usage errors (exit 2) before it reads
 * anything; loadBundles refuses them as INPUT_INVALID for a library caller.
 */
export function bundleSourceMistake(
  opts: Pick<VerifyCommandOptions, 'bundlePath' | 'archivePath' | 'image'>,
): string | undefined {
  if (opts.bundlePath && opts.archivePath)
    return '--bundle and --archive cannot be combined: the bundles come from one or the other';
  if (opts.image?.startsWith('sha256:') === false && (opts.bundlePath || opts.archivePath))
    return '--image REGISTRY/REPO@sha256:<hex> takes the bundles from the registry: it cannot be combined with --bundle or --archive';
  return undefined;
}

/**
 * The one bundle file of --bundle (verify and inspect): a Sigstore bundle, or cosign's legacy
 * `sign-blob --bundle` file read as a bundle v0.1 (said in `skipped`, the warnings). An export
 * archive given here is named as one.
 */
export async function readBundleFile(path: string, what = '--bundle'): Promise<LoadedBundles> {
  const bytes = readFileBounded(path, {
    what,
    maxBytes: BUNDLE_LIMITS.maxBytes,
    limitCode: 'BUNDLE_LIMIT_EXCEEDED',
  });
  const kind = sniffContainer(bytes);
  if (kind)
    fail(
      'INPUT_INVALID',
      'input',
      `${what} ${quoted(path, PATH_CHARS_SHOWN)} is ${kind}, not a Sigstore bundle (JSON): an export archive from \`stella attest export-bundle\` goes to --archive${kind.startsWith('a gzip') ? ' (decompress it first: archives are read uncompressed)' : ''}`,
    );
  try {
    return { bundles: [parseBundle(bytes)], refused: [] };
  } catch (e) {
    // cosign's legacy --bundle file (sign-blob's or attest-blob's), read as the bundle v0.1 it
    // amounts to; loaded only when a file fails to parse.
    const { cosignLegacyBundleOr } = await import('../../bundle/cosign-legacy.js');
    const legacy = cosignLegacyBundleOr(e, bytes, `--bundle ${quoted(path, PATH_CHARS_SHOWN)}`);
    return { bundles: [legacy.bundle], refused: [], skipped: [legacy.note] };
  }
}

/** The bundles a verification (or `attest inspect`) reads: --bundle, --image, --archive, else the attestation store. */
export async function loadBundles(
  opts: VerifyCommandOptions,
  artifact: Artifact,
): Promise<LoadedBundles> {
  const mistake = bundleSourceMistake(opts);
  if (mistake !== undefined) fail('INPUT_INVALID', 'input', mistake);
  if (opts.image !== undefined && !opts.image.startsWith('sha256:')) {
    const { bundlesFromImage } = await import('../../oci/verify-source.js');
    return bundlesFromImage(opts.image, opts.registry ?? {});
  }
  if (opts.bundlePath) return readBundleFile(opts.bundlePath);
  if (opts.archivePath) {
    // An export archive is keyed by sha256; a file artifact is looked up by its sha256.
    const digest = artifactDigest(artifact, 'SHA2_256');
    if (!digest)
      fail(
        'NO_ATTESTATIONS_FOUND',
        'archive',
        'no attestations found: export archives are keyed by sha256 digests',
      );
    const { bundlesFromArchiveFile } = await import('./shipment-run.js');
    try {
      return await bundlesFromArchiveFile(opts.archivePath, `sha256:${toHex(digest)}`);
    } catch (e) {
      // A JSON bundle given as an archive: say which flag it belongs to.
      const head =
        opts.archivePath === STDIN_PATH
          ? undefined
          : probeFile(opts.archivePath, 64, { what: '--archive' });
      if (e instanceof StellaError && head?.kind === 'file' && /^\s*\{/.test(toLatin1(head.head))) {
        throw e.reworded(
          `--archive ${quoted(opts.archivePath, PATH_CHARS_SHOWN)} is JSON, not an export archive (tar): a Sigstore bundle goes to --bundle`,
        );
      }
      throw e;
    }
  }
  if (artifact.kind !== 'digest') {
    fail(
      'INPUT_INVALID',
      'input',
      '--bundle (or --archive) is required unless --artifact is a sha256:<hex> digest found in the attestation store',
    );
  }
  const { findBundlesForDigest } = await import('../../store/lookup.js');
  return findBundlesForDigest(artifact, opts.attestationStorePath);
}

/** What a file that should be JSON is instead, when it is a container: a tar or gzip file. */
function sniffContainer(bytes: Uint8Array): string | undefined {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'a gzip file';
  if (bytes.length >= 262 && toLatin1(bytes.subarray(257, 262)) === 'ustar') return 'a tar archive';
  return undefined;
}

/** --artifact, else --image's digest; both given, they must name the same digest. */
async function artifactReference(opts: VerifyCommandOptions): Promise<string> {
  if (opts.image === undefined) {
    if (opts.artifact === undefined)
      fail('INPUT_INVALID', 'input', '--artifact (or --image) is required');
    return opts.artifact;
  }
  let digest = opts.image;
  if (!opts.image.startsWith('sha256:')) {
    const { parseImageReference } = await import('../../oci/reference.js');
    digest = parseImageReference(opts.image, '--image').digest;
  }
  if (opts.artifact !== undefined && opts.artifact !== digest) {
    fail(
      'INPUT_INVALID',
      'input',
      `${opts.artifactWhat ?? '--artifact'} ${quoted(opts.artifact, 140)} is not the digest of --image ${quoted(opts.image, 300)}: give one, or the same digest`,
    );
  }
  return digest;
}

function refusalWarning(r: RefusedItem): string {
  return `${r.source} not verified: ${r.failure.code === 'INTERNAL' ? 'internal error' : r.failure.code} (exit ${r.failure.exitCode}): ${r.failure.message}`;
}

/** The policy: identity flags (or a policy file's), --key, --require-rekor, the clock. */
function verifyPolicy(
  opts: VerifyCommandOptions,
  identity: PolicyOptions,
): ReturnType<typeof buildPolicy> {
  return buildPolicy({
    ...identity,
    publicKeyPem: opts.keyPath ? readPublicKeyRef(opts.keyPath, '--key') : undefined,
    // --require-rekor, or a policy environment's requireRekor: either one asks for it.
    requireTlog: (opts.requireRekor ?? false) || (identity.requireTlog ?? false),
    now: opts.now,
  });
}

/** The consistency step for the bundle that verified, against the trust store (when one is in use). */
async function consistencyOfVerified(
  opts: VerifyCommandOptions,
  identity: PolicyOptions,
  run: {
    bundle: Bundle;
    trust: TrustMaterial;
    trustStorePath: string | undefined;
    shipmentBundles: Bundle[] | undefined;
    consistency: Uint8Array | undefined;
  },
  warnings: string[],
): Promise<VerifyOutcome['consistency']> {
  return checkConsistencyAgainstStore(
    {
      trust: run.trust,
      trustStorePath: run.trustStorePath,
      trustedRootPath: opts.trustedRootPath,
      storePath: opts.storePath,
      // --require-consistency, or a policy environment's requireConsistency.
      requireConsistency:
        (opts.requireConsistency ?? false) || (identity.requireConsistency ?? false),
      checkpoints: entryCheckpointsOf(run.bundle),
      shipmentCheckpoints: run.shipmentBundles
        ?.filter((b) => b !== run.bundle)
        .flatMap((b) => entryCheckpointsOf(b)),
      consistency: run.consistency,
      source:
        opts.archivePath ?? opts.bundlePath ?? opts.image ?? opts.artifact ?? 'attestation store',
      now: opts.now,
      command: opts.command ?? 'stella attest verify',
    },
    warnings,
  );
}

export async function runVerify(opts: VerifyCommandOptions): Promise<VerifyOutcome> {
  const identity = opts.identityOptions ?? {
    certificateIdentity: opts.certificateIdentity,
    certificateOidcIssuer: opts.certificateOidcIssuer,
  };
  const checkedPolicy = verifyPolicy(opts, identity);
  const artifact = loadArtifact(await artifactReference(opts), opts.artifactWhat);
  const {
    bundles,
    refused,
    skipped = [],
    consistency,
    shipmentBundles,
  } = await loadBundles(opts, artifact);
  const {
    trust,
    source,
    warnings: loadedTrustWarnings,
    storePath: trustStorePath,
  } = await selectTrust(opts);
  const trustWarnings = [...loadedTrustWarnings, ...skipped];
  // The clock is read once the inputs are in hand, not when the command started: a bundle piped
  // from `attest sign --output -` is logged after this process started reading, and its log
  // time is not "in the future" of that start. (The policy is built first for its checks.)
  const policy = opts.now === undefined ? { ...checkedPolicy, now: Date.now() } : checkedPolicy;
  // With several attestations for one digest, the first that verifies wins; if none does, the
  // first failure is reported. Each bundle is verified on its own: one that cannot be read,
  // or that fails in a way the pipeline did not foresee, is reported and never stops the rest.
  let first: VerificationReport | undefined;
  let firstCrash: unknown;
  for (const [i, bundle] of bundles.entries()) {
    let report: VerificationReport;
    try {
      report = await verifyBundleReport({ bundle, artifact, trust, policy });
    } catch (e) {
      firstCrash ??= e;
      refused.push({
        source: `bundle ${i + 1} of ${bundles.length}`,
        failure: failureOf(e),
        error: e,
      });
      continue;
    }
    if (report.ok) {
      const checked = await consistencyOfVerified(
        opts,
        identity,
        { bundle, trust, trustStorePath, shipmentBundles, consistency },
        trustWarnings,
      );
      return {
        report,
        trustSource: source,
        warnings: [...trustWarnings, ...refused.map(refusalWarning), ...report.warnings],
        consistency: checked,
      };
    }
    first ??= report;
  }
  if (!first) throw firstCrash;
  return {
    report: first,
    trustSource: source,
    warnings: [...trustWarnings, ...refused.map(refusalWarning), ...first.warnings],
  };
}
