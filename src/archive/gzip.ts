/**
 * A bounded, strict gzip reader for `.tar.gz` export archives (checklist A10, A11). The gzip
 * header and trailer are parsed here and the deflate data is inflated by zlib's raw inflater
 * in small slices, so the limits are enforced while inflating, never after:
 *
 * - total: at most `maxOutputBytes` inflated, refused as soon as the count passes it;
 * - ratio: once more than `ratioGraceBytes` are out, at most `maxRatio` inflated bytes per
 *   compressed byte consumed (a gzip bomb of zeros runs ~1000:1; tar of JSON bundles ~5-10:1);
 * - one member only: after the deflate stream, the 8-byte trailer (CRC-32 and length, both
 *   checked) must end the file. A second member or trailing junk is refused (Node's gunzip
 *   would inflate the one and silently drop the other).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { StellaError } from '../errors.js';

export interface GunzipLimits {
  maxOutputBytes: number;
  maxRatio: number;
  ratioGraceBytes: number;
}

function invalid(message: string): never {
  throw new StellaError('ARCHIVE_INVALID', 'archive', `gzip: ${message}`);
}

export function isGzip(head: Uint8Array): boolean {
  return head.byteLength >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

const SLICE = 16 * 1024;

/**
 * The CRC-32 of what came before, `crc`, carried over `bytes`. An empty view is skipped: Node
 * hands zlib a NULL pointer for one with no backing store (a `new Uint8Array(0)` once its
 * buffer has been handed to native code), and zlib's crc32(crc, NULL, 0) is its "initial
 * value" idiom, 0, whatever `crc` was (found by this module's test, gzipping a chunk list
 * twice).
 */
function crc32After(crc: number, bytes: Uint8Array): number {
  return bytes.byteLength === 0 ? crc : zlib.crc32(bytes, crc);
}

/** The source, pulled a chunk at a time into one buffer that the reader trims from the front. */
class PulledBytes {
  buf = new Uint8Array(0);
  private eof = false;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  /** Appends the next chunk; false at the end of the source. */
  async more(): Promise<boolean> {
    if (this.eof) return false;
    const r = await this.it.next();
    if (r.done) {
      this.eof = true;
      return false;
    }
    const next = new Uint8Array(this.buf.byteLength + r.value.byteLength);
    next.set(this.buf);
    next.set(r.value, this.buf.byteLength);
    this.buf = next;
    return true;
  }

