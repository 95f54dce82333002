/**
 * Keyless signing with Stella against a sandbox started in this test on an ephemeral loopback
 * port; every bundle verified offline by @sigstore/verify AND by Stella's verifier with the
 * sandbox's trusted_root.json. Then the failures: each a clear error, and no bundle written.
 */
import test from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  closeSync,
  ftruncateSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server/sandbox.js';
import { runSign } from '../../src/commands/attest/sign-run.js';
import { defaultSignerConfig, loadSignerConfig } from '../../src/sign/config.js';
import { acceptRekorV1Answer, checkIssuedCertificate, signArtifact } from '../../src/sign/sign.js';
import { parseEntryResponse } from '../../src/sign/rekor-client.js';
import { signBlob, testAuthority } from '../helpers/authority-bundles.js';
import { LEAF_LIFETIME_MS } from '../../src/sandbox/authority/fulcio.js';
import { parseCertificate, type Certificate, type Extension } from '../../src/x509/certificate.js';
import {
  fulcioIssuerV1Extension,
  fulcioIssuerV2Extension,
  subjectAltNameExtension,
} from '../../src/x509/issue.js';
import { OID } from '../../src/x509/oids.js';
import { derToPem, pemToDer } from '../../src/util/pem.js';
import { findBundlesByDigest } from '../../src/store/attestations.js';
import { findBundlesForDigest } from '../../src/store/lookup.js';
import { parseInTotoStatement } from '../../src/bundle/intoto.js';
import { ecPublicPoint, sha256 } from '../../src/crypto.js';
import { fromHex, toHex } from '../../src/util/encoding.js';
import { StellaError } from '../../src/errors.js';
import { OidcIssuer } from '../../src/sandbox/authority/oidc.js';
import { generateAuthorityKeys } from '../../src/sandbox/authority/keys.js';
import { FILE_LIMITS } from '../../src/util/fs.js';
import { runCli } from '../helpers/cli.js';
import { GITHUB_SAN, sandboxIdentityFlags } from '../helpers/consistency-kit.js';
import { filesUnder, rekorV1TreeSize, verifyWithSigstoreJs, verifyWithStella } from './helpers.js';
import { closedPort, serve } from '../helpers/loopback.js';
import { LocalRekorLog, MemoryLogStorage } from '../../src/sandbox/authority/rekor.js';
import { loadAuthority } from '../../src/sandbox/server/data-dir.js';
import { signFailsWithoutBundle } from '../helpers/signing.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { capturedOutput } from '../helpers/output.js';
import { buildPki, defaultLeafExtensions, leafCert } from '../x509/helpers.js';

const PROJECT_ROOT_SAMPLE = join(PROJECT_ROOT, 'samples', 'artifact.txt');

let sandbox: RunningSandbox;
let root: string;

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'stella-sign-'));
  sandbox = await startSandbox({ dataDir: join(root, 'sandbox'), port: 0 });
});
test.after.always(async () => {
  await sandbox?.close();
});

function workdir(): string {
  return mkdtempSync(join(root, 'w-'));
}

/** `stella attest verify` of a bundle the sandbox signed for GITHUB_SAN, through the CLI. */
function verifyCli(artifact: string, bundle: string) {
  return runCli(
    [
      'attest',
      'verify',
      artifact,
      '--bundle',
      bundle,
      '--trusted-root',
      sandbox.trustedRootPath,
      ...sandboxIdentityFlags(sandbox),
    ],
    { timeoutMs: 60_000 },
  );
}

function githubToken(extra: Partial<Parameters<RunningSandbox['mintToken']>[0]> = {}): string {
  return sandbox.mintToken({ platform: 'github', repo: 'org/repo', ...extra });
}

