/**
 * Stella's archive container: plain POSIX ustar, used by rotation bundles (exactly three
 * files) and export archives (a manifest plus a variable set of bundles). Writing uses
 * tar-stream with fixed metadata (mtime 0, mode 0644, uid/gid 0, empty owner names, order as
 * given), so the same contents give the same bytes. Reading does NOT use tar-stream, which
 * sanitises nothing (checklist A): a small strict reader over the bytes in memory accepts
 * only what the writer produces and refuses everything else with a specific error —
 * links, devices, directories, PAX/GNU headers, traversal or absolute names, duplicates
 * (also case variants), names outside the caller's list or pattern, too many entries or too
 * deep a path, bad checksums, base-256 or oversized sizes, truncation, data after the
 * end-of-archive marker, and compressed input (never inflated, so no gzip bomb and no second
 * gzip member: checklist A10/A11 are met by refusing, not by a bounded inflater).
 * Nothing is ever written to disk under an entry's name.
 */
import tar from 'tar-stream';
import { StellaError } from '../errors.js';
import { bytesEqual, collectBytes, fromLatin1, toLatin1 } from '../util/encoding.js';
import { quoted } from '../util/text.js';

export const BLOCK = 512;

export interface TarFile {
  name: string;
  data: Uint8Array;
}

/**
 * Which names an archive may hold. Exact-list mode (rotation bundles): exactly these names,
 * all present, in this order. Pattern mode (export archives): any number of distinct names
 * matching `namePattern`, at most `maxEntries` of them; the caller checks them against its
 * manifest.
 */
export type TarNameRule =
  | { names: readonly string[]; namePattern?: undefined; maxEntries?: undefined }
  | { names?: undefined; namePattern: RegExp; maxEntries: number };

export type TarReadLimits = TarNameRule & {
  /** Largest size per name (a record by name, or a function of the name). */
  maxSize: Readonly<Record<string, number>> | ((name: string) => number);
  /** Largest archive accepted. */
  maxArchiveBytes: number;
  /** Most path components in a name (default 8). */
  maxDepth?: number;
};

export const DEFAULT_MAX_DEPTH = 8;

/** Deterministic ustar archive of `files`, in the order given, as one buffer (small archives: rotation bundles, tests). */
export async function writeTar(files: TarFile[]): Promise<Uint8Array> {
  return collectBytes(tarChunks(files));
}

/**
 * The tar of `files`, chunk by chunk as it is made, with backpressure: the next file is taken
 * only when the consumer has taken what came before, so an archive of 100,000 bundles is
 * never held whole (nor are its files, when `files` produces them one at a time). An error
 * from `files` ends the stream with that error.
 */
export async function* tarChunks(
  files: Iterable<TarFile> | AsyncIterable<TarFile>,
): AsyncGenerator<Uint8Array> {
  const pack = tar.pack();
  let failed: { error: unknown } | undefined;
  const feeding = (async () => {
    for await (const f of files) {
      await new Promise<void>((resolve, reject) => {
        pack.entry(
          {
            name: f.name,
            size: f.data.byteLength,
            mode: 0o644,
            mtime: new Date(0),
            uid: 0,
            gid: 0,
            uname: '',
            gname: '',
            type: 'file',
          },
          Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
          (err) => (err ? reject(err) : resolve()),
        );
      });
    }
    pack.finalize();
  })().catch((error: unknown) => {
    failed = { error };
    pack.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  try {
    for await (const c of pack as AsyncIterable<Buffer>) yield c;
  } catch (e) {
    // The producer's own error, not the stream's report of it.
    throw failed ? failed.error : e;
  } finally {
    if (!pack.destroyed) pack.destroy();
    await feeding;
  }
  if (failed) throw failed.error;
}

function unsafe(message: string, details?: Record<string, unknown>): never {
  throw new StellaError('ARCHIVE_UNSAFE_ENTRY', 'archive', message, details);
}
function invalid(message: string, details?: Record<string, unknown>): never {
  throw new StellaError('ARCHIVE_INVALID', 'archive', message, details);
}
function tooBig(message: string, details?: Record<string, unknown>): never {
  throw new StellaError('ARCHIVE_LIMIT_EXCEEDED', 'archive', message, details);
}

export function isZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** A NUL- or space-terminated octal field; anything else (base-256, NaN, junk) is refused. */
function octalField(h: Uint8Array, off: number, len: number, what: string): number {
  if ((h[off]! & 0x80) !== 0) invalid(`tar header: base-256 ${what} is not accepted`);
  let end = off + len;
  while (end > off && (h[end - 1] === 0 || h[end - 1] === 0x20)) end--;
  let start = off;
  while (start < end && h[start] === 0x20) start++;
  if (start === end) invalid(`tar header: empty ${what} field`);
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = h[i]!;
    if (c < 0x30 || c > 0x37) invalid(`tar header: ${what} field is not octal`);
    v = v * 8 + (c - 0x30);
  }
  if (!Number.isSafeInteger(v)) invalid(`tar header: ${what} out of range`);
  return v;
}

/** NUL-terminated field; bytes after the first NUL must all be NUL (a hidden suffix is refused). */
function stringField(h: Uint8Array, off: number, len: number, what: string): Uint8Array {
  let end = off;
  while (end < off + len && h[end] !== 0) end++;
  if (!isZero(h, end, off + len))
    unsafe(`tar entry ${what} contains a NUL byte followed by more data`);
  return h.subarray(off, end);
}

/** Why a name (its bytes as latin1 characters) is unsafe, in the checklist's terms; undefined when it is plain. */
function unsafeNameReason(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'a control character';
    if (c > 0x7e) return 'a non-ASCII byte';
    if (c === 0x5c) return 'a backslash';
  }
  if (s.startsWith('/')) return 'an absolute path';
  if (/^[A-Za-z]:/.test(s)) return 'a drive-letter path';
  if (s.split('/').includes('..')) return 'a ".." path component (path traversal)';
  return undefined;
}

