/**
 * Fulcio's certificate extensions (1.3.6.1.4.1.57264.1.*) by name, as Fulcio's
 * docs/oid-info.md titles them, in kebab-case: the names `--certificate-extension NAME=REGEX`,
 * policy files (`extensions:`) and `stella attest inspect` use.
 */
import type { Certificate } from './certificate.js';

const F = (n: number): string => `1.3.6.1.4.1.57264.1.${n}`;

export interface FulcioExtensionName {
  oid: string;
  name: string;
  /** Deprecated GitHub-only extensions (.1-.6) carry raw bytes, not DER. */
  deprecated: boolean;
}

export const FULCIO_EXTENSIONS: readonly FulcioExtensionName[] = [
  { oid: F(1), name: 'issuer-v1', deprecated: true },
  { oid: F(2), name: 'github-workflow-trigger', deprecated: true },
  { oid: F(3), name: 'github-workflow-sha', deprecated: true },
  { oid: F(4), name: 'github-workflow-name', deprecated: true },
  { oid: F(5), name: 'github-workflow-repository', deprecated: true },
  { oid: F(6), name: 'github-workflow-ref', deprecated: true },
  { oid: F(8), name: 'issuer', deprecated: false },
  { oid: F(9), name: 'build-signer-uri', deprecated: false },
  { oid: F(10), name: 'build-signer-digest', deprecated: false },
  { oid: F(11), name: 'runner-environment', deprecated: false },
  { oid: F(12), name: 'source-repository-uri', deprecated: false },
  { oid: F(13), name: 'source-repository-digest', deprecated: false },
  { oid: F(14), name: 'source-repository-ref', deprecated: false },
  { oid: F(15), name: 'source-repository-identifier', deprecated: false },
  { oid: F(16), name: 'source-repository-owner-uri', deprecated: false },
  { oid: F(17), name: 'source-repository-owner-identifier', deprecated: false },
  { oid: F(18), name: 'build-config-uri', deprecated: false },
  { oid: F(19), name: 'build-config-digest', deprecated: false },
  { oid: F(20), name: 'build-trigger', deprecated: false },
  { oid: F(21), name: 'run-invocation-uri', deprecated: false },
  { oid: F(22), name: 'source-repository-visibility-at-signing', deprecated: false },
  { oid: F(23), name: 'deployment-environment', deprecated: false },
  { oid: F(24), name: 'oidc-subject', deprecated: false },
];

const BY_NAME = new Map(FULCIO_EXTENSIONS.map((e) => [e.name, e]));
const BY_OID = new Map(FULCIO_EXTENSIONS.map((e) => [e.oid, e]));

/** The extension a name (or dotted OID under 1.3.6.1.4.1.57264.1) stands for, or undefined. */
export function fulcioExtensionByName(nameOrOid: string): FulcioExtensionName | undefined {
  return BY_NAME.get(nameOrOid) ?? BY_OID.get(nameOrOid);
}

/** The Fulcio string extension with this OID (certificate parsing reads its value by `deprecated`), or undefined. */
export function fulcioExtensionOfOid(oid: string): FulcioExtensionName | undefined {
  return BY_OID.get(oid);
}

/** The kebab-case name of a Fulcio extension OID, or undefined. */
export function fulcioExtensionName(oid: string): string | undefined {
  return BY_OID.get(oid)?.name;
}

/** The value of a named Fulcio extension in `cert`, or undefined when absent. */
export function fulcioExtensionValue(cert: Certificate, name: string): string | undefined {
  const e = BY_NAME.get(name);
  return e ? cert.fulcio.values.get(e.oid) : undefined;
}