test('blob: sign with Stella, verify offline with @sigstore/verify and Stella; stored by digest', async (t) => {
  const dir = workdir();
  const artifact = join(dir, 'app.tgz');
  const bytes = new TextEncoder().encode('release artifact bytes\n');
  writeFileSync(artifact, bytes);
  const store = join(dir, 'attestations.db');
  const r = await runSign({
    artifact,
    identityToken: githubToken(),
    configPath: sandbox.signerConfigPath,
    attestationStorePath: store,
    env: {},
  });
  t.is(r.outputPath, `${artifact}.sigstore.json`);
  t.is(r.artifactDigest, `sha256:${toHex(sha256(bytes))}`);
  t.is(r.identity, GITHUB_SAN);
  t.is(r.issuer, sandbox.urls.oidcIssuer);
  const written = readFileSync(r.outputPath, 'utf8');
  t.is(written, r.bundleJson);
  const json = JSON.parse(written);
  t.is(json.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  t.truthy(json.verificationMaterial.certificate.rawBytes);
  t.truthy(json.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope);
  t.truthy(json.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp);

  const expected = { san: GITHUB_SAN, issuer: sandbox.urls.oidcIssuer };
  t.notThrows(() => verifyWithSigstoreJs(written, sandbox.trustedRootPath, bytes, expected));
  await t.notThrowsAsync(verifyWithStella(written, sandbox.trustedRootPath, bytes, expected));
  // A different artifact is refused by both.
  t.throws(() =>
    verifyWithSigstoreJs(
      written,
      sandbox.trustedRootPath,
      new TextEncoder().encode('other'),
      expected,
    ),
  );
  await t.throwsAsync(
    verifyWithStella(written, sandbox.trustedRootPath, new TextEncoder().encode('other'), expected),
  );

  // The attestation store finds it by digest (what `attest verify --artifact sha256:...` uses).
  const stored = findBundlesByDigest(store, r.artifactDigest);
  t.is(stored.length, 1);
  t.is(stored[0]!.bundleJson, written);
  t.is(stored[0]!.identity, GITHUB_SAN);
  const parsed = findBundlesForDigest(
    { kind: 'digest', algorithm: 'SHA2_256', digest: fromHex(r.artifactDigest.slice(7)) },
    store,
  );
  t.is(parsed.bundles.length, 1);
  t.deepEqual(parsed.refused, []);
  const none = t.throws(() =>
    findBundlesByDigest(store, 'sha256:' + '00'.repeat(32)),
  ) as StellaError;
  t.is(none.code, 'NO_ATTESTATIONS_FOUND');
});

test('digest only: a prehash signature over sha256:<hex> verifies from the digest alone', async (t) => {
  const dir = workdir();
  const bytes = new TextEncoder().encode('an image manifest, known only by its digest');
  const digest = `sha256:${toHex(sha256(bytes))}`;
  const output = join(dir, 'image.sigstore.json');
  const r = await runSign({
    artifact: digest,
    type: 'image',
    identityToken: githubToken(),
    configPath: sandbox.signerConfigPath,
    outputPath: output,
    attestationStorePath: false,
    env: {},
  });
  t.is(r.artifactDigest, digest);
  t.is(r.contentKind, 'messageSignature');
  const written = readFileSync(output, 'utf8');
  const expected = { san: GITHUB_SAN, issuer: sandbox.urls.oidcIssuer };
  await t.notThrowsAsync(verifyWithStella(written, sandbox.trustedRootPath, digest, expected));
  // The signature is an ordinary ECDSA-SHA256 signature, so a verifier with the bytes accepts it too.
  t.notThrows(() => verifyWithSigstoreJs(written, sandbox.trustedRootPath, bytes, expected));
  await t.notThrowsAsync(verifyWithStella(written, sandbox.trustedRootPath, bytes, expected));
});

test('in-toto: --predicate signs a DSSE statement whose subject is the artifact', async (t) => {
  const dir = workdir();
  const artifact = join(dir, 'lib.so');
  const bytes = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]);
  writeFileSync(artifact, bytes);
  const predicate = join(dir, 'provenance.json');
  writeFileSync(
    predicate,
    JSON.stringify({
      buildDefinition: { buildType: 'https://example.com/build/v1' },
      runDetails: { builder: { id: 'https://example.com/builder' } },
    }),
  );
  const r = await runSign({
    artifact,
    predicatePath: predicate,
    // cosign's name (cosign attest --type slsaprovenance1): the statement carries its URI.
    predicateType: 'slsaprovenance1',
    identityToken: sandbox.mintToken({
      platform: 'gitlab',
      repo: 'group/project',
      ref: 'refs/tags/v1.2.0',
    }),
    configPath: sandbox.signerConfigPath,
    attestationStorePath: join(dir, 'att.db'),
    env: {},
  });
  t.is(r.contentKind, 'dsseEnvelope');
  const json = JSON.parse(readFileSync(r.outputPath, 'utf8'));
  t.is(json.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
  t.is(json.verificationMaterial.tlogEntries[0].kindVersion.kind, 'dsse');
  const stmt = parseInTotoStatement(Buffer.from(json.dsseEnvelope.payload, 'base64'));
  t.deepEqual(stmt.subject, [{ name: 'lib.so', digest: { sha256: toHex(sha256(bytes)) } }]);
  t.is(stmt.predicateType, 'https://slsa.dev/provenance/v1');
  const expected = {
    san: 'https://gitlab.com/group/project//.gitlab-ci.yml@refs/tags/v1.2.0',
    issuer: sandbox.urls.oidcIssuer,
  };
  t.is(r.identity, expected.san);
  t.notThrows(() =>
    verifyWithSigstoreJs(r.bundleJson, sandbox.trustedRootPath, undefined, expected),
  );
  await t.notThrowsAsync(verifyWithStella(r.bundleJson, sandbox.trustedRootPath, bytes, expected));
  await t.notThrowsAsync(
    verifyWithStella(r.bundleJson, sandbox.trustedRootPath, r.artifactDigest, expected),
  );
  t.is(
    findBundlesByDigest(join(dir, 'att.db'), r.artifactDigest)[0]!.predicateType,
    'https://slsa.dev/provenance/v1',
  );
});

test('Ed25519 when the config prefers it: an in-toto attestation signed with an Ed25519 key', async (t) => {
  const dir = workdir();
  const config = join(dir, 'signer.yaml');
  writeFileSync(
    config,
    readFileSync(sandbox.signerConfigPath, 'utf8').replace(
      /preferred: "ECDSA_P256"\n\s+allowed: \["ECDSA_P256"\]/,
      'preferred: "Ed25519"\n        allowed: ["Ed25519", "ECDSA_P256"]',
    ),
  );
  t.is(loadSignerConfig(config).algorithms.preferred, 'Ed25519');
  const artifact = join(dir, 'a.bin');
  writeFileSync(artifact, 'ed25519 payload');
  const predicate = join(dir, 'p.json');
  writeFileSync(predicate, '{"note":"ok"}');
  const r = await runSign({
    artifact,
    predicatePath: predicate,
    predicateType: 'https://example.com/note/v1',
    identityToken: githubToken(),
    configPath: config,
    attestationStorePath: false,
    env: {},
  });
  t.is(r.algorithm, 'Ed25519');
  await t.notThrowsAsync(
    verifyWithStella(r.bundleJson, sandbox.trustedRootPath, readFileSync(artifact), {
      san: GITHUB_SAN,
      issuer: sandbox.urls.oidcIssuer,
    }),
  );
});

