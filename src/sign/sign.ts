/**
 * Keyless signing, end to end: token -> ephemeral key -> Fulcio certificate -> signature (or
 * DSSE over an in-toto statement) -> RFC 3161 timestamps (when a TSA is configured) -> Rekor
 * entries with inclusion proofs -> v0.3 bundle. The services come from signer.yaml or a
 * Sigstore signing config (./services.ts): Rekor v1 (entry with a signed entry timestamp) or
 * Rekor v2 (no SET: the bundle's time is the TSA's).
 *
 * Order matters for safety: the token is checked (expiry) before any request; every answer is
 * checked before a bundle is assembled, so a bundle never claims a log entry or a time that
 * does not prove this signature: the Rekor answer against what we sent (body, Merkle
 * inclusion, checkpoint root), and, with trust material (always for Rekor v2 and TSAs), with
 * the verifier's own code: the checkpoint signed by a trusted log whose key is valid at the
 * verified times, the SET, the TSA token. The TSA is asked first, so a TSA that is down or
 * wrong leaves no entry in the log. The private key never leaves ./keys.ts's closure.
 */
import { fail, StellaError } from '../errors.js';
import { sha256 } from '../crypto.js';
import { bytesEqual, toHex } from '../util/encoding.js';
import { preAuthEncoding, serializeEnvelope } from '../bundle/dsse.js';
import { buildInTotoStatement, IN_TOTO_PAYLOAD_TYPE } from '../bundle/intoto.js';
import { BUNDLE_V03_MEDIA_TYPE, serializeBundle } from '../bundle/serialize.js';
import type { Bundle, BundleContent, TransparencyLogEntry } from '../bundle/model.js';
import { bundleFromRekorResponse } from '../bundle/from-rekor.js';
import { leafHash, verifyInclusion } from '../tlog/merkle.js';
import { parseCheckpoint, parseSignedNote } from '../tlog/note.js';
import { entryUuid, verifyEntryBinding } from '../tlog/rekor-entry.js';
import { findLog, verifyTlogEntryInclusion, type InclusionResult } from '../tlog/verify.js';
import { verifySet } from '../tlog/set.js';
import type { TrustMaterial } from '../model/trust-material.js';
import { formatTime, secondFraction, type TimeValue } from '../util/time.js';
import { logInfo } from '../util/log.js';
import type { SigningConfig } from './signing-config.js';
import { planServices, planNeedsTrust, type ServicePlan } from './services.js';
import { checkTimestamp, requestTimestamp } from './tsa-client.js';
import {
  checkLogEntryV2,
  createEntryRequestV2,
  keyDetailsFor,
  uploadEntryV2,
} from './rekor-v2-client.js';
import { oidcIssuer, parseCertificate, type Certificate } from '../x509/certificate.js';
import { verifyCertificateChain, verifyIssuedChain } from '../x509/chain.js';
import { verifyEmbeddedScts } from '../x509/sct.js';
import { identityCandidates } from '../x509/identity-candidates.js';
import { unpinnableIssuerReason } from '../verify/policy.js';
import { derToPem } from '../util/pem.js';
import { defaultSignerConfig, type SignerConfig, type SigningAlgorithm } from './config.js';
import { createEphemeralKey, type KeyPairGenerator } from './keys.js';
import { requestSigningCertificate } from './fulcio-client.js';
import {
  ENTRY_UUID,
  dsseProposal,
  hashedRekordProposal,
  uploadEntry,
  type ProposedEntry,
  type RekorEntryResult,
} from './rekor-client.js';
import { resolveIdentityToken, type ResolvedToken, type TokenSource } from './token.js';
import { quoted, withoutTrailing } from '../util/text.js';

/**
 * What is signed: the artifact's bytes, or only its SHA-256 (a digest reference, or a file too
 * large to hold, hashed in chunks by the caller). `name` is the in-toto subject name.
 * Reading files is the caller's business (the command: commands/attest/sign-run.ts).
 */
export type SignInput =
  | { kind: 'bytes'; bytes: Uint8Array; name: string }
  | { kind: 'digest'; sha256: Uint8Array; name: string };

