/**
 * Policy files read in process: an issuer with a character a terminal does not show is a
 * POLICY_INVALID at its key and line, as every other mistake in a policy file is (it reached
 * buildPolicy before, which named a command-line flag the file does not have; found by the
 * fuzz test).
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { parsePolicyFile, policyOptionsForEnvironment } from '../../src/verify/policy-file.js';
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
    // --json prints the details: the key and line a program can point at.
    t.deepEqual(e?.details, { key: 'environments.default.issuer', line: 3 });
  }
});

test('an issuer that is not an http(s) URL is refused at its key and line, naming its scheme', (t) => {
  for (const [issuer, why] of [
    ['ftp://issuer.example', 'must be an http(s) URL, got ftp:'],
    ['file:///etc/issuer', 'must be an http(s) URL, got file:'],
    ['urn:example:issuer', 'must be an http(s) URL, got urn:'],
    ['issuer.example', 'not a URL: "issuer.example"'],
  ] as const) {
    const e = t.throws(() => parsePolicyFile(policy(issuer), 'p.yaml'), {
      instanceOf: StellaError,
    });
    t.is(e?.code, 'POLICY_INVALID', issuer);
    t.is(e?.message, `p.yaml: environments.default.issuer (line 3): ${why}`);
  }
  t.is(
    parsePolicyFile(policy('http://127.0.0.1:8080'), 'p.yaml').environments.get('default')
      ?.issuers[0],
    'http://127.0.0.1:8080',
  );
});

test('isPlainIssuerText: the one test of issuer text, for flags and policy files alike', (t) => {
  t.true(isPlainIssuerText(GH));
  t.false(isPlainIssuerText(`${GH}\u0000`));
  t.false(isPlainIssuerText(`${GH} `));
  t.false(isPlainIssuerText('https://cafe\u0301.example'));
  t.true(isPlainIssuerText('https://caf\u00e9.example'));
});

test('version: optional; 1 is read, any other value is refused at its key and line', (t) => {
  const body = policy(GH);
  t.is(parsePolicyFile(`version: 1\n${body}`, 'p.yaml').environments.size, 1);
  t.is(parsePolicyFile(body, 'p.yaml').environments.size, 1);
  for (const v of ['2', '0', '"1"', '1.5', 'one', '[1]', 'null']) {
    const e = t.throws(() => parsePolicyFile(`version: ${v}\n${body}`, 'p.yaml'), {
      instanceOf: StellaError,
    });
    t.is(e?.code, 'POLICY_INVALID', v);
    t.is(e?.message, 'p.yaml: version (line 1): must be 1', v);
  }
});

test('a policy file that is not a mapping is refused at the top level', (t) => {
  for (const body of ['just text\n', '- a\n- b\n', '42\n']) {
    const e = t.throws(() => parsePolicyFile(body, 'p.yaml'), { instanceOf: StellaError });
    t.is(e?.code, 'POLICY_INVALID', body);
    t.regex(e?.message ?? '', /^p\.yaml: \(top level\)( \(line 1\))?: must be a mapping$/, body);
  }
});

test('a key that is not a plain string (a number, a boolean, null, a sequence) is refused at its mapping and line', (t) => {
  for (const key of ['1', 'true', 'null', '[a]']) {
    const e = t.throws(
      () =>
        parsePolicyFile(
          `environments:\n  default:\n    ${key}: x\n    issuer: ${JSON.stringify(GH)}\n    identity: "repo:a/b:ref:refs/heads/main"\n`,
          'p.yaml',
        ),
      { instanceOf: StellaError },
    );
    t.is(e?.code, 'POLICY_INVALID', key);
    t.is(e?.message, 'p.yaml: environments.default (line 3): keys must be plain strings', key);
  }
});

test('extension constraints: every Fulcio extension but the issuers, which are pinned by issuer:', (t) => {
  const withExtension = (name: string) =>
    `${policy(GH)}    extensions:\n      ${name}: production\n`;
  for (const name of [
    'deployment-environment',
    'github-workflow-repository',
    'source-repository-ref',
  ]) {
    const env = parsePolicyFile(withExtension(name), 'p.yaml').environments.get('default');
    t.deepEqual(env?.extensions, [[name, 'production']], name);
  }
  for (const name of ['issuer', 'issuer-v1', 'no-such-extension']) {
    const e = t.throws(() => parsePolicyFile(withExtension(name), 'p.yaml'), {
      instanceOf: StellaError,
    });
    t.is(e?.code, 'POLICY_INVALID', name);
    t.regex(e?.message ?? '', /unknown or unconstrainable Fulcio extension name/, name);
  }
});

test('breadth warnings: none for a narrow identity; a broad one accepted by allowBroadIdentity says so', (t) => {
  const env = (text: string) => parsePolicyFile(text, 'p.yaml').environments.get('default')!;
  t.deepEqual(env(policy(GH)).warnings, []);
  const broad = env(
    `environments:\n  default:\n    issuer: ${JSON.stringify(GH)}\n    identity: "repo:.*"\n    allowBroadIdentity: true\n`,
  );
  t.is(broad.warnings.length, 1);
  t.regex(
    broad.warnings[0]!,
    /^environments\.default\.identity: .* \(accepted: allowBroadIdentity\)$/,
  );
});

test('predicateType: a URI the environment requires, carried into its options; anything else is refused at its key and line', (t) => {
  const withType = (value: string) => `${policy(GH)}    predicateType: ${JSON.stringify(value)}\n`;
  const SLSA = 'https://slsa.dev/provenance/v1';
  const file = parsePolicyFile(withType(SLSA), 'p.yaml');
  t.is(file.environments.get('default')?.predicateType, SLSA);
  t.is(policyOptionsForEnvironment(file, 'default').predicateType, SLSA);
  // cosign's name for a type stands for its URI (cosign verify-attestation --type slsaprovenance1).
  t.is(
    parsePolicyFile(withType('slsaprovenance1'), 'p.yaml').environments.get('default')
      ?.predicateType,
    SLSA,
  );
  const none = parsePolicyFile(policy(GH), 'p.yaml');
  t.is(none.environments.get('default')?.predicateType, undefined);
  t.false('predicateType' in policyOptionsForEnvironment(none, 'default'));
  for (const [value, why] of [
    ['slsa', 'is not a URI'],
    [` ${SLSA}`, 'holds whitespace or a control character'],
  ] as const) {
    const e = t.throws(() => parsePolicyFile(withType(value), 'p.yaml'), {
      instanceOf: StellaError,
    });
    t.is(e?.code, 'POLICY_INVALID', value);
    t.is(
      e?.message,
      `p.yaml: environments.default.predicateType (line 5): ${JSON.stringify(value)} ${why}: a predicate type is a URI, compared exactly, or cosign's name for one (custom, cyclonedx, link, openvex, slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, vuln)`,
    );
  }
  const empty = t.throws(() => parsePolicyFile(`${policy(GH)}    predicateType: ""\n`, 'p.yaml'), {
    instanceOf: StellaError,
  });
  t.regex(empty?.message ?? '', /predicateType \(line 5\): must be a non-empty string$/);
});

test('identities: and issuers: must be non-empty lists: a single string, an empty list or nothing is refused at its key and line', (t) => {
  const file = (ids: string, iss = `[${JSON.stringify(GH)}]`): string =>
    `environments:\n  default:\n    issuers: ${iss}\n    identities: ${ids}\n`;
  t.deepEqual(
    parsePolicyFile(file('["repo:a/b:ref:refs/heads/main"]'), 'p.yaml').environments.get('default')
      ?.issuers,
    [GH],
  );
  for (const [text, key, line] of [
    [file('"repo:a/b:ref:refs/heads/main"'), 'identities', 4],
    [file('[]'), 'identities', 4],
    [file(''), 'identities', 4],
    [file('["repo:a/b:ref:refs/heads/main"]', JSON.stringify(GH)), 'issuers', 3],
    [file('["repo:a/b:ref:refs/heads/main"]', '[]'), 'issuers', 3],
  ] as const) {
    const e = t.throws(() => parsePolicyFile(text, 'p.yaml'), { instanceOf: StellaError });
    t.is(e?.code, 'POLICY_INVALID', text);
    t.is(
      e?.message,
      `p.yaml: environments.default.${key} (line ${line}): must be a non-empty list`,
      text,
    );
  }
});
