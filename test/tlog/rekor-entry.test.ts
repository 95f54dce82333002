import test, { type ExecutionContext } from 'ava';
import { createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import { sha256, digest } from '../../src/crypto.js';
import { toBase64, toHex, utf8 } from '../../src/util/encoding.js';
import { preAuthEncoding } from '../../src/bundle/dsse.js';
import type {
  Bundle,
  DsseEnvelopeContent,
  MessageSignatureContent,
  TransparencyLogEntry,
} from '../../src/bundle/model.js';
import { canonicalizeBytes } from '../../src/util/canonical-json.js';
import { leafHash } from '../../src/tlog/merkle.js';
import {
  buildDsseBody,
  buildHashedRekordBody,
  entryUuid,
  parseRekorBody,
  verifyEntryBinding,
  type BindingExpectations,
} from '../../src/tlog/rekor-entry.js';
import { conformanceCase, sharedTest } from '../helpers/shared.js';
import { leafDer, loadCase } from './helpers.js';
import { derToPem as toPem } from '../../src/util/pem.js';

// --- a self-contained signer: an ECDSA key standing in for a certificate and for a bare key ---

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
const otherSpki = new Uint8Array(other.publicKey.export({ format: 'der', type: 'spki' }));
// The binding compares DER bytes; any DER stands in for a certificate here.
const certDer = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
const otherCertDer = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x02]);

const artifact = utf8.encode('hello, log\n');
const artifactDigest = sha256(artifact);
const msgSig = new Uint8Array(nodeSign('sha256', artifact, privateKey));

const payload = utf8.encode('{"_type":"https://in-toto.io/Statement/v1"}');
const payloadType = 'application/vnd.in-toto+json';
const dsseSig = new Uint8Array(
  nodeSign('sha256', preAuthEncoding(payloadType, payload), privateKey),
);
const envelope: DsseEnvelopeContent = {
  kind: 'dsseEnvelope',
  payload,
  payloadType,
  signatures: [{ sig: dsseSig, keyid: '' }],
};

function bundleOf(content: Bundle['content']): Bundle {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    version: '0.3',
    verificationMaterial: {
      content: { kind: 'certificate', certificate: certDer },
      tlogEntries: [],
      rfc3161Timestamps: [],
    },
    content,
  };
}
const msgBundle = bundleOf({
  kind: 'messageSignature',
  messageDigest: { algorithm: 'SHA2_256', digest: artifactDigest },
  signature: msgSig,
});
const dsseBundle = bundleOf(envelope);

function entryOf(body: Uint8Array): TransparencyLogEntry {
  const b = JSON.parse(Buffer.from(body).toString()) as { kind: string; apiVersion: string };
  return {
    logIndex: 1,
    logId: new Uint8Array(32),
    kindVersion: { kind: b.kind, version: b.apiVersion },
    integratedTime: 0,
    inclusionPromise: undefined,
    inclusionProof: undefined,
    canonicalizedBody: body,
  };
}

function refused(
  t: ExecutionContext,
  fn: () => unknown,
  code: ErrorCode,
  re?: RegExp | string,
): void {
  const err = t.throws(fn, { instanceOf: StellaError });
  t.is(err?.code, code);
  if (typeof re === 'string') t.is(err?.message, re);
  else if (re) t.regex(err?.message ?? '', re);
}

/** The real artifact's digest in whichever algorithm the entry declares. */
const digestOfArtifact = (a: 'SHA2_256' | 'SHA2_384' | 'SHA2_512'): Uint8Array =>
  digest(a === 'SHA2_256' ? 'sha256' : a === 'SHA2_384' ? 'sha384' : 'sha512', artifact);
const certExpect: BindingExpectations = {
  certificateDer: certDer,
  artifactDigest: digestOfArtifact,
};

// --- built bodies bind ---

