/**
 * resolveSigningKey (step 0: which key signed the bundle) and signatureBytes (what a timestamp
 * covers). A key bundle needs --key and a certificate bundle refuses it; a certificate that does
 * not parse is an error, never a fall back to "raw key" mode (cosign GHSA-fx35-mq7g-6g98).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../src/errors.js';
import { parseBundle } from '../../src/bundle/parse.js';
import type { Bundle, DsseEnvelopeContent } from '../../src/bundle/model.js';
import { buildPolicy } from '../../src/verify/policy.js';
import { resolveSigningKey, signatureBytes } from '../../src/verify/signing-key.js';
import { SAMPLES } from '../helpers/samples.js';

const read = (f: string) => readFileSync(path.join(SAMPLES, f));
const keyPolicy = buildPolicy({ publicKeyPem: read('key.pub').toString('utf8') });
const certPolicy = buildPolicy({
  certificateIdentity: '.*',
  certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
  allowBroadIdentity: true,
});
const keyBundle = parseBundle(read('managed-key.sigstore.json'));
const certBundle = parseBundle(read('blob.sigstore.json'));
const dsseBundle = parseBundle(read('attestation.sigstore.json'));

function leafDerOf(b: Bundle): Uint8Array {
  const m = b.verificationMaterial.content;
  if (m.kind !== 'certificate')
    throw new Error('sample is expected to be a v0.3 certificate bundle');
  return m.certificate;
}

/** The same bundle with its signing material replaced. */
function withMaterial(b: Bundle, content: Bundle['verificationMaterial']['content']): Bundle {
  return { ...b, verificationMaterial: { ...b.verificationMaterial, content } };
}

function refusal(t: import('ava').ExecutionContext, f: () => unknown) {
  const e = t.throws(f, { instanceOf: StellaError });
  return { code: e?.code, check: e?.check, message: e?.message };
}

test('a key bundle without --key is KEY_MISMATCH in the policy check, naming the hint and the flag', (t) => {
  const hint = (keyBundle.verificationMaterial.content as { hint: string }).hint;
  t.deepEqual(
    refusal(t, () => resolveSigningKey(keyBundle, certPolicy)),
    {
      code: 'KEY_MISMATCH',
      check: 'policy',
      message: `bundle is signed with a managed key (hint "${hint}") but no key was given: use --key`,
    },
  );
});

test('a key bundle with --key: the given key and its SPKI, exported once per key', (t) => {
  const first = resolveSigningKey(keyBundle, keyPolicy);
  if (first.kind !== 'publicKey') return t.fail('a key bundle resolved to a certificate');
  t.true(first.key === keyPolicy.publicKey);
  t.deepEqual(
    Buffer.from(first.spki),
    keyPolicy.publicKey!.export({ format: 'der', type: 'spki' }),
  );
  const second = resolveSigningKey(keyBundle, keyPolicy);
  if (second.kind !== 'publicKey') return t.fail('second resolution is not a key');
  t.is(second.spki, first.spki, 'the SPKI is exported once and reused');
});

test('a certificate bundle with --key is KEY_MISMATCH, naming the flags to use instead', (t) => {
  t.deepEqual(
    refusal(t, () => resolveSigningKey(certBundle, keyPolicy)),
    {
      code: 'KEY_MISMATCH',
      check: 'policy',
      message:
        'bundle is signed with a certificate but --key was given: use --certificate-identity and --certificate-oidc-issuer',
    },
  );
});

test('a v0.3 certificate: the leaf, no intermediates, and the key of the leaf', (t) => {
  const k = resolveSigningKey(certBundle, certPolicy);
  if (k.kind !== 'certificate') return t.fail('not a certificate key');
  t.deepEqual(Buffer.from(k.leaf.der), Buffer.from(leafDerOf(certBundle)));
  t.deepEqual(k.intermediates, []);
  t.is(k.key, k.leaf.publicKey);
  t.is(k.key.asymmetricKeyType, 'ec');
});

test('a v0.1 chain: the first certificate is the leaf, the rest are intermediates in order', (t) => {
  const leaf = leafDerOf(certBundle);
  const other = leafDerOf(dsseBundle);
  const chained = withMaterial(certBundle, {
    kind: 'x509CertificateChain',
    certificates: [leaf, other, leaf],
  });
  const k = resolveSigningKey(chained, certPolicy);
  if (k.kind !== 'certificate') return t.fail('not a certificate key');
  t.deepEqual(Buffer.from(k.leaf.der), Buffer.from(leaf));
  t.deepEqual(
    k.intermediates.map((c) => Buffer.from(c.der)),
    [Buffer.from(other), Buffer.from(leaf)],
  );
});

test('an empty certificate chain is BUNDLE_MALFORMED', (t) => {
  const empty = withMaterial(certBundle, { kind: 'x509CertificateChain', certificates: [] });
  t.deepEqual(
    refusal(t, () => resolveSigningKey(empty, certPolicy)),
    {
      code: 'BUNDLE_MALFORMED',
      check: 'bundle',
      message: 'bundle certificate chain is empty',
    },
  );
});

test('a leaf or an intermediate that is not a certificate is refused, never read as a raw key', (t) => {
  // An SPKI is a valid DER structure and a valid key: exactly what a "raw key" fallback accepts.
  const spki = new Uint8Array(keyPolicy.publicKey!.export({ format: 'der', type: 'spki' }));
  for (const [label, certificates] of [
    ['leaf', [spki]],
    ['intermediate', [leafDerOf(certBundle), spki]],
  ] as const) {
    const b = withMaterial(certBundle, {
      kind: 'x509CertificateChain',
      certificates: [...certificates],
    });
    const { code, check } = refusal(t, () => resolveSigningKey(b, certPolicy));
    t.is(code, 'CERTIFICATE_MALFORMED', label);
    t.is(check, 'certificate-chain', label);
  }
  const v03 = withMaterial(certBundle, { kind: 'certificate', certificate: spki });
  t.is(refusal(t, () => resolveSigningKey(v03, certPolicy)).code, 'CERTIFICATE_MALFORMED');
});

test('signatureBytes: the message signature, or the one DSSE signature', (t) => {
  if (certBundle.content.kind !== 'messageSignature')
    return t.fail('sample is not a message signature');
  t.is(signatureBytes(certBundle), certBundle.content.signature);
  const dsse = dsseBundle.content as DsseEnvelopeContent;
  t.is(dsse.kind, 'dsseEnvelope');
  t.is(dsse.signatures.length, 1);
  t.is(signatureBytes(dsseBundle), dsse.signatures[0]!.sig);
});

test('signatureBytes: a DSSE envelope with no signature or two is DSSE_INVALID, naming the count', (t) => {
  const dsse = dsseBundle.content as DsseEnvelopeContent;
  const one = dsse.signatures[0]!;
  for (const signatures of [[], [one, one]]) {
    const b: Bundle = { ...dsseBundle, content: { ...dsse, signatures } };
    t.deepEqual(
      refusal(t, () => signatureBytes(b)),
      {
        code: 'DSSE_INVALID',
        check: 'signature',
        message: `DSSE envelope must carry exactly one signature, found ${signatures.length}`,
      },
    );
  }
});
