/**
 * Bundles for many images, from their registries, for `attest export-bundle --image`:
 * each image on its own (one unreachable registry or one bad referrer never stops the
 * others, checklist H50), each bundle checked for that image's digest (./bundles.ts).
 */
import { failureOf, fail } from '../errors.js';
import type { RefusedItem } from '../bundle/parse.js';
import { readTextFileBounded } from '../util/fs.js';
import { discoverBundles, noAttestationsFound, type SkippedItem } from './bundles.js';
import { formatImage, parseImageReference, type ImageRef } from './reference.js';
import type { RegistryClientOptions } from './client.js';

export interface RegistryCollection {
  /** Bundles found, filed under their image's digest. */
  inputs: { artifactDigest: string; bytes: Uint8Array; source: string }[];
  refused: RefusedItem[];
  skipped: SkippedItem[];
  images: { image: string; via: string; bundles: number }[];
}

export async function collectFromRegistries(
  images: ImageRef[],
  opts: RegistryClientOptions,
): Promise<RegistryCollection> {
  const out: RegistryCollection = { inputs: [], refused: [], skipped: [], images: [] };
  const seen = new Set<string>();
  for (const image of images) {
    const name = formatImage(image);
    if (seen.has(name)) continue;
    seen.add(name);
    try {
      const r = await discoverBundles(image, opts);
      out.refused.push(...r.refused);
      out.skipped.push(...r.skipped);
      out.images.push({ image: name, via: r.via, bundles: r.bundles.length });
      for (const b of r.bundles)
        out.inputs.push({ artifactDigest: image.digest, bytes: b.bytes, source: b.source });
      if (r.bundles.length === 0 && r.refused.length === 0) {
        const e = noAttestationsFound(image, r);
        out.refused.push({ source: `--image ${name}`, failure: failureOf(e), error: e });
      }
    } catch (e) {
      out.refused.push({ source: `--image ${name}`, failure: failureOf(e), error: e });
    }
  }
  return out;
}

/** Limits of an --images-from file. */
export const IMAGES_FILE_LIMITS = { maxBytes: 1024 * 1024, maxImages: 10_000 } as const;

/**
 * `--images-from FILE`: one image a line (`REGISTRY/REPO@sha256:…`, or a bare `sha256:…` for
 * the attestation store), blank lines and `#` comments ignored.
 */
export function readImagesFile(path: string): string[] {
  const text = readTextFileBounded(path, {
    what: '--images-from',
    maxBytes: IMAGES_FILE_LIMITS.maxBytes,
  });
  const out: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    // A comment runs to the end of the line (indexOf: `/#.*$/` tried every '#' of a run again).
    const hash = raw.indexOf('#');
    const line = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (line.length === 0) continue;
    if (/\s/.test(line))
      fail('INPUT_INVALID', 'input', `--images-from ${path}, line ${i + 1}: one image per line`);
    if (out.length >= IMAGES_FILE_LIMITS.maxImages)
      fail(
        'INPUT_INVALID',
        'input',
        `--images-from ${path}: more than ${IMAGES_FILE_LIMITS.maxImages} images`,
      );
    if (!line.startsWith('sha256:'))
      parseImageReference(line, `--images-from ${path}, line ${i + 1}:`);
    out.push(line);
  }
  return out;
}
