/**
 * Export archives: the bundles for many artifacts (signatures, certificates with their SCTs,
 * Rekor entries with inclusion proofs and checkpoints) in one portable, reproducible tar, to
 * carry across a network boundary and verify there offline.
 *
 *   manifest.cbor                              first; see ./manifest.ts
 *   bundles/<artifact sha256 hex>/<n>.sigstore.json   sorted by artifact digest, then by the
 *                                              bundle's own SHA-256; n counts from 0 per artifact
 *   consistency.json                           optional (--include-consistency, ./consistency.ts)
 *   trusted_root.json                          optional, last (carried, never trusted by reading)
 *
 * Building and reading are functions of bytes; the edges (attestation store, files, atomic
 * write) are the command's (commands/attest/export-bundle-run.ts), which may hand a bundle in
 * as a function that reads it (a store row, read again when its turn in the tar comes).
 */
import { StellaError, fail, failureOf } from '../errors.js';
import { boundedMs, formatTime } from '../util/time.js';
import { sha256 } from '../crypto.js';
import { collectBytes, toHex } from '../util/encoding.js';
import { parseSha256Digest } from '../util/digest.js';
import { parseBundle, parseBundles, type RefusedItem } from '../bundle/parse.js';
import { BUNDLE_LIMITS, type Bundle, type TransparencyLogEntry } from '../bundle/model.js';
import { artifactDigestsOf } from '../bundle/artifact-digests.js';
import { certificateIdentities, oidcIssuer, parseCertificate } from '../x509/certificate.js';
import { readTarStrict, tarChunks, type TarFile, type TarReadLimits } from './tar.js';
import {
  CONSISTENCY_FILE_NAME,
  decodeManifest,
  encodeManifest,
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  MANIFEST_NAME,
  TRUSTED_ROOT_NAME,
  type ExportManifest,
  type ExportManifestEntry,
} from './manifest.js';
import { CONSISTENCY_LIMITS } from './consistency.js';
import { leafCertificateDer } from '../bundle/model.js';
import { compareCodeUnits, quoted } from '../util/text.js';

export const EXPORT_LIMITS = {
  /** Bundles in one archive read into memory (checklist A12); streamed reading: STREAM_LIMITS. */
  maxBundles: 10_000,
  /**
   * Bundles in one archive written by prepareExportArchive. Bundles given as functions (the
   * attestation store's rows) are read again as they are written, so memory holds the manifest
   * (about 300 bytes a bundle), not the bundles; the receiver reads any such archive with the
   * streaming reader (STREAM_LIMITS).
   */
  maxExportBundles: 1_000_000,
  /** Bundles per artifact: the path's <n> has at most 4 digits. */
  maxBundlesPerArtifact: 10_000,
  maxManifestBytes: 16 * 1024 * 1024,
  maxTrustedRootBytes: 4 * 1024 * 1024,
  maxBundleBytes: BUNDLE_LIMITS.maxBytes,
  /** The whole archive, read into memory. */
  maxArchiveBytes: 256 * 1024 * 1024,
} as const;

/** The seal: a Sigstore bundle over the exact bytes of manifest.cbor, second in a sealed archive. */
export const SEAL_NAME = 'manifest.sigstore.json';

/**
 * Streamed reading (./export-stream.ts) holds nothing per entry, so its limits are far higher:
 * a million bundles and more; per-entry limits are those of EXPORT_LIMITS.
 */
export const STREAM_LIMITS = {
  maxBundles: 4_000_000,
  /** A manifest entry is at most ~9 KB (bounded strings); 4 GiB covers any honest one. */
  maxManifestBytes: 4 * 1024 * 1024 * 1024,
  maxArchiveBytes: 1024 * 1024 * 1024 * 1024,
} as const;

/** Every name an export archive may hold. */
export const EXPORT_NAME_PATTERN =
  /^(?:manifest\.cbor|manifest\.sigstore\.json|trusted_root\.json|consistency\.json|bundles\/[0-9a-f]{64}\/(?:0|[1-9][0-9]{0,3})\.sigstore\.json)$/;

