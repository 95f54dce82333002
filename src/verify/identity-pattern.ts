/**
 * The one place a user's certificate-identity pattern becomes a matcher (checklist C23, H49).
 *
 * Compile, then anchor: the pattern must be a complete regular expression on its own before it
 * is wrapped as ^(?:pattern)$. Wrapping first would let an unbalanced pattern such as `x)|(?:.*`
 * close the anchoring group early and turn into "x, or anything". A pattern that parses alone
 * is one Disjunction, so inside the non-capturing group it stays whole and the anchors hold for
 * every branch, lookaround and backreference.
 *
 * Semantics are JavaScript's (Unicode mode). Inline flag groups such as `(?i)` or `(?i:...)` are
 * refused whatever the Node version: Node 20 rejects them but newer V8s accept `(?i:...)`, and a
 * pattern must not change meaning with the runtime. Swapping in RE2 semantics changes this file
 * only.
 */
import { fail } from '../errors.js';

/** Longer patterns are refused: identities are URIs and emails, not documents. */
export const MAX_IDENTITY_PATTERN_LENGTH = 4096;

/** `(?` followed by flag letters, optionally `-` and more letters, then `:` or `)`. */
const INLINE_FLAGS = /^\(\?[a-zA-Z]*(?:-[a-zA-Z]*)?[:)]/;

/** The first inline flag group outside a character class, or undefined. */
function inlineFlagGroup(pattern: string): { at: number; group: string } | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(' && pattern[i + 1] === '?') {
      const m = INLINE_FLAGS.exec(pattern.slice(i, i + 64));
      // `(?:` alone is a plain non-capturing group, not a flag group.
      if (m && m[0] !== '(?:') return { at: i, group: m[0] };
    }
  }
  return undefined;
}

/**
 * `pattern` compiled on its own, then anchored whole: ^(?:pattern)$. An empty, over-long,
 * unparsable or flag-carrying pattern is INPUT_INVALID naming `what` (the flag or option).
 */
export function compileIdentityPattern(pattern: string, what = '--certificate-identity'): RegExp {
  if (pattern.length === 0) fail('INPUT_INVALID', 'input', `${what} is empty`);
  if (pattern.length > MAX_IDENTITY_PATTERN_LENGTH) {
    fail('INPUT_INVALID', 'input', `${what} is ${pattern.length} characters long; the limit is ${MAX_IDENTITY_PATTERN_LENGTH}`, { length: pattern.length, limit: MAX_IDENTITY_PATTERN_LENGTH });
  }
  const flags = inlineFlagGroup(pattern);
  if (flags) {
    fail('INPUT_INVALID', 'input', `${what} is not a valid regular expression: inline flag group ${JSON.stringify(flags.group)} at offset ${flags.at} is not supported (write the variants out, e.g. [Oo]rg)`);
  }
  try {
    new RegExp(pattern, 'u');
  } catch (e) {
    // V8's message repeats the pattern as /.../u; keep only the reason.
    const reason = (e as Error).message.replace(/^Invalid regular expression: \/[\s\S]*\/u?: /, '');
    return fail('INPUT_INVALID', 'input', `${what} is not a valid regular expression on its own: ${reason}`, { pattern }, { cause: e });
  }
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** How a compiled pattern is shown in reports and errors. */
export function anchoredForm(pattern: string): string {
  return `^(?:${pattern})$`;
}
