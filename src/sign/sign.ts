/**
 * Keyless signing, end to end: token -> ephemeral key -> Fulcio certificate -> signature (or
 * DSSE over an in-toto statement) -> Rekor entry with inclusion proof -> v0.3 bundle.
 *
 * Order matters for safety: the token is checked (expiry) before any request; the Rekor
 * answer is checked against what we sent (body, Merkle inclusion, checkpoint root) before a
 * bundle is assembled, so a bundle never claims a log entry that does not prove this
 * signature. The private key never leaves ./keys.ts's closure.
 */
import { basename } from 'node:path';
import { fail, StellaError } from '../errors.js';
import { sha256 } from '../crypto.js';
import { bytesEqual, fromHex, toHex } from '../util/encoding.js';
import { FILE_LIMITS, readArtifactFile, readFileBounded } from '../util/fs.js';
import { preAuthEncoding, serializeEnvelope } from '../bundle/dsse.js';
import { buildInTotoStatement, IN_TOTO_PAYLOAD_TYPE } from '../bundle/intoto.js';
import { BUNDLE_V03_MEDIA_TYPE, serializeBundle } from '../bundle/serialize.js';
import type { Bundle, BundleContent, TransparencyLogEntry } from '../bundle/model.js';
import { bundleFromRekorResponse } from '../bundle/from-rekor.js';
import { leafHash, verifyInclusion } from '../tlog/merkle.js';
import { parseCheckpoint, parseSignedNote } from '../tlog/note.js';
import { verifyEntryBinding } from '../tlog/rekor-entry.js';
import { derToPem, oidcIssuer, parseCertificate, pemToDerList, verifyCertificateSignature, type Certificate } from '../x509/certificate.js';
import { defaultSignerConfig, type SignerConfig, type SigningAlgorithm } from './config.js';
import { createEphemeralKey, type KeyPairGenerator } from './keys.js';
import { requestSigningCertificate } from './fulcio-client.js';
import { dsseProposal, hashedRekordProposal, uploadEntry, type RekorEntryResult } from './rekor-client.js';
import { resolveIdentityToken, type TokenSource } from './token.js';

export type ArtifactType = 'blob' | 'image';

export interface SignOptions {
  /** A file path, or "sha256:<hex>" to sign a digest only. */
  artifact: string;
  type?: ArtifactType;
  /** In-toto predicate (parsed JSON) and its type URI: sign a DSSE attestation instead. */
  predicate?: { type: string; value: unknown };
  identityToken?: string;
  config?: SignerConfig;
  /** Override the config's service URLs. */
  fulcioUrl?: string;
  rekorUrl?: string;
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
  /** Certificate SAN and OIDC issuer (what a verifier pins). */
  identity: string | undefined;
  issuer: string | undefined;
  algorithm: SigningAlgorithm;
  tokenSource: TokenSource;
  rekor: { uuid: string; logIndex: number; integratedTime: number };
}

const DIGEST_REF = /^sha256:([0-9a-fA-F]{64})$/;

interface LoadedArtifact {
  digest: Uint8Array;
  /** The artifact's bytes when we have them (ECDSA signs them; otherwise a prehash signature). */
  bytes: Uint8Array | undefined;
  name: string;
}

function loadArtifact(ref: string, type: ArtifactType): LoadedArtifact {
  const m = DIGEST_REF.exec(ref);
  if (m) return { digest: fromHex(m[1]!.toLowerCase()), bytes: undefined, name: ref.toLowerCase() };
  if (/^sha(256|384|512):/i.test(ref)) fail('INPUT_INVALID', 'input', `--artifact ${JSON.stringify(ref.slice(0, 80))}: a digest must be sha256:<64 hex digits>`);
  if (type === 'image') fail('INPUT_INVALID', 'input', '--type image needs --artifact sha256:<digest> (the image manifest digest)');
  // A file too large to hold is hashed in chunks and signed as its digest (ECDSA over the
  // SHA-256 either way: the same signature as over the bytes).
  const file = readArtifactFile(ref, { what: '--artifact' });
  if (file.kind === 'digest') return { digest: file.digest, bytes: undefined, name: basename(ref) };
  return { digest: sha256(file.bytes), bytes: file.bytes, name: basename(ref) };
}

