/**
 * Checklist section A for the strict tar reader in pattern mode (export archives), each line a
 * refusal with its code, archives built byte by byte. The exact-list mode used by rotation
 * bundles has its own tests in test/trust/rotation/tar.test.ts; the manifest checks (A14) are
 * exercised end to end in test/archive/export.test.ts.
 */
import test from 'ava';
import { gzipSync } from 'node:zlib';
import { StellaError } from '../../src/errors.js';
import {
  BLOCK,
  readTarStrict,
  tarChunks,
  writeTar,
  type TarFile,
  type TarReadLimits,
} from '../../src/archive/tar.js';
import { EXPORT_LIMITS, EXPORT_NAME_PATTERN, EXPORT_TAR_LIMITS } from '../../src/archive/export.js';
import { utf8 } from '../../src/util/encoding.js';
import { archive, END, entry, header } from '../helpers/tar-bytes.js';

const H = 'ab'.repeat(32);
const B0 = `bundles/${H}/0.sigstore.json`;
const B1 = `bundles/${H}/1.sigstore.json`;
const MANIFEST = entry({ name: 'manifest.cbor' }, utf8.encode('x'));
const BUNDLE = entry({ name: B0 }, utf8.encode('{}'));

function refused(
  t: import('ava').ExecutionContext,
  bytes: Uint8Array,
  code: string,
  msg?: RegExp,
  what?: string,
  limits: TarReadLimits = EXPORT_TAR_LIMITS,
): void {
  const e = t.throws(
    () => readTarStrict(bytes, limits),
    { instanceOf: StellaError },
    what,
  ) as StellaError;
  t.is<string, string>(e.code, code, `${what ?? ''}: ${e.message}`);
  if (msg) t.regex(e.message, msg, what);
}

test('pattern mode: the writer is deterministic and the reader returns every name in order', async (t) => {
  const files = [
    { name: 'manifest.cbor', data: utf8.encode('m') },
    { name: B0, data: new Uint8Array(1500).fill(3) },
    { name: B1, data: utf8.encode('{}') },
    { name: 'trusted_root.json', data: utf8.encode('{}') },
  ];
  const a = await writeTar(files);
  t.deepEqual(a, await writeTar(files));
  const read = readTarStrict(a, EXPORT_TAR_LIMITS);
  t.deepEqual(
    [...read.keys()],
    files.map((f) => f.name),
  );
  t.deepEqual(read.get(B0), files[1]!.data);
});

