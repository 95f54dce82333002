/**
 * `stella attest inspect`: what a bundle says, verifying nothing — the seed's debugging
 * section ("Inspect certificate to see actual identity"): the certificate's subject (the OIDC
 * subject, or a derived one), issuer, SAN, every Fulcio extension by name, validity and SCTs;
 * each transparency log entry; for DSSE the payload type, predicate type and subjects. Pure:
 * bytes in, a plain description out. Nothing here is checked against a trust root.
 */
import type { Bundle, BundleContent } from '../bundle/model.js';
import { parseInTotoStatement } from '../bundle/intoto.js';
import { toHex, utf8Decoder } from '../util/encoding.js';
import { formatTime } from '../util/time.js';
import { parseCertificate, oidcIssuer, type Certificate } from '../x509/certificate.js';
import { fulcioExtensionName } from '../x509/fulcio-extensions.js';
import { identityCandidates } from '../x509/identity-candidates.js';
import { parseSctList } from '../x509/sct.js';
import { OID } from '../x509/oids.js';
import { leafCertificateDer } from '../bundle/model.js';
import { terminalLine } from '../util/text.js';

export const NOT_VERIFIED_NOTE =
  "inspect verifies nothing: these are the bundle's claims, unchecked (use `stella attest verify` to check them)";

export interface BundleDescription {
  mediaType: string;
  content: Bundle['content']['kind'];
  certificate?: {
    subject: string | undefined;
    subjectField: string | undefined;
    issuer: string | undefined;
    san: string[];
    extensions: { oid: string; name: string; value: string }[];
    notBefore: string;
    notAfter: string;
    serialNumber: string;
    issuerName: string | undefined;
    scts: { logId: string; time: string }[];
    pem: string;
  };
  publicKeyHint?: string;
  tlogEntries: {
    logIndex: number;
    logId: string;
    kind: string;
    integratedTime: string | undefined;
    checkpointSize: number | undefined;
    checkpointOrigin: string | undefined;
  }[];
  rfc3161Timestamps: number;
  dsse?: {
    payloadType: string;
    predicateType?: string;
    subjects?: { name: string; digest: Record<string, string> }[];
  };
  messageDigest?: string;
  /** Parts that could not be read (the rest is still described). */
  problems: string[];
}

export function describeBundle(bundle: Bundle): BundleDescription {
  const problems: string[] = [];
  const m = bundle.verificationMaterial.content;
  const out: BundleDescription = {
    mediaType: bundle.mediaType,
    content: bundle.content.kind,
    tlogEntries: bundle.verificationMaterial.tlogEntries.map((e) => ({
      logIndex: e.logIndex,
      logId: toHex(e.logId),
      kind: `${e.kindVersion.kind}/${e.kindVersion.version}`,
      integratedTime: e.integratedTime > 0 ? formatTime(e.integratedTime * 1000) : undefined,
      checkpointSize: e.inclusionProof?.treeSize,
      checkpointOrigin: e.inclusionProof?.checkpoint.split('\n')[0],
    })),
    rfc3161Timestamps: bundle.verificationMaterial.rfc3161Timestamps.length,
    problems,
  };
  const leafDer = leafCertificateDer(m);
  if (m.kind === 'publicKey') out.publicKeyHint = m.hint;
  if (leafDer) {
    const certificate = describeCertificate(leafDer, problems);
    if (certificate) out.certificate = certificate;
  }
  const c = bundle.content;
  if (c.kind === 'dsseEnvelope') {
    out.dsse = describeDsse(c, problems);
  } else if (c.messageDigest) {
    out.messageDigest = `${c.messageDigest.algorithm}:${toHex(c.messageDigest.digest)}`;
  }
  return out;
}

/**
 * The signing certificate as a reader wants it: who (the OIDC subject, or what the other
 * extensions derive), which issuer, SANs, Fulcio extensions, validity and SCTs. What cannot be
 * read goes to `problems`; a certificate that does not parse at all gives undefined.
 */
