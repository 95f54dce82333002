/**
 * The sandbox's Rekor v2 log and TSA over HTTP: unmodified @sigstore/sign, configured from the
 * sandbox's signing_config.json as sigstore-js picks services, signs with them and Stella and
 * @sigstore/verify accept; the C2SP tlog-tiles read API serves a checkpoint, tiles and entry
 * bundles from which the root is recomputed with src/tlog/merkle.ts; the TSA answers DER and
 * JSON requests; a restart keeps the v2 log and its key.
 */
import test from 'ava';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { startSandbox } from '../../../src/sandbox/server/sandbox.js';
import { MAX_V2_BODY_BYTES } from '../../../src/sandbox/server/routes-v2.js';
import { readSandboxState, sandboxPath } from '../../../src/sandbox/server/data-dir.js';
import { SqliteLogStorage } from '../../../src/sandbox/server/storage.js';
import { runSign } from '../../../src/commands/attest/sign-run.js';
import { parseTrustedRoot } from '../../../src/trust/trusted-root.js';
import { sha256 } from '../../../src/crypto.js';
import { toBase64, toHex } from '../../../src/util/encoding.js';
import { leafHash, MerkleTree } from '../../../src/tlog/merkle.js';
import { verifyCheckpoint } from '../../../src/tlog/note.js';
import { decodeEntryBundle, splitTile } from '../../../src/tlog/tiles.js';
import { parseRekorBody } from '../../../src/tlog/rekor-entry.js';
import { verifyRfc3161Timestamp } from '../../../src/timestamp/rfc3161.js';
import { encodeTimeStampReq, parseTimeStampResp } from '../../../src/timestamp/request.js';
import { pemToDerList } from '../../../src/util/pem.js';
import { verifyWithSigstoreJs, verifyWithStella } from '../../sign/helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'stella-sandbox-v2-'));
const GITHUB_SAN = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';

// @sigstore/protobuf-specs as @sigstore/sign resolves it (SigningConfig.fromJSON).
const requireFromSign = createRequire(createRequire(import.meta.url).resolve('@sigstore/sign'));
const { SigningConfig } = requireFromSign('@sigstore/protobuf-specs') as {
  SigningConfig: { fromJSON(j: unknown): any };
};

test('@sigstore/sign configured from the sandbox signing_config.json picks Rekor v2 + TSA; Stella and @sigstore/verify accept its bundles', async (t) => {
  const sb = await startSandbox({ dataDir: tmp(), port: 0 });
  t.teardown(() => sb.close());
  const signingConfig = SigningConfig.fromJSON(
    JSON.parse(readFileSync(sb.signingConfigPath, 'utf8')),
  );
  const identityProvider = {
    getToken: async () => sb.mintToken({ platform: 'github', repo: 'org/repo' }),
  };
  const expected = { san: GITHUB_SAN, issuer: sb.urls.oidcIssuer };
  const blob = Buffer.from('signed by sigstore-js through Rekor v2');

  const msg = bundleBuilderFromSigningConfig({
    signingConfig,
    identityProvider,
    bundleType: 'messageSignature',
  });
  const msgJson = JSON.stringify(bundleToJSON(await msg.create({ data: blob })));
  const m = JSON.parse(msgJson);
  t.deepEqual(m.verificationMaterial.tlogEntries[0].kindVersion, {
    kind: 'hashedrekord',
    version: '0.0.2',
  });
  t.is(m.verificationMaterial.tlogEntries[0].inclusionPromise, undefined);
  t.is(m.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
  await t.notThrowsAsync(verifyWithStella(msgJson, sb.trustedRootPath, blob, expected));
  t.notThrows(() => verifyWithSigstoreJs(msgJson, sb.trustedRootPath, blob, expected));
  await t.throwsAsync(
    verifyWithStella(msgJson, sb.trustedRootPath, Buffer.from('not it'), expected),
  );

  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        { name: 'blob', digest: { sha256: createHash('sha256').update(blob).digest('hex') } },
      ],
      predicateType: 'https://example.com/p/v1',
      predicate: {},
    }),
  );
  const dsse = bundleBuilderFromSigningConfig({
    signingConfig,
    identityProvider,
    bundleType: 'dsseEnvelope',
  });
  const dsseJson = JSON.stringify(
    bundleToJSON(await dsse.create({ data: statement, type: 'application/vnd.in-toto+json' })),
  );
  t.deepEqual(JSON.parse(dsseJson).verificationMaterial.tlogEntries[0].kindVersion, {
    kind: 'dsse',
    version: '0.0.2',
  });
  await t.notThrowsAsync(verifyWithStella(dsseJson, sb.trustedRootPath, blob, expected));
  t.notThrows(() => verifyWithSigstoreJs(dsseJson, sb.trustedRootPath, undefined, expected));
  t.is(sb.rekorV2.size, 2);
  t.is(JSON.parse(dsseJson).verificationMaterial.tlogEntries[0].logIndex, '1');
});

