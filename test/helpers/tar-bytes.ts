/** Byte-by-byte ustar headers and entries, for building malicious archives in tests. */
import { BLOCK } from '../../src/archive/tar.js';

export interface HeaderOpts {
  name?: string | Uint8Array;
  prefix?: string;
  type?: number;
  size?: number;
  /** Raw 12-byte size field. */
  sizeField?: Uint8Array;
  magic?: string;
  badChecksum?: boolean;
}

export function header(o: HeaderOpts): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const name =
    typeof o.name === 'string'
      ? Buffer.from(o.name, 'latin1')
      : (o.name ?? Buffer.from('manifest.cbor'));
  h.set(name.subarray(0, 100), 0);
  const oct = (v: number, len: number): Buffer =>
    Buffer.from(v.toString(8).padStart(len - 1, '0') + '\0', 'latin1');
  h.set(oct(0o644, 8), 100);
  h.set(oct(0, 8), 108);
  h.set(oct(0, 8), 116);
  h.set(o.sizeField ?? oct(o.size ?? 0, 12), 124);
  h.set(oct(0, 12), 136);
  h[156] = o.type ?? 0x30;
  h.set(Buffer.from(o.magic ?? 'ustar\u000000', 'latin1'), 257);
  if (o.prefix) h.set(Buffer.from(o.prefix, 'latin1'), 345);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  h.set(
    Buffer.from((o.badChecksum ? sum + 1 : sum).toString(8).padStart(6, '0') + '\0 ', 'latin1'),
    148,
  );
  return h;
}

export function entry(o: HeaderOpts, data: Uint8Array = new Uint8Array()): Uint8Array {
  const padded = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  padded.set(data);
  return new Uint8Array(Buffer.concat([header({ size: data.length, ...o }), padded]));
}

export const END = new Uint8Array(2 * BLOCK);

export function archive(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
