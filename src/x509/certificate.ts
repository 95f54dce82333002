/**
 * X.509 certificates, parsed strictly (RFC 5280 structure over the strict DER reader) into
 * the fields the verifier needs: names, validity, key, constraints, usages, SAN, Fulcio
 * extensions and the embedded SCT list. Parsing is allocation-light: byte fields are views
 * into the input, the KeyObject is built only when first asked for.
 */
import { constants as cryptoConstants, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { parsePublicKey, verifySignature, type DigestName } from '../crypto.js';
import {
  parseDer,
  parseNested,
  readAlgorithmIdentifier,
  readBitString,
  readBoolean,
  readIntegerBytes,
  readNull,
  readOctetString,
  readOid,
  readSmallInteger,
  readString,
  readTime,
  Tag,
  TagClass,
  type DerContext,
  type DerNode,
} from '../der/reader.js';
import { fail, StellaError } from '../errors.js';
import { bytesEqual, toHex, utf8Decoder } from '../util/encoding.js';
import { derToPem } from '../util/pem.js';
import { fulcioExtensionOfOid } from './fulcio-extensions.js';
import { OID } from './oids.js';
import { memoizedVerify } from './verify-cache.js';

export interface NameInfo {
  commonName?: string;
  organization?: string;
}

export interface Extension {
  oid: string;
  critical: boolean;
  /** extnValue content octets (a view). */
  value: Uint8Array;
}

export interface BasicConstraints {
  ca: boolean;
  pathLen?: number;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'contentCommitment'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

const KEY_USAGE_BITS: readonly KeyUsageName[] = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export interface OtherName {
  oid: string;
  /** The value when it is a string type (Fulcio's 1.3.6.1.4.1.57264.1.7 is a UTF8String). */
  value: string | undefined;
  /** The DER of the value inside the [0] EXPLICIT wrapper. */
  valueDer: Uint8Array;
}

export interface SubjectAltName {
  uris: string[];
  emails: string[];
  dnsNames: string[];
  otherNames: OtherName[];
}

export interface FulcioExtensions {
  /** 1.3.6.1.4.1.57264.1.1 (deprecated): raw bytes as a string. */
  issuerV1: string | undefined;
  /** 1.3.6.1.4.1.57264.1.8: DER UTF8String. */
  issuerV2: string | undefined;
  /** Every Fulcio string extension present (.1-.6 raw, .8-.22 and .24 DER), keyed by OID. */
  values: ReadonlyMap<string, string>;
}

/** Extensions this module understands; a critical extension outside this set is reported. */
const HANDLED_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.ctSctList,
  OID.ctPoison,
]);

const CERT_CTX: DerContext = {
  code: 'CERTIFICATE_MALFORMED',
  check: 'certificate-chain',
  what: 'certificate',
};

