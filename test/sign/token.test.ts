import test from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  assertTokenUsable,
  BUILDKITE_AGENT_ENDPOINT,
  COSIGN_TOKEN_FILE,
  decodeTokenClaims,
  identityTokenPath,
  resolveIdentityToken,
} from '../../src/sign/token.js';
import { StellaError } from '../../src/errors.js';
import { closedPort, serve } from '../helpers/loopback.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (claims: Record<string, unknown>) =>
  `${b64url({ alg: 'ES256', typ: 'JWT' })}.${b64url(claims)}.${Buffer.from('sig').toString('base64url')}`;
const NOW = 1_700_000_000;
const good = {
  iss: 'https://issuer.example',
  sub: 'repo:org/repo:ref:refs/heads/main',
  aud: 'sigstore',
  iat: NOW,
  exp: NOW + 300,
};

function code(
  t: import('ava').ExecutionContext,
  p: Promise<unknown> | (() => unknown),
): Promise<string> | string {
  if (typeof p === 'function') {
    const e = t.throws(p) as StellaError;
    return e.code;
  }
  return t.throwsAsync(p, { instanceOf: StellaError }).then((e) => e.code);
}

test('--identity-token wins over the environment', async (t) => {
  const r = await resolveIdentityToken({
    explicit: jwt(good),
    env: { STELLAOPS_OIDC_TOKEN: jwt({ ...good, sub: 'other' }) },
    now: NOW,
  });
  t.is(r.source, 'flag');
  t.is(r.claims.sub, good.sub);
  t.deepEqual(r.claims.aud, ['sigstore']);
});

test('--identity-token names a file holding the token, as in cosign; the value is never echoed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-token-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'oidc-token');
  writeFileSync(file, jwt(good) + '\n');
  const r = await resolveIdentityToken({ explicit: file, now: NOW });
  t.is(r.source, 'file');
  t.is(r.claims.sub, good.sub);
  t.is(r.token, jwt(good));

  // An empty value is no token and no file: said as missing.
  for (const empty of ['', '  '])
    await t.throwsAsync(resolveIdentityToken({ explicit: empty, now: NOW }), {
      instanceOf: StellaError,
      code: 'OIDC_TOKEN_MISSING',
      message: '--identity-token is empty',
    });
  // Not a token, and no such file: one message covering both readings, without the value.
  const missing = join(dir, 'no-such-token');
  const e1 = await t.throwsAsync(resolveIdentityToken({ explicit: missing, now: NOW }), {
    instanceOf: StellaError,
  });
  t.is(e1.code, 'OIDC_TOKEN_INVALID');
  t.regex(
    e1.message,
    /^--identity-token is neither a JWT nor the path of a file that exists \(read as a token: identity token is not a JWT/,
  );
  t.false(e1.message.includes('no-such-token'));
  // A broken token (its payload cut short) says why it is not one.
  const cut = jwt(good).slice(0, 40) + '.c2ln';
  const e2 = await t.throwsAsync(resolveIdentityToken({ explicit: cut, now: NOW }), {
    instanceOf: StellaError,
  });
  t.is(e2.code, 'OIDC_TOKEN_INVALID');
  t.regex(e2.message, /neither a JWT nor .* payload/);
  t.false(e2.message.includes(cut.slice(0, 20)));

  // The file's content is read as a token, strictly; an empty file is no token.
  writeFileSync(file, 'not a token\n');
  const e3 = await t.throwsAsync(resolveIdentityToken({ explicit: file, now: NOW }), {
    instanceOf: StellaError,
  });
  t.is(e3.code, 'OIDC_TOKEN_INVALID');
  t.regex(e3.message, /^--identity-token file ".*oidc-token": identity token is not a JWT/);
  writeFileSync(file, ' \n');
  const e4 = await t.throwsAsync(resolveIdentityToken({ explicit: file, now: NOW }), {
    instanceOf: StellaError,
  });
  t.is(e4.code, 'OIDC_TOKEN_MISSING');
  t.regex(e4.message, /^--identity-token file ".*oidc-token" is empty$/);
  // A folder, or a file past 64 KiB, is refused by name before anything is parsed.
  const e5 = await t.throwsAsync(resolveIdentityToken({ explicit: dir, now: NOW }), {
    instanceOf: StellaError,
  });
  t.is(e5.code, 'INPUT_INVALID');
  t.regex(e5.message, /^--identity-token file ".*": a directory, not a regular file$/);
  writeFileSync(file, jwt({ ...good, pad: 'x'.repeat(70_000) }));
  const e6 = await t.throwsAsync(resolveIdentityToken({ explicit: file, now: NOW }), {
    instanceOf: StellaError,
  });
  t.is(e6.code, 'INPUT_INVALID');
  t.regex(e6.message, /larger than the 65536-byte limit/);
});

