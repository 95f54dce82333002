/**
 * Deterministic certificate issuing for the sandbox Fulcio and the committed samples. Same
 * inputs give the same bytes: DER is canonical and the signers are deterministic (RFC 6979
 * ECDSA, Ed25519). The parser in ./certificate.ts reads everything built here.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { digest, sha256 } from '../crypto.js';
import { sigstoreJsRewrites } from '../der/octet-reparse.js';
import { parseDer, readBitString } from '../der/reader.js';
import {
  bitString,
  bool,
  contextPrimitive,
  explicit,
  int,
  namedBitString,
  nul,
  octetString,
  oid,
  printableString,
  seq,
  setOf,
  utf8String,
  x509Time,
} from '../der/writer.js';
import { fail } from '../errors.js';
import { utf8 } from '../util/encoding.js';
import type { Extension, KeyUsageName } from './certificate.js';
import { OID } from './oids.js';
import { fulcioExtensionOfOid } from './fulcio-extensions.js';
import { quoted } from '../util/text.js';

/** A distinguished name, encoded in the order C, O, OU, CN. */
export interface DN {
  country?: string;
  organization?: string;
  organizationalUnit?: string;
  commonName?: string;
}

export interface CertificateSigner {
  /** Signature AlgorithmIdentifier OID (ecdsa-with-SHA256, Ed25519, ...). */
  algorithmOid: string;
  sign(tbs: Uint8Array): Uint8Array;
}

export interface KeyedSigner extends CertificateSigner {
  /** DER SubjectPublicKeyInfo of the signing key. */
  spki: Uint8Array;
  publicKey: KeyObject;
}

export interface IssueOptions {
  serial: bigint | Uint8Array;
  issuerName: DN | Uint8Array;
  subjectName: DN | Uint8Array;
  notBefore: number;
  notAfter: number;
  subjectPublicKeySpki: Uint8Array;
  extensions: Extension[];
  signer: CertificateSigner;
}

/** Name ::= SEQUENCE OF RelativeDistinguishedName, one attribute per RDN. */
export function encodeName(dn: DN): Uint8Array {
  const rdn = (type: string, value: Uint8Array): Uint8Array => setOf(seq(oid(type), value));
  const rdns: Uint8Array[] = [];
  if (dn.country !== undefined) rdns.push(rdn(OID.countryName, printableString(dn.country)));
  if (dn.organization !== undefined)
    rdns.push(rdn(OID.organizationName, utf8String(dn.organization)));
  if (dn.organizationalUnit !== undefined)
    rdns.push(rdn(OID.organizationalUnitName, utf8String(dn.organizationalUnit)));
  if (dn.commonName !== undefined) rdns.push(rdn(OID.commonName, utf8String(dn.commonName)));
  return seq(...rdns);
}

/** AlgorithmIdentifier for a signature OID: RSA PKCS#1 carries NULL, ECDSA and EdDSA nothing. */
export function signatureAlgorithmIdentifier(algorithmOid: string): Uint8Array {
  const rsa =
    algorithmOid === OID.sha256WithRsa ||
    algorithmOid === OID.sha384WithRsa ||
    algorithmOid === OID.sha512WithRsa;
  return rsa ? seq(oid(algorithmOid), nul()) : seq(oid(algorithmOid));
}

function encodeExtension(e: Extension): Uint8Array {
  return e.critical
    ? seq(oid(e.oid), bool(true), octetString(e.value))
    : seq(oid(e.oid), octetString(e.value));
}

/** The DER TBSCertificate (v3) for these options. */
export function buildTbsCertificate(
  opts: Omit<IssueOptions, 'signer'> & { signatureAlgorithmOid: string },
): Uint8Array {
  const name = (n: DN | Uint8Array): Uint8Array => (n instanceof Uint8Array ? n : encodeName(n));
  const seen = new Set<string>();
  for (const e of opts.extensions) {
    if (seen.has(e.oid)) fail('INPUT_INVALID', 'signing', `duplicate extension ${e.oid}`);
    seen.add(e.oid);
  }
  const fields = [
    explicit(0, int(2)),
    int(opts.serial),
    signatureAlgorithmIdentifier(opts.signatureAlgorithmOid),
    name(opts.issuerName),
    seq(x509Time(opts.notBefore), x509Time(opts.notAfter)),
    name(opts.subjectName),
    opts.subjectPublicKeySpki,
  ];
  if (opts.extensions.length)
    fields.push(explicit(3, seq(...opts.extensions.map(encodeExtension))));
  return seq(...fields);
}

/** Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue } */
export function signTbsCertificate(tbs: Uint8Array, signer: CertificateSigner): Uint8Array {
  return seq(tbs, signatureAlgorithmIdentifier(signer.algorithmOid), bitString(signer.sign(tbs)));
}

/** Issue a DER certificate. */
export function issueCertificate(opts: IssueOptions): Uint8Array {
  const tbs = buildTbsCertificate({ ...opts, signatureAlgorithmOid: opts.signer.algorithmOid });
  return signTbsCertificate(tbs, opts.signer);
}

// ---------------------------------------------------------------------------------------
// Extension builders

export function basicConstraintsExtension(ca: boolean, pathLen?: number): Extension {
  const parts: Uint8Array[] = [];
  if (ca) parts.push(bool(true));
  if (pathLen !== undefined) parts.push(int(pathLen));
  return { oid: OID.basicConstraints, critical: true, value: seq(...parts) };
}

const KEY_USAGE_BIT: Readonly<Record<KeyUsageName, number>> = {
  digitalSignature: 0,
  contentCommitment: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
};

export function keyUsageExtension(usages: KeyUsageName[]): Extension {
  return {
    oid: OID.keyUsage,
    critical: true,
    value: namedBitString(usages.map((u) => KEY_USAGE_BIT[u])),
  };
}

export function extKeyUsageExtension(oids: string[], critical = false): Extension {
  return { oid: OID.extKeyUsage, critical, value: seq(...oids.map((o) => oid(o))) };
}

export interface SanInput {
  uris?: string[];
  emails?: string[];
  dnsNames?: string[];
  /** otherName entries; the value is encoded as a UTF8String (Fulcio 1.3.6.1.4.1.57264.1.7). */
  otherNames?: { oid: string; value: string }[];
}

/** subjectAltName; critical by default, as RFC 5280 requires when the subject is empty (Fulcio leaves). */
export function subjectAltNameExtension(san: SanInput, critical = true): Extension {
  const names: Uint8Array[] = [];
  for (const o of san.otherNames ?? [])
    names.push(explicit(0, Uint8Array.from([...oid(o.oid), ...explicit(0, utf8String(o.value))])));
  for (const e of san.emails ?? []) names.push(contextPrimitive(1, asciiBytes(e)));
  for (const d of san.dnsNames ?? []) names.push(contextPrimitive(2, asciiBytes(d)));
  for (const u of san.uris ?? []) names.push(contextPrimitive(6, asciiBytes(u)));
  if (names.length === 0)
    fail('INPUT_INVALID', 'signing', 'subjectAltName needs at least one name');
  return { oid: OID.subjectAltName, critical, value: seq(...names) };
}

function asciiBytes(s: string): Uint8Array {
  if (!/^[\x00-\x7f]*$/.test(s))
    fail('INPUT_INVALID', 'signing', `subjectAltName value is not ASCII: ${quoted(s)}`);
  return utf8.encode(s);
}

/**
 * The subject key identifier of a key: RFC 5280 §4.2.1.2 method (1), SHA-1 of the
 * subjectPublicKey BIT STRING contents, unless sigstore-js would misread those 20 bytes (they
 * read as ASN.1 with a non-minimal length, about one key in 120,000: ../der/octet-reparse.ts)
 * and so refuse every certificate carrying them. Then RFC 7093 §2's methods: the leftmost
 * 160 bits of SHA-256, SHA-384 or SHA-512 of the same bytes, the first that reads safely.
 */
export function keyIdentifierFromSpki(spki: Uint8Array): Uint8Array {
  const node = parseDer(spki, {
    code: 'INPUT_INVALID',
    check: 'signing',
    what: 'SubjectPublicKeyInfo',
  });
  const key = readBitString(node.child(1, 'subjectPublicKey')).bytes;
  const sha1 = new Uint8Array(createHash('sha1').update(key).digest());
  if (!sigstoreJsRewrites(sha1)) return sha1;
  for (const h of ['sha256', 'sha384', 'sha512'] as const) {
    const id = digest(h, key).slice(0, 20);
    if (!sigstoreJsRewrites(id)) return id;
  }
  // All four misread: about once in 10^20 keys; SHA-1 then, as RFC 5280 has it.
  return sha1;
}

