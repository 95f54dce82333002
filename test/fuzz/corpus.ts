/**
 * The fuzz seed corpus. Three sources, so the fuzz test runs on a plain clone too:
 * - bundles signed in process with the project's own authority code (sandbox Fulcio, CT log
 *   and Rekor, a test TSA): a hashedrekord and a DSSE bundle, the same with an RFC 3161
 *   timestamp, one whose entry has no SET (timed by the TSA), one with no log entry at all,
 *   and the first relabelled as v0.1 and v0.2. These come with a `Resigner` holding the
 *   authority's keys, so mutations can be signed again as the log or TSA would sign them
 *   and reach the checks past the signatures;
 * - the committed samples (samples/);
 * - every case of ../shared/conformance (real public-good and staging bundles), when present.
 * Each bundle seed carries what verifying it needs (artifact, trust, policy) and its reference
 * verdict: pass, except the conformance suite's `_fail` cases.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseBundle } from '../../src/bundle/parse.js';
import { bundleToJson } from '../../src/bundle/serialize.js';
import type { Bundle } from '../../src/bundle/model.js';
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1 } from '../../src/bundle/intoto.js';
import { parseTrustedRoot, serializeTrustedRoot } from '../../src/trust/trusted-root.js';
import type { TransparencyLogInstance, TrustMaterial } from '../../src/model/trust-material.js';
import {
  buildPolicy,
  type PolicyOptions,
  type VerificationPolicy,
} from '../../src/verify/policy.js';
import { parseDigestReference, type Artifact } from '../../src/verify/artifact.js';
import { sha256 } from '../../src/crypto.js';
import { toHex, utf8 } from '../../src/util/encoding.js';
import { noteKeyHint } from '../../src/tlog/note.js';
import type { AuthorityKey, SandboxAuthority } from '../../src/sandbox/authority/index.js';
import { buildExportArchive } from '../../src/archive/export.js';
import { CONFORMANCE_DIR, sharedMissingReason } from '../helpers/paths.js';
import { SAMPLES } from '../helpers/samples.js';
import {
  githubIdentity,
  ISSUER_URL,
  signBlob,
  signDsse,
  testAuthority,
  testTsa,
  type TestTsa,
} from '../helpers/authority-bundles.js';
import {
  craftLeaf,
  tsaTimedBundle,
  V01,
  V02,
  withoutSetTimedByTsa,
  withTsaTime,
} from '../helpers/crafted-bundles.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

/** The verifier's clock for every seed: after every signing time in the corpus. Fixed, so runs repeat. */
export const FUZZ_NOW = Date.UTC(2027, 0, 1);
/** When the in-process bundles are signed (the authority's keys are valid from 2025-01-01). */
export const SIGNED_AT = Date.UTC(2025, 5, 1, 12, 0, 0);

/** What re-signing needs: the in-process authority's log key and TSA. */
export interface Resigner {
  authority: SandboxAuthority;
  logKey: AuthorityKey;
  logId: Uint8Array;
  /** Rekor v1 checkpoint origin ("<name> - <tree id>") and signer name. */
  origin: string;
  noteName: string;
  noteHint: Uint8Array;
  tsa: TestTsa;
  artifact: Uint8Array;
}

export interface BundleSeed {
  name: string;
  origin: 'in-process' | 'samples' | 'conformance';
  text: string;
  artifact: Artifact;
  /** The artifact's bytes, for @sigstore/verify (which cannot verify from a digest alone). */
  artifactBytes: Uint8Array | undefined;
  trust: TrustMaterial;
  /** The same trust as trusted_root.json text, for @sigstore/verify. */
  trustedRootJson: string;
  policy: VerificationPolicy;
  identity: string | undefined;
  issuer: string | undefined;
  keyPem: string | undefined;
  /** The verdict the seed must get: its source's (the conformance suite's) expected result. */
  reference: 'pass' | 'fail';
  resign: Resigner | undefined;
}

/** A seed's policy, judging at `now` (FUZZ_NOW unless a test runs the CLI, which reads the clock). */
export function policyFor(
  o: {
    identity?: string | undefined;
    issuer?: string | undefined;
    keyPem?: string | undefined;
  },
  now: number = FUZZ_NOW,
): VerificationPolicy {
  const opts: PolicyOptions = o.keyPem
    ? { publicKeyPem: o.keyPem, now }
    : {
        certificateIdentity: literalPattern(o.identity!),
        certificateOidcIssuer: o.issuer!,
        now,
      };
  return buildPolicy(opts);
}

function text(b: Bundle): string {
  return JSON.stringify(bundleToJson(b));
}

function relabel(b: Bundle, mediaType: string, version: '0.1' | '0.2'): Bundle {
  const m = b.verificationMaterial.content;
  const certificates =
    m.kind === 'certificate'
      ? [m.certificate]
      : m.kind === 'x509CertificateChain'
        ? m.certificates
        : [];
  return {
    ...b,
    mediaType,
    version,
    verificationMaterial: {
      ...b.verificationMaterial,
      content: { kind: 'x509CertificateChain', certificates },
    },
  };
}

