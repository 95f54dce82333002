/**
 * Archive mutations for export tars: header fields (name, prefix, mode, size, type flag,
 * link name, magic, checksum) set to the values the checklist's section A names, entries
 * dropped, duplicated, reordered or appended, data flipped, the archive truncated or padded,
 * compressed-stream magic, and — for the manifest — a decoded CBOR value mutated with the JSON
 * mutator and encoded again, optionally with the manifest's digests fixed up so a changed
 * bundle gets past the manifest and into the bundle parser.
 *
 * `listTar` is a lenient reader used both to find entries to mutate and, in the oracle, as
 * the independent "what would tar extract" reference.
 */
import { createHash } from 'node:crypto';
import { Encoder } from 'cbor-x';
import type { Prng } from './prng.js';
import { havoc, type Trail } from './mutate-bytes.js';
import { concatBytes as concat } from '../../src/util/encoding.js';
import { mutateJson, type Json } from './mutate-json.js';

export const BLOCK = 512;

export interface TarEntry {
  /** Offset of the header block. */
  offset: number;
  header: Uint8Array;
  name: string;
  type: number;
  size: number;
  data: Uint8Array;
}

function str(h: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && h[end] !== 0) end++;
  return Buffer.from(h.subarray(off, end)).toString('latin1');
}

/**
 * Every header up to the end-of-archive marker, leniently (sizes read as octal, anything
 * unreadable ends the walk). `complete` says whether the walk reached two zero blocks.
 */
export function listTar(bytes: Uint8Array): {
  entries: TarEntry[];
  complete: boolean;
  end: number;
} {
  const entries: TarEntry[] = [];
  let off = 0;
  while (off + BLOCK <= bytes.length) {
    const header = bytes.subarray(off, off + BLOCK);
    if (header.every((b) => b === 0)) {
      const next = bytes.subarray(off + BLOCK, off + 2 * BLOCK);
      return { entries, complete: next.length === BLOCK && next.every((b) => b === 0), end: off };
    }
    const sizeText = str(header, 124, 12).trim();
    if (!/^[0-7]+$/.test(sizeText)) break;
    const size = parseInt(sizeText, 8);
    const prefix = str(header, 345, 155);
    const name = prefix ? `${prefix}/${str(header, 0, 100)}` : str(header, 0, 100);
    const dataEnd = off + BLOCK + size;
    if (dataEnd > bytes.length) break;
    entries.push({
      offset: off,
      header: header.slice(),
      name,
      type: header[156]!,
      size,
      data: bytes.slice(off + BLOCK, dataEnd),
    });
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return { entries, complete: false, end: off };
}

function octal(v: number, len: number): Uint8Array {
  return Uint8Array.from(Buffer.from(v.toString(8).padStart(len - 1, '0') + '\0', 'latin1'));
}

function fixChecksum(h: Uint8Array): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  h.set(Buffer.from(sum.toString(8).padStart(6, '0') + '\0 ', 'latin1'), 148);
}

function field(h: Uint8Array, off: number, len: number, value: Uint8Array): void {
  h.fill(0, off, off + len);
  h.set(value.subarray(0, len), off);
}

function entryBytes(header: Uint8Array, data: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  padded.set(data);
  return concat(header, padded);
}

function rebuild(
  entries: readonly { header: Uint8Array; data: Uint8Array }[],
  trailer: Uint8Array = new Uint8Array(2 * BLOCK),
): Uint8Array {
  return concat(...entries.map((e) => entryBytes(e.header, e.data)), trailer);
}

const latin = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

const EVIL_NAMES = [
  '../x',
  'a/../../x',
  './a/../../x',
  '/etc/passwd',
  '////x',
  'C:\\x',
  'C:../x',
  'bundles\\x',
  'manifest.cbor\u0000.txt',
  'MANIFEST.CBOR',
  'Manifest.cbor',
  './manifest.cbor',
  'manifest.cbor/',
  'trusted_root.json',
  'bundles/',
  'bundles/x/0.sigstore.json',
  `bundles/${'0'.repeat(64)}/0.sigstore.json`,
  `bundles/${'0'.repeat(64)}/00.sigstore.json`,
  `bundles/${'0'.repeat(64)}/10000.sigstore.json`,
  'a'.repeat(100),
  'x\u0001y',
  'caf\u00e9',
  'e\u0301',
];

const SIZE_FIELDS = [
  () => octal(0, 12),
  () => octal(1, 12),
  () => octal(0o77777777777, 12),
  () => latin('           '),
  () => latin('NaN'),
  () => latin('-1'),
  () => Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0),
  () => Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  () => latin('00000000012 '),
  () => latin(' 0000000012'),
  () => latin('0000000001x'),
];

export interface ManifestFixup {
  /** Recompute the manifest's sha256/size for a changed entry, re-encoded (or undefined when it cannot). */
  (manifest: Uint8Array, name: string, data: Uint8Array): Uint8Array | undefined;
}

const cbor = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  tagUint8Array: false,
  structuredClone: false,
  pack: false,
});

