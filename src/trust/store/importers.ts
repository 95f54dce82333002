/**
 * Import formats -> entry candidates (pure: bytes and options in, candidates or a StellaError
 * out). Formats: a trusted_root.json (v0.1/v0.2), a PEM bundle of a private Fulcio's root and
 * intermediates, a Fulcio /api/v2/trustBundle response, and a Rekor / CT log public key PEM.
 */
import { fail, StellaError } from '../../errors.js';
import { parsePublicKey, sha256, spkiOf } from '../../crypto.js';
import { parseJsonStrict } from '../../util/json.js';
import { decodeUtf8Text } from '../../util/encoding.js';
import {
  parseCertificate,
  verifyCertificateSignature,
  type Certificate,
} from '../../x509/certificate.js';
import { pemToDerList } from '../../util/pem.js';
import { bytesEqual } from '../../util/encoding.js';
import { formatTime, TIME_MIN_MS } from '../../util/time.js';
import type { CertificateAuthority, TransparencyLogInstance } from '../../model/trust-material.js';
import { parseTrustedRoot } from '../trusted-root.js';
import { describeName, keyIdentifierMismatch } from '../../x509/chain.js';
import {
  authorityCandidate,
  candidatesFromTrustMaterial,
  logCandidate,
  type EntryCandidate,
} from './entries.js';
import { keyDetailsOf } from './keys.js';
import { quoted } from '../../util/text.js';

export type ImportFormat = 'trusted-root' | 'pem-bundle' | 'trust-bundle' | 'log-key';

export interface ImportOptions {
  /** For PEM bundles and trust bundles: 'ca' (default) or 'tsa'. For keys: 'tlog' (default) or 'ctlog'. */
  kind?: 'ca' | 'tsa' | 'tlog' | 'ctlog';
  validFrom?: number;
  validUntil?: number;
  /** CA URI (PEM bundle, trust bundle). */
  uri?: string;
  /** Log base URL (log key). */
  logUrl?: string;
}

export interface ImportPlan {
  format: ImportFormat;
  candidates: EntryCandidate[];
}

/** Largest import file accepted (trusted roots are a few KiB). */
export const MAX_IMPORT_BYTES = 4 * 1024 * 1024;
const MAX_CHAIN = 10;
const MAX_CHAINS = 64;

function invalid(message: string, details?: Record<string, unknown>): never {
  throw new StellaError('IMPORT_INVALID', 'trust-store', message, details);
}

/** A certificate that does not parse (CERTIFICATE_MALFORMED, DER_LIMIT_EXCEEDED) is IMPORT_INVALID naming where it was. */
function parseImportedCertificate(der: Uint8Array, what: string): Certificate {
  try {
    return parseCertificate(der);
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    throw new StellaError('IMPORT_INVALID', 'trust-store', `${what}: ${e.message}`, e.details, {
      cause: e,
    });
  }
}

function checkWindowFlags(opts: ImportOptions): void {
  if (
    opts.validFrom !== undefined &&
    opts.validUntil !== undefined &&
    opts.validUntil < opts.validFrom
  ) {
    invalid('--valid-until is before --valid-from');
  }
}

/**
 * Order a set of CA certificates into one chain, issuing certificate first and the
 * self-signed root last (the trusted_root.json order), checking every link's signature.
 */
