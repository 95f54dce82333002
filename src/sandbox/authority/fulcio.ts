/**
 * A Fulcio-compatible certificate authority core (pure, in memory): a root and an issuing
 * intermediate CA, plus the CT log that countersigns every leaf. Issuance follows Fulcio v2:
 *
 *   verified OIDC claims + public key + proof of possession
 *     -> precertificate (CT poison) -> SCT from the CT log -> final leaf with the SCT embedded.
 *
 * The leaf lives 10 minutes, has an empty subject, a critical SAN naming the workload identity,
 * keyUsage digitalSignature (critical), EKU codeSigning, SKI/AKI and the Sigstore extensions
 * (see ./fulcio-identity.ts). Certificates are deterministic functions of keys, inputs and
 * clock (RFC 6979 signatures, serials derived from the content).
 */
import { fail, isStellaError } from '../../errors.js';
import { parsePublicKey, sha256, verifySignature } from '../../crypto.js';
import { concatBytes, decodeBase64, utf8 } from '../../util/encoding.js';
import type { Extension } from '../../x509/certificate.js';
import { derToPem } from '../../util/pem.js';
import { decodeJwt } from '../../util/jwt.js';
import {
  authorityKeyIdExtension,
  basicConstraintsExtension,
  buildTbsCertificate,
  ctPoisonExtension,
  extKeyUsageExtension,
  fulcioExtension,
  issueCertificate,
  keyIdentifierFromSpki,
  keyUsageExtension,
  sctListExtension,
  signTbsCertificate,
  subjectAltNameExtension,
  subjectKeyIdExtension,
  type DN,
} from '../../x509/issue.js';
import { OID } from '../../x509/oids.js';
import {
  buildPrecertSignedData,
  encodeSct,
  encodeSctList,
  removeExtensionFromTbs,
  TlsHash,
  TlsSignature,
} from '../../x509/sct.js';
import { fulcioIdentity, type FulcioIdentity, type FulcioIdentityKind } from './fulcio-identity.js';
import type { AuthorityKey } from './keys.js';
import { verifyToken, type OidcClaims, type TrustedOidcIssuer } from './oidc.js';
import { withoutTrailing } from '../../util/text.js';

export const LEAF_LIFETIME_MS = 10 * 60 * 1000;
/** CA certificates: ten years from the authority's creation time. */
export const CA_LIFETIME_MS = 10 * 365 * 24 * 60 * 60 * 1000;

export const ROOT_NAME: DN = { organization: 'stella-sandbox.dev', commonName: 'stella-sandbox' };
export const INTERMEDIATE_NAME: DN = {
  organization: 'stella-sandbox.dev',
  commonName: 'stella-sandbox-intermediate',
};

export interface FulcioIssuerConfig {
  /** The exact `iss`; "*" (sandbox only) accepts any http(s) issuer whose token a "*" trusted issuer's key signed. */
  issuerUrl: string;
  /** Identity template; default: chosen from the token's claims. */
  kind?: FulcioIdentityKind;
  /** Forge URL for the CI templates (default https://github.com, https://gitlab.com, ...). */
  serverUrl?: string;
  audience?: string;
}

export interface FulcioOptions {
  rootKey: AuthorityKey;
  intermediateKey: AuthorityKey;
  ctLogKey: AuthorityKey;
  /** When the CA certificates start being valid (ms); they last CA_LIFETIME_MS. */
  createdAt: number;
  issuers: FulcioIssuerConfig[];
}

export interface IssueSigningCertificateInput {
  claims: OidcClaims;
  issuerUrl: string;
  /** DER SubjectPublicKeyInfo of the signer's (ephemeral) key. */
  subjectPublicKeySpki: Uint8Array;
  /** Signature by that key over the challenge (the token's `sub`, or its email). */
  proofOfPossession: Uint8Array;
  /** ms since the epoch. */
  now: number;
  /** Issue as Fulcio before v1.8.6 did: no OIDC subject extension (.24). */
  omitSubject?: boolean;
}

export interface IssuedChain {
  /** DER: leaf, intermediate, root. */
  chain: [Uint8Array, Uint8Array, Uint8Array];
  identity: FulcioIdentity;
  /** The SCT timestamp (ms). */
  sctTimestamp: number;
}

/** Fulcio v2 CreateSigningCertificateRequest (JSON). */
export interface SigningCertificateRequestJson {
  credentials?: { oidcIdentityToken?: string };
  publicKeyRequest?: {
    publicKey?: { algorithm?: string; content?: string };
    proofOfPossession?: string;
  };
  certificateSigningRequest?: string;
}

export interface SigningCertificateResponseJson {
  signedCertificateEmbeddedSct: { chain: { certificates: string[] } };
}

