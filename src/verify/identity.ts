/**
 * Step 6: policy. The OIDC issuer is compared exactly (.1.8, else legacy .1.1; both present and
 * different is refused) with each pinned issuer. Each identity pattern (RE2, matched whole) is
 * tried against every identity the certificate offers (x509/identity-candidates.ts: SAN URI,
 * email, other-name .7, the OIDC subject in .24, or a subject derived from the other
 * extensions when .24 is absent); one match suffices. Values with control characters or not
 * in NFC never match. Then every extension constraint must hold.
 */
import { fail } from '../errors.js';
import { oidcIssuer } from '../x509/certificate.js';
import { identityCandidates, type IdentityCandidate } from '../x509/identity-candidates.js';
import { certificateKeyOf, type VerifyInput, type VerifyState } from './context.js';
import type { CertificateIdentityPolicy } from './policy.js';
import { listed, quoted } from '../util/text.js';
import { nearMissHint } from './identity-hints.js';

export interface CandidateExplanation {
  field: string;
  value: string;
  derived: boolean;
  /** Patterns (as given) that match this value. */
  matches: string[];
  /** Why it can never match (control characters, not NFC). */
  unusable?: string;
}

export interface IdentityExplanation {
  issuer: { certificate: string | undefined; allowed: string[]; matched: boolean };
  patterns: string[];
  candidates: CandidateExplanation[];
  extensions: {
    name: string;
    oid: string;
    pattern: string;
    value: string | undefined;
    matched: boolean;
  }[];
  /** Hints for patterns no certificate can satisfy. */
  hints: string[];
}

export interface IdentityResult {
  issuer: string;
  matched: string;
  matchedField: string;
  /** The pattern (as given) that matched. */
  pattern: string;
  /** The match was on a subject derived from other extensions (no .24). */
  derived: boolean;
  explain: IdentityExplanation;
}

/** Every comparison the identity step makes, without deciding: what `--explain` prints. */
export function explainIdentity(
  policy: CertificateIdentityPolicy,
  leaf: Parameters<typeof identityCandidates>[0],
): IdentityExplanation {
  let certIssuer: string | undefined;
  try {
    certIssuer = oidcIssuer(leaf);
  } catch {
    certIssuer = undefined;
  }
  const candidates = identityCandidates(leaf).map((c: IdentityCandidate) => ({
    field: c.field,
    value: c.value,
    derived: c.derived !== undefined,
    matches: c.unusable
      ? []
      : policy.patterns.filter((p) => p.matcher.test(c.value)).map((p) => p.pattern),
    ...(c.unusable ? { unusable: c.unusable } : {}),
  }));
  const extensions = policy.extensions.map((e) => {
    const value = leaf.fulcio.values.get(e.oid);
    return {
      name: e.name,
      oid: e.oid,
      pattern: e.pattern,
      value,
      matched: value !== undefined && e.matcher.test(value),
    };
  });
  return {
    issuer: {
      certificate: certIssuer,
      allowed: policy.issuers,
      matched: certIssuer !== undefined && policy.issuers.includes(certIssuer),
    },
    patterns: policy.patterns.map((p) => p.pattern),
    candidates,
    extensions,
    hints: policy.patterns.flatMap((p) =>
      [p.unsatisfiable, p.surroundingSpace].filter((h) => h !== undefined),
    ),
  };
}

const quoteList = (xs: string[]): string => xs.map((x) => quoted(x)).join(', ');

export function verifyIdentityStep(input: VerifyInput, state: VerifyState): IdentityResult {
  const key = certificateKeyOf(state, 'policy');
  const policy = input.policy;
  if (!policy.identity)
    fail('INPUT_INVALID', 'policy', 'a certificate bundle needs an identity policy');
  const id = policy.identity;
  const expected =
    id.issuers.length === 1 ? quoted(id.issuers[0]) : `one of ${quoteList(id.issuers)}`;
  const issuer = oidcIssuer(key.leaf);
  const explain = explainIdentity(id, key.leaf);
  if (issuer === undefined)
    fail(
      'ISSUER_MISMATCH',
      'policy',
      `issuer mismatch: certificate has no OIDC issuer extension, expected ${expected}`,
      { explain },
    );
  if (!id.issuers.includes(issuer)) {
    const near = id.issuers
      .map((given) => [given, nearMissHint(given, issuer)] as const)
      .find(([, hint]) => hint !== undefined);
    fail(
      'ISSUER_MISMATCH',
      'policy',
      `issuer mismatch: certificate issuer ${quoted(issuer)}, expected ${expected}${near ? ` (${quoted(near[0])} ${near[1]!}: issuers are compared exactly)` : ''}`,
      { actual: issuer, expected: id.issuers.length === 1 ? id.issuers[0] : id.issuers, explain },
    );
  }
  const hit = explain.candidates.find((c) => c.matches.length > 0);
  if (!hit) {
    const shown = listed(
      explain.candidates.map(
        (c) =>
          `${c.field} ${quoted(c.value)}${c.unusable ? ` (never matches: ${c.unusable})` : ''}`,
      ),
    );
    const patterns = id.patterns.map((p) => p.matcher.source).join(' or ');
    const hints = explain.hints.length > 0 ? `. ${explain.hints.join('. ')}` : '';
    const refHint = explain.candidates.some((c) => c.value.includes(':ref:'))
      ? ' (check the ref format: GitHub and Gitea subjects say ref:refs/heads/main, GitLab ref_type:branch:ref:main)'
      : '';
    return fail(
      'IDENTITY_MISMATCH',
      'policy',
      `identity mismatch: none of the certificate identities (${shown || 'none'}) matches ${patterns}${refHint}${hints}`,
      {
        identities: explain.candidates.map((c) => ({
          field: c.field,
          value: c.value,
          ...(c.unusable ? { unusable: c.unusable } : {}),
        })),
        pattern: id.pattern,
        patterns: explain.patterns,
        explain,
      },
    );
  }
  for (const e of explain.extensions) {
    if (e.matched) continue;
    fail(
      'EXTENSION_MISMATCH',
      'policy',
      e.value === undefined
        ? `extension mismatch: the certificate has no ${e.name} extension (${e.oid}); required to match ^(?:${e.pattern})$`
        : `extension mismatch: ${e.name} (${e.oid}) is ${quoted(e.value)}, which does not match ^(?:${e.pattern})$`,
      { extension: e.name, oid: e.oid, value: e.value ?? null, pattern: e.pattern, explain },
    );
  }
  if (hit.derived) {
    state.warnings.push(
      `identity matched ${hit.field} ${quoted(hit.value)}: the certificate has no OIDC subject extension (1.3.6.1.4.1.57264.1.24, Fulcio before v1.8.6), so the subject was derived from its other extensions in the platform's default format; a repository owner may have changed the sub template`,
    );
  }
  return {
    issuer,
    matched: hit.value,
    matchedField: hit.field,
    pattern: hit.matches[0]!,
    derived: hit.derived,
    explain,
  };
}
