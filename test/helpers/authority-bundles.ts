/**
 * Bundles signed in process by a sandbox authority, for end-to-end verifier tests that need a
 * special identity, time or log layout. Same flow as scripts/make-samples.ts: OIDC token ->
 * Fulcio (proof of possession) -> certificate -> signature -> Rekor entry -> bundle; plus a
 * small RFC 3161 TSA built with the project's issuer.
 */
import {
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import { defaultDigestForKey, digest, sha256, type DigestName } from '../../src/crypto.js';
import { hashAlgorithmOf } from '../../src/util/digest.js';
import { toBase64, toHex, utf8 } from '../../src/util/encoding.js';
import { preAuthEncoding, serializeEnvelope } from '../../src/bundle/dsse.js';
import type { Bundle, BundleContent } from '../../src/bundle/model.js';
import { type Extension } from '../../src/x509/certificate.js';
import {
  extKeyUsageExtension,
  issueCertificate,
  basicConstraintsExtension,
  keyUsageExtension,
  deterministicP256Signer,
  type DN,
} from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';
import { int, seq } from '../../src/der/writer.js';
import { issueTimestampToken, type TimestampIssueOptions } from '../../src/timestamp/issue.js';
import type { CertificateAuthority } from '../../src/model/trust-material.js';
import type { PreciseTime } from '../../src/util/time.js';
import { bundleFromRekorResponse } from '../../src/bundle/from-rekor.js';
import { serializeBundle } from '../../src/bundle/serialize.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';
import {
  createSandboxAuthority,
  deriveAuthorityKey,
  deriveAuthorityKeys,
  seedFromString,
  type AuthorityKey,
  type LocalRekorLog,
  type SandboxAuthority,
} from '../../src/sandbox/authority/index.js';
import { derToPem, pemToDerList } from '../../src/util/pem.js';
import type { ExecutionContext } from 'ava';
import { LocalTsa } from '../../src/sandbox/authority/tsa.js';
import { deriveV2AuthorityKeys } from '../../src/sandbox/authority/keys-v2.js';
import { serve } from './loopback.js';

export const AUTHORITY_CREATED_AT = Date.UTC(2025, 0, 1);
export const ISSUER_URL = 'https://oidc.test.invalid';

/** A fresh, deterministic authority from a test seed (its OIDC issuer URL is ISSUER_URL unless given). */
export function testAuthority(seedLabel: string, oidcIssuer = ISSUER_URL): SandboxAuthority {
  return createSandboxAuthority({
    keys: deriveAuthorityKeys(seedFromString(`adversarial-test:${seedLabel}`)),
    createdAt: AUTHORITY_CREATED_AT,
    urls: {
      oidcIssuer,
      fulcio: 'https://fulcio.test.invalid',
      rekor: 'https://rekor.test.invalid',
      ctLog: 'https://ctfe.test.invalid',
    },
  });
}

/** The SAN Fulcio issues for a GitHub Actions token of `repo` on main (release.yml). */
export function githubIdentity(repo: string): string {
  return `https://github.com/${repo}/.github/workflows/release.yml@refs/heads/main`;
}

/**
 * The policy bundles signed with `{ repo: 'org/repo' }` pass: that workflow's identity,
 * exactly, and the test issuer.
 */
export const ORG_REPO_POLICY = {
  certificateIdentity: literalPattern(githubIdentity('org/repo')),
  certificateOidcIssuer: ISSUER_URL,
} as const;

/**
 * Export inputs (archive/export.ts ExportInput) for `n` artifacts, `${label} ${i}\n`, each
 * signed as org/repo's workflow at `now + i * step` ms.
 */
export function signedExportInputs(
  a: SandboxAuthority,
  n: number,
  o: { label: string; now: number; step?: number },
): { artifactDigest: string; bytes: Uint8Array; source: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const artifact = utf8.encode(`${o.label} ${i}\n`);
    const signed = signBlob(a, artifact, { repo: 'org/repo', now: o.now + i * (o.step ?? 1000) });
    return {
      artifactDigest: `sha256:${toHex(sha256(artifact))}`,
      bytes: utf8.encode(serializeBundle(signed.bundle)),
      source: `bundle ${i}`,
    };
  });
}

