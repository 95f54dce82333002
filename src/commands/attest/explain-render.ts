/** `--explain`: the identity step's comparisons as lines a person reads (src/verify/identity.ts explainIdentity). */
import type { IdentityExplanation } from '../../verify/identity.js';
import { quoted } from '../../util/text.js';

export function explainLines(e: IdentityExplanation, source: string | undefined): string[] {
  const out: string[] = [`identity policy${source ? ` (${source})` : ''}:`];
  const allowed = e.issuer.allowed.map((i) => JSON.stringify(i)).join(' or ');
  out.push(
    `  issuer   certificate ${e.issuer.certificate === undefined ? '(none)' : quoted(e.issuer.certificate)} vs ${allowed} (exact): ${e.issuer.matched ? 'match' : 'NO MATCH'}`,
  );
  out.push(`  patterns ${e.patterns.map((p) => `^(?:${p})$`).join(', ')}`);
  if (e.candidates.length === 0) out.push('  the certificate offers no identity');
  for (const c of e.candidates) {
    const verdict = c.unusable
      ? `never matches: ${c.unusable}`
      : c.matches.length > 0
        ? `MATCH (${c.matches.map((p) => quoted(p)).join(', ')})${c.derived ? ' [derived: the sub template may differ]' : ''}`
        : 'no match';
    out.push(`  ${c.field.padEnd(42)} ${quoted(c.value)}: ${verdict}`);
  }
  for (const x of e.extensions) {
    out.push(
      `  extension ${x.name} (${x.oid}) ${x.value === undefined ? '(absent)' : quoted(x.value)} vs ^(?:${x.pattern})$: ${x.matched ? 'match' : 'NO MATCH'}`,
    );
  }
  for (const h of e.hints) out.push(`  note: ${h}`);
  return out;
}
