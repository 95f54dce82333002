/**
 * The sandbox speaks the real Fulcio v2 / Rekor v1 protocol: @sigstore/sign (a client no one
 * here wrote) signs against it and the results verify with Stella and @sigstore/verify. Plus
 * the HTTP surface itself, loopback-only binding, and persistence across a restart.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import {
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
} from '@sigstore/sign';
import { startSandbox, mintSandboxToken } from '../../../src/sandbox/server/sandbox.js';
import { readSandboxState } from '../../../src/sandbox/server/data-dir.js';
import { parseTrustedRoot } from '../../../src/trust/trusted-root.js';
import { loadSignerConfig } from '../../../src/sign/config.js';
import { runSign } from '../../../src/commands/attest/sign-run.js';
import { decodeTokenClaims } from '../../../src/sign/token.js';
import { StellaError } from '../../../src/errors.js';
import { verifyWithSigstoreJs, verifyWithStella } from '../../sign/helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'stella-sandbox-'));
const GITHUB_SAN = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';

test('@sigstore/sign (FulcioSigner + RekorWitness) signs against the sandbox; Stella and @sigstore/verify accept', async (t) => {
  const sb = await startSandbox({ dataDir: tmp(), port: 0 });
  t.teardown(() => sb.close());
  const signer = new FulcioSigner({
    fulcioBaseURL: sb.urls.fulcio,
    identityProvider: {
      getToken: async () => sb.mintToken({ platform: 'github', repo: 'org/repo' }),
    },
  });
  const expected = { san: GITHUB_SAN, issuer: sb.urls.oidcIssuer };

  // hashedrekord (message signature)
  const blob = Buffer.from('signed by sigstore-js');
  const msgBuilder = new MessageSignatureBundleBuilder({
    signer,
    witnesses: [new RekorWitness({ rekorBaseURL: sb.urls.rekor })],
  });
  const msgBundle = JSON.stringify(bundleToJSON(await msgBuilder.create({ data: blob })));
  await t.notThrowsAsync(verifyWithStella(msgBundle, sb.trustedRootPath, blob, expected));
  t.notThrows(() => verifyWithSigstoreJs(msgBundle, sb.trustedRootPath, blob, expected));

  // dsse
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        {
          name: 'blob',
          digest: {
            sha256: (await import('node:crypto')).createHash('sha256').update(blob).digest('hex'),
          },
        },
      ],
      predicateType: 'https://example.com/p/v1',
      predicate: {},
    }),
  );
  const dsseBuilder = new DSSEBundleBuilder({
    signer,
    witnesses: [new RekorWitness({ rekorBaseURL: sb.urls.rekor, entryType: 'dsse' })],
  });
  const dsseBundle = JSON.stringify(
    bundleToJSON(
      await dsseBuilder.create({ data: statement, type: 'application/vnd.in-toto+json' }),
    ),
  );
  await t.notThrowsAsync(verifyWithStella(dsseBundle, sb.trustedRootPath, blob, expected));
  t.notThrows(() => verifyWithSigstoreJs(dsseBundle, sb.trustedRootPath, undefined, expected));

  // The second entry went to index 1 of the same log.
  const entries = JSON.parse(dsseBundle).verificationMaterial.tlogEntries;
  t.is(entries[0].logIndex, '1');
});

test('@sigstore/sign with an expired token or wrong audience gets a refusal, not a certificate', async (t) => {
  const sb = await startSandbox({ dataDir: tmp(), port: 0 });
  t.teardown(() => sb.close());
  for (const token of [
    sb.mintToken({ platform: 'github', repo: 'org/repo', now: Date.now() - 3_600_000 }),
    sb.mintToken({ platform: 'github', repo: 'org/repo', audience: 'other' }),
  ]) {
    const signer = new FulcioSigner({
      fulcioBaseURL: sb.urls.fulcio,
      identityProvider: { getToken: async () => token },
    });
    const builder = new MessageSignatureBundleBuilder({
      signer,
      witnesses: [new RekorWitness({ rekorBaseURL: sb.urls.rekor })],
    });
    const err = await t.throwsAsync(builder.create({ data: Buffer.from('x') }));
    t.regex(String((err as { cause?: Error }).cause ?? (err as Error)), /401|expired|audience/i);
  }
});

test('HTTP surface: discovery, JWKS, Fulcio config and trust bundle, Rekor log, entries, proofs, 409, 404, 415', async (t) => {
  const dataDir = tmp();
  const sb = await startSandbox({ dataDir, port: 0 });
  t.teardown(() => sb.close());
  const base = sb.urls.base;
  t.regex(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  const get = async (path: string) => {
    const r = await fetch(base + path);
    return { status: r.status, headers: r.headers, text: await r.text() };
  };
  const disco = JSON.parse((await get('/.well-known/openid-configuration')).text);
  t.is(disco.issuer, base);
  const jwksPath = new URL(disco.jwks_uri).pathname;
  t.is(JSON.parse((await get(jwksPath)).text).keys[0].kty, 'EC');
  t.is(JSON.parse((await get('/jwks')).text).keys[0].alg, 'ES256');
  t.deepEqual(
    JSON.parse((await get('/api/v2/configuration')).text).issuers.map(
      (i: { issuerUrl: string }) => i.issuerUrl,
    ),
    [base],
  );
  const bundle = JSON.parse((await get('/api/v2/trustBundle')).text);
  t.is(bundle.chains[0].certificates.length, 2);
  t.regex((await get('/api/v1/log/publicKey')).text, /BEGIN PUBLIC KEY/);
  t.is(JSON.parse((await get('/api/v1/log')).text).treeSize, 0);
  t.is((await get('/api/v1/log/entries/' + '0'.repeat(64))).status, 404);
  t.is((await get('/nope')).status, 404);
  t.is((await fetch(base + '/api/v2/signingCert')).status, 405);
  const bad = await fetch(base + '/api/v1/log/entries', {
    method: 'POST',
    body: '{not json',
    headers: { 'content-type': 'application/json' },
  });
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { message: string }).message, /not valid JSON/);

  // Two signatures, so there is a consistency proof to ask for.
  const dir = tmp();
  const { writeFileSync } = await import('node:fs');
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  writeFileSync(a, 'a');
  writeFileSync(b, 'b');
  const token = sb.mintToken({ platform: 'gitea', repo: 'org/repo' });
  const ra = await runSign({
    artifact: a,
    identityToken: token,
    configPath: sb.signerConfigPath,
    attestationStorePath: false,
    env: {},
  });
  await runSign({
    artifact: b,
    identityToken: token,
    configPath: sb.signerConfigPath,
    attestationStorePath: false,
    env: {},
  });
  const info = JSON.parse((await get('/api/v1/log')).text);
  t.is(info.treeSize, 2);
  t.regex(info.signedTreeHead, /^127\.0\.0\.1 - \d+\n2\n/);
  const proof = JSON.parse((await get('/api/v1/log/proof?firstSize=1&lastSize=2')).text);
  t.is(proof.hashes.length, 1);
  const byUuid = JSON.parse((await get(`/api/v1/log/entries/${ra.rekor.uuid}`)).text);
  t.deepEqual(Object.keys(byUuid), [ra.rekor.uuid]);
  const byIndex = JSON.parse((await get('/api/v1/log/entries?logIndex=0')).text);
  t.deepEqual(Object.keys(byIndex), [ra.rekor.uuid]);
  const retrieved = (await (
    await fetch(base + '/api/v1/log/entries/retrieve', {
      method: 'POST',
      body: JSON.stringify({ entryUUIDs: [ra.rekor.uuid], logIndexes: [1] }),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    })
  ).json()) as unknown[];
  t.is(retrieved.length, 2);
  // Each list holds what it names: UUIDs as strings, indexes as numbers; anything else is 400.
  for (const [body, said] of [
    [{ entryUUIDs: [5] }, 'entryUUIDs must be strings'],
    [{ logIndexes: ['0'] }, 'logIndexes must be numbers'],
  ] as const) {
    const r = await fetch(base + '/api/v1/log/entries/retrieve', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });
    t.is(r.status, 400, said);
    t.true((await r.text()).includes(said), said);
  }
  // Re-submitting the same entry: 409 with the existing entry's location (what RekorWitness expects).
  const body = JSON.parse(Buffer.from(byUuid[ra.rekor.uuid].body, 'base64').toString());
  const proposal = JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: { data: body.spec.data, signature: body.spec.signature },
  });
  // Rekor consumes application/json only: any other type, or none, is 415 before the body is read.
  for (const [type, named] of [
    [undefined, 'application/octet-stream'],
    ['text/plain;charset=UTF-8', 'text/plain'],
  ] as const) {
    for (const path of [
      '/api/v1/log/entries',
      '/api/v1/log/entries/retrieve',
      '/api/v1/index/retrieve',
    ]) {
      const r = await fetch(base + path, {
        method: 'POST',
        body: new TextEncoder().encode(proposal),
        headers: type === undefined ? {} : { 'Content-Type': type },
      });
      t.is(r.status, 415, `${path} ${type}`);
      t.deepEqual(await r.json(), {
        code: 415,
        message: `unsupported media type "${named}", only [application/json] are allowed`,
      });
    }
  }
  const resubmit = await fetch(base + '/api/v1/log/entries', {
    method: 'POST',
    body: proposal,
    headers: { 'Content-Type': 'application/json' },
  });
  t.is(resubmit.status, 409);
  t.is(resubmit.headers.get('location'), `/api/v1/log/entries/${ra.rekor.uuid}`);
  // Gitea identity: the forge URL + workflow path.
  t.regex(
    ra.identity ?? '',
    /^https:\/\/gitea\.com\/org\/repo\/\.gitea\/workflows\/release\.yml@refs\/heads\/main$/,
  );
});

test('files: sandbox.json, trusted_root.json (parses in Stella), signer.yaml (loads, points at the sandbox)', async (t) => {
  const dataDir = tmp();
  const sb = await startSandbox({ dataDir, port: 0 });
  const state = readSandboxState(dataDir)!;
  t.is(state.pid, process.pid);
  t.is(state.urls.base, sb.urls.base);
  t.is(state.host, '127.0.0.1');
  const tm = parseTrustedRoot(readFileSync(sb.trustedRootPath));
  t.is(tm.tlogs[0]!.baseUrl, sb.urls.rekor);
  t.is(tm.certificateAuthorities[0]!.certChain.length, 2);
  const cfg = loadSignerConfig(sb.signerConfigPath);
  t.is(cfg.fulcio.url, sb.urls.fulcio);
  t.is(cfg.rekor.url, sb.urls.rekor);
  t.is(cfg.oidc.issuer, sb.urls.oidcIssuer);
  t.true(existsSync(cfg.certificate.rootBundlePath!));
  // The authority key file is private to the user.
  t.is((await import('node:fs')).statSync(join(dataDir, 'authority-keys.json')).mode & 0o077, 0);
  // No witnesses were asked for: no witness keys, vkeys or memory are written.
  for (const f of ['witness-keys.json', 'witnesses.vkeys', 'witness-state.json'])
    t.false(existsSync(join(dataDir, f)), f);
  t.false('witnesses' in state.files, 'nor does the state name a witness keys file');
  // Tokens: the platform's claim set and sub format, 5-minute default lifetime.
  const gh = decodeTokenClaims(
    mintSandboxToken(dataDir, { platform: 'github', repo: 'org/repo', environment: 'production' }),
  );
  t.is(gh.sub, 'repo:org/repo:environment:production');
  t.is(gh.exp - (gh.iat ?? 0), 300);
  const gl = decodeTokenClaims(
    mintSandboxToken(dataDir, {
      platform: 'gitlab',
      repo: 'group/project',
      ref: 'main',
      expiresIn: 60,
    }),
  );
  t.is(gl.sub, 'project_path:group/project:ref_type:branch:ref:main');
  t.is(gl.exp - (gl.iat ?? 0), 60);
  const gt = decodeTokenClaims(
    mintSandboxToken(dataDir, { platform: 'gitea', repo: 'org/repo', ref: 'refs/tags/v1' }),
  );
  t.is(gt.sub, 'org/repo:ref:refs/tags/v1');
  // With --issuer, a GitLab or Gitea instance's forge URL is that issuer.
  const selfHosted = 'https://git.example.org';
  const glSelf = decodeTokenClaims(
    mintSandboxToken(dataDir, { platform: 'gitlab', repo: 'group/project', issuer: selfHosted }),
  );
  t.is(glSelf.iss, selfHosted);
  t.regex(String(glSelf.ci_config_ref_uri), /^git\.example\.org\/group\/project\//);
  const gtSelf = decodeTokenClaims(
    mintSandboxToken(dataDir, { platform: 'gitea', repo: 'org/repo', issuer: selfHosted }),
  );
  t.is(gtSelf.server_url, selfHosted);
  t.is(
    decodeTokenClaims(mintSandboxToken(dataDir, { platform: 'gitea', repo: 'org/repo' }))
      .server_url,
    'https://gitea.com',
  );
  const glDefault = decodeTokenClaims(
    mintSandboxToken(dataDir, { platform: 'gitlab', repo: 'group/project' }),
  );
  t.regex(String(glDefault.ci_config_ref_uri), /^gitlab\.com\/group\/project\//);
  // A second sandbox on the same data dir refuses while the first runs.
  const err = (await t.throwsAsync(startSandbox({ dataDir, port: 0 }))) as StellaError;
  t.is(err.code, 'SANDBOX_ERROR');
  t.regex(err.message, /already running/);
  await sb.close();
  t.is(readSandboxState(dataDir)!.pid, null);
  const none = t.throws(() =>
    mintSandboxToken(tmp(), { platform: 'github', repo: 'a/b' }),
  ) as StellaError;
  t.is(none.code, 'SANDBOX_ERROR');
});

test('restart keeps the log and the CA: old bundles still verify, new entries continue the index', async (t) => {
  const dataDir = tmp();
  const dir = tmp();
  const { writeFileSync } = await import('node:fs');
  const f = join(dir, 'f');
  writeFileSync(f, 'persist me');
  let sb = await startSandbox({ dataDir, port: 0 });
  const first = await runSign({
    artifact: f,
    identityToken: sb.mintToken({ platform: 'github', repo: 'org/repo' }),
    configPath: sb.signerConfigPath,
    attestationStorePath: false,
    env: {},
  });
  const rootBefore = readFileSync(sb.trustedRootPath, 'utf8');
  await sb.close();

  sb = await startSandbox({ dataDir, port: 0 });
  t.teardown(() => sb.close());
  const info = (await (await fetch(`${sb.urls.base}/api/v1/log`)).json()) as { treeSize: number };
  t.is(info.treeSize, 1);
  const rootAfter = JSON.parse(readFileSync(sb.trustedRootPath, 'utf8'));
  // Same CA certificates and log key (only URLs may differ with the port).
  t.deepEqual(
    rootAfter.certificateAuthorities[0].certChain,
    JSON.parse(rootBefore).certificateAuthorities[0].certChain,
  );
  t.deepEqual(
    rootAfter.tlogs[0].publicKey.rawBytes,
    JSON.parse(rootBefore).tlogs[0].publicKey.rawBytes,
  );
  const second = await runSign({
    artifact: f,
    identityToken: sb.mintToken({ platform: 'github', repo: 'org/repo' }),
    configPath: sb.signerConfigPath,
    attestationStorePath: false,
    env: {},
    outputPath: join(dir, 'second.json'),
  });
  t.is(second.rekor.logIndex, 1);
  // The first bundle verifies against the trust root written before the restart.
  const rootFile = join(dir, 'root-before.json');
  writeFileSync(rootFile, rootBefore);
  await t.notThrowsAsync(
    verifyWithStella(first.bundleJson, rootFile, readFileSync(f), {
      san: GITHUB_SAN,
      issuer: first.issuer!,
    }),
  );
  t.notThrows(() =>
    verifyWithSigstoreJs(first.bundleJson, rootFile, readFileSync(f), {
      san: GITHUB_SAN,
      issuer: first.issuer!,
    }),
  );
});

test('a port outside 0-65535 is refused before anything is created', async (t) => {
  for (const port of [-1, 65536, 1.5, Number.NaN]) {
    const dataDir = join(tmp(), 'never-created');
    const err = await t.throwsAsync(startSandbox({ dataDir, port }), { instanceOf: StellaError });
    t.is(err.code, 'INPUT_INVALID', String(port));
    t.is(err.message, `--port must be 0-65535, got ${port}`);
    t.false(existsSync(dataDir), 'no data folder for a start refused at its arguments');
  }
});

test('a port already in use is SANDBOX_ERROR "port in use", and the data folder can start a sandbox right after', async (t) => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => taken.close(() => r())));
  const port = (taken.address() as AddressInfo).port;
  const dataDir = tmp();
  const err = await t.throwsAsync(startSandbox({ dataDir, port }), { instanceOf: StellaError });
  t.is(err.code, 'SANDBOX_ERROR');
  t.is(err.message, `cannot listen on 127.0.0.1:${port}: port in use`);
  // What the failed start opened was closed: the same folder starts on another port.
  const sb = await startSandbox({ dataDir, port: 0 });
  t.teardown(() => sb.close());
  t.not(sb.port, port);
});

test('a Rekor v2 log database that cannot be opened stops the start with its reason; once mended, the folder starts', async (t) => {
  const dataDir = tmp();
  const first = await startSandbox({ dataDir, port: 0 });
  await first.close();
  const v2 = join(dataDir, 'log-v2.db');
  rmSync(v2, { force: true });
  writeFileSync(v2, 'not a database '.repeat(100));
  const err = await t.throwsAsync(startSandbox({ dataDir, port: 0 }), { instanceOf: StellaError });
  t.is(err.code, 'SANDBOX_ERROR');
  t.is(err.message, `cannot open the sandbox log database ${v2}: file is not a database`);
  // With the v2 file gone (made afresh), the same folder starts.
  rmSync(v2);
  const again = await startSandbox({ dataDir, port: 0 });
  t.teardown(() => again.close());
  t.truthy(again.port);
});