test('identityTokenPath: the value when it is read as a file, never a token itself', (t) => {
  t.is(identityTokenPath(jwt(good)), undefined);
  t.is(identityTokenPath(` ${jwt(good)}\n`), undefined);
  t.is(identityTokenPath(undefined), undefined);
  t.is(identityTokenPath('  '), undefined);
  t.is(identityTokenPath('/run/secrets/oidc-token'), '/run/secrets/oidc-token');
});

test('STELLAOPS_OIDC_TOKEN, then GitLab SIGSTORE_ID_TOKEN', async (t) => {
  t.is(
    (
      await resolveIdentityToken({
        env: { STELLAOPS_OIDC_TOKEN: jwt(good), SIGSTORE_ID_TOKEN: jwt(good) },
        now: NOW,
      })
    ).source,
    'env',
  );
  t.is(
    (
      await resolveIdentityToken({
        env: { SIGSTORE_ID_TOKEN: jwt(good), GITLAB_CI: 'true' },
        now: NOW,
      })
    ).source,
    'gitlab-ci',
  );
});

test('SIGSTORE_ID_TOKEN outside GitLab CI is read as cosign reads it, and said to come from the environment', async (t) => {
  const r = await resolveIdentityToken({ env: { SIGSTORE_ID_TOKEN: jwt(good) }, now: NOW });
  t.is(r.source, 'env');
  t.is(r.claims.sub, good.sub);
});

test("cosign's token file (its filesystem provider): read when it exists, after the environment; refused by name when it holds no token", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-cosign-token-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.is(COSIGN_TOKEN_FILE, '/var/run/sigstore/cosign/oidc-token', "cosign's FilesystemTokenPath");
  const file = join(dir, 'oidc-token');
  const absent = await t.throwsAsync(
    resolveIdentityToken({ env: {}, now: NOW, cosignTokenFile: file }),
    { instanceOf: StellaError },
  );
  t.is(absent.code, 'OIDC_TOKEN_MISSING');
  t.regex(absent.message, /mount one at \/var\/run\/sigstore\/cosign\/oidc-token/);
  writeFileSync(file, `${jwt(good)}\n`);
  const r = await resolveIdentityToken({ env: {}, now: NOW, cosignTokenFile: file });
  t.is(r.source, 'cosign-token-file');
  t.is(r.token, jwt(good));
  // The environment comes first, and an explicit token before everything.
  t.is(
    (
      await resolveIdentityToken({
        env: { SIGSTORE_ID_TOKEN: jwt(good) },
        now: NOW,
        cosignTokenFile: file,
      })
    ).source,
    'env',
  );
  t.is(
    (await resolveIdentityToken({ explicit: jwt(good), env: {}, now: NOW, cosignTokenFile: file }))
      .source,
    'flag',
  );
  // Not read with ambient tokens off (oidc.useAmbientToken: false).
  const off = await t.throwsAsync(
    resolveIdentityToken({ env: {}, now: NOW, cosignTokenFile: file, useAmbient: false }),
    { instanceOf: StellaError },
  );
  t.is(off.code, 'OIDC_TOKEN_MISSING');
  writeFileSync(file, 'not a token');
  const bad = await t.throwsAsync(
    resolveIdentityToken({ env: {}, now: NOW, cosignTokenFile: file }),
    { instanceOf: StellaError },
  );
  t.is(bad.code, 'OIDC_TOKEN_INVALID');
  t.regex(bad.message, /^cosign's token file ".*oidc-token": identity token is not a JWT/);
  // An expired token from the file is refused like any other, before any request.
  writeFileSync(file, jwt({ ...good, exp: NOW - 1 }));
  const expired = await t.throwsAsync(
    resolveIdentityToken({ env: {}, now: NOW, cosignTokenFile: file }),
    { instanceOf: StellaError },
  );
  t.is(expired.code, 'OIDC_TOKEN_EXPIRED');
});

