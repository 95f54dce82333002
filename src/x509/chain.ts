/**
 * Certificate path validation against the trust root's certificate authorities. The path is
 * always leaf + the CA's own certChain from the trust root: certificates shipped in a bundle
 * are never trusted for what they are, only accepted when byte-identical to one the trust
 * root already has (checklist C19). Validity is judged at each verified time (the signing
 * time proven by a log or TSA), never at "now".
 *
 * Parsed CA chains and the results of their internal (CA-to-CA) checks are cached per
 * CertificateAuthority object, so verifying many bundles costs one leaf parse and one leaf
 * signature check each.
 */
import { fail, StellaError, type CheckName, type ErrorCode } from '../errors.js';
import { windowContains, type CertificateAuthority } from '../model/trust-material.js';
import { bytesEqual, toHex } from '../util/encoding.js';
import {
  formatTime,
  timeAtOrAfter,
  timeInWindow,
  TIME_MIN_MS,
  type TimeValue,
} from '../util/time.js';
import {
  parseCertificate,
  verifyCertificateSignature,
  type Certificate,
  type NameInfo,
} from './certificate.js';
import { OID } from './oids.js';
import { terminalLine } from '../util/text.js';

export interface ChainResult {
  ca: CertificateAuthority;
  /** leaf, intermediate(s), root. */
  path: Certificate[];
}

interface ParsedAuthority {
  certs: Certificate[];
  /** Outcome of checking the chain's own links (signatures, names, CA constraints), once. */
  linkError: StellaError | null | undefined;
  parseError: StellaError | undefined;
}

const authorityCache = new WeakMap<CertificateAuthority, ParsedAuthority>();

/** The CA's certChain parsed once (cached per CertificateAuthority object). */
export function parsedAuthority(ca: CertificateAuthority): ParsedAuthority {
  let p = authorityCache.get(ca);
  if (p) return p;
  try {
    if (ca.certChain.length === 0)
      throw new StellaError(
        'TRUSTED_ROOT_INVALID',
        'trusted-root',
        `certificate authority ${ca.uri || describeName(ca.subject)} has an empty certChain`,
      );
    const certs = ca.certChain.map((der, i) =>
      parseCertificate(der, {
        code: 'TRUSTED_ROOT_INVALID',
        check: 'trusted-root',
        what: `trusted root certificate ${i} of ${ca.uri || describeName(ca.subject)}`,
      }),
    );
    p = { certs, linkError: undefined, parseError: undefined };
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    p = { certs: [], linkError: undefined, parseError: e };
  }
  authorityCache.set(ca, p);
  return p;
}

/**
 * A certificate's name as Stella shows it (messages, the trust store's subject column):
 * `O=…, CN=…`, each value's control, bidirectional and newline characters escaped, as
 * OpenSSL's `-nameopt esc_ctrl` does: a name is a stranger's text, and a CN holding a newline
 * printed a row of its own in `trust list`.
 */
export function describeName(n: NameInfo): string {
  return nameText(n) || '(empty name)';
}

/** describeName, '' for a name with neither field. */
export function nameText(n: NameInfo): string {
  const parts: string[] = [];
  if (n.organization !== undefined) parts.push(`O=${terminalLine(n.organization)}`);
  if (n.commonName !== undefined) parts.push(`CN=${terminalLine(n.commonName)}`);
  return parts.join(', ');
}

/**
 * Why `child` does not name `issuer`'s key, or undefined when it does or says nothing: when the
 * child's authority key identifier and the issuer's subject key identifier are both present,
 * they must be equal (RFC 5280 4.2.1.1: the AKI identifies the key that signed the
 * certificate). OpenSSL and sigstore-js hold a link to this; a certificate whose AKI names
 * another key is inconsistent, whatever signature verifies it.
 */
export function keyIdentifierMismatch(child: Certificate, issuer: Certificate): string | undefined {
  const aki = child.authorityKeyId;
  const ski = issuer.subjectKeyId;
  if (aki === undefined || ski === undefined || bytesEqual(aki, ski)) return undefined;
  return `its authority key identifier ${toHex(aki)} is not the subject key identifier ${toHex(ski)} of ${describeName(issuer.subject)}`;
}

