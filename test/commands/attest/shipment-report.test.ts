/**
 * The shipment report's pieces on their own (the whole page is rendered in Chromium by
 * shipment-report-browser.test.ts): escaping, a failure's row, and the timeline, which a bundle
 * verified with a managed key (no certificate) does not get.
 */
import test from 'ava';
import {
  artifactRow,
  escapeHtml,
  failureRow,
} from '../../../src/commands/attest/shipment-report.js';
import type { BundleVerdict } from '../../../src/shipment/verdict.js';
import type { ArtifactResult } from '../../../src/shipment/verify.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

function verdict(over: Partial<BundleVerdict> = {}): BundleVerdict {
  return {
    path: 'bundles/a.json',
    ok: true,
    identity: 'https://github.com/o/r/.github/workflows/w.yml@refs/heads/main',
    issuer: 'https://token.actions.githubusercontent.com',
    verifiedTime: '2026-01-01T00:05:00.000Z',
    logIndex: 7,
    certificate: { notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-01T00:10:00.000Z' },
    windows: [
      { kind: 'ca', name: 'fulcio <CA>', start: '2025-01-01T00:00:00.000Z', end: null },
      {
        kind: 'tlog',
        name: 'rekor',
        start: '2025-06-01T00:00:00.000Z',
        end: '2027-01-01T00:00:00.000Z',
      },
    ],
    error: null,
    checkpoints: [],
    ...over,
  };
}

function result(v: BundleVerdict | null, over: Partial<ArtifactResult> = {}): ArtifactResult {
  return {
    artifactDigest: DIGEST,
    names: [],
    ok: v !== null,
    missing: false,
    verified: v,
    bundles: v ? [v] : [],
    ...over,
  };
}

test('escapeHtml turns the six characters markup can use into entities, shows bidi and control characters escaped, and leaves the rest', (t) => {
  t.is(
    escapeHtml(`<a href="x" onclick='y'>&\`</a>`),
    '&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#96;&#60;/a&#62;',
  );
  t.is(escapeHtml('plain text, ünïcödé'), 'plain text, ünïcödé');
  // What would reorder or hide the text around it is shown, not obeyed.
  t.is(escapeHtml('repo:\u202eniam/sfer'), 'repo:\\u202eniam/sfer');
  t.is(escapeHtml('a\u2066b\u0007c\u009bd'), 'a\\u2066b\\u0007c\\u009bd');
});

test('a keyless verdict gets a timeline row per window (open ones to the right edge) and the signing line', (t) => {
  const row = artifactRow(result(verdict()));
  t.is(row.match(/<svg /g)?.length, 1);
  t.deepEqual(
    [...row.matchAll(/data-window="([a-z]+)"/g)].map((m) => m[1]),
    ['certificate', 'ca', 'tlog'],
  );
  t.regex(row, /data-window="ca" data-start="2025-01-01T00:00:00\.000Z" data-end="open"/);
  t.regex(row, /<line data-signed="2026-01-01T00:05:00\.000Z"/);
  t.deepEqual(
    [...row.matchAll(/data-window="([a-z]+)"[^>]* fill="(#[0-9a-f]+)"/g)].map(
      (m) => `${m[1]} ${m[2]}`,
    ),
    ['certificate #9cd', 'ca #bdb', 'tlog #dcb'],
    'each kind of window its own colour',
  );
  t.regex(row, /<title>fulcio &#60;CA&#62;: valid/, 'window names escaped');
  const [x0, w] = row
    .match(/data-window="ca"[^>]* x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/)!
    .slice(1)
    .map(Number);
  t.is(Number((x0! + w!).toFixed(1)), 350, 'an open window runs to the right edge');
});

test('the timeline runs from the earliest start to the latest end: the CA starts at the left edge, the log key ends where the scale does', (t) => {
  const row = artifactRow(result(verdict()));
  const bar = (kind: string) =>
    row
      .match(new RegExp(`data-window="${kind}"[^>]* x="([\\d.]+)" y="[\\d.]+" width="([\\d.]+)"`))!
      .slice(1)
      .map(Number) as [number, number];
  const [caX] = bar('ca');
  const [logX, logW] = bar('tlog');
  t.is(caX, 52, 'the earliest start (the CA, 2025-01-01) at the left edge');
  t.is(
    Number((logX + logW).toFixed(1)),
    340,
    "the latest end (the log key's, 2027-01-01) at the scale's end",
  );
  // The signing time, 2026-01-01T00:05, sits where the same scale puts it.
  const lo = Date.parse('2025-01-01T00:00:00.000Z');
  const hi = Date.parse('2027-01-01T00:00:00.000Z');
  const at = 52 + ((Date.parse('2026-01-01T00:05:00.000Z') - lo) / (hi - lo)) * 288;
  t.regex(row, new RegExp(`<line data-signed="[^"]+" x1="${at.toFixed(1)}"`));
});

test('a verdict without a certificate (a managed key) or without a signing time gets no timeline', (t) => {
  for (const v of [verdict({ certificate: null }), verdict({ verifiedTime: null })]) {
    const row = artifactRow(result(v));
    t.notRegex(row, /<svg/);
    t.regex(row, /<td>verified<\/td>/);
  }
});

test('failure rows: missing, or each bundle with its check, code and message, escaped', (t) => {
  t.regex(
    failureRow(result(null, { ok: false, missing: true })),
    /<li>missing from the archive<\/li>/,
  );
  const failed = verdict({
    ok: false,
    path: 'bundles/<b>.json',
    error: {
      code: 'IDENTITY_MISMATCH',
      check: 'policy',
      message: 'got <script>x</script>',
      exitCode: 45,
    },
  });
  const row = failureRow(result(null, { ok: false, bundles: [failed], names: ['a&b.tgz'] }));
  t.regex(
    row,
    /<code>bundles\/&#60;b&#62;\.json<\/code>: <b>policy<\/b> <code>IDENTITY_MISMATCH<\/code> got &#60;script&#62;/,
  );
  t.regex(row, /a&#38;b\.tgz/);
  t.notRegex(row, /<script>/);
});

test('a value a verdict does not have is shown as "-", never as "null" or "undefined"', (t) => {
  // A managed-key bundle has no identity or issuer (null), a Rekor-less one no log index, and
  // a failed artifact has no verified verdict at all (every cell undefined).
  const keyed = artifactRow(result(verdict({ identity: null, issuer: null, logIndex: null })));
  t.regex(
    keyed,
    /<td class="w">-<\/td><td class="w">-<\/td><td>2026-01-01T00:05:00\.000Z<\/td><td>-<\/td>/,
  );
  const failed = artifactRow(result(null, { ok: false, missing: true }));
  t.regex(failed, /<td class="w">-<\/td><td class="w">-<\/td><td>-<\/td><td>-<\/td>/);
  const noCheck = failureRow(
    result(null, { ok: false, bundles: [verdict({ ok: false, error: null })] }),
  );
  t.regex(noCheck, /: <b>-<\/b> <code>-<\/code> -<\/li>/);
  for (const row of [keyed, failed, noCheck]) t.notRegex(row, /null|undefined/);
});