for (const version of ['0.0.1', '0.0.2'] as const) {
  test(`hashedrekord ${version}: built body binds to its bundle (certificate and key)`, (t) => {
    const body = buildHashedRekordBody({
      version,
      digest: { algorithm: 'SHA2_256', digest: artifactDigest },
      signature: msgSig,
      verifier: { certificateDer: certDer },
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    });
    const parsed = verifyEntryBinding(entryOf(body), msgBundle, certExpect);
    t.is(parsed.kind, 'hashedrekord');
    const keyBody = buildHashedRekordBody({
      version,
      digest: { algorithm: 'SHA2_256', digest: artifactDigest },
      signature: msgSig,
      verifier: { publicKeySpki: spki },
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    });
    t.notThrows(() => verifyEntryBinding(entryOf(keyBody), msgBundle, { publicKeySpki: spki }));
  });

  test(`dsse ${version}: built body binds to its envelope`, (t) => {
    const body = buildDsseBody({
      version,
      envelope,
      verifier: { certificateDer: certDer },
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    });
    t.is(verifyEntryBinding(entryOf(body), dsseBundle, certExpect).kind, 'dsse');
  });
}

test('a Rekor v2 body is never built without keyDetails (v2 verifiers carry it); v1 bodies have no such field', (t) => {
  const message = 'Rekor v2 bodies need keyDetails (e.g. PKIX_ECDSA_P256_SHA_256)';
  const hashed = (version: '0.0.1' | '0.0.2') =>
    buildHashedRekordBody({
      version,
      digest: { algorithm: 'SHA2_256', digest: artifactDigest },
      signature: msgSig,
      verifier: { certificateDer: certDer },
    });
  const dsse = (version: '0.0.1' | '0.0.2') =>
    buildDsseBody({ version, envelope, verifier: { certificateDer: certDer } });
  refused(t, () => hashed('0.0.2'), 'INPUT_INVALID', message);
  refused(t, () => dsse('0.0.2'), 'INPUT_INVALID', message);
  t.notThrows(() => hashed('0.0.1'));
  t.notThrows(() => dsse('0.0.1'));
});

test('hashedrekord 0.0.2 over DSSE (Rekor v2): digest of PAE binds', (t) => {
  const body = buildHashedRekordBody({
    version: '0.0.2',
    digest: { algorithm: 'SHA2_256', digest: sha256(preAuthEncoding(payloadType, payload)) },
    signature: dsseSig,
    verifier: { certificateDer: certDer },
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
  });
  t.notThrows(() => verifyEntryBinding(entryOf(body), dsseBundle, { certificateDer: certDer }));
  const overPayload = buildHashedRekordBody({
    version: '0.0.2',
    digest: { algorithm: 'SHA2_256', digest: sha256(payload) },
    signature: dsseSig,
    verifier: { certificateDer: certDer },
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
  });
  refused(
    t,
    () => verifyEntryBinding(entryOf(overPayload), dsseBundle, { certificateDer: certDer }),
    'TLOG_BODY_MISMATCH',
    'tlog entry digest does not match the DSSE pre-authentication encoding',
  );
  const v1 = buildHashedRekordBody({
    version: '0.0.1',
    digest: { algorithm: 'SHA2_256', digest: sha256(preAuthEncoding(payloadType, payload)) },
    signature: dsseSig,
    verifier: { certificateDer: certDer },
  });
  refused(
    t,
    () => verifyEntryBinding(entryOf(v1), dsseBundle, { certificateDer: certDer }),
    'TLOG_BODY_MISMATCH',
    /hashedrekord\/0\.0\.1 cannot record a DSSE envelope/,
  );
});

// --- mismatches, one field at a time ---