export async function signArtifact(opts: SignOptions): Promise<SignResult> {
  const config = opts.config ?? defaultSignerConfig();
  const type = opts.type ?? 'blob';
  const artifact = loadArtifact(opts.artifact, type);
  const fulcioUrl = (opts.fulcioUrl ?? config.fulcio.url).replace(/\/+$/, '');
  const rekorUrl = (opts.rekorUrl ?? config.rekor.url).replace(/\/+$/, '');
  if (opts.predicate && !opts.predicate.type) fail('INPUT_INVALID', 'input', '--predicate needs --predicate-type');

  // 1. The identity token: found and checked before anything leaves this machine.
  const token = await resolveIdentityToken({
    explicit: opts.identityToken,
    env: opts.env,
    useAmbient: config.oidc.useAmbientToken,
    audience: config.oidc.clientId,
    now: opts.now,
    timeoutMs: config.fulcio.timeoutMs,
    fetchImpl: opts.fetchImpl,
  });
  if (config.oidc.issuer !== undefined && token.claims.iss.replace(/\/+$/, '') !== config.oidc.issuer) {
    fail('OIDC_TOKEN_INVALID', 'signing', `issuer mismatch: token issuer ${JSON.stringify(token.claims.iss)} is not the configured oidc.issuer ${JSON.stringify(config.oidc.issuer)}`);
  }

  // 2. The ephemeral key. A bare digest cannot be signed with pure Ed25519.
  let algorithm = config.algorithms.preferred;
  if (algorithm === 'Ed25519' && (artifact.bytes === undefined && !opts.predicate)) {
    if (!config.algorithms.allowed.includes('ECDSA_P256')) {
      fail('INPUT_INVALID', 'signing', 'signing a bare digest needs ECDSA_P256, which the config does not allow');
    }
    algorithm = 'ECDSA_P256';
  }
  const key = createEphemeralKey(algorithm, opts.keyGenerator);

  // 3. The certificate.
  const policy = { timeoutMs: config.fulcio.timeoutMs, retries: config.fulcio.retries };
  const issued = await requestSigningCertificate(fulcioUrl, token.token, challengeFor(token.claims), key, policy, opts.fetchImpl);
  const leaf = checkIssuedCertificate(issued.chain, issued.detachedSct, config);
  const leafPem = derToPem(issued.chain[0]!);

  // 4. The signature and the proposed log entry.
  let content: BundleContent;
  let proposal;
  let predicateType: string | undefined;
  if (opts.predicate) {
    predicateType = opts.predicate.type;
    const { payload } = buildInTotoStatement([{ name: artifact.name, digest: { sha256: toHex(artifact.digest) } }], opts.predicate.type, opts.predicate.value);
    const sig = key.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
    content = { kind: 'dsseEnvelope', payload, payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig, keyid: '' }] };
    proposal = dsseProposal(serializeEnvelope(content), leafPem);
  } else {
    const sig = artifact.bytes !== undefined ? key.sign(artifact.bytes) : key.signDigest(artifact.digest);
    content = { kind: 'messageSignature', messageDigest: { algorithm: 'SHA2_256', digest: artifact.digest }, signature: sig };
    proposal = hashedRekordProposal(toHex(artifact.digest), sig, leafPem);
  }

  // 5. The log entry, checked against what we sent.
  const rekorPolicy = { timeoutMs: config.rekor.timeoutMs, retries: config.rekor.retries };
  const logged = await uploadEntry(rekorUrl, proposal, rekorPolicy, opts.fetchImpl);
  const tlogEntry = checkLogEntry(logged, content, leaf);

  // 6. The bundle (v0.3: the leaf certificate only).
  const bundle: Bundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    version: '0.3',
    verificationMaterial: { content: { kind: 'certificate', certificate: issued.chain[0]! }, tlogEntries: [tlogEntry], rfc3161Timestamps: [] },
    content,
  };
  const bundleJson = serializeBundle(bundle, { indent: 2 }) + '\n';
  return {
    bundle,
    bundleJson,
    artifactDigest: `sha256:${toHex(artifact.digest)}`,
    contentKind: content.kind,
    predicateType,
    identity: leaf.subjectAltName?.uris[0] ?? leaf.subjectAltName?.emails[0],
    issuer: safeIssuer(leaf),
    algorithm,
    tokenSource: token.source,
    rekor: { uuid: logged.uuid, logIndex: tlogEntry.logIndex, integratedTime: tlogEntry.integratedTime },
  };
}

/** Fulcio's challenge: the email for email tokens, else `sub`. */
function challengeFor(claims: { sub: string; email?: unknown }): string {
  return typeof claims.email === 'string' && claims.email.includes('@') && !claims.sub.includes(':') ? claims.email : claims.sub;
}

