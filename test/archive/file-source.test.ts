/**
 * An export archive file opened as a stream: a plain tar and a gzipped one are read (by their
 * bytes, whatever their names), every other compression is refused by name before it is read
 * on, and a file that is not there or not a file is refused as every input is.
 */
import test from 'ava';
import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileSource } from '../../src/archive/file-source.js';
import { writeTar } from '../../src/archive/tar.js';
import { STREAM_LIMITS } from '../../src/archive/export.js';
import { EXIT_CODES, StellaError } from '../../src/errors.js';
import { utf8 } from '../../src/util/encoding.js';
import { sparseFile, tempDir } from '../helpers/temp.js';

const TAR = await writeTar([{ name: 'a.txt', data: utf8.encode('a\n') }]);

async function readAll(file: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of fileSource(file).open()) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

test('a plain tar and a gzipped tar are read, by their bytes and not their names; each open() reads afresh', async (t) => {
  const dir = tempDir(t, 'stella-file-source-');
  const plain = path.join(dir, 'shipment.tar');
  const gz = path.join(dir, 'named-plain.tar');
  writeFileSync(plain, TAR);
  writeFileSync(gz, gzipSync(TAR));
  t.deepEqual(await readAll(plain), TAR);
  t.deepEqual(await readAll(gz), TAR);
  const src = fileSource(plain, { name: 'the shipment' });
  t.is(src.name, 'the shipment');
  t.is(fileSource(plain).name, `archive ${plain}`);
  // Read twice: a shipment's reader goes over its archive more than once.
  t.deepEqual(await readAll(gz), TAR);
});

for (const [compression, magic] of [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['zip', [0x50, 0x4b, 0x03, 0x04]],
  ['7z', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ['rar', [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07]],
] as const) {
  test(`${compression}: the file is refused when the source is made, naming it and the two forms that are read`, (t) => {
    const file = path.join(tempDir(t, 'stella-file-source-'), 'shipment.bin');
    writeFileSync(file, new Uint8Array([...magic, ...new Uint8Array(600)]));
    const e = t.throws(() => fileSource(file), { instanceOf: StellaError })!;
    t.is(e.code, 'ARCHIVE_INVALID');
    t.is(e.exitCode, EXIT_CODES.ARCHIVE_INVALID);
    t.is(
      e.message,
      `archive ${file}: compressed (${compression}) archives are not accepted: expected a plain tar, or one gzipped (.tar.gz)`,
    );
  });
}

test('a missing file and a directory are refused naming the flag; a file shorter than any magic is left to the tar reader', async (t) => {
  const dir = tempDir(t, 'stella-file-source-');
  const missing = t.throws(() => fileSource(path.join(dir, 'nope.tar'), { what: '--archive' }), {
    instanceOf: StellaError,
  })!;
  t.is(missing.message, `--archive "${path.join(dir, 'nope.tar')}": no such file`);
  mkdirSync(path.join(dir, 'd'));
  const directory = t.throws(() => fileSource(path.join(dir, 'd'), { what: '--archive' }), {
    instanceOf: StellaError,
  })!;
  t.is(directory.message, `--archive "${path.join(dir, 'd')}": a directory, not a regular file`);
  const short = path.join(dir, 'short.tar');
  writeFileSync(short, new Uint8Array([0xfd, 0x37]));
  t.deepEqual(await readAll(short), new Uint8Array([0xfd, 0x37]));
});

test('an archive of exactly the size limit is opened as a stream, read nothing yet; one byte more is refused from its size alone (sparse files)', (t) => {
  const dir = tempDir(t, 'stella-file-source-');
  const sparse = (name: string, size: number): string => sparseFile(path.join(dir, name), size);
  const limit = STREAM_LIMITS.maxArchiveBytes;
  t.is(fileSource(sparse('at-limit.tar', limit)).name, `archive ${path.join(dir, 'at-limit.tar')}`);
  const over = t.throws(() => fileSource(sparse('over.tar', limit + 1)), {
    instanceOf: StellaError,
  })!;
  t.is(over.code, 'ARCHIVE_LIMIT_EXCEEDED');
});
