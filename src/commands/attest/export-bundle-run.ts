/**
 * The I/O edge of `stella attest export-bundle`: gather bundles from the attestation store
 * and from files, build the archive (archive/export.ts, which takes and gives bytes), write it
 * atomically. With the commands: reading flags and files is the command's job.
 *
 * Sources: the attestation store (--attestation-store, else $STELLA_ATTESTATION_STORE, else
 * the per-user store) is read unless only --bundle files are given without
 * --attestation-store. A --bundle file is filed under every sha256 artifact digest it covers
 * (its message digest, or its in-toto subjects), restricted to the --artifact digests asked for.
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fail, failureOf, StellaError } from '../../errors.js';
import { parseTimeFlag } from '../../util/time.js';
import { parseBundle, type RefusedItem } from '../../bundle/parse.js';
import { BUNDLE_LIMITS } from '../../bundle/model.js';
import {
  bundlePredicateType,
  predicateTypeFlagMistake,
  predicateTypeURI,
} from '../../bundle/intoto.js';
import { parseTrustedRoot } from '../../trust/trusted-root.js';
import {
  AttestationStore,
  normalizeArtifactDigest,
  resolveAttestationStorePath,
} from '../../store/attestations.js';
import { utf8, toHex } from '../../util/encoding.js';
import {
  AtomicFile,
  checkWritableTarget,
  readFileBounded,
  STDOUT_PATH,
  writeFileAtomic,
} from '../../util/fs.js';
import { sha256 } from '../../crypto.js';
import { keySeal } from '../../shipment/key-seal.js';
import { createHash } from 'node:crypto';
import {
  artifactDigestsOf,
  inputBytes,
  prepareExportArchive,
  readExportArchive,
  EXPORT_LIMITS,
  type ExportArchive,
  type ExportArchiveWriter,
  type ExportInput,
} from '../../archive/export.js';
import type { ExportManifest } from '../../archive/manifest.js';
import { gzipChunks } from '../../archive/gzip.js';
import type { RunSignOptions } from './sign-run.js';
import { identityTokenPath } from '../../sign/token.js';
import { readPrivateKeyRef } from '../private-key-ref.js';
import { cosignLegacyBundleOr } from '../../bundle/cosign-legacy.js';
import { quoted, PATH_CHARS_SHOWN } from '../../util/text.js';
import { resolveStorePath } from '../../trust/store/paths.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import { printWarning } from '../render.js';

export interface ExportBundleOptions {
  /** Bundles already pulled from OCI registries (src/oci/collect.ts), with their refusals. */
  registry?: { inputs: ExportInput[]; refused: RefusedItem[] } | undefined;
  outputPath: string;
  /** "sha256:<hex>" digests to export; empty with `all`. */
  artifacts: string[];
  all: boolean;
  attestationStorePath?: string | undefined;
  bundlePaths: string[];
  trustedRootPath?: string | undefined;
  /** RFC 3339; default the newest integrated time among the bundles. */
  createdAt?: string | undefined;
  /** --include-consistency: fetch each log's latest checkpoint and consistency proofs. */
  includeConsistency?: boolean;
  /**
   * --refresh-proofs: re-fetch every bundle's inclusion proof against its log's latest
   * checkpoint (src/sign/log-consistency-client.ts refreshShipmentProofs), so the shipment
   * shares one checkpoint per log. Needs the log, like includeConsistency.
   */
  refreshProofs?: boolean;
  /** --trusted-root: where the logs' URLs come from for --include-consistency. */
  logsTrustedRootPath?: string | undefined;
  storePath?: string | undefined;
  /** PEM ECDSA private key to seal the archive with (manifest.sigstore.json). */
  sealKeyPath?: string | undefined;
  /**
   * Seal through the keyless signing path instead (`attest sign`'s token, signer.yaml,
   * signing config and URL options); its trusted root is --trusted-root (logsTrustedRootPath).
   */
  sealKeyless?: KeylessSealOptions | undefined;
  /**
   * --predicate-type: only the bundles that are in-toto attestations of this type (the SLSA
   * provenance of each artifact, say, where the store also holds their signatures).
   */
  predicateType?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface ExportBundleResult {
  outputPath: string;
  /** Hex SHA-256 and size of the archive written. */
  sha256: string;
  size: number;
  manifest: ExportManifest;
  attestationStore: string | undefined;
  /**
   * Bundles left out, each with its source and reason (a file that cannot be read or parsed, a
   * bundle without its Rekor proof, ...). The archive holds the others; callers must treat a
   * non-empty list as a failure (the CLI exits EXPORT_INCOMPLETE).
   */
  refused: RefusedItem[];
  /** --include-consistency: per log, its latest tree size and how many proofs were fetched. */
  consistency?: { log: string; treeSize: number; proofs: number }[] | undefined;
  /** --refresh-proofs: per log, the tree size every entry was re-proved to, and how many entries. */
  refreshedProofs?: { log: string; treeSize: number; proofs: number }[] | undefined;
  /** 'archive' (tar), or 'bundle' for a .json output (the one bundle, as is). */
  format: 'archive' | 'bundle';
  /** Who sealed the archive, when sealed. */
  seal?: ExportSeal | undefined;
  /**
   * What the user should hear though the export succeeded: the trust selection's (a cosign
   * trust variable naming what the logs' trust lacks) and the keyless seal's signing warnings.
   */
  warnings: string[];
}

