/**
 * Fuzz target for the signer's side of the log: what Rekor v1 answers `attest sign` (the
 * `{uuid: LogEntry}` JSON), read by the client (`parseEntryResponse`) and taken by
 * `acceptRekorV1Answer`, the signer's checks in one place: the entry proves our signature (its
 * body, UUID, proof and checkpoint agree), it verifies against the trust root (the SET and the
 * checkpoint signed by the trusted log), and the log's time lies in the certificate's window.
 * A Rekor answer the signer takes goes into the bundle it writes, so the property is: **what
 * the signer accepts, the verifier accepts**. An answer taken that `verifyBundleReport` then
 * refuses would be a bundle the user was told is signed and logged, and that nobody can verify.
 *
 * Seeds: two entries the project's own authority logged (so an inclusion proof has a hash),
 * each the answer Rekor gives. Mutated as JSON (the body inside as a Rekor body, the checkpoint
 * as a signed note, the SET byte by byte), its UUID changed, and a third of the time the SET
 * signed again by the log over the mutated fields (so the checks behind the SET are reached).
 */
import { identityCandidates } from '../../src/x509/identity-candidates.js';
import { oidcIssuer, parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import type { Bundle, BundleContent } from '../../src/bundle/model.js';
import { bundleFromRekorResponse } from '../../src/bundle/from-rekor.js';
import { serializeTrustedRoot } from '../../src/trust/trusted-root.js';
import { acceptRekorV1Answer } from '../../src/sign/sign.js';
import { checkLogEntryV2, createEntryRequestV2 } from '../../src/sign/rekor-v2-client.js';
import { parseTransparencyLogEntryJson } from '../../src/bundle/parse.js';
import { BUNDLE_V03_MEDIA_TYPE, bundleToJson } from '../../src/bundle/serialize.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import { LocalRekorV2Log } from '../../src/sandbox/authority/rekor-v2.js';
import { MemoryLogStorage } from '../../src/sandbox/authority/rekor.js';
import { deriveV2AuthorityKeys } from '../../src/sandbox/authority/keys-v2.js';
import { seedFromString } from '../../src/sandbox/authority/keys.js';
import { parseEntryResponse, type RekorEntryResult } from '../../src/sign/rekor-client.js';
import { signSet } from '../../src/tlog/set.js';
import { signCheckpoint } from '../../src/tlog/note.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import { buildPolicy } from '../../src/verify/policy.js';
import type { SandboxAuthority } from '../../src/sandbox/authority/index.js';
import { sha256 } from '../../src/crypto.js';
import { fromHex, toBase64, utf8 } from '../../src/util/encoding.js';
import {
  AUTHORITY_CREATED_AT,
  signBlob,
  testAuthority,
  testTsa,
} from '../helpers/authority-bundles.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';
import { readServiceJson } from '../../src/sign/http.js';
import { seededTarget, type FuzzTarget, type IterationResult } from './harness.js';
import { havoc, type Trail } from './mutate-bytes.js';
import { mutateRekorBody } from './mutate-bundle.js';
import { cloneJson, mutateJson, stringifyFuzz, type Json, type JsonHooks } from './mutate-json.js';
import { mutateNote } from './mutate-note.js';
import {
  attempt,
  attemptSync,
  PEER_PARSER_LIMITS,
  peerTrustOf,
  peerVerifies,
  type PeerTrust,
} from './oracle.js';
import type { Prng } from './prng.js';
import { fromThrow } from './targets.js';

const T0 = Date.UTC(2025, 5, 1);

export interface RekorAnswerSeed {
  name: string;
  /** Rekor's answer as it came: v1 `{ "<uuid>": LogEntry }`, v2 a TransparencyLogEntry. */
  answer: Json;
  content: BundleContent;
  artifact: Uint8Array;
  artifactDigest: Uint8Array;
  leaf: Certificate;
}

export interface RekorAnswerSetup {
  authority: SandboxAuthority;
  seeds: RekorAnswerSeed[];
  peerTrust: PeerTrust;
}

/** Two blobs signed and logged; each answer read again once both are in the tree. */
export function rekorAnswerSetup(): RekorAnswerSetup {
  const authority = testAuthority('fuzz-rekor-answer');
  const signed = [0, 1].map((i) => {
    const artifact = utf8.encode(`rekor answer ${i}\n`);
    return { artifact, s: signBlob(authority, artifact, { repo: 'org/repo', now: T0 + i * 1000 }) };
  });
  const seeds = signed.map(({ artifact, s }, i) => ({
    name: `rekor-answer/entry-${i}`,
    answer: authority.rekor.entryByIndex(i) as unknown as Json,
    content: s.bundle.content,
    artifact,
    artifactDigest: sha256(artifact),
    leaf: parseCertificate(s.certificate),
  }));
  return { authority, seeds, peerTrust: peerTrustOf(authority.trustedRootJson()) };
}

const HOOKS: JsonHooks = {
  bytesField: (p) => {
    const k = p[p.length - 1];
    if (k === 'body') return mutateRekorBody;
    if (k === 'signedEntryTimestamp') return (rng, b, t) => havoc(rng, b, t);
    return undefined;
  },
  stringField: (p) =>
    p[p.length - 1] === 'checkpoint' ? (rng, s, t) => mutateNote(rng, s, t) : undefined,
};

/** The SET signed again by the log over the answer's (mutated) fields, where they allow one. */
function signSetAgain(a: SandboxAuthority, answer: Json, trail: Trail): Json {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return answer;
  const [uuid] = Object.keys(answer);
  const e = uuid === undefined ? undefined : (answer as Record<string, any>)[uuid];
  if (typeof e?.body !== 'string' || typeof e.verification !== 'object' || !e.verification)
    return answer;
  const set = attemptSync(() =>
    signSet(
      {
        canonicalizedBody: new Uint8Array(Buffer.from(e.body as string, 'base64')),
        integratedTime: e.integratedTime as number,
        logIndex: e.logIndex as number,
        logId: fromHex(String(e.logID)),
      },
      (payload) => a.keys.rekorLog.sign(payload),
    ),
  );
  if (set.kind !== 'ok') return answer;
  trail.push('SET signed again by the log');
  e.verification.signedEntryTimestamp = toBase64(set.value);
  return answer;
}

export function mutateRekorAnswer(
  rng: Prng,
  setup: RekorAnswerSetup,
  s: RekorAnswerSeed,
  trail: Trail,
): string {
  let answer = s.answer;
  const steps = 1 + rng.smallSize(2);
  for (let i = 0; i < steps; i++) answer = mutateJson(rng, answer, trail, HOOKS);
  if (rng.chance(0.1) && typeof answer === 'object' && answer && !Array.isArray(answer)) {
    // Another UUID for the same entry: the tree ID dropped or changed, the leaf hash flipped.
    const [uuid] = Object.keys(answer);
    if (uuid !== undefined) {
      const other = rng.pick([
        uuid.slice(-64),
        `ffffffffffffffff${uuid.slice(-64)}`,
        `${uuid.slice(0, -1)}${uuid.endsWith('0') ? '1' : '0'}`,
        uuid.toUpperCase(),
      ]);
      trail.push(`uuid ${other.slice(0, 20)}…`);
      answer = { [other]: (answer as Record<string, Json>)[uuid]! };
    }
  }
  if (rng.chance(0.33)) answer = signSetAgain(setup.authority, cloneJson(answer), trail);
  return stringifyFuzz(answer);
}

/**
 * What the client reads of the answer (`parseEntryResponse`) and the signer's checks
 * (`acceptRekorV1Answer`); when they take it, the bundle made from it must pass
 * `verifyBundleReport` with the authority's trust and the signer's own identity.
 */
export async function judgeRekorAnswer(
  setup: RekorAnswerSetup,
  s: RekorAnswerSeed,
  text: string,
): Promise<IterationResult> {
  // As the client reads it: what is not strict JSON reaches the checks as `undefined`.
  const json = readServiceJson(utf8.encode(text));
  const trust = setup.authority.trustMaterial();
  // What the client does with the answer (its shape), then the signer's checks.
  let result: RekorEntryResult | undefined;
  const warnings: string[] = [];
  const checked = attemptSync(() => {
    result = parseEntryResponse(json);
    return acceptRekorV1Answer(result, s.content, s.leaf, {
      trust,
      times: [],
      url: 'https://rekor.test.invalid',
      trustNote: '',
      warnings,
    });
  });
  if (checked.kind !== 'ok')
    return fromThrow(checked, text, 'parseEntryResponse/acceptRekorV1Answer');
  const bundle = attemptSync(() =>
    bundleFromRekorResponse({
      content: s.content,
      signer: { certificate: s.leaf.der },
      rekorEntry: result!.entry,
    }),
  );
  if (bundle.kind !== 'ok')
    return {
      kind: 'failure',
      problem: 'the signer took a Rekor answer it cannot then put in a bundle',
      error: bundle.kind === 'crash' ? bundle.error : undefined,
      input: text,
    };
  return verifierTakes(bundle.value, s, trust, text, 'a Rekor answer', {
    trust: setup.peerTrust,
    artifact: s.artifact,
    // A checkpoint signed under a name other than the log's host: the signer warns, and the
    // peer (which looks for the name in the log's URL) may refuse it.
    ...(warnings.length > 0 ? { mayRefuse: 'invalid checkpoint signature' } : {}),
  });
}

/** `@sigstore/verify` as the second verifier of what the signer writes. */
export interface PeerCheck {
  trust: PeerTrust;
  /** The artifact's bytes (the peer verifies a message signature over them). */
  artifact: Uint8Array;
  /** The peer must refuse with exactly this error: a bundle the signer warned it cannot read. */
  refuses?: string;
  /** The peer may refuse, with this error only: a bundle the signer warned it may not read. */
  mayRefuse?: string;
}

/**
 * The other half of the property: the bundle the signer would write passes `verifyBundleReport`
 * with the same trust, under the identity and issuer the signer's certificate names (the
 * identity the signer reports to its user), verified an hour after the certificate expired
 * (later than signed, as it will be); and, with `peer`, `@sigstore/verify` (a SCT and a log
 * entry required, as Stella requires them) under the same issuer and, when that identity is a
 * SAN URI or email, the SAN: the peer reads no other identity field (the OIDC subject,
 * Fulcio's otherName), so with those it pins the issuer alone. `what` names what the signer
 * took, for the failure.
 */
export async function verifierTakes(
  bundle: Bundle,
  s: { artifactDigest: Uint8Array; leaf: Certificate },
  trust: TrustMaterial,
  text: Uint8Array | string,
  what: string,
  peer?: PeerCheck,
): Promise<IterationResult> {
  // The policy a user of this certificate would write: its OIDC issuer and the first identity
  // it offers a policy (SAN, OIDC subject, or one derived from the CI extensions) that a
  // pattern can match.
  const named = attemptSync(() => {
    const identity = identityCandidates(s.leaf).find(
      (c) => c.unusable === undefined && c.value !== '',
    );
    const issuer = oidcIssuer(s.leaf);
    if (identity === undefined) throw new Error('no identity a pattern can match');
    if (issuer === undefined) throw new Error('no OIDC issuer');
    return {
      identity,
      issuer,
      policy: buildPolicy({
        certificateIdentity: literalPattern(identity.value),
        certificateOidcIssuer: issuer,
        now: Math.min(s.leaf.notAfter, Date.UTC(2099, 0, 1)) + 3_600_000,
      }),
    };
  });
  if (named.kind !== 'ok')
    return {
      kind: 'failure',
      problem: `the signer took ${what} with a certificate that no policy can name (${named.kind === 'refused' ? named.code : named.kind === 'crash' ? (named.error as Error).message : named.id})`,
      input: text,
    };
  const { identity, issuer, policy } = named.value;
  const report = await attempt(() =>
    verifyBundleReport({
      bundle,
      artifact: { kind: 'digest', algorithm: 'SHA2_256', digest: s.artifactDigest },
      trust,
      policy,
    }),
  );
  if (report.kind !== 'ok') return fromThrow(report, text, 'verifyBundleReport');
  if (!report.value.ok)
    return {
      kind: 'failure',
      problem: `the signer took ${what} whose bundle the verifier refuses (${report.value.error?.code}: ${report.value.error?.message})`,
      input: text,
    };
  if (!peer) return { kind: 'accepted', by: 'signer and verifier agree' };
  const san =
    identity.field === 'SAN URI' || identity.field === 'SAN email' ? identity.value : undefined;
  const verdict = peerVerifies(
    peer.trust,
    { tlogThreshold: 1, ctlogThreshold: 1 },
    bundleToJson(bundle),
    peer.artifact,
    { ...(san !== undefined ? { san } : {}), issuer },
  );
  if (peer.refuses !== undefined) {
    if (!verdict.ok && verdict.error === peer.refuses)
      return {
        kind: 'accepted',
        by: 'signer and verifier agree; the signer warns the peer refuses',
      };
    return {
      kind: 'failure',
      problem: `the signer warned that @sigstore/verify refuses ${what}'s bundle ("${peer.refuses}"), and it gave ${verdict.ok ? 'a pass' : `"${verdict.error}"`}`,
      input: text,
    };
  }
  if (!verdict.ok && verdict.error === peer.mayRefuse)
    return { kind: 'accepted', by: 'signer and verifier agree; the signer warns the peer refuses' };
  const limit = verdict.ok ? undefined : PEER_PARSER_LIMITS.find((l) => l.error === verdict.error);
  if (limit) return { kind: 'accepted', by: `signer and verifier agree; ${limit.why}` };
  if (!verdict.ok)
    return {
      kind: 'failure',
      problem: `the signer took ${what} whose bundle Stella verifies and @sigstore/verify refuses (${verdict.error})`,
      input: text,
    };
  return { kind: 'accepted', by: 'signer, verifier and @sigstore/verify agree' };
}

export function rekorAnswerTarget(setup: RekorAnswerSetup, defaultIterations: number): FuzzTarget {
  return seededTarget(
    'rekor-answer',
    defaultIterations,
    setup.seeds,
    (rng, s, trail) => mutateRekorAnswer(rng, setup, s, trail),
    (s, input) => judgeRekorAnswer(setup, s, input),
  );
}

/** For the oracle's own test: the seed's answer as text. */
export const answerText = (s: RekorAnswerSeed): string => stringifyFuzz(s.answer);

// ---------------------------------------------------------------------------------------
// Rekor v2: the TransparencyLogEntry it answers goes into the bundle as it is

/** Rekor v2's answer (`answer`) is a TransparencyLogEntry as protobuf-specs JSON. */
export interface RekorV2AnswerSeed extends RekorAnswerSeed {
  /** The TSA's answer over the signature, and its time: what the signer verified first. */
  timestamp: Uint8Array;
  tsaTime: number;
}

export interface RekorV2AnswerSetup {
  trust: TrustMaterial;
  url: string;
  seeds: RekorV2AnswerSeed[];
  /** The same trust as trusted_root.json, as @sigstore/verify reads it. */
  peerTrust: PeerTrust;
  /** A checkpoint the log signs for any tree size and root hash (as a misbehaving log could). */
  signCheckpoint(treeSize: number, rootHash: Uint8Array): string;
}

/** Two blobs logged in a Rekor v2 log of their own, each timestamped by a TSA the trust has. */
export function rekorV2AnswerSetup(): RekorV2AnswerSetup {
  const authority = testAuthority('fuzz-rekor-v2-answer');
  const url = 'https://log2099-1.rekor.test.invalid';
  const logKey = deriveV2AuthorityKeys(seedFromString('fuzz-rekor-v2-answer')).rekorV2Log;
  const log = new LocalRekorV2Log({
    key: logKey,
    storage: new MemoryLogStorage(),
    baseUrl: url,
    validFrom: AUTHORITY_CREATED_AT,
  });
  const tsa = testTsa('fuzz-rekor-v2-answer', Date.UTC(2025, 0, 1), Date.UTC(2035, 0, 1));
  const base = authority.trustMaterial();
  const trust: TrustMaterial = {
    ...base,
    tlogs: [...base.tlogs, log.logInstance()],
    timestampAuthorities: [tsa.authority],
  };
  const seeds = [0, 1].map((i) => {
    const artifact = utf8.encode(`rekor v2 answer ${i}\n`);
    const now = T0 + i * 1000;
    const s = signBlob(authority, artifact, { repo: 'org/repo', now });
    const request = createEntryRequestV2(
      s.bundle.content,
      s.certificate,
      'PKIX_ECDSA_P256_SHA_256',
    );
    const created = log.createEntry(request, { now: now + 5_000 });
    const c = s.bundle.content;
    const tsaTime = now + 3_000;
    return {
      name: `rekor-v2-answer/entry-${i}`,
      answer: created.entry as unknown as Json,
      content: c,
      artifact,
      artifactDigest: sha256(artifact),
      leaf: parseCertificate(s.certificate),
      timestamp: tsa.stamp(c.kind === 'messageSignature' ? c.signature : new Uint8Array(), tsaTime),
      tsaTime,
    };
  });
  const noteSigner = {
    name: log.name,
    keyHint: log.keyId.slice(0, 4),
    sign: (m: Uint8Array) => logKey.signer.sign(m),
  };
  return {
    trust,
    url,
    seeds,
    peerTrust: peerTrustOf(serializeTrustedRoot(trust)),
    signCheckpoint: (treeSize, rootHash) =>
      signCheckpoint({ origin: log.name, treeSize, rootHash }, noteSigner),
  };
}

/**
 * The checkpoint signed again by the log over the (mutated) proof's tree size and root hash,
 * where they allow one: so a changed proof reaches the inclusion check behind the signature.
 */
function signCheckpointAgain(setup: RekorV2AnswerSetup, answer: Json, trail: Trail): Json {
  const p = (answer as Record<string, any> | null)?.inclusionProof;
  if (typeof p !== 'object' || p === null || typeof p.rootHash !== 'string') return answer;
  const treeSize = Number(p.treeSize);
  const rootHash = new Uint8Array(Buffer.from(p.rootHash as string, 'base64'));
  if (!Number.isSafeInteger(treeSize) || treeSize < 1 || rootHash.length !== 32) return answer;
  trail.push('checkpoint signed again by the log');
  p.checkpoint = { envelope: setup.signCheckpoint(treeSize, rootHash) };
  return answer;
}

const V2_HOOKS: JsonHooks = {
  bytesField: (p) =>
    p[p.length - 1] === 'canonicalizedBody'
      ? mutateRekorBody
      : p[p.length - 1] === 'rootHash' || p.includes('hashes')
        ? (rng, b, t) => havoc(rng, b, t)
        : undefined,
  stringField: (p) =>
    p[p.length - 1] === 'envelope' ? (rng, s, t) => mutateNote(rng, s, t) : undefined,
};

/**
 * What `attest sign` does with a Rekor v2 answer: the strict entry reader, then
 * `checkLogEntryV2` with the TSA's time; what they take must give a bundle (the entry and the
 * TSA's answer) that `verifyBundleReport` takes.
 */
export async function judgeRekorV2Answer(
  setup: RekorV2AnswerSetup,
  s: RekorV2AnswerSeed,
  text: string,
): Promise<IterationResult> {
  // As the client reads it: what is not strict JSON reaches the checks as `undefined`.
  const json = readServiceJson(utf8.encode(text));
  const checked = attemptSync(() =>
    checkLogEntryV2(parseTransparencyLogEntryJson(json, 'Rekor v2 answer'), {
      url: setup.url,
      content: s.content,
      leaf: s.leaf,
      artifactDigest: (alg) => (alg === 'SHA2_256' ? s.artifactDigest : undefined),
      trust: setup.trust,
      times: [s.tsaTime],
    }),
  );
  if (checked.kind !== 'ok')
    return fromThrow(checked, text, 'parseTransparencyLogEntryJson/checkLogEntryV2');
  const bundle: Bundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    version: '0.3',
    verificationMaterial: {
      content: { kind: 'certificate', certificate: s.leaf.der },
      tlogEntries: [checked.value],
      rfc3161Timestamps: [s.timestamp],
    },
    content: s.content,
  };
  return verifierTakes(bundle, s, setup.trust, text, 'a Rekor v2 answer', {
    trust: setup.peerTrust,
    artifact: s.artifact,
  });
}

export function rekorV2AnswerTarget(
  setup: RekorV2AnswerSetup,
  defaultIterations: number,
): FuzzTarget {
  const mutate = (rng: Prng, s: RekorV2AnswerSeed, trail: Trail): string => {
    let answer = s.answer;
    const steps = 1 + rng.smallSize(2);
    for (let i = 0; i < steps; i++) answer = mutateJson(rng, answer, trail, V2_HOOKS);
    if (rng.chance(0.33)) answer = signCheckpointAgain(setup, cloneJson(answer), trail);
    return stringifyFuzz(answer);
  };
  return seededTarget('rekor-v2-answer', defaultIterations, setup.seeds, mutate, (s, text) =>
    judgeRekorV2Answer(setup, s, text),
  );
}
