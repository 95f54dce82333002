/**
 * The tlog step alone, on entries the sandbox's Rekor v2 log writes in process: what each entry
 * declares about the signature (its hash, its key's PublicKeyDetails) is handed to the
 * signature step, which holds the signature to it (verify/algorithms.ts). A declaration dropped
 * here would let the signature step pick a hash on its own.
 */
import test from 'ava';
import { sha256 } from '../../src/crypto.js';
import { utf8 } from '../../src/util/encoding.js';
import { preAuthEncoding } from '../../src/bundle/dsse.js';
import { parseTransparencyLogEntryJson } from '../../src/bundle/parse.js';
import type { Bundle, BundleContent } from '../../src/bundle/model.js';
import { BUNDLE_V03_MEDIA_TYPE } from '../../src/bundle/serialize.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import type { VerifyInput, VerifyState } from '../../src/verify/context.js';
import type { VerificationPolicy } from '../../src/verify/policy.js';
import { verifyTlogStep } from '../../src/verify/tlog.js';
import { createEntryRequestV2 } from '../../src/sign/rekor-v2-client.js';
import { MemoryLogStorage } from '../../src/sandbox/authority/rekor.js';
import { LocalRekorV2Log } from '../../src/sandbox/authority/rekor-v2.js';
import { deriveV2AuthorityKeys } from '../../src/sandbox/authority/keys-v2.js';
import { seedFromString } from '../../src/sandbox/authority/keys.js';
import { CREATED_AT, NOW, makeAuthority, signerKey } from '../sandbox/authority/helpers.js';
import { certify } from '../helpers/authority-bundles.js';

const authority = makeAuthority('verify tlog step');
const signer = signerKey();
const log = new LocalRekorV2Log({
  key: deriveV2AuthorityKeys(seedFromString('verify tlog step')).rekorV2Log,
  storage: new MemoryLogStorage(),
  baseUrl: 'https://log2099-1.rekor.test.invalid',
  validFrom: CREATED_AT,
});
const KEY_DETAILS = 'PKIX_ECDSA_P256_SHA_256';

const certDer = certify(authority, signer.key, 'org/repo', NOW);

/** The tlog step over `content` logged as the signer logs it (its own request builder). */
function tlogStep(content: BundleContent, artifact?: Uint8Array) {
  const request = createEntryRequestV2(content, certDer, KEY_DETAILS);
  const bundle: Bundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    version: '0.3',
    verificationMaterial: {
      content: { kind: 'certificate', certificate: certDer },
      tlogEntries: [parseTransparencyLogEntryJson(log.createEntry(request, { now: NOW }).entry)],
      rfc3161Timestamps: [],
    },
    content,
  };
  const trust: TrustMaterial = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    certificateAuthorities: [],
    tlogs: [log.logInstance()],
    ctlogs: [],
    timestampAuthorities: [],
  };
  const policy = { requireTlog: true, tlogThreshold: 1 } as VerificationPolicy;
  // The tlog step reads the artifact only through the digest function it is given.
  const input: VerifyInput = {
    bundle,
    artifact: { kind: 'bytes', data: artifact ?? new Uint8Array() },
    trust,
    policy,
  };
  const leaf = parseCertificate(certDer);
  const state: VerifyState = {
    signingKey: { kind: 'certificate', leaf, intermediates: [], key: leaf.publicKey },
    verifiedTimes: [{ source: 'rfc3161', time: NOW, authority: 'test TSA' }],
    warnings: [],
  } as unknown as VerifyState;
  return verifyTlogStep(input, state, artifact ? () => sha256(artifact) : undefined);
}

test('a Rekor v2 dsse entry declares its key details; a hashedrekord entry its hash and key details', (t) => {
  const payload = utf8.encode('{"_type":"https://in-toto.io/Statement/v1"}');
  const payloadType = 'application/vnd.in-toto+json';
  const sig = signer.key.sign(preAuthEncoding(payloadType, payload));
  const [dsse] = tlogStep({
    kind: 'dsseEnvelope',
    payload,
    payloadType,
    signatures: [{ sig, keyid: '' }],
  });
  t.is(dsse?.kind, 'dsse/0.0.2');
  t.is(dsse?.rekor, 'v2');
  // The payload's hash says nothing about the signature: only the key details are declared.
  t.deepEqual(dsse?.declared, { keyDetails: KEY_DETAILS });

  const data = utf8.encode('an artifact');
  const [hashed] = tlogStep(
    {
      kind: 'messageSignature',
      messageDigest: { algorithm: 'SHA2_256', digest: sha256(data) },
      signature: signer.key.sign(data),
    },
    data,
  );
  t.is(hashed?.kind, 'hashedrekord/0.0.2');
  t.deepEqual(hashed?.declared, { hash: 'SHA2_256', keyDetails: KEY_DETAILS });
});