export function bundlePath(artifactHex: string, n: number): string {
  return `bundles/${artifactHex}/${n}.sigstore.json`;
}

export interface ExportInput {
  /** "sha256:<64 lower-case hex>" of the artifact. */
  artifactDigest: string;
  /**
   * The bundle bytes exactly as stored or read; they go into the archive unchanged. A function
   * reads them again each time it is called (a row of the attestation store): the archive is
   * then read twice, judged and then written, and never held whole. What it returns the
   * second time must be what it returned the first.
   */
  bytes: Uint8Array | (() => Uint8Array);
  /** Where it came from, for error messages. */
  source: string;
}

export interface BuildExportOptions {
  bundles: ExportInput[];
  /** ms since the epoch; default: the newest integrated time among the bundles. */
  createdAt?: number | undefined;
  /** trusted_root.json bytes to carry along (informational for the receiver). */
  trustedRoot?: Uint8Array | undefined;
  /** consistency.json bytes (./consistency.ts serializeShipmentConsistency). */
  consistency?: Uint8Array | undefined;
  /** Seal the archive: given the exact manifest.cbor bytes, return a Sigstore bundle over them (manifest.sigstore.json). */
  seal?: ((manifest: Uint8Array) => Promise<Uint8Array>) | undefined;
}

/** An input's bytes: held, or read again. */
export function inputBytes(input: ExportInput): Uint8Array {
  return typeof input.bytes === 'function' ? input.bytes() : input.bytes;
}

/** An archive is keyed by sha256 digest references, spelt one way (util/digest.ts). */
function normalizeDigest(d: string, source: string): string {
  parseSha256Digest(d, `${source}: artifact digest`);
  return d;
}

/** The first transparency log entry that carries an inclusion proof with a checkpoint. */
export function provenEntry(bundle: Bundle): TransparencyLogEntry | undefined {
  return bundle.verificationMaterial.tlogEntries.find(
    (e) => e.inclusionProof !== undefined && e.inclusionProof.checkpoint.length > 0,
  );
}

/** Refuse a bundle that could not be verified offline on the other side of the boundary. */
export function requireProof(bundle: Bundle, source: string): TransparencyLogEntry {
  const entry = provenEntry(bundle);
  if (!entry) {
    fail(
      'REKOR_PROOF_MISSING',
      'tlog',
      `Rekor proof missing: ${source} has no transparency log entry with an inclusion proof and checkpoint, so it cannot be verified offline`,
    );
  }
  return entry;
}

/** The sha256 artifact digests a bundle covers (moved to src/bundle/artifact-digests.ts; kept here for importers). */
export { artifactDigestsOf };

function signerOf(bundle: Bundle): { identity: string | null; issuer: string | null } {
  const der = leafCertificateDer(bundle.verificationMaterial.content);
  if (!der) return { identity: null, issuer: null };
  const cert = parseCertificate(der);
  return {
    identity: certificateIdentities(cert)[0]?.value ?? null,
    issuer: oidcIssuer(cert) ?? null,
  };
}

/**
 * Each bundle judged on its own (checklist H50: one bad item never stops a batch), grouped by
 * artifact and by its own SHA-256 (the same bundle twice for one artifact is kept once).
 * `newest` is the latest integrated time seen, 0 when none carries one.
 */
