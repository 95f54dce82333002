/**
 * Log levels for what Stella is doing, on stderr: `error` (errors only), `warn` (the default:
 * errors and warnings), `info` (each step and decision), `debug` (also every request and its
 * answer). Set by STELLAOPS_LOG_LEVEL (the seed guide's debug mode) or by a command's
 * --verbose (= debug). Never a token, a key or a password: callers log what they do, not
 * secrets, and every line is also passed through `redact` (JWTs, PEM private keys, Basic and
 * Bearer credentials) before it is written.
 *
 * Bottom layer: node: and ./text.js only.
 */
import { quoted, terminalLine } from './text.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let explicit: LogLevel | undefined;
let envWarned = false;

/** Set the level for this process (--verbose). */
export function setLogLevel(level: LogLevel): void {
  explicit = level;
}

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

/** The level in force: set explicitly, else STELLAOPS_LOG_LEVEL, else warn. */
export function currentLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  if (explicit) return explicit;
  const raw = env.STELLAOPS_LOG_LEVEL?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'warn';
  if (isLogLevel(raw)) return raw;
  // A bad value must not stop a verification: said once, then the default.
  if (!envWarned) {
    envWarned = true;
    process.stderr.write(
      `warning: STELLAOPS_LOG_LEVEL=${quoted(env.STELLAOPS_LOG_LEVEL)} is not one of ${LOG_LEVELS.join(', ')}; using warn\n`,
    );
  }
  return 'warn';
}

export function logEnabled(level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(currentLogLevel());
}

/**
 * Where a JWT starts: a JOSE header is a JSON object, so its base64url starts with "ey" ("eyJ"
 * when `{"` opens it, "eyA"/"ewo" and others when whitespace does), at a word boundary.
 */
const TOKEN_START = /\b(?:ey|ew)/g;
/**
 * A JWT from there: the header has at least 15 characters (`{"alg":"x"}`), and two dots after
 * it make a JWT. Host names such as eyes.example.org do not.
 */
const TOKEN_AT =
  /(?:ey|ew)[A-Za-z0-9_-]{13}[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{2}[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/y;
const SEGMENT_AT = /[A-Za-z0-9_-]*/y;

/**
 * Every JWT replaced, as `text.replace(/\b(?:ey|ew)[A-Za-z0-9_-]{13,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\/g, …)`
 * would, in linear time: that pattern is tried again at every word boundary of a segment that
 * is not a token ("ey-ey-ey-…": 100 KB took ~8 s). A start that fails fails for every later
 * start in the same segment (they share what follows it and have less before the dot), so
 * the search goes on after the segment.
 */
function redactTokens(text: string): string {
  let out = '';
  let copied = 0;
  TOKEN_START.lastIndex = 0;
  for (let m = TOKEN_START.exec(text); m !== null; m = TOKEN_START.exec(text)) {
    TOKEN_AT.lastIndex = m.index;
    const token = TOKEN_AT.exec(text);
    if (token !== null) {
      out += `${text.slice(copied, m.index)}<token redacted>`;
      copied = TOKEN_START.lastIndex = m.index + token[0].length;
    } else {
      SEGMENT_AT.lastIndex = m.index;
      SEGMENT_AT.exec(text);
      TOKEN_START.lastIndex = SEGMENT_AT.lastIndex;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Secrets that must never reach a log line, whatever a caller passed. */
export function redact(text: string): string {
  return redactTokens(text)
    .replace(
      /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
      '<private key redacted>',
    )
    .replace(/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 <redacted>');
}

function write(level: 'info' | 'debug', text: string): void {
  if (!logEnabled(level)) return;
  process.stderr.write(`stella ${level}: ${terminalLine(redact(text))}\n`);
}

/** A step or decision (level info and above). */
export function logInfo(text: string): void {
  write('info', text);
}

/** A request, an answer, a detail (level debug). */
export function logDebug(text: string): void {
  write('debug', text);
}
