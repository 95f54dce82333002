/**
 * The file I/O primitives of src/: every read of an input file and every file Stella writes
 * goes through here, so the rules hold in one place (checklist H54, H56).
 *
 * Reading an input (`readFileBounded`, `readArtifactFile`):
 *   - opened with O_NONBLOCK, so a FIFO with no writer cannot hang the open;
 *   - fstat on the opened descriptor (not a separate stat that a swap could race): anything
 *     but a regular file (directory, FIFO, device such as /dev/zero, socket) is refused
 *     before a byte is read;
 *   - the size is checked against the caller's limit before reading, and no more than
 *     limit + 1 bytes are ever read, so a file that grows after the fstat is still refused.
 * Artifacts have no size limit: past `inMemoryMaxBytes` they are hashed in chunks, never held.
 *
 * Writing (`writeFileAtomic`): a temporary beside the target with an unpredictable name,
 * created O_CREAT|O_EXCL|O_NOFOLLOW with its final mode (never a chmod by path), written,
 * fsynced, renamed over the target (rename replaces a symlink at the target, it does not
 * follow it), then the directory fsynced. Any failure removes the temporary. The content may be
 * given piece by piece (a callback that writes chunks), so a large output need not be held.
 * `SpoolFile`: scratch space for such outputs, a file unlinked as soon as it is created.
 *
 * This module imports nothing but node: modules, ../errors.js, ./encoding.js, ./text.js and a
 * type from ./digest.ts: it is the bottom layer.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import {
  accessSync,
  close,
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  read,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { StellaError, type CheckName, type ErrorCode } from '../errors.js';
import type { DigestName } from './digest.js';
import { decodeUtf8Text } from './encoding.js';
import { PATH_CHARS_SHOWN, quoted } from './text.js';
import { processRuns, tmpdir } from './os.js';
import { sleepSync } from './retry.js';

/** Limits of the input kinds that have no parser-owned limit of their own (README: "Files, encodings and processes"). */
export const FILE_LIMITS = {
  /** PEM keys: --key, --sign-with, --rotation-keys, --new-rotation-keys, `trust keys add`. */
  keyBytes: 64 * 1024,
  /** signer.yaml (--config). */
  configBytes: 256 * 1024,
  /** PEM certificate bundles named by a config (certificate.rootBundlePath). */
  pemBundleBytes: 4 * 1024 * 1024,
  /** --predicate (the in-toto statement it goes into has the same limit). */
  predicateBytes: 16 * 1024 * 1024,
  /** Files of the sandbox's data directory (sandbox.json, authority keys, control key). */
  sandboxFileBytes: 1024 * 1024,
  /** An artifact up to this size is read into memory (every signature scheme can use it); a larger one is hashed in chunks. */
  artifactInMemoryBytes: 64 * 1024 * 1024,
} as const;

export interface InputFileOptions {
  /** What the file is, for messages: "--bundle", "trusted root", ... */
  what: string;
  /** Code for a file that cannot be opened or is not a regular file. Default INPUT_INVALID. */
  code?: ErrorCode;
  /** Default 'input'. */
  check?: CheckName;
}

export interface BoundedReadOptions extends InputFileOptions {
  /** Largest size accepted, in bytes. */
  maxBytes: number;
  /** Code for a file over maxBytes. Default: `code`. */
  limitCode?: ErrorCode;
  /**
   * Code and check for a file whose bytes are not UTF-8 (readTextFileBounded): its content is
   * wrong, not the file. Default: `code` and `check`.
   */
  textError?: { code: ErrorCode; check: CheckName };
  /**
   * A secret this user wrote for itself (a key): refused unless it is reached without a
   * symlink, owned by this user and closed to group and others. Anyone else could have
   * written it, so it would prove nothing.
   */
  secret?: boolean;
}

/** Read buffer once the fstat size has been read (a file that grew, or reports size 0 like /proc). */
const CHUNK = 1024 * 1024;

