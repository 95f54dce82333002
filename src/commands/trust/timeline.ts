/**
 * `trust list --timeline`: every entry's effective validity window on one time axis, with now
 * marked, so overlaps, gaps and a coming rotation show at a glance. Pure: entries, clock and
 * width in, lines out. Plain ASCII unless `unicode` (the command turns it on for a TTY).
 * Rendering is the command's side: the store gives entries, never lines.
 */
import type { StoreEntry } from '../../trust/store/entries.js';
import { formatTime } from '../../util/time.js';
import { terminalLine } from '../../util/text.js';

export interface TimelineOptions {
  now: number;
  /** Total line width in columns (minimum 60). */
  width: number;
  unicode: boolean;
}

interface Glyphs {
  bar: string;
  open: string;
  start: string;
  end: string;
  now: string;
  axis: string;
  tick: string;
}

const ASCII: Glyphs = { bar: '=', open: '>', start: '[', end: ']', now: '|', axis: '-', tick: '+' };
const UNICODE: Glyphs = {
  bar: '━',
  open: '▶',
  start: '┣',
  end: '┫',
  now: '│',
  axis: '─',
  tick: '┼',
};

function label(e: StoreEntry, width: number): string {
  const s = `#${e.id} ${e.kind.padEnd(5)} ${terminalLine(e.subject || e.uri || e.fingerprint.slice(0, 16))}`;
  return s.length > width ? s.slice(0, width - 1) + '~' : s.padEnd(width);
}

export function renderTimeline(entries: StoreEntry[], opts: TimelineOptions): string[] {
  const g = opts.unicode ? UNICODE : ASCII;
  const width = Math.max(60, opts.width);
  const labelWidth = Math.min(36, Math.max(16, Math.floor(width * 0.35)));
  const plot = width - labelWidth - 1;
  if (entries.length === 0) return ['(no trust entries)'];
  const starts = entries.map((e) => Date.parse(e.validFrom));
  const ends = entries.map((e) =>
    e.effectiveUntil === null ? undefined : Date.parse(e.effectiveUntil),
  );
  let lo = Math.min(...starts, opts.now);
  let hi = Math.max(opts.now, ...ends.filter((x): x is number => x !== undefined), ...starts);
  const pad = Math.max((hi - lo) * 0.04, 24 * 3600 * 1000);
  lo -= pad;
  hi += pad;
  const col = (t: number): number =>
    Math.min(plot - 1, Math.max(0, Math.round(((t - lo) / (hi - lo)) * (plot - 1))));
  const nowCol = col(opts.now);

  const lines: string[] = [];
  // Axis: a tick and label at each year boundary that fits.
  const axis = Array.from({ length: plot }, () => g.axis);
  const labels = Array.from({ length: plot }, () => ' ');
  const firstYear = new Date(lo).getUTCFullYear() + 1;
  const lastYear = new Date(hi).getUTCFullYear();
  const step = Math.max(
    1,
    Math.ceil((lastYear - firstYear + 1) / Math.max(1, Math.floor(plot / 6))),
  );
  for (let y = firstYear; y <= lastYear; y += step) {
    const c = col(Date.UTC(y, 0, 1));
    axis[c] = g.tick;
    const text = String(y);
    if (c + text.length <= plot && labels.slice(c, c + text.length + 1).every((ch) => ch === ' ')) {
      for (let i = 0; i < text.length; i++) labels[c + i] = text[i]!;
    }
  }
  lines.push(' '.repeat(labelWidth + 1) + labels.join('').trimEnd());
  lines.push(' '.repeat(labelWidth + 1) + axis.join(''));
  entries.forEach((e, i) => {
    const end = ends[i];
    if (end !== undefined && end < starts[i]!) {
      // Retired or withdrawn before it started: no window to draw.
      lines.push(`${label(e, labelWidth)} (never valid)`);
      return;
    }
    const row = Array.from({ length: plot }, () => ' ');
    const a = col(starts[i]!);
    const b = end === undefined ? plot - 1 : col(end);
    for (let c = a; c <= b; c++) row[c] = g.bar;
    row[a] = g.start;
    row[b] = end === undefined ? g.open : g.end;
    if (row[nowCol] === ' ') row[nowCol] = g.now;
    lines.push(`${label(e, labelWidth)} ${row.join('').trimEnd()}`);
  });
  const nowText = `^ now ${formatTime(opts.now).slice(0, 10)}`;
  const nowLine =
    nowCol + nowText.length <= plot
      ? ' '.repeat(nowCol) + nowText
      : ' '.repeat(Math.max(0, nowCol - nowText.length + 1)) +
        `now ${formatTime(opts.now).slice(0, 10)} ^`;
  lines.push(' '.repeat(labelWidth + 1) + nowLine);
  const legend = `${g.start}${g.bar}${g.end} window  ${g.start}${g.bar}${g.open} open-ended  ${g.now} now`;
  lines.push(' '.repeat(labelWidth + 1) + legend);
  return lines;
}
