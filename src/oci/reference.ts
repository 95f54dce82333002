/**
 * Image references as Stella accepts them: `REGISTRY/REPO@sha256:<hex>` (an image, by digest)
 * and `REGISTRY/REPO` (a repository, for `attest sign --image`). The grammar is the
 * distribution project's reference grammar (docker/distribution `reference/regexp.go`), kept
 * to what names an image unambiguously:
 *
 *   - the registry is the first component when it has a `.` or a `:` or is `localhost`;
 *     otherwise the image is on Docker Hub (`docker.io`, API host `registry-1.docker.io`,
 *     one-component names under `library/`), as docker and cosign read it;
 *   - repository components are lower-case `[a-z0-9]+` joined by `.`, `_`, `__` or dashes,
 *     at most 255 characters in all;
 *   - a tag may stand before the digest (`repo:tag@sha256:…`, what `docker inspect` prints);
 *     it is dropped: the digest names the image. A tag alone is refused: Stella signs and
 *     looks up images by digest only.
 *
 * Only sha256 image digests: the attestation store and export archives are keyed by sha256.
 */
import { fail } from '../errors.js';
import { quoted } from '../util/text.js';
import { looksLikeDigestReference } from '../util/digest.js';

export interface RepositoryRef {
  /** As written, normalised: `host[:port]` (`docker.io` for Docker Hub). */
  registry: string;
  /** `host[:port]` the API is reached at (`registry-1.docker.io` for Docker Hub). */
  apiHost: string;
  /** The repository path, e.g. `org/app` (`library/alpine` on Docker Hub). */
  repository: string;
}

export interface ImageRef extends RepositoryRef {
  /** `sha256:<64 lower-case hex>`. */
  digest: string;
}

const MAX_NAME = 255;
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const HOST =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

/**
 * True when `s` names an image in a registry (`REGISTRY/REPO@sha256:…`) rather than a bare
 * digest (`sha256:…`, the local attestation store) or a file path: it has `@sha256:` (or
 * another digest algorithm, refused later with a clear message) and does not start with one.
 */
export function isImageReference(s: string): boolean {
  return !/^sha(256|384|512):/.test(s) && /@sha(256|384|512):/.test(s);
}

/** Said when an image is asked for (`--type image`, `--image`) and --artifact is not a digest. */
export const IMAGE_NEEDS_DIGEST =
  'needs --artifact sha256:<64 hex digits>, the image manifest digest';

/**
 * Why --artifact, --image and --type cannot name one thing to sign, before anything is read:
 * `--image` goes with a bare digest (a REGISTRY/REPO@sha256:… artifact names the image
 * already), and `--type image` with a digest or an image reference, never a file. The one rule:
 * the CLI refuses these as usage errors (exit 2); imageTarget and runSign refuse them as
 * INPUT_INVALID for a library caller. A digest written wrongly is the digest rule's, not this.
 */
export function signTargetMistake(o: {
  artifact: string;
  image?: string;
  type?: string;
}): string | undefined {
  if (o.image !== undefined) {
    if (isImageReference(o.artifact))
      return '--image goes with --artifact sha256:<hex>; --artifact REGISTRY/REPO@sha256:<hex> names the image already';
    if (!looksLikeDigestReference(o.artifact)) return `--image ${IMAGE_NEEDS_DIGEST}`;
  }
  if (o.type === 'image' && !looksLikeDigestReference(o.artifact) && !isImageReference(o.artifact))
    return `--type image ${IMAGE_NEEDS_DIGEST}`;
  return undefined;
}

function bad(what: string, s: string, why: string): never {
  fail('INPUT_INVALID', 'input', `${what} ${quoted(s, 300)}: ${why}`);
}

function splitRepository(name: string, what: string, original: string): RepositoryRef {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let registry: string;
  let path: string;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    path = name.slice(slash + 1);
  } else {
    registry = DOCKER_HUB;
    path = name;
  }
  if (!HOST.test(registry))
    bad(what, original, `${quoted(registry)} is not a registry host[:port]`);
  const port = /:(\d+)$/.exec(registry)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
    bad(what, original, `port ${port} is out of range`);
  registry = registry.toLowerCase();
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (path.length === 0) bad(what, original, 'no repository');
  if (path.length > MAX_NAME)
    bad(what, original, `the repository name is longer than ${MAX_NAME} characters`);
  for (const c of path.split('/')) {
    if (!COMPONENT.test(c))
      bad(
        what,
        original,
        `repository component ${quoted(c)} must be lower-case letters and digits, joined by '.', '_', '__' or '-'`,
      );
  }
  return {
    registry,
    apiHost: registry === DOCKER_HUB ? DOCKER_HUB_API : registry,
    repository: path,
  };
}

/** `REGISTRY/REPO@sha256:<hex>` (a tag before the digest is dropped). */
export function parseImageReference(s: string, what = '--image'): ImageRef {
  const at = s.indexOf('@');
  if (at < 0)
    bad(
      what,
      s,
      'expected REGISTRY/REPOSITORY@sha256:<64 hex digits> (images are named by digest)',
    );
  const digest = s.slice(at + 1);
  if (!DIGEST.test(digest)) bad(what, s, 'the digest must be sha256:<64 lower-case hex digits>');
  let name = s.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) {
    const tag = name.slice(colon + 1);
    if (!TAG.test(tag)) bad(what, s, `${quoted(tag)} is not a tag`);
    name = name.slice(0, colon);
  }
  return { ...splitRepository(name, what, s), digest };
}

/** `REGISTRY/REPO` (no tag, no digest): where `attest sign --image` attaches. */
export function parseRepositoryReference(s: string, what = '--image'): RepositoryRef {
  if (s.includes('@'))
    bad(
      what,
      s,
      'expected REGISTRY/REPOSITORY without a digest (the digest comes from --artifact)',
    );
  const lastSlash = s.lastIndexOf('/');
  if (s.lastIndexOf(':') > lastSlash)
    bad(
      what,
      s,
      'expected REGISTRY/REPOSITORY without a tag: Stella attaches to the image digest given with --artifact',
    );
  return splitRepository(s, what, s);
}

/** `registry/repository@digest`, the one way Stella prints an image. */
export function formatImage(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}@${ref.digest}`;
}

/** The referrers tag schema: `sha256:<hex>` -> `sha256-<hex>` (distribution spec). */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}
