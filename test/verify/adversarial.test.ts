/**
 * The adversarial checklist (../shared/security/adversarial-checklist.md, sections B-F,
 * lines 15-42) end to end: one test per line. Each mutates a valid bundle (the committed
 * samples/) or builds one with an in-process sandbox authority, runs it through parseBundle +
 * verifyBundleReport, and asserts the specific StellaError code and message. Lines about a
 * primitive that cannot be reached without re-signing everything (C21, C25) call the function
 * the pipeline uses. Self-contained: reads samples/ only.
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sha256, digest as hash } from '../../src/crypto.js';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import { concatBytes, fromHex, toBase64, utf8 } from '../../src/util/encoding.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { bundleToJson } from '../../src/bundle/serialize.js';
import type { Bundle } from '../../src/bundle/model.js';
import { preAuthEncoding } from '../../src/bundle/dsse.js';
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1 } from '../../src/bundle/intoto.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import type { CertificateAuthority, TrustMaterial } from '../../src/model/trust-material.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import {
  buildPolicy,
  type PolicyOptions,
  type VerificationPolicy,
} from '../../src/verify/policy.js';
import type { Artifact } from '../../src/verify/artifact.js';
import { oidcIssuer, parseCertificate, type Extension } from '../../src/x509/certificate.js';
import { verifyCertificateChain } from '../../src/x509/chain.js';
import {
  basicConstraintsExtension,
  buildTbsCertificate,
  deterministicP256Signer,
  extKeyUsageExtension,
  fulcioIssuerV1Extension,
  fulcioIssuerV2Extension,
  issueCertificate,
  keyUsageExtension,
  signTbsCertificate,
  subjectAltNameExtension,
  subjectKeyIdExtension,
  authorityKeyIdExtension,
  keyIdentifierFromSpki,
  type KeyedSigner,
} from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';
import { seq } from '../../src/der/writer.js';
import { noteKeyHint } from '../../src/tlog/note.js';
import {
  INTERMEDIATE_NAME,
  LocalRekorLog,
  MemoryLogStorage,
  bundleFromRekorResponse,
  seedFromString,
  type SandboxAuthority,
} from '../../src/sandbox/authority/index.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import {
  githubIdentity,
  ISSUER_URL,
  signBlob,
  signDsse,
  testAuthority,
  testTsa,
} from '../helpers/authority-bundles.js';
import { derToPem } from '../../src/util/pem.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

// ---------------------------------------------------------------------------------------
// Samples and plumbing

const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const readSample = (f: string): Buffer => readFileSync(path.join(SAMPLES, f));
interface SampleEntry {
  name: string;
  bundle: string;
  artifact: string;
  artifactDigest?: string;
  identity?: string;
  issuer?: string;
  key?: string;
}
const MANIFEST = JSON.parse(readSample('samples.json').toString('utf8')) as {
  trustedRoot: string;
  bundles: SampleEntry[];
};
const sample = (name: string): SampleEntry => MANIFEST.bundles.find((b) => b.name === name)!;

const TRUST_TEXT = readSample(MANIFEST.trustedRoot).toString('utf8');
const TRUST = parseTrustedRoot(TRUST_TEXT);
const ARTIFACT = new Uint8Array(readSample('artifact.txt'));
const OTHER = utf8.encode('not the signed artifact\n');
const KEY_PEM = readSample(sample('managed-key').key!).toString('utf8');
const GH = sample('blob').identity!;
const GL = sample('attestation').identity!;
const ISS = sample('blob').issuer!;
/** After every sample and every authority signing time below. */
const NOW = Date.UTC(2025, 6, 1);
/** When the authority-signed bundles are signed. */
const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const MIN = 60_000;

type Json = any;

const policy = (identity: string, extra: PolicyOptions = {}, issuer = ISS): VerificationPolicy =>
  buildPolicy({
    certificateIdentity: literalPattern(identity),
    certificateOidcIssuer: issuer,
    now: NOW,
    ...extra,
  });
const keyPolicy = (extra: PolicyOptions = {}): VerificationPolicy =>
  buildPolicy({ publicKeyPem: KEY_PEM, now: NOW, ...extra });

/** A fresh, mutable copy of a sample bundle's JSON. */
const sampleJson = (name: string): Json =>
  JSON.parse(readSample(sample(name).bundle).toString('utf8'));
const bytes = (data: Uint8Array): Artifact => ({ kind: 'bytes', data });
const imageDigest = (): Artifact => ({
  kind: 'digest',
  algorithm: 'SHA2_256',
  digest: fromHex(sample('digest-only').artifactDigest!.slice('sha256:'.length)),
});
const b64 = (b: Uint8Array): string => toBase64(b);
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const asJson = (b: Bundle): Json => bundleToJson(b);

type Verdict = { ok: true } | { ok: false; code: ErrorCode; check: string; message: string };

/** Parse (untrusted JSON text) and verify; a StellaError anywhere is the verdict. Anything else is a crash and propagates. */
async function verdict(o: {
  bundle: Json;
  policy: VerificationPolicy;
  artifact?: Artifact;
  trust?: TrustMaterial;
}): Promise<Verdict> {
  let bundle: Bundle;
  try {
    bundle = parseBundle(typeof o.bundle === 'string' ? o.bundle : JSON.stringify(o.bundle));
  } catch (e) {
    if (e instanceof StellaError)
      return { ok: false, code: e.code, check: e.check, message: e.message };
    throw e;
  }
  const r = await verifyBundleReport({
    bundle,
    artifact: o.artifact ?? bytes(ARTIFACT),
    trust: o.trust ?? TRUST,
    policy: o.policy,
  });
  if (r.ok) return { ok: true };
  if (!r.error) throw new Error('report is not ok but carries no error');
  return { ok: false, code: r.error.code, check: r.error.check, message: r.error.message };
}

function refused(
  t: ExecutionContext,
  v: Verdict,
  code: ErrorCode,
  message: RegExp,
  what: string,
): void {
  if (v.ok) {
    t.fail(`${what}: ACCEPTED, expected ${code}`);
    return;
  }
  t.is(v.code, code, `${what}: ${v.message}`);
  t.regex(v.message, message, what);
}

function accepted(t: ExecutionContext, v: Verdict, what: string): void {
  t.true(v.ok, `${what}: ${v.ok ? '' : `${v.code}: ${v.message}`}`);
}

/** A synchronous library call that must throw a StellaError with this code. */
function throwsCode(
  t: ExecutionContext,
  fn: () => unknown,
  code: ErrorCode,
  message: RegExp,
  what: string,
): void {
  try {
    fn();
    t.fail(`${what}: ACCEPTED, expected ${code}`);
  } catch (e) {
    if (!(e instanceof StellaError)) {
      t.fail(`${what}: crashed with a non-StellaError: ${String(e)}`);
      return;
    }
    t.is(e.code, code, `${what}: ${e.message}`);
    t.regex(e.message, message, what);
  }
}

/** v0.3 sample -> the same bundle as v0.2 (x509CertificateChain with the leaf, then `extra`). */
function toV02(
  j: Json,
  extra: string[] = [],
  mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2',
): Json {
  j.mediaType = mediaType;
  j.verificationMaterial.x509CertificateChain = {
    certificates: [j.verificationMaterial.certificate.rawBytes, ...extra].map(
      (rawBytes: string) => ({ rawBytes }),
    ),
  };
  delete j.verificationMaterial.certificate;
  return j;
}

const TRUSTED_ROOT_JSON = JSON.parse(TRUST_TEXT);
const [INTERMEDIATE_B64, ROOT_B64] = (
  TRUSTED_ROOT_JSON.certificateAuthorities[0].certChain.certificates as { rawBytes: string }[]
).map((c) => c.rawBytes) as [string, string];

function withCa(trust: TrustMaterial, change: Partial<CertificateAuthority>): TrustMaterial {
  return {
    ...trust,
    certificateAuthorities: trust.certificateAuthorities.map((ca) => ({ ...ca, ...change })),
  };
}

function withTlogWindow(
  trust: TrustMaterial,
  validFor: { start: number; end: number | undefined },
): TrustMaterial {
  return {
    ...trust,
    tlogs: trust.tlogs.map((l) => ({ ...l, publicKey: { ...l.publicKey, validFor } })),
  };
}

const setTimeMs = (j: Json): number =>
  Number(j.verificationMaterial.tlogEntries[0].integratedTime) * 1000;
const messageSignatureBytes = (j: Json): Uint8Array => unb64(j.messageSignature.signature);
function addTimestamps(j: Json, tokens: Uint8Array[]): Json {
  j.verificationMaterial.timestampVerificationData = {
    rfc3161Timestamps: tokens.map((tk) => ({ signedTimestamp: b64(tk) })),
  };
  return j;
}

/** The checkpoint note text (signed part) and its signature lines. */
function splitNote(envelope: string): { text: string; lines: string[] } {
  const split = envelope.lastIndexOf('\n\n');
  return { text: envelope.slice(0, split + 1), lines: envelope.slice(split + 2, -1).split('\n') };
}

function noteWith(text: string, lines: string[]): string {
  return `${text}\n${lines.map((l) => `${l}\n`).join('')}`;
}

function noteLine(name: string, hint: Uint8Array, sig: Uint8Array): string {
  return `\u2014 ${name} ${b64(concatBytes(hint, sig))}`;
}

test.before('the unmodified samples verify (the baseline every mutation starts from)', async () => {
  const cases: [string, VerificationPolicy, Artifact][] = [
    ['blob', policy(GH), bytes(ARTIFACT)],
    ['digest-only', policy(GH), imageDigest()],
    ['attestation', policy(GL), bytes(ARTIFACT)],
    ['managed-key', keyPolicy(), bytes(ARTIFACT)],
  ];
  for (const [name, p, artifact] of cases) {
    const v = await verdict({ bundle: sampleJson(name), policy: p, artifact });
    if (!v.ok) throw new Error(`baseline: sample ${name} does not verify: ${v.code}: ${v.message}`);
  }
});

// ---------------------------------------------------------------------------------------
// B. Bundle parsing and limits

