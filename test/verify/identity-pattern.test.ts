/** compileIdentityPattern: RE2 (Go syntax), compiled alone, matched whole by the engine (checklist C23, H49). */
import test, { type ExecutionContext } from 'ava';
import { StellaError } from '../../src/errors.js';
import {
  anchoredForm,
  compileIdentityPattern,
  literalPattern,
  MAX_IDENTITY_PATTERN_LENGTH,
} from '../../src/verify/identity-pattern.js';
import { identityBreadth } from '../../src/verify/identity-breadth.js';
import { RE2JS } from 're2js';

const GOOD = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const EVIL = 'https://github.com/org/repo-evil/.github/workflows/release.yml@refs/heads/main';

function invalid(t: ExecutionContext, pattern: string, message: RegExp): void {
  const e = t.throws(
    () => compileIdentityPattern(pattern),
    { instanceOf: StellaError },
    JSON.stringify(pattern.slice(0, 60)),
  );
  t.is(e?.code, 'INPUT_INVALID');
  t.is(e?.check, 'input');
  t.regex(e?.message ?? '', message);
}

test('unbalanced patterns that would close an anchoring group are refused, not wrapped', (t) => {
  // Each of these, pasted into ^(?:…)$ before compiling, gives a valid regex matching (nearly) anything.
  for (const p of ['x)|(?:.*', ')|(', '.*)|(?:', 'x)|.*|(?:y', `${GOOD})|(.*`, 'a)(?:b)|(?:.*']) {
    t.notThrows(() => new RegExp(`^(?:${p})$`, 'u'), `the naive wrap of ${p} compiles`);
    invalid(
      t,
      p,
      /^--certificate-identity is not a valid RE2 regular expression on its own: unexpected \)/,
    );
  }
  invalid(t, '(unclosed', /on its own: missing closing \)/);
  invalid(t, '[a-z', /on its own: missing closing \]/);
  invalid(t, 'abc\\', /on its own: trailing backslash at end of expression/);
  invalid(t, '*abc', /on its own: missing argument to repetition operator/);
  invalid(t, 'a{1001}', /on its own: invalid repeat count/);
});

test('alternation and flags are anchored as a whole: every branch must match the whole identity', (t) => {
  const r = compileIdentityPattern('repo:org/a:.*|repo:org/b:ref:refs/heads/main|');
  t.true(r.test('repo:org/a:anything'));
  t.true(r.test('repo:org/b:ref:refs/heads/main'));
  t.true(r.test(''), 'the empty branch matches only the empty string');
  t.false(r.test('repo:org/b:ref:refs/heads/main:extra'));
  t.false(r.test('evil-repo:org/b:ref:refs/heads/main'));
  t.false(r.test('x'));
  // (?m) changes what ^ and $ mean inside the pattern, never the whole-value match.
  const m = compileIdentityPattern('(?m)repo:org/a$');
  t.false(m.test('repo:org/a\nrepo:evil/x'));
  t.false(compileIdentityPattern('(?s)repo:org/a.*').test('xrepo:org/a'));
  // Leftmost-first semantics never stop the whole-value match short.
  t.true(compileIdentityPattern('a|ab').test('ab'));
});

test('Go RE2 syntax as cosign and sigstore-go users write it', (t) => {
  t.true(compileIdentityPattern('(?i)https://GITHUB\\.com/org/repo/.*').test(GOOD));
  t.false(compileIdentityPattern('https://GITHUB\\.com/org/repo/.*').test(GOOD));
  t.true(compileIdentityPattern('https://github\\.com/[[:alpha:]]+/repo/.*').test(GOOD));
  t.false(compileIdentityPattern('https://github\\.com/[[:digit:]]+/repo/.*').test(GOOD));
  t.true(compileIdentityPattern('https://github\\.com/org/repo\\-?/.*').test(GOOD));
  t.true(compileIdentityPattern('repo:(?P<owner>[^/]+)/repo:.*').test('repo:org/repo:ref:x'));
  t.true(compileIdentityPattern('\\pL+').test('Zürich'));
  t.true(compileIdentityPattern('\\Qa.b\\E').test('a.b'));
  t.false(compileIdentityPattern('\\Qa.b\\E').test('axb'));
  // A regex-literal look-alike is only text: the trailing "i" is no flag.
  const literal = compileIdentityPattern('/repo/i');
  t.true(literal.test('/repo/i'));
  t.false(literal.test('REPO'));
});