test('hashedrekord mismatches name the field', (t) => {
  const mk = (
    o: Partial<Parameters<typeof buildHashedRekordBody>[0]>,
    version: '0.0.1' | '0.0.2' = '0.0.1',
  ) =>
    entryOf(
      buildHashedRekordBody({
        version,
        digest: { algorithm: 'SHA2_256', digest: artifactDigest },
        signature: msgSig,
        verifier: { certificateDer: certDer },
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        ...o,
      }),
    );
  const M = 'TLOG_BODY_MISMATCH';
  refused(
    t,
    () =>
      verifyEntryBinding(
        mk({ signature: msgSig.map((v, i) => (i === 10 ? v ^ 1 : v)) }),
        msgBundle,
        certExpect,
      ),
    M,
    'tlog entry signature does not match the bundle signature',
  );
  refused(
    t,
    () =>
      verifyEntryBinding(mk({ verifier: { certificateDer: otherCertDer } }), msgBundle, certExpect),
    M,
    'tlog entry certificate does not match the bundle certificate',
  );
  refused(
    t,
    () => verifyEntryBinding(mk({ verifier: { publicKeySpki: spki } }), msgBundle, certExpect),
    M,
    /records a public key, but the bundle is signed with a certificate/,
  );
  refused(
    t,
    () =>
      verifyEntryBinding(mk({ verifier: { certificateDer: certDer } }), msgBundle, {
        publicKeySpki: spki,
      }),
    M,
    /records a certificate, but the bundle is verified with a public key/,
  );
  refused(
    t,
    () =>
      verifyEntryBinding(mk({ verifier: { publicKeySpki: otherSpki } }), msgBundle, {
        publicKeySpki: spki,
      }),
    M,
    'tlog entry public key does not match the verification key',
  );
  refused(
    t,
    () =>
      verifyEntryBinding(
        mk({ digest: { algorithm: 'SHA2_256', digest: sha256(utf8.encode('other')) } }),
        msgBundle,
        certExpect,
      ),
    M,
    /^tlog entry digest does not match the bundle message digest: the entry records sha256:[0-9a-f]{64}, the bundle has sha256:[0-9a-f]{64}$/,
  );
  refused(
    t,
    () =>
      verifyEntryBinding(
        mk({ digest: { algorithm: 'SHA2_384', digest: digest('sha384', artifact) } }),
        msgBundle,
        certExpect,
      ),
    M,
    'tlog entry digest algorithm sha384 does not match the bundle message digest algorithm SHA2_256',
  );
  refused(
    t,
    () =>
      verifyEntryBinding(
        mk({ digest: { algorithm: 'SHA2_384', digest: digest('sha384', artifact) } }, '0.0.2'),
        msgBundle,
        certExpect,
      ),
    M,
    /digest algorithm SHA2_384 does not match/,
  );
  // Bundle digest agrees with the entry, but the real artifact differs (E42).
  refused(
    t,
    () =>
      verifyEntryBinding(mk({}), msgBundle, {
        certificateDer: certDer,
        artifactDigest: () => sha256(utf8.encode('x')),
      }),
    M,
    /^tlog entry digest does not match the artifact digest: the entry records sha256:[0-9a-f]{64}, the artifact is sha256:[0-9a-f]{64} \(is this the artifact that was signed\?\)$/,
  );
  // No digest to compare at all.
  const noDigest = bundleOf({
    kind: 'messageSignature',
    messageDigest: undefined,
    signature: msgSig,
  });
  refused(
    t,
    () => verifyEntryBinding(mk({}), noDigest, { certificateDer: certDer }),
    M,
    /no message digest in the bundle and no artifact digest/,
  );
  t.notThrows(() => verifyEntryBinding(mk({}), noDigest, certExpect));
  // Without a bundle digest the artifact is hashed with the algorithm the entry declares.
  const sha512Entry = mk({ digest: { algorithm: 'SHA2_512', digest: digest('sha512', artifact) } });
  t.notThrows(() => verifyEntryBinding(sha512Entry, noDigest, certExpect));
  refused(
    t,
    () =>
      verifyEntryBinding(sha512Entry, noDigest, {
        certificateDer: certDer,
        artifactDigest: (a) => (a === 'SHA2_512' ? digest('sha512', utf8.encode('x')) : undefined),
      }),
    M,
    /^tlog entry digest does not match the artifact digest: the entry records sha512:[0-9a-f]{128}, the artifact is sha512:/,
  );
  refused(t, () => verifyEntryBinding(mk({}), msgBundle, {}), 'INPUT_INVALID');
});