test('B15 malformed JSON, unknown media type, duplicate JSON keys', async (t) => {
  const p = policy(GH);
  const text = readSample('blob.sigstore.json').toString('utf8');
  refused(
    t,
    await verdict({ bundle: text.slice(0, text.length / 2), policy: p }),
    'BUNDLE_MALFORMED',
    /^malformed JSON in bundle/,
    'truncated JSON',
  );
  refused(
    t,
    await verdict({ bundle: `${text}x`, policy: p }),
    'BUNDLE_MALFORMED',
    /^malformed JSON in bundle/,
    'trailing garbage',
  );

  const unknown = sampleJson('blob');
  unknown.mediaType = 'application/vnd.dev.sigstore.bundle.v0.9+json';
  refused(
    t,
    await verdict({ bundle: unknown, policy: p }),
    'BUNDLE_UNSUPPORTED',
    /unsupported bundle media type "application\/vnd\.dev\.sigstore\.bundle\.v0\.9\+json"/,
    'unknown media type',
  );

  // JSON.parse keeps the last of two keys: a smuggled first value must not be silently dropped.
  const dupTop = text.replace('"mediaType": ', '"mediaType": "application/x-evil", "mediaType": ');
  refused(
    t,
    await verdict({ bundle: dupTop, policy: p }),
    'BUNDLE_MALFORMED',
    /duplicate/i,
    'duplicate top-level key',
  );
  const sig = sampleJson('blob').messageSignature.signature as string;
  const dupNested = text.replace(
    `"signature": "${sig}"`,
    `"signature": "AAAA", "signature": "${sig}"`,
  );
  t.not(dupNested, text);
  refused(
    t,
    await verdict({ bundle: dupNested, policy: p }),
    'BUNDLE_MALFORMED',
    /duplicate/i,
    'duplicate nested key',
  );
  const dupEscaped = text.replace('"mediaType": ', '"media\\u0054ype": "x", "mediaType": ');
  refused(
    t,
    await verdict({ bundle: dupEscaped, policy: p }),
    'BUNDLE_MALFORMED',
    /duplicate/i,
    'duplicate key spelled with an escape',
  );
});

test('B16 negative or non-numeric log index, tree size, integrated time', async (t) => {
  const p = policy(GH);
  const cases: [string, (e: Json) => void][] = [
    ['logIndex "-1"', (e) => (e.logIndex = '-1')],
    ['logIndex -1', (e) => (e.logIndex = -1)],
    ['logIndex 1.5', (e) => (e.logIndex = 1.5)],
    ['inclusionProof.logIndex "0x0"', (e) => (e.inclusionProof.logIndex = '0x0')],
    ['treeSize "four"', (e) => (e.inclusionProof.treeSize = 'four')],
    ['treeSize "-4"', (e) => (e.inclusionProof.treeSize = '-4')],
    ['integratedTime -1748779205', (e) => (e.integratedTime = -1748779205)],
    ['integratedTime "1e9"', (e) => (e.integratedTime = '1e9')],
    ['integratedTime NaN-like', (e) => (e.integratedTime = 'NaN')],
    ['integratedTime beyond 2^53', (e) => (e.integratedTime = '9007199254740993')],
  ];
  for (const [what, mutate] of cases) {
    const j = sampleJson('blob');
    mutate(j.verificationMaterial.tlogEntries[0]);
    refused(
      t,
      await verdict({ bundle: j, policy: p }),
      'BUNDLE_MALFORMED',
      /(not a non-negative integer|expected an integer|out of range)/,
      what,
    );
  }
});

test('B17 more than 32 tlog entries or timestamps, 1024 subjects, 32 digests a subject', async (t) => {
  const p = policy(GH);
  const tooManyEntries = sampleJson('blob');
  const entry = tooManyEntries.verificationMaterial.tlogEntries[0];
  tooManyEntries.verificationMaterial.tlogEntries = Array.from({ length: 33 }, () => entry);
  refused(
    t,
    await verdict({ bundle: tooManyEntries, policy: p }),
    'BUNDLE_LIMIT_EXCEEDED',
    /tlogEntries: 33 items exceeds the limit of 32/,
    '33 tlog entries',
  );
  const tooManyTimestamps = addTimestamps(
    sampleJson('blob'),
    Array.from({ length: 33 }, () => Uint8Array.of(0x30, 0x00)),
  );
  refused(
    t,
    await verdict({ bundle: tooManyTimestamps, policy: p }),
    'BUNDLE_LIMIT_EXCEEDED',
    /rfc3161Timestamps: 33 items exceeds the limit of 32/,
    '33 timestamps',
  );

  // Statements signed for real, so only the subject limits can refuse them.
  const a = testAuthority('b17');
  const artifactHex = Buffer.from(sha256(ARTIFACT)).toString('hex');
  const statement = (subject: unknown[]): Uint8Array =>
    utf8.encode(
      JSON.stringify({
        _type: IN_TOTO_STATEMENT_V1,
        subject,
        predicateType: 'https://stella.invalid/test/v1',
        predicate: {},
      }),
    );
  const filler = (i: number): Json => ({
    name: `f${i}`,
    digest: { sha256: Buffer.from(sha256(utf8.encode(String(i)))).toString('hex') },
  });
  const run = async (payload: Uint8Array, repo: string, now: number): Promise<Verdict> => {
    const s = signDsse(a, payload, IN_TOTO_PAYLOAD_TYPE, { repo, now });
    return verdict({
      bundle: asJson(s.bundle),
      policy: policy(s.identity, {}, ISSUER_URL),
      trust: a.trustMaterial(),
    });
  };
  const atLimit = [
    ...Array.from({ length: 1023 }, (_, i) => filler(i)),
    { name: 'artifact.txt', digest: { sha256: artifactHex } },
  ];
  accepted(
    t,
    await run(statement(atLimit), 'org/subjects-1024', T),
    '1024 subjects (at the limit)',
  );
  const overLimit = [...atLimit, filler(5000)];
  refused(
    t,
    await run(statement(overLimit), 'org/subjects-1025', T + MIN),
    'BUNDLE_LIMIT_EXCEEDED',
    /1025 subjects exceeds the limit of 1024/,
    '1025 subjects',
  );
  const manyDigests: Record<string, string> = { sha256: artifactHex };
  for (let i = 0; i < 32; i++) manyDigests[`alg${i}`] = 'ab';
  refused(
    t,
    await run(
      statement([{ name: 'artifact.txt', digest: manyDigests }]),
      'org/digests-33',
      T + 2 * MIN,
    ),
    'BUNDLE_LIMIT_EXCEEDED',
    /digest: 33 digests exceeds the limit of 32/,
    '33 digests in a subject',
  );
});

test('B18 invalid base64, empty signature, empty chain; v0.2+ without inclusion proof; v0.3 with a chain', async (t) => {
  const p = policy(GH);
  accepted(
    t,
    await verdict({ bundle: toV02(sampleJson('blob')), policy: p }),
    'the same bundle as v0.2 (control)',
  );

  const badB64 = sampleJson('blob');
  badB64.messageSignature.signature = 'MEUCIQ!!bad';
  refused(
    t,
    await verdict({ bundle: badB64, policy: p }),
    'BUNDLE_MALFORMED',
    /messageSignature\.signature: invalid base64/,
    'invalid base64 signature',
  );
  const badPad = sampleJson('blob');
  badPad.verificationMaterial.certificate.rawBytes = `${badPad.verificationMaterial.certificate.rawBytes as string}=`;
  refused(
    t,
    await verdict({ bundle: badPad, policy: p }),
    'BUNDLE_MALFORMED',
    /invalid base64/,
    'over-padded base64 certificate',
  );

  const empty = sampleJson('blob');
  empty.messageSignature.signature = '';
  refused(
    t,
    await verdict({ bundle: empty, policy: p }),
    'BUNDLE_MALFORMED',
    /empty signature/,
    'empty signature',
  );
  const emptyDsse = sampleJson('attestation');
  emptyDsse.dsseEnvelope.signatures[0].sig = '';
  refused(
    t,
    await verdict({ bundle: emptyDsse, policy: policy(GL) }),
    'BUNDLE_MALFORMED',
    /empty signature/,
    'empty DSSE signature',
  );

  const emptyChain = toV02(sampleJson('blob'));
  emptyChain.verificationMaterial.x509CertificateChain.certificates = [];
  refused(
    t,
    await verdict({ bundle: emptyChain, policy: p }),
    'BUNDLE_MALFORMED',
    /empty certificate chain/,
    'empty chain',
  );

  for (const [mediaType, version] of [
    ['application/vnd.dev.sigstore.bundle+json;version=0.2', '0.2'],
    ['application/vnd.dev.sigstore.bundle.v0.3+json', '0.3'],
  ] as const) {
    const noProof =
      version === '0.2' ? toV02(sampleJson('blob'), [], mediaType) : sampleJson('blob');
    delete noProof.verificationMaterial.tlogEntries[0].inclusionProof;
    refused(
      t,
      await verdict({ bundle: noProof, policy: p }),
      'REKOR_PROOF_MISSING',
      new RegExp(
        `Rekor proof missing: .*no inclusionProof \\(required in a v${version.replace('.', '\\.')} bundle\\)`,
      ),
      `v${version} without inclusion proof`,
    );
  }

  const v03Chain = toV02(sampleJson('blob'), [], 'application/vnd.dev.sigstore.bundle.v0.3+json');
  refused(
    t,
    await verdict({ bundle: v03Chain, policy: p }),
    'BUNDLE_MALFORMED',
    /v0\.3 bundle must carry a single certificate/,
    'v0.3 with a chain',
  );
});

// ---------------------------------------------------------------------------------------
// C. Certificates and identity