test('exact-list mode (rotation bundles): exactly the names, in their order, every one present', (t) => {
  const limits: TarReadLimits = {
    names: ['payload.json', 'root.json', 'signatures.json'],
    maxSize: () => 1024,
    maxArchiveBytes: 1 << 20,
  };
  const file = (name: string) => entry({ name }, utf8.encode(`{"${name}":1}`));
  const all = readTarStrict(
    archive(file('payload.json'), file('root.json'), file('signatures.json'), END),
    limits,
  );
  t.deepEqual([...all.keys()], ['payload.json', 'root.json', 'signatures.json']);
  for (const [names, message] of [
    [['payload.json', 'root.json'], /^archive is missing signatures\.json$/],
    [[], /^archive is missing payload\.json$/],
    [['root.json', 'payload.json'], /root\.json" is out of order \(expected payload\.json\)/],
    [['payload.json', 'other.json'], /unexpected tar entry "other\.json"/],
  ] as const)
    refused(
      t,
      archive(...names.map(file), END),
      'ARCHIVE_MANIFEST_MISMATCH',
      message,
      names.join(','),
      limits,
    );
  refused(
    t,
    archive(file('payload.json'), file('root.json'), file('signatures.json'), file('x'), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /more entries than the 3 expected/,
    'a fourth',
    limits,
  );
});

test('A1: path traversal names are refused', (t) => {
  for (const name of ['../x', `bundles/../../${H}`, './a/../../x', `bundles/${H}/..`])
    refused(t, archive(entry({ name }), END), 'ARCHIVE_UNSAFE_ENTRY', /path traversal/, name);
  refused(
    t,
    archive(entry({ name: '0.sigstore.json', prefix: `bundles/../..` }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /path traversal/,
    'in the prefix',
  );
});

test('A2: absolute and drive-letter paths are refused', (t) => {
  for (const name of ['/etc/passwd', '////x', `/bundles/${H}/0.sigstore.json`])
    refused(t, archive(entry({ name }), END), 'ARCHIVE_UNSAFE_ENTRY', /absolute path/, name);
  for (const name of ['C:x', 'C:../x'])
    refused(t, archive(entry({ name }), END), 'ARCHIVE_UNSAFE_ENTRY', /drive-letter/, name);
  refused(t, archive(entry({ name: 'C:\\x' }), END), 'ARCHIVE_UNSAFE_ENTRY', undefined, 'C:\\x');
});

test('A3: backslashes, NUL, control characters and invalid UTF-8 in a name are refused', (t) => {
  refused(
    t,
    archive(entry({ name: `bundles\\${H}\\0.sigstore.json` }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /backslash/,
  );
  refused(
    t,
    archive(entry({ name: Buffer.from('manifest.cbor\0../../evil', 'latin1') }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /NUL byte/,
  );
  // Every control character (0x00-0x1f, 0x7f) is refused; space (0x20) and "~" (0x7e) are
  // plain characters, left to the name rule.
  for (const c of [0x01, 0x09, 0x0a, 0x1f, 0x7f])
    refused(
      t,
      archive(entry({ name: `manifest${String.fromCharCode(c)}.cbor` }), END),
      'ARCHIVE_UNSAFE_ENTRY',
      /control character/,
      `0x${c.toString(16)}`,
    );
  const plain: TarReadLimits = { names: ['a b~'], maxSize: () => 8, maxArchiveBytes: 1 << 20 };
  t.deepEqual([...readTarStrict(archive(entry({ name: 'a b~' }), END), plain).keys()], ['a b~']);
  refused(
    t,
    archive(entry({ name: Buffer.from([0x6d, 0xc3, 0x28]) }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /non-ASCII/,
  );
  refused(
    t,
    archive(
      entry({ name: 'PaxHeader', type: 0x78 }, utf8.encode('30 path=manifest.cbor\0evil\n')),
      MANIFEST,
      END,
    ),
    'ARCHIVE_UNSAFE_ENTRY',
    /PAX/,
  );
});

test('A4: symbolic and hard links are refused whatever their target', (t) => {
  refused(
    t,
    archive(MANIFEST, entry({ name: B0, type: 0x32 }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /symbolic link/,
  );
  refused(
    t,
    archive(MANIFEST, entry({ name: B0, type: 0x31 }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /hard link/,
  );
});

test('A5: devices, FIFOs, unknown type flags and directories (even with a size) are refused', (t) => {
  for (const type of [0x33, 0x34, 0x36])
    refused(
      t,
      archive(MANIFEST, entry({ name: B0, type }), END),
      'ARCHIVE_UNSAFE_ENTRY',
      /device or FIFO/,
    );
  for (const type of [0x37, 0x41, 0x53])
    refused(
      t,
      archive(MANIFEST, entry({ name: B0, type }), END),
      'ARCHIVE_UNSAFE_ENTRY',
      /unknown type flag/,
    );
  // A directory claiming a huge size, with no data after it: refused at its header, no hang.
  refused(
    t,
    archive(MANIFEST, header({ name: `bundles/${H}/`, type: 0x35, size: 0o77777777777 }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /directory/,
  );
});

test('A6: duplicates, ./name, case variants and Unicode-normalisation variants are refused', (t) => {
  refused(t, archive(MANIFEST, BUNDLE, BUNDLE, END), 'ARCHIVE_UNSAFE_ENTRY', /duplicate tar entry/);
  refused(
    t,
    archive(MANIFEST, BUNDLE, entry({ name: `bundles/${H.toUpperCase()}/0.sigstore.json` }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /only in case/,
  );
  refused(
    t,
    archive(MANIFEST, entry({ name: 'MANIFEST.CBOR' }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /only in case/,
  );
  refused(
    t,
    archive(entry({ name: './manifest.cbor' }), END),
    'ARCHIVE_MANIFEST_MISMATCH',
    /unexpected tar entry/,
  );
  refused(
    t,
    archive(MANIFEST, entry({ name: 'bundles/./0.sigstore.json' }), END),
    'ARCHIVE_MANIFEST_MISMATCH',
    /unexpected tar entry/,
  );
  // "é" as NFC (one code point) and NFD (e + combining accent): non-ASCII is refused outright.
  refused(
    t,
    archive(entry({ name: Buffer.from('caf\u00e9.json', 'utf8') }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /non-ASCII/,
  );
  refused(
    t,
    archive(entry({ name: Buffer.from('cafe\u0301.json', 'utf8') }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /non-ASCII/,
  );
});

test('A7: data after the end-of-archive blocks is refused', (t) => {
  refused(
    t,
    archive(MANIFEST, END, new Uint8Array(BLOCK).fill(0x41)),
    'ARCHIVE_INVALID',
    /after the end-of-archive/,
  );
  refused(t, archive(MANIFEST, END, BUNDLE), 'ARCHIVE_INVALID', /after the end-of-archive/);
  refused(
    t,
    archive(MANIFEST, END, new Uint8Array(BLOCK), new Uint8Array([1]), new Uint8Array(BLOCK - 1)),
    'ARCHIVE_INVALID',
    /after the end-of-archive/,
  );
});

test('A8: PAX headers (size override, global, any key) are refused', (t) => {
  refused(
    t,
    archive(entry({ name: 'pax', type: 0x78 }, utf8.encode('16 size=999999\n')), MANIFEST, END),
    'ARCHIVE_UNSAFE_ENTRY',
    /PAX extended header/,
  );
  refused(
    t,
    archive(entry({ name: 'pax', type: 0x67 }, utf8.encode('18 comment=hello\n')), MANIFEST, END),
    'ARCHIVE_UNSAFE_ENTRY',
    /PAX global/,
  );
});

test('A9: oversized GNU long names, base-256, negative and NaN sizes, oversized entries and archives are refused', (t) => {
  refused(
    t,
    archive(
      entry({ name: '././@LongLink', type: 0x4c }, new Uint8Array(64 * 1024).fill(0x61)),
      END,
    ),
    'ARCHIVE_UNSAFE_ENTRY',
    /GNU long-name/,
  );
  const b256 = new Uint8Array(12);
  b256[0] = 0x80;
  b256[11] = 1;
  refused(
    t,
    archive(header({ name: 'manifest.cbor', sizeField: b256 }), END),
    'ARCHIVE_INVALID',
    /base-256/,
  );
  refused(
    t,
    archive(
      header({ name: 'manifest.cbor', sizeField: Buffer.from('NaN\0\0\0\0\0\0\0\0\0', 'latin1') }),
      END,
    ),
    'ARCHIVE_INVALID',
    /not octal/,
  );
  refused(
    t,
    archive(
      header({ name: 'manifest.cbor', sizeField: Buffer.from('-0000000001\0', 'latin1') }),
      END,
    ),
    'ARCHIVE_INVALID',
    /not octal/,
  );
  refused(
    t,
    archive(MANIFEST, header({ name: B0, size: EXPORT_LIMITS.maxBundleBytes + 1 }), END),
    'ARCHIVE_LIMIT_EXCEEDED',
    /limit/,
  );
  refused(
    t,
    archive(
      header({ name: 'trusted_root.json', size: EXPORT_LIMITS.maxTrustedRootBytes + 1 }),
      END,
    ),
    'ARCHIVE_LIMIT_EXCEEDED',
    /limit/,
  );
  const small: TarReadLimits = { ...EXPORT_TAR_LIMITS, maxArchiveBytes: 4 * BLOCK };
  refused(
    t,
    archive(MANIFEST, BUNDLE, END),
    'ARCHIVE_LIMIT_EXCEEDED',
    /larger than/,
    'archive cap',
    small,
  );
});

test('A10: a gzip bomb is refused before any inflation', (t) => {
  const bomb = gzipSync(new Uint8Array(64 * 1024 * 1024));
  t.true(bomb.length < 128 * 1024, 'the bomb is small');
  refused(t, new Uint8Array(bomb), 'ARCHIVE_INVALID', /compressed \(gzip\)/);
  refused(
    t,
    new Uint8Array([0x42, 0x5a, 0x68, 0x39, ...new Uint8Array(508)]),
    'ARCHIVE_INVALID',
    /compressed \(bzip2\)/,
  );
  refused(
    t,
    new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, ...new Uint8Array(506)]),
    'ARCHIVE_INVALID',
    /compressed \(xz\)/,
  );
  refused(
    t,
    new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, ...new Uint8Array(508)]),
    'ARCHIVE_INVALID',
    /compressed \(zstd\)/,
  );
  // Archive formats of their own (stop 57): a small zip was "truncated", being under 512 bytes.
  for (const [magic, name] of [
    [[0x50, 0x4b, 0x03, 0x04], 'zip'],
    [[0x50, 0x4b, 0x05, 0x06], 'zip'],
    [[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], '7z'],
    [[0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00], 'rar'],
  ] as const)
    for (const length of [22, 512])
      refused(
        t,
        new Uint8Array([...magic, ...new Uint8Array(length - magic.length)]),
        'ARCHIVE_INVALID',
        new RegExp(`compressed \\(${name}\\)`),
      );
});

test('A11: a second concatenated gzip member or trailing junk is refused (compressed input never accepted)', (t) => {
  const plain = archive(MANIFEST, END);
  t.notThrows(() => readTarStrict(plain, EXPORT_TAR_LIMITS));
  refused(
    t,
    new Uint8Array(Buffer.concat([gzipSync(plain), gzipSync(Buffer.from('second member'))])),
    'ARCHIVE_INVALID',
    /compressed/,
  );
  refused(
    t,
    new Uint8Array(Buffer.concat([gzipSync(plain), Buffer.from('junk')])),
    'ARCHIVE_INVALID',
    /compressed/,
  );
});

test('A12: too many entries and too deep a path are refused', (t) => {
  const few: TarReadLimits = {
    namePattern: EXPORT_NAME_PATTERN,
    maxEntries: 2,
    maxSize: () => 1024,
    maxArchiveBytes: 1 << 20,
  };
  refused(
    t,
    archive(MANIFEST, BUNDLE, entry({ name: B1 }), END),
    'ARCHIVE_LIMIT_EXCEEDED',
    /more than 2 entries/,
    'small cap',
    few,
  );
  // The real cap: one entry more than an export archive may hold (manifest, bundles, consistency.json, trusted root).
  const many: Uint8Array[] = [MANIFEST];
  for (let i = 0; i <= EXPORT_LIMITS.maxBundles + 2; i++)
    many.push(header({ name: `bundles/${i.toString(16).padStart(64, '0')}/0.sigstore.json` }));
  refused(t, archive(...many, END), 'ARCHIVE_LIMIT_EXCEEDED', /more than \d+ entries/, 'real cap');
  refused(
    t,
    archive(MANIFEST, entry({ name: `bundles/${H}/x/0.sigstore.json` }), END),
    'ARCHIVE_LIMIT_EXCEEDED',
    /nested more than 3/,
  );
  refused(
    t,
    archive(entry({ name: 'a/'.repeat(20) + 'x' }), END),
    'ARCHIVE_LIMIT_EXCEEDED',
    /nested/,
    'default depth',
    { names: ['x'], maxSize: {}, maxArchiveBytes: 1 << 20 },
  );
});

test('A13: every truncation of a valid archive is a clean StellaError', async (t) => {
  const good = await writeTar([
    { name: 'manifest.cbor', data: utf8.encode('m'.repeat(300)) },
    { name: B0, data: new Uint8Array(900).fill(1) },
    { name: 'trusted_root.json', data: utf8.encode('{}') },
  ]);
  for (let len = 0; len < good.length; len += 61) {
    const e = t.throws(
      () => readTarStrict(good.subarray(0, len), EXPORT_TAR_LIMITS),
      { instanceOf: StellaError },
      `cut at ${len}`,
    ) as StellaError;
    t.is(e.code, 'ARCHIVE_INVALID', `${len}: ${e.message}`);
  }
  refused(t, good.subarray(0, good.length - 2 * BLOCK), 'ARCHIVE_INVALID', /end-of-archive/);
  refused(t, good.subarray(0, good.length - BLOCK), 'ARCHIVE_INVALID', /incomplete end-of-archive/);
});

test('A14: bad header checksums, non-ustar headers, dirty padding and names outside the pattern are refused', (t) => {
  refused(
    t,
    archive(entry({ name: 'manifest.cbor', badChecksum: true }), END),
    'ARCHIVE_INVALID',
    /checksum/,
  );
  refused(
    t,
    archive(entry({ name: 'manifest.cbor', magic: 'ustar  \0' }), END),
    'ARCHIVE_INVALID',
    /ustar/,
  );
  const dirty = entry({ name: 'manifest.cbor' }, utf8.encode('x'));
  dirty[BLOCK + 10] = 1;
  refused(t, archive(dirty, END), 'ARCHIVE_INVALID', /padding/);
  for (const name of [
    'evil.sh',
    `bundles/${H}/0.json`,
    `bundles/${H.slice(2)}/0.sigstore.json`,
    `bundles/${H}/01.sigstore.json`,
    `bundles/${H}/10000.sigstore.json`,
  ]) {
    refused(
      t,
      archive(MANIFEST, entry({ name }), END),
      'ARCHIVE_MANIFEST_MISMATCH',
      /unexpected tar entry/,
      name,
    );
  }
});

test('tarChunks: files taken one at a time as the tar is consumed give the bytes writeTar gives; a producer error ends it with that error', async (t) => {
  const files: TarFile[] = Array.from({ length: 40 }, (_, i) => ({
    name: `f${i}.txt`,
    data: utf8.encode('x'.repeat(i * 997)),
  }));
  let taken = 0;
  async function* produce(): AsyncGenerator<TarFile> {
    for (const f of files) {
      await new Promise((r) => setImmediate(r));
      taken++;
      yield f;
    }
  }
  const chunks: Uint8Array[] = [];
  const takenAt: number[] = [];
  for await (const c of tarChunks(produce())) {
    chunks.push(c);
    takenAt.push(taken);
  }
  t.deepEqual(new Uint8Array(Buffer.concat(chunks)), await writeTar(files));
  t.is(taken, files.length);
  t.true(
    takenAt[0]! < 3,
    `files are taken as the tar is consumed, not all first (${takenAt[0]} taken at the first chunk)`,
  );
  const boom = new StellaError('INPUT_INVALID', 'input', 'the third file changed');
  async function* failing(): AsyncGenerator<TarFile> {
    yield files[1]!;
    yield files[2]!;
    throw boom;
  }
  const seen: Uint8Array[] = [];
  const e = await t.throwsAsync(async () => {
    for await (const c of tarChunks(failing())) seen.push(c);
  });
  t.is(e, boom);
  // A consumer that stops early ends the producer too.
  let pulled = 0;
  async function* endless(): AsyncGenerator<TarFile> {
    for (;;) {
      pulled++;
      yield files[5]!;
    }
  }
  for await (const c of tarChunks(endless())) {
    t.true(c.byteLength > 0);
    break;
  }
  const after = pulled;
  await new Promise((r) => setTimeout(r, 20));
  t.is(pulled, after, 'nothing is pulled after the consumer stopped');
});

test('limits are inclusive: an entry of exactly its size limit is read; a name may hold "~"', (t) => {
  const limits: TarReadLimits = {
    namePattern: /^[a-z~.]+$/,
    maxEntries: 2,
    maxSize: () => 1024,
    maxArchiveBytes: 1 << 20,
  };
  const files = readTarStrict(
    archive(entry({ name: 'a~b.txt' }, new Uint8Array(1024).fill(7)), END),
    limits,
  );
  t.deepEqual([...files.keys()], ['a~b.txt']);
  t.is(files.get('a~b.txt')!.byteLength, 1024);
  refused(
    t,
    archive(entry({ name: 'a~b.txt' }, new Uint8Array(1025)), END),
    'ARCHIVE_LIMIT_EXCEEDED',
    /1025 bytes, more than the 1024-byte limit/,
    'one byte over',
    limits,
  );
});

test('a name that fills its 100-byte field (no NUL) is those 100 bytes: the mode field after it is not read into it', (t) => {
  const limits: TarReadLimits = {
    namePattern: /^[a-z0-9.]+$/,
    maxEntries: 2,
    maxSize: () => 1024,
    maxArchiveBytes: 1 << 20,
  };
  const name = `${'a'.repeat(96)}.txt`;
  t.is(name.length, 100);
  const files = readTarStrict(archive(entry({ name }, new Uint8Array([1, 2, 3])), END), limits);
  t.deepEqual([...files.keys()], [name]);
  t.deepEqual([...files.get(name)!], [1, 2, 3]);
});