/** Largest certificate parsed. Real ones (Fulcio leaves, CA and TSA certificates) are 0.5-4 KB. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

export class Certificate {
  readonly der: Uint8Array;
  readonly tbsDer: Uint8Array;
  /** 1 or 3 (v2 is accepted as 2). */
  readonly version: number;
  /** Serial number as lowercase hex of its unsigned magnitude. */
  readonly serialNumber: string;
  /** The serial's INTEGER content octets (a view). */
  readonly serialBytes: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly issuer: NameInfo;
  readonly subject: NameInfo;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly spkiDer: Uint8Array;
  readonly publicKeyAlgorithmOid: string;
  readonly signatureAlgorithmOid: string;
  /** Parameters of the signature AlgorithmIdentifier, if any (RSA-PSS). */
  readonly signatureAlgorithmParams: DerNode | undefined;
  readonly signatureValue: Uint8Array;
  readonly isSelfIssued: boolean;
  readonly basicConstraints: BasicConstraints | undefined;
  /** Named key usages; undefined when the extension is absent. */
  readonly keyUsage: ReadonlySet<KeyUsageName> | undefined;
  /** Extended key usage OIDs; undefined when the extension is absent. */
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectAltName: SubjectAltName | undefined;
  readonly subjectKeyId: Uint8Array | undefined;
  readonly authorityKeyId: Uint8Array | undefined;
  readonly fulcio: FulcioExtensions;
  /** TLS-encoded SignedCertificateTimestampList (RFC 6962 §3.3), unwrapped from its OCTET STRING. */
  readonly embeddedSctList: Uint8Array | undefined;
  readonly hasCtPoison: boolean;
  readonly extensions: readonly Extension[];
  /** OIDs of critical extensions this parser does not process; a verifier must refuse these. */
  readonly unhandledCriticalExtensions: readonly string[];
  /**
   * The TBS in parts (views): the content of every field before the [3] extensions wrapper,
   * and each extension element in order (parallel to `extensions`). The TBS re-encoded without
   * one extension (the SCT list: the precertificate a CT log signed) is made from these with no
   * second parse.
   */
  readonly tbsParts: { head: Uint8Array; extensions: readonly Uint8Array[] };

  #publicKey: KeyObject | undefined;

  constructor(fields: Omit<Certificate, 'publicKey' | 'toPem'>) {
    this.der = fields.der;
    this.tbsDer = fields.tbsDer;
    this.version = fields.version;
    this.serialNumber = fields.serialNumber;
    this.serialBytes = fields.serialBytes;
    this.issuerDer = fields.issuerDer;
    this.subjectDer = fields.subjectDer;
    this.issuer = fields.issuer;
    this.subject = fields.subject;
    this.notBefore = fields.notBefore;
    this.notAfter = fields.notAfter;
    this.spkiDer = fields.spkiDer;
    this.publicKeyAlgorithmOid = fields.publicKeyAlgorithmOid;
    this.signatureAlgorithmOid = fields.signatureAlgorithmOid;
    this.signatureAlgorithmParams = fields.signatureAlgorithmParams;
    this.signatureValue = fields.signatureValue;
    this.isSelfIssued = fields.isSelfIssued;
    this.basicConstraints = fields.basicConstraints;
    this.keyUsage = fields.keyUsage;
    this.extKeyUsage = fields.extKeyUsage;
    this.subjectAltName = fields.subjectAltName;
    this.subjectKeyId = fields.subjectKeyId;
    this.authorityKeyId = fields.authorityKeyId;
    this.fulcio = fields.fulcio;
    this.embeddedSctList = fields.embeddedSctList;
    this.hasCtPoison = fields.hasCtPoison;
    this.extensions = fields.extensions;
    this.unhandledCriticalExtensions = fields.unhandledCriticalExtensions;
    this.tbsParts = fields.tbsParts;
  }

  /** The subject public key as a node KeyObject, built on first use. */
  get publicKey(): KeyObject {
    if (!this.#publicKey)
      this.#publicKey = parsePublicKey(
        this.spkiDer,
        'certificate subject public key',
        'CERTIFICATE_MALFORMED',
        'certificate-chain',
      );
    return this.#publicKey;
  }

  toPem(): string {
    return derToPem(this.der, 'CERTIFICATE');
  }
}

function parseName(node: DerNode, what: string): NameInfo {
  const info: NameInfo = {};
  for (const rdn of node.sequence(what)) {
    if (!rdn.is(Tag.SET) || rdn.children.length === 0)
      rdn.fail(`${what}: RelativeDistinguishedName must be a non-empty SET`);
    for (const atv of rdn.children) {
      const [typeNode, valueNode] = atv.sequence(`${what} attribute`, 2, 2) as [DerNode, DerNode];
      const type = readOid(typeNode);
      if (type !== OID.commonName && type !== OID.organizationName) continue;
      // Only the common string types are decoded; others (BMPString, T61String) leave the
      // field unset. Names are linked by their DER bytes, never by these strings.
      if (
        valueNode.cls !== TagClass.universal ||
        ![Tag.UTF8_STRING, Tag.PRINTABLE_STRING, Tag.IA5_STRING].includes(valueNode.tagNumber as 12)
      )
        continue;
      const s = readString(valueNode);
      if (type === OID.commonName && info.commonName === undefined) info.commonName = s;
      if (type === OID.organizationName && info.organization === undefined) info.organization = s;
    }
  }
  return info;
}

