/**
 * The sandbox's Rekor v2 log and TSA cores, in memory: what they answer is read back by the
 * verifier's own code (entry parser, body binding, inclusion, checkpoint with Rekor v2's name
 * rules, RFC 3161 verification); requests are refused the way rekor-tiles and
 * timestamp-authority refuse them.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { sha256 } from '../../../src/crypto.js';
import { toBase64, utf8 } from '../../../src/util/encoding.js';
import { preAuthEncoding } from '../../../src/bundle/dsse.js';
import { parseTransparencyLogEntryJson } from '../../../src/bundle/parse.js';
import type { Bundle, BundleContent } from '../../../src/bundle/model.js';
import { BUNDLE_V03_MEDIA_TYPE } from '../../../src/bundle/serialize.js';
import { leafHash, MerkleTree } from '../../../src/tlog/merkle.js';
import { noteKeyId, verifyCheckpoint } from '../../../src/tlog/note.js';
import { buildDsseBody, verifyEntryBinding } from '../../../src/tlog/rekor-entry.js';
import { verifyTlogEntryInclusion } from '../../../src/tlog/verify.js';
import { decodeEntryBundle, splitTile } from '../../../src/tlog/tiles.js';
import { verifyRfc3161Timestamp } from '../../../src/timestamp/rfc3161.js';
import {
  encodeTimeStampReq,
  parseTimeStampResp,
  parseTimeStampReq,
  PKI_STATUS,
} from '../../../src/timestamp/request.js';
import { MemoryLogStorage } from '../../../src/sandbox/authority/rekor.js';
import {
  LocalRekorV2Log,
  MAX_DSSE_SIGNATURES,
  canonicalizeRequest,
} from '../../../src/sandbox/authority/rekor-v2.js';
import { LocalTsa, TSA_POLICY_OID } from '../../../src/sandbox/authority/tsa.js';
import {
  deriveV2AuthorityKeys,
  exportV2AuthorityKeys,
  importV2AuthorityKeys,
  v2AuthorityKeysEqual,
} from '../../../src/sandbox/authority/keys-v2.js';
import { seedFromString } from '../../../src/sandbox/authority/keys.js';
import { deterministicEd25519Signer, issueCertificate } from '../../../src/x509/issue.js';
import { CREATED_AT, NOW, makeAuthority, signerKey } from './helpers.js';
import { certify } from '../../helpers/authority-bundles.js';

const v2keys = deriveV2AuthorityKeys(seedFromString('rekor v2 tests'));
const BASE = 'https://log2099-1.rekor.test.invalid';
const authority = makeAuthority();
const signer = signerKey();
const cert = certify(authority, signer.key, 'org/repo', NOW);

function newLog(storage = new MemoryLogStorage()): LocalRekorV2Log {
  return new LocalRekorV2Log({
    key: v2keys.rekorV2Log,
    storage,
    baseUrl: BASE,
    validFrom: CREATED_AT,
  });
}

function hashedRequest(
  data: Uint8Array,
  sig = signer.key.sign(data),
  verifier: unknown = {
    x509Certificate: { rawBytes: toBase64(cert) },
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
  },
): unknown {
  return {
    hashedRekordRequestV002: {
      digest: toBase64(sha256(data)),
      signature: { content: toBase64(sig), verifier },
    },
  };
}

function messageBundle(data: Uint8Array, sig: Uint8Array, entryJson: unknown): Bundle {
  const content: BundleContent = {
    kind: 'messageSignature',
    messageDigest: { algorithm: 'SHA2_256', digest: sha256(data) },
    signature: sig,
  };
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    version: '0.3',
    verificationMaterial: {
      content: { kind: 'certificate', certificate: cert },
      tlogEntries: [parseTransparencyLogEntryJson(entryJson)],
      rfc3161Timestamps: [],
    },
    content,
  };
}

test('hashedrekord 0.0.2: the answer parses, binds and proves inclusion with the verifier code; log ID = note key ID over the name', (t) => {
  const log = newLog();
  t.is(log.name, 'log2099-1.rekor.test.invalid');
  t.deepEqual(log.keyId, noteKeyId(log.name, v2keys.rekorV2Log.signer.publicKey));
  const instance = log.logInstance();
  t.deepEqual(instance.logId, instance.checkpointKeyId);
  t.is(instance.publicKey.keyDetails, 'PKIX_ED25519');
  for (let i = 0; i < 5; i++) {
    const data = utf8.encode(`artifact ${i}`);
    const sig = signer.key.sign(data);
    const r = log.createEntry(hashedRequest(data, sig), { now: NOW });
    t.true(r.created);
    t.is(r.logIndex, i);
    t.is(r.entry.integratedTime, '0');
    t.is(r.entry.inclusionPromise, null);
    const bundle = messageBundle(data, sig, r.entry);
    const entry = bundle.verificationMaterial.tlogEntries[0]!;
    t.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    verifyEntryBinding(entry, bundle, { certificateDer: cert, artifactDigest: () => sha256(data) });
    const inc = verifyTlogEntryInclusion(entry, [instance], [NOW]);
    t.is(inc.rekor, 'v2');
    t.is(inc.checkpointSigner, log.name);
    t.is(inc.checkpointOrigin, log.name);
  }
  // The same body again: found, not appended (rekor-tiles answers 409 with its index).
  const data = utf8.encode('artifact 0');
  const again = log.createEntry(hashedRequest(data, signer.key.sign(data)), { now: NOW });
  t.false(again.created);
  t.is(again.logIndex, 0);
  t.is(log.size, 5);
});

test("the log's name must be a signed-note name, and its default (the base URL's host) is one", (t) => {
  const make = (o: { name?: string; baseUrl?: string }) =>
    new LocalRekorV2Log({
      key: v2keys.rekorV2Log,
      storage: new MemoryLogStorage(),
      baseUrl: o.baseUrl ?? BASE,
      validFrom: CREATED_AT,
      ...(o.name === undefined ? {} : { name: o.name }),
    });
  t.is(make({}).name, 'log2099-1.rekor.test.invalid');
  t.is(make({ name: 'rekor.example/2099' }).name, 'rekor.example/2099');
  // A note name is non-empty, without whitespace or '+' (C2SP signed-note).
  for (const name of ['', 'a b', 'a+b', 'tab\there']) {
    const e = t.throws(() => make({ name }), { instanceOf: StellaError }, JSON.stringify(name));
    t.is(e?.code, 'CONFIG_INVALID');
    t.is(e?.message, `Rekor v2 log name ${JSON.stringify(name)} is not a valid signed-note name`);
  }
  const e = t.throws(() => make({ baseUrl: 'not a url' }), { instanceOf: StellaError });
  t.is(e?.code, 'CONFIG_INVALID');
  t.is(e?.message, 'Rekor v2 base URL "not a url" is not a URL');
});

test('dsse 0.0.2: the body is the one the verifier builds; signatures sorted and each verified', (t) => {
  const log = newLog();
  const payload = utf8.encode('{"_type":"https://in-toto.io/Statement/v1"}');
  const payloadType = 'application/vnd.in-toto+json';
  const sig = signer.key.sign(preAuthEncoding(payloadType, payload));
  const verifier = {
    x509Certificate: { rawBytes: toBase64(cert) },
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
  };
  const request = {
    dsseRequestV002: {
      envelope: {
        payload: toBase64(payload),
        payloadType,
        signatures: [{ sig: toBase64(sig), keyid: '' }],
      },
      verifiers: [verifier],
    },
  };
  const body = canonicalizeRequest(request);
  t.deepEqual(
    body,
    buildDsseBody({
      version: '0.0.2',
      envelope: { payload, payloadType, signatures: [{ sig, keyid: '' }] },
      verifier: { certificateDer: cert },
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    }),
  );
  const r = log.createEntry(request, { now: NOW });
  const content: BundleContent = {
    kind: 'dsseEnvelope',
    payload,
    payloadType,
    signatures: [{ sig, keyid: '' }],
  };
  const bundle: Bundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    version: '0.3',
    verificationMaterial: {
      content: { kind: 'certificate', certificate: cert },
      tlogEntries: [parseTransparencyLogEntryJson(r.entry)],
      rfc3161Timestamps: [],
    },
    content,
  };
  verifyEntryBinding(bundle.verificationMaterial.tlogEntries[0]!, bundle, { certificateDer: cert });
  // snake_case names (protojson reads both) give the same body.
  const snake = {
    dsse_request_v002: {
      envelope: {
        payload: toBase64(payload),
        payload_type: payloadType,
        signatures: [{ sig: toBase64(sig) }],
      },
      verifiers: [
        { x509_certificate: { raw_bytes: toBase64(cert) }, key_details: 'PKIX_ECDSA_P256_SHA_256' },
      ],
    },
  };
  t.deepEqual(canonicalizeRequest(snake), body);
});

test('requests rekor-tiles refuses are refused, naming what is wrong', (t) => {
  const data = utf8.encode('x');
  const sig = signer.key.sign(data);
  const refused = (req: unknown, message: RegExp) => {
    const e = t.throws(() => canonicalizeRequest(req)) as StellaError;
    t.is(e.code, 'REKOR_REJECTED', e.message);
    t.regex(e.message, message);
  };
  refused({}, /exactly one of hashedRekordRequestV002 and dsseRequestV002/);
  // A message that is not a JSON object (an array, null, a string) is refused as that.
  for (const notAnObject of [[], ['hashedRekordRequestV002'], null, 'request'])
    refused(notAnObject, /^Rekor v2: request must be an object$/);
  refused({ hashedRekordRequestV002: [] }, /^Rekor v2: hashedRekordRequestV002 must be an object$/);
  refused({ hashedRekordRequestV002: {}, extra: 1 }, /unknown field request\.extra/);
  refused(hashedRequest(data, signer.key.sign(utf8.encode('other'))), /does not verify/);
  refused(
    hashedRequest(data, sig, {
      x509Certificate: { rawBytes: toBase64(cert) },
      keyDetails: 'PKIX_ECDSA_P384_SHA_384',
    }),
    /not the one keyDetails PKIX_ECDSA_P384_SHA_384 names/,
  );
  refused(
    hashedRequest(data, sig, {
      x509Certificate: { rawBytes: toBase64(cert) },
      keyDetails: 'PKIX_RSA_PKCS1V15_2048_SHA256',
    }),
    /is not supported/,
  );
  refused(
    hashedRequest(data, sig, {
      x509Certificate: { rawBytes: toBase64(cert) },
      publicKey: { rawBytes: toBase64(signer.key.spki) },
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    }),
    /exactly one of publicKey and x509Certificate/,
  );
  refused(
    {
      hashedRekordRequestV002: {
        digest: toBase64(new Uint8Array(20)),
        signature: {
          content: toBase64(sig),
          verifier: {
            publicKey: { rawBytes: toBase64(signer.key.spki) },
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          },
        },
      },
    },
    /digest is 20 bytes/,
  );
  const ed = deterministicEd25519Signer(seedFromString('ed'));
  refused(
    hashedRequest(data, ed.sign(data), {
      publicKey: { rawBytes: toBase64(ed.spki) },
      keyDetails: 'PKIX_ED25519',
    }),
    /hashedrekord cannot record a PKIX_ED25519 signature/,
  );
  refused(
    {
      dsseRequestV002: {
        envelope: {
          payload: toBase64(data),
          payloadType: 't',
          signatures: [{ sig: toBase64(sig) }],
        },
        verifiers: [
          {
            publicKey: { rawBytes: toBase64(signer.key.spki) },
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          },
        ],
      },
    },
    /signature 0 does not verify/,
  );
  const pae = preAuthEncoding('t', data);
  const key = {
    publicKey: { rawBytes: toBase64(signer.key.spki) },
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
  };
  /** One signature by the signer's key, with `verifiers` as given. */
  const signedWith = (verifiers: unknown) => ({
    dsseRequestV002: {
      envelope: {
        payload: toBase64(data),
        payloadType: 't',
        signatures: [{ sig: toBase64(signer.key.sign(pae)) }],
      },
      verifiers,
    },
  });
  refused(signedWith([key, key]), /dsseRequestV002\.verifiers lists the same key twice/);
  // Verifiers that are not a list (a single verifier, a string) are refused as that.
  for (const verifiers of [key, 'verifier', 1])
    refused(
      signedWith(verifiers),
      /^Rekor v2: dsseRequestV002\.verifiers must list 1 to 10 verifiers$/,
    );
  // rekor-tiles takes up to 10 signatures and 10 verifiers: 10 is taken, 11 refused.
  const keys = [...Array(11).keys()].map((i) => signerKey(`dsse ${i}`));
  const dsseOf = (n: number) => ({
    dsseRequestV002: {
      envelope: {
        payload: toBase64(data),
        payloadType: 't',
        signatures: keys.slice(0, n).map((k) => ({ sig: toBase64(k.key.sign(pae)) })),
      },
      verifiers: keys.slice(0, Math.min(n, MAX_DSSE_SIGNATURES)).map((k) => ({
        publicKey: { rawBytes: toBase64(k.key.spki) },
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      })),
    },
  });
  t.is(MAX_DSSE_SIGNATURES, 10);
  t.true(canonicalizeRequest(dsseOf(MAX_DSSE_SIGNATURES)).length > 0);
  refused(dsseOf(MAX_DSSE_SIGNATURES + 1), /envelope\.signatures must list 1 to 10 signatures/);
  // An empty payload type, or one not a string, names no payload: refused by name, not as a bad signature.
  for (const payloadType of ['', 7]) {
    const r = dsseOf(1);
    (r.dsseRequestV002.envelope as { payloadType: unknown }).payloadType = payloadType;
    refused(r, /dsseRequestV002\.envelope\.payloadType must be a non-empty string/);
  }
});

