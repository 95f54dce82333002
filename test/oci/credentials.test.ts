/**
 * Credentials from the Docker config file (src/oci/credentials.ts), with real credential
 * helper programs (`docker-credential-<name>`, small shell scripts put first on PATH): which
 * entry wins, what each helper answer means, and the config files that are refused.
 */
import test from 'ava';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { resolveCredentials, secretsOf } from '../../src/oci/credentials.js';
import { StellaError } from '../../src/errors.js';

let dir: string;
let configPath: string;

/** Helpers this file runs, by name: what each prints and how it exits. */
const HELPERS: Record<string, string> = {
  // A helper answers "<token>" as the user name when the secret is an identity token.
  token: `echo '{"ServerURL":"'"$(cat)"'","Username":"<token>","Secret":"refresh-from-helper"}'`,
  basic: `read host; echo '{"ServerURL":"'"$host"'","Username":"helper-user","Secret":"helper-pass"}'`,
  // Echoes the server URL it was asked about as the user name.
  echohost: `host=$(cat); echo '{"Username":"'"$host"'","Secret":"s"}'`,
  notfound: `echo 'credentials not found in native keychain'; exit 1`,
  broken: `exit 3`,
  garbage: `echo 'this is not JSON'`,
  nosecret: `echo '{"Username":"u","Secret":""}'`,
  nouser: `echo '{"Secret":"s"}'`,
  numberuser: `echo '{"Username":7,"Secret":"s"}'`,
  nostdin: `echo '{"Username":"u","Secret":"answered-without-reading"}'`,
};

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'stella-credentials-'));
  configPath = join(dir, 'config.json');
  for (const [name, script] of Object.entries(HELPERS)) {
    const p = join(dir, `docker-credential-${name}`);
    writeFileSync(p, `#!/bin/sh\n${script}\n`);
    chmodSync(p, 0o755);
  }
  // This test file's own process (ava runs each file in its own).
  process.env.PATH = `${dir}${delimiter}${process.env.PATH ?? ''}`;
});
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Each test writes its own config file: tests run one at a time here. */
function resolveWith(config: unknown, registry = 'registry.example') {
  writeFileSync(configPath, typeof config === 'string' ? config : JSON.stringify(config));
  return resolveCredentials(registry, { dockerConfigPath: configPath });
}

function refusedWith(t: import('ava').ExecutionContext, config: unknown, message: RegExp): string {
  const e = t.throws(() => resolveWith(config), { instanceOf: StellaError });
  t.regex(e.message, message);
  return e.code;
}

test.serial(
  'a helper answering "<token>" gives an identity token, any other name a password',
  (t) => {
    t.like(resolveWith({ credHelpers: { 'registry.example': 'token' } }), {
      kind: 'identity-token',
      username: '<token>',
      token: 'refresh-from-helper',
      source: 'credential helper docker-credential-token',
    });
    const basic = resolveWith({ credHelpers: { 'registry.example': 'basic' } });
    t.like(basic, { kind: 'basic', username: 'helper-user', password: 'helper-pass' });
    // Redacted: the password, and the Basic header value built from it.
    t.deepEqual(secretsOf(basic), [
      'helper-pass',
      Buffer.from('helper-user:helper-pass').toString('base64'),
    ]);
  },
);

test.serial('the helper is told the host, and Docker Hub as https://index.docker.io/v1/', (t) => {
  t.like(
    resolveWith({ credHelpers: { 'registry.example:5000': 'echohost' } }, 'registry.example:5000'),
    {
      username: 'registry.example:5000',
    },
  );
  t.like(resolveWith({ credHelpers: { 'docker.io': 'echohost' } }, 'docker.io'), {
    username: 'https://index.docker.io/v1/',
  });
});

test.serial("credHelpers for another host are not run: the host's auths entry is used", (t) => {
  t.like(
    resolveWith({
      credHelpers: { 'elsewhere.example': 'broken' },
      auths: { 'registry.example': { username: 'from-auths', password: 'p' } },
    }),
    { kind: 'basic', username: 'from-auths', password: 'p' },
  );
});

test.serial('credsStore is asked only when no credHelpers or auths entry is for the host', (t) => {
  t.like(
    resolveWith({
      credsStore: 'basic',
      auths: { 'other.example': { username: 'x', password: 'y' } },
    }),
    {
      username: 'helper-user',
    },
  );
  t.like(
    resolveWith({
      credsStore: 'broken',
      auths: { 'registry.example': { username: 'a', password: 'b' } },
    }),
    { username: 'a', password: 'b' },
  );
});

test.serial(
  'a helper with nothing for the host (exit 1), an empty secret, or no user name as text: anonymous',
  (t) => {
    t.is(resolveWith({ credHelpers: { 'registry.example': 'notfound' } }), undefined);
    t.is(resolveWith({ credHelpers: { 'registry.example': 'nosecret' } }), undefined);
    // A secret alone is not a credential (taken as one, it would go as user "undefined").
    t.is(resolveWith({ credHelpers: { 'registry.example': 'nouser' } }), undefined);
    t.is(resolveWith({ credHelpers: { 'registry.example': 'numberuser' } }), undefined);
  },
);

test.serial(
  'a helper that answers without reading the host it is given: its answer stands, every time (30 runs)',
  (t) => {
    // It may exit before the host is written to it, so writing fails with EPIPE: about one run
    // in four here when that counted as the helper's failure.
    writeFileSync(configPath, JSON.stringify({ credHelpers: { 'registry.example': 'nostdin' } }));
    for (let i = 0; i < 30; i++)
      t.like(resolveCredentials('registry.example', { dockerConfigPath: configPath }), {
        kind: 'basic',
        username: 'u',
        password: 'answered-without-reading',
      });
  },
);