test('tlog-tiles read API: checkpoint, tile and entry bundle recompute the signed root; gateway paths, caching, refusals', async (t) => {
  const sb = await startSandbox({ dataDir: tmp(), port: 0 });
  t.teardown(() => sb.close());
  const dir = tmp();
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const a = join(dir, `a${i}`);
    writeFileSync(a, `tile entry ${i}`);
    const r = await runSign({
      artifact: a,
      identityToken: sb.mintToken({ platform: 'github', repo: 'org/repo' }),
      signingConfigPath: sb.signingConfigPath,
      trustedRootPath: sb.trustedRootPath,
      attestationStorePath: false,
      env: {},
    });
    bodies.push(r.bundle.verificationMaterial.tlogEntries[0]!.canonicalizedBody);
  }
  const base = sb.urls.rekorV2;
  const get = async (path: string) => {
    const r = await fetch(base + path);
    return {
      status: r.status,
      type: r.headers.get('content-type'),
      cache: r.headers.get('cache-control'),
      bytes: new Uint8Array(await r.arrayBuffer()),
    };
  };
  const trust = parseTrustedRoot(readFileSync(sb.trustedRootPath));
  const v2log = trust.tlogs.find((l) => l.publicKey.keyDetails === 'PKIX_ED25519')!;
  t.truthy(v2log);
  t.deepEqual(v2log.checkpointKeyId, v2log.logId);

  const cpRes = await get('/checkpoint');
  t.is(cpRes.status, 200);
  t.is(cpRes.type, 'text/plain; charset=utf-8');
  t.is(cpRes.cache, 'no-store');
  const cp = verifyCheckpoint(Buffer.from(cpRes.bytes).toString('utf8'), [v2log], { rekor: 'v2' });
  t.is(cp.treeSize, 3);
  t.is(cp.origin, '127.0.0.1');

  const tile = await get('/tile/0/000.p/3');
  t.is(tile.status, 200);
  t.is(tile.type, 'application/octet-stream');
  t.regex(tile.cache ?? '', /immutable/);
  const hashes = splitTile(tile.bytes);
  const entries = decodeEntryBundle((await get('/tile/entries/000.p/3')).bytes);
  t.is(entries.length, 3);
  entries.forEach((e, i) => {
    t.deepEqual(e, bodies[i], 'the entry bundle holds the canonicalized bodies, in log order');
    t.deepEqual(leafHash(e), hashes[i]);
    t.is(parseRekorBody(e).apiVersion, '0.0.2');
  });
  const tree = new MerkleTree();
  for (const h of hashes) tree.appendLeafHash(h);
  t.deepEqual(
    tree.root(),
    cp.rootHash,
    'the root recomputed from the tile is the signed checkpoint root',
  );
  // A smaller partial tile is the prefix (every size had a checkpoint).
  t.deepEqual((await get('/tile/0/000.p/2')).bytes, tile.bytes.slice(0, 64));
  // rekor-tiles' gateway paths serve the same.
  t.deepEqual((await get('/api/v2/tile/0/000.p/3')).bytes, tile.bytes);
  t.is((await get('/api/v2/checkpoint')).status, 200);
  // Not there yet, not canonical, wrong method.
  t.is((await get('/tile/0/000')).status, 404);
  t.is((await get('/tile/0/000.p/4')).status, 404);
  t.is((await get('/tile/1/000.p/1')).status, 404);
  t.is((await get('/tile/entries/000.p/4')).status, 404);
  // The 404 says which kind of thing the log does not have.
  const missing = async (path: string) =>
    (JSON.parse(Buffer.from((await get(path)).bytes).toString('utf8')) as { message: string })
      .message;
  t.is(await missing('/tile/0/000.p/4'), '/tile/0/000.p/4: the log has no such tile (tree size 3)');
  t.is(
    await missing('/tile/entries/000.p/4'),
    '/tile/entries/000.p/4: the log has no such entry bundle (tree size 3)',
  );
  t.is((await get('/tile/0/x000/000.p/3')).status, 400);
  t.is((await get('/tile/00/000.p/3')).status, 400);
  t.is((await fetch(base + '/checkpoint', { method: 'POST' })).status, 405);
});

