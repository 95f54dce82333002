/**
 * The sandbox Fulcio's claim mapping, taken alone: which template a token's claims select, and
 * what a claim's JSON type makes of it (Fulcio renders a number claim as its decimal text).
 */
import test from 'ava';
import { StellaError } from '../../../src/errors.js';
import {
  detectIdentityKind,
  fulcioIdentity,
} from '../../../src/sandbox/authority/fulcio-identity.js';
import type { OidcClaims } from '../../../src/sandbox/authority/oidc.js';

const ISSUER = 'https://token.actions.githubusercontent.com';
const F = (n: number): string => `1.3.6.1.4.1.57264.1.${n}`;

function github(extra: Record<string, unknown> = {}): OidcClaims {
  return {
    iss: ISSUER,
    aud: 'sigstore',
    sub: 'repo:octo/app:ref:refs/heads/main',
    iat: 1,
    exp: 2,
    repository: 'octo/app',
    repository_owner: 'octo',
    job_workflow_ref: 'octo/app/.github/workflows/release.yml@refs/heads/main',
    workflow_ref: 'octo/app/.github/workflows/release.yml@refs/heads/main',
    ...extra,
  } as OidcClaims;
}

const ext = (claims: OidcClaims, n: number): string | undefined =>
  fulcioIdentity(claims, ISSUER).extensions.find((e) => e.oid === F(n))?.value;

test('a number claim is its decimal text; other types and empty strings give no extension', (t) => {
  const numbers = github({ run_id: 9876543210, run_attempt: 2, repository_id: 42 });
  t.is(ext(numbers, 15), '42');
  t.is(ext(numbers, 21), 'https://github.com/octo/app/actions/runs/9876543210/attempts/2');
  for (const v of [true, null, { id: 42 }, [42], '']) {
    t.is(ext(github({ repository_id: v }), 15), undefined, JSON.stringify(v));
  }
  // Both halves of the run URL are needed.
  t.is(ext(github({ run_id: 7 }), 21), undefined);
});

test('the claims choose the template; a CI template without its claims is refused naming the claim', (t) => {
  t.is(detectIdentityKind(github()), 'github-workflow');
  t.is(detectIdentityKind(github({ sub: 'someone-else' })), 'uri');
  t.is(detectIdentityKind({ sub: 'x', email: 'a@example.com' }), 'email');
  const e = t.throws(
    () => fulcioIdentity(github({ job_workflow_ref: true }), ISSUER, { kind: 'github-workflow' }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'FULCIO_REJECTED');
  t.regex(e.message, /GitHub token lacks the "job_workflow_ref" claim/);
});

test('GitLab: the run invocation URL (.21) is the job under the project, when the token names a job', (t) => {
  const gitlab = (extra: Record<string, unknown>): OidcClaims =>
    ({
      iss: 'https://gitlab.com',
      aud: 'sigstore',
      sub: 'project_path:group/project:ref_type:branch:ref:main',
      iat: 1,
      exp: 2,
      project_path: 'group/project',
      ci_config_ref_uri: 'gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main',
      ...extra,
    }) as OidcClaims;
  const withJob = fulcioIdentity(gitlab({ job_id: '314' }), 'https://gitlab.com');
  t.is(withJob.kind, 'gitlab-pipeline');
  t.is(
    withJob.extensions.find((e) => e.oid === F(21))?.value,
    'https://gitlab.com/group/project/-/jobs/314',
  );
  const noJob = fulcioIdentity(gitlab({}), 'https://gitlab.com');
  t.is(
    noJob.extensions.find((e) => e.oid === F(21)),
    undefined,
  );
});

test('Gitea: the run invocation URL (.21) is the run under the repository, when the token names a run', (t) => {
  const gitea = (extra: Record<string, unknown>): OidcClaims =>
    ({
      iss: 'https://git.example.org/api/actions',
      aud: 'sigstore',
      sub: 'org/repo:ref:refs/heads/main',
      iat: 1,
      exp: 2,
      repository: 'org/repo',
      repository_owner: 'org',
      ref: 'refs/heads/main',
      sha: 'a'.repeat(40),
      workflow_ref: 'org/repo/.gitea/workflows/release.yml@refs/heads/main',
      ...extra,
    }) as OidcClaims;
  const opts = { kind: 'gitea-workflow' as const, serverUrl: 'https://git.example.org' };
  const run21 = (claims: OidcClaims) =>
    fulcioIdentity(claims, claims.iss, opts).extensions.find((e) => e.oid === F(21))?.value;
  t.is(run21(gitea({ run_id: '77' })), 'https://git.example.org/org/repo/actions/runs/77');
  t.is(run21(gitea({})), undefined, 'no run named, no run URL');
});

test('an email token gets an email SAN only when the issuer says email_verified is true', (t) => {
  const email = (extra: Record<string, unknown>): OidcClaims =>
    ({
      iss: 'https://accounts.example',
      aud: 'sigstore',
      sub: '1234',
      iat: 1,
      exp: 2,
      email: 'dev@example.com',
      ...extra,
    }) as OidcClaims;
  const ok = fulcioIdentity(email({ email_verified: true }), 'https://accounts.example');
  t.is(ok.kind, 'email');
  t.deepEqual(ok.san, { type: 'email', value: 'dev@example.com' });
  t.is(ok.challenge, 'dev@example.com');
  for (const verified of [false, 'true', 1, undefined]) {
    const e = t.throws(
      () => fulcioIdentity(email({ email_verified: verified }), 'https://accounts.example'),
      { instanceOf: StellaError },
    );
    t.is(e.code, 'FULCIO_REJECTED', String(verified));
    t.is(e.message, 'Fulcio: email not verified by the issuer (email_verified is not true)');
  }
});

test('any other token is a URI identity: its subject must be a URI, or the certificate is refused naming it', (t) => {
  const other = (sub: string): OidcClaims =>
    ({ iss: 'https://idp.example', aud: 'sigstore', sub, iat: 1, exp: 2 }) as OidcClaims;
  const ok = fulcioIdentity(other('spiffe://example.org/ns/ci/sa/builder'), 'https://idp.example');
  t.deepEqual(ok.san, { type: 'uri', value: 'spiffe://example.org/ns/ci/sa/builder' });
  for (const sub of ['builder', '1234', 'not a uri', '://x', 'a b:c']) {
    const e = t.throws(() => fulcioIdentity(other(sub), 'https://idp.example'), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'FULCIO_REJECTED', sub);
    t.is(
      e.message,
      `Fulcio: cannot derive a certificate identity from subject "${sub}" (not a CI token, email or URI)`,
    );
  }
});