const ustarMagic = fromLatin1('ustar\u000000');

/** Leading bytes of compressed streams, so they are named in the error instead of failing as "not ustar". */
const COMPRESSED_MAGIC: readonly { name: string; magic: readonly number[] }[] = [
  { name: 'gzip', magic: [0x1f, 0x8b] },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68] },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  // Archive formats of their own, compressed: a shipment zipped on the way is named as one
  // rather than "truncated" (a small zip is shorter than one tar block).
  { name: 'zip', magic: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'zip', magic: [0x50, 0x4b, 0x05, 0x06] },
  { name: '7z', magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'rar', magic: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07] },
];

export function compressionOf(bytes: Uint8Array): string | undefined {
  return COMPRESSED_MAGIC.find(
    (c) => c.magic.length <= bytes.byteLength && c.magic.every((b, i) => bytes[i] === b),
  )?.name;
}

function unexpectedName(shown: string, limits: TarReadLimits): never {
  const expected = limits.names
    ? limits.names.join(', ')
    : `a name matching ${String(limits.namePattern)}`;
  throw new StellaError(
    'ARCHIVE_MANIFEST_MISMATCH',
    'archive',
    `unexpected tar entry ${shown} (expected ${expected})`,
  );
}

/**
 * Check one 512-byte header block the way the strict readers (in memory and streamed) both do:
 * checksum, ustar magic, a plain name (checklist A1-A3) and a regular-file type (A4, A5, A8,
 * A9). Returns the name, its printable form and the declared size.
 */