  /** Pulls until `n` bytes are buffered; a source that ends first is a truncated `what`. */
  async need(n: number, what: string): Promise<void> {
    while (this.buf.byteLength < n) if (!(await this.more())) invalid(`truncated ${what}`);
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** Checks the gzip header (RFC 1952 section 2.3) and returns its length. */
async function readHeader(src: PulledBytes): Promise<number> {
  await src.need(10, 'header');
  const buf = (): Uint8Array => src.buf;
  if (buf()[0] !== 0x1f || buf()[1] !== 0x8b) invalid('not a gzip stream');
  if (buf()[2] !== 8) invalid(`unknown compression method ${buf()[2]}`);
  const flags = buf()[3]!;
  if ((flags & 0xe0) !== 0) invalid('reserved header flags set');
  let at = 10;
  if (flags & 0x04) {
    await src.need(at + 2, 'header');
    const xlen = buf()[at]! | (buf()[at + 1]! << 8);
    at += 2 + xlen;
    await src.need(at, 'header');
  }
  for (const bit of [0x08, 0x10]) {
    if (flags & bit) {
      for (;;) {
        await src.need(at + 1, 'header');
        if (buf()[at++] === 0) break;
        // The header, this NUL included, fits in 64 KiB: a byte that is not the NUL at the
        // last place leaves none for it (until stop 61 `>`, one byte more was read).
        if (at >= 64 * 1024) invalid('header name or comment longer than 64 KiB');
      }
    }
  }
  if (flags & 0x02) {
    // FHCRC: the low 16 bits of the CRC-32 of the header before it. RFC 1952 lets a reader skip
    // it; gzip and zlib check it, and so does this strict reader (found by the fuzz test).
    await src.need(at + 2, 'header');
    const stored = buf()[at]! | (buf()[at + 1]! << 8);
    if (stored !== (zlib.crc32(buf().subarray(0, at)) & 0xffff))
      invalid('header CRC-16 does not match the header');
    at += 2;
  }
  return at;
}

/** What the inflater has done so far; set from zlib's callbacks. */
interface InflateProgress {
  /** Inflated chunks not yet handed on. */
  out: Uint8Array[];
  produced: number;
  crc: number;
  /** Compressed bytes fed so far, counted from the start of the file. */
  consumed: number;
  ended: boolean;
  failure: StellaError | undefined;
}

/**
 * A raw inflater that records its output in `st` and refuses (in `st.failure`) as soon as the
 * total or the ratio to the compressed bytes consumed passes the limits. `endSeen` settles when
 * the deflate stream ends or fails.
 */
function boundedInflater(
  limits: GunzipLimits,
  st: InflateProgress,
): { inflater: zlib.InflateRaw; endSeen: Promise<void> } {
  const inflater = zlib.createInflateRaw();
  inflater.on('data', (c: Buffer) => {
    if (st.failure !== undefined) return;
    st.produced += c.byteLength;
    st.crc = crc32After(st.crc, c);
    st.out.push(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    if (st.produced > limits.maxOutputBytes)
      st.failure ??= new StellaError(
        'ARCHIVE_LIMIT_EXCEEDED',
        'archive',
        `gzip: inflates to more than ${limits.maxOutputBytes} bytes`,
      );
    else if (
      st.produced > limits.ratioGraceBytes &&
      st.produced > limits.maxRatio * Math.max(1, st.consumed)
    ) {
      st.failure ??= new StellaError(
        'ARCHIVE_LIMIT_EXCEEDED',
        'archive',
        `gzip: compression ratio above ${limits.maxRatio}:1 (a gzip bomb?)`,
      );
    }
  });
  inflater.on('end', () => {
    st.ended = true;
  });
  inflater.on('error', (e) => {
    st.failure ??= new StellaError(
      'ARCHIVE_INVALID',
      'archive',
      `gzip: corrupt deflate data (${e.message})`,
      undefined,
      { cause: e },
    );
  });
  const endSeen = new Promise<void>((resolve) => {
    inflater.once('end', resolve);
    inflater.once('error', () => resolve());
  });
  return { inflater, endSeen };
}

/**
 * Feeds `slice` to the inflater; settles once zlib has taken it, or has failed. On corrupt
 * deflate data zlib destroys the stream and never calls back the write in flight, so an
 * await on that callback alone would never settle (found by the fuzz test: with 11 bytes of
 * `.tar.gz`, `attest verify --archive --jobs 2` never ended, and `--jobs 1` and `attest import`
 * exited 0 with nothing printed, their event loop empty).
 */
function written(inflater: zlib.InflateRaw, slice: Uint8Array): Promise<void> {
  return new Promise<void>((resolve) => {
    const settle = (): void => {
      inflater.off('error', settle);
      inflater.off('close', settle);
      resolve();
    };
    inflater.once('error', settle);
    inflater.once('close', settle);
    inflater.write(slice, settle);
  });
}

/**
 * The trailer (CRC-32 and ISIZE, little-endian) at the front of `src.buf` must match what was
 * inflated, and must end the file.
 */
async function checkTrailer(src: PulledBytes, crc: number, produced: number): Promise<void> {
  while (src.buf.byteLength < 8)
    if (!(await src.more())) invalid('truncated trailer (CRC-32 and length)');
  const buf = src.buf;
  const dv = new DataView(buf.buffer, buf.byteOffset, 8);
  if (dv.getUint32(0, true) !== crc >>> 0) invalid('CRC-32 does not match the inflated data');
  if (dv.getUint32(4, true) !== produced % 2 ** 32)
    invalid('length in the trailer does not match the inflated data');
  if (src.buf.byteLength > 8 || (await src.more())) {
    const second = src.buf.byteLength > 9 ? isGzip(src.buf.subarray(8)) : false;
    invalid(
      second
        ? 'a second gzip member follows the first; only one is accepted'
        : 'trailing data after the gzip stream',
    );
  }
}

/** Inflate one gzip member from `source`, yielding the output as it comes. */
export async function* gunzipBounded(
  source: AsyncIterable<Uint8Array>,
  limits: GunzipLimits,
): AsyncGenerator<Uint8Array> {
  const src = new PulledBytes(source[Symbol.asyncIterator]());
  const at = await readHeader(src);
  const st: InflateProgress = {
    out: [],
    produced: 0,
    crc: 0,
    consumed: at,
    ended: false,
    failure: undefined,
  };
  const { inflater, endSeen } = boundedInflater(limits, st);
  // Read through functions: zlib's callbacks change these between the awaits below.
  const failed = (): StellaError | undefined => st.failure;
  const done = (): boolean => st.ended;

  let fedFrom = at; // src.buf offset of the next byte to feed
  let fedTotal = at; // file offset of the next byte to feed
  try {
    while (!done() && failed() === undefined) {
      if (fedFrom >= src.buf.byteLength) {
        // Keep only what is not fed yet (the trailer is read from the tail below).
        src.buf = src.buf.subarray(fedFrom);
        fedFrom = 0;
        if (!(await src.more())) break;
        continue;
      }
      const slice = src.buf.subarray(fedFrom, Math.min(src.buf.byteLength, fedFrom + SLICE));
      fedFrom += slice.byteLength;
      fedTotal += slice.byteLength;
      st.consumed = fedTotal;
      await written(inflater, slice);
      if (failed() !== undefined) break;
      for (const c of st.out.splice(0)) yield c;
      if (done()) {
        // The deflate stream ended inside this slice: bytesWritten counts the deflate bytes.
        const deflateEnd = at + inflater.bytesWritten;
        const keepFrom = fedFrom - (fedTotal - deflateEnd);
        if (keepFrom < 0) invalid('trailer out of step with the deflate data');
        src.buf = src.buf.subarray(keepFrom);
        fedFrom = 0;
        break;
      }
    }
    if (failed() === undefined && !done()) {
      inflater.end();
      await endSeen;
      for (const c of st.out.splice(0)) yield c;
      if (failed() === undefined && !done()) invalid('truncated deflate data');
      const deflateEnd = at + inflater.bytesWritten;
      src.buf = src.buf.subarray(src.buf.byteLength - (fedTotal - deflateEnd));
    }
    if (failed() !== undefined) throw failed()!;
    for (const c of st.out.splice(0)) yield c;
    await checkTrailer(src, st.crc, st.produced);
  } finally {
    inflater.destroy();
    await src.close();
  }
}

/** Limits for export archives: the archive limit, and a ratio no honest export reaches. */
export function defaultGunzipLimits(maxOutputBytes: number): GunzipLimits {
  return { maxOutputBytes, maxRatio: 200, ratioGraceBytes: 4 * 1024 * 1024 };
}

/**
 * One gzip member (the only form `gunzipBounded` reads): a fixed header (no name, no time, OS
 * "unknown", XFL "maximum compression"), `chunks` deflated at level 9, and the CRC-32 and
 * length trailer. Node's own gzip writes the OS it runs on into the header; this header is the
 * same everywhere, so the bytes depend only on the input and on zlib's deflate (fixed within a
 * Node release).
 */
export async function gzipChunks(
  chunks: AsyncIterable<Uint8Array>,
  out: (c: Uint8Array) => void,
): Promise<void> {
  out(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff));
  let crc = 0;
  let length = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const c of chunks) {
      crc = crc32After(crc, c);
      length += c.byteLength;
      yield c;
    }
  }
  await pipeline(
    Readable.from(counted(), { objectMode: false }),
    zlib.createDeflateRaw({ level: 9 }),
    async (deflated: AsyncIterable<Uint8Array>) => {
      for await (const d of deflated) out(d);
    },
  );
  const trailer = new Uint8Array(8);
  const dv = new DataView(trailer.buffer);
  dv.setUint32(0, crc >>> 0, true);
  dv.setUint32(4, length % 2 ** 32, true); // ISIZE: the length modulo 2^32 (RFC 1952)
  out(trailer);
}
