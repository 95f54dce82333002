/**
 * What a Sigstore document is, by its media type's family: said when one kind is given where
 * another goes (a trusted_root.json as --bundle, a bundle as --trusted-root), which otherwise
 * reads as "unsupported media type" of a file the user knows to be valid.
 */
const FAMILIES: readonly (readonly [prefix: string, what: string])[] = [
  ['application/vnd.dev.sigstore.bundle', 'a Sigstore bundle'],
  ['application/vnd.dev.sigstore.trustedroot', 'a trusted root (trusted_root.json)'],
  ['application/vnd.dev.sigstore.signingconfig', 'a signing config (signing_config.json)'],
];

/** "a trusted root (trusted_root.json)" for a trusted root's media type; undefined for others. */
export function sigstoreDocumentKind(mediaType: string): string | undefined {
  // The family is the type up to its version (`.v0.3+json`) or its `+json`/`;` suffix.
  const family = /^([a-z0-9./-]+?)(?:\.v\d|\+|;|$)/.exec(mediaType)?.[1];
  return FAMILIES.find(([prefix]) => family === prefix)?.[1];
}
