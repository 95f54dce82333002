/**
 * Export archives read as a stream (`verify --archive`, `attest import`): the rules of
 * readExportArchive (./export.ts), with memory that does not grow with the archive. Two
 * cursors run over the same source in lock step: one reads manifest.cbor entry by entry
 * (./manifest-stream.ts), the other the tar entries after it (./stream.ts); each bundle is
 * held to its manifest entry (path, size, SHA-256) as it arrives and handed to the caller,
 * then dropped. Since the manifest's order makes every path distinct (checkEntryOrder), no set
 * of names is kept.
 *
 * An archive is always read twice by its callers: `readPreamble` (manifest digest and seal,
 * so a seal is judged before anything else) and a structural pass (`readExportArchiveStream`
 * without a handler: a bad entry anywhere refuses the archive before any bundle is verified),
 * then the pass that hands out bundles, which checks everything again and that the manifest
 * is still the one the seal covered.
 */
import { createHash } from 'node:crypto';
import { StellaError } from '../errors.js';
import { toHex } from '../util/encoding.js';
import { StrictTarStream, type TarStreamEntry, type TarStreamLimits } from './stream.js';
import { ManifestStream } from './manifest-stream.js';
import {
  CONSISTENCY_FILE_NAME,
  MANIFEST_NAME,
  TRUSTED_ROOT_NAME,
  type ExportManifestEntry,
  type ExportManifestHeader,
} from './manifest.js';
import {
  checkEntryOrder,
  entryLimit,
  EXPORT_LIMITS,
  EXPORT_NAME_PATTERN,
  SEAL_NAME,
  STREAM_LIMITS,
} from './export.js';
import { sha256 } from '../crypto.js';

/** An archive that can be read from the start as often as needed (a file, bytes in memory). */
export interface ArchiveSource {
  /** For messages: the file name. */
  name: string;
  /** A fresh stream of the plain tar bytes (a .tar.gz is inflated, bounded, by the opener). */
  open(): AsyncIterable<Uint8Array>;
}

export interface StreamLimits {
  maxBundles: number;
  maxArchiveBytes: number;
}

function tarLimits(l: StreamLimits): TarStreamLimits {
  return {
    namePattern: EXPORT_NAME_PATTERN,
    maxEntries: l.maxBundles + 3,
    maxArchiveBytes: l.maxArchiveBytes,
    maxDepth: 3,
    maxSize: (name) => (name === MANIFEST_NAME ? STREAM_LIMITS.maxManifestBytes : entryLimit(name)),
  };
}

function mismatch(message: string, details?: Record<string, unknown>): never {
  throw new StellaError('ARCHIVE_MANIFEST_MISMATCH', 'archive', message, details);
}

/**
 * The archive's own refusals (check `archive`: its tar, gzip, manifest, entries) name its file:
 * otherwise a script verifying many archives, or a person, reads "archive is truncated" with no
 * word of which. Others (a callback's, the file's read) already say what they are about.
 */
function namingArchive(src: ArchiveSource, e: unknown): unknown {
  if (!(e instanceof StellaError) || e.check !== 'archive') return e;
  const m = e.message;
  const said = 'archive ';
  return e.reworded(
    m.startsWith(said) ? `${src.name} ${m.slice(said.length)}` : `${src.name}: ${m}`,
  );
}

/** Source over bytes already in memory (tests, small archives). */
export function bytesSource(bytes: Uint8Array, name = 'the archive'): ArchiveSource {
  return {
    name,
    // eslint-disable-next-line @typescript-eslint/require-await
    async *open() {
      yield bytes;
    },
  };
}

export interface ArchivePreamble {
  /** Hex SHA-256 and size of manifest.cbor's exact bytes. */
  manifestSha256: string;
  manifestSize: number;
  /** manifest.sigstore.json when the archive is sealed. */
  seal: Uint8Array | undefined;
}

/** The manifest's digest and the seal: the first one or two entries, nothing else read. */
export async function readPreamble(
  src: ArchiveSource,
  limits: StreamLimits = STREAM_LIMITS,
): Promise<ArchivePreamble> {
  const tar = new StrictTarStream(src.open(), tarLimits(limits));
  try {
    const first = await tar.next();
    if (first?.name !== MANIFEST_NAME)
      mismatch(
        `the first entry must be ${MANIFEST_NAME}${first ? `, not ${first.shown}` : ' (the archive is empty)'}`,
      );
    const h = createHash('sha256');
    for await (const c of tar.dataChunks()) h.update(c);
    const second = await tar.next();
    const seal = second?.name === SEAL_NAME ? await tar.data() : undefined;
    return { manifestSha256: h.digest('hex'), manifestSize: first.size, seal };
  } catch (e) {
    throw namingArchive(src, e);
  } finally {
    await tar.close();
  }
}

export interface StreamedArchive {
  header: ExportManifestHeader;
  /** Bundles listed (and read). */
  count: number;
  manifestSha256: string;
  sealed: boolean;
  trustedRoot: Uint8Array | undefined;
  /** consistency.json (--include-consistency), checked against the manifest. */
  consistency: Uint8Array | undefined;
}

