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
import { parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import type { BundleContent } from '../../src/bundle/model.js';
import { bundleFromRekorResponse } from '../../src/bundle/from-rekor.js';
import { acceptRekorV1Answer } from '../../src/sign/sign.js';
import { parseEntryResponse, type RekorEntryResult } from '../../src/sign/rekor-client.js';
import { signSet } from '../../src/tlog/set.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import { buildPolicy } from '../../src/verify/policy.js';
import type { SandboxAuthority } from '../../src/sandbox/authority/index.js';
import { sha256 } from '../../src/crypto.js';
import { fromHex, toBase64, utf8 } from '../../src/util/encoding.js';
import { ISSUER_URL, signBlob, testAuthority } from '../helpers/authority-bundles.js';
import type { FuzzTarget, IterationResult } from './harness.js';
import { havoc, type Trail } from './mutate-bytes.js';
import { mutateRekorBody } from './mutate-bundle.js';
import { mutateJson, stringifyFuzz, type Json, type JsonHooks } from './mutate-json.js';
import { mutateNote } from './mutate-note.js';
import { attempt, attemptSync } from './oracle.js';
import type { Prng } from './prng.js';
import { fromThrow } from './targets.js';

const T0 = Date.UTC(2025, 5, 1);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface RekorAnswerSeed {
  name: string;
  /** Rekor's answer as it came: `{ "<uuid>": LogEntry }`. */
  answer: Json;
  content: BundleContent;
  artifactDigest: Uint8Array;
  leaf: Certificate;
  identity: string;
}

export interface RekorAnswerSetup {
  authority: SandboxAuthority;
  seeds: RekorAnswerSeed[];
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
    artifactDigest: sha256(artifact),
    leaf: parseCertificate(s.certificate),
    identity: s.identity,
  }));
  return { authority, seeds };
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
  if (rng.chance(0.33)) answer = signSetAgain(setup.authority, structuredClone(answer), trail);
  return stringifyFuzz(answer);
}

/**
 * The signer's two checks on the answer; when both take it, the bundle made from it must pass
 * `verifyBundleReport` with the authority's trust and the signer's own identity.
 */
export async function judgeRekorAnswer(
  setup: RekorAnswerSetup,
  s: RekorAnswerSeed,
  text: string,
): Promise<IterationResult> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'skipped' }; // the Rekor client refuses it before any check (parseJsonStrict)
  }
  const trust = setup.authority.trustMaterial();
  // What the client does with the answer (its shape), then the signer's two checks.
  let result: RekorEntryResult | undefined;
  const checked = attemptSync(() => {
    result = parseEntryResponse(json);
    return acceptRekorV1Answer(result, s.content, s.leaf, {
      trust,
      times: [],
      url: 'https://rekor.test.invalid',
      trustNote: '',
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
  const report = await attempt(() =>
    verifyBundleReport({
      bundle: bundle.value,
      artifact: { kind: 'digest', algorithm: 'SHA2_256', digest: s.artifactDigest },
      trust,
      policy: buildPolicy({
        certificateIdentity: escapeRe(s.identity),
        certificateOidcIssuer: ISSUER_URL,
        // Verified later than signed: an hour after the certificate expired.
        now: s.leaf.notAfter + 3_600_000,
      }),
    }),
  );
  if (report.kind !== 'ok') return fromThrow(report, text, 'verifyBundleReport');
  if (!report.value.ok)
    return {
      kind: 'failure',
      problem: `the signer took a Rekor answer whose bundle the verifier refuses (${report.value.error?.code}: ${report.value.error?.message})`,
      input: text,
    };
  return { kind: 'accepted', by: 'signer and verifier agree' };
}

export function rekorAnswerTarget(setup: RekorAnswerSetup, defaultIterations: number): FuzzTarget {
  return {
    name: 'rekor-answer',
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(setup.seeds);
      trail.push(`seed ${s.name}`);
      return judgeRekorAnswer(setup, s, mutateRekorAnswer(rng, setup, s, trail));
    },
  };
}

/** For the oracle's own test: the seed's answer as text. */
export const answerText = (s: RekorAnswerSeed): string => stringifyFuzz(s.answer);
