/**
 * The fuzz targets: each picks a seed, mutates it, calls the library in process and judges
 * the outcome (./oracle.ts). One per input class the verifier reads from a bundle or archive:
 * whole bundles through parseBundle + verifyBundleReport, and the primitives on their own —
 * certificates, RFC 3161 tokens, checkpoints, Rekor bodies, export archives — where a
 * mutation reaches deeper than it can inside a bundle whose other signatures then fail.
 */
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import { EXIT_CODES } from '../../src/errors.js';
import { parseBundle } from '../../src/bundle/parse.js';
import type { Bundle, TransparencyLogEntry } from '../../src/bundle/model.js';
import { preAuthEncoding } from '../../src/bundle/dsse.js';
import { verifyBundle, verifyBundleReport } from '../../src/verify/pipeline.js';
import { parseCertificate, oidcIssuer, type Certificate } from '../../src/x509/certificate.js';
import { verifyCertificateChain } from '../../src/x509/chain.js';
import { verifyEmbeddedScts } from '../../src/x509/sct.js';
import { certificateIdentities } from '../../src/x509/certificate.js';
import { checkRfc3161Timestamp } from '../../src/timestamp/rfc3161.js';
import { parseCheckpoint, parseSignedNote, verifyCheckpoint } from '../../src/tlog/note.js';
import {
  addCosignatures,
  cosignatureLine,
  verifyCosignatures,
  witnessFingerprint,
  type WitnessKey,
} from '../../src/tlog/cosignature.js';
import {
  rekorVersionOf,
  verifyEntryBinding,
  type BindingExpectations,
} from '../../src/tlog/rekor-entry.js';
import { gunzipSync, gzipSync, crc32 } from 'node:zlib';
import { readExportArchive, STREAM_LIMITS, type ExportArchive } from '../../src/archive/export.js';
import {
  readExportArchiveStream,
  readPreamble,
  type ArchiveSource,
} from '../../src/archive/export-stream.js';
import { defaultGunzipLimits, gunzipBounded, type GunzipLimits } from '../../src/archive/gzip.js';
import { digest } from '../../src/crypto.js';
import type {
  CertificateAuthority,
  TransparencyLogInstance,
} from '../../src/model/trust-material.js';
import { digestNameOf } from '../../src/util/digest.js';
import type { Prng } from './prng.js';
import { havoc, type Trail } from './mutate-bytes.js';
import { mutateDer, parseDerTree } from './mutate-der.js';
import { mutateNote } from './mutate-note.js';
import { listTar, mutateTar, plainTarProblems } from './mutate-tar.js';
import { mutateJson, stringifyFuzz, type Json, type JsonHooks } from './mutate-json.js';
import { parseTrustedRoot, serializeTrustedRoot } from '../../src/trust/trusted-root.js';
import { planImport } from '../../src/trust/store/importers.js';
import {
  parseSigningConfig,
  renderSigningConfig,
  selectSigningServices,
} from '../../src/sign/signing-config.js';
import {
  parseShipmentConsistency,
  serializeShipmentConsistency,
  type ShipmentConsistency,
} from '../../src/archive/consistency.js';
import { parsePolicyFile, policyOptionsForEnvironment } from '../../src/verify/policy-file.js';
import { buildPolicy } from '../../src/verify/policy.js';
import { utf8 } from '../../src/util/encoding.js';
import { bundleHooks, mutateBundle, mutateRekorBody, signNoteLine } from './mutate-bundle.js';
import {
  attempt,
  attemptSettling,
  attemptSync,
  isHang,
  type Progress,
  judgeAcceptedBundle,
  sameContext,
  type Classified,
  type ContextTwins,
} from './oracle.js';
import { seededTarget, type FuzzTarget, type IterationResult } from './harness.js';
import {
  bundleCertificates,
  logFor,
  parsedSeed,
  type BundleSeed,
  type Resigner,
} from './corpus.js';

/** A thrown value as an outcome: a refusal, a known crash, or a failure naming `what` threw. */
export function fromThrow(
  c: Classified,
  input: Uint8Array | string,
  what: string,
  minimize?: (b: Uint8Array) => Promise<boolean>,
): IterationResult {
  if (c.kind === 'refused') return { kind: 'refused', code: c.code };
  if (c.kind === 'known-crash') return { kind: 'known-crash', id: c.id };
  return {
    kind: 'failure',
    problem: `CRASH: ${what} threw something other than a StellaError with a code in EXIT_CODES`,
    error: c.error,
    input,
    ...(minimize ? { minimize } : {}),
  };
}

/**
 * `fromThrow` for a document whose every mistake must be refused as `code` (at its key and
 * line): a refusal under another code is a failure too.
 */
export function refusedOnlyAs(
  c: Classified,
  code: string,
  document: string,
  input: string,
  what: string,
): IterationResult {
  if (c.kind === 'refused' && c.code !== code)
    return {
      kind: 'failure',
      problem: `${document} refused as ${c.code}, not ${code} naming its key and line`,
      input,
    };
  return fromThrow(c, input, what);
}

/** A crash (known or not): a refusal or a return lets the caller go on to the next call. */
const crashed = (c: {
  kind: string;
}): c is Extract<Classified, { kind: 'crash' | 'known-crash' }> =>
  c.kind === 'crash' || c.kind === 'known-crash';

// ---------------------------------------------------------------------------------------
// Bundles

const seedParsedCache = new WeakMap<BundleSeed, Bundle | undefined>();
function seedParsed(seed: BundleSeed): Bundle | undefined {
  if (!seedParsedCache.has(seed)) seedParsedCache.set(seed, parsedSeed(seed));
  return seedParsedCache.get(seed);
}

/** The seeds that pass in `seed`'s context, each with its parse (see ContextTwins). */
export function contextTwins(seed: BundleSeed, seeds: readonly BundleSeed[]): ContextTwins {
  return seeds.flatMap((s) => {
    const parsed = s.reference === 'pass' && sameContext(s, seed) ? seedParsed(s) : undefined;
    return parsed ? [{ seed: s, parsed }] : [];
  });
}

/** Judge one bundle text against `seed`'s artifact, trust and policy. */
export async function judgeBundle(
  seed: BundleSeed,
  text: string,
  twins: ContextTwins = [],
): Promise<IterationResult> {
  const parsed = attemptSync(() => parseBundle(text));
  if (parsed.kind !== 'ok') return fromThrow(parsed, text, 'parseBundle');
  const r = await attempt(() =>
    verifyBundleReport({
      bundle: parsed.value,
      artifact: seed.artifact,
      trust: seed.trust,
      policy: seed.policy,
    }),
  );
  if (r.kind !== 'ok') return fromThrow(r, text, 'verifyBundleReport');
  const report = r.value;
  // verifyBundle (the throwing fast path library users and the benchmark call) must give the
  // report's verdict: a check skipped on one path would be a bypass there.
  const fast = await attempt(() =>
    verifyBundle({
      bundle: parsed.value,
      artifact: seed.artifact,
      trust: seed.trust,
      policy: seed.policy,
    }),
  );
  if (crashed(fast)) return fromThrow(fast, text, 'verifyBundle');
  const fastCode = fast.kind === 'refused' ? fast.code : undefined;
  if (fastCode !== report.error?.code) {
    return {
      kind: 'failure',
      problem: `verifyBundle and verifyBundleReport disagree: ${fastCode ?? 'pass'} vs ${report.error?.code ?? 'pass'}`,
      input: text,
    };
  }
  if (!report.ok) {
    const code = report.error?.code;
    if (code === undefined || !Object.hasOwn(EXIT_CODES, code))
      return {
        kind: 'failure',
        problem: `a failed report without an error code from EXIT_CODES (${String(code)})`,
        input: text,
      };
    return { kind: 'refused', code };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return {
      kind: 'failure',
      problem: 'Stella accepted text that is not JSON',
      error: e,
      input: text,
    };
  }
  const v = judgeAcceptedBundle(seed, seedParsed(seed), json, parsed.value, report, twins);
  if (v.allowed) return { kind: 'accepted', by: v.by };
  return {
    kind: 'failure',
    problem: `POSSIBLE BYPASS: Stella accepts a mutated bundle that no reference verdict allows (${v.why})`,
    input: text,
  };
}

export interface Pools {
  certificates: Uint8Array[];
  tokens: Uint8Array[];
}