test('an expired token is refused before any request ("OIDC token expired")', async (t) => {
  let requests = 0;
  const fetchImpl = (async () => {
    requests++;
    throw new Error('must not be called');
  }) as unknown as typeof fetch;
  const err = await t.throwsAsync(
    resolveIdentityToken({ explicit: jwt({ ...good, exp: NOW - 1 }), now: NOW, fetchImpl }),
    { instanceOf: StellaError },
  );
  t.is(err.code, 'OIDC_TOKEN_EXPIRED');
  t.regex(err.message, /OIDC token expired/);
  t.is(requests, 0);
  t.is(
    code(t, () => assertTokenUsable(decodeTokenClaims(jwt({ ...good, exp: NOW })), NOW)),
    'OIDC_TOKEN_EXPIRED',
  );
});

test('malformed tokens are OIDC_TOKEN_INVALID naming what is wrong', (t) => {
  for (const [tok, re] of [
    ['abc', /not a JWT/],
    ['a.b', /not a JWT/],
    [`.${b64url(good)}.c2ln`, /not a JWT \(expected three dot-separated parts\)/],
    [`${b64url({ alg: 'ES256' })}..c2ln`, /not a JWT \(expected three dot-separated parts\)/],
    [
      `${b64url({ alg: 'ES256' })}.${Buffer.from('{"iss":"a","iss":"b"}').toString('base64url')}.c2ln`,
      /duplicate key/i,
    ],
    [`x.${Buffer.from('[1]').toString('base64url')}.y`, /not a JSON object/],
    [jwt({ ...good, iss: undefined }), /"iss"/],
    [jwt({ ...good, sub: '' }), /"sub"/],
    [jwt({ ...good, exp: 'soon' }), /"exp"/],
    [jwt({ ...good, aud: 5 }), /"aud"/],
    ['a.!!!.c', /base64url/],
    // alg "none": three parts, the last one empty. No issuer Fulcio trusts signs such a token.
    [`${b64url({ alg: 'none' })}.${b64url(good)}.`, /the signature is empty/],
  ] as const) {
    const e = t.throws(() => decodeTokenClaims(tok)) as StellaError;
    t.is(e.code, 'OIDC_TOKEN_INVALID', tok);
    t.regex(e.message, re);
  }
});

test("exp, nbf and iat are NumericDates in Stella's time range: an odd one is refused naming the claim, never a crash (checklist H50)", async (t) => {
  for (const [claim, value] of [
    ['exp', 1e20],
    ['exp', -1e300],
    ['exp', 253402300800],
    ['exp', -1],
    ['nbf', 'tomorrow'],
    ['nbf', 1e300],
    ['iat', -5],
    ['iat', [NOW]],
    ['iat', null],
  ] as const) {
    const e = (await t.throwsAsync(
      resolveIdentityToken({ explicit: jwt({ ...good, [claim]: value }), now: NOW }),
    )) as StellaError;
    t.true(e instanceof StellaError, `${claim}=${JSON.stringify(value)}: ${String(e)}`);
    t.is(e.code, 'OIDC_TOKEN_INVALID', `${claim}=${JSON.stringify(value)}: ${e.message}`);
    t.regex(e.message, new RegExp(`^identity token "${claim}" claim: .* is not a time in range`));
  }
  // RFC 7519 lets a NumericDate carry a fraction.
  t.is(
    (
      await resolveIdentityToken({
        explicit: jwt({ ...good, exp: NOW + 0.5, nbf: NOW - 0.25 }),
        now: NOW,
      })
    ).claims.exp,
    NOW + 0.5,
  );
  const expired = (await t.throwsAsync(
    resolveIdentityToken({ explicit: jwt({ ...good, exp: 0 }), now: NOW }),
  )) as StellaError;
  t.is(expired.code, 'OIDC_TOKEN_EXPIRED');
  t.regex(expired.message, /expired at 1970-01-01T00:00:00\.000Z/);
});