export interface SignOptions {
  /** GitHub "org/repo" the token is minted for. */
  repo: string;
  /** Token and certificate time (ms). */
  now: number;
  /** Time the Rekor entry is integrated (default now + 5 s). */
  rekorNow?: number;
  /** Log the entry in this log instead of the authority's own. */
  rekor?: LocalRekorLog;
  /** Extra or overriding token claims (e.g. a job_workflow_ref, which becomes the SAN). */
  extraClaims?: Record<string, unknown>;
}

export interface Signed {
  bundle: Bundle;
  certificate: Uint8Array;
  key: AuthorityKey;
  identity: string;
}

/** What Fulcio needs from a signing key: its SPKI and a proof of possession over the token subject. */
type CertifiableKey = Pick<AuthorityKey, 'spki' | 'sign'>;

/** A Fulcio leaf (DER) for `key`, through the authority's Fulcio v2 JSON API, as a signing client gets it. */
export function certify(
  a: SandboxAuthority,
  key: CertifiableKey,
  repo: string,
  now: number,
  extraClaims?: Record<string, unknown>,
): Uint8Array {
  const jwt = a.oidc.mintToken({
    platform: 'github',
    repo,
    ref: 'refs/heads/main',
    now,
    extraClaims,
  });
  const sub = a.oidc.verifyToken(jwt, { audience: 'sigstore', now }).sub;
  const r = a.fulcio.createSigningCertificate(
    {
      credentials: { oidcIdentityToken: jwt },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: derToPem(key.spki, 'PUBLIC KEY') },
        proofOfPossession: toBase64(key.sign(utf8.encode(sub))),
      },
    },
    { now, oidcIssuers: [a.oidc.trusted()] },
  );
  return pemToDerList(r.signedCertificateEmbeddedSct.chain.certificates[0]!)[0]!;
}

function signer(repo: string, now: number): AuthorityKey {
  return deriveAuthorityKey(seedFromString(`adversarial-test:signer:${repo}:${now}`), 'ephemeral');
}

/** A hashedrekord bundle over `artifact`. */
export function signBlob(a: SandboxAuthority, artifact: Uint8Array, o: SignOptions): Signed {
  const key = signer(o.repo, o.now);
  const certificate = certify(a, key, o.repo, o.now, o.extraClaims);
  const signature = key.sign(artifact);
  const digest = sha256(artifact);
  const rekor = o.rekor ?? a.rekor;
  const proposal = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: toHex(digest) } },
      signature: {
        content: toBase64(signature),
        publicKey: { content: toBase64(utf8.encode(derToPem(certificate))) },
      },
    },
  };
  const r = rekor.createEntry(proposal, { now: o.rekorNow ?? o.now + 5_000 });
  const content: BundleContent = {
    kind: 'messageSignature',
    messageDigest: { algorithm: 'SHA2_256', digest },
    signature,
  };
  return {
    bundle: bundleFromRekorResponse({ content, signer: { certificate }, rekorEntry: r.response }),
    certificate,
    key,
    identity:
      typeof o.extraClaims?.['job_workflow_ref'] === 'string'
        ? `https://github.com/${o.extraClaims['job_workflow_ref']}`
        : githubIdentity(o.repo),
  };
}

/** An ephemeral ECDSA key on any curve Node supports (random: its bytes are never asserted). */
export interface EcSigner {
  curve: 'P-256' | 'P-384' | 'P-521';
  spki: Uint8Array;
  privateKey: KeyObject;
  /** DER ECDSA signature over `data` with `hash`. */
  sign(data: Uint8Array, hash: DigestName): Uint8Array;
}

export function ecSigner(curve: EcSigner['curve']): EcSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return {
    curve,
    spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
    privateKey,
    sign: (data, hash) => new Uint8Array(nodeSign(hash, data, privateKey)),
  };
}

