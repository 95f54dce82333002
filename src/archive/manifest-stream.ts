/**
 * `manifest.cbor` read as a stream: one entry at a time, so a manifest of a million entries is
 * never held in memory. The same rules as decodeManifest (./manifest.ts), by the same
 * validators: the header fields, then each entry, each checked to be exactly the canonical
 * bytes Stella writes (re-encoded and compared, piece by piece: the header with the shortest
 * array head, then every entry). A small pull decoder reads only what a manifest can hold —
 * unsigned integers, text, null, definite-length maps and arrays — and refuses the rest (byte
 * strings, tags, floats, indefinite lengths) before anything is allocated for it.
 */
import { StellaError } from '../errors.js';
import { bytesEqual, concatBytes, utf8Decoder } from '../util/encoding.js';
import { ByteReader } from './stream.js';
import {
  bad,
  encodeManifestEntry,
  encodeManifestPrefix,
  MANIFEST_NAME,
  validateManifestEntry,
  validateManifestHeader,
  type ExportManifestEntry,
  type ExportManifestHeader,
} from './manifest.js';

const MAX_TEXT = 64 * 1024;
const MAX_ITEMS = 64;

class Recorder {
  parts: Uint8Array[] = [];
  constructor(private readonly r: ByteReader) {}
  async take(n: number, what: string): Promise<Uint8Array> {
    const b = await this.r.read(n);
    if (b.byteLength < n) bad(`truncated CBOR (${what})`);
    this.parts.push(b);
    return b;
  }
  drain(): Uint8Array {
    const out = this.parts.length === 1 ? this.parts[0]! : concatBytes(...this.parts);
    this.parts = [];
    return out;
  }
}

async function head(rec: Recorder): Promise<{ major: number; arg: number }> {
  const b = (await rec.take(1, 'item head'))[0]!;
  const major = b >> 5;
  const ai = b & 31;
  if (ai < 24) return { major, arg: ai };
  if (ai > 27)
    bad(
      ai === 31
        ? 'indefinite-length items are not accepted'
        : `reserved CBOR additional information ${ai}`,
    );
  const n = 1 << (ai - 24);
  const x = await rec.take(n, 'item length');
  let v = 0;
  for (const byte of x) v = v * 256 + byte;
  if (!Number.isSafeInteger(v)) bad('integer or length out of range');
  return { major, arg: v };
}

/** One item of the few kinds a manifest holds; `depth` bounds nesting. */
async function item(rec: Recorder, depth: number): Promise<unknown> {
  if (depth > 4) bad('nested too deeply');
  const { major, arg } = await head(rec);
  switch (major) {
    case 0:
      return arg;
    case 3: {
      if (arg > MAX_TEXT) bad(`text of ${arg} bytes is longer than ${MAX_TEXT}`);
      const t = await rec.take(arg, 'text');
      try {
        return utf8Decoder.decode(t);
      } catch (e) {
        throw new StellaError(
          'ARCHIVE_INVALID',
          'archive',
          `${MANIFEST_NAME}: text is not valid UTF-8`,
          undefined,
          { cause: e },
        );
      }
    }
    case 4: {
      if (arg > MAX_ITEMS) bad(`array of ${arg} items where at most ${MAX_ITEMS} are expected`);
      const a: unknown[] = [];
      for (let i = 0; i < arg; i++) a.push(await item(rec, depth + 1));
      return a;
    }
    case 5: {
      if (arg > MAX_ITEMS) bad(`map of ${arg} keys where at most ${MAX_ITEMS} are expected`);
      const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (let i = 0; i < arg; i++) {
        const k = await item(rec, depth + 1);
        if (typeof k !== 'string') bad('map key is not text');
        if (k in o) bad(`duplicate map key ${JSON.stringify(k.slice(0, 40))}`);
        o[k] = await item(rec, depth + 1);
      }
      return o;
    }
    case 7:
      if (arg === 22) return null;
      return bad(`unexpected CBOR simple value or float (${arg})`);
    default:
      return bad(
        `unexpected CBOR major type ${major} (byte strings, negative integers and tags are not used)`,
      );
  }
}

export class ManifestStream {
  private index = 0;
  private constructor(
    private readonly r: ByteReader,
    private readonly rec: Recorder,
    readonly header: ExportManifestHeader,
    readonly count: number,
  ) {}

  /** Read the header, up to the head of the entries array; `maxEntries` bounds the count. */
  static async open(
    chunks: AsyncIterable<Uint8Array>,
    maxEntries: number,
  ): Promise<ManifestStream> {
    const r = new ByteReader(chunks);
    const rec = new Recorder(r);
    const top = await head(rec);
    // consistency (--include-consistency) sits between trustedRoot and entries when present.
    if (top.major !== 5 || (top.arg !== 5 && top.arg !== 6))
      bad(
        'manifest: expected a map of exactly format, version, createdAt, trustedRoot, [consistency,] entries',
      );
    const o: Record<string, unknown> = {};
    for (const key of [
      'format',
      'version',
      'createdAt',
      'trustedRoot',
      ...(top.arg === 6 ? ['consistency'] : []),
    ]) {
      const k = await item(rec, 1);
      if (k !== key)
        bad(
          `manifest: expected key ${key} here, found ${JSON.stringify(typeof k === 'string' ? k.slice(0, 40) : k)}`,
        );
      o[key] = await item(rec, 1);
    }
    if ((await item(rec, 1)) !== 'entries') bad('manifest: expected key entries last');
    const h = validateManifestHeader(o);
    const arr = await head(rec);
    if (arr.major !== 4) bad('entries: expected an array');
    if (arr.arg > maxEntries) {
      throw new StellaError(
        'ARCHIVE_LIMIT_EXCEEDED',
        'archive',
        `${MANIFEST_NAME} lists ${arr.arg} bundles, more than the ${maxEntries} accepted`,
      );
    }
    if (!bytesEqual(rec.drain(), encodeManifestPrefix(h, arr.arg)))
      bad(
        'not in the canonical encoding Stella writes (key order, duplicate keys, tags or integer widths differ)',
      );
    return new ManifestStream(r, rec, h, arr.arg);
  }

  /** The next entry, validated and checked canonical; undefined after the last. */
  async next(): Promise<ExportManifestEntry | undefined> {
    if (this.index >= this.count) return undefined;
    const i = this.index++;
    const e = validateManifestEntry(await item(this.rec, 1), i);
    if (!bytesEqual(this.rec.drain(), encodeManifestEntry(e)))
      bad(`entries[${i}]: not in the canonical encoding Stella writes`);
    return e;
  }

  /** After the last entry: nothing may follow. */
  async finish(): Promise<void> {
    if (this.index < this.count) bad(`only ${this.index} of ${this.count} entries read`);
    if (!(await this.r.atEnd())) bad('data after the end of the manifest');
  }

  async close(): Promise<void> {
    await this.r.close();
  }
}
