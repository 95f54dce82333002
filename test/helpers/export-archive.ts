/**
 * An export archive holding exactly the bundle bytes given, good or bad, written with the
 * project's own tar writer and manifest encoder but without buildExportArchive's checks: what
 * an older Stella (one that did not bound integrated times) or a hand-made archive may hold.
 */
import { sha256 } from '../../src/crypto.js';
import { bundlePath } from '../../src/archive/export.js';
import {
  encodeManifest,
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  MANIFEST_NAME,
  type ExportManifestEntry,
} from '../../src/archive/manifest.js';
import { writeTar } from '../../src/archive/tar.js';
import { toHex } from '../../src/util/encoding.js';

export async function rawExportArchive(
  items: { artifactDigest: string; bytes: Uint8Array }[],
): Promise<Uint8Array> {
  const counts = new Map<string, number>();
  const entries: ExportManifestEntry[] = items.map((it) => {
    const hex = it.artifactDigest.slice('sha256:'.length);
    const n = counts.get(hex) ?? 0;
    counts.set(hex, n + 1);
    return {
      artifactDigest: it.artifactDigest,
      path: bundlePath(hex, n),
      sha256: toHex(sha256(it.bytes)),
      size: it.bytes.byteLength,
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      content: 'messageSignature',
      identity: null,
      issuer: null,
      logIndex: 0,
      integratedTime: null,
    };
  });
  const manifest = {
    format: EXPORT_FORMAT,
    version: EXPORT_FORMAT_VERSION,
    createdAt: '2026-01-31T00:00:00.000Z',
    trustedRoot: null,
    entries,
  } as const;
  return writeTar([
    { name: MANIFEST_NAME, data: encodeManifest({ ...manifest, entries }) },
    ...entries.map((e, i) => ({ name: e.path, data: items[i]!.bytes })),
  ]);
}