test('the ephemeral private key never reaches disk, output, the store or the bundle', async (t) => {
  const dir = workdir();
  const artifact = join(dir, 'secret-test.txt');
  writeFileSync(artifact, 'key hygiene');
  let privateKey: KeyObject | undefined;
  const keyGenerator = () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    privateKey = pair.privateKey;
    return pair;
  };
  // Capture everything the process prints while signing.
  const signed = await capturedOutput(() =>
    runSign({
      artifact,
      identityToken: githubToken(),
      configPath: sandbox.signerConfigPath,
      attestationStorePath: join(dir, 'att.db'),
      env: {},
      keyGenerator,
    }),
  );
  if (signed.thrown !== undefined) throw signed.thrown as Error;
  const r = signed.value!;
  t.truthy(privateKey);
  const pkcs8 = privateKey!.export({ format: 'der', type: 'pkcs8' });
  const sec1 = privateKey!.export({ format: 'der', type: 'sec1' });
  // The scalar from the SEC 1 DER (30 77 02 01 01 04 20 <d> ...), not a JWK export: on Node 20
  // that can hang a generated key (src/crypto.ts).
  t.deepEqual([...sec1.subarray(0, 7)], [0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20]);
  const scalar = sec1.subarray(7, 39);
  const pem = privateKey!.export({ format: 'pem', type: 'pkcs8' }).toString();
  const needles: Buffer[] = [
    scalar,
    pkcs8,
    sec1,
    Buffer.from(pem),
    Buffer.from(scalar.toString('base64url')),
    Buffer.from(scalar.toString('hex')),
    Buffer.from(scalar.toString('base64')),
    Buffer.from(pem.split('\n')[1]!),
  ];
  const haystacks: Array<[string, Buffer]> = [
    ...filesUnder(sandbox.dataDir).map((f) => [f, readFileSync(f)] as [string, Buffer]),
    ...filesUnder(dir).map((f) => [f, readFileSync(f)] as [string, Buffer]),
    ['printed output', Buffer.concat([signed.stdout, signed.stderr])],
    ['bundle', Buffer.from(r.bundleJson)],
    ['result', Buffer.from(JSON.stringify(r))],
  ];
  // Control: the same search does find the key's PUBLIC point, in the bundle and in the log.
  const publicPoint = Buffer.from(ecPublicPoint(privateKey!)!.point);
  t.true(
    Buffer.from(
      JSON.parse(r.bundleJson).verificationMaterial.certificate.rawBytes,
      'base64',
    ).includes(publicPoint),
  );
  const signatureB64 = Buffer.from(JSON.parse(r.bundleJson).messageSignature.signature);
  t.true(
    haystacks.some(([f, hay]) => /log\.db(-wal)?$/.test(f) && hay.includes(signatureB64)),
    'the search finds the logged signature in the log database',
  );
  t.true(
    haystacks.some(([f]) => f.endsWith('log.db')),
    'the sandbox log database is searched',
  );
  t.true(
    haystacks.some(([f]) => f.endsWith('att.db')),
    'the attestation store is searched',
  );
  for (const [where, hay] of haystacks) {
    for (const needle of needles)
      t.false(hay.includes(needle), `private key material found in ${where}`);
  }
  // The hook did see the key that signed: the bundle's certificate holds its public half.
  const cert = new (await import('node:crypto')).X509Certificate(
    Buffer.from(JSON.parse(r.bundleJson).verificationMaterial.certificate.rawBytes, 'base64'),
  );
  t.deepEqual(
    cert.publicKey.export({ format: 'der', type: 'spki' }),
    (await import('node:crypto'))
      .createPublicKey(privateKey!)
      .export({ format: 'der', type: 'spki' }),
  );
});

// ---------------------------------------------------------------------------------------
// Failures: a clear error, and no bundle.

const failsWithoutBundle = (
  t: import('ava').ExecutionContext,
  opts: Partial<Parameters<typeof runSign>[0]>,
  code: string,
  message: RegExp,
): Promise<StellaError> =>
  signFailsWithoutBundle(
    t,
    workdir(),
    { configPath: sandbox.signerConfigPath, ...opts },
    code,
    message,
  );

test('Fulcio down: "Fulcio unavailable" after the configured retries, no bundle', async (t) => {
  const url = await closedPort();
  await failsWithoutBundle(
    t,
    { identityToken: githubToken(), fulcioUrl: url },
    'FULCIO_UNAVAILABLE',
    /Fulcio unavailable/,
  );
});