test('Rekor v2 write API over HTTP: 201 TransparencyLogEntry, 400 for refusals, 409 with x-log-index for a duplicate', async (t) => {
  const sb = await startSandbox({ dataDir: tmp(), port: 0 });
  t.teardown(() => sb.close());
  const post = (body: string) =>
    fetch(`${sb.urls.rekorV2}/api/v2/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
  // Errors in rekor-tiles' gRPC-gateway shape: {code: gRPC status, message, details}.
  type GrpcError = { code: number; message: string; details: unknown[] };
  const bad = await post('{not json');
  t.is(bad.status, 400);
  t.like((await bad.json()) as GrpcError, { code: 3, details: [] });
  const refused = await post(
    JSON.stringify({ hashedRekordRequestV002: { digest: toBase64(sha256(Buffer.from('x'))) } }),
  );
  t.is(refused.status, 400);
  const refusal = (await refused.json()) as GrpcError;
  t.is(refusal.code, 3, 'INVALID_ARGUMENT');
  t.regex(refusal.message, /hashedRekordRequestV002\.signature is missing/);
  t.is((await fetch(`${sb.urls.rekorV2}/api/v2/log/entries`)).status, 405);
  const huge = await post(' '.repeat(MAX_V2_BODY_BYTES + 1));
  t.is(huge.status, 413);
  t.is(((await huge.json()) as GrpcError).code, 8, 'RESOURCE_EXHAUSTED');
  // A real entry, then the same request again.
  const dir = tmp();
  const a = join(dir, 'a');
  writeFileSync(a, 'dup');
  const r = await runSign({
    artifact: a,
    identityToken: sb.mintToken({ platform: 'github', repo: 'org/repo' }),
    signingConfigPath: sb.signingConfigPath,
    trustedRootPath: sb.trustedRootPath,
    attestationStorePath: false,
    env: {},
  });
  const body = JSON.parse(
    Buffer.from(r.bundle.verificationMaterial.tlogEntries[0]!.canonicalizedBody).toString('utf8'),
  );
  const hr = body.spec.hashedRekordV002;
  const again = await post(
    JSON.stringify({
      hashedRekordRequestV002: { digest: hr.data.digest, signature: hr.signature },
    }),
  );
  t.is(again.status, 409);
  t.is(again.headers.get('x-log-index'), '0');
  t.is(((await again.json()) as GrpcError).code, 6, 'ALREADY_EXISTS');
});

test('a Rekor v2 entry the log cannot append (another writer on its database) answers 500 naming why, not a refusal, and the signed tree does not take it', async (t) => {
  const dataDir = tmp();
  const sb = await startSandbox({ dataDir, port: 0 });
  t.teardown(() => sb.close());
  // A row written behind the log's back: the index the storage gives is no longer its tree leaf.
  const stranger = new SqliteLogStorage(sandboxPath(dataDir, 'logV2'));
  const strangerBody = Buffer.from('written by another process');
  stranger.append({ body: strangerBody, integratedTime: 1, leafHash: leafHash(strangerBody) });
  stranger.close();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.from('logged after the stranger');
  const request = {
    hashedRekordRequestV002: {
      digest: toBase64(sha256(data)),
      signature: {
        content: toBase64(sign('sha256', data, privateKey)),
        verifier: {
          publicKey: { rawBytes: toBase64(publicKey.export({ type: 'spki', format: 'der' })) },
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        },
      },
    },
  };
  const r = await fetch(`${sb.urls.rekorV2}/api/v2/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  t.is(r.status, 500);
  t.deepEqual(await r.json(), {
    code: 500,
    message: 'Rekor v2 storage returned index 1, the tree has 0',
  });
  // The signed tree is unchanged: the checkpoint still says 0 entries.
  const checkpoint = await (await fetch(`${sb.urls.rekorV2}/checkpoint`)).text();
  t.is(checkpoint.split('\n')[1], '0');
});

test('TSA over HTTP: DER TimeStampReq and sigstore JSON requests, reply content type, certificate chain, refusals', async (t) => {
  const sb = await startSandbox({ dataDir: tmp(), port: 0 });
  t.teardown(() => sb.close());
  const trust = parseTrustedRoot(readFileSync(sb.trustedRootPath));
  t.is(trust.timestampAuthorities.length, 1);
  t.is(trust.timestampAuthorities[0]!.uri, sb.urls.tsa);
  const signature = Buffer.from('some signature bytes');
  const der = await fetch(sb.urls.tsa, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: encodeTimeStampReq({
      hash: 'sha256',
      digest: sha256(signature),
      nonce: 77n,
      certReq: true,
    }),
  });
  t.is(der.status, 200);
  t.is(der.headers.get('content-type'), 'application/timestamp-reply');
  const v = verifyRfc3161Timestamp(
    new Uint8Array(await der.arrayBuffer()),
    signature,
    trust.timestampAuthorities,
  );
  t.is(v.tstInfo.nonce, 77n);
  const json = await fetch(sb.urls.tsa, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ artifactHash: toBase64(sha256(signature)), hashAlgorithm: 'sha256' }),
  });
  t.is(json.status, 200);
  t.truthy(
    verifyRfc3161Timestamp(
      new Uint8Array(await json.arrayBuffer()),
      signature,
      trust.timestampAuthorities,
    ),
  );
  const chain = pemToDerList(await (await fetch(`${sb.urls.tsa}/certchain`)).text());
  t.deepEqual(chain, trust.timestampAuthorities[0]!.certChain);
  const garbage = await fetch(sb.urls.tsa, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: 'nope',
  });
  t.is(garbage.status, 400);
  t.is(parseTimeStampResp(new Uint8Array(await garbage.arrayBuffer())).status, 2);
  t.is(
    (
      await fetch(sb.urls.tsa, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'x',
      })
    ).status,
    415,
  );
  t.is((await fetch(sb.urls.tsa)).status, 405);
});