interface LeafBase {
  serial: Uint8Array;
  issuerName: DN;
  subjectName: Uint8Array;
  notBefore: number;
  notAfter: number;
  subjectPublicKeySpki: Uint8Array;
  signatureAlgorithmOid: string;
}

function rejected(message: string, details?: Record<string, unknown>): never {
  return fail('FULCIO_REJECTED', 'signing', message, details);
}

/** A positive 16-byte serial derived from what makes the certificate unique. */
function deriveSerial(...parts: Uint8Array[]): Uint8Array {
  const h = sha256(concatBytes(...parts)).slice(0, 16);
  h[0] = (h[0]! & 0x7f) | 0x01;
  return h;
}

function timeBytes(ms: number): Uint8Array {
  return utf8.encode(String(ms));
}

export class FulcioCA {
  readonly rootCertificate: Uint8Array;
  readonly intermediateCertificate: Uint8Array;
  readonly createdAt: number;
  readonly notAfter: number;
  readonly issuers: readonly FulcioIssuerConfig[];
  readonly #intermediateKey: AuthorityKey;
  readonly #ctLogKey: AuthorityKey;
  readonly #intermediateKeyId: Uint8Array;

  constructor(opts: FulcioOptions) {
    this.createdAt = opts.createdAt;
    this.notAfter = opts.createdAt + CA_LIFETIME_MS;
    this.issuers = opts.issuers.map((i) => ({
      ...i,
      issuerUrl: withoutTrailing(i.issuerUrl, '/'),
    }));
    this.#intermediateKey = opts.intermediateKey;
    this.#ctLogKey = opts.ctLogKey;
    const rootKeyId = keyIdentifierFromSpki(opts.rootKey.spki);
    this.#intermediateKeyId = keyIdentifierFromSpki(opts.intermediateKey.spki);
    this.rootCertificate = issueCertificate({
      serial: deriveSerial(utf8.encode('root'), opts.rootKey.spki, timeBytes(this.createdAt)),
      issuerName: ROOT_NAME,
      subjectName: ROOT_NAME,
      notBefore: this.createdAt,
      notAfter: this.notAfter,
      subjectPublicKeySpki: opts.rootKey.spki,
      extensions: [
        keyUsageExtension(['keyCertSign', 'cRLSign']),
        basicConstraintsExtension(true, 1),
        subjectKeyIdExtension(rootKeyId),
      ],
      signer: opts.rootKey.certSigner,
    });
    this.intermediateCertificate = issueCertificate({
      serial: deriveSerial(
        utf8.encode('intermediate'),
        opts.intermediateKey.spki,
        timeBytes(this.createdAt),
      ),
      issuerName: ROOT_NAME,
      subjectName: INTERMEDIATE_NAME,
      notBefore: this.createdAt,
      notAfter: this.notAfter,
      subjectPublicKeySpki: opts.intermediateKey.spki,
      extensions: [
        keyUsageExtension(['keyCertSign', 'cRLSign']),
        extKeyUsageExtension([OID.ekuCodeSigning]),
        basicConstraintsExtension(true, 0),
        subjectKeyIdExtension(this.#intermediateKeyId),
        authorityKeyIdExtension(rootKeyId),
      ],
      signer: opts.rootKey.certSigner,
    });
  }

  /** sha256(SPKI) of the CT log key: the SCT log id and the trusted root's ctlog id. */
  get ctLogId(): Uint8Array {
    return sha256(this.#ctLogKey.spki);
  }

  get ctLogKeySpki(): Uint8Array {
    return this.#ctLogKey.spki;
  }

  issuerConfig(issuerUrl: string): FulcioIssuerConfig {
    const url = withoutTrailing(issuerUrl, '/');
    const cfg =
      this.issuers.find((i) => i.issuerUrl === url) ??
      (this.issuers.some((i) => i.issuerUrl === '*') && /^https?:\/\/[^\s]+$/.test(url)
        ? { issuerUrl: url }
        : undefined);
    if (!cfg)
      rejected(`Fulcio: OIDC issuer "${issuerUrl}" is not configured`, { issuer: issuerUrl });
    return cfg;
  }

  /**
   * Issue a leaf for already-verified claims. Checks the proof of possession (a signature by
   * the submitted key over the challenge) before anything is signed.
   */
  issueSigningCertificate(input: IssueSigningCertificateInput): IssuedChain {
    const { base, extensions, identity } = this.#prepare(input);
    // RFC 6962 §3.1: the CT log signs the precertificate's TBS with the poison removed; the
    // final certificate carries the same extensions in the same order, with the SCT list
    // where the poison was, so a verifier removing the SCT list gets the bytes the log signed.
    const precert = this.#precertificate(base, extensions);
    const precertTbs = removeExtensionFromTbs(
      precert.tbs,
      OID.ctPoison,
      'FULCIO_REJECTED',
      'signing',
    );
    const sctTimestamp = input.now;
    const signed = buildPrecertSignedData({
      timestamp: sctTimestamp,
      issuerKeyHash: sha256(this.#intermediateKey.spki),
      precertTbs,
    });
    const sct = encodeSct({
      logId: this.ctLogId,
      timestamp: sctTimestamp,
      extensions: new Uint8Array(0),
      hashAlgorithm: TlsHash.sha256,
      signatureAlgorithm: TlsSignature.ecdsa,
      signature: this.#ctLogKey.sign(signed),
    });
    const finalTbs = buildTbsCertificate({
      ...base,
      extensions: [...extensions, sctListExtension(encodeSctList([sct]))],
    });
    const leaf = signTbsCertificate(finalTbs, this.#intermediateKey.certSigner);
    return {
      chain: [leaf, this.intermediateCertificate, this.rootCertificate],
      identity,
      sctTimestamp,
    };
  }

  /** The precertificate (CT poison, signed by the intermediate) Fulcio submits to its CT log. */
  precertificate(input: IssueSigningCertificateInput): Uint8Array {
    const { base, extensions } = this.#prepare(input);
    return this.#precertificate(base, extensions).der;
  }

  #precertificate(base: LeafBase, extensions: Extension[]): { tbs: Uint8Array; der: Uint8Array } {
    const tbs = buildTbsCertificate({ ...base, extensions: [...extensions, ctPoisonExtension()] });
    return { tbs, der: signTbsCertificate(tbs, this.#intermediateKey.certSigner) };
  }

  #prepare(input: IssueSigningCertificateInput): {
    base: LeafBase;
    extensions: Extension[];
    identity: FulcioIdentity;
  } {
    const cfg = this.issuerConfig(input.issuerUrl);
    if (
      !Number.isSafeInteger(input.now) ||
      input.now < this.createdAt ||
      input.now + LEAF_LIFETIME_MS > this.notAfter
    ) {
      rejected('Fulcio: the CA is not valid for the whole lifetime of a certificate issued now');
    }
    const identity = fulcioIdentity(input.claims, cfg.issuerUrl, {
      kind: cfg.kind,
      serverUrl: cfg.serverUrl,
      omitSubject: input.omitSubject,
    });
    const key = parsePublicKey(
      input.subjectPublicKeySpki,
      'Fulcio: submitted public key',
      'FULCIO_REJECTED',
      'signing',
    );
    checkKeyType(key);
    if (!verifySignature(key, utf8.encode(identity.challenge), input.proofOfPossession)) {
      rejected(
        `Fulcio: proof of possession does not verify (expected a signature over ${identity.kind === 'email' ? 'the email' : 'the token subject'} "${identity.challenge}")`,
      );
    }
    const spki = new Uint8Array(key.export({ format: 'der', type: 'spki' }));
    const notBefore = Math.floor(input.now / 1000) * 1000;
    const base: LeafBase = {
      serial: deriveSerial(
        utf8.encode('leaf'),
        this.#intermediateKey.spki,
        spki,
        timeBytes(notBefore),
        utf8.encode(`${cfg.issuerUrl}\n${input.claims.sub}`),
      ),
      issuerName: INTERMEDIATE_NAME,
      // Empty subject (SEQUENCE {}): the identity is in the critical SAN, as Fulcio issues.
      subjectName: new Uint8Array([0x30, 0x00]),
      notBefore,
      notAfter: notBefore + LEAF_LIFETIME_MS,
      subjectPublicKeySpki: spki,
      signatureAlgorithmOid: this.#intermediateKey.certSigner.algorithmOid,
    };
    const extensions: Extension[] = [
      keyUsageExtension(['digitalSignature']),
      extKeyUsageExtension([OID.ekuCodeSigning]),
      subjectKeyIdExtension(keyIdentifierFromSpki(spki)),
      authorityKeyIdExtension(this.#intermediateKeyId),
      subjectAltNameExtension(
        identity.san.type === 'uri'
          ? { uris: [identity.san.value] }
          : { emails: [identity.san.value] },
        true,
      ),
      ...identity.extensions.map((e) => fulcioExtension(e.oid, e.value)),
    ];
    return { base, extensions, identity };
  }

  /**
   * POST /api/v2/signingCert: verify the token against the trusted issuers, check the key
   * and proof, issue. Any refusal is a StellaError (OIDC_TOKEN_* or FULCIO_REJECTED).
   */
  createSigningCertificate(
    request: unknown,
    ctx: { now: number; oidcIssuers: TrustedOidcIssuer[]; omitSubject?: boolean },
  ): SigningCertificateResponseJson {
    if (typeof request !== 'object' || request === null || Array.isArray(request))
      rejected('Fulcio: request body must be a JSON object');
    const r = request as SigningCertificateRequestJson;
    if (r.certificateSigningRequest !== undefined)
      rejected('Fulcio: certificate signing requests are not supported; send publicKeyRequest');
    const token = r.credentials?.oidcIdentityToken;
    if (typeof token !== 'string' || token === '')
      fail('OIDC_TOKEN_MISSING', 'signing', 'Fulcio: credentials.oidcIdentityToken is required');
    const pk = r.publicKeyRequest?.publicKey?.content;
    const pop = r.publicKeyRequest?.proofOfPossession;
    if (typeof pk !== 'string' || pk === '')
      rejected('Fulcio: publicKeyRequest.publicKey.content is required');
    if (typeof pop !== 'string' || pop === '')
      rejected('Fulcio: publicKeyRequest.proofOfPossession is required');

    const iss = peekIssuer(token);
    const cfg = this.issuerConfig(iss);
    let trusted = ctx.oidcIssuers.filter((i) => i.issuerUrl === cfg.issuerUrl);
    // Sandbox only: a "*" issuer's key vouches for tokens under any issuer URL (the stack plays
    // GitHub, GitLab and Gitea issuers with its one OIDC key; only its own trust root trusts them).
    if (trusted.length === 0)
      trusted = ctx.oidcIssuers
        .filter((i) => i.issuerUrl === '*')
        .map((i) => ({ ...i, issuerUrl: cfg.issuerUrl }));
    const claims = verifyToken(token, {
      issuers: trusted,
      audience: cfg.audience ?? 'sigstore',
      now: ctx.now,
    });
    const key = parsePublicKey(
      pk,
      'Fulcio: publicKeyRequest.publicKey.content',
      'FULCIO_REJECTED',
      'signing',
    );
    let proof: Uint8Array;
    try {
      proof = decodeBase64(pop, 'Fulcio: proofOfPossession', 'signing');
    } catch (e) {
      if (isStellaError(e)) rejected('Fulcio: proofOfPossession is not valid base64');
      throw e;
    }
    const issued = this.issueSigningCertificate({
      claims,
      issuerUrl: cfg.issuerUrl,
      subjectPublicKeySpki: new Uint8Array(key.export({ format: 'der', type: 'spki' })),
      proofOfPossession: proof,
      now: ctx.now,
      omitSubject: ctx.omitSubject ?? false,
    });
    return {
      signedCertificateEmbeddedSct: {
        chain: { certificates: issued.chain.map((c) => derToPem(c)) },
      },
    };
  }

  /** GET /api/v2/trustBundle */
  trustBundle(): { chains: Array<{ certificates: string[] }> } {
    return {
      chains: [
        { certificates: [derToPem(this.intermediateCertificate), derToPem(this.rootCertificate)] },
      ],
    };
  }

  /** GET /api/v2/configuration */
  configuration(): {
    issuers: Array<{ issuerUrl: string; audience: string; challengeClaim: string }>;
  } {
    return {
      issuers: this.issuers
        .filter((i) => i.issuerUrl !== '*')
        .map((i) => ({
          issuerUrl: i.issuerUrl,
          audience: i.audience ?? 'sigstore',
          challengeClaim: i.kind === 'email' ? 'email' : 'sub',
        })),
    };
  }
}

/** Fulcio accepts ECDSA P-256/P-384, Ed25519 and RSA >= 2048 bits. */
function checkKeyType(key: ReturnType<typeof parsePublicKey>): void {
  const t = key.asymmetricKeyType;
  if (t === 'ec') {
    const c = key.asymmetricKeyDetails?.namedCurve;
    if (c !== 'prime256v1' && c !== 'secp384r1')
      rejected(`Fulcio: unsupported EC curve ${String(c)}`);
    return;
  }
  if (t === 'ed25519') return;
  if (t === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return;
  rejected(`Fulcio: unsupported public key type ${String(t)}`);
}

/** The `iss` of a token, unverified: only used to pick which trusted issuer verifies it. */
function peekIssuer(token: string): string {
  const iss = decodeJwt(token, {
    code: 'OIDC_TOKEN_INVALID',
    check: 'signing',
    what: 'OIDC token invalid: token',
  }).payload['iss'];
  if (typeof iss !== 'string')
    fail('OIDC_TOKEN_INVALID', 'signing', 'OIDC token invalid: cannot read the "iss" claim');
  return iss;
}