test('Fulcio answering 503 is retried, then "Fulcio unavailable"', async (t) => {
  let hits = 0;
  const s = createServer((_req, res) => {
    hits++;
    res
      .writeHead(503, { 'content-type': 'application/json' })
      .end('{"code":503,"message":"overloaded"}');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => s.close());
  const err = await failsWithoutBundle(
    t,
    {
      identityToken: githubToken(),
      fulcioUrl: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    },
    'FULCIO_UNAVAILABLE',
    /Fulcio unavailable.*HTTP 503: overloaded/,
  );
  t.is(hits, 1 + loadSignerConfig(sandbox.signerConfigPath).fulcio.retries, err.message);
});

test('Rekor down: "Rekor proof missing", no bundle', async (t) => {
  const url = await closedPort();
  await failsWithoutBundle(
    t,
    { identityToken: githubToken(), rekorUrl: url },
    'REKOR_UNAVAILABLE',
    /Rekor proof missing/,
  );
});

test('Rekor answering without an inclusion proof: "Rekor proof missing", no bundle', async (t) => {
  // A log that accepts the entry but never proves it (forwarding to the sandbox, then dropping the proof).
  const s = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const upstream = await fetch(`${sandbox.urls.rekor}${req.url}`, {
      method: req.method,
      headers: { 'content-type': 'application/json' },
      ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
    });
    const body = (await upstream.json()) as Record<
      string,
      { verification?: { inclusionProof?: unknown } }
    >;
    for (const e of Object.values(body)) delete e.verification?.inclusionProof;
    // Forward Location too: on a loaded machine the client may time out and retry, and the
    // retry's 409 names the entry there.
    const location = upstream.headers.get('location');
    res
      .writeHead(upstream.status, {
        'content-type': 'application/json',
        ...(location ? { location } : {}),
      })
      .end(JSON.stringify(body));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => s.close());
  await failsWithoutBundle(
    t,
    {
      identityToken: githubToken(),
      rekorUrl: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    },
    'REKOR_PROOF_MISSING',
    /Rekor proof missing: entry .* has no inclusion proof/,
  );
});

test('expired token: refused before any request ("OIDC token expired")', async (t) => {
  // Fulcio and Rekor URLs point nowhere: the refusal must come before any request.
  const url = await closedPort();
  const token = githubToken({ now: Date.now() - 10 * 60 * 1000, expiresIn: 300 });
  await failsWithoutBundle(
    t,
    { identityToken: token, fulcioUrl: url, rekorUrl: url },
    'OIDC_TOKEN_EXPIRED',
    /OIDC token expired/,
  );
});

test('wrong audience: Fulcio refuses, no bundle', async (t) => {
  await failsWithoutBundle(
    t,
    { identityToken: githubToken({ audience: 'not-sigstore' }) },
    'FULCIO_REJECTED',
    /wrong audience/,
  );
});

test('a token from an issuer the CA does not trust: Fulcio refuses, no bundle', async (t) => {
  const rogue = new OidcIssuer({
    issuerUrl: 'https://token.actions.githubusercontent.com',
    key: generateAuthorityKeys().oidc,
  });
  const token = rogue.mintToken({ platform: 'github', repo: 'org/repo', now: Date.now() });
  // The config pins oidc.issuer to the sandbox: drop that pin so the CA itself must refuse. (The
  // sandbox plays other issuer URLs with its own OIDC key only: a rogue key's token never verifies.)
  const dir = workdir();
  const config = join(dir, 'signer.yaml');
  writeFileSync(
    config,
    readFileSync(sandbox.signerConfigPath, 'utf8').replace(/^\s+issuer: .*\n/m, ''),
  );
  await failsWithoutBundle(
    t,
    { identityToken: token, configPath: config },
    'FULCIO_REJECTED',
    /not configured|untrusted issuer|bad signature|no key/,
  );
  // A token signed by a rogue key but claiming the sandbox's issuer URL: bad signature.
  const forged = new OidcIssuer({
    issuerUrl: sandbox.urls.oidcIssuer,
    key: generateAuthorityKeys().oidc,
  }).mintToken({ platform: 'github', repo: 'org/repo', now: Date.now() });
  await failsWithoutBundle(t, { identityToken: forged }, 'FULCIO_REJECTED', /bad signature|no key/);
  // With the config's oidc.issuer pin, a foreign issuer is refused before any request.
  await failsWithoutBundle(t, { identityToken: token }, 'OIDC_TOKEN_INVALID', /issuer mismatch/);
});

test('input errors: missing file, bad digest, predicate without type, image without digest', async (t) => {
  const tok = githubToken();
  await failsWithoutBundle(
    t,
    { identityToken: tok, artifact: join(root, 'nope.bin') },
    'INPUT_INVALID',
    /no such file/,
  );
  await failsWithoutBundle(
    t,
    { identityToken: tok, artifact: 'sha256:abcd' },
    'INPUT_INVALID',
    /sha256:<64 hex digits>/,
  );
  await failsWithoutBundle(
    t,
    { identityToken: tok, predicatePath: join(root, 'p.json') },
    'INPUT_INVALID',
    /go together/,
  );
  await failsWithoutBundle(
    t,
    { identityToken: tok, type: 'image' },
    'INPUT_INVALID',
    /--type image needs/,
  );
  const dir = workdir();
  writeFileSync(join(dir, 'bad.json'), '{"a":1,"a":2}');
  await failsWithoutBundle(
    t,
    {
      identityToken: tok,
      predicatePath: join(dir, 'bad.json'),
      predicateType: 'https://x.example/v1',
    },
    'INPUT_INVALID',
    /duplicate/i,
  );
  // The predicate type names the predicate's schema: a URI, as in-toto requires.
  writeFileSync(join(dir, 'good.json'), '{"a":1}');
  await failsWithoutBundle(
    t,
    { identityToken: tok, predicatePath: join(dir, 'good.json'), predicateType: 'slsa' },
    'INPUT_INVALID',
    /^--predicate-type "slsa" is not a URI: a predicate type is a URI, compared exactly, or cosign's name for one \(custom, [a-z0-9, ]+\)$/,
  );
  // Written as verification compares it: `new URL` would trim the space, and the statement would
  // carry a type that --predicate-type https://slsa.dev/provenance/v1 never matches.
  await failsWithoutBundle(
    t,
    {
      identityToken: tok,
      predicatePath: join(dir, 'good.json'),
      predicateType: ' https://slsa.dev/provenance/v1',
    },
    'INPUT_INVALID',
    /^--predicate-type " https:\/\/slsa\.dev\/provenance\/v1" holds whitespace or a control character: a predicate type is a URI, compared exactly, or cosign's name for one \(custom, [a-z0-9, ]+\)$/,
  );
});