/** The signer as Fulcio sees it: proof of possession with the key's registry hash. */
function certifiable(k: EcSigner): CertifiableKey {
  const hash = defaultDigestForKey(createPublicKey(k.privateKey))!;
  return { spki: k.spki, sign: (data) => k.sign(data, hash) };
}

/**
 * A hashedrekord bundle over `artifact` signed by `signer` with `hash`: the bundle's
 * messageDigest and the log entry both declare `hash` (as clients that sign a P-384 key over
 * SHA-256 write it).
 */
export function signBlobWithHash(
  a: SandboxAuthority,
  artifact: Uint8Array,
  o: SignOptions & { signer: EcSigner; hash: DigestName },
): Omit<Signed, 'key'> {
  const certificate = certify(a, certifiable(o.signer), o.repo, o.now);
  const signature = o.signer.sign(artifact, o.hash);
  const d = digest(o.hash, artifact);
  const proposal = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: o.hash, value: toHex(d) } },
      signature: {
        content: toBase64(signature),
        publicKey: { content: toBase64(utf8.encode(derToPem(certificate))) },
      },
    },
  };
  const r = (o.rekor ?? a.rekor).createEntry(proposal, { now: o.rekorNow ?? o.now + 5_000 });
  const content: BundleContent = {
    kind: 'messageSignature',
    messageDigest: { algorithm: hashAlgorithmOf(o.hash), digest: d },
    signature,
  };
  return {
    bundle: bundleFromRekorResponse({ content, signer: { certificate }, rekorEntry: r.response }),
    certificate,
    identity: githubIdentity(o.repo),
  };
}

/** A DSSE bundle (dsse 0.0.1 entry) signed by `signer` with `hash`. */
export function signDsseWithHash(
  a: SandboxAuthority,
  payload: Uint8Array,
  payloadType: string,
  o: SignOptions & { signer: EcSigner; hash: DigestName },
): Omit<Signed, 'key'> {
  const certificate = certify(a, certifiable(o.signer), o.repo, o.now);
  const sig = o.signer.sign(preAuthEncoding(payloadType, payload), o.hash);
  const content: BundleContent = {
    kind: 'dsseEnvelope',
    payload,
    payloadType,
    signatures: [{ sig, keyid: '' }],
  };
  const proposal = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      proposedContent: {
        envelope: serializeEnvelope(content),
        verifiers: [toBase64(utf8.encode(derToPem(certificate)))],
      },
    },
  };
  const r = (o.rekor ?? a.rekor).createEntry(proposal, { now: o.rekorNow ?? o.now + 5_000 });
  return {
    bundle: bundleFromRekorResponse({ content, signer: { certificate }, rekorEntry: r.response }),
    certificate,
    identity: githubIdentity(o.repo),
  };
}

/** A DSSE bundle (dsse 0.0.1 entry). */
export function signDsse(
  a: SandboxAuthority,
  payload: Uint8Array,
  payloadType: string,
  o: SignOptions,
): Signed {
  const key = signer(o.repo, o.now);
  const certificate = certify(a, key, o.repo, o.now);
  const sig = key.sign(preAuthEncoding(payloadType, payload));
  const content: BundleContent = {
    kind: 'dsseEnvelope',
    payload,
    payloadType,
    signatures: [{ sig, keyid: '' }],
  };
  const proposal = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      proposedContent: {
        envelope: serializeEnvelope(content),
        verifiers: [toBase64(utf8.encode(derToPem(certificate)))],
      },
    },
  };
  const r = (o.rekor ?? a.rekor).createEntry(proposal, { now: o.rekorNow ?? o.now + 5_000 });
  return {
    bundle: bundleFromRekorResponse({ content, signer: { certificate }, rekorEntry: r.response }),
    certificate,
    key,
    identity: githubIdentity(o.repo),
  };
}

/** TimeStampResp ::= SEQUENCE { status PKIStatusInfo (granted), timeStampToken }. */
export function timeStampResponse(token: Uint8Array): Uint8Array {
  return seq(seq(int(0)), token);
}

