/**
 * Checkpoint (C2SP signed note) mutations, line-aware: the origin, tree size and root hash
 * lines, extension lines, the blank separator, and the "— <name> <base64>" signature lines
 * (name, key hint, signature, count, order, the dash itself), plus encoding-level edits (CRLF,
 * control characters, lone surrogates, size past the 64 KiB limit).
 */
import type { Prng } from './prng.js';
import { havoc, type Trail } from './mutate-bytes.js';

const DASH = '\u2014 ';

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Split a note into its text lines and signature lines (undefined when it has no blank line). */
export function splitNote(note: string): { text: string[]; sigs: string[] } | undefined {
  const i = note.lastIndexOf('\n\n');
  if (i < 0) return undefined;
  const sigBlock = note.slice(i + 2);
  return {
    text: note.slice(0, i).split('\n'),
    sigs: sigBlock.endsWith('\n') ? sigBlock.slice(0, -1).split('\n') : sigBlock.split('\n'),
  };
}

export function joinNote(text: readonly string[], sigs: readonly string[]): string {
  return `${text.join('\n')}\n\n${sigs.join('\n')}\n`;
}

const SIZE_EDITS: ((rng: Prng, s: string) => string)[] = [
  (_r, s) => String(BigInt(/^\d+$/.test(s) ? s : '0') + 1n),
  (_r, s) => String(BigInt(/^\d+$/.test(s) ? s : '1') - 1n),
  () => '0',
  () => '-1',
  (_r, s) => `0${s}`,
  (_r, s) => `${s} `,
  (_r, s) => `+${s}`,
  () => '9007199254740991',
  () => '9007199254740992',
  () => '9223372036854775807',
  () => '9223372036854775808',
  () => '99999999999999999999999999',
  () => '1e3',
  () => '',
  () => '0x10',
  () => '１２',
];

const NAME_EDITS: ((rng: Prng, s: string) => string)[] = [
  (_r, s) => s + 'x',
  (_r, s) => s.slice(0, -1),
  (_r, s) => s.toUpperCase(),
  () => '.',
  () => 'rekor',
  () => 'a+b',
  () => '',
  (_r, s) => `${s}:443`,
  (_r, s) => `evil.${s}`,
  (_r, s) => s.replace(/\./g, '\u2024'),
];

