/**
 * Signing with Rekor v2 + an RFC 3161 TSA, chosen by the sandbox's signing_config.json, through
 * the real CLI: blob (hashedrekord 0.0.2) and in-toto attestation (dsse 0.0.2), each verified
 * by Stella's CLI with networking disabled and by @sigstore/verify. Then the failures, each a
 * clear error with no bundle written: TSA down, Rekor v2 down, Rekor v2 answers tampered with
 * (checkpoint signature, a proof for another entry, another entry altogether), a TSA answer
 * tampered with or from a TSA the trust root does not know, no trust root, and signing
 * configs that select nothing.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server/sandbox.js';
import { runSign } from '../../src/commands/attest/sign-run.js';
import { StellaError } from '../../src/errors.js';
import { sha256 } from '../../src/crypto.js';
import { toHex } from '../../src/util/encoding.js';
import { runCli } from '../helpers/cli.js';
import { GITHUB_SAN, sandboxIdentityFlags } from '../helpers/consistency-kit.js';
import { NO_NETWORK_PRELOAD } from '../helpers/paths.js';
import { verifyWithSigstoreJs, verifyWithStella } from './helpers.js';
import { closedPort, serve } from '../helpers/loopback.js';
import { servedTsa, testTsa } from '../helpers/authority-bundles.js';
import { parseTimeStampReq } from '../../src/timestamp/request.js';
import { parseTrustedRoot, serializeTrustedRoot } from '../../src/trust/trusted-root.js';
import { signFailsWithoutBundle } from '../helpers/signing.js';
import { openTrustStore } from '../../src/trust/store/db.js';
import { importFile } from '../../src/trust/store/operations.js';
import { int, seq, utf8String } from '../../src/der/writer.js';

const OFFLINE = { nodeArgs: ['--import', NO_NETWORK_PRELOAD], timeoutMs: 90_000 };

let sandbox: RunningSandbox;
let root: string;

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'stella-rekor2-'));
  sandbox = await startSandbox({ dataDir: join(root, 'sandbox'), port: 0 });
});
test.after.always(async () => {
  await sandbox?.close();
});

const workdir = () => mkdtempSync(join(root, 'w-'));
const token = () => sandbox.mintToken({ platform: 'github', repo: 'org/repo' });
const expected = () => ({ san: GITHUB_SAN, issuer: sandbox.urls.oidcIssuer });

/**
 * `stella attest sign --keyless --json` of a fresh file `name` holding `bytes`, in a work
 * directory of its own, with this signing config and trust root (and `extra` flags, such as a
 * predicate): the CLI's answer, the file, and where the bundle goes (`<name without
 * extension>.sigstore.json`).
 */
async function signBlobCli(
  name: string,
  bytes: string | Uint8Array,
  signingConfig: string,
  trustedRoot: string | undefined,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ r: Awaited<ReturnType<typeof runCli>>; artifact: string; output: string }> {
  const dir = workdir();
  const artifact = join(dir, name);
  writeFileSync(artifact, bytes);
  const output = join(dir, `${name.replace(/\.[^.]*$/, '')}.sigstore.json`);
  const r = await runCli(
    [
      'attest',
      'sign',
      '--keyless',
      '--artifact',
      artifact,
      '--identity-token',
      token(),
      '--signing-config',
      signingConfig,
      ...(trustedRoot === undefined ? [] : ['--trusted-root', trustedRoot]),
      '--output',
      output,
      '--attestation-store',
      join(dir, 'att.db'),
      '--json',
      ...extra,
    ],
    { timeoutMs: 90_000, env },
  );
  return { r, artifact, output };
}

async function verifyCliOffline(
  t: import('ava').ExecutionContext,
  bundle: string,
  artifact: string,
): Promise<Record<string, any>> {
  const v = await runCli(
    [
      'attest',
      'verify',
      '--bundle',
      bundle,
      '--artifact',
      artifact,
      '--trusted-root',
      sandbox.trustedRootPath,
      ...sandboxIdentityFlags(sandbox),
      '--require-rekor',
      '--json',
    ],
    OFFLINE,
  );
  t.is(v.code, 0, v.stdout + v.stderr);
  t.notRegex(v.stderr, /NETWORK ATTEMPT/);
  return JSON.parse(v.stdout);
}

