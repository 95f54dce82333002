/**
 * The I/O edge of `stella attest verify --archive` over a whole shipment (and of the archive
 * reading `attest import` and single-artifact `verify --archive` share): open the archive file
 * as a stream (a .tar.gz inflated with limits), pick the artifacts (--all, --artifact ...,
 * --artifacts-dir), gather the trusted exporters (trust store, --seal-key, --seal-identity),
 * and run shipment/verify.ts.
 */
import { availableParallelism } from '../../util/os.js';
import { existsSync, readdirSync, lstatSync, type Stats } from 'node:fs';
import path from 'node:path';
import { isatty } from 'node:tty';
import { fail } from '../../errors.js';
import { usageError } from '../argv.js';
import { MAX_JOBS } from '../../shipment/pool.js';
import { explainErrno, readArtifactFile, spoolStdin, STDIN_PATH } from '../../util/fs.js';
import { toHex } from '../../util/encoding.js';
import { keyIdOf, parsePublicKey, sha256 } from '../../crypto.js';
import { parseBundles, type RefusedItem } from '../../bundle/parse.js';
import type { Bundle } from '../../bundle/model.js';
import {
  readExportArchiveStream,
  readPreamble,
  type ArchiveSource,
} from '../../archive/export-stream.js';
import { STREAM_LIMITS } from '../../archive/export.js';
import { fileSource } from '../../archive/file-source.js';
import { isDigestReference, parseDigestReference } from '../../verify/artifact.js';
import type { ExporterTrust } from '../../shipment/seal.js';
import { listed, quoted, PATH_CHARS_SHOWN } from '../../util/text.js';
import { readPublicKeyRef } from '../key-ref.js';

/**
 * An export archive file as a re-openable stream; gzip (by its magic bytes) inflated with limits.
 * `what` names it in errors: `--archive`, or `archive` for `attest import`'s argument.
 */
export function archiveFileSource(given: string, what = '--archive'): ArchiveSource {
  if (given !== STDIN_PATH) return fileSource(given, { what });
  return fileSource(spooledStdinArchive(what), {
    what,
    name: 'archive - (standard input)',
  });
}

/**
 * `--archive -`: the archive piped in (`ssh host cat x.tar | stella attest verify --archive -`),
 * spooled to a temporary file, since it is read more than once (src/archive/export-stream.ts).
 */
function spooledStdinArchive(what: string): string {
  // isatty, not process.stdin.isTTY: that getter opens standard input as a stream.
  if (isatty(0))
    fail(
      'INPUT_INVALID',
      'input',
      `${what} -: standard input is a terminal; pipe the archive in (< shipment.tar), or give its path`,
    );
  return spoolStdin({
    what,
    maxBytes: STREAM_LIMITS.maxArchiveBytes,
    limitCode: 'ARCHIVE_LIMIT_EXCEEDED',
  });
}

/** The parsed bundles the archive holds for one artifact (single-artifact `verify --archive`), streamed. */
export async function bundlesFromArchiveFile(
  file: string,
  artifactDigest: string,
): Promise<{
  bundles: Bundle[];
  refused: RefusedItem[];
  consistency?: Uint8Array | undefined;
  shipmentBundles?: Bundle[] | undefined;
}> {
  const src = archiveFileSource(file);
  const pre = await readPreamble(src);
  const found: { source: string; bytes: Uint8Array }[] = [];
  // With consistency.json (issue 12) the other bundles' checkpoints are where its proofs start.
  const others: { source: string; bytes: Uint8Array }[] = [];
  let withConsistency = false;
  const read = await readExportArchiveStream(src, {
    expectManifestSha256: pre.manifestSha256,
    onHeader: (h) => {
      withConsistency = h.consistency !== undefined;
    },
    onBundle: (e, bytes) => {
      if (e.artifactDigest === artifactDigest)
        found.push({ source: `${src.name}: ${e.path}`, bytes: bytes.slice() });
      else if (withConsistency)
        others.push({ source: `${src.name}: ${e.path}`, bytes: bytes.slice() });
    },
  });
  if (found.length === 0)
    fail(
      'NO_ATTESTATIONS_FOUND',
      'archive',
      `no attestations found for ${artifactDigest} in ${src.name}`,
      { artifactDigest },
    );
  const { parsed, refused } = parseBundles(found);
  if (parsed.length === 0) throw refused[0]!.error;
  const bundles = parsed.map((p) => p.bundle);
  if (!read.consistency) return { bundles, refused };
  return {
    bundles,
    refused,
    consistency: read.consistency,
    shipmentBundles: [...bundles, ...parseBundles(others).parsed.map((p) => p.bundle)],
  };
}

