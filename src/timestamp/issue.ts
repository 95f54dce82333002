/**
 * Build RFC 3161 timestamp tokens (CMS SignedData over a TSTInfo), deterministically, for a
 * local TSA and for tests. The verifier in ./rfc3161.ts reads these with the same rules it
 * applies to real TSAs' tokens.
 */
import { digest, type DigestName } from '../crypto.js';
import { parseDer } from '../der/reader.js';
import {
  contextPrimitive,
  explicit,
  generalizedTime,
  implicit,
  int,
  octetString,
  oid,
  seq,
  setOf,
} from '../der/writer.js';
import { parseCertificate } from '../x509/certificate.js';
import type { CertificateSigner } from '../x509/issue.js';
import { OID } from '../x509/oids.js';
import type { PreciseTime } from '../util/time.js';

const DIGEST_OID: Readonly<Record<DigestName, string>> = {
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
};

export interface TimestampIssueOptions {
  /** The bytes being timestamped (a bundle signature); the imprint is their digest. */
  data?: Uint8Array;
  /** Or the imprint itself, as a TimeStampReq carries it (a TSA never sees the data). */
  imprint?: { hash: DigestName; digest: Uint8Array };
  /**
   * ms since the epoch, of which whole seconds are encoded; or a PreciseTime, encoded with
   * every fraction digit (milliseconds and below), as TSAs that stamp in microseconds do.
   */
  genTime: number | PreciseTime;
  serial: bigint;
  /** TSA policy OID. */
  policy: string;
  imprintHash?: DigestName;
  nonce?: bigint;
  /** DER of the TSA signing certificate (its issuer and serial form the signer id). */
  signerCertificate: Uint8Array;
  /**
   * How the SignerInfo names its certificate: by issuer and serial (version 1, the default and
   * what Sigstore's TSA writes) or by the certificate's subject key identifier (version 3; the
   * certificate must carry one). RFC 5652 §5.3 allows both.
   */
  signerIdentifier?: 'issuerAndSerialNumber' | 'subjectKeyIdentifier';
  /** Embed these certificates in the token (usually the signer certificate, or none). */
  embedCertificates?: Uint8Array[];
  /** Signs the DER SET OF signed attributes; ECDSA P-256 over SHA-256 for the sandbox. */
  signer: CertificateSigner;
}

function algId(o: string): Uint8Array {
  return seq(oid(o));
}

/**
 * Issuer Name and serial INTEGER of a certificate, as raw DER elements. Read from the DER
 * alone, not with parseCertificate: tests issue tokens for TSA certificates the strict parser
 * refuses (a serial of zero, checklist H58) to see the verifier refuse them.
 */
function issuerAndSerial(certDer: Uint8Array): { issuer: Uint8Array; serial: Uint8Array } {
  const cert = parseDer(certDer, {
    code: 'INPUT_INVALID',
    check: 'signing',
    what: 'TSA certificate',
  });
  const tbs = cert.child(0, 'TBSCertificate');
  const off = tbs.children[0]?.isContext(0) ? 1 : 0;
  return { serial: tbs.child(off, 'serialNumber').der, issuer: tbs.child(off + 2, 'issuer').der };
}

/** SignerInfo's version and sid: v1 with IssuerAndSerialNumber, v3 with [0] SubjectKeyId. */
function signerVersionAndId(
  certDer: Uint8Array,
  kind: TimestampIssueOptions['signerIdentifier'] = 'issuerAndSerialNumber',
): [Uint8Array, Uint8Array] {
  if (kind === 'issuerAndSerialNumber') {
    const { issuer, serial } = issuerAndSerial(certDer);
    return [int(1), seq(issuer, serial)];
  }
  // Only certificates that carry a key identifier can be named by it; the strict parse reads it.
  const keyId = parseCertificate(certDer).subjectKeyId;
  if (!keyId)
    throw new TypeError(
      'issueTimestampToken: the signer certificate has no subject key identifier',
    );
  return [int(3), contextPrimitive(0, keyId)];
}

/** A DER ContentInfo (SignedData) timestamp token. */
export function issueTimestampToken(opts: TimestampIssueOptions): Uint8Array {
  const imprintHash = opts.imprint?.hash ?? opts.imprintHash ?? 'sha256';
  const imprinted =
    opts.imprint?.digest ?? (opts.data ? digest(imprintHash, opts.data) : undefined);
  if (!imprinted) throw new TypeError('issueTimestampToken: data or imprint is required');
  const tstFields = [
    int(1),
    oid(opts.policy),
    seq(algId(DIGEST_OID[imprintHash]), octetString(imprinted)),
    int(opts.serial),
    generalizedTime(opts.genTime),
  ];
  if (opts.nonce !== undefined) tstFields.push(int(opts.nonce));
  const tstInfo = seq(...tstFields);

  // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { certHash (SHA-256 default) } }
  const signingCertV2 = seq(seq(seq(octetString(digest('sha256', opts.signerCertificate)))));
  const attrs = [
    seq(oid(OID.attrContentType), setOf(oid(OID.tstInfo))),
    seq(oid(OID.attrMessageDigest), setOf(octetString(digest('sha256', tstInfo)))),
    seq(oid(OID.attrSigningCertificateV2), setOf(signingCertV2)),
  ];
  const signedAttrsSet = setOf(...attrs);
  const signature = opts.signer.sign(signedAttrsSet);
  const signerInfo = seq(
    ...signerVersionAndId(opts.signerCertificate, opts.signerIdentifier),
    algId(OID.sha256),
    implicit(0, signedAttrsSet),
    algId(opts.signer.algorithmOid),
    octetString(signature),
  );

  const sdFields = [
    int(3),
    setOf(algId(OID.sha256)),
    seq(oid(OID.tstInfo), explicit(0, octetString(tstInfo))),
  ];
  if (opts.embedCertificates?.length) sdFields.push(implicit(0, setOf(...opts.embedCertificates)));
  sdFields.push(setOf(signerInfo));
  return seq(oid(OID.signedData), explicit(0, seq(...sdFields)));
}
