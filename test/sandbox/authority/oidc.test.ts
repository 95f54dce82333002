import test from 'ava';
import { StellaError } from '../../../src/errors.js';
import { deriveAuthorityKey, seedFromString } from '../../../src/sandbox/authority/keys.js';
import {
  OidcIssuer,
  jwkThumbprint,
  verifyToken,
  type MintTokenOptions,
} from '../../../src/sandbox/authority/oidc.js';
import { toBase64Url, utf8 } from '../../../src/util/encoding.js';
import { NOW, makeAuthority } from './helpers.js';

const issuer = makeAuthority().oidc;

function expectError(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  code: string,
  message: RegExp,
): void {
  const err = t.throws(fn, { instanceOf: StellaError });
  t.is(err?.code, code as never);
  t.regex(err.message, message);
}

test('GitHub token: real claim set and sub format; verifies', (t) => {
  const jwt = issuer.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  const c = issuer.verifyToken(jwt, { audience: 'sigstore', now: NOW });
  t.is(c.iss, 'https://oidc.test.invalid');
  t.is(c.sub, 'repo:org/repo:ref:refs/heads/main');
  t.is(c.aud, 'sigstore');
  t.is(c.exp - c.iat, 300);
  t.is(c['repository'], 'org/repo');
  t.is(c['repository_owner'], 'org');
  t.is(c['ref'], 'refs/heads/main');
  t.is(c['ref_type'], 'branch');
  t.is(c['job_workflow_ref'], 'org/repo/.github/workflows/release.yml@refs/heads/main');
  t.is(c['runner_environment'], 'github-hosted');
  for (const k of ['sha', 'workflow', 'run_id', 'run_attempt', 'event_name', 'jti'])
    t.truthy(c[k], k);
  const header = JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString());
  t.deepEqual(header, { alg: 'ES256', kid: issuer.kid, typ: 'JWT' });
});

test('GitHub environment and tag subjects', (t) => {
  const env = issuer.verifyToken(
    issuer.mintToken({ platform: 'github', repo: 'org/repo', environment: 'production', now: NOW }),
    { audience: 'sigstore', now: NOW },
  );
  t.is(env.sub, 'repo:org/repo:environment:production');
  t.is(env['environment'], 'production');
  const tag = issuer.verifyToken(
    issuer.mintToken({ platform: 'github', repo: 'org/repo', ref: 'refs/tags/v1.2.0', now: NOW }),
    { audience: 'sigstore', now: NOW },
  );
  t.is(tag.sub, 'repo:org/repo:ref:refs/tags/v1.2.0');
  t.is(tag['ref_type'], 'tag');
});

test('GitLab token: project_path sub and ci_config_ref_uri', (t) => {
  const c = issuer.verifyToken(
    issuer.mintToken({ platform: 'gitlab', repo: 'group/sub/project', ref: 'main', now: NOW }),
    { audience: 'sigstore', now: NOW },
  );
  t.is(c.sub, 'project_path:group/sub/project:ref_type:branch:ref:main');
  t.is(c['project_path'], 'group/sub/project');
  t.is(c['namespace_path'], 'group/sub');
  t.is(c['ref'], 'main');
  t.is(c['ref_protected'], 'true');
  t.is(c['ci_config_ref_uri'], 'gitlab.com/group/sub/project//.gitlab-ci.yml@refs/heads/main');
  t.is(c['pipeline_source'], 'push');
});

test('Gitea token: OWNER/REPO:ref:REF sub', (t) => {
  const c = issuer.verifyToken(
    issuer.mintToken({
      platform: 'gitea',
      repo: 'org/repo',
      now: NOW,
      serverUrl: 'https://git.example.org',
    }),
    { audience: 'sigstore', now: NOW },
  );
  t.is(c.sub, 'org/repo:ref:refs/heads/main');
  t.is(c['repository'], 'org/repo');
  t.is(c['server_url'], 'https://git.example.org');
});

test('a pull request token names its head and base refs; a branch token names neither', (t) => {
  const claims = (ref: string) =>
    issuer.verifyToken(issuer.mintToken({ platform: 'github', repo: 'org/repo', ref, now: NOW }), {
      audience: 'sigstore',
      now: NOW,
    });
  const pull = claims('refs/pull/7/merge');
  t.like(pull, { head_ref: 'feature', base_ref: 'main', ref_type: '' });
  const branch = claims('refs/heads/main');
  t.like(branch, { head_ref: '', base_ref: '', ref_type: 'branch' });
});