test('H54 an artifact larger than the in-memory size is signed from its chunked SHA-256; the CLI verifies it the same way', async (t) => {
  const dir = workdir();
  const artifact = join(dir, 'big.bin');
  // Sparse, one byte written at the end: past FILE_LIMITS.artifactInMemoryBytes, no disk used.
  const size = FILE_LIMITS.artifactInMemoryBytes + 4096;
  const fd = openSync(artifact, 'w');
  ftruncateSync(fd, size - 1);
  writeSync(fd, Buffer.from('!'), 0, 1, size - 1);
  closeSync(fd);
  const r = await runSign({
    artifact,
    identityToken: githubToken(),
    configPath: sandbox.signerConfigPath,
    attestationStorePath: false,
    env: {},
  });
  const hash = createHash('sha256');
  hash.update(Buffer.alloc(size - 1));
  hash.update('!');
  t.is(r.artifactDigest, `sha256:${hash.digest('hex')}`);
  const v = await verifyCli(artifact, r.outputPath);
  t.is(v.code, 0, v.stdout + v.stderr);
});

test('CLI: in a Buildkite job (no --identity-token) the token is asked of the agent API, and the bundle verifies; tokenSource says buildkite', async (t) => {
  const dir = workdir();
  const artifact = join(dir, 'a.txt');
  writeFileSync(artifact, 'built on buildkite');
  const asked: string[] = [];
  const agent = await serve(t, (req, res) => {
    asked.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: githubToken() }));
  });
  const bundle = join(dir, 'a.sigstore.json');
  const r = await runCli(
    [
      'attest',
      'sign',
      '--keyless',
      artifact,
      '--config',
      sandbox.signerConfigPath,
      '--output',
      bundle,
      '--attestation-store',
      join(dir, 'att.db'),
      '--json',
    ],
    {
      timeoutMs: 60_000,
      env: {
        BUILDKITE_AGENT_ACCESS_TOKEN: 'agent-secret',
        BUILDKITE_AGENT_ENDPOINT: `${agent}/v3`,
        BUILDKITE_JOB_ID: 'job-1',
      },
    },
  );
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(JSON.parse(r.stdout).tokenSource, 'buildkite');
  t.deepEqual(asked, ['POST /v3/jobs/job-1/oidc/tokens Token agent-secret']);
  t.false(r.stdout.includes('agent-secret') || r.stderr.includes('agent-secret'));
  const v = await verifyCli(artifact, bundle);
  t.is(v.code, 0, v.stdout + v.stderr);
});

test('H56 the bundle is written atomically: a symlink at --output is replaced, its target untouched', async (t) => {
  const dir = workdir();
  const artifact = join(dir, 'app.tgz');
  writeFileSync(artifact, 'x');
  const victim = join(workdir(), 'victim');
  writeFileSync(victim, 'precious');
  const output = join(dir, 'app.sigstore.json');
  symlinkSync(victim, output);
  const r = await runSign({
    artifact,
    outputPath: output,
    identityToken: githubToken(),
    configPath: sandbox.signerConfigPath,
    attestationStorePath: false,
    env: {},
  });
  t.false(lstatSync(output).isSymbolicLink());
  t.is(readFileSync(output, 'utf8'), r.bundleJson);
  t.is(readFileSync(victim, 'utf8'), 'precious');
});

// ---------------------------------------------------------------------------------------
// With a trust root, Fulcio's certificate is checked as `attest verify` will check it, before
// anything is logged: a log entry for a bundle that cannot verify is never made.

/** sandbox's trusted_root.json, edited, written beside the test's files. */
function editedTrustedRoot(edit: (root: TrustedRootJson) => void): string {
  const root = JSON.parse(readFileSync(sandbox.trustedRootPath, 'utf8')) as TrustedRootJson;
  edit(root);
  const path = join(workdir(), 'trusted_root.json');
  writeFileSync(path, JSON.stringify(root));
  return path;
}

interface TrustedRootJson {
  certificateAuthorities: { validFor: { start: string; end?: string } }[];
  ctlogs: { publicKey: { rawBytes: string } }[];
  tlogs: { publicKey: { rawBytes: string } }[];
}

const rekorV1Size = (): Promise<number> => rekorV1TreeSize(sandbox.urls.rekor);