// O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer forever. O_NOCTTY: a
// terminal device named as input must not become our controlling terminal before fstat refuses it.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** An error from a system call (fs, net): Node gives those, and only those, a `syscall`. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** A human explanation of an errno, for one-line errors. */
export function explainErrno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links (or a symbolic link where none may be)';
    case 'ENXIO':
      return 'not a regular file (a socket or a device with nothing behind it)';
    case 'EEXIST':
      return 'already exists';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    case 'ENAMETOOLONG':
      return 'name too long';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

function describeNonRegular(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function inputError(
  opts: InputFileOptions,
  path: string,
  problem: string,
  code?: ErrorCode,
  cause?: unknown,
): StellaError {
  return new StellaError(
    code ?? opts.code ?? 'INPUT_INVALID',
    opts.check ?? 'input',
    `${opts.what} ${quoted(path, PATH_CHARS_SHOWN)}: ${problem}`,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

/** `-` names standard input (read once per process, then refused: a second read would see nothing). */
export const STDIN_PATH = '-';
/** `-` as an output names standard output, where a command supports it. */
export const STDOUT_PATH = '-';
let stdinTaken: string | undefined;

/** Standard input as an input "file": a pipe, a file or a terminal, read once, to its end. */
function openStdin(opts: InputFileOptions & { secret?: boolean }): { fd: number; size: number } {
  if (opts.secret)
    throw inputError(
      opts,
      STDIN_PATH,
      'a key cannot come from standard input (its owner and mode cannot be checked)',
    );
  if (stdinTaken !== undefined)
    throw inputError(
      opts,
      STDIN_PATH,
      `standard input was already read for ${stdinTaken}: only one input can be -`,
    );
  stdinTaken = opts.what;
  return { fd: 0, size: 0 };
}

/** The input standard input was read for, if it was: a second reader would see nothing. */
export function stdinReadFor(): string | undefined {
  return stdinTaken;
}

/** Open an input and fstat the descriptor: a regular file, or a refusal (the fd is closed). */
function openRegular(
  path: string,
  opts: InputFileOptions & { secret?: boolean },
): { fd: number; size: number } {
  if (path === STDIN_PATH) return openStdin(opts);
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS | (opts.secret ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    throw inputError(opts, path, explainErrno(e), undefined, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw inputError(opts, path, `${describeNonRegular(st)}, not a regular file`);
    if (opts.secret) {
      const uid = process.getuid?.();
      if (uid !== undefined && st.uid !== uid)
        throw inputError(opts, path, `owned by uid ${st.uid}, not by this user (${uid})`);
      if ((st.mode & 0o077) !== 0)
        throw inputError(
          opts,
          path,
          `mode 0${(st.mode & 0o777).toString(8)} lets others read or write it (must be 0600)`,
        );
    }
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    if (e instanceof StellaError) throw e;
    throw inputError(opts, path, explainErrno(e), undefined, e);
  }
}

/** readSync that waits out EAGAIN (standard input may be a non-blocking pipe). */
function readSyncRetry(fd: number, buf: Buffer, off: number, len: number): number {
  for (;;) {
    try {
      return readSync(fd, buf, off, len, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EOF') return 0;
      if (code !== 'EAGAIN') throw e;
      sleepSync(10);
    }
  }
}

/** Close an input's descriptor (never standard input's). */
function closeInput(fd: number): void {
  if (fd !== 0) closeSync(fd);
}

function readFully(fd: number, buf: Buffer): number {
  let n = 0;
  while (n < buf.length) {
    const r = readSyncRetry(fd, buf, n, buf.length - n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

/**
 * Read from `fd` until end of file or until more than `cap` bytes were read. The first read
 * is sized by fstat (no copy in the common case); growth is read in chunks, never past cap + 1.
 */
function readUpTo(
  fd: number,
  sizeHint: number,
  cap: number,
): { chunks: Buffer[]; total: number; over: boolean } {
  const chunks: Buffer[] = [];
  let total = 0;
  let want = Math.min(sizeHint, cap);
  for (;;) {
    const len = Math.max(1, Math.min(want, cap + 1 - total));
    const buf = Buffer.allocUnsafeSlow(len);
    const n = readFully(fd, buf);
    if (n > 0) {
      chunks.push(n === len ? buf : buf.subarray(0, n));
      total += n;
    }
    if (total > cap) return { chunks, total, over: true };
    if (n < len) return { chunks, total, over: false };
    want = CHUNK;
  }
}

function join1(chunks: Buffer[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, total);
}

/**
 * An input over `opts.maxBytes`: by its size (`n` bytes), or found while reading it (`grew`:
 * it grew past the limit, or standard input, whose size is not known before).
 */
function tooLarge(opts: BoundedReadOptions, path: string, n: number | 'grew'): StellaError {
  return inputError(
    opts,
    path,
    `larger than the ${opts.maxBytes}-byte limit (${n === 'grew' ? 'grew past it while being read' : `${n} bytes`})`,
    opts.limitCode,
  );
}

/** A spool's directory: `stella-stdin-<pid>-XXXXXX`, the pid of the process that made it. */
const SPOOL_PREFIX = 'stella-stdin-';
/** mkdtempSync's name for it: the prefix, the pid and `-`, then six characters of its own. */
const SPOOL_NAME = new RegExp(`^${SPOOL_PREFIX}(\\d+)-[A-Za-z0-9]{6}$`);

/**
 * Spools left by a process that is gone (killed, Ctrl-C included: no exit handler runs then, and
 * a spool can be as large as an archive). A directory whose process still runs is left alone, as is
 * one this user cannot remove. Names are matched whole, so nothing else is touched.
 */
function removeStaleSpools(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = SPOOL_NAME.exec(name);
    if (!m || processRuns(Number(m[1]))) continue;
    try {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    } catch {
      // another user's, or already gone
    }
  }
}

/**
 * Standard input copied to a private temporary file, for an input that is read more than once
 * (an export archive is read in several passes, two cursors at a time, and a pipe can be read
 * only once): at most `maxBytes`, refused with `limitCode` as soon as it passes them; the file,
 * in its own 0700 directory under the system's temporary folder, is removed when the process
 * exits, or else (a process killed) by the next spool. Returns the file's path.
 */
export function spoolStdin(opts: BoundedReadOptions): string {
  const { fd } = openStdin(opts);
  removeStaleSpools();
  const dir = mkdtempSync(join(tmpdir(), `${SPOOL_PREFIX}${process.pid}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'stdin');
  const out = openSync(path, CREATE_FLAGS, 0o600);
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let total = 0;
    for (;;) {
      const n = readSyncRetry(fd, buf, 0, buf.length);
      if (n === 0) return path;
      total += n;
      if (total > opts.maxBytes) throw tooLarge(opts, STDIN_PATH, 'grew');
      writeAllSync(out, buf.subarray(0, n));
    }
  } catch (e) {
    if (e instanceof StellaError) throw e;
    throw inputError(opts, STDIN_PATH, explainErrno(e), undefined, e);
  } finally {
    closeSync(out);
  }
}

/**
 * Read an input file of at most `maxBytes`: regular files only, size checked on the open
 * descriptor before reading, never more than maxBytes + 1 bytes read.
 */
export function readFileBounded(path: string, opts: BoundedReadOptions): Uint8Array {
  const { fd, size } = openRegular(path, opts);
  try {
    if (size > opts.maxBytes) throw tooLarge(opts, path, size);
    const r = readUpTo(fd, size, opts.maxBytes);
    if (r.over) throw tooLarge(opts, path, 'grew');
    return join1(r.chunks, r.total);
  } catch (e) {
    if (e instanceof StellaError) throw e;
    throw inputError(opts, path, explainErrno(e), undefined, e);
  } finally {
    closeInput(fd);
  }
}

/**
 * A bounded text file (a key, a config): readFileBounded, then UTF-8, strictly. Bytes that are
 * not UTF-8 are refused by the file's name; a lenient decoder would turn them into U+FFFD and
 * leave the parser after it to report something else. A leading byte-order mark is dropped:
 * these are texts a person writes (PEM, YAML, lists), which YAML and PEM readers take with one,
 * as Windows editors save them; JSON, which its peers refuse with one, is read from bytes.
 */
export function readTextFileBounded(path: string, opts: BoundedReadOptions): string {
  const decoded = decodeUtf8Text(readFileBounded(path, opts));
  if (!decoded.ok) throw inputError({ ...opts, ...opts.textError }, path, decoded.problem);
  const text = decoded.text;
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** What a path holds, seen before another library (SQLite) opens it. */
export type FileProbe =
  { kind: 'missing' } | { kind: 'not-a-file' } | { kind: 'file'; size: number; head: Uint8Array };

/**
 * Look at a file without trusting it: missing, not a regular file, or its size and first
 * `headBytes` bytes. Opened like every input (O_NONBLOCK: a FIFO put there cannot stall the
 * open; fstat on the descriptor: no separate stat to race). Any failure but "no such file" is
 * `opts.code` with the errno explained.
 */
export function probeFile(path: string, headBytes: number, opts: InputFileOptions): FileProbe {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw inputError(opts, path, explainErrno(e), undefined, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'not-a-file' };
    const head = Buffer.alloc(Math.min(headBytes, st.size));
    const n = readFully(fd, head);
    return { kind: 'file', size: st.size, head: head.subarray(0, n) };
  } catch (e) {
    throw inputError(opts, path, explainErrno(e), undefined, e);
  } finally {
    closeSync(fd);
  }
}

/** The digests an artifact can be hashed with: util/digest.ts's names. */
export type HashName = DigestName;

/** An artifact file: its bytes when small enough to hold, else its digest, computed in chunks. */
export type ArtifactFile =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'digest'; algorithm: HashName; digest: Uint8Array; size: number };

/**
 * Read an artifact: a regular file of any size. Up to `inMemoryMaxBytes` (default
 * FILE_LIMITS.artifactInMemoryBytes) its bytes are returned; a larger one is hashed with
 * `algorithm` (default sha256) chunk by chunk and only the digest is kept.
 */
export function readArtifactFile(
  path: string,
  opts: InputFileOptions & { inMemoryMaxBytes?: number; algorithm?: HashName },
): ArtifactFile {
  const cap = opts.inMemoryMaxBytes ?? FILE_LIMITS.artifactInMemoryBytes;
  const algorithm = opts.algorithm ?? 'sha256';
  const { fd, size } = openRegular(path, opts);
  try {
    let chunks: Buffer[] = [];
    let total = 0;
    if (size <= cap) {
      const r = readUpTo(fd, size, cap);
      if (!r.over) return { kind: 'bytes', bytes: join1(r.chunks, r.total) };
      // It grew past the in-memory size while being read: hash it instead.
      chunks = r.chunks;
      total = r.total;
    }
    const h: Hash = createHash(algorithm);
    for (const c of chunks) h.update(c);
    chunks = [];
    const buf = Buffer.allocUnsafeSlow(CHUNK);
    for (;;) {
      const n = readSyncRetry(fd, buf, 0, CHUNK);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      total += n;
    }
    return { kind: 'digest', algorithm, digest: new Uint8Array(h.digest()), size: total };
  } catch (e) {
    if (e instanceof StellaError) throw e;
    throw inputError(opts, path, explainErrno(e), undefined, e);
  } finally {
    closeInput(fd);
  }
}

export interface AtomicWriteOptions {
  /** Mode the file is created with (umask still applies). Default 0o644; 0o600 for secrets. */
  mode?: number;
  /** What is written, for messages. Default "file". */
  what?: string;
  /** Default INPUT_INVALID. */
  code?: ErrorCode;
  /** Default 'input'. */
  check?: CheckName;
}

// O_NOFOLLOW with O_EXCL: a name that exists (a planted symlink included) is refused, never followed.
const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** What writeFileAtomic writes: bytes, text (UTF-8), or a callback writing it chunk by chunk, in order. */
export type AtomicContent =
  Uint8Array | string | ((write: (chunk: Uint8Array | string) => void) => void);

function writeAllSync(fd: number, chunk: Uint8Array | string): void {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  let off = 0;
  while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
}

/**
 * Write `data` to `path` atomically: readers see the old file or the new one, never half of
 * one, and nothing is written anywhere but a fresh temporary beside `path` and then `path`.
 */
export function writeFileAtomic(
  path: string,
  data: AtomicContent,
  opts: AtomicWriteOptions = {},
): void {
  const file = AtomicFile.create(path, opts);
  try {
    if (typeof data === 'function') data((chunk) => file.write(chunk));
    else file.write(data);
    file.commit();
  } catch (e) {
    file.abort();
    throw file.writeError(e);
  }
}

/**
 * `e` as writeFileAtomic reports it: a file system error as a refusal naming the file; a
 * StellaError (a producer's own) and anything else as it is. Anything else is a fault of the
 * code (a TypeError in a producer, a file used after commit), which errors.ts reports as an
 * internal error, exit 1: until stop 60 it was worded as this file's input error.
 */
function atomicWriteError(path: string, opts: AtomicWriteOptions, e: unknown): unknown {
  if (!isSystemError(e)) return e;
  return new StellaError(
    opts.code ?? 'INPUT_INVALID',
    opts.check ?? 'input',
    `cannot write ${opts.what ?? 'file'} ${quoted(path, PATH_CHARS_SHOWN)}: ${explainErrno(e)}`,
    undefined,
    { cause: e },
  );
}

/**
 * writeFileAtomic for content that arrives over time (an export archive of 100,000 bundles,
 * made as it is written): write() in order, then commit() puts it at `path`; abort() (on any
 * failure, the producer's included) removes the temporary and leaves `path` as it was.
 * Errors of the file itself are raised as writeFileAtomic raises them.
 */
export class AtomicFile {
  private constructor(
    private fd: number | undefined,
    private readonly tmp: string,
    private readonly target: string,
    private readonly path: string,
    private readonly opts: AtomicWriteOptions,
  ) {}

  static create(path: string, opts: AtomicWriteOptions = {}): AtomicFile {
    const target = resolve(path);
    // Unpredictable, so no one can plant anything at it in advance; short enough for NAME_MAX.
    const tmp = join(
      dirname(target),
      `.${basename(target).slice(0, 64)}.${randomBytes(16).toString('hex')}.tmp`,
    );
    try {
      return new AtomicFile(
        openSync(tmp, CREATE_FLAGS, opts.mode ?? 0o644),
        tmp,
        target,
        path,
        opts,
      );
    } catch (e) {
      throw atomicWriteError(path, opts, e);
    }
  }

  write(chunk: Uint8Array | string): void {
    try {
      writeAllSync(this.open(), chunk);
    } catch (e) {
      throw this.writeError(e);
    }
  }

  commit(): void {
    try {
      const fd = this.open();
      fsyncSync(fd);
      this.fd = undefined;
      closeSync(fd);
      renameSync(this.tmp, this.target);
      fsyncDirectory(dirname(this.target));
    } catch (e) {
      this.abort();
      throw this.writeError(e);
    }
  }

  /** Remove the temporary (a no-op after commit). */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already failing; the first error is the one to report
      }
      this.fd = undefined;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // gone already (committed, or never made); the name is random and ours alone
    }
  }

  /** `e` as writeFileAtomic reports it (atomicWriteError): only a file system error is reworded. */
  writeError(e: unknown): unknown {
    return atomicWriteError(this.path, this.opts, e);
  }

  private open(): number {
    if (this.fd === undefined) throw new Error('AtomicFile used after commit() or abort()');
    return this.fd;
  }
}

/**
 * Scratch space for an output too large to hold: a file created in `dir` (random name, O_EXCL,
 * O_NOFOLLOW, mode 0600) and unlinked at once, so nothing is left behind even by a crash.
 * Appended to (buffered, 64 KiB at a time), then read back in order with chunks().
 */
export class SpoolFile {
  private size = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private constructor(private fd: number | undefined) {}

  static create(dir: string, opts: AtomicWriteOptions = {}): SpoolFile {
    const tmp = join(resolve(dir), `.stella-spool.${randomBytes(16).toString('hex')}.tmp`);
    let fd: number | undefined;
    try {
      fd = openSync(
        tmp,
        constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      unlinkSync(tmp);
      return new SpoolFile(fd);
    } catch (e) {
      if (fd !== undefined) {
        try {
          closeSync(fd);
          unlinkSync(tmp);
        } catch {
          // already failing; the create error is the one to report
        }
      }
      throw new StellaError(
        opts.code ?? 'INPUT_INVALID',
        opts.check ?? 'input',
        `cannot create scratch space for ${opts.what ?? 'output'} in ${quoted(dir, PATH_CHARS_SHOWN)}: ${explainErrno(e)}`,
        undefined,
        { cause: e },
      );
    }
  }

  append(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= 64 * 1024) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    let off = 0;
    while (off < bytes.byteLength)
      off += writeSync(this.open(), bytes, off, bytes.byteLength - off, this.size + off);
    this.size += bytes.byteLength;
  }

  private open(): number {
    if (this.fd === undefined) throw new Error('SpoolFile used after close()');
    return this.fd;
  }

  /** Everything appended, in order, 64 KiB at a time (each chunk a fresh buffer). */
  *chunks(): Generator<Uint8Array> {
    this.flush();
    for (let pos = 0; pos < this.size;) {
      const buf = Buffer.allocUnsafe(Math.min(64 * 1024, this.size - pos));
      const n = readSync(this.open(), buf, 0, buf.byteLength, pos);
      if (n === 0) throw new Error(`scratch file shorter than written (${pos} of ${this.size})`);
      pos += n;
      yield buf.subarray(0, n);
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}

/** A file or folder a command reads, named as the user named it ("--archive", "the attestation store"). */
export interface CommandInput {
  readonly what: string;
  /** Not given (or "-", standard input): nothing to compare. */
  readonly path: string | undefined;
  /** A folder read whole (--artifacts-dir): an output anywhere inside it is refused too. */
  readonly folder?: boolean;
}

export interface WritableTargetOptions extends AtomicWriteOptions {
  /** What the same command reads: writing over one of them is refused. */
  inputs?: readonly CommandInput[];
}

/** `abs` (resolved) with its folder's symlinks resolved: the name a file there has or will have. */
function realName(abs: string): string {
  return join(realFolder(dirname(abs)), basename(abs));
}

/**
 * Where a name leads: the file's device and inode when it exists (`st`), so another spelling,
 * a symlink or `..` all meet; else the name it will have, so a store the command creates is
 * caught too.
 */
function fileKey(abs: string, st: Stats | undefined): string {
  return st ? `inode ${st.dev}:${st.ino}` : `name ${realName(abs)}`;
}

function statOrUndefined(path: string, stat: (p: string) => Stats): Stats | undefined {
  try {
    return stat(path);
  } catch {
    return undefined;
  }
}

function realFolder(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/**
 * Why writing `target` (resolved; `out` its lstat, none when nothing is there) would destroy or
 * disturb what the command reads, or undefined.
 * The rename that puts a written file in place replaces the name `target`: a symlink there is
 * replaced, its target kept, so only a file that is itself one of the inputs is lost.
 */
function overwrittenInput(
  target: string,
  out: Stats | undefined,
  inputs: readonly CommandInput[],
): string | undefined {
  if (out?.isSymbolicLink()) return undefined;
  const outKey = fileKey(target, out);
  for (const input of inputs) {
    if (input.path === undefined || input.path === STDIN_PATH) continue;
    const abs = resolve(input.path);
    if (input.folder) {
      const folder = realFolder(abs);
      if (realName(target).startsWith(folder.endsWith(sep) ? folder : folder + sep))
        return `it is inside ${input.what} ${quoted(input.path, PATH_CHARS_SHOWN)}, which this command reads whole: write it elsewhere`;
    } else if (fileKey(abs, statOrUndefined(abs, statSync)) === outKey) {
      return `it is ${input.what} ${quoted(input.path, PATH_CHARS_SHOWN)}: writing there would replace it; give another path`;
    }
  }
  return undefined;
}

/**
 * Check, before any work whose result would be lost, that writeFileAtomic(path) can succeed:
 * the folder exists and is a folder, a file can be created in it (a temporary is created
 * O_EXCL and removed at once), and what is at `path` now, if anything, is not a folder and is
 * writable by us. With `opts.inputs`, also that `path` is none of the files the command
 * reads (`-o` naming the attestation store would swap the store for a tar). Throws the
 * writer's own error (`opts.code`, default INPUT_INVALID).
 */
export function checkWritableTarget(path: string, opts: WritableTargetOptions = {}): void {
  const target = resolve(path);
  const dir = dirname(target);
  const refuse = (why: string, cause?: unknown): never => {
    throw new StellaError(
      opts.code ?? 'INPUT_INVALID',
      opts.check ?? 'input',
      `cannot write ${opts.what ?? 'file'} ${quoted(path, PATH_CHARS_SHOWN)}: ${why}`,
      undefined,
      cause === undefined ? undefined : { cause },
    );
  };
  // "-" is standard input or output everywhere else: a file of that name is never what was meant.
  if (path === STDOUT_PATH)
    refuse('standard output is not supported for this file: give a path (./- for a file named -)');
  // One lstat serves both checks; an output that is an input is said before why it cannot be read.
  let st: Stats | undefined;
  let unreadable: unknown;
  try {
    st = lstatSync(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') unreadable = e;
  }
  const clash = opts.inputs ? overwrittenInput(target, st, opts.inputs) : undefined;
  if (clash !== undefined) refuse(clash);
  if (unreadable !== undefined) refuse(explainErrno(unreadable), unreadable);
  if (st?.isDirectory()) refuse('is a directory');
  if (st && !st.isSymbolicLink()) {
    try {
      accessSync(target, constants.W_OK);
    } catch (e) {
      refuse(`exists and is not writable (${explainErrno(e)})`, e);
    }
  }
  let dst: Stats;
  try {
    dst = statSync(dir);
  } catch (e) {
    return refuse(
      `its folder ${quoted(dir, PATH_CHARS_SHOWN)} ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read: ${explainErrno(e)}`}`,
      e,
    );
  }
  if (!dst.isDirectory()) refuse(`${quoted(dir, PATH_CHARS_SHOWN)} is not a folder`);
  const probe = join(
    dir,
    `.${basename(target).slice(0, 64)}.${randomBytes(16).toString('hex')}.tmp`,
  );
  try {
    closeSync(openSync(probe, CREATE_FLAGS, 0o600));
  } catch (e) {
    refuse(`a file cannot be created in ${quoted(dir, PATH_CHARS_SHOWN)} (${explainErrno(e)})`, e);
  }
  try {
    unlinkSync(probe);
  } catch {
    // the name is random and ours alone
  }
}

/**
 * Check that `dir` exists as a folder or can be created (`mkdir -p`): the nearest existing
 * ancestor must be a folder we may write in. Nothing is created. Also the guard against
 * paths where `mkdir -p` cannot succeed (under /proc, /sys, a file), on which Node's
 * recursive mkdir spins instead of failing.
 */
export function checkFolderCreatable(dir: string, opts: InputFileOptions): void {
  const refuse = (why: string, cause?: unknown): never => {
    throw new StellaError(
      opts.code ?? 'INPUT_INVALID',
      opts.check ?? 'input',
      `${opts.what} ${quoted(dir, PATH_CHARS_SHOWN)}: ${why}`,
      undefined,
      cause === undefined ? undefined : { cause },
    );
  };
  let cur = resolve(dir);
  for (;;) {
    let st: Stats | undefined;
    try {
      st = statSync(cur);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') refuse(`${cur}: ${explainErrno(e)}`, e);
    }
    if (st) {
      if (!st.isDirectory()) refuse(`${cur} is not a folder`);
      if (cur === resolve(dir)) return;
      if (/^\/(proc|sys)(\/|$)/.test(cur)) refuse(`a folder cannot be created under ${cur}`);
      try {
        accessSync(cur, constants.W_OK | constants.X_OK);
      } catch (e) {
        refuse(`cannot create a folder in ${cur} (${explainErrno(e)})`, e);
      }
      return;
    }
    const up = dirname(cur);
    if (up === cur) refuse('no existing folder above it');
    cur = up;
  }
}

/**
 * `mkdir -p` that fails instead of spinning: checked first (checkFolderCreatable), then made
 * one level at a time.
 */
export function makeFolder(dir: string, opts: InputFileOptions & { mode?: number }): void {
  checkFolderCreatable(dir, opts);
  const missing: string[] = [];
  for (let cur = resolve(dir); ; cur = dirname(cur)) {
    try {
      if (statSync(cur).isDirectory()) break;
    } catch {
      missing.unshift(cur);
      if (dirname(cur) === cur) break;
      continue;
    }
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: opts.mode ?? 0o755 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new StellaError(
        opts.code ?? 'INPUT_INVALID',
        opts.check ?? 'input',
        `${opts.what} ${quoted(dir, PATH_CHARS_SHOWN)}: cannot create ${d}: ${explainErrno(e)}`,
        undefined,
        { cause: e },
      );
    }
  }
}

/**
 * Make a rename durable. Some file systems cannot fsync a directory (EINVAL; Linux's /proc and
 * /sys say so, and some FUSE and network file systems): nothing to do there. Exported for its
 * test.
 */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EBADF') throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Open a log file for appending: created with `mode` if absent, never through a symlink, and
 * only a regular file. Returns the descriptor (the caller closes it).
 */
export function openAppendOnly(path: string, opts: InputFileOptions & { mode?: number }): number {
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_WRONLY |
        constants.O_APPEND |
        constants.O_CREAT |
        constants.O_NOFOLLOW |
        constants.O_NONBLOCK,
      opts.mode ?? 0o600,
    );
  } catch (e) {
    throw inputError(opts, path, explainErrno(e), undefined, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw inputError(opts, path, `${describeNonRegular(st)}, not a regular file`);
    return fd;
  } catch (e) {
    closeSync(fd);
    if (e instanceof StellaError) throw e;
    throw inputError(opts, path, explainErrno(e), undefined, e);
  }
}

/**
 * A regular file read as a stream of chunks (sequential reads on one descriptor, checked like
 * every input: a regular file, opened without blocking). For inputs too large to hold in memory
 * (export archives); each call opens the file afresh. `chunkBytes` bounds each chunk.
 */
export async function* readFileChunks(
  path: string,
  opts: InputFileOptions & { chunkBytes?: number },
): AsyncGenerator<Uint8Array> {
  const { fd } = openRegular(path, opts);
  const readAsync = (buf: Buffer): Promise<number> =>
    new Promise((res, rej) =>
      read(fd, buf, 0, buf.length, null, (e, n) =>
        e ? rej(inputError(opts, path, explainErrno(e), undefined, e)) : res(n),
      ),
    );
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(opts.chunkBytes ?? 256 * 1024);
      const n = await readAsync(buf);
      if (n === 0) return;
      yield new Uint8Array(buf.buffer, buf.byteOffset, n);
    }
  } finally {
    await new Promise<void>((res) => close(fd, () => res()));
  }
}