/** RFC 5280 §4.1.2.2: at most 20 octets of INTEGER content (a value below 2^159). */
export const MAX_SERIAL_OCTETS = 20;

/**
 * RFC 5280 §4.1.2.2: a serial number is a positive INTEGER of at most 20 octets. Refused at
 * parse, so every certificate — leaf, bundle intermediate, trusted CA, TSA — is held to it
 * (checklist H58); Go's parser refuses negative serials too.
 */
function checkSerial(node: DerNode, v: Uint8Array): void {
  if ((v[0]! & 0x80) !== 0)
    node.fail('serialNumber is negative (RFC 5280 §4.1.2.2 requires a positive integer)');
  if (v.length === 1 && v[0] === 0)
    node.fail('serialNumber is zero (RFC 5280 §4.1.2.2 requires a positive integer)');
  if (v.length > MAX_SERIAL_OCTETS)
    node.fail(
      `serialNumber is ${v.length} octets long (RFC 5280 §4.1.2.2 allows at most ${MAX_SERIAL_OCTETS})`,
    );
}

/** Serial number content octets -> hex of the unsigned magnitude. */
function serialHex(v: Uint8Array): string {
  return toHex(v.length > 1 && v[0] === 0 ? v.subarray(1) : v);
}

function parseBasicConstraints(n: DerNode): BasicConstraints {
  const c = n.sequence('basicConstraints', 0, 2);
  let i = 0;
  let ca = false;
  if (c[i]?.is(Tag.BOOLEAN)) {
    ca = readBoolean(c[i]!);
    if (!ca) c[i]!.fail('basicConstraints: cA FALSE must be omitted in DER');
    i++;
  }
  let pathLen: number | undefined;
  if (c[i]) {
    pathLen = readSmallInteger(c[i]!, 'basicConstraints pathLenConstraint');
    i++;
  }
  if (i !== c.length) n.fail('basicConstraints: unexpected element');
  return pathLen === undefined ? { ca } : { ca, pathLen };
}

function parseKeyUsage(n: DerNode): Set<KeyUsageName> {
  const { bytes, unusedBits } = readBitString(n);
  const total = bytes.length * 8 - unusedBits;
  const out = new Set<KeyUsageName>();
  for (let bit = 0; bit < total; bit++) {
    if ((bytes[bit >> 3]! & (0x80 >> (bit & 7))) === 0) continue;
    const name = KEY_USAGE_BITS[bit];
    if (name) out.add(name);
  }
  if (out.size === 0) n.fail('keyUsage: no usage bit set');
  return out;
}

function parseExtKeyUsage(n: DerNode): string[] {
  const c = n.sequence('extKeyUsage', 1);
  return c.map((o) => readOid(o));
}

function ia5(n: DerNode, what: string): string {
  const v = n.value;
  let s = '';
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (b > 0x7f) n.fail(`${what}: non-ASCII character`);
    s += String.fromCharCode(b);
  }
  return s;
}