/**
 * --jobs: a positive whole number. undefined when not given: the default (one thread per core, no
 * more than the shipment repays) is decided once the archive's size is known (defaultJobs).
 * A value out of range is a usage error (exit 2), as oclif makes it for the integer flags with a
 * range (`sandbox up --port`); a library caller's number is checked by createVerifierPool.
 */
export function parseJobs(s: string | undefined, warnings: string[] = []): number | undefined {
  if (s === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(s) || Number(s) > MAX_JOBS)
    throw usageError(`--jobs must be a whole number from 1 to ${MAX_JOBS}, not ${quoted(s, 40)}`);
  const jobs = Number(s);
  const cores = availableParallelism();
  // Verifying is CPU work: threads beyond the cores only share them, and each loads its own
  // verifier (measured: --jobs 400 on 2 cores took 25 s and 5.1 GB where --jobs 2 took 1.2 s
  // and 160 MB). The user's number stands; they are told what it costs.
  if (jobs > cores)
    warnings.push(
      `--jobs ${jobs} is more than the ${cores} ${cores === 1 ? 'core' : 'cores'} this process can use: each extra worker thread costs memory (about 13 MB) and start-up time, and verifies nothing faster`,
    );
  return jobs;
}

function sha256Ref(ref: string, what: string): string {
  if (isDigestReference(ref)) {
    const a = parseDigestReference(ref);
    if (a.kind !== 'digest' || a.algorithm !== 'SHA2_256')
      fail(
        'INPUT_INVALID',
        'input',
        `${what} ${quoted(ref, 100)}: export archives are keyed by sha256 digests`,
      );
    return `sha256:${toHex(a.digest)}`;
  }
  const f = readArtifactFile(ref, { what, algorithm: 'sha256', inMemoryMaxBytes: 0 });
  return `sha256:${toHex(f.kind === 'bytes' ? sha256(f.bytes) : f.digest)}`;
}

/** What an entry that is neither a regular file nor a folder is, for the skipped-entry warning. */
function entryKind(st: Stats): string {
  if (st.isSymbolicLink()) return 'symbolic link, not followed';
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'device';
  return 'not a regular file';
}

/**
 * Every regular file under dir (no symlinks followed), sorted, as paths; and every other entry
 * (symbolic link, FIFO, socket, device) with what it is, as paths relative to dir: these are
 * not hashed (a FIFO would block the read; a link may point out of the folder), and the user
 * is told, since a file that came across as a link was not checked.
 */
function filesUnder(dir: string): { files: string[]; skipped: string[] } {
  const refuse = (why: string, cause?: unknown): never =>
    fail(
      'INPUT_INVALID',
      'input',
      `--artifacts-dir ${quoted(dir, PATH_CHARS_SHOWN)}: ${why}`,
      undefined,
      cause === undefined ? undefined : { cause },
    );
  // Only the file system calls are wrapped: an errno is worded as every input's is. (Wrapping
  // the whole walk, as before stop 59, named the folder twice in its own refusals.)
  const fsCall = <T>(call: () => T): T => {
    try {
      return call();
    } catch (e) {
      if (typeof (e as NodeJS.ErrnoException).code === 'string') refuse(explainErrno(e), e);
      throw e;
    }
  };
  const out: string[] = [];
  const skipped: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 64) refuse('nested more than 64 levels deep');
    for (const name of fsCall(() => readdirSync(d)).sort()) {
      const p = path.join(d, name);
      const st = fsCall(() => lstatSync(p));
      if (st.isDirectory()) walk(p, depth + 1);
      else if (st.isFile()) out.push(p);
      else skipped.push(`${quoted(path.relative(dir, p), PATH_CHARS_SHOWN)} (${entryKind(st)})`);
    }
  };
  if (!fsCall(() => lstatSync(dir)).isDirectory()) refuse('not a directory');
  walk(dir, 0);
  return { files: out, skipped };
}

