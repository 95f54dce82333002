/**
 * The signer configuration file (the seed's `etc/signer.yaml`), parsed strictly. Every error
 * names the key path and the line it is on (CONFIG_INVALID), so a typo such as `retires:` is
 * reported where it is instead of being silently ignored.
 *
 * Shape (all keys under `signer.signing`):
 *   mode: keyless
 *   keyless:
 *     enabled: true
 *     fulcio:      { url, timeout: 30s, retries: 3 }
 *     rekor:       { url, timeout, retries, majorApiVersion: 1|2 }   (Stella extension; the seed has no Rekor key)
 *     tsa:         { url, timeout, retries }        (RFC 3161 TSA; needed with Rekor v2)
 *     signingConfig: FILE   a Sigstore signing_config.json (v0.2): its CA, Rekor and TSA URLs
 *                           replace fulcio.url / rekor.url / tsa.url (./signing-config.ts)
 *     trustedRoot: FILE     the trust root Rekor's and the TSA's answers are checked against
 *     oidc:        { issuer, clientId, useAmbientToken }
 *     algorithms:  { preferred: ECDSA_P256, allowed: [ECDSA_P256, Ed25519] }
 *     certificate: { rootBundlePath, validateChain, requireSCT }
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { fail, StellaError } from '../errors.js';
import { FILE_LIMITS, readTextFileBounded } from '../util/fs.js';
import { pemToDerList } from '../util/pem.js';
import { parseYamlStrict, type YamlDocument } from '../util/yaml.js';
import { parseCertificate } from '../x509/certificate.js';
import { quoted, withoutTrailing } from '../util/text.js';

export type SigningAlgorithm = 'ECDSA_P256' | 'Ed25519';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ECDSA_P256', 'Ed25519'];

export interface ServiceConfig {
  url: string;
  /** Per-attempt timeout, milliseconds. */
  timeoutMs: number;
  /** Extra attempts after the first. */
  retries: number;
}

export interface SignerConfig {
  mode: 'keyless';
  fulcio: ServiceConfig;
  /** majorApiVersion: 1 (default) or 2 (then a TSA is needed). */
  rekor: ServiceConfig & {
    majorApiVersion?: 1 | 2;
    /** rekor.url was written in the config (not the default). */ explicit?: boolean;
  };
  /** RFC 3161 TSA: url undefined = none (a Rekor v2 log needs one). */
  tsa: Omit<ServiceConfig, 'url'> & { url: string | undefined };
  /** A Sigstore signing_config.json (absolute path): its services replace the URLs above. */
  signingConfigPath: string | undefined;
  /** trusted_root.json (absolute path) that Rekor's and the TSA's answers are checked against. */
  trustedRootPath: string | undefined;
  oidc: {
    /** When set, a token from another issuer is refused before any request. */
    issuer: string | undefined;
    /** The audience the token must carry (Fulcio's client id). */
    clientId: string;
    useAmbientToken: boolean;
  };
  algorithms: { preferred: SigningAlgorithm; allowed: SigningAlgorithm[] };
  certificate: {
    /** PEM bundle of CA certificates the returned chain must end in (absolute path). */
    rootBundlePath: string | undefined;
    validateChain: boolean;
    requireSCT: boolean;
  };
  /** Where the config came from (file path), for messages. */
  source: string | undefined;
}

export const PUBLIC_GOOD_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const PUBLIC_GOOD_REKOR_URL = 'https://rekor.sigstore.dev';

export function defaultSignerConfig(): SignerConfig {
  return {
    mode: 'keyless',
    fulcio: { url: PUBLIC_GOOD_FULCIO_URL, timeoutMs: 30_000, retries: 3 },
    rekor: { url: PUBLIC_GOOD_REKOR_URL, timeoutMs: 30_000, retries: 3 },
    tsa: { url: undefined, timeoutMs: 30_000, retries: 3 },
    signingConfigPath: undefined,
    trustedRootPath: undefined,
    oidc: { issuer: undefined, clientId: 'sigstore', useAmbientToken: true },
    algorithms: { preferred: 'ECDSA_P256', allowed: ['ECDSA_P256'] },
    certificate: { rootBundlePath: undefined, validateChain: true, requireSCT: true },
    source: undefined,
  };
}

