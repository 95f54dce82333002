import test from 'ava';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { sha256 } from '../../../src/crypto.js';
import { fromHex, toBase64, toHex, utf8 } from '../../../src/util/encoding.js';
import { preAuthEncoding, serializeEnvelope } from '../../../src/bundle/dsse.js';
import type { Bundle, DsseEnvelopeContent } from '../../../src/bundle/model.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../../src/tlog/merkle.js';
import { verifyCheckpoint } from '../../../src/tlog/note.js';
import { parseRekorBody, verifyEntryBinding } from '../../../src/tlog/rekor-entry.js';
import { verifySet } from '../../../src/tlog/set.js';
import {
  LocalRekorLog,
  MemoryLogStorage,
  type RekorLogEntryJson,
} from '../../../src/sandbox/authority/rekor.js';
import { tlogEntryFromRekor } from '../../../src/bundle/from-rekor.js';
import { NOW, URLS, makeAuthority, signerKey } from './helpers.js';
import { derToPem } from '../../../src/util/pem.js';
import { hashedRekordProposal } from '../../../src/sign/rekor-client.js';

const signer = signerKey();
const pem = signer.pem;

/** The signer's own hashedrekord request, so the log is tested on what Stella sends. */
function hashedRekord(data: Uint8Array, sig = signer.key.sign(data), keyPem = pem): unknown {
  return hashedRekordProposal(toHex(sha256(data)), sig, keyPem);
}

function dsseEnvelope(payload: Uint8Array): DsseEnvelopeContent {
  const payloadType = 'application/vnd.in-toto+json';
  return {
    kind: 'dsseEnvelope',
    payload,
    payloadType,
    signatures: [{ sig: signer.key.sign(preAuthEncoding(payloadType, payload)), keyid: '' }],
  };
}

function only(r: Record<string, RekorLogEntryJson>): RekorLogEntryJson {
  return Object.values(r)[0]!;
}

test('append hashedrekord entries; every proof, checkpoint and SET verifies with the verifier code', (t) => {
  const authority = makeAuthority();
  const log = authority.rekor;
  const tlogs = authority.trustMaterial().tlogs;
  const created = [];
  for (let i = 0; i < 7; i++)
    created.push(
      log.createEntry(hashedRekord(utf8.encode(`artifact ${i}`)), { now: NOW + i * 1000 }),
    );
  t.is(log.size, 7);
  for (const c of created) {
    t.true(c.created);
    t.regex(c.uuid, /^[0-9a-f]{80}$/);
    const e = only(log.entryByUuid(c.uuid)!);
    const body = Buffer.from(e.body, 'base64');
    const p = e.verification.inclusionProof;
    t.is(p.treeSize, 7);
    verifyInclusion(
      p.logIndex,
      p.treeSize,
      leafHash(body),
      p.hashes.map(fromHex),
      fromHex(p.rootHash),
    );
    const cp = verifyCheckpoint(p.checkpoint, tlogs);
    t.is(cp.treeSize, 7);
    t.is(toHex(cp.rootHash), p.rootHash);
    t.is(cp.origin, `rekor.test.invalid - ${log.treeId}`);
    const entry = tlogEntryFromRekor(e);
    t.is(verifySet(entry, tlogs[0]!), e.integratedTime * 1000);
    t.is(e.logID, toHex(tlogs[0]!.logId));
    // The body is what the verifier parses and binds.
    t.is(parseRekorBody(body).kind, 'hashedrekord');
  }
  t.is(created[3]!.response[created[3]!.uuid]!.integratedTime, Math.floor((NOW + 3000) / 1000));
});

