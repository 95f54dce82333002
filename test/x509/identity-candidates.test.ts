/**
 * The URL readers of identity-candidates.ts, written out instead of as backtracking patterns
 * (their input is a certificate's extension values, up to 64 KiB): held to the patterns they
 * replaced on many strings, and fast on the long runs that made those patterns slow.
 */
import test from 'ava';
import { parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import { fulcioExtensionByName } from '../../src/x509/fulcio-extensions.js';
import {
  derivedSubject,
  detectPlatform,
  identityCandidates,
  isGitlabConfigRef,
  unusableIdentityReason,
  urlPath,
} from '../../src/x509/identity-candidates.js';
import { fulcioExtension } from '../../src/x509/issue.js';
import { buildPki, defaultLeafExtensions, leafCert } from './helpers.js';
import { textsOf } from '../helpers/random-text.js';

const REPLACED_URL_PATH = /^https?:\/\/[^/]+\/(.+?)\/*$/;
const REPLACED_GITLAB_CONFIG_REF = /^https:\/\/[^/]+\/.+\/\/.+@/;

const PIECES = ['https://', 'http://', 'host', '/', '//', '@', 'a', '\n', '\u2028', '.', ':'];

test('urlPath and isGitlabConfigRef agree with the patterns they replaced', (t) => {
  const texts = [
    ...textsOf(PIECES, 4000, 9),
    // Most interesting strings start as a URL does.
    ...textsOf(PIECES, 4000, 8, 0x6e7).map((s) => `https://host/${s}`),
  ];
  for (const s of texts) {
    t.is(urlPath(s), REPLACED_URL_PATH.exec(s)?.[1], JSON.stringify(s));
    t.is(isGitlabConfigRef(s), REPLACED_GITLAB_CONFIG_REF.test(s), JSON.stringify(s));
  }
  t.is(urlPath(undefined), undefined);
  t.is(urlPath('https://github.com/org/repo/'), 'org/repo');
  t.is(urlPath('https://host///'), '/');
  t.true(isGitlabConfigRef('https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main'));
  t.false(isGitlabConfigRef('https://gitlab.com/group/project/.gitlab-ci.yml@refs/heads/main'));
});

test('a certificate-sized run of slashes is read at once (the replaced patterns took seconds)', (t) => {
  // 64,000 slashes: ~3.5 s for the replaced urlPath pattern, ~3 s for the GitLab one.
  const slashes = '/'.repeat(64_000);
  t.is(urlPath(`https://host/a${slashes}b`), `a${slashes}b`);
  t.is(urlPath(`https://host/a${slashes}`), 'a');
  t.false(isGitlabConfigRef(`https://host/${slashes}`));
  t.true(isGitlabConfigRef(`https://host/a${slashes}b@`));
});

// --- derived subjects: each platform's default `sub`, from certificates without .24 -------

const PKI = buildPki('identity-candidates');

/** A leaf with the SAN URI `san`, the OIDC issuer `issuer` and these Fulcio extensions. */
function leafWith(san: string, issuer: string, values: Record<string, string>): Certificate {
  const extensions = defaultLeafExtensions(
    PKI.intermediateSigner.spki,
    PKI.leafSigner.spki,
    san,
    issuer,
  );
  for (const [name, value] of Object.entries(values)) {
    const e = fulcioExtensionByName(name)!;
    extensions.push(fulcioExtension(e.oid, value));
  }
  return parseCertificate(
    leafCert({
      issuerSigner: PKI.intermediateSigner,
      subjectSpki: PKI.leafSigner.spki,
      extensions,
    }),
  );
}

const GH_ISSUER = 'https://token.actions.githubusercontent.com';
const GH_SAN = 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main';
const GL_CONFIG = 'https://gitlab.example/g/p//.gitlab-ci.yml@refs/heads/main';
const GITEA_ISSUER = 'https://gitea.example/api/actions';

function derived(cert: Certificate): { value: string; field: string; from: string[] } | undefined {
  const d = derivedSubject(cert);
  return d && { value: d.value, field: d.field, from: d.derived!.from };
}

test('GitHub: the default sub from repository and ref, environment, or pull request trigger', (t) => {
  const base = { 'source-repository-uri': 'https://github.com/o/r' };
  t.deepEqual(
    derived(leafWith(GH_SAN, GH_ISSUER, { ...base, 'source-repository-ref': 'refs/heads/main' })),
    {
      value: 'repo:o/r:ref:refs/heads/main',
      field: 'derived subject (GitHub)',
      from: ['source-repository-uri', 'source-repository-ref'],
    },
  );
  // The deprecated repository extension (.5) is preferred; a push trigger is not part of the sub.
  t.deepEqual(
    derived(
      leafWith(GH_SAN, GH_ISSUER, {
        'github-workflow-repository': 'o/legacy',
        'github-workflow-trigger': 'push',
        'github-workflow-ref': 'refs/tags/v1',
      }),
    ),
    {
      value: 'repo:o/legacy:ref:refs/tags/v1',
      field: 'derived subject (GitHub)',
      from: ['github-workflow-repository', 'github-workflow-ref'],
    },
  );
  t.is(
    derived(
      leafWith(GH_SAN, GH_ISSUER, {
        ...base,
        'deployment-environment': 'prod',
        'source-repository-ref': 'refs/heads/main',
      }),
    )?.value,
    'repo:o/r:environment:prod',
  );
  for (const trigger of ['pull_request', 'pull_request_target'])
    t.is(
      derived(
        leafWith(GH_SAN, GH_ISSUER, {
          ...base,
          'build-trigger': trigger,
          'source-repository-ref': 'refs/pull/1/merge',
        }),
      )?.value,
      'repo:o/r:pull_request',
    );
  // No ref and no environment or pull request: no default sub to derive.
  t.is(derivedSubject(leafWith(GH_SAN, GH_ISSUER, base)), undefined);
});

test('GitLab: project_path, ref_type and ref, recognised by its config URI shape or job URL', (t) => {
  const base = { 'source-repository-uri': 'https://gitlab.example/g/p' };
  t.deepEqual(
    derived(
      leafWith(GL_CONFIG, 'https://gitlab.example', {
        ...base,
        'build-config-uri': GL_CONFIG,
        'source-repository-ref': 'refs/tags/v1.2',
      }),
    ),
    {
      value: 'project_path:g/p:ref_type:tag:ref:v1.2',
      field: 'derived subject (GitLab)',
      from: ['source-repository-uri', 'source-repository-ref'],
    },
  );
  t.is(
    derived(
      leafWith('https://gitlab.example/g/p', 'https://gitlab.example', {
        ...base,
        'run-invocation-uri': 'https://gitlab.example/g/p/-/jobs/42',
        'source-repository-ref': 'refs/heads/main',
      }),
    )?.value,
    'project_path:g/p:ref_type:branch:ref:main',
  );
  // A ref that is neither a branch nor a tag has no ref_type.
  t.is(
    derivedSubject(
      leafWith(GL_CONFIG, 'https://gitlab.example', {
        ...base,
        'build-config-uri': GL_CONFIG,
        'source-repository-ref': 'refs/merge-requests/3/head',
      }),
    ),
    undefined,
  );
  // No project (no repository URI) or no ref: nothing to derive, never "project_path:undefined".
  for (const exts of <Record<string, string>[]>[
    { 'build-config-uri': GL_CONFIG, 'source-repository-ref': 'refs/heads/main' },
    { ...base, 'build-config-uri': GL_CONFIG },
  ]) {
    const cert = leafWith(GL_CONFIG, 'https://gitlab.example', exts);
    t.is(detectPlatform(cert), 'gitlab');
    t.is(derivedSubject(cert), undefined);
  }
});

test('Gitea: <owner>/<repo>:ref:<ref>, only when both the repository URI and the ref are there', (t) => {
  const san = 'https://gitea.example/o/r/.gitea/workflows/release.yml@refs/heads/main';
  const cert = leafWith(san, GITEA_ISSUER, {
    'source-repository-uri': 'https://gitea.example/o/r/',
    'source-repository-ref': 'refs/heads/main',
  });
  t.is(detectPlatform(cert), 'gitea');
  t.deepEqual(derived(cert), {
    value: 'o/r:ref:refs/heads/main',
    field: 'derived subject (Gitea)',
    from: ['source-repository-uri', 'source-repository-ref'],
  });
  const noRef = leafWith(san, GITEA_ISSUER, {
    'source-repository-uri': 'https://gitea.example/o/r',
  });
  t.is(detectPlatform(noRef), undefined);
  t.is(derivedSubject(noRef), undefined);
  // An empty ref is no ref (the platform is still Gitea's shape).
  const emptyRef = leafWith(san, GITEA_ISSUER, {
    'source-repository-uri': 'https://gitea.example/o/r',
    'source-repository-ref': '',
  });
  t.is(detectPlatform(emptyRef), 'gitea');
  t.is(derivedSubject(emptyRef), undefined);
  // A repository "URI" that is no http(s) URL gives no owner/repo to derive from.
  const notUrl = leafWith(san, GITEA_ISSUER, {
    'source-repository-uri': 'ssh://gitea.example/o/r',
    'source-repository-ref': 'refs/heads/main',
  });
  t.is(detectPlatform(notUrl), 'gitea');
  t.is(derivedSubject(notUrl), undefined);
});

test('identityCandidates lists a derived subject only without the OIDC subject extension, and marks unusable values', (t) => {
  const values = {
    'source-repository-uri': 'https://github.com/o/r',
    'source-repository-ref': 'refs/heads/main',
  };
  const fields = (c: Certificate) => identityCandidates(c).map((x) => x.field);
  t.deepEqual(fields(leafWith(GH_SAN, GH_ISSUER, values)), ['SAN URI', 'derived subject (GitHub)']);
  const withSub = leafWith(GH_SAN, GH_ISSUER, {
    ...values,
    'oidc-subject': 'repo:o/r:ref:refs/heads/main',
  });
  t.false(fields(withSub).some((f) => f.startsWith('derived')));
  const bidi = identityCandidates(
    leafWith(GH_SAN, GH_ISSUER, { ...values, 'source-repository-ref': 'refs/heads/\u202emain' }),
  ).find((c) => c.derived);
  t.is(bidi?.unusable, 'contains the control character U+202E at offset 24');
  t.is(identityCandidates(leafWith(GH_SAN, GH_ISSUER, values))[1]!.unusable, undefined);
});

test('unusableIdentityReason: a control or bidi character, or a form that is not NFC, makes a value unusable, said as such', (t) => {
  t.is(
    unusableIdentityReason('https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main'),
    undefined,
  );
  t.is(
    unusableIdentityReason('https://caf\u00e9.example/ci'),
    undefined,
    'NFC with a precomposed é',
  );
  t.is(
    unusableIdentityReason('https://cafe\u0301.example/ci'),
    'is not in Unicode NFC (it may look like another identity)',
    'e with a combining accent: looks like the NFC value, is another string',
  );
  t.is(
    unusableIdentityReason('repo:a/b\u202e:ref:main'),
    'contains the control character U+202E at offset 8',
  );
});
