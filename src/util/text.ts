/**
 * Text trimming in linear time. `s.replace(/\/+$/, '')` and its kind look linear and are not:
 * a pattern with no start anchor is tried at every position, and each try runs to the end of
 * the run before `$` fails, so a long run of the character that does not end the string
 * costs its length squared (100,000 slashes then one other character: ~7 s in V8). Inputs
 * such as a certificate's extension values or a timestamp's fraction digits come from
 * strangers, so trimming goes through here.
 */

/** `s` without the characters of `chars` that end it ("a//" -> "a" for '/'). */
export function withoutTrailing(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end--;
  return end === s.length ? s : s.slice(0, end);
}
