import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { BUNDLE_LIMITS } from '../../src/bundle/model.js';
import { toHex } from '../../src/util/encoding.js';
import {
  CONFORMANCE_PARSE_FAILURES,
  conformanceCase,
  conformanceCaseNames,
  sharedTest,
} from '../helpers/shared.js';

type Json = Record<string, any>;

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/bundle/${name}`, import.meta.url), 'utf8');
const load = (name: string): Json => JSON.parse(fixture(name));

function refused(
  t: ExecutionContext,
  input: Json | string,
  code: ErrorCode,
  pattern: RegExp,
): void {
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  const err = t.throws(() => parseBundle(text), { instanceOf: StellaError });
  t.is(err?.code, code, err?.message);
  t.is(err?.check, 'bundle');
  t.regex(err?.message ?? '', pattern);
}

test('parses a v0.3 message-signature bundle into the typed model', (t) => {
  const src = load('v03-message-signature.json');
  const b = parseBundle(fixture('v03-message-signature.json'));
  t.is(b.version, '0.3');
  t.is(b.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  t.is(b.verificationMaterial.content.kind, 'certificate');
  if (b.verificationMaterial.content.kind === 'certificate') {
    t.is(
      Buffer.from(b.verificationMaterial.content.certificate).toString('base64'),
      src.verificationMaterial.certificate.rawBytes,
    );
  }
  const e = b.verificationMaterial.tlogEntries[0]!;
  t.is(e.logIndex, 3);
  t.is(e.integratedTime, 1700000000);
  t.deepEqual(e.kindVersion, { kind: 'hashedrekord', version: '0.0.1' });
  t.is(e.inclusionProof?.treeSize, 5);
  t.is(e.inclusionProof?.hashes.length, 3);
  t.is(
    e.inclusionProof?.checkpoint,
    src.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint.envelope,
  );
  t.is(e.inclusionPromise?.signedEntryTimestamp.length, 71);
  t.is(
    new TextDecoder().decode(e.canonicalizedBody),
    '{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}',
  );
  t.is(b.verificationMaterial.rfc3161Timestamps.length, 1);
  t.is(b.content.kind, 'messageSignature');
  if (b.content.kind === 'messageSignature') {
    t.is(b.content.messageDigest?.algorithm, 'SHA2_256');
    t.is(b.content.signature.length, 70);
  }
});

test('parses v0.3 DSSE, v0.1 chain and v0.2 public-key bundles; bytes input too', (t) => {
  const dsse = parseBundle(new TextEncoder().encode(fixture('v03-dsse.json')));
  t.is(dsse.content.kind, 'dsseEnvelope');
  if (dsse.content.kind === 'dsseEnvelope') {
    t.is(dsse.content.payloadType, 'application/vnd.in-toto+json');
    t.is(dsse.content.signatures[0]!.keyid, '');
    t.is(
      JSON.parse(new TextDecoder().decode(dsse.content.payload))._type,
      'https://in-toto.io/Statement/v1',
    );
  }
  const v01 = parseBundle(fixture('v01-chain.json'));
  t.is(v01.version, '0.1');
  t.is(v01.verificationMaterial.content.kind, 'x509CertificateChain');
  if (v01.verificationMaterial.content.kind === 'x509CertificateChain')
    t.is(v01.verificationMaterial.content.certificates.length, 2);
  t.is(v01.verificationMaterial.tlogEntries[0]!.inclusionProof, undefined);
  const v02 = parseBundle(fixture('v02-public-key.json'));
  t.is(v02.version, '0.2');
  t.deepEqual(v02.verificationMaterial.content, { kind: 'publicKey', hint: 'key-hint-1' });
  t.is(v02.verificationMaterial.tlogEntries[0]!.inclusionPromise, undefined);
});

test('all four media types are accepted', (t) => {
  const b = load('v03-message-signature.json');
  for (const [mt, v] of [
    ['application/vnd.dev.sigstore.bundle+json;version=0.3', '0.3'],
    ['application/vnd.dev.sigstore.bundle.v0.3+json', '0.3'],
  ] as const)
    t.is(parseBundle(JSON.stringify({ ...b, mediaType: mt })).version, v);
  const v02 = load('v03-message-signature.json');
  v02.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
  v02.verificationMaterial.x509CertificateChain = {
    certificates: [v02.verificationMaterial.certificate],
  };
  delete v02.verificationMaterial.certificate;
  t.is(parseBundle(JSON.stringify(v02)).version, '0.2');
});

test('int64 fields accept numbers, and absent or null means 0 (protobuf JSON)', (t) => {
  const b = load('v03-message-signature.json');
  const e = b.verificationMaterial.tlogEntries[0];
  e.logIndex = 7;
  delete e.integratedTime;
  e.inclusionProof.treeSize = 9;
  e.inclusionProof.logIndex = null;
  const p = parseBundle(JSON.stringify(b));
  t.is(p.verificationMaterial.tlogEntries[0]!.logIndex, 7);
  t.is(p.verificationMaterial.tlogEntries[0]!.integratedTime, 0);
  t.is(p.verificationMaterial.tlogEntries[0]!.inclusionProof?.treeSize, 9);
  t.is(p.verificationMaterial.tlogEntries[0]!.inclusionProof?.logIndex, 0);
});

test('unknown fields are ignored (forward compatibility)', (t) => {
  const b = load('v03-message-signature.json');
  b.futureField = { anything: [1, 2] };
  b.verificationMaterial.tlogEntries[0].extra = 'x';
  t.is(parseBundle(JSON.stringify(b)).version, '0.3');
});

test('malformed JSON is refused', (t) => {
  const text = fixture('v03-message-signature.json');
  refused(t, text.slice(0, text.length / 2), 'BUNDLE_MALFORMED', /malformed JSON in bundle/);
  refused(t, '[]', 'BUNDLE_MALFORMED', /bundle: expected an object/);
});

test('duplicate keys are refused, top-level and nested', (t) => {
  const text = fixture('v03-message-signature.json');
  refused(
    t,
    text.replace('{', '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",'),
    'BUNDLE_MALFORMED',
    /duplicate key "mediaType"/,
  );
  refused(
    t,
    text.replace('"logIndex": "3",', '"logIndex": "3", "logIndex": "4",'),
    'BUNDLE_MALFORMED',
    /duplicate key "logIndex" in object at \$\.verificationMaterial\.tlogEntries\[\]/,
  );
});

test('a depth bomb is refused', (t) => {
  const b = load('v03-message-signature.json');
  const deep = '['.repeat(BUNDLE_LIMITS.maxJsonDepth) + ']'.repeat(BUNDLE_LIMITS.maxJsonDepth);
  refused(
    t,
    JSON.stringify(b).replace('{', `{"x":${deep},`),
    'BUNDLE_LIMIT_EXCEEDED',
    /deeper than the limit/,
  );
});

test('an oversized bundle is refused', (t) => {
  const b = load('v03-message-signature.json');
  b.padding = 'x'.repeat(BUNDLE_LIMITS.maxBytes);
  refused(t, b, 'BUNDLE_LIMIT_EXCEEDED', /larger than/);
});

test('an unknown or missing media type is refused', (t) => {
  const b = load('v03-message-signature.json');
  refused(
    t,
    { ...b, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=99.9' },
    'BUNDLE_UNSUPPORTED',
    /unsupported bundle media type "application\/vnd\.dev\.sigstore\.bundle\+json;version=99\.9"/,
  );
  refused(
    t,
    { ...b, mediaType: 'application/vnd.dev.sigstore.bundle.v0.4+json' },
    'BUNDLE_UNSUPPORTED',
    /unsupported bundle media type/,
  );
  refused(
    t,
    { ...b, mediaType: 'toString' },
    'BUNDLE_UNSUPPORTED',
    /unsupported bundle media type/,
  );
  refused(t, { ...b, mediaType: undefined }, 'BUNDLE_MALFORMED', /mediaType missing/);
  refused(t, { ...b, mediaType: 3 }, 'BUNDLE_MALFORMED', /mediaType: expected a string/);
});

test('bad base64 is refused naming the field', (t) => {
  const b = load('v03-message-signature.json');
  b.messageSignature.signature = 'MEUCIQ!!bad';
  refused(t, b, 'BUNDLE_MALFORMED', /messageSignature\.signature: invalid base64/);
  const c = load('v03-message-signature.json');
  c.verificationMaterial.tlogEntries[0].inclusionProof.hashes[1] = 'AAAA-A__';
  refused(
    t,
    c,
    'BUNDLE_MALFORMED',
    /tlogEntries\[0\]\.inclusionProof\.hashes\[1\]: invalid base64/,
  );
  const d = load('v03-message-signature.json');
  d.verificationMaterial.certificate.rawBytes = 'QUJD'.slice(0, 3); // unpadded
  refused(t, d, 'BUNDLE_MALFORMED', /verificationMaterial\.certificate\.rawBytes: invalid base64/);
  const e = load('v03-message-signature.json');
  e.verificationMaterial.tlogEntries[0].logId.keyId = 1234;
  refused(t, e, 'BUNDLE_MALFORMED', /logId\.keyId: expected a base64 string/);
});

test('negative, non-numeric, fractional or huge log index / tree size / integrated time are refused', (t) => {
  const cases: [string, (e: Json) => void, RegExp][] = [
    [
      'negative log index',
      (e) => (e.logIndex = '-1'),
      /tlogEntries\[0\]\.logIndex: not a non-negative integer/,
    ],
    [
      'negative numeric log index',
      (e) => (e.logIndex = -1),
      /tlogEntries\[0\]\.logIndex: not a non-negative integer/,
    ],
    [
      'non-numeric tree size',
      (e) => (e.inclusionProof.treeSize = 'five'),
      /inclusionProof\.treeSize: not a non-negative integer/,
    ],
    [
      'exponent tree size',
      (e) => (e.inclusionProof.treeSize = '1e3'),
      /inclusionProof\.treeSize: not a non-negative integer/,
    ],
    [
      'fractional integrated time',
      (e) => (e.integratedTime = 1.5),
      /integratedTime: not a non-negative integer/,
    ],
    [
      'huge integrated time',
      (e) => (e.integratedTime = '9007199254740993'),
      /integratedTime: 9007199254740993 is out of range/,
    ],
    ['boolean log index', (e) => (e.logIndex = true), /logIndex: expected an integer/],
    [
      'proof log index',
      (e) => (e.inclusionProof.logIndex = '-5'),
      /inclusionProof\.logIndex: not a non-negative integer/,
    ],
  ];
  for (const [, mutate, pattern] of cases) {
    const b = load('v03-message-signature.json');
    mutate(b.verificationMaterial.tlogEntries[0]);
    refused(t, b, 'BUNDLE_MALFORMED', pattern);
  }
});

test('more than 32 tlog entries is refused; 32 is accepted', (t) => {
  const b = load('v03-message-signature.json');
  const e = b.verificationMaterial.tlogEntries[0];
  // 32 entries of one log at distinct indexes (the same entry twice is refused, below).
  b.verificationMaterial.tlogEntries = Array.from({ length: 32 }, (_, i) => ({
    ...e,
    logIndex: String(i),
  }));
  t.is(parseBundle(JSON.stringify(b)).verificationMaterial.tlogEntries.length, 32);
  b.verificationMaterial.tlogEntries.push(e);
  refused(t, b, 'BUNDLE_LIMIT_EXCEEDED', /tlogEntries: 33 items exceeds the limit of 32/);
});

test('the same log entry twice (one log, one index), or the same RFC 3161 token twice, is refused (as sigstore-go and sigstore-js refuse them)', (t) => {
  const b = load('v03-message-signature.json');
  const e = b.verificationMaterial.tlogEntries[0];
  b.verificationMaterial.tlogEntries = [e, { ...e, logIndex: String(Number(e.logIndex) + 1) }, e];
  refused(
    t,
    b,
    'BUNDLE_MALFORMED',
    /^verificationMaterial\.tlogEntries\[2\] repeats tlogEntries\[0\] \(log [0-9a-f]{64}, log index \d+\)$/,
  );
  // Another log at the same index is another entry.
  b.verificationMaterial.tlogEntries = [
    e,
    { ...e, logId: { keyId: Buffer.alloc(32, 7).toString('base64') } },
  ];
  t.is(parseBundle(JSON.stringify(b)).verificationMaterial.tlogEntries.length, 2);
  const ts = load('v03-message-signature.json');
  const tokens = ts.verificationMaterial.timestampVerificationData.rfc3161Timestamps;
  ts.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [
    tokens[0],
    { signedTimestamp: 'AAAA' },
    tokens[0],
  ];
  refused(t, ts, 'BUNDLE_MALFORMED', /rfc3161Timestamps\[2\] repeats rfc3161Timestamps\[0\]$/);
});

test('other count limits: timestamps, certificates, proof hashes, DSSE signatures', (t) => {
  const ts = load('v03-message-signature.json');
  ts.verificationMaterial.timestampVerificationData.rfc3161Timestamps = Array.from(
    { length: 33 },
    () => ({ signedTimestamp: 'AAAA' }),
  );
  refused(t, ts, 'BUNDLE_LIMIT_EXCEEDED', /rfc3161Timestamps: 33 items exceeds the limit of 32/);
  const chain = load('v01-chain.json');
  chain.verificationMaterial.x509CertificateChain.certificates = Array.from({ length: 11 }, () => ({
    rawBytes: 'AAAA',
  }));
  refused(t, chain, 'BUNDLE_LIMIT_EXCEEDED', /certificates: 11 items exceeds the limit of 10/);
  const proof = load('v03-message-signature.json');
  proof.verificationMaterial.tlogEntries[0].inclusionProof.hashes = Array.from(
    { length: 65 },
    () => 'AAAA',
  );
  refused(t, proof, 'BUNDLE_LIMIT_EXCEEDED', /hashes: 65 items exceeds the limit of 64/);
  const dsse = load('v03-dsse.json');
  dsse.dsseEnvelope.signatures = Array.from({ length: 17 }, () => dsse.dsseEnvelope.signatures[0]);
  refused(t, dsse, 'BUNDLE_LIMIT_EXCEEDED', /signatures: 17 items exceeds the limit of 16/);
});

test('an empty certificate chain is refused', (t) => {
  const b = load('v01-chain.json');
  b.verificationMaterial.x509CertificateChain.certificates = [];
  refused(t, b, 'BUNDLE_MALFORMED', /empty certificate chain/);
  b.verificationMaterial.x509CertificateChain = {};
  refused(t, b, 'BUNDLE_MALFORMED', /empty certificate chain/);
  const c = load('v01-chain.json');
  c.verificationMaterial.x509CertificateChain.certificates[1].rawBytes = '';
  refused(t, c, 'BUNDLE_MALFORMED', /certificates\[1\]: empty certificate/);
});

test('an empty or missing signature is refused', (t) => {
  const b = load('v03-message-signature.json');
  b.messageSignature.signature = '';
  refused(t, b, 'BUNDLE_MALFORMED', /empty signature/);
  delete b.messageSignature.signature;
  refused(t, b, 'BUNDLE_MALFORMED', /empty signature/);
  const d = load('v03-dsse.json');
  d.dsseEnvelope.signatures[0].sig = '';
  refused(t, d, 'BUNDLE_MALFORMED', /empty signature: dsseEnvelope\.signatures\[0\]\.sig/);
  d.dsseEnvelope.signatures = [];
  refused(t, d, 'BUNDLE_MALFORMED', /dsseEnvelope has no signatures/);
});

test('a v0.3 bundle with a certificate chain is refused', (t) => {
  const b = load('v01-chain.json');
  b.mediaType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  b.verificationMaterial.tlogEntries = load(
    'v03-message-signature.json',
  ).verificationMaterial.tlogEntries;
  refused(
    t,
    b,
    'BUNDLE_MALFORMED',
    /v0\.3 bundle must carry a single certificate or a publicKey, not verificationMaterial\.x509CertificateChain/,
  );
});

test('H58 the declared version and the structure agree: every version x material x proof combination', (t) => {
  const MT = {
    '0.1': 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    '0.2': 'application/vnd.dev.sigstore.bundle+json;version=0.2',
    '0.3': 'application/vnd.dev.sigstore.bundle.v0.3+json',
  } as const;
  const source = load('v03-message-signature.json');
  const cert = source.verificationMaterial.certificate;
  const entry = source.verificationMaterial.tlogEntries[0];
  const MATERIAL: Record<string, Json> = {
    certificate: { certificate: cert },
    x509CertificateChain: { x509CertificateChain: { certificates: [cert] } },
    publicKey: { publicKey: { hint: 'k' } },
  };
  const ENTRY: Record<string, Json> = {
    'SET and proof': entry,
    'SET only': { ...entry, inclusionProof: undefined },
    'proof only': { ...entry, inclusionPromise: undefined },
  };
  // Written out from sigstore_bundle.proto, not derived from the code under test.
  const allowedMaterial: Record<string, string[]> = {
    '0.1': ['x509CertificateChain', 'publicKey'],
    '0.2': ['x509CertificateChain', 'publicKey'],
    '0.3': ['certificate', 'publicKey'],
  };
  const entryNeeds: Record<string, 'SET' | 'proof'> = {
    '0.1': 'SET',
    '0.2': 'proof',
    '0.3': 'proof',
  };
  let accepted = 0;
  for (const version of ['0.1', '0.2', '0.3'] as const) {
    for (const [material, vm] of Object.entries(MATERIAL)) {
      for (const [shape, e] of Object.entries(ENTRY)) {
        const b = {
          ...source,
          mediaType: MT[version],
          verificationMaterial: { ...vm, tlogEntries: [e] },
        };
        const what = `v${version} with ${material}, entry with ${shape}`;
        if (!allowedMaterial[version]!.includes(material)) {
          const err = t.throws(
            () => parseBundle(JSON.stringify(b)),
            { instanceOf: StellaError },
            what,
          );
          t.is(err?.code, 'BUNDLE_MALFORMED', what);
          t.regex(
            err?.message ?? '',
            new RegExp(
              `^a v${version.replace('.', '\\.')} bundle must carry .*, not verificationMaterial\\.${material} \\(its media type does not match its structure\\)$`,
            ),
            what,
          );
        } else if (!shape.includes(entryNeeds[version]!)) {
          const err = t.throws(
            () => parseBundle(JSON.stringify(b)),
            { instanceOf: StellaError },
            what,
          );
          t.is(err?.code, 'REKOR_PROOF_MISSING', what);
          t.regex(
            err?.message ?? '',
            new RegExp(
              `has no ${entryNeeds[version] === 'SET' ? 'inclusionPromise' : 'inclusionProof'} \\(required in a v${version.replace('.', '\\.')} bundle\\)`,
            ),
            what,
          );
        } else {
          const parsed = parseBundle(JSON.stringify(b));
          t.is(parsed.version, version, what);
          t.is(parsed.verificationMaterial.content.kind, material as 'certificate', what);
          accepted++;
        }
      }
    }
  }
  // v0.1: chain or key x (SET and proof, SET only); v0.2 and v0.3: two materials x (SET and proof, proof only).
  t.is(accepted, 12);
});

test('a v0.2 or v0.3 bundle without an inclusion proof is refused', (t) => {
  const b = load('v02-public-key.json');
  delete b.verificationMaterial.tlogEntries[0].inclusionProof;
  refused(
    t,
    b,
    'REKOR_PROOF_MISSING',
    /Rekor proof missing: verificationMaterial\.tlogEntries\[0\] has no inclusionProof \(required in a v0\.2 bundle\)/,
  );
  const c = load('v03-message-signature.json');
  c.verificationMaterial.tlogEntries[0].inclusionProof = null;
  refused(t, c, 'REKOR_PROOF_MISSING', /required in a v0\.3 bundle/);
  const d = load('v03-message-signature.json');
  delete d.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
  refused(t, d, 'BUNDLE_MALFORMED', /inclusionProof\.checkpoint missing/);
});

test('a v0.1 bundle without an inclusion promise (SET) is refused', (t) => {
  const b = load('v01-chain.json');
  delete b.verificationMaterial.tlogEntries[0].inclusionPromise;
  refused(t, b, 'REKOR_PROOF_MISSING', /has no inclusionPromise \(required in a v0\.1 bundle\)/);
});

test('content must be exactly one of messageSignature and dsseEnvelope', (t) => {
  const b = load('v03-message-signature.json');
  refused(
    t,
    { ...b, dsseEnvelope: load('v03-dsse.json').dsseEnvelope },
    'BUNDLE_MALFORMED',
    /both messageSignature and dsseEnvelope/,
  );
  refused(t, { ...b, messageSignature: undefined }, 'BUNDLE_MALFORMED', /no content/);
});

test('signing material must be exactly one kind', (t) => {
  const b = load('v03-message-signature.json');
  b.verificationMaterial.publicKey = { hint: 'x' };
  refused(
    t,
    b,
    'BUNDLE_MALFORMED',
    /more than one of x509CertificateChain, certificate, publicKey/,
  );
  delete b.verificationMaterial.publicKey;
  delete b.verificationMaterial.certificate;
  refused(t, b, 'BUNDLE_MALFORMED', /no signing material/);
  refused(
    t,
    { ...b, verificationMaterial: undefined },
    'BUNDLE_MALFORMED',
    /verificationMaterial missing/,
  );
});

test('required tlog entry fields are checked', (t) => {
  const mutations: [(e: Json) => void, RegExp][] = [
    [(e) => delete e.logId, /tlogEntries\[0\]\.logId missing/],
    [(e) => delete e.kindVersion, /tlogEntries\[0\]\.kindVersion missing/],
    // protobuf JSON's null is the default: missing, said as such (not "expected an object").
    [(e) => (e.kindVersion = null), /tlogEntries\[0\]\.kindVersion missing$/],
    [(e) => (e.logId = null), /tlogEntries\[0\]\.logId missing$/],
    [(e) => (e.kindVersion.kind = ''), /kindVersion\.kind missing/],
    [(e) => delete e.canonicalizedBody, /canonicalizedBody missing/],
    [(e) => (e.inclusionProof.rootHash = ''), /inclusionProof\.rootHash missing/],
    [
      (e) => (e.inclusionProof.rootHash = Buffer.alloc(31).toString('base64')),
      /^verificationMaterial\.tlogEntries\[0\]\.inclusionProof\.rootHash is 31 bytes, a Merkle tree root \(SHA-256\) is 32$/,
    ],
    [
      (e) => (e.inclusionProof.rootHash = Buffer.alloc(52_500, 0xc7).toString('base64')),
      /rootHash is 52500 bytes, a Merkle tree root \(SHA-256\) is 32$/,
    ],
    [(e) => (e.inclusionPromise = 'x'), /inclusionPromise: expected an object/],
  ];
  for (const [mutate, pattern] of mutations) {
    const b = load('v03-message-signature.json');
    mutate(b.verificationMaterial.tlogEntries[0]);
    refused(t, b, 'BUNDLE_MALFORMED', pattern);
  }
});

test('an unknown message digest algorithm is refused', (t) => {
  const b = load('v03-message-signature.json');
  b.messageSignature.messageDigest.algorithm = 'MD5';
  refused(t, b, 'BUNDLE_UNSUPPORTED', /unsupported hash algorithm "MD5"/);
});

test('a message digest of another size than its algorithm gives is refused, its message short', (t) => {
  for (const [algorithm, bytes, want] of [
    ['SHA2_256', 31, 32],
    ['SHA2_256', 48, 32],
    ['SHA2_384', 32, 48],
    ['SHA2_512', 52_500, 64],
  ] as const) {
    const b = load('v03-message-signature.json');
    b.messageSignature.messageDigest.algorithm = algorithm;
    b.messageSignature.messageDigest.digest = Buffer.alloc(bytes, 0xc7).toString('base64');
    // Anchored at both ends: the message says the size, not the bytes.
    refused(
      t,
      b,
      'BUNDLE_MALFORMED',
      new RegExp(
        `^messageSignature.messageDigest.digest is ${bytes} bytes, a ${algorithm} digest is ${want}$`,
      ),
    );
  }
});

sharedTest('shared conformance bundles: every case parses except the parse-time failures', (t) => {
  const names = conformanceCaseNames();
  t.true(names.length > 40);
  // Every listed parse-time failure must be there: a missing one fails here, it is not skipped.
  for (const name of Object.keys(CONFORMANCE_PARSE_FAILURES))
    t.true(names.includes(name), `conformance case ${name} is missing`);
  for (const name of names) {
    const bytes = readFileSync(path.join(conformanceCase(name), 'bundle.sigstore.json'));
    const expected = CONFORMANCE_PARSE_FAILURES[name];
    if (expected) {
      const err = t.throws(() => parseBundle(bytes), { instanceOf: StellaError }, name);
      t.is(err?.code, expected, name);
    } else {
      const b = parseBundle(bytes);
      t.true(b.verificationMaterial.tlogEntries.length > 0, name);
      t.is(JSON.parse(bytes.toString()).mediaType, b.mediaType, name);
    }
  }
  const v01 = parseBundle(
    readFileSync(path.join(conformanceCase('happy-path-v0.1'), 'bundle.sigstore.json')),
  );
  t.is(v01.verificationMaterial.tlogEntries[0]!.logIndex, 27246492);
  t.is(toHex(v01.verificationMaterial.tlogEntries[0]!.logId).length, 64);
});