/** One mutation of a signed note; `resign`, when given, signs the mutated text again as the log would. */
export function mutateNote(
  rng: Prng,
  note: string,
  trail: Trail,
  resign?: (text: string) => string[],
): string {
  const parts = splitNote(note);
  const op = rng.weighted<string>([
    [parts ? 3 : 0, 'size'],
    [parts ? 2 : 0, 'origin'],
    [parts ? 2 : 0, 'root-hash'],
    [parts ? 1 : 0, 'extension'],
    [parts ? 1 : 0, 'text-lines'],
    [parts ? 3 : 0, 'sig-line'],
    [parts ? 2 : 0, 'sig-lines'],
    [2, 'encoding'],
    [1, 'bytes'],
  ]);
  if (op === 'bytes' || op === 'encoding' || !parts) {
    if (op === 'bytes' || !parts) {
      const sub: Trail = [];
      const out = Buffer.from(havoc(rng, Buffer.from(note, 'utf8'), sub)).toString('utf8');
      trail.push(`note: ${sub.join(', ')}`);
      return out;
    }
    const edit = rng.pick<[string, (s: string) => string]>([
      ['CRLF', (s) => s.replace(/\n/g, '\r\n')],
      ['no final newline', (s) => s.replace(/\n$/, '')],
      ['extra final newline', (s) => `${s}\n`],
      ['NUL', (s) => s.replace('\n', '\u0000\n')],
      ['tab', (s) => s.replace('\n', '\t\n')],
      ['lone surrogate', (s) => s.replace('\n', '\ud800\n')],
      ['BOM', (s) => `\ufeff${s}`],
      ['over 64 KiB', (s) => s.replace('\n\n', `\n${'e'.repeat(70_000)}\n\n`)],
      ['blank line doubled', (s) => s.replace('\n\n', '\n\n\n')],
      ['blank line removed', (s) => s.replace('\n\n', '\n')],
      ['empty', () => ''],
    ]);
    trail.push(`note: ${edit[0]}`);
    return edit[1](note);
  }
  let { text, sigs } = parts;
  text = [...text];
  sigs = [...sigs];
  let changedText = true;
  switch (op) {
    case 'size': {
      const e = rng.pick(SIZE_EDITS);
      text[1] = e(rng, text[1] ?? '');
      trail.push(`note: tree size -> ${JSON.stringify(text[1])}`);
      break;
    }
    case 'origin': {
      const o = text[0] ?? '';
      const next = rng.pick([
        o.replace(/ - \d+$/, ''),
        `${o} - 123`,
        o.replace(/ - \d+$/, ' - 01'),
        o.replace(/ - \d+$/, ' - -1'),
        '',
        ' ',
        `${o}x`,
        `x${o}`,
        o.toUpperCase(),
        `${o} - 1 - 2`,
        'rekor.sigstore.dev - 1193050959916656506',
        'é',
      ]);
      text[0] = next;
      trail.push(`note: origin -> ${JSON.stringify(next)}`);
      break;
    }
    case 'root-hash': {
      const h = text[2] ?? '';
      const raw = new Uint8Array(Buffer.from(h, 'base64'));
      const next = rng.pick([
        () => {
          const c = raw.slice();
          if (c.length) c[rng.int(c.length)]! ^= 1 << rng.int(8);
          return b64(c);
        },
        () => b64(raw.slice(0, 31)),
        () => b64(new Uint8Array([...raw, 0])),
        () => h.replace(/=$/, ''),
        () => `${h}=`,
        () => h.replace(/\+/g, '-'),
        () => '',
        () => b64(new Uint8Array(32)),
        () => b64(new Uint8Array(64)),
      ])();
      text[2] = next;
      trail.push(`note: root hash -> ${JSON.stringify(next)}`);
      break;
    }
    case 'extension': {
      const ext = rng.pick(['', 'x', 'Timestamp: 1700000000', '\u2014 extension', 'a'.repeat(300)]);
      const at = 3 + rng.int(Math.max(1, text.length - 2));
      const n = rng.chance(0.9) ? 1 : 200;
      text.splice(at, 0, ...Array.from({ length: n }, () => ext));
      trail.push(`note: ${n} extension line(s) ${JSON.stringify(ext.slice(0, 30))} at ${at}`);
      break;
    }
    case 'text-lines': {
      const how = rng.pick(['drop', 'dup', 'swap']);
      const i = rng.int(text.length);
      if (how === 'drop') text.splice(i, 1);
      else if (how === 'dup') text.splice(i, 0, text[i]!);
      else if (text.length > 1) [text[0], text[1]] = [text[1]!, text[0]!];
      trail.push(`note: text line ${i} ${how}`);
      break;
    }
    case 'sig-line': {
      changedText = false;
      const i = rng.int(sigs.length);
      const line = sigs[i] ?? '';
      const m = /^\u2014 (\S*) (\S*)$/.exec(line);
      const name = m?.[1] ?? 'x';
      const sig = new Uint8Array(Buffer.from(m?.[2] ?? '', 'base64'));
      const edit = rng.pick<[string, () => string]>([
        ['name', () => `${DASH}${rng.pick(NAME_EDITS)(rng, name)} ${m?.[2] ?? ''}`],
        [
          'key hint',
          () => {
            const c = sig.slice();
            if (c.length) c[rng.int(Math.min(4, c.length))]! ^= 1;
            return `${DASH}${name} ${b64(c)}`;
          },
        ],
        [
          'signature byte',
          () => {
            const c = sig.slice();
            if (c.length > 4) c[4 + rng.int(c.length - 4)]! ^= 1 << rng.int(8);
            return `${DASH}${name} ${b64(c)}`;
          },
        ],
        [
          'signature truncated',
          () => `${DASH}${name} ${b64(sig.slice(0, rng.int(sig.length + 1)))}`,
        ],
        ['hint only', () => `${DASH}${name} ${b64(sig.slice(0, 4))}`],
        ['hyphen for dash', () => line.replace('\u2014', '-')],
        ['three fields', () => `${line} x`],
        ['two spaces', () => line.replace(' ', '  ')],
        ['bad base64', () => `${line}!`],
        [
          'other signature',
          () =>
            `${DASH}${name} ${b64(new Uint8Array([...sig.slice(0, 4), ...new Uint8Array(70)]))}`,
        ],
      ]);
      sigs[i] = edit[1]();
      trail.push(`note: signature line ${i}: ${edit[0]}`);
      break;
    }
    default: {
      changedText = false;
      const how = rng.pick(['drop', 'dup', 'reverse', 'unknown-first', 'many', 'none']);
      if (how === 'drop') sigs.splice(rng.int(sigs.length), 1);
      else if (how === 'dup') sigs.push(sigs[rng.int(sigs.length)]!);
      else if (how === 'reverse') sigs.reverse();
      else if (how === 'unknown-first')
        sigs.unshift(`${DASH}witness.example ${b64(new Uint8Array(68).fill(7))}`);
      else if (how === 'many')
        while (sigs.length <= 101)
          sigs.push(`${DASH}w${sigs.length} ${b64(new Uint8Array(68).fill(sigs.length))}`);
      else sigs = [];
      trail.push(`note: signature lines ${how} (now ${sigs.length})`);
    }
  }
  if (changedText && resign && rng.chance(0.7)) {
    trail.push('note: re-signed by the log');
    const body = `${text.join('\n')}\n`;
    return joinNote(text, [...resign(body), ...sigs.filter(() => rng.chance(0.2))]);
  }
  return joinNote(text, sigs);
}