test.serial(
  'CLI: a blob signed with Rekor v2 + TSA from --signing-config verifies offline with Stella and with @sigstore/verify',
  async (t) => {
    const before = sandbox.rekorV2.size;
    const {
      r: s,
      artifact,
      output,
    } = await signBlobCli(
      'app.tgz',
      'rekor v2 release bytes\n',
      sandbox.signingConfigPath,
      sandbox.trustedRootPath,
    );
    t.is(s.code, 0, s.stdout + s.stderr);
    const out = JSON.parse(s.stdout);
    t.deepEqual(
      out.tlog.map((e: { apiVersion: number; kind: string; url: string }) => [
        e.apiVersion,
        e.kind,
        e.url,
      ]),
      [[2, 'hashedrekord/0.0.2', sandbox.urls.rekorV2]],
    );
    t.is(out.timestamps.length, 1);
    t.is(out.timestamps[0].url, sandbox.urls.tsa);
    t.deepEqual(out.warnings, [], 'the sandbox TSA stamps whole seconds: nothing to warn about');
    t.is(out.signingConfig, sandbox.signingConfigPath);
    t.is(out.trust, `trusted root ${sandbox.trustedRootPath}`);
    t.is(sandbox.rekorV2.size, before + 1);

    const json = JSON.parse(readFileSync(output, 'utf8'));
    t.is(json.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const entry = json.verificationMaterial.tlogEntries[0];
    t.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    t.is(entry.inclusionPromise, undefined, 'a Rekor v2 entry has no signed entry timestamp');
    t.is(entry.integratedTime, undefined);
    t.regex(entry.inclusionProof.checkpoint.envelope, /^127\.0\.0\.1\n\d+\n/);
    t.is(json.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);

    const report = await verifyCliOffline(t, output, artifact);
    t.true(report.ok);
    t.deepEqual(
      report.verifiedTimes.map((v: { source: string }) => v.source),
      ['rfc3161'],
    );
    const tlog = report.checks.find((c: { check: string }) => c.check === 'tlog');
    t.is(tlog.details.entries[0].rekor, 'v2');
    t.is(tlog.details.entries[0].checkpointSigner, '127.0.0.1');
    t.notThrows(() =>
      verifyWithSigstoreJs(
        readFileSync(output, 'utf8'),
        sandbox.trustedRootPath,
        readFileSync(artifact),
        expected(),
      ),
    );
    // Another artifact is refused by both.
    t.throws(() =>
      verifyWithSigstoreJs(
        readFileSync(output, 'utf8'),
        sandbox.trustedRootPath,
        Buffer.from('other'),
        expected(),
      ),
    );
    await t.throwsAsync(
      verifyWithStella(
        readFileSync(output, 'utf8'),
        sandbox.trustedRootPath,
        Buffer.from('other'),
        expected(),
      ),
    );
  },
);

test('CLI: an in-toto attestation goes to Rekor v2 as dsse 0.0.2 and verifies offline with Stella and with @sigstore/verify', async (t) => {
  const dir = workdir();
  const predicate = join(dir, 'provenance.json');
  writeFileSync(
    predicate,
    JSON.stringify({ buildDefinition: { buildType: 'https://example.com/build/v1' } }),
  );
  const {
    r: s,
    artifact,
    output,
  } = await signBlobCli(
    'lib.so',
    Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 9),
    sandbox.signingConfigPath,
    sandbox.trustedRootPath,
    ['--predicate', predicate, '--predicate-type', 'https://slsa.dev/provenance/v1'],
  );
  t.is(s.code, 0, s.stdout + s.stderr);
  const json = JSON.parse(readFileSync(output, 'utf8'));
  t.deepEqual(json.verificationMaterial.tlogEntries[0].kindVersion, {
    kind: 'dsse',
    version: '0.0.2',
  });
  t.is(json.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
  const report = await verifyCliOffline(t, output, artifact);
  t.deepEqual(
    report.verifiedTimes.map((v: { source: string }) => v.source),
    ['rfc3161'],
  );
  t.notThrows(() =>
    verifyWithSigstoreJs(
      readFileSync(output, 'utf8'),
      sandbox.trustedRootPath,
      undefined,
      expected(),
    ),
  );
  await t.notThrowsAsync(
    verifyWithStella(
      readFileSync(output, 'utf8'),
      sandbox.trustedRootPath,
      `sha256:${toHex(sha256(readFileSync(artifact)))}`,
      expected(),
    ),
  );
});

test('signer.yaml pointing at the signing config (signingConfig + trustedRoot keys) signs with Rekor v2 + TSA', async (t) => {
  const dir = workdir();
  const config = join(dir, 'signer.yaml');
  // The sandbox's own signer.yaml (trustedRoot included), its URL keys replaced by the signing config.
  writeFileSync(
    config,
    readFileSync(sandbox.signerConfigPath, 'utf8')
      .replace(/^\s+url: .*\n/gm, '')
      .replace(
        '      enabled: true\n',
        `      enabled: true\n      signingConfig: ${JSON.stringify(sandbox.signingConfigPath)}\n`,
      ),
  );
  const artifact = join(dir, 'a.bin');
  writeFileSync(artifact, 'yaml route');
  const r = await runSign({
    artifact,
    identityToken: token(),
    configPath: config,
    attestationStorePath: false,
    env: {},
  });
  t.deepEqual(
    r.tlog.map((e) => e.apiVersion),
    [2],
  );
  t.is(r.trustSource, `trusted root ${sandbox.trustedRootPath}`);
  await t.notThrowsAsync(
    verifyWithStella(r.bundleJson, sandbox.trustedRootPath, readFileSync(artifact), expected()),
  );
  // The sandbox's own signer.yaml still signs with Rekor v1 (and now checks the v1 answer against its trustedRoot).
  const v1 = await runSign({
    artifact,
    identityToken: token(),
    configPath: sandbox.signerConfigPath,
    attestationStorePath: false,
    env: {},
  });
  t.deepEqual(
    v1.tlog.map((e) => [e.apiVersion, e.kind]),
    [[1, 'hashedrekord/0.0.1']],
  );
  t.truthy(v1.bundle.verificationMaterial.tlogEntries[0]!.inclusionPromise);
  // Equivalent keys without a signing config: rekor.majorApiVersion 2 + tsa.url.
  const eq = join(dir, 'signer-v2.yaml');
  const rendered = readFileSync(sandbox.signerConfigPath, 'utf8');
  // The sandbox's file has a rekor block and a tsa block (its timeout and retries, no url).
  t.true(rendered.includes('      rekor:\n') && rendered.includes('      tsa:\n'), rendered);
  writeFileSync(
    eq,
    rendered
      .replace('      rekor:\n', '      rekor:\n        majorApiVersion: 2\n')
      .replace('      tsa:\n', `      tsa:\n        url: ${JSON.stringify(sandbox.urls.tsa)}\n`),
  );
  const r2 = await runSign({
    artifact,
    identityToken: token(),
    configPath: eq,
    attestationStorePath: false,
    env: {},
  });
  t.deepEqual(
    r2.tlog.map((e) => e.apiVersion),
    [2],
  );
  t.is(r2.timestamps.length, 1);
  t.notThrows(() =>
    verifyWithSigstoreJs(
      r2.bundleJson,
      sandbox.trustedRootPath,
      readFileSync(artifact),
      expected(),
    ),
  );
});

test('Ed25519 preferred: an attestation goes to Rekor v2 with keyDetails PKIX_ED25519; a blob falls back to ECDSA P-256 (hashedrekord records a digest)', async (t) => {
  const dir = workdir();
  const config = join(dir, 'signer.yaml');
  writeFileSync(
    config,
    readFileSync(sandbox.signerConfigPath, 'utf8').replace(
      /preferred: "ECDSA_P256"\n\s+allowed: \["ECDSA_P256"\]/,
      'preferred: "Ed25519"\n        allowed: ["Ed25519", "ECDSA_P256"]',
    ),
  );
  const artifact = join(dir, 'a.bin');
  writeFileSync(artifact, 'ed25519 over rekor v2');
  const predicate = join(dir, 'p.json');
  writeFileSync(predicate, '{"note":"ok"}');
  const common = {
    artifact,
    identityToken: token(),
    configPath: config,
    signingConfigPath: sandbox.signingConfigPath,
    attestationStorePath: false as const,
    env: {},
  };
  const att = await runSign({
    ...common,
    predicatePath: predicate,
    predicateType: 'https://example.com/note/v1',
  });
  t.is(att.algorithm, 'Ed25519');
  const body = JSON.parse(
    Buffer.from(att.bundle.verificationMaterial.tlogEntries[0]!.canonicalizedBody).toString('utf8'),
  );
  t.is(body.spec.dsseV002.signatures[0].verifier.keyDetails, 'PKIX_ED25519');
  await t.notThrowsAsync(
    verifyWithStella(att.bundleJson, sandbox.trustedRootPath, readFileSync(artifact), expected()),
  );
  const blob = await runSign(common);
  t.is(blob.algorithm, 'ECDSA_P256');
  await t.notThrowsAsync(
    verifyWithStella(blob.bundleJson, sandbox.trustedRootPath, readFileSync(artifact), expected()),
  );
});

// ---------------------------------------------------------------------------------------
// Failures: a clear error, and no bundle.

/** The sandbox's signing config with some URLs replaced. */
function signingConfigWith(edit: (doc: any) => void): string {
  const doc = JSON.parse(readFileSync(sandbox.signingConfigPath, 'utf8'));
  edit(doc);
  const path = join(workdir(), 'signing_config.json');
  writeFileSync(path, JSON.stringify(doc, null, 2));
  return path;
}

const failsWithoutBundle = (
  t: import('ava').ExecutionContext,
  opts: Partial<Parameters<typeof runSign>[0]>,
  code: string,
  message: RegExp,
): Promise<StellaError> =>
  signFailsWithoutBundle(
    t,
    workdir(),
    {
      identityToken: token(),
      signingConfigPath: sandbox.signingConfigPath,
      trustedRootPath: sandbox.trustedRootPath,
      ...opts,
    },
    code,
    message,
  );

/** A Rekor v2 "log" that forwards to the sandbox and edits its answer. */
async function tamperingRekor(
  t: import('ava').ExecutionContext,
  edit: (entry: any) => any,
): Promise<string> {
  return serve(t, async (req, res, body) => {
    const upstream = await fetch(`${sandbox.urls.rekorV2}${req.url}`, {
      method: req.method,
      headers: { 'content-type': 'application/json' },
      ...(req.method === 'POST' ? { body } : {}),
    });
    const text = await upstream.text();
    const out = upstream.status === 201 ? JSON.stringify(edit(JSON.parse(text))) : text;
    res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(out);
  });
}

/** A valid answer for another entry, captured from the sandbox log itself. */
async function anotherEntry(): Promise<any> {
  const dir = workdir();
  const artifact = join(dir, 'other.txt');
  writeFileSync(artifact, `another entry ${Math.random()}`);
  const r = await runSign({
    artifact,
    identityToken: token(),
    signingConfigPath: sandbox.signingConfigPath,
    trustedRootPath: sandbox.trustedRootPath,
    attestationStorePath: false,
    env: {},
  });
  return JSON.parse(r.bundleJson).verificationMaterial.tlogEntries[0];
}

test.serial(
  'TSA down: TSA_UNAVAILABLE (exit 140), no bundle, and nothing written to the log',
  async (t) => {
    const url = await closedPort();
    const before = sandbox.rekorV2.size;
    const config = signingConfigWith((d) => (d.tsaUrls[0].url = `${url}/api/v1/timestamp`));
    const e = await failsWithoutBundle(
      t,
      { signingConfigPath: config },
      'TSA_UNAVAILABLE',
      /TSA unavailable at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/timestamp: ECONNREFUSED/,
    );
    t.is(e.exitCode, 140);
    // The same through the CLI: exit 140, one JSON error, no bundle.
    const { r, output } = await signBlobCli('a.txt', 'tsa down', config, sandbox.trustedRootPath);
    t.is(r.code, 140, r.stdout + r.stderr);
    t.is(JSON.parse(r.stdout).error.code, 'TSA_UNAVAILABLE');
    t.false(existsSync(output));
    t.is(sandbox.rekorV2.size, before, 'the TSA is asked first: a failed run leaves no log entry');
  },
);

test('Rekor v2 down: REKOR_UNAVAILABLE, no bundle', async (t) => {
  const url = await closedPort();
  await failsWithoutBundle(
    t,
    { signingConfigPath: signingConfigWith((d) => (d.rekorTlogUrls[0].url = url)) },
    'REKOR_UNAVAILABLE',
    /Rekor v2 unavailable at http:\/\/127\.0\.0\.1:\d+/,
  );
});

test('Rekor v2 answer with a broken checkpoint signature: REKOR_REJECTED, no bundle', async (t) => {
  const url = await tamperingRekor(t, (e) => {
    const env: string = e.inclusionProof.checkpoint.envelope;
    const m = /\u2014 (\S+) (\S+)\n$/.exec(env)!;
    const sig = Buffer.from(m[2]!, 'base64');
    sig[sig.length - 1]! ^= 0x01;
    e.inclusionProof.checkpoint.envelope =
      env.slice(0, m.index) + `\u2014 ${m[1]} ${sig.toString('base64')}\n`;
    return e;
  });
  await failsWithoutBundle(
    t,
    { signingConfigPath: signingConfigWith((d) => (d.rekorTlogUrls[0].url = url)) },
    'REKOR_REJECTED',
    /Rekor v2 answer from .* does not verify against the trusted root .*: checkpoint: signature by trusted log 127\.0\.0\.1 .* does not verify/,
  );
});

test('a Rekor v2 answer carrying an integrated time, a signed entry timestamp, or both: REKOR_REJECTED (v2 has neither), no bundle', async (t) => {
  const set = { signedEntryTimestamp: Buffer.alloc(70, 1).toString('base64') };
  for (const edit of [
    { integratedTime: '1767225600' },
    { inclusionPromise: set },
    { integratedTime: '1767225600', inclusionPromise: set },
  ]) {
    const url = await tamperingRekor(t, (e) => ({ ...e, ...edit }));
    await failsWithoutBundle(
      t,
      { signingConfigPath: signingConfigWith((d) => (d.rekorTlogUrls[0].url = url)) },
      'REKOR_REJECTED',
      /a Rekor v2 entry carries no integrated time and no signed entry timestamp/,
    );
  }
});

test('a Rekor v2 answer labelled with another kind or version than the request (a blob is hashedrekord 0.0.2): REKOR_REJECTED naming both, no bundle', async (t) => {
  for (const kindVersion of [
    { kind: 'dsse', version: '0.0.2' },
    { kind: 'hashedrekord', version: '0.0.1' },
  ]) {
    const url = await tamperingRekor(t, (e) => ({ ...e, kindVersion }));
    await failsWithoutBundle(
      t,
      { signingConfigPath: signingConfigWith((d) => (d.rekorTlogUrls[0].url = url)) },
      'REKOR_REJECTED',
      new RegExp(
        `does not verify against the trusted root .*: expected a hashedrekord/0\\.0\\.2 entry, got "${kindVersion.kind}/${kindVersion.version.replace(/\./g, '\\.')}"$`,
      ),
    );
  }
});

test('Rekor v2 answer with the proof of another entry, or another entry altogether: REKOR_REJECTED, no bundle', async (t) => {
  const other = await anotherEntry();
  const proofSwap = await tamperingRekor(t, (e) => ({
    ...e,
    logIndex: other.logIndex ?? '0',
    inclusionProof: other.inclusionProof,
  }));
  await failsWithoutBundle(
    t,
    { signingConfigPath: signingConfigWith((d) => (d.rekorTlogUrls[0].url = proofSwap)) },
    'REKOR_REJECTED',
    /does not verify against the trusted root .*: inclusion proof/,
  );
  const entrySwap = await tamperingRekor(t, () => other);
  await failsWithoutBundle(
    t,
    { signingConfigPath: signingConfigWith((d) => (d.rekorTlogUrls[0].url = entrySwap)) },
    'REKOR_REJECTED',
    /does not verify against the trusted root .*: tlog entry signature does not match the bundle signature/,
  );
  // A log the trust root does not know (the sandbox's answer relabelled with another log id).
  const foreign = await tamperingRekor(t, (e) => ({
    ...e,
    logId: { keyId: Buffer.alloc(32, 7).toString('base64') },
  }));
  await failsWithoutBundle(
    t,
    { signingConfigPath: signingConfigWith((d) => (d.rekorTlogUrls[0].url = foreign)) },
    'REKOR_REJECTED',
    /is not a trusted transparency log/,
  );
});

test('a TSA that writes its time with two fraction digits: signed, verified by Stella, and a warning that @sigstore/verify cannot read it (which it cannot)', async (t) => {
  // A TSA the trust root lists, stamping at 10 ms precision: ".12Z", valid DER.
  const tsa = testTsa('fraction-tsa', Date.now() - 3_600_000, Date.now() + 86_400_000);
  const url = await serve(t, async (_req, res, body) => {
    const req = parseTimeStampReq(new Uint8Array(body));
    // The last instant at .120 of a second, not in the future: wait for one in this second
    // (the certificate was issued earlier in it at the latest, so the time is inside it).
    while (Date.now() % 1000 < 120) await new Promise((r) => setTimeout(r, 10));
    const answer = tsa.issue({
      imprint: { hash: req.hash, digest: req.digest },
      ...(req.nonce !== undefined ? { nonce: req.nonce } : {}),
      genTime: { ms: Math.floor(Date.now() / 1000) * 1000 + 120, subMs: '' },
    });
    res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(Buffer.from(answer));
  });
  const trust = parseTrustedRoot(readFileSync(sandbox.trustedRootPath, 'utf8'));
  const trustedRootPath = join(workdir(), 'trusted_root.json');
  writeFileSync(
    trustedRootPath,
    serializeTrustedRoot({ ...trust, timestampAuthorities: [tsa.authority] }),
  );
  const {
    r: s,
    artifact,
    output,
  } = await signBlobCli(
    'a.txt',
    `two fraction digits ${Math.random()}`,
    signingConfigWith((d) => (d.tsaUrls[0].url = url)),
    trustedRootPath,
  );
  t.is(s.code, 0, s.stdout + s.stderr);
  const warning =
    /the TSA at http:\/\/127\.0\.0\.1:\d+\S* wrote its time with 2 fraction-of-second digits \(\S+\.120Z\): Stella, sigstore-go and cosign read it, but @sigstore\/verify \(sigstore-js\) reads only none or three and will refuse this bundle/;
  t.regex(s.stderr, warning);
  const out = JSON.parse(s.stdout) as { warnings: string[] };
  t.is(out.warnings.length, 1);
  t.regex(out.warnings[0]!, warning);
  const bundleJson = readFileSync(output, 'utf8');
  const bytes = readFileSync(artifact);
  await verifyWithStella(bundleJson, trustedRootPath, bytes, expected());
  // What the warning says: the peer refuses the time itself.
  t.throws(() => verifyWithSigstoreJs(bundleJson, trustedRootPath, bytes, expected()), {
    message: 'invalid time',
  });
});

test('a tampered TSA answer, or one from a TSA the trust root does not know: TSA_REJECTED (exit 141), no bundle', async (t) => {
  const flipping = await serve(t, async (req, res, body) => {
    const upstream = await fetch(sandbox.urls.tsa, {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body,
    });
    const reply = Buffer.from(await upstream.arrayBuffer());
    reply[reply.length - 3]! ^= 0x01; // inside the SignerInfo signature
    res.writeHead(upstream.status, { 'content-type': 'application/timestamp-reply' }).end(reply);
  });
  const e = await failsWithoutBundle(
    t,
    { signingConfigPath: signingConfigWith((d) => (d.tsaUrls[0].url = flipping)) },
    'TSA_REJECTED',
    /TSA at .*: the timestamp does not verify/,
  );
  t.is(e.exitCode, 141);
  const rogueUrl = await servedTsa(t, 'a rogue TSA');
  await failsWithoutBundle(
    t,
    { signingConfigPath: signingConfigWith((d) => (d.tsaUrls[0].url = rogueUrl)) },
    'TSA_REJECTED',
    /TSA not trusted/,
  );
  // A TSA that answers with something else than a TimeStampResp.
  const html = await serve(
    t,
    (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
  );
  await failsWithoutBundle(
    t,
    { signingConfigPath: signingConfigWith((d) => (d.tsaUrls[0].url = html)) },
    'TSA_REJECTED',
    /content type "text\/html"/,
  );
});

test('Rekor v2 with no trust root given but a trust store: the store is the trust, and the bundle verifies', async (t) => {
  const dir = workdir();
  const store = join(dir, 'trust.db');
  const s = openTrustStore(store, { create: true });
  importFile(
    s,
    { path: sandbox.trustedRootPath, bytes: new Uint8Array(readFileSync(sandbox.trustedRootPath)) },
    {},
    { now: Date.now(), command: 'stella trust import' },
  );
  s.close();
  const artifact = join(dir, 'a.bin');
  writeFileSync(artifact, 'trust from the store');
  const r = await runSign({
    artifact,
    identityToken: token(),
    signingConfigPath: sandbox.signingConfigPath,
    attestationStorePath: false,
    env: { STELLA_TRUST_STORE: store },
  });
  t.is(r.trustSource, `trust store ${store}`);
  t.deepEqual(
    r.tlog.map((e) => e.apiVersion),
    [2],
  );
  await t.notThrowsAsync(
    verifyWithStella(r.bundleJson, sandbox.trustedRootPath, readFileSync(artifact), expected()),
  );
});

test.serial(
  'Rekor v2 with no trust root given: the public-good root is the fallback, which does not know the sandbox CA (refused before the TSA or the log is asked); a library caller with no trust is refused up front',
  async (t) => {
    // No --trusted-root, no trustedRoot in signer.yaml, no trust store: the embedded public-good root.
    const before = sandbox.rekorV2.size;
    await failsWithoutBundle(
      t,
      { trustedRootPath: undefined, env: { XDG_DATA_HOME: workdir() } },
      'CERT_CHAIN_INVALID',
      /Fulcio's certificate does not verify against the embedded public-good trusted root, so nothing was signed into the log: .*stella-sandbox-intermediate is not a trusted certificate authority/,
    );
    t.is(sandbox.rekorV2.size, before);
    const url = await closedPort();
    const { signArtifact } = await import('../../src/sign/sign.js');
    const { parseSigningConfig } = await import('../../src/sign/signing-config.js');
    const err = (await t.throwsAsync(
      signArtifact({
        artifact: {
          kind: 'digest',
          sha256: new Uint8Array(32).fill(0xab),
          name: `sha256:${'ab'.repeat(32)}`,
        },
        identityToken: token(),
        signingConfig: parseSigningConfig(
          readFileSync(signingConfigWith((d) => (d.caUrls[0].url = url))),
          'sc',
        ),
        env: {},
      }),
    )) as StellaError;
    t.is(err.code, 'CONFIG_INVALID');
    t.regex(err.message, /a Rekor v2 log is configured.*pass --trusted-root/);
  },
);

test('CLI: a cosign user with SIGSTORE_ROOT_FILE set, signing with no trust named and no store: refused against the public-good root, and the warning says the variable was not read', async (t) => {
  // No --trusted-root, no store (a fresh data folder): the embedded public-good root.
  const home = workdir();
  const { r, output } = await signBlobCli(
    'a.bin',
    'cosign user',
    sandbox.signingConfigPath,
    undefined,
    [],
    {
      XDG_DATA_HOME: home,
      HOME: home,
      STELLA_TRUST_STORE: '',
      SIGSTORE_ROOT_FILE: join(sandbox.dataDir, 'fulcio-roots.pem'),
    },
  );
  t.is(JSON.parse(r.stdout).error.code, 'CERT_CHAIN_INVALID', r.stdout + r.stderr);
  t.regex(
    r.stderr,
    /^warning: SIGSTORE_ROOT_FILE names 2 Fulcio certificates and none is trusted by this run\. Stella does not read cosign's trust variables; this run trusts the embedded public-good trusted root\./m,
  );
  t.false(existsSync(output));
});

test('CLI: signing configs that select nothing are CONFIG_INVALID (exit 72) naming the key, before any request', async (t) => {
  const dir = workdir();
  const artifact = join(dir, 'a.txt');
  writeFileSync(artifact, 'x');
  const sign = (config: string) => signBlobCli('a.txt', 'x', config, sandbox.trustedRootPath);
  const cases: [string, (d: any) => void, RegExp][] = [
    [
      'unknown key',
      (d) => (d.rekorTlogUrls[0].operater = 'x'),
      /rekorTlogUrls\[0\]\.operater: unknown key/,
    ],
    [
      'no valid Rekor log now',
      (d) =>
        d.rekorTlogUrls.forEach(
          (s: any) => (s.validFor = { start: '2001-01-01T00:00:00Z', end: '2002-01-01T00:00:00Z' }),
        ),
      /rekorTlogUrls: no Rekor log is valid at/,
    ],
    [
      'unsupported API versions only',
      (d) => d.rekorTlogUrls.forEach((s: any) => (s.majorApiVersion = 3)),
      /rekorTlogUrls: no Rekor log with an API version Stella supports \(2, 1\)/,
    ],
    [
      'wrong type',
      (d) => (d.tsaConfig = { selector: 2 }),
      /tsaConfig\.selector: must be "ALL", "ANY" or "EXACT"/,
    ],
    [
      'Rekor v2 without a TSA',
      (d) => ((d.tsaUrls = []), delete d.tsaConfig),
      /tsaUrls: a Rekor v2 log was chosen/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    const { r, output } = await sign(signingConfigWith(edit));
    t.is(r.code, 72, `${what}: ${r.stdout}${r.stderr}`);
    const out = JSON.parse(r.stdout);
    t.is(out.error.code, 'CONFIG_INVALID', what);
    t.regex(out.error.message, message, what);
    t.false(existsSync(output), `${what}: no bundle`);
  }
  // --signing-config with --rekor-url is a usage error.
  const both = await runCli(
    [
      'attest',
      'sign',
      '--keyless',
      '--artifact',
      artifact,
      '--signing-config',
      sandbox.signingConfigPath,
      '--rekor-url',
      'http://127.0.0.1:1',
    ],
    { timeoutMs: 60_000 },
  );
  t.is(both.code, 2, both.stderr);
});

// Serial: ava runs it before the concurrent tests, so the log's size is this test's alone.
test.serial(
  'TSA answers by status: 503 retried then TSA_UNAVAILABLE, 400 TSA_REJECTED with its text, 200 that is not a TimeStampResp or carries no token TSA_REJECTED',
  async (t) => {
    const tsa = async (
      status: number,
      body: Uint8Array,
    ): Promise<{ url: string; hits: () => number }> => {
      let hits = 0;
      const url = await serve(t, (_req, res) => {
        hits++;
        res
          .writeHead(status, { 'content-type': 'application/timestamp-reply' })
          .end(Buffer.from(body));
      });
      return { url, hits: () => hits };
    };
    const withTsa = (url: string) => signingConfigWith((d) => (d.tsaUrls[0].url = url));
    const before = sandbox.rekorV2.size;
    const down = await tsa(503, new Uint8Array(0));
    await failsWithoutBundle(
      t,
      { signingConfigPath: withTsa(down.url) },
      'TSA_UNAVAILABLE',
      /TSA unavailable at .*: HTTP 503 \(4 attempts\)/,
    );
    t.is(down.hits(), 4, 'the first attempt and three retries (tsa.retries)');
    const refusing = await tsa(400, new Uint8Array(0));
    await failsWithoutBundle(
      t,
      { signingConfigPath: withTsa(refusing.url) },
      'TSA_REJECTED',
      /refused the request: HTTP 400/,
    );
    t.is(refusing.hits(), 1, 'a refusal is not retried');
    // A refusal that is not a TimeStampResp (a proxy's HTML page): the server's words on one
    // line, control characters made spaces, cut with the length (serverText).
    const page = `<html>\n<h1>Bad\x1b[2J Request</h1>${'x'.repeat(5000)}</html>`;
    const proxy = await tsa(400, new TextEncoder().encode(page));
    const refusal = await failsWithoutBundle(
      t,
      { signingConfigPath: withTsa(proxy.url) },
      'TSA_REJECTED',
      /refused the request: HTTP 400: <html> <h1>Bad \[2J Request<\/h1>x+… \(5038 characters\)$/,
    );
    t.false(/[\n\x1b]/.test(refusal.message), refusal.message);
    const garbage = await tsa(200, new Uint8Array([0x30, 0x03, 0x02, 0x01]));
    await failsWithoutBundle(
      t,
      { signingConfigPath: withTsa(garbage.url) },
      'TSA_REJECTED',
      /the answer is not a TimeStampResp/,
    );
    // TimeStampResp { status PKIStatusInfo { granted } } and no timeStampToken.
    const tokenless = await tsa(200, new Uint8Array([0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00]));
    await failsWithoutBundle(
      t,
      { signingConfigPath: withTsa(tokenless.url) },
      'TSA_REJECTED',
      /granted, but the answer carries no token/,
    );
    // Status rejection (2) whose PKIFreeText a TSA made 3,000 strings long: its text is shown
    // quoted and cut, not whole (a 10 KB refusal line before).
    const chatty = await tsa(
      200,
      seq(seq(int(2), seq(...Array.from({ length: 3000 }, () => utf8String('fuzz'))))),
    );
    const e = await failsWithoutBundle(
      t,
      { signingConfigPath: withTsa(chatty.url) },
      'TSA_REJECTED',
      /refused to stamp \(PKIStatus 2: "fuzz fuzz [a-z ]*"… \(14999 characters\)\)$/,
    );
    t.true(e.message.length < 400, e.message);
    t.is(sandbox.rekorV2.size, before, 'nothing was logged');
  },
);

test('Rekor v2 answering 409 (it holds the entry, and gives no proof for it): REKOR_REJECTED naming the log index', async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(409, { 'content-type': 'application/json', 'x-log-index': '7' }).end('{}');
  });
  const e = await failsWithoutBundle(
    t,
    { signingConfigPath: signingConfigWith((d) => (d.rekorTlogUrls[0].url = url)) },
    'REKOR_REJECTED',
    /Rekor v2 at http:\/\/127\.0\.0\.1:\d+ already holds this entry \(log index 7\) and returns no proof for it/,
  );
  t.is(e.details?.status, 409);
});
