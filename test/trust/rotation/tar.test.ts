/** Checklist section A, for the rotation bundle reader: each line a refusal with its code. */
import test from 'ava';
import { gzipSync } from 'node:zlib';
import { StellaError } from '../../../src/errors.js';
import { readTarStrict, writeTar, BLOCK } from '../../../src/archive/tar.js';
import { archive, END, entry, header } from '../../helpers/tar-bytes.js';
import { ROTATION_FILES, ROTATION_LIMITS } from '../../../src/trust/rotation/bundle.js';
import { utf8 } from '../../../src/util/encoding.js';

const LIMITS = {
  names: ROTATION_FILES,
  maxSize: ROTATION_LIMITS.maxSize,
  maxArchiveBytes: ROTATION_LIMITS.maxArchiveBytes,
};

const GOOD = [
  entry({ name: 'payload.json' }, utf8.encode('{}')),
  entry({ name: 'root.json' }, utf8.encode('{}')),
  entry({ name: 'signatures.json' }, utf8.encode('{}')),
];

function refused(
  t: import('ava').ExecutionContext,
  bytes: Uint8Array,
  code: string,
  msg?: RegExp,
  what?: string,
): void {
  const e = t.throws(
    () => readTarStrict(bytes, LIMITS),
    { instanceOf: StellaError },
    what,
  ) as StellaError;
  t.is<string, string>(e.code, code, `${what ?? ''}: ${e.message}`);
  if (msg) t.regex(e.message, msg, what);
}

test('the writer is deterministic and the strict reader reads back exactly what it wrote', async (t) => {
  const files = [
    { name: 'payload.json', data: utf8.encode('{"a":1}') },
    { name: 'root.json', data: new Uint8Array(1000).fill(7) },
    { name: 'signatures.json', data: utf8.encode('{"signatures":[]}') },
  ];
  const a = await writeTar(files);
  const b = await writeTar(files);
  t.deepEqual(a, b);
  const read = readTarStrict(a, LIMITS);
  t.deepEqual([...read.keys()], ['payload.json', 'root.json', 'signatures.json']);
  t.deepEqual(read.get('root.json'), files[1]!.data);
  // Fixed metadata: mtime 0, uid/gid 0.
  t.is(Buffer.from(a.subarray(136, 147)).toString('latin1'), '00000000000');
  t.notThrows(() => readTarStrict(archive(...GOOD, END), LIMITS));
});

test('A1: path traversal names are refused', (t) => {
  for (const name of ['../x', 'a/../../x', './a/../../x', '..'])
    refused(t, archive(entry({ name }), END), 'ARCHIVE_UNSAFE_ENTRY', /path traversal/, name);
});

