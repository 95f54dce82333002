/**
 * How the identity flags become verification options (`identityPolicyOptions`): each
 * `--certificate-extension NAME=REGEX` split at its first `=`, and every usage mistake refused
 * as INPUT_INVALID naming the flags, before any file is read.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StellaError } from '../../src/errors.js';
import {
  commandLineIdentity,
  identityPolicyOptions,
  type IdentityFlagValues,
} from '../../src/commands/identity-flags.js';
import { identityAsked } from '../../src/commands/identity-flag-spec.js';
import { buildPolicy } from '../../src/verify/policy.js';

const ISSUER = 'https://token.actions.githubusercontent.com';
/** No default policy is looked for: a store that does not exist, no $STELLA_POLICY. */
const CTX = { keyGiven: false, store: '/nonexistent/stella/trust.db', env: {} };

function refused(t: import('ava').ExecutionContext, flags: IdentityFlagValues, why: RegExp) {
  const e = t.throws(() => identityPolicyOptions(flags, CTX), { instanceOf: StellaError });
  t.is(e.code, 'INPUT_INVALID', JSON.stringify(flags));
  t.regex(e.message, why);
}

test('--certificate-extension NAME=REGEX is split at its first =; without a name or a pattern it is refused with an example', (t) => {
  const r = identityPolicyOptions(
    {
      'certificate-identity': 'https://github.com/org/repo/.+',
      'certificate-oidc-issuer': ISSUER,
      'certificate-extension': ['deployment-environment=production', 'build-trigger=a=b'],
    },
    CTX,
  );
  t.deepEqual(r.options.certificateExtensions, [
    ['deployment-environment', 'production'],
    ['build-trigger', 'a=b'],
  ]);
  t.is(r.options.patternName?.(0), '--certificate-identity');
  for (const bad of ['deployment-environment', '=production', 'deployment-environment=', ''])
    refused(
      t,
      { 'certificate-oidc-issuer': ISSUER, 'certificate-extension': [bad] },
      /: expected NAME=REGEX, e\.g\. deployment-environment=production$/,
    );
});

test('usage mistakes are INPUT_INVALID naming the flags', (t) => {
  const identity = { 'certificate-identity': 'x', 'certificate-oidc-issuer': ISSUER };
  refused(t, { ...identity, 'certificate-identity-regexp': 'y' }, /are the same flag .*: give one/);
  refused(t, { ...identity, policy: 'p.yaml' }, /--policy cannot be combined with/);
  refused(
    t,
    { 'certificate-extension': ['build-trigger=push'], policy: 'p.yaml' },
    /--policy cannot be combined with/,
  );
  refused(t, { ...identity, environment: 'prod' }, /--environment selects an environment/);
  refused(t, {}, /^an identity is required/);
  const e = t.throws(
    () => identityPolicyOptions({ policy: 'p.yaml' }, { ...CTX, keyGiven: true }),
    { instanceOf: StellaError },
  );
  t.regex(e.message, /--key verifies a managed-key bundle/);
  t.deepEqual(identityPolicyOptions({}, { ...CTX, keyGiven: true }), { options: {} });
});

