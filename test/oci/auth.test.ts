/**
 * Registry auth against the real registry: htpasswd (Basic, bcrypt) and token auth (the
 * WWW-Authenticate Bearer flow, with a token service the test runs); credentials from
 * options, the environment and the Docker config file; refusals are REGISTRY_AUTH_FAILED and
 * never show a secret.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverBundles } from '../../src/oci/bundles.js';
import { resolveCredentials, type CredentialOptions } from '../../src/oci/credentials.js';
import { registryOptionsFrom } from '../../src/oci/options.js';
import { parseChallenges } from '../../src/oci/client.js';
import { parseImageReference, type ImageRef } from '../../src/oci/reference.js';
import { StellaError } from '../../src/errors.js';
import { pushTestImage, startFakeRegistry } from '../helpers/oci.js';
import { registryMissingReason, startRegistry } from '../helpers/registry.js';
import { startTokenService } from '../helpers/token-service.js';

const missing = registryMissingReason();
const USER = 'ci-bot';
const PASSWORD = 'S3cret-registry-passw0rd';

/** No credentials anywhere: no explicit ones, and a Docker config that does not exist. */
const ANONYMOUS = { dockerConfigPath: '/nonexistent/config.json' };

/** discoverBundles(image) with `credentials`, refused as REGISTRY_AUTH_FAILED: the error. */
async function authRefused(
  t: import('ava').ExecutionContext,
  image: ImageRef,
  credentials: CredentialOptions,
): Promise<StellaError> {
  const e = await t.throwsAsync(discoverBundles(image, { allowInsecure: true, credentials }), {
    instanceOf: StellaError,
  });
  t.is(e.code, 'REGISTRY_AUTH_FAILED', e.message);
  return e;
}

test('WWW-Authenticate challenges: quoted values with commas and escapes, several schemes', (t) => {
  t.deepEqual(
    parseChallenges(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
    ),
    [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'registry.example',
          scope: 'repository:a/b:pull,push',
        },
      },
    ],
  );
  t.deepEqual(parseChallenges('Basic realm="x \\"y\\"", Bearer realm=plain'), [
    { scheme: 'basic', params: { realm: 'x "y"' } },
    { scheme: 'bearer', params: { realm: 'plain' } },
  ]);
  t.deepEqual(parseChallenges(''), []);
});

test('docker config: auths by host in every spelling, auth or username/password, identity tokens; helpers by name only', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-dockercfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.json');
  writeFileSync(
    path,
    JSON.stringify({
      auths: {
        'https://registry.example:5000/v1/': {
          auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
        },
        'other.example': { username: 'u', password: 'p' },
        'https://index.docker.io/v1/': { identitytoken: 'refresh-token-value' },
      },
    }),
  );
  const c1 = resolveCredentials('registry.example:5000', { dockerConfigPath: path });
  t.like(c1, { kind: 'basic', username: USER, password: PASSWORD });
  t.like(resolveCredentials('other.example', { dockerConfigPath: path }), {
    kind: 'basic',
    username: 'u',
    password: 'p',
  });
  t.like(resolveCredentials('docker.io', { dockerConfigPath: path }), {
    kind: 'identity-token',
    token: 'refresh-token-value',
  });
  t.is(resolveCredentials('unknown.example', { dockerConfigPath: path }), undefined);
  writeFileSync(path, JSON.stringify({ credHelpers: { 'x.example': '../../bin/sh' } }));
  t.is(
    t.throws(() => resolveCredentials('x.example', { dockerConfigPath: path }), {
      instanceOf: StellaError,
    }).code,
    'INPUT_INVALID',
  );
  // Explicit credentials win, and a password is never a flag.
  t.like(
    registryOptionsFrom({}, { STELLA_REGISTRY_USERNAME: 'a', STELLA_REGISTRY_PASSWORD: 'b' })
      .credentials!.explicit,
    { username: 'a', password: 'b' },
  );
  t.is(
    t.throws(() => registryOptionsFrom({ registryUsername: 'a' }, {}), { instanceOf: StellaError })
      .code,
    'INPUT_INVALID',
  );
});

test("a 403 is REGISTRY_AUTH_FAILED saying who was denied what, with the registry's own reason; never a secret", async (t) => {
  const registry = await startFakeRegistry((_req, res) => {
    res.writeHead(403, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }],
      }),
    );
    return true;
  });
  t.teardown(() => registry.close());
  const image = parseImageReference(`${registry.host}/org/app@sha256:${'ab'.repeat(32)}`);
  const anonymous = await authRefused(t, image, ANONYMOUS);
  t.regex(
    anonymous.message,
    new RegExp(
      `^registry auth failed: ${registry.host.replace(/\./g, '\\.')}/org/app denied image manifest sha256:(ab){32} \\(HTTP 403\\) to anonymous access: DENIED: requested access to the resource is denied$`,
    ),
  );
  const withCreds = await authRefused(t, image, {
    explicit: { username: USER, password: PASSWORD, source: 'the test' },
  });
  t.regex(withCreds.message, /\(HTTP 403\) to the credentials from the test/);
  t.false(withCreds.message.includes(PASSWORD));
});

