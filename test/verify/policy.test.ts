import test from 'ava';
import { buildPolicy, unpinnableIssuerReason } from '../../src/verify/policy.js';
import { StellaError } from '../../src/errors.js';

const ISSUER = 'https://token.actions.githubusercontent.com';

test('identity regex is anchored: a longer repository name does not match (checklist C23)', (t) => {
  const p = buildPolicy({
    certificateIdentity:
      'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main',
    certificateOidcIssuer: ISSUER,
  });
  t.true(
    p.identity!.regex.test(
      'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main',
    ),
  );
  t.false(
    p.identity!.regex.test(
      'https://github.com/org/repo-evil/.github/workflows/release.yml@refs/heads/main',
    ),
  );
  t.false(
    p.identity!.regex.test(
      'xhttps://github.com/org/repo/.github/workflows/release.yml@refs/heads/main',
    ),
  );
  t.false(
    p.identity!.regex.test(
      'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main-evil',
    ),
  );
});

test('alternation is anchored as a whole, not per branch', (t) => {
  const p = buildPolicy({
    certificateIdentity: 'repo:org/a:.*|repo:org/b:ref:refs/heads/main',
    certificateOidcIssuer: ISSUER,
  });
  t.true(p.identity!.regex.test('repo:org/b:ref:refs/heads/main'));
  t.false(p.identity!.regex.test('repo:org/b:ref:refs/heads/main:extra'));
  t.false(p.identity!.regex.test('evil-repo:org/b:ref:refs/heads/main'));
});

test('identity and key together, or neither, are usage errors', (t) => {
  const both = t.throws(
    () =>
      buildPolicy({ certificateIdentity: 'x', certificateOidcIssuer: ISSUER, publicKeyPem: 'k' }),
    { instanceOf: StellaError },
  );
  t.is(both.code, 'INPUT_INVALID');
  const neither = t.throws(() => buildPolicy({}), { instanceOf: StellaError });
  t.is(neither.code, 'INPUT_INVALID');
  t.regex(neither.message, /identity policy is required/);
});

test('identity without issuer is refused: issuers are always pinned', (t) => {
  const e = t.throws(() => buildPolicy({ certificateIdentity: 'x' }), { instanceOf: StellaError });
  t.regex(e.message, /--certificate-oidc-issuer is required/);
});

test('an invalid regex is a clear input error', (t) => {
  const e = t.throws(
    () => buildPolicy({ certificateIdentity: '(unclosed', certificateOidcIssuer: ISSUER }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'INPUT_INVALID');
  t.regex(e.message, /not a valid RE2 regular expression/);
});

test('an unparsable --key is refused', (t) => {
  const e = t.throws(
    () =>
      buildPolicy({ publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'INPUT_INVALID');
});

test('SCT is required by default; tlog threshold must be positive', (t) => {
  t.true(buildPolicy({ certificateIdentity: 'x', certificateOidcIssuer: ISSUER }).requireSct);
  t.throws(
    () =>
      buildPolicy({ certificateIdentity: 'x', certificateOidcIssuer: ISSUER, tlogThreshold: 0 }),
    { instanceOf: StellaError },
  );
});

test('an identity pattern and an issuer go together: either alone is refused, naming the other', (t) => {
  const only = (o: Parameters<typeof buildPolicy>[0]) =>
    t.throws(() => buildPolicy(o), { instanceOf: StellaError }) as StellaError;
  const noPattern = only({ certificateOidcIssuer: 'https://token.actions.githubusercontent.com' });
  t.is(noPattern.code, 'INPUT_INVALID');
  t.is(noPattern.message, '--certificate-identity is required with --certificate-oidc-issuer');
  const noIssuer = only({ certificateIdentity: 'https://example\\.test/ci' });
  t.is(noIssuer.code, 'INPUT_INVALID');
  t.is(noIssuer.message, '--certificate-oidc-issuer is required with --certificate-identity');
});

test('an extension constraint names a constrainable Fulcio extension: an unknown name or an issuer is INPUT_INVALID, listing the names', (t) => {
  const base = {
    certificateIdentity:
      'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main',
    certificateOidcIssuer: ISSUER,
  };
  const ok = buildPolicy({
    ...base,
    certificateExtensions: [['source-repository-ref', 'refs/heads/main']],
  });
  t.deepEqual(
    ok.identity?.extensions.map((e) => e.name),
    ['source-repository-ref'],
  );
  for (const [name, why] of [
    ['no-such-extension', /unknown Fulcio extension name "no-such-extension"/],
    ['issuer', /issuers are pinned with --certificate-oidc-issuer/],
    ['issuer-v1', /issuers are pinned with --certificate-oidc-issuer/],
  ] as const) {
    const e = t.throws(() => buildPolicy({ ...base, certificateExtensions: [[name, '.*']] }), {
      instanceOf: StellaError,
    });
    t.is(e?.code, 'INPUT_INVALID', name);
    t.regex(e?.message ?? '', new RegExp(`^--certificate-extension ${name}: ${why.source}`), name);
    t.regex(e?.message ?? '', /\(names: .*source-repository-ref.*\)$/, name);
    t.false(
      /\bissuer\b(?!-)/.test(e!.message.slice(e!.message.indexOf('(names:'))),
      'issuers are not listed',
    );
  }
});

test('an issuer no policy can pin is said as such: empty, not plain text, or written as a pattern; a URL is pinnable', (t) => {
  t.is(unpinnableIssuerReason(''), 'is empty');
  t.is(
    unpinnableIssuerReason('https://x .example'),
    'contains whitespace or control characters, or is not NFC',
  );
  t.regex(unpinnableIssuerReason('https://.*\\.example') ?? '', /^looks like a pattern/);
  t.is(unpinnableIssuerReason(ISSUER), undefined);
  t.throws(() => buildPolicy({ certificateIdentity: 'x', certificateOidcIssuer: '' }), {
    instanceOf: StellaError,
  });
});