test("a GitHub token for a pull request event without a ref gets the pull request's merge ref; a push, or GitLab's merge request event, the main branch; a pull request ref named on GitLab or Gitea is refused", (t) => {
  const claims = (o: Partial<MintTokenOptions>) =>
    issuer.verifyToken(issuer.mintToken({ platform: 'github', repo: 'org/repo', now: NOW, ...o }), {
      audience: 'sigstore',
      now: NOW,
    });
  for (const event of ['pull_request', 'pull_request_target'])
    t.like(
      claims({ event }),
      { ref: 'refs/pull/1/merge', event_name: event, head_ref: 'feature' },
      event,
    );
  t.like(claims({}), { ref: 'refs/heads/main', event_name: 'push' });
  t.like(claims({ event: 'workflow_dispatch' }), { ref: 'refs/heads/main' });
  // Pull request refs are GitHub's: a GitLab merge request run defaults to the branch (GitLab's
  // `ref` claim is the short name).
  for (const event of ['merge_request_event', 'pull_request'])
    t.like(claims({ platform: 'gitlab', event }), { ref: 'main', ref_type: 'branch' }, event);
  // Asked for by name on another platform, a pull request ref is refused.
  for (const platform of ['gitlab', 'gitea'] as const)
    expectError(
      t,
      () => issuer.mintToken({ platform, repo: 'org/repo', ref: 'refs/pull/7/merge', now: NOW }),
      'INPUT_INVALID',
      /^token ref "refs\/pull\/7\/merge": pull request refs are GitHub's \(--platform github --event pull_request\)$/,
    );
});

test('a token repo must be OWNER/NAME: without a slash, with an empty half, or with spaces it is refused', (t) => {
  for (const repo of ['repo', '/repo', 'org/', 'org/my repo'])
    expectError(
      t,
      () => issuer.mintToken({ platform: 'github', repo, now: NOW }),
      'INPUT_INVALID',
      new RegExp(`^token repo "${repo}": expected OWNER/NAME$`),
    );
  t.notThrows(() => issuer.mintToken({ platform: 'gitlab', repo: 'group/sub/project', now: NOW }));
});

test('a token whose sub is empty or not a string is refused, though its signature verifies', (t) => {
  for (const sub of ['', 5, null])
    expectError(
      t,
      () =>
        issuer.verifyToken(
          issuer.mintToken({
            platform: 'github',
            repo: 'org/repo',
            now: NOW,
            extraClaims: { sub },
          }),
          { audience: 'sigstore', now: NOW },
        ),
      'OIDC_TOKEN_INVALID',
      /"sub" claim missing/,
    );
});

test('a token without an "iss" claim, or with one that is not a string, is refused as such, not as an untrusted issuer', (t) => {
  // The issuer is read before any signature is checked (it picks the key), so the token's
  // own claims are enough; the issuer's signer always writes its own iss.
  const claims = JSON.parse(
    Buffer.from(
      issuer.mintToken({ platform: 'github', repo: 'org/repo', now: NOW }).split('.')[1]!,
      'base64url',
    ).toString('utf8'),
  ) as Record<string, unknown>;
  const part = (o: unknown) => toBase64Url(utf8.encode(JSON.stringify(o)));
  for (const iss of [undefined, 5, null, ['https://oidc.test.invalid']]) {
    const jwt = [
      part({ alg: 'ES256', kid: issuer.kid, typ: 'JWT' }),
      part({ ...claims, iss }),
      toBase64Url(new Uint8Array(64)),
    ].join('.');
    expectError(
      t,
      () => issuer.verifyToken(jwt, { audience: 'sigstore', now: NOW }),
      'OIDC_TOKEN_INVALID',
      /^OIDC token invalid: "iss" claim missing$/,
    );
  }
});

test('minting is deterministic for the same key, options and clock', (t) => {
  const o: MintTokenOptions = { platform: 'github', repo: 'org/repo', now: NOW };
  t.is(issuer.mintToken(o), issuer.mintToken(o));
  t.not(issuer.mintToken(o), issuer.mintToken({ ...o, now: NOW + 1000 }));
});

test('expired token: OIDC_TOKEN_EXPIRED "OIDC token expired"', (t) => {
  const jwt = issuer.mintToken({ platform: 'github', repo: 'org/repo', now: NOW, expiresIn: 60 });
  t.notThrows(() => issuer.verifyToken(jwt, { audience: 'sigstore', now: NOW + 60_000 }));
  expectError(
    t,
    () => issuer.verifyToken(jwt, { audience: 'sigstore', now: NOW + 61_000 }),
    'OIDC_TOKEN_EXPIRED',
    /^OIDC token expired$/,
  );
});

test('not yet valid and issued in the future are refused', (t) => {
  const jwt = issuer.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  expectError(
    t,
    () => issuer.verifyToken(jwt, { audience: 'sigstore', now: NOW - 5000 }),
    'OIDC_TOKEN_INVALID',
    /not valid yet/,
  );
});

test("exp, nbf and iat outside Stella's time range are refused naming the claim (checklist H50)", (t) => {
  const claims = JSON.parse(
    Buffer.from(
      issuer.mintToken({ platform: 'github', repo: 'org/repo', now: NOW }).split('.')[1]!,
      'base64url',
    ).toString(),
  ) as Record<string, unknown>;
  for (const [claim, value] of [
    ['exp', 1e20],
    ['exp', 253402300800],
    ['nbf', -1],
    ['iat', 1e300],
    ['iat', -0.5],
  ] as const) {
    expectError(
      t,
      () =>
        issuer.verifyToken(issuer.sign({ ...claims, [claim]: value }), {
          audience: 'sigstore',
          now: NOW,
        }),
      'OIDC_TOKEN_INVALID',
      new RegExp(`^OIDC token invalid: "${claim}" claim: .* is not a time in range`),
    );
  }
  t.notThrows(
    () =>
      issuer.verifyToken(issuer.sign({ ...claims, exp: (claims.exp as number) + 0.5 }), {
        audience: 'sigstore',
        now: NOW,
      }),
    'a NumericDate may carry a fraction',
  );
});

