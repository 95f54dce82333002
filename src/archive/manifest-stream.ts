/**
 * `manifest.cbor` read as a stream: one entry at a time, so a manifest of a million entries is
 * never held in memory. The same rules as decodeManifest (./manifest.ts), by the same
 * validators: the header fields, then each entry, each checked to be exactly the canonical
 * bytes Stella writes, piece by piece: the header re-encoded (with the shortest array head)
 * and compared; an entry read by the entry table, which takes only the canonical form, or
 * else decoded, re-encoded and compared. A small decoder reads only what a manifest can hold —
 * unsigned integers, text, null, definite-length maps and arrays — and refuses the rest (byte
 * strings, tags, floats, indefinite lengths) before anything is allocated for it. It decodes
 * each piece synchronously from the bytes already buffered, looking further only when they
 * end inside it: one await per entry, not one per CBOR item (a 10,000-entry manifest was
 * ~0.1 s of a shipment's main thread, read twice).
 */
import { StellaError } from '../errors.js';
import { bytesEqual, utf8Decoder } from '../util/encoding.js';
import { ByteReader } from './stream.js';
import {
  bad,
  encodeManifestEntry,
  ENTRY_FIELDS,
  encodeManifestPrefix,
  MANIFEST_NAME,
  validateManifestEntry,
  validateManifestHeader,
  type ExportManifestEntry,
  type ExportManifestHeader,
} from './manifest.js';
import { quoted } from '../util/text.js';

const MAX_TEXT = 64 * 1024;
const MAX_ITEMS = 64;
/**
 * The most bytes one entry (or the header) may take. Stella's entries are a few hundred bytes;
 * the decoder looks at up to this much before it gives up on an item as too large.
 */
const MAX_PIECE = 1024 * 1024;

/** ENTRY_FIELDS with each key as canonical CBOR text (all under 24 bytes: a head of 0x60 + length). */
const CANONICAL_ENTRY = ENTRY_FIELDS.map((f) => ({
  ...f,
  keyBytes: [0x60 + f.key.length, ...Array.from(f.key, (c) => c.charCodeAt(0))],
}));

/** Thrown by the decoder when the bytes it was given end inside an item (one instance, made once). */
const NEED_MORE = new Error('manifest decoder: more bytes needed');

/**
 * A synchronous decoder over the bytes buffered so far: `item` throws NEED_MORE when they end
 * inside the item, and the caller looks further and decodes the item again from its start.
 * Each length is checked against the limits before anything is allocated for it.
 */
