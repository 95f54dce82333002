/**
 * RFC 3161 timestamp tokens (CMS SignedData over a TSTInfo), as carried in bundles'
 * `rfc3161Timestamps[].signedTimestamp`. A token is a verified time only when every binding
 * holds (checklist D29): the imprint covers this bundle's signature, the signed attributes
 * cover this TSTInfo, the signature is by a certificate that chains to a trusted TSA, and
 * genTime falls inside the TSA's validFor and every certificate's validity.
 */
import type { KeyObject } from 'node:crypto';
import { digest, verifySignature, type DigestName } from '../crypto.js';
import {
  parseDer,
  parseNested,
  readAlgorithmIdentifier,
  readInteger,
  readIntegerBytes,
  readOctetString,
  readOid,
  readSmallInteger,
  readPreciseTime,
  Tag,
  type DerContext,
  type DerNode,
} from '../der/reader.js';
import { StellaError } from '../errors.js';
import { windowContains, type CertificateAuthority } from '../model/trust-material.js';
import { formatTime, isTimeInRange, TIME_RANGE_TEXT, type PreciseTime } from '../util/time.js';
import { bytesEqual, toHex } from '../util/encoding.js';
import { parseCertificate, verifyWithAlgorithm, type Certificate } from '../x509/certificate.js';
import {
  certValidAt,
  describeName,
  issuedBy,
  parsedAuthority,
  verifyIssuerLinks,
} from '../x509/chain.js';
import { DIGEST_BY_OID, OID } from '../x509/oids.js';

const CTX: DerContext = {
  code: 'TIMESTAMP_INVALID',
  check: 'verified-times',
  what: 'RFC 3161 timestamp',
};

export interface MessageImprint {
  hashAlgorithmOid: string;
  hashedMessage: Uint8Array;
}

export interface TstInfo {
  version: number;
  policy: string;
  messageImprint: MessageImprint;
  /** Hex of the serial's INTEGER content. */
  serialNumber: string;
  /** At full precision: every fraction digit the TSA wrote (checked against windows exactly). */
  genTime: PreciseTime;
  nonce: bigint | undefined;
  /** The DER TSTInfo (the encapsulated content the signed attributes digest). */
  der: Uint8Array;
}

export type SignerIdentifier =
  | { kind: 'issuerAndSerialNumber'; issuerDer: Uint8Array; serialBytes: Uint8Array }
  | { kind: 'subjectKeyIdentifier'; keyId: Uint8Array };

export interface SignerInfo {
  version: number;
  sid: SignerIdentifier;
  digestAlgorithmOid: string;
  /** The signed attributes exactly as in the token ([0] IMPLICIT tag included). */
  signedAttrsDer: Uint8Array;
  contentType: string | undefined;
  messageDigest: Uint8Array | undefined;
  /** ESSCertID(v2) of the signing certificate, when present. */
  signingCertificate: { hash: DigestName | 'sha1'; certHash: Uint8Array } | undefined;
  signatureAlgorithmOid: string;
  signatureAlgorithmParams: DerNode | undefined;
  signature: Uint8Array;
}

export interface TimeStampToken {
  tstInfo: TstInfo;
  /** Certificates embedded in the SignedData (often absent). */
  certificates: Certificate[];
  signerInfo: SignerInfo;
}

function digestName(oid: string, node: DerNode, what: string): DigestName {
  const d = DIGEST_BY_OID[oid];
  if (!d || d === 'sha1') node.fail(`${what}: unsupported digest algorithm ${oid}`);
  return d;
}

/** Digest AlgorithmIdentifier: parameters absent or NULL. */
function readDigestAlgorithm(node: DerNode, what: string): string {
  const { oid, params } = readAlgorithmIdentifier(node, what);
  if (params && !(params.is(Tag.NULL) && params.length === 0))
    node.fail(`${what}: unexpected parameters`);
  return oid;
}