export interface SignOptions {
  artifact: SignInput;
  /** In-toto predicate (parsed JSON) and its type URI: sign a DSSE attestation instead. */
  predicate?: { type: string; value: unknown };
  identityToken?: string;
  config?: SignerConfig;
  /**
   * DER root certificates Fulcio's chain must end at: the chain is then checked as a verifier
   * checks one (x509/chain.ts). loadFulcioRoots(config) reads certificate.rootBundlePath.
   */
  fulcioRoots?: Uint8Array[];
  /** Override the config's service URLs (not with a signing config). */
  fulcioUrl?: string;
  rekorUrl?: string;
  /** A Sigstore signing config: the services it selects replace the config's URLs. */
  signingConfig?: SigningConfig;
  /** The services to use, already planned (else planned here from config and signingConfig). */
  plan?: ServicePlan;
  /**
   * Trust material the answers are checked against with the verifier's code. Required when a
   * TSA or a Rekor v2 log is used; with it, a Rekor v1 answer's checkpoint and SET are
   * checked too.
   */
  trust?: TrustMaterial;
  /** Where `trust` came from, for messages. */
  trustSource?: string;
  env?: NodeJS.ProcessEnv;
  /** Seconds since the epoch (token expiry check). */
  now?: number;
  fetchImpl?: typeof fetch;
  /** Tests inject a generator to learn the private key and prove it is never written. */
  keyGenerator?: KeyPairGenerator;
}

export interface SignResult {
  bundle: Bundle;
  /** The bundle as written (pretty JSON + newline). */
  bundleJson: string;
  /** "sha256:<hex>" of the artifact (the in-toto subject for attestations). */
  artifactDigest: string;
  contentKind: BundleContent['kind'];
  predicateType: string | undefined;
  /**
   * What a verifier pins: the certificate's OIDC issuer and the first identity it offers that a
   * pattern can match (its SAN, for every certificate Fulcio issues); a certificate without
   * both is refused before anything is logged.
   */
  identity: string;
  issuer: string;
  algorithm: SigningAlgorithm;
  tokenSource: TokenSource;
  /** The first log entry (Rekor v1: its UUID; v2: the leaf hash). */
  rekor: { uuid: string; logIndex: number; integratedTime: number };
  /** Every log entry in the bundle, with the log it came from. */
  tlog: { url: string; apiVersion: 1 | 2; logIndex: number; logId: string; kind: string }[];
  /** The RFC 3161 timestamps in the bundle, with their verified times. */
  timestamps: { url: string; time: string }[];
  /** The CA URL used. */
  fulcioUrl: string;
  /**
   * What the caller should show: an algorithm fallen back from, and what some verifiers will
   * not read (a TSA time's fraction digits, a checkpoint signer name).
   */
  warnings: string[];
}

export async function signArtifact(opts: SignOptions): Promise<SignResult> {
  const config = opts.config ?? defaultSignerConfig();
  const { artifact, plan } = preflight(opts, config);

  // The algorithm is decided before any request (see chooseAlgorithm).
  const warnings: string[] = [];
  const algorithm = chooseAlgorithm(config, opts.predicate !== undefined, warnings);
  logInfo(signingPlanLine(opts.predicate, artifact.bytes !== undefined, algorithm, plan));

  // 1. The identity token: found and checked before anything leaves this machine.
  const token = await checkedIdentityToken(opts, config);

  // 2. The ephemeral key, 3. its certificate.
  const key = createEphemeralKey(algorithm, opts.keyGenerator);
  logInfo(`ephemeral ${algorithm} key generated in memory (never written)`);
  const { leaf, names } = await certifyKey(key, token, plan.fulcio, config, opts);

  // 4. The signature and the proposed (Rekor v1) log entry.
  const { content, proposal, predicateType, signature } = signContent(
    opts.predicate,
    artifact,
    key,
    derToPem(leaf.der),
  );

  // 5. RFC 3161 timestamps over the signature, each checked as a verifier will check it.
  const { rfc3161Timestamps, times, timestamps } = await collectTimestamps(
    plan.tsa,
    signature,
    leaf,
    opts,
    warnings,
  );

  // 6. The log entries, each checked against what we sent (and, with trust, as a verifier will).
  const { tlogEntries, tlog, firstUuid } = await logEverywhere(plan.rekor, {
    content,
    proposal,
    leaf,
    algorithm,
    artifactDigest: artifact.digest,
    times,
    opts,
    warnings,
  });
  const tlogEntry = tlogEntries[0]!;

  // 7. The bundle (v0.3: the leaf certificate only).
  const bundle: Bundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    version: '0.3',
    verificationMaterial: {
      content: { kind: 'certificate', certificate: leaf.der },
      tlogEntries,
      rfc3161Timestamps,
    },
    content,
  };
  return {
    bundle,
    bundleJson: serializeBundle(bundle, { indent: 2 }) + '\n',
    artifactDigest: `sha256:${toHex(artifact.digest)}`,
    contentKind: content.kind,
    predicateType,
    ...names,
    algorithm,
    tokenSource: token.source,
    rekor: {
      uuid: firstUuid,
      logIndex: tlogEntry.logIndex,
      integratedTime: tlogEntry.integratedTime,
    },
    tlog,
    timestamps,
    fulcioUrl: plan.fulcio.url,
    warnings,
  };
}

