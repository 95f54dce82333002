/**
 * The streaming readers: every checklist section A case refused by the streamed tar reader as
 * by the in-memory one (same archives, same codes, fed a few bytes at a time), duplicates and
 * order caught through the manifest, and the bounded gzip reader (bomb by ratio and by total,
 * a second member, trailing junk, truncation, a corrupt CRC).
 */
import test from 'ava';
import { crc32, gzipSync } from 'node:zlib';
import { StellaError } from '../../src/errors.js';
import { BLOCK } from '../../src/archive/tar.js';
import { StrictTarStream } from '../../src/archive/stream.js';
import { gunzipBounded } from '../../src/archive/gzip.js';
import {
  bytesSource,
  readExportArchiveStream,
  readPreamble,
  type ArchiveSource,
} from '../../src/archive/export-stream.js';
import { EXPORT_NAME_PATTERN, entryLimit } from '../../src/archive/export.js';
import { utf8 } from '../../src/util/encoding.js';
import { archive, END, entry, header } from '../helpers/tar-bytes.js';
import { readTarStrict, writeTar } from '../../src/archive/tar.js';
import { EXPORT_TAR_LIMITS } from '../../src/archive/export.js';
import { Encoder } from 'cbor-x';
import { decodeManifest, encodeManifest, type ExportManifest } from '../../src/archive/manifest.js';
import { readExportArchive } from '../../src/archive/export.js';
import { sha256 } from '../../src/crypto.js';
import { toHex } from '../../src/util/encoding.js';

const H = 'ab'.repeat(32);
const B0 = `bundles/${H}/0.sigstore.json`;
const MANIFEST = entry({ name: 'manifest.cbor' }, utf8.encode('x'));
const BUNDLE = entry({ name: B0 }, utf8.encode('{}'));

async function* trickle(bytes: Uint8Array, step = 97): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += step) yield bytes.subarray(i, i + step);
}

async function drain(bytes: Uint8Array): Promise<void> {
  const s = new StrictTarStream(trickle(bytes), {
    namePattern: EXPORT_NAME_PATTERN,
    maxEntries: 10,
    maxArchiveBytes: 1 << 24,
    maxDepth: 3,
    maxSize: entryLimit,
  });
  while (await s.next()) await s.data();
}

