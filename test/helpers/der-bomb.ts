/** DER built byte by byte for the encoding-limit tests (checklist H55). */

/** An element with tag octet `tag` (0x30 SEQUENCE, 0x31 SET, 0x04 OCTET STRING) around `content`, minimal length. */
export function wrapDer(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const len: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) len.unshift(v & 0xff);
  const header = n < 0x80 ? [tag, n] : [tag, 0x80 | len.length, ...len];
  const out = new Uint8Array(header.length + n);
  out.set(header);
  out.set(content, header.length);
  return out;
}

/** `count` NULL elements (05 00), two bytes each. */
export function derNulls(count: number): Uint8Array {
  const b = new Uint8Array(2 * count);
  for (let i = 0; i < b.length; i += 2) b[i] = 0x05;
  return b;
}

/** A "certificate" of `bytes` bytes: one SEQUENCE of empty elements, well-formed DER. */
export function derBomb(bytes: number, tag = 0x30): Uint8Array {
  // Header is at most 6 bytes; fill the rest with NULLs.
  return wrapDer(tag, derNulls(Math.floor((bytes - 6) / 2)));
}