test('A2: absolute and drive-letter paths are refused', (t) => {
  for (const name of ['/etc/passwd', '////x'])
    refused(t, archive(entry({ name }), END), 'ARCHIVE_UNSAFE_ENTRY', /absolute path/, name);
  for (const name of ['C:x', 'C:../x'])
    refused(t, archive(entry({ name }), END), 'ARCHIVE_UNSAFE_ENTRY', /drive-letter/, name);
  refused(t, archive(entry({ name: 'C:\\x' }), END), 'ARCHIVE_UNSAFE_ENTRY', undefined, 'C:\\x');
  refused(
    t,
    archive(entry({ name: 'payload.json', prefix: '/etc' }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /absolute path/,
    'prefix',
  );
});

test('A3: backslashes, NUL, control characters and invalid UTF-8 in a name are refused', (t) => {
  refused(t, archive(entry({ name: 'a\\payload.json' }), END), 'ARCHIVE_UNSAFE_ENTRY', /backslash/);
  refused(
    t,
    archive(entry({ name: Buffer.from('payload.json\0.evil', 'latin1') }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /NUL byte/,
  );
  refused(
    t,
    archive(entry({ name: 'pay\u001bload.json' }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /control character/,
  );
  refused(
    t,
    archive(entry({ name: Buffer.from([0x70, 0xff, 0xfe]) }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /non-ASCII/,
  );
  // A PAX header (which could carry a NUL-bearing `path`) is refused as such.
  refused(
    t,
    archive(
      entry({ name: 'PaxHeader', type: 0x78 }, utf8.encode('30 path=payload.json\0evil\n')),
      END,
    ),
    'ARCHIVE_UNSAFE_ENTRY',
    /PAX/,
  );
});

test('A4: symbolic and hard links are refused whatever their target', (t) => {
  refused(
    t,
    archive(entry({ name: 'payload.json', type: 0x32 }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /symbolic link/,
  );
  refused(
    t,
    archive(entry({ name: 'payload.json', type: 0x31 }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /hard link/,
  );
});

test('A5: devices, FIFOs, unknown type flags and directories (even with a size) are refused', (t) => {
  for (const type of [0x33, 0x34, 0x36])
    refused(
      t,
      archive(entry({ name: 'payload.json', type }), END),
      'ARCHIVE_UNSAFE_ENTRY',
      /device or FIFO/,
    );
  refused(
    t,
    archive(entry({ name: 'payload.json', type: 0x5a }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /unknown type flag/,
  );
  refused(
    t,
    archive(entry({ name: 'payload.json', type: 0x37 }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /unknown type flag/,
  );
  refused(
    t,
    archive(entry({ name: 'payload.json/', type: 0x35, size: 1 << 20 }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /directory/,
  );
});

test('A6: duplicates, ./name, case and Unicode-normalisation variants are refused', (t) => {
  refused(t, archive(GOOD[0]!, GOOD[0]!, END), 'ARCHIVE_UNSAFE_ENTRY', /duplicate/);
  refused(
    t,
    archive(entry({ name: './payload.json' }), END),
    'ARCHIVE_MANIFEST_MISMATCH',
    /unexpected tar entry/,
  );
  refused(
    t,
    archive(entry({ name: 'Payload.json' }), END),
    'ARCHIVE_MANIFEST_MISMATCH',
    /unexpected tar entry/,
  );
  refused(t, archive(GOOD[0]!, entry({ name: 'ROOT.JSON' }), END), 'ARCHIVE_MANIFEST_MISMATCH');
  refused(
    t,
    archive(entry({ name: Buffer.from('payload\u0301.json', 'utf8') }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /non-ASCII/,
  );
});

test('A7: data after the end-of-archive blocks is refused', (t) => {
  const junk = new Uint8Array(BLOCK).fill(0x41);
  refused(t, archive(...GOOD, END, junk), 'ARCHIVE_INVALID', /after the end-of-archive/);
  refused(t, archive(...GOOD, END, GOOD[0]!), 'ARCHIVE_INVALID', /after the end-of-archive/);
});

test('A8: PAX headers (per-file and global) are refused, so no PAX size can disagree with the header', (t) => {
  refused(
    t,
    archive(entry({ name: 'pax', type: 0x78 }, utf8.encode('16 size=999999\n')), ...GOOD, END),
    'ARCHIVE_UNSAFE_ENTRY',
    /PAX extended header/,
  );
  refused(
    t,
    archive(entry({ name: 'pax', type: 0x67 }, utf8.encode('16 size=999999\n')), ...GOOD, END),
    'ARCHIVE_UNSAFE_ENTRY',
    /PAX global/,
  );
});

test('A9: GNU long names, base-256, NaN and oversized sizes are refused', (t) => {
  refused(
    t,
    archive(entry({ name: '././@LongLink', type: 0x4c }, new Uint8Array(5000).fill(0x61)), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /GNU long-name/,
  );
  const b256 = new Uint8Array(12);
  b256[0] = 0x80;
  b256[11] = 1;
  refused(
    t,
    archive(header({ name: 'payload.json', sizeField: b256 }), END),
    'ARCHIVE_INVALID',
    /base-256/,
  );
  refused(
    t,
    archive(
      header({ name: 'payload.json', sizeField: Buffer.from('NaN\0\0\0\0\0\0\0\0\0', 'latin1') }),
      END,
    ),
    'ARCHIVE_INVALID',
    /not octal/,
  );
  refused(
    t,
    archive(
      header({ name: 'payload.json', sizeField: Buffer.from('-0000000001\0', 'latin1') }),
      END,
    ),
    'ARCHIVE_INVALID',
    /not octal/,
  );
  refused(
    t,
    archive(header({ name: 'payload.json', size: 64 * 1024 + 1 }), END),
    'ARCHIVE_LIMIT_EXCEEDED',
    /limit/,
  );
  refused(
    t,
    archive(header({ name: 'payload.json', size: 0o77777777777 }), END),
    'ARCHIVE_LIMIT_EXCEEDED',
  );
  refused(t, new Uint8Array(ROTATION_LIMITS.maxArchiveBytes + BLOCK), 'ARCHIVE_LIMIT_EXCEEDED');
});

test('A10/A11: compressed input is refused before any inflation (no gzip bomb, no concatenated members)', (t) => {
  const bomb = gzipSync(new Uint8Array(50 * 1024 * 1024));
  t.true(bomb.length < 100 * 1024);
  refused(t, new Uint8Array(bomb), 'ARCHIVE_INVALID', /compressed/);
  refused(
    t,
    new Uint8Array(Buffer.concat([gzipSync(archive(...GOOD, END)), gzipSync(Buffer.from('x'))])),
    'ARCHIVE_INVALID',
    /compressed/,
  );
});

test('A12: more entries than expected are refused', (t) => {
  refused(
    t,
    archive(...GOOD, entry({ name: 'extra.json' }), END),
    'ARCHIVE_UNSAFE_ENTRY',
    /more entries/,
  );
});

test('A13: every truncation of a valid archive is a clean StellaError', async (t) => {
  const good = await writeTar([
    { name: 'payload.json', data: utf8.encode('{"x":1}') },
    { name: 'root.json', data: new Uint8Array(700).fill(1) },
    { name: 'signatures.json', data: utf8.encode('{}') },
  ]);
  for (let len = 0; len < good.length; len += 97) {
    const e = t.throws(() => readTarStrict(good.subarray(0, len), LIMITS), {
      instanceOf: StellaError,
    }) as StellaError;
    t.true(['ARCHIVE_INVALID', 'ARCHIVE_MANIFEST_MISMATCH'].includes(e.code), `${len}: ${e.code}`);
  }
  // Block-aligned cut right before the end marker.
  refused(t, good.subarray(0, good.length - 2 * BLOCK), 'ARCHIVE_INVALID', /end-of-archive/);
});

test('A14: bad header checksums, non-ustar headers, entries not on the manifest, missing or out-of-order entries', (t) => {
  refused(
    t,
    archive(entry({ name: 'payload.json', badChecksum: true }), END),
    'ARCHIVE_INVALID',
    /checksum/,
  );
  refused(
    t,
    archive(entry({ name: 'payload.json', magic: 'ustar  \0' }), END),
    'ARCHIVE_INVALID',
    /ustar/,
  );
  refused(t, archive(entry({ name: 'evil.sh' }), END), 'ARCHIVE_MANIFEST_MISMATCH', /unexpected/);
  refused(
    t,
    archive(GOOD[0]!, GOOD[1]!, END),
    'ARCHIVE_MANIFEST_MISMATCH',
    /missing signatures\.json/,
  );
  refused(
    t,
    archive(GOOD[1]!, GOOD[0]!, GOOD[2]!, END),
    'ARCHIVE_MANIFEST_MISMATCH',
    /out of order/,
  );
  const dirtyPadding = entry({ name: 'payload.json' }, utf8.encode('{}'));
  dirtyPadding[BLOCK + 100] = 1;
  refused(t, archive(dirtyPadding, GOOD[1]!, GOOD[2]!, END), 'ARCHIVE_INVALID', /padding/);
});
