/**
 * A small deterministic PKI for x509/timestamp tests: root -> intermediate -> leaf, built
 * with the project's own issuer (src/x509/issue.ts), plus CT log and TSA instances.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from '../../src/crypto.js';
import type {
  CertificateAuthority,
  TransparencyLogInstance,
} from '../../src/model/trust-material.js';
import { parseCertificate, type Extension } from '../../src/x509/certificate.js';
import {
  authorityKeyIdExtension,
  basicConstraintsExtension,
  deterministicP256Signer,
  extKeyUsageExtension,
  fulcioIssuerV2Extension,
  issueCertificate,
  keyIdentifierFromSpki,
  keyUsageExtension,
  subjectAltNameExtension,
  subjectKeyIdExtension,
  type DN,
  type KeyedSigner,
} from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';
import { utf8 } from '../../src/util/encoding.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { pemToDerList } from '../../src/util/pem.js';

export const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');

export function fixturePem(rel: string): Uint8Array[] {
  return pemToDerList(readFileSync(path.join(FIXTURES, rel), 'utf8'));
}

export function seed(label: string): Uint8Array {
  return sha256(utf8.encode(`stella-test-seed:${label}`));
}

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
export const MIN = 60_000;
export const YEAR = 365 * 24 * 3600 * 1000;

export const ROOT_DN: DN = { organization: 'stella.test', commonName: 'stella-root' };
export const INTERMEDIATE_DN: DN = {
  organization: 'stella.test',
  commonName: 'stella-intermediate',
};

export interface CaCertOptions {
  name: DN;
  issuerName: DN;
  signer: KeyedSigner;
  issuerSigner: KeyedSigner;
  serial?: bigint;
  notBefore?: number;
  notAfter?: number;
  pathLen?: number;
  keyUsage?: Parameters<typeof keyUsageExtension>[0];
  ca?: boolean;
  /** The key the authority key identifier names (default: the issuer's, as it should be). */
  authorityKeySpki?: Uint8Array;
  /** Appended after the usual CA extensions. */
  extraExtensions?: Extension[];
}

export function caCert(o: CaCertOptions): Uint8Array {
  return issueCertificate({
    serial: o.serial ?? 1n,
    issuerName: o.issuerName,
    subjectName: o.name,
    notBefore: o.notBefore ?? T0 - YEAR,
    notAfter: o.notAfter ?? T0 + 10 * YEAR,
    subjectPublicKeySpki: o.signer.spki,
    extensions: [
      keyUsageExtension(o.keyUsage ?? ['keyCertSign', 'cRLSign']),
      basicConstraintsExtension(o.ca ?? true, o.pathLen),
      subjectKeyIdExtension(keyIdentifierFromSpki(o.signer.spki)),
      authorityKeyIdExtension(keyIdentifierFromSpki(o.authorityKeySpki ?? o.issuerSigner.spki)),
      ...(o.extraExtensions ?? []),
    ],
    signer: o.issuerSigner,
  });
}

export interface LeafOptions {
  issuerName?: DN | Uint8Array;
  issuerSigner: KeyedSigner;
  subjectSpki: Uint8Array;
  notBefore?: number;
  notAfter?: number;
  serial?: bigint;
  extensions?: Extension[];
}

/** A Fulcio-like code-signing leaf's extensions: the SAN URI `identity`, issued by `issuer`. */
export function defaultLeafExtensions(
  issuerSpki: Uint8Array,
  subjectSpki: Uint8Array,
  identity = 'https://github.com/stella/test/.github/workflows/release.yml@refs/heads/main',
  issuer = 'https://token.actions.githubusercontent.com',
): Extension[] {
  return [
    keyUsageExtension(['digitalSignature']),
    extKeyUsageExtension([OID.ekuCodeSigning]),
    subjectKeyIdExtension(keyIdentifierFromSpki(subjectSpki)),
    authorityKeyIdExtension(keyIdentifierFromSpki(issuerSpki)),
    subjectAltNameExtension({ uris: [identity] }),
    fulcioIssuerV2Extension(issuer),
  ];
}

export function leafCert(o: LeafOptions): Uint8Array {
  return issueCertificate({
    serial: o.serial ?? 0x1234567890abcdefn,
    issuerName: o.issuerName ?? INTERMEDIATE_DN,
    subjectName: {},
    notBefore: o.notBefore ?? T0,
    notAfter: o.notAfter ?? T0 + 10 * MIN,
    subjectPublicKeySpki: o.subjectSpki,
    extensions: o.extensions ?? defaultLeafExtensions(o.issuerSigner.spki, o.subjectSpki),
    signer: o.issuerSigner,
  });
}

export interface TestPki {
  rootSigner: KeyedSigner;
  intermediateSigner: KeyedSigner;
  leafSigner: KeyedSigner;
  root: Uint8Array;
  intermediate: Uint8Array;
  leaf: Uint8Array;
  ca: CertificateAuthority;
}

export function buildPki(label = 'pki'): TestPki {
  const rootSigner = deterministicP256Signer(seed(`${label}:root`));
  const intermediateSigner = deterministicP256Signer(seed(`${label}:intermediate`));
  const leafSigner = deterministicP256Signer(seed(`${label}:leaf`));
  const root = caCert({
    name: ROOT_DN,
    issuerName: ROOT_DN,
    signer: rootSigner,
    issuerSigner: rootSigner,
    pathLen: 1,
  });
  const intermediate = caCert({
    name: INTERMEDIATE_DN,
    issuerName: ROOT_DN,
    signer: intermediateSigner,
    issuerSigner: rootSigner,
    serial: 2n,
    pathLen: 0,
  });
  const leaf = leafCert({ issuerSigner: intermediateSigner, subjectSpki: leafSigner.spki });
  return {
    rootSigner,
    intermediateSigner,
    leafSigner,
    root,
    intermediate,
    leaf,
    ca: authority([intermediate, root], T0 - YEAR),
  };
}

export function authority(
  certChain: Uint8Array[],
  start: number,
  end?: number,
): CertificateAuthority {
  const first = parseCertificate(certChain[certChain.length - 1]!);
  return {
    subject: first.subject,
    uri: 'https://ca.stella.test',
    certChain,
    validFor: { start, end },
  };
}

export function ctLog(
  signer: KeyedSigner,
  start: number,
  end?: number,
  baseUrl = 'https://ct.stella.test',
): TransparencyLogInstance {
  return {
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: signer.spki,
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      key: signer.publicKey,
      validFor: { start, end },
    },
    logId: sha256(signer.spki),
    checkpointKeyId: undefined,
  };
}