test('C19 chain that ships the root; intermediate only in the bundle, not in the trust store', async (t) => {
  const p = policy(GH);
  accepted(
    t,
    await verdict({ bundle: toV02(sampleJson('blob'), [INTERMEDIATE_B64]), policy: p }),
    'bundle intermediate identical to the trusted one (control)',
  );
  refused(
    t,
    await verdict({ bundle: toV02(sampleJson('blob'), [INTERMEDIATE_B64, ROOT_B64]), policy: p }),
    'CERT_CHAIN_INVALID',
    /Certificate chain invalid: bundle includes a root certificate/,
    'bundle ships the root',
  );

  // The trust store knows only the root; the bundle brings the intermediate itself.
  const rootOnly = withCa(TRUST, { certChain: [unb64(ROOT_B64)] });
  refused(
    t,
    await verdict({
      bundle: toV02(sampleJson('blob'), [INTERMEDIATE_B64]),
      policy: p,
      trust: rootOnly,
    }),
    'CERT_CHAIN_INVALID',
    /Certificate chain invalid: leaf issuer .* is not a trusted certificate authority/,
    'intermediate only in the bundle',
  );

  // A same-named intermediate from another instance shipped in the bundle.
  const foreign = b64(testAuthority('c19-foreign').fulcio.intermediateCertificate);
  refused(
    t,
    await verdict({ bundle: toV02(sampleJson('blob'), [foreign]), policy: p }),
    'CERT_CHAIN_INVALID',
    /intermediate certificate .* in the bundle is not in the trusted root/,
    'foreign same-named intermediate in the bundle',
  );
});

test('C20 bundle from another instance (a different trusted root)', async (t) => {
  const p = policy(GH);
  const other = testAuthority('c20-other-instance').trustMaterial();
  refused(
    t,
    await verdict({ bundle: sampleJson('blob'), policy: p, trust: other }),
    'TLOG_UNTRUSTED',
    /log id [0-9a-f]{64} is not a trusted transparency log/,
    'other instance trust root',
  );
  // Same log trusted, but the other instance's CA (same names, other keys).
  const otherCa = { ...TRUST, certificateAuthorities: other.certificateAuthorities };
  refused(
    t,
    await verdict({ bundle: sampleJson('blob'), policy: p, trust: otherCa }),
    'CERT_CHAIN_INVALID',
    /leaf certificate signature does not verify under O=stella-sandbox\.dev, CN=stella-sandbox-intermediate/,
    "other instance's CA",
  );
});

/** A Fulcio-like leaf for `subjectSpki`, signed by `issuer`, with extensions changed by `edit`. */
function craftLeaf(
  issuer: KeyedSigner,
  subjectSpki: Uint8Array,
  edit: (exts: Extension[]) => Extension[] = (e) => e,
  issuerName = INTERMEDIATE_NAME,
): Uint8Array {
  const exts: Extension[] = [
    keyUsageExtension(['digitalSignature']),
    extKeyUsageExtension([OID.ekuCodeSigning]),
    subjectKeyIdExtension(keyIdentifierFromSpki(subjectSpki)),
    authorityKeyIdExtension(keyIdentifierFromSpki(issuer.spki)),
    subjectAltNameExtension({ uris: [githubIdentity('org/repo')] }, true),
    fulcioIssuerV2Extension(ISSUER_URL),
  ];
  return issueCertificate({
    serial: 0x0abcdefn,
    issuerName,
    subjectName: new Uint8Array([0x30, 0x00]),
    notBefore: T,
    notAfter: T + 10 * MIN,
    subjectPublicKeySpki: subjectSpki,
    extensions: edit(exts),
    signer: issuer,
  });
}

test('C21 leaf that is a CA, lacks the code-signing EKU, bad key usage, path length violated', (t) => {
  const a = testAuthority('c21');
  const cas = a.trustMaterial().certificateAuthorities;
  const intermediate = a.keys.intermediateCa.certSigner;
  const leafKey = deterministicP256Signer(seedFromString('c21-leaf'));
  const chain =
    (der: Uint8Array, bundleCerts: Uint8Array[] = [], trusted = cas) =>
    () =>
      verifyCertificateChain(
        parseCertificate(der),
        bundleCerts.map((c) => parseCertificate(c)),
        trusted,
        [T + 1000],
      );
  const replace = (o: string, e: Extension) => (exts: Extension[]) =>
    exts.map((x) => (x.oid === o ? e : x));

  t.notThrows(chain(craftLeaf(intermediate, leafKey.spki)), 'a well-formed leaf (control)');
  throwsCode(
    t,
    chain(craftLeaf(intermediate, leafKey.spki, (e) => [...e, basicConstraintsExtension(true)])),
    'CERT_USAGE_INVALID',
    /leaf certificate is a CA certificate/,
    'leaf is a CA',
  );
  throwsCode(
    t,
    chain(
      craftLeaf(
        intermediate,
        leafKey.spki,
        replace(OID.extKeyUsage, extKeyUsageExtension(['1.3.6.1.5.5.7.3.1'])),
      ),
    ),
    'CERT_USAGE_INVALID',
    /lacks the codeSigning extended key usage/,
    'serverAuth EKU only',
  );
  throwsCode(
    t,
    chain(craftLeaf(intermediate, leafKey.spki, (e) => e.filter((x) => x.oid !== OID.extKeyUsage))),
    'CERT_USAGE_INVALID',
    /lacks the codeSigning extended key usage/,
    'no EKU',
  );
  throwsCode(
    t,
    chain(
      craftLeaf(
        intermediate,
        leafKey.spki,
        replace(OID.keyUsage, keyUsageExtension(['keyCertSign'])),
      ),
    ),
    'CERT_USAGE_INVALID',
    /lacks the digitalSignature key usage/,
    'keyCertSign key usage only',
  );

  // A sub-CA under the pathLen-0 intermediate.
  const subKey = deterministicP256Signer(seedFromString('c21-sub-ca'));
  const subName = { organization: 'evil.invalid', commonName: 'evil-sub-ca' };
  const subCa = issueCertificate({
    serial: 99n,
    issuerName: INTERMEDIATE_NAME,
    subjectName: subName,
    notBefore: T - MIN,
    notAfter: T + 60 * MIN,
    subjectPublicKeySpki: subKey.spki,
    extensions: [
      keyUsageExtension(['keyCertSign', 'cRLSign']),
      basicConstraintsExtension(true),
      subjectKeyIdExtension(keyIdentifierFromSpki(subKey.spki)),
    ],
    signer: intermediate,
  });
  const underSub = craftLeaf(subKey, leafKey.spki, (e) => e, subName);
  throwsCode(
    t,
    chain(underSub, [subCa]),
    'CERT_CHAIN_INVALID',
    /leaf issuer O=evil\.invalid, CN=evil-sub-ca is not a trusted certificate authority/,
    'sub-CA shipped in the bundle',
  );
  const subTrusted: CertificateAuthority[] = cas.map((ca) => ({
    ...ca,
    certChain: [subCa, ...ca.certChain],
  }));
  throwsCode(
    t,
    chain(underSub, [], subTrusted),
    'CERT_CHAIN_INVALID',
    /path length constraint of CA certificate O=stella-sandbox\.dev, CN=stella-sandbox-intermediate \(0\) exceeded/,
    'path length violated',
  );
});

test('C22 a cert field that fails X.509 parsing never falls back to raw-key mode', async (t) => {
  const p = policy(GH);
  const leaf = parseCertificate(
    unb64(sampleJson('blob').verificationMaterial.certificate.rawBytes),
  );
  // The signing key itself as the "certificate": a raw-key fallback would verify the signature.
  const spkiAsCert = sampleJson('blob');
  spkiAsCert.verificationMaterial.certificate.rawBytes = b64(leaf.spkiDer);
  refused(
    t,
    await verdict({ bundle: spkiAsCert, policy: p }),
    'CERTIFICATE_MALFORMED',
    /^certificate: Certificate: unexpected number of elements \(2\)/,
    'SPKI in the certificate field',
  );
  const pem = sampleJson('blob');
  pem.verificationMaterial.certificate.rawBytes = b64(utf8.encode(derToPem(leaf.der)));
  refused(
    t,
    await verdict({ bundle: pem, policy: p }),
    'CERTIFICATE_MALFORMED',
    /^certificate: .*\(at offset 0\)/,
    'PEM text in the certificate field',
  );
  const v02 = toV02(sampleJson('blob'));
  v02.verificationMaterial.x509CertificateChain.certificates[0].rawBytes = b64(leaf.spkiDer);
  refused(
    t,
    await verdict({ bundle: v02, policy: p }),
    'CERTIFICATE_MALFORMED',
    /^certificate: Certificate: unexpected number of elements \(2\)/,
    'SPKI as the v0.2 chain leaf',
  );
  const keyPolicyOnCert = sampleJson('blob');
  keyPolicyOnCert.verificationMaterial.certificate.rawBytes = b64(leaf.spkiDer);
  refused(
    t,
    await verdict({
      bundle: keyPolicyOnCert,
      policy: buildPolicy({ publicKeyPem: derToPem(leaf.spkiDer, 'PUBLIC KEY'), now: NOW }),
    }),
    'KEY_MISMATCH',
    /signed with a certificate but --key was given/,
    'unparsable cert verified with --key',
  );
});

test('C23 unanchored identity: .../org/repo-evil/... must not match .../org/repo', async (t) => {
  const a = testAuthority('c23');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo-evil', now: T });
  const run = async (p: VerificationPolicy): Promise<Verdict> =>
    verdict({ bundle: asJson(s.bundle), policy: p, trust: a.trustMaterial() });
  accepted(
    t,
    await run(policy(githubIdentity('org/repo-evil'), {}, ISSUER_URL)),
    'its own identity (control)',
  );
  refused(
    t,
    await run(policy(githubIdentity('org/repo'), {}, ISSUER_URL)),
    'IDENTITY_MISMATCH',
    /^identity mismatch: .*org\/repo-evil/,
    'exact identity of org/repo',
  );
  for (const pattern of [
    'https://github.com/org/repo',
    'https://github.com/org/repo/.*',
    literalPattern(githubIdentity('org/repo')),
    'repo:org/repo:.*',
    'https://github.com/org/repo|https://evil',
  ]) {
    const p = buildPolicy({
      certificateIdentity: pattern,
      certificateOidcIssuer: ISSUER_URL,
      now: NOW,
    });
    refused(t, await run(p), 'IDENTITY_MISMATCH', /^identity mismatch/, `regex ${pattern}`);
  }
});

