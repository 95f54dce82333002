/**
 * An export archive file as a re-openable stream (ArchiveSource): the reader of a shipment
 * goes over it more than once (export-stream.ts), so the file is opened afresh each time, never
 * held whole. A gzipped tar (by its magic bytes, not its name) is inflated with limits
 * (gzip.ts); any other compression is refused before a byte of it is read on, naming both
 * forms that are read.
 */
import { StellaError, fail } from '../errors.js';
import { probeFile, readFileBounded, readFileChunks } from '../util/fs.js';
import { quoted, PATH_CHARS_SHOWN } from '../util/text.js';
import type { ArchiveSource } from './export-stream.js';
import { STREAM_LIMITS } from './export.js';
import { defaultGunzipLimits, gunzipBounded, isGzip } from './gzip.js';
import { compressionOf } from './tar.js';

/** The longest magic compressionOf knows (xz, 7z, rar: six bytes). */
const MAGIC_BYTES = 6;

export interface FileSourceOptions {
  /** How the file is named in errors about opening it (`--archive`; `archive` for an argument). */
  what?: string;
  /** How the archive is named in errors about its content; default `archive FILE`. */
  name?: string;
}

export function fileSource(file: string, opts: FileSourceOptions = {}): ArchiveSource {
  const what = opts.what ?? 'archive';
  const name = opts.name ?? `archive ${file}`;
  const probe = probeFile(file, MAGIC_BYTES, { what });
  // Missing, not a regular file, or over the limit: refused the one way every input is
  // (fstat only, nothing read).
  if (probe.kind !== 'file' || probe.size > STREAM_LIMITS.maxArchiveBytes)
    readFileBounded(file, {
      what,
      maxBytes: STREAM_LIMITS.maxArchiveBytes,
      limitCode: 'ARCHIVE_LIMIT_EXCEEDED',
    });
  if (probe.kind !== 'file')
    fail('INPUT_INVALID', 'input', `${what} ${quoted(file, PATH_CHARS_SHOWN)}: not a regular file`);
  const gz = isGzip(probe.head);
  const compression = gz ? undefined : compressionOf(probe.head);
  if (compression !== undefined)
    throw new StellaError(
      'ARCHIVE_INVALID',
      'archive',
      `${name}: compressed (${compression}) archives are not accepted: expected a plain tar, or one gzipped (.tar.gz)`,
    );
  return {
    name,
    open: () => {
      const raw = readFileChunks(file, { what });
      return gz ? gunzipBounded(raw, defaultGunzipLimits(STREAM_LIMITS.maxArchiveBytes)) : raw;
    },
  };
}