test('request bytes are read as protojson reads them: URL-safe or unpadded taken, mixed alphabets refused naming the field', (t) => {
  const data = utf8.encode('protojson forms');
  const sig = signer.key.sign(data);
  const req = hashedRequest(data, sig) as {
    hashedRekordRequestV002: { digest: string; signature: { content: string } };
  };
  const body = canonicalizeRequest(req);
  const r = req.hashedRekordRequestV002;
  const urlUnpadded = (b64: string): string =>
    b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const other = {
    hashedRekordRequestV002: {
      ...r,
      digest: urlUnpadded(r.digest),
      signature: { ...r.signature, content: urlUnpadded(r.signature.content) },
    },
  };
  t.deepEqual(canonicalizeRequest(other), body);
  // A digest whose standard form has a '+' or '/', rewritten with one of each alphabet.
  const mixedData = [...Array(64).keys()]
    .map((i) => utf8.encode(`mixed ${i}`))
    .find((d) => /[+/].*[+/]/.test(toBase64(sha256(d))))!;
  const digest = toBase64(sha256(mixedData));
  const first = digest.search(/[+/]/);
  const mixed =
    digest.slice(0, first) + (digest[first] === '+' ? '-' : '_') + digest.slice(first + 1);
  t.true(/[+/]/.test(mixed) && /[-_]/.test(mixed));
  const e = t.throws(
    () =>
      canonicalizeRequest({
        hashedRekordRequestV002: { ...r, digest: mixed },
      }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'REKOR_REJECTED');
  t.regex(e.message, /hashedRekordRequestV002\.digest: invalid base64 \(standard and URL-safe/);
});

test('tiles and entry bundles of 600 entries recompute the checkpoint root; level-1 tiles hash full tiles', (t) => {
  const log = newLog();
  const pub = {
    publicKey: { rawBytes: toBase64(signer.key.spki) },
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
  };
  for (let i = 0; i < 600; i++) {
    const data = utf8.encode(`tile entry ${i}`);
    log.createEntry(hashedRequest(data, signer.key.sign(data), pub), { now: NOW });
  }
  const cp = verifyCheckpoint(log.checkpoint(), [log.logInstance()], { rekor: 'v2' });
  t.is(cp.treeSize, 600);
  const leaves: Uint8Array[] = [];
  for (const [index, width] of [
    [0, undefined],
    [1, undefined],
    [2, 88],
  ] as const) {
    const hashes = splitTile(log.tile(0, index, width)!);
    const entries = decodeEntryBundle(log.entryBundle(index, width)!);
    t.is(entries.length, hashes.length);
    entries.forEach((e, i) => t.deepEqual(leafHash(e), hashes[i]));
    leaves.push(...hashes);
  }
  const rebuilt = new MerkleTree();
  for (const h of leaves) rebuilt.appendLeafHash(h);
  t.deepEqual(rebuilt.root(), cp.rootHash);
  const level1 = splitTile(log.tile(1, 0, 2)!);
  t.deepEqual(level1[1], rebuilt.completeSubtreeHash(8, 1));
  t.is(log.tile(0, 2, undefined), undefined);
  t.is(log.tile(1, 0, 3), undefined);
  t.is(log.entryBundle(3, 1), undefined);
});

test('the v2 log rebuilds its tree from storage (a restart keeps it)', (t) => {
  const storage = new MemoryLogStorage();
  const a = newLog(storage);
  for (let i = 0; i < 3; i++) {
    const data = utf8.encode(`persist ${i}`);
    a.createEntry(hashedRequest(data), { now: NOW });
  }
  const b = newLog(storage);
  t.is(b.size, 3);
  t.deepEqual(b.rootHash(), a.rootHash());
  t.is(b.checkpoint(), a.checkpoint());
});

test('v2 authority keys round-trip through their persisted form', (t) => {
  const json = exportV2AuthorityKeys(v2keys, CREATED_AT);
  const back = importV2AuthorityKeys(JSON.parse(JSON.stringify(json)));
  t.true(v2AuthorityKeysEqual(back.keys, v2keys));
  t.is(back.createdAt, CREATED_AT);
  t.throws(
    () => importV2AuthorityKeys({ ...json, keys: { ...json.keys, tsaRoot: { secretKey: 'zz' } } }),
    { message: /keys\.tsaRoot\.secretKey/ },
  );
  t.throws(() => importV2AuthorityKeys({ ...json, version: 2 }), {
    instanceOf: StellaError,
    message: /Rekor v2 \/ TSA authority keys: unsupported version 2/,
  });
  // A key entry that is not an object (null, a string) is refused by its field.
  for (const entry of [null, 'seed', []])
    t.throws(() => importV2AuthorityKeys({ ...json, keys: { ...json.keys, rekorV2Log: entry } }), {
      instanceOf: StellaError,
      message:
        'Rekor v2 / TSA authority keys: keys.rekorV2Log.seed must be 64 lowercase hex digits',
    });
  for (const keys of ['keys', null, [], 5])
    t.throws(() => importV2AuthorityKeys({ ...json, keys }), {
      instanceOf: StellaError,
      message: 'Rekor v2 / TSA authority keys: "keys" must be an object',
    });
  for (const createdAt of [1.5, '1700000000000', 2 ** 53, undefined])
    t.throws(() => importV2AuthorityKeys({ ...json, createdAt }), {
      instanceOf: StellaError,
      message: 'Rekor v2 / TSA authority keys: "createdAt" must be an integer (ms since the epoch)',
    });
  // Keys are derived from the seed with HKDF; a short seed would make them guessable.
  t.throws(() => deriveV2AuthorityKeys(new Uint8Array(15)), {
    instanceOf: StellaError,
    message: /authority seed: at least 16 bytes are required/,
  });
  t.notThrows(() => deriveV2AuthorityKeys(new Uint8Array(16)));
});

test('TSA: DER and JSON requests give tokens the verifier accepts; nonce, certReq, refusals', (t) => {
  const tsa = new LocalTsa({
    rootKey: v2keys.tsaRoot,
    signerKey: v2keys.tsaSigner,
    createdAt: CREATED_AT,
    url: 'https://tsa.test.invalid/api/v1/timestamp',
  });
  const signature = utf8.encode('a bundle signature');
  const digest = sha256(signature);
  const der = tsa.answerDer(
    encodeTimeStampReq({ hash: 'sha256', digest, nonce: 12345n, certReq: true }),
    NOW,
  );
  t.is(der.httpStatus, 200);
  const v = verifyRfc3161Timestamp(der.response, signature, [tsa.authority()]);
  t.is(v.time.ms, Math.floor(NOW / 1000) * 1000);
  t.is(v.tstInfo.nonce, 12345n);
  t.is(parseTimeStampResp(der.response).status, PKI_STATUS.granted);
  const json = tsa.answerJson(
    { artifactHash: toBase64(digest), hashAlgorithm: 'sha256' },
    NOW + 1500,
  );
  t.is(json.httpStatus, 200);
  t.is(
    verifyRfc3161Timestamp(json.response, signature, [tsa.authority()]).time.ms,
    Math.floor((NOW + 1500) / 1000) * 1000,
  );
  // Another signature: the imprint does not cover it.
  t.throws(() => verifyRfc3161Timestamp(der.response, utf8.encode('other'), [tsa.authority()]), {
    message: /imprint does not match/,
  });
  // Refusals: a rejection TimeStampResp with the reason, HTTP 400.
  const garbage = tsa.answerDer(utf8.encode('not DER'), NOW);
  t.is(garbage.httpStatus, 400);
  const r = parseTimeStampResp(garbage.response);
  t.is(r.status, PKI_STATUS.rejection);
  t.regex(r.statusText ?? '', /TimeStampReq/);
  t.is(
    tsa.answerJson({ artifactHash: toBase64(digest), hashAlgorithm: 'md5' }, NOW).httpStatus,
    400,
  );
  t.is(tsa.answerJson({ artifactHash: toBase64(digest.slice(1)) }, NOW).httpStatus, 400);
  t.is(tsa.answerJson({ artifactHash: toBase64(digest), extra: true }, NOW).httpStatus, 400);
  // The JSON request's optional fields: a nonce is a non-negative safe integer and comes back
  // in the token; anything else in them is refused with the field named.
  const withNonce = tsa.answerJson({ artifactHash: toBase64(digest), nonce: 7 }, NOW);
  t.is(withNonce.httpStatus, 200);
  t.is(verifyRfc3161Timestamp(withNonce.response, signature, [tsa.authority()]).tstInfo.nonce, 7n);
  const zero = tsa.answerJson({ artifactHash: toBase64(digest), nonce: 0 }, NOW);
  t.is(zero.httpStatus, 200, 'a nonce of 0 is a nonce');
  t.is(verifyRfc3161Timestamp(zero.response, signature, [tsa.authority()]).tstInfo.nonce, 0n);
  // certificates: the signer's certificate in the token or not; tsaPolicyOID: this TSA's
  // policy, or empty for "any", and another policy refused.
  const certsOf = (certificates: boolean) =>
    parseTimeStampResp(
      tsa.answerJson({ artifactHash: toBase64(digest), certificates }, NOW).response,
    ).token!.length;
  t.true(certsOf(true) > certsOf(false), 'certificates: true embeds the signing certificate');
  for (const policy of ['', TSA_POLICY_OID]) {
    const a = tsa.answerJson({ artifactHash: toBase64(digest), tsaPolicyOID: policy }, NOW);
    t.is(a.httpStatus, 200, JSON.stringify(policy));
  }
  const otherPolicy = tsa.answerJson(
    { artifactHash: toBase64(digest), tsaPolicyOID: '1.2.3.4' },
    NOW,
  );
  t.is(otherPolicy.httpStatus, 400);
  t.regex(
    parseTimeStampResp(otherPolicy.response).statusText ?? '',
    /policy 1\.2\.3\.4 is not this TSA's/,
  );
  for (const [field, value, why] of [
    ['nonce', -1, /nonce must be a non-negative integer/],
    ['nonce', 1.5, /nonce must be a non-negative integer/],
    ['nonce', '7', /nonce must be a non-negative integer/],
    ['nonce', 2 ** 53, /nonce must be a non-negative integer/],
    ['certificates', 'yes', /certificates must be true or false/],
    ['tsaPolicyOID', 5, /tsaPolicyOID must be a string/],
  ] as const) {
    const a = tsa.answerJson({ artifactHash: toBase64(digest), [field]: value }, NOW);
    t.is(a.httpStatus, 400, `${field}: ${JSON.stringify(value)}`);
    t.regex(parseTimeStampResp(a.response).statusText ?? '', why);
  }
  // A JSON request that is not an object (timestamp-authority binds it to a struct).
  for (const body of [null, [], 'sha256', 5]) {
    const a = tsa.answerJson(body, NOW);
    t.is(a.httpStatus, 400, JSON.stringify(body));
    t.is(parseTimeStampResp(a.response).status, PKI_STATUS.rejection);
    t.regex(parseTimeStampResp(a.response).statusText ?? '', /the request must be a JSON object/);
  }
  t.is(
    tsa.answerDer(
      encodeTimeStampReq({ hash: 'sha256', digest, policy: '1.2.3.4', certReq: false }),
      NOW,
    ).httpStatus,
    400,
  );
  t.is(
    tsa.answerDer(encodeTimeStampReq({ hash: 'sha256', digest, certReq: false }), CREATED_AT - 1)
      .httpStatus,
    400,
    'no stamp before the TSA exists',
  );
  // The request encoding round-trips, and a DER DEFAULT FALSE written out is refused.
  const req = parseTimeStampReq(
    encodeTimeStampReq({
      hash: 'sha384',
      digest: createHash('sha384').update('x').digest(),
      nonce: 9n,
      certReq: true,
    }),
  );
  t.is(req.hash, 'sha384');
  t.is(req.nonce, 9n);
  t.true(req.certReq);
});

/**
 * A hashedrekord request for `data` whose verifier certificate (the signer's key, self-issued)
 * carries `padding` zero bytes in a private extension, to size the canonical entry.
 */
function requestWithPaddedCertificate(data: Uint8Array, sig: Uint8Array, padding: number): unknown {
  const certificate = issueCertificate({
    serial: 7n,
    issuerName: { commonName: 'big' },
    subjectName: { commonName: 'big' },
    notBefore: NOW - 60_000,
    notAfter: NOW + 60_000,
    subjectPublicKeySpki: signer.key.spki,
    extensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: false, value: new Uint8Array(padding) }],
    signer: { algorithmOid: '1.2.840.10045.4.3.2', sign: (tbs) => signer.key.sign(tbs) },
  });
  return hashedRequest(data, sig, {
    x509Certificate: { rawBytes: toBase64(certificate) },
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
  });
}