/** Who sealed an archive: an exporter key, or a keyless signer (its certificate identity and issuer, and the seal's log entry). */
export type ExportSeal =
  | { kind: 'key'; keyId: string }
  | { kind: 'keyless'; identity: string | null; issuer: string | null; logIndex: number };

export type KeylessSealOptions = Pick<
  RunSignOptions,
  'identityToken' | 'configPath' | 'signingConfigPath' | 'fulcioUrl' | 'rekorUrl' | 'env' | 'now'
>;

interface Sealer {
  seal: (manifest: Uint8Array) => Promise<Uint8Array>;
  /** Who sealed, once seal() has run. */
  sealed: () => ExportSeal | undefined;
}

/**
 * A keyless seal: manifest.cbor's exact bytes signed through the same path as `attest sign`
 * (prepareSigning + signArtifact: OIDC token, Fulcio certificate, Rekor entry, TSA as planned),
 * the resulting bundle being manifest.sigstore.json. The setup (config files, trust) is read
 * before the archive is built, so a bad flag fails before the first request.
 */
export async function sealKeyless(
  opts: KeylessSealOptions & { trustedRootPath?: string | undefined },
  warnings: string[],
): Promise<Sealer> {
  const { prepareSigning } = await import('./sign-run.js');
  const { signArtifact } = await import('../../sign/sign.js');
  const setup = await prepareSigning(opts);
  warnings.push(...setup.warnings);
  let sealed: ExportSeal | undefined;
  return {
    seal: async (manifest) => {
      const r = await signArtifact({
        artifact: { kind: 'bytes', bytes: manifest, name: 'manifest.cbor' },
        identityToken: opts.identityToken,
        config: setup.config,
        fulcioRoots: setup.fulcioRoots,
        plan: setup.plan,
        ...(setup.trust ? { trust: setup.trust, trustSource: setup.trustSource } : {}),
        env: setup.env,
        now: opts.now,
      });
      warnings.push(...r.warnings);
      sealed = {
        kind: 'keyless',
        identity: r.identity,
        issuer: r.issuer,
        logIndex: r.rekor.logIndex,
      };
      return utf8.encode(r.bundleJson);
    },
    sealed: () => sealed,
  };
}

/** A seal over the manifest's exact bytes by an exporter key (shipment/key-seal.ts). */
export function sealWithKey(keyPath: string): Sealer & { keyId: string } {
  const key = readPrivateKeyRef(keyPath, '--seal-key', { secret: true });
  const { keyId, seal } = keySeal(key, `--seal-key ${quoted(keyPath, PATH_CHARS_SHOWN)}`);
  return { keyId, seal, sealed: () => ({ kind: 'key', keyId }) };
}

/**
 * The trust material naming the logs' URLs and keys (for --include-consistency and
 * --refresh-proofs), selected once per export; its warnings go to `warnings`.
 */