function parseSubjectAltName(n: DerNode): SubjectAltName {
  const names = n.sequence('subjectAltName', 1);
  const san: SubjectAltName = { uris: [], emails: [], dnsNames: [], otherNames: [] };
  for (const gn of names) {
    if (gn.cls !== TagClass.context) gn.fail('subjectAltName: GeneralName must be context-tagged');
    switch (gn.tagNumber) {
      case 0: {
        if (!gn.constructed || gn.children.length !== 2)
          gn.fail('subjectAltName: malformed otherName');
        const oidStr = readOid(gn.children[0]!);
        const wrapper = gn.children[1]!;
        if (!wrapper.isContext(0) || !wrapper.constructed || wrapper.children.length !== 1)
          wrapper.fail('subjectAltName: otherName value must be [0] EXPLICIT');
        const inner = wrapper.children[0]!;
        let value: string | undefined;
        if (
          inner.cls === TagClass.universal &&
          (inner.is(Tag.UTF8_STRING) || inner.is(Tag.PRINTABLE_STRING) || inner.is(Tag.IA5_STRING))
        )
          value = readString(inner);
        if (oidStr === OID.fulcioOtherNameSan && !inner.is(Tag.UTF8_STRING))
          inner.fail('subjectAltName: Fulcio otherName must be a UTF8String');
        san.otherNames.push({ oid: oidStr, value, valueDer: inner.der });
        break;
      }
      case 1:
        if (gn.constructed) gn.fail('subjectAltName: rfc822Name must be primitive');
        san.emails.push(ia5(gn, 'subjectAltName rfc822Name'));
        break;
      case 2:
        if (gn.constructed) gn.fail('subjectAltName: dNSName must be primitive');
        san.dnsNames.push(ia5(gn, 'subjectAltName dNSName'));
        break;
      case 6:
        if (gn.constructed) gn.fail('subjectAltName: URI must be primitive');
        san.uris.push(ia5(gn, 'subjectAltName URI'));
        break;
      default:
        if (gn.tagNumber > 8) gn.fail(`subjectAltName: unknown GeneralName tag [${gn.tagNumber}]`);
    }
  }
  return san;
}

function parseAuthorityKeyId(n: DerNode): Uint8Array | undefined {
  const c = n.sequence('authorityKeyIdentifier', 0, 3);
  let last = -1;
  let keyId: Uint8Array | undefined;
  for (const e of c) {
    if (e.cls !== TagClass.context || e.tagNumber > 2 || e.tagNumber <= last)
      e.fail('authorityKeyIdentifier: unexpected element');
    last = e.tagNumber;
    if (e.tagNumber === 0) {
      if (e.constructed) e.fail('authorityKeyIdentifier: keyIdentifier must be primitive');
      keyId = e.value;
    }
  }
  return keyId;
}

/**
 * Parse a DER certificate strictly. Errors are CERTIFICATE_MALFORMED (check
 * 'certificate-chain') unless `ctx` says otherwise.
 */