const b256 = new Uint8Array(12);
b256[0] = 0x80;
b256[11] = 1;
const CASES: [string, Uint8Array][] = [
  ['traversal', archive(entry({ name: '../x' }), END)],
  [
    'traversal in prefix',
    archive(entry({ name: '0.sigstore.json', prefix: 'bundles/../..' }), END),
  ],
  ['absolute', archive(entry({ name: '/etc/passwd' }), END)],
  ['drive letter', archive(entry({ name: 'C:../x' }), END)],
  ['backslash', archive(entry({ name: `bundles\\${H}\\0.sigstore.json` }), END)],
  ['NUL', archive(entry({ name: Buffer.from('manifest.cbor\0../../evil', 'latin1') }), END)],
  ['control', archive(entry({ name: 'manifest\u0007.cbor' }), END)],
  ['non-ASCII', archive(entry({ name: Buffer.from('caf\u00e9.json', 'utf8') }), END)],
  ['symlink', archive(MANIFEST, entry({ name: B0, type: 0x32 }), END)],
  ['hard link', archive(MANIFEST, entry({ name: B0, type: 0x31 }), END)],
  ['device', archive(MANIFEST, entry({ name: B0, type: 0x33 }), END)],
  ['FIFO', archive(MANIFEST, entry({ name: B0, type: 0x36 }), END)],
  ['unknown type', archive(MANIFEST, entry({ name: B0, type: 0x41 }), END)],
  [
    'directory with a huge size',
    archive(MANIFEST, header({ name: `bundles/${H}/`, type: 0x35, size: 0o77777777777 }), END),
  ],
  ['./name', archive(entry({ name: './manifest.cbor' }), END)],
  ['data after the end', archive(MANIFEST, END, new Uint8Array(BLOCK).fill(0x41))],
  ['an entry after the end', archive(MANIFEST, END, BUNDLE)],
  // Zeros after the end are tar's padding only in whole blocks: a part block is a cut archive.
  ['zeros after the end that are not whole blocks', archive(MANIFEST, END, new Uint8Array(100))],
  // One zero block is not the end: an entry after it must not be read as end-of-archive tail.
  [
    'an empty entry after one zero block',
    archive(MANIFEST, new Uint8Array(BLOCK), header({ name: B0, size: 0 }), END),
  ],
  [
    'PAX header',
    archive(entry({ name: 'pax', type: 0x78 }, utf8.encode('16 size=999999\n')), MANIFEST, END),
  ],
  [
    'PAX global',
    archive(entry({ name: 'pax', type: 0x67 }, utf8.encode('18 comment=hello\n')), MANIFEST, END),
  ],
  [
    'GNU long name',
    archive(entry({ name: '././@LongLink', type: 0x4c }, new Uint8Array(4096).fill(0x61)), END),
  ],
  ['base-256 size', archive(header({ name: 'manifest.cbor', sizeField: b256 }), END)],
  [
    'NaN size',
    archive(
      header({ name: 'manifest.cbor', sizeField: Buffer.from('NaN\0\0\0\0\0\0\0\0\0', 'latin1') }),
      END,
    ),
  ],
  // An empty number is refused, not read as 0, even where the field before it ends in NUL.
  [
    'empty size (NULs)',
    archive(header({ name: 'manifest.cbor', sizeField: new Uint8Array(12) }), END),
  ],
  [
    'empty size (spaces)',
    archive(header({ name: 'manifest.cbor', sizeField: new Uint8Array(12).fill(0x20) }), END),
  ],
  ['gzip input', new Uint8Array(gzipSync(archive(MANIFEST, END)))],
  // An empty zip: 22 bytes, shorter than one tar block.
  ['zip input', new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Uint8Array(18)])],
  ['oversized entry', archive(MANIFEST, header({ name: B0, size: entryLimit(B0) + 1 }), END)],
  ['too deep', archive(entry({ name: 'a/b/c/d/e' }), END)],
];

test('checklist A: the streamed tar reader refuses what the in-memory reader refuses, with the same code', async (t) => {
  for (const [what, bytes] of CASES) {
    const mem = t.throws(
      () => readTarStrict(bytes, EXPORT_TAR_LIMITS),
      { instanceOf: StellaError },
      what,
    ) as StellaError;
    const streamed = (await t.throwsAsync(
      drain(bytes),
      { instanceOf: StellaError },
      what,
    )) as StellaError;
    t.is(streamed.code, mem.code, `${what}: ${streamed.message} / ${mem.message}`);
    // Compressed input is named as such by both, not taken for a broken header.
    const compression = /^(gzip|zip) input$/.exec(what)?.[1];
    if (compression !== undefined) {
      const named = new RegExp(`compressed \\(${compression}\\) archives are not accepted`);
      t.regex(mem.message, named);
      t.regex(streamed.message, named);
    }
  }
  // Bad checksum, and truncation at every block boundary and inside one: a clean error each time.
  const good = archive(MANIFEST, BUNDLE, END);
  const bad = new Uint8Array(good);
  bad[148] = 0x37;
  t.is(((await t.throwsAsync(drain(bad))) as StellaError).code, 'ARCHIVE_INVALID');
  for (const len of [0, 100, BLOCK, BLOCK + 1, 2 * BLOCK, 3 * BLOCK, good.byteLength - BLOCK]) {
    const e = (await t.throwsAsync(
      drain(good.subarray(0, len)),
      { instanceOf: StellaError },
      `cut at ${len}`,
    )) as StellaError;
    t.is(e.code, 'ARCHIVE_INVALID', `cut at ${len}: ${e.message}`);
  }
  await t.notThrowsAsync(drain(good));
});