/** Read and parse a signer.yaml file. */
export function loadSignerConfig(path: string): SignerConfig {
  const text = readTextFileBounded(path, {
    what: 'signer config',
    maxBytes: FILE_LIMITS.configBytes,
    code: 'CONFIG_INVALID',
    check: 'config',
  });
  return parseSignerConfig(text, path);
}

/**
 * The roots Fulcio's chain must end at, for signArtifact's fulcioRoots: certificate.rootBundlePath
 * read (a bounded regular file) and every certificate in it parsed. Undefined when the config
 * asks for no chain check (validateChain false, or no rootBundlePath).
 */
export function loadFulcioRoots(config: SignerConfig): Uint8Array[] | undefined {
  const path = config.certificate.rootBundlePath;
  if (!config.certificate.validateChain || path === undefined) return undefined;
  const what = `certificate.rootBundlePath ${path}`;
  const text = readTextFileBounded(path, {
    what: 'certificate.rootBundlePath',
    maxBytes: FILE_LIMITS.pemBundleBytes,
    code: 'CONFIG_INVALID',
    check: 'config',
  });
  const ders = pemToDerList(text, 'CERTIFICATE', { code: 'CONFIG_INVALID', check: 'config', what });
  ders.forEach((der, i) =>
    parseCertificate(der, {
      code: 'CONFIG_INVALID',
      check: 'config',
      what: `${what}: certificate ${i + 1}`,
    }),
  );
  return ders;
}

/**
 * Typed reading of one signer.yaml document: each reader refuses a wrong value with the key's
 * path and line (CONFIG_INVALID). Remembers the service URL keys it read (`urlKeys`), which a
 * signingConfig may not be combined with.
 */
class SignerYaml {
  /** URL keys that a signingConfig replaces: both at once is ambiguous, so refused. */
  readonly urlKeys: { path: string; node: Node | null }[] = [];

  constructor(
    private readonly lineOf: YamlDocument['lineOf'],
    private readonly where: string,
    private readonly source: string | undefined,
  ) {}

  bad(
    path: string,
    node: Node | null | undefined,
    what: string,
    options?: { cause?: unknown },
  ): never {
    const line = this.lineOf(node);
    const at = line === undefined ? '' : ` (line ${line})`;
    throw new StellaError(
      'CONFIG_INVALID',
      'config',
      `${this.where}: ${path}${at}: ${what}`,
      { key: path, ...(line === undefined ? {} : { line }) },
      options,
    );
  }

  /** A mapping's entries by key, refusing keys outside `allowed` (typos are errors, not no-ops). */
  mapping(node: unknown, path: string, allowed: readonly string[]): Map<string, Node | null> {
    if (!isMap(node)) return this.bad(path, node as Node, 'must be a mapping');
    const out = new Map<string, Node | null>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
      if (key === undefined) return this.bad(path, keyNode, 'keys must be plain strings');
      const full = path ? `${path}.${key}` : key;
      if (!allowed.includes(key))
        return this.bad(full, keyNode, `unknown key (allowed: ${allowed.join(', ')})`);
      out.set(key, (pair.value as Node | null) ?? null);
    }
    return out;
  }

  scalar(node: Node | null | undefined): unknown {
    return isScalar(node) ? node.value : undefined;
  }

  str(node: Node | null, path: string): string {
    const v = this.scalar(node);
    if (typeof v !== 'string' || v.length === 0)
      return this.bad(path, node, 'must be a non-empty string');
    return v;
  }

  bool(node: Node | null, path: string): boolean {
    const v = this.scalar(node);
    if (typeof v !== 'boolean') return this.bad(path, node, 'must be true or false');
    return v;
  }

  url(node: Node | null, path: string): string {
    const v = this.str(node, path);
    let u: URL;
    try {
      u = new URL(v);
    } catch (e) {
      return this.bad(path, node, `not a URL: ${quoted(v)}`, { cause: e });
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      return this.bad(path, node, `must be an http(s) URL, got ${u.protocol}`);
    return withoutTrailing(v, '/');
  }

  retries(node: Node | null, path: string): number {
    const v = this.scalar(node);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 20)
      return this.bad(path, node, 'must be a whole number from 0 to 20');
    return v;
  }

  duration(node: Node | null, path: string): number {
    const v = this.scalar(node);
    const ms =
      typeof v === 'number' ? v * 1000 : typeof v === 'string' ? parseDuration(v) : undefined;
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0 || ms > 600_000) {
      return this.bad(
        path,
        node,
        `must be a duration such as 30s, 500ms or 2m (at most 10m), got ${quoted(v)}`,
      );
    }
    return ms;
  }

  algorithm(node: Node | null, path: string): SigningAlgorithm {
    const v = this.str(node, path);
    const hit = SIGNING_ALGORITHMS.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!hit)
      return this.bad(
        path,
        node,
        `unsupported algorithm ${quoted(v)} (supported: ${SIGNING_ALGORITHMS.join(', ')})`,
      );
    return hit;
  }

  /** A service's url, timeout and retries into `into`; the mapping, for the `extra` keys. */
  service(
    node: Node | null,
    path: string,
    into: Omit<ServiceConfig, 'url'> & { url?: string },
    extra: readonly string[] = [],
  ): Map<string, Node | null> {
    const m = this.mapping(node, path, ['url', 'timeout', 'retries', ...extra]);
    if (m.has('url')) {
      into.url = this.url(m.get('url')!, `${path}.url`);
      this.urlKeys.push({ path: `${path}.url`, node: m.get('url')! });
    }
    if (m.has('timeout')) into.timeoutMs = this.duration(m.get('timeout')!, `${path}.timeout`);
    if (m.has('retries')) into.retries = this.retries(m.get('retries')!, `${path}.retries`);
    return m;
  }

  /** A path, relative to the config file's folder unless absolute. */
  filePath(node: Node | null, path: string): string {
    const raw = this.str(node, path);
    return isAbsolute(raw) || !this.source ? raw : resolve(dirname(this.source), raw);
  }
}