test('lookaround and backreferences (no linear-time form) are refused with the reason', (t) => {
  for (const p of [
    'https://github\\.com/org/repo(?=-evil)',
    '(?<=https://github\\.com/)org/.*',
    'https://github\\.com/org/repo(?!-evil)/.*',
  ]) {
    invalid(
      t,
      p,
      /on its own: invalid (or unsupported Perl syntax|named capture).*\(RE2 has no lookahead, lookbehind or backreference\)/,
    );
  }
  invalid(
    t,
    'repo:(\\w+)/\\1',
    /on its own: invalid escape sequence: `\\1` \(RE2 has no backreferences/,
  );
});

test('matching is linear: a pattern that makes a backtracking engine run for minutes answers at once', (t) => {
  const r = compileIdentityPattern('(a|aa)*(b|a)*c');
  t.false(r.test('a'.repeat(100_000)));
  t.true(r.test(`${'a'.repeat(1000)}c`));
});

test('a pattern not in Unicode NFC is refused; an NFC one matches only NFC text', (t) => {
  invalid(t, 'repo:org/cafe\u0301', /--certificate-identity is not in Unicode NFC/);
  const r = compileIdentityPattern('repo:org/caf\u00e9');
  t.true(r.test('repo:org/caf\u00e9'));
  t.false(r.test('repo:org/cafe\u0301'));
});

test(`patterns longer than ${MAX_IDENTITY_PATTERN_LENGTH} characters, or empty, are refused`, (t) => {
  const atLimit = `${'a'.repeat(MAX_IDENTITY_PATTERN_LENGTH - 2)}.*`;
  t.true(compileIdentityPattern(atLimit).test(`${'a'.repeat(MAX_IDENTITY_PATTERN_LENGTH - 2)}zz`));
  invalid(
    t,
    `${atLimit}x`,
    new RegExp(
      `^--certificate-identity is ${MAX_IDENTITY_PATTERN_LENGTH + 1} characters long; the limit is ${MAX_IDENTITY_PATTERN_LENGTH}$`,
    ),
  );
  invalid(t, 'a|'.repeat(500_000), /is 1000000 characters long/);
  invalid(t, '', /^--certificate-identity is empty$/);
});

test("the anchored form shown in reports; the whole match is the engine's, partial only for explanations", (t) => {
  t.is(anchoredForm('a|b'), '^(?:a|b)$');
  const m = compileIdentityPattern('repo:org/repo');
  t.is(m.source, anchoredForm('repo:org/repo'));
  t.false(m.test('repo:org/repo-evil'));
  t.true(m.testPart('repo:org/repo-evil'));
  t.false(compileIdentityPattern(GOOD.replace(/\./g, '\\.')).test(EVIL));
});

test('a plain literal pattern is matched exactly, as RE2 matches it, without the engine', (t) => {
  const literals = [
    'https://github\\.com/org/repo/\\.github/workflows/release\\.yml@refs/heads/main',
    'repo:org/repo:ref:refs/heads/main',
    'a\\-b\\_c\\@d\\/e\\:f\\#g ü',
    'x\\+y\\*z\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\',
  ];
  const values = (p: string): string[] => {
    const v = p.replace(/\\(.)/g, '$1');
    return [v, `${v}x`, `x${v}`, v.slice(1), v.toUpperCase(), '', v.replace(/\./g, 'X')];
  };
  for (const p of literals) {
    const m = compileIdentityPattern(p);
    t.is(m.literal, p.replace(/\\(.)/g, '$1'), p);
    const re = RE2JS.compile(p);
    for (const v of values(p)) {
      t.is(m.test(v), re.testExact(v), `${p} on ${v}`);
      t.is(m.testPart(v), re.test(v), `${p} partly on ${v}`);
    }
  }
  // Anything with an operator, an unescaped dot, a class, a flag or an escaped letter goes to RE2.
  for (const p of ['a.b', 'a\\d', '(?i)abc', '[ab]', 'a|b', 'a{2}', '^a$', 'a\\pL', 'a\\ b'])
    t.is(compileIdentityPattern(p).literal, undefined, p);
});

test('literalPattern: the pattern for an identity takes the literal path and matches that identity alone, as RE2 reads it', (t) => {
  const identities = [
    'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main',
    'repo:org/repo:ref:refs/heads/main',
    'dev+ci@example.com',
    'x.*+?^${}()|[]\\y',
    'ü/ä-ö_',
  ];
  for (const id of identities) {
    const p = literalPattern(id);
    const m = compileIdentityPattern(p);
    t.is(m.literal, id, p);
    const re = RE2JS.compile(p);
    for (const v of [id, `${id}x`, `x${id}`, id.slice(1), id.replace(/\./g, 'X')]) {
      t.is(m.test(v), v === id, `${p} on ${v}`);
      t.is(re.testExact(v), v === id, `RE2: ${p} on ${v}`);
    }
  }
});

test('identity breadth of a literal pattern is the verdict the full search gives', (t) => {
  const patterns = [
    'https://github\\.com/myorg/myrepo/\\.github/workflows/release\\.yml@refs/heads/main',
    'repo:myorg/myrepo:ref:refs/heads/main',
    'myorg/myrepo:environment:production',
    'someone@example\\.com',
    'https://gitlab\\.com/grp/proj//\\.gitlab-ci\\.yml@refs/tags/v1\\.2\\.3',
  ];
  for (const p of patterns) {
    const fast = compileIdentityPattern(p);
    t.not(fast.literal, undefined, p);
    const full = { ...fast, literal: undefined, couldContain: undefined };
    t.deepEqual(identityBreadth(fast), identityBreadth(full), p);
  }
  // A literal equal to an identity the search builds is found by both, with the same verdict:
  // take candidates from the full search (which tests every one of them) and pin each.
  const pattern = 'repo:myorg/myrepo:ref:refs/heads/main';
  const seen: string[] = [];
  identityBreadth({
    pattern,
    source: '',
    test: (v) => (seen.push(v), false),
    testPart: () => false,
  });
  t.true(seen.length > 1000);
  for (const hit of [seen[0]!, seen[777]!, seen[seen.length - 2]!, seen.at(-1)!]) {
    const m = { pattern, source: '', test: (v: string) => v === hit, testPart: () => false };
    // The skip a fixed-width matcher allows (couldContain) finds the same hit: a literal's
    // couldContain, without the literal itself (which is narrow by construction, below).
    const verdict = identityBreadth({
      ...m,
      couldContain: (part: string) => hit.includes(part),
    });
    t.not(verdict.kind, 'narrow', hit);
    t.deepEqual(verdict, identityBreadth(m), hit);
    // A compiled literal matches exactly one identity, so its verdict is narrow without a
    // search, whatever that identity is.
    t.deepEqual(identityBreadth({ ...m, literal: hit }), { kind: 'narrow' }, hit);
  }
});

test('a fixed-width pattern (literal characters and unescaped dots) matches as RE2 does, without the engine', (t) => {
  const patterns = [
    GOOD,
    'repo:org/repo:ref:refs/heads/ma.n',
    '.',
    '...',
    'a.b\\.c',
    'ü.x',
    'https://gitlab.com/grp/proj//.gitlab-ci.yml@refs/tags/v1.2.3',
  ];
  const values = (p: string): string[] => {
    const v = p.replace(/\\(.)/g, '$1');
    return [
      v,
      `${v}x`,
      `x${v}`,
      `x${v}x`,
      v.slice(1),
      v.toUpperCase(),
      '',
      v.replace(/\./g, 'X'),
      v.replace(/\./g, '\n'),
      v.replace(/\./g, '\r'),
      v.replace(/\./g, '\u2028'),
      v.replace(/\./g, '😀'),
      v.replace(/\./g, '\uD800'),
      v.replace(/\./g, 'XY'),
    ];
  };
  for (const p of patterns) {
    const m = compileIdentityPattern(p);
    t.not(m.couldContain, undefined, p);
    const re = RE2JS.compile(p);
    for (const v of [...values(p), ...values(GOOD)]) {
      t.is(m.test(v), re.testExact(v), `${p} on ${JSON.stringify(v)}`);
      t.is(m.testPart(v), re.test(v), `${p} partly on ${JSON.stringify(v)}`);
    }
  }
  // couldContain: true for every piece of a matching value, false for what no match holds.
  for (const p of patterns) {
    const m = compileIdentityPattern(p);
    const v = Array.from(p.replace(/\\(.)|\./g, (_, c?: string) => c ?? 'X'));
    t.true(m.test(v.join('')), p);
    for (let i = 0; i < v.length; i += 3)
      for (let j = i + 1; j <= v.length; j += 5)
        t.true(
          m.couldContain!(v.slice(i, j).join('')),
          `${p} could contain ${v.slice(i, j).join('')}`,
        );
    t.false(m.couldContain!('\n'), p);
    t.false(m.couldContain!(`${v.join('')}x`), p);
  }
  t.true(compileIdentityPattern('a.b').couldContain!('bb')); // abb
  t.false(compileIdentityPattern('a.b').couldContain!('bab'));
  t.true(compileIdentityPattern('a.b').couldContain!('ab'));
  t.false(compileIdentityPattern('a.b').couldContain!('ba'));
  // Operators, classes, flags and escaped letters still go to RE2.
  for (const p of ['a.*', 'a\\d', '(?i)abc', '[ab]', 'a|b', 'a{2}', '^a$', 'a\\pL', 'a.?'])
    t.is(compileIdentityPattern(p).couldContain, undefined, p);
});

test('identity breadth of a fixed-width pattern is the verdict the full search gives', (t) => {
  // Random owners, repositories and refs are 1 to 10 characters: dots of each width.
  const widths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => '.'.repeat(n));
  const patterns = [
    GOOD,
    'repo:myorg/myrepo:ref:refs/heads/main',
    'someone@example.com',
    ...widths.flatMap((dots) => [
      `repo:myorg/myrepo:ref:refs/heads/${dots}`,
      `repo:myorg/${dots}:ref:refs/heads/main`,
      `repo:${dots}/myrepo:ref:refs/heads/main`,
      `https://github.com/${dots}/${dots}/.github/workflows/release.yml@refs/heads/main`,
    ]),
  ];
  const kinds = new Set<string>();
  for (const p of patterns) {
    const fast = compileIdentityPattern(p);
    t.not(fast.couldContain, undefined, p);
    const re = RE2JS.compile(p);
    const full = {
      pattern: p,
      source: fast.source,
      test: (v: string) => re.testExact(v),
      testPart: (v: string) => re.test(v),
    };
    const verdict = identityBreadth(fast);
    t.deepEqual(verdict, identityBreadth(full), p);
    kinds.add(verdict.kind);
  }
  // The patterns reach more than one verdict, so the comparison is not narrow against narrow.
  t.true(kinds.size >= 3, [...kinds].join(', '));
});

test('identity breadth: a pattern any mailbox at a public domain matches is broad, with a mailbox for example', (t) => {
  for (const [pattern, domain] of [
    ['.*@gmail\\.com', /@gmail\.com$/],
    ['[^@]+@users\\.noreply\\.github\\.com', /@users\.noreply\.github\.com$/],
    ['.+@.+', /@/],
  ] as const) {
    const verdict = identityBreadth(compileIdentityPattern(pattern));
    t.is(verdict.kind, 'broad', pattern);
    t.regex(verdict.kind === 'broad' ? verdict.example : '', domain, pattern);
  }
  // One mailbox is narrow.
  t.is(identityBreadth(compileIdentityPattern('release-bot@example\\.com')).kind, 'narrow');
});