test('no token anywhere: OIDC_TOKEN_MISSING with platform hints', async (t) => {
  let e = (await t.throwsAsync(resolveIdentityToken({ env: {}, now: NOW }))) as StellaError;
  t.is(e.code, 'OIDC_TOKEN_MISSING');
  e = (await t.throwsAsync(
    resolveIdentityToken({ env: { GITHUB_ACTIONS: 'true' }, now: NOW }),
  )) as StellaError;
  t.regex(e.message, /id-token: write/);
  e = (await t.throwsAsync(
    resolveIdentityToken({ env: { GITLAB_CI: 'true' }, now: NOW }),
  )) as StellaError;
  t.regex(e.message, /SIGSTORE_ID_TOKEN/);
  // useAmbientToken: false ignores CI credentials.
  e = (await t.throwsAsync(
    resolveIdentityToken({ env: { SIGSTORE_ID_TOKEN: jwt(good) }, useAmbient: false, now: NOW }),
  )) as StellaError;
  t.is(e.code, 'OIDC_TOKEN_MISSING');
});

test('GitHub and Gitea Actions: token requested from ACTIONS_ID_TOKEN_REQUEST_URL with the audience and bearer', async (t) => {
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    if (req.headers.authorization !== 'bearer request-secret') {
      res.writeHead(401).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ value: jwt(good) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
  const r = await resolveIdentityToken({
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: base, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-secret' },
    audience: 'sigstore',
    now: NOW,
  });
  t.is(r.source, 'github-actions');
  t.is(r.claims.sub, good.sub);
  t.is(seen[0]!.url, '/token?api-version=2.0&audience=sigstore');
  t.is(seen[0]!.auth, 'bearer request-secret');
  const g = await resolveIdentityToken({
    env: {
      GITEA_ACTIONS: 'true',
      ACTIONS_ID_TOKEN_REQUEST_URL: base,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-secret',
    },
    now: NOW,
  });
  t.is(g.source, 'gitea-actions');
  const e = (await t.throwsAsync(
    resolveIdentityToken({
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: base, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' },
      now: NOW,
    }),
  )) as StellaError;
  t.is(e.code, 'OIDC_TOKEN_MISSING');
  t.regex(e.message, /HTTP 401/);
  // A request URL that does not parse: said as such, before any request.
  for (const requestUrl of ['not a url', '/token?api-version=2.0'])
    t.like(
      await t.throwsAsync(
        resolveIdentityToken({
          env: {
            ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl,
            ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-secret',
          },
          now: NOW,
        }),
        { instanceOf: StellaError },
      ),
      { code: 'OIDC_TOKEN_MISSING', message: 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL' },
      requestUrl,
    );
  t.is(seen.length, 3, 'the three requests above, and none for the URLs that do not parse');
});

test('"aud" is a string or a list of strings, nothing else', (t) => {
  t.deepEqual(decodeTokenClaims(jwt({ ...good, aud: ['sigstore', 'other'] })).aud, [
    'sigstore',
    'other',
  ]);
  t.deepEqual(decodeTokenClaims(jwt({ ...good, aud: 'sigstore' })).aud, ['sigstore']);
  for (const aud of [[1], ['sigstore', 2], [null], {}]) {
    const e = t.throws(() => decodeTokenClaims(jwt({ ...good, aud })), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'OIDC_TOKEN_INVALID');
    t.regex(e.message, /"aud"/, JSON.stringify(aud));
  }
});

test('the Actions token service\'s answer is read within 64 KiB as strict JSON with a string "value"', async (t) => {
  let answer = '';
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const env = {
    ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/t?a=1`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x',
  };
  const refused = async (body: string, why: RegExp): Promise<void> => {
    answer = body;
    const e = await t.throwsAsync(resolveIdentityToken({ env, now: NOW }), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'OIDC_TOKEN_INVALID', e.message);
    t.regex(e.message, why);
  };
  await refused(
    JSON.stringify({ value: jwt(good), pad: 'x'.repeat(64 * 1024) }),
    /github-actions: the OIDC token response is larger than its 65536-byte limit/,
  );
  await refused(`{"value":${JSON.stringify(jwt(good))},"value":"x"}`, /duplicate key/i);
  await refused('<html>', /malformed JSON in github-actions: the OIDC token response/);
  await refused('{}', /OIDC token response has no "value"/);
  await refused('{"value":7}', /OIDC token response has no "value"/);
  answer = JSON.stringify({ value: jwt(good), count: 1 });
  t.is((await resolveIdentityToken({ env, now: NOW })).claims.sub, good.sub);
});

test('nbf: a token valid from up to 60 seconds ahead is accepted (clock skew), one a second later is refused', async (t) => {
  const at = (nbf: number) =>
    resolveIdentityToken({ explicit: jwt({ ...good, nbf }), env: {}, now: NOW });
  t.is((await at(NOW + 60)).claims.nbf, NOW + 60);
  const e = await t.throwsAsync(at(NOW + 61), { instanceOf: StellaError });
  t.regex(e.message, /^OIDC token is not valid before /);
});

test('an Actions token endpoint that cannot be reached is OIDC_TOKEN_MISSING naming the platform, keeping the cause', async (t) => {
  const url = await closedPort();
  const e = await t.throwsAsync(
    resolveIdentityToken({
      env: {
        ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/token?x=1`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'bearer-secret',
      },
      now: NOW,
      timeoutMs: 5_000,
    }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'OIDC_TOKEN_MISSING');
  t.regex(e.message, /^github-actions: OIDC token request failed: /);
  t.false(e.message.includes('bearer-secret'));
  t.truthy(e.cause);
});

