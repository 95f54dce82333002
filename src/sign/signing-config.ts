/**
 * Sigstore SigningConfig v0.2 (protobuf-specs sigstore_trustroot.proto, media type
 * application/vnd.dev.sigstore.signingconfig.v0.2+json): which CA, OIDC provider, Rekor logs
 * and TSAs a signer uses, read strictly (unknown keys, wrong types and bad values are
 * CONFIG_INVALID naming the key), and the service selection the spec prescribes:
 *
 * - a service counts only when its majorApiVersion is one Stella speaks and `now` lies inside
 *   its validFor (both ends inclusive);
 * - the highest supported API version that has such a service wins, and only services of
 *   that version are used (never a mix);
 * - among those, the newest validFor.start first (file order breaks ties);
 * - CA and OIDC: that one service;
 * - Rekor logs and TSAs: at most one per operator (the newest), then the selector:
 *   ALL = every one, ANY = one (Stella takes the first, so a run is reproducible), EXACT =
 *   the first `count`, and an error when fewer than `count` qualify.
 *
 * Stella speaks CA v1 (Fulcio /api/v2), OIDC v1, Rekor v1 and v2, TSA v1. A Rekor v2 log
 * gives no signed entry timestamp, so choosing one requires a TSA.
 */
import { StellaError } from '../errors.js';
import { parseJsonStrict } from '../util/json.js';
import { readFileBounded } from '../util/fs.js';
import {
  formatTime,
  formatTimeCompact,
  parseRfc3339,
  timeInWindow,
  windowEndMs,
  windowStartMs,
} from '../util/time.js';
import { listed, quoted, withoutTrailing } from '../util/text.js';
import { misplacedDocumentNote } from '../model/media-types.js';

export const SIGNING_CONFIG_MEDIA_TYPE_V02 = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

/** The API versions Stella can talk to, per service kind, highest first. */
export const SUPPORTED_API_VERSIONS = { ca: [1], oidc: [1], rekor: [2, 1], tsa: [1] } as const;

export type ServiceSelector = 'ALL' | 'ANY' | 'EXACT';

export interface SigningService {
  url: string;
  majorApiVersion: number;
  /** ms since the epoch; end inclusive, undefined = open. */
  validFor: { start: number; end: number | undefined };
  operator: string;
  /** Where it was in the file ("rekorTlogUrls[1]"), for messages. */
  where: string;
}

export interface ServiceConfiguration {
  selector: ServiceSelector;
  /** EXACT only. */
  count: number | undefined;
}

export interface SigningConfig {
  mediaType: string;
  caUrls: SigningService[];
  oidcUrls: SigningService[];
  rekorTlogUrls: SigningService[];
  rekorTlogConfig: ServiceConfiguration | undefined;
  tsaUrls: SigningService[];
  tsaConfig: ServiceConfiguration | undefined;
  /** The file it came from, for messages. */
  source: string | undefined;
}

export const SIGNING_CONFIG_LIMITS = {
  maxBytes: 1024 * 1024,
  maxServices: 64,
  maxJsonDepth: 8,
} as const;

type Json = Record<string, unknown>;

/** Read and parse a signing_config.json file. */
export function loadSigningConfig(path: string, what = 'signing config'): SigningConfig {
  const bytes = readFileBounded(path, {
    what,
    maxBytes: SIGNING_CONFIG_LIMITS.maxBytes,
    code: 'CONFIG_INVALID',
    check: 'config',
  });
  return parseSigningConfig(bytes, path);
}

/** Typed reading of a parsed signing config: each reader refuses a wrong value by its key. */
class SigningConfigReader {
  constructor(private readonly where: string) {}

  bad(key: string, what: string): never {
    throw new StellaError('CONFIG_INVALID', 'config', `${this.where}: ${key}: ${what}`, { key });
  }