export function orderCertificateChain(
  ders: Uint8Array[],
  kind: 'ca' | 'tsa',
  what: string,
): Uint8Array[] {
  if (ders.length === 0) invalid(`${what}: no certificates`);
  if (ders.length > MAX_CHAIN) invalid(`${what}: more than ${MAX_CHAIN} certificates in one chain`);
  const certs: Certificate[] = ders.map((d, i) =>
    parseImportedCertificate(d, `${what}: certificate ${i + 1}`),
  );
  for (let i = 0; i < certs.length; i++) {
    for (let j = i + 1; j < certs.length; j++) {
      if (bytesEqual(certs[i]!.der, certs[j]!.der))
        invalid(`${what}: certificate ${j + 1} repeats certificate ${i + 1}`);
    }
  }
  const roots = certs.filter((c) => c.isSelfIssued && verifyCertificateSignature(c, c.publicKey));
  if (roots.length !== 1)
    invalid(`${what}: expected exactly one self-signed root certificate, found ${roots.length}`);
  const ordered: Certificate[] = [roots[0]!];
  const left = new Set(certs.filter((c) => c !== roots[0]));
  while (left.size > 0) {
    const parent = ordered[ordered.length - 1]!;
    const children = [...left].filter(
      (c) =>
        bytesEqual(c.issuerDer, parent.subjectDer) &&
        verifyCertificateSignature(c, parent.publicKey),
    );
    if (children.length !== 1) {
      invalid(
        children.length === 0
          ? `${what}: certificate chain is broken (a certificate is not issued by any other in the bundle)`
          : `${what}: certificates do not form a single chain (two certificates issued by the same parent)`,
      );
    }
    // The link the chain check will hold at every verification (x509/chain.ts): refused
    // now, so a chain that can never verify is not stored.
    const mismatch = keyIdentifierMismatch(children[0]!, parent);
    if (mismatch)
      invalid(`${what}: certificate ${describeName(children[0]!.subject)}: ${mismatch}`);
    ordered.push(children[0]!);
    left.delete(children[0]!);
  }
  ordered.forEach((c, i) => {
    const isLeafTsa = kind === 'tsa' && i === ordered.length - 1 && ordered.length > 1;
    if (!isLeafTsa && c.basicConstraints?.ca !== true) {
      invalid(
        `${what}: certificate ${quoted(c.subject.commonName ?? c.serialNumber)} is not a CA certificate (basicConstraints cA is not set)`,
      );
    }
  });
  return ordered.reverse().map((c) => c.der);
}

function authorityFromChain(
  chain: Uint8Array[],
  kind: 'ca' | 'tsa',
  opts: ImportOptions,
): CertificateAuthority {
  const certs = chain.map((d) => parseCertificate(d));
  const root = certs[certs.length - 1]!;
  // Default window: from the moment every certificate in the chain is valid; open-ended
  // (certificate expiry is still checked per certificate by the chain step).
  // A certificate may date from before 1970 (UTCTime reaches back to 1950); a window may not
  // (util/time.ts's range), and starting it later is only stricter.
  // A CA's URI is what verifiers and `trust export` name it by, and importing the same
  // chain again is a duplicate that cannot set it: it is asked for now, not stored empty.
  if (kind === 'ca' && (opts.uri === undefined || opts.uri.trim() === '')) {
    invalid(
      "a Fulcio CA certificate chain needs --uri (the CA's URL, e.g. https://fulcio.example.internal): it is stored with the entry and cannot be set by importing the same chain again",
    );
  }
  const start = opts.validFrom ?? Math.max(TIME_MIN_MS, ...certs.map((c) => c.notBefore));
  const end = opts.validUntil;
  if (end !== undefined && end < start)
    invalid(`--valid-until is before the chain's validity start ${formatTime(start)}`);
  const subject: CertificateAuthority['subject'] = {};
  if (root.subject.organization !== undefined) subject.organization = root.subject.organization;
  if (root.subject.commonName !== undefined) subject.commonName = root.subject.commonName;
  return { subject, uri: opts.uri ?? '', certChain: chain, validFor: { start, end } };
}

function pemCertificates(text: string, what: string): Uint8Array[] {
  return pemToDerList(text, 'CERTIFICATE', { code: 'IMPORT_INVALID', check: 'trust-store', what });
}

function importPemBundle(text: string, opts: ImportOptions): ImportPlan {
  const kind = opts.kind ?? 'ca';
  if (kind !== 'ca' && kind !== 'tsa')
    invalid(`a certificate bundle imports as --kind ca or tsa, not ${kind}`);
  const chain = orderCertificateChain(pemCertificates(text, 'PEM bundle'), kind, 'PEM bundle');
  return {
    format: 'pem-bundle',
    candidates: [authorityCandidate(kind, authorityFromChain(chain, kind, opts))],
  };
}

