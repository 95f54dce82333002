/**
 * Policy files read in process: an issuer with a character a terminal does not show is a
 * POLICY_INVALID at its key and line, as every other mistake in a policy file is (it reached
 * buildPolicy before, which named a command-line flag the file does not have; found by the
 * fuzz test).
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { parsePolicyFile } from '../../src/verify/policy-file.js';
import { isPlainIssuerText } from '../../src/verify/policy.js';

const GH = 'https://token.actions.githubusercontent.com';
const policy = (issuer: string): string =>
  `environments:\n  default:\n    issuer: ${JSON.stringify(issuer)}\n    identity: "repo:a/b:ref:refs/heads/main"\n`;

test('an issuer with a control character, whitespace or a non-NFC form is refused at its key and line', (t) => {
  t.is(parsePolicyFile(policy(GH), 'p.yaml').environments.get('default')?.issuers[0], GH);
  for (const issuer of [
    `${GH}\u0018`,
    `${GH}\u007f`,
    `${GH}\t`,
    `https://caf\u0065\u0301.example`,
  ]) {
    const e = t.throws(() => parsePolicyFile(policy(issuer), 'p.yaml'), {
      instanceOf: StellaError,
    });
    t.is(e?.code, 'POLICY_INVALID', JSON.stringify(issuer));
    t.is(
      e?.message,
      'p.yaml: environments.default.issuer (line 3): must be NFC with no whitespace or control characters',
    );
  }
});

test('isPlainIssuerText: the one test of issuer text, for flags and policy files alike', (t) => {
  t.true(isPlainIssuerText(GH));
  t.false(isPlainIssuerText(`${GH}\u0000`));
  t.false(isPlainIssuerText(`${GH} `));
  t.false(isPlainIssuerText('https://cafe\u0301.example'));
  t.true(isPlainIssuerText('https://caf\u00e9.example'));
});