test('C24 issuer: .1.8 and .1.1 present with different values -> refuse', async (t) => {
  const a = testAuthority('c24');
  const leafKey = deterministicP256Signer(seedFromString('c24-leaf'));
  const intermediate = a.keys.intermediateCa.certSigner;
  const withV1 = (v1: string) =>
    craftLeaf(intermediate, leafKey.spki, (e) => [...e, fulcioIssuerV1Extension(v1)]);
  t.is(
    oidcIssuer(parseCertificate(withV1(ISSUER_URL))),
    ISSUER_URL,
    'agreeing .1.1 and .1.8 (control)',
  );
  throwsCode(
    t,
    () => oidcIssuer(parseCertificate(withV1('https://evil.invalid'))),
    'ISSUER_MISMATCH',
    /issuer mismatch: certificate OIDC issuer extensions disagree/,
    'disagreeing .1.1 and .1.8',
  );

  // End to end: a bundle signed with that certificate (no SCT: the crafted leaf was not CT-logged).
  const bundleFor = (leaf: Uint8Array): Json => {
    const signature = leafKey.sign(ARTIFACT);
    const proposal = {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: {
          hash: { algorithm: 'sha256', value: Buffer.from(sha256(ARTIFACT)).toString('hex') },
        },
        signature: {
          content: b64(signature),
          publicKey: { content: b64(utf8.encode(derToPem(leaf))) },
        },
      },
    };
    const r = a.rekor.createEntry(proposal, { now: T + 5000 });
    return asJson(
      bundleFromRekorResponse({
        content: {
          kind: 'messageSignature',
          messageDigest: { algorithm: 'SHA2_256', digest: sha256(ARTIFACT) },
          signature,
        },
        signer: { certificate: leaf },
        rekorEntry: r.response,
      }),
    );
  };
  const p = policy(githubIdentity('org/repo'), { requireSct: false }, ISSUER_URL);
  accepted(
    t,
    await verdict({ bundle: bundleFor(withV1(ISSUER_URL)), policy: p, trust: a.trustMaterial() }),
    'agreeing extensions end to end (control)',
  );
  refused(
    t,
    await verdict({
      bundle: bundleFor(withV1('https://evil.invalid')),
      policy: p,
      trust: a.trustMaterial(),
    }),
    'ISSUER_MISMATCH',
    /certificate OIDC issuer extensions disagree/,
    'disagreeing extensions end to end',
  );
  // The policy issuer is compared exactly.
  refused(
    t,
    await verdict({ bundle: sampleJson('blob'), policy: policy(GH, {}, `${ISS}/`) }),
    'ISSUER_MISMATCH',
    /^issuer mismatch: certificate issuer/,
    'issuer with a trailing slash',
  );
});

test('C25 malformed DER: duplicate extensions, non-minimal lengths, trailing bytes, excessive depth', async (t) => {
  const leafDer = unb64(sampleJson('blob').verificationMaterial.certificate.rawBytes);
  const parse = (der: Uint8Array) => () => parseCertificate(der);
  t.notThrows(parse(leafDer), 'the sample leaf (control)');

  const trailing = concatBytes(leafDer, Uint8Array.of(0x00));
  throwsCode(
    t,
    parse(trailing),
    'CERTIFICATE_MALFORMED',
    /1 trailing byte\(s\) after the top-level element/,
    'trailing byte',
  );
  const e2e = sampleJson('blob');
  e2e.verificationMaterial.certificate.rawBytes = b64(trailing);
  refused(
    t,
    await verdict({ bundle: e2e, policy: policy(GH) }),
    'CERTIFICATE_MALFORMED',
    /trailing byte/,
    'trailing byte, end to end',
  );

  t.is(leafDer[1], 0x82, 'the sample leaf has a two-byte long-form length');
  const nonMinimal = concatBytes(
    Uint8Array.of(0x30, 0x83, 0x00, leafDer[2]!, leafDer[3]!),
    leafDer.subarray(4),
  );
  throwsCode(
    t,
    parse(nonMinimal),
    'CERTIFICATE_MALFORMED',
    /non-minimal length encoding/,
    'non-minimal outer length',
  );

  // Two SubjectKeyIdentifier extensions: build with SKI + AKI, then turn AKI's OID (2.5.29.35) into SKI's (2.5.29.14).
  const a = testAuthority('c25');
  const signer = a.keys.intermediateCa.certSigner;
  const subject = deterministicP256Signer(seedFromString('c25-leaf'));
  const tbs = buildTbsCertificate({
    serial: 5n,
    issuerName: INTERMEDIATE_NAME,
    subjectName: new Uint8Array([0x30, 0x00]),
    notBefore: T,
    notAfter: T + 10 * MIN,
    subjectPublicKeySpki: subject.spki,
    extensions: [
      subjectKeyIdExtension(new Uint8Array(20).fill(1)),
      {
        oid: OID.authorityKeyIdentifier,
        critical: false,
        value: new Uint8Array(Buffer.from('0416' + '02'.repeat(20), 'hex')),
      },
    ],
    signatureAlgorithmOid: signer.algorithmOid,
  });
  const akiOid = Buffer.from('0603551d23', 'hex');
  const at = Buffer.from(tbs).indexOf(akiOid);
  t.true(at > 0);
  const dupTbs = Uint8Array.from(tbs);
  dupTbs[at + 4] = 0x0e;
  throwsCode(
    t,
    parse(signTbsCertificate(dupTbs, signer)),
    'CERTIFICATE_MALFORMED',
    /duplicate extension 2\.5\.29\.14/,
    'duplicate extensions',
  );

  let deep = seq();
  for (let i = 0; i < 40; i++) deep = seq(deep);
  throwsCode(t, parse(deep), 'DER_LIMIT_EXCEEDED', /nesting deeper than 32/, 'excessive depth');
  const deepBundle = sampleJson('blob');
  deepBundle.verificationMaterial.certificate.rawBytes = b64(deep);
  refused(
    t,
    await verdict({ bundle: deepBundle, policy: policy(GH) }),
    'DER_LIMIT_EXCEEDED',
    /nesting deeper than 32/,
    'excessive depth, end to end',
  );
});

// ---------------------------------------------------------------------------------------
// D. Time

test('D26 integrated time without a verified SET is not a trusted time', async (t) => {
  const p = policy(GH);
  const noSet = sampleJson('blob');
  delete noSet.verificationMaterial.tlogEntries[0].inclusionPromise;
  refused(
    t,
    await verdict({ bundle: noSet, policy: p }),
    'NO_VERIFIED_TIME',
    /no verified signing time/,
    'v0.3 entry with integratedTime but no SET',
  );
  const moved = sampleJson('blob');
  moved.verificationMaterial.tlogEntries[0].integratedTime = String(
    Number(moved.verificationMaterial.tlogEntries[0].integratedTime) + 3600,
  );
  refused(
    t,
    await verdict({ bundle: moved, policy: p }),
    'SET_INVALID',
    /signed entry timestamp does not verify/,
    'integratedTime changed under a valid SET',
  );
  const v01 = toV02(sampleJson('blob'), [], 'application/vnd.dev.sigstore.bundle+json;version=0.1');
  delete v01.verificationMaterial.tlogEntries[0].inclusionPromise;
  refused(
    t,
    await verdict({ bundle: v01, policy: p }),
    'REKOR_PROOF_MISSING',
    /no inclusionPromise \(required in a v0\.1 bundle\)/,
    'v0.1 without SET',
  );
});

test("D27 SET or TSA time outside the leaf's validity; outside the CA's or TSA's validFor", async (t) => {
  const a = testAuthority('d27');
  const p = policy(githubIdentity('org/repo'), {}, ISSUER_URL);
  const late = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T, rekorNow: T + 11 * MIN });
  refused(
    t,
    await verdict({ bundle: asJson(late.bundle), policy: p, trust: a.trustMaterial() }),
    'CERT_EXPIRED',
    /^certificate expired: leaf valid .* verified time 2025-06-01T12:11:00\.000Z/,
    'SET time after the leaf expired',
  );

  const onTime = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T + MIN });
  accepted(
    t,
    await verdict({ bundle: asJson(onTime.bundle), policy: p, trust: a.trustMaterial() }),
    'SET time inside the leaf validity (control)',
  );
  const caEnded = withCa(a.trustMaterial(), { validFor: { start: Date.UTC(2025, 0, 1), end: T } });
  refused(
    t,
    await verdict({ bundle: asJson(onTime.bundle), policy: p, trust: caEnded }),
    'CERT_CHAIN_INVALID',
    /outside the validity window of certificate authority/,
    "SET time after the CA's validFor.end",
  );
  const logNotYet = withTlogWindow(a.trustMaterial(), { start: T + 30 * MIN, end: undefined });
  refused(
    t,
    await verdict({ bundle: asJson(onTime.bundle), policy: p, trust: logNotYet }),
    'SET_INVALID',
    /key of log .* is not valid at integrated time/,
    "SET time before the log key's validFor.start",
  );

  // A TSA whose certificates are valid but whose validFor ended before the token's genTime.
  const j = sampleJson('blob');
  const signedAt = setTimeMs(j);
  const tsa = testTsa('d27', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1), {
    start: Date.UTC(2025, 0, 1),
    end: signedAt - 1000,
  });
  addTimestamps(j, [tsa.stamp(messageSignatureBytes(j), signedAt)]);
  refused(
    t,
    await verdict({
      bundle: j,
      policy: policy(GH),
      trust: { ...TRUST, timestampAuthorities: [tsa.authority] },
    }),
    'TIMESTAMP_INVALID',
    /timestamp outside TSA validity/,
    "TSA time outside the TSA's validFor",
  );
  // A TSA whose signing certificate expired before genTime.
  const j2 = sampleJson('blob');
  const shortTsa = testTsa('d27-short', Date.UTC(2025, 0, 1), signedAt - 1000, {
    start: Date.UTC(2025, 0, 1),
    end: undefined,
  });
  addTimestamps(j2, [shortTsa.stamp(messageSignatureBytes(j2), signedAt)]);
  refused(
    t,
    await verdict({
      bundle: j2,
      policy: policy(GH),
      trust: { ...TRUST, timestampAuthorities: [shortTsa.authority] },
    }),
    'TIMESTAMP_INVALID',
    /timestamp outside TSA certificate validity/,
    "TSA time outside the TSA certificate's validity",
  );
});

