/**
 * What a Sigstore document is, by its media type's family: said when one kind is given where
 * another goes (a trusted_root.json as --bundle, a bundle as --trusted-root), which otherwise
 * reads as "unsupported media type" of a file the user knows to be valid.
 */
/** Each document: its media type's family, what it is (said of a file), and its short name. */
const FAMILIES = {
  bundle: {
    prefix: 'application/vnd.dev.sigstore.bundle',
    kind: 'a Sigstore bundle',
    noun: 'a Sigstore bundle',
  },
  'trusted root': {
    prefix: 'application/vnd.dev.sigstore.trustedroot',
    kind: 'a trusted root (trusted_root.json)',
    noun: 'a trusted root',
  },
  'signing config': {
    prefix: 'application/vnd.dev.sigstore.signingconfig',
    kind: 'a signing config (signing_config.json)',
    noun: 'a signing config',
  },
} as const;

export type SigstoreDocument = keyof typeof FAMILIES;

/** "a trusted root (trusted_root.json)" for a trusted root's media type; undefined for others. */
export function sigstoreDocumentKind(mediaType: string): string | undefined {
  // The family is the type up to its version (`.v0.3+json`) or its `+json`/`;` suffix.
  const family = /^([a-z0-9./-]+?)(?:\.v\d|\+|;|$)/.exec(mediaType)?.[1];
  return Object.values(FAMILIES).find((f) => f.prefix === family)?.kind;
}

/**
 * What to add to "unsupported media type" when a reader of `expected` is given another
 * Sigstore document: `: that is a trusted root (trusted_root.json), not a Sigstore bundle`;
 * '' for the expected family (a version not read) or a type that is no Sigstore document.
 */
export function misplacedDocumentNote(mediaType: string, expected: SigstoreDocument): string {
  const kind = sigstoreDocumentKind(mediaType);
  const wanted = FAMILIES[expected];
  return kind === undefined || kind === wanted.kind ? '' : `: that is ${kind}, not ${wanted.noun}`;
}