function parseTstInfo(node: DerNode): TstInfo {
  const f = node.sequence('TSTInfo', 5, 10);
  const version = readSmallInteger(f[0]!, 'TSTInfo version');
  if (version !== 1) f[0]!.fail(`unsupported TSTInfo version ${version}`);
  const policy = readOid(f[1]!);
  const [algNode, hashedNode] = f[2]!.sequence('messageImprint', 2, 2) as [DerNode, DerNode];
  const hashAlgorithmOid = readDigestAlgorithm(algNode, 'messageImprint hashAlgorithm');
  const hashedMessage = readOctetString(hashedNode);
  const serialNumber = toHex(readIntegerBytes(f[3]!));
  if (!f[4]!.is(Tag.GENERALIZED_TIME)) f[4]!.fail('genTime must be a GeneralizedTime');
  const genTime = readPreciseTime(f[4]!, { allowFraction: true });
  if (!isTimeInRange(genTime.ms))
    f[4]!.fail(`genTime ${formatTime(genTime)} is out of range (${TIME_RANGE_TEXT})`);
  let nonce: bigint | undefined;
  let i = 5;
  if (f[i]?.is(Tag.SEQUENCE)) i++; // accuracy
  if (f[i]?.is(Tag.BOOLEAN)) i++; // ordering
  if (f[i]?.is(Tag.INTEGER)) nonce = readInteger(f[i++]!);
  if (f[i]?.isContext(0)) i++; // tsa GeneralName
  if (f[i]?.isContext(1)) i++; // extensions
  if (i !== f.length) f[i]!.fail('unexpected TSTInfo field');
  return {
    version,
    policy,
    messageImprint: { hashAlgorithmOid, hashedMessage },
    serialNumber,
    genTime,
    nonce,
    der: node.der,
  };
}

function parseSignedAttrs(
  node: DerNode,
): Pick<SignerInfo, 'contentType' | 'messageDigest' | 'signingCertificate'> {
  let contentType: string | undefined;
  let messageDigest: Uint8Array | undefined;
  let signingCertificate: SignerInfo['signingCertificate'];
  const seen = new Set<string>();
  if (node.children.length === 0) node.fail('empty signed attributes');
  for (const attr of node.children) {
    const [typeNode, valuesNode] = attr.sequence('signed attribute', 2, 2) as [DerNode, DerNode];
    const type = readOid(typeNode);
    if (seen.has(type)) attr.fail(`duplicate signed attribute ${type}`);
    seen.add(type);
    if (!valuesNode.is(Tag.SET)) valuesNode.fail('attribute values must be a SET');
    if (
      type === OID.attrContentType ||
      type === OID.attrMessageDigest ||
      type === OID.attrSigningCertificate ||
      type === OID.attrSigningCertificateV2
    ) {
      if (valuesNode.children.length !== 1)
        valuesNode.fail(`signed attribute ${type} must have exactly one value`);
      const v = valuesNode.children[0]!;
      if (type === OID.attrContentType) contentType = readOid(v);
      else if (type === OID.attrMessageDigest) messageDigest = readOctetString(v);
      else {
        // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }
        const certs = v
          .sequence('SigningCertificate', 1, 2)[0]!
          .sequence('SigningCertificate certs', 1);
        const id = certs[0]!.sequence('ESSCertID', 1, 3);
        if (type === OID.attrSigningCertificate) {
          signingCertificate = { hash: 'sha1', certHash: readOctetString(id[0]!) };
        } else {
          let hash: DigestName = 'sha256';
          let k = 0;
          if (id[0]!.is(Tag.SEQUENCE))
            hash = digestName(
              readDigestAlgorithm(id[k++]!, 'ESSCertIDv2 hashAlgorithm'),
              id[0]!,
              'ESSCertIDv2',
            );
          signingCertificate = {
            hash,
            certHash: readOctetString(id[k] ?? certs[0]!.fail('ESSCertIDv2 certHash missing')),
          };
        }
      }
    }
  }
  return { contentType, messageDigest, signingCertificate };
}