export function parseCertificate(der: Uint8Array, ctx?: Partial<DerContext>): Certificate {
  const c: DerContext = { ...CERT_CTX, ...ctx };
  if (der.byteLength > MAX_CERTIFICATE_BYTES) {
    fail(
      'DER_LIMIT_EXCEEDED',
      c.check,
      `${c.what}: ${der.byteLength} bytes, larger than the ${MAX_CERTIFICATE_BYTES}-byte limit for a certificate`,
      { size: der.byteLength },
    );
  }
  const root = parseDer(der, c, Tag.SEQUENCE);
  const [tbs, sigAlgNode, sigValueNode] = root.sequence('Certificate', 3, 3) as [
    DerNode,
    DerNode,
    DerNode,
  ];
  const tbsFields = tbs.sequence('TBSCertificate', 6, 10);
  const version = readVersion(tbsFields[0]!);
  let i = version === 1 ? 0 : 1;
  const serialNode = tbs.child(i++, 'serialNumber');
  const serialBytes = readIntegerBytes(serialNode);
  checkSerial(serialNode, serialBytes);
  const tbsSigAlg = tbs.child(i++, 'signature');
  readAlgorithmIdentifier(tbsSigAlg, 'TBS signature algorithm');
  const issuerNode = tbs.child(i++, 'issuer');
  const validityNode = tbs.child(i++, 'validity');
  const subjectNode = tbs.child(i++, 'subject');
  const spkiNode = tbs.child(i++, 'subjectPublicKeyInfo');

  const issuer = parseName(issuerNode, 'issuer');
  const subject = parseName(subjectNode, 'subject');
  const [nb, na] = validityNode.sequence('validity', 2, 2) as [DerNode, DerNode];
  const notBefore = readTime(nb);
  const notAfter = readTime(na);
  if (notAfter < notBefore) validityNode.fail('validity notAfter is before notBefore');

  const [spkiAlg, spkiKey] = spkiNode.sequence('subjectPublicKeyInfo', 2, 2) as [DerNode, DerNode];
  const publicKeyAlgorithmOid = readAlgorithmIdentifier(
    spkiAlg,
    'subjectPublicKeyInfo algorithm',
  ).oid;
  readBitString(spkiKey);

  const extensionsNode = readTbsTail(tbsFields, i, version);
  // readTbsTail allows [3] only as the last field.
  const tbsHeadEnd = extensionsNode ? tbsFields[tbsFields.length - 1]!.start : tbs.end;
  const parsedExtensions = parseExtensions(extensionsNode);

  const sigAlg = readAlgorithmIdentifier(sigAlgNode, 'signatureAlgorithm');
  if (!bytesEqual(sigAlgNode.der, tbsSigAlg.der))
    sigAlgNode.fail('signatureAlgorithm differs from the TBS signature field');
  const sig = readBitString(sigValueNode);
  if (sig.unusedBits !== 0) sigValueNode.fail('signatureValue has unused bits');

  return new Certificate({
    der: root.der,
    tbsDer: tbs.der,
    version,
    serialNumber: serialHex(serialBytes),
    serialBytes,
    issuerDer: issuerNode.der,
    subjectDer: subjectNode.der,
    issuer,
    subject,
    notBefore,
    notAfter,
    spkiDer: spkiNode.der,
    publicKeyAlgorithmOid,
    signatureAlgorithmOid: sigAlg.oid,
    signatureAlgorithmParams: sigAlg.params,
    signatureValue: sig.bytes,
    isSelfIssued: bytesEqual(issuerNode.der, subjectNode.der),
    ...withAllExtensionFields(parsedExtensions),
    tbsParts: {
      head: tbs.buf.subarray(tbs.valueStart, tbsHeadEnd),
      extensions: parsedExtensions.extensionDers,
    },
  });
}

/** Every field present (undefined where the certificate has no such extension), as Certificate's constructor takes them. */
function withAllExtensionFields(e: ParsedExtensions) {
  const {
    basicConstraints,
    keyUsage,
    extKeyUsage,
    subjectAltName,
    subjectKeyId,
    authorityKeyId,
    embeddedSctList,
  } = e;
  return {
    ...e,
    basicConstraints,
    keyUsage,
    extKeyUsage,
    subjectAltName,
    subjectKeyId,
    authorityKeyId,
    embeddedSctList,
  };
}

/** The TBS `version` field: [0] EXPLICIT, present only for v2/v3 (DER omits v1). Returns 1, 2 or 3. */
function readVersion(first: DerNode): number {
  if (!first.isContext(0)) return 1;
  if (!first.constructed || first.children.length !== 1)
    first.fail('version must be [0] EXPLICIT INTEGER');
  const v = readSmallInteger(first.children[0]!, 'version');
  if (v === 0) first.fail('version v1 must be omitted in DER');
  if (v > 2) first.fail(`unsupported certificate version ${v + 1}`);
  return v + 1;
}

/** After subjectPublicKeyInfo: optional issuerUniqueID [1] and subjectUniqueID [2] (v2/v3), then [3] extensions. */
function readTbsTail(tbsFields: DerNode[], from: number, version: number): DerNode | undefined {
  let lastTag = 0;
  let extensionsNode: DerNode | undefined;
  for (let i = from; i < tbsFields.length; i++) {
    const f = tbsFields[i]!;
    if (f.cls !== TagClass.context || f.tagNumber < 1 || f.tagNumber > 3 || f.tagNumber <= lastTag)
      f.fail('TBSCertificate: unexpected field');
    if (version === 1)
      f.fail('TBSCertificate: v1 certificate with unique identifiers or extensions');
    lastTag = f.tagNumber;
    if (f.tagNumber === 3) {
      if (version !== 3) f.fail('TBSCertificate: extensions require version 3');
      if (!f.constructed || f.children.length !== 1)
        f.fail('extensions must be [3] EXPLICIT SEQUENCE');
      extensionsNode = f.children[0];
    } else if (f.constructed) {
      f.fail('unique identifier must be a primitive BIT STRING');
    }
  }
  return extensionsNode;
}