test('kind/version must match the entry and the bundle content (E33)', (t) => {
  const body = buildHashedRekordBody({
    version: '0.0.1',
    digest: { algorithm: 'SHA2_256', digest: artifactDigest },
    signature: msgSig,
    verifier: { certificateDer: certDer },
  });
  const e = entryOf(body);
  refused(
    t,
    () =>
      verifyEntryBinding(
        { ...e, kindVersion: { kind: 'hashedrekord', version: '0.0.2' } },
        msgBundle,
        certExpect,
      ),
    'TLOG_BODY_MISMATCH',
    'tlog entry kind/version "hashedrekord/0.0.2" does not match its body ("hashedrekord/0.0.1")',
  );
  refused(
    t,
    () =>
      verifyEntryBinding(
        { ...e, kindVersion: { kind: 'dsse', version: '0.0.1' } },
        msgBundle,
        certExpect,
      ),
    'TLOG_BODY_MISMATCH',
    /"dsse\/0\.0\.1" does not match its body/,
  );
  refused(
    t,
    () => verifyEntryBinding(e, dsseBundle, certExpect),
    'TLOG_BODY_MISMATCH',
    /cannot record a DSSE envelope/,
  );
  const d = entryOf(
    buildDsseBody({ version: '0.0.1', envelope, verifier: { certificateDer: certDer } }),
  );
  refused(
    t,
    () => verifyEntryBinding(d, msgBundle, certExpect),
    'TLOG_BODY_MISMATCH',
    'tlog entry kind dsse/0.0.1 cannot record a message signature',
  );
});

for (const version of ['0.0.1', '0.0.2'] as const) {
  test(`dsse ${version} mismatches name the field`, (t) => {
    const e = entryOf(
      buildDsseBody({
        version,
        envelope,
        verifier: { certificateDer: certDer },
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      }),
    );
    const M = 'TLOG_BODY_MISMATCH';
    const withPayload = (p: Uint8Array) => bundleOf({ ...envelope, payload: p });
    refused(
      t,
      () => verifyEntryBinding(e, withPayload(utf8.encode('{}')), certExpect),
      M,
      'tlog entry payload hash does not match the DSSE payload',
    );
    refused(
      t,
      () =>
        verifyEntryBinding(
          e,
          bundleOf({ ...envelope, signatures: [{ sig: msgSig, keyid: '' }] }),
          certExpect,
        ),
      M,
      'tlog entry signature does not match the bundle signature',
    );
    refused(
      t,
      () =>
        verifyEntryBinding(
          e,
          bundleOf({ ...envelope, signatures: [envelope.signatures[0]!, envelope.signatures[0]!] }),
          certExpect,
        ),
      M,
      /records 1 signature\(s\) and the envelope has 2/,
    );
    refused(
      t,
      () => verifyEntryBinding(e, dsseBundle, { certificateDer: otherCertDer }),
      M,
      'tlog entry certificate does not match the bundle certificate',
    );
  });
}

function intotoBody(
  o: {
    payloadType?: string;
    payload?: Uint8Array | null;
    sig?: string;
    payloadHash?: string | null;
  } = {},
): Uint8Array {
  return canonicalizeBytes({
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: {
          // null: left out, as Rekor leaves the payload out of the entries it stores.
          ...(o.payload === null
            ? {}
            : { payload: toBase64(utf8.encode(toBase64(o.payload ?? payload))) }),
          payloadType: o.payloadType ?? payloadType,
          signatures: [
            {
              publicKey: toBase64(utf8.encode(toPem(certDer, 'CERTIFICATE'))),
              sig: o.sig ?? toBase64(utf8.encode(toBase64(dsseSig))),
            },
          ],
        },
        hash: {
          algorithm: 'sha256',
          value: toHex(sha256(utf8.encode('raw envelope bytes, not recomputable'))),
        },
        ...(o.payloadHash === null
          ? {}
          : {
              payloadHash: { algorithm: 'sha256', value: o.payloadHash ?? toHex(sha256(payload)) },
            }),
      },
    },
  });
}