function parseSignerInfo(node: DerNode): SignerInfo {
  const f = node.sequence('SignerInfo', 5, 7);
  const version = readSmallInteger(f[0]!, 'SignerInfo version');
  let sid: SignerIdentifier;
  if (version === 1) {
    const [issuer, serial] = f[1]!.sequence('issuerAndSerialNumber', 2, 2) as [DerNode, DerNode];
    if (!issuer.is(Tag.SEQUENCE)) issuer.fail('issuerAndSerialNumber issuer must be a Name');
    sid = {
      kind: 'issuerAndSerialNumber',
      issuerDer: issuer.der,
      serialBytes: readIntegerBytes(serial),
    };
  } else if (version === 3) {
    if (!f[1]!.isContext(0) || f[1]!.constructed)
      f[1]!.fail('subjectKeyIdentifier must be [0] IMPLICIT OCTET STRING');
    sid = { kind: 'subjectKeyIdentifier', keyId: f[1]!.value };
  } else {
    return f[0]!.fail(`unsupported SignerInfo version ${version}`);
  }
  const digestAlgorithmOid = readDigestAlgorithm(f[2]!, 'SignerInfo digestAlgorithm');
  let i = 3;
  const attrs = f[i];
  if (!attrs || !attrs.isContext(0) || !attrs.constructed)
    return node.fail('SignerInfo without signed attributes');
  i++;
  const parsed = parseSignedAttrs(attrs);
  const sigAlg = readAlgorithmIdentifier(f[i++]!, 'SignerInfo signatureAlgorithm');
  const signature = readOctetString(f[i++] ?? node.fail('SignerInfo signature missing'));
  if (f[i]?.isContext(1)) i++; // unsigned attributes
  if (i !== f.length) f[i]!.fail('unexpected SignerInfo field');
  return {
    version,
    sid,
    digestAlgorithmOid,
    signedAttrsDer: attrs.der,
    ...parsed,
    signatureAlgorithmOid: sigAlg.oid,
    signatureAlgorithmParams: sigAlg.params,
    signature,
  };
}

/** Parse a TimeStampToken (CMS ContentInfo) or a TimeStampResp wrapping one. */
export function parseTimeStampToken(bytes: Uint8Array): TimeStampToken {
  const top = parseDer(bytes, CTX, Tag.SEQUENCE);
  let contentInfo = top;
  const first = top.sequence('TimeStampToken', 1, 2)[0]!;
  if (first.is(Tag.SEQUENCE)) {
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken OPTIONAL }
    const status = readSmallInteger(first.sequence('PKIStatusInfo', 1, 3)[0]!, 'PKIStatus');
    if (status !== 0 && status !== 1)
      first.fail(`timestamp response status ${status} (not granted)`);
    contentInfo = top.children[1] ?? top.fail('timestamp response carries no token');
  }
  const ci = contentInfo.sequence('ContentInfo', 2, 2);
  if (readOid(ci[0]!) !== OID.signedData) ci[0]!.fail('ContentInfo is not SignedData');
  const wrap = ci[1]!;
  if (!wrap.isContext(0) || !wrap.constructed || wrap.children.length !== 1)
    wrap.fail('ContentInfo content must be [0] EXPLICIT');
  const sd = wrap.children[0]!.sequence('SignedData', 4, 6);
  readSmallInteger(sd[0]!, 'SignedData version');
  if (!sd[1]!.is(Tag.SET)) sd[1]!.fail('SignedData digestAlgorithms must be a SET');
  const [eType, eWrap] = sd[2]!.sequence('encapContentInfo', 2, 2) as [DerNode, DerNode];
  if (readOid(eType) !== OID.tstInfo) eType.fail('encapsulated content is not a TSTInfo');
  if (!eWrap.isContext(0) || !eWrap.constructed || eWrap.children.length !== 1)
    eWrap.fail('eContent must be [0] EXPLICIT OCTET STRING');
  const eContent = eWrap.children[0]!;
  readOctetString(eContent);
  const tstInfo = parseTstInfo(parseNested(eContent, 'RFC 3161 TSTInfo', Tag.SEQUENCE));

  let i = 3;
  const certificates: Certificate[] = [];
  if (sd[i]?.isContext(0)) {
    const set = sd[i++]!;
    if (!set.constructed) set.fail('certificates must be constructed');
    for (const c of set.children) {
      if (!c.is(Tag.SEQUENCE))
        c.fail('only X.509 certificates are supported in the certificate set');
      certificates.push(parseCertificate(c.der, { ...CTX, what: 'RFC 3161 embedded certificate' }));
    }
  }
  if (sd[i]?.isContext(1)) i++; // crls
  const signerInfos = sd[i++] ?? sd[0]!.fail('SignerInfos missing');
  if (!signerInfos.is(Tag.SET) || signerInfos.children.length !== 1)
    signerInfos.fail('exactly one SignerInfo is required');
  if (i !== sd.length) sd[i]!.fail('unexpected SignedData field');
  const signerInfo = parseSignerInfo(signerInfos.children[0]!);
  return { tstInfo, certificates, signerInfo };
}