export const FUZZ_ARTIFACT = utf8.encode('stella fuzz artifact: the bytes a release job signed\n');

export function inTotoStatement(artifact: Uint8Array): Uint8Array {
  return utf8.encode(
    JSON.stringify({
      _type: IN_TOTO_STATEMENT_V1,
      subject: [{ name: 'artifact.bin', digest: { sha256: toHex(sha256(artifact)) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://stella.test/fuzz' } },
    }),
  );
}

function inProcessSeeds(): BundleSeed[] {
  const a = testAuthority('fuzz');
  const tsa = testTsa('fuzz', Date.UTC(2025, 0, 1), Date.UTC(2035, 0, 1));
  const trust: TrustMaterial = { ...a.trustMaterial(), timestampAuthorities: [tsa.authority] };
  const trustedRootJson = serializeTrustedRoot(trust);
  const identity = githubIdentity('org/repo');
  const policy = policyFor({ identity, issuer: ISSUER_URL });
  const noteName = new URL(a.urls.rekor).hostname;
  const resign: Resigner = {
    authority: a,
    logKey: a.keys.rekorLog,
    logId: a.rekor.logId,
    origin: a.rekor.origin,
    noteName,
    noteHint: noteKeyHint(noteName, a.keys.rekorLog.keyObject),
    tsa,
    artifact: FUZZ_ARTIFACT,
  };
  const blob = signBlob(a, FUZZ_ARTIFACT, { repo: 'org/repo', now: SIGNED_AT });
  const dsse = signDsse(a, inTotoStatement(FUZZ_ARTIFACT), IN_TOTO_PAYLOAD_TYPE, {
    repo: 'org/repo',
    now: SIGNED_AT + 60_000,
  });
  const leaf = craftLeaf(a, { label: 'fuzz', notBefore: SIGNED_AT + 120_000 });
  const bundles: [string, Bundle][] = [
    ['blob', blob.bundle],
    ['dsse', dsse.bundle],
    ['blob+tsa', withTsaTime(blob.bundle, tsa, SIGNED_AT + 6_000)],
    ['dsse+tsa', withTsaTime(dsse.bundle, tsa, SIGNED_AT + 66_000)],
    ['blob-no-set-tsa', withoutSetTimedByTsa(blob.bundle, tsa, SIGNED_AT + 7_000)],
    ['tsa-only-no-tlog', tsaTimedBundle(leaf, FUZZ_ARTIFACT, tsa, SIGNED_AT + 125_000)],
    ['blob-v0.2-chain', relabel(blob.bundle, V02, '0.2')],
    ['blob-v0.1-chain', relabel(blob.bundle, V01, '0.1')],
  ];
  return bundles.map(([name, b]) => ({
    name: `in-process/${name}`,
    origin: 'in-process',
    text: text(b),
    artifact: { kind: 'bytes', data: FUZZ_ARTIFACT },
    artifactBytes: FUZZ_ARTIFACT,
    trust,
    trustedRootJson,
    policy,
    identity,
    issuer: ISSUER_URL,
    keyPem: undefined,
    reference: 'pass',
    resign,
  }));
}

interface SampleEntry {
  name: string;
  bundle: string;
  artifact: string;
  artifactDigest?: string;
  identity?: string;
  issuer?: string;
  key?: string;
}

function sampleSeeds(): BundleSeed[] {
  const dir = SAMPLES;
  const manifest = JSON.parse(readFileSync(path.join(dir, 'samples.json'), 'utf8')) as {
    trustedRoot: string;
    bundles: SampleEntry[];
  };
  const trustedRootJson = readFileSync(path.join(dir, manifest.trustedRoot), 'utf8');
  const trust = parseTrustedRoot(trustedRootJson);
  return manifest.bundles.map((s) => {
    const bytes = new Uint8Array(readFileSync(path.join(dir, s.artifact)));
    const keyPem = s.key ? readFileSync(path.join(dir, s.key), 'utf8') : undefined;
    return {
      name: `samples/${s.name}`,
      origin: 'samples',
      text: readFileSync(path.join(dir, s.bundle), 'utf8'),
      artifact: s.artifactDigest
        ? parseDigestReference(s.artifactDigest)
        : { kind: 'bytes', data: bytes },
      artifactBytes: bytes,
      trust,
      trustedRootJson,
      policy: policyFor({ identity: s.identity, issuer: s.issuer, keyPem }),
      identity: s.identity,
      issuer: s.issuer,
      keyPem,
      reference: 'pass',
      resign: undefined,
    };
  });
}

const CONFORMANCE_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const CONFORMANCE_ISSUER = 'https://token.actions.githubusercontent.com';

/** The conformance cases (see ../shared/conformance/README.md for the layout). Empty when ../shared is absent. */
function conformanceSeeds(): BundleSeed[] {
  if (sharedMissingReason()) return [];
  const casesDir = path.join(CONFORMANCE_DIR, 'cases');
  const out: BundleSeed[] = [];
  for (const name of readdirSync(casesDir).sort()) {
    const dir = path.join(casesDir, name);
    const file = (f: string): string | undefined =>
      existsSync(path.join(dir, f)) ? path.join(dir, f) : undefined;
    const bundleFile = file('bundle.sigstore.json');
    if (!bundleFile) continue;
    const trustedRootJson = readFileSync(
      file('trusted_root.json') ?? path.join(CONFORMANCE_DIR, 'public-good-trusted-root.json'),
      'utf8',
    );
    let trust: TrustMaterial;
    try {
      trust = parseTrustedRoot(trustedRootJson);
    } catch {
      // A case whose trust root is the thing refused (trust-root-tlog-missing-validity-start_fail):
      // every mutation of its bundle would stop at the trust root, so it seeds nothing.
      continue;
    }
    const bytes = new Uint8Array(
      readFileSync(file('artifact') ?? path.join(CONFORMANCE_DIR, 'a.txt')),
    );
    const keyPem = file('key.pub') ? readFileSync(file('key.pub')!, 'utf8') : undefined;
    const identity = file('identity')
      ? readFileSync(file('identity')!, 'utf8').trim()
      : CONFORMANCE_IDENTITY;
    const issuer = file('issuer')
      ? readFileSync(file('issuer')!, 'utf8').trim()
      : CONFORMANCE_ISSUER;
    out.push({
      name: `conformance/${name}`,
      origin: 'conformance',
      text: readFileSync(bundleFile, 'utf8'),
      artifact: { kind: 'bytes', data: bytes },
      artifactBytes: bytes,
      trust,
      trustedRootJson,
      policy: policyFor(keyPem ? { keyPem } : { identity, issuer }),
      identity: keyPem ? undefined : identity,
      issuer: keyPem ? undefined : issuer,
      keyPem,
      reference: name.endsWith('_fail') ? 'fail' : 'pass',
      resign: undefined,
    });
  }
  return out;
}

let cached:
  { inProcess: BundleSeed[]; samples: BundleSeed[]; conformance: BundleSeed[] } | undefined;

export function bundleSeeds(): {
  inProcess: BundleSeed[];
  samples: BundleSeed[];
  conformance: BundleSeed[];
} {
  cached ??= {
    inProcess: inProcessSeeds(),
    samples: sampleSeeds(),
    conformance: conformanceSeeds(),
  };
  return cached;
}

/** Parse a seed's bundle, or undefined for the seeds that are refused as they stand (malformed JSON, unknown version). */
export function parsedSeed(seed: BundleSeed): Bundle | undefined {
  try {
    return parseBundle(seed.text);
  } catch {
    return undefined;
  }
}

/** Certificates in a bundle: leaf first. */
export function bundleCertificates(b: Bundle): Uint8Array[] {
  const m = b.verificationMaterial.content;
  return m.kind === 'certificate'
    ? [m.certificate]
    : m.kind === 'x509CertificateChain'
      ? [...m.certificates]
      : [];
}

/** The trusted log an entry names, if any. */
export function logFor(
  trust: TrustMaterial,
  logId: Uint8Array,
): TransparencyLogInstance | undefined {
  return trust.tlogs.find(
    (l) => l.logId.length === logId.length && l.logId.every((x, i) => x === logId[i]),
  );
}

/** Export archives of the in-process and sample bundles (with and without a carried trusted root). */
export async function archiveSeeds(): Promise<{ name: string; bytes: Uint8Array }[]> {
  const { inProcess, samples } = bundleSeeds();
  const withProof = [...inProcess, ...samples].filter((s) => {
    const b = parsedSeed(s);
    return b?.verificationMaterial.tlogEntries.some((e) => e.inclusionProof) ?? false;
  });
  const inputs = withProof.flatMap((s) => {
    const b = parseBundle(s.text);
    const digests =
      s.artifact.kind === 'digest'
        ? [`sha256:${toHex(s.artifact.digest)}`]
        : [`sha256:${toHex(sha256(s.artifactBytes!))}`];
    return b.content.kind === 'messageSignature' || b.content.kind === 'dsseEnvelope'
      ? digests.map((artifactDigest) => ({
          artifactDigest,
          bytes: utf8.encode(s.text),
          source: s.name,
        }))
      : [];
  });
  const small = await buildExportArchive({ bundles: inputs.slice(0, 2) });
  const all = await buildExportArchive({
    bundles: inputs,
    trustedRoot: utf8.encode(inProcess[0]!.trustedRootJson),
  });
  // Sealed, and carrying consistency.json: the readers place and check both, not judge them
  // (the seal's signature and the proofs are the trust store's business), so any bytes serve.
  const sealedWithConsistency = await buildExportArchive({
    bundles: inputs.slice(0, 3),
    consistency: utf8.encode('{"logs":[]}'),
    seal: (manifest) => Promise.resolve(utf8.encode(`{"sealOf":${manifest.byteLength}}`)),
  });
  return [
    { name: 'archive/two-bundles', bytes: small.archive },
    { name: 'archive/all-with-trusted-root', bytes: all.archive },
    { name: 'archive/sealed-with-consistency', bytes: sealedWithConsistency.archive },
  ];
}
