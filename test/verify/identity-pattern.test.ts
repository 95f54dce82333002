/** compileIdentityPattern: compiled alone, then anchored as ^(?:…)$ (checklist C23, H49). */
import test, { type ExecutionContext } from 'ava';
import { StellaError } from '../../src/errors.js';
import { anchoredForm, compileIdentityPattern, MAX_IDENTITY_PATTERN_LENGTH } from '../../src/verify/identity-pattern.js';

const GOOD = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const EVIL = 'https://github.com/org/repo-evil/.github/workflows/release.yml@refs/heads/main';

function invalid(t: ExecutionContext, pattern: string, message: RegExp): void {
  const e = t.throws(() => compileIdentityPattern(pattern), { instanceOf: StellaError }, JSON.stringify(pattern.slice(0, 60)));
  t.is(e?.code, 'INPUT_INVALID');
  t.is(e?.check, 'input');
  t.regex(e?.message ?? '', message);
}

test('unbalanced patterns that would close the anchoring group are refused, not wrapped', (t) => {
  // Each of these, pasted into ^(?:…)$ before compiling, gives a valid regex matching (nearly) anything.
  for (const p of ['x)|(?:.*', ')|(', '.*)|(?:', 'x)|.*|(?:y', `${GOOD})|(.*`, 'a)(?:b)|(?:.*']) {
    t.notThrows(() => new RegExp(`^(?:${p})$`, 'u'), `the naive wrap of ${p} compiles`);
    invalid(t, p, /^--certificate-identity is not a valid regular expression on its own: Unmatched '\)'$/);
  }
  invalid(t, '(unclosed', /on its own: Unterminated group$/);
  invalid(t, '[a-z', /on its own: Unterminated character class$/);
  invalid(t, 'abc\\', /on its own: \\ at end of pattern$/);
  invalid(t, 'a{2,', /on its own: Incomplete quantifier$/);
  invalid(t, '*abc', /on its own: Nothing to repeat$/);
});

test('alternation is anchored as a whole: every branch must match the whole identity', (t) => {
  const r = compileIdentityPattern('repo:org/a:.*|repo:org/b:ref:refs/heads/main|');
  t.true(r.test('repo:org/a:anything'));
  t.true(r.test('repo:org/b:ref:refs/heads/main'));
  t.true(r.test(''), 'the empty branch matches only the empty string');
  t.false(r.test('repo:org/b:ref:refs/heads/main:extra'));
  t.false(r.test('evil-repo:org/b:ref:refs/heads/main'));
  t.false(r.test('x'));
});

test('lookarounds stay inside the anchors', (t) => {
  const ahead = compileIdentityPattern('https://github\\.com/org/repo(?=-evil)');
  t.false(ahead.test(EVIL), 'a lookahead may see past the match, the anchor still ends it');
  t.false(ahead.test('https://github.com/org/repo'));
  const behind = compileIdentityPattern('(?<=https://github\\.com/)org/repo-evil/.*');
  t.false(behind.test(EVIL), 'a lookbehind cannot see before the start');
  const negative = compileIdentityPattern('https://github\\.com/org/repo(?!-evil)/.*');
  t.true(negative.test(GOOD));
  t.false(negative.test(EVIL));
  const contains = compileIdentityPattern('(?=.*@refs/heads/main$).*');
  t.true(contains.test(GOOD), 'an explicit "contains" is what the user wrote');
  t.false(contains.test(`${GOOD}-x`));
});

test('backreferences refer inside the group; a dangling one is refused', (t) => {
  const r = compileIdentityPattern('repo:(\\w+)/\\1');
  t.true(r.test('repo:org/org'));
  t.false(r.test('repo:org/org2'));
  t.false(r.test('repo:org/orgorg'));
  const named = compileIdentityPattern('repo:(?<o>\\w+)/\\k<o>:.*');
  t.true(named.test('repo:a/a:ref'));
  t.false(named.test('repo:a/b:ref'));
  invalid(t, 'repo:\\1', /on its own: Invalid escape$/);
  invalid(t, 'repo:\\k<nope>', /on its own: Invalid named capture referenced$/);
});

test('inline flag groups are refused on every Node version; look-alikes are not flag groups', (t) => {
  for (const [p, group] of [
    ['(?i)https://github\\.com/org/repo', '(?i)'],
    ['https://github\\.com/(?i:ORG)/repo', '(?i:'],
    ['(?-i:x)', '(?-i:'],
    ['(?s).*', '(?s)'],
    ['(?im-s:x)', '(?im-s:'],
  ] as const) {
    const at = p.indexOf(group);
    invalid(t, p, new RegExp(`^--certificate-identity is not a valid regular expression: inline flag group ${JSON.stringify(group).replace(/[()?]/g, '\\$&')} at offset ${at} is not supported`));
  }
  // Inside a class, escaped, or a real group syntax: not flags.
  t.true(compileIdentityPattern('[(?i)]+').test('(?i)'));
  t.true(compileIdentityPattern('\\(\\?i\\)x').test('(?i)x'));
  t.true(compileIdentityPattern('(?:a)(?<n>b)(?=c)c').test('abc'));
  // A regex-literal look-alike is only text: the trailing "i" is no flag.
  const literal = compileIdentityPattern('/repo/i');
  t.true(literal.test('/repo/i'));
  t.false(literal.test('REPO'));
});

test(`patterns longer than ${MAX_IDENTITY_PATTERN_LENGTH} characters, or empty, are refused`, (t) => {
  const atLimit = `${'a'.repeat(MAX_IDENTITY_PATTERN_LENGTH - 2)}.*`;
  t.true(compileIdentityPattern(atLimit).test(`${'a'.repeat(MAX_IDENTITY_PATTERN_LENGTH - 2)}zz`));
  invalid(t, `${atLimit}x`, new RegExp(`^--certificate-identity is ${MAX_IDENTITY_PATTERN_LENGTH + 1} characters long; the limit is ${MAX_IDENTITY_PATTERN_LENGTH}$`));
  invalid(t, 'a|'.repeat(500_000), /is 1000000 characters long/);
  invalid(t, '', /^--certificate-identity is empty$/);
});

test('the anchored form shown in reports is the one compiled', (t) => {
  t.is(anchoredForm('a|b'), '^(?:a|b)$');
  t.is(compileIdentityPattern('a|b').source, anchoredForm('a|b'));

});