function logsTrustOnce(opts: ExportBundleOptions, warnings: string[]): () => Promise<LogsTrust> {
  let selected: Promise<LogsTrust> | undefined;
  return () =>
    (selected ??= (async () => {
      const { selectTrust } = await import('./trust-selection.js');
      const s = await selectTrust({
        trustedRootPath: opts.logsTrustedRootPath ?? opts.trustedRootPath,
        storePath: opts.storePath,
      });
      warnings.push(...s.warnings);
      return { trust: s.trust, source: s.source };
    })());
}

/** The trust naming the logs, and where it came from (for messages). */
interface LogsTrust {
  trust: TrustMaterial;
  source: string;
}

/**
 * --include-consistency: for each log the bundles name, its latest checkpoint and a proof to
 * it from every checkpoint the bundles carry (src/sign/log-consistency-client.ts). The logs'
 * URLs come from trust material (--trusted-root, else --include-trusted-root, else the trust
 * store, else the public-good root); a bundle whose log is not in it cannot be proven.
 */
async function collectConsistency(
  inputs: readonly ExportInput[],
  logsTrust: () => Promise<LogsTrust>,
): Promise<{ bytes: Uint8Array; summary: NonNullable<ExportBundleResult['consistency']> }> {
  const { fetchLogConsistency } = await import('../../sign/log-consistency-client.js');
  const { serializeShipmentConsistency } = await import('../../archive/consistency.js');
  const { parseCheckpoint, parseSignedNote } = await import('../../tlog/note.js');
  const { rekorVersionOf } = await import('../../tlog/rekor-entry.js');
  const { trust } = await logsTrust();
  const logs = new Map<
    string,
    {
      baseUrl: string;
      rekor: 'v1' | 'v2';
      from: { origin: string; treeSize: number; rootHash: string }[];
    }
  >();
  for (const input of inputs) {
    let bundle;
    try {
      bundle = parseBundle(inputBytes(input));
    } catch {
      continue; // refused (and reported) by the archive builder
    }
    for (const e of bundle.verificationMaterial.tlogEntries) {
      if (!e.inclusionProof) continue;
      const id = toHex(e.logId);
      const log = trust.tlogs.find((l) => toHex(l.logId) === id);
      if (!log)
        fail(
          'TLOG_UNTRUSTED',
          'consistency',
          `--include-consistency: ${input.source} names log ${id}, which the trust material does not list (give --trusted-root with its URL)`,
        );
      const cp = parseCheckpoint(parseSignedNote(e.inclusionProof.checkpoint).text);
      let l = logs.get(id);
      if (!l)
        logs.set(
          id,
          (l = { baseUrl: log.baseUrl, rekor: rekorVersionOf(e.kindVersion), from: [] }),
        );
      l.from.push({ origin: cp.origin, treeSize: cp.treeSize, rootHash: toHex(cp.rootHash) });
    }
  }
  const fetched = [];
  for (const [logId, l] of [...logs.entries()].sort())
    fetched.push(await fetchLogConsistency({ logId, baseUrl: l.baseUrl, rekor: l.rekor }, l.from));
  return {
    bytes: serializeShipmentConsistency({ logs: fetched }),
    summary: fetched.map((f) => ({
      log: f.baseUrl,
      treeSize: parseCheckpoint(parseSignedNote(f.checkpoint).text).treeSize,
      proofs: f.proofs.length,
    })),
  };
}

/** --created-at, by the one strict RFC 3339 parser (a label, not a window: rounded down). */
export function parseCreatedAt(s: string): number {
  return parseTimeFlag(s, '--created-at', 'end');
}

/**
 * The store's bundles as inputs read by row id when needed (judged, then written), so a
 * shipment of 100,000 is never held in memory. The store stays open until the archive is
 * written; a row gone or changed by then refuses the export (prepareExportArchive).
 */
function fromStore(
  store: AttestationStore,
  path: string,
  wanted: Set<string> | undefined,
): ExportInput[] {
  const keys = wanted
    ? [...wanted].sort().flatMap((d) => [...store.eachStoredKey(d)])
    : store.eachStoredKey();
  const inputs: ExportInput[] = [];
  for (const { id, artifactDigest } of keys) {
    const source = `attestation store ${path} (row ${id})`;
    inputs.push({
      artifactDigest,
      bytes: () =>
        store.bundleBytesById(id) ??
        fail('INPUT_INVALID', 'input', `${source} was removed while the archive was being written`),
      source,
    });
  }
  return inputs;
}

