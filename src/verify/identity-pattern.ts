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

/** re2js (300 kB) is loaded only when a pattern is not a plain literal or fixed-width. */
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
  /**
   * Set when the pattern is fixed-width (a plain literal, or one with `.` wildcards): false
   * only when no value containing `part` can match (identity-breadth.ts skips those).
   */
  readonly couldContain?: (part: string) => boolean;
}

/**
 * Characters RE2 (without flags) matches as themselves, escaped ASCII punctuation, and `.`.
 * No surrogates: a lone one is not a character.
 */
const FIXED_WIDTH_PATTERN = /^(?:[^\\+*?()|[\]{}^$\uD800-\uDFFF]|\\[!-/:-@[-`{-~])*$/;

/** `.` in a fixed-width pattern: RE2 (without the `s` flag) matches any character but `\n`. */
const ANY = null;
type Atom = string | typeof ANY;

/**
 * The characters of a pattern made only of literal characters, escaped ASCII punctuation and
 * `.` (the common cases: an exact identity with its dots escaped, or with its dots left as
 * they are), one atom per code point; else undefined. Such a pattern matches values of
 * exactly its width, compared position by position, so it needs no regular-expression engine.
 */
function fixedWidthAtoms(pattern: string): Atom[] | undefined {
  if (!FIXED_WIDTH_PATTERN.test(pattern)) return undefined;
  const atoms: Atom[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') atoms.push(pattern[++i]!);
    else if (c === '.') atoms.push(ANY);
    else {
      const cp = String.fromCodePoint(pattern.codePointAt(i)!);
      atoms.push(cp);
      i += cp.length - 1;
    }
  }
  return atoms;
}

/** Whether `chars` (code points), laid over `atoms` from atom `at`, agree at every position. */
function agreeAt(atoms: readonly Atom[], at: number, chars: readonly string[], from = 0): boolean {
  const n = Math.min(atoms.length - at, chars.length - from);
  for (let j = 0; j < n; j++) {
    const a = atoms[at + j];
    const c = chars[from + j];
    if (a === ANY ? c === '\n' : c !== a) return false;
  }
  return true;
}

/** Where each character, and `.` (key ANY), stands in the pattern. */
function atomPositions(atoms: readonly Atom[]): Map<Atom, number[]> {
  const at = new Map<Atom, number[]>();
  atoms.forEach((a, i) => {
    const list = at.get(a);
    if (list) list.push(i);
    else at.set(a, [i]);
  });
  return at;
}

/**
 * Whether a value containing `part` could match: a match is exactly as wide as the pattern,
 * so `part` must lie over it somewhere, starting where the pattern has `part`'s first
 * character or a `.` (identity-breadth.ts asks this hundreds of times per pattern, at
 * start-up, so only those starts are tried).
 */
function couldContainPart(
  atoms: readonly Atom[],
  startsOf: Map<Atom, number[]>,
  part: readonly string[],
): boolean {
  if (part.length === 0) return true;
  const fits = (i: number): boolean => i + part.length <= atoms.length && agreeAt(atoms, i, part);
  if ((startsOf.get(part[0]!) ?? []).some(fits)) return true;
  return part[0] !== '\n' && (startsOf.get(ANY) ?? []).some(fits);
}

/** A fixed-width pattern's matcher (see fixedWidthAtoms). */
function fixedWidthMatcher(pattern: string, atoms: Atom[]): IdentityMatcher {
  const width = atoms.length;
  const anywhere = (chars: string[]): boolean => {
    for (let i = 0; i + width <= chars.length; i++) if (agreeAt(atoms, 0, chars, i)) return true;
    return false;
  };
  const literal = atoms.includes(ANY) ? undefined : atoms.join('');
  const startsOf = atomPositions(atoms);
  return {
    pattern,
    source: anchoredForm(pattern),
    ...(literal !== undefined
      ? {
          test: (value: string) => value === literal,
          testPart: (value: string) => value.includes(literal),
          couldContain: (part: string) => literal.includes(part),
          literal,
        }
      : {
          test: (value: string) => {
            const chars = Array.from(value);
            return chars.length === width && agreeAt(atoms, 0, chars);
          },
          testPart: (value: string) => anywhere(Array.from(value)),
          couldContain: (part: string) => couldContainPart(atoms, startsOf, Array.from(part)),
        }),
  };
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
  const atoms = fixedWidthAtoms(pattern);
  if (atoms !== undefined) return fixedWidthMatcher(pattern, atoms);
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

/**
 * The pattern that matches exactly `value`: RE2's metacharacters escaped, so it takes the
 * literal path (`IdentityMatcher.literal` is `value` again). What a caller that holds an
 * identity, rather than a pattern, passes as `certificateIdentity`.
 */
export function literalPattern(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** How a compiled pattern is shown in reports and errors. */
export function anchoredForm(pattern: string): string {
  return `^(?:${pattern})$`;
}