function prepareBundles(bundles: ExportInput[]): {
  byArtifact: Map<string, Map<string, Prepared>>;
  refused: RefusedItem[];
  newest: number;
} {
  const byArtifact = new Map<string, Map<string, Prepared>>();
  const refused: RefusedItem[] = [];
  let newest = 0;
  // A shipment's bundles mostly share a few signers and media types: one copy of each string,
  // not one per bundle (~150 bytes a bundle kept until the manifest is written).
  const seen = new Map<string, string>();
  const intern = <S extends string | null>(v: S): S => {
    if (v === null) return v;
    const have = seen.get(v) as S | undefined;
    if (have !== undefined) return have;
    seen.set(v, v);
    return v;
  };
  for (const input of bundles) {
    try {
      const artifactDigest = normalizeDigest(input.artifactDigest, input.source);
      const bytes = inputBytes(input);
      const bundle = parseBundle(bytes);
      const proven = requireProof(bundle, input.source);
      const signer = signerOf(bundle);
      // Only what the manifest needs is kept, not the parsed bundle: a selection of 100,000
      // bundles would otherwise hold 100,000 parsed bundles.
      const prepared: Prepared = {
        input: { ...input, artifactDigest },
        mediaType: intern(bundle.mediaType),
        content: bundle.content.kind,
        proven: { logIndex: proven.logIndex, integratedTime: proven.integratedTime },
        signer: { identity: intern(signer.identity), issuer: intern(signer.issuer) },
        sha: toHex(sha256(bytes)),
        size: bytes.byteLength,
      };
      newest = Math.max(newest, proven.integratedTime);
      let group = byArtifact.get(artifactDigest);
      if (!group) byArtifact.set(artifactDigest, (group = new Map<string, Prepared>()));
      if (!group.has(prepared.sha)) group.set(prepared.sha, prepared);
    } catch (e) {
      refused.push({ source: input.source, failure: failureOf(e), error: e });
    }
  }
  return { byArtifact, refused, newest };
}

/** A file the archive will hold: its bytes, or the input to read them from again. */
type PendingFile = TarFile | { name: string; prepared: Prepared };

/** The manifest's entries and the bundle files, in artifact order and, per artifact, bundle digest order. */
function bundleEntries(byArtifact: Map<string, Map<string, Prepared>>): {
  entries: ExportManifestEntry[];
  files: PendingFile[];
} {
  const entries: ExportManifestEntry[] = [];
  const files: PendingFile[] = [];
  for (const artifactDigest of [...byArtifact.keys()].sort()) {
    const hex = artifactDigest.slice('sha256:'.length);
    const group = [...byArtifact.get(artifactDigest)!.values()].sort((a, b) =>
      compareCodeUnits(a.sha, b.sha),
    );
    group.forEach((g, n) => {
      const path = bundlePath(hex, n);
      entries.push({
        artifactDigest,
        path,
        sha256: g.sha,
        size: g.size,
        mediaType: g.mediaType,
        content: g.content,
        ...g.signer,
        logIndex: g.proven.logIndex,
        // integratedTime was bounded when the bundle was parsed.
        integratedTime:
          g.proven.integratedTime > 0 ? formatTime(g.proven.integratedTime * 1000) : null,
      });
      files.push(
        typeof g.input.bytes === 'function'
          ? { name: path, prepared: g }
          : { name: path, data: g.input.bytes },
      );
    });
  }
  return { entries, files };
}

/** A file carried beside the bundles (consistency proofs, a trusted root): within its limit, named in the manifest by digest and size. */
function carriedFile<Name extends string>(
  name: Name,
  data: Uint8Array,
  maxBytes: number,
  what: string,
  files: PendingFile[],
): { path: Name; sha256: string; size: number } {
  if (data.byteLength > maxBytes)
    fail('ARCHIVE_LIMIT_EXCEEDED', 'archive', `${what} is larger than ${maxBytes} bytes`);
  files.push({ name, data });
  return { path: name, sha256: toHex(sha256(data)), size: data.byteLength };
}

/**
 * An archive ready to be written: its manifest (and seal) made, its bundles judged.
 * `chunks()` makes the tar in order; a bundle given as a function is read again as its turn
 * comes and must still match its manifest entry, so memory holds one bundle at a time plus
 * the manifest. Call it once.
 */
export interface ExportArchiveWriter {
  manifest: ExportManifest;
  refused: RefusedItem[];
  chunks(): AsyncGenerator<Uint8Array>;
}

/** The archive as one value (buildExportArchive): for archives small enough to hold. */
export interface BuiltExportArchive {
  archive: Uint8Array;
  manifest: ExportManifest;
  refused: RefusedItem[];
}

