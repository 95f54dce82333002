/**
 * What the fuzz test accepts as an outcome.
 *
 * A refusal must be a StellaError whose code is in EXIT_CODES (so the CLI exits with that
 * code, never 1). Anything else thrown — TypeError, RangeError ("Invalid time value"), a
 * StellaError with an unknown code — is a crash, unless it matches an entry of KNOWN_CRASHES:
 * crash classes another change in flight fixes, each naming that change. Those entries are
 * temporary and must be removed once the fix is merged.
 *
 * A pass must be one a reference verdict allows (see judgeAcceptedBundle): Stella's parse of
 * the mutated bundle equals the seed's (a neutral mutation of a bundle that should pass), or
 * the mutation only added evidence, or @sigstore/verify — a verifier no one here wrote —
 * also accepts it with the same trust material and policy (plus, for in-toto statements, an
 * independent subject check, which @sigstore/verify leaves to its caller). Where the two
 * verifiers differ on purpose, the bundle is shown to @sigstore/verify in a form it reads,
 * changing nothing any signature covers (forPeer: a missing messageDigest, Rekor v1
 * checkpoint names; one of two same-time timestamps; timestamps Stella set aside), and for a
 * seed it cannot verify at all its verdict counts up to the check it disagrees on.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { EXIT_CODES, StellaError } from '../../src/errors.js';
import type { Bundle } from '../../src/bundle/model.js';
import type { VerificationReport } from '../../src/verify/pipeline.js';
import type { BundleSeed } from './corpus.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

export interface KnownCrash {
  /** Short id, printed in the summary. */
  id: string;
  /** The change that removes this crash class; remove the entry when it is merged. */
  fixedBy: string;
  /** Constructor name of the error thrown. */
  error: string;
  message: RegExp;
  /** A message of that class (the oracle's own test uses it). */
  example: string;
}

/**
 * Crash classes being fixed right now by other changes. Keyed by error type and message; an
 * entry never hides a crash of another type or message. REMOVE each entry once its fix is
 * merged: the fuzz test then fails if the class comes back.
 */
export const KNOWN_CRASHES: readonly KnownCrash[] = [
  // Empty: the one class this list held, { id: 'time-out-of-range', error: 'RangeError',
  // message: /^Invalid time value$/ } (an integrated, SCT, TSA or token time past the end of
  // Date, formatted unchecked), is fixed by the times merge (issue 7 items 3, 12, 15; H50).
];

export type Classified =
  | { kind: 'refused'; code: string }
  | { kind: 'known-crash'; id: string }
  | { kind: 'crash'; error: unknown };

/**
 * The longest message a refusal may have. A message shows the value it refuses through
 * `quoted` (src/util/text.ts), which keeps at most a few hundred characters of it; a message
 * that quotes a stranger's value whole grows with the input (a 70 KB payload type made a
 * 70 KB error line), so a longer one is a crash.
 */
export const MAX_REFUSAL_MESSAGE = 4096;

/**
 * The most a refusal's details may take as JSON (what `--json` prints under `error.details`):
 * the digests, indexes and names a check compares, never a stranger's value whole.
 */
export const MAX_REFUSAL_DETAILS = 16_384;

/** How a thrown value counts. */
export function classifyThrow(e: unknown): Classified {
  if (e instanceof StellaError) {
    if (!Object.hasOwn(EXIT_CODES, e.code)) return { kind: 'crash', error: e };
    if (e.message.length > MAX_REFUSAL_MESSAGE)
      return {
        kind: 'crash',
        error: new Error(
          `a ${e.code} refusal's message has ${e.message.length} characters (at most ${MAX_REFUSAL_MESSAGE}): ${e.message.slice(0, 300)}…`,
        ),
      };
    const details = e.details === undefined ? '' : JSON.stringify(e.details);
    if (details.length > MAX_REFUSAL_DETAILS)
      return {
        kind: 'crash',
        error: new Error(
          `a ${e.code} refusal's details take ${details.length} characters as JSON (at most ${MAX_REFUSAL_DETAILS}): ${details.slice(0, 300)}…`,
        ),
      };
    return { kind: 'refused', code: e.code };
  }
  const name = e instanceof Error ? e.constructor.name : typeof e;
  const message = e instanceof Error ? e.message : String(e);
  const known = KNOWN_CRASHES.find((k) => k.error === name && k.message.test(message));
  return known ? { kind: 'known-crash', id: known.id } : { kind: 'crash', error: e };
}