// Serial: ava runs these before the concurrent tests, so nothing else logs meanwhile.
test.serial(
  "an SCT that does not verify with the trust root's CT log key: SCT_INVALID, nothing logged",
  async (t) => {
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const trustedRootPath = editedTrustedRoot((r) => {
      // The same log id, another key: the SCT names a known log whose key does not sign it.
      r.ctlogs[0]!.publicKey.rawBytes = otherKey
        .export({ format: 'der', type: 'spki' })
        .toString('base64');
    });
    const before = await rekorV1Size();
    await failsWithoutBundle(
      t,
      { identityToken: githubToken(), trustedRootPath },
      'SCT_INVALID',
      /^Fulcio's certificate does not verify against the trusted root .*trusted_root\.json, so nothing was signed into the log: no valid SCT: SCT signature from CT log [0-9a-f]{64} does not verify$/,
    );
    t.is(await rekorV1Size(), before, 'nothing was logged');
    // Control: the sandbox's own trust root, same everything else, signs.
    const ok = await runSign({
      artifact: PROJECT_ROOT_SAMPLE,
      outputPath: join(workdir(), 'b.json'),
      identityToken: githubToken(),
      configPath: sandbox.signerConfigPath,
      trustedRootPath: sandbox.trustedRootPath,
      attestationStorePath: false,
      env: {},
    });
    t.is(await rekorV1Size(), before + 1, ok.bundleJson.slice(0, 80));
  },
);

test.serial(
  'a CA whose validFor in the trust root closed before the certificate was issued: CERT_CHAIN_INVALID, nothing logged',
  async (t) => {
    const trustedRootPath = editedTrustedRoot((r) => {
      // Closed at the instant it opened (the sandbox's start): before any leaf it issues.
      const ca = r.certificateAuthorities[0]!;
      ca.validFor.end = ca.validFor.start;
    });
    const before = await rekorV1Size();
    await failsWithoutBundle(
      t,
      { identityToken: githubToken(), trustedRootPath },
      'CERT_CHAIN_INVALID',
      /^Fulcio's certificate does not verify against the trusted root .*, so nothing was signed into the log: Certificate chain invalid: /,
    );
    t.is(await rekorV1Size(), before, 'nothing was logged');
  },
);

test.serial(
  'requireSCT: a CT log the trust root does not list is refused; with requireSCT off the SCT is not judged, the chain still is',
  async (t) => {
    const noCtLogs = editedTrustedRoot((r) => {
      r.ctlogs = [];
    });
    const before = await rekorV1Size();
    await failsWithoutBundle(
      t,
      { identityToken: githubToken(), trustedRootPath: noCtLogs },
      'SCT_INVALID',
      /so nothing was signed into the log: no valid SCT: SCT from unknown CT log [0-9a-f]{64}$/,
    );
    t.is(await rekorV1Size(), before);
    const configPath = join(workdir(), 'signer.yaml');
    writeFileSync(
      configPath,
      readFileSync(sandbox.signerConfigPath, 'utf8').replace(
        /requireSCT: true/,
        'requireSCT: false',
      ),
    );
    t.false(loadSignerConfig(configPath).certificate.requireSCT);
    const r = await runSign({
      artifact: PROJECT_ROOT_SAMPLE,
      outputPath: join(workdir(), 'b.json'),
      identityToken: githubToken(),
      configPath,
      trustedRootPath: noCtLogs,
      attestationStorePath: false,
      env: {},
    });
    t.is(r.tlog.length, 1);
  },
);

test('checkIssuedCertificate: with requireSCT, a detached SCT does not stand in for an embedded one (no bundle can carry it)', (t) => {
  const pki = buildPki('detached-sct');
  const leaf = parseCertificate(pki.leaf);
  t.is(leaf.embeddedSctList, undefined);
  const config = defaultSignerConfig();
  t.true(config.certificate.requireSCT);
  const detached = t.throws(() => checkIssuedCertificate([leaf], 'AAEC', config), {
    instanceOf: StellaError,
  }) as StellaError;
  t.is(detached.code, 'SCT_MISSING');
  t.regex(detached.message, /Fulcio returned a detached one, which a Sigstore bundle cannot carry/);
  const none = t.throws(() => checkIssuedCertificate([leaf], undefined, config)) as StellaError;
  t.is(none.code, 'SCT_MISSING');
  t.is(none.message, 'Fulcio certificate has no SCT (certificate.requireSCT is true)');
  config.certificate.requireSCT = false;
  t.is(checkIssuedCertificate([leaf], 'AAEC', config), leaf);
});

/** A leaf for the test PKI's key with these OIDC issuer and SAN extensions (the rest as Fulcio issues). */
function leafNaming(
  pki: ReturnType<typeof buildPki>,
  o: { issuers: Extension[]; san: Extension | undefined },
): Certificate {
  const base = defaultLeafExtensions(pki.intermediateSigner.spki, pki.leafSigner.spki).filter(
    (e) =>
      e.oid !== OID.subjectAltName && e.oid !== OID.fulcioIssuerV1 && e.oid !== OID.fulcioIssuerV2,
  );
  return parseCertificate(
    leafCert({
      issuerSigner: pki.intermediateSigner,
      subjectSpki: pki.leafSigner.spki,
      extensions: [...base, ...(o.san ? [o.san] : []), ...o.issuers],
    }),
  );
}

