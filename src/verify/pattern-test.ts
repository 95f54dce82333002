/**
 * `stella policy test`: does an identity value match a pattern (or any pattern of a policy
 * environment), and why not — the seed's "Testing Patterns" (`echo ID | grep -E PATTERN`)
 * with Stella's rules: RE2, matched whole, control characters and non-NFC values never match,
 * patterns no certificate can satisfy named.
 */
import { unusableIdentityReason } from '../x509/identity-candidates.js';
import { describeBreadth } from './identity-breadth.js';
import type { IdentityPolicyPattern } from './policy.js';

export interface PatternTestResult {
  identity: string;
  match: boolean;
  /** The patterns (as given) that match. */
  matched: string[];
  /** Why not (or, for a match, what to know). */
  reasons: string[];
}

export function testIdentity(
  identity: string,
  patterns: readonly IdentityPolicyPattern[],
): PatternTestResult {
  const reasons: string[] = [];
  const unusable = unusableIdentityReason(identity);
  if (unusable) {
    reasons.push(`the identity ${unusable}: such a value never matches`);
    return { identity, match: false, matched: [], reasons };
  }
  const matched = patterns.filter((p) => p.matcher.test(identity)).map((p) => p.pattern);
  for (const p of patterns) {
    if (p.breadth.kind !== 'narrow')
      reasons.push(
        describeBreadth(p.pattern, p.breadth) +
          (p.breadth.kind === 'broad' ? ' (verify refuses it without --allow-broad-identity)' : ''),
      );
    if (matched.includes(p.pattern)) continue;
    if (p.unsatisfiable) reasons.push(p.unsatisfiable);
    else if (p.matcher.testPart(identity))
      reasons.push(
        `${p.matcher.source}: the pattern matches only part of the identity; patterns are matched whole (implicitly anchored), so add .* where more may follow`,
      );
    else reasons.push(`${p.matcher.source}: does not match`);
    if (
      identity.includes(':ref:refs/') &&
      !p.pattern.startsWith('project_path:') &&
      /:ref:(?!refs)/.test(p.pattern)
    )
      reasons.push(
        'check the ref format: GitHub and Gitea subjects say ref:refs/heads/main, not ref:main',
      );
  }
  return { identity, match: matched.length > 0, matched, reasons };
}
