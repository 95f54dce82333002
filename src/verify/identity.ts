/**
 * Step 6: policy. The OIDC issuer is compared exactly (.1.8, else legacy .1.1; both present and
 * different is refused). The identity regex is matched whole (anchored) against every SAN
 * (URI, email, Fulcio other-name .1.7) and the OIDC subject in .1.24; one match suffices.
 */
import { fail } from '../errors.js';
import { oidcIssuer, type Certificate } from '../x509/certificate.js';
import type { VerifyInput, VerifyState } from './context.js';
import { anchoredForm } from './identity-pattern.js';

const OID_SUBJECT = '1.3.6.1.4.1.57264.1.24';
const OID_OTHERNAME_USERNAME = '1.3.6.1.4.1.57264.1.7';

/** Every identity value a certificate carries, with where it came from. */
export function certificateIdentities(cert: Certificate): { field: string; value: string }[] {
  const out: { field: string; value: string }[] = [];
  const san = cert.subjectAltName;
  if (san) {
    for (const v of san.uris) out.push({ field: 'SAN URI', value: v });
    for (const v of san.emails) out.push({ field: 'SAN email', value: v });
    for (const o of san.otherNames) if (o.oid === OID_OTHERNAME_USERNAME && o.value !== undefined) out.push({ field: 'SAN otherName', value: o.value });
  }
  const sub = cert.fulcio.values.get(OID_SUBJECT);
  if (sub !== undefined) out.push({ field: 'OIDC subject (1.3.6.1.4.1.57264.1.24)', value: sub });
  return out;
}

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