/**
 * Judge the bundles and make the manifest. Each bundle is judged on its own (checklist H50:
 * one bad item never stops a batch): it is parsed strictly and must carry an inclusion proof
 * and checkpoint (REKOR_PROOF_MISSING otherwise); one that fails is left out and returned in
 * `refused` with its source and error, and the archive holds the others. When none is usable
 * the first refusal is raised. The same bundle twice for one artifact is kept once. The result
 * depends only on the inputs (as a set) and `createdAt`.
 */
export async function prepareExportArchive(opts: BuildExportOptions): Promise<ExportArchiveWriter> {
  if (opts.bundles.length === 0)
    fail('NO_ATTESTATIONS_FOUND', 'archive', 'no attestations found: nothing to export');
  let createdAt: string | undefined;
  if (opts.createdAt !== undefined) createdAt = formatTime(boundedMs(opts.createdAt, 'created-at'));
  const { byArtifact, refused, newest } = prepareBundles(opts.bundles);
  if (byArtifact.size === 0) throw refused[0]!.error;
  const total = [...byArtifact.values()].reduce((n, g) => n + g.size, 0);
  if (total > EXPORT_LIMITS.maxExportBundles)
    fail(
      'ARCHIVE_LIMIT_EXCEEDED',
      'archive',
      `${total} bundles to export, more than the ${EXPORT_LIMITS.maxExportBundles} an archive may hold`,
    );
  // A bundle's path numbers it within its artifact in at most 4 digits: an archive with more
  // would be written and then refused by every reader (checkEntryOrder), so it is not written.
  for (const [artifactDigest, group] of byArtifact)
    if (group.size > EXPORT_LIMITS.maxBundlesPerArtifact)
      fail(
        'ARCHIVE_LIMIT_EXCEEDED',
        'archive',
        `${group.size} bundles to export for ${artifactDigest}, more than the ${EXPORT_LIMITS.maxBundlesPerArtifact} an archive may hold for one artifact`,
      );
  if (createdAt === undefined) {
    if (newest === 0)
      fail(
        'INPUT_INVALID',
        'input',
        'no bundle carries an integrated time (Rekor v2 entries do not): give --created-at',
      );
    createdAt = formatTime(newest * 1000);
  }
  const { entries, files } = bundleEntries(byArtifact);
  byArtifact.clear();
  const consistency = opts.consistency
    ? carriedFile(
        CONSISTENCY_FILE_NAME,
        opts.consistency,
        CONSISTENCY_LIMITS.maxBytes,
        CONSISTENCY_FILE_NAME,
        files,
      )
    : undefined;
  const trustedRoot = opts.trustedRoot
    ? carriedFile(
        TRUSTED_ROOT_NAME,
        opts.trustedRoot,
        EXPORT_LIMITS.maxTrustedRootBytes,
        'trusted root',
        files,
      )
    : null;
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    version: EXPORT_FORMAT_VERSION,
    createdAt,
    trustedRoot,
    entries,
    ...(consistency ? { consistency } : {}),
  };
  const manifestBytes = encodeManifest(manifest);
  const head: TarFile[] = [{ name: MANIFEST_NAME, data: manifestBytes }];
  if (opts.seal) head.push({ name: SEAL_NAME, data: await opts.seal(manifestBytes) });
  let started = false;
  return {
    manifest,
    refused,
    chunks() {
      if (started) throw new Error('an export archive is written once');
      started = true;
      return tarChunks(archiveFiles(head, files));
    },
  };
}

/** The archive's files in order; a bundle read again is held to what was judged. */
function* archiveFiles(head: TarFile[], files: PendingFile[]): Generator<TarFile> {
  yield* head;
  for (const f of files) {
    if ('data' in f) {
      yield f;
      continue;
    }
    const { input, sha, size } = f.prepared;
    const data = inputBytes(input);
    if (data.byteLength !== size || toHex(sha256(data)) !== sha)
      fail(
        'INPUT_INVALID',
        'input',
        `${input.source} changed while the archive was being written (it was ${size} bytes with sha256 ${sha} when judged)`,
      );
    yield { name: f.name, data };
  }
}

