/**
 * The URL readers of identity-candidates.ts, written out instead of as backtracking patterns
 * (their input is a certificate's extension values, up to 64 KiB): held to the patterns they
 * replaced on many strings, and fast on the long runs that made those patterns slow.
 */
import test from 'ava';
import { isGitlabConfigRef, urlPath } from '../../src/x509/identity-candidates.js';
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
