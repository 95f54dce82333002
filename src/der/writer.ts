/**
 * DER encoder: builds certificates, extensions and the precertificate TBS. Every function
 * returns the complete encoded element; compose them by nesting. Output is canonical DER
 * (minimal lengths and integers, SET OF sorted), so encoding the same values twice gives
 * the same bytes.
 */
import { concatBytes, utf8 } from '../util/encoding.js';
import { secondFraction, zeroPad, type PreciseTime } from '../util/time.js';
import { Tag } from './reader.js';

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encode an element from its identifier octet (low tag numbers only) and content. */
export function tlv(identifier: number, content: Uint8Array): Uint8Array {
  return tlvOf(identifier, [content]);
}

/** An element whose content is `parts` back to back, written in one buffer (no joined copy). */
function tlvOf(identifier: number, parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const len = encodeLength(n);
  const out = new Uint8Array(1 + len.length + n);
  out[0] = identifier;
  out.set(len, 1);
  let o = 1 + len.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function seq(...items: Uint8Array[]): Uint8Array {
  return tlvOf(0x30, items);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** SET OF: elements sorted by their encodings, as DER requires. */
export function setOf(...items: Uint8Array[]): Uint8Array {
  return tlvOf(0x31, [...items].sort(compareBytes));
}

/**
 * SET (of distinct types). DER orders SET members by tag, which sorting by encoding also
 * achieves, so this is the same encoder as setOf.
 */
export function set(...items: Uint8Array[]): Uint8Array {
  return setOf(...items);
}

/** Minimal two's-complement content octets for an integer. */
function integerContent(v: bigint): Uint8Array {
  if (v === 0n) return Uint8Array.of(0);
  const bytes: number[] = [];
  let x = v;
  // Emit bytes until the remaining value is just sign extension of the last byte.
  for (;;) {
    const b = Number(x & 0xffn);
    bytes.unshift(b);
    x >>= 8n;
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(bytes);
}

/**
 * INTEGER from a bigint, a safe integer, or unsigned big-endian bytes (a serial number or
 * an RSA modulus: leading zeros stripped, a 0x00 added when the top bit is set).
 */
export function int(v: bigint | number | Uint8Array): Uint8Array {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError('int: not a safe integer');
    return tlv(Tag.INTEGER, integerContent(BigInt(v)));
  }
  if (typeof v === 'bigint') return tlv(Tag.INTEGER, integerContent(v));
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const mag = v.subarray(i);
  if (mag.length === 0) return tlv(Tag.INTEGER, Uint8Array.of(0));
  return tlv(Tag.INTEGER, (mag[0]! & 0x80) !== 0 ? concatBytes(Uint8Array.of(0), mag) : mag);
}

export function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.');
  if (parts.length < 2 || parts.some((p) => !/^(0|[1-9][0-9]*)$/.test(p)))
    throw new RangeError(`oid: invalid "${dotted}"`);
  const arcs = parts.map((p) => BigInt(p));
  const a0 = arcs[0]!;
  const a1 = arcs[1]!;
  if (a0 > 2n || (a0 < 2n && a1 > 39n))
    throw new RangeError(`oid: invalid first arcs in "${dotted}"`);
  const out: number[] = [];
  const push = (v: bigint): void => {
    const chunk: number[] = [Number(v & 0x7fn)];
    v >>= 7n;
    while (v > 0n) {
      chunk.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(...chunk);
  };
  push(a0 * 40n + a1);
  for (const a of arcs.slice(2)) push(a);
  return tlv(Tag.OID, Uint8Array.from(out));
}

export function octetString(bytes: Uint8Array): Uint8Array {
  return tlv(Tag.OCTET_STRING, bytes);
}

export function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0))
    throw new RangeError('bitString: bad unused bits');
  const content = new Uint8Array(bytes.length + 1);
  content[0] = unusedBits;
  content.set(bytes, 1);
  if (unusedBits) content[content.length - 1]! &= 0xff << unusedBits;
  return tlv(Tag.BIT_STRING, content);
}

/**
 * BIT STRING of named bits (KeyUsage): bit 0 is the most significant bit of the first
 * octet; trailing zero bits are dropped, as DER requires for named bit lists.
 */