test('intoto 0.0.2: the payload or its hash may be left out, not both', (t) => {
  // Rekor stores intoto entries without the payload: the hash alone binds them.
  const hashOnly = parseRekorBody(intotoBody({ payload: null }));
  t.is(hashOnly.kind === 'intoto' ? hashOnly.payload : 'not intoto', undefined);
  t.notThrows(() =>
    verifyEntryBinding(entryOf(intotoBody({ payload: null })), dsseBundle, certExpect),
  );
  const payloadOnly = parseRekorBody(intotoBody({ payloadHash: null }));
  t.deepEqual(payloadOnly.kind === 'intoto' ? payloadOnly.payload : undefined, payload);
  t.notThrows(() =>
    verifyEntryBinding(entryOf(intotoBody({ payloadHash: null })), dsseBundle, certExpect),
  );
  const e = t.throws(() => parseRekorBody(intotoBody({ payload: null, payloadHash: null })), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'BUNDLE_MALFORMED');
  t.regex(e?.message ?? '', /intoto entry has neither payload nor payloadHash/);
});

test('intoto 0.0.2: double-base64 fields decode and bind; each field is compared', (t) => {
  const body = parseRekorBody(intotoBody());
  t.is(body.kind, 'intoto');
  if (body.kind === 'intoto') {
    t.deepEqual(body.payload, payload);
    t.deepEqual(body.signatures[0]!.signature, dsseSig);
  }
  t.notThrows(() => verifyEntryBinding(entryOf(intotoBody()), dsseBundle, certExpect));
  const M = 'TLOG_BODY_MISMATCH';
  refused(
    t,
    () =>
      verifyEntryBinding(
        entryOf(intotoBody({ payloadType: 'application/json' })),
        dsseBundle,
        certExpect,
      ),
    M,
    'tlog entry payload type does not match the DSSE payload type',
  );
  refused(
    t,
    () =>
      verifyEntryBinding(
        entryOf(intotoBody({ payload: utf8.encode('{}') })),
        dsseBundle,
        certExpect,
      ),
    M,
    'tlog entry payload does not match the DSSE payload',
  );
  refused(
    t,
    () =>
      verifyEntryBinding(
        entryOf(intotoBody({ payloadHash: toHex(sha256(utf8.encode('x'))) })),
        dsseBundle,
        certExpect,
      ),
    M,
    'tlog entry payload hash does not match the DSSE payload',
  );
  // A single-encoded signature (valid body, cannot match any envelope signature).
  refused(
    t,
    () =>
      verifyEntryBinding(entryOf(intotoBody({ sig: toBase64(dsseSig) })), dsseBundle, certExpect),
    M,
    'tlog entry signature does not match the bundle signature',
  );
});

// --- strict parsing ---