if (missing) {
  // Declared skipped, not passed: the registry binary is absent (npm test's pretest installs it).
  test.skip(`OCI registry auth (real registry) [skipped: ${missing}]`, () => {});
} else {
  const noSecret = (t: import('ava').ExecutionContext, e: unknown) => {
    const text = JSON.stringify(
      e instanceof StellaError ? { m: e.message, d: e.details } : String(e),
    );
    t.false(text.includes(PASSWORD), 'the password is never in an error');
    t.false(
      text.includes(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')),
      'nor its Basic form',
    );
  };

  test('htpasswd (Basic): anonymous refused, wrong password refused, right one works, from options and from a docker config', async (t) => {
    const registry = await startRegistry({ htpasswd: { username: USER, password: PASSWORD } });
    t.teardown(() => registry.close());
    const good = {
      allowInsecure: true,
      credentials: { explicit: { username: USER, password: PASSWORD, source: 'test' } },
    };
    const image = await pushTestImage(registry.host, 'org/private', 'private image', good);

    const anonymous = await authRefused(t, image, ANONYMOUS);
    t.regex(anonymous.message, /needs credentials and none were found/);

    const wrong = await authRefused(t, image, {
      explicit: {
        username: USER,
        password: 'wrong-password',
        source: '--registry-username ci-bot',
      },
    });
    t.regex(
      wrong.message,
      /refused .* with the credentials from --registry-username ci-bot \(HTTP 401\)/,
    );
    t.false(wrong.message.includes('wrong-password'));

    const found = await discoverBundles(image, good);
    t.is(found.bundles.length, 0);

    const dir = mkdtempSync(join(tmpdir(), 'stella-dockercfg-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        auths: { [registry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
      }),
    );
    const viaConfig = await discoverBundles(
      image,
      registryOptionsFrom({ allowInsecureRegistry: true }, { DOCKER_CONFIG: dir }),
    );
    t.is(viaConfig.image, `${registry.host}/org/private@${image.digest}`);
    noSecret(t, wrong);
    noSecret(t, anonymous);
  });

  test('token auth (WWW-Authenticate: Bearer): the token service is asked with the credentials for the scope, push and pull', async (t) => {
    const tokens = await startTokenService(USER, PASSWORD);
    t.teardown(() => tokens.close());
    const registry = await startRegistry({
      token: {
        realm: tokens.realm,
        service: tokens.service,
        issuer: tokens.issuer,
        rootCertPem: tokens.rootCertPem,
      },
    });
    t.teardown(() => registry.close());
    const good = {
      allowInsecure: true,
      credentials: { explicit: { username: USER, password: PASSWORD, source: 'test' } },
    };
    const image = await pushTestImage(registry.host, 'org/tokened', 'token image', good);
    t.true(
      tokens.requests.some((r) => r.authorized && r.scope === 'repository:org/tokened:pull,push'),
      JSON.stringify(tokens.requests),
    );
    const found = await discoverBundles(image, good);
    t.is(found.bundles.length, 0);
    t.true(tokens.requests.some((r) => r.authorized && r.scope === 'repository:org/tokened:pull'));

    const anonymous = await authRefused(t, image, ANONYMOUS);
    t.regex(
      anonymous.message,
      /token service at http:\/\/127\.0\.0\.1:\d+\/token refused an anonymous token/,
    );
    const wrong = await authRefused(t, image, {
      explicit: {
        username: USER,
        password: 'nope-nope',
        source: 'STELLA_REGISTRY_USERNAME/STELLA_REGISTRY_PASSWORD',
      },
    });
    t.regex(
      wrong.message,
      /refused the credentials from STELLA_REGISTRY_USERNAME\/STELLA_REGISTRY_PASSWORD/,
    );
    noSecret(t, wrong);

    // The token in `access_token` only (OAuth2's field), then in neither field. A fresh
    // client each time: a token already granted would be used again.
    tokens.fields = ['access_token'];
    t.is((await discoverBundles(image, good)).bundles.length, 0);
    tokens.fields = [];
    const tokenless = await authRefused(t, image, good.credentials);
    t.regex(tokenless.message, /the token service at .* answered without a token/);

    // A token service that throttles or times out (429, 408) or fails (503) is unavailable,
    // as the registry itself would be (util/retry.ts's one list), asked again and then
    // REGISTRY_UNAVAILABLE: not a refusal of the credentials.
    tokens.fields = ['token', 'access_token'];
    for (const status of [429, 408, 503]) {
      tokens.status = status;
      const busy = await t.throwsAsync(discoverBundles(image, good), { instanceOf: StellaError });
      t.is(busy.code, 'REGISTRY_UNAVAILABLE', `HTTP ${status}: ${busy.message}`);
      t.regex(busy.message, new RegExp(`token service at .* answered HTTP ${status}`));
    }
    tokens.status = undefined;
    t.is((await discoverBundles(image, good)).bundles.length, 0);
  });
}