test('checkIssuedCertificate: a certificate that names no single pinnable OIDC issuer, or no identity a pattern can match, is FULCIO_REJECTED (no policy could verify it)', (t) => {
  const pki = buildPki('names-signer');
  const config = defaultSignerConfig();
  config.certificate.requireSCT = false;
  const identity = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
  const san = subjectAltNameExtension({ uris: [identity] });
  const issuer = fulcioIssuerV2Extension('https://token.actions.githubusercontent.com');
  const refused = (leaf: Certificate, why: RegExp): void => {
    const e = t.throws(() => checkIssuedCertificate([leaf], undefined, config), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'FULCIO_REJECTED', e.message);
    t.regex(e.message, why);
    t.regex(
      e.message,
      /so no verifier's policy could match it and nothing was signed into the log$/,
    );
  };
  // Control: one issuer, one SAN URI.
  const good = leafNaming(pki, { issuers: [issuer], san });
  t.is(checkIssuedCertificate([good], undefined, config), good);
  refused(
    leafNaming(pki, { issuers: [], san }),
    /^Fulcio's certificate has no OIDC issuer extension/,
  );
  refused(
    leafNaming(pki, {
      issuers: [issuer, fulcioIssuerV1Extension('https://other.example')],
      san,
    }),
    /^Fulcio's certificate names no single OIDC issuer \(issuer mismatch: /,
  );
  // That refusal keeps the extension reader's error as its cause; the others have none.
  const mismatch = t.throws(
    () =>
      checkIssuedCertificate(
        [
          leafNaming(pki, {
            issuers: [issuer, fulcioIssuerV1Extension('https://other.example')],
            san,
          }),
        ],
        undefined,
        config,
      ),
    { instanceOf: StellaError },
  );
  t.true(mismatch.cause instanceof StellaError, String(mismatch.cause));
  const none = t.throws(
    () => checkIssuedCertificate([leafNaming(pki, { issuers: [], san })], undefined, config),
    { instanceOf: StellaError },
  );
  t.is(none.cause, undefined);
  refused(
    leafNaming(pki, { issuers: [fulcioIssuerV2Extension('')], san }),
    /^Fulcio's certificate names the OIDC issuer "", which is empty/,
  );
  refused(
    leafNaming(pki, { issuers: [fulcioIssuerV2Extension('https://issuer.example/ x')], san }),
    /which contains whitespace or control characters/,
  );
  refused(
    leafNaming(pki, { issuers: [fulcioIssuerV2Extension('https://*.example')], san }),
    /which looks like a pattern/,
  );
  refused(
    leafNaming(pki, {
      issuers: [issuer],
      san: subjectAltNameExtension({ uris: [`${identity}\nhttps://github.com/other/repo`] }),
    }),
    /^Fulcio's certificate names no usable identity: SAN URI ".*" \(contains the control character U\+000A at offset \d+\)/,
  );
  refused(leafNaming(pki, { issuers: [issuer], san: undefined }), /names no usable identity,/);
  // One usable identity among unusable ones is enough: a policy can name it.
  const mixed = leafNaming(pki, {
    issuers: [issuer],
    san: subjectAltNameExtension({ uris: [`${identity}\u0007`, identity] }),
  });
  t.is(checkIssuedCertificate([mixed], undefined, config), mixed);
});

test.serial(
  'a CA that answers with a certificate whose OIDC issuer extensions disagree: FULCIO_REJECTED, nothing logged, no bundle',
  async (t) => {
    // A loopback "Fulcio" that certifies the key it is sent, as Fulcio does, but names two issuers.
    const pki = buildPki('two-issuers');
    const s = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        publicKeyRequest: { publicKey: { content: string } };
      };
      const spki = pemToDer(request.publicKeyRequest.publicKey.content, ['PUBLIC KEY']).der;
      const leaf = leafCert({
        issuerSigner: pki.intermediateSigner,
        subjectSpki: spki,
        extensions: [
          ...defaultLeafExtensions(pki.intermediateSigner.spki, spki),
          fulcioIssuerV1Extension('https://accounts.example'),
        ],
      });
      res.writeHead(201, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          signedCertificateEmbeddedSct: {
            chain: { certificates: [leaf, pki.intermediate, pki.root].map((d) => derToPem(d)) },
          },
        }),
      );
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    t.teardown(() => s.close());
    const before = await rekorV1Size();
    await failsWithoutBundle(
      t,
      {
        identityToken: githubToken(),
        fulcioUrl: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
      },
      'FULCIO_REJECTED',
      /^Fulcio's certificate names no single OIDC issuer \(issuer mismatch: certificate OIDC issuer extensions disagree/,
    );
    t.is(await rekorV1Size(), before, 'nothing was logged');
  },
);