/** Run `fn`; a throw is classified, a return is 'ok'. */
export async function attempt<T>(
  fn: () => T | Promise<T>,
): Promise<{ kind: 'ok'; value: T } | Classified> {
  try {
    return { kind: 'ok', value: await fn() };
  } catch (e) {
    return classifyThrow(e);
  }
}

/** How far a streamed reader has got: bumped by its source for every chunk it hands out. */
export interface Progress {
  steps: number;
}

/**
 * `attempt`, for a reader driven by promises: one that makes no progress (no chunk pulled from
 * its source) for `stallMs` while it has not settled counts as a crash, a hang. A promise that
 * never settles is worse than a throw: with nothing else pending, the process exits with
 * whatever status it had, and no verdict. Progress, not the total time, is watched, so a slow
 * run on a loaded machine is not taken for a hang: a reader takes microseconds per chunk.
 */
export async function attemptSettling<T>(
  fn: () => Promise<T>,
  progress: Progress,
  stallMs = 20_000,
): Promise<{ kind: 'ok'; value: T } | Classified> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    let seen = progress.steps;
    let still = 0;
    const tick = Math.max(1, Math.min(250, stallMs >> 2));
    timer = setInterval(() => {
      if (progress.steps !== seen) {
        seen = progress.steps;
        still = 0;
      } else if ((still += tick) >= stallMs) resolve('hang');
    }, tick);
  });
  try {
    const r = await Promise.race([attempt(fn), hang]);
    if (r === 'hang')
      return {
        kind: 'crash',
        error: new Error(`HANG: not settled, and no progress for ${stallMs} ms`),
      };
    return r;
  } finally {
    clearInterval(timer);
  }
}

/** A hang found by attemptSettling: not minimized (each try would wait out the stall). */
export const isHang = (c: { kind: string; error?: unknown }): boolean =>
  c.kind === 'crash' && String(c.error).includes('HANG:');

export function attemptSync<T>(fn: () => T): { kind: 'ok'; value: T } | Classified {
  try {
    return { kind: 'ok', value: fn() };
  } catch (e) {
    return classifyThrow(e);
  }
}

/** protobuf-specs' two spellings of the v0.3 media type name one format. */
const SAME_MEDIA_TYPE: Readonly<Record<string, string>> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.3':
    'application/vnd.dev.sigstore.bundle.v0.3+json',
};