test("cosign's --certificate-github-workflow-* flags pin their extension to the value taken literally, after any --certificate-extension, each named by its own flag", (t) => {
  const r = identityPolicyOptions(
    {
      'certificate-identity': 'x',
      'certificate-oidc-issuer': ISSUER,
      'certificate-extension': ['deployment-environment=prod'],
      'certificate-github-workflow-trigger': 'push',
      'certificate-github-workflow-sha': 'a1b2',
      'certificate-github-workflow-name': 'Release (v1.*)',
      'certificate-github-workflow-repository': 'acme/app',
      'certificate-github-workflow-ref': 'refs/tags/v1.0',
    },
    CTX,
  );
  t.deepEqual(r.options.certificateExtensions, [
    ['deployment-environment', 'prod'],
    ['github-workflow-trigger', 'push'],
    ['github-workflow-sha', 'a1b2'],
    ['github-workflow-name', 'Release \\(v1\\.\\*\\)'],
    ['github-workflow-repository', 'acme/app'],
    ['github-workflow-ref', 'refs/tags/v1\\.0'],
  ]);
  const names = r.options.certificateExtensions!.map(([n], i) => r.options.extensionName?.(n, i));
  t.deepEqual(names, [
    '--certificate-extension deployment-environment',
    '--certificate-github-workflow-trigger',
    '--certificate-github-workflow-sha',
    '--certificate-github-workflow-name',
    '--certificate-github-workflow-repository',
    '--certificate-github-workflow-ref',
  ]);
  // The literal matches its value whole, and nothing else.
  const policy = buildPolicy(r.options);
  const name = policy.identity!.extensions.find((e) => e.name === 'github-workflow-name')!;
  t.true(name.matcher.test('Release (v1.*)'));
  t.false(name.matcher.test('Release (v1.2)'));
  t.false(name.matcher.test('Release (v1.*) evil'));
  // They ask for an identity as --certificate-extension does: refused beside --policy.
  refused(
    t,
    { 'certificate-github-workflow-repository': 'acme/app', policy: 'p.yaml' },
    /--policy cannot be combined with .*--certificate-github-workflow-\*/,
  );
  t.true(identityAsked({ 'certificate-github-workflow-ref': 'refs/heads/main' }));
  t.true(identityAsked({ 'certificate-extension': ['build-trigger=push'] }));
  t.false(identityAsked({ 'certificate-extension': [], 'allow-broad-identity': true }));
});

test('commandLineIdentity finds every mistake in identity flags before anything is read: pairs, issuers, extension names, patterns, --key beside an identity', (t) => {
  const identity = { 'certificate-identity': 'x', 'certificate-oidc-issuer': ISSUER };
  const mistakes: [IdentityFlagValues, RegExp, boolean?][] = [
    [
      { 'certificate-identity': 'x' },
      /^--certificate-oidc-issuer is required with --certificate-identity$/,
    ],
    [
      { 'certificate-oidc-issuer': ISSUER },
      /^--certificate-identity is required with --certificate-oidc-issuer$/,
    ],
    [
      { 'certificate-github-workflow-ref': 'refs/heads/main', 'certificate-oidc-issuer': ISSUER },
      /^--certificate-identity is required/,
    ],
    [
      { ...identity, 'certificate-oidc-issuer': 'https://token.*' },
      /^--certificate-oidc-issuer "https:\/\/token\.\*" looks like a pattern/,
    ],
    [
      { ...identity, 'certificate-extension': ['no-such=x'] },
      /^--certificate-extension no-such: unknown Fulcio extension name "no-such"/,
    ],
    [
      { ...identity, 'certificate-extension': ['issuer=x'] },
      /^--certificate-extension issuer: issuers are pinned with --certificate-oidc-issuer/,
    ],
    [
      { ...identity, 'certificate-extension': ['build-trigger=a', 'build-trigger=b'] },
      /^--certificate-extension build-trigger is given twice: give each extension once/,
    ],
    [
      {
        ...identity,
        'certificate-extension': ['github-workflow-ref=a'],
        'certificate-github-workflow-ref': 'b',
      },
      /^--certificate-extension github-workflow-ref and --certificate-github-workflow-ref both constrain github-workflow-ref: give each extension once/,
    ],
    [
      {
        ...identity,
        'certificate-extension': ['github-workflow-ref=a', '1.3.6.1.4.1.57264.1.6=b'],
      },
      /^--certificate-extension github-workflow-ref and --certificate-extension 1\.3\.6\.1\.4\.1\.57264\.1\.6 both constrain github-workflow-ref/,
    ],
    [
      { ...identity, 'certificate-extension': ['build-trigger=(?=x)'] },
      /^--certificate-extension build-trigger is not a valid RE2 regular expression on its own/,
    ],
    [
      { ...identity, 'certificate-identity': 'x)|(?:.*' },
      /^--certificate-identity is not a valid RE2 regular expression on its own/,
    ],
    [
      identity,
      /^give either --certificate-identity\/--certificate-oidc-issuer or --key, not both$/,
      true,
    ],
  ];
  for (const [flags, why, keyGiven] of mistakes) {
    const e = t.throws(() => commandLineIdentity(flags, { ...CTX, keyGiven: keyGiven ?? false }), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'INPUT_INVALID', JSON.stringify(flags));
    t.regex(e.message, why, JSON.stringify(flags));
  }
  // What it passes is what buildPolicy builds from; the breadth search is buildPolicy's.
  t.notThrows(() => commandLineIdentity({ ...identity, 'certificate-identity': '.*' }, CTX));
  t.notThrows(() => commandLineIdentity({}, { ...CTX, keyGiven: true }));
});