test('too many entries and too many bytes are refused while streaming', async (t) => {
  const many = archive(
    MANIFEST,
    ...Array.from({ length: 12 }, (_, i) =>
      entry({ name: `bundles/${i.toString(16).padStart(64, '0')}/0.sigstore.json` }),
    ),
    END,
  );
  t.is(((await t.throwsAsync(drain(many))) as StellaError).code, 'ARCHIVE_LIMIT_EXCEEDED');
  const s = new StrictTarStream(trickle(archive(MANIFEST, BUNDLE, END)), {
    namePattern: EXPORT_NAME_PATTERN,
    maxEntries: 10,
    maxArchiveBytes: 2 * BLOCK,
    maxDepth: 3,
    maxSize: entryLimit,
  });
  const e = await t.throwsAsync(
    async () => {
      while (await s.next()) await s.data();
    },
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'ARCHIVE_LIMIT_EXCEEDED');
});

function manifestFor(
  entries: { digest: string; path: string; bytes: Uint8Array }[],
  trustedRoot: Uint8Array | null = null,
): Uint8Array {
  const m: ExportManifest = {
    format: 'stella.dev/export-bundle/v1',
    version: 1,
    createdAt: '2026-01-31T00:00:00.000Z',
    trustedRoot: trustedRoot && {
      path: 'trusted_root.json',
      sha256: toHex(sha256(trustedRoot)),
      size: trustedRoot.byteLength,
    },
    entries: entries.map((e) => ({
      artifactDigest: e.digest,
      path: e.path,
      sha256: toHex(sha256(e.bytes)),
      size: e.bytes.byteLength,
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      content: 'messageSignature',
      identity: null,
      issuer: null,
      logIndex: 0,
      integratedTime: null,
    })),
  };
  return encodeManifest(m);
}

test('a listed bundle, and a listed file after the bundles, must have its listed digest, not only its listed size', async (t) => {
  const body = utf8.encode('{}');
  const e0 = { digest: `sha256:${H}`, path: B0, bytes: body };
  const root = utf8.encode('{"mediaType":"a"}');
  const sameSize = utf8.encode('{"mediaType":"b"}');
  const m = manifestFor([e0], root);
  const files = (carried: Uint8Array) => [
    { name: 'manifest.cbor', data: m },
    { name: B0, data: body },
    { name: 'trusted_root.json', data: carried },
  ];
  const read = await readExportArchiveStream(bytesSource(await writeTar(files(root))));
  t.deepEqual(read.trustedRoot, root);
  const e = (await t.throwsAsync(
    readExportArchiveStream(bytesSource(await writeTar(files(sameSize)))),
    { instanceOf: StellaError },
  )) as StellaError;
  t.is(e.code, 'ARCHIVE_MANIFEST_MISMATCH');
  t.regex(
    e.message,
    /^the archive: trusted_root\.json does not match the manifest: sha256 [0-9a-f]{64} \(17 bytes\)/,
  );
  const bundle = (await t.throwsAsync(
    readExportArchiveStream(
      bytesSource(
        await writeTar([
          { name: 'manifest.cbor', data: m },
          { name: B0, data: utf8.encode('[]') },
          { name: 'trusted_root.json', data: root },
        ]),
      ),
    ),
    { instanceOf: StellaError },
  )) as StellaError;
  t.is(bundle.code, 'ARCHIVE_MANIFEST_MISMATCH');
  t.is(
    bundle.message,
    `the archive: ${B0} does not match the manifest: sha256 ${toHex(sha256(utf8.encode('[]')))} (2 bytes), manifest says ${toHex(sha256(body))} (2 bytes)`,
  );
});