/** A parsed bundle as comparable text: every byte field as hex, key order fixed by the model. */
export function canonicalBundle(b: Bundle): string {
  return JSON.stringify(b, (k, v: unknown) => {
    if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`;
    if (k === 'mediaType' && typeof v === 'string') return SAME_MEDIA_TYPE[v] ?? v;
    return v;
  });
}

/**
 * The mutated bundle differs from the seed only by extra (or reordered) tlog entries and RFC
 * 3161 timestamps. Every entry must verify and every verified time must pass every check
 * (checklist D28, E37: logs are counted once each), and a timestamp Stella cannot attribute to
 * a trusted TSA is set aside, so evidence added to a bundle that should pass can never be what
 * makes it pass.
 */
export function onlyAddsEvidence(mutated: Bundle, seed: Bundle): boolean {
  // Every element of `want` is in `have` (as a multiset).
  const containsAll = (have: readonly unknown[], want: readonly unknown[]): boolean => {
    const pool = have.map((x) => canonicalBundle(x as Bundle));
    return want.every((x) => {
      const i = pool.indexOf(canonicalBundle(x as Bundle));
      return i >= 0 && pool.splice(i, 1).length === 1;
    });
  };
  const vm = mutated.verificationMaterial;
  const sv = seed.verificationMaterial;
  const strip = (b: Bundle): Bundle => ({
    ...b,
    verificationMaterial: { ...b.verificationMaterial, tlogEntries: [], rfc3161Timestamps: [] },
  });
  return (
    containsAll(vm.tlogEntries, sv.tlogEntries) &&
    containsAll(vm.rfc3161Timestamps, sv.rfc3161Timestamps) &&
    canonicalBundle(strip(mutated)) === canonicalBundle(strip(seed))
  );
}

/** The same bundle JSON without the timestamps Stella reports it set aside. */
export function withoutIgnoredTimestamps(json: unknown, report: VerificationReport): unknown {
  const ignored = new Set<number>();
  for (const w of report.warnings) {
    const m = /RFC 3161 timestamp (\d+) ignored/.exec(w);
    if (m) ignored.add(Number(m[1]));
  }
  if (ignored.size === 0) return undefined;
  const doc = JSON.parse(JSON.stringify(json)) as {
    verificationMaterial?: { timestampVerificationData?: { rfc3161Timestamps?: unknown[] } };
  };
  const list = doc.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps;
  if (!Array.isArray(list)) return undefined;
  doc.verificationMaterial!.timestampVerificationData!.rfc3161Timestamps = list.filter(
    (_, i) => !ignored.has(i),
  );
  return doc;
}

export type PeerTrust = ReturnType<typeof toTrustMaterial>;

/**
 * What @sigstore/verify's own DER reader cannot read, though it is valid DER that Stella's
 * strict reader reads: a refusal with one of these errors is the peer's limit, not a
 * disagreement about the bundle (kept as data, each with its reason).
 */
export const PEER_PARSER_LIMITS: readonly { error: string; why: string }[] = [
  {
    error: 'long form tags not supported',
    why: '@sigstore/core reads only tag numbers below 31 (no high-tag-number form, X.690 8.1.2.4)',
  },
];

/** @sigstore/verify's trust material from trusted_root.json text (and a key for keyed bundles). */
export function peerTrustOf(trustedRootJson: string, keyPem?: string): PeerTrust {
  const keyFinder = keyPem
    ? () => ({ publicKey: createPublicKey(keyPem), validFor: () => true })
    : undefined;
  return toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(trustedRootJson)), keyFinder);
}

/**
 * @sigstore/verify on bundle JSON: `identity` given, the certificate must name that SAN (the
 * peer reads it as an unanchored regex, so the exact value is anchored) and issuer; `san`
 * left out, the issuer alone (the peer reads no other identity field).
 */
export function peerVerifies(
  trust: PeerTrust,
  o: { tlogThreshold: number; ctlogThreshold: number },
  json: unknown,
  artifact: Uint8Array | undefined,
  identity: { san?: string; issuer: string } | undefined,
): { ok: true } | { ok: false; error: string } {
  try {
    const verifier = new Verifier(trust, o);
    const entity = toSignedEntity(
      bundleFromJSON(json),
      artifact ? Buffer.from(artifact) : undefined,
    );
    verifier.verify(
      entity,
      identity
        ? {
            ...(identity.san !== undefined
              ? { subjectAlternativeName: `^${literalPattern(identity.san)}$` }
              : {}),
            extensions: { issuer: identity.issuer },
          }
        : undefined,
    );
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

const peerTrust = new WeakMap<BundleSeed, PeerTrust>();

/** @sigstore/verify on `json` with the seed's trust root, artifact and policy. */
export function peerVerdict(
  seed: BundleSeed,
  json: unknown,
): { ok: true } | { ok: false; error: string } {
  let trust = peerTrust.get(seed);
  if (!trust) {
    try {
      trust = peerTrustOf(seed.trustedRootJson, seed.keyPem);
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    peerTrust.set(seed, trust);
  }
  return peerVerifies(
    trust,
    {
      // Stella's policy: a log entry only with --require-rekor, an SCT for certificates.
      tlogThreshold: seed.policy.requireTlog ? 1 : 0,
      ctlogThreshold: seed.keyPem || !seed.policy.requireSct ? 0 : 1,
    },
    json,
    seed.artifactBytes,
    seed.keyPem ? undefined : { san: seed.identity!, issuer: seed.issuer! },
  );
}

/**
 * The in-toto subject check @sigstore/verify leaves to its caller, done independently:
 * the artifact's digest appears among the statement's subjects.
 */
export function subjectMatches(b: Bundle, artifact: Uint8Array | undefined): boolean {
  if (b.content.kind !== 'dsseEnvelope') return true;
  if (!artifact) return false;
  let stmt: { subject?: { digest?: Record<string, unknown> }[] };
  try {
    stmt = JSON.parse(Buffer.from(b.content.payload).toString('utf8')) as typeof stmt;
  } catch {
    return false;
  }
  const mine: Record<string, string> = {
    sha256: createHash('sha256').update(artifact).digest('hex'),
    sha384: createHash('sha384').update(artifact).digest('hex'),
    sha512: createHash('sha512').update(artifact).digest('hex'),
  };
  return (stmt.subject ?? []).some((s) =>
    Object.entries(s.digest ?? {}).some(([alg, v]) => mine[alg] !== undefined && mine[alg] === v),
  );
}

export type AcceptVerdict =
  | {
      allowed: true;
      by:
        | 'neutral'
        | 'added-evidence'
        | 'peer'
        | 'peer-adjusted'
        | 'peer-after-ignored'
        | 'peer-without-duplicate-time'
        | 'peer-up-to-known-disagreement'
        | 'peer-parser-limit'
        | 'another-seed';
    }
  | { allowed: false; why: string };

/**
 * Seeds judged in the same context as `seed` (the same artifact, trust root, identity, issuer
 * and key) whose reference verdict is pass, each with its parse: a mutation that takes a whole
 * document from such a donor must get that seed's verdict, whatever the peer says of it.
 */
export type ContextTwins = readonly { seed: BundleSeed; parsed: Bundle }[];

/** Whether two seeds are judged in the same context, so one's reference verdict covers the other's input. */
export function sameContext(a: BundleSeed, b: BundleSeed): boolean {
  const bytes = (x: Uint8Array | undefined) =>
    x === undefined ? '' : Buffer.from(x).toString('hex');
  return (
    a.trustedRootJson === b.trustedRootJson &&
    bytes(a.artifactBytes) === bytes(b.artifactBytes) &&
    JSON.stringify(a.artifact, (_k, v: unknown) => (v instanceof Uint8Array ? bytes(v) : v)) ===
      JSON.stringify(b.artifact, (_k, v: unknown) => (v instanceof Uint8Array ? bytes(v) : v)) &&
    a.identity === b.identity &&
    a.issuer === b.issuer &&
    a.keyPem === b.keyPem
  );
}

/**
 * Is Stella's pass of `mutated` (parsed as `parsed`, with `report`) one a reference allows?
 * `seedParsed` is the seed as Stella parses it (undefined when the seed itself is refused).
 */
export function judgeAcceptedBundle(
  seed: BundleSeed,
  seedParsed: Bundle | undefined,
  json: unknown,
  parsed: Bundle,
  report: VerificationReport,
  twins: ContextTwins = [],
): AcceptVerdict {
  if (seed.reference === 'pass' && seedParsed) {
    if (canonicalBundle(parsed) === canonicalBundle(seedParsed))
      return { allowed: true, by: 'neutral' };
    if (onlyAddsEvidence(parsed, seedParsed)) return { allowed: true, by: 'added-evidence' };
  }
  // The whole document taken from another seed judged in this context, which must pass (the
  // conformance suite's happy path given a failing case's artifact and trust root, which are
  // the same): its reference verdict is the verdict. Found by a random-seed campaign in stop 53,
  // where the peer refuses that happy path (a recorded disagreement) and nothing else allowed it.
  const canonical = canonicalBundle(parsed);
  for (const twin of twins)
    if (twin.seed !== seed && canonicalBundle(twin.parsed) === canonical)
      return { allowed: true, by: 'another-seed' };
  if (!subjectMatches(parsed, seed.artifactBytes))
    return { allowed: false, why: 'in-toto subjects do not name the artifact (independent check)' };
  const input = forPeer(json, parsed, seed);
  const peer = peerVerdict(seed, input);
  if (peer.ok) return { allowed: true, by: input === json ? 'peer' : 'peer-adjusted' };
  // Timestamps Stella set aside (a TSA its trust root does not know) count for nothing: the
  // rest of the bundle must stand on its own.
  const reduced = withoutIgnoredTimestamps(input, report);
  if (reduced !== undefined) {
    const again = peerVerdict(seed, reduced);
    if (again.ok) return { allowed: true, by: 'peer-after-ignored' };
  }
  // Valid DER the peer's own reader cannot read (PEER_PARSER_LIMITS), e.g. a high tag number in
  // a certificate a token carries beside its signer's: no verdict from it, and the limit is
  // counted apart.
  if (PEER_PARSER_LIMITS.some((l) => l.error === peer.error))
    return { allowed: true, by: 'peer-parser-limit' };
  // @sigstore/verify refuses two timestamps with the same signer and time ("duplicate
  // timestamp"); such a second token tells nothing the first does not (the time is the same),
  // so the bundle is judged with one of them removed.
  if (/duplicate timestamp/.test(peer.error)) {
    const doc = input as {
      verificationMaterial?: { timestampVerificationData?: { rfc3161Timestamps?: unknown[] } };
    };
    const list = doc.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps ?? [];
    for (let i = 0; i < list.length; i++) {
      const one = JSON.parse(JSON.stringify(input)) as typeof doc;
      one.verificationMaterial!.timestampVerificationData!.rfc3161Timestamps!.splice(i, 1);
      if (peerVerdict(seed, one).ok) return { allowed: true, by: 'peer-without-duplicate-time' };
    }
  }
  // A seed @sigstore/verify itself refuses (a recorded disagreement, e.g. Rekor v2
  // hashedrekord-over-DSSE, which it cannot read): its verdict still covers every check it runs
  // before the one it disagrees on. Same error as on the seed, and the parts it never got to
  // (content, signing material) unchanged: the pass is the seed's.
  const onSeed = seedPeerVerdict(seed);
  if (
    seed.reference === 'pass' &&
    seedParsed &&
    !onSeed.ok &&
    onSeed.error === peer.error &&
    sameContentAndKey(parsed, seedParsed)
  ) {
    return { allowed: true, by: 'peer-up-to-known-disagreement' };
  }
  return { allowed: false, why: `@sigstore/verify refuses it: ${peer.error}` };
}

const seedPeer = new WeakMap<BundleSeed, ReturnType<typeof peerVerdict>>();
function seedPeerVerdict(seed: BundleSeed): ReturnType<typeof peerVerdict> {
  let v = seedPeer.get(seed);
  if (!v) seedPeer.set(seed, (v = peerVerdict(seed, JSON.parse(seed.text))));
  return v;
}

function sameContentAndKey(a: Bundle, b: Bundle): boolean {
  return (
    canonicalBundle({
      ...a,
      verificationMaterial: { ...a.verificationMaterial, tlogEntries: [], rfc3161Timestamps: [] },
    }) ===
    canonicalBundle({
      ...b,
      verificationMaterial: { ...b.verificationMaterial, tlogEntries: [], rfc3161Timestamps: [] },
    })
  );
}

/**
 * The bundle as @sigstore/verify can read it, changing nothing any signature covers:
 * - its schema requires messageSignature.messageDigest, which protobuf-specs makes optional
 *   and says MUST NOT be used to verify the signature (it only names the artifact): with the
 *   artifact's bytes at hand it is filled in with their SHA-256, the hash Stella uses when
 *   none is declared;
 * - it wants a checkpoint signature line's name to match the log's URL, while Rekor v1 signs
 *   under its server's host name, which is in no signed text and bound to no key (README, tlog
 *   check): on Rekor v1 entries, lines carrying a trusted log's key hint get that log's host.
 */
function forPeer(json: unknown, parsed: Bundle, seed: BundleSeed): unknown {
  const doc = JSON.parse(JSON.stringify(json)) as {
    messageSignature?: Record<string, unknown>;
    verificationMaterial?: {
      tlogEntries?: {
        kindVersion?: { kind?: string; version?: string };
        inclusionProof?: { checkpoint?: { envelope?: unknown } };
      }[];
    };
  };
  let changed = false;
  if (
    parsed.content.kind === 'messageSignature' &&
    !parsed.content.messageDigest &&
    seed.artifactBytes &&
    doc.messageSignature
  ) {
    doc.messageSignature.messageDigest = {
      algorithm: 'SHA2_256',
      digest: createHash('sha256').update(seed.artifactBytes).digest('base64'),
    };
    changed = true;
  }
  for (const e of doc.verificationMaterial?.tlogEntries ?? []) {
    const cp = e.inclusionProof?.checkpoint;
    const v2 =
      e.kindVersion?.version === '0.0.2' &&
      (e.kindVersion.kind === 'hashedrekord' || e.kindVersion.kind === 'dsse');
    if (v2 || !cp || typeof cp.envelope !== 'string') continue;
    const renamed = cp.envelope.replace(
      /^\u2014 (\S+) (\S+)$/gm,
      (line, _name: string, b64: string) => {
        const hint = Buffer.from(b64, 'base64').subarray(0, 4);
        const log = seed.trust.tlogs.find((l) => Buffer.from(l.logId.subarray(0, 4)).equals(hint));
        return log ? `\u2014 ${new URL(log.baseUrl).host} ${b64}` : line;
      },
    );
    if (renamed !== cp.envelope) {
      cp.envelope = renamed;
      changed = true;
    }
  }
  return changed ? doc : json;
}
