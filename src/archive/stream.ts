/**
 * The strict tar reader in streaming form: the same header rules as ./tar.ts (one
 * parseTarHeader), over an async stream of chunks instead of bytes in memory, so an archive of
 * any number of entries is read in memory that does not grow with it. What the in-memory
 * reader checks over the whole buffer is checked here as the bytes arrive: a truncated stream
 * (inside a header, inside data, before or inside the end-of-archive marker), non-zero padding,
 * anything but zeros after the end marker, compressed input, too many bytes or entries, an
 * entry larger than its limit (refused from its header, before its data is read).
 *
 * Duplicate and case-variant names are NOT tracked here (that set would grow with the
 * archive): the export reader (./export-stream.ts) holds every name to its manifest, whose
 * order makes every path distinct.
 */
import { StellaError } from '../errors.js';
import { BLOCK, compressionOf, isZero, parseTarHeader } from './tar.js';

function invalid(message: string, details?: Record<string, unknown>): never {
  throw new StellaError('ARCHIVE_INVALID', 'archive', message, details);
}
function tooBig(message: string, details?: Record<string, unknown>): never {
  throw new StellaError('ARCHIVE_LIMIT_EXCEEDED', 'archive', message, details);
}

/**
 * Exact reads over an async stream of chunks. What is handed out is a view into the chunk that
 * holds it; bytes are copied only when they span two chunks.
 */
export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  /** Buffered chunks; the first is read from `offset` on. */
  private chunks: Uint8Array[] = [];
  private offset = 0;
  /** Bytes buffered and not handed out. */
  private buffered = 0;
  private done = false;
  /** Bytes handed out so far. */
  consumed = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.byteLength > 0) {
        this.chunks.push(r.value);
        this.buffered += r.value.byteLength;
      }
    }
    return this.buffered >= n;
  }

  /** The first `n` buffered bytes (n <= buffered) as one array: a view, or a copy when they span chunks. */
  private front(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.chunks[0]!;
    if (first.byteLength - this.offset >= n)
      return new Uint8Array(first.buffer, first.byteOffset + this.offset, n);
    const out = new Uint8Array(n);
    let at = 0;
    let off = this.offset;
    for (let i = 0; at < n; i++, off = 0) {
      const c = this.chunks[i]!;
      const k = Math.min(c.byteLength - off, n - at);
      out.set(c.subarray(off, off + k), at);
      at += k;
    }
    return out;
  }

  /** Hands out the first `n` buffered bytes (n <= buffered) as one array. */
  private take(n: number): Uint8Array {
    const out = this.front(n);
    let left = n;
    while (left > 0) {
      const rest = this.chunks[0]!.byteLength - this.offset;
      if (rest > left) {
        this.offset += left;
        break;
      }
      left -= rest;
      this.chunks.shift();
      this.offset = 0;
    }
    this.buffered -= n;
    this.consumed += n;
    return out;
  }

  /** The next n bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    if (this.buffered < n) await this.fill(n);
    return this.take(Math.min(n, this.buffered));
  }

  /**
   * Up to the next n bytes as one view, without consuming them: fewer only at the end of the
   * stream. For a decoder that looks before it takes (./manifest-stream.ts).
   */
  async peek(n: number): Promise<Uint8Array> {
    if (this.buffered < n) await this.fill(n);
    return this.front(Math.min(n, this.buffered));
  }

  /** Up to n bytes as they come (each chunk at most what is buffered), for streaming an entry's data. */
  async *chunksOf(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) return;
      const c = this.take(Math.min(left, this.chunks[0]!.byteLength - this.offset));
      left -= c.byteLength;
      yield c;
    }
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  /** Stop reading the source (closes a file stream left half-read). */
  async close(): Promise<void> {
    this.done = true;
    this.chunks = [];
    this.offset = 0;
    this.buffered = 0;
    await this.it.return?.();
  }
}

export interface TarStreamLimits {
  /** Largest size accepted for an entry of this name (refused from its header). */
  maxSize: (name: string) => number;
  maxEntries: number;
  maxArchiveBytes: number;
  /** Most path components in a name. */
  maxDepth: number;
  /** Names accepted (anything else: ARCHIVE_MANIFEST_MISMATCH). */
  namePattern: RegExp;
}

export interface TarStreamEntry {
  name: string;
  /** JSON-quoted, shortened: safe to print. */
  shown: string;
  size: number;
  /** 0-based position in the archive. */
  index: number;
}

/**
 * Entries one at a time: `next()` returns the next header (checked), then `data()` or
 * `dataChunks()` reads its data (or `next()` skips it). After the last entry `next()` checks
 * the end-of-archive marker and that nothing but zeros follows, and returns undefined.
 */