/** Parse signer.yaml text. Relative paths (rootBundlePath) resolve against the file's folder. */
export function parseSignerConfig(text: string, source?: string): SignerConfig {
  const where = source ?? 'signer config';
  const { doc, lineOf } = parseYamlStrict(text, where, 'CONFIG_INVALID');
  const y = new SignerYaml(lineOf, where, source);

  const cfg = defaultSignerConfig();
  cfg.source = source;
  if (
    doc.contents === null ||
    (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ''))
  ) {
    fail(
      'CONFIG_INVALID',
      'config',
      `${where}: is empty: expected a signer config (signer: signing: keyless: ...; see the README's signer.yaml)`,
    );
  }
  const root = y.mapping(doc.contents, '', ['signer']);
  if (!root.has('signer')) y.bad('signer', doc.contents, 'missing');
  const signer = y.mapping(root.get('signer'), 'signer', ['signing']);
  if (!signer.has('signing')) y.bad('signer.signing', root.get('signer'), 'missing');
  const signing = y.mapping(signer.get('signing'), 'signer.signing', ['mode', 'keyless']);
  if (signing.has('mode')) {
    const mode = y.str(signing.get('mode')!, 'signer.signing.mode');
    if (mode !== 'keyless')
      y.bad(
        'signer.signing.mode',
        signing.get('mode'),
        `only "keyless" is supported, got ${quoted(mode)}`,
      );
  }
  if (signing.has('keyless')) readKeyless(y, signing.get('keyless')!, cfg);
  return cfg;
}

const KEYLESS = 'signer.signing.keyless';