test('a tampered proof, checkpoint or SET fails verification', (t) => {
  const authority = makeAuthority();
  const tlogs = authority.trustMaterial().tlogs;
  for (let i = 0; i < 3; i++)
    authority.rekor.createEntry(hashedRekord(utf8.encode(`a${i}`)), { now: NOW });
  const e = only(authority.rekor.entryByIndex(1)!);
  const p = e.verification.inclusionProof;
  const body = Buffer.from(e.body, 'base64');
  const hashes = p.hashes.map(fromHex);
  hashes[0]![0]! ^= 1;
  t.throws(
    () => verifyInclusion(p.logIndex, p.treeSize, leafHash(body), hashes, fromHex(p.rootHash)),
    { instanceOf: StellaError },
  );
  t.throws(
    () =>
      verifyCheckpoint(p.checkpoint.replace(`\n${p.treeSize}\n`, `\n${p.treeSize + 1}\n`), tlogs),
    { instanceOf: StellaError },
  );
  t.throws(() => verifyCheckpoint(p.checkpoint, makeAuthority('other').trustMaterial().tlogs), {
    instanceOf: StellaError,
  });
  const entry = tlogEntryFromRekor({ ...e, integratedTime: e.integratedTime + 1 });
  t.throws(() => verifySet(entry, tlogs[0]!), { instanceOf: StellaError });
});

test('consistency proofs between tree heads verify', (t) => {
  const log = makeAuthority().rekor;
  const roots: string[] = [];
  for (let i = 0; i < 9; i++) {
    log.createEntry(hashedRekord(utf8.encode(`c${i}`)), { now: NOW });
    roots.push(log.logInfo().rootHash);
  }
  // firstSize = lastSize is allowed (as Rekor does): an empty proof, the same root.
  for (const m of [1, 2, 3, 4, 5, 8, 9]) {
    const proof = log.consistencyProof(m, 9);
    verifyConsistency(
      m,
      9,
      proof.hashes.map(fromHex),
      fromHex(roots[m - 1]!),
      fromHex(proof.rootHash),
    );
    if (m === 9) t.deepEqual(proof, { rootHash: roots[8], hashes: [] });
  }
  t.deepEqual(log.consistencyProof(4, 4), { rootHash: roots[3], hashes: [] });
  // Every request outside 1 <= firstSize <= lastSize <= size is refused by name, each bound alone.
  for (const [first, last] of [
    [0, 9],
    [3, 10],
    [5, 3],
    [1.5, 9],
  ])
    t.throws(() => log.consistencyProof(first!, last), {
      instanceOf: StellaError,
      message: 'Rekor: consistency proof needs 1 <= firstSize <= lastSize <= 9',
    });
});

test('dsse entry: verified, canonicalized as Rekor does, and binds to the bundle', (t) => {
  const authority = makeAuthority();
  const env = dsseEnvelope(utf8.encode('{"_type":"https://in-toto.io/Statement/v1"}'));
  const envelopeText = serializeEnvelope(env);
  const r = authority.rekor.createEntry(
    {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        proposedContent: { envelope: envelopeText, verifiers: [toBase64(utf8.encode(pem))] },
      },
    },
    { now: NOW },
  );
  const e = only(r.response);
  const body = parseRekorBody(Buffer.from(e.body, 'base64'));
  t.is(body.kind, 'dsse');
  if (body.kind !== 'dsse') return;
  t.deepEqual(body.envelopeHash?.value, sha256(utf8.encode(envelopeText)));
  t.deepEqual(body.payloadHash.value, sha256(env.payload));
  const bundle: Bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    version: '0.3',
    verificationMaterial: {
      content: { kind: 'publicKey', hint: '' },
      tlogEntries: [tlogEntryFromRekor(e)],
      rfc3161Timestamps: [],
    },
    content: env,
  };
  t.notThrows(() =>
    verifyEntryBinding(bundle.verificationMaterial.tlogEntries[0]!, bundle, {
      publicKeySpki: signer.key.spki,
    }),
  );
  // The same spec under another kind or version is refused by name, before it is read: only
  // hashedrekord 0.0.1 and dsse 0.0.1 are accepted.
  const spec = {
    proposedContent: { envelope: envelopeText, verifiers: [toBase64(utf8.encode(pem))] },
  };
  for (const [kind, apiVersion] of [
    ['dsse', '0.0.2'],
    ['intoto', '0.0.1'],
    ['hashedrekord', '0.0.2'],
  ])
    t.throws(() => authority.rekor.createEntry({ apiVersion, kind, spec }, { now: NOW }), {
      instanceOf: StellaError,
      code: 'REKOR_REJECTED',
      message: `Rekor: unsupported entry type ${kind} ${apiVersion} (hashedrekord 0.0.1 and dsse 0.0.1 are accepted)`,
    });
  t.is(authority.rekor.size, 1);
});