export function pools(seeds: readonly BundleSeed[]): Pools {
  const certificates = new Map<string, Uint8Array>();
  const tokens = new Map<string, Uint8Array>();
  const add = (m: Map<string, Uint8Array>, b: Uint8Array): void =>
    void m.set(Buffer.from(b).toString('hex'), b);
  for (const s of seeds) {
    const b = seedParsed(s);
    if (b) {
      for (const c of bundleCertificates(b)) add(certificates, c);
      for (const t of b.verificationMaterial.rfc3161Timestamps) add(tokens, t);
    }
    for (const ca of [...s.trust.certificateAuthorities, ...s.trust.timestampAuthorities])
      for (const c of ca.certChain) add(certificates, c);
  }
  return { certificates: [...certificates.values()], tokens: [...tokens.values()] };
}

export function bundleTarget(
  seeds: readonly BundleSeed[],
  p: Pools,
  defaultIterations: number,
  name = 'bundle',
): FuzzTarget {
  const hooks = new Map<BundleSeed, JsonHooks>(
    seeds.map((s) => [s, bundleHooks(s, p.certificates, p.tokens)]),
  );
  const donors = seeds.map((s) => {
    try {
      return JSON.parse(s.text) as Json;
    } catch {
      return null;
    }
  });
  const twins = new Map<BundleSeed, ContextTwins>();
  return {
    name,
    defaultIterations,
    async run(rng, trail) {
      const seed = rng.pick(seeds);
      trail.push(`seed ${seed.name}`);
      const text = mutateBundle(rng, seed, trail, hooks.get(seed)!, donors);
      if (!twins.has(seed)) twins.set(seed, contextTwins(seed, seeds));
      return judgeBundle(seed, text, twins.get(seed));
    },
  };
}

// ---------------------------------------------------------------------------------------
// Certificates

interface CertSeed {
  der: Uint8Array;
  cas: CertificateAuthority[];
  ctlogs: TransparencyLogInstance[];
  /** A time at which the seed's chain verifies (the leaf's notBefore + 1 s). */
  time: number;
}

export function certificateSeeds(seeds: readonly BundleSeed[]): CertSeed[] {
  const out: CertSeed[] = [];
  const seen = new Set<string>();
  for (const s of seeds) {
    const b = seedParsed(s);
    if (!b) continue;
    for (const der of bundleCertificates(b)) {
      const key = Buffer.from(der).toString('hex');
      if (seen.has(key)) continue;
      seen.add(key);
      let leaf: Certificate;
      try {
        leaf = parseCertificate(der);
      } catch {
        continue;
      }
      out.push({
        der,
        cas: s.trust.certificateAuthorities,
        ctlogs: s.trust.ctlogs,
        time: leaf.notBefore + 1000,
      });
    }
    for (const ca of [...s.trust.certificateAuthorities, ...s.trust.timestampAuthorities]) {
      for (const der of ca.certChain) {
        const key = Buffer.from(der).toString('hex');
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          der,
          cas: s.trust.certificateAuthorities,
          ctlogs: s.trust.ctlogs,
          time: ca.validFor.start + 1000,
        });
      }
    }
  }
  return out;
}

const issuerCache = new WeakMap<CertificateAuthority, Certificate | null>();
function issuerOf(ca: CertificateAuthority): Certificate | undefined {
  if (!issuerCache.has(ca)) {
    try {
      issuerCache.set(ca, parseCertificate(ca.certChain[0]!));
    } catch {
      issuerCache.set(ca, null);
    }
  }
  return issuerCache.get(ca) ?? undefined;
}

/** parseCertificate, then what the verifier reads from a certificate: issuer, identities, chain, SCTs. */
export async function judgeCertificate(s: CertSeed, der: Uint8Array): Promise<IterationResult> {
  const minimize = async (b: Uint8Array): Promise<boolean> =>
    (await judgeCertificate(s, b)).kind === 'failure';
  const c = attemptSync(() => parseCertificate(der));
  if (c.kind !== 'ok') return fromThrow(c, der, 'parseCertificate', minimize);
  const cert = c.value;
  const reads = attemptSync(() => {
    oidcIssuer(cert);
    certificateIdentities(cert);
    return cert.publicKey;
  });
  if (crashed(reads)) return fromThrow(reads, der, 'reading the parsed certificate', minimize);
  const chain = attemptSync(() => verifyCertificateChain(cert, [], s.cas, [s.time]));
  for (const ca of s.cas) {
    const issuer = issuerOf(ca);
    if (!issuer) continue;
    const scts = attemptSync(() => verifyEmbeddedScts(cert, issuer, s.ctlogs));
    if (crashed(scts)) return fromThrow(scts, der, 'verifyEmbeddedScts', minimize);
  }
  if (chain.kind !== 'ok') return fromThrow(chain, der, 'verifyCertificateChain', minimize);
  // Reference: OpenSSL must agree that the issuing CA signed exactly these bytes.
  const issuerDer = chain.value.ca.certChain[0]!;
  let agrees: boolean;
  try {
    agrees = new X509Certificate(der).verify(new X509Certificate(issuerDer).publicKey);
  } catch {
    agrees = false;
  }
  if (!agrees)
    return {
      kind: 'failure',
      problem:
        'POSSIBLE BYPASS: Stella accepts a certificate chain whose signature OpenSSL does not verify',
      input: der,
      minimize,
    };
  return { kind: 'accepted', by: 'openssl' };
}

export function certificateTarget(
  seeds: readonly CertSeed[],
  defaultIterations: number,
): FuzzTarget {
  const donors = seeds.map((s) => s.der);
  return {
    name: 'certificate',
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(seeds);
      const der = mutateDer(rng, s.der, trail, donors);
      return judgeCertificate(s, der);
    },
  };
}

// ---------------------------------------------------------------------------------------
// RFC 3161 timestamps

interface TokenSeed {
  token: Uint8Array;
  signature: Uint8Array;
  tsas: CertificateAuthority[];
}

export function tokenSeeds(seeds: readonly BundleSeed[]): TokenSeed[] {
  const out: TokenSeed[] = [];
  for (const s of seeds) {
    const b = seedParsed(s);
    if (!b) continue;
    const signature =
      b.content.kind === 'messageSignature' ? b.content.signature : b.content.signatures[0]!.sig;
    for (const token of b.verificationMaterial.rfc3161Timestamps)
      out.push({ token, signature, tsas: s.trust.timestampAuthorities });
  }
  return out;
}

/** The signed parts of a token by a walk of our own: TSTInfo bytes, signed attributes, signature. */
function signedParts(token: Uint8Array): string | undefined {
  const top = parseDerTree(token);
  if (!top?.kids) return undefined;
  // A TimeStampResp wraps the ContentInfo as its second element.
  const ci = top.kids[0]?.kids && top.kids[0].id[0] === 0x30 ? top.kids[1] : top;
  const sd = ci?.kids?.[1]?.kids?.[0];
  const econtent = sd?.kids?.[2]?.kids?.[1]?.kids?.[0];
  const signerInfo = sd?.kids?.[sd.kids.length - 1]?.kids?.[0];
  if (!econtent?.content || !signerInfo?.kids) return undefined;
  const attrs = signerInfo.kids.find((k) => k.id[0] === 0xa0);
  const sig = signerInfo.kids.find((k) => k.id[0] === 0x04);
  const hex = (n: typeof attrs): string =>
    n
      ? Buffer.from(
          JSON.stringify(n, (_k, v: unknown) =>
            v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
          ),
        ).toString('hex')
      : '';
  return `${Buffer.from(econtent.content).toString('hex')}|${hex(attrs)}|${hex(sig)}`;
}

/**
 * `genuine`: the signed content of every seed token over the same signature, the seed's own
 * included. Two seeds can carry the same signature with different real tokens (a bundle
 * timestamped twice), and a donor splice can swap one whole SignedData for the other's: a
 * token the TSA really issued for this signature, which Stella is right to verify.
 */