test('parser refuses non-canonical, duplicate-key, unknown-field and unknown-kind bodies', (t) => {
  const good = buildHashedRekordBody({
    version: '0.0.1',
    digest: { algorithm: 'SHA2_256', digest: artifactDigest },
    signature: msgSig,
    verifier: { certificateDer: certDer },
  });
  const text = Buffer.from(good).toString();
  const B = 'BUNDLE_MALFORMED';
  refused(
    t,
    () => parseRekorBody(utf8.encode(' ' + text)),
    B,
    'tlog entry body is not canonical JSON (RFC 8785)',
  );
  // A byte order mark before canonical JSON is bytes no log writes (before: dropped by the
  // decoder, and the body passed as canonical).
  refused(
    t,
    () => parseRekorBody(utf8.encode('\ufeff' + text)),
    B,
    /^malformed JSON in tlog entry body: the input starts with a byte order mark/,
  );
  refused(
    t,
    () =>
      parseRekorBody(
        utf8.encode(
          text.replace('{"apiVersion":"0.0.1",', '{"kind":"hashedrekord","apiVersion":"0.0.1",'),
        ),
      ),
    B,
  );
  refused(
    t,
    () =>
      parseRekorBody(
        utf8.encode(text.replace('"kind":"hashedrekord"', '"kind":"x","kind":"hashedrekord"')),
      ),
    B,
    /duplicate/i,
  );
  refused(
    t,
    () => parseRekorBody(canonicalizeBytes({ ...JSON.parse(text), extra: 1 })),
    B,
    /unknown field body\.extra/,
  );
  refused(
    t,
    () => parseRekorBody(canonicalizeBytes({ ...JSON.parse(text), kind: 'rekord' })),
    'BUNDLE_UNSUPPORTED',
    /unsupported kind\/apiVersion "rekord\/0\.0\.1"/,
  );
  refused(
    t,
    () => parseRekorBody(canonicalizeBytes({ ...JSON.parse(text), apiVersion: '0.0.3' })),
    'BUNDLE_UNSUPPORTED',
  );
  // A stranger's value is quoted cut, not whole: a 70 KB kind made a 70 KB error line.
  const huge = 'x'.repeat(70_000);
  refused(
    t,
    () => parseRekorBody(canonicalizeBytes({ ...JSON.parse(text), kind: huge })),
    'BUNDLE_UNSUPPORTED',
    /^tlog entry body: unsupported kind\/apiVersion "x{200}"… \(70006 characters\)$/,
  );
  const j = JSON.parse(text) as {
    spec: {
      data: { hash: { value: string; algorithm: string } };
      signature: { content: string; publicKey: { content: string } };
    };
  };
  const variant = (f: (x: typeof j) => void) => {
    const c = JSON.parse(text) as typeof j;
    f(c);
    return canonicalizeBytes(c);
  };
  refused(
    t,
    () =>
      parseRekorBody(variant((c) => (c.spec.data.hash.value = c.spec.data.hash.value.slice(2)))),
    B,
    /not a 32-byte hex digest/,
  );
  refused(
    t,
    () => parseRekorBody(variant((c) => (c.spec.data.hash.algorithm = huge))),
    B,
    /^tlog entry body: spec\.data\.hash\.algorithm "x{200}"… \(70000 characters\) is not supported$/,
  );
  refused(
    t,
    () => parseRekorBody(variant((c) => (c.spec.data.hash.algorithm = 'md5'))),
    B,
    /algorithm "md5" is not supported/,
  );
  refused(
    t,
    () => parseRekorBody(variant((c) => (c.spec.signature.content = 'not base64!'))),
    B,
    /invalid base64/,
  );
  refused(
    t,
    () =>
      parseRekorBody(
        variant(
          (c) =>
            (c.spec.signature.publicKey.content = toBase64(
              utf8.encode('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n'),
            )),
        ),
      ),
    B,
    /not a single PEM certificate or public key/,
  );
  const twoPem = toPem(certDer, 'CERTIFICATE') + toPem(certDer, 'CERTIFICATE');
  refused(
    t,
    () =>
      parseRekorBody(
        variant((c) => (c.spec.signature.publicKey.content = toBase64(utf8.encode(twoPem)))),
      ),
    B,
    /not a single PEM/,
  );
  refused(t, () => parseRekorBody(utf8.encode('[]')), B);
  refused(t, () => parseRekorBody(new Uint8Array([0xff])), B);
  // JSON text that has no canonical form at all (found by the fuzz test): malformed, not the
  // caller's INPUT_INVALID, and never a crash.
  refused(
    t,
    () =>
      parseRekorBody(
        utf8.encode(text.replace('"kind":"hashedrekord"', '"kind":"hashedrekord\\ud800"')),
      ),
    B,
    /not canonical JSON \(RFC 8785\): .*lone surrogate/,
  );
  refused(
    t,
    () => parseRekorBody(utf8.encode(text.replace('"apiVersion":"0.0.1"', '"apiVersion":1e400'))),
    B,
    /not canonical JSON \(RFC 8785\): .*Infinity/,
  );
});

test('entry UUID is the hex leaf hash, tree-ID prefixed on sharded logs', (t) => {
  const body = utf8.encode('{}');
  t.is(entryUuid(body), toHex(leafHash(body)));
  t.is(entryUuid(body, 0x24296fb24b8ad77an), '24296fb24b8ad77a' + toHex(leafHash(body)));
  t.is(entryUuid(body, 1n).slice(0, 16), '0000000000000001');
});

// --- real bodies (shared conformance data) ---

function keyPub(name: string): Uint8Array {
  return new Uint8Array(
    createPublicKey(readFileSync(path.join(conformanceCase(name), 'key.pub'))).export({
      format: 'der',
      type: 'spki',
    }),
  );
}

function expectOf(name: string, b: Bundle): BindingExpectations {
  const der = leafDer(b);
  return der ? { certificateDer: der } : { publicKeySpki: keyPub(name) };
}