test('--predicate-type goes into the options beside identity flags, --key or a policy file; with a policy that names another type it is refused', (t) => {
  const SLSA = 'https://slsa.dev/provenance/v1';
  const identity = { 'certificate-identity': 'x', 'certificate-oidc-issuer': ISSUER };
  t.is(
    identityPolicyOptions({ ...identity, 'predicate-type': SLSA }, CTX).options.predicateType,
    SLSA,
  );
  t.is(identityPolicyOptions(identity, CTX).options.predicateType, undefined);
  t.deepEqual(
    identityPolicyOptions({ 'predicate-type': SLSA }, { ...CTX, keyGiven: true }).options,
    { predicateType: SLSA },
  );
  // It says what was signed, not who: alone it is no identity.
  refused(t, { 'predicate-type': SLSA }, /^an identity is required/);
  const dir = mkdtempSync(join(tmpdir(), 'stella-predicate-'));
  try {
    const file = join(dir, 'policy.yaml');
    const env = (type?: string) =>
      `default:\n  issuer: ${ISSUER}\n  identity: "repo:a/b:ref:refs/heads/main"\n${type ? `  predicateType: ${type}\n` : ''}`;
    writeFileSync(file, env());
    t.is(
      identityPolicyOptions({ policy: file, 'predicate-type': SLSA }, CTX).options.predicateType,
      SLSA,
    );
    writeFileSync(file, env(SLSA));
    t.is(identityPolicyOptions({ policy: file }, CTX).options.predicateType, SLSA);
    t.is(
      identityPolicyOptions({ policy: file, 'predicate-type': SLSA }, CTX).options.predicateType,
      SLSA,
    );
    refused(
      t,
      { policy: file, 'predicate-type': 'https://spdx.dev/Document' },
      /^--predicate-type "https:\/\/spdx\.dev\/Document" and the policy's predicateType "https:\/\/slsa\.dev\/provenance\/v1" \(.*policy\.yaml, environment default\) differ: give one$/,
    );
    // A value that cannot be a predicate type is refused before the policy file is read.
    const e = t.throws(
      () => commandLineIdentity({ policy: join(dir, 'none.yaml'), 'predicate-type': 'slsa' }, CTX),
      { instanceOf: StellaError },
    );
    t.is(
      e.message,
      `--predicate-type "slsa" is not a URI: a predicate type is a URI, compared exactly, or cosign's name for one (custom, cyclonedx, link, openvex, slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, vuln)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a policy file that cannot be read is named by how it was given: --policy, $STELLA_POLICY, or the file beside the trust store', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-policy-source-'));
  try {
    const cases: [IdentityFlagValues, NodeJS.ProcessEnv][] = [
      [{ policy: dir }, {}],
      [{}, { STELLA_POLICY: dir }],
    ];
    const messages = cases.map(([flags, env]) => {
      const e = t.throws(() => identityPolicyOptions(flags, { ...CTX, env }), {
        instanceOf: StellaError,
      });
      return e.message;
    });
    t.deepEqual(messages, [
      `--policy ${JSON.stringify(dir)}: a directory, not a regular file`,
      `$STELLA_POLICY ${JSON.stringify(dir)}: a directory, not a regular file`,
    ]);
    // policy.yaml beside the trust store, when it is no file.
    mkdirSync(join(dir, 'policy.yaml'));
    const beside = t.throws(
      () => identityPolicyOptions({}, { ...CTX, store: join(dir, 'trust.db') }),
      { instanceOf: StellaError },
    );
    t.regex(beside.message, /^policy\.yaml next to the trust store ".*policy\.yaml": a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