test('D28 two timestamps, one outside the window -> refuse (every verified time must pass)', async (t) => {
  const tsa = testTsa('d28', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
  const trust = { ...TRUST, timestampAuthorities: [tsa.authority] };
  const withTsa = (offset: number): Json => {
    const j = sampleJson('blob');
    return addTimestamps(j, [tsa.stamp(messageSignatureBytes(j), setTimeMs(j) + offset)]);
  };
  accepted(
    t,
    await verdict({ bundle: withTsa(1000), policy: policy(GH), trust }),
    'SET and TSA both inside the leaf validity (control)',
  );
  refused(
    t,
    await verdict({ bundle: withTsa(20 * MIN), policy: policy(GH), trust }),
    'CERT_EXPIRED',
    /^certificate expired: leaf valid/,
    'SET inside, TSA 20 minutes later',
  );
  refused(
    t,
    await verdict({ bundle: withTsa(-20 * MIN), policy: policy(GH), trust }),
    'CERT_EXPIRED',
    /^certificate not yet valid: leaf valid/,
    'SET inside, TSA 20 minutes earlier',
  );
  // Two TSA tokens, the second outside.
  const j = sampleJson('blob');
  const sig = messageSignatureBytes(j);
  addTimestamps(j, [tsa.stamp(sig, setTimeMs(j)), tsa.stamp(sig, setTimeMs(j) + 30 * MIN)]);
  refused(
    t,
    await verdict({ bundle: j, policy: policy(GH), trust }),
    'CERT_EXPIRED',
    /^certificate expired: leaf valid/,
    'two TSA tokens, one outside',
  );
});

test('D29 TSA token over other bytes; TSA not in the trusted root (never a verified time)', async (t) => {
  const tsa = testTsa('d29', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
  const other = testTsa('d29-untrusted', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
  const trust = { ...TRUST, timestampAuthorities: [tsa.authority] };
  const j = (token: (sig: Uint8Array, at: number) => Uint8Array): Json => {
    const b = sampleJson('blob');
    return addTimestamps(b, [token(messageSignatureBytes(b), setTimeMs(b))]);
  };
  accepted(
    t,
    await verdict({ bundle: j((s, at) => tsa.stamp(s, at)), policy: policy(GH), trust }),
    'trusted TSA over the signature (control)',
  );
  refused(
    t,
    await verdict({ bundle: j((_s, at) => tsa.stamp(OTHER, at)), policy: policy(GH), trust }),
    'TIMESTAMP_INVALID',
    /timestamp imprint does not match the signature/,
    'token over other bytes',
  );
  const dsse = sampleJson('attestation');
  refused(
    t,
    await verdict({
      bundle: addTimestamps(dsse, [tsa.stamp(unb64(dsse.dsseEnvelope.payload), setTimeMs(dsse))]),
      policy: policy(GL),
      trust,
    }),
    'TIMESTAMP_INVALID',
    /timestamp imprint does not match the signature/,
    'DSSE token over the payload instead of the signature',
  );
  // A token from a TSA the trust root does not know is never a verified time: beside a SET it
  // is set aside with a warning (as sigstore-go and sigstore-python do), alone it leaves the
  // bundle without a verified time. test/verify/real-bundles.test.ts runs both through the CLI.
  const untrusted = await verifyBundleReport({
    bundle: parseBundle(JSON.stringify(j((s, at) => other.stamp(s, at)))),
    artifact: bytes(ARTIFACT),
    trust,
    policy: policy(GH),
  });
  t.true(untrusted.ok, 'token from an untrusted TSA beside a SET');
  t.deepEqual(
    untrusted.verifiedTimes.map((v) => v.source),
    ['tlog-set'],
    'the untrusted token gives no time',
  );
  t.regex(
    untrusted.warnings.join('\n'),
    /RFC 3161 timestamp 0 ignored: TSA not trusted: timestamp signer O=stella\.test, CN=d29-untrusted-tsa is not a certificate of, or issued by, a trusted TSA/,
  );
  const alone = j((s, at) => other.stamp(s, at));
  delete alone.verificationMaterial.tlogEntries[0].inclusionPromise;
  refused(
    t,
    await verdict({ bundle: alone, policy: policy(GH), trust }),
    'NO_VERIFIED_TIME',
    /no verified signing time: .*set aside: RFC 3161 timestamp 0 ignored: TSA not trusted/,
    'token from an untrusted TSA and no SET',
  );
  const noTsas = await verifyBundleReport({
    bundle: parseBundle(JSON.stringify(j((s, at) => tsa.stamp(s, at)))),
    artifact: bytes(ARTIFACT),
    trust: { ...TRUST, timestampAuthorities: [] },
    policy: policy(GH),
  });
  t.true(noTsas.ok, 'trusted root without TSAs, beside a SET');
  t.regex(
    noTsas.warnings.join('\n'),
    /TSA not trusted: the trusted root has no timestamp authorities/,
  );
});

test("D30 key-based bundle signed outside the key's validFor", async (t) => {
  // A --key has no validity window of its own in Stella; the managed-key bundle's verified time
  // (its SET) must fall inside the validFor of the log key that vouches for it.
  const j = (): Json => sampleJson('managed-key');
  const at = setTimeMs(j());
  accepted(t, await verdict({ bundle: j(), policy: keyPolicy() }), 'managed-key sample (control)');
  refused(
    t,
    await verdict({
      bundle: j(),
      policy: keyPolicy(),
      trust: withTlogWindow(TRUST, { start: at + 1000, end: undefined }),
    }),
    'SET_INVALID',
    /is not valid at integrated time/,
    'signed before the log key validFor.start',
  );
  refused(
    t,
    await verdict({
      bundle: j(),
      policy: keyPolicy(),
      trust: withTlogWindow(TRUST, { start: Date.UTC(2025, 0, 1), end: at - 1000 }),
    }),
    'SET_INVALID',
    /is not valid at integrated time/,
    'signed after the log key validFor.end',
  );
  // A key-bundle whose SET claims a time in the future of the verifier's clock.
  refused(
    t,
    await verdict({ bundle: j(), policy: keyPolicy({ now: at - 1000 }) }),
    'TIME_IN_FUTURE',
    /is in the future/,
    'verified time after now',
  );
});

test('D31 validFor.end is inclusive; a tlog key without validFor.start is an invalid trust root', async (t) => {
  const at = setTimeMs(sampleJson('blob'));
  const caEndsAt = (end: number): TrustMaterial =>
    withCa(TRUST, { validFor: { start: Date.UTC(2025, 0, 1), end } });
  accepted(
    t,
    await verdict({ bundle: sampleJson('blob'), policy: policy(GH), trust: caEndsAt(at) }),
    'CA validFor.end equal to the verified time',
  );
  refused(
    t,
    await verdict({ bundle: sampleJson('blob'), policy: policy(GH), trust: caEndsAt(at - 1) }),
    'CERT_CHAIN_INVALID',
    /outside the validity window of certificate authority/,
    'CA validFor.end 1 ms before',
  );
  accepted(
    t,
    await verdict({
      bundle: sampleJson('blob'),
      policy: policy(GH),
      trust: withTlogWindow(TRUST, { start: Date.UTC(2025, 0, 1), end: at }),
    }),
    'tlog key validFor.end equal to the integrated time',
  );
  refused(
    t,
    await verdict({
      bundle: sampleJson('blob'),
      policy: policy(GH),
      trust: withTlogWindow(TRUST, { start: Date.UTC(2025, 0, 1), end: at - 1 }),
    }),
    'SET_INVALID',
    /is not valid at integrated time/,
    'tlog key validFor.end 1 ms before',
  );

  const noStart = JSON.parse(TRUST_TEXT);
  delete noStart.tlogs[0].publicKey.validFor.start;
  throwsCode(
    t,
    () => parseTrustedRoot(JSON.stringify(noStart)),
    'TRUSTED_ROOT_INVALID',
    /tlogs\[0\]\.publicKey\.validFor\.start missing/,
    'tlog key without validFor.start',
  );
  const noWindow = JSON.parse(TRUST_TEXT);
  delete noWindow.tlogs[0].publicKey.validFor;
  throwsCode(
    t,
    () => parseTrustedRoot(JSON.stringify(noWindow)),
    'TRUSTED_ROOT_INVALID',
    /tlogs\[0\]\.publicKey\.validFor missing/,
    'tlog key without validFor',
  );
  const caNoStart = JSON.parse(TRUST_TEXT);
  caNoStart.certificateAuthorities[0].validFor = { end: '2030-01-01T00:00:00Z' };
  throwsCode(
    t,
    () => parseTrustedRoot(JSON.stringify(caNoStart)),
    'TRUSTED_ROOT_INVALID',
    /validFor\.start missing/,
    'CA without validFor.start',
  );
});

// ---------------------------------------------------------------------------------------
// E. Transparency log

test('E32 a valid SET or proof for a different entry', async (t) => {
  const p = policy(GH);
  const blob = (): Json => sampleJson('blob');
  const other = sampleJson('digest-only').verificationMaterial.tlogEntries[0];
  const keyEntry = sampleJson('managed-key').verificationMaterial.tlogEntries[0];

  const swapped = blob();
  swapped.verificationMaterial.tlogEntries = [other];
  refused(
    t,
    await verdict({ bundle: swapped, policy: p }),
    'TLOG_BODY_MISMATCH',
    /tlog entry signature does not match the bundle signature/,
    "another bundle's whole entry (valid SET and proof)",
  );
  const keyed = blob();
  keyed.verificationMaterial.tlogEntries = [keyEntry];
  refused(
    t,
    await verdict({ bundle: keyed, policy: p }),
    'TLOG_BODY_MISMATCH',
    /does not match the bundle signature|records a public key/,
    'a managed-key entry over the same artifact',
  );

  const otherSet = blob();
  otherSet.verificationMaterial.tlogEntries[0].inclusionPromise = other.inclusionPromise;
  refused(
    t,
    await verdict({ bundle: otherSet, policy: p }),
    'SET_INVALID',
    /signed entry timestamp does not verify/,
    "another entry's SET",
  );

  const otherProof = blob();
  otherProof.verificationMaterial.tlogEntries[0].inclusionProof = other.inclusionProof;
  refused(
    t,
    await verdict({ bundle: otherProof, policy: p }),
    'INCLUSION_PROOF_INVALID',
    /inclusion proof log index 1 does not fit entry log index 0/,
    "another entry's proof (higher index)",
  );
  const lowerProof = sampleJson('digest-only');
  lowerProof.verificationMaterial.tlogEntries[0].inclusionProof =
    blob().verificationMaterial.tlogEntries[0].inclusionProof;
  refused(
    t,
    await verdict({ bundle: lowerProof, policy: p, artifact: imageDigest() }),
    'INCLUSION_PROOF_INVALID',
    /computed root hash does not match/,
    "another entry's proof (lower index)",
  );

  const otherBody = blob();
  otherBody.verificationMaterial.tlogEntries[0].canonicalizedBody = other.canonicalizedBody;
  refused(
    t,
    await verdict({ bundle: otherBody, policy: p }),
    'SET_INVALID',
    /signed entry timestamp does not verify/,
    "another entry's body under this SET",
  );
});

test('E33 digest algorithm, kind or version of the body differing from the bundle', async (t) => {
  const p = policy(GH);
  const cases: [string, (j: Json) => void, RegExp][] = [
    [
      'version 0.0.2',
      (j) => (j.verificationMaterial.tlogEntries[0].kindVersion.version = '0.0.2'),
      /kind\/version "hashedrekord\/0\.0\.2" does not match its body \("hashedrekord\/0\.0\.1"\)/,
    ],
    [
      'kind dsse',
      (j) => (j.verificationMaterial.tlogEntries[0].kindVersion.kind = 'dsse'),
      /kind\/version "dsse\/0\.0\.1" does not match its body/,
    ],
    [
      'kind intoto',
      (j) =>
        (j.verificationMaterial.tlogEntries[0].kindVersion = { kind: 'intoto', version: '0.0.2' }),
      /kind\/version "intoto\/0\.0\.2" does not match its body/,
    ],
    // A digest of the declared algorithm's size (one of another size is refused at parse).
    [
      'bundle digest SHA2_512',
      (j) =>
        (j.messageSignature.messageDigest = {
          algorithm: 'SHA2_512',
          digest: Buffer.alloc(64, 1).toString('base64'),
        }),
      /digest algorithm sha256 does not match the bundle message digest algorithm SHA2_512/,
    ],
    [
      'bundle digest SHA2_384',
      (j) =>
        (j.messageSignature.messageDigest = {
          algorithm: 'SHA2_384',
          digest: Buffer.alloc(48, 1).toString('base64'),
        }),
      /digest algorithm sha256 does not match the bundle message digest algorithm SHA2_384/,
    ],
  ];
  for (const [what, mutate, re] of cases) {
    const j = sampleJson('blob');
    mutate(j);
    refused(t, await verdict({ bundle: j, policy: p }), 'TLOG_BODY_MISMATCH', re, what);
  }
  const md5 = sampleJson('blob');
  md5.messageSignature.messageDigest.algorithm = 'MD5';
  refused(
    t,
    await verdict({ bundle: md5, policy: p }),
    'BUNDLE_UNSUPPORTED',
    /unsupported hash algorithm "MD5"/,
    'bundle digest MD5',
  );
  // The attestation's dsse entry claimed as hashedrekord.
  const dsse = sampleJson('attestation');
  dsse.verificationMaterial.tlogEntries[0].kindVersion.kind = 'hashedrekord';
  refused(
    t,
    await verdict({ bundle: dsse, policy: policy(GL) }),
    'TLOG_BODY_MISMATCH',
    /kind\/version "hashedrekord\/0\.0\.1" does not match its body \("dsse\/0\.0\.1"\)/,
    'dsse body claimed as hashedrekord',
  );
});

test('E34 checkpoint signer: Rekor v1 found by key hint (name reported, compared to nothing), never by the hint alone', async (t) => {
  // The sandbox log is a Rekor v1 (hashedrekord 0.0.1). Rekor v1 names are not bound to the
  // key (a private Rekor signs as its pod name), so the name is reported, not compared; the
  // signature by the trusted key is what counts. The exact-name rule for Rekor v2 is tested in
  // test/tlog/verify.test.ts and test/verify/real-bundles.test.ts (a real Rekor v2 checkpoint).
  const a = testAuthority('e34');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T });
  const p = policy(s.identity, {}, ISSUER_URL);
  const trust = a.trustMaterial();
  const key = a.keys.rekorLog;
  const name = new URL(a.urls.rekor).hostname;
  const realHint = noteKeyHint(name, key.keyObject);
  const envelope = asJson(s.bundle).verificationMaterial.tlogEntries[0].inclusionProof.checkpoint
    .envelope as string;
  const { text } = splitNote(envelope);
  const resigned = (
    signer: string,
    hint = realHint,
    sign = (m: Uint8Array) => key.sign(m),
  ): Json => {
    const j = asJson(s.bundle);
    j.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope = noteWith(text, [
      noteLine(signer, hint, sign(utf8.encode(text))),
    ]);
    return j;
  };
  accepted(
    t,
    await verdict({ bundle: resigned(name), policy: p, trust }),
    're-signed with the exact name and hint (control)',
  );
  for (const signer of [
    'rekor-server-7d9f8b6c4-x2x9q',
    '.',
    '.*',
    'REKOR.TEST.INVALID',
    `${name}.evil.invalid`,
  ]) {
    const report = await verifyBundleReport({
      bundle: parseBundle(JSON.stringify(resigned(signer))),
      artifact: bytes(ARTIFACT),
      trust,
      policy: p,
    });
    t.true(report.ok, `signer name ${JSON.stringify(signer)}: ${report.error?.message ?? ''}`);
    const tlog = report.checks.find((c) => c.check === 'tlog')!;
    t.is(
      (tlog.details as { entries: { checkpointSigner: string }[] }).entries[0]!.checkpointSigner,
      signer,
      'the name is reported',
    );
    t.true(tlog.summary.includes(`signed as ${signer}`));
  }
  refused(
    t,
    await verdict({ bundle: resigned(name, Uint8Array.of(1, 2, 3, 4)), policy: p, trust }),
    'CHECKPOINT_INVALID',
    /no signature from a trusted log/,
    'exact name, wrong key hint',
  );
  // The hint alone is not enough: the log's hint on another key's signature does not verify.
  const other = testAuthority('e34-other').keys.rekorLog;
  refused(
    t,
    await verdict({ bundle: resigned(name, realHint, (m) => other.sign(m)), policy: p, trust }),
    'CHECKPOINT_INVALID',
    /signature by trusted log .* does not verify/,
    "the log's name and hint on another key's signature",
  );
  refused(
    t,
    await verdict({
      bundle: resigned('rekor-server-0', realHint, (m) => other.sign(m)),
      policy: p,
      trust,
    }),
    'CHECKPOINT_INVALID',
    /does not verify/,
    "another name, the log's hint, another key's signature",
  );
});

test('E35 proof tree size or root hash differing from the signed checkpoint', async (t) => {
  const p = policy(GH);
  const size = sampleJson('blob');
  size.verificationMaterial.tlogEntries[0].inclusionProof.treeSize = '5';
  refused(
    t,
    await verdict({ bundle: size, policy: p }),
    'INCLUSION_PROOF_INVALID',
    /inclusion proof tree size 5 does not match the signed checkpoint size 4/,
    'tree size 5 vs checkpoint 4',
  );
  const smaller = sampleJson('blob');
  smaller.verificationMaterial.tlogEntries[0].inclusionProof.treeSize = '3';
  refused(
    t,
    await verdict({ bundle: smaller, policy: p }),
    'INCLUSION_PROOF_INVALID',
    /inclusion proof tree size 3 does not match the signed checkpoint size 4/,
    'tree size 3 vs checkpoint 4',
  );
  const root = sampleJson('blob');
  const h = unb64(root.verificationMaterial.tlogEntries[0].inclusionProof.rootHash);
  h[0] = h[0]! ^ 1;
  root.verificationMaterial.tlogEntries[0].inclusionProof.rootHash = b64(h);
  refused(
    t,
    await verdict({ bundle: root, policy: p }),
    'INCLUSION_PROOF_INVALID',
    /inclusion proof root hash does not match the signed checkpoint root hash/,
    'root hash differs',
  );

  // A validly signed checkpoint of an older tree, with a (correct) proof for a newer one.
  const a = testAuthority('e35');
  const first = signBlob(a, ARTIFACT, { repo: 'org/one', now: T });
  signBlob(a, ARTIFACT, { repo: 'org/two', now: T + MIN });
  t.is(
    String(asJson(first.bundle).verificationMaterial.tlogEntries[0].inclusionProof.treeSize),
    '1',
  );
  const grown = (checkpoint: string): Json => {
    const j = asJson(first.bundle);
    const proof = j.verificationMaterial.tlogEntries[0].inclusionProof;
    proof.treeSize = '2';
    proof.rootHash = splitNote(a.rekor.checkpoint(2)).text.split('\n')[2];
    proof.hashes = [b64(leafOf(a, 1))];
    proof.checkpoint = { envelope: checkpoint };
    return j;
  };
  const fp = policy(first.identity, {}, ISSUER_URL);
  accepted(
    t,
    await verdict({ bundle: grown(a.rekor.checkpoint(2)), policy: fp, trust: a.trustMaterial() }),
    'size-2 proof under the size-2 checkpoint (control)',
  );
  refused(
    t,
    await verdict({ bundle: grown(a.rekor.checkpoint(1)), policy: fp, trust: a.trustMaterial() }),
    'INCLUSION_PROOF_INVALID',
    /inclusion proof tree size 2 does not match the signed checkpoint size 1/,
    'size-2 proof under a size-1 checkpoint',
  );
});

/** The RFC 6962 leaf hash of entry `i` of the authority's log (from its own answer). */
function leafOf(a: SandboxAuthority, i: number): Uint8Array {
  const e = Object.values(a.rekor.entryByIndex(i)!)[0]!;
  return sha256(concatBytes(Uint8Array.of(0), unb64(e.body)));
}

test('E36 flipped, missing or extra proof hash; log index >= tree size', async (t) => {
  const p = policy(GH);
  const mutate = (f: (hashes: string[]) => string[]): Json => {
    const j = sampleJson('blob');
    const proof = j.verificationMaterial.tlogEntries[0].inclusionProof;
    proof.hashes = f(proof.hashes as string[]);
    return j;
  };
  const flip = (s: string): string => {
    const b = unb64(s);
    b[31] = b[31]! ^ 0x80;
    return b64(b);
  };
  refused(
    t,
    await verdict({ bundle: mutate((h) => [flip(h[0]!), ...h.slice(1)]), policy: p }),
    'INCLUSION_PROOF_INVALID',
    /computed root hash does not match/,
    'flipped first hash',
  );
  refused(
    t,
    await verdict({
      bundle: mutate((h) => [...h.slice(0, -1), flip(h[h.length - 1]!)]),
      policy: p,
    }),
    'INCLUSION_PROOF_INVALID',
    /computed root hash does not match/,
    'flipped last hash',
  );
  refused(
    t,
    await verdict({ bundle: mutate((h) => [h[1]!, h[0]!]), policy: p }),
    'INCLUSION_PROOF_INVALID',
    /computed root hash does not match/,
    'hashes swapped',
  );
  refused(
    t,
    await verdict({ bundle: mutate((h) => h.slice(0, -1)), policy: p }),
    'INCLUSION_PROOF_INVALID',
    /expected 2 hashes, got 1/,
    'missing hash',
  );
  refused(
    t,
    await verdict({ bundle: mutate((h) => [...h, h[0]!]), policy: p }),
    'INCLUSION_PROOF_INVALID',
    /expected 2 hashes, got 3/,
    'extra hash',
  );
  refused(
    t,
    await verdict({ bundle: mutate((h) => [...h, b64(new Uint8Array(32))]), policy: p }),
    'INCLUSION_PROOF_INVALID',
    /expected 2 hashes, got 3/,
    'extra zero hash',
  );
  refused(
    t,
    await verdict({ bundle: mutate((h) => [h[0]!.slice(0, 40), h[1]!]), policy: p }),
    'INCLUSION_PROOF_INVALID',
    /hash 0 is 30 bytes, want 32/,
    'short hash',
  );

  // Index 2 in a tree of size 2, under a validly signed size-2 checkpoint.
  const a = testAuthority('e36');
  signBlob(a, ARTIFACT, { repo: 'org/zero', now: T });
  signBlob(a, ARTIFACT, { repo: 'org/one', now: T + MIN });
  const third = signBlob(a, ARTIFACT, { repo: 'org/two', now: T + 2 * MIN });
  const j = asJson(third.bundle);
  const proof = j.verificationMaterial.tlogEntries[0].inclusionProof;
  t.is(String(proof.logIndex), '2');
  const checkpoint = a.rekor.checkpoint(2);
  proof.treeSize = '2';
  proof.rootHash = splitNote(checkpoint).text.split('\n')[2];
  proof.hashes = [];
  proof.checkpoint = { envelope: checkpoint };
  refused(
    t,
    await verdict({
      bundle: j,
      policy: policy(third.identity, {}, ISSUER_URL),
      trust: a.trustMaterial(),
    }),
    'INCLUSION_PROOF_INVALID',
    /log index 2 >= tree size 2/,
    'log index == tree size',
  );
});

test('E37 threshold 2 met by the same entry twice or two indexes of one log', async (t) => {
  const a = testAuthority('e37');
  const s = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T });
  const entry = asJson(s.bundle).verificationMaterial.tlogEntries[0];
  const run = async (
    entries: Json[],
    threshold: number,
    trust: TrustMaterial,
  ): Promise<Verdict> => {
    const j = asJson(s.bundle);
    j.verificationMaterial.tlogEntries = entries;
    return verdict({
      bundle: j,
      policy: policy(s.identity, { tlogThreshold: threshold }, ISSUER_URL),
      trust,
    });
  };
  accepted(t, await run([entry], 1, a.trustMaterial()), 'one entry, threshold 1 (control)');
  // The same entry twice is refused as the bundle is read, whatever the threshold (sigstore-go
  // and sigstore-js refuse it too); before, it was counted once, as one log.
  for (const threshold of [1, 2])
    refused(
      t,
      await run([entry, entry], threshold, a.trustMaterial()),
      'BUNDLE_MALFORMED',
      /tlogEntries\[1\] repeats tlogEntries\[0\] \(log [0-9a-f]{64}, log index 0\)/,
      `same entry twice, threshold ${threshold}`,
    );

  // The same log (same key, same URL) answering with the entry at another index.
  const sameLogAgain = new LocalRekorLog({
    key: a.keys.rekorLog,
    storage: new MemoryLogStorage(),
    baseUrl: a.urls.rekor,
  });
  signBlob(a, ARTIFACT, { repo: 'org/filler', now: T, rekor: sameLogAgain });
  const again = signBlob(a, ARTIFACT, { repo: 'org/repo', now: T, rekor: sameLogAgain });
  const entryAt1 = asJson(again.bundle).verificationMaterial.tlogEntries[0];
  t.is(String(entryAt1.logIndex), '1');
  accepted(t, await run([entryAt1], 1, a.trustMaterial()), 'the second index alone (control)');
  refused(
    t,
    await run([entry, entryAt1], 2, a.trustMaterial()),
    'REKOR_PROOF_MISSING',
    /1 distinct log\(s\) include the entry, 2 required/,
    'two indexes of one log',
  );

  // Two distinct trusted logs do meet the threshold.
  const second = testAuthority('e37-second-log');
  const inSecond = asJson(
    signBlob(a, ARTIFACT, { repo: 'org/repo', now: T, rekor: second.rekor }).bundle,
  ).verificationMaterial.tlogEntries[0];
  const twoLogs = {
    ...a.trustMaterial(),
    tlogs: [...a.trustMaterial().tlogs, ...second.trustMaterial().tlogs],
  };
  accepted(t, await run([entry, inSecond], 2, twoLogs), 'two distinct logs, threshold 2 (control)');
  refused(
    t,
    await run([entry, entryAt1], 2, twoLogs),
    'REKOR_PROOF_MISSING',
    /1 distinct log\(s\)/,
    'two indexes of one log with two logs trusted',
  );
  refused(
    t,
    await run([entry, inSecond, entry], 3, twoLogs),
    'BUNDLE_MALFORMED',
    /tlogEntries\[2\] repeats tlogEntries\[0\]/,
    'threshold 3 with a repeated entry',
  );
  refused(
    t,
    await run([entry, inSecond], 3, twoLogs),
    'REKOR_PROOF_MISSING',
    /2 distinct log\(s\) include the entry, 3 required/,
    'threshold 3, two logs',
  );
});

