/**
 * The `verify --archive ... --report report.html` page in a real headless browser: Debian's
 * Chromium (installed by scripts/ensure-test-tools.sh) driven by playwright-core. A shipment
 * with passes, a tampered bundle, an identity the policy refuses and a missing artifact is
 * verified through the real CLI; two of its bundles carry a signing identity full of markup
 * (`<script>`, `<img onerror>`), and so does a file name. The page is served to the browser
 * from a routed URL, every other request is refused and recorded; the test takes a screenshot
 * and asserts from the DOM that the counts equal the CLI's own, failures come first, the markup
 * is text, and nothing ran (no script or img element, the payloads' flag unset, no console
 * message of level error, no request beyond the page itself). Without /usr/bin/chromium the
 * test is declared skipped with the reason. `STELLA_TEST_REPORT_SCREENSHOT=FILE` keeps a copy
 * of the screenshot for a person to look at.
 */
import test from 'ava';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NO_NETWORK_PRELOAD } from '../../helpers/paths.js';
import { runCli } from '../../helpers/cli.js';
import { ISSUER_URL, signBlob, testAuthority } from '../../helpers/authority-bundles.js';
import { serializeBundle } from '../../../src/bundle/serialize.js';
import { sha256 } from '../../../src/crypto.js';
import { toHex, utf8 } from '../../../src/util/encoding.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { buildExportArchive } from '../../../src/archive/export.js';
import { tamperedSignature } from '../../helpers/crafted-bundles.js';
import { osTool } from '../../helpers/os-tools.js';

const { path: CHROMIUM, missing } = osTool('/usr/bin/chromium', 'chromium');

const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const a = testAuthority('shipment-report-browser');
const digestOf = (b: Uint8Array): string => `sha256:${toHex(sha256(b))}`;
/** Each payload would set window.__pwned if it ever ran. */
const SCRIPT = '<script>window.__pwned=1</script>';
const IMG = '<img src=x onerror="window.__pwned=2">';
/** The SAN is https://github.com/ + the token's job_workflow_ref: the markup goes there. */
const EVIL_WORKFLOW = `org/repo/.github/workflows/${SCRIPT}${IMG}.yml@refs/heads/main`;
const REFUSED_WORKFLOW = `other/repo/.github/workflows/${IMG}${SCRIPT}.yml@refs/heads/main`;
const EVIL_FILE = `${IMG}.bin`;

const tampered = tamperedSignature;

interface JsonReport {
  summary: { artifacts: number; passed: number; failed: number; missing: number; bundles: number };
  artifacts: {
    artifactDigest: string;
    ok: boolean;
    missing: boolean;
    verified: { identity: string } | null;
  }[];
}