  object(v: unknown, key: string, allowed: readonly string[]): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return this.bad(key, `must be an object, not ${describe(v)}`);
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k))
        this.bad(key ? `${key}.${k}` : k, `unknown key (allowed: ${allowed.join(', ')})`);
    }
    return v as Json;
  }

  string(v: unknown, key: string): string {
    if (typeof v !== 'string' || v.length === 0)
      return this.bad(key, `must be a non-empty string, not ${describe(v)}`);
    return v;
  }

  uint(v: unknown, key: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
      return this.bad(key, `must be a whole number from 0 to 4294967295, not ${describe(v)}`);
    return v;
  }

  time(v: unknown, key: string): ReturnType<typeof parseRfc3339> {
    try {
      return parseRfc3339(v, key, { code: 'CONFIG_INVALID', check: 'config' });
    } catch (e) {
      if (e instanceof StellaError) throw e.reworded(`${this.where}: ${e.message}`, { key });
      throw e;
    }
  }

  url(v: unknown, key: string): string {
    const s = this.string(v, key);
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return this.bad(key, `not a URL: ${quoted(s, 200)}`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      this.bad(key, `must be an http(s) URL, got ${u.protocol}`);
    if (u.username || u.password) this.bad(key, 'must not carry credentials');
    return withoutTrailing(s, '/');
  }

  service(v: unknown, key: string): SigningService {
    const o = this.object(v, key, ['url', 'majorApiVersion', 'validFor', 'operator']);
    for (const r of ['url', 'majorApiVersion', 'validFor', 'operator'])
      if (!set(o[r])) this.bad(`${key}.${r}`, 'missing');
    const w = this.object(o['validFor'], `${key}.validFor`, ['start', 'end']);
    if (!set(w['start'])) this.bad(`${key}.validFor.start`, 'missing');
    const start = windowStartMs(this.time(w['start'], `${key}.validFor.start`));
    const end = set(w['end']) ? windowEndMs(this.time(w['end'], `${key}.validFor.end`)) : undefined;
    if (end !== undefined && end < start) this.bad(`${key}.validFor`, 'end is before start');
    return {
      url: this.url(o['url'], `${key}.url`),
      majorApiVersion: this.uint(o['majorApiVersion'], `${key}.majorApiVersion`),
      validFor: { start, end },
      operator: this.string(o['operator'], `${key}.operator`),
      where: key,
    };
  }

  services(v: unknown, key: string): SigningService[] {
    if (!set(v)) return [];
    if (!Array.isArray(v)) return this.bad(key, `must be a list, not ${describe(v)}`);
    if (v.length > SIGNING_CONFIG_LIMITS.maxServices)
      this.bad(
        key,
        `${v.length} services exceed the limit of ${SIGNING_CONFIG_LIMITS.maxServices}`,
      );
    return v.map((s, i) => this.service(s, `${key}[${i}]`));
  }

  configuration(v: unknown, key: string): ServiceConfiguration | undefined {
    if (!set(v)) return undefined;
    const o = this.object(v, key, ['selector', 'count']);
    if (!set(o['selector'])) this.bad(`${key}.selector`, 'missing');
    const selector = o['selector'];
    if (selector !== 'ALL' && selector !== 'ANY' && selector !== 'EXACT')
      this.bad(`${key}.selector`, `must be "ALL", "ANY" or "EXACT", not ${describe(selector)}`);
    const count = set(o['count']) ? this.uint(o['count'], `${key}.count`) : undefined;
    if (selector === 'EXACT' && (count === undefined || count === 0))
      this.bad(`${key}.count`, 'EXACT needs a count greater than 0');
    if (selector !== 'EXACT' && count !== undefined && count !== 0)
      this.bad(`${key}.count`, `is only used with EXACT, not ${selector}`);
    return {
      selector,
      count: selector === 'EXACT' ? count : undefined,
    };
  }
}

const set = (v: unknown): boolean => v !== undefined && v !== null;