/** Build the archive whole (prepareExportArchive, its chunks joined). */
export async function buildExportArchive(opts: BuildExportOptions): Promise<BuiltExportArchive> {
  const writer = await prepareExportArchive(opts);
  return {
    archive: await collectBytes(writer.chunks()),
    manifest: writer.manifest,
    refused: writer.refused,
  };
}

interface Prepared {
  input: ExportInput;
  mediaType: Bundle['mediaType'];
  content: Bundle['content']['kind'];
  proven: Pick<TransparencyLogEntry, 'logIndex' | 'integratedTime'>;
  signer: { identity: string | null; issuer: string | null };
  sha: string;
  size: number;
}

export interface ExportArchive {
  manifest: ExportManifest;
  /** In manifest order; bytes checked against the manifest's SHA-256 and size. */
  bundles: { entry: ExportManifestEntry; bytes: Uint8Array }[];
  /** The carried trusted_root.json, checked against the manifest. Not a trust anchor. */
  trustedRoot: Uint8Array | undefined;
  /** consistency.json, checked against the manifest (its content is judged by the trust store). */
  consistency: Uint8Array | undefined;
  /** manifest.sigstore.json, when the archive is sealed (checked by the caller, who knows the exporters). */
  seal?: Uint8Array | undefined;
}

function mismatch(message: string, details?: Record<string, unknown>): never {
  throw new StellaError('ARCHIVE_MANIFEST_MISMATCH', 'archive', message, details);
}

/** Each entry's size limit; bundles, and the seal (a bundle itself), take the bundle limit. */
export function entryLimit(name: string): number {
  if (name === MANIFEST_NAME) return EXPORT_LIMITS.maxManifestBytes;
  if (name === TRUSTED_ROOT_NAME) return EXPORT_LIMITS.maxTrustedRootBytes;
  if (name === CONSISTENCY_FILE_NAME) return CONSISTENCY_LIMITS.maxBytes;
  return EXPORT_LIMITS.maxBundleBytes;
}

/** What the strict tar reader accepts in an export archive: the manifest, bundles and a trusted root. */
export const EXPORT_TAR_LIMITS: TarReadLimits = {
  namePattern: EXPORT_NAME_PATTERN,
  maxEntries: EXPORT_LIMITS.maxBundles + 3,
  maxSize: entryLimit,
  maxArchiveBytes: EXPORT_LIMITS.maxArchiveBytes,
  maxDepth: 3,
};

/**
 * The order every manifest follows (as buildExportArchive writes it): artifact digests in
 * ascending order, and each artifact's bundles at bundles/<hex>/0, 1, 2, ... So every path is
 * distinct and in one place, which a streamed reader checks with no set of names.
 */
export function checkEntryOrder(
  prev: ExportManifestEntry | undefined,
  e: ExportManifestEntry,
  i: number,
): void {
  const hex = e.artifactDigest.slice('sha256:'.length);
  const n =
    prev !== undefined && prev.artifactDigest === e.artifactDigest
      ? Number(/\/(\d+)\.sigstore\.json$/.exec(prev.path)![1]) + 1
      : 0;
  if (prev !== undefined && prev.artifactDigest > e.artifactDigest)
    mismatch(
      `${MANIFEST_NAME}: entries[${i}] (${e.artifactDigest}) is out of order: artifacts are listed in ascending digest order`,
    );
  if (n > EXPORT_LIMITS.maxBundlesPerArtifact - 1)
    fail(
      'ARCHIVE_LIMIT_EXCEEDED',
      'archive',
      `more than ${EXPORT_LIMITS.maxBundlesPerArtifact} bundles for ${e.artifactDigest}`,
    );
  if (e.path !== bundlePath(hex, n)) {
    if (!EXPORT_NAME_PATTERN.test(e.path) || !e.path.startsWith(`bundles/${hex}/`))
      mismatch(
        `${MANIFEST_NAME} puts the bundle for ${e.artifactDigest} at ${quoted(e.path)}, outside bundles/${hex}/`,
      );
    mismatch(
      `${MANIFEST_NAME}: entries[${i}] is ${quoted(e.path)} where ${bundlePath(hex, n)} belongs (listed twice or out of order)`,
    );
  }
}