test('duplicates, case variants and order are caught through the manifest, with no set of names', async (t) => {
  const body = utf8.encode('{}');
  const e0 = { digest: `sha256:${H}`, path: B0, bytes: body };
  const read = async (files: { name: string; data: Uint8Array }[]): Promise<StellaError> =>
    (await t.throwsAsync(readExportArchiveStream(bytesSource(await writeTar(files))), {
      instanceOf: StellaError,
    })) as StellaError;
  const m1 = manifestFor([e0]);
  t.is(
    (
      await read([
        { name: 'manifest.cbor', data: m1 },
        { name: B0, data: body },
        { name: B0, data: body },
      ])
    ).code,
    'ARCHIVE_MANIFEST_MISMATCH',
  );
  // A manifest that lists the same path twice breaks the order rule.
  t.is(
    (
      await read([
        { name: 'manifest.cbor', data: manifestFor([e0, e0]) },
        { name: B0, data: body },
        { name: B0, data: body },
      ])
    ).code,
    'ARCHIVE_MANIFEST_MISMATCH',
  );
  t.is(
    (
      await read([
        { name: B0, data: body },
        { name: 'manifest.cbor', data: m1 },
      ])
    ).code,
    'ARCHIVE_MANIFEST_MISMATCH',
  );
  t.is((await read([{ name: 'manifest.cbor', data: m1 }])).code, 'ARCHIVE_MANIFEST_MISMATCH');
  t.is(
    (
      await read([
        { name: 'manifest.cbor', data: m1 },
        { name: B0, data: utf8.encode('{ }') },
      ])
    ).code,
    'ARCHIVE_MANIFEST_MISMATCH',
  );
  // The good one reads, a byte at a time too.
  const good = await writeTar([
    { name: 'manifest.cbor', data: m1 },
    { name: B0, data: body },
  ]);
  const src: ArchiveSource = { name: 'x', open: () => trickle(good, 1) };
  const seen: string[] = [];
  const r = await readExportArchiveStream(src, { onBundle: (e) => void seen.push(e.path) });
  t.is(r.count, 1);
  t.deepEqual(seen, [B0]);
});

async function inflate(
  bytes: Uint8Array,
  limits = { maxOutputBytes: 1 << 26, maxRatio: 200, ratioGraceBytes: 1 << 20 },
  step = 4096,
): Promise<number> {
  let n = 0;
  for await (const c of gunzipBounded(trickle(bytes, step), limits)) n += c.byteLength;
  return n;
}

test('gzip: bombs stop at the ratio or the total while inflating; one member only; no trailing junk; CRC checked', async (t) => {
  const tarBytes = archive(MANIFEST, BUNDLE, END);
  const gz = new Uint8Array(gzipSync(tarBytes));
  t.is(await inflate(gz), tarBytes.byteLength);
  const bomb = new Uint8Array(gzipSync(new Uint8Array(64 * 1024 * 1024)));
  const ratio = (await t.throwsAsync(inflate(bomb))) as StellaError;
  t.is(ratio.code, 'ARCHIVE_LIMIT_EXCEEDED');
  t.regex(ratio.message, /ratio/);
  const total = (await t.throwsAsync(
    inflate(bomb, { maxOutputBytes: 2 * 1024 * 1024, maxRatio: 1e9, ratioGraceBytes: 0 }),
  )) as StellaError;
  t.is(total.code, 'ARCHIVE_LIMIT_EXCEEDED');
  t.regex(total.message, /more than 2097152 bytes/);
  const two = new Uint8Array([...gz, ...gzipSync(utf8.encode('second'))]);
  t.regex(((await t.throwsAsync(inflate(two))) as StellaError).message, /second gzip member/);
  t.regex(
    ((await t.throwsAsync(inflate(new Uint8Array([...gz, 0x6a, 0x75, 0x6e, 0x6b])))) as StellaError)
      .message,
    /trailing data/,
  );
  t.regex(
    ((await t.throwsAsync(inflate(new Uint8Array([...gz, 0])))) as StellaError).message,
    /trailing data/,
  );
  t.is(
    ((await t.throwsAsync(inflate(gz.subarray(0, gz.byteLength - 4)))) as StellaError).code,
    'ARCHIVE_INVALID',
  );
  t.is(((await t.throwsAsync(inflate(gz.subarray(0, 30)))) as StellaError).code, 'ARCHIVE_INVALID');
  const crc = new Uint8Array(gz);
  crc[crc.byteLength - 8] = crc[crc.byteLength - 8]! ^ 0xff;
  t.regex(((await t.throwsAsync(inflate(crc))) as StellaError).message, /CRC-32/);
});