/** What will be signed, how, and by which services (logged before any request). */
function signingPlanLine(
  predicate: SignOptions['predicate'],
  hasBytes: boolean,
  algorithm: SigningAlgorithm,
  plan: ServicePlan,
): string {
  const what = predicate
    ? `an in-toto attestation (${predicate.type})`
    : hasBytes
      ? 'a blob'
      : 'a digest';
  const rekor = plan.rekor.map((r) => `v${r.apiVersion} ${r.url}`).join(', ');
  const tsa = plan.tsa.length ? `; TSA ${plan.tsa.map((t) => t.url).join(', ')}` : '';
  return `signing ${what} with ${algorithm}; CA ${plan.fulcio.url}; Rekor ${rekor}${tsa}`;
}

/** The identity token (explicit, from the environment, or ambient), from the configured issuer. */
async function checkedIdentityToken(
  opts: SignOptions,
  config: SignerConfig,
): Promise<ResolvedToken> {
  const token = await resolveIdentityToken({
    explicit: opts.identityToken,
    env: opts.env,
    useAmbient: config.oidc.useAmbientToken,
    audience: config.oidc.clientId,
    now: opts.now,
    timeoutMs: config.fulcio.timeoutMs,
    fetchImpl: opts.fetchImpl,
  });
  logInfo(
    `identity token from ${token.source}: issuer ${token.claims.iss}, subject ${token.claims.sub}`,
  );
  if (
    config.oidc.issuer !== undefined &&
    withoutTrailing(token.claims.iss, '/') !== config.oidc.issuer
  ) {
    fail(
      'OIDC_TOKEN_INVALID',
      'signing',
      `issuer mismatch: token issuer ${quoted(token.claims.iss)} is not the configured oidc.issuer ${quoted(config.oidc.issuer)}`,
    );
  }
  return token;
}

/**
 * The signing certificate for `key` from the CA, checked as issued (chain, SCT) and valid now:
 * before anything is logged, since a certificate that is not valid now (a CA whose clock is
 * off) would give a permanent log entry and a bundle that can never verify.
 */
async function certifyKey(
  key: EphemeralKey,
  token: ResolvedToken,
  fulcio: ServicePlan['fulcio'],
  config: SignerConfig,
  opts: SignOptions,
): Promise<{ leaf: Certificate; names: { identity: string; issuer: string } }> {
  const issued = await requestSigningCertificate(
    fulcio.url,
    token.token,
    challengeFor(token.claims),
    key,
    { timeoutMs: fulcio.timeoutMs, retries: fulcio.retries },
    opts.fetchImpl,
  );
  const certified = checkIssued(issued.chain, issued.detachedSct, config, {
    roots: opts.fulcioRoots,
    ...(opts.trust ? { trust: opts.trust, trustSource: opts.trustSource } : {}),
  });
  const { leaf, names } = certified;
  logInfo(
    `certificate from ${fulcio.url}: ${names.identity}, valid ${formatTime(leaf.notBefore)} to ${formatTime(leaf.notAfter)}`,
  );
  checkCertificateWindow(
    leaf,
    opts.now !== undefined ? opts.now * 1000 : Date.now(),
    "this machine's clock",
  );
  return certified;
}

/**
 * What is checked before anything leaves this machine: the artifact's digest, the roots the
 * config asks for, the predicate's type, and a trust root where the plan's answers need one.
 */
