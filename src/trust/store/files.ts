/** File I/O for the trust commands: bounded reads with clear errors, atomic writes. */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../../errors.js';
import type { SourceFile } from './operations.js';

export function readSourceFile(path: string, what: string, maxBytes = 8 * 1024 * 1024): SourceFile {
  try {
    const st = statSync(path);
    if (!st.isFile()) fail('INPUT_INVALID', 'input', `${what} ${JSON.stringify(path)}: not a regular file`);
    if (st.size > maxBytes) fail('INPUT_INVALID', 'input', `${what} ${JSON.stringify(path)}: larger than ${maxBytes} bytes`);
    return { path, bytes: new Uint8Array(readFileSync(path)) };
  } catch (e) {
    if ((e as { name?: string }).name === 'StellaError') throw e;
    const code = (e as NodeJS.ErrnoException).code;
    return fail('INPUT_INVALID', 'input', `${what} ${JSON.stringify(path)}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, undefined, { cause: e });
  }
}

/** Write via a temporary file + fsync + rename: readers see the old file or the new one. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    fail('INPUT_INVALID', 'input', `cannot write ${JSON.stringify(path)}: ${(e as Error).message}`, undefined, { cause: e });
  }
}