test('gzip: the bytes handed on before a bomb is refused stay within the total; the chunk that crosses it is never handed on', async (t) => {
  const bomb = new Uint8Array(gzipSync(new Uint8Array(64 * 1024 * 1024)));
  // 16 MiB of zeros inflate from ~16 KiB: reads of 97 bytes and 4 KiB hand on output first.
  const limits = { maxOutputBytes: 16 * 1024 * 1024, maxRatio: 1e9, ratioGraceBytes: 0 };
  for (const step of [4096, 97]) {
    let handedOn = 0;
    const e = await t.throwsAsync(
      async () => {
        for await (const c of gunzipBounded(trickle(bomb, step), limits)) handedOn += c.byteLength;
      },
      { instanceOf: StellaError },
    );
    t.is(e?.code, 'ARCHIVE_LIMIT_EXCEEDED', String(step));
    t.true(handedOn > 0, `some output came first (step ${step})`);
    t.true(handedOn <= limits.maxOutputBytes, `${handedOn} bytes handed on (step ${step})`);
  }
});

test('gzip: deflate data that ends exactly where a read ends is read, its trailer from the next read', async (t) => {
  // The inflater learns that the stream ended only after the next read (the trailer) is fed to
  // it, so the deflate end then sits at offset 0 of the buffer: in step, not out of it.
  const tarBytes = archive(MANIFEST, BUNDLE, END);
  const gz = new Uint8Array(gzipSync(tarBytes));
  for (const step of [gz.byteLength - 8, gz.byteLength - 9, gz.byteLength - 7])
    t.is(await inflate(gz, undefined, step), tarBytes.byteLength, String(step));
});

