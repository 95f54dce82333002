/**
 * Patterns that cannot match anything a real Fulcio certificate carries, with what does work.
 * The seed's GitLab "Protected refs" row (`project_path:G/P:ref_protected:true`) is one:
 * GitLab's `sub` is `project_path:G/P:ref_type:T:ref:R` (no ref_protected field) and Fulcio has
 * no extension for the ref_protected claim, so no certificate offers that text.
 */
import { quoted } from '../util/text.js';

/** Why `pattern` can never match a Fulcio certificate's identities, and what to write instead; undefined when it can. */
export function unsatisfiableHint(pattern: string): string | undefined {
  if (/ref_protected/.test(pattern)) {
    const project = /project_path:([^:()|*+?[\]\\]+)/.exec(pattern)?.[1] ?? '<group>/<project>';
    return (
      `${quoted(pattern)} can never match: GitLab's OIDC subject is project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name> ` +
      `(it has no ref_protected field) and Fulcio puts no extension in a certificate for the ref_protected claim. ` +
      `Pin the protected refs themselves instead, e.g. "project_path:${project}:ref_type:branch:ref:main" (protect main in GitLab) ` +
      `or "project_path:${project}:ref_type:tag:ref:v.*" (protect v* tags), and a deployment environment with --certificate-extension deployment-environment=production`
    );
  }
  return undefined;
}

/**
 * How an issuer given (on the command line or in a policy file) differs from the
 * certificate's when a person would not see it: a trailing `/`, letter case. Said after a
 * mismatch; the comparison itself stays exact. (White space in an issuer is refused before.)
 */
export function nearMissHint(given: string, actual: string): string | undefined {
  if (given === actual) return undefined;
  if (given.replace(/\/+$/, '') === actual.replace(/\/+$/, ''))
    return 'differs only by a trailing /';
  if (given.toLowerCase() === actual.toLowerCase()) return 'differs only in letter case';
  return undefined;
}

/** A pattern with white space at either end (pasted, most likely): said after a mismatch and by --explain. */
export function surroundingSpaceHint(pattern: string): string | undefined {
  return /^\s|\s$/.test(pattern)
    ? `The identity pattern ${quoted(pattern)} has white space at its start or end, which is matched as any other character is`
    : undefined;
}
