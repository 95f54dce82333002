/**
 * Bundles with odd inputs a verifier must refuse, built with the project's own issuing code
 * (src/x509/issue.ts, src/x509/sct.ts, src/timestamp/issue.ts) and a sandbox authority's keys:
 * a Fulcio-like leaf with a chosen serial, a CT poison, or an SCT at a chosen time; a Rekor v1
 * entry stripped of its signed entry timestamp so its only time is a TSA's; bundles relabelled
 * with another version's media type. Each has a control: the same construction with the odd
 * part left out verifies.
 */
import { sha256 } from '../../src/crypto.js';
import type { Bundle, BundleContent } from '../../src/bundle/model.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import { parseCertificate, type Extension } from '../../src/x509/certificate.js';
import {
  authorityKeyIdExtension,
  buildTbsCertificate,
  ctPoisonExtension,
  deterministicP256Signer,
  extKeyUsageExtension,
  fulcioIssuerV2Extension,
  keyIdentifierFromSpki,
  keyUsageExtension,
  sctListExtension,
  signTbsCertificate,
  subjectAltNameExtension,
  subjectKeyIdExtension,
  type KeyedSigner,
} from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';
import {
  buildPrecertSignedData,
  encodeSct,
  encodeSctList,
  removeExtensionFromTbs,
  TlsHash,
  TlsSignature,
} from '../../src/x509/sct.js';
import {
  INTERMEDIATE_NAME,
  seedFromString,
  type SandboxAuthority,
} from '../../src/sandbox/authority/index.js';
import { githubIdentity, ISSUER_URL, type TestTsa } from './authority-bundles.js';

export const V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
export const V02 = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
export const V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export const LEAF_LIFETIME = 10 * 60_000;

export interface CraftedLeafOptions {
  /** Seeds the leaf key. */
  label: string;
  notBefore: number;
  /** Default: a positive 8-octet serial. */
  serial?: bigint;
  /** The leaf carries the CT poison (a precertificate) and no SCT. */
  precert?: boolean;
  /** SCT timestamp (default notBefore + 1 s), several for several SCTs; null: no SCT at all. */
  sctTime?: number | number[] | null;
}

export interface CraftedLeaf {
  der: Uint8Array;
  sign(data: Uint8Array): Uint8Array;
  identity: string;
}

/**
 * A leaf as the sandbox Fulcio issues one (same extensions, signed by the authority's
 * intermediate), its SCT signed by the authority's CT log key over the precertificate entry.
 */
export function craftLeaf(a: SandboxAuthority, o: CraftedLeafOptions): CraftedLeaf {
  const key = deterministicP256Signer(seedFromString(`crafted-leaf:${o.label}`));
  const issuer = a.keys.intermediateCa;
  const identity = githubIdentity('org/repo');
  const extensions: Extension[] = [
    keyUsageExtension(['digitalSignature']),
    extKeyUsageExtension([OID.ekuCodeSigning]),
    subjectKeyIdExtension(keyIdentifierFromSpki(key.spki)),
    authorityKeyIdExtension(keyIdentifierFromSpki(issuer.spki)),
    subjectAltNameExtension({ uris: [identity] }, true),
    fulcioIssuerV2Extension(ISSUER_URL),
  ];
  const base = {
    serial: o.serial ?? 0x0abcdef012345678n,
    issuerName: INTERMEDIATE_NAME,
    subjectName: new Uint8Array([0x30, 0x00]),
    notBefore: o.notBefore,
    notAfter: o.notBefore + LEAF_LIFETIME,
    subjectPublicKeySpki: key.spki,
    signatureAlgorithmOid: issuer.certSigner.algorithmOid,
  };
  return {
    der: issueAuthorityLeaf(a, base, extensions, {
      precert: o.precert ?? false,
      sctTime: o.sctTime === null ? null : (o.sctTime ?? o.notBefore + 1000),
    }),
    sign: (d) => key.sign(d),
    identity,
  };
}

/** The fields of a leaf's TBSCertificate other than its extensions. */
export type LeafBase = Omit<Parameters<typeof buildTbsCertificate>[0], 'extensions'>;

/**
 * An SCT by the authority's CT log over a precertificate TBS (the TBS a verifier rebuilds from
 * the final certificate by removing the SCT list), serialized.
 */
export function authoritySct(
  a: SandboxAuthority,
  precertTbs: Uint8Array,
  timestamp: number,
  extensions: Uint8Array = new Uint8Array(0),
): Uint8Array {
  return encodeSct({
    logId: sha256(a.keys.ctLog.spki),
    timestamp,
    extensions,
    hashAlgorithm: TlsHash.sha256,
    signatureAlgorithm: TlsSignature.ecdsa,
    signature: a.keys.ctLog.sign(
      buildPrecertSignedData({
        timestamp,
        issuerKeyHash: sha256(a.keys.intermediateCa.spki),
        precertTbs,
        extensions,
      }),
    ),
  });
}

/**
 * A leaf issued by the authority's intermediate as Fulcio issues one: the precertificate (CT
 * poison) logged, then the final certificate with the SCT list where the poison was. `precert`:
 * the precertificate itself; `sctTime` null: no SCT at all.
 */