test.serial(
  'a helper that fails otherwise, or prints something else than JSON: REGISTRY_AUTH_FAILED naming it',
  (t) => {
    t.is(
      refusedWith(
        t,
        { credHelpers: { 'registry.example': 'broken' } },
        /docker-credential-broken .*failed for registry\.example: exit 3/,
      ),
      'REGISTRY_AUTH_FAILED',
    );
    t.is(
      refusedWith(
        t,
        { credHelpers: { 'registry.example': 'garbage' } },
        /docker-credential-garbage .*printed something other than its JSON answer/,
      ),
      'REGISTRY_AUTH_FAILED',
    );
    t.is(
      refusedWith(
        t,
        { credHelpers: { 'registry.example': 'absent' } },
        /docker-credential-absent .*failed for registry\.example: ENOENT/,
      ),
      'REGISTRY_AUTH_FAILED',
    );
  },
);

test.serial(
  'auths: an empty identity token or auth is no credential; the next field decides',
  (t) => {
    t.like(
      resolveWith({
        auths: { 'registry.example': { identitytoken: '', username: 'u', password: 'p' } },
      }),
      { kind: 'basic', username: 'u', password: 'p' },
    );
    // As docker reads it: an empty auth is not decoded (it would be "not user:password").
    t.like(
      resolveWith({
        auths: {
          'registry.example': { identitytoken: '', auth: '', username: 'u', password: 'p' },
        },
      }),
      { kind: 'basic', username: 'u', password: 'p' },
    );
    t.is(resolveWith({ auths: { 'registry.example': { auth: '' } } }), undefined);
    t.like(
      resolveWith({ auths: { 'registry.example': { identitytoken: 'tok', username: 'named' } } }),
      {
        kind: 'identity-token',
        username: 'named',
        token: 'tok',
      },
    );
  },
);

test.serial(
  'auths: a user name without a password, or a password without a name, is no credential',
  (t) => {
    t.is(resolveWith({ auths: { 'registry.example': { username: 'u' } } }), undefined);
    t.is(resolveWith({ auths: { 'registry.example': { password: 'p' } } }), undefined);
    t.is(resolveWith({ auths: { 'registry.example': 'not an object' } }), undefined);
  },
);

test.serial(
  'config files that are not what docker writes: INPUT_INVALID naming the file and the field',
  (t) => {
    t.is(refusedWith(t, { auths: [] }, /auths must be an object/), 'INPUT_INVALID');
    t.is(
      refusedWith(t, { credHelpers: 'basic' }, /credHelpers must be an object/),
      'INPUT_INVALID',
    );
    t.is(refusedWith(t, [], /not a JSON object/), 'INPUT_INVALID');
    t.is(refusedWith(t, '{"auths": {}', /docker config/), 'INPUT_INVALID');
    t.is(
      refusedWith(
        t,
        { auths: { 'registry.example': { auth: Buffer.from('no-colon').toString('base64') } } },
        /auths\["registry\.example"\]\.auth is not base64 of "user:password"/,
      ),
      'INPUT_INVALID',
    );
    // An empty user name (`:password`) is no user name either; an empty password is one.
    t.is(
      refusedWith(
        t,
        {
          auths: {
            'registry.example': { auth: Buffer.from(':only-a-password').toString('base64') },
          },
        },
        /auths\["registry\.example"\]\.auth is not base64 of "user:password"/,
      ),
      'INPUT_INVALID',
    );
    // Bytes that are not UTF-8 (a Latin-1 password) are refused by the field, not sent as U+FFFD.
    t.is(
      refusedWith(
        t,
        {
          auths: {
            'registry.example': { auth: Buffer.from('u:p\xe4ss', 'latin1').toString('base64') },
          },
        },
        /auths\["registry\.example"\]\.auth is not UTF-8 text once base64-decoded/,
      ),
      'INPUT_INVALID',
    );
    t.like(
      resolveWith({
        auths: { 'registry.example': { auth: Buffer.from('u:päss').toString('base64') } },
      }),
      { password: 'päss' },
    );
    t.like(
      resolveWith({
        auths: { 'registry.example': { auth: Buffer.from('u:').toString('base64') } },
      }),
      {
        username: 'u',
        password: '',
      },
    );
    t.is(
      refusedWith(
        t,
        { auths: { 'registry.example': { auth: 'not base64!' } } },
        /auths\["registry\.example"\]\.auth/,
      ),
      'INPUT_INVALID',
    );
  },
);

test.serial('no docker config file: anonymous', (t) => {
  t.is(
    resolveCredentials('registry.example', { dockerConfigPath: join(dir, 'absent.json') }),
    undefined,
  );
});

test('what is redacted: a password or token of four characters or more, and the Basic header value built from it', (t) => {
  const basic = (password: string) =>
    ({ kind: 'basic', username: 'u', password, source: 'test' }) as const;
  const header = (password: string) => Buffer.from(`u:${password}`).toString('base64');
  t.deepEqual(secretsOf(basic('abcd')), ['abcd', header('abcd')]);
  // Three characters are not searched for in output: they would blank out ordinary words. The
  // header value, longer, still is.
  t.deepEqual(secretsOf(basic('abc')), [header('abc')]);
  t.deepEqual(
    secretsOf({ kind: 'identity-token', username: '<token>', token: 'tok1', source: 'test' }),
    ['tok1'],
  );
  t.deepEqual(secretsOf(undefined), []);
});
