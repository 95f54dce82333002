/**
 * How the identity flags become verification options (`identityPolicyOptions`): each
 * `--certificate-extension NAME=REGEX` split at its first `=`, and every usage mistake refused
 * as INPUT_INVALID naming the flags, before any file is read.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import {
  identityPolicyOptions,
  type IdentityFlagValues,
} from '../../src/commands/identity-flags.js';

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