test('an entry larger than a tlog-tiles entry bundle can hold (65,535 bytes) is refused, and nothing is logged', (t) => {
  // A valid request whose verifier certificate carries 50,000 bytes of a private extension
  // (within the 64 KiB a certificate may have): the signature verifies, but the canonical
  // entry, with the certificate in base64, cannot be bundled.
  const log = newLog();
  const data = utf8.encode('big verifier');
  const request = requestWithPaddedCertificate(data, signer.key.sign(data), 50_000);
  t.true(canonicalizeRequest(request).length > 65_535);
  const e = t.throws(() => log.createEntry(request, { now: NOW }), {
    instanceOf: StellaError,
  }) as StellaError;
  t.is(e.code, 'REKOR_REJECTED');
  t.regex(e.message, /the entry is \d+ bytes; a tlog-tiles entry bundle holds at most 65535$/);
  // The same request with the ordinary certificate is logged at index 0: nothing was appended.
  t.is(log.createEntry(hashedRequest(data), { now: NOW }).logIndex, 0);
});

test('an entry of exactly 65,535 bytes, the most a tlog-tiles entry bundle holds, is logged', (t) => {
  // The same shape as above, the extension sized so the canonical entry is 65,535 bytes. Base64
  // grows four characters at a time, so the size is searched for (this shape's entry length is
  // 3 mod 4, as 65,535 is); an ECDSA signature's length varies, so each try is measured.
  const data = utf8.encode('verifier at the limit');
  const sig = signer.key.sign(data);
  let request: unknown;
  for (let n = 48_500; n < 48_700 && request === undefined; n++) {
    const candidate = requestWithPaddedCertificate(data, sig, n);
    if (canonicalizeRequest(candidate).length === 65_535) request = candidate;
  }
  if (request === undefined) return t.fail('no extension size gave a 65,535-byte entry');
  const log = newLog();
  const r = log.createEntry(request, { now: NOW });
  t.true(r.created);
  t.is(r.logIndex, 0);
});

