/**
 * `attest sign`'s image target: `--artifact REGISTRY/REPO@sha256:…`, or `--image REGISTRY/REPO`
 * with `--artifact sha256:…`. The image is looked up before anything is signed (a missing
 * image or refused credentials fail before a certificate is requested or a log entry made);
 * the bundle is attached once signed.
 */
import { fail } from '../errors.js';
import { utf8 } from '../util/encoding.js';
import { parseSha256Digest } from '../util/digest.js';
import { attachBundle, imageDescriptor, type AttachResult } from './bundles.js';
import { RegistryClient } from './client.js';
import {
  formatImage,
  isImageReference,
  parseImageReference,
  parseRepositoryReference,
  signTargetMistake,
  type ImageRef,
} from './reference.js';
import { registryOptionsFrom, type RegistryFlags } from './options.js';

export interface ImageTarget {
  image: ImageRef;
  name: string;
  attach(bundleJson: string): Promise<AttachResult>;
}

export async function imageTarget(
  artifact: string,
  imageFlag: string | undefined,
  flags: RegistryFlags,
  /** How errors name `artifact`: `--artifact`, or `artifact` when it was the argument. */
  artifactWhat = '--artifact',
): Promise<ImageTarget | undefined> {
  const mistake = signTargetMistake({ artifact, image: imageFlag });
  if (mistake !== undefined) fail('INPUT_INVALID', 'input', mistake);
  let image: ImageRef;
  if (isImageReference(artifact)) {
    image = parseImageReference(artifact, artifactWhat);
  } else if (imageFlag !== undefined) {
    // The same rule as signing a bare digest: sha256, lower-case hex.
    parseSha256Digest(artifact, artifactWhat);
    image = { ...parseRepositoryReference(imageFlag, '--image'), digest: artifact };
  } else {
    return undefined;
  }
  const opts = registryOptionsFrom(flags);
  await imageDescriptor(new RegistryClient(image, opts), image);
  return {
    image,
    name: formatImage(image),
    attach: (bundleJson) => attachBundle({ ...opts, image, bundleBytes: utf8.encode(bundleJson) }),
  };
}