/** Put the digest and size of `name`'s new bytes into the manifest (the manifest is not signed, so an attacker can). */
export const fixManifest: ManifestFixup = (manifest, name, data) => {
  let m: {
    entries?: { path: string; sha256: string; size: number }[];
    trustedRoot?: { path: string; sha256: string; size: number } | null;
  };
  try {
    m = cbor.decode(manifest) as typeof m;
  } catch {
    return undefined;
  }
  const sha = createHash('sha256').update(data).digest('hex');
  if (typeof m !== 'object' || m === null) return undefined;
  const entries = Array.isArray(m.entries) ? m.entries : [];
  const e =
    entries.find((x) => typeof x === 'object' && x !== null && x.path === name) ??
    (typeof m.trustedRoot === 'object' && m.trustedRoot?.path === name ? m.trustedRoot : undefined);
  if (!e) return undefined;
  e.sha256 = sha;
  e.size = data.length;
  return new Uint8Array(cbor.encode(m));
};

/**
 * What a plain reader finds wrong with a tar Stella accepted: no end-of-archive marker, an
 * entry that is not a regular file, a name twice, data after the end.
 */
export function plainTarProblems(bytes: Uint8Array, plain = listTar(bytes)): string[] {
  const problems: string[] = [];
  if (!plain.complete) problems.push('a plain tar reader finds no end-of-archive marker');
  if (plain.entries.some((e) => e.type !== 0x30 && e.type !== 0))
    problems.push('an entry is not a regular file');
  if (new Set(plain.entries.map((e) => e.name)).size !== plain.entries.length)
    problems.push('duplicate names');
  if (bytes.subarray(plain.end).some((b) => b !== 0))
    problems.push('data after the end-of-archive marker');
  return problems;
}

/**
 * One archive mutation. `bundleMutator` mutates a bundle's bytes (the JSON bundle mutator),
 * so a change can travel through a consistent archive into the bundle parser.
 */
