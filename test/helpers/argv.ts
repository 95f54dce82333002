/**
 * The flags tests and the demo pass to `attest verify` (and the identity flags `attest sign`
 * and `export-bundle --seal-keyless` checks share), written once: what is verified, against
 * which trust, and who must have signed it. Plain node, no ava: scripts/demo.ts imports it.
 */

export interface VerifyFlags {
  bundle?: string;
  artifact?: string;
  /** --certificate-identity: an RE2 pattern (escape an exact identity first). */
  identity?: string;
  /** --certificate-oidc-issuer. */
  issuer?: string;
  trustedRoot?: string;
  /** The trust store (--store). */
  store?: string;
  key?: string;
  offline?: boolean;
  requireRekor?: boolean;
  json?: boolean;
}

/** --certificate-identity and --certificate-oidc-issuer. */
export function identityFlags(identity: string, issuer: string): string[] {
  return ['--certificate-identity', identity, '--certificate-oidc-issuer', issuer];
}

/** The flags for `attest verify`, in one order: switches first, then inputs, trust, identity. */
export function verifyFlags(f: VerifyFlags): string[] {
  const value = (flag: string, v: string | undefined): string[] =>
    v === undefined ? [] : [flag, v];
  return [
    ...(f.offline ? ['--offline'] : []),
    ...value('--bundle', f.bundle),
    ...value('--artifact', f.artifact),
    ...value('--trusted-root', f.trustedRoot),
    ...value('--store', f.store),
    ...value('--key', f.key),
    ...value('--certificate-identity', f.identity),
    ...value('--certificate-oidc-issuer', f.issuer),
    ...(f.requireRekor ? ['--require-rekor'] : []),
    ...(f.json ? ['--json'] : []),
  ];
}

/** `attest verify` of every artifact in an export archive, on `jobs` threads, then `rest`. */
export function verifyArchiveArgs(archive: string, jobs: number, ...rest: string[]): string[] {
  return ['attest', 'verify', '--archive', archive, '--all', '--jobs', String(jobs), ...rest];
}
