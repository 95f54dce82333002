/**
 * Step 6: policy. The OIDC issuer is compared exactly (.1.8, else legacy .1.1; both present and
 * different is refused). The identity regex is matched whole (anchored) against every SAN
 * (URI, email, Fulcio other-name .1.7) and the OIDC subject in .1.24; one match suffices.
 */
import { fail } from '../errors.js';
import { certificateIdentities, oidcIssuer } from '../x509/certificate.js';
import type { VerifyInput, VerifyState } from './context.js';
import { anchoredForm } from './identity-pattern.js';

export function verifyIdentityStep(input: VerifyInput, state: VerifyState): NonNullable<VerifyState['identity']> {
  const key = state.signingKey!;
  const policy = input.policy;
  if (key.kind !== 'certificate' || !policy.identity) {
    fail('INPUT_INVALID', 'policy', 'identity policy applies to certificate bundles only');
  }
  const issuer = oidcIssuer(key.leaf);
  if (issuer === undefined) fail('ISSUER_MISMATCH', 'policy', `issuer mismatch: certificate has no OIDC issuer extension, expected ${policy.identity.issuer}`);
  if (issuer !== policy.identity.issuer) {
    fail('ISSUER_MISMATCH', 'policy', `issuer mismatch: certificate issuer ${JSON.stringify(issuer)}, expected ${JSON.stringify(policy.identity.issuer)}`, { actual: issuer, expected: policy.identity.issuer });
  }
  const ids = certificateIdentities(key.leaf);
  for (const id of ids) {
    if (policy.identity.regex.test(id.value)) return { issuer, matched: id.value, matchedField: id.field };
  }
  return fail('IDENTITY_MISMATCH', 'policy', `identity mismatch: none of the certificate identities ${JSON.stringify(ids.map((i) => i.value))} matches ${anchoredForm(policy.identity.pattern)}`, {
    identities: ids,
    pattern: policy.identity.pattern,
  });
}