/**
 * A --bundle file as the export reads it: the bundle, and the bytes the archive carries.
 * cosign's legacy bundle file (which `attest verify` reads) keeps no inclusion proof: with
 * --refresh-proofs it is carried as the bundle v0.1 it amounts to, and gets its proof from the
 * log like any other bundle; without, it is refused, with what to do instead.
 */
function readExportedBundleFile(
  bytes: Uint8Array,
  path: string,
  refreshProofs: boolean,
): { bundle: ReturnType<typeof parseBundle>; bytes: Uint8Array; legacy: boolean } {
  try {
    return { bundle: parseBundle(bytes), bytes, legacy: false };
  } catch (e) {
    const legacy = cosignLegacyBundleOr(e, bytes, `--bundle ${quoted(path, PATH_CHARS_SHOWN)}`);
    if (!refreshProofs)
      fail(
        'REKOR_PROOF_MISSING',
        'tlog',
        `Rekor proof missing: --bundle ${quoted(path, PATH_CHARS_SHOWN)} is cosign's legacy bundle format (cosign sign-blob or attest-blob --bundle without --new-bundle-format), which keeps no inclusion proof, so it cannot be verified offline: add --refresh-proofs to fetch its proof from the log (here, while the log is reachable), sign with --new-bundle-format (or stella attest sign), or verify it where it is with stella attest verify --bundle`,
        undefined,
        { cause: e },
      );
    return { bundle: legacy.bundle, bytes: legacy.bytes, legacy: true };
  }
}

function fromFile(
  path: string,
  wanted: Set<string> | undefined,
  refreshProofs: boolean,
): ExportInput[] {
  const read = readExportedBundleFile(
    readFileBounded(path, {
      what: '--bundle',
      maxBytes: BUNDLE_LIMITS.maxBytes,
      limitCode: 'BUNDLE_LIMIT_EXCEEDED',
    }),
    path,
    refreshProofs,
  );
  // Parsed here only to learn which artifacts it covers; buildExportArchive judges it again.
  const digests = artifactDigestsOf(read.bundle);
  if (digests.length === 0)
    fail(
      'INPUT_INVALID',
      'input',
      `--bundle ${quoted(path, PATH_CHARS_SHOWN)}: cannot tell which artifact it is for (no sha256 message digest or in-toto subject${read.legacy ? "; cosign's legacy file names none beside its signature, and it has no hashedrekord log entry with a SHA-256 to take it from" : ''})`,
    );
  const kept = wanted ? digests.filter((d) => wanted.has(d)) : digests;
  if (kept.length === 0)
    fail(
      'INPUT_INVALID',
      'input',
      `--bundle ${quoted(path, PATH_CHARS_SHOWN)} is for ${digests.join(', ')}, none of the --artifact digests asked for`,
    );
  const source = read.legacy
    ? `--bundle ${path} (cosign's legacy bundle file, carried as a bundle v0.1)`
    : `--bundle ${path}`;
  return kept.map((artifactDigest) => ({ artifactDigest, bytes: read.bytes, source }));
}

/** `--output FILE.json`: the one bundle selected, as a standard Sigstore bundle, not an archive. */
export function isBundleOutput(outputPath: string): boolean {
  return outputPath.toLowerCase().endsWith('.json');
}

/**
 * Names of archive or compression formats Stella does not write: an export named so would be
 * a plain tar that `unzip` or `xz -d` then refuses on the other side of the gap.
 */
const FOREIGN_ARCHIVE_NAME = /\.(zip|7z|rar|xz|txz|bz2|tbz|tbz2|zst|tzst|lz|lzma|lz4|z)$/i;

/** What exportOptionsMistake reads: the choice of bundles and the form of the output. */
export type ExportChoice = Pick<
  ExportBundleOptions,
  | 'all'
  | 'artifacts'
  | 'bundlePaths'
  | 'outputPath'
  | 'sealKeyPath'
  | 'sealKeyless'
  | 'includeConsistency'
  | 'predicateType'