export interface TestTsa {
  authority: CertificateAuthority;
  /**
   * An RFC 3161 timestamp over `data` at `genTime` (a PreciseTime keeps its sub-ms digits), with
   * the signer certificate embedded, as Sigstore bundles carry it: the whole TimeStampResp
   * (status granted + token), which is what sigstore-js and sigstore-go read.
   */
  stamp(data: Uint8Array, genTime: number | PreciseTime): Uint8Array;
  /** The same TSA signing any TSTInfo fields it is asked to (fuzz tests re-sign odd tokens). */
  issue(
    o: Omit<TimestampIssueOptions, 'signerCertificate' | 'signer' | 'serial' | 'policy'> &
      Partial<Pick<TimestampIssueOptions, 'serial' | 'policy'>>,
  ): Uint8Array;
}

/** Odd TSA certificates: other serials, extra leaf extensions (defaults: 1n, 2n, none). */
export interface TestTsaCertificates {
  rootSerial?: bigint;
  leafSerial?: bigint;
  leafExtensions?: Extension[];
}

/** A TSA (root -> timestamping leaf) valid over [start, end] (certificates and validFor). */
export function testTsa(
  label: string,
  start: number,
  end: number,
  validFor: { start: number; end: number | undefined } = { start, end },
  certs: TestTsaCertificates = {},
): TestTsa {
  const rootSigner = deterministicP256Signer(seedFromString(`adversarial-test:tsa-root:${label}`));
  const leafSigner = deterministicP256Signer(seedFromString(`adversarial-test:tsa-leaf:${label}`));
  const rootName: DN = { organization: 'stella.test', commonName: `${label}-tsa-root` };
  const root = issueCertificate({
    serial: certs.rootSerial ?? 1n,
    issuerName: rootName,
    subjectName: rootName,
    notBefore: start,
    notAfter: end,
    subjectPublicKeySpki: rootSigner.spki,
    extensions: [keyUsageExtension(['keyCertSign', 'cRLSign']), basicConstraintsExtension(true, 0)],
    signer: rootSigner,
  });
  const leaf = issueCertificate({
    serial: certs.leafSerial ?? 2n,
    issuerName: rootName,
    subjectName: { organization: 'stella.test', commonName: `${label}-tsa` },
    notBefore: start,
    notAfter: end,
    subjectPublicKeySpki: leafSigner.spki,
    extensions: [
      keyUsageExtension(['digitalSignature']),
      extKeyUsageExtension([OID.ekuTimeStamping], true),
      ...(certs.leafExtensions ?? []),
    ],
    signer: rootSigner,
  });
  const issue: TestTsa['issue'] = (o) =>
    timeStampResponse(
      issueTimestampToken({
        serial: 7n,
        policy: '1.3.6.1.4.1.57264.2',
        embedCertificates: [leaf],
        ...o,
        signerCertificate: leaf,
        signer: leafSigner,
      }),
    );
  return {
    authority: {
      subject: rootName,
      uri: `https://${label}.tsa.test.invalid`,
      certChain: [leaf, root],
      validFor,
    },
    stamp: (data, genTime) => issue({ data, genTime }),
    issue,
  };
}

/**
 * A sandbox TSA (its own keys, from `label`) answering DER TimeStampReqs on loopback; `onRequest`
 * sees each request body first. Returns its URL.
 */
export function servedTsa(
  t: ExecutionContext,
  label: string,
  onRequest: (body: Uint8Array) => void = () => {},
): Promise<string> {
  const keys = deriveV2AuthorityKeys(seedFromString(label));
  const tsa = new LocalTsa({
    rootKey: keys.tsaRoot,
    signerKey: keys.tsaSigner,
    createdAt: Date.now() - 60_000,
    url: label,
  });
  return serve(t, (_req, res, body) => {
    onRequest(new Uint8Array(body));
    const a = tsa.answerDer(new Uint8Array(body), Date.now());
    res
      .writeHead(a.httpStatus, { 'content-type': 'application/timestamp-reply' })
      .end(Buffer.from(a.response));
  });
}