// ---------------------------------------------------------------------------------------
// Verification

function timestampError(
  message: string,
  details?: Record<string, unknown>,
  options?: { cause?: unknown },
): StellaError {
  return new StellaError('TIMESTAMP_INVALID', 'verified-times', message, details, options);
}

function sidMatches(sid: SignerIdentifier, c: Certificate): boolean {
  if (sid.kind === 'subjectKeyIdentifier')
    return c.subjectKeyId !== undefined && bytesEqual(c.subjectKeyId, sid.keyId);
  return bytesEqual(c.issuerDer, sid.issuerDer) && bytesEqual(c.serialBytes, sid.serialBytes);
}

/** The SignerInfo signature over the signed attributes, re-tagged as SET OF (RFC 5652 §5.4). */
function verifySignerSignature(si: SignerInfo, key: KeyObject): boolean {
  const data = new Uint8Array(si.signedAttrsDer); // a copy: never write into the caller's token (Buffer.slice is a view)
  data[0] = 0x31;
  const alg = si.signatureAlgorithmOid;
  // Some TSAs name the key algorithm and leave the hash to digestAlgorithm.
  if (alg === OID.ecPublicKey || alg === OID.rsaEncryption) {
    const hash = DIGEST_BY_OID[si.digestAlgorithmOid];
    if (!hash || hash === 'sha1') return false;
    if (key.asymmetricKeyType !== (alg === OID.ecPublicKey ? 'ec' : 'rsa')) return false;
    return verifySignature(key, data, si.signature, hash);
  }
  return verifyWithAlgorithm(alg, si.signatureAlgorithmParams, key, data, si.signature);
}

const tsaLinkCache = new WeakMap<CertificateAuthority, Map<number, StellaError | null>>();

function issuerLinksError(
  tsa: CertificateAuthority,
  chain: Certificate[],
  from: number,
): StellaError | null {
  let m = tsaLinkCache.get(tsa);
  if (!m) tsaLinkCache.set(tsa, (m = new Map<number, StellaError | null>()));
  const cached = m.get(from);
  if (cached !== undefined) return cached;
  let result: StellaError | null = null;
  try {
    verifyIssuerLinks(chain.slice(from), 'TIMESTAMP_INVALID', 'verified-times', 'TSA CA');
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    result = timestampError(`TSA certificate chain invalid: ${e.message}`, e.details, { cause: e });
  }
  m.set(from, result);
  return result;
}

export interface VerifiedTimestamp {
  /** genTime at full precision. */
  time: PreciseTime;
  tsa: CertificateAuthority;
  tstInfo: TstInfo;
}

export type TimestampCheck =
  ({ status: 'verified' } & VerifiedTimestamp) | { status: 'unknown-tsa'; reason: string };