/** What the extensions give a Certificate, filled in as they are read. */
interface ParsedExtensions {
  basicConstraints?: BasicConstraints;
  keyUsage?: Set<KeyUsageName>;
  extKeyUsage?: string[];
  subjectAltName?: SubjectAltName;
  subjectKeyId?: Uint8Array;
  authorityKeyId?: Uint8Array;
  fulcio: {
    issuerV1: string | undefined;
    issuerV2: string | undefined;
    values: Map<string, string>;
  };
  embeddedSctList?: Uint8Array;
  hasCtPoison: boolean;
  extensions: Extension[];
  /** Each extension element's DER (views), parallel to `extensions`. */
  extensionDers: Uint8Array[];
  unhandledCriticalExtensions: string[];
}

/** Every extension once (a duplicate OID is refused), each known one parsed strictly; unknown critical ones listed. */
function parseExtensions(extensionsNode: DerNode | undefined): ParsedExtensions {
  const out: ParsedExtensions = {
    fulcio: { issuerV1: undefined, issuerV2: undefined, values: new Map<string, string>() },
    hasCtPoison: false,
    extensions: [],
    extensionDers: [],
    unhandledCriticalExtensions: [],
  };
  if (!extensionsNode) return out;
  const seen = new Set<string>();
  for (const ext of extensionsNode.sequence('extensions', 1)) {
    const parts = ext.sequence('extension', 2, 3);
    const oidStr = readOid(parts[0]!);
    if (seen.has(oidStr)) ext.fail(`duplicate extension ${oidStr}`);
    seen.add(oidStr);
    let critical = false;
    if (parts.length === 3) {
      critical = readBoolean(parts[1]!);
      if (!critical) parts[1]!.fail(`extension ${oidStr}: critical FALSE must be omitted in DER`);
    }
    const valueNode = parts[parts.length - 1]!;
    const value = readOctetString(valueNode);
    out.extensions.push({ oid: oidStr, critical, value });
    out.extensionDers.push(ext.der);
    if (critical && !HANDLED_EXTENSIONS.has(oidStr)) out.unhandledCriticalExtensions.push(oidStr);
    readExtension(out, oidStr, valueNode, value);
  }
  return out;
}

function readExtension(
  out: ParsedExtensions,
  oidStr: string,
  valueNode: DerNode,
  value: Uint8Array,
): void {
  const what = `certificate extension ${oidStr}`;
  switch (oidStr) {
    case OID.basicConstraints:
      out.basicConstraints = parseBasicConstraints(parseNested(valueNode, what, Tag.SEQUENCE));
      return;
    case OID.keyUsage:
      out.keyUsage = parseKeyUsage(parseNested(valueNode, what, Tag.BIT_STRING));
      return;
    case OID.extKeyUsage:
      out.extKeyUsage = parseExtKeyUsage(parseNested(valueNode, what, Tag.SEQUENCE));
      return;
    case OID.subjectAltName:
      out.subjectAltName = parseSubjectAltName(parseNested(valueNode, what, Tag.SEQUENCE));
      return;
    case OID.subjectKeyIdentifier:
      out.subjectKeyId = readOctetString(parseNested(valueNode, what, Tag.OCTET_STRING));
      return;
    case OID.authorityKeyIdentifier:
      out.authorityKeyId = parseAuthorityKeyId(parseNested(valueNode, what, Tag.SEQUENCE));
      return;
    case OID.ctSctList:
      out.embeddedSctList = readOctetString(parseNested(valueNode, what, Tag.OCTET_STRING));
      return;
    case OID.ctPoison:
      readNull(parseNested(valueNode, what, Tag.NULL));
      out.hasCtPoison = true;
      return;
  }
  const fulcio = fulcioExtensionOfOid(oidStr);
  if (!fulcio) return;
  const s = fulcio.deprecated
    ? readRawFulcioString(valueNode, value, what)
    : readDerFulcioString(valueNode, what);
  out.fulcio.values.set(oidStr, s);
  if (oidStr === OID.fulcioIssuerV1) out.fulcio.issuerV1 = s;
  if (oidStr === OID.fulcioIssuerV2) out.fulcio.issuerV2 = s;
}