export function issueAuthorityLeaf(
  a: SandboxAuthority,
  base: LeafBase,
  extensions: Extension[],
  o: { precert: boolean; sctTime: number | number[] | null },
): Uint8Array {
  const issuer = a.keys.intermediateCa;
  const precertTbs = buildTbsCertificate({
    ...base,
    extensions: [...extensions, ctPoisonExtension()],
  });
  let tbs: Uint8Array;
  if (o.precert) {
    tbs = precertTbs;
  } else if (o.sctTime === null) {
    tbs = buildTbsCertificate({ ...base, extensions });
  } else {
    const entry = removeExtensionFromTbs(precertTbs, OID.ctPoison);
    const scts = [o.sctTime].flat().map((time) => authoritySct(a, entry, time));
    tbs = buildTbsCertificate({
      ...base,
      extensions: [...extensions, sctListExtension(encodeSctList(scts))],
    });
  }
  return signTbsCertificate(tbs, issuer.certSigner);
}

/**
 * A message-signature bundle over `artifact` by `leaf`, timed only by `tsa` at `signedAt`
 * (no log entry). `chain` given: a v0.2 bundle shipping leaf + chain; else v0.3.
 */
export function tsaTimedBundle(
  leaf: CraftedLeaf,
  artifact: Uint8Array,
  tsa: TestTsa,
  signedAt: number,
  chain?: Uint8Array[],
): Bundle {
  const signature = leaf.sign(artifact);
  const content: BundleContent = {
    kind: 'messageSignature',
    messageDigest: { algorithm: 'SHA2_256', digest: sha256(artifact) },
    signature,
  };
  return {
    mediaType: chain ? V02 : V03,
    version: chain ? '0.2' : '0.3',
    verificationMaterial: {
      content: chain
        ? { kind: 'x509CertificateChain', certificates: [leaf.der, ...chain] }
        : { kind: 'certificate', certificate: leaf.der },
      tlogEntries: [],
      rfc3161Timestamps: [tsa.stamp(signature, signedAt)],
    },
    content,
  };
}

/** The authority's trust plus `tsa` as its only timestamp authority. */
export function trustWithTsa(a: SandboxAuthority, tsa: TestTsa): TrustMaterial {
  return { ...a.trustMaterial(), timestampAuthorities: [tsa.authority] };
}

/** Every tlog key of `trust` given `validFor`. */
export function withTlogWindow(
  trust: TrustMaterial,
  validFor: { start: number; end: number | undefined },
): TrustMaterial {
  return {
    ...trust,
    tlogs: trust.tlogs.map((l) => ({ ...l, publicKey: { ...l.publicKey, validFor } })),
  };
}

/**
 * A Rekor v1 bundle whose entry keeps its inclusion proof and checkpoint but loses its signed
 * entry timestamp: the only verified time is the RFC 3161 token added at `tsaTime`.
 */
export function withoutSetTimedByTsa(b: Bundle, tsa: TestTsa, tsaTime: number): Bundle {
  const c = b.content;
  const signature = c.kind === 'messageSignature' ? c.signature : c.signatures[0]!.sig;
  return {
    ...b,
    verificationMaterial: {
      ...b.verificationMaterial,
      tlogEntries: b.verificationMaterial.tlogEntries.map((e) => ({
        ...e,
        inclusionPromise: undefined,
      })),
      rfc3161Timestamps: [tsa.stamp(signature, tsaTime)],
    },
  };
}

/** The same bundle with an RFC 3161 token at `tsaTime` added (its SET kept). */
export function withTsaTime(b: Bundle, tsa: TestTsa, tsaTime: number): Bundle {
  const c = b.content;
  const signature = c.kind === 'messageSignature' ? c.signature : c.signatures[0]!.sig;
  return {
    ...b,
    verificationMaterial: {
      ...b.verificationMaterial,
      rfc3161Timestamps: [
        ...b.verificationMaterial.rfc3161Timestamps,
        tsa.stamp(signature, tsaTime),
      ],
    },
  };
}

/**
 * `der` issued again by `signer` with the same names, validity, key and extensions, except a
 * new serial and/or extra extensions (a CA certificate the trust root could have shipped).
 */
export function reissue(
  der: Uint8Array,
  signer: KeyedSigner,
  change: { serial?: bigint; extraExtensions?: Extension[] },
): Uint8Array {
  const c = parseCertificate(der);
  const tbs = buildTbsCertificate({
    serial: change.serial ?? BigInt(`0x${c.serialNumber}`),
    issuerName: c.issuerDer,
    subjectName: c.subjectDer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    subjectPublicKeySpki: c.spkiDer,
    extensions: [...c.extensions.map((e) => ({ ...e })), ...(change.extraExtensions ?? [])],
    signatureAlgorithmOid: signer.algorithmOid,
  });
  return signTbsCertificate(tbs, signer);
}

/** A bundle (JSON) whose signature no longer verifies: it still parses and keeps its proof. */
export function tamperedSignature(json: string): string {
  const o = JSON.parse(json) as { messageSignature: { signature: string } };
  const sig = Buffer.from(o.messageSignature.signature, 'base64');
  sig[sig.length - 3] = sig[sig.length - 3]! ^ 0x01;
  o.messageSignature.signature = sig.toString('base64');
  return JSON.stringify(o);
}