export function parseSigningConfig(input: Uint8Array | string, source?: string): SigningConfig {
  const where = source ?? 'signing config';
  const doc = parseJsonStrict(input, {
    maxDepth: SIGNING_CONFIG_LIMITS.maxJsonDepth,
    maxBytes: SIGNING_CONFIG_LIMITS.maxBytes,
    what: where,
    code: 'CONFIG_INVALID',
    limitCode: 'CONFIG_INVALID',
    check: 'config',
  });
  const r = new SigningConfigReader(where);
  // Another Sigstore document (a trusted root given as --signing-config) is said to be one,
  // before its keys are judged as a signing config's.
  const given = (doc as { mediaType?: unknown } | null)?.mediaType;
  const misplaced = typeof given === 'string' ? misplacedDocumentNote(given, 'signing config') : '';
  if (misplaced !== '') r.bad('mediaType', `${quoted(given, 100)}${misplaced}`);
  const root = r.object(doc, '', [
    'mediaType',
    'caUrls',
    'oidcUrls',
    'rekorTlogUrls',
    'rekorTlogConfig',
    'tsaUrls',
    'tsaConfig',
  ]);
  if (!set(root['mediaType'])) r.bad('mediaType', 'missing');
  const mediaType = r.string(root['mediaType'], 'mediaType');
  if (mediaType !== SIGNING_CONFIG_MEDIA_TYPE_V02)
    r.bad(
      'mediaType',
      `${quoted(mediaType, 100)} is not supported (only ${SIGNING_CONFIG_MEDIA_TYPE_V02})`,
    );
  const cfg: SigningConfig = {
    mediaType,
    caUrls: r.services(root['caUrls'], 'caUrls'),
    oidcUrls: r.services(root['oidcUrls'], 'oidcUrls'),
    rekorTlogUrls: r.services(root['rekorTlogUrls'], 'rekorTlogUrls'),
    rekorTlogConfig: r.configuration(root['rekorTlogConfig'], 'rekorTlogConfig'),
    tsaUrls: r.services(root['tsaUrls'], 'tsaUrls'),
    tsaConfig: r.configuration(root['tsaConfig'], 'tsaConfig'),
    source,
  };
  if (cfg.caUrls.length === 0) r.bad('caUrls', 'lists no certificate authority');
  if (cfg.rekorTlogUrls.length === 0)
    r.bad('rekorTlogUrls', 'lists no Rekor log (Stella always logs a signature)');
  if (!cfg.rekorTlogConfig)
    r.bad('rekorTlogConfig', 'missing (how to choose among rekorTlogUrls: ANY, ALL or EXACT)');
  if (cfg.tsaUrls.length > 0 && !cfg.tsaConfig)
    r.bad('tsaConfig', 'missing (how to choose among tsaUrls: ANY, ALL or EXACT)');
  return cfg;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return quoted(v, 60);
  if (typeof v === 'object') return 'an object';
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint'
    ? `${typeof v} ${String(v)}`
    : typeof v;
}

// ---------------------------------------------------------------------------------------
// Selection

export interface SelectedServices {
  ca: SigningService;
  /** The OIDC provider (interactive login); Stella takes tokens from CI or flags, so it is reported only. */
  oidc: SigningService | undefined;
  rekor: SigningService[];
  rekorApiVersion: 1 | 2;
  tsa: SigningService[];
}

function selectionError(cfg: SigningConfig, key: string, message: string): never {
  throw new StellaError(
    'CONFIG_INVALID',
    'config',
    `${cfg.source ?? 'signing config'}: ${key}: ${message}`,
    { key },
  );
}

/** Services of the highest supported API version valid at `now`, newest start first. */
function candidates(
  cfg: SigningConfig,
  list: SigningService[],
  supported: readonly number[],
  now: number,
  key: string,
  what: string,
): SigningService[] {
  if (list.length === 0) selectionError(cfg, key, `lists no ${what}`);
  const versions = [...supported].sort((a, b) => b - a);
  const supportedOnes = list.filter((s) => versions.includes(s.majorApiVersion));
  if (supportedOnes.length === 0) {
    selectionError(
      cfg,
      key,
      `no ${what} with an API version Stella supports (${versions.join(', ')}): ${listed(list.map((s) => `${s.where} has majorApiVersion ${s.majorApiVersion}`))}`,
    );
  }
  for (const v of versions) {
    const valid = supportedOnes.filter(
      (s) => s.majorApiVersion === v && timeInWindow(now, s.validFor.start, s.validFor.end),
    );
    // Stable sort: file order among equal starts.
    if (valid.length > 0)
      return valid
        .map((s, i) => ({ s, i }))
        .sort((a, b) => b.s.validFor.start - a.s.validFor.start || a.i - b.i)
        .map((x) => x.s);
  }
  const windows = supportedOnes.map(
    (s) =>
      `${s.where} valid ${formatTimeCompact(s.validFor.start)}..${s.validFor.end === undefined ? 'open' : formatTimeCompact(s.validFor.end)}`,
  );
  return selectionError(cfg, key, `no ${what} is valid at ${formatTime(now)}: ${listed(windows)}`);
}

function selectOne(
  cfg: SigningConfig,
  list: SigningService[],
  supported: readonly number[],
  now: number,
  key: string,
  what: string,
): SigningService {
  return candidates(cfg, list, supported, now, key, what)[0]!;
}

