/**
 * The I/O edge of `stella attest export-bundle`: gather bundles from the attestation store
 * and from files, build the archive (./export.ts), write it atomically.
 *
 * Sources: the attestation store (--attestation-store, else $STELLA_ATTESTATION_STORE, else
 * the per-user store) is read unless only --bundle files are given without
 * --attestation-store. A --bundle file is filed under every sha256 artifact digest it covers
 * (its message digest, or its in-toto subjects), restricted to the --artifact digests asked for.
 */
import { existsSync, statSync } from 'node:fs';
import { fail } from '../errors.js';
import { parseBundle } from '../bundle/parse.js';
import { BUNDLE_LIMITS } from '../bundle/model.js';
import { parseTrustedRoot } from '../trust/trusted-root.js';
import { readSourceFile, writeFileAtomic } from '../trust/store/files.js';
import { AttestationStore, normalizeArtifactDigest, resolveAttestationStorePath } from '../store/attestations.js';
import { utf8, toHex } from '../util/encoding.js';
import { sha256 } from '../crypto.js';
import { artifactDigestsOf, buildExportArchive, readExportArchive, EXPORT_LIMITS, type ExportArchive, type ExportInput } from './export.js';
import type { ExportManifest } from './manifest.js';

export interface ExportBundleOptions {
  outputPath: string;
  /** "sha256:<hex>" digests to export; empty with `all`. */
  artifacts: string[];
  all: boolean;
  attestationStorePath?: string | undefined;
  bundlePaths: string[];
  trustedRootPath?: string | undefined;
  /** RFC 3339; default the newest integrated time among the bundles. */
  createdAt?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface ExportBundleResult {
  outputPath: string;
  /** Hex SHA-256 and size of the archive written. */
  sha256: string;
  size: number;
  manifest: ExportManifest;
  attestationStore: string | undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function parseCreatedAt(s: string): number {
  const ms = RFC3339.test(s) ? Date.parse(s) : Number.NaN;
  if (Number.isNaN(ms)) fail('INPUT_INVALID', 'input', `--created-at ${JSON.stringify(s.slice(0, 60))}: expected an RFC 3339 time such as 2026-01-31T00:00:00Z`);
  return ms;
}

function fromStore(path: string, wanted: Set<string> | undefined): ExportInput[] {
  const store = AttestationStore.open(path, { create: false });
  try {
    const rows = wanted ? [...wanted].sort().flatMap((d) => store.findBundlesByDigest(d)) : store.listAll();
    return rows.map((r) => ({ artifactDigest: r.artifactDigest, bytes: utf8.encode(r.bundleJson), source: `attestation store ${path} (row ${r.id})` }));
  } finally {
    store.close();
  }
}

function fromFile(path: string, wanted: Set<string> | undefined): ExportInput[] {
  const { bytes } = readSourceFile(path, '--bundle', BUNDLE_LIMITS.maxBytes);
  const digests = artifactDigestsOf(parseBundle(bytes));
  if (digests.length === 0) fail('INPUT_INVALID', 'input', `--bundle ${JSON.stringify(path)}: cannot tell which artifact it is for (no sha256 message digest or in-toto subject)`);
  const kept = wanted ? digests.filter((d) => wanted.has(d)) : digests;
  if (kept.length === 0) fail('INPUT_INVALID', 'input', `--bundle ${JSON.stringify(path)} is for ${digests.join(', ')}, none of the --artifact digests asked for`);
  return kept.map((artifactDigest) => ({ artifactDigest, bytes, source: `--bundle ${path}` }));
}

export async function runExportBundle(opts: ExportBundleOptions): Promise<ExportBundleResult> {
  if (opts.all && opts.artifacts.length > 0) fail('INPUT_INVALID', 'input', '--all and --artifact cannot be combined');
  if (!opts.all && opts.artifacts.length === 0) fail('INPUT_INVALID', 'input', 'say what to export: --artifact sha256:<hex> (repeatable) or --all');
  const wanted = opts.all ? undefined : new Set(opts.artifacts.map(normalizeArtifactDigest));
  const createdAt = opts.createdAt !== undefined ? parseCreatedAt(opts.createdAt) : undefined;
  const trustedRoot = opts.trustedRootPath ? readSourceFile(opts.trustedRootPath, '--include-trusted-root', EXPORT_LIMITS.maxTrustedRootBytes).bytes : undefined;
  // Carried for the receiver's convenience, never trusted by reading; still, only a valid one.
  if (trustedRoot) parseTrustedRoot(trustedRoot);

  const inputs: ExportInput[] = [];
  const useStore = opts.attestationStorePath !== undefined || opts.bundlePaths.length === 0;
  let storePath: string | undefined;
  if (useStore) {
    storePath = resolveAttestationStorePath(opts.attestationStorePath, opts.env);
    if (!existsSync(storePath)) fail('NO_ATTESTATIONS_FOUND', 'attestation-store', `no attestations found: attestation store ${storePath} does not exist`);
    inputs.push(...fromStore(storePath, wanted));
  }
  for (const p of opts.bundlePaths) inputs.push(...fromFile(p, wanted));
  if (wanted) {
    const have = new Set(inputs.map((i) => i.artifactDigest));
    const missing = [...wanted].filter((d) => !have.has(d));
    if (missing.length > 0) fail('NO_ATTESTATIONS_FOUND', 'archive', `no attestations found for ${missing.join(', ')}`, { artifactDigests: missing });
  }
  const { archive, manifest } = await buildExportArchive({ bundles: inputs, createdAt, trustedRoot });
  writeFileAtomic(opts.outputPath, archive);
  return { outputPath: opts.outputPath, sha256: toHex(sha256(archive)), size: archive.byteLength, manifest, attestationStore: storePath };
}

/** Read an export archive file: size checked before reading, then ./export.ts's strict reader. */
export function readExportArchiveFile(path: string): ExportArchive {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) fail('INPUT_INVALID', 'input', `--archive ${JSON.stringify(path)}: not a regular file`);
    size = st.size;
  } catch (e) {
    if ((e as { name?: string }).name === 'StellaError') throw e;
    const code = (e as NodeJS.ErrnoException).code;
    return fail('INPUT_INVALID', 'input', `--archive ${JSON.stringify(path)}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, undefined, { cause: e });
  }
  if (size > EXPORT_LIMITS.maxArchiveBytes) fail('ARCHIVE_LIMIT_EXCEEDED', 'archive', `--archive ${JSON.stringify(path)} is larger than ${EXPORT_LIMITS.maxArchiveBytes} bytes`);
  return readExportArchive(readSourceFile(path, '--archive', EXPORT_LIMITS.maxArchiveBytes).bytes);
}
