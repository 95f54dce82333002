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

/** Inflate one gzip member from `source`, yielding the output as it comes. */
export async function* gunzipBounded(
  source: AsyncIterable<Uint8Array>,
  limits: GunzipLimits,
): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let buf = new Uint8Array(0);
  let eof = false;
  const more = async (): Promise<boolean> => {
    if (eof) return false;
    const r = await it.next();
    if (r.done) {
      eof = true;
      return false;
    }
    const next = new Uint8Array(buf.byteLength + r.value.byteLength);
    next.set(buf);
    next.set(r.value, buf.byteLength);
    buf = next;
    return true;
  };
  const need = async (n: number, what: string): Promise<void> => {
    while (buf.byteLength < n) if (!(await more())) invalid(`truncated ${what}`);
  };
  // Header (RFC 1952 section 2.3).
  await need(10, 'header');
  if (buf[0] !== 0x1f || buf[1] !== 0x8b) invalid('not a gzip stream');
  if (buf[2] !== 8) invalid(`unknown compression method ${buf[2]}`);
  const flags = buf[3]!;
  if ((flags & 0xe0) !== 0) invalid('reserved header flags set');
  let at = 10;
  if (flags & 0x04) {
    await need(at + 2, 'header');
    const xlen = buf[at]! | (buf[at + 1]! << 8);
    at += 2 + xlen;
    await need(at, 'header');
  }
  for (const bit of [0x08, 0x10]) {
    if (flags & bit) {
      for (;;) {
        await need(at + 1, 'header');
        if (buf[at++] === 0) break;
        if (at > 64 * 1024) invalid('header name or comment longer than 64 KiB');
      }
    }
  }
  if (flags & 0x02) at += 2;
  await need(at, 'header');
  let consumed = at;

  const inflater = zlib.createInflateRaw();
  const out: Uint8Array[] = [];
  let produced = 0;
  let crc = 0;
  // Set from zlib's callbacks: an object, so the checks below read the current values.
  const st: { ended: boolean; failure: StellaError | undefined } = {
    ended: false,
    failure: undefined,
  };
  const failed = (): StellaError | undefined => st.failure;
  const done = (): boolean => st.ended;
  inflater.on('data', (c: Buffer) => {
    if (st.failure !== undefined) return;
    produced += c.byteLength;
    crc = zlib.crc32(c, crc);
    out.push(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    if (produced > limits.maxOutputBytes)
      st.failure ??= new StellaError(
        'ARCHIVE_LIMIT_EXCEEDED',
        'archive',
        `gzip: inflates to more than ${limits.maxOutputBytes} bytes`,
      );
    else if (
      produced > limits.ratioGraceBytes &&
      produced > limits.maxRatio * Math.max(1, consumed)
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

  let fedFrom = at; // buf offset of the next byte to feed
  let fedTotal = at; // file offset of the next byte to feed
  try {
    while (!done() && failed() === undefined) {
      if (fedFrom >= buf.byteLength) {
        // Keep only what is not fed yet (the trailer is read from the tail below).
        buf = buf.subarray(fedFrom);
        fedFrom = 0;
        if (!(await more())) break;
        continue;
      }
      const slice = buf.subarray(fedFrom, Math.min(buf.byteLength, fedFrom + SLICE));
      fedFrom += slice.byteLength;
      fedTotal += slice.byteLength;
      consumed = fedTotal;
      await new Promise<void>((resolve) => inflater.write(slice, () => resolve()));
      if (failed() !== undefined) break;
      for (const c of out.splice(0)) yield c;
      if (done()) {
        // The deflate stream ended inside this slice: bytesWritten counts the deflate bytes.
        const deflateEnd = at + inflater.bytesWritten;
        const keepFrom = fedFrom - (fedTotal - deflateEnd);
        if (keepFrom < 0) invalid('trailer out of step with the deflate data');
        buf = buf.subarray(keepFrom);
        fedFrom = 0;
        break;
      }
    }
    if (failed() === undefined && !done()) {
      inflater.end();
      await endSeen;
      for (const c of out.splice(0)) yield c;
      if (failed() === undefined && !done()) invalid('truncated deflate data');
      const deflateEnd = at + inflater.bytesWritten;
      buf = buf.subarray(buf.byteLength - (fedTotal - deflateEnd));
    }
    if (failed() !== undefined) throw failed()!;
    for (const c of out.splice(0)) yield c;
    // Trailer: CRC-32 and ISIZE, little-endian; then the end of the file.
    while (buf.byteLength < 8)
      if (!(await more())) invalid('truncated trailer (CRC-32 and length)');
    const dv = new DataView(buf.buffer, buf.byteOffset, 8);
    if (dv.getUint32(0, true) !== crc >>> 0) invalid('CRC-32 does not match the inflated data');
    if (dv.getUint32(4, true) !== produced % 2 ** 32)
      invalid('length in the trailer does not match the inflated data');
    if (buf.byteLength > 8 || (await more())) {
      const second = buf.byteLength > 9 ? isGzip(buf.subarray(8)) : false;
      invalid(
        second
          ? 'a second gzip member follows the first; only one is accepted'
          : 'trailing data after the gzip stream',
      );
    }
  } finally {
    inflater.destroy();
    await it.return?.();
  }
}

/** Limits for export archives: the archive limit, and a ratio no honest export reaches. */
export function defaultGunzipLimits(maxOutputBytes: number): GunzipLimits {
  return { maxOutputBytes, maxRatio: 200, ratioGraceBytes: 4 * 1024 * 1024 };
}