export function namedBitString(bits: number[]): Uint8Array {
  if (bits.length === 0) return bitString(new Uint8Array(0));
  const max = Math.max(...bits);
  const bytes = new Uint8Array((max >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return bitString(bytes, 7 - (max & 7));
}

export function nul(): Uint8Array {
  return Uint8Array.of(Tag.NULL, 0);
}

export function bool(b: boolean): Uint8Array {
  return Uint8Array.of(Tag.BOOLEAN, 1, b ? 0xff : 0);
}

export function utf8String(s: string): Uint8Array {
  return tlv(Tag.UTF8_STRING, utf8.encode(s));
}

export function printableString(s: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s))
    throw new RangeError('printableString: character outside the PrintableString set');
  return tlv(Tag.PRINTABLE_STRING, utf8.encode(s));
}

export function ia5String(s: string): Uint8Array {
  if (!/^[\x00-\x7f]*$/.test(s)) throw new RangeError('ia5String: non-ASCII character');
  return tlv(Tag.IA5_STRING, utf8.encode(s));
}

function timeParts(ms: number): { y: number; rest: string } {
  if (!Number.isFinite(ms)) throw new RangeError('time: not a finite number');
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return {
    y: d.getUTCFullYear(),
    rest:
      zeroPad(d.getUTCMonth() + 1, 2) +
      zeroPad(d.getUTCDate(), 2) +
      zeroPad(d.getUTCHours(), 2) +
      zeroPad(d.getUTCMinutes(), 2) +
      zeroPad(d.getUTCSeconds(), 2) +
      'Z',
  };
}

/** UTCTime (whole seconds; years 1950-2049). */
export function utcTime(ms: number): Uint8Array {
  const { y, rest } = timeParts(ms);
  if (y < 1950 || y > 2049) throw new RangeError('utcTime: year outside 1950-2049');
  return tlv(Tag.UTC_TIME, utf8.encode(zeroPad(y % 100, 2) + rest));
}

/**
 * GeneralizedTime: whole seconds for a number (certificates), or every fraction digit of a
 * PreciseTime (RFC 3161 genTime: `YYYYMMDDHHMMSS.fffZ`, DER: no trailing zeros, no empty fraction).
 */
export function generalizedTime(t: number | PreciseTime): Uint8Array {
  const ms = typeof t === 'number' ? t : t.ms;
  const { y, rest } = timeParts(ms);
  if (y < 0 || y > 9999) throw new RangeError('generalizedTime: year out of range');
  let fraction = '';
  if (typeof t !== 'number') {
    if (!/^[0-9]*$/.test(t.subMs))
      throw new RangeError('generalizedTime: subMs must be decimal digits');
    fraction = secondFraction(t);
  }
  return tlv(
    Tag.GENERALIZED_TIME,
    utf8.encode(zeroPad(y, 4) + (fraction ? `${rest.slice(0, -1)}.${fraction}Z` : rest)),
  );
}

/** A certificate validity time per RFC 5280 §4.1.2.5: UTCTime through 2049, then GeneralizedTime. */
export function x509Time(ms: number): Uint8Array {
  const y = new Date(ms).getUTCFullYear();
  return y >= 1950 && y <= 2049 ? utcTime(ms) : generalizedTime(ms);
}

/** [n] EXPLICIT: a constructed context tag around a complete element. */
export function explicit(n: number, inner: Uint8Array): Uint8Array {
  if (n > 30) throw new RangeError('explicit: tag number too large');
  return tlv(0xa0 | n, inner);
}

/**
 * [n] IMPLICIT: replaces the tag of `inner` (a complete element) with a context tag,
 * keeping its constructed bit and content.
 */
export function implicit(n: number, inner: Uint8Array): Uint8Array {
  if (n > 30) throw new RangeError('implicit: tag number too large');
  const out = new Uint8Array(inner); // a copy even when given a Buffer (Buffer.slice is a view)
  out[0] = 0x80 | (inner[0]! & 0x20) | n;
  return out;
}

/** [n] IMPLICIT primitive from raw content octets (e.g. a URI in a GeneralName). */
export function contextPrimitive(n: number, content: Uint8Array): Uint8Array {
  if (n > 30) throw new RangeError('contextPrimitive: tag number too large');
  return tlv(0x80 | n, content);
}

/** Already-encoded DER, passed through (documents intent at call sites). */
export function raw(der: Uint8Array): Uint8Array {
  return der;
}
