/**
 * `stella policy test`'s judgement (src/verify/pattern-test.ts), in process: a match says
 * nothing against the pattern it matched, a miss says why, and a broad pattern is named as
 * one `attest verify` refuses. The command is tested in test/commands/attest/identity-seed.test.ts.
 */
import test from 'ava';
import { buildPolicy } from '../../src/verify/policy.js';
import { testIdentity } from '../../src/verify/pattern-test.js';

const ID = 'repo:myorg/myrepo:ref:refs/heads/main';
const patternsOf = (patterns: string[]) =>
  buildPolicy({
    certificateIdentities: patterns,
    certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
    allowBroadIdentity: true,
  }).identity!.patterns;

test('a matching pattern gets no reason against it; the others say why they miss', (t) => {
  const exact = 'repo:myorg/myrepo:ref:refs/heads/main';
  t.deepEqual(testIdentity(ID, patternsOf([exact])), {
    identity: ID,
    match: true,
    matched: [exact],
    reasons: [],
  });
  const r = testIdentity(ID, patternsOf([exact, 'repo:myorg/myrepo', 'repo:other/x:ref:main']));
  t.true(r.match);
  t.deepEqual(r.matched, [exact]);
  t.deepEqual(r.reasons, [
    '^(?:repo:myorg/myrepo)$: the pattern matches only part of the identity; patterns are matched whole (implicitly anchored), so add .* where more may follow',
    '^(?:repo:other/x:ref:main)$: does not match',
    'check the ref format: GitHub and Gitea subjects say ref:refs/heads/main, not ref:main',
  ]);
});

test('a broad pattern is named as one verify refuses without --allow-broad-identity; a narrow one is not', (t) => {
  const broad = testIdentity(ID, patternsOf(['repo:.*']));
  t.true(broad.match);
  t.is(broad.reasons.length, 1);
  t.regex(broad.reasons[0]!, / \(verify refuses it without --allow-broad-identity\)$/);
  t.deepEqual(testIdentity(ID, patternsOf([ID])).reasons, []);
});