/** A Fulcio extension value (.8 onwards): a DER UTF8String. */
function readDerFulcioString(valueNode: DerNode, what: string): string {
  const inner = parseNested(valueNode, what, Tag.UTF8_STRING);
  if (!inner.is(Tag.UTF8_STRING)) inner.fail(`${what}: expected a UTF8String`);
  return readString(inner);
}

/** A deprecated Fulcio extension value (.1-.6): the string's UTF-8 bytes, not DER. */
function readRawFulcioString(valueNode: DerNode, value: Uint8Array, what: string): string {
  try {
    return utf8Decoder.decode(value);
  } catch {
    return valueNode.fail(`${what}: not valid UTF-8`);
  }
}

// ---------------------------------------------------------------------------------------
// Signatures

type SigKind = 'ecdsa' | 'rsa' | 'ed25519';
const SIGNATURE_ALGORITHMS: Readonly<Record<string, { kind: SigKind; hash: DigestName | null }>> = {
  [OID.ecdsaWithSha256]: { kind: 'ecdsa', hash: 'sha256' },
  [OID.ecdsaWithSha384]: { kind: 'ecdsa', hash: 'sha384' },
  [OID.ecdsaWithSha512]: { kind: 'ecdsa', hash: 'sha512' },
  [OID.sha256WithRsa]: { kind: 'rsa', hash: 'sha256' },
  [OID.sha384WithRsa]: { kind: 'rsa', hash: 'sha384' },
  [OID.sha512WithRsa]: { kind: 'rsa', hash: 'sha512' },
  [OID.ed25519]: { kind: 'ed25519', hash: null },
};

const HASH_BY_OID: Readonly<Record<string, DigestName>> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};
const KEY_TYPE: Readonly<Record<SigKind, string>> = { ecdsa: 'ec', rsa: 'rsa', ed25519: 'ed25519' };

/** RSASSA-PSS parameters (RFC 4055): only SHA-2 with MGF1 over the same hash. */
function pssParams(
  params: DerNode | undefined,
): { hash: DigestName; saltLength: number } | undefined {
  if (!params || !params.is(Tag.SEQUENCE)) return undefined;
  let hash: DigestName | undefined;
  let mgfHash: DigestName | undefined;
  let saltLength = 20;
  for (const f of params.children) {
    if (f.cls !== TagClass.context || f.children.length !== 1) return undefined;
    const inner = f.children[0]!;
    if (f.tagNumber === 0) hash = HASH_BY_OID[readAlgorithmIdentifier(inner).oid];
    else if (f.tagNumber === 1) {
      const mgf = readAlgorithmIdentifier(inner);
      if (mgf.oid !== OID.mgf1 || !mgf.params) return undefined;
      mgfHash = HASH_BY_OID[readAlgorithmIdentifier(mgf.params).oid];
    } else if (f.tagNumber === 2) saltLength = readSmallInteger(inner);
    else if (f.tagNumber === 3 && readSmallInteger(inner) !== 1) return undefined;
  }
  if (!hash || mgfHash !== hash) return undefined;
  return { hash, saltLength };
}

/**
 * Verify a signature made with an X.509 signature AlgorithmIdentifier (certificates, CRLs,
 * CMS). Returns false for an unsupported algorithm, a key of the wrong type or a bad
 * signature; never throws.
 */