test('wrong audience is refused', (t) => {
  const jwt = issuer.mintToken({
    platform: 'github',
    repo: 'org/repo',
    now: NOW,
    audience: 'other',
  });
  expectError(
    t,
    () => issuer.verifyToken(jwt, { audience: 'sigstore', now: NOW }),
    'OIDC_TOKEN_INVALID',
    /wrong audience/,
  );
});

test('a token signed by another key under the same issuer URL is refused (bad signature)', (t) => {
  const impostor = new OidcIssuer({
    issuerUrl: issuer.issuerUrl,
    key: deriveAuthorityKey(seedFromString('impostor seed'), 'oidc'),
  });
  const jwt = impostor.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  // Same kid as the real key, so the signature itself must be what fails.
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const header = Buffer.from(
    JSON.stringify({ alg: 'ES256', kid: issuer.kid, typ: 'JWT' }),
  ).toString('base64url');
  expectError(
    t,
    () => issuer.verifyToken(`${header}.${p}.${s}`, { audience: 'sigstore', now: NOW }),
    'OIDC_TOKEN_INVALID',
    /bad signature/,
  );
  expectError(
    t,
    () => issuer.verifyToken(`${h}.${p}.${s}`, { audience: 'sigstore', now: NOW }),
    'OIDC_TOKEN_INVALID',
    /no key/,
  );
});

test('tampered payload, untrusted issuer, wrong alg and junk are refused', (t) => {
  const jwt = issuer.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forged = Buffer.from(
    JSON.stringify({ ...claims, sub: 'repo:evil/repo:ref:refs/heads/main' }),
  ).toString('base64url');
  expectError(
    t,
    () => issuer.verifyToken(`${h}.${forged}.${s}`, { audience: 'sigstore', now: NOW }),
    'OIDC_TOKEN_INVALID',
    /bad signature/,
  );

  const other = new OidcIssuer({
    issuerUrl: 'https://elsewhere.invalid',
    key: deriveAuthorityKey(seedFromString('impostor seed'), 'oidc'),
  });
  const foreign = other.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  expectError(
    t,
    () => issuer.verifyToken(foreign, { audience: 'sigstore', now: NOW }),
    'OIDC_TOKEN_INVALID',
    /untrusted issuer/,
  );
  t.is(
    verifyToken(foreign, { audience: 'sigstore', now: NOW, issuers: [other.trusted()] }).iss,
    'https://elsewhere.invalid',
  );

  const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
  expectError(
    t,
    () => issuer.verifyToken(`${none}.${p}.`, { audience: 'sigstore', now: NOW }),
    'OIDC_TOKEN_INVALID',
    /unsupported alg/,
  );
  expectError(
    t,
    () => issuer.verifyToken('not-a-jwt', { audience: 'sigstore', now: NOW }),
    'OIDC_TOKEN_INVALID',
    /three/,
  );
  expectError(
    t,
    () => issuer.verifyToken(`${h}.!!!.${s}`, { audience: 'sigstore', now: NOW }),
    'OIDC_TOKEN_INVALID',
    /payload/,
  );
});

test('JWKS and discovery documents', (t) => {
  const jwks = issuer.jwks();
  t.is(jwks.keys.length, 1);
  const k = jwks.keys[0]!;
  t.like(k, { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: issuer.kid });
  t.is(jwkThumbprint(k), issuer.kid);
  const d = issuer.discovery();
  t.is(d['issuer'], issuer.issuerUrl);
  t.is(d['jwks_uri'], `${issuer.issuerUrl}/.well-known/jwks`);
  t.deepEqual(d['id_token_signing_alg_values_supported'], ['ES256']);
});

test('the issuer URL must be an http(s) URL; a trailing slash is dropped', (t) => {
  const key = deriveAuthorityKey(seedFromString('issuer url'), 'oidc');
  for (const issuerUrl of ['ftp://127.0.0.1/', 'file:///tmp/issuer', 'not a url', ''])
    t.throws(() => new OidcIssuer({ issuerUrl, key }), {
      instanceOf: StellaError,
      message: `OIDC issuer URL "${issuerUrl}" must be an http(s) URL`,
    });
  t.is(new OidcIssuer({ issuerUrl: 'http://127.0.0.1:1/', key }).issuerUrl, 'http://127.0.0.1:1');
  t.is(
    new OidcIssuer({ issuerUrl: 'https://issuer.example', key }).issuerUrl,
    'https://issuer.example',
  );
});