const declare = missing === undefined ? test : test.skip;
declare(
  `the shipment report in headless Chromium: counts, failures first, markup from bundles shown as text, nothing executed or fetched${missing ? ` [skipped: ${missing}]` : ''}`,
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stella-report-browser-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const root = path.join(dir, 'trusted_root.json');
    writeFileSync(root, a.trustedRootJson());

    // Five artifacts in the archive: three plain passes, one pass by the markup identity, one
    // tampered, one whose identity the policy refuses; a sixth asked for and absent.
    const arts = ['one', 'two', 'three', 'evil', 'tampered', 'refused', 'absent'].map((n) =>
      utf8.encode(`artifact ${n}\n`),
    );
    const sign = (i: number, workflow?: string): string =>
      serializeBundle(
        signBlob(a, arts[i]!, {
          repo: 'org/repo',
          now: T + i * 60_000,
          extraClaims: workflow === undefined ? undefined : { job_workflow_ref: workflow },
        }).bundle,
      );
    const bundles = [
      { digest: digestOf(arts[0]!), json: sign(0) },
      { digest: digestOf(arts[1]!), json: sign(1) },
      { digest: digestOf(arts[2]!), json: sign(2) },
      { digest: digestOf(arts[3]!), json: sign(3, EVIL_WORKFLOW) },
      { digest: digestOf(arts[4]!), json: tampered(sign(4)) },
      { digest: digestOf(arts[5]!), json: sign(5, REFUSED_WORKFLOW) },
    ];
    const { archive } = await buildExportArchive({
      bundles: bundles.map((b, i) => ({
        artifactDigest: b.digest,
        bytes: utf8.encode(b.json),
        source: `b${i}`,
      })),
      createdAt: T + 3_600_000,
    });
    const tar = path.join(dir, 'ship.tar');
    writeFileSync(tar, archive);
    // The artifacts as files that came across, one of them under a markup name and absent from the archive.
    const files = path.join(dir, 'files');
    mkdirSync(files);
    arts.slice(0, 6).forEach((b, i) => writeFileSync(path.join(files, `f${i}.txt`), b));
    writeFileSync(path.join(files, EVIL_FILE), arts[6]!);

    const policy = [
      '--trusted-root',
      root,
      '--certificate-identity',
      'https://github\\.com/org/repo/.*',
      '--certificate-oidc-issuer',
      ISSUER_URL,
    ];
    const opts = {
      nodeArgs: ['--import', NO_NETWORK_PRELOAD],
      env: { STELLA_TRUST_STORE: path.join(dir, 'trust.db') },
    };
    const report = path.join(dir, 'report.html');
    const run = await runCli(
      [
        'attest',
        'verify',
        '--archive',
        tar,
        '--artifacts-dir',
        files,
        ...policy,
        '--jobs',
        '2',
        '--report',
        report,
      ],
      opts,
    );
    t.is(run.code, EXIT_CODES.SHIPMENT_INCOMPLETE, run.stdout + run.stderr);
    const json = await runCli(
      [
        'attest',
        'verify',
        '--archive',
        tar,
        '--artifacts-dir',
        files,
        ...policy,
        '--jobs',
        '1',
        '--json',
      ],
      opts,
    );
    const truth = JSON.parse(json.stdout) as JsonReport;
    // The CLI's own verdicts are the ones the shipment was built to produce.
    t.like(truth.summary, { artifacts: 7, passed: 4, failed: 2, missing: 1, bundles: 6 });
    const evilIdentity = truth.artifacts.find((x) => x.artifactDigest === digestOf(arts[3]!))!
      .verified!.identity;
    t.true(evilIdentity.includes(SCRIPT) && evilIdentity.includes(IMG), evilIdentity);
    const failedDigests = truth.artifacts
      .filter((x) => !x.ok)
      .map((x) => x.artifactDigest)
      .sort();
    t.deepEqual(failedDigests, [digestOf(arts[4]!), digestOf(arts[5]!), digestOf(arts[6]!)].sort());

    const { chromium } = await import('playwright-core');
    const profile = path.join(dir, 'profile');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 1000 },
    });
    t.teardown(() => context.close());
    const PAGE = 'http://report.invalid/report.html';
    const html = readFileSync(report);
    const requests: string[] = [];
    const refused: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      requests.push(url);
      if (url === PAGE)
        await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      else {
        refused.push(url);
        await route.abort();
      }
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('request', (r) => {
      if (r.url() !== PAGE && !refused.includes(r.url())) refused.push(r.url());
    });
    await page.goto(PAGE, { waitUntil: 'load' });
    const shot = path.join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env['STELLA_TEST_REPORT_SCREENSHOT'])
      copyFileSync(shot, process.env['STELLA_TEST_REPORT_SCREENSHOT']);
    t.deepEqual(
      [...readFileSync(shot).subarray(0, 8)],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      'the screenshot is a PNG',
    );

    // Runs in the page (a string: this project compiles without the DOM library).
    const dom = (await page.evaluate(`(() => {
    const text = (id) => document.getElementById(id)?.textContent ?? '';
    const failures = document.getElementById('failures');
    const all = document.getElementById('artifacts');
    return {
      counts: { artifacts: text('n-artifacts'), passed: text('n-passed'), failed: text('n-failed'), missing: text('n-missing'), bundles: text('n-bundles') },
      failuresBeforeAll: failures !== null && all !== null && (failures.compareDocumentPosition(all) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0,
      failureDigests: [...(failures?.querySelectorAll('tr.fail') ?? [])].map((r) => r.getAttribute('data-digest') ?? ''),
      allRows: all?.querySelectorAll('tr.pass, tr.fail').length ?? 0,
      passRows: all?.querySelectorAll('tr.pass').length ?? 0,
      bodyText: document.body.innerText,
      scripts: document.querySelectorAll('script').length,
      imgs: document.querySelectorAll('img').length,
      handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((at) => at.name.startsWith('on'))).length,
      pwned: window.__pwned ?? null,
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      timelines: [...(all?.querySelectorAll('tr.pass') ?? [])].map((r) => {
        const line = r.querySelector('svg.tl line');
        const x = Number(line?.getAttribute('x1'));
        return {
          signed: line?.getAttribute('data-signed') ?? null,
          windows: [...r.querySelectorAll('svg.tl rect')].map((b) => ({
            drawn: (() => {
              const box = b.getBoundingClientRect();
              const frame = b.ownerSVGElement.getBoundingClientRect();
              return box.height > 0 && box.top >= frame.top - 0.5 && box.bottom <= frame.bottom + 0.5 && box.left >= frame.left - 0.5 && box.right <= frame.right + 0.5;
            })(),
            kind: b.getAttribute('data-window'),
            start: b.getAttribute('data-start'),
            end: b.getAttribute('data-end'),
            lineInside: x >= Number(b.getAttribute('x')) && x <= Number(b.getAttribute('x')) + Number(b.getAttribute('width')),
          })),
        };
      }),
    };
  })()`)) as {
      counts: Record<'artifacts' | 'passed' | 'failed' | 'missing' | 'bundles', string>;
      failuresBeforeAll: boolean;
      failureDigests: string[];
      allRows: number;
      passRows: number;
      bodyText: string;
      scripts: number;
      imgs: number;
      handlers: number;
      pwned: unknown;
      overflow: number;
      timelines: {
        signed: string | null;
        windows: {
          kind: string;
          start: string;
          end: string;
          lineInside: boolean;
          drawn: boolean;
        }[];
      }[];
    };
    t.deepEqual(dom.counts, {
      artifacts: '7',
      passed: '4',
      failed: '2',
      missing: '1',
      bundles: '6',
    });
    t.deepEqual(
      dom.counts,
      Object.fromEntries(
        Object.entries(truth.summary)
          .filter(([k]) => k in dom.counts)
          .map(([k, v]) => [k, String(v)]),
      ),
    );
    t.true(dom.failuresBeforeAll, 'the failures table comes before the table of every artifact');
    t.deepEqual([...dom.failureDigests].sort(), failedDigests);
    t.is(dom.allRows, 7);
    t.true(
      dom.overflow <= 0,
      `long identities wrap instead of widening the page (${dom.overflow}px too wide)`,
    );
    t.is(dom.passRows, 4);
    // The markup is on the page as text: in the identity column, in the refused identity's
    // failure message and in the missing file's name.
    t.true(dom.bodyText.includes(evilIdentity), 'the markup identity is shown verbatim');
    const refusedSan = `https://github.com/${REFUSED_WORKFLOW}`;
    t.true(
      [refusedSan, JSON.stringify(refusedSan).slice(1, -1)].some((v) => dom.bodyText.includes(v)),
      'the refused identity is shown verbatim (or JSON-escaped) in its failure message',
    );
    t.true(dom.bodyText.includes(EVIL_FILE), 'the markup file name is shown verbatim');
    // Each pass's timeline draws the signing time against the certificate, the CA (the trusted
    // root's Fulcio window), the Rekor key and the CT log key it was checked against, each a bar
    // the signing line crosses.
    const trusted = JSON.parse(a.trustedRootJson()) as Record<
      'certificateAuthorities' | 'tlogs' | 'ctlogs',
      { validFor: { start: string; end?: string }; publicKey?: { validFor: { start: string } } }[]
    >;
    const startOf = (x: {
      validFor?: { start: string };
      publicKey?: { validFor: { start: string } };
    }) => Date.parse((x.publicKey?.validFor ?? x.validFor)!.start);
    t.is(dom.timelines.length, 4);
    for (const tl of dom.timelines) {
      t.truthy(tl.signed);
      t.deepEqual(
        tl.windows.map((w) => w.kind),
        ['certificate', 'ca', 'tlog', 'ctlog'],
      );
      t.true(
        tl.windows.every((w) => w.drawn),
        `every bar is drawn inside its timeline, none clipped: ${JSON.stringify(tl)}`,
      );
      t.true(
        tl.windows.every((w) => w.lineInside),
        `the signing time lies inside every window: ${JSON.stringify(tl)}`,
      );
      const byKind = (k: string) => Date.parse(tl.windows.find((w) => w.kind === k)!.start);
      t.true(trusted.certificateAuthorities.map(startOf).includes(byKind('ca')));
      t.true(trusted.tlogs.map(startOf).includes(byKind('tlog')));
      t.true(trusted.ctlogs.map(startOf).includes(byKind('ctlog')));
    }
    // Nothing executed, nothing fetched.
    t.is(dom.scripts, 0);
    t.is(dom.imgs, 0);
    t.is(dom.handlers, 0);
    t.is(dom.pwned, null);
    t.deepEqual(consoleErrors, []);
    t.deepEqual(refused, []);
    t.deepEqual(requests, [PAGE]);
  },
);