function preflight(
  opts: SignOptions,
  config: SignerConfig,
): {
  artifact: { digest: Uint8Array; bytes: Uint8Array | undefined; name: string };
  plan: ServicePlan;
} {
  const artifact =
    opts.artifact.kind === 'bytes'
      ? {
          digest: sha256(opts.artifact.bytes),
          bytes: opts.artifact.bytes,
          name: opts.artifact.name,
        }
      : { digest: opts.artifact.sha256, bytes: undefined, name: opts.artifact.name };
  if (artifact.digest.length !== 32)
    fail(
      'INPUT_INVALID',
      'input',
      `a digest to sign must be a 32-byte SHA-256, got ${artifact.digest.length} bytes`,
    );
  if (
    opts.fulcioRoots === undefined &&
    config.certificate.validateChain &&
    config.certificate.rootBundlePath !== undefined
  ) {
    // The config asks for a chain check, and signArtifact reads no files.
    fail(
      'CONFIG_INVALID',
      'config',
      `certificate.rootBundlePath ${config.certificate.rootBundlePath} is set but its roots were not given: pass fulcioRoots (loadFulcioRoots(config))`,
    );
  }
  if (opts.predicate && !opts.predicate.type)
    fail('INPUT_INVALID', 'input', '--predicate needs --predicate-type');
  const plan =
    opts.plan ??
    planServices(
      config,
      opts.signingConfig,
      { fulcioUrl: opts.fulcioUrl, rekorUrl: opts.rekorUrl },
      opts.now !== undefined ? opts.now * 1000 : Date.now(),
    );
  const rekorV2 = plan.rekor.some((r) => r.apiVersion === 2);
  if (planNeedsTrust(plan) && !opts.trust) {
    fail(
      'CONFIG_INVALID',
      'config',
      `${rekorV2 ? 'a Rekor v2 log' : 'a TSA'} is configured, and its answers are checked against a trust root before the bundle is written: pass --trusted-root (or set trustedRoot in signer.yaml)`,
    );
  }

  return { artifact, plan };
}

type EphemeralKey = ReturnType<typeof createEphemeralKey>;

/**
 * The algorithm, decided before any request (the ambient token request included). A blob is
 * logged as a hashedrekord, which records a digest: pure Ed25519 signs the message, not a
 * digest, so no Rekor (v1 or v2) can check it — only a DSSE attestation can be Ed25519.
 */
function chooseAlgorithm(
  config: SignerConfig,
  attestation: boolean,
  warnings: string[],
): SigningAlgorithm {
  const preferred = config.algorithms.preferred;
  if (preferred !== 'Ed25519' || attestation) return preferred;
  if (!config.algorithms.allowed.includes('ECDSA_P256')) {
    fail(
      'CONFIG_INVALID',
      'config',
      `algorithms.preferred Ed25519 cannot sign a blob or digest (Rekor logs a blob as a hashedrekord over its digest, which pure Ed25519 does not sign): add ECDSA_P256 to algorithms.allowed, or sign an attestation (--predicate)`,
    );
  }
  warnings.push(
    'algorithms.preferred is Ed25519, which cannot sign a blob for Rekor (a hashedrekord records a digest): signing with ECDSA_P256 instead (Ed25519 is used for attestations, --predicate)',
  );
  return 'ECDSA_P256';
}

/** Step 4: the signature, the bundle content, and the proposed (Rekor v1) log entry. */
function signContent(
  predicate: SignOptions['predicate'],
  artifact: { digest: Uint8Array; bytes: Uint8Array | undefined; name: string },
  key: EphemeralKey,
  leafPem: string,
): {
  content: BundleContent;
  proposal: ProposedEntry;
  predicateType: string | undefined;
  signature: Uint8Array;
} {
  if (predicate) {
    const { payload } = buildInTotoStatement(
      [{ name: artifact.name, digest: { sha256: toHex(artifact.digest) } }],
      predicate.type,
      predicate.value,
    );
    const signature = key.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
    const content: BundleContent = {
      kind: 'dsseEnvelope',
      payload,
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: signature, keyid: '' }],
    };
    return {
      content,
      proposal: dsseProposal(serializeEnvelope(content), leafPem),
      predicateType: predicate.type,
      signature,
    };
  }
  const signature =
    artifact.bytes !== undefined ? key.sign(artifact.bytes) : key.signDigest(artifact.digest);
  return {
    content: {
      kind: 'messageSignature',
      messageDigest: { algorithm: 'SHA2_256', digest: artifact.digest },
      signature,
    },
    proposal: hashedRekordProposal(toHex(artifact.digest), signature, leafPem),
    predicateType: undefined,
    signature,
  };
}

/**
 * Step 5: a timestamp from each TSA of the plan, each checked as a verifier will check it. A
 * time written with a fraction of other than three digits is warned about: it is valid DER,
 * and Stella, sigstore-go and cosign read it, but @sigstore/core (sigstore-js) reads a
 * GeneralizedTime only without a fraction or with exactly three digits, so sigstore-js users
 * could not verify the bundle.
 */