function selectMany(
  cfg: SigningConfig,
  list: SigningService[],
  config: ServiceConfiguration,
  supported: readonly number[],
  now: number,
  key: string,
  configKey: string,
  what: string,
): SigningService[] {
  const seen = new Set<string>();
  const perOperator = candidates(cfg, list, supported, now, key, what).filter((s) => {
    if (seen.has(s.operator)) return false;
    seen.add(s.operator);
    return true;
  });
  switch (config.selector) {
    case 'ALL':
      return perOperator;
    case 'ANY':
      return perOperator.slice(0, 1);
    case 'EXACT':
      if (perOperator.length < config.count!) {
        selectionError(
          cfg,
          `${configKey}.count`,
          `EXACT ${config.count} ${what}s needed, but only ${perOperator.length} of distinct operators ${perOperator.length === 1 ? 'is' : 'are'} valid now with API version ${perOperator[0]!.majorApiVersion}`,
        );
      }
      return perOperator.slice(0, config.count);
  }
}

/** Pick the services to sign with at `now` (ms), by the rules in the module comment. */
export function selectSigningServices(cfg: SigningConfig, now: number): SelectedServices {
  const ca = selectOne(
    cfg,
    cfg.caUrls,
    SUPPORTED_API_VERSIONS.ca,
    now,
    'caUrls',
    'certificate authority',
  );
  const oidc =
    cfg.oidcUrls.length > 0
      ? selectOne(cfg, cfg.oidcUrls, SUPPORTED_API_VERSIONS.oidc, now, 'oidcUrls', 'OIDC provider')
      : undefined;
  const rekor = selectMany(
    cfg,
    cfg.rekorTlogUrls,
    cfg.rekorTlogConfig!,
    SUPPORTED_API_VERSIONS.rekor,
    now,
    'rekorTlogUrls',
    'rekorTlogConfig',
    'Rekor log',
  );
  const rekorApiVersion = rekor[0]!.majorApiVersion as 1 | 2;
  let tsa: SigningService[] = [];
  if (cfg.tsaUrls.length > 0)
    tsa = selectMany(
      cfg,
      cfg.tsaUrls,
      cfg.tsaConfig!,
      SUPPORTED_API_VERSIONS.tsa,
      now,
      'tsaUrls',
      'tsaConfig',
      'timestamp authority',
    );
  if (rekorApiVersion === 2 && tsa.length === 0) {
    selectionError(
      cfg,
      'tsaUrls',
      'a Rekor v2 log was chosen, and Rekor v2 gives no signed entry timestamp: the signing config must list a timestamp authority',
    );
  }
  return { ca, oidc, rekor, rekorApiVersion, tsa };
}

// ---------------------------------------------------------------------------------------
// Writing (the sandbox writes one for itself)

export interface SigningServiceInput {
  url: string;
  majorApiVersion: number;
  validFor: { start: number; end?: number };
  operator: string;
}

export interface SigningConfigInput {
  caUrls: SigningServiceInput[];
  oidcUrls: SigningServiceInput[];
  rekorTlogUrls: SigningServiceInput[];
  rekorTlogConfig: { selector: ServiceSelector; count?: number };
  tsaUrls: SigningServiceInput[];
  tsaConfig: { selector: ServiceSelector; count?: number };
}

/** signing_config.json text (protobuf JSON field names and order, 2-space indent). */
export function renderSigningConfig(c: SigningConfigInput): string {
  const svc = (s: SigningServiceInput) => ({
    url: s.url,
    majorApiVersion: s.majorApiVersion,
    validFor:
      s.validFor.end === undefined
        ? { start: formatTimeCompact(s.validFor.start) }
        : { start: formatTimeCompact(s.validFor.start), end: formatTimeCompact(s.validFor.end) },
    operator: s.operator,
  });
  const sel = (x: { selector: ServiceSelector; count?: number }) =>
    x.count === undefined ? { selector: x.selector } : { selector: x.selector, count: x.count };
  const doc = {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE_V02,
    caUrls: c.caUrls.map(svc),
    oidcUrls: c.oidcUrls.map(svc),
    rekorTlogUrls: c.rekorTlogUrls.map(svc),
    rekorTlogConfig: sel(c.rekorTlogConfig),
    tsaUrls: c.tsaUrls.map(svc),
    tsaConfig: sel(c.tsaConfig),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