/** signer.signing.keyless into `cfg`. */
function readKeyless(y: SignerYaml, node: Node | null, cfg: SignerConfig): void {
  const p = KEYLESS;
  const k = y.mapping(node, p, [
    'enabled',
    'fulcio',
    'rekor',
    'tsa',
    'signingConfig',
    'trustedRoot',
    'oidc',
    'algorithms',
    'certificate',
  ]);
  if (k.has('enabled') && !y.bool(k.get('enabled')!, `${p}.enabled`)) {
    y.bad(`${p}.enabled`, k.get('enabled'), 'keyless signing is disabled in this config');
  }
  readServices(y, k, cfg);
  if (k.has('trustedRoot'))
    cfg.trustedRootPath = y.filePath(k.get('trustedRoot')!, `${p}.trustedRoot`);
  if (k.has('signingConfig')) {
    cfg.signingConfigPath = y.filePath(k.get('signingConfig')!, `${p}.signingConfig`);
    const clash = y.urlKeys[0];
    if (clash)
      y.bad(
        clash.path,
        clash.node,
        `cannot be used with ${p}.signingConfig, whose caUrls, rekorTlogUrls and tsaUrls name the services`,
      );
  }
  if (cfg.rekor.majorApiVersion === 2 && !cfg.signingConfigPath && cfg.tsa.url === undefined) {
    y.bad(
      `${p}.tsa.url`,
      k.get('tsa') ?? k.get('rekor'),
      'Rekor v2 gives no signed entry timestamp: a TSA URL is needed with rekor.majorApiVersion 2',
    );
  }
  if (k.has('oidc')) {
    const o = y.mapping(k.get('oidc'), `${p}.oidc`, ['issuer', 'clientId', 'useAmbientToken']);
    if (o.has('issuer')) cfg.oidc.issuer = y.url(o.get('issuer')!, `${p}.oidc.issuer`);
    if (o.has('clientId')) cfg.oidc.clientId = y.str(o.get('clientId')!, `${p}.oidc.clientId`);
    if (o.has('useAmbientToken'))
      cfg.oidc.useAmbientToken = y.bool(o.get('useAmbientToken')!, `${p}.oidc.useAmbientToken`);
  }
  if (k.has('algorithms')) readAlgorithms(y, k.get('algorithms')!, cfg);
  if (k.has('certificate')) readCertificate(y, k.get('certificate')!, cfg);
}

/**
 * keyless.fulcio, .rekor and .tsa; a private Fulcio without an explicit Rekor URL is refused
 * (its entries would go to the public Rekor).
 */
function readServices(y: SignerYaml, k: Map<string, Node | null>, cfg: SignerConfig): void {
  const p = KEYLESS;
  if (k.has('fulcio')) y.service(k.get('fulcio')!, `${p}.fulcio`, cfg.fulcio);
  if (k.has('rekor')) {
    const r = y.service(k.get('rekor')!, `${p}.rekor`, cfg.rekor, ['majorApiVersion']);
    if (r.has('majorApiVersion')) {
      const node = r.get('majorApiVersion')!;
      const v = y.scalar(node);
      if (v !== 1 && v !== 2)
        y.bad(
          `${p}.rekor.majorApiVersion`,
          node,
          `must be 1 or 2 (the Rekor API versions Stella speaks), got ${quoted(v)}`,
        );
      cfg.rekor.majorApiVersion = v;
    }
  }
  if (k.has('tsa')) y.service(k.get('tsa')!, `${p}.tsa`, cfg.tsa);
  if (y.urlKeys.some((u) => u.path === `${p}.rekor.url`)) cfg.rekor.explicit = true;
  const fulcioUrlKey = y.urlKeys.find((u) => u.path === `${p}.fulcio.url`);
  if (
    fulcioUrlKey &&
    cfg.fulcio.url !== PUBLIC_GOOD_FULCIO_URL &&
    !cfg.rekor.explicit &&
    !k.has('signingConfig')
  ) {
    y.bad(
      `${p}.rekor.url`,
      k.get('fulcio'),
      `missing: a private Fulcio (${cfg.fulcio.url}) needs an explicit Rekor URL — without one, entries (and the identities in their certificates) would go to the public Rekor ${PUBLIC_GOOD_REKOR_URL}; set rekor.url (to ${PUBLIC_GOOD_REKOR_URL} if that is really meant)`,
    );
  }
}

/** keyless.algorithms: allowed (non-empty) and preferred, which must be among them. */
function readAlgorithms(y: SignerYaml, node: Node | null, cfg: SignerConfig): void {
  const p = `${KEYLESS}.algorithms`;
  const a = y.mapping(node, p, ['preferred', 'allowed']);
  if (a.has('allowed')) {
    const list = a.get('allowed')!;
    if (!isSeq(list) || list.items.length === 0)
      y.bad(`${p}.allowed`, list, 'must be a non-empty list');
    cfg.algorithms.allowed = (list as { items: unknown[] }).items.map((item, i) =>
      y.algorithm(item as Node, `${p}.allowed[${i}]`),
    );
  }
  if (a.has('preferred'))
    cfg.algorithms.preferred = y.algorithm(a.get('preferred')!, `${p}.preferred`);
  if (!cfg.algorithms.allowed.includes(cfg.algorithms.preferred)) {
    if (a.has('allowed')) {
      y.bad(
        `${p}.preferred`,
        a.get('preferred') ?? a.get('allowed'),
        `${cfg.algorithms.preferred} is not in algorithms.allowed`,
      );
    }
    cfg.algorithms.allowed = [cfg.algorithms.preferred, ...cfg.algorithms.allowed];
  }
}