async function collectTimestamps(
  tsas: ServicePlan['tsa'],
  signature: Uint8Array,
  leaf: Certificate,
  opts: SignOptions,
  warnings: string[],
): Promise<{
  rfc3161Timestamps: Uint8Array[];
  times: TimeValue[];
  timestamps: SignResult['timestamps'];
}> {
  const rfc3161Timestamps: Uint8Array[] = [];
  const times: TimeValue[] = [];
  const timestamps: SignResult['timestamps'] = [];
  for (const t of tsas) {
    const answer = await requestTimestamp(
      t.url,
      signature,
      { timeoutMs: t.timeoutMs, retries: t.retries },
      opts.fetchImpl,
    );
    const verified = checkTimestamp(answer, signature, opts.trust!, leaf, opts.trustSource);
    logInfo(`timestamp from ${t.url}: ${formatTime(verified.time)}`);
    const digits = secondFraction(verified.time).length;
    if (digits !== 0 && digits !== 3)
      warnings.push(
        `the TSA at ${t.url} wrote its time with ${digits} fraction-of-second digit${digits === 1 ? '' : 's'} (${formatTime(verified.time)}): Stella, sigstore-go and cosign read it, but @sigstore/verify (sigstore-js) reads only none or three and will refuse this bundle`,
      );
    rfc3161Timestamps.push(answer.response);
    times.push(verified.time);
    timestamps.push({ url: t.url, time: formatTime(verified.time) });
  }
  return { rfc3161Timestamps, times, timestamps };
}

/** Step 6: the entry in each Rekor log of the plan, checked against what was sent. */
async function logEverywhere(
  logs: ServicePlan['rekor'],
  s: {
    content: BundleContent;
    proposal: ProposedEntry;
    leaf: Certificate;
    algorithm: SigningAlgorithm;
    artifactDigest: Uint8Array;
    times: TimeValue[];
    opts: SignOptions;
    warnings: string[];
  },
): Promise<{ tlogEntries: TransparencyLogEntry[]; tlog: SignResult['tlog']; firstUuid: string }> {
  const { content, proposal, leaf, algorithm, times, opts } = s;
  const trust = opts.trust;
  const trustNote = opts.trustSource ? ` against the ${opts.trustSource}` : '';
  const tlogEntries: TransparencyLogEntry[] = [];
  const tlog: SignResult['tlog'] = [];
  let firstUuid = '';
  const artifactDigest = (alg: string) => (alg === 'SHA2_256' ? s.artifactDigest : undefined);
  for (const r of logs) {
    const rekorPolicy = { timeoutMs: r.timeoutMs, retries: r.retries };
    let entry: TransparencyLogEntry;
    if (r.apiVersion === 2) {
      const request = createEntryRequestV2(content, leaf.der, keyDetailsFor(algorithm));
      entry = checkLogEntryV2(await uploadEntryV2(r.url, request, rekorPolicy, opts.fetchImpl), {
        url: r.url,
        content,
        leaf,
        artifactDigest,
        trust: trust!,
        times,
        ...(opts.trustSource ? { trustSource: opts.trustSource } : {}),
      });
      firstUuid ||= entryUuid(entry.canonicalizedBody);
    } else {
      const logged = await uploadEntry(r.url, proposal, rekorPolicy, opts.fetchImpl);
      entry = acceptRekorV1Answer(logged, content, leaf, {
        trust,
        times,
        url: r.url,
        trustNote,
        warnings: s.warnings,
      });
      firstUuid ||= logged.uuid;
    }
    logInfo(`logged in Rekor v${r.apiVersion} ${r.url}: log index ${entry.logIndex}`);
    tlogEntries.push(entry);
    tlog.push({
      url: r.url,
      apiVersion: r.apiVersion,
      logIndex: entry.logIndex,
      logId: toHex(entry.logId),
      kind: `${entry.kindVersion.kind}/${entry.kindVersion.version}`,
    });
  }
  return { tlogEntries, tlog, firstUuid };
}

/**
 * A Rekor v1 answer as the signer takes it into the bundle, every check in one place (the
 * rekor-answer fuzz target holds what this takes to what `verifyBundleReport` takes): the entry
 * proves our signature (checkLogEntry); with a trust root, it verifies as `attest verify` will
 * (checkLogEntryTrusted); and the log's own time lies in the certificate's window, or no
 * verifier will accept it.
 */