/** Who signed the token, for messages: the embedded signer certificate's subject, else the sid. */
function describeSigner(si: SignerInfo, embedded: Certificate | undefined): string {
  if (embedded) return describeName(embedded.subject);
  return si.sid.kind === 'subjectKeyIdentifier'
    ? `key id ${toHex(si.sid.keyId)}`
    : `serial ${toHex(si.sid.serialBytes)}`;
}

/**
 * Does the token claim a trusted TSA? Yes when its signer identifier names a certificate of a
 * trusted TSA chain, or names (directly, or through the embedded signer certificate) a trusted
 * TSA certificate as the issuer. Such a token is held to every check below and refused when
 * one fails (fail closed). Anything else is from a TSA the trust root does not know; whatever
 * it says cannot count, so it is set aside (see checkRfc3161Timestamp).
 */
function namesTrustedTsa(
  si: SignerInfo,
  embedded: Certificate | undefined,
  tsas: CertificateAuthority[],
): { trusted: boolean; parseError: StellaError | undefined } {
  let parseError: StellaError | undefined;
  for (const tsa of tsas) {
    const p = parsedAuthority(tsa);
    if (p.parseError) {
      parseError ??= p.parseError;
      continue;
    }
    for (const c of p.certs) {
      if (sidMatches(si.sid, c)) return { trusted: true, parseError };
      if (si.sid.kind === 'issuerAndSerialNumber' && bytesEqual(si.sid.issuerDer, c.subjectDer))
        return { trusted: true, parseError };
      if (embedded && bytesEqual(embedded.issuerDer, c.subjectDer))
        return { trusted: true, parseError };
    }
  }
  return { trusted: false, parseError };
}

/**
 * Verify an RFC 3161 token over `signature` (the bundle signature bytes) against trusted
 * TSAs. Errors are TIMESTAMP_INVALID (check 'verified-times') with a specific message. A token
 * from a TSA the trust root does not know is an error here too ("TSA not trusted").
 */
export function verifyRfc3161Timestamp(
  token: Uint8Array,
  signature: Uint8Array,
  tsas: CertificateAuthority[],
): VerifiedTimestamp {
  const r = checkRfc3161Timestamp(token, signature, tsas);
  if (r.status === 'unknown-tsa') throw timestampError(r.reason);
  return { time: r.time, tsa: r.tsa, tstInfo: r.tstInfo };
}

/**
 * As verifyRfc3161Timestamp, but a token whose signer has nothing to do with any trusted TSA
 * is returned as 'unknown-tsa' with the reason instead of refused: a bundle may carry, beside
 * the timestamps its verifier trusts, one from a company TSA that only other verifiers trust
 * (sigstore-go and sigstore-python skip such tokens too). A token that parses badly, or that
 * names a trusted TSA and fails any check, is still refused.
 */
export function checkRfc3161Timestamp(
  token: Uint8Array,
  signature: Uint8Array,
  tsas: CertificateAuthority[],
): TimestampCheck {
  const t = parseTimeStampToken(token);
  const { tstInfo, signerInfo: si } = t;
  const embedded = t.certificates.find((c) => sidMatches(si.sid, c));
  const claim = namesTrustedTsa(si, embedded, tsas);
  if (!claim.trusted) {
    // A trust root we cannot read cannot tell us the TSA is unknown: fail closed.
    if (claim.parseError) throw claim.parseError;
    const who = describeSigner(si, embedded);
    return {
      status: 'unknown-tsa',
      reason:
        tsas.length === 0
          ? `TSA not trusted: the trusted root has no timestamp authorities (timestamp signed by ${who})`
          : `TSA not trusted: timestamp signer ${who} is not a certificate of, or issued by, a trusted TSA`,
    };
  }

  checkImprintAndAttributes(tstInfo, si, signature);

  // 3. A trusted TSA must have signed it, at a time inside every window.
  let best: { stage: number; error: StellaError } | undefined;
  for (const tsa of tsas) {
    const r = checkAgainstTsa(tsa, si, embedded, tstInfo);
    if (r.status === 'verified') return r;
    if (!best || r.stage > best.stage) best = r;
  }
  if (best) throw best.error;
  throw timestampError('TSA not trusted: the trusted root has no timestamp authorities');
}

