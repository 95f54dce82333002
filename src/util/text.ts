/**
 * Text from strangers: trimmed in linear time, and quoted for messages.
 *
 * Trimming in linear time. `s.replace(/\/+$/, '')` and its kind look linear and are not:
 * a pattern with no start anchor is tried at every position, and each try runs to the end of
 * the run before `$` fails, so a long run of the character that does not end the string
 * costs its length squared (100,000 slashes then one other character: ~7 s in V8). Inputs
 * such as a certificate's extension values or a timestamp's fraction digits come from
 * strangers, so trimming goes through here.
 */

/**
 * Orders two strings by UTF-16 code units, as Array.prototype.sort does with no comparator
 * and as RFC 8785 orders keys: the same order on every machine and locale (never
 * localeCompare). For sorting records by a string field.
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `s` without the characters of `chars` that end it ("a//" -> "a" for '/'). */
export function withoutTrailing(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end--;
  return end === s.length ? s : s.slice(0, end);
}

const escapeChar = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * A value from input as a message shows it: JSON text (a string in quotes, its control
 * characters escaped, so the message stays one line and says where the value ends; what
 * JSON.stringify leaves raw that a terminal acts on, escaped by terminalText), at most
 * `max` characters of it, and when cut, how long it was: `"abc"… (70150 characters)`. Every
 * message that quotes a stranger's value goes through here: a 70 KB payload type quoted whole
 * made a 70 KB error line (found by the fuzz oracle's message bound).
 */
export function quoted(v: unknown, max = 200): string {
  if (typeof v === 'string') {
    if (v.length <= max) return terminalText(JSON.stringify(v));
    return `${terminalText(JSON.stringify(v.slice(0, max)))}… (${v.length} characters)`;
  }
  const text =
    typeof v === 'bigint' ? v.toString() : ((JSON.stringify(v) as string | undefined) ?? String(v));
  return text.length <= max
    ? terminalText(text)
    : `${terminalText(text.slice(0, max))}… (${text.length} characters)`;
}

/**
 * How much of a path a message shows: all of it up to PATH_MAX. A path is the user's own
 * (a flag, a file found under a folder they named), and one cut short names no file.
 */
export const PATH_CHARS_SHOWN = 4096;

/**
 * Text of a known shape whose length is a stranger's (the hex of a log id, which should be 32
 * bytes), cut as quoted cuts a value: at most `max` characters, then how long it was.
 */
export function clipped(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/**
 * A server's own words (an HTTP error body, the `message` of a JSON error, a registry's error
 * codes, a TSA's answer that is not a TimeStampResp) as a message shows them: one line, each
 * run of control characters made one space (servers answer with HTML pages, stack traces and
 * colour codes), trimmed, cut as clipped cuts, and safe for a terminal as terminalText makes it.
 */
export function serverText(text: string, max = 200): string {
  return terminalText(clipped(text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim(), max));
}

/**
 * Items of a message's list whose length is a stranger's (a certificate's identities, a
 * signing config's services): the first `max` joined by `sep`, then how many more.
 */
export function listed(items: readonly string[], sep = '; ', max = 10): string {
  if (items.length <= max) return items.join(sep);
  return `${items.slice(0, max).join(sep)}${sep}and ${items.length - max} more`;
}

/**
 * What a terminal must not be handed from a stranger: ESC, except the colour codes Stella's
 * own output paints with (bold, dim, red, green, yellow, reset: harmless if a stranger writes
 * them too), so no cursor movement, screen clearing, window title, hyperlink or hidden text;
 * every other C0 control but tab and newline (a carriage return lets "FAIL …\rok  " show
 * "ok"); DEL and the C1 controls (U+009B is CSI on some terminals); the bidirectional marks,
 * embeddings, overrides and isolates (a name shown right to left reads as another); and the
 * line and paragraph separators.
 */
const TERMINAL_UNSAFE =
  /\u001b(?!\[(?:0|1|2|31|32|33)m)|[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text as Stella writes it to stdout or stderr: what TERMINAL_UNSAFE names shown as `\u001b`
 * escapes, everything else (newlines, tabs, Stella's colours, any other Unicode) unchanged.
 * JSON output passes through unchanged in value: JSON.stringify already escapes C0, and the
 * characters it leaves raw only ever stand inside strings, where `\uXXXX` means the same.
 */
export function terminalText(text: string): string {
  return text.replace(TERMINAL_UNSAFE, escapeChar);
}

/**
 * One line of terminal output that holds a stranger's text (a message, a bundle's claims):
 * as terminalText, and a newline in it is escaped too, so a value cannot start a line of
 * its own ("…\nCertificate Issuer: https://token.actions.githubusercontent.com").
 */
export function terminalLine(text: string): string {
  return terminalText(text).replace(/\n/g, '\\n');
}

/** `s` as one single-quoted POSIX shell word: it stays one word, and nothing in it is expanded. */
export function shellQuoted(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `s` as one fish word: single-quoted, with `\\` and `'` escaped (fish's rule inside quotes). */
export function fishQuoted(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