> & { registry?: unknown };

/**
 * Why the options cannot make an export, before anything is read: --all, --artifact and
 * --image are one way of choosing, and at least one; seals and consistency proofs belong to
 * archives (refused with `--output FILE.json`). The one rule: the CLI refuses these as usage
 * errors (exit 2) before it asks a registry anything; runExportBundle refuses them as
 * INPUT_INVALID for a library caller.
 */
export function exportOptionsMistake(opts: ExportChoice): string | undefined {
  if (opts.all && opts.artifacts.length > 0) return '--all and --artifact cannot be combined';
  if (!opts.all && opts.artifacts.length === 0 && !opts.registry && opts.bundlePaths.length === 0)
    return 'say what to export: --artifact sha256:<hex>, --image or --bundle (repeatable), or --all';
  const foreign = FOREIGN_ARCHIVE_NAME.exec(opts.outputPath)?.[0];
  if (foreign !== undefined)
    return `--output ${quoted(opts.outputPath, PATH_CHARS_SHOWN)}: Stella writes an export archive as a tar (X.tar, or gzipped X.tar.gz or X.tgz), or one bundle as X.json; a name ending in ${foreign} would mislabel it`;
  const asBundle = isBundleOutput(opts.outputPath);
  if (asBundle && (opts.sealKeyPath !== undefined || opts.sealKeyless))
    return `${opts.sealKeyless ? '--seal-keyless' : '--seal-key'} seals an archive: give --output FILE.tar`;
  if (asBundle && opts.includeConsistency)
    return '--include-consistency adds consistency.json to an archive: give --output FILE.tar';
  if (opts.sealKeyPath !== undefined && opts.sealKeyless)
    return '--seal-key and --seal-keyless exclude each other';
  if (opts.predicateType !== undefined) return predicateTypeFlagMistake(opts.predicateType);
  return undefined;
}

/** --include-trusted-root: carried for the receiver's convenience, never trusted by reading; still, only a valid one. */
function readIncludedTrustedRoot(path: string | undefined): Uint8Array | undefined {
  if (!path) return undefined;
  const trustedRoot = readFileBounded(path, {
    what: '--include-trusted-root',
    maxBytes: EXPORT_LIMITS.maxTrustedRootBytes,
    limitCode: 'TRUSTED_ROOT_INVALID',
  });
  parseTrustedRoot(trustedRoot);
  return trustedRoot;
}

/** An artifact asked for and not found, reported like a bad bundle: the others still go. */
function missingArtifacts(
  wanted: Set<string>,
  inputs: ExportInput[],
  predicateType: string | undefined,
): RefusedItem | undefined {
  const have = new Set(inputs.map((i) => i.artifactDigest));
  const missing = [...wanted].filter((d) => !have.has(d));
  if (missing.length === 0) return undefined;
  const e = new StellaError(
    'NO_ATTESTATIONS_FOUND',
    'archive',
    `no attestations${predicateType === undefined ? '' : ` of predicate type ${quoted(predicateType)}`} found for ${missing.join(', ')}`,
    { artifactDigests: missing, ...(predicateType === undefined ? {} : { predicateType }) },
  );
  return {
    source: `--artifact ${missing.join(' --artifact ')}`,
    failure: failureOf(e),
    error: e,
  };
}

/**
 * The bundles to export, from the attestation store, the registry and --bundle files, with
 * what was refused on the way. Without --artifact or --all, the registry's and the --bundle
 * files' bundles go as given (`--bundle b.json -o x.tar`), and the store is not read unless
 * named.
 */