/**
 * Whether `issuer` issued `child`: the child names it (issuer name, and key identifier when
 * both give one) and its key verifies the child's signature. What a lookup among candidate
 * issuers asks; a validation that reports which part failed checks the parts one by one.
 */
export function issuedBy(child: Certificate, issuer: Certificate): boolean {
  return (
    bytesEqual(issuer.subjectDer, child.issuerDer) &&
    keyIdentifierMismatch(child, issuer) === undefined &&
    verifyCertificateSignature(child, issuer.publicKey)
  );
}

/**
 * Check the issuing links inside `chain` (chain[j] issued by chain[j+1]) and that every
 * certificate in it may issue: CA, keyCertSign, path length respected for a path
 * leaf + chain. Throws CERT_CHAIN_INVALID (or `code`) naming the failing certificate.
 */
export function verifyIssuerLinks(
  chain: Certificate[],
  code: ErrorCode = 'CERT_CHAIN_INVALID',
  check: CheckName = 'certificate-chain',
  role = 'CA',
): void {
  let intermediatesBelow = 0;
  for (let j = 0; j < chain.length; j++) {
    const c = chain[j]!;
    const name = `${role} certificate ${describeName(c.subject)}`;
    if (!c.basicConstraints?.ca)
      fail(code, check, `Certificate chain invalid: ${name} is not a CA`);
    if (!c.keyUsage?.has('keyCertSign'))
      fail(code, check, `Certificate chain invalid: ${name} lacks the keyCertSign key usage`);
    if (
      c.basicConstraints.pathLen !== undefined &&
      intermediatesBelow > c.basicConstraints.pathLen
    ) {
      fail(
        code,
        check,
        `Certificate chain invalid: path length constraint of ${name} (${c.basicConstraints.pathLen}) exceeded`,
      );
    }
    if (c.unhandledCriticalExtensions.length)
      fail(
        code,
        check,
        `Certificate chain invalid: ${name} has unsupported critical extension(s) ${c.unhandledCriticalExtensions.join(', ')}`,
      );
    if (c.hasCtPoison)
      fail(
        code,
        check,
        `Certificate chain invalid: ${name} is a precertificate (CT poison extension ${OID.ctPoison})`,
      );
    if (!c.isSelfIssued) intermediatesBelow++;
    const issuer = chain[j + 1];
    if (issuer) {
      if (!bytesEqual(c.issuerDer, issuer.subjectDer))
        fail(
          code,
          check,
          `Certificate chain invalid: ${name} is not issued by ${describeName(issuer.subject)}`,
        );
      if (!verifyCertificateSignature(c, issuer.publicKey))
        fail(code, check, `Certificate chain invalid: signature on ${name} does not verify`);
      const mismatch = keyIdentifierMismatch(c, issuer);
      if (mismatch) fail(code, check, `Certificate chain invalid: ${name}: ${mismatch}`);
    }
  }
}

/** CA-to-CA links of a trusted authority, checked once and remembered. */
function authorityLinkError(ca: CertificateAuthority, p: ParsedAuthority): StellaError | null {
  if (p.linkError !== undefined) return p.linkError;
  try {
    verifyIssuerLinks(p.certs);
    p.linkError = null;
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    p.linkError = e.reworded(`${e.message} (trusted root ${ca.uri || describeName(ca.subject)})`);
  }
  return p.linkError;
}

/** Is `t` within the certificate's validity (both ends inclusive), at `t`'s full precision? */
export function certValidAt(c: Certificate, t: TimeValue): boolean {
  return timeInWindow(t, c.notBefore, c.notAfter);
}