/** Steps 1 and 2: the imprint covers these signature bytes, the signed attributes this TSTInfo. */
function checkImprintAndAttributes(
  tstInfo: TimeStampToken['tstInfo'],
  si: TimeStampToken['signerInfo'],
  signature: Uint8Array,
): void {
  // 1. The imprint must cover these signature bytes.
  const imprintHash = DIGEST_BY_OID[tstInfo.messageImprint.hashAlgorithmOid];
  if (!imprintHash || imprintHash === 'sha1')
    throw timestampError(
      `timestamp imprint uses unsupported hash ${tstInfo.messageImprint.hashAlgorithmOid}`,
    );
  if (!bytesEqual(digest(imprintHash, signature), tstInfo.messageImprint.hashedMessage))
    throw timestampError('timestamp imprint does not match the signature');

  // 2. The signed attributes must bind this TSTInfo.
  if (si.contentType !== OID.tstInfo)
    throw timestampError('timestamp signed attributes: content type is not id-ct-TSTInfo');
  const attrHash = DIGEST_BY_OID[si.digestAlgorithmOid];
  if (!attrHash || attrHash === 'sha1')
    throw timestampError(`timestamp uses unsupported digest ${si.digestAlgorithmOid}`);
  if (!si.messageDigest || !bytesEqual(digest(attrHash, tstInfo.der), si.messageDigest))
    throw timestampError('timestamp message digest does not match the TSTInfo');
}

/** How far a TSA got before it failed: the furthest failure is the one reported. */
interface TsaFailure {
  status: 'failed';
  stage: number;
  error: StellaError;
}

const failedAt = (stage: number, error: StellaError): TsaFailure => ({
  status: 'failed',
  stage,
  error,
});

/**
 * Step 3 against one trusted TSA: its certificate signed the token (embedded or from the trust
 * root, chaining to it), with the timeStamping usage and nothing unhandled, at a genTime inside
 * the TSA's window and every certificate's validity.
 */
function checkAgainstTsa(
  tsa: CertificateAuthority,
  si: TimeStampToken['signerInfo'],
  embedded: Certificate | undefined,
  tstInfo: TimeStampToken['tstInfo'],
): Extract<TimestampCheck, { status: 'verified' }> | TsaFailure {
  const p = parsedAuthority(tsa);
  if (p.parseError) {
    return failedAt(0, p.parseError);
  }
  const chain = p.certs;
  const found = signerInChain(chain, si, embedded);
  if ('status' in found) return found;
  const { signer, keyOf, path, from } = found;
  const failure =
    signedBySigner(si, signer, keyOf) ??
    signerCertificateFailure(signer) ??
    issuerLinkFailure(tsa, chain, from) ??
    genTimeFailure(tsa, path, tstInfo.genTime);
  if (failure) return failure;
  return { status: 'verified', time: tstInfo.genTime, tsa, tstInfo };
}

/** The trusted chain above the signer links issuer to subject, each signed by the next. */
function issuerLinkFailure(
  tsa: CertificateAuthority,
  chain: Certificate[],
  from: number,
): TsaFailure | undefined {
  const linkError = issuerLinksError(tsa, chain, from);
  return linkError ? failedAt(3, linkError) : undefined;
}

/**
 * The token's signer among the TSA's trusted certificates (or the embedded one) and its path
 * to the TSA's root: its position in the trusted chain, or the trusted CA that issued it.
 * `from` is where the chain above the signer starts.
 */