function gatherInputs(
  opts: ExportBundleOptions,
  wanted: Set<string> | undefined,
): {
  inputs: ExportInput[];
  refused: RefusedItem[];
  storePath: string | undefined;
  /** The attestation store the inputs read from; close it when the archive is written. */
  store: AttestationStore | undefined;
} {
  const asGiven =
    opts.artifacts.length === 0 &&
    !opts.all &&
    (opts.registry !== undefined || opts.bundlePaths.length > 0);
  const inputs: ExportInput[] = [];
  const useStore =
    opts.attestationStorePath !== undefined || (opts.bundlePaths.length === 0 && !asGiven);
  let storePath: string | undefined;
  let store: AttestationStore | undefined;
  if (useStore) {
    storePath = resolveAttestationStorePath(opts.attestationStorePath, opts.env);
    if (!existsSync(storePath))
      fail(
        'NO_ATTESTATIONS_FOUND',
        'attestation-store',
        `no attestations found: attestation store ${storePath} does not exist`,
      );
    store = AttestationStore.open(storePath, 'read');
    try {
      inputs.push(...fromStore(store, storePath, wanted));
    } catch (e) {
      store.close();
      throw e;
    }
  }
  const refused: RefusedItem[] = [];
  if (opts.registry) {
    inputs.push(...opts.registry.inputs);
    refused.push(...opts.registry.refused);
  }
  for (const p of opts.bundlePaths) {
    // One unreadable --bundle file is reported and left out, never stopping the others.
    try {
      inputs.push(...fromFile(p, asGiven ? undefined : wanted, opts.refreshProofs ?? false));
    } catch (e) {
      refused.push({ source: `--bundle ${p}`, failure: failureOf(e), error: e });
    }
  }
  const kept =
    opts.predicateType === undefined ? inputs : ofPredicateType(inputs, opts.predicateType);
  const missing =
    wanted && !asGiven ? missingArtifacts(wanted, kept, opts.predicateType) : undefined;
  if (missing) refused.push(missing);
  return { inputs: kept, refused, storePath, store };
}

/**
 * --predicate-type: the inputs that are in-toto attestations of `type`. One that cannot be read
 * as a bundle is kept, so that judging refuses it by name as it would without the filter; one
 * whose in-toto payload is no statement has no type, and is left out.
 */
function ofPredicateType(inputs: ExportInput[], type: string): ExportInput[] {
  return inputs.filter((input) => {
    let content;
    try {
      content = parseBundle(inputBytes(input)).content;
    } catch {
      return true;
    }
    try {
      return bundlePredicateType(content) === type;
    } catch {
      return false;
    }
  });
}

async function sealerFor(
  opts: ExportBundleOptions,
  warnings: string[],
): Promise<Sealer | undefined> {
  if (opts.sealKeyPath) return sealWithKey(opts.sealKeyPath);
  if (!opts.sealKeyless) return undefined;
  return sealKeyless(
    { env: opts.env, ...opts.sealKeyless, trustedRootPath: opts.logsTrustedRootPath },
    warnings,
  );
}

/**
 * --refresh-proofs: replaces each input's bytes with the bundle carrying fresh proofs (held in
 * memory from then on: they exist nowhere else). An input left with no proof because the trust
 * does not name its log moves from `inputs` to `refused`, saying so: the archive builder's
 * refusal ("no inclusion proof") would not say why --refresh-proofs fetched none.
 */
async function refreshProofs(
  inputs: ExportInput[],
  refused: RefusedItem[],
  logsTrust: () => Promise<LogsTrust>,
): Promise<ExportBundleResult['refreshedProofs']> {
  const { refreshShipmentProofs } = await import('../../sign/log-consistency-client.js');
  const { trust, source } = await logsTrust();
  const r = await refreshShipmentProofs(
    inputs.map((i) => inputBytes(i)),
    trust.tlogs,
  );
  for (const [i, input] of inputs.entries()) input.bytes = r.bundles[i]!;
  // Compacted in place (a shipment may hold a million inputs: no spread into a call).
  const unknown = new Map(r.unknownLogs.map((u) => [u.bundle, u.logIds]));
  let kept = 0;
  for (const [i, input] of inputs.entries()) {
    const logIds = unknown.get(i);
    if (!logIds) {
      inputs[kept++] = input;
      continue;
    }
    const error = new StellaError(
      'REKOR_PROOF_MISSING',
      'tlog',
      `Rekor proof missing: ${input.source} has no inclusion proof, and --refresh-proofs cannot fetch one: ${logIds.length === 1 ? 'its log (log ID' : 'its logs (log IDs'} ${logIds.join(', ')}) ${logIds.length === 1 ? 'is' : 'are'} not in the trust this export uses (${source}); give --trusted-root a trusted_root.json that lists it, or import it into the trust store`,
      { logIds },
    );
    refused.push({ source: input.source, failure: failureOf(error), error });
  }
  inputs.length = kept;
  if (inputs.length === 0 && refused.length > 0) throw refused[0]!.error;
  return r.logs;
}

