/**
 * Fuzz target for the signer's side of the timestamp authority: what a TSA answers
 * `attest sign` (a DER TimeStampResp), taken by `checkTimestamp` (granted, a token over THIS
 * signature by a TSA of the trust root, our nonce, a time inside the certificate's window)
 * into the bundle the signer writes. The property the Rekor and Fulcio answer targets hold:
 * **what the signer accepts, the verifier accepts** — the bundle with the token passes
 * `verifyBundleReport` under the certificate's own identity and issuer, and `@sigstore/verify`.
 *
 * Seeds: two blobs signed and logged by the project's authority (Rekor v1, with a SET), each
 * with a token from a TSA the trust root lists, carrying the nonce the signer asked for.
 * Mutations: the answer issued again by the TSA (or by one the trust root does not list) with
 * its fields chosen — time, imprint (its hash, over other bytes), nonce, serial, policy, the
 * certificates embedded — under another PKIStatus; and the DER mutated, re-issued or not.
 */
import type { Bundle } from '../../src/bundle/model.js';
import { serializeTrustedRoot } from '../../src/trust/trusted-root.js';
import { sha256 } from '../../src/crypto.js';
import { int, seq, utf8String } from '../../src/der/writer.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import { checkTimestamp } from '../../src/sign/tsa-client.js';
import { utf8 } from '../../src/util/encoding.js';
import { secondFraction } from '../../src/util/time.js';
import { parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import {
  AUTHORITY_CREATED_AT,
  signBlob,
  testAuthority,
  testTsa,
  type TestTsa,
} from '../helpers/authority-bundles.js';
import { seededTarget, type FuzzTarget, type IterationResult } from './harness.js';
import type { Trail } from './mutate-bytes.js';
import { mutateDer, parseDerTree, writeDerTree } from './mutate-der.js';
import { attemptSync, peerTrustOf, type PeerTrust } from './oracle.js';
import type { Prng } from './prng.js';
import { verifierTakes } from './rekor-answer.js';
import { fromThrow } from './targets.js';

const T0 = Date.UTC(2025, 5, 1);
/** The nonce the signer sent (requestTimestamp draws one; here it is fixed for replay). */
const NONCE = 0x2f0e_1d2c_3b4a_5968n;
const URL = 'https://tsa.test.invalid/api/v1/timestamp';

export interface TsaAnswerSeed {
  name: string;
  /** The signed bundle as the signer makes it before the token is added (Rekor v1, SET). */
  bundle: Bundle;
  signature: Uint8Array;
  artifact: Uint8Array;
  artifactDigest: Uint8Array;
  leaf: Certificate;
  /** The TSA's answer over the signature: a TimeStampResp, status granted. */
  answer: Uint8Array;
}

export interface TsaAnswerSetup {
  trust: TrustMaterial;
  tsa: TestTsa;
  /** A TSA the trust root does not list (same names, other keys). */
  stranger: TestTsa;
  seeds: TsaAnswerSeed[];
  /** The same trust as trusted_root.json, as @sigstore/verify reads it. */
  peerTrust: PeerTrust;
}

export function tsaAnswerSetup(): TsaAnswerSetup {
  const authority = testAuthority('fuzz-tsa-answer');
  const end = Date.UTC(2035, 0, 1);
  const tsa = testTsa('fuzz-tsa-answer', AUTHORITY_CREATED_AT, end);
  const stranger = testTsa('fuzz-tsa-answer-stranger', AUTHORITY_CREATED_AT, end);
  const seeds = [0, 1].map((i) => {
    const artifact = utf8.encode(`tsa answer ${i}\n`);
    const now = T0 + i * 1000;
    const s = signBlob(authority, artifact, { repo: 'org/repo', now });
    const c = s.bundle.content;
    const signature = c.kind === 'messageSignature' ? c.signature : new Uint8Array(0);
    return {
      name: `tsa-answer/entry-${i}`,
      bundle: s.bundle,
      signature,
      artifact,
      artifactDigest: sha256(artifact),
      leaf: parseCertificate(s.certificate),
      answer: tsa.issue({ data: signature, genTime: now + 2_000, nonce: NONCE }),
    };
  });
  const trust = { ...authority.trustMaterial(), timestampAuthorities: [tsa.authority] };
  return { trust, tsa, stranger, seeds, peerTrust: peerTrustOf(serializeTrustedRoot(trust)) };
}

/** Times around the signing, and the windows' edges (the leaf's, the TSA's, the DER writer's). */
function genTimes(rng: Prng, leaf: Certificate): number[] {
  return [
    leaf.notBefore,
    leaf.notBefore - 1_000,
    leaf.notBefore + 2_000,
    leaf.notAfter,
    leaf.notAfter + 1_000,
    leaf.notAfter - 1,
    leaf.notBefore + 999,
    AUTHORITY_CREATED_AT,
    AUTHORITY_CREATED_AT - 1_000,
    Date.UTC(2035, 0, 1),
    Date.UTC(2035, 0, 1) + 1_000,
    Date.UTC(1950, 0, 1),
    0,
    leaf.notBefore + rng.int(1_200_000) - 300_000,
  ];
}

/** The token inside a granted TimeStampResp the test TSA issued. */
function tokenOf(response: Uint8Array): Uint8Array {
  return writeDerTree(parseDerTree(response)!.kids![1]!).bytes;
}

/** The answer issued again by a TSA with its fields chosen, under a chosen PKIStatus. */
function reissue(rng: Prng, setup: TsaAnswerSetup, s: TsaAnswerSeed, trail: Trail): Uint8Array {
  const by = rng.chance(0.1) ? setup.stranger : setup.tsa;
  const genTime = rng.chance(0.1)
    ? {
        ms: s.leaf.notBefore + 2_000 + rng.pick([0, 100, 120, 123, 999]),
        subMs: rng.pick(['', '', '5', '999', '000001']),
      }
    : rng.pick(genTimes(rng, s.leaf));
  const other = setup.seeds.find((x) => x !== s)!.signature;
  const data = rng.weighted<Uint8Array>([
    [8, s.signature],
    [1, other],
    [1, rng.bytes(rng.int(80))],
  ]);
  const imprintHash = rng.weighted([
    [6, 'sha256'],
    [1, 'sha384'],
    [1, 'sha512'],
  ] as const);
  const nonce = rng.weighted<bigint | undefined>([
    [6, NONCE],
    [1, undefined],
    [1, NONCE + 1n],
    [1, -NONCE],
    [1, NONCE + 2n ** 64n],
    [1, 0n],
  ]);
  const serial = rng.pick([7n, 0n, -5n, 1n, 2n ** 159n, 2n ** 160n]);
  const policy = rng.pick(['1.3.6.1.4.1.57264.2', '1.2.3.4', '2.999']);
  const embed = rng.pick<'leaf' | 'none' | 'chain' | 'root'>([
    'leaf',
    'leaf',
    'none',
    'chain',
    'root',
  ]);
  const [leafCert, rootCert] = by.authority.certChain;
  const embedCertificates =
    embed === 'none'
      ? []
      : embed === 'chain'
        ? [leafCert!, rootCert!]
        : embed === 'root'
          ? [rootCert!]
          : undefined;
  const granted = by.issue({
    data,
    genTime,
    imprintHash,
    ...(nonce !== undefined ? { nonce } : {}),
    serial,
    policy,
    ...(embedCertificates ? { embedCertificates } : {}),
  });
  const status = rng.weighted([
    [10, 0],
    [2, 1],
    [1, 2],
    [1, 3],
    [1, 5],
  ]);
  const text = rng.chance(0.2) ? [seq(utf8String('fuzz'))] : [];
  trail.push(
    `reissue: ${by === setup.tsa ? 'trusted' : 'unlisted'} TSA at ${typeof genTime === 'number' ? genTime : `${genTime.ms}+.${genTime.subMs}`}, imprint ${imprintHash}${data === s.signature ? '' : ' over other bytes'}, nonce ${String(nonce)}, serial ${serial}, policy ${policy}, embedded ${embed}, status ${status}${text.length ? ' with text' : ''}`,
  );
  if (status === 0 && text.length === 0) return granted;
  const token = rng.chance(0.9) ? [tokenOf(granted)] : [];
  return seq(seq(int(status), ...text), ...token);
}

export function mutateTsaAnswer(
  rng: Prng,
  setup: TsaAnswerSetup,
  s: TsaAnswerSeed,
  trail: Trail,
): Uint8Array {
  const r = rng.float();
  if (r < 0.6) return reissue(rng, setup, s, trail);
  const base = r < 0.8 ? s.answer : reissue(rng, setup, s, trail);
  return mutateDer(rng, base, trail, [s.answer, ...setup.tsa.authority.certChain]);
}

/**
 * What the signer does with the answer (`checkTimestamp`, with the nonce it sent and its
 * leaf); when it takes it, the bundle with the token must pass `verifyBundleReport`.
 */
export async function judgeTsaAnswer(
  setup: TsaAnswerSetup,
  s: TsaAnswerSeed,
  response: Uint8Array,
): Promise<IterationResult> {
  const checked = attemptSync(() =>
    checkTimestamp({ url: URL, response, nonce: NONCE }, s.signature, setup.trust, s.leaf),
  );
  if (checked.kind !== 'ok') return fromThrow(checked, response, 'checkTimestamp');
  const bundle: Bundle = {
    ...s.bundle,
    verificationMaterial: { ...s.bundle.verificationMaterial, rfc3161Timestamps: [response] },
  };
  // @sigstore/core reads a genTime only without a fraction or with three digits: the signer
  // warns about any other (collectTimestamps), and the peer must refuse exactly those.
  const digits = secondFraction(checked.value.time).length;
  return verifierTakes(bundle, s, setup.trust, response, 'a TSA answer', {
    trust: setup.peerTrust,
    artifact: s.artifact,
    ...(digits !== 0 && digits !== 3 ? { refuses: 'invalid time' } : {}),
  });
}

export function tsaAnswerTarget(setup: TsaAnswerSetup, defaultIterations: number): FuzzTarget {
  return seededTarget(
    'tsa-answer',
    defaultIterations,
    setup.seeds,
    (rng, s, trail) => mutateTsaAnswer(rng, setup, s, trail),
    (s, input) => judgeTsaAnswer(setup, s, input),
  );
}