/**
 * Why the flags do not choose the artifacts of a whole archive in exactly one way, if they do
 * not. This rule and sealPinMistake are each one rule: the CLI refuses them as usage errors
 * (exit 2) before it reads anything; selectArtifacts and exportersFor refuse them as
 * INPUT_INVALID for a library caller.
 */
export function selectionMistake(o: {
  all: boolean;
  artifacts: readonly string[];
  artifactsDir?: string | undefined;
}): string | undefined {
  const modes =
    Number(o.all) + Number(o.artifacts.length > 0) + Number(o.artifactsDir !== undefined);
  return modes === 1
    ? undefined
    : 'with --archive, say which artifacts: --all, --artifact FILE_OR_DIGEST (repeatable) or --artifacts-dir DIR (one of them)';
}

/** A keyless exporter is pinned by identity and issuer together (see selectionMistake). */
export function sealPinMistake(o: {
  sealIdentity?: string | undefined;
  sealIssuer?: string | undefined;
}): string | undefined {
  return (o.sealIdentity === undefined) !== (o.sealIssuer === undefined)
    ? '--seal-identity and --seal-issuer go together'
    : undefined;
}

/**
 * The artifacts asked for: undefined with --all, else digest -> the names they were given as.
 * A warning for --artifacts-dir entries that are not regular files goes to `warnings`.
 */
export function selectArtifacts(
  o: {
    all: boolean;
    artifacts: string[];
    artifactsDir?: string | undefined;
  },
  warnings: string[] = [],
): Map<string, string[]> | undefined {
  const mistake = selectionMistake(o);
  if (mistake !== undefined) fail('INPUT_INVALID', 'input', mistake);
  if (o.all) return undefined;
  const select = new Map<string, string[]>();
  const add = (digest: string, name: string): void => {
    const names = select.get(digest);
    if (names) names.push(name);
    else select.set(digest, [name]);
  };
  if (o.artifactsDir !== undefined) {
    const { files, skipped } = filesUnder(o.artifactsDir);
    const skippedText =
      skipped.length === 0
        ? ''
        : `${skipped.length} ${skipped.length === 1 ? 'entry that is' : 'entries that are'} not a regular file, not checked: ${listed(skipped)}`;
    if (files.length === 0)
      fail(
        'INPUT_INVALID',
        'input',
        `--artifacts-dir ${quoted(o.artifactsDir, PATH_CHARS_SHOWN)} holds no files${skippedText ? ` (${skippedText})` : ''}`,
      );
    if (skippedText)
      warnings.push(`--artifacts-dir ${quoted(o.artifactsDir, PATH_CHARS_SHOWN)}: ${skippedText}`);
    for (const f of files)
      add(sha256Ref(f, '--artifacts-dir file'), path.relative(o.artifactsDir, f));
  } else {
    for (const a of o.artifacts) add(sha256Ref(a, '--artifact'), a);
  }
  return select;
}

/**
 * Exporters to require a seal from: --seal-key / --seal-identity pin them, else the trust
 * store's (whether or not the trust material itself comes from the store: a --trusted-root
 * does not switch the seal requirement off).
 */
export async function exportersFor(o: {
  sealKey?: string | undefined;
  sealIdentity?: string | undefined;
  sealIssuer?: string | undefined;
  storePath?: string | undefined;
}): Promise<ExporterTrust | undefined> {
  const mistake = sealPinMistake(o);
  if (mistake !== undefined) fail('INPUT_INVALID', 'input', mistake);
  if (o.sealKey !== undefined || o.sealIdentity !== undefined) {
    const keys = [];
    if (o.sealKey !== undefined) {
      const key = parsePublicKey(readPublicKeyRef(o.sealKey, '--seal-key'), '--seal-key');
      keys.push({ keyId: keyIdOf(key), key });
    }
    return {
      keys,
      identities:
        o.sealIdentity !== undefined ? [{ identity: o.sealIdentity, issuer: o.sealIssuer! }] : [],
    };
  }
  const t = await import('../../trust/store/index.js');
  const path = t.resolveStorePath(o.storePath);
  if (!existsSync(path)) return undefined;
  const store = t.openTrustStore(path, { readonly: true });
  try {
    const list = t.listExporters(store);
    return list.length > 0 ? t.exporterTrustOf(list) : undefined;
  } finally {
    store.close();
  }
}