/** Leaf requirements for Fulcio code-signing certificates (checklist C21, H58). */
function checkLeafUsage(leaf: Certificate): void {
  // RFC 6962 §3.1: the poison makes a precertificate unusable as a certificate. It never
  // signs, whether or not SCTs are required (the SCT check is what used to catch it).
  if (leaf.hasCtPoison)
    fail(
      'CERT_USAGE_INVALID',
      'certificate-chain',
      `leaf certificate is a precertificate (CT poison extension ${OID.ctPoison}): a precertificate never signs`,
    );
  if (leaf.basicConstraints?.ca)
    fail('CERT_USAGE_INVALID', 'certificate-chain', 'leaf certificate is a CA certificate');
  if (!leaf.keyUsage?.has('digitalSignature'))
    fail(
      'CERT_USAGE_INVALID',
      'certificate-chain',
      'leaf certificate lacks the digitalSignature key usage',
    );
  if (!leaf.extKeyUsage?.includes(OID.ekuCodeSigning))
    fail(
      'CERT_USAGE_INVALID',
      'certificate-chain',
      'leaf certificate lacks the codeSigning extended key usage',
    );
  if (leaf.unhandledCriticalExtensions.length) {
    fail(
      'CERT_USAGE_INVALID',
      'certificate-chain',
      `leaf certificate has unsupported critical extension(s) ${leaf.unhandledCriticalExtensions.join(', ')}`,
    );
  }
}

function checkTimes(
  ca: CertificateAuthority,
  path: Certificate[],
  verifiedTimes: TimeValue[],
): void {
  for (const t of verifiedTimes) {
    if (!windowContains(ca.validFor, t)) {
      fail(
        'CERT_CHAIN_INVALID',
        'certificate-chain',
        `Certificate chain invalid: verified time ${formatTime(t)} is outside the validity window of certificate authority ${ca.uri || describeName(ca.subject)} (${formatTime(ca.validFor.start)}..${ca.validFor.end === undefined ? 'open' : formatTime(ca.validFor.end)})`,
        {
          verifiedTime: formatTime(t),
        },
      );
    }
    for (let i = 0; i < path.length; i++) {
      const c = path[i]!;
      if (!certValidAt(c, t)) {
        const role = i === 0 ? 'leaf' : i === path.length - 1 ? 'root' : 'intermediate';
        // One code for both ends of the window; the message says which end was crossed.
        const what = timeAtOrAfter(t, c.notBefore)
          ? 'certificate expired'
          : 'certificate not yet valid';
        fail(
          'CERT_EXPIRED',
          'certificate-chain',
          `${what}: ${role} valid ${formatTime(c.notBefore)}..${formatTime(c.notAfter)}, verified time ${formatTime(t)}`,
          {
            certificate: role,
            notBefore: formatTime(c.notBefore),
            notAfter: formatTime(c.notAfter),
            verifiedTime: formatTime(t),
          },
        );
      }
    }
  }
}

/**
 * How far an attempt to validate the leaf under one CA got (the stages below, in order), and
 * its error, built only when it is the one reported: most CAs of a trust root fail at stage 1
 * for every bundle (the leaf names another issuer), and an error captures a stack trace.
 */
interface FailedAttempt {
  stage: number;
  error: () => StellaError;
}

function chainInvalid(stage: number, message: () => string): FailedAttempt {
  return {
    stage,
    error: () =>
      new StellaError(
        'CERT_CHAIN_INVALID',
        'certificate-chain',
        `Certificate chain invalid: ${message()}`,
      ),
  };
}

/** The StellaError `check` throws, or undefined when it passes. */
function failureOf(check: () => void): StellaError | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    return e;
  }
}

/**
 * Validate `leaf` under one CA, stage by stage: the CA's chain parses (0), the leaf names its
 * issuing certificate (1), bundle intermediates are the CA's own (2), the leaf signature (3),
 * the CA's own links (4, cached), leaf usage (5), times (6, 7 for a certificate's validity).
 */
function validateUnder(
  leaf: Certificate,
  bundleCerts: Certificate[],
  ca: CertificateAuthority,
  verifiedTimes: TimeValue[],
): ChainResult | FailedAttempt {
  const p = parsedAuthority(ca);
  const { parseError } = p;
  if (parseError) return { stage: 0, error: () => parseError };
  const issuer = p.certs[0]!;
  if (!bytesEqual(leaf.issuerDer, issuer.subjectDer))
    return chainInvalid(
      1,
      () => `leaf issuer ${describeName(leaf.issuer)} is not a trusted certificate authority`,
    );
  const foreign = bundleCerts.find((b) => !p.certs.some((c) => bytesEqual(c.der, b.der)));
  if (foreign)
    return chainInvalid(
      2,
      () =>
        `intermediate certificate ${describeName(foreign.subject)} in the bundle is not in the trusted root`,
    );
  if (!verifyCertificateSignature(leaf, issuer.publicKey))
    return chainInvalid(
      3,
      () => `leaf certificate signature does not verify under ${describeName(issuer.subject)}`,
    );
  const mismatch = keyIdentifierMismatch(leaf, issuer);
  if (mismatch) return chainInvalid(3, () => `leaf certificate: ${mismatch}`);
  const linkError = authorityLinkError(ca, p);
  if (linkError) return { stage: 4, error: () => linkError };
  const usageError = failureOf(() => checkLeafUsage(leaf));
  if (usageError) return { stage: 5, error: () => usageError };
  const path = [leaf, ...p.certs];
  const timeError = failureOf(() => checkTimes(ca, path, verifiedTimes));
  if (timeError)
    return { stage: timeError.code === 'CERT_EXPIRED' ? 7 : 6, error: () => timeError };
  return { ca, path };
}