test("E38 unknown cosignatures on a checkpoint are ignored; a known key's bad signature is refused", async (t) => {
  const p = policy(GH);
  const withLines = (f: (lines: string[]) => string[]): Json => {
    const j = sampleJson('blob');
    const cp = j.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
    const { text, lines } = splitNote(cp.envelope as string);
    cp.envelope = noteWith(text, f(lines));
    return j;
  };
  const real = splitNote(
    sampleJson('blob').verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope,
  ).lines[0]!;
  const [, name, sig64] = real.split(' ') as [string, string, string];
  const realRaw = unb64(sig64);
  const hint = realRaw.slice(0, 4);
  const witness = noteLine(
    'witness.example.invalid',
    Uint8Array.of(9, 9, 9, 9),
    new Uint8Array(64).fill(7),
  );
  const ed25519Witness = noteLine(
    'witness2.example.invalid',
    Uint8Array.of(1, 2, 3, 4),
    new Uint8Array(64).fill(1),
  );
  accepted(
    t,
    await verdict({ bundle: withLines((l) => [...l, witness]), policy: p }),
    'unknown cosignature after the log signature',
  );
  accepted(
    t,
    await verdict({ bundle: withLines((l) => [witness, ed25519Witness, ...l]), policy: p }),
    'unknown cosignatures before the log signature',
  );
  const bad = realRaw.slice(4);
  bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
  refused(
    t,
    await verdict({ bundle: withLines(() => [noteLine(name, hint, bad)]), policy: p }),
    'CHECKPOINT_INVALID',
    /signature by trusted log rekor\.stella\.invalid \(key hint [0-9a-f]{8}\) does not verify/,
    "the log's signature altered",
  );
  refused(
    t,
    await verdict({
      bundle: withLines((l) => [...l, noteLine(name, hint, new Uint8Array(70).fill(3))]),
      policy: p,
    }),
    'CHECKPOINT_INVALID',
    /does not verify/,
    'a good and a bad signature by the known key',
  );
  refused(
    t,
    await verdict({ bundle: withLines((l) => [noteLine(name, hint, bad), ...l]), policy: p }),
    'CHECKPOINT_INVALID',
    /does not verify/,
    'a bad then a good signature by the known key',
  );
  refused(
    t,
    await verdict({ bundle: withLines(() => [witness]), policy: p }),
    'CHECKPOINT_INVALID',
    /no signature from a trusted log/,
    'only an unknown cosignature',
  );
});