test('a restart keeps the Rekor v2 log, its key and its name: old bundles verify with the new trust root, new entries continue the tree', async (t) => {
  const dataDir = tmp();
  const dir = tmp();
  const a = join(dir, 'a');
  writeFileSync(a, 'before the restart');
  const first = await startSandbox({ dataDir, port: 0 });
  const token = () => first.mintToken({ platform: 'github', repo: 'org/repo' });
  const r1 = await runSign({
    artifact: a,
    identityToken: token(),
    signingConfigPath: first.signingConfigPath,
    trustedRootPath: first.trustedRootPath,
    attestationStorePath: false,
    env: {},
  });
  const oldRoot = first.rekorV2.rootHash();
  const keyId = toHex(first.rekorV2.keyId);
  await first.close();

  const second = await startSandbox({ dataDir, port: 0 });
  t.teardown(() => second.close());
  t.is(second.rekorV2.size, 1);
  t.deepEqual(second.rekorV2.rootHash(), oldRoot);
  t.is(toHex(second.rekorV2.keyId), keyId);
  const state = readSandboxState(dataDir)!;
  t.is(state.files.signingConfig, second.signingConfigPath);
  t.is(state.urls.tsa, second.urls.tsa);
  // The old bundle (checkpoint signed before the restart) verifies against the rewritten trust root.
  const expected = { san: GITHUB_SAN, issuer: second.urls.oidcIssuer };
  await t.notThrowsAsync(
    verifyWithStella(r1.bundleJson, second.trustedRootPath, readFileSync(a), {
      ...expected,
      issuer: first.urls.oidcIssuer,
    }),
  );
  t.notThrows(() =>
    verifyWithSigstoreJs(r1.bundleJson, second.trustedRootPath, readFileSync(a), {
      ...expected,
      issuer: first.urls.oidcIssuer,
    }),
  );
  // A new entry gets index 1, and the tiles serve both.
  const b = join(dir, 'b');
  writeFileSync(b, 'after the restart');
  const r2 = await runSign({
    artifact: b,
    identityToken: second.mintToken({ platform: 'github', repo: 'org/repo' }),
    signingConfigPath: second.signingConfigPath,
    trustedRootPath: second.trustedRootPath,
    attestationStorePath: false,
    env: {},
  });
  t.is(r2.tlog[0]!.logIndex, 1);
  const entries = decodeEntryBundle(
    new Uint8Array(
      await (await fetch(`${second.urls.rekorV2}/tile/entries/000.p/2`)).arrayBuffer(),
    ),
  );
  t.deepEqual(entries[0], r1.bundle.verificationMaterial.tlogEntries[0]!.canonicalizedBody);
});
