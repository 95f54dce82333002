/**
 * Messages that say what to do (issue 11), through the real CLI: a tar or gzip file given as
 * --bundle, a JSON bundle given as --archive, the trust source of a failing verification, the
 * checks of an early failure listed once in order, both digests for a wrong artifact, the
 * network cause, usage errors for flags that cannot work, `trust retire` on an entry already
 * over, `trust import` of a CA chain without --uri, log levels that never print a token.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { NO_NETWORK_PRELOAD, PROJECT_ROOT } from '../helpers/paths.js';
import { buildExportArchive } from '../../src/archive/export.js';
import { createServer, type AddressInfo } from 'node:net';

const S = (f: string) => join(PROJECT_ROOT, 'samples', f);
const OFFLINE = { nodeArgs: ['--import', NO_NETWORK_PRELOAD] };
const IDENTITY = [
  '--certificate-identity',
  'https://github.com/stella-samples/demo/.github/workflows/release.yml@refs/heads/main',
  '--certificate-oidc-issuer',
  'https://oidc.stella.invalid',
];
const tmp = () => mkdtempSync(join(tmpdir(), 'stella-msg-'));

test('--bundle given an export archive or a gzip file says to use --archive; --archive given JSON says --bundle', async (t) => {
  const dir = tmp();
  const ex = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--bundle',
    S('blob.sigstore.json'),
    '--output',
    join(dir, 'e.tar'),
  ]);
  t.is(ex.code, 0, ex.stderr);
  const tarAsBundle = await runCli(
    ['attest', 'verify', S('artifact.txt'), '--bundle', join(dir, 'e.tar'), ...IDENTITY],
    OFFLINE,
  );
  t.is(tarAsBundle.code, 10);
  t.regex(
    tarAsBundle.stderr,
    /--bundle ".*e\.tar" is a tar archive, not a Sigstore bundle \(JSON\): an export archive .* goes to --archive/,
  );
  writeFileSync(join(dir, 'e.tar.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));
  const gz = await runCli(
    ['attest', 'verify', S('artifact.txt'), '--bundle', join(dir, 'e.tar.gz'), ...IDENTITY],
    OFFLINE,
  );
  t.regex(gz.stderr, /is a gzip file, not a Sigstore bundle .* --archive \(decompress it first/);
  // The shortest of each: the two bytes of gzip's magic, and a tar header cut just after
  // "ustar" (262 bytes).
  const ustar = Buffer.alloc(262);
  ustar.write('ustar', 257, 'latin1');
  for (const [name, bytes, what] of [
    ['magic.gz', Buffer.from([0x1f, 0x8b]), 'a gzip file'],
    ['short.tar', ustar, 'a tar archive'],
  ] as const) {
    writeFileSync(join(dir, name), bytes);
    const r = await runCli(
      ['attest', 'verify', S('artifact.txt'), '--bundle', join(dir, name), ...IDENTITY],
      OFFLINE,
    );
    t.regex(r.stderr, new RegExp(`is ${what}, not a Sigstore bundle`), name);
  }
  const jsonAsArchive = await runCli(
    ['attest', 'verify', S('artifact.txt'), '--archive', S('blob.sigstore.json'), ...IDENTITY],
    OFFLINE,
  );
  t.not(jsonAsArchive.code, 0);
  t.regex(
    jsonAsArchive.stderr,
    /--archive ".*blob\.sigstore\.json" is JSON, not an export archive \(tar\): a Sigstore bundle goes to --bundle/,
  );
  t.truthy(buildExportArchive);
});

test('a failing verification names its trust source; the --json report lists each check once, in order', async (t) => {
  const human = await runCli(
    ['attest', 'verify', S('artifact.txt'), '--bundle', S('blob.sigstore.json'), ...IDENTITY],
    { ...OFFLINE, env: { STELLA_TRUST_STORE: '', XDG_DATA_HOME: tmp() } },
  );
  t.is(human.code, 33, human.stderr);
  t.regex(
    human.stderr,
    /not a trusted transparency log \(trust: embedded public-good trusted root; pass --trusted-root or import into the trust store with `stella trust import`\)/,
  );
  const json = await runCli(
    [
      'attest',
      'verify',
      S('artifact.txt'),
      '--bundle',
      S('blob.sigstore.json'),
      ...IDENTITY,
      '--json',
    ],
    OFFLINE,
  );
  const report = JSON.parse(json.stdout);
  t.deepEqual(
    report.checks.map((c: { check: string }) => c.check),
    ['verified-times', 'certificate-chain', 'sct', 'tlog', 'signature', 'policy'],
  );
  t.is(report.checks[0].status, 'fail');
  t.is(report.error.check, 'tlog', 'the error still names the check the failure belongs to');
});

test('a wrong artifact shows both digests', async (t) => {
  const dir = tmp();
  writeFileSync(join(dir, 'other.txt'), 'not the artifact\n');
  const r = await runCli(
    [
      'attest',
      'verify',
      join(dir, 'other.txt'),
      '--bundle',
      S('blob.sigstore.json'),
      '--trusted-root',
      S('trusted_root.json'),
      ...IDENTITY,
    ],
    OFFLINE,
  );
  t.is(r.code, 30);
  t.regex(
    r.stderr,
    /the entry records sha256:[0-9a-f]{64}, the artifact is sha256:[0-9a-f]{64} \(is this the artifact that was signed\?\)/,
  );
});

test("usage errors for flags that cannot work: --max-age abc, 0 or too long, --max-age with --trusted-root, --environment '', a bad --fulcio-url", async (t) => {
  const base = [
    'attest',
    'verify',
    S('artifact.txt'),
    '--bundle',
    S('blob.sigstore.json'),
    ...IDENTITY,
  ];
  // One rule (trust/store/max-age.ts), asked before the store is looked for: a store that
  // does not exist is not what the user hears about.
  const missingStore = join(tmp(), 'absent.db');
  for (const value of ['abc', '0', '2932897']) {
    const r = await runCli([...base, '--store', missingStore, '--max-age', value]);
    t.is(r.code, 2, value);
    t.is(
      r.stderr,
      `error: --max-age must be a positive number of days up to 2932896, not "${value}"\nSee more help with --help\n`,
      value,
    );
  }
  const both = await runCli([...base, '--max-age', '3', '--trusted-root', S('trusted_root.json')]);
  t.is(both.code, 2);
  t.regex(
    both.stderr,
    /--max-age limits the age of the trust store, which is not read with --trusted-root/,
  );
  const env = await runCli([
    'sandbox',
    'token',
    '--data-dir',
    tmp(),
    '--platform',
    'github',
    '--repo',
    'o/r',
    '--environment',
    '',
  ]);
  t.is(env.code, 2);
  t.regex(env.stderr, /^error: --environment must not be empty/);
  const url = await runCli(
    [
      'attest',
      'sign',
      '--keyless',
      S('artifact.txt'),
      '--fulcio-url',
      'fulcio.internal',
      '--rekor-url',
      'https://r.test',
      '--identity-token',
      'a.b.c',
    ],
    OFFLINE,
  );
  t.is(url.code, 2);
  t.regex(url.stderr, /--fulcio-url "fulcio\.internal" is not an http\(s\) URL/);
});

test('a network failure names its cause, and a URL that cannot work is not retried', async (t) => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b64({ alg: 'ES256' })}.${b64({ iss: 'https://issuer.test', sub: 'x', aud: 'sigstore', exp: Math.floor(Date.now() / 1000) + 600 })}.c2ln`;
  const dir = tmp();
  // A port that was just listened on and closed: nothing is there (connection refused).
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  const refused = await runCli([
    'attest',
    'sign',
    '--keyless',
    S('artifact.txt'),
    '--fulcio-url',
    `http://127.0.0.1:${port}`,
    '--rekor-url',
    `http://127.0.0.1:${port}`,
    '--identity-token',
    jwt,
    '--output',
    join(dir, 'b.json'),
    '--attestation-store',
    join(dir, 'a.db'),
  ]);
  t.is(refused.code, 68, refused.stderr);
  t.regex(
    refused.stderr,
    new RegExp(`Fulcio unavailable at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`),
  );
  const badPort = await runCli([
    'attest',
    'sign',
    '--keyless',
    S('artifact.txt'),
    '--fulcio-url',
    'http://127.0.0.1:9',
    '--rekor-url',
    'http://127.0.0.1:9',
    '--identity-token',
    jwt,
    '--output',
    join(dir, 'b.json'),
    '--attestation-store',
    join(dir, 'a.db'),
  ]);
  t.regex(badPort.stderr, /bad port \(1 attempt/);
});

test('STELLAOPS_LOG_LEVEL=debug and --verbose show steps and requests on stderr, never the token', async (t) => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `eyJ${b64({ alg: 'ES256' }).slice(3)}.${b64({ iss: 'https://issuer.test', sub: 'repo:o/r', aud: 'sigstore', exp: Math.floor(Date.now() / 1000) + 600 })}.c2lnbmF0dXJl`;
  const dir = tmp();
  const args = [
    'attest',
    'sign',
    '--keyless',
    S('artifact.txt'),
    '--fulcio-url',
    'http://127.0.0.1:1',
    '--rekor-url',
    'http://127.0.0.1:1',
    '--output',
    join(dir, 'b.json'),
    '--attestation-store',
    join(dir, 'a.db'),
  ];
  for (const run of [
    () => runCli(args, { env: { STELLAOPS_LOG_LEVEL: 'debug', STELLAOPS_OIDC_TOKEN: jwt } }),
    () => runCli([...args, '--verbose'], { env: { STELLAOPS_OIDC_TOKEN: jwt } }),
  ]) {
    const r = await run();
    t.is(r.code, 68);
    t.regex(r.stderr, /stella info: signing a blob with ECDSA_P256/);
    t.regex(
      r.stderr,
      /stella info: identity token from env: issuer https:\/\/issuer\.test, subject repo:o\/r/,
    );
    t.regex(
      r.stderr,
      /stella debug: POST http:\/\/127\.0\.0\.1:1\/api\/v2\/signingCert \(attempt 1 of 4\)/,
    );
    t.false(r.stderr.includes(jwt.split('.')[1]!), 'the token never appears');
  }
  const quiet = await runCli(args, { env: { STELLAOPS_OIDC_TOKEN: jwt } });
  t.notRegex(quiet.stderr, /stella (info|debug):/, 'the default level (warn) shows no steps');
  const bad = await runCli(args, {
    env: { STELLAOPS_OIDC_TOKEN: jwt, STELLAOPS_LOG_LEVEL: 'loud' },
  });
  t.regex(
    bad.stderr,
    /STELLAOPS_LOG_LEVEL="loud" is not one of error, warn, info, debug; using warn/,
  );
});

test('trust retire on an entry already over says nothing changed, with no history row; trust import of a CA chain needs --uri', async (t) => {
  const env = { STELLA_TRUST_STORE: join(tmp(), 'trust.db') };
  t.is((await runCli(['trust', 'init'], { env })).code, 0);
  t.is((await runCli(['trust', 'import', S('trusted_root.json')], { env })).code, 0);
  const first = await runCli(['trust', 'retire', '1', '--at', '2030-01-01T00:00:00Z'], { env });
  t.is(first.code, 0, first.stderr);
  const again = await runCli(['trust', 'retire', '1', '--at', '2031-01-01T00:00:00Z', '--json'], {
    env,
  });
  t.is(JSON.parse(again.stdout).changed, false);
  const human = await runCli(['trust', 'retire', '1', '--at', '2031-01-01T00:00:00Z'], { env });
  t.regex(
    human.stdout,
    /already ended at 2030-01-01T00:00:00.000Z, before 2031-01-01T00:00:00Z; nothing changed \(no history row\)/,
  );
  const history = JSON.parse((await runCli(['trust', 'history', '--json'], { env })).stdout);
  t.is(history.history.filter((h: { action: string }) => h.action === 'retire').length, 1);
  // A CA chain in PEM without --uri: refused, nothing stored.
  const dir = tmp();
  const root = JSON.parse((await import('node:fs')).readFileSync(S('trusted_root.json'), 'utf8'));
  const certs = root.certificateAuthorities[0].certChain.certificates as { rawBytes: string }[];
  const der = certs[certs.length - 1]!.rawBytes;
  writeFileSync(
    join(dir, 'ca.pem'),
    `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`,
  );
  const env2 = { STELLA_TRUST_STORE: join(dir, 'trust.db') };
  t.is((await runCli(['trust', 'init'], { env: env2 })).code, 0);
  const noUri = await runCli(['trust', 'import', join(dir, 'ca.pem')], { env: env2 });
  t.is(noUri.code, 56, noUri.stderr);
  t.regex(noUri.stderr, /needs --uri/);
  const list = JSON.parse((await runCli(['trust', 'list', '--json'], { env: env2 })).stdout);
  t.is(list.entries.length, 0);
});

test("a hostile bundle cannot drive the terminal: inspect's lines and verify's error show its escape sequences, carriage return, bidi control and newline escaped; --json keeps the value", async (t) => {
  const dir = tmp();
  const bundle = JSON.parse(readFileSync(S('attestation.sigstore.json'), 'utf8')) as {
    dsseEnvelope: { payloadType: string };
  };
  // Clear the screen, set the window title, ring, return to the line's start, reverse the
  // text, then a line of its own that reads like the certificate's issuer.
  const hostile =
    'application/x\u001b[2J\u001b]0;owned\u0007\r\u202eevil\nCertificate Issuer: https://evil';
  bundle.dsseEnvelope.payloadType = hostile;
  const file = join(dir, 'hostile.sigstore.json');
  writeFileSync(file, JSON.stringify(bundle));
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
  const shown = String.raw`application/x\u001b[2J\u001b]0;owned\u0007\r\u202eevil\nCertificate Issuer: https://evil`;

  const inspect = await runCli(['attest', 'inspect', '--bundle', file], OFFLINE);
  t.is(inspect.code, 0, inspect.stderr);
  t.false(raw.test(inspect.stdout), 'nothing a terminal acts on reaches stdout');
  t.true(
    inspect.stdout.split('\n').includes(`DSSE payload type: ${shown.replace('\\r', '\\u000d')}`),
    inspect.stdout,
  );
  t.false(
    inspect.stdout.split('\n').some((l) => l.startsWith('Certificate Issuer: https://evil')),
    'the value cannot start a line of its own',
  );

  const verify = await runCli(
    [
      'attest',
      'verify',
      '--bundle',
      file,
      S('artifact.txt'),
      '--trusted-root',
      S('trusted_root.json'),
      '--certificate-identity',
      'https://gitlab.com/stella-samples/demo//.gitlab-ci.yml@refs/heads/main',
      '--certificate-oidc-issuer',
      'https://oidc.stella.invalid',
    ],
    OFFLINE,
  );
  t.is(verify.code, 42, verify.stderr); // DSSE_INVALID
  t.false(raw.test(verify.stderr), 'nothing a terminal acts on reaches stderr');
  t.is(
    verify.stderr,
    `error: signature: DSSE payload type "${shown}" is not application/vnd.in-toto+json\n`,
  );

  // Machines get the value itself: the JSON text escapes it, and it parses back the same.
  const json = await runCli(['attest', 'inspect', '--bundle', file, '--json'], OFFLINE);
  t.is(json.code, 0, json.stderr);
  t.false(raw.test(json.stdout));
  const parsed = JSON.parse(json.stdout) as { bundles: { dsse: { payloadType: string } }[] };
  t.is(parsed.bundles[0]!.dsse.payloadType, hostile);
});