function describeCertificate(
  der: Uint8Array,
  problems: string[],
): BundleDescription['certificate'] | undefined {
  try {
    const leaf = parseCertificate(der);
    const candidates = identityCandidates(leaf);
    const subject =
      candidates.find((c) => c.field.startsWith('OIDC subject')) ??
      candidates.find((c) => c.derived);
    let issuer: string | undefined;
    try {
      issuer = oidcIssuer(leaf);
    } catch (e) {
      problems.push((e as Error).message);
    }
    const certificate = {
      subject: subject?.value,
      subjectField: subject?.field,
      issuer,
      san: candidates.filter((c) => c.field.startsWith('SAN')).map((c) => c.value),
      extensions: [...leaf.fulcio.values.entries()].map(([oid, value]) => ({
        oid,
        name: fulcioExtensionName(oid) ?? oid,
        value,
      })),
      notBefore: formatTime(leaf.notBefore),
      notAfter: formatTime(leaf.notAfter),
      serialNumber: leaf.serialNumber,
      issuerName: leaf.issuer.commonName,
      scts: embeddedScts(leaf, problems),
      pem: leaf.toPem(),
    };
    if (!leaf.fulcio.values.has(OID.fulcioSubject) && subject)
      problems.push(
        `no OIDC subject extension (${OID.fulcioSubject}): the subject shown is derived from the other extensions (Fulcio before v1.8.6)`,
      );
    return certificate;
  } catch (e) {
    problems.push(`certificate: ${(e as Error).message}`);
    return undefined;
  }
}

/** The certificate's embedded SCTs: which CT log, at what time. */
function embeddedScts(leaf: Certificate, problems: string[]): { logId: string; time: string }[] {
  if (!leaf.embeddedSctList) return [];
  try {
    return parseSctList(leaf.embeddedSctList).map((s) => ({
      logId: toHex(s.logId),
      time: formatTime(s.timestamp),
    }));
  } catch (e) {
    problems.push((e as Error).message);
    return [];
  }
}

/** A DSSE envelope's payload type and, for an in-toto statement, its predicate and subjects. */
function describeDsse(
  c: Extract<BundleContent, { kind: 'dsseEnvelope' }>,
  problems: string[],
): NonNullable<BundleDescription['dsse']> {
  const dsse: NonNullable<BundleDescription['dsse']> = { payloadType: c.payloadType };
  if (c.payloadType === 'application/vnd.in-toto+json') {
    try {
      const st = parseInTotoStatement(c.payload);
      dsse.predicateType = st.predicateType;
      dsse.subjects = st.subject.map((s) => ({ name: s.name, digest: s.digest }));
    } catch (e) {
      problems.push((e as Error).message);
    }
  } else {
    try {
      utf8Decoder.decode(c.payload);
    } catch {
      problems.push('DSSE payload is not UTF-8');
    }
  }
  return dsse;
}

/** The human form: the seed's "Certificate Subject / Issuer / SAN" lines first. */
export function describeLines(d: BundleDescription, showCert: boolean): string[] {
  const out: string[] = [`Bundle: ${d.mediaType} (${d.content})`];
  if (d.certificate) {
    const cert = d.certificate;
    out.push(
      `Certificate Subject: ${cert.subject ?? '(none)'}${cert.subjectField && cert.subjectField.startsWith('derived') ? ` [${cert.subjectField}]` : ''}`,
    );
    out.push(`Certificate Issuer: ${cert.issuer ?? '(none)'}`);
    out.push(`Certificate SAN: ${cert.san.join(', ') || '(none)'}`);
    for (const e of cert.extensions) out.push(`  ${e.name} (${e.oid}): ${e.value}`);
    out.push(
      `Certificate Validity: ${cert.notBefore} to ${cert.notAfter} (serial ${cert.serialNumber}, issued by ${cert.issuerName ?? '?'})`,
    );
    for (const s of cert.scts) out.push(`SCT: log ${s.logId} at ${s.time}`);
    if (showCert) out.push(...cert.pem.trimEnd().split('\n'));
  }
  if (d.publicKeyHint !== undefined) out.push(`Public key hint: ${d.publicKeyHint}`);
  if (d.tlogEntries.length === 0) out.push('Transparency log entries: none');
  for (const e of d.tlogEntries) {
    out.push(
      `Transparency log entry: index ${e.logIndex}, ${e.kind}, log ${e.logId}${e.integratedTime ? `, integrated ${e.integratedTime}` : ''}${e.checkpointSize !== undefined ? `, checkpoint size ${e.checkpointSize} (${e.checkpointOrigin})` : ''}`,
    );
  }
  if (d.rfc3161Timestamps > 0) out.push(`RFC 3161 timestamps: ${d.rfc3161Timestamps}`);
  if (d.messageDigest) out.push(`Message digest: ${d.messageDigest}`);
  if (d.dsse) {
    out.push(`DSSE payload type: ${d.dsse.payloadType}`);
    if (d.dsse.predicateType) out.push(`Predicate type: ${d.dsse.predicateType}`);
    for (const s of d.dsse.subjects ?? [])
      out.push(
        `Subject: ${s.name} ${Object.entries(s.digest)
          .map(([k, v]) => `${k}:${v}`)
          .join(' ')}`,
      );
  }
  for (const p of d.problems) out.push(`note: ${p}`);
  // Every value above is the bundle's claim, unverified: each stays on its own line, and what
  // a terminal would act on is shown escaped.
  return out.map(terminalLine);
}
