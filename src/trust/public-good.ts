/**
 * The Sigstore public-good trusted root shipped with the package (trust-roots/), extracted from
 * @sigstore/tuf's seeds.json (TUF target trusted_root.json of https://tuf-repo-cdn.sigstore.dev).
 * Only the path lives here; reading the file is left to the edges (commands, trust store).
 */
import { fileURLToPath } from 'node:url';

export const PUBLIC_GOOD_TRUSTED_ROOT_FILE = 'public-good.trusted_root.json';

/** Absolute path of trust-roots/public-good.trusted_root.json (this module runs from dist/src/trust). */
export function publicGoodTrustedRootPath(): string {
  return fileURLToPath(
    new URL(`../../../trust-roots/${PUBLIC_GOOD_TRUSTED_ROOT_FILE}`, import.meta.url),
  );
}
