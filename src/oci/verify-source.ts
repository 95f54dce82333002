/**
 * `attest verify --image REGISTRY/REPO@sha256:…`: the bundles attached to the image, fetched
 * from its registry on a connected host. Only bundles are fetched — trust stays local (the
 * trusted root, the trust store or the embedded public-good root), and nothing else is.
 * Refused and skipped referrers come back as warnings; none at all is NO_ATTESTATIONS_FOUND
 * naming the registry, repository and digest.
 */
import type { Bundle } from '../bundle/model.js';
import type { RefusedItem } from '../bundle/parse.js';
import { discoverBundles, noAttestationsFound } from './bundles.js';
import { registryOptionsFrom, type RegistryFlags } from './options.js';
import { parseImageReference } from './reference.js';

export async function bundlesFromImage(
  reference: string,
  flags: RegistryFlags,
): Promise<{ bundles: Bundle[]; refused: RefusedItem[]; skipped: string[] }> {
  const image = parseImageReference(reference, '--image');
  const r = await discoverBundles(image, registryOptionsFrom(flags));
  if (r.bundles.length === 0) {
    if (r.refused.length > 0) throw r.refused[0]!.error;
    throw noAttestationsFound(image, r);
  }
  return {
    bundles: r.bundles.map((b) => b.bundle),
    refused: r.refused,
    skipped: r.skipped.map((s) => `skipped ${s.source}: ${s.reason}`),
  };
}
