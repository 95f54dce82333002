/**
 * Sigstore SigningConfig v0.2: strict reading (CONFIG_INVALID naming the key) and the
 * service selection rules of protobuf-specs (as sigstore-go's SelectService(s) apply them),
 * plus the signer.yaml keys that point at a signing config or stand in for one.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import {
  parseSigningConfig,
  renderSigningConfig,
  selectSigningServices,
  SIGNING_CONFIG_LIMITS,
  SIGNING_CONFIG_MEDIA_TYPE_V02,
  type SigningConfigInput,
} from '../../src/sign/signing-config.js';
import {
  defaultSignerConfig,
  parseSignerConfig,
  renderSignerConfig,
} from '../../src/sign/config.js';
import { planServices } from '../../src/sign/services.js';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function svc(
  url: string,
  majorApiVersion: number,
  start: number,
  operator = 'sigstore.dev',
  end?: number,
) {
  return {
    url,
    majorApiVersion,
    validFor: end === undefined ? { start: iso(start) } : { start: iso(start), end: iso(end) },
    operator,
  };
}

function doc(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE_V02,
    caUrls: [svc('https://fulcio.example', 1, T0)],
    oidcUrls: [svc('https://oauth2.example/auth', 1, T0)],
    rekorTlogUrls: [
      svc('https://log2026-1.rekor.example', 2, T0 + DAY),
      svc('https://rekor.example', 1, T0),
    ],
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [svc('https://timestamp.example/api/v1/timestamp', 1, T0)],
    tsaConfig: { selector: 'ANY' },
    ...over,
  };
}

const parse = (d: unknown) => parseSigningConfig(JSON.stringify(d), 'sc.json');

function invalid(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  key: string,
  message: RegExp,
): void {
  const e = t.throws(fn) as StellaError;
  t.true(e instanceof StellaError, String(e));
  t.is(e.code, 'CONFIG_INVALID', e.message);
  t.is(e.details?.key, key, e.message);
  t.regex(e.message, message);
}

test('the highest supported API version valid now wins; before it starts, the older one', (t) => {
  const cfg = parse(doc());
  const later = selectSigningServices(cfg, T0 + 2 * DAY);
  t.is(later.rekorApiVersion, 2);
  t.deepEqual(
    later.rekor.map((s) => s.url),
    ['https://log2026-1.rekor.example'],
  );
  t.is(later.ca.url, 'https://fulcio.example');
  t.is(later.tsa[0]!.url, 'https://timestamp.example/api/v1/timestamp');
  t.is(later.oidc!.url, 'https://oauth2.example/auth');
  // The v2 log is not valid yet: the v1 log is chosen (never a mix of versions).
  const early = selectSigningServices(cfg, T0 + 1000);
  t.is(early.rekorApiVersion, 1);
  t.deepEqual(
    early.rekor.map((s) => s.url),
    ['https://rekor.example'],
  );
  // validFor ends are inclusive.
  const ended = parse(
    doc({
      rekorTlogUrls: [
        svc('https://a.example', 2, T0, 'a', T0 + DAY),
        svc('https://b.example', 1, T0),
      ],
    }),
  );
  t.is(selectSigningServices(ended, T0 + DAY).rekor[0]!.url, 'https://a.example');
  t.is(selectSigningServices(ended, T0 + DAY + 1).rekor[0]!.url, 'https://b.example');
});

test('newest start first, one per operator, then ANY / ALL / EXACT', (t) => {
  const logs = [
    svc('https://old-a.example', 2, T0, 'a.example'),
    svc('https://new-a.example', 2, T0 + DAY, 'a.example'),
    svc('https://b.example', 2, T0, 'b.example'),
    svc('https://c.example', 2, T0 + 2 * DAY, 'c.example'),
    svc('https://v1.example', 1, T0, 'v1.example'),
  ];
  const at = T0 + 3 * DAY;
  const pick = (rekorTlogConfig: unknown) =>
    selectSigningServices(parse(doc({ rekorTlogUrls: logs, rekorTlogConfig })), at).rekor.map(
      (s) => s.url,
    );
  t.deepEqual(pick({ selector: 'ALL' }), [
    'https://c.example',
    'https://new-a.example',
    'https://b.example',
  ]);
  t.deepEqual(pick({ selector: 'ANY' }), ['https://c.example']);
  t.deepEqual(pick({ selector: 'EXACT', count: 2 }), [
    'https://c.example',
    'https://new-a.example',
  ]);
  invalid(
    t,
    () => pick({ selector: 'EXACT', count: 4 }),
    'rekorTlogConfig.count',
    /EXACT 4 Rekor logs needed, but only 3 of distinct operators are valid now with API version 2/,
  );
  // The CA: one, the newest valid one; equal starts keep file order.
  const cas = [
    svc('https://ca-1.example', 1, T0),
    svc('https://ca-2.example', 1, T0),
    svc('https://ca-new.example', 1, T0 + 5 * DAY),
  ];
  t.is(selectSigningServices(parse(doc({ caUrls: cas })), at).ca.url, 'https://ca-1.example');
});

test('no Rekor log valid at the time, only unsupported API versions, Rekor v2 without a TSA: CONFIG_INVALID', (t) => {
  const past = parse(
    doc({
      rekorTlogUrls: [
        svc('https://gone.example', 2, T0, 'x', T0 + DAY),
        svc('https://gone-v1.example', 1, T0, 'x', T0 + DAY),
      ],
    }),
  );
  invalid(
    t,
    () => selectSigningServices(past, T0 + 2 * DAY),
    'rekorTlogUrls',
    /no Rekor log is valid at 2026-01-03T00:00:00\.000Z: rekorTlogUrls\[0\] valid 2026-01-01T00:00:00Z\.\.2026-01-02T00:00:00Z/,
  );
  const future = parse(doc({ rekorTlogUrls: [svc('https://soon.example', 2, T0 + 10 * DAY)] }));
  invalid(t, () => selectSigningServices(future, T0), 'rekorTlogUrls', /no Rekor log is valid at/);
  const v3 = parse(
    doc({ rekorTlogUrls: [svc('https://v3.example', 3, T0), svc('https://v0.example', 0, T0)] }),
  );
  invalid(
    t,
    () => selectSigningServices(v3, T0 + DAY),
    'rekorTlogUrls',
    /no Rekor log with an API version Stella supports \(2, 1\): rekorTlogUrls\[0\] has majorApiVersion 3; rekorTlogUrls\[1\] has majorApiVersion 0/,
  );
  const caV2 = parse(doc({ caUrls: [svc('https://fulcio-v2.example', 2, T0)] }));
  invalid(
    t,
    () => selectSigningServices(caV2, T0 + DAY),
    'caUrls',
    /no certificate authority with an API version Stella supports \(1\)/,
  );
  const noTsa = parse(doc({ tsaUrls: [], tsaConfig: undefined }));
  invalid(
    t,
    () => selectSigningServices(noTsa, T0 + 2 * DAY),
    'tsaUrls',
    /Rekor v2 gives no signed entry timestamp/,
  );
  // Rekor v1 needs no TSA.
  t.is(selectSigningServices(noTsa, T0 + 1000).rekorApiVersion, 1);
});

test('strict reading: unknown keys, wrong types and bad values name the key', (t) => {
  invalid(t, () => parse(doc({ rekorTlogUrl: [] })), 'rekorTlogUrl', /unknown key/);
  invalid(
    t,
    () => parse(doc({ caUrls: [{ ...svc('https://f.example', 1, T0), operater: 'x' }] })),
    'caUrls[0].operater',
    /unknown key/,
  );
  invalid(
    t,
    () =>
      parse(
        doc({
          tsaUrls: [
            { ...svc('https://t.example', 1, T0), validFor: { start: iso(T0), until: iso(T0) } },
          ],
        }),
      ),
    'tsaUrls[0].validFor.until',
    /unknown key/,
  );
  invalid(
    t,
    () => parse(doc({ caUrls: [{ ...svc('https://f.example', 1, T0), majorApiVersion: '1' }] })),
    'caUrls[0].majorApiVersion',
    /whole number/,
  );
  invalid(
    t,
    () => parse(doc({ caUrls: [{ ...svc('https://f.example', 1, T0), majorApiVersion: 1.5 }] })),
    'caUrls[0].majorApiVersion',
    /whole number/,
  );
  invalid(
    t,
    () => parse(doc({ caUrls: [{ ...svc('ftp://f.example', 1, T0) }] })),
    'caUrls[0].url',
    /http\(s\)/,
  );
  invalid(
    t,
    () =>
      parse(
        doc({
          caUrls: [{ url: 'https://f.example', majorApiVersion: 1, validFor: { start: iso(T0) } }],
        }),
      ),
    'caUrls[0].operator',
    /missing/,
  );
  invalid(
    t,
    () => parse(doc({ caUrls: [{ url: 'https://f.example', majorApiVersion: 1, operator: 'x' }] })),
    'caUrls[0].validFor',
    /missing/,
  );
  invalid(
    t,
    () =>
      parse(
        doc({
          caUrls: [
            { ...svc('https://f.example', 1, T0), validFor: { start: '2026-02-30T00:00:00Z' } },
          ],
        }),
      ),
    'caUrls[0].validFor.start',
    /not a valid date-time/,
  );
  invalid(
    t,
    () => parse(doc({ caUrls: [svc('https://f.example', 1, T0 + DAY, 'x', T0)] })),
    'caUrls[0].validFor',
    /end is before start/,
  );
  invalid(
    t,
    () => parse(doc({ rekorTlogConfig: { selector: 'SOME' } })),
    'rekorTlogConfig.selector',
    /must be "ALL", "ANY" or "EXACT", not "SOME"$/,
  );
  invalid(
    t,
    () => parse(doc({ rekorTlogConfig: { selector: 'EXACT' } })),
    'rekorTlogConfig.count',
    /EXACT needs a count/,
  );
  invalid(
    t,
    () => parse(doc({ tsaConfig: { selector: 'ANY', count: 2 } })),
    'tsaConfig.count',
    /only used with EXACT/,
  );
  invalid(t, () => parse(doc({ rekorTlogConfig: undefined })), 'rekorTlogConfig', /missing/);
  invalid(t, () => parse(doc({ tsaConfig: undefined })), 'tsaConfig', /missing/);
  invalid(t, () => parse(doc({ rekorTlogUrls: [] })), 'rekorTlogUrls', /lists no Rekor log/);
  // The value found is shown as what it is: a string quoted, anything else by its type.
  invalid(
    t,
    () => parse(doc({ caUrls: 'https://f.example' })),
    'caUrls',
    /must be a list, not "https:\/\/f\.example"$/,
  );
  for (const [value, shown] of [
    [5, 'number 5'],
    [true, 'boolean true'],
    [{}, 'an object'],
  ] as const)
    invalid(
      t,
      () => parse(doc({ caUrls: value })),
      'caUrls',
      new RegExp(`must be a list, not ${shown}$`),
    );
  invalid(
    t,
    () => parse(doc({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.1+json' })),
    'mediaType',
    /not supported \(only application\/vnd\.dev\.sigstore\.signingconfig\.v0\.2\+json\)/,
  );
  // A trusted root given as the signing config is said to be one (before: "tlogs: unknown key").
  invalid(
    t,
    () =>
      parseSigningConfig(
        JSON.stringify({
          mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json',
          tlogs: [],
        }),
        'sc.json',
      ),
    'mediaType',
    /: "application\/vnd\.dev\.sigstore\.trustedroot\.v0\.2\+json": that is a trusted root \(trusted_root\.json\), not a signing config$/,
  );
  const dup = t.throws(() =>
    parseSigningConfig('{"mediaType":"x","mediaType":"y"}', 'sc.json'),
  ) as StellaError;
  t.is(dup.code, 'CONFIG_INVALID');
  t.regex(dup.message, /duplicate/i);
});

test('renderSigningConfig writes what the parser reads', (t) => {
  const input: SigningConfigInput = {
    caUrls: [
      { url: 'http://127.0.0.1:1', majorApiVersion: 1, validFor: { start: T0 }, operator: 'o' },
    ],
    oidcUrls: [],
    rekorTlogUrls: [
      {
        url: 'http://127.0.0.1:1',
        majorApiVersion: 2,
        validFor: { start: T0, end: T0 + DAY },
        operator: 'o',
      },
    ],
    rekorTlogConfig: { selector: 'EXACT', count: 1 },
    tsaUrls: [
      {
        url: 'http://127.0.0.1:1/api/v1/timestamp',
        majorApiVersion: 1,
        validFor: { start: T0 },
        operator: 'o',
      },
    ],
    tsaConfig: { selector: 'ALL' },
  };
  const cfg = parseSigningConfig(renderSigningConfig(input));
  t.deepEqual(cfg.rekorTlogUrls[0]!.validFor, { start: T0, end: T0 + DAY });
  t.deepEqual(cfg.rekorTlogConfig, { selector: 'EXACT', count: 1 });
  t.is(selectSigningServices(cfg, T0).rekorApiVersion, 2);
});

test('signer.yaml: signingConfig and trustedRoot keys (relative to the file), exclusive with the URL keys; rekor v2 by equivalent keys needs tsa.url', (t) => {
  const yaml = (keyless: string) =>
    parseSignerConfig(`signer:\n  signing:\n    keyless:\n${keyless}`, '/etc/stella/signer.yaml');
  const c = yaml(
    '      signingConfig: signing_config.json\n      trustedRoot: /trust/trusted_root.json\n      tsa:\n        timeout: 5s\n',
  );
  t.is(c.signingConfigPath, '/etc/stella/signing_config.json');
  t.is(c.trustedRootPath, '/trust/trusted_root.json');
  t.is(c.tsa.timeoutMs, 5000);
  const clash = t.throws(() =>
    yaml('      signingConfig: sc.json\n      rekor:\n        url: https://rekor.example\n'),
  ) as StellaError;
  t.is(clash.code, 'CONFIG_INVALID');
  t.regex(
    clash.message,
    /signer\.signing\.keyless\.rekor\.url \(line 6\): cannot be used with signer\.signing\.keyless\.signingConfig/,
  );
  const v2 = yaml(
    '      rekor:\n        url: https://log.example\n        majorApiVersion: 2\n      tsa:\n        url: https://tsa.example/api/v1/timestamp\n',
  );
  t.is(v2.rekor.majorApiVersion, 2);
  const plan = planServices(v2, undefined, {}, T0);
  t.deepEqual(
    plan.rekor.map((r) => [r.url, r.apiVersion]),
    [['https://log.example', 2]],
  );
  t.deepEqual(
    plan.tsa.map((r) => r.url),
    ['https://tsa.example/api/v1/timestamp'],
  );
  const noTsa = t.throws(() => yaml('      rekor:\n        majorApiVersion: 2\n')) as StellaError;
  t.regex(noTsa.message, /tsa\.url .*a TSA URL is needed with rekor\.majorApiVersion 2/);
  const bad = t.throws(() => yaml('      rekor:\n        majorApiVersion: 3\n')) as StellaError;
  t.regex(bad.message, /rekor\.majorApiVersion \(line 5\): must be 1 or 2/);
  // The existing keys keep working, and the renderer round-trips the new ones.
  const cfg = defaultSignerConfig();
  cfg.trustedRootPath = '/x/trusted_root.json';
  cfg.signingConfigPath = '/x/signing_config.json';
  const back = parseSignerConfig(renderSignerConfig(cfg));
  t.is(back.signingConfigPath, '/x/signing_config.json');
  t.is(back.trustedRootPath, '/x/trusted_root.json');
});

test('edges: an absent service list is empty, a window of one instant is allowed, majorApiVersion up to 2^32-1, values described by type', (t) => {
  // tsaUrls absent (not an empty list): no TSA, and Rekor v1 is chosen.
  const withoutTsa = doc();
  delete withoutTsa.tsaUrls;
  delete withoutTsa.tsaConfig;
  const noTsa = parse(withoutTsa);
  t.deepEqual(noTsa.tsaUrls, []);
  t.is(selectSigningServices(noTsa, T0 + 1000).tsa.length, 0);
  // end == start: a window of one instant (the trusted root's rule too); end < start refused.
  const instant = parse(doc({ caUrls: [svc('https://f.example', 1, T0, 'x', T0)] }));
  t.is(selectSigningServices(instant, T0).ca.url, 'https://f.example');
  invalid(
    t,
    () => parse(doc({ caUrls: [svc('https://f.example', 1, T0, 'x', T0 - 1)] })),
    'caUrls[0].validFor',
    /end is before start/,
  );
  // uint32: 4294967295 is read (and not supported), 4294967296 is refused as a value.
  t.is(
    parse(doc({ caUrls: [svc('https://f.example', 0xffffffff, T0)] })).caUrls[0]!.majorApiVersion,
    0xffffffff,
  );
  invalid(
    t,
    () => parse(doc({ caUrls: [svc('https://f.example', 0x100000000, T0)] })),
    'caUrls[0].majorApiVersion',
    /from 0 to 4294967295, not number 4294967296/,
  );
  invalid(
    t,
    () => parse(doc({ caUrls: [{ ...svc('https://f.example', 1, T0), operator: { a: 1 } }] })),
    'caUrls[0].operator',
    /must be a non-empty string, not an object$/,
  );
  invalid(
    t,
    () => parse(doc({ caUrls: [{ ...svc('https://f.example', 1, T0), operator: ['x'] }] })),
    'caUrls[0].operator',
    /must be a non-empty string, not a list$/,
  );
});

test('a service list of exactly SIGNING_CONFIG_LIMITS.maxServices is read; one more is refused, naming the list', (t) => {
  const max = SIGNING_CONFIG_LIMITS.maxServices;
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => svc(`https://rekor-${i}.example`, 1, T0, `op${i}`));
  t.is(parse(doc({ rekorTlogUrls: many(max) })).rekorTlogUrls.length, max);
  invalid(
    t,
    () => parse(doc({ rekorTlogUrls: many(max + 1) })),
    'rekorTlogUrls',
    new RegExp(`${max + 1} services exceed the limit of ${max}$`),
  );
});