test("Buildkite: the job's token asked of the agent API as cosign asks it (POST jobs/ID/oidc/tokens, Token auth, the audience); a missing job, a refusal and an answer without a token are said, never the agent's token", async (t) => {
  const job = '0190d6a4-7c1e-4b8e-9d1a-5f3c2b1a0e9d';
  const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
  let answer: (res: import('node:http').ServerResponse) => void = (res) =>
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: jwt(good) }));
  const base = await serve(t, (req, res, body) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers.authorization,
      body: body.toString('utf8'),
    });
    answer(res);
  });
  const env = {
    BUILDKITE_AGENT_ACCESS_TOKEN: 'agent-secret',
    BUILDKITE_AGENT_ENDPOINT: `${base}/v3/`,
    BUILDKITE_JOB_ID: job,
  };
  const r = await resolveIdentityToken({ env, audience: 'sigstore', now: NOW });
  t.is(r.source, 'buildkite');
  t.is(r.token, jwt(good));
  t.deepEqual(seen[0], {
    method: 'POST',
    url: `/v3/jobs/${job}/oidc/tokens`,
    auth: 'Token agent-secret',
    body: '{"audience":"sigstore"}',
  });
  // The environment's token comes first, as with every ambient source.
  t.is(
    (await resolveIdentityToken({ env: { ...env, SIGSTORE_ID_TOKEN: jwt(good) }, now: NOW }))
      .source,
    'env',
  );
  t.is(seen.length, 1);
  t.is(
    BUILDKITE_AGENT_ENDPOINT,
    'https://agent.buildkite.com/v3',
    'the agent API cosign asks by default',
  );

  const noJob = await t.throwsAsync(
    resolveIdentityToken({ env: { ...env, BUILDKITE_JOB_ID: '' }, now: NOW }),
    { instanceOf: StellaError },
  );
  t.is(noJob.code, 'OIDC_TOKEN_MISSING');
  t.regex(noJob.message, /BUILDKITE_JOB_ID is not/);
  answer = (res) => res.writeHead(401).end('{"message":"bad token"}');
  const refused = await t.throwsAsync(resolveIdentityToken({ env, now: NOW }), {
    instanceOf: StellaError,
  });
  t.is(refused.code, 'OIDC_TOKEN_MISSING');
  t.is(refused.message, 'buildkite: OIDC token request returned HTTP 401');
  answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"value":"x"}');
  const noToken = await t.throwsAsync(resolveIdentityToken({ env, now: NOW }), {
    instanceOf: StellaError,
  });
  t.is(noToken.code, 'OIDC_TOKEN_INVALID');
  t.is(noToken.message, 'buildkite: OIDC token response has no "token"');
  for (const e of [noJob, refused, noToken]) t.false(e.message.includes('agent-secret'));
});