export function acceptRekorV1Answer(
  logged: RekorEntryResult,
  content: BundleContent,
  leaf: Certificate,
  ctx: {
    trust: TrustMaterial | undefined;
    times: readonly TimeValue[];
    url: string;
    trustNote: string;
    /** Where to say what some verifiers will not read (see checkpointNameWarning). */
    warnings?: string[];
  },
): TransparencyLogEntry {
  const entry = checkLogEntry(logged, content, leaf);
  if (ctx.trust) {
    const inclusion = checkLogEntryTrusted(entry, ctx.trust, ctx.times, ctx.url, ctx.trustNote);
    const warning = checkpointNameWarning(inclusion, ctx.url);
    if (warning) ctx.warnings?.push(warning);
  }
  try {
    checkCertificateWindow(
      leaf,
      entry.integratedTime * 1000,
      `the log's integrated time`,
      0,
      'logged',
    );
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    throw e.reworded(
      `${e.message}; the entry is in the log at ${ctx.url} (log index ${entry.logIndex}, UUID ${logged.uuid}) but no bundle was written`,
      { ...e.details, logIndex: entry.logIndex, uuid: logged.uuid },
    );
  }
  return entry;
}

/**
 * A Rekor v1 checkpoint signed under a name other than its log's host (a private deployment's
 * pod name: Rekor's `rekor_server.hostname` defaults to the machine's): Stella, sigstore-go
 * and sigstore-python find the signature by its key hint and accept it, but @sigstore/verify
 * also requires the name to be part of the log's URL, and refuses such a bundle.
 */
function checkpointNameWarning(inclusion: InclusionResult, url: string): string | undefined {
  if (inclusion.rekor !== 'v1') return undefined;
  let host: string;
  try {
    host = new URL(inclusion.log.baseUrl).hostname;
  } catch {
    return undefined;
  }
  if (inclusion.checkpointSigner === host) return undefined;
  return `the Rekor log at ${url} signed its checkpoint as ${quoted(inclusion.checkpointSigner)}, not as its host ${quoted(host)}: Stella, sigstore-go and sigstore-python accept it, but @sigstore/verify (sigstore-js) looks for that name in the log's URL and will refuse this bundle (set the log's rekor_server.hostname to its host)`;
}

/** Seconds a CA's clock may run ahead of ours before a certificate "not yet valid" is refused. */
const CLOCK_SKEW_MS = 60_000;

/**
 * The certificate must be valid at `atMs` (our clock before logging, then the log's time): a
 * signature outside its window can never verify. Ends inclusive; `skewMs` tolerates a CA
 * clock slightly ahead of ours (its notBefore a moment in our future). `stage` says which:
 * before logging the fault is the CA's clock and nothing is in the log; once logged, it is
 * the log's clock or the CA's, and the caller says where the entry is.
 */
export function checkCertificateWindow(
  leaf: Certificate,
  atMs: number,
  clock: string,
  skewMs = CLOCK_SKEW_MS,
  stage: 'before-logging' | 'logged' = 'before-logging',
): void {
  const logged = stage === 'logged';
  if (leaf.notAfter < atMs) {
    fail(
      'CERT_EXPIRED',
      'signing',
      `certificate expired: Fulcio's certificate is valid ${formatTime(leaf.notBefore)} to ${formatTime(leaf.notAfter)}, which ended before ${formatTime(atMs)} (${clock}); ${logged ? "the log's clock or the CA's is wrong — a signature with it could never verify" : "the CA's clock is probably wrong — a signature with it could never verify, so nothing was signed into the log"}`,
      {
        notBefore: formatTime(leaf.notBefore),
        notAfter: formatTime(leaf.notAfter),
        at: formatTime(atMs),
      },
    );
  }
  if (leaf.notBefore > atMs + skewMs) {
    fail(
      'CERT_EXPIRED',
      'signing',
      `certificate not yet valid: Fulcio's certificate is valid from ${formatTime(leaf.notBefore)}, after ${formatTime(atMs)} (${clock}); ${logged ? "the log's clock or the CA's" : "the CA's clock (or this one)"} is wrong — a signature with it could never verify`,
      {
        notBefore: formatTime(leaf.notBefore),
        notAfter: formatTime(leaf.notAfter),
        at: formatTime(atMs),
      },
    );
  }
}

/**
 * A Rekor v1 answer checked as `stella attest verify` will: the SET by the log the entry names,
 * the inclusion proof and checkpoint signed by that log, its key valid at every verified time.
 */