export function parseTarHeader(
  h: Uint8Array,
  off: number,
): { name: string; shown: string; size: number } {
  // Checksum: sum of the header bytes with the checksum field read as spaces.
  const stored = octalField(h, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  if (sum !== stored) invalid(`tar header at offset ${off}: bad header checksum`);
  if (!bytesEqual(h.subarray(257, 265), ustarMagic))
    invalid(`tar header at offset ${off}: not a POSIX ustar header`);
  const type = h[156]!;
  const nameRaw = toLatin1(stringField(h, 0, 100, 'name'));
  const prefixRaw = toLatin1(stringField(h, 345, 155, 'name prefix'));
  const name = prefixRaw.length > 0 ? `${prefixRaw}/${nameRaw}` : nameRaw;
  const reason = unsafeNameReason(name);
  const shown = quoted(name, 120);
  if (reason) unsafe(`tar entry ${shown} has ${reason}`);
  switch (type) {
    case 0x30: // '0'
    case 0x00: // old regular file
      break;
    case 0x31:
    case 0x32:
      unsafe(
        `tar entry ${shown} is a ${type === 0x31 ? 'hard link' : 'symbolic link'}; links are not accepted`,
      );
      break;
    case 0x33:
    case 0x34:
    case 0x36:
      unsafe(`tar entry ${shown} is a device or FIFO; only regular files are accepted`);
      break;
    case 0x35:
      unsafe(`tar entry ${shown} is a directory; only regular files are accepted`);
      break;
    case 0x78: // 'x'
    case 0x67: // 'g'
      unsafe(
        `tar entry ${shown} is a PAX ${type === 0x67 ? 'global ' : ''}extended header; extended headers are not accepted`,
      );
      break;
    case 0x4c: // 'L'
    case 0x4b: // 'K'
      unsafe(`tar entry ${shown} is a GNU long-name header; not accepted`);
      break;
    default:
      unsafe(`tar entry ${shown} has unknown type flag 0x${type.toString(16)}`);
  }
  return { name, shown, size: octalField(h, 124, 12, 'size') };
}

/**
 * Read an archive strictly. Returns the files in archive order (in exact-list mode, exactly
 * `limits.names`).
 */
export function readTarStrict(bytes: Uint8Array, limits: TarReadLimits): Map<string, Uint8Array> {
  if (bytes.byteLength > limits.maxArchiveBytes)
    tooBig(`archive is larger than ${limits.maxArchiveBytes} bytes`, { size: bytes.byteLength });
  const compression = compressionOf(bytes);
  if (compression)
    invalid(`compressed (${compression}) archives are not accepted: expected a plain tar`);
  if (bytes.byteLength === 0) invalid('archive is empty');
  if (bytes.byteLength % BLOCK !== 0)
    invalid('archive is truncated (length is not a multiple of 512 bytes)');
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const files = new Map<string, Uint8Array>();
  const seen = new Set<string>();
  const seenFolded = new Map<string, string>();
  let off = 0;
  for (;;) {
    if (off + BLOCK > bytes.byteLength) invalid('archive is truncated (no end-of-archive marker)');
    const h = bytes.subarray(off, off + BLOCK);
    if (isZero(h, 0, BLOCK)) {
      if (off + 2 * BLOCK > bytes.byteLength || !isZero(bytes, off + BLOCK, off + 2 * BLOCK))
        invalid('archive is truncated (incomplete end-of-archive marker)');
      if (!isZero(bytes, off + 2 * BLOCK, bytes.byteLength))
        invalid('data after the end-of-archive marker');
      break;
    }
    if (limits.names) {
      if (seen.size >= limits.names.length)
        unsafe(`archive has more entries than the ${limits.names.length} expected`);
    } else if (seen.size >= limits.maxEntries) {
      tooBig(`archive has more than ${limits.maxEntries} entries`);
    }
    const { name, shown } = parseTarHeader(h, off);
    if (seen.has(name)) unsafe(`duplicate tar entry ${shown}`);
    // Case variants would be the same file on a case-insensitive file system (names are ASCII
    // here, so Unicode normalisation variants cannot occur: non-ASCII is refused above).
    const folded = name.toLowerCase();
    const twin = seenFolded.get(folded);
    if (twin !== undefined)
      unsafe(`duplicate tar entry ${shown}: differs from ${quoted(twin)} only in case`);
    if (name.split('/').length > maxDepth)
      tooBig(`tar entry ${shown} is nested more than ${maxDepth} levels deep`);
    seen.add(name);
    seenFolded.set(folded, name);
    if (limits.names) {
      const expected = limits.names[seen.size - 1];
      if (!limits.names.includes(name)) unexpectedName(shown, limits);
      if (name !== expected) {
        throw new StellaError(
          'ARCHIVE_MANIFEST_MISMATCH',
          'archive',
          `tar entry ${shown} is out of order (expected ${expected})`,
        );
      }
    } else if (!limits.namePattern.test(name)) {
      unexpectedName(shown, limits);
    }
    const size = octalField(h, 124, 12, 'size');
    const max =
      typeof limits.maxSize === 'function' ? limits.maxSize(name) : (limits.maxSize[name] ?? 0);
    if (size > max) tooBig(`tar entry ${shown} is ${size} bytes, more than the ${max}-byte limit`);
    const dataStart = off + BLOCK;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (dataStart + padded > bytes.byteLength)
      invalid(`archive is truncated inside entry ${shown}`);
    if (!isZero(bytes, dataStart + size, dataStart + padded))
      invalid(`tar entry ${shown} has non-zero padding`);
    files.set(name, bytes.slice(dataStart, dataStart + size));
    off = dataStart + padded;
  }
  for (const n of limits.names ?? []) {
    if (!files.has(n))
      throw new StellaError('ARCHIVE_MANIFEST_MISMATCH', 'archive', `archive is missing ${n}`);
  }
  return files;
}