export class StrictTarStream {
  private readonly r: ByteReader;
  private pending: { entry: TarStreamEntry; left: number } | undefined;
  private count = 0;
  private ended = false;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly limits: TarStreamLimits,
  ) {
    this.r = new ByteReader(source);
  }

  get bytesRead(): number {
    return this.r.consumed;
  }

  private budget(more: number): void {
    if (this.r.consumed + more > this.limits.maxArchiveBytes)
      tooBig(`archive is larger than ${this.limits.maxArchiveBytes} bytes`);
  }

  private async finishPending(): Promise<void> {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const padded = Math.ceil(p.entry.size / BLOCK) * BLOCK;
    const rest = padded - (p.entry.size - p.left);
    // Skip unread data; the padding after it must be zeros.
    let dataLeft = p.left;
    let padLeft = rest - p.left;
    while (dataLeft > 0 || padLeft > 0) {
      const n = Math.min(dataLeft + padLeft, 1 << 16);
      this.budget(n);
      const c = await this.r.read(n);
      if (c.byteLength < n) invalid(`archive is truncated inside entry ${p.entry.shown}`);
      const fromData = Math.min(dataLeft, c.byteLength);
      dataLeft -= fromData;
      if (!isZero(c, fromData, c.byteLength))
        invalid(`tar entry ${p.entry.shown} has non-zero padding`);
      padLeft -= c.byteLength - fromData;
    }
  }

  async next(): Promise<TarStreamEntry | undefined> {
    if (this.ended) return undefined;
    await this.finishPending();
    const start = this.r.consumed;
    this.budget(BLOCK);
    const h = await this.r.read(BLOCK);
    if (start === 0) {
      const compression = compressionOf(h);
      if (compression)
        invalid(`compressed (${compression}) archives are not accepted here: expected a plain tar`);
      if (h.byteLength === 0) invalid('archive is empty');
    }
    if (h.byteLength < BLOCK)
      invalid(
        h.byteLength === 0
          ? 'archive is truncated (no end-of-archive marker)'
          : 'archive is truncated (length is not a multiple of 512 bytes)',
      );
    if (isZero(h, 0, BLOCK)) {
      const second = await this.r.read(BLOCK);
      if (second.byteLength < BLOCK || !isZero(second, 0, BLOCK))
        invalid('archive is truncated (incomplete end-of-archive marker)');
      // Only zeros may follow (checklist A7), in whole blocks.
      let tail = 0;
      for (;;) {
        const c = await this.r.read(1 << 16);
        if (c.byteLength === 0) break;
        tail += c.byteLength;
        this.budget(0);
        // tar pads to its record size (10 KiB by default); megabytes of zeros are not padding.
        if (tail > 1024 * 1024) invalid('more than 1 MiB of zeros after the end-of-archive marker');
        if (!isZero(c, 0, c.byteLength)) invalid('data after the end-of-archive marker');
      }
      if (tail % BLOCK !== 0)
        invalid('archive is truncated (length is not a multiple of 512 bytes)');
      this.ended = true;
      return undefined;
    }
    if (this.count >= this.limits.maxEntries)
      tooBig(`archive has more than ${this.limits.maxEntries} entries`);
    const { name, shown, size } = parseTarHeader(h, start);
    if (name.split('/').length > this.limits.maxDepth)
      tooBig(`tar entry ${shown} is nested more than ${this.limits.maxDepth} levels deep`);
    if (!this.limits.namePattern.test(name)) {
      throw new StellaError(
        'ARCHIVE_MANIFEST_MISMATCH',
        'archive',
        `unexpected tar entry ${shown} (expected a name matching ${String(this.limits.namePattern)})`,
      );
    }
    const max = this.limits.maxSize(name);
    if (size > max) tooBig(`tar entry ${shown} is ${size} bytes, more than the ${max}-byte limit`);
    const entry: TarStreamEntry = { name, shown, size, index: this.count++ };
    this.pending = { entry, left: size };
    return entry;
  }

  /** The current entry's data, whole (it is within its per-entry limit). */
  async data(): Promise<Uint8Array> {
    const p = this.pending;
    if (!p || p.left !== p.entry.size) throw new Error('StrictTarStream.data: no unread entry');
    this.budget(p.left);
    const out = await this.r.read(p.left);
    if (out.byteLength < p.left) invalid(`archive is truncated inside entry ${p.entry.shown}`);
    p.left = 0;
    return out;
  }

  /** The current entry's data in chunks, for an entry read as a stream (the manifest). */
  async *dataChunks(): AsyncGenerator<Uint8Array> {
    const p = this.pending;
    if (!p || p.left !== p.entry.size)
      throw new Error('StrictTarStream.dataChunks: no unread entry');
    for await (const c of this.r.chunksOf(p.left)) {
      this.budget(0);
      p.left -= c.byteLength;
      yield c;
    }
    if (p.left > 0) invalid(`archive is truncated inside entry ${p.entry.shown}`);
  }

  async close(): Promise<void> {
    await this.r.close();
  }
}
