/**
 * The signature step (src/verify/signature.ts) through the pipeline, on crafted bundles with no
 * log entry (an RFC 3161 timestamp is the verified time): which hash a message signature is
 * verified with, and how the choice is reported when nothing in the bundle declares one.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle } from '../../src/bundle/model.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { serializeBundle } from '../../src/bundle/serialize.js';
import type { Artifact } from '../../src/verify/artifact.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import { buildPolicy } from '../../src/verify/policy.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';
import { utf8 } from '../../src/util/encoding.js';
import { ISSUER_URL, signDsse, testAuthority, testTsa } from '../helpers/authority-bundles.js';
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1 } from '../../src/bundle/intoto.js';
import { craftLeaf, trustWithTsa, tsaTimedBundle } from '../helpers/crafted-bundles.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';

const ARTIFACT = utf8.encode('the signed artifact\n');
const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const TSA = testTsa('signature-step', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
const a = testAuthority('signature-step');
const leaf = craftLeaf(a, { label: 'signature-step', notBefore: T });
const trust = trustWithTsa(a, TSA);
const policy = buildPolicy({
  certificateIdentity: literalPattern(leaf.identity),
  certificateOidcIssuer: ISSUER_URL,
  now: Date.UTC(2025, 6, 1),
});

/** The crafted bundle, through the strict parser, with or without its messageDigest. */
function bundle(withDigest: boolean): Bundle {
  const b = tsaTimedBundle(leaf, ARTIFACT, TSA, T + 2000);
  if (!withDigest && b.content.kind === 'messageSignature')
    b.content = { ...b.content, messageDigest: undefined };
  return parseBundle(serializeBundle(b));
}

const digestOf = (name: 'sha256' | 'sha384'): Uint8Array =>
  new Uint8Array(createHash(name).update(ARTIFACT).digest());

async function signatureCheck(b: Bundle, artifact: Artifact) {
  const r = await verifyBundleReport({ bundle: b, artifact, trust, policy });
  return { ok: r.ok, error: r.error, check: r.checks.find((c) => c.check === 'signature') };
}

test('a messageDigest declares the hash; with none (and no log entry), SHA-256 is used and reported as not declared', async (t) => {
  const declared = await signatureCheck(bundle(true), { kind: 'bytes', data: ARTIFACT });
  t.true(declared.ok, declared.error?.message);
  t.deepEqual(declared.check?.details?.algorithm, {
    key: 'ECDSA P-256',
    hash: 'sha256',
    declared: true,
  });
  for (const artifact of [
    { kind: 'bytes', data: ARTIFACT },
    { kind: 'digest', algorithm: 'SHA2_256', digest: digestOf('sha256') },
  ] as const) {
    const r = await signatureCheck(bundle(false), artifact);
    t.true(r.ok, `${artifact.kind}: ${r.error?.message}`);
    // Before stop 52 this said declared: true, though nothing in the bundle named a hash.
    t.deepEqual(
      r.check?.details?.algorithm,
      { key: 'ECDSA P-256', hash: 'sha256', declared: false },
      artifact.kind,
    );
  }
});

test('with nothing declared, an artifact given as a SHA-384 digest names the hash, and is refused for a P-256 key as such', async (t) => {
  const r = await signatureCheck(bundle(false), {
    kind: 'digest',
    algorithm: 'SHA2_384',
    digest: digestOf('sha384'),
  });
  t.false(r.ok);
  t.is(r.error?.code, 'BUNDLE_UNSUPPORTED');
  t.is(
    r.error?.message,
    'ECDSA P-256 with SHA-384 (declared by the artifact digest given) is not an allowed signature algorithm; allowed for ECDSA P-256: SHA-256',
  );
});

test('a managed-key bundle verifies over the artifact given as bytes or only as its SHA-256 digest (the key, not a certificate, is used for the prehash check)', async (t) => {
  const samples = path.join(PROJECT_ROOT, 'samples');
  const read = (f: string) => readFileSync(path.join(samples, f));
  const artifact = new Uint8Array(read('artifact.txt'));
  const keyed = parseBundle(read('managed-key.sigstore.json'));
  const sampleTrust = parseTrustedRoot(read('trusted_root.json'));
  const keyPolicy = buildPolicy({ publicKeyPem: read('key.pub').toString('utf8') });
  for (const given of [
    { kind: 'bytes', data: artifact },
    {
      kind: 'digest',
      algorithm: 'SHA2_256',
      digest: new Uint8Array(createHash('sha256').update(artifact).digest()),
    },
  ] as const) {
    const r = await verifyBundleReport({
      bundle: keyed,
      artifact: given,
      trust: sampleTrust,
      policy: keyPolicy,
    });
    t.true(r.ok, `${given.kind}: ${r.error?.message}`);
    t.like(r.checks.find((c) => c.check === 'signature')?.details, {
      algorithm: { key: 'ECDSA P-256', hash: 'sha256', declared: true },
    });
  }
});

test('in-toto subjects: only digests Stella cannot compute is BUNDLE_UNSUPPORTED naming them; one it can compute that differs is ARTIFACT_MISMATCH', async (t) => {
  const authority = testAuthority('signature-subjects');
  const now = T;
  const verify = async (subject: unknown[]) => {
    const payload = utf8.encode(
      JSON.stringify({
        _type: IN_TOTO_STATEMENT_V1,
        subject,
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {},
      }),
    );
    const signed = signDsse(authority, payload, IN_TOTO_PAYLOAD_TYPE, {
      repo: 'org/subjects',
      now,
    });
    const r = await verifyBundleReport({
      bundle: parseBundle(serializeBundle(signed.bundle)),
      artifact: { kind: 'bytes', data: ARTIFACT },
      trust: authority.trustMaterial(),
      policy: buildPolicy({
        certificateIdentity: literalPattern(signed.identity),
        certificateOidcIssuer: ISSUER_URL,
        now: now + 60_000,
      }),
    });
    return { ok: r.ok, check: r.error?.check, code: r.error?.code, message: r.error?.message };
  };
  const sha256Hex = createHash('sha256').update(ARTIFACT).digest('hex');
  t.like(await verify([{ name: 'a', digest: { sha256: sha256Hex } }]), { ok: true });
  t.deepEqual(
    await verify([
      { name: 'repo', digest: { gitCommit: 'c'.repeat(40) } },
      { name: 'old', digest: { sha1: 'a'.repeat(40) } },
    ]),
    {
      ok: false,
      check: 'signature',
      code: 'BUNDLE_UNSUPPORTED',
      message:
        'in-toto statement: no subject lists a digest Stella can compute (sha256, sha384, sha512); found gitCommit, sha1',
    },
  );
  t.like(
    await verify([
      { name: 'other', digest: { sha256: 'b'.repeat(64) } },
      { name: 'repo', digest: { gitCommit: 'c'.repeat(40) } },
    ]),
    { ok: false, check: 'signature', code: 'ARTIFACT_MISMATCH' },
  );
});