export interface StreamReadOptions {
  limits?: StreamLimits;
  /** Called once with the manifest's header and its entry count, before the first bundle. */
  onHeader?: (header: ExportManifestHeader, bundles: number) => void;
  /** Called for each bundle, in archive order, after it matched its manifest entry; awaited (backpressure). */
  onBundle?: (entry: ExportManifestEntry, bytes: Uint8Array, index: number) => Promise<void> | void;
  /** Refuse the archive unless manifest.cbor has this digest (the one a seal was checked against). */
  expectManifestSha256?: string;
}

async function* hashing(
  chunks: AsyncIterable<Uint8Array>,
  h: ReturnType<typeof createHash>,
): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    h.update(c);
    yield c;
  }
}

/**
 * The bundles, in manifest order: each tar entry must be the one the manifest lists next, with
 * its size and digest. Returns the entry after the last bundle.
 */
async function readBundles(
  main: StrictTarStream,
  manifest: ManifestStream,
  e: TarStreamEntry | undefined,
  onBundle: StreamReadOptions['onBundle'],
): Promise<TarStreamEntry | undefined> {
  let prev: ExportManifestEntry | undefined;
  for (let i = 0; ; i++) {
    const want = await manifest.next();
    if (!want) return e;
    checkEntryOrder(prev, want, i);
    prev = want;
    if (!e || e.name !== want.path) {
      if (!e || e.name === TRUSTED_ROOT_NAME || e.name === CONSISTENCY_FILE_NAME)
        mismatch(`archive is missing ${want.path}, listed in ${MANIFEST_NAME}`);
      mismatch(
        e.name.startsWith('bundles/')
          ? `tar entry ${e.shown} is out of order or not on the manifest (the manifest lists ${want.path} here)`
          : `tar entry ${e.shown} is not on the manifest`,
      );
    }
    const bytes = await main.data();
    const sha = toHex(sha256(bytes));
    if (bytes.byteLength !== want.size || sha !== want.sha256) {
      mismatch(
        `${want.path} does not match the manifest: sha256 ${sha} (${bytes.byteLength} bytes), manifest says ${want.sha256} (${want.size} bytes)`,
        { path: want.path, sha256: sha, expected: want.sha256 },
      );
    }
    if (onBundle) await onBundle(want, bytes, i);
    e = await main.next();
  }
}

/**
 * A file the manifest lists after the bundles (consistency.json, trusted_root.json): present
 * exactly when listed, with the listed size and digest. Returns its bytes and the entry after it.
 */
async function readListedFile(
  main: StrictTarStream,
  e: TarStreamEntry | undefined,
  name: string,
  listed: { sha256: string; size: number } | null | undefined,
): Promise<{ data: Uint8Array | undefined; next: TarStreamEntry | undefined }> {
  if (!listed) return { data: undefined, next: e };
  if (e?.name !== name) mismatch(`archive is missing ${name}, listed in ${MANIFEST_NAME}`);
  const data = await main.data();
  const sha = toHex(sha256(data));
  if (data.byteLength !== listed.size || sha !== listed.sha256)
    mismatch(
      `${name} does not match the manifest: sha256 ${sha} (${data.byteLength} bytes), manifest says ${listed.sha256} (${listed.size} bytes)`,
    );
  return { data, next: await main.next() };
}

/** Read (and check) a whole export archive as a stream; see the file comment. */
export async function readExportArchiveStream(
  src: ArchiveSource,
  opts: StreamReadOptions = {},
): Promise<StreamedArchive> {
  const limits = opts.limits ?? STREAM_LIMITS;
  const main = new StrictTarStream(src.open(), tarLimits(limits));
  const side = new StrictTarStream(src.open(), tarLimits(limits));
  let manifest: ManifestStream | undefined;
  try {
    const first = await main.next();
    if (first?.name !== MANIFEST_NAME)
      mismatch(
        `the first entry must be ${MANIFEST_NAME}${first ? `, not ${first.shown}` : ' (the archive is empty)'}`,
      );
    const sideFirst = await side.next();
    if (sideFirst?.name !== MANIFEST_NAME || sideFirst.size !== first.size)
      mismatch('the archive changed while it was being read');
    const mh = createHash('sha256');
    manifest = await ManifestStream.open(hashing(side.dataChunks(), mh), limits.maxBundles);
    opts.onHeader?.(manifest.header, manifest.count);
    let e = await main.next();
    let sealed = false;
    if (e?.name === SEAL_NAME) {
      sealed = true;
      e = await main.next();
    }
    e = await readBundles(main, manifest, e, opts.onBundle);
    await manifest.finish();
    const manifestSha256 = mh.digest('hex');
    if (opts.expectManifestSha256 !== undefined && manifestSha256 !== opts.expectManifestSha256)
      mismatch(`${MANIFEST_NAME} changed while the archive was being read`);
    const consistency = await readListedFile(
      main,
      e,
      CONSISTENCY_FILE_NAME,
      manifest.header.consistency,
    );
    const trustedRoot = await readListedFile(
      main,
      consistency.next,
      TRUSTED_ROOT_NAME,
      manifest.header.trustedRoot,
    );
    if (trustedRoot.next) mismatch(`tar entry ${trustedRoot.next.shown} is not on the manifest`);
    return {
      header: manifest.header,
      count: manifest.count,
      manifestSha256,
      sealed,
      trustedRoot: trustedRoot.data,
      consistency: consistency.data,
    };
  } catch (e) {
    throw namingArchive(src, e);
  } finally {
    await manifest?.close();
    await main.close();
    await side.close();
  }
}

export { EXPORT_LIMITS };