/**
 * Read an export archive strictly (./tar.ts), then hold it to its manifest: the manifest comes
 * first; every other entry is on it, in its order, with its SHA-256 and size; every entry it
 * lists is present; each bundle sits under its artifact's directory.
 */
export function readExportArchive(bytes: Uint8Array): ExportArchive {
  const files = readTarStrict(bytes, EXPORT_TAR_LIMITS);
  const names = [...files.keys()];
  if (names[0] !== MANIFEST_NAME)
    mismatch(
      `the first entry must be ${MANIFEST_NAME}${names.length ? `, not ${quoted(names[0])}` : ' (the archive is empty)'}`,
    );
  const manifest = decodeManifest(files.get(MANIFEST_NAME)!, EXPORT_LIMITS.maxBundles);
  const expected: { path: string; sha256: string; size: number }[] = [...manifest.entries];
  if (manifest.consistency) expected.push(manifest.consistency);
  if (manifest.trustedRoot) expected.push(manifest.trustedRoot);
  const listed = new Set<string>();
  manifest.entries.forEach((e, i) => {
    if (listed.has(e.path)) mismatch(`${MANIFEST_NAME} lists ${e.path} twice`);
    listed.add(e.path);
    checkEntryOrder(manifest.entries[i - 1], e, i);
  });
  // The seal, when present, comes second (it signs the manifest, so it cannot be on it).
  const seal = names[1] === SEAL_NAME ? files.get(SEAL_NAME) : undefined;
  const actual = names.slice(seal ? 2 : 1);
  for (const name of actual) {
    if (
      !listed.has(name) &&
      !(name === TRUSTED_ROOT_NAME && manifest.trustedRoot) &&
      !(name === CONSISTENCY_FILE_NAME && manifest.consistency)
    )
      mismatch(`tar entry ${quoted(name)} is not on the manifest`);
  }
  expected.forEach((want, i) => {
    const got = files.get(want.path);
    if (!got) mismatch(`archive is missing ${want.path}, listed in ${MANIFEST_NAME}`);
    if (actual[i] !== want.path)
      mismatch(
        `tar entry ${quoted(actual[i])} is out of order (the manifest lists ${want.path} here)`,
      );
    const sha = toHex(sha256(got));
    if (got.byteLength !== want.size || sha !== want.sha256) {
      mismatch(
        `${want.path} does not match the manifest: sha256 ${sha} (${got.byteLength} bytes), manifest says ${want.sha256} (${want.size} bytes)`,
        { path: want.path, sha256: sha, expected: want.sha256 },
      );
    }
  });
  return {
    manifest,
    bundles: manifest.entries.map((entry) => ({ entry, bytes: files.get(entry.path)! })),
    seal,
    trustedRoot: manifest.trustedRoot ? files.get(TRUSTED_ROOT_NAME) : undefined,
    consistency: manifest.consistency ? files.get(CONSISTENCY_FILE_NAME) : undefined,
  };
}

/**
 * The parsed bundles an archive holds for one artifact ("sha256:<hex>"), in archive order;
 * NO_ATTESTATIONS_FOUND when it holds none. A bundle that does not parse is refused on its own
 * and reported (checklist H50), never hiding the others; when none parses, the first refusal
 * is raised.
 */
export function bundlesForArtifact(
  archive: ExportArchive,
  artifactDigest: string,
  archiveName = 'the archive',
): { bundles: Bundle[]; refused: RefusedItem[] } {
  const d = normalizeDigest(artifactDigest, 'artifact');
  const found = archive.bundles.filter((b) => b.entry.artifactDigest === d);
  if (found.length === 0)
    fail('NO_ATTESTATIONS_FOUND', 'archive', `no attestations found for ${d} in ${archiveName}`, {
      artifactDigest: d,
    });
  const { parsed, refused } = parseBundles(
    found.map((b) => ({ source: `${archiveName}: ${b.entry.path}`, bytes: b.bytes })),
  );
  if (parsed.length === 0) throw refused[0]!.error;
  return { bundles: parsed.map((p) => p.bundle), refused };
}