/** keyless.certificate: rootBundlePath, validateChain, requireSCT. */
function readCertificate(y: SignerYaml, node: Node | null, cfg: SignerConfig): void {
  const p = `${KEYLESS}.certificate`;
  const c = y.mapping(node, p, ['rootBundlePath', 'validateChain', 'requireSCT']);
  if (c.has('rootBundlePath'))
    cfg.certificate.rootBundlePath = y.filePath(c.get('rootBundlePath')!, `${p}.rootBundlePath`);
  if (c.has('validateChain'))
    cfg.certificate.validateChain = y.bool(c.get('validateChain')!, `${p}.validateChain`);
  if (c.has('requireSCT'))
    cfg.certificate.requireSCT = y.bool(c.get('requireSCT')!, `${p}.requireSCT`);
}

/** "30s", "500ms", "2m", "1m30s" -> milliseconds; undefined when not a duration. */
export function parseDuration(s: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const n = Number(m[1]);
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  return matched > 0 && matched === s.length ? total : undefined;
}

/** Render a config as signer.yaml text (the sandbox writes one pointing at itself). */
export function renderSignerConfig(cfg: Omit<SignerConfig, 'source'>): string {
  const q = (s: string) => JSON.stringify(s);
  // With a signingConfig the service URLs come from it: the url keys are left out.
  const viaSigningConfig = cfg.signingConfigPath !== undefined;
  const lines = [
    'signer:',
    '  signing:',
    `    mode: ${q(cfg.mode)}`,
    '    keyless:',
    '      enabled: true',
    ...(viaSigningConfig ? [`      signingConfig: ${q(cfg.signingConfigPath!)}`] : []),
    '      fulcio:',
    ...(viaSigningConfig ? [] : [`        url: ${q(cfg.fulcio.url)}`]),
    `        timeout: ${cfg.fulcio.timeoutMs}ms`,
    `        retries: ${cfg.fulcio.retries}`,
    '      rekor:',
    ...(viaSigningConfig ? [] : [`        url: ${q(cfg.rekor.url)}`]),
    `        timeout: ${cfg.rekor.timeoutMs}ms`,
    `        retries: ${cfg.rekor.retries}`,
    ...((cfg.rekor.majorApiVersion ?? 1) !== 1 && !viaSigningConfig
      ? [`        majorApiVersion: ${cfg.rekor.majorApiVersion}`]
      : []),
    // The TSA's timeout and retries always: with no url here, a signing config (this file's
    // or --signing-config's) may still name a TSA, and they apply to it.
    '      tsa:',
    ...(cfg.tsa.url !== undefined && !viaSigningConfig ? [`        url: ${q(cfg.tsa.url)}`] : []),
    `        timeout: ${cfg.tsa.timeoutMs}ms`,
    `        retries: ${cfg.tsa.retries}`,
    ...(cfg.trustedRootPath ? [`      trustedRoot: ${q(cfg.trustedRootPath)}`] : []),
    '      oidc:',
    ...(cfg.oidc.issuer ? [`        issuer: ${q(cfg.oidc.issuer)}`] : []),
    `        clientId: ${q(cfg.oidc.clientId)}`,
    `        useAmbientToken: ${cfg.oidc.useAmbientToken}`,
    '      algorithms:',
    `        preferred: ${q(cfg.algorithms.preferred)}`,
    `        allowed: [${cfg.algorithms.allowed.map(q).join(', ')}]`,
    '      certificate:',
    ...(cfg.certificate.rootBundlePath
      ? [`        rootBundlePath: ${q(cfg.certificate.rootBundlePath)}`]
      : []),
    `        validateChain: ${cfg.certificate.validateChain}`,
    `        requireSCT: ${cfg.certificate.requireSCT}`,
  ];
  return lines.join('\n') + '\n';
}