test('the streamed manifest decoder refuses what the in-memory one refuses, with the same code, however the bytes are cut', async (t) => {
  const body = utf8.encode('{}');
  const good = manifestFor([{ digest: `sha256:${H}`, path: B0, bytes: body }]);
  const plain = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
  const m = decodeManifest(good, 10);
  const pathLast = ({ path, ...rest }: ExportManifest['entries'][number]) => ({ ...rest, path });
  const variants: [string, Uint8Array][] = [
    // Every truncation of a good manifest: inside the header, an entry, a text, a length.
    ...Array.from({ length: good.byteLength - 1 }, (_, i): [string, Uint8Array] => [
      `cut at ${i + 1}`,
      good.subarray(0, i + 1),
    ]),
    ['a byte after the end', new Uint8Array([...good, 0])],
    [
      'keys reordered',
      new Uint8Array(
        plain.encode({
          version: m.version,
          format: m.format,
          createdAt: m.createdAt,
          trustedRoot: m.trustedRoot,
          entries: m.entries,
        }),
      ),
    ],
    [
      'an entry key reordered',
      new Uint8Array(plain.encode({ ...m, entries: [pathLast(m.entries[0]!)] })),
    ],
    ['an indefinite-length map', new Uint8Array([0xbf, ...good.subarray(1)])],
    ['a tag', new Uint8Array([0xd8, 0x20, ...good])],
    ['a float', new Uint8Array([0xfb, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['a text longer than 64 KiB', new Uint8Array([0x7a, 0, 1, 0, 1])],
    ['invalid UTF-8 in a text', new Uint8Array([...good.subarray(0, 1), 0x62, 0xc3, 0x28])],
  ];
  for (const [what, manifest] of variants) {
    const tar = await writeTar([
      { name: 'manifest.cbor', data: manifest },
      { name: B0, data: body },
    ]);
    const inMemory = t.throws(() => readExportArchive(tar), { instanceOf: StellaError }, what);
    for (const step of [1, 7, 512]) {
      const src: ArchiveSource = { name: 'x', open: () => trickle(tar, step) };
      const streamed = (await t.throwsAsync(readExportArchiveStream(src), {
        instanceOf: StellaError,
      })) as StellaError;
      t.is(streamed.code, inMemory?.code, `${what}, ${step}-byte chunks: ${streamed.message}`);
    }
  }
  // And the good manifest reads, however it is cut.
  const tar = await writeTar([
    { name: 'manifest.cbor', data: good },
    { name: B0, data: body },
  ]);
  for (const step of [1, 2, 3, 5, 64, 511, 513]) {
    const r = await readExportArchiveStream({ name: 'x', open: () => trickle(tar, step) });
    t.is(r.count, 1, `${step}-byte chunks`);
  }
});

test('the streamed archive: a listed trusted root is read and returned; the preamble needs the manifest first; an archive that changes between its two cursors is refused', async (t) => {
  const body = utf8.encode('{}');
  const root = utf8.encode('{"mediaType":"x"}');
  const m = decodeManifest(manifestFor([{ digest: `sha256:${H}`, path: B0, bytes: body }]), 10);
  const withRoot = encodeManifest({
    ...m,
    trustedRoot: { path: 'trusted_root.json', sha256: toHex(sha256(root)), size: root.byteLength },
  });
  const tar = await writeTar([
    { name: 'manifest.cbor', data: withRoot },
    { name: B0, data: body },
    { name: 'trusted_root.json', data: root },
  ]);
  const read = await readExportArchiveStream(bytesSource(tar));
  t.deepEqual(read.trustedRoot, root);
  t.is(read.count, 1);

  const bundleFirst = await writeTar([
    { name: B0, data: body },
    { name: 'manifest.cbor', data: withRoot },
  ]);
  const pre = (await t.throwsAsync(readPreamble(bytesSource(bundleFirst)), {
    instanceOf: StellaError,
  })) as StellaError;
  t.is(pre.code, 'ARCHIVE_MANIFEST_MISMATCH');
  t.regex(pre.message, /first entry must be manifest\.cbor, not "bundles\//);

  // Each open() is one cursor: the second sees another manifest.
  const other = await writeTar([
    { name: 'manifest.cbor', data: manifestFor([]) },
    { name: B0, data: body },
  ]);
  let opens = 0;
  const changing = {
    name: 'archive x.tar',
    async *open() {
      yield opens++ === 0 ? tar : other;
    },
  };
  const changed = (await t.throwsAsync(readExportArchiveStream(changing), {
    instanceOf: StellaError,
  })) as StellaError;
  t.is(changed.code, 'ARCHIVE_MANIFEST_MISMATCH');
  // Named by the source's name, as every refusal of the archive's own is.
  t.is(changed.message, 'archive x.tar: the archive changed while it was being read');
});

test('the streamed tar reader hands out views into the chunk that holds an entry, and stays ended after the end', async (t) => {
  const tarBytes = archive(MANIFEST, BUNDLE, END);
  const s = new StrictTarStream(bytesSource(tarBytes).open(), {
    namePattern: EXPORT_NAME_PATTERN,
    maxEntries: 10,
    maxArchiveBytes: 1 << 24,
    maxDepth: 3,
    maxSize: entryLimit,
  });
  await s.next();
  const data = await s.data();
  // The manifest's data, in place in the one chunk the source gave: not a copy.
  t.is(data.buffer, tarBytes.buffer);
  t.is(data.byteOffset, tarBytes.byteOffset + BLOCK);
  // An entry's data is handed out once: a second read is a caller's bug, not more bytes.
  await t.throwsAsync(s.data(), { message: 'StrictTarStream.data: no unread entry' });
  t.truthy(await s.next());
  t.is(await s.next(), undefined);
  await t.throwsAsync(s.data(), { message: 'StrictTarStream.data: no unread entry' });
  t.is(await s.next(), undefined);
});

test('the streamed tar reader hands out an entry as chunks once: a second dataChunks, or one before any entry, is a caller bug said as such', async (t) => {
  const open = () =>
    new StrictTarStream(bytesSource(archive(MANIFEST, BUNDLE, END)).open(), {
      namePattern: EXPORT_NAME_PATTERN,
      maxEntries: 10,
      maxArchiveBytes: 1 << 24,
      maxDepth: 3,
      maxSize: entryLimit,
    });
  const drain = async (s: StrictTarStream): Promise<number> => {
    let n = 0;
    for await (const c of s.dataChunks()) n += c.byteLength;
    return n;
  };
  const message = 'StrictTarStream.dataChunks: no unread entry';
  await t.throwsAsync(drain(open()), { instanceOf: Error, message });
  const s = open();
  t.is((await s.next())?.name, 'manifest.cbor');
  t.is(await drain(s), 1, "the manifest's one byte");
  await t.throwsAsync(drain(s), { instanceOf: Error, message });
});

test('gzip: a stream cut inside the deflate data and one cut inside the trailer are refused by name', async (t) => {
  const gz = new Uint8Array(gzipSync(archive(MANIFEST, BUNDLE, END)));
  t.regex(
    ((await t.throwsAsync(inflate(gz.subarray(0, 30)))) as StellaError).message,
    /corrupt deflate data \(unexpected end of file\)/,
  );
  t.regex(
    ((await t.throwsAsync(inflate(gz.subarray(0, gz.byteLength - 4)))) as StellaError).message,
    /truncated trailer/,
  );
});

test('gzip: a stream cut inside its header is refused as a truncated header, wherever the cut', async (t) => {
  const gz = new Uint8Array(gzipSync(archive(MANIFEST, BUNDLE, END)));
  // With FEXTRA (4 bytes), FNAME and FCOMMENT, so a cut can fall in each part of the header.
  const head = Uint8Array.from(gz.subarray(0, 10));
  head[3] = 0x04 | 0x08 | 0x10;
  const full = Uint8Array.from([
    ...head,
    4,
    0,
    ...utf8.encode('xtra'),
    ...utf8.encode('x.tar'),
    0,
    ...utf8.encode('note'),
    0,
    ...gz.subarray(10),
  ]);
  const headerLength = 10 + 2 + 4 + 6 + 5;
  t.is(await inflate(full), archive(MANIFEST, BUNDLE, END).byteLength, 'whole, it inflates');
  for (const cut of [2, 9, 11, 15, 17, 21, headerLength - 1]) {
    const e = (await settlesWithin(
      t.throwsAsync(inflate(full.subarray(0, cut)), { instanceOf: StellaError }),
    )) as StellaError;
    t.is(e.code, 'ARCHIVE_INVALID', `cut at ${cut}`);
    t.is(e.message, 'gzip: truncated header', `cut at ${cut}`);
  }
});

/** `p`, or a rejection after `ms`: a reader that never settles fails here, not at ava's timeout. */
function settlesWithin<T>(p: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not settled after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

test('gzip: deflate data zlib refuses while it is written is refused by name, whatever the chunking (it used to never settle)', async (t) => {
  // Found by the fuzz test: a 10-byte header, then one byte whose block type is the reserved 3.
  const reservedBlock = Uint8Array.from([
    0x1f, 0x8b, 0x08, 0x00, 0x4f, 0xff, 0xff, 0xb7, 0xc9, 0x17, 0xff,
  ]);
  // A real archive whose deflate data has a bit flipped early: zlib stops on a bad code.
  const gz = new Uint8Array(gzipSync(archive(MANIFEST, BUNDLE, END)));
  const flipped = new Uint8Array(gz);
  flipped[12] = flipped[12]! ^ 0x60;
  for (const [what, bytes] of [
    ['reserved block type', reservedBlock],
    ['a flipped bit', flipped],
  ] as const) {
    for (const step of [1, 7, 4096]) {
      const e = (await t.throwsAsync(
        settlesWithin(inflate(bytes, undefined, step)),
        { instanceOf: StellaError },
        `${what}, ${step}-byte chunks`,
      )) as StellaError;
      t.is(e.code, 'ARCHIVE_INVALID');
      t.regex(e.message, /^gzip: corrupt deflate data \(.+\)$/);
    }
  }
});

test('gzip: a header CRC-16 (FHCRC) is checked, as gzip and zlib check it', async (t) => {
  const tarBytes = archive(MANIFEST, BUNDLE, END);
  const gz = new Uint8Array(gzipSync(tarBytes));
  // The same member with FNAME and FHCRC: header, name, CRC-16 of both, then the deflate data.
  const head = Uint8Array.from([...gz.subarray(0, 10), ...utf8.encode('x.tar'), 0]);
  head[3] = 0x08 | 0x02;
  const crc16 = crc32(head) & 0xffff;
  const withCrc = Uint8Array.from([...head, crc16 & 0xff, crc16 >> 8, ...gz.subarray(10)]);
  t.is(await inflate(withCrc), tarBytes.byteLength);
  const wrong = new Uint8Array(withCrc);
  wrong[head.byteLength] = wrong[head.byteLength]! ^ 1;
  const e = (await t.throwsAsync(inflate(wrong))) as StellaError;
  t.is(e.code, 'ARCHIVE_INVALID');
  t.is(e.message, 'gzip: header CRC-16 does not match the header');
});

test('gzip: a header file name or comment is read to its NUL, 64 KiB at most', async (t) => {
  const tarBytes = archive(MANIFEST, BUNDLE, END);
  const gz = new Uint8Array(gzipSync(tarBytes));
  const withField = (flag: number, length: number): Uint8Array => {
    const head = Uint8Array.from(gz.subarray(0, 10));
    head[3] = flag;
    return Uint8Array.from([...head, ...new Uint8Array(length).fill(0x61), 0, ...gz.subarray(10)]);
  };
  for (const [flag, what] of [
    [0x08, 'FNAME'],
    [0x10, 'FCOMMENT'],
  ] as const) {
    // Up to 64 KiB with its NUL is read and skipped; the member inflates as without it.
    t.is(await inflate(withField(flag, 64 * 1024 - 10 - 1)), tarBytes.byteLength, what);
    // Past it, refused while reading, before the NUL is found (a name may never end). One
    // byte past was read until stop 61 (its boundary mutant survived).
    for (const length of [64 * 1024 - 10, 64 * 1024, 1 << 20]) {
      const e = (await t.throwsAsync(inflate(withField(flag, length)), {
        instanceOf: StellaError,
      })) as StellaError;
      t.is(e.code, 'ARCHIVE_INVALID', `${what} ${length}`);
      t.is(e.message, 'gzip: header name or comment longer than 64 KiB', `${what} ${length}`);
    }
  }
});

test('zeros after the end-of-archive marker: up to 1 MiB is padding, a block more is refused by name', async (t) => {
  const MiB = 1024 * 1024;
  await t.notThrowsAsync(drain(archive(MANIFEST, END, new Uint8Array(MiB))));
  const e = await t.throwsAsync(drain(archive(MANIFEST, END, new Uint8Array(MiB + BLOCK))), {
    instanceOf: StellaError,
  });
  t.is(e.code, 'ARCHIVE_INVALID');
  t.regex(e.message, /more than 1 MiB of zeros after the end-of-archive marker/);
});

test("errors that are not the archive's own pass through the reader as they were thrown, unnamed", async (t) => {
  const body = utf8.encode('{}');
  const tar = await writeTar([
    {
      name: 'manifest.cbor',
      data: manifestFor([{ digest: `sha256:${H}`, path: B0, bytes: body }]),
    },
    { name: B0, data: body },
  ]);
  const src = { name: 'archive x.tar', open: bytesSource(tar).open };
  // A callback's own refusal (another check), and a plain Error (a bug), are the same objects.
  for (const thrown of [
    new StellaError('INPUT_INVALID', 'policy', 'not mine'),
    new Error('a bug'),
  ]) {
    const e = await t.throwsAsync(
      readExportArchiveStream(src, {
        onBundle: () => {
          throw thrown;
        },
      }),
    );
    t.is(e, thrown);
    t.is(e?.message, thrown.message);
  }
  // Control: the reader's own refusal of the same archive is named.
  const cut = await t.throwsAsync(
    readExportArchiveStream({
      name: 'archive x.tar',
      open: bytesSource(tar.subarray(0, 700)).open,
    }),
    { instanceOf: StellaError },
  );
  t.regex(cut?.message ?? '', /^archive x\.tar is truncated/);
});

test("a tar cut short is refused by what is missing: the end-of-archive marker, a whole header block, the marker's second block", async (t) => {
  const whole = archive(MANIFEST, BUNDLE, END);
  const upToBundle = MANIFEST.byteLength;
  for (const [bytes, says] of [
    [archive(MANIFEST, BUNDLE), 'archive is truncated (no end-of-archive marker)'],
    [
      whole.subarray(0, upToBundle + 100),
      'archive is truncated (length is not a multiple of 512 bytes)',
    ],
    [
      whole.subarray(0, whole.byteLength - BLOCK),
      'archive is truncated (incomplete end-of-archive marker)',
    ],
  ] as const) {
    const e = await t.throwsAsync(drain(bytes), { instanceOf: StellaError });
    t.is(e.code, 'ARCHIVE_INVALID');
    t.regex(
      e.message,
      new RegExp(`${says.replace(/[()]/g, '\\$&')}$`),
      `${bytes.byteLength} bytes`,
    );
  }
});