function signerInChain(
  chain: Certificate[],
  si: TimeStampToken['signerInfo'],
  embedded: Certificate | undefined,
): { signer: Certificate; keyOf: Certificate; path: Certificate[]; from: number } | TsaFailure {
  const signer = embedded ?? chain.find((c) => !c.basicConstraints?.ca && sidMatches(si.sid, c));
  if (!signer) {
    return failedAt(
      1,
      timestampError('TSA not trusted: the timestamp signer is not a certificate of a trusted TSA'),
    );
  }
  const at = chain.findIndex((c) => bytesEqual(c.der, signer.der));
  // The signer's key: the trusted certificate's when the token embeds the very same bytes
  // (built once per trust material), else the embedded certificate's.
  if (at >= 0) return { signer, keyOf: chain[at]!, path: chain.slice(at), from: at + 1 };
  const from = chain.findIndex((c) => c.basicConstraints?.ca && issuedBy(signer, c));
  if (from < 0) {
    return failedAt(
      1,
      timestampError(
        `TSA not trusted: timestamp signer ${describeName(signer.subject)} does not chain to a trusted TSA`,
      ),
    );
  }
  return { signer, keyOf: signer, path: [signer, ...chain.slice(from)], from };
}

/** The token is signed with `keyOf`'s key, and its signing-certificate attribute names `signer`. */
function signedBySigner(
  si: TimeStampToken['signerInfo'],
  signer: Certificate,
  keyOf: Certificate,
): TsaFailure | undefined {
  if (!verifySignerSignature(si, keyOf.publicKey)) {
    return failedAt(2, timestampError('timestamp signature does not verify'));
  }
  if (
    si.signingCertificate &&
    !bytesEqual(
      digest(si.signingCertificate.hash as DigestName, signer.der),
      si.signingCertificate.certHash,
    )
  ) {
    return failedAt(
      2,
      timestampError(
        'timestamp signing-certificate attribute does not match the signer certificate',
      ),
    );
  }
  return undefined;
}

/** A timestamping certificate: the timeStamping usage, no unhandled critical extension, no CT poison. */
function signerCertificateFailure(signer: Certificate): TsaFailure | undefined {
  if (!signer.extKeyUsage?.includes(OID.ekuTimeStamping)) {
    return failedAt(
      3,
      timestampError('timestamp signer certificate lacks the timeStamping extended key usage'),
    );
  }
  if (signer.unhandledCriticalExtensions.length) {
    return failedAt(
      3,
      timestampError(
        `timestamp signer certificate has unsupported critical extension(s) ${signer.unhandledCriticalExtensions.join(', ')}`,
      ),
    );
  }
  // A precertificate never signs (checklist H58), a timestamp no more than an artifact.
  if (signer.hasCtPoison) {
    return failedAt(
      3,
      timestampError(
        `timestamp signer certificate is a precertificate (CT poison extension ${OID.ctPoison})`,
      ),
    );
  }
  return undefined;
}

/** genTime inside the TSA's window and every certificate's validity on the path. */
function genTimeFailure(
  tsa: CertificateAuthority,
  path: readonly Certificate[],
  gt: TimeStampToken['tstInfo']['genTime'],
): TsaFailure | undefined {
  if (!windowContains(tsa.validFor, gt)) {
    return failedAt(
      4,
      timestampError(
        `timestamp outside TSA validity: genTime ${formatTime(gt)} is outside ${tsa.uri || describeName(tsa.subject)} validFor (${formatTime(tsa.validFor.start)}..${tsa.validFor.end === undefined ? 'open' : formatTime(tsa.validFor.end)})`,
        { genTime: formatTime(gt) },
      ),
    );
  }
  const expired = path.find((c) => !certValidAt(c, gt));
  if (expired) {
    return failedAt(
      5,
      timestampError(
        `timestamp outside TSA certificate validity: ${describeName(expired.subject)} valid ${formatTime(expired.notBefore)}..${formatTime(expired.notAfter)}, genTime ${formatTime(gt)}`,
        { genTime: formatTime(gt) },
      ),
    );
  }
  return undefined;
}