export async function judgeToken(
  s: TokenSeed,
  token: Uint8Array,
  genuine: ReadonlySet<string> = new Set([signedParts(s.token) ?? '']),
): Promise<IterationResult> {
  const minimize = async (b: Uint8Array): Promise<boolean> =>
    (await judgeToken(s, b, genuine)).kind === 'failure';
  const r = attemptSync(() => checkRfc3161Timestamp(token, s.signature, s.tsas));
  if (r.kind !== 'ok') return fromThrow(r, token, 'checkRfc3161Timestamp', minimize);
  if (r.value.status === 'unknown-tsa') return { kind: 'refused', code: 'unknown TSA (set aside)' };
  // Reference: a verified token must carry exactly the signed content of a token the TSA
  // issued for this signature.
  const got = signedParts(token);
  if (got === undefined || !genuine.has(got))
    return {
      kind: 'failure',
      problem:
        'POSSIBLE BYPASS: Stella verifies a timestamp whose signed content differs from what the TSA signed',
      input: token,
      minimize,
    };
  return { kind: 'accepted', by: 'same signed content' };
}

export function tokenTarget(
  seeds: readonly TokenSeed[],
  p: Pools,
  defaultIterations: number,
): FuzzTarget {
  const donors = [...p.tokens, ...p.certificates];
  const genuine = new Map<string, Set<string>>();
  for (const s of seeds) {
    const key = Buffer.from(s.signature).toString('hex');
    const parts = signedParts(s.token);
    if (parts === undefined) continue;
    if (!genuine.has(key)) genuine.set(key, new Set());
    genuine.get(key)!.add(parts);
  }
  return {
    name: 'rfc3161',
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(seeds);
      return judgeToken(
        s,
        mutateDer(rng, s.token, trail, donors),
        genuine.get(Buffer.from(s.signature).toString('hex')),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------
// Checkpoints

interface NoteSeed {
  note: string;
  log: TransparencyLogInstance;
  rekor: 'v1' | 'v2';
  resign: Resigner | undefined;
}

export function noteSeeds(seeds: readonly BundleSeed[]): NoteSeed[] {
  const out: NoteSeed[] = [];
  for (const s of seeds) {
    const b = seedParsed(s);
    for (const e of b?.verificationMaterial.tlogEntries ?? []) {
      const log = logFor(s.trust, e.logId);
      if (e.inclusionProof && log)
        out.push({
          note: e.inclusionProof.checkpoint,
          log,
          rekor: rekorVersionOf(e.kindVersion),
          resign: s.resign,
        });
    }
  }
  return out;
}

/** The checkpoint as plainly written: the three lines of the signed text. */
function plainReading(
  note: string,
): { text: string; origin: string; size: string; root: string } | undefined {
  const i = note.lastIndexOf('\n\n');
  if (i < 0) return undefined;
  const text = note.slice(0, i + 1);
  const [origin, size, root] = text.split('\n');
  return origin !== undefined && size !== undefined && root !== undefined
    ? { text, origin, size, root }
    : undefined;
}

export async function judgeNote(
  s: NoteSeed,
  note: string,
  resigned: boolean,
): Promise<IterationResult> {
  const minimize = async (b: Uint8Array): Promise<boolean> =>
    (await judgeNote(s, Buffer.from(b).toString('utf8'), resigned)).kind === 'failure';
  const parsed = attemptSync(() => parseCheckpoint(parseSignedNote(note).text));
  if (crashed(parsed)) return fromThrow(parsed, note, 'parseSignedNote/parseCheckpoint', minimize);
  const r = attemptSync(() => verifyCheckpoint(note, [s.log], { rekor: s.rekor }));
  if (r.kind !== 'ok') return fromThrow(r, note, 'verifyCheckpoint', minimize);
  // Reference: what Stella read is what the text says, and only the log could have signed it.
  const plain = plainReading(note);
  const cp = r.value;
  if (
    !plain ||
    cp.origin !== plain.origin ||
    String(cp.treeSize) !== plain.size ||
    Buffer.from(cp.rootHash).toString('base64') !== plain.root
  ) {
    return {
      kind: 'failure',
      problem: `Stella's reading of a verified checkpoint differs from its text (origin ${JSON.stringify(cp.origin)}, size ${cp.treeSize})`,
      input: note,
      minimize,
    };
  }
  const seedText = plainReading(s.note)?.text;
  if (plain.text !== seedText && !resigned)
    return {
      kind: 'failure',
      problem:
        'POSSIBLE BYPASS: Stella verifies a checkpoint whose signed text the log never signed',
      input: note,
      minimize,
    };
  return {
    kind: 'accepted',
    by: plain.text === seedText ? 'same signed text' : 're-signed by the log',
  };
}

export function noteTarget(seeds: readonly NoteSeed[], defaultIterations: number): FuzzTarget {
  return {
    name: 'checkpoint',
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(seeds);
      let resigned = false;
      const resign = s.resign
        ? (text: string): string[] => ((resigned = true), [signNoteLine(s.resign!, text)])
        : undefined;
      const steps = 1 + rng.smallSize(2);
      let note = s.note;
      for (let i = 0; i < steps; i++) note = mutateNote(rng, note, trail, resign);
      return judgeNote(s, note, resigned);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Rekor entry bodies

interface BodySeed {
  entry: TransparencyLogEntry;
  bundle: Bundle;
  expect: BindingExpectations;
}

export function bodySeeds(seeds: readonly BundleSeed[]): BodySeed[] {
  const out: BodySeed[] = [];
  for (const s of seeds) {
    const b = seedParsed(s);
    if (!b || s.reference !== 'pass') continue;
    const certs = bundleCertificates(b);
    const keySpki = s.keyPem
      ? new Uint8Array(createPublicKey(s.keyPem).export({ format: 'der', type: 'spki' }))
      : undefined;
    const a = s.artifact;
    const artifactDigest = (
      alg: Parameters<NonNullable<BindingExpectations['artifactDigest']>>[0],
    ): Uint8Array | undefined =>
      a.kind === 'bytes'
        ? digest(digestNameOf(alg), a.data)
        : a.algorithm === alg
          ? a.digest
          : undefined;
    const expect: BindingExpectations = {
      ...(certs[0] ? { certificateDer: certs[0] } : keySpki ? { publicKeySpki: keySpki } : {}),
      ...(b.content.kind === 'messageSignature' ? { artifactDigest } : {}),
    };
    for (const entry of b.verificationMaterial.tlogEntries) out.push({ entry, bundle: b, expect });
  }
  return out;
}

/** Every string in a JSON value, and what it decodes to as base64 (one and two levels deep, PEM unwrapped). */
function decodedStrings(v: unknown, out = new Set<string>()): Set<string> {
  if (typeof v === 'string') {
    out.add(v.toLowerCase());
    const once = Buffer.from(v, 'base64');
    out.add(once.toString('hex'));
    const text = once.toString('latin1');
    const pem = /-----BEGIN [A-Z ]+-----([\s\S]*?)-----END/.exec(text);
    if (pem) out.add(Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64').toString('hex'));
    if (/^[A-Za-z0-9+/=]+$/.test(text)) out.add(Buffer.from(text, 'base64').toString('hex'));
  } else if (Array.isArray(v)) v.forEach((x) => decodedStrings(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => decodedStrings(x, out));
  return out;
}

/**
 * An independent, looser reading of "this body records this bundle": somewhere in the body are
 * the bundle's signature, its certificate or key, and the digest of what was signed.
 */
function recordsBundle(body: Uint8Array, s: BodySeed): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return false;
  }
  const have = decodedStrings(doc);
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const c = s.bundle.content;
  const sig = c.kind === 'messageSignature' ? c.signature : c.signatures[0]!.sig;
  const key = s.expect.certificateDer ?? s.expect.publicKeySpki!;
  const digests: string[] = [];
  for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
    if (c.kind === 'messageSignature') {
      const d = s.expect.artifactDigest?.(
        alg === 'sha256' ? 'SHA2_256' : alg === 'sha384' ? 'SHA2_384' : 'SHA2_512',
      );
      if (d) digests.push(hex(d));
    } else {
      digests.push(
        createHash(alg).update(c.payload).digest('hex'),
        createHash(alg).update(preAuthEncoding(c.payloadType, c.payload)).digest('hex'),
      );
    }
  }
  return have.has(hex(sig)) && have.has(hex(key)) && digests.some((d) => have.has(d));
}

export async function judgeBody(s: BodySeed, body: Uint8Array): Promise<IterationResult> {
  const minimize = async (b: Uint8Array): Promise<boolean> =>
    (await judgeBody(s, b)).kind === 'failure';
  const r = attemptSync(() =>
    verifyEntryBinding({ ...s.entry, canonicalizedBody: body }, s.bundle, s.expect),
  );
  if (r.kind !== 'ok') return fromThrow(r, body, 'verifyEntryBinding', minimize);
  if (Buffer.from(body).equals(Buffer.from(s.entry.canonicalizedBody)))
    return { kind: 'accepted', by: 'same body' };
  if (!recordsBundle(body, s))
    return {
      kind: 'failure',
      problem:
        'POSSIBLE BYPASS: Stella binds a log entry body that does not record this signature, key and digest',
      input: body,
      minimize,
    };
  return { kind: 'accepted', by: 'records the bundle' };
}

export function bodyTarget(seeds: readonly BodySeed[], defaultIterations: number): FuzzTarget {
  return {
    name: 'rekor-body',
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(seeds);
      let body = s.entry.canonicalizedBody;
      const steps = 1 + rng.smallSize(2);
      for (let i = 0; i < steps; i++) body = mutateRekorBody(rng, body, trail);
      return judgeBody(s, body);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Export archives

export async function judgeArchive(bytes: Uint8Array): Promise<IterationResult> {
  const minimize = async (b: Uint8Array): Promise<boolean> =>
    (await judgeArchive(b)).kind === 'failure';
  const r = attemptSync(() => readExportArchive(bytes));
  if (r.kind !== 'ok') return fromThrow(r, bytes, 'readExportArchive', minimize);
  const got = r.value;
  // Reference: a plain tar reader extracts exactly what Stella returned, all regular files,
  // and every bundle has the digest and size its manifest entry gives.
  const plain = listTar(bytes);
  const returned = new Map<string, Uint8Array>(got.bundles.map((b) => [b.entry.path, b.bytes]));
  if (got.trustedRoot) returned.set('trusted_root.json', got.trustedRoot);
  if (got.consistency) returned.set('consistency.json', got.consistency);
  if (got.seal) returned.set('manifest.sigstore.json', got.seal);
  const extracted = plain.entries.filter((e) => e.name !== 'manifest.cbor');
  const problems = plainTarProblems(bytes, plain);
  if (
    extracted.length !== returned.size ||
    extracted.some(
      (e) =>
        !returned.get(e.name) || !Buffer.from(returned.get(e.name)!).equals(Buffer.from(e.data)),
    )
  )
    problems.push('tar extracts other files than Stella returned');
  for (const b of got.bundles) {
    if (
      createHash('sha256').update(b.bytes).digest('hex') !== b.entry.sha256 ||
      b.bytes.length !== b.entry.size
    )
      problems.push(`${b.entry.path} does not match its manifest entry`);
  }
  if (problems.length)
    return {
      kind: 'failure',
      problem: `POSSIBLE BYPASS: Stella accepts an archive that a plain reading disagrees with: ${problems.join('; ')}`,
      input: bytes,
      minimize,
    };
  for (const b of got.bundles) {
    const p = attemptSync(() => parseBundle(b.bytes));
    if (crashed(p)) return fromThrow(p, bytes, `parseBundle of archived ${b.entry.path}`);
  }
  return { kind: 'accepted', by: 'plain tar agrees' };
}

export function archiveTarget(
  seeds: readonly { name: string; bytes: Uint8Array }[],
  bundleSeedList: readonly BundleSeed[],
  p: Pools,
  defaultIterations: number,
): FuzzTarget & { mutate: (rng: Prng, trail: Trail) => Uint8Array } {
  const seed = bundleSeedList[0]!;
  const hooks = bundleHooks({ ...seed, resign: undefined }, p.certificates, p.tokens);
  const bundleMutator = (rng: Prng, bytes: Uint8Array, trail: Trail): Uint8Array =>
    Buffer.from(
      mutateBundle(
        rng,
        { ...seed, text: Buffer.from(bytes).toString('utf8'), resign: undefined },
        trail,
        hooks,
        [],
      ),
    );
  const mutate = (rng: Prng, trail: Trail): Uint8Array => {
    const s = rng.pick(seeds);
    trail.push(`seed ${s.name}`);
    let bytes = s.bytes;
    const steps = 1 + rng.smallSize(2);
    for (let i = 0; i < steps; i++) bytes = mutateTar(rng, bytes, trail, bundleMutator);
    return bytes;
  };
  return {
    name: 'archive',
    defaultIterations,
    mutate,
    run: (rng, trail) => judgeArchive(mutate(rng, trail)),
  };
}

// ---------------------------------------------------------------------------------------
// Streamed export archives: the reader `verify --archive` and `attest import` use

/** `bytes` cut at `cuts` (offsets, any order), as a file read in odd pieces would arrive. */
function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.filter((c) => c > 0 && c < bytes.byteLength))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.byteLength]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

/**
 * `input` cut at `cuts`, as a stream: each piece a fresh copy, as a file read gives (no piece
 * shares a buffer with another), and counted in `progress` as it is handed out.
 */
async function* pieces(
  input: Uint8Array,
  cuts: readonly number[],
  progress: Progress,
): AsyncGenerator<Uint8Array> {
  for (const p of cutAt(input, cuts)) {
    progress.steps++;
    yield new Uint8Array(p);
  }
}

/** Cut points for an input of `n` bytes: none, a fixed step (odd or a block), or random places. */
function drawCuts(rng: Prng, n: number, trail: Trail): number[] {
  const how = rng.weighted<string>([
    [1, 'whole'],
    [2, 'step'],
    [2, 'random'],
  ]);
  if (how === 'whole' || n < 2) {
    trail.push('stream: one chunk');
    return [];
  }
  if (how === 'step') {
    const step = rng.pick([1, 7, 97, 511, 512, 513, 4096, 65536]);
    trail.push(`stream: ${step}-byte chunks`);
    if (step < 97 && n > 20_000) return drawCuts(rng, n, trail);
    const cuts: number[] = [];
    for (let c = step; c < n; c += step) cuts.push(c);
    return cuts;
  }
  const count = 1 + rng.smallSize(40);
  const cuts = Array.from({ length: count }, () => 1 + rng.int(n - 1));
  trail.push(`stream: ${count} random cuts`);
  return cuts;
}

function chunkedSource(
  input: Uint8Array,
  cuts: readonly number[],
  gzipped: boolean,
  progress: Progress,
): ArchiveSource {
  return {
    name: 'the fuzzed archive',
    open() {
      const raw = pieces(input, cuts, progress);
      return gzipped ? gunzipBounded(raw, defaultGunzipLimits(STREAM_LIMITS.maxArchiveBytes)) : raw;
    },
  };
}

interface StreamedRead {
  seal: Uint8Array | undefined;
  bundles: { path: string; bytes: Uint8Array; index: number }[];
  trustedRoot: Uint8Array | undefined;
  consistency: Uint8Array | undefined;
  sealed: boolean;
  count: number;
}

/** As `verify --archive` reads: the preamble, then the whole archive held to that manifest. */
async function readStreamed(src: ArchiveSource): Promise<StreamedRead> {
  const pre = await readPreamble(src);
  const bundles: StreamedRead['bundles'] = [];
  const r = await readExportArchiveStream(src, {
    expectManifestSha256: pre.manifestSha256,
    onBundle: (entry, bytes, index) => {
      bundles.push({ path: entry.path, bytes: new Uint8Array(bytes), index });
    },
  });
  return {
    seal: pre.seal && new Uint8Array(pre.seal),
    bundles,
    trustedRoot: r.trustedRoot,
    consistency: r.consistency,
    sealed: r.sealed,
    count: r.count,
  };
}

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === undefined || b === undefined ? a === b : Buffer.from(a).equals(Buffer.from(b));

/** Where the streamed read and the in-memory read (readExportArchive) of one archive differ. */
function streamDifferences(mem: ExportArchive, got: StreamedRead): string[] {
  const d: string[] = [];
  if (got.count !== mem.bundles.length)
    d.push(`${got.count} bundles listed, in memory ${mem.bundles.length}`);
  if (got.bundles.length !== mem.bundles.length)
    d.push(`${got.bundles.length} bundles handed out, in memory ${mem.bundles.length}`);
  mem.bundles.forEach((b, i) => {
    const s = got.bundles[i];
    if (s?.path !== b.entry.path || s.index !== i || !same(s.bytes, b.bytes))
      d.push(`bundle ${i} (${b.entry.path}) differs`);
  });
  if (!same(got.trustedRoot, mem.trustedRoot)) d.push('trusted_root.json differs');
  if (!same(got.consistency, mem.consistency)) d.push('consistency.json differs');
  if (got.sealed !== (mem.seal !== undefined))
    d.push(`sealed ${got.sealed}, in memory ${mem.seal !== undefined}`);
  if (!same(got.seal, mem.seal)) d.push('the seal differs');
  return d;
}

/**
 * The streamed reader against the in-memory one on the same archive, cut into pieces (and
 * gzipped, read through the bounded inflater): both refuse it (the codes may differ, see below), or both
 * return the same bundles, trusted root, consistency file and seal. The in-memory reader is
 * itself held to a plain tar reading by the `archive` target.
 */
export async function judgeArchiveStream(
  bytes: Uint8Array,
  cuts: readonly number[],
  gzipped: boolean,
): Promise<IterationResult> {
  const minimize = async (b: Uint8Array): Promise<boolean> =>
    (await judgeArchiveStream(b, cuts, gzipped)).kind === 'failure';
  const mem = attemptSync(() => readExportArchive(bytes));
  if (crashed(mem)) return fromThrow(mem, bytes, 'readExportArchive', minimize);
  const input = gzipped ? new Uint8Array(gzipSync(bytes)) : bytes;
  const progress: Progress = { steps: 0 };
  const streamed = await attemptSettling(
    () => readStreamed(chunkedSource(input, cuts, gzipped, progress)),
    progress,
  );
  if (crashed(streamed))
    return fromThrow(
      streamed,
      bytes,
      'the streamed archive reader',
      isHang(streamed) ? undefined : minimize,
    );
  const fail = (problem: string): IterationResult => ({
    kind: 'failure',
    problem,
    input: bytes,
    minimize,
  });
  if (mem.kind === 'ok' && streamed.kind === 'ok') {
    const d = streamDifferences(mem.value, streamed.value);
    if (d.length)
      return fail(
        `the streamed reader returns another archive than the in-memory one: ${d.join('; ')}`,
      );
    return { kind: 'accepted', by: 'streamed and in-memory readers agree' };
  }
  if (mem.kind === 'ok')
    return fail(
      `the streamed reader refuses (${(streamed as { code: string }).code}) an archive the in-memory reader accepts`,
    );
  if (streamed.kind === 'ok')
    return fail(
      `POSSIBLE BYPASS: the streamed reader accepts an archive the in-memory reader refuses (${mem.code})`,
    );
  // Both refuse. The codes may differ: the stream meets the first fault in archive order (a
  // bundle that does not match its entry), the in-memory reader reads every header first.
  return { kind: 'refused', code: mem.code };
}

export function archiveStreamTarget(
  seeds: readonly { name: string; bytes: Uint8Array }[],
  bundleSeedList: readonly BundleSeed[],
  p: Pools,
  defaultIterations: number,
): FuzzTarget {
  const { mutate } = archiveTarget(seeds, bundleSeedList, p, 0);
  return {
    name: 'archive-stream',
    defaultIterations,
    async run(rng, trail) {
      const bytes = mutate(rng, trail);
      const gzipped = rng.chance(0.25);
      if (gzipped) trail.push('gzipped');
      const cuts = drawCuts(rng, gzipped ? bytes.byteLength >> 3 : bytes.byteLength, trail);
      return judgeArchiveStream(bytes, cuts, gzipped);
    },
  };
}

// ---------------------------------------------------------------------------------------
// gzip: the bounded inflater `.tar.gz` archives are read through

function gzipMember(data: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(data));
}

/** One structure-aware step on gzip bytes: header flags and fields, trailer, members, junk. */
export function mutateGzip(rng: Prng, gz: Uint8Array, trail: Trail): Uint8Array {
  const op = rng.weighted<string>([
    [4, 'havoc'],
    [2, 'flags'],
    [2, 'trailer'],
    [1, 'second-member'],
    [1, 'empty-first-member'],
    [1, 'junk'],
    [1, 'truncate'],
    [1, 'method'],
  ]);
  const b = new Uint8Array(gz);
  const n = b.byteLength;
  // Shorter than a header (cut by an earlier step): only byte-level steps apply.
  if (n < 10) return havoc(rng, gz, trail);
  switch (op) {
    case 'havoc':
      return havoc(rng, gz, trail);
    case 'flags': {
      // FTEXT 1, FHCRC 2, FEXTRA 4, FNAME 8, FCOMMENT 16; 0xe0 reserved. The fields they
      // announce are inserted after the 10-byte header, well formed or not.
      const flg = rng.pick([0x01, 0x02, 0x04, 0x08, 0x10, 0x1c, 0x20, 0x80, 0x1e]);
      const fields: number[] = [];
      if (flg & 0x04) {
        const xlen = rng.pick([0, 4, 6, 0xffff]);
        fields.push(xlen & 0xff, xlen >> 8, ...new Uint8Array(Math.min(xlen, 6)).fill(0x41));
      }
      if (flg & 0x08) fields.push(...Buffer.from('name.tar'), ...(rng.chance(0.8) ? [0] : []));
      if (flg & 0x10) fields.push(...Buffer.from('comment'), ...(rng.chance(0.8) ? [0] : []));
      if (flg & 0x02) fields.push(rng.int(256), rng.int(256));
      trail.push(`gzip: FLG 0x${flg.toString(16)} with ${fields.length} field bytes`);
      const out = new Uint8Array(n + fields.length);
      out.set(b.subarray(0, 10));
      out[3] = flg;
      out.set(fields, 10);
      out.set(b.subarray(10), 10 + fields.length);
      return out;
    }
    case 'trailer': {
      const at = n - 1 - rng.int(Math.min(8, n));
      b[at] = (b[at]! ^ (1 << rng.int(8))) & 0xff;
      trail.push(`gzip: trailer byte ${n - at} from the end changed`);
      return b;
    }
    case 'second-member': {
      trail.push('gzip: a second member appended');
      return new Uint8Array(Buffer.concat([b, gzipMember(Buffer.from('more'))]));
    }
    case 'empty-first-member': {
      trail.push('gzip: an empty member first');
      return new Uint8Array(Buffer.concat([gzipMember(new Uint8Array(0)), b]));
    }
    case 'junk': {
      const junk = rng.pick([
        new Uint8Array(1),
        new Uint8Array(512),
        Buffer.from([0x1f, 0x8b]),
        Buffer.from('x'),
      ]);
      trail.push(`gzip: ${junk.byteLength} bytes appended`);
      return new Uint8Array(Buffer.concat([b, junk]));
    }
    case 'truncate': {
      const to = rng.int(n);
      trail.push(`gzip: cut to ${to} bytes`);
      return b.slice(0, to);
    }
    default: {
      b[2] = rng.pick([0, 7, 9, 0xff]);
      trail.push(`gzip: CM ${b[2]}`);
      return b;
    }
  }
}

/** What gunzipBounded returns for `input` cut at `cuts`, under `limits`. */
async function inflateBounded(
  input: Uint8Array,
  cuts: readonly number[],
  limits: GunzipLimits,
  progress: Progress,
): Promise<Uint8Array> {
  const raw = pieces(input, cuts, progress);
  const out: Uint8Array[] = [];
  for await (const c of gunzipBounded(raw, limits)) out.push(new Uint8Array(c));
  return new Uint8Array(Buffer.concat(out));
}

/**
 * The bounded inflater on mutated gzip: a refusal is a StellaError; what it accepts is one
 * member that ends the input (its trailer, the last 8 bytes, gives the output's CRC-32 and
 * length), what zlib inflates from the same bytes, and within the limits it was given.
 */
export async function judgeGzip(
  input: Uint8Array,
  cuts: readonly number[],
  limits: GunzipLimits,
): Promise<IterationResult> {
  const minimize = async (b: Uint8Array): Promise<boolean> =>
    (await judgeGzip(b, cuts, limits)).kind === 'failure';
  const progress: Progress = { steps: 0 };
  const r = await attemptSettling(() => inflateBounded(input, cuts, limits, progress), progress);
  if (r.kind !== 'ok')
    return fromThrow(r, input, 'gunzipBounded', isHang(r) ? undefined : minimize);
  const out = r.value;
  const problems: string[] = [];
  if (out.byteLength > limits.maxOutputBytes)
    problems.push(`${out.byteLength} bytes inflated, limit ${limits.maxOutputBytes}`);
  if (
    out.byteLength > limits.ratioGraceBytes &&
    out.byteLength > limits.maxRatio * input.byteLength
  )
    problems.push(
      `ratio ${(out.byteLength / input.byteLength).toFixed(1)} over ${limits.maxRatio}`,
    );
  const trailer = Buffer.from(input.subarray(input.byteLength - 8));
  if (
    input.byteLength < 18 ||
    trailer.readUInt32LE(0) !== crc32(out) ||
    trailer.readUInt32LE(4) !== out.byteLength % 2 ** 32
  )
    problems.push('the last 8 bytes are not the trailer of what was inflated');
  let reference: Uint8Array | undefined;
  try {
    reference = new Uint8Array(gunzipSync(input));
  } catch {
    problems.push('zlib refuses the input');
  }
  if (reference && !same(reference, out)) problems.push('zlib inflates other bytes');
  if (problems.length)
    return {
      kind: 'failure',
      problem: `POSSIBLE BYPASS: gunzipBounded accepts gzip that is not one well-formed member: ${problems.join('; ')}`,
      input,
      minimize,
    };
  return { kind: 'accepted', by: 'one member, as zlib inflates it' };
}

export function gzipTarget(
  seeds: readonly { name: string; bytes: Uint8Array }[],
  defaultIterations: number,
): FuzzTarget {
  const members = seeds.map((s) => ({ name: s.name, gz: gzipMember(s.bytes) }));
  // A small bomb: 1 MiB of zeros, ~1 KiB compressed (the drawn limits make it one).
  members.push({ name: 'zeros', gz: gzipMember(new Uint8Array(1 << 20)) });
  return {
    name: 'gzip',
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(members);
      trail.push(`seed ${s.name}`);
      let gz = s.gz;
      const steps = rng.smallSize(2);
      for (let i = 0; i < steps; i++) gz = mutateGzip(rng, gz, trail);
      const limits: GunzipLimits = rng.chance(0.5)
        ? defaultGunzipLimits(STREAM_LIMITS.maxArchiveBytes)
        : {
            maxOutputBytes: rng.pick([0, 1, 1000, 100_000, 1 << 20]),
            maxRatio: rng.pick([1, 2, 10, 200]),
            ratioGraceBytes: rng.pick([0, 1024, 65536]),
          };
      trail.push(`limits ${JSON.stringify(limits)}`);
      return judgeGzip(gz, drawCuts(rng, gz.byteLength, trail), limits);
    },
  };
}

// ---------------------------------------------------------------------------------------
// trusted_root.json: what `trust import` and `--trusted-root` read

const TRUSTED_ROOT_HOOKS: JsonHooks = {
  bytesField(p) {
    const k = p[p.length - 1];
    // Certificates and keys are DER; log ids are opaque bytes.
    if (k === 'rawBytes') return (rng, b, t) => mutateDer(rng, b, t);
    if (k === 'keyId') return (rng, b, t) => havoc(rng, b, t);
    return undefined;
  },
};

/**
 * A trusted root as Stella reads it: parseTrustedRoot refuses with a StellaError or returns
 * material that survives a round trip (written by serializeTrustedRoot, as `trust export` and
 * the export archive write it, then read again to the same text); planImport, the parse
 * `trust import` makes before its transaction, refuses with a StellaError or plans.
 */
export function judgeTrustedRoot(bytes: Uint8Array): IterationResult {
  const minimize = (b: Uint8Array): Promise<boolean> =>
    Promise.resolve(judgeTrustedRoot(b).kind === 'failure');
  const planned = attemptSync(() => planImport(bytes));
  if (crashed(planned)) return fromThrow(planned, bytes, 'planImport', minimize);
  return judgeRoundTrip(
    bytes,
    'parseTrustedRoot',
    parseTrustedRoot,
    (tm) => serializeTrustedRoot(tm, tm.mediaType),
    minimize,
  );
}

/**
 * A document Stella reads and writes: `parse` refuses with a StellaError, or returns what
 * survives a round trip (written by `write`, read back, written again to the same text).
 */
function judgeRoundTrip<T, W extends string | Uint8Array>(
  bytes: Uint8Array,
  parser: string,
  parse: (input: Uint8Array | W) => T,
  write: (value: T) => W,
  minimize: (b: Uint8Array) => Promise<boolean>,
): IterationResult {
  const r = attemptSync(() => parse(bytes));
  if (r.kind !== 'ok') return fromThrow(r, bytes, parser, minimize);
  const written = attemptSync(() => write(r.value));
  const again = written.kind === 'ok' ? attemptSync(() => write(parse(written.value))) : written;
  if (
    written.kind === 'ok' &&
    again.kind === 'ok' &&
    Buffer.from(again.value).equals(Buffer.from(written.value))
  )
    return { kind: 'accepted', by: 'round trip' };
  const why =
    written.kind !== 'ok'
      ? 'not written'
      : again.kind !== 'ok'
        ? 'written, then refused'
        : 'read back differently';
  return {
    kind: 'failure',
    problem: `${parser} accepts a document that does not survive being written and read again (${why})`,
    ...(again.kind === 'crash' ? { error: again.error } : {}),
    input: bytes,
    minimize,
  };
}

/**
 * JSON documents (`seeds`), mutated as JSON (`hooks` for fields with their own syntax), other
 * seeds as donors; `havocShare` of the inputs are byte-level havoc on a seed's text instead.
 */
function jsonDocumentTarget(
  name: string,
  seeds: readonly { name: string; text: string }[],
  hooks: JsonHooks,
  judge: (bytes: Uint8Array) => IterationResult,
  defaultIterations: number,
  havocShare = 0,
): FuzzTarget {
  const docs = seeds.map((s) => ({ name: s.name, doc: JSON.parse(s.text) as Json }));
  const donors = docs.map((d) => d.doc);
  const mutate = (rng: Prng, s: (typeof docs)[number], trail: Trail): Uint8Array => {
    if (havocShare > 0 && rng.chance(havocShare))
      return havoc(rng, utf8.encode(rng.pick(seeds).text), trail);
    let doc = s.doc;
    const steps = 1 + rng.smallSize(3);
    for (let i = 0; i < steps; i++) doc = mutateJson(rng, doc, trail, hooks, donors);
    return utf8.encode(stringifyFuzz(doc));
  };
  return seededTarget(name, defaultIterations, docs, mutate, (_s, bytes) => judge(bytes));
}

export function trustedRootTarget(
  seeds: readonly { name: string; text: string }[],
  defaultIterations: number,
): FuzzTarget {
  return jsonDocumentTarget(
    'trusted-root',
    seeds,
    TRUSTED_ROOT_HOOKS,
    judgeTrustedRoot,
    defaultIterations,
    0.1,
  );
}

/** Distinct trusted roots among the bundle seeds, and the samples'. */
export function trustedRootSeeds(seeds: readonly BundleSeed[]): { name: string; text: string }[] {
  const seen = new Set<string>();
  const out: { name: string; text: string }[] = [];
  for (const s of seeds) {
    if (seen.has(s.trustedRootJson)) continue;
    seen.add(s.trustedRootJson);
    out.push({ name: `trusted root of ${s.name}`, text: s.trustedRootJson });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Policy files: YAML, with RE2 identity patterns compiled and judged for breadth

const GH_ISSUER = 'https://token.actions.githubusercontent.com';

/** Policy files that use every key, the seed's top-level form and both spellings of a list. */
export const POLICY_SEEDS: readonly { name: string; text: string }[] = [
  {
    name: 'policy/full',
    text: [
      'version: 1',
      'environments:',
      '  staging:',
      `    issuer: ${GH_ISSUER}`,
      '    identity: "repo:myorg/myrepo:ref:refs/heads/.*"',
      '    allowBroadIdentity: true',
      '  production:',
      `    issuers: [${GH_ISSUER}]`,
      '    identities:',
      '      - "repo:myorg/myrepo:ref:refs/(heads/main|tags/v.*)"',
      '      - "https://github.com/myorg/myrepo/.github/workflows/release.yml@refs/heads/main"',
      '    extensions:',
      '      deployment-environment: production',
      '    requireRekor: true',
      '    requireConsistency: true',
      '    description: the release line',
      '',
    ].join('\n'),
  },
  {
    name: 'policy/top-level',
    text: [
      'default:',
      `  issuer: ${GH_ISSUER}`,
      '  identity: "https://github\\.com/org/repo/\\.github/workflows/ci\\.yml@refs/heads/main"',
      'gitlab:',
      '  issuer: https://gitlab.com',
      '  identities: ["https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"]',
      '',
    ].join('\n'),
  },
];

/** Values a pattern or a scalar is swapped for: RE2 corners, YAML corners, odd text. */
const POLICY_VALUES = [
  '"("',
  '"[a-"',
  '"a{1001}"',
  '"(a*)*b"',
  '"\\\\p{Greek}+"',
  '"(?P<n>x)"',
  '"(?i)REPO:.*"',
  '"\\\\x{110000}"',
  '"\\\\Q.*\\\\E"',
  '"^repo:a/b:ref:refs/heads/main$"',
  '".*"',
  '".+"',
  '"repo:[^/]+/repo:ref:.*"',
  '"\\\\C"',
  '"(?s).*"',
  '"caf\\u0065\\u0301"',
  '"\\u0000"',
  '""',
  '&a "x"',
  '*a',
  '!!binary aGVsbG8=',
  '!!python/object:os.system "x"',
  '{ <<: *a }',
  '[1, 2, [3, [4]]]',
  '123',
  '0x1f',
  '1e400',
  'true',
  '~',
  '|\n      multi\n      line',
  `"${'a'.repeat(5000)}"`,
  `"${'(a|'.repeat(200)}b${')'.repeat(200)}"`,
];

/**
 * One step on a YAML document, line by line: a value swapped for one of `values`, a line
 * deleted, repeated or swapped, re-indented, a second document or a byte-order mark, or bytes.
 */
export function mutateYamlText(
  rng: Prng,
  text: string,
  trail: Trail,
  values: readonly string[] = POLICY_VALUES,
): string {
  const lines = text.split('\n');
  const op = rng.weighted<string>([
    [4, 'value'],
    [2, 'line'],
    [1, 'indent'],
    [1, 'document'],
    [2, 'bytes'],
  ]);
  const i = rng.int(lines.length);
  switch (op) {
    case 'value': {
      const line = lines[i]!;
      const colon = line.indexOf(': ');
      const dash = line.indexOf('- ');
      const at = colon >= 0 ? colon + 2 : dash >= 0 ? dash + 2 : line.length;
      const v = rng.pick(values);
      lines[i] = `${line.slice(0, at)}${v}`;
      trail.push(`yaml: line ${i + 1} value ${JSON.stringify(v.slice(0, 40))}`);
      return lines.join('\n');
    }
    case 'line': {
      const j = rng.int(lines.length);
      const how = rng.pick(['delete', 'duplicate', 'swap'] as const);
      if (how === 'delete') lines.splice(i, 1);
      else if (how === 'duplicate') lines.splice(i, 0, lines[i]!);
      else [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      trail.push(`yaml: ${how} line ${i + 1}${how === 'swap' ? ` and ${j + 1}` : ''}`);
      return lines.join('\n');
    }
    case 'indent': {
      const pad = rng.pick(['', ' ', '   ', '\t', '        ']);
      lines[i] = pad + lines[i]!.trimStart();
      trail.push(`yaml: line ${i + 1} indented ${JSON.stringify(pad)}`);
      return lines.join('\n');
    }
    case 'document': {
      const extra = rng.pick(['---\n', '%YAML 1.1\n---\n', '...\n', '# c\n', '\ufeff']);
      trail.push(`yaml: ${JSON.stringify(extra)} added`);
      return rng.chance(0.5) ? extra + text : `${text}${extra}${text}`;
    }
    default:
      return Buffer.from(havoc(rng, utf8.encode(text), trail)).toString('utf8');
  }
}

/**
 * A policy file as `--policy` reads it: parsed and validated, then each environment's options
 * built into a verification policy (patterns compiled, breadth judged). Anything but a
 * StellaError with a code in EXIT_CODES is a crash.
 */
export function judgePolicy(text: string): IterationResult {
  const r = attemptSync(() => {
    const file = parsePolicyFile(text, 'policy.yaml');
    for (const name of file.environments.keys())
      buildPolicy(policyOptionsForEnvironment(file, name));
    return file.environments.size;
  });
  if (r.kind !== 'ok') {
    // A policy file's mistakes are POLICY_INVALID at a key and line, whichever step finds them
    // (buildPolicy's own refusals name command-line flags, which a policy file does not have).
    return refusedOnlyAs(
      r,
      'POLICY_INVALID',
      'a policy file',
      text,
      'parsePolicyFile + buildPolicy',
    );
  }
  return { kind: 'accepted', by: `${r.value} environment(s)` };
}

/** A YAML document target: a seed, one to four line-by-line steps with `values`, then `judge`. */
export function yamlDocumentTarget(
  name: string,
  seeds: readonly { name: string; text: string }[],
  values: readonly string[],
  judge: (text: string) => IterationResult,
  defaultIterations: number,
): FuzzTarget {
  const mutate = (rng: Prng, s: { text: string }, trail: Trail): string => {
    let text = s.text;
    const steps = 1 + rng.smallSize(3);
    for (let i = 0; i < steps; i++) text = mutateYamlText(rng, text, trail, values);
    return text;
  };
  return seededTarget(name, defaultIterations, seeds, mutate, (_s, text) => judge(text));
}

export function policyTarget(defaultIterations: number): FuzzTarget {
  return yamlDocumentTarget('policy', POLICY_SEEDS, POLICY_VALUES, judgePolicy, defaultIterations);
}

// ---------------------------------------------------------------------------------------
// Witness cosignatures (C2SP tlog-cosignature v1) on checkpoints

/** A private key the same every run: Ed25519 from a filled seed, P-256 from a filled scalar. */
export function fixedPrivateKey(kind: 'ed25519' | 'p256', fill: number): KeyObject {
  const prefix =
    kind === 'ed25519'
      ? '302e020100300506032b657004220420'
      : '3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420';
  return createPrivateKey({
    key: Buffer.concat([Buffer.from(prefix, 'hex'), Buffer.alloc(32, fill)]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** A witness with a fixed Ed25519 key (the same every run), and a signer for its lines. */
function fixedWitness(
  name: string,
  fill: number,
): { key: WitnessKey; sign: (m: Uint8Array) => Uint8Array } {
  const priv = fixedPrivateKey('ed25519', fill);
  const raw = new Uint8Array(createPublicKey(priv).export({ format: 'der', type: 'spki' })).slice(
    12,
  );
  return { key: { name, publicKey: raw }, sign: (m) => new Uint8Array(nodeSign(null, m, priv)) };
}

interface WitnessedSeed {
  note: string;
  /** The signed text every cosignature covers. */
  text: string;
  /** The witnesses a verifier is configured with. */
  witnesses: WitnessKey[];
  /** `fingerprint timestamp` of every cosignature a configured witness really made. */
  made: Set<string>;
}

/**
 * Each checkpoint seed cosigned by two configured witnesses (the second twice, at two times),
 * and by one the verifier does not know; its lines come after the log's.
 */
export function witnessSeeds(notes: readonly NoteSeed[]): WitnessedSeed[] {
  const known = [fixedWitness('witness.example/a', 0xa1), fixedWitness('witness.example/b', 0xb2)];
  const stranger = fixedWitness('witness.example/stranger', 0xc3);
  const out: WitnessedSeed[] = [];
  for (const n of notes) {
    const text = plainReading(n.note)?.text;
    if (!text) continue;
    const made = new Set<string>();
    const lines: string[] = [];
    const cosign = (w: ReturnType<typeof fixedWitness>, ts: number, record: boolean): void => {
      lines.push(cosignatureLine(text, w.key, ts, w.sign));
      if (record) made.add(`${witnessFingerprint(w.key.publicKey)} ${ts}`);
    };
    cosign(known[0]!, 1_700_000_000, true);
    cosign(known[1]!, 1_700_000_100, true);
    cosign(known[1]!, 1_700_000_050, true);
    cosign(stranger, 1_700_000_000, false);
    out.push({
      note: addCosignatures(n.note, lines),
      text,
      witnesses: known.map((w) => w.key),
      made,
    });
  }
  return out;
}

/** One step on a cosignature line's payload: timestamp, key hint, signature or length. */
function mutateCosignatureLine(rng: Prng, note: string, trail: Trail): string {
  const lines = note.split('\n');
  const at = lines
    .map((l, i) => (l.startsWith('\u2014 witness.example/') ? i : -1))
    .filter((i) => i >= 0);
  if (at.length === 0) return note;
  const i = rng.pick(at);
  const [dash, name, b64] = lines[i]!.split(' ');
  const raw = new Uint8Array(Buffer.from(b64 ?? '', 'base64'));
  const what = rng.pick(['timestamp', 'hint', 'signature', 'length', 'name'] as const);
  let out: Uint8Array = raw;
  let who = name;
  if (what === 'timestamp' && raw.length >= 12) {
    const dv = new DataView(raw.buffer, raw.byteOffset + 4, 8);
    dv.setBigUint64(
      0,
      rng.pick([0n, 1n, dv.getBigUint64(0) + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]),
    );
  } else if (what === 'hint' && raw.length >= 4) {
    const j = rng.int(4);
    raw[j] = raw[j]! ^ (1 << rng.int(8));
  } else if (what === 'signature' && raw.length > 12) {
    const j = 12 + rng.int(raw.length - 12);
    raw[j] = raw[j]! ^ 1;
  } else if (what === 'length')
    out = rng.chance(0.5) ? raw.subarray(0, rng.int(raw.length)) : Buffer.concat([raw, raw]);
  else who = rng.pick(['witness.example/a', 'witness.example/b', 'witness.example/stranger']);
  trail.push(`cosignature line ${i}: ${what}`);
  lines[i] = `${dash} ${who} ${Buffer.from(out).toString('base64')}`;
  return lines.join('\n');
}

/**
 * verifyCosignatures on a mutated witnessed checkpoint: a refusal is a StellaError; every
 * cosignature it returns must be one a configured witness made, over the text the note now
 * carries, each key at most once.
 */
export function judgeWitness(s: WitnessedSeed, note: string): IterationResult {
  const minimize = (b: Uint8Array): Promise<boolean> =>
    Promise.resolve(judgeWitness(s, Buffer.from(b).toString('utf8')).kind === 'failure');
  const r = attemptSync(() => verifyCosignatures(parseSignedNote(note), s.witnesses));
  if (r.kind !== 'ok') return fromThrow(r, note, 'verifyCosignatures', minimize);
  const text = plainReading(note)?.text;
  const keys = new Set(r.value.map((v) => v.keyFingerprint));
  const forged = r.value.filter(
    (v) => text !== s.text || !s.made.has(`${v.keyFingerprint} ${v.timestamp}`),
  );
  if (forged.length > 0 || keys.size !== r.value.length)
    return {
      kind: 'failure',
      problem: `POSSIBLE BYPASS: verifyCosignatures counts a cosignature no configured witness made on this text (${forged.map((v) => `${v.name} at ${v.timestamp}`).join(', ') || 'a key counted twice'})`,
      input: note,
      minimize,
    };
  return { kind: 'accepted', by: `${r.value.length} witness(es)` };
}

export function witnessTarget(
  seeds: readonly WitnessedSeed[],
  defaultIterations: number,
): FuzzTarget {
  return {
    name: 'witness',
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(seeds);
      let note = s.note;
      const steps = 1 + rng.smallSize(2);
      for (let i = 0; i < steps; i++)
        note = rng.chance(0.5)
          ? mutateCosignatureLine(rng, note, trail)
          : mutateNote(rng, note, trail);
      return judgeWitness(s, note);
    },
  };
}

// ---------------------------------------------------------------------------------------
// consistency.json: the proofs an archive carries across (--include-consistency)

/** Two logs' proofs, as export-bundle --include-consistency writes them. */
export function consistencySeeds(seeds: readonly BundleSeed[]): { name: string; text: string }[] {
  const h = (label: string): string => createHash('sha256').update(label).digest('hex');
  const notes = noteSeeds(seeds);
  const doc: ShipmentConsistency = {
    logs: notes.slice(0, 2).map((n, i) => ({
      logId: h(`log ${i}`),
      baseUrl: `https://rekor${i}.example`,
      rekor: n.rekor,
      checkpoint: n.note,
      proofs: [
        { fromSize: 1, fromRootHash: h(`root ${i} 1`), hashes: [h('a'), h('b')] },
        { fromSize: 3, fromRootHash: h(`root ${i} 3`), hashes: [h('c')] },
      ],
    })),
  };
  return [
    {
      name: 'consistency/two-logs',
      text: Buffer.from(serializeShipmentConsistency(doc)).toString('utf8'),
    },
  ];
}

/**
 * parseShipmentConsistency refuses with a StellaError or returns what survives a round trip:
 * written by serializeShipmentConsistency (as export-bundle writes it), read back, written
 * again to the same bytes.
 */
export function judgeConsistency(bytes: Uint8Array): IterationResult {
  return judgeRoundTrip(
    bytes,
    'parseShipmentConsistency',
    parseShipmentConsistency,
    serializeShipmentConsistency,
    (b) => Promise.resolve(judgeConsistency(b).kind === 'failure'),
  );
}

export function consistencyTarget(
  seeds: readonly { name: string; text: string }[],
  defaultIterations: number,
): FuzzTarget {
  const hooks: JsonHooks = {
    stringField: (p) =>
      p[p.length - 1] === 'checkpoint' ? (rng, s, t) => mutateNote(rng, s, t) : undefined,
  };
  return jsonDocumentTarget('consistency', seeds, hooks, judgeConsistency, defaultIterations);
}

// ---------------------------------------------------------------------------------------
// signing_config.json: which services `attest sign` uses

const T_CONFIG = Date.UTC(2025, 0, 1);

function service(url: string, majorApiVersion: number, start: number, end?: number) {
  return {
    url,
    majorApiVersion,
    validFor: end === undefined ? { start } : { start, end },
    operator: 'sigstore.example',
  };
}

/** Two signing configs: one per Rekor API version, with windows that open and close. */
export function signingConfigSeeds(): { name: string; text: string }[] {
  const year = 365 * 86_400_000;
  return [
    {
      name: 'signing-config/rekor-v1',
      text: renderSigningConfig({
        caUrls: [service('https://fulcio.example', 1, T_CONFIG)],
        oidcUrls: [service('https://oauth2.example/auth', 1, T_CONFIG)],
        rekorTlogUrls: [
          service('https://rekor.example', 1, T_CONFIG, T_CONFIG + year),
          service('https://rekor2.example', 1, T_CONFIG + year),
        ],
        rekorTlogConfig: { selector: 'ANY' },
        tsaUrls: [service('https://tsa.example/api/v1/timestamp', 1, T_CONFIG)],
        tsaConfig: { selector: 'ALL' },
      }),
    },
    {
      name: 'signing-config/rekor-v2',
      text: renderSigningConfig({
        caUrls: [service('https://fulcio.example', 1, T_CONFIG)],
        oidcUrls: [],
        rekorTlogUrls: [
          service('https://log2025.rekor.example', 2, T_CONFIG),
          service('https://rekor.example', 1, T_CONFIG),
        ],
        rekorTlogConfig: { selector: 'EXACT', count: 1 },
        tsaUrls: [
          service('https://tsa.example/api/v1/timestamp', 1, T_CONFIG),
          service('https://tsa2.example/api/v1/timestamp', 1, T_CONFIG),
        ],
        tsaConfig: { selector: 'ANY' },
      }),
    },
  ];
}

/**
 * A signing config as `attest sign` reads it: parsed, then services selected at a time inside
 * and one outside the windows. Anything but a StellaError with a code in EXIT_CODES is a crash.
 */
export function judgeSigningConfig(bytes: Uint8Array): IterationResult {
  const minimize = (b: Uint8Array): Promise<boolean> =>
    Promise.resolve(judgeSigningConfig(b).kind === 'failure');
  const cfg = attemptSync(() => parseSigningConfig(bytes, 'signing_config.json'));
  if (cfg.kind !== 'ok') return fromThrow(cfg, bytes, 'parseSigningConfig', minimize);
  for (const now of [T_CONFIG + 86_400_000, T_CONFIG - 86_400_000]) {
    const r = attemptSync(() => selectSigningServices(cfg.value, now));
    if (crashed(r)) return fromThrow(r, bytes, 'selectSigningServices', minimize);
  }
  return { kind: 'accepted', by: 'parsed and selected' };
}

export function signingConfigTarget(defaultIterations: number): FuzzTarget {
  return jsonDocumentTarget(
    'signing-config',
    signingConfigSeeds(),
    {},
    judgeSigningConfig,
    defaultIterations,
    0.1,
  );
}