export function subjectKeyIdExtension(keyId: Uint8Array): Extension {
  return { oid: OID.subjectKeyIdentifier, critical: false, value: octetString(keyId) };
}

export function authorityKeyIdExtension(keyId: Uint8Array): Extension {
  return {
    oid: OID.authorityKeyIdentifier,
    critical: false,
    value: seq(contextPrimitive(0, keyId)),
  };
}

/**
 * A Fulcio string extension, encoded as Fulcio encodes that OID: the deprecated GitHub-only
 * .1-.6 carry the raw string bytes, every later one (.8-.24) a DER UTF8String. The table in
 * fulcio-extensions.ts decides, the one certificate parsing reads them back by.
 */
export function fulcioExtension(oidStr: string, value: string): Extension {
  const known = fulcioExtensionOfOid(oidStr);
  if (known === undefined)
    fail('INPUT_INVALID', 'signing', `not a Fulcio string extension: ${oidStr}`);
  return {
    oid: oidStr,
    critical: false,
    value: known.deprecated ? utf8.encode(value) : utf8String(value),
  };
}

/** The deprecated Fulcio issuer extension (.1): raw string bytes, not DER. */
export function fulcioIssuerV1Extension(issuer: string): Extension {
  return fulcioExtension(OID.fulcioIssuerV1, issuer);
}

export function fulcioIssuerV2Extension(issuer: string): Extension {
  return fulcioExtension(OID.fulcioIssuerV2, issuer);
}

/** RFC 6962 precertificate poison: critical, value NULL. */
export function ctPoisonExtension(): Extension {
  return { oid: OID.ctPoison, critical: true, value: nul() };
}

/** Embedded SCT list: the TLS-encoded list wrapped in an OCTET STRING. */
export function sctListExtension(sctList: Uint8Array): Extension {
  return { oid: OID.ctSctList, critical: false, value: octetString(sctList) };
}

// ---------------------------------------------------------------------------------------
// Deterministic signers

/** SPKI DER for an uncompressed P-256 point. */
export function p256Spki(uncompressedPoint: Uint8Array): Uint8Array {
  return seq(seq(oid(OID.ecPublicKey), oid(OID.prime256v1)), bitString(uncompressedPoint));
}

export function ed25519Spki(publicKey: Uint8Array): Uint8Array {
  return seq(seq(oid(OID.ed25519)), bitString(publicKey));
}

function keyObject(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

/**
 * ECDSA P-256 with SHA-256 from a 32-byte seed used as the private scalar. Signatures are
 * RFC 6979 deterministic, low-S, DER encoded.
 */
export function deterministicP256Signer(seed: Uint8Array): KeyedSigner {
  if (seed.length !== 32) fail('INPUT_INVALID', 'signing', 'P-256 seed must be 32 bytes');
  let point: Uint8Array;
  try {
    point = p256.getPublicKey(seed, false);
  } catch (e) {
    return fail('INPUT_INVALID', 'signing', 'P-256 seed is not a valid private scalar', undefined, {
      cause: e,
    });
  }
  const spki = p256Spki(point);
  const sk = Uint8Array.from(seed);
  return {
    algorithmOid: OID.ecdsaWithSha256,
    spki,
    publicKey: keyObject(spki),
    sign: (data: Uint8Array): Uint8Array =>
      p256.sign(sha256(data), sk, { prehash: false, format: 'der' }),
  };
}

/** Ed25519 from a 32-byte seed. */
export function deterministicEd25519Signer(seed: Uint8Array): KeyedSigner {
  if (seed.length !== 32) fail('INPUT_INVALID', 'signing', 'Ed25519 seed must be 32 bytes');
  const sk = Uint8Array.from(seed);
  const spki = ed25519Spki(ed25519.getPublicKey(sk));
  return {
    algorithmOid: OID.ed25519,
    spki,
    publicKey: keyObject(spki),
    sign: (data: Uint8Array): Uint8Array => ed25519.sign(data, sk),
  };
}