function checkLogEntryTrusted(
  entry: TransparencyLogEntry,
  trust: TrustMaterial,
  tsaTimes: readonly TimeValue[],
  url: string,
  trustNote: string,
): InclusionResult {
  try {
    const setTime = verifySet(entry, findLog(entry, trust.tlogs));
    return verifyTlogEntryInclusion(entry, trust.tlogs, [setTime, ...tsaTimes]);
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    throw new StellaError(
      'REKOR_REJECTED',
      'tlog',
      `Rekor proof missing: Rekor answer from ${url} does not verify${trustNote}: ${e.message}`,
      { url, logIndex: entry.logIndex },
      { cause: e },
    );
  }
}

/** Fulcio's challenge: the email for email tokens, else `sub`. */
function challengeFor(claims: { sub: string; email?: unknown }): string {
  return typeof claims.email === 'string' && claims.email.includes('@') && !claims.sub.includes(':')
    ? claims.email
    : claims.sub;
}

/**
 * What the config demands of the returned certificate, checked before anything is logged:
 *  - with requireSCT, an SCT embedded in it. A detached SCT does not count: no Sigstore bundle
 *    can carry one, so a verifier (Stella's or sigstore-js's) would find none;
 *  - with `roots`, a chain that passes the verifier's own chain validation (x509/chain.ts: CA
 *    flags, names, usages, validity, every signature) and ends at one of them;
 *  - with `trust`, what `stella attest verify` will check with it: a chain up to one of its
 *    certificate authorities and, with requireSCT, an SCT that verifies with one of its CT
 *    logs (cosign checks the SCT at this point too). Otherwise the log would keep a permanent
 *    entry for a bundle that cannot verify against the trust it was signed under.
 */
export function checkIssuedCertificate(
  certs: Certificate[],
  detachedSct: string | undefined,
  config: SignerConfig,
  against: IssuedAgainst = {},
): Certificate {
  return checkIssued(certs, detachedSct, config, against).leaf;
}

type IssuedAgainst = {
  roots?: Uint8Array[] | undefined;
  trust?: TrustMaterial;
  trustSource?: string;
};

/** checkIssuedCertificate, with the identity and issuer a policy will match (`namesForPolicy`). */
function checkIssued(
  certs: Certificate[],
  detachedSct: string | undefined,
  config: SignerConfig,
  against: IssuedAgainst,
): { leaf: Certificate; names: { identity: string; issuer: string } } {
  const leaf = certs[0]!;
  const names = namesForPolicy(leaf);
  const requireSct = config.certificate.requireSCT;
  if (requireSct && leaf.embeddedSctList === undefined) {
    fail(
      'SCT_MISSING',
      'signing',
      detachedSct !== undefined
        ? 'Fulcio certificate has no embedded SCT: Fulcio returned a detached one, which a Sigstore bundle cannot carry, so no verifier would see it (certificate.requireSCT is true; configure Fulcio to embed SCTs)'
        : 'Fulcio certificate has no SCT (certificate.requireSCT is true)',
    );
  }
  const { roots, trust } = against;
  if (roots !== undefined) {
    const rootsName =
      config.certificate.rootBundlePath !== undefined
        ? `certificate.rootBundlePath ${config.certificate.rootBundlePath}`
        : 'the given Fulcio roots';
    const parsed = roots.map((der, i) =>
      parseCertificate(der, {
        code: 'CONFIG_INVALID',
        check: 'config',
        what: `${rootsName}: certificate ${i + 1}`,
      }),
    );
    // At the leaf's issuance: Fulcio's clock says when that was (ours may lag it by a second).
    verifyIssuedChain(certs, parsed, [leaf.notBefore], rootsName);
  }
  if (trust !== undefined) {
    try {
      // A v0.3 bundle carries the leaf alone: the trust root's CA supplies the rest of the path.
      const { path } = verifyCertificateChain(leaf, [], trust.certificateAuthorities, [
        leaf.notBefore,
      ]);
      if (requireSct) verifyEmbeddedScts(leaf, path[1]!, trust.ctlogs);
    } catch (e) {
      if (!(e instanceof StellaError)) throw e;
      throw e.reworded(
        `Fulcio's certificate does not verify against the ${against.trustSource ?? 'trusted root'}, so nothing was signed into the log: ${e.message}`,
      );
    }
  }
  return { leaf, names };
}

