/**
 * Which artifacts a bundle is about, as the export archive and OCI lookups index them: a
 * message signature's SHA-256 digest, or an in-toto statement's SHA-256 subjects.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { artifactDigestsOf } from '../../src/bundle/artifact-digests.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../../src/bundle/intoto.js';
import type { Bundle, BundleContent, HashAlgorithm } from '../../src/bundle/model.js';
import { utf8 } from '../../src/util/encoding.js';

const A = 'ab'.repeat(32);
const B = 'cd'.repeat(32);

function bundleWith(content: BundleContent): Bundle {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    version: '0.3',
    verificationMaterial: {
      content: { kind: 'publicKey', hint: '' },
      tlogEntries: [],
      rfc3161Timestamps: [],
    },
    content,
  };
}

const signed = (algorithm: HashAlgorithm, hex: string): Bundle =>
  bundleWith({
    kind: 'messageSignature',
    messageDigest: { algorithm, digest: new Uint8Array(Buffer.from(hex, 'hex')) },
    signature: Uint8Array.of(1),
  });

const dsse = (payloadType: string, statement: unknown): Bundle =>
  bundleWith({
    kind: 'dsseEnvelope',
    payloadType,
    payload: utf8.encode(JSON.stringify(statement)),
    signatures: [{ sig: Uint8Array.of(1), keyid: '' }],
  });

const statement = (subject: unknown[]) => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject,
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: {},
});

test('a message signature is about its SHA-256 digest; another algorithm or none names no artifact', (t) => {
  t.deepEqual(artifactDigestsOf(signed('SHA2_256', A)), [`sha256:${A}`]);
  t.deepEqual(artifactDigestsOf(signed('SHA2_384', 'ab'.repeat(48))), []);
  t.deepEqual(artifactDigestsOf(signed('SHA2_512', 'ab'.repeat(64))), []);
  const none = bundleWith({
    kind: 'messageSignature',
    messageDigest: undefined,
    signature: Uint8Array.of(1),
  });
  t.deepEqual(artifactDigestsOf(none), []);
});

test('an in-toto statement is about its SHA-256 subjects: lower-cased, once each, sorted', (t) => {
  const b = dsse(
    IN_TOTO_PAYLOAD_TYPE,
    statement([
      { name: 'b', digest: { sha256: B.toUpperCase() } },
      { name: 'a', digest: { sha256: A } },
      { name: 'a-again', digest: { sha256: A, sha512: 'ef'.repeat(64) } },
      { name: 'sha512-only', digest: { sha512: 'ef'.repeat(64) } },
    ]),
  );
  t.deepEqual(artifactDigestsOf(b), [`sha256:${A}`, `sha256:${B}`]);
});

test('a sha256 subject that is not 64 hex digits names no artifact: the statement is refused', (t) => {
  for (const sha256 of ['zz'.repeat(32), A.slice(2), `${A}00`]) {
    const b = dsse(IN_TOTO_PAYLOAD_TYPE, statement([{ name: 'a', digest: { sha256 } }]));
    const e = t.throws(() => artifactDigestsOf(b), { instanceOf: StellaError }, sha256);
    t.is(e.code, 'BUNDLE_MALFORMED');
    t.regex(e.message, /digest\.sha256: expected 64 hex characters/);
  }
});

test('a DSSE envelope of another payload type names no artifact', (t) => {
  const b = dsse('application/vnd.example+json', statement([{ name: 'a', digest: { sha256: A } }]));
  t.deepEqual(artifactDigestsOf(b), []);
});