const BINDS = [
  'happy-path-v0.1',
  'happy-path-v0.3',
  'happy-path-intoto-in-dsse-v3',
  'intoto-expired-certificate_fail',
  'rekor2-happy-path',
  'rekor2-dsse-happy-path',
  'managed-key-happy-path',
  'bundle-with-sct-with-extensions',
];
for (const name of BINDS) {
  sharedTest(`shared conformance body binds: ${name}`, (t) => {
    const { bundle } = loadCase(name);
    for (const e of bundle.verificationMaterial.tlogEntries)
      t.notThrows(() => verifyEntryBinding(e, bundle, expectOf(name, bundle)));
  });
}

const MISMATCH: [string, RegExp][] = [
  ['signature-mismatch_fail', /signature does not match the bundle signature/],
  ['message-digest-mismatch_fail', /digest does not match the bundle message digest/],
  ['dsse-mismatch-envelope_fail', /signature does not match the bundle signature/],
  ['intoto-log-entry-mismatch_fail', /signature does not match the bundle signature/],
  ['rekor2-dsse-mismatch-envelope_fail', /signature does not match the bundle signature/],
  ['wrong-hashedrekord-entry_fail', /signature does not match the bundle signature/],
];
for (const [name, re] of MISMATCH) {
  sharedTest(`shared conformance body mismatch refused: ${name}`, (t) => {
    const { bundle } = loadCase(name);
    refused(
      t,
      () =>
        verifyEntryBinding(
          bundle.verificationMaterial.tlogEntries[0]!,
          bundle,
          expectOf(name, bundle),
        ),
      'TLOG_BODY_MISMATCH',
      re,
    );
  });
}

sharedTest('shared conformance: the builders reproduce real Rekor bodies byte for byte', (t) => {
  for (const [name, version] of [
    ['happy-path-v0.3', '0.0.1'],
    ['happy-path-v0.1', '0.0.1'],
    ['rekor2-happy-path', '0.0.2'],
    ['managed-key-happy-path', '0.0.1'],
  ] as const) {
    const { bundle } = loadCase(name);
    const c = bundle.content as MessageSignatureContent;
    const der = leafDer(bundle);
    const body = buildHashedRekordBody({
      version,
      digest: c.messageDigest!,
      signature: c.signature,
      verifier: der ? { certificateDer: der } : { publicKeySpki: keyPub(name) },
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    });
    t.deepEqual(body, bundle.verificationMaterial.tlogEntries[0]!.canonicalizedBody, name);
  }
  // dsse 0.0.1, including the envelopeHash (the envelope uploaded as canonical JSON).
  const { bundle } = loadCase('happy-path-intoto-in-dsse-v3');
  const body = buildDsseBody({
    version: '0.0.1',
    envelope: bundle.content as DsseEnvelopeContent,
    verifier: { certificateDer: leafDer(bundle)! },
  });
  t.deepEqual(body, bundle.verificationMaterial.tlogEntries[0]!.canonicalizedBody);
});

test('a Rekor v2 body whose digest algorithm is not one Rekor v2 uses is refused by name, before its length is judged', (t) => {
  const body = JSON.parse(
    Buffer.from(
      buildHashedRekordBody({
        version: '0.0.2',
        digest: { algorithm: 'SHA2_256', digest: sha256(preAuthEncoding(payloadType, payload)) },
        signature: dsseSig,
        verifier: { certificateDer: certDer },
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      }),
    ).toString('utf8'),
  ) as { spec: { hashedRekordV002: { data: { algorithm: string } } } };
  t.notThrows(() => parseRekorBody(utf8.encode(JSON.stringify(body))), 'control: as built');
  for (const algorithm of ['MD5', 'SHA1', 'sha256', 'SHA3_256']) {
    body.spec.hashedRekordV002.data.algorithm = algorithm;
    const e = t.throws(() => parseRekorBody(utf8.encode(JSON.stringify(body))), {
      instanceOf: StellaError,
    });
    t.is(
      e?.message,
      `tlog entry body: spec.hashedRekordV002.data.algorithm "${algorithm}" is not supported`,
      algorithm,
    );
  }
});
