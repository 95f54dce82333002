/**
 * PEM (RFC 7468), the one encoder and the one strict decoder. A block is
 *
 *   -----BEGIN <label>-----
 *   <standard base64, padded, broken into lines>
 *   -----END <label>-----
 *
 * with the same label at both ends. The body is read by the one strict base64 decoder
 * (./encoding.ts): line breaks are skipped, anything else (spaces, tabs, junk) is refused, so
 * two readers of one PEM file cannot disagree about its bytes.
 *
 * Two ways to read, for the two kinds of input Stella meets:
 *   - a file (a root bundle, a key file): every block, explanatory text between blocks
 *     ignored (openssl writes "subject=" lines), every block of the expected label;
 *   - a field (a Rekor v1 body's key): exactly one block and nothing else.
 */
import { fail, type CheckName, type ErrorCode } from '../errors.js';
import { decodeBase64, toBase64 } from './encoding.js';

export type PemLabel = 'CERTIFICATE' | 'PUBLIC KEY';

export interface PemContext {
  /** Default CERTIFICATE_MALFORMED. */
  code?: ErrorCode;
  /** Default 'input'. */
  check?: CheckName;
  /** What is read, for messages. Default "PEM". */
  what?: string;
}

/**
 * The blocks of `text` in order: each BEGIN line with the first END line after it (`end`
 * undefined for a BEGIN line with no END line after it, which is the last block: nothing
 * after it can close). Scanned forward once: the pattern this replaced
 * (`BEGIN…([\s\S]*?)END…`, tried at every BEGIN) searched the rest of the text again for each
 * BEGIN line that had no END after it.
 */
export function* pemBlocks(
  text: string,
): Generator<{ begin: string; body: string; end: string | undefined }> {
  // Local: a generator pauses between blocks, so no pattern state may be shared.
  const beginLine = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n/g;
  const endLineAt = /-----END ([A-Z0-9 ]+)-----/y;
  for (let m = beginLine.exec(text); m !== null; m = beginLine.exec(text)) {
    const bodyStart = beginLine.lastIndex;
    let end: RegExpExecArray | null = null;
    for (let at = text.indexOf('-----END ', bodyStart); at >= 0 && end === null;) {
      endLineAt.lastIndex = at;
      end = endLineAt.exec(text);
      if (end === null) at = text.indexOf('-----END ', at + 1);
    }
    if (end === null) {
      yield { begin: m[1]!, body: text.slice(bodyStart), end: undefined };
      return;
    }
    yield { begin: m[1]!, body: text.slice(bodyStart, end.index), end: end[1]! };
    beginLine.lastIndex = endLineAt.lastIndex;
  }
}

const SINGLE_RE =
  /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n-----END ([A-Z0-9 ]+)-----\r?\n?$/;

function body(b64: string, label: string, ctx: PemContext): Uint8Array {
  const code = ctx.code ?? 'CERTIFICATE_MALFORMED';
  const check = ctx.check ?? 'input';
  const what = ctx.what ?? 'PEM';
  const der = decodeBase64(b64, `${what} ${label}`, check, code);
  if (der.length === 0) fail(code, check, `${what} ${label}: empty block`);
  return der;
}

/** A public key is wanted, and no private key would do. */
const publicWanted = (labels: readonly string[]): boolean =>
  labels.includes('PUBLIC KEY') && !labels.some((l) => l.endsWith('PRIVATE KEY'));
/** A private key where its public key belongs: what to give instead. */
const PRIVATE_FOR_PUBLIC =
  ': that is a private key; give its public key (`cosign public-key --key KEY`, or `openssl pkey -in KEY -pubout`)';

/**
 * Every PEM block of a file, as DER: each complete (BEGIN and a matching END), labelled one of
 * `labels` (checked before its body is read), with a strict base64 body; text between blocks
 * is ignored. May be empty.
 */
export function pemFileBlocks<L extends string>(
  text: string,
  labels: readonly L[],
  ctx: PemContext = {},
): { label: L; der: Uint8Array }[] {
  const code = ctx.code ?? 'CERTIFICATE_MALFORMED';
  const check = ctx.check ?? 'input';
  const what = ctx.what ?? 'PEM';
  const out: { label: L; der: Uint8Array }[] = [];
  for (const { begin, body: b64, end } of pemBlocks(text)) {
    // A truncated file (a copy cut short on its way across) is refused, not read in part.
    if (end === undefined)
      fail(code, check, `${what}: BEGIN ${begin} has no END line (truncated?)`);
    if (begin !== end) fail(code, check, `${what}: BEGIN ${begin} closed by END ${end}`);
    const label = begin as L;
    if (!labels.includes(label))
      fail(
        code,
        check,
        `${what}: expected ${labels.join(' or ')}, found ${begin}${publicWanted(labels) && begin.endsWith('PRIVATE KEY') ? PRIVATE_FOR_PUBLIC : ''}`,
      );
    out.push({ label, der: body(b64, begin, ctx) });
  }
  return out;
}

/**
 * Every PEM block in `text`, as DER. Each must be labelled `label`; text between blocks is
 * ignored; at least one block is required.
 */
export function pemToDerList(
  text: string,
  label: PemLabel = 'CERTIFICATE',
  ctx: PemContext = {},
): Uint8Array[] {
  const code = ctx.code ?? 'CERTIFICATE_MALFORMED';
  const check = ctx.check ?? 'input';
  const what = ctx.what ?? 'PEM';
  const out = pemFileBlocks(text, [label], ctx).map((b) => b.der);
  if (out.length === 0) fail(code, check, `${what}: no ${label} block found`);
  return out;
}

/**
 * Exactly one PEM block with one of `labels`, and nothing else around it (a final newline
 * allowed). Returns the label and the DER.
 */
export function pemToDer<L extends PemLabel>(
  text: string,
  labels: readonly L[],
  ctx: PemContext = {},
): { label: L; der: Uint8Array } {
  const code = ctx.code ?? 'CERTIFICATE_MALFORMED';
  const check = ctx.check ?? 'input';
  const what = ctx.what ?? 'PEM';
  const m = SINGLE_RE.exec(text);
  const label = m?.[1] as L | undefined;
  if (!m || label === undefined || m[3] !== label || !labels.includes(label)) {
    return fail(
      code,
      check,
      `${what} is not a single PEM ${labels.map((l) => l.toLowerCase()).join(' or ')}`,
    );
  }
  return { label, der: body(m[2]!, label, ctx) };
}

/** DER -> PEM: 64-character lines, a final newline (what openssl and Rekor write). */
export function derToPem(der: Uint8Array, label: PemLabel = 'CERTIFICATE'): string {
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