// ---------------------------------------------------------------------------------------
// F. DSSE and artifact binding

test('F39 PAE uses UTF-8 byte lengths (lookalike payload types)', async (t) => {
  t.deepEqual(
    preAuthEncoding('é', utf8.encode('ü')),
    utf8.encode('DSSEv1 2 é 2 ü'),
    'LEN is the UTF-8 byte length',
  );
  // What a signer counting UTF-16 units would produce differs for any non-ASCII type.
  const lenUtf16 = (type: string, body: string): Uint8Array =>
    utf8.encode(`DSSEv1 ${type.length} ${type} ${body.length} ${body}`);
  t.notDeepEqual(preAuthEncoding('a\u00e9', utf8.encode('x')), lenUtf16('a\u00e9', 'x'));

  // A lookalike of the in-toto type in the sample envelope.
  const lookalike = sampleJson('attestation');
  lookalike.dsseEnvelope.payloadType = 'application/vnd.in\u2010toto+json';
  refused(
    t,
    await verdict({ bundle: lookalike, policy: policy(GL) }),
    'DSSE_INVALID',
    /DSSE payload type "application\/vnd\.in\u2010toto\+json" is not application\/vnd\.in-toto\+json/,
    'lookalike payload type',
  );

  // A signer that computes LEN in UTF-16 units over a payload with non-ASCII text.
  const a = testAuthority('f39');
  const payloadText = JSON.stringify({
    _type: IN_TOTO_STATEMENT_V1,
    subject: [
      {
        name: 'artefact-\u00e9\u2713.txt',
        digest: { sha256: Buffer.from(sha256(ARTIFACT)).toString('hex') },
      },
    ],
    predicateType: 'https://stella.invalid/\u00fcber/v1',
    predicate: {},
  });
  const payload = utf8.encode(payloadText);
  const s = signDsse(a, payload, IN_TOTO_PAYLOAD_TYPE, { repo: 'org/repo', now: T });
  const p = policy(s.identity, {}, ISSUER_URL);
  accepted(
    t,
    await verdict({ bundle: asJson(s.bundle), policy: p, trust: a.trustMaterial() }),
    'non-ASCII payload signed over the byte-length PAE (control)',
  );
  const wrongSig = s.key.sign(lenUtf16(IN_TOTO_PAYLOAD_TYPE, payloadText));
  const tsa = testTsa('f39', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
  const j = asJson(s.bundle);
  j.dsseEnvelope.signatures[0].sig = b64(wrongSig);
  delete j.verificationMaterial.tlogEntries;
  addTimestamps(j, [tsa.stamp(wrongSig, T + 1000)]);
  refused(
    t,
    await verdict({
      bundle: j,
      policy: p,
      trust: { ...a.trustMaterial(), timestampAuthorities: [tsa.authority] },
    }),
    'SIGNATURE_INVALID',
    /DSSE signature does not verify over the envelope payload/,
    'signature over a UTF-16-length PAE',
  );
});

test('F40 envelope with 0 or 2+ signatures; payload type other than in-toto', async (t) => {
  const p = policy(GL);
  const none = sampleJson('attestation');
  none.dsseEnvelope.signatures = [];
  refused(
    t,
    await verdict({ bundle: none, policy: p }),
    'BUNDLE_MALFORMED',
    /dsseEnvelope has no signatures/,
    '0 signatures',
  );
  const two = sampleJson('attestation');
  two.dsseEnvelope.signatures = [two.dsseEnvelope.signatures[0], two.dsseEnvelope.signatures[0]];
  refused(
    t,
    await verdict({ bundle: two, policy: p }),
    'DSSE_INVALID',
    /DSSE envelope must carry exactly one signature, found 2/,
    '2 identical signatures',
  );
  const twoDifferent = sampleJson('attestation');
  twoDifferent.dsseEnvelope.signatures = [
    twoDifferent.dsseEnvelope.signatures[0],
    { sig: b64(new Uint8Array(70).fill(1)), keyid: 'other' },
  ];
  refused(
    t,
    await verdict({ bundle: twoDifferent, policy: p }),
    'DSSE_INVALID',
    /exactly one signature, found 2/,
    '2 different signatures',
  );

  // A correctly signed and logged envelope whose payload type is not in-toto.
  const a = testAuthority('f40');
  const statement = utf8.encode(
    JSON.stringify({
      _type: IN_TOTO_STATEMENT_V1,
      subject: [
        { name: 'artifact.txt', digest: { sha256: Buffer.from(sha256(ARTIFACT)).toString('hex') } },
      ],
      predicateType: 'https://stella.invalid/test/v1',
    }),
  );
  for (const [i, type] of [
    'application/json',
    'application/vnd.in-toto+json; charset=utf-8',
    'APPLICATION/VND.IN-TOTO+JSON',
  ].entries()) {
    const s = signDsse(a, statement, type, { repo: 'org/repo', now: T + i * MIN });
    refused(
      t,
      await verdict({
        bundle: asJson(s.bundle),
        policy: policy(s.identity, {}, ISSUER_URL),
        trust: a.trustMaterial(),
      }),
      'DSSE_INVALID',
      /is not application\/vnd\.in-toto\+json/,
      `signed payload type ${type}`,
    );
  }
  const good = signDsse(a, statement, IN_TOTO_PAYLOAD_TYPE, { repo: 'org/repo', now: T + 5 * MIN });
  accepted(
    t,
    await verdict({
      bundle: asJson(good.bundle),
      policy: policy(good.identity, {}, ISSUER_URL),
      trust: a.trustMaterial(),
    }),
    'the same statement as in-toto (control)',
  );
});

test('F41 artifact digest not among the subjects', async (t) => {
  const p = policy(GL);
  refused(
    t,
    await verdict({ bundle: sampleJson('attestation'), policy: p, artifact: bytes(OTHER) }),
    'ARTIFACT_MISMATCH',
    /artifact sha256:[0-9a-f]{64} is not a subject of the in-toto statement/,
    'other bytes',
  );
  refused(
    t,
    await verdict({
      bundle: sampleJson('attestation'),
      policy: p,
      artifact: { kind: 'digest', algorithm: 'SHA2_256', digest: sha256(OTHER) },
    }),
    'ARTIFACT_MISMATCH',
    // A subject lists a sha256 digest, only not this one: no "(no subject lists ...)" reason.
    /^artifact sha256:[0-9a-f]{64} is not a subject of the in-toto statement$/,
    'other sha256 digest',
  );
  refused(
    t,
    await verdict({
      bundle: sampleJson('attestation'),
      policy: p,
      artifact: { kind: 'digest', algorithm: 'SHA2_512', digest: hash('sha512', ARTIFACT) },
    }),
    'ARTIFACT_MISMATCH',
    /^artifact sha512:[0-9a-f]{128} is not a subject of the in-toto statement \(no subject lists a sha512 digest\)$/,
    'the right artifact by a digest the statement does not carry',
  );
  accepted(
    t,
    await verdict({
      bundle: sampleJson('attestation'),
      policy: p,
      artifact: { kind: 'digest', algorithm: 'SHA2_256', digest: sha256(ARTIFACT) },
    }),
    'the right sha256 digest (control)',
  );
});

test('F42 messageDigest in the bundle differing from the real artifact', async (t) => {
  const p = policy(GH);
  // With a log entry, the entry's recorded digest is compared first (step 4, before the signature step).
  refused(
    t,
    await verdict({ bundle: sampleJson('blob'), policy: p, artifact: bytes(OTHER) }),
    'TLOG_BODY_MISMATCH',
    /tlog entry digest does not match the artifact digest/,
    'other artifact bytes',
  );
  const altered = sampleJson('blob');
  altered.messageSignature.messageDigest.digest = b64(sha256(OTHER));
  refused(
    t,
    await verdict({ bundle: altered, policy: p }),
    'TLOG_BODY_MISMATCH',
    /tlog entry digest does not match the bundle message digest/,
    'bundle messageDigest altered',
  );
  refused(
    t,
    await verdict({ bundle: altered, policy: p, artifact: bytes(OTHER) }),
    'TLOG_BODY_MISMATCH',
    /tlog entry digest does not match/,
    'bundle messageDigest and artifact both the other bytes',
  );

  // Without a log entry (managed key, time from a trusted TSA), the signature step compares
  // messageDigest with the artifact.
  const tsa = testTsa('f42', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
  const tsaTrust = { ...TRUST, timestampAuthorities: [tsa.authority] };
  const noEntry = (digestOf?: Uint8Array): Json => {
    const j = sampleJson('managed-key');
    const signedAt = setTimeMs(j);
    delete j.verificationMaterial.tlogEntries;
    if (digestOf) j.messageSignature.messageDigest.digest = b64(sha256(digestOf));
    return addTimestamps(j, [tsa.stamp(messageSignatureBytes(j), signedAt)]);
  };
  accepted(
    t,
    await verdict({ bundle: noEntry(), policy: keyPolicy(), trust: tsaTrust }),
    'managed-key bundle without an entry, TSA-timestamped (control)',
  );
  refused(
    t,
    await verdict({ bundle: noEntry(OTHER), policy: keyPolicy(), trust: tsaTrust }),
    'ARTIFACT_MISMATCH',
    /artifact digest sha256:[0-9a-f]{64} does not match the bundle's messageDigest/,
    'messageDigest altered, no entry',
  );
  refused(
    t,
    await verdict({
      bundle: noEntry(),
      policy: keyPolicy(),
      trust: tsaTrust,
      artifact: bytes(OTHER),
    }),
    'ARTIFACT_MISMATCH',
    /does not match the bundle's messageDigest/,
    'other artifact, no entry',
  );
  refused(
    t,
    await verdict({
      bundle: noEntry(OTHER),
      policy: keyPolicy(),
      trust: tsaTrust,
      artifact: bytes(OTHER),
    }),
    'SIGNATURE_INVALID',
    /signature does not verify over the artifact/,
    'messageDigest and artifact agree, signature is over the real artifact',
  );
  // And with no time evidence at all, a managed-key bundle is refused rather than judged "now".
  const bare = sampleJson('managed-key');
  delete bare.verificationMaterial.tlogEntries;
  refused(
    t,
    await verdict({ bundle: bare, policy: keyPolicy() }),
    'NO_VERIFIED_TIME',
    /no verified signing time/,
    'managed-key bundle with neither log entry nor timestamp',
  );
});