export function mutateTar(
  rng: Prng,
  archive: Uint8Array,
  trail: Trail,
  bundleMutator?: (rng: Prng, bytes: Uint8Array, trail: Trail) => Uint8Array,
): Uint8Array {
  const { entries } = listTar(archive);
  if (entries.length === 0 || rng.chance(0.05)) return havoc(rng, archive, trail);
  const op = rng.weighted<string>([
    [5, 'header-field'],
    [2, 'entries'],
    [2, 'manifest'],
    [2, 'bundle-data'],
    [1, 'data-bytes'],
    [2, 'framing'],
  ]);
  const list = entries.map((e) => ({ header: e.header.slice(), data: e.data }));
  const i = rng.int(list.length);
  const e = list[i]!;
  switch (op) {
    case 'header-field': {
      const h = e.header;
      const what = rng.weighted<string>([
        [3, 'name'],
        [1, 'prefix'],
        [1, 'mode'],
        [3, 'size'],
        [2, 'type'],
        [1, 'linkname'],
        [1, 'magic'],
        [1, 'mtime'],
        [1, 'uid'],
        [1, 'checksum'],
      ]);
      switch (what) {
        case 'name':
          field(h, 0, 100, latin(rng.pick(EVIL_NAMES)));
          break;
        case 'prefix':
          field(h, 345, 155, latin(rng.pick(['bundles', '..', '/', 'x'.repeat(155), ''])));
          break;
        case 'mode':
          field(
            h,
            100,
            8,
            rng.pick([octal(0o4755, 8), octal(0o777, 8), latin('junk'), new Uint8Array(8)]),
          );
          break;
        case 'size': {
          const v = rng.chance(0.5)
            ? octal(
                Math.max(0, e.data.length + rng.pick([-1, 1, -512, 512, 1 << 20, -e.data.length])),
                12,
              )
            : rng.pick(SIZE_FIELDS)();
          field(h, 124, 12, v);
          break;
        }
        case 'type':
          h[156] = rng.pick([
            0x00, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x78, 0x67, 0x4c, 0x4b, 0x53, 0x56,
            0x41, 0xff,
          ]);
          break;
        case 'linkname':
          field(h, 157, 100, latin(rng.pick(['/etc/passwd', '../x', 'manifest.cbor'])));
          break;
        case 'magic':
          field(
            h,
            257,
            8,
            latin(
              rng.pick([
                'ustar  \u0000',
                'ustar\u0000',
                'USTAR\u000000',
                '\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000',
              ]),
            ),
          );
          break;
        case 'mtime':
          field(
            h,
            136,
            12,
            rng.pick([octal(0o77777777777, 12), latin('-1'), Uint8Array.of(0x80, 1)]),
          );
          break;
        case 'uid':
          field(h, 108, 8, rng.pick([octal(0o7777777, 8), latin('root')]));
          break;
        default:
          h[148 + rng.int(8)]! ^= 1 << rng.int(8);
      }
      if (what !== 'checksum' && rng.chance(0.85)) fixChecksum(h);
      trail.push(`tar: entry ${i} (${entries[i]!.name}): header ${what}`);
      return rebuild(list);
    }
    case 'entries': {
      const how = rng.pick([
        'drop',
        'dup',
        'swap',
        'move-last',
        'pax',
        'gnu-longname',
        'extra-file',
      ]);
      if (how === 'drop') list.splice(i, 1);
      else if (how === 'dup') list.splice(i + 1, 0, { header: e.header.slice(), data: e.data });
      else if (how === 'swap' && list.length > 1) {
        const j = rng.int(list.length);
        [list[i], list[j]] = [list[j]!, list[i]!];
      } else if (how === 'move-last') list.push(...list.splice(i, 1));
      else if (how === 'pax' || how === 'gnu-longname') {
        const data =
          how === 'pax'
            ? latin(`30 path=bundles/../../etc/passwd\n`)
            : latin('../../../etc/passwd\u0000');
        const h = e.header.slice();
        field(h, 124, 12, octal(data.length, 12));
        h[156] = how === 'pax' ? 0x78 : 0x4c;
        field(h, 0, 100, latin(how === 'pax' ? 'PaxHeader/x' : '././@LongLink'));
        fixChecksum(h);
        list.splice(i, 0, { header: h, data });
      } else {
        const h = e.header.slice();
        const data = rng.bytes(rng.smallSize(600));
        field(
          h,
          0,
          100,
          latin(
            rng.pick([
              'extra.txt',
              'bundles/' + 'f'.repeat(64) + '/0.sigstore.json',
              'trusted_root.json',
            ]),
          ),
        );
        field(h, 124, 12, octal(data.length, 12));
        fixChecksum(h);
        list.splice(rng.int(list.length + 1), 0, { header: h, data });
      }
      trail.push(`tar: entries ${how} at ${i}`);
      return rebuild(list);
    }
    case 'manifest':
    case 'bundle-data': {
      const mi = entries.findIndex((x) => x.name === 'manifest.cbor');
      const targets =
        op === 'manifest'
          ? [mi]
          : entries
              .map((x, k) => (x.name.endsWith('.sigstore.json') ? k : -1))
              .filter((k) => k >= 0);
      const k = targets.length ? rng.pick(targets) : -1;
      if (k < 0) return havoc(rng, archive, trail);
      const target = list[k]!;
      let data: Uint8Array;
      if (op === 'manifest') {
        let value: unknown;
        try {
          value = cbor.decode(target.data);
        } catch {
          value = undefined;
        }
        const sub: Trail = [];
        if (value !== undefined && rng.chance(0.8)) {
          const next = mutateJson(rng, value as Json, sub, { allowRaw: false });
          data = new Uint8Array(cbor.encode(next));
        } else data = havoc(rng, target.data, sub);
        trail.push(`tar: manifest: ${sub.join('; ')}`);
      } else {
        const sub: Trail = [];
        data =
          bundleMutator && rng.chance(0.8)
            ? bundleMutator(rng, target.data, sub)
            : havoc(rng, target.data, sub);
        trail.push(`tar: ${entries[k]!.name}: ${sub.join('; ')}`);
        if (mi >= 0 && rng.chance(0.8)) {
          const fixed = fixManifest(list[mi]!.data, entries[k]!.name, data);
          if (fixed) {
            list[mi] = { header: list[mi]!.header.slice(), data: fixed };
            field(list[mi].header, 124, 12, octal(fixed.length, 12));
            fixChecksum(list[mi].header);
            trail.push('tar: manifest digests fixed up');
          }
        }
      }
      const h = target.header.slice();
      if (rng.chance(0.9)) {
        field(h, 124, 12, octal(data.length, 12));
        fixChecksum(h);
      }
      list[k] = { header: h, data };
      return rebuild(list);
    }
    case 'data-bytes': {
      const sub: Trail = [];
      list[i] = { header: e.header, data: havoc(rng, e.data, sub) };
      trail.push(`tar: entry ${i} data (size field unchanged): ${sub.join(', ')}`);
      return rebuild(list);
    }
    default: {
      const how = rng.pick([
        'truncate-block',
        'truncate-byte',
        'no-end',
        'one-end-block',
        'junk-after-end',
        'zeros-after-end',
        'gzip-magic',
        'entry-after-end',
      ]);
      trail.push(`tar: framing ${how}`);
      switch (how) {
        case 'truncate-block':
          return archive.slice(0, BLOCK * rng.int(Math.floor(archive.length / BLOCK)));
        case 'truncate-byte':
          return archive.slice(0, rng.int(archive.length));
        case 'no-end':
          return rebuild(list, new Uint8Array(0));
        case 'one-end-block':
          return rebuild(list, new Uint8Array(BLOCK));
        case 'junk-after-end':
          return concat(archive, rng.bytes(1 + rng.smallSize(BLOCK)));
        case 'zeros-after-end':
          return concat(archive, new Uint8Array(BLOCK * (1 + rng.int(4))));
        case 'gzip-magic':
          return concat(Uint8Array.of(0x1f, 0x8b), archive.subarray(2));
        default:
          return concat(archive, entryBytes(e.header, e.data), new Uint8Array(2 * BLOCK));
      }
    }
  }
}