function importTrustBundle(doc: Record<string, unknown>, opts: ImportOptions): ImportPlan {
  const kind = opts.kind ?? 'ca';
  if (kind !== 'ca' && kind !== 'tsa')
    invalid(`a trust bundle imports as --kind ca or tsa, not ${kind}`);
  const chains = doc.chains;
  if (!Array.isArray(chains) || chains.length === 0)
    invalid('Fulcio trust bundle: "chains" must be a non-empty array');
  if (chains.length > MAX_CHAINS) invalid(`Fulcio trust bundle: more than ${MAX_CHAINS} chains`);
  const candidates = chains.map((c: unknown, i) => {
    const certsField = (c as { certificates?: unknown } | null)?.certificates;
    if (!Array.isArray(certsField) || certsField.some((p) => typeof p !== 'string')) {
      invalid(`Fulcio trust bundle: chains[${i}].certificates must be an array of PEM strings`);
    }
    const ders = (certsField as string[]).flatMap((p, j) =>
      pemCertificates(p, `Fulcio trust bundle chains[${i}].certificates[${j}]`),
    );
    const chain = orderCertificateChain(ders, kind, `Fulcio trust bundle chains[${i}]`);
    return authorityCandidate(kind, authorityFromChain(chain, kind, opts));
  });
  return { format: 'trust-bundle', candidates };
}

function importLogKey(text: string, opts: ImportOptions): ImportPlan {
  const kind = opts.kind ?? 'tlog';
  if (kind !== 'tlog' && kind !== 'ctlog')
    invalid(`a public key imports as --kind tlog or ctlog, not ${kind}`);
  const blocks = text.match(/-----BEGIN PUBLIC KEY-----/g) ?? [];
  if (blocks.length !== 1)
    invalid(`log key file: expected exactly one PUBLIC KEY block, found ${blocks.length}`);
  if (!opts.logUrl)
    invalid("a log key needs --log-url (the log's base URL, e.g. https://rekor.example.internal)");
  if (opts.validFrom === undefined)
    invalid(
      'a log key needs --valid-from (when the log started signing with this key); a key without a start is not a valid trust root',
    );
  const key = parsePublicKey(text, 'log key file', 'IMPORT_INVALID', 'trust-store');
  const spki = spkiOf(key);
  const log: TransparencyLogInstance = {
    baseUrl: opts.logUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: spki,
      keyDetails: keyDetailsOf(key),
      key,
      validFor: { start: opts.validFrom, end: opts.validUntil },
    },
    // RFC 6962 / Rekor v1 log id: SHA-256 of the DER SubjectPublicKeyInfo.
    logId: sha256(spki),
    checkpointKeyId: undefined,
  };
  return { format: 'log-key', candidates: [logCandidate(kind, log)] };
}

/** Recognise the format of `bytes` and turn it into entry candidates. */
export function planImport(bytes: Uint8Array, opts: ImportOptions = {}): ImportPlan {
  if (bytes.byteLength > MAX_IMPORT_BYTES)
    fail('IMPORT_INVALID', 'trust-store', `import file is larger than ${MAX_IMPORT_BYTES} bytes`);
  checkWindowFlags(opts);
  const decoded = decodeUtf8Text(bytes);
  if (!decoded.ok) return invalid(`import file (expected JSON or PEM): ${decoded.problem}`);
  const text = decoded.text;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    const doc = parseJsonStrict(bytes, {
      maxDepth: 32,
      maxBytes: MAX_IMPORT_BYTES,
      what: 'import file',
      code: 'IMPORT_INVALID',
      limitCode: 'IMPORT_INVALID',
      check: 'trust-store',
    });
    const obj = doc as Record<string, unknown>;
    if (typeof obj.mediaType === 'string') {
      if (
        opts.validFrom !== undefined ||
        opts.validUntil !== undefined ||
        opts.uri !== undefined ||
        opts.logUrl !== undefined
      ) {
        invalid(
          'a trusted_root.json carries its own windows and URLs; --valid-from/--valid-until/--uri/--log-url do not apply',
        );
      }
      return {
        format: 'trusted-root',
        candidates: candidatesFromTrustMaterial(parseTrustedRoot(bytes)),
      };
    }
    if ('chains' in obj) return importTrustBundle(obj, opts);
    invalid(
      'unrecognised JSON: expected a trusted_root.json (with mediaType) or a Fulcio trustBundle (with chains)',
    );
  }
  const hasCert = text.includes('-----BEGIN CERTIFICATE-----');
  const hasKey = text.includes('-----BEGIN PUBLIC KEY-----');
  if (hasCert && hasKey)
    invalid('PEM file mixes certificates and public keys; import them separately');
  if (hasCert) return importPemBundle(text, opts);
  if (hasKey) return importLogKey(text, opts);
  return invalid(
    'unrecognised import file: expected trusted_root.json, a Fulcio trustBundle JSON, a PEM certificate bundle or a PEM public key',
  );
}