/** The seed's form: `--output attestation-bundle.json` is one standard Sigstore bundle. */
function writeSingleBundle(
  opts: ExportBundleOptions,
  built: ExportArchiveWriter,
  inputs: ExportInput[],
  refusedCount: number,
  storePath: string | undefined,
  warnings: string[],
): ExportBundleResult {
  const artifacts = [...new Set(built.manifest.entries.map((e) => e.artifactDigest))];
  if (built.manifest.entries.length !== 1 || refusedCount > 0) {
    fail(
      'EXPORT_NOT_SINGLE_BUNDLE',
      'archive',
      `--output ${quoted(opts.outputPath, PATH_CHARS_SHOWN)} is a single Sigstore bundle, but the selection holds ${built.manifest.entries.length} bundle(s) for ${artifacts.length} artifact(s)${refusedCount ? ` and ${refusedCount} refused` : ''}: give --output FILE.tar for an archive, or narrow the selection (one --artifact/--image, or one --bundle, or --predicate-type URI) to one bundle`,
      { bundles: built.manifest.entries.length, artifacts },
    );
  }
  const { sha256: onlySha256 } = built.manifest.entries[0]!;
  let only: Uint8Array | undefined;
  for (const i of inputs) {
    const bytes = inputBytes(i);
    if (toHex(sha256(bytes)) === onlySha256) only = bytes;
  }
  if (!only)
    fail(
      'INPUT_INVALID',
      'input',
      `the bundle to export (sha256 ${onlySha256}) changed while it was being written`,
    );
  writeFileAtomic(opts.outputPath, only, { what: 'exported bundle' });
  return {
    outputPath: opts.outputPath,
    sha256: onlySha256,
    size: only.byteLength,
    manifest: built.manifest,
    attestationStore: storePath,
    refused: [],
    format: 'bundle',
    warnings,
  };
}

/**
 * Before anything is read or fetched: --output can be written, and is none of the files the
 * export reads (`-o` naming the attestation store would swap the store for the archive).
 * `imagesFrom` is the command's --images-from, read before the options reach runExportBundle.
 */
export function checkExportOutput(
  opts: Omit<ExportBundleOptions, 'artifacts' | 'all' | 'registry'>,
  imagesFrom?: string,
): void {
  // Standard output is no file the export reads, and cannot be checked as one.
  if (opts.outputPath === STDOUT_PATH) return;
  const asBundle = isBundleOutput(opts.outputPath);
  checkWritableTarget(opts.outputPath, {
    what: asBundle ? 'exported bundle (--output)' : 'export archive (--output)',
    inputs: [
      ...opts.bundlePaths.map((path) => ({ what: '--bundle', path })),
      {
        what: 'the attestation store',
        path: resolveAttestationStorePath(opts.attestationStorePath, opts.env),
      },
      { what: '--include-trusted-root', path: opts.trustedRootPath },
      { what: '--trusted-root', path: opts.logsTrustedRootPath },
      { what: 'the trust store', path: resolveStorePath(opts.storePath, opts.env) },
      { what: '--seal-key', path: opts.sealKeyPath },
      { what: '--identity-token file', path: identityTokenPath(opts.sealKeyless?.identityToken) },
      { what: '--config', path: opts.sealKeyless?.configPath },
      { what: '--signing-config', path: opts.sealKeyless?.signingConfigPath },
      { what: '--images-from', path: imagesFrom },
    ],
  });
}