test('signatures that do not verify are refused before anything is logged', (t) => {
  const log = makeAuthority().rekor;
  const data = utf8.encode('x');
  const other = signerKey('other');
  const cases: unknown[] = [
    hashedRekord(data, other.key.sign(data)),
    hashedRekord(data, signer.key.sign(utf8.encode('y'))),
    {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        proposedContent: {
          envelope: serializeEnvelope(dsseEnvelope(data)),
          verifiers: [toBase64(utf8.encode(other.pem))],
        },
      },
    },
    {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        proposedContent: { envelope: '{"payload":"', verifiers: [toBase64(utf8.encode(pem))] },
      },
    },
    { apiVersion: '0.0.2', kind: 'hashedrekord', spec: {} },
    { apiVersion: '0.0.1', kind: 'intoto', spec: {} },
    hashedRekord(
      data,
      signer.key.sign(data),
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
    ),
    null,
  ];
  for (const c of cases) {
    const err = t.throws(() => log.createEntry(c, { now: NOW }), { instanceOf: StellaError });
    t.is(err?.code, 'REKOR_REJECTED', err?.message);
  }
  t.is(log.size, 0);
  // A verifier that is not PEM at all is named as such.
  const notPem = t.throws(
    () => log.createEntry(hashedRekord(data, signer.key.sign(data), 'not a key'), { now: NOW }),
    { instanceOf: StellaError },
  );
  t.is(notPem.code, 'REKOR_REJECTED');
  t.regex(notPem.message, /publicKey.* is not a PEM certificate or public key/);
  // hashedrekord signs a bare digest, which only ECDSA can verify here (Rekor v1 has no
  // prehashed Ed25519): an Ed25519 key is refused as such, whatever its signature.
  const ed = generateKeyPairSync('ed25519');
  const edPem = ed.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  for (const sig of [
    nodeSign(null, data, ed.privateKey),
    nodeSign(null, sha256(data), ed.privateKey),
  ]) {
    const e = t.throws(() => log.createEntry(hashedRekord(data, sig, edPem), { now: NOW }), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'REKOR_REJECTED');
    t.is(e.message, 'Rekor: hashedrekord needs an ECDSA key (the signature is over a bare digest)');
  }
  t.is(log.size, 0);
});

test('the same entry twice is not appended again (Rekor 409)', (t) => {
  const log = makeAuthority().rekor;
  const a = log.createEntry(hashedRekord(utf8.encode('dup')), { now: NOW });
  const b = log.createEntry(hashedRekord(utf8.encode('dup')), { now: NOW + 60_000 });
  t.false(b.created);
  t.is(b.uuid, a.uuid);
  t.is(log.size, 1);
});