function safeIssuer(leaf: Certificate): string | undefined {
  try {
    return oidcIssuer(leaf);
  } catch {
    return undefined;
  }
}

/**
 * What the config demands of the returned certificate: an SCT (embedded, or detached from
 * Fulcio) when requireSCT, and with validateChain + rootBundlePath, a chain whose every link
 * verifies and that ends at one of the configured roots.
 */
export function checkIssuedCertificate(chain: Uint8Array[], detachedSct: string | undefined, config: SignerConfig): Certificate {
  const certs = chain.map((der, i) => {
    try {
      return parseCertificate(der);
    } catch (e) {
      return fail('FULCIO_REJECTED', 'signing', `Fulcio certificate ${i} does not parse: ${(e as Error).message}`, undefined, { cause: e });
    }
  });
  const leaf = certs[0]!;
  if (config.certificate.requireSCT && leaf.embeddedSctList === undefined && detachedSct === undefined) {
    fail('SCT_MISSING', 'signing', 'Fulcio certificate has no SCT (certificate.requireSCT is true)');
  }
  if (config.certificate.validateChain && config.certificate.rootBundlePath) {
    const pem = readFileBounded(config.certificate.rootBundlePath, { what: 'certificate.rootBundlePath', maxBytes: FILE_LIMITS.pemBundleBytes, code: 'CONFIG_INVALID', check: 'config' });
    let roots: Certificate[];
    try {
      roots = pemToDerList(Buffer.from(pem).toString('utf8')).map((d) => parseCertificate(d));
    } catch (e) {
      return fail('CONFIG_INVALID', 'config', `certificate.rootBundlePath ${config.certificate.rootBundlePath}: ${(e as Error).message}`, undefined, { cause: e });
    }
    for (let i = 0; i + 1 < certs.length; i++) {
      if (!verifyCertificateSignature(certs[i]!, certs[i + 1]!.publicKey)) {
        fail('CERT_CHAIN_INVALID', 'signing', `Certificate chain invalid: Fulcio certificate ${i} is not signed by certificate ${i + 1}`);
      }
    }
    const last = certs[certs.length - 1]!;
    const anchored = roots.some((r) => bytesEqual(r.der, last.der) || verifyCertificateSignature(last, r.publicKey));
    if (!anchored) fail('CERT_CHAIN_INVALID', 'signing', `Certificate chain invalid: Fulcio's chain does not end at a root in ${config.certificate.rootBundlePath}`);
  }
  return leaf;
}

/**
 * Turn Rekor's answer into the bundle's tlog entry, refusing one that does not prove OUR
 * signature: the body must record our signature, certificate and digest (checked by the same
 * binding code that verifies bundles), the inclusion proof must reach the root it claims, and
 * that root and size must be the checkpoint's. The checkpoint's signature is not checked here:
 * the signer does not hold the Rekor key (verifiers check it against their trust root).
 */
export function checkLogEntry(logged: RekorEntryResult, content: BundleContent, leaf: Certificate): TransparencyLogEntry {
  const missing = (why: string, options?: { cause?: unknown }): never => {
    throw new StellaError('REKOR_PROOF_MISSING', 'tlog', `Rekor proof missing: ${why}`, { uuid: logged.uuid }, options);
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
  const bundle = proving('', () => bundleFromRekorResponse({ content, signer: { certificate: leaf.der }, rekorEntry: logged.entry }));
  const entry = bundle.verificationMaterial.tlogEntries[0]!;
  const expectedKind = content.kind === 'messageSignature' ? 'hashedrekord' : 'dsse';
  if (entry.kindVersion.kind !== expectedKind) missing(`expected a ${expectedKind} entry, got ${entry.kindVersion.kind}`);
  proving('logged entry is not our signature', () => verifyEntryBinding(entry, bundle, { certificateDer: leaf.der }));
  const p = entry.inclusionProof!;
  proving('inclusion proof does not verify', () => verifyInclusion(p.logIndex, p.treeSize, leafHash(entry.canonicalizedBody), p.hashes, p.rootHash));
  const checkpoint = proving('', () => parseCheckpoint(parseSignedNote(p.checkpoint).text));
  if (checkpoint.treeSize !== p.treeSize || !bytesEqual(checkpoint.rootHash, p.rootHash)) missing('checkpoint does not commit to the proof\'s tree size and root hash');
  return entry;
}
