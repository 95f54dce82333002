/**
 * `verify --archive ... --report report.html`: one self-contained page. No script at all, no
 * external style, font or image (a Content-Security-Policy of default-src 'none' says so to the
 * browser too), and every string that came from a bundle or a file name escaped. Totals,
 * failures first (check, code, message), then every artifact with identity, issuer, verified
 * time and log index, and a timeline per verified bundle: the signing time drawn against the
 * certificate, CA and log-key validity windows it was checked against.
 */
import { describeSeal } from '../../shipment/seal.js';
import type { ArtifactResult, ShipmentSummary } from '../../shipment/verify.js';
import type { BundleVerdict } from '../../shipment/verdict.js';
import type { TrustWindow } from '../../verify/pipeline.js';
import { terminalText } from '../../util/text.js';

/**
 * Text for the page: the six characters markup can use as entities, and what would change how
 * the text around it reads (bidirectional overrides and isolates, control characters) shown
 * as `\u202e`-style escapes, as on a terminal (terminalText): a right-to-left override in a
 * message or a name reversed the rest of its table cell.
 */
export function escapeHtml(s: string): string {
  return terminalText(s).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}
const e = (v: string | number | null | undefined): string =>
  escapeHtml(v === null || v === undefined ? '-' : String(v));

const ROW_LABEL: Record<'certificate' | TrustWindow['kind'], string> = {
  certificate: 'cert',
  ca: 'CA',
  tlog: 'log key',
  ctlog: 'CT key',
};

/**
 * The signing time (a vertical line) against every window it was checked against, one row each:
 * the leaf certificate, the CA it chained to, the transparency-log and CT-log keys. One linear
 * scale over all of them (an open-ended window runs to the right edge), so a certificate's
 * minutes are a sliver against a CA's years: each bar carries its exact window in a title.
 */
function timeline(v: BundleVerdict): string {
  if (!v.certificate || !v.verifiedTime) return '';
  const t = Date.parse(v.verifiedTime);
  const rows: { kind: keyof typeof ROW_LABEL; name: string; start: number; end: number | null }[] =
    [
      {
        kind: 'certificate',
        name: 'leaf certificate',
        start: Date.parse(v.certificate.notBefore),
        end: Date.parse(v.certificate.notAfter),
      },
      ...v.windows.map((w) => ({
        kind: w.kind,
        name: w.name,
        start: Date.parse(w.start),
        end: w.end === null ? null : Date.parse(w.end),
      })),
    ];
  const points = [t, ...rows.flatMap((r) => (r.end === null ? [r.start] : [r.start, r.end]))];
  const lo = Math.min(...points);
  const hi = Math.max(...points);
  const span = Math.max(1, hi - lo);
  const left = 52;
  const right = 350;
  const x = (ms: number): number => left + ((ms - lo) / span) * (right - left - 10);
  const rowH = 12;
  const height = rows.length * rowH + 8;
  const bars = rows
    .map((r, i) => {
      const y = 4 + i * rowH;
      const x0 = x(r.start);
      const x1 = r.end === null ? right : x(r.end);
      const from = new Date(r.start).toISOString();
      const until = r.end === null ? 'open' : new Date(r.end).toISOString();
      return `<text x="2" y="${y + 9}" font-size="9">${ROW_LABEL[r.kind]}</text><rect data-window="${r.kind}" data-start="${e(from)}" data-end="${e(until)}" x="${x0.toFixed(1)}" y="${y + 2}" width="${Math.max(2, x1 - x0).toFixed(1)}" height="8" fill="${r.kind === 'certificate' ? '#9cd' : r.kind === 'ca' ? '#bdb' : '#dcb'}"><title>${e(r.name)}: valid ${e(from)} to ${e(until)}</title></rect>`;
    })
    .join('');
  return `<svg class="tl" width="${right}" height="${height}" viewBox="0 0 ${right} ${height}" role="img" aria-label="signing time against the certificate, CA and log-key validity windows">${bars}<line data-signed="${e(v.verifiedTime)}" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="1" y2="${height - 1}" stroke="#c30" stroke-width="2"/><title>signed ${e(v.verifiedTime)}; certificate valid ${e(v.certificate.notBefore)} to ${e(v.certificate.notAfter)}</title></svg>`;
}

export interface ReportHead {
  archive: string;
  trustSource: string;
  summary: ShipmentSummary;
  generatedAt: string;
}

/**
 * The page in pieces, so it can be written as verification goes (failures and every artifact
 * spooled apart, then joined): head (title, totals), the failures table's rows, reportMiddle,
 * every artifact's rows, REPORT_FOOT. Rows are joined with newlines.
 */
export function reportHead(r: ReportHead): string {
  const s = r.summary;
  const seal = describeSeal(s.seal);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Stella shipment report: ${e(r.archive)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}td.w{overflow-wrap:anywhere}svg.tl{max-width:100%;height:auto}tr.fail td:first-child{color:#b00;font-weight:bold}tr.pass td:first-child{color:#070}code{font-size:12px;word-break:break-all}#totals td{font-size:18px}</style>
</head><body>
<h1>Shipment report</h1>
<p>Archive <code>${e(r.archive)}</code> (manifest sha256 <code>${e(s.manifestSha256)}</code>, created ${e(s.createdAt)}); ${e(seal)}; trust: ${e(r.trustSource)}; generated ${e(r.generatedAt)}.</p>
<table id="totals"><tr><th>artifacts</th><th>passed</th><th>failed</th><th>missing</th><th>bundles</th></tr>
<tr><td id="n-artifacts">${s.artifacts}</td><td id="n-passed">${s.passed}</td><td id="n-failed">${s.failed}</td><td id="n-missing">${s.missing}</td><td id="n-bundles">${s.bundles}</td></tr></table>
<h2>Failures (${s.failed + s.missing})</h2>
<table id="failures"><tr><th>artifact</th><th>what failed</th></tr>
`;
}

/** A failed (or missing) artifact's row in the failures table. */
export function failureRow(x: ArtifactResult): string {
  const lines = x.missing
    ? [`<li>missing from the archive</li>`]
    : x.bundles.map(
        (b) =>
          `<li><code>${e(b.path)}</code>: <b>${e(b.error?.check)}</b> <code>${e(b.error?.code)}</code> ${e(b.error?.message)}</li>`,
      );
  return `<tr class="fail" data-digest="${e(x.artifactDigest)}"><td class="w"><code>${e(x.artifactDigest)}</code><br>${e(x.names.join(', '))}</td><td class="w"><ul>${lines.join('')}</ul></td></tr>`;
}

export const REPORT_MIDDLE = `
</table>
<h2>Every artifact</h2>
<table id="artifacts"><tr><th>result</th><th>artifact</th><th>identity</th><th>issuer</th><th>verified time</th><th>log index</th><th>signing time vs certificate, CA and log-key windows</th></tr>
`;

/** Every artifact's row, with its timeline. */
export function artifactRow(x: ArtifactResult): string {
  const v = x.verified;
  return `<tr class="${x.ok ? 'pass' : 'fail'}"><td>${x.ok ? 'verified' : x.missing ? 'missing' : 'failed'}</td><td class="w"><code>${e(x.artifactDigest)}</code><br>${e(x.names.join(', '))}</td><td class="w">${e(v?.identity)}</td><td class="w">${e(v?.issuer)}</td><td>${e(v?.verifiedTime)}</td><td>${e(v?.logIndex)}</td><td>${v ? timeline(v) : ''}</td></tr>`;
}

export const REPORT_FOOT = `
</table>
</body></html>
`;