export function verifyWithAlgorithm(
  algorithmOid: string,
  params: DerNode | undefined,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (algorithmOid === OID.rsaPss) {
      if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return false;
      const p = pssParams(params);
      if (!p) return false;
      return nodeVerify(
        p.hash,
        data,
        { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength },
        signature,
      );
    }
    const alg = SIGNATURE_ALGORITHMS[algorithmOid];
    if (!alg || key.asymmetricKeyType !== KEY_TYPE[alg.kind]) return false;
    // ECDSA and EdDSA identifiers carry no parameters; RSA PKCS#1 v1.5 ones carry NULL.
    if (params && !(alg.kind === 'rsa' && params.is(Tag.NULL) && params.length === 0)) return false;
    return verifySignature(key, data, signature, alg.hash);
  } catch {
    return false;
  }
}

export function isSupportedSignatureAlgorithm(oid: string): boolean {
  return oid === OID.rsaPss || oid in SIGNATURE_ALGORITHMS;
}

/** Does `issuerKey` verify `cert`'s signature over its TBS? */
export function verifyCertificateSignature(cert: Certificate, issuerKey: KeyObject): boolean {
  const verify = (): boolean =>
    verifyWithAlgorithm(
      cert.signatureAlgorithmOid,
      cert.signatureAlgorithmParams,
      issuerKey,
      cert.tbsDer,
      cert.signatureValue,
    );
  // Only CA certificates are memoized: every bundle under one trust root repeats those links.
  // A leaf is checked afresh each time, so throughput numbers measure real per-bundle work.
  if (!cert.basicConstraints?.ca) return verify();
  const alg = cert.signatureAlgorithmParams
    ? `${cert.signatureAlgorithmOid}:${toHex(cert.signatureAlgorithmParams.der)}`
    : cert.signatureAlgorithmOid;
  return memoizedVerify(issuerKey, alg, cert.tbsDer, cert.signatureValue, verify);
}

// ---------------------------------------------------------------------------------------
// Identity helpers

/**
 * Every identity value a certificate carries, with where it came from: SAN URIs and emails,
 * Fulcio's other-name SAN (.1.7) and the OIDC subject extension (.1.24). The verifier's
 * identity policy matches against these; the export manifest and the signer report the first.
 */
export function certificateIdentities(cert: Certificate): { field: string; value: string }[] {
  const out: { field: string; value: string }[] = [];
  const san = cert.subjectAltName;
  if (san) {
    for (const v of san.uris) out.push({ field: 'SAN URI', value: v });
    for (const v of san.emails) out.push({ field: 'SAN email', value: v });
    for (const o of san.otherNames)
      if (o.oid === OID.fulcioOtherNameSan && o.value !== undefined)
        out.push({ field: 'SAN otherName', value: o.value });
  }
  const sub = cert.fulcio.values.get(OID.fulcioSubject);
  if (sub !== undefined) out.push({ field: `OIDC subject (${OID.fulcioSubject})`, value: sub });
  return out;
}

/**
 * The OIDC issuer a Fulcio certificate attests: 1.3.6.1.4.1.57264.1.8 if present, else the
 * deprecated .1.1. Both present with different values is refused (checklist C24): a
 * verifier reading one and a policy reading the other would disagree.
 */
export function oidcIssuer(cert: Certificate): string | undefined {
  const { issuerV1, issuerV2 } = cert.fulcio;
  if (issuerV1 !== undefined && issuerV2 !== undefined && issuerV1 !== issuerV2) {
    throw new StellaError(
      'ISSUER_MISMATCH',
      'policy',
      `issuer mismatch: certificate OIDC issuer extensions disagree (${OID.fulcioIssuerV2} "${issuerV2}" vs ${OID.fulcioIssuerV1} "${issuerV1}")`,
      {
        issuerV2,
        issuerV1,
      },
    );
  }
  return issuerV2 ?? issuerV1;
}