/**
 * What a verifier's policy will match in the certificate: its one OIDC issuer (a certificate
 * whose two issuer extensions disagree, or that has none, fails every
 * `--certificate-oidc-issuer`, as does one no such flag can pin) and the first identity a
 * pattern can match (a SAN, the OIDC subject, or one derived from the CI extensions, non-empty,
 * without control characters and in NFC: `identityCandidates`). A certificate without both is
 * refused: the log would keep an entry for a bundle no policy can verify. The identity is the
 * one the signer reports.
 */
function namesForPolicy(leaf: Certificate): { identity: string; issuer: string } {
  const refused = (why: string, cause?: unknown): never =>
    fail(
      'FULCIO_REJECTED',
      'signing',
      `Fulcio's certificate ${why}, so no verifier's policy could match it and nothing was signed into the log`,
      undefined,
      cause === undefined ? undefined : { cause },
    );
  let issuer: string | undefined;
  try {
    issuer = oidcIssuer(leaf);
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    refused(`names no single OIDC issuer (${e.message})`, e);
  }
  if (issuer === undefined) return refused('has no OIDC issuer extension');
  const unpinnable = unpinnableIssuerReason(issuer);
  if (unpinnable !== undefined)
    refused(`names the OIDC issuer ${quoted(issuer)}, which ${unpinnable}`);
  const candidates = identityCandidates(leaf);
  const identity = candidates.find((c) => c.unusable === undefined && c.value !== '')?.value;
  if (identity === undefined) {
    const shown = candidates
      .map((c) => `${c.field} ${quoted(c.value)} (${c.unusable ?? 'empty'})`)
      .join('; ');
    return refused(`names no usable identity${shown ? `: ${shown}` : ''}`);
  }
  return { identity, issuer };
}

/**
 * Turn Rekor's answer into the bundle's tlog entry, refusing one that does not prove OUR
 * signature: the body must record our signature, certificate and digest (checked by the same
 * binding code that verifies bundles), the inclusion proof must reach the root it claims, and
 * that root and size must be the checkpoint's. The checkpoint's signature is not checked here:
 * the signer does not hold the Rekor key (verifiers check it against their trust root).
 */
export function checkLogEntry(
  logged: RekorEntryResult,
  content: BundleContent,
  leaf: Certificate,
): TransparencyLogEntry {
  const missing = (why: string, options?: { cause?: unknown }): never => {
    throw new StellaError(
      'REKOR_PROOF_MISSING',
      'tlog',
      `Rekor proof missing: ${why}`,
      { uuid: logged.uuid },
      options,
    );
  };
  // Errors from the shared parsers and checks keep their message under this one code.
  const proving = <T>(what: string, check: () => T): T => {
    try {
      return check();
    } catch (e) {
      if (!(e instanceof StellaError)) throw e;
      const why = e.message.replace(/^Rekor proof missing: /, '');
      return missing(what ? `${what}: ${why}` : why, { cause: e });
    }
  };
  // The bundle this entry would go into, so the code that verifies bundles checks it.
  const bundle = proving('', () =>
    bundleFromRekorResponse({
      content,
      signer: { certificate: leaf.der },
      rekorEntry: logged.entry,
    }),
  );
  const entry = bundle.verificationMaterial.tlogEntries[0]!;
  const expectedKind = content.kind === 'messageSignature' ? 'hashedrekord' : 'dsse';
  if (entry.kindVersion.kind !== expectedKind)
    missing(`expected a ${expectedKind} entry, got ${quoted(entry.kindVersion.kind)}`);
  proving('logged entry is not our signature', () =>
    verifyEntryBinding(entry, bundle, { certificateDer: leaf.der }),
  );
  // The UUID is what the user is told and what a later lookup asks for: Rekor's tree ID
  // (optional) and the entry's leaf hash, which must be this body's.
  const leafHex = toHex(leafHash(entry.canonicalizedBody));
  if (!ENTRY_UUID.test(logged.uuid) || !logged.uuid.endsWith(leafHex))
    missing(`entry UUID ${quoted(logged.uuid)} is not the leaf hash of its body (${leafHex})`);
  const p = entry.inclusionProof!;
  proving('inclusion proof does not verify', () =>
    verifyInclusion(
      p.logIndex,
      p.treeSize,
      leafHash(entry.canonicalizedBody),
      p.hashes,
      p.rootHash,
    ),
  );
  const checkpoint = proving('', () => parseCheckpoint(parseSignedNote(p.checkpoint).text));
  if (checkpoint.treeSize !== p.treeSize || !bytesEqual(checkpoint.rootHash, p.rootHash))
    missing("checkpoint does not commit to the proof's tree size and root hash");
  return entry;
}