/**
 * Validate `leaf` up to one of `cas` at every verified time. `bundleCerts` are the
 * intermediates a v0.1/v0.2 bundle ships (leaf excluded); each must be byte-identical to a
 * certificate of the chosen CA. Tries every CA whose chain can issue the leaf and, if none
 * succeeds, reports the error from the attempt that got furthest.
 */
export function verifyCertificateChain(
  leaf: Certificate,
  bundleCerts: Certificate[],
  cas: CertificateAuthority[],
  verifiedTimes: TimeValue[],
): ChainResult {
  for (const c of bundleCerts) {
    if (c.isSelfIssued)
      fail(
        'CERT_CHAIN_INVALID',
        'certificate-chain',
        'Certificate chain invalid: bundle includes a root certificate',
      );
  }
  if (verifiedTimes.length === 0)
    fail(
      'NO_VERIFIED_TIME',
      'verified-times',
      'no verified time to check the certificate chain at',
    );
  let furthest: FailedAttempt | undefined;
  for (const ca of cas) {
    const attempt = validateUnder(leaf, bundleCerts, ca, verifiedTimes);
    if ('path' in attempt) return attempt;
    if (!furthest || attempt.stage > furthest.stage) furthest = attempt;
  }
  if (furthest) throw furthest.error();
  return fail(
    'CERT_CHAIN_INVALID',
    'certificate-chain',
    'Certificate chain invalid: the trusted root has no certificate authorities',
  );
}

/**
 * The signing side's check of a chain a CA has just issued (signer.yaml
 * certificate.validateChain), by the same rules as verification: CA flags, keyCertSign, path
 * length, issuer names, every signature, the leaf's usages, and every certificate's validity
 * at `times`. `chain` is the leaf, then the issuing certificates as the CA returned them; it
 * must end at one of `roots` (its last certificate is one of them, or is issued by one).
 * `times` are when the leaf was issued (its notBefore): the CA's clock, not ours, says when
 * that was, and every certificate above it must have been valid then.
 */
export function verifyIssuedChain(
  chain: Certificate[],
  roots: Certificate[],
  times: TimeValue[],
  rootsName: string,
): ChainResult {
  const [leaf, ...issuers] = chain;
  if (!leaf)
    return fail(
      'CERT_CHAIN_INVALID',
      'certificate-chain',
      'Certificate chain invalid: the CA returned no certificate',
    );
  const path = issuers.map((c) => c.der);
  const last = issuers[issuers.length - 1] ?? leaf;
  if (!roots.some((r) => bytesEqual(r.der, last.der))) {
    const root = roots.find((r) => issuedBy(last, r));
    if (!root)
      fail(
        'CERT_CHAIN_INVALID',
        'certificate-chain',
        `Certificate chain invalid: the chain does not end at a root in ${rootsName}`,
      );
    path.push(root.der);
  }
  if (path.length === 0)
    fail(
      'CERT_CHAIN_INVALID',
      'certificate-chain',
      'Certificate chain invalid: the CA returned a root certificate, not a leaf',
    );
  // No trust-root window applies to a chain checked at issuance: the certificates' own validity does.
  const ca: CertificateAuthority = {
    subject: {},
    uri: rootsName,
    certChain: path,
    validFor: { start: TIME_MIN_MS, end: undefined },
  };
  return verifyCertificateChain(leaf, [], [ca], times);
}