test('an entry appended to the storage behind the log (another writer on its database) stops the log: the index storage gives is not its tree leaf', (t) => {
  const storage = new MemoryLogStorage();
  const log = newLog(storage);
  log.createEntry(hashedRequest(utf8.encode('first')), { now: NOW });
  const stranger = utf8.encode('written by another process');
  storage.append({ body: stranger, integratedTime: 1, leafHash: leafHash(stranger) });
  const e = t.throws(() => log.createEntry(hashedRequest(utf8.encode('second')), { now: NOW }), {
    instanceOf: StellaError,
  });
  t.is(e.code, 'SANDBOX_ERROR');
  t.is(e.message, 'Rekor v2 storage returned index 2, the tree has 1');
  // The tree did not take the leaf: the signed tree still holds only the log's own entry, and
  // every later append fails the same way.
  t.is(log.size, 1);
  t.is(log.checkpoint().split('\n')[1], '1');
  t.throws(() => log.createEntry(hashedRequest(utf8.encode('third')), { now: NOW }), {
    message: 'Rekor v2 storage returned index 3, the tree has 1',
  });
});

test('v2 authority keys that are not a JSON object are refused as that, whatever else they are', (t) => {
  for (const json of ['keys', 42, true, null, [exportV2AuthorityKeys(v2keys, CREATED_AT)]])
    t.throws(() => importV2AuthorityKeys(json), {
      instanceOf: StellaError,
      message: 'Rekor v2 / TSA authority keys: expected a JSON object',
    });
});