test('a Rekor v1 that signs its checkpoints as its pod name: signed, verified by Stella, and a warning that @sigstore/verify will refuse it (which it does)', async (t) => {
  // The sandbox's own log key and URL (so the trust root knows the log), checkpoints signed
  // under a pod name, as a private Rekor with the default rekor_server.hostname signs them.
  const pod = 'rekor-server-7d9f8b6c4-x2x9q';
  const log = new LocalRekorLog({
    key: loadAuthority(sandbox.dataDir).keys.rekorLog,
    storage: new MemoryLogStorage(),
    baseUrl: sandbox.urls.rekor,
    checkpointName: pod,
  });
  const url = await serve(t, (_req, res, body) => {
    const r = log.createEntry(JSON.parse(body.toString('utf8')), { now: Date.now() });
    res
      .writeHead(201, {
        'content-type': 'application/json',
        location: `/api/v1/log/entries/${r.uuid}`,
      })
      .end(JSON.stringify(r.response));
  });
  const dir = workdir();
  const artifact = join(dir, 'a.txt');
  writeFileSync(artifact, `pod-named checkpoint ${Math.random()}`);
  const r = await runSign({
    artifact,
    outputPath: join(dir, 'a.sigstore.json'),
    identityToken: githubToken(),
    configPath: sandbox.signerConfigPath,
    trustedRootPath: sandbox.trustedRootPath,
    rekorUrl: url,
    attestationStorePath: false,
    env: {},
  });
  t.deepEqual(r.warnings, [
    `the Rekor log at ${url} signed its checkpoint as "${pod}", not as its host "127.0.0.1": Stella, sigstore-go and sigstore-python accept it, but @sigstore/verify (sigstore-js) looks for that name in the log's URL and will refuse this bundle (set the log's rekor_server.hostname to its host)`,
  ]);
  const bytes = readFileSync(artifact);
  const expected = { san: GITHUB_SAN, issuer: sandbox.urls.oidcIssuer };
  await verifyWithStella(r.bundleJson, sandbox.trustedRootPath, bytes, expected);
  t.throws(() => verifyWithSigstoreJs(r.bundleJson, sandbox.trustedRootPath, bytes, expected), {
    message: 'invalid checkpoint signature',
  }); // Control: the sandbox's own Rekor signs as its host; nothing to warn about.
  const own = await runSign({
    artifact,
    outputPath: join(dir, 'b.sigstore.json'),
    identityToken: githubToken(),
    configPath: sandbox.signerConfigPath,
    trustedRootPath: sandbox.trustedRootPath,
    attestationStorePath: false,
    env: {},
  });
  t.deepEqual(own.warnings, []);
  t.notThrows(() => verifyWithSigstoreJs(own.bundleJson, sandbox.trustedRootPath, bytes, expected));
});

test("a Rekor v1 answer that does not verify against the trust root's log key: REKOR_REJECTED naming the trust root, no bundle", async (t) => {
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const trustedRootPath = editedTrustedRoot((r) => {
    // Every log keeps its id and URL, with another key: its SET and checkpoint no longer verify.
    for (const l of r.tlogs)
      l.publicKey.rawBytes = otherKey.export({ format: 'der', type: 'spki' }).toString('base64');
  });
  await failsWithoutBundle(
    t,
    { identityToken: githubToken(), trustedRootPath },
    'REKOR_REJECTED',
    /^Rekor proof missing: Rekor answer from .* does not verify against the trusted root .*trusted_root\.json: /,
  );
});

test('a library caller whose config names rootBundlePath must pass its roots: CONFIG_INVALID before any request', async (t) => {
  const config = loadSignerConfig(sandbox.signerConfigPath);
  t.truthy(config.certificate.rootBundlePath);
  let requests = 0;
  const err = await t.throwsAsync(
    signArtifact({
      artifact: { kind: 'bytes', bytes: new Uint8Array([1]), name: 'a' },
      identityToken: githubToken(),
      config,
      env: {},
      fetchImpl: (() => {
        requests++;
        throw new Error('no request expected');
      }) as typeof fetch,
    }),
    { instanceOf: StellaError },
  );
  t.is(err.code, 'CONFIG_INVALID');
  t.regex(err.message, /certificate\.rootBundlePath .* is set but its roots were not given/);
  t.is(requests, 0);
  // With validateChain off, the roots are not needed.
  config.certificate.validateChain = false;
  const r = await signArtifact({
    artifact: { kind: 'bytes', bytes: new Uint8Array([2]), name: 'a' },
    identityToken: githubToken(),
    config,
    env: {},
  });
  t.is(r.tlog.length, 1);
});

test("a log whose clock is past the certificate's window: its genuine entry is refused, naming where it was logged, and no bundle is made of it", (t) => {
  const authority = testAuthority('sign-log-clock');
  const now = Date.UTC(2025, 5, 1);
  const ctx = {
    trust: authority.trustMaterial(),
    times: [],
    url: 'https://rekor.test.invalid',
    trustNote: '',
  };
  // The log integrates the entry a second after the certificate's last valid second.
  for (const [index, rekorNow, accepted] of [
    [0, now + 5_000, true],
    [1, now + LEAF_LIFETIME_MS + 1_000, false],
  ] as const) {
    const s = signBlob(authority, new TextEncoder().encode(`log clock ${index}\n`), {
      repo: 'org/repo',
      now,
      rekorNow,
    });
    const logged = parseEntryResponse(authority.rekor.entryByIndex(index));
    const accept = () =>
      acceptRekorV1Answer(logged, s.bundle.content, parseCertificate(s.certificate), ctx);
    if (accepted) {
      t.is(accept().logIndex, 0 + index);
      continue;
    }
    const e = t.throws(accept, { instanceOf: StellaError });
    t.regex(
      e.message,
      new RegExp(
        `^certificate expired: .*\\(the log's integrated time\\); the log's clock or the CA's is wrong — a signature with it could never verify; the entry is in the log at https://rekor\\.test\\.invalid \\(log index 1, UUID ${logged.uuid}\\) but no bundle was written$`,
      ),
    );
    t.is(e.code, 'CERT_EXPIRED');
    t.false(e.message.includes('nothing was signed'), 'it was: the message must not say otherwise');
    t.like(e.details, { logIndex: 1, uuid: logged.uuid });
  }
});
