/**
 * The breadth search (src/verify/identity-breadth.ts) on patterns whose verdict depends on
 * which candidates it builds: hosts on a port or without a dot, names shorter than the usual
 * random ones, names the pattern pins, and version tags. The seed's own rows are checked
 * through the CLI in test/commands/attest/identity-seed.test.ts.
 */
import test from 'ava';
import {
  describeBreadth,
  identityBreadth,
  type IdentityBreadth,
} from '../../src/verify/identity-breadth.js';
import { compileIdentityPattern } from '../../src/verify/identity-pattern.js';

const breadthOf = (pattern: string): IdentityBreadth =>
  identityBreadth(compileIdentityPattern(pattern));
const exampleOf = (b: IdentityBreadth): string => (b.kind === 'narrow' ? '' : b.example);

test('a self-hosted forge on a port, or on a host without a dot, is searched like github.com', (t) => {
  for (const [pattern, host] of [
    ['https://localhost:3000/.*', 'https://localhost:3000/'],
    ['https://gitea\\.example\\.com:3000/.*', 'https://gitea.example.com:3000/'],
    ['https://gitlab/.*', 'https://gitlab/'],
    ['https://(git|forge)/.*', /^https:\/\/(git|forge)\//],
    ['https?://(git|forge)/.*', /^https:\/\/(git|forge)\//],
    // A dotted word is a host wherever it is: here no `://` is followed by a plain host.
    ['https?://(www\\.)?gitea\\.example\\.com/.*', 'https://gitea.example.com/'],
    ['https://(?:git|forge):3000/.*', /^https:\/\/(git|forge):3000\//],
    ['https://(a\\.example|b\\.example):8443/.*', /^https:\/\/[ab]\.example:8443\//],
  ] as const) {
    const b = breadthOf(pattern);
    t.is(b.kind, 'broad', pattern);
    if (typeof host === 'string') t.true(exampleOf(b).startsWith(host), exampleOf(b));
    else t.regex(exampleOf(b), host, pattern);
  }
  const org = breadthOf('https://git\\.corp:8443/myorg/.*');
  t.like(org, { kind: 'owner-wide', owner: 'myorg' });
  t.regex(exampleOf(org), /^https:\/\/git\.corp:8443\/myorg\/[^/]+\//);
  const san = 'https://git\\.corp:8443/myorg/myrepo/\\.gitea/workflows/release\\.yml@refs/heads/';
  t.like(breadthOf(`${san}.*`), { kind: 'any-ref', repository: 'myorg/myrepo' });
  t.is(breadthOf(`${san}(main|release)`).kind, 'narrow');
});

test('a host the pattern does not spell out (a class) admits forges nobody named: short internal hosts are searched too', (t) => {
  // Every default host has a dot; these patterns admit only hosts without one (or with a port).
  const broad = breadthOf('https://[a-z]+/.*');
  t.is(broad.kind, 'broad');
  t.regex(exampleOf(broad), /^https:\/\/git\/[^/]+\/[^/]+\//);
  const port = breadthOf('https://[^/]+:[0-9]+/.*');
  t.is(port.kind, 'broad');
  t.regex(exampleOf(port), /^https:\/\/git:3000\//);
  t.like(breadthOf('https://[a-z]+/myorg/.*'), { kind: 'owner-wide', owner: 'myorg' });
  const san = 'https://\\w+/myorg/myrepo/\\.gitea/workflows/release\\.yml@refs/heads/';
  t.like(breadthOf(`${san}.*`), { kind: 'any-ref', repository: 'myorg/myrepo' });
  // The owner, repository and ref fixed: narrow on any host.
  t.is(breadthOf(`${san}main`).kind, 'narrow');
});

test('GitLab subjects carry ref_type branch for a branch and tag for a tag', (t) => {
  for (const [pattern, tail] of [
    ['project_path:[^/]+/[^:]+:ref_type:branch:ref:main', ':ref_type:branch:ref:main'],
    ['project_path:[^/]+/[^:]+:ref_type:tag:ref:v1\\.2\\.3', ':ref_type:tag:ref:v1.2.3'],
  ] as const) {
    const b = breadthOf(pattern);
    t.is(b.kind, 'broad', pattern);
    t.true(exampleOf(b).endsWith(tail), exampleOf(b));
  }
});

test('a pattern that admits only short names is still searched: names are 1 to 10 characters, with a 2-character one for each repository and ref', (t) => {
  const owners = breadthOf('repo:[a-z0-9]{1,5}/.*');
  t.is(owners.kind, 'broad');
  t.regex(exampleOf(owners), /^repo:[a-z0-9]{1,5}\//);
  for (const pattern of ['repo:myorg/..:ref:refs/heads/main', 'repo:myorg/.{1,5}:.*']) {
    const b = breadthOf(pattern);
    t.like(b, { kind: 'owner-wide', owner: 'myorg' }, pattern);
    t.regex(exampleOf(b), /^repo:myorg\/[a-z0-9]{1,5}:/, pattern);
  }
  for (const ref of ['refs/heads/..', 'refs/heads/.{1,5}', 'refs/tags/[a-z][a-z0-9]']) {
    const b = breadthOf(`repo:myorg/myrepo:ref:${ref}`);
    t.like(b, { kind: 'any-ref', repository: 'myorg/myrepo' }, ref);
  }
});

test('a name the pattern pins is never drawn as one nobody chose, past its sixteenth word too', (t) => {
  // The pattern pins every one-letter branch. The search draws names of 1 to 10 characters
  // for the refs of dozens of owners; none of them may be a one-letter branch the pattern
  // names (a to j are among the first sixteen words the search is built from, k to z are not).
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const pattern = `repo:myorg/myrepo:ref:refs/heads/(${letters.join('|')})`;
  const seen: string[] = [];
  const verdict = identityBreadth({
    pattern,
    source: '',
    test: (v) => (seen.push(v), false),
    testPart: () => false,
  });
  t.deepEqual(verdict, { kind: 'narrow' });
  t.true(seen.length > 1000);
  const refs = seen.map((id) => /^repo:[^:]+:ref:refs\/(?:heads|tags)\/(.+)$/.exec(id)?.[1]);
  t.true(
    refs.some((r) => r !== undefined && r.length <= 2),
    'short refs are drawn',
  );
  t.deepEqual(
    refs.filter((r) => r !== undefined && letters.includes(r)),
    [],
  );
  t.is(breadthOf('repo:myorg/(a|b|c):ref:refs/heads/main').kind, 'narrow');
  t.is(breadthOf('repo:myorg/myrepo:ref:refs/tags/(v1|v2)').kind, 'narrow');
});

test('a pattern that lists every two-character name still gets an answer', (t) => {
  // Drawing again until a name is not one of the pattern's words would never end here.
  const names: string[] = [];
  for (const a of 'abcdefghijklmnopqrstuvwxyz')
    for (const b of 'abcdefghijklmnopqrstuvwxyz0123456789') names.push(a + b);
  const b = breadthOf(`repo:myorg/myrepo:ref:refs/heads/(${names.join('|')})`);
  t.is(b.kind, 'narrow');
});

test('a pattern that fixes a mail domain but accepts any mailbox at it is organization-wide; a public domain is broad', (t) => {
  for (const [pattern, domain] of [
    ['.*@example\\.com', 'example.com'],
    ['[a-z]+@corp\\.example\\.com', 'corp.example.com'],
    ['.+@(example\\.com|example\\.org)', 'example.com'],
  ] as const) {
    const b = breadthOf(pattern);
    t.like(b, { kind: 'owner-wide', owner: domain, mailboxes: true }, pattern);
    t.true(exampleOf(b).endsWith(`@${domain}`), exampleOf(b));
    t.is(
      describeBreadth(pattern, b),
      `identity pattern ${JSON.stringify(pattern)} accepts any mailbox at "${domain}" (e.g. "${exampleOf(b)}"): organization-wide trust, use with caution`,
    );
  }
  t.is(breadthOf('.*@gmail\\.com').kind, 'broad');
  for (const pattern of ['(alice|bob)@example\\.com', '[a-z]+-bot@example\\.com'])
    t.is(breadthOf(pattern).kind, 'narrow', pattern);
  // A repository stays "any repository of", without `mailboxes`.
  const org = breadthOf('repo:myorg/.*:ref:refs/heads/main');
  t.false('mailboxes' in org);
  t.regex(describeBreadth('p', org), /accepts any repository of "myorg"/);
});

test('version tags (refs/tags/v.*) are never reported as any-ref, whatever the names; any tag is', (t) => {
  for (let i = 0; i < 40; i++) {
    const repo = `org${i}/repo${i}`;
    const san = `https://github\\.com/${repo}/\\.github/workflows/release\\.yml@`;
    for (const pattern of [`repo:${repo}:ref:refs/tags/v.*`, `${san}refs/(heads/main|tags/v.*)`])
      t.is(breadthOf(pattern).kind, 'narrow', pattern);
    t.like(breadthOf(`repo:${repo}:ref:refs/tags/.*`), { kind: 'any-ref', repository: repo });
  }
});
