/**
 * The one place a user's identity pattern becomes a matcher (checklist C23, H49).
 *
 * Dialect: Go's RE2, as cosign and sigstore-go users write it (`(?i)`, `[[:alpha:]]`, `\-`,
 * `\pL`, `(?P<name>…)`), matched by re2js, a port of Go's regexp package: linear time in the
 * identity's length whatever the pattern, so no pattern can make verification backtrack for
 * minutes. What RE2 has no linear-time form for (lookaround, backreferences) is refused.
 *
 * Compile, then anchor: the pattern is compiled alone (an unbalanced `x)|(?:.*` is a syntax
 * error, never "x, or anything"), and matched with the engine's whole-input match
 * (`testExact`), not by pasting it into `^(?:…)$` text: the anchoring is not part of the
 * pattern, so nothing the pattern contains can close or escape it — `(?m)` flags and
 * alternation included.
 *
 * A pattern that is not in Unicode NFC is refused: identities that are not NFC never match
 * (identity-candidates.ts), so such a pattern could only ever match look-alikes.
 */
import type { RE2JS } from 're2js';
import { lazyRequire } from '../util/lazy-require.js';
import { fail } from '../errors.js';

/** re2js (300 kB) is loaded only when a pattern is not a plain literal. */
const re2js = lazyRequire('re2js') as () => typeof import('re2js');

/** Longer patterns are refused: identities are URIs and emails, not documents. */
export const MAX_IDENTITY_PATTERN_LENGTH = 4096;

/** A compiled identity pattern: tests a whole value (anchored at both ends by the engine). */
export interface IdentityMatcher {
  /** The pattern as the user gave it. */
  readonly pattern: string;
  /** How the pattern is shown in reports: ^(?:pattern)$ (whole-value match). */
  readonly source: string;
  /** True when the whole of `value` matches. Linear in `value`'s length. */
  test(value: string): boolean;
  /** True when some part of `value` matches (what an unanchored grep would say): explanations only, never a verdict. */
  testPart(value: string): boolean;
  /**
   * Set when the pattern is a plain literal (no operator, only escaped ASCII punctuation):
   * the one value it matches. `test(v)` is then `v === literal`.
   */
  readonly literal?: string;
}

/**
 * Characters RE2 (without flags) matches as themselves, and escaped ASCII punctuation. No
 * surrogates: a lone one is not a character.
 */
const LITERAL_PATTERN = /^(?:[^\\.+*?()|[\]{}^$\uD800-\uDFFF]|\\[!-/:-@[-`{-~])*$/;

/**
 * The value a pattern matches when it is a plain literal (the common case: an exact
 * identity with its dots escaped), else undefined. Such a pattern needs no regular-expression
 * engine: it matches one string, compared exactly.
 */
function literalOf(pattern: string): string | undefined {
  return LITERAL_PATTERN.test(pattern) ? pattern.replace(/\\(.)/g, '$1') : undefined;
}

/** What RE2's messages say, in the words a user of `--certificate-identity` needs. */
function reason(e: unknown, pattern: string): string {
  const err = e as { error?: unknown; input?: unknown; message?: unknown };
  const what = typeof err.error === 'string' ? err.error : String(err.message ?? e);
  const at =
    typeof err.input === 'string' && err.input !== '' ? `: \`${err.input.slice(0, 80)}\`` : '';
  const hint =
    /unsupported Perl syntax/.test(what) || /\(\?<?[=!]/.test(pattern)
      ? ' (RE2 has no lookahead, lookbehind or backreference)'
      : /invalid escape/.test(what)
        ? ' (RE2 has no backreferences; escape a literal character with \\)'
        : '';
  return `${what}${at}${hint}`;
}

/**
 * `pattern` compiled alone as an RE2 regular expression, matched whole. An empty, over-long,
 * non-NFC or unparsable pattern is INPUT_INVALID naming `what` (the flag or policy key).
 */
export function compileIdentityPattern(
  pattern: string,
  what = '--certificate-identity',
): IdentityMatcher {
  if (pattern.length === 0) fail('INPUT_INVALID', 'input', `${what} is empty`);
  if (pattern.length > MAX_IDENTITY_PATTERN_LENGTH) {
    fail(
      'INPUT_INVALID',
      'input',
      `${what} is ${pattern.length} characters long; the limit is ${MAX_IDENTITY_PATTERN_LENGTH}`,
      { length: pattern.length, limit: MAX_IDENTITY_PATTERN_LENGTH },
    );
  }
  if (pattern.normalize('NFC') !== pattern) {
    fail(
      'INPUT_INVALID',
      'input',
      `${what} is not in Unicode NFC: certificate identities that are not NFC never match, so write the pattern in NFC (composed characters) form`,
      { pattern },
    );
  }
  const literal = literalOf(pattern);
  if (literal !== undefined)
    return {
      pattern,
      source: anchoredForm(pattern),
      test: (value: string) => value === literal,
      testPart: (value: string) => value.includes(literal),
      literal,
    };
  let re: RE2JS;
  try {
    re = re2js().RE2JS.compile(pattern);
  } catch (e) {
    return fail(
      'INPUT_INVALID',
      'input',
      `${what} is not a valid RE2 regular expression on its own: ${reason(e, pattern)}`,
      { pattern },
      { cause: e },
    );
  }
  return {
    pattern,
    source: anchoredForm(pattern),
    test: (value: string) => re.testExact(value),
    testPart: (value: string) => re.test(value),
  };
}

/** How a compiled pattern is shown in reports and errors. */
export function anchoredForm(pattern: string): string {
  return `^(?:${pattern})$`;
}