test('a log reopened over the same storage has the same tree; lookups by uuid, index and hash', (t) => {
  const authority = makeAuthority();
  const storage = new MemoryLogStorage();
  const log = new LocalRekorLog({ key: authority.keys.rekorLog, storage, baseUrl: URLS.rekor });
  const r = log.createEntry(hashedRekord(utf8.encode('one')), { now: NOW });
  log.createEntry(hashedRekord(utf8.encode('two')), { now: NOW });
  const reopened = new LocalRekorLog({
    key: authority.keys.rekorLog,
    storage,
    baseUrl: URLS.rekor,
  });
  t.deepEqual(reopened.logInfo(), log.logInfo());
  t.deepEqual(reopened.entryByUuid(r.uuid), log.entryByIndex(0));
  t.deepEqual(reopened.entryByUuid(r.uuid.slice(16)), log.entryByIndex(0));
  t.is(reopened.entryByUuid('0'.repeat(64)), undefined);
  t.is(reopened.entryByIndex(2), undefined);
  t.deepEqual(reopened.searchByHash(`sha256:${toHex(sha256(utf8.encode('one')))}`), [r.uuid]);
  t.throws(() => reopened.entryByUuid('xyz'), { instanceOf: StellaError });
  t.regex(log.publicKeyPem(), /^-----BEGIN PUBLIC KEY-----\n/);
  t.is(log.logInfo().treeID, log.treeId.toString());
});

test('an entry appended to the storage behind the log (another writer on its database) stops the log before its tree takes the leaf', (t) => {
  const authority = makeAuthority();
  const storage = new MemoryLogStorage();
  const log = new LocalRekorLog({ key: authority.keys.rekorLog, storage, baseUrl: URLS.rekor });
  log.createEntry(hashedRekord(utf8.encode('first')), { now: NOW });
  const before = log.logInfo();
  const stranger = utf8.encode('written by another process');
  storage.append({ body: stranger, integratedTime: 1, leafHash: leafHash(stranger) });
  for (const [data, index] of [
    ['second', 2],
    ['third', 3],
  ] as const)
    t.throws(() => log.createEntry(hashedRekord(utf8.encode(data)), { now: NOW }), {
      instanceOf: StellaError,
      code: 'SANDBOX_ERROR',
      message: `Rekor storage returned index ${index}, the tree has 1`,
    });
  t.is(log.size, 1);
  t.is(log.logInfo().rootHash, before.rootHash);
});

test('hashedrekord with a certificate verifier stores the certificate PEM', (t) => {
  const authority = makeAuthority();
  const jwt = authority.oidc.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  const claims = authority.oidc.verifyToken(jwt, { audience: 'sigstore', now: NOW });
  const { chain } = authority.fulcio.issueSigningCertificate({
    claims,
    issuerUrl: authority.oidc.issuerUrl,
    subjectPublicKeySpki: signer.key.spki,
    proofOfPossession: signer.key.sign(utf8.encode(claims.sub)),
    now: NOW,
  });
  const r = authority.rekor.createEntry(
    hashedRekord(utf8.encode('certified'), undefined, derToPem(chain[0])),
    { now: NOW },
  );
  const body = parseRekorBody(Buffer.from(only(r.response).body, 'base64'));
  t.true(body.kind === 'hashedrekord' && body.signature.verifier.kind === 'certificate');
});

test('checkpointName: a private deployment signs checkpoints under its own name (Rekor v1 rekor_server.hostname)', (t) => {
  const authority = makeAuthority();
  const tlogs = authority.trustMaterial().tlogs;
  const log = new LocalRekorLog({
    key: authority.keys.rekorLog,
    storage: new MemoryLogStorage(),
    baseUrl: URLS.rekor,
    checkpointName: 'rekor-server-0',
  });
  const e = only(log.createEntry(hashedRekord(utf8.encode('private')), { now: NOW }).response);
  const checkpoint = e.verification.inclusionProof.checkpoint;
  t.true(checkpoint.startsWith(`rekor-server-0 - ${log.treeId}\n`));
  t.true(checkpoint.includes('\n\u2014 rekor-server-0 '));
  // By key hint (Rekor v1) it verifies and reports the name; by exact name it does not.
  t.is(verifyCheckpoint(checkpoint, tlogs, { rekor: 'v1' }).signerName, 'rekor-server-0');
  t.throws(() => verifyCheckpoint(checkpoint, tlogs), {
    instanceOf: StellaError,
    message: /no signature from a trusted log/,
  });
  t.throws(
    () =>
      new LocalRekorLog({
        key: authority.keys.rekorLog,
        storage: new MemoryLogStorage(),
        baseUrl: URLS.rekor,
        checkpointName: 'has space',
      }),
    { instanceOf: StellaError, message: /not a valid signed-note name/ },
  );
  // Without a name, the base URL's host is the name: a URL with none is refused, and so is
  // text that is no URL.
  const withBase = (baseUrl: string) =>
    new LocalRekorLog({ key: authority.keys.rekorLog, storage: new MemoryLogStorage(), baseUrl });
  t.throws(() => withBase('file:///srv/rekor'), {
    instanceOf: StellaError,
    code: 'CONFIG_INVALID',
    message: 'Rekor base URL "file:///srv/rekor" has no usable host name',
  });
  t.throws(() => withBase('not a url'), {
    instanceOf: StellaError,
    code: 'CONFIG_INVALID',
    message: 'Rekor base URL "not a url" is not a URL',
  });
});