export async function runExportBundle(given: ExportBundleOptions): Promise<ExportBundleResult> {
  // The flags' own conflicts first: nothing is read for a command that cannot run.
  const mistake = exportOptionsMistake(given);
  if (mistake !== undefined) fail('INPUT_INVALID', 'input', mistake);
  // cosign's name for a predicate type stands for its URI from here on.
  const opts =
    given.predicateType === undefined
      ? given
      : { ...given, predicateType: predicateTypeURI(given.predicateType) };
  // A keyless seal leaves a permanent log entry: the output must be writable before it is made.
  checkExportOutput(opts);
  const asBundle = isBundleOutput(opts.outputPath);
  const wanted = opts.all ? undefined : new Set(opts.artifacts.map(normalizeArtifactDigest));
  const createdAt = opts.createdAt !== undefined ? parseCreatedAt(opts.createdAt) : undefined;
  const trustedRoot = readIncludedTrustedRoot(opts.trustedRootPath);
  const { inputs, refused, storePath, store } = gatherInputs(opts, wanted);
  const warnings: string[] = [];
  const logsTrust = logsTrustOnce(opts, warnings);
  try {
    if (inputs.length === 0 && refused.length > 0) throw refused[0]!.error;
    const sealer = await sealerFor(opts, warnings);
    const refreshedProofs = opts.refreshProofs
      ? await refreshProofs(inputs, refused, logsTrust)
      : undefined;
    const consistency = opts.includeConsistency
      ? await collectConsistency(inputs, logsTrust)
      : undefined;
    const writer = await prepareExportArchive({
      bundles: inputs,
      createdAt,
      trustedRoot,
      seal: sealer?.seal,
      consistency: consistency?.bytes,
    });
    const allRefused = [...refused, ...writer.refused];
    if (asBundle)
      return writeSingleBundle(opts, writer, inputs, allRefused.length, storePath, warnings);
    const written = await writeArchive(opts.outputPath, writer);
    return {
      outputPath: opts.outputPath,
      sha256: written.sha256,
      size: written.size,
      manifest: writer.manifest,
      attestationStore: storePath,
      refused: allRefused,
      format: 'archive',
      seal: sealer?.sealed(),
      consistency: consistency?.summary,
      refreshedProofs,
      warnings,
    };
  } catch (e) {
    // The command prints warnings for an export that succeeds; these (a cosign trust variable
    // naming the log key this run lacks) may be why this one failed.
    for (const w of warnings) printWarning(w);
    throw e;
  } finally {
    store?.close();
  }
}

/**
 * The archive written atomically as it is made (a shipment of 100,000 bundles is a tar of
 * about a gigabyte, never held whole), hashed on the way; gzipped when the name says so.
 */
async function writeArchive(
  path: string,
  writer: ExportArchiveWriter,
): Promise<{ sha256: string; size: number }> {
  if (path === STDOUT_PATH) return writeArchiveToStdout(writer);
  const file = AtomicFile.create(path, { what: 'export archive' });
  const hash = createHash('sha256');
  let size = 0;
  const out = (c: Uint8Array): void => {
    file.write(c);
    hash.update(c);
    size += c.byteLength;
  };
  try {
    if (isGzipOutput(path)) await gzipChunks(writer.chunks(), out);
    else for await (const c of writer.chunks()) out(c);
    file.commit();
  } catch (e) {
    file.abort();
    throw file.writeError(e);
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * `--output -`: the tar to standard output as it is made (for a pipe: `| ssh host 'cat >
 * x.tar'`, `| gzip`), waiting whenever the reader is behind, so memory stays flat. Not atomic:
 * an export that fails midway leaves its reader a cut tar, which the strict reader refuses,
 * and the command's status says it failed.
 */
async function writeArchiveToStdout(
  writer: ExportArchiveWriter,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of writer.chunks()) {
    hash.update(c);
    size += c.byteLength;
    if (!process.stdout.write(c)) await once(process.stdout, 'drain');
  }
  return { sha256: hash.digest('hex'), size };
}

/** `--output X.tar.gz` (or `.tgz`, any `.gz`): the archive gzipped, as the receiver reads it. */
export function isGzipOutput(outputPath: string): boolean {
  return /\.(gz|tgz)$/i.test(outputPath);
}

/** Read an export archive file: a regular file, size checked before reading, then ./export.ts's strict reader. */
export function readExportArchiveFile(path: string): ExportArchive {
  return readExportArchive(
    readFileBounded(path, {
      what: '--archive',
      maxBytes: EXPORT_LIMITS.maxArchiveBytes,
      limitCode: 'ARCHIVE_LIMIT_EXCEEDED',
    }),
  );
}
