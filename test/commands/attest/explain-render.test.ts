/** `--explain`'s lines from an identity explanation: each verdict a candidate can get, said plainly. */
import test from 'ava';
import { explainLines } from '../../../src/commands/attest/explain-render.js';
import type { IdentityExplanation } from '../../../src/verify/identity.js';

const ISSUER = 'https://token.actions.githubusercontent.com';

function explanation(over: Partial<IdentityExplanation> = {}): IdentityExplanation {
  return {
    issuer: { certificate: ISSUER, allowed: [ISSUER], matched: true },
    patterns: ['https://github\\.com/o/r/.*'],
    candidates: [],
    extensions: [],
    hints: [],
    ...over,
  };
}

test('a certificate with no identity says so; the issuer line names both sides', (t) => {
  const lines = explainLines(explanation(), 'policy.yaml: production');
  t.deepEqual(lines, [
    'identity policy (policy.yaml: production):',
    `  issuer   certificate "${ISSUER}" vs "${ISSUER}" (exact): match`,
    '  patterns ^(?:https://github\\.com/o/r/.*)$',
    '  the certificate offers no identity',
  ]);
  const noIssuer = explainLines(
    explanation({ issuer: { certificate: undefined, allowed: ['a', 'b'], matched: false } }),
    undefined,
  );
  t.is(noIssuer[0], 'identity policy:');
  t.is(noIssuer[1], '  issuer   certificate (none) vs "a" or "b" (exact): NO MATCH');
});

test('each candidate: a match naming its patterns, derived or not; no match; never matches, with why', (t) => {
  const lines = explainLines(
    explanation({
      candidates: [
        {
          field: 'SAN URI',
          value: 'https://github.com/o/r/w@x',
          derived: false,
          matches: ['p1', 'p2'],
        },
        { field: 'subject (.24)', value: 'repo:o/r', derived: true, matches: ['p3'] },
        { field: 'SAN email', value: 'a@b', derived: false, matches: [] },
        {
          field: 'SAN URI',
          value: 'x\ny',
          derived: false,
          matches: ['p1'],
          unusable: 'a control character',
        },
      ],
      extensions: [
        {
          name: 'Source Repository URI',
          oid: '1.3.6.1.4.1.57264.1.12',
          pattern: 'r',
          value: 'r',
          matched: true,
        },
        {
          name: 'Build Trigger',
          oid: '1.3.6.1.4.1.57264.1.20',
          pattern: 'push',
          value: undefined,
          matched: false,
        },
      ],
      hints: ['a hint'],
    }),
    undefined,
  );
  t.deepEqual(lines.slice(3), [
    `  ${'SAN URI'.padEnd(42)} "https://github.com/o/r/w@x": MATCH ("p1", "p2")`,
    `  ${'subject (.24)'.padEnd(42)} "repo:o/r": MATCH ("p3") [derived: the sub template may differ]`,
    `  ${'SAN email'.padEnd(42)} "a@b": no match`,
    `  ${'SAN URI'.padEnd(42)} "x\\ny": never matches: a control character`,
    '  extension Source Repository URI (1.3.6.1.4.1.57264.1.12) "r" vs ^(?:r)$: match',
    '  extension Build Trigger (1.3.6.1.4.1.57264.1.20) (absent) vs ^(?:push)$: NO MATCH',
    '  note: a hint',
  ]);
});