test('fork: the fork point is an earlier size of the log, 0 up to one less than its size; anything else is refused and the log kept', (t) => {
  const log = makeAuthority().rekor;
  const empty = t.throws(() => log.fork(), { instanceOf: StellaError });
  t.is(empty.code, 'INPUT_INVALID');
  t.is(empty.message, 'fork: the log is empty; nothing to fork');
  for (const i of [0, 1, 2]) log.createEntry(hashedRekord(utf8.encode(`fork ${i}`)), { now: NOW });
  const root = log.logInfo().rootHash;
  for (const at of [3, 4, -1, 1.5, Number.NaN]) {
    const e = t.throws(() => log.fork(at), { instanceOf: StellaError });
    t.is(e.code, 'INPUT_INVALID');
    t.is(e.message, 'fork: the log has 3 entries; the fork point must be 0..2');
  }
  t.is(log.size, 3);
  t.is(log.logInfo().rootHash, root);
  t.deepEqual(log.fork(2), { from: 3, to: 2 });
  t.is(log.size, 2);
});

test('hashedrekord: a hash algorithm Rekor does not take is refused by name before anything is logged', (t) => {
  const log = makeAuthority().rekor;
  const proposal = hashedRekord(utf8.encode('alg')) as {
    spec: { data: { hash: { algorithm: string } } };
  };
  for (const algorithm of ['md5', 'sha1', 'SHA256']) {
    const edited = structuredClone(proposal);
    edited.spec.data.hash.algorithm = algorithm;
    const e = t.throws(() => log.createEntry(edited, { now: NOW }), { instanceOf: StellaError });
    t.is(e.message, `Rekor: unsupported hash algorithm "${algorithm}"`);
  }
  t.is(log.size, 0);
});

test('a clock at or before 1970 is refused before anything is logged', (t) => {
  const log = makeAuthority().rekor;
  for (const now of [0, 999, -5_000]) {
    const e = t.throws(() => log.createEntry(hashedRekord(utf8.encode('clock')), { now }), {
      instanceOf: StellaError,
    });
    t.regex(e.message, /Rekor: the clock is not a positive time/);
  }
  t.is(log.size, 0);
});

test('hashedrekord: a digest value that is not hex, or not the length its algorithm gives, is refused before anything is logged', (t) => {
  const log = makeAuthority().rekor;
  const proposal = hashedRekord(utf8.encode('hex')) as {
    spec: { data: { hash: { value: string } } };
  };
  const good = proposal.spec.data.hash.value;
  for (const value of ['zz'.repeat(32), good.slice(2), `${good}00`, `${good.slice(2)}g0`]) {
    const edited = structuredClone(proposal);
    edited.spec.data.hash.value = value;
    const e = t.throws(() => log.createEntry(edited, { now: NOW }), { instanceOf: StellaError });
    t.regex(e.message, /Rekor: spec\.data\.hash\.value must be 64 hex digits/, value);
  }
  t.is(log.size, 0);
});