class Decoder {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.b.byteLength) throw NEED_MORE;
    return this.b[this.pos++]!;
  }

  /** An item's head: its major type and argument (a value, or a length to read). */
  head(): { major: number; arg: number } {
    const b = this.byte();
    const major = b >> 5;
    const ai = b & 31;
    if (ai < 24) return { major, arg: ai };
    if (ai > 27)
      bad(
        ai === 31
          ? 'indefinite-length items are not accepted'
          : `reserved CBOR additional information ${ai}`,
      );
    let v = 0;
    for (let i = 1 << (ai - 24); i > 0; i--) v = v * 256 + this.byte();
    if (!Number.isSafeInteger(v)) bad('integer or length out of range');
    return { major, arg: v };
  }

  /** A text's `len` bytes after its head. */
  private text(len: number): string {
    if (len > MAX_TEXT) bad(`text of ${len} bytes is longer than ${MAX_TEXT}`);
    const end = this.pos + len;
    if (end > this.b.byteLength) throw NEED_MORE;
    const start = this.pos;
    this.pos = end;
    try {
      return utf8Decoder.decode(this.b.subarray(start, end));
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

  /**
   * An argument of this major type in its shortest head (RFC 8949 preferred serialization:
   * 24 and up in one more byte, 256 in two, 65,536 in four, 2^32 in eight), read by head();
   * undefined for another type or a longer head.
   */
  private shortest(major: number): number | undefined {
    const start = this.pos;
    const h = this.head();
    if (h.major !== major) return undefined;
    const a = h.arg;
    const width = a < 24 ? 0 : a < 256 ? 1 : a < 65536 ? 2 : a < 2 ** 32 ? 4 : 8;
    return this.pos - start === 1 + width ? a : undefined;
  }

  /**
   * An entry exactly as encodeManifestEntry writes it (the canonical encoding), read by the
   * entry table without the general decoder: the map head, each key's bytes in order, each
   * value in its shortest head. Undefined wherever the bytes differ from that form: the general
   * decoder then reads them, and the comparison with the canonical bytes says what is wrong.
   */
  canonicalEntry(): Record<string, unknown> | undefined {
    if (this.byte() !== 0xa0 + ENTRY_FIELDS.length) return undefined;
    const o: Record<string, unknown> = {};
    for (const f of CANONICAL_ENTRY) {
      const key = f.keyBytes;
      if (this.pos + key.length > this.b.byteLength) throw NEED_MORE;
      for (let j = 0; j < key.length; j++) if (this.b[this.pos + j] !== key[j]) return undefined;
      this.pos += key.length;
      if (f.value === 'uint') {
        const v = this.shortest(0);
        if (v === undefined) return undefined;
        o[f.key] = v;
        continue;
      }
      if (f.value === 'text or null' && this.b[this.pos] === 0xf6) {
        this.pos++;
        o[f.key] = null;
        continue;
      }
      const len = this.shortest(3);
      if (len === undefined) return undefined;
      o[f.key] = this.text(len);
    }
    return o;
  }

  /** One item of the few kinds a manifest holds; `depth` bounds nesting. */
  item(depth: number): unknown {
    if (depth > 4) bad('nested too deeply');
    const { major, arg } = this.head();
    switch (major) {
      case 0:
        return arg;
      case 3:
        return this.text(arg);
      case 4: {
        if (arg > MAX_ITEMS) bad(`array of ${arg} items where at most ${MAX_ITEMS} are expected`);
        const a: unknown[] = [];
        for (let i = 0; i < arg; i++) a.push(this.item(depth + 1));
        return a;
      }
      case 5: {
        if (arg > MAX_ITEMS) bad(`map of ${arg} keys where at most ${MAX_ITEMS} are expected`);
        const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        for (let i = 0; i < arg; i++) {
          const k = this.item(depth + 1);
          if (typeof k !== 'string') bad('map key is not text');
          if (k in o) bad(`duplicate map key ${quoted(k, 40)}`);
          o[k] = this.item(depth + 1);
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
}

/**
 * Decodes one piece (the header, or one entry) with `decode` over what is buffered, looking
 * further while the bytes end inside it; returns its value and consumes exactly its bytes
 * (`raw`, for the canonical comparison).
 */
async function piece<T>(
  r: ByteReader,
  what: string,
  decode: (d: Decoder) => T,
): Promise<{ value: T; raw: Uint8Array }> {
  for (let look = 512; ; look = Math.min(look * 4, MAX_PIECE)) {
    const b = await r.peek(look);
    const d = new Decoder(b);
    try {
      const value = decode(d);
      return { value, raw: await r.read(d.pos) };
    } catch (e) {
      if (e !== NEED_MORE) throw e;
      if (b.byteLength < look) bad(`truncated CBOR (${what})`);
      if (look === MAX_PIECE) bad(`${what} is larger than ${MAX_PIECE} bytes`);
    }
  }
}

/**
 * One entry's bytes as the entry table reads them (Decoder.canonicalEntry): its fields and
 * how many bytes they took, or undefined where the bytes are not in that form. For tests,
 * which hold it to encodeManifestEntry.
 */
export function readCanonicalEntry(
  bytes: Uint8Array,
): { fields: Record<string, unknown>; length: number } | undefined {
  const d = new Decoder(bytes);
  try {
    const fields = d.canonicalEntry();
    return fields && { fields, length: d.pos };
  } catch (e) {
    if (e === NEED_MORE) return undefined;
    throw e;
  }
}

export class ManifestStream {
  private index = 0;
  private constructor(
    private readonly r: ByteReader,
    readonly header: ExportManifestHeader,
    readonly count: number,
  ) {}

  /** Read the header, up to the head of the entries array; `maxEntries` bounds the count. */
  static async open(
    chunks: AsyncIterable<Uint8Array>,
    maxEntries: number,
  ): Promise<ManifestStream> {
    const r = new ByteReader(chunks);
    const { value, raw } = await piece(r, 'manifest header', (d) => {
      const top = d.head();
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
        const k = d.item(1);
        if (k !== key) bad(`manifest: expected key ${key} here, found ${quoted(k, 40)}`);
        o[key] = d.item(1);
      }
      if (d.item(1) !== 'entries') bad('manifest: expected key entries last');
      return { o, arr: d.head() };
    });
    const h = validateManifestHeader(value.o);
    const { arr } = value;
    if (arr.major !== 4) bad('entries: expected an array');
    if (arr.arg > maxEntries) {
      throw new StellaError(
        'ARCHIVE_LIMIT_EXCEEDED',
        'archive',
        `${MANIFEST_NAME} lists ${arr.arg} bundles, more than the ${maxEntries} accepted`,
      );
    }
    if (!bytesEqual(raw, encodeManifestPrefix(h, arr.arg)))
      bad(
        'not in the canonical encoding Stella writes (key order, duplicate keys, tags or integer widths differ)',
      );
    return new ManifestStream(r, h, arr.arg);
  }

  /** The next entry, validated and checked canonical; undefined after the last. */
  async next(): Promise<ExportManifestEntry | undefined> {
    if (this.index >= this.count) return undefined;
    const i = this.index++;
    const { value, raw } = await piece(this.r, `entries[${i}]`, (d) => {
      const start = d.pos;
      const canonical = d.canonicalEntry();
      if (canonical) return { entry: canonical, canonical: true };
      d.pos = start;
      return { entry: d.item(1), canonical: false };
    });
    const e = validateManifestEntry(value.entry, i);
    // Read as canonical, the bytes are the canonical encoding (held to encodeManifestEntry in
    // test/archive/manifest-stream.test.ts); otherwise they are compared with it.
    if (!value.canonical && !bytesEqual(raw, encodeManifestEntry(e)))
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
