/**
 * A small OCI distribution client for one repository: manifests and blobs pulled with their
 * digests verified and their media types checked, pushes, the referrers API, and the auth
 * flows registries use (anonymous, Basic, and the `WWW-Authenticate: Bearer` token flow).
 *
 * Everything goes through ./http.ts (size limits, timeouts, bounded redirects, the insecure
 * rule). Credentials are resolved once, on the first 401, and never leave this module except
 * in an Authorization header to the registry's origin or its token realm; every message this
 * module builds is passed through `redact`.
 */
import { StellaError, type ErrorCode } from '../errors.js';
import { parseJsonStrict } from '../util/json.js';
import { utf8 } from '../util/encoding.js';
import { mediaTypeOf } from '../util/http-body.js';
import {
  describeUrl,
  registryErrorText,
  REGISTRY_LIMITS,
  schemeFor,
  send,
  checkUrlAllowed,
  type HttpRequest,
  type HttpResponse,
  type TransportOptions,
} from './http.js';
import { digest } from '../crypto.js';
import { formatDigest } from '../util/digest.js';
import {
  basicToken,
  resolveCredentials,
  secretsOf,
  type CredentialOptions,
  type Credentials,
} from './credentials.js';
import type { RepositoryRef } from './reference.js';
import { isRetryableStatus } from '../util/retry.js';
import { quoted } from '../util/text.js';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
} as const;

/** Every manifest media type an image may have (what its subject descriptor may say). */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface PulledManifest {
  bytes: Uint8Array;
  /** The media type the registry served it with (Content-Type, parameters dropped). */
  mediaType: string;
  /** `sha256:<hex>` of the bytes, checked against the reference or Docker-Content-Digest. */
  digest: string;
  /** The parsed JSON object. */
  json: Record<string, unknown>;
  /** The ETag the registry served it with, for a conditional update. */
  etag: string | undefined;
}

export interface RegistryClientOptions extends TransportOptions {
  credentials?: CredentialOptions;
}

type Scope = 'pull' | 'push';

const DIGEST_RE = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return formatDigest(algorithm, digest(algorithm, bytes));
}

function verifyDigest(bytes: Uint8Array, expected: string): boolean {
  const algorithm = expected.startsWith('sha512:') ? 'sha512' : 'sha256';
  return digestOf(bytes, algorithm) === expected;
}

export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

function invalid(
  message: string,
  details?: Record<string, unknown>,
  options?: { cause: unknown },
): StellaError {
  return new StellaError('REGISTRY_RESPONSE_INVALID', 'registry', message, details, options);
}

/** Parse and check one descriptor (OCI image spec): media type, digest, size; optional artifactType and string annotations. */
export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(`${what} is not a descriptor object`);
  const o = v as Record<string, unknown>;
  if (typeof o.mediaType !== 'string' || o.mediaType.length === 0 || o.mediaType.length > 255)
    throw invalid(`${what} has no valid mediaType`);
  if (!isDigest(o.digest))
    throw invalid(`${what} has no valid digest (sha256:<64 hex> or sha512:<128 hex>)`);
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0)
    throw invalid(`${what} has no valid size`);
  const d: Descriptor = { mediaType: o.mediaType, digest: o.digest, size: o.size };
  if (o.artifactType !== undefined) {
    if (typeof o.artifactType !== 'string' || o.artifactType.length > 255)
      throw invalid(`${what} has an invalid artifactType`);
    d.artifactType = o.artifactType;
  }
  if (o.annotations !== undefined) d.annotations = parseAnnotations(o.annotations, what);
  return d;
}

export function parseAnnotations(v: unknown, what: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(`${what}: annotations must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string')
      throw invalid(`${what}: annotation ${quoted(k, 80)} is not a string`);
    out[k] = val;
  }
  return out;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** RFC 7235 challenges: `Bearer realm="…",service="…",scope="…"`, `Basic realm="…"`. */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
  };
  const token = () => {
    const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(header.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  while (i < n) {
    skipWs();
    const scheme = token();
    if (scheme === undefined) break;
    const params: Record<string, string> = {};
    for (;;) {
      while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
      const save = i;
      const key = token();
      if (key === undefined) break;
      while (i < n && header[i] === ' ') i++;
      if (header[i] !== '=') {
        i = save;
        break;
      }
      i++;
      while (i < n && header[i] === ' ') i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i]!;
          i++;
        }
        i++;
      } else {
        value = token() ?? '';
      }
      params[key.toLowerCase()] = value;
      while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
      if (header[i] === ',') i++;
      else break;
    }
    out.push({ scheme: scheme.toLowerCase(), params });
  }
  return out;
}

export class RegistryClient {
  readonly repo: RepositoryRef;
  readonly base: URL;
  private readonly opts: RegistryClientOptions;
  private credentials: Credentials | undefined | null = null;
  private readonly authHeaders = new Map<Scope, string>();
  private readonly secrets: string[] = [];

  constructor(repo: RepositoryRef, opts: RegistryClientOptions = {}) {
    this.repo = repo;
    this.opts = opts;
    this.base = new URL(`${schemeFor(repo.apiHost, opts)}://${repo.apiHost}/v2/`);
  }

  /** Where this client talks to, for messages: `registry/repository`. */
  get name(): string {
    return `${this.repo.registry}/${this.repo.repository}`;
  }

  /** Remove every secret this client holds from a message. */
  redact(s: string): string {
    let out = s;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }

  private creds(): Credentials | undefined {
    if (this.credentials === null) {
      this.credentials = resolveCredentials(this.repo.registry, this.opts.credentials);
      this.secrets.push(...secretsOf(this.credentials));
    }
    return this.credentials;
  }

  private url(path: string): URL {
    return new URL(`${this.repo.repository}/${path}`, this.base);
  }

  private error(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause: unknown },
  ): StellaError {
    return new StellaError(code, 'registry', this.redact(message), details, options);
  }

  private async fetchToken(challenge: Challenge, scope: Scope, what: string): Promise<string> {
    const url = this.tokenRealm(challenge, what);
    const scopeValue = `repository:${this.repo.repository}:${scope === 'push' ? 'pull,push' : 'pull'}`;
    const creds = this.creds();
    const res = await this.requestToken(url, challenge, scopeValue, creds);
    const token = this.tokenFrom(res, url, scopeValue, creds);
    this.secrets.push(token);
    return token;
  }

  /** The token service the challenge names: a valid URL this client may talk to. */
  private tokenRealm(challenge: Challenge, what: string): URL {
    const realm = challenge.params.realm;
    if (!realm)
      throw this.error(
        'REGISTRY_AUTH_FAILED',
        `${what}: ${this.repo.registry} asked for a bearer token without a realm`,
      );
    let url: URL;
    try {
      url = new URL(realm);
    } catch (e) {
      throw this.error(
        'REGISTRY_AUTH_FAILED',
        `${what}: ${this.repo.registry} named an invalid token realm`,
        undefined,
        { cause: e },
      );
    }
    checkUrlAllowed(url, this.opts, `token for ${this.name}`);
    return url;
  }

  /**
   * Asks the token service: an identity token is exchanged by a POSTed refresh_token grant
   * (OAuth2), a username and password (or nothing) by a GET with Basic authentication.
   */
  private async requestToken(
    url: URL,
    challenge: Challenge,
    scopeValue: string,
    creds: Credentials | undefined,
  ): Promise<HttpResponse> {
    const common = {
      maxBytes: REGISTRY_LIMITS.maxSmallBodyBytes,
      what: `token for ${this.name}`,
      limitCode: 'REGISTRY_AUTH_FAILED' as ErrorCode,
    };
    if (creds?.kind === 'identity-token') {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.token,
        client_id: 'stella',
        scope: scopeValue,
      });
      if (challenge.params.service) form.set('service', challenge.params.service);
      return send(
        {
          ...common,
          method: 'POST',
          url,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: utf8.encode(form.toString()),
        },
        this.opts,
      );
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', scopeValue);
    const authorization = creds ? `Basic ${basicToken(creds)}` : undefined;
    return send(
      { ...common, method: 'GET', url, headers: { Accept: 'application/json' }, authorization },
      this.opts,
    );
  }

  /** The token in the service's answer (`token`, else `access_token`), or why there is none. */
  private tokenFrom(
    res: HttpResponse,
    url: URL,
    scopeValue: string,
    creds: Credentials | undefined,
  ): string {
    if (res.status === 401 || res.status === 403) {
      throw this.error(
        'REGISTRY_AUTH_FAILED',
        `registry auth failed: the token service at ${describeUrl(url)} refused ${creds ? `the credentials from ${creds.source}` : 'an anonymous token (no credentials found: docker config, --registry-username, STELLA_REGISTRY_USERNAME)'} for ${scopeValue} (HTTP ${res.status})`,
      );
    }
    if (isRetryableStatus(res.status))
      throw this.error(
        'REGISTRY_UNAVAILABLE',
        `registry unavailable: the token service at ${describeUrl(url)} answered HTTP ${res.status}`,
      );
    if (res.status !== 200)
      throw this.error(
        'REGISTRY_AUTH_FAILED',
        `registry auth failed: the token service at ${describeUrl(url)} answered HTTP ${res.status}`,
      );
    let body: unknown;
    try {
      body = parseJsonStrict(res.body, {
        what: `token answer from ${describeUrl(url)}`,
        maxBytes: REGISTRY_LIMITS.maxSmallBodyBytes,
        maxDepth: 8,
        code: 'REGISTRY_AUTH_FAILED',
        limitCode: 'REGISTRY_AUTH_FAILED',
        check: 'registry',
      });
    } catch (e) {
      throw this.error('REGISTRY_AUTH_FAILED', e instanceof Error ? e.message : String(e));
    }
    const o = (typeof body === 'object' && body !== null ? body : {}) as {
      token?: unknown;
      access_token?: unknown;
    };
    const token =
      typeof o.token === 'string' && o.token
        ? o.token
        : typeof o.access_token === 'string' && o.access_token
          ? o.access_token
          : undefined;
    if (!token || /[\s\u0000-\u001f]/.test(token))
      throw this.error(
        'REGISTRY_AUTH_FAILED',
        `registry auth failed: the token service at ${describeUrl(url)} answered without a token`,
      );
    return token;
  }

  private headerFor(scope: Scope): string | undefined {
    return (
      this.authHeaders.get(scope) ?? (scope === 'pull' ? this.authHeaders.get('push') : undefined)
    );
  }

  /** A request to this registry's API (or a URL it handed us), with the auth flow on 401. */
  async request(
    scope: Scope,
    req: Omit<HttpRequest, 'authorization' | 'url'> & { url: URL },
  ): Promise<HttpResponse> {
    const sameOrigin = req.url.origin === this.base.origin;
    let res = await send(
      { ...req, authorization: sameOrigin ? this.headerFor(scope) : undefined },
      this.opts,
    );
    if (res.status === 401 && sameOrigin) {
      const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
      const bearer = challenges.find((c) => c.scheme === 'bearer');
      const basic = challenges.find((c) => c.scheme === 'basic');
      let header: string;
      if (bearer) {
        header = `Bearer ${await this.fetchToken(bearer, scope, req.what)}`;
      } else if (basic) {
        const creds = this.creds();
        if (!creds)
          throw this.error(
            'REGISTRY_AUTH_FAILED',
            `registry auth failed: ${this.name} needs credentials and none were found (docker config, --registry-username, STELLA_REGISTRY_USERNAME)`,
          );
        if (creds.kind !== 'basic')
          throw this.error(
            'REGISTRY_AUTH_FAILED',
            `registry auth failed: ${this.name} asks for Basic auth, and the credentials from ${creds.source} are an identity token`,
          );
        header = `Basic ${basicToken(creds)}`;
      } else {
        throw this.error(
          'REGISTRY_AUTH_FAILED',
          `registry auth failed: ${this.name} answered 401 to ${req.what} without a Basic or Bearer challenge`,
        );
      }
      this.authHeaders.set(scope, header);
      res = await send({ ...req, authorization: header }, this.opts);
      if (res.status === 401) {
        const creds = this.creds();
        throw this.error(
          'REGISTRY_AUTH_FAILED',
          `registry auth failed: ${this.name} refused ${req.what} with ${creds ? `the credentials from ${creds.source}` : 'anonymous access (no credentials found: docker config, --registry-username, STELLA_REGISTRY_USERNAME)'} (HTTP 401)`,
        );
      }
    }
    if (res.status === 403) {
      const creds = this.creds();
      throw this.error(
        'REGISTRY_AUTH_FAILED',
        `registry auth failed: ${this.name} denied ${req.what} (HTTP 403) to ${creds ? `the credentials from ${creds.source}` : 'anonymous access'}${registryErrorText(res.body) ? `: ${registryErrorText(res.body)}` : ''}`,
      );
    }
    return res;
  }

  private unexpected(res: HttpResponse, what: string): StellaError {
    const text = registryErrorText(res.body);
    if (isRetryableStatus(res.status)) {
      return this.error(
        'REGISTRY_UNAVAILABLE',
        `registry unavailable: ${this.name} answered HTTP ${res.status} to ${what}${text ? `: ${text}` : ''}`,
      );
    }
    return this.error(
      'REGISTRY_REJECTED',
      `registry rejected ${what} at ${this.name}: HTTP ${res.status}${text ? `: ${text}` : ''}`,
    );
  }

  /**
   * A manifest by tag or digest, or undefined on 404. Its Content-Type must be one of
   * `accept`, its `mediaType` field (when present) must agree, and its bytes must hash to the
   * digest asked for (or to Docker-Content-Digest for a tag).
   */
  async getManifest(
    reference: string,
    accept: readonly string[],
    what: string,
    maxBytes: number = REGISTRY_LIMITS.maxManifestBytes,
  ): Promise<PulledManifest | undefined> {
    const res = await this.request('pull', {
      method: 'GET',
      url: this.url(`manifests/${reference}`),
      headers: { Accept: accept.join(', ') },
      maxBytes,
      what,
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.unexpected(res, what);
    const mediaType = mediaTypeOf(res.headers.get('content-type'));
    if (!accept.includes(mediaType))
      throw invalid(
        `${what} from ${this.name} has media type ${quoted(mediaType, 100)}, expected ${accept.join(' or ')}`,
      );
    const digest = digestOf(res.body);
    if (isDigest(reference)) {
      if (!verifyDigest(res.body, reference))
        throw invalid(
          `${what} from ${this.name}: its bytes do not hash to ${reference} (got ${digest})`,
          { expected: reference, actual: digest },
        );
    } else {
      const served = res.headers.get('docker-content-digest');
      if (served !== null && served.startsWith('sha256:') && served !== digest)
        throw invalid(
          `${what} from ${this.name}: its bytes hash to ${digest}, the registry says ${quoted(served, 80)}`,
        );
    }
    let json: unknown;
    try {
      json = parseJsonStrict(res.body, {
        what: `${what} from ${this.name}`,
        maxBytes,
        maxDepth: 32,
        code: 'REGISTRY_RESPONSE_INVALID',
        limitCode: 'REGISTRY_LIMIT_EXCEEDED',
        check: 'registry',
      });
    } catch (e) {
      throw e instanceof StellaError ? this.error(e.code, e.message) : e;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw invalid(`${what} from ${this.name} is not a JSON object`);
    const o = json as Record<string, unknown>;
    if (o.schemaVersion !== 2) throw invalid(`${what} from ${this.name} is not schemaVersion 2`);
    if (o.mediaType !== undefined && o.mediaType !== mediaType)
      throw invalid(
        `${what} from ${this.name} says mediaType ${quoted(o.mediaType, 100)} but was served as ${mediaType}`,
      );
    return {
      bytes: res.body,
      mediaType,
      digest,
      json: o,
      etag: res.headers.get('etag') ?? undefined,
    };
  }

  /** Push a manifest under a tag or its digest; returns its digest and the OCI-Subject header (referrers API support). */
  async putManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    what: string,
    conditions: Record<string, string> = {},
  ): Promise<{ digest: string; ociSubject: string | undefined; conflict?: true }> {
    const res = await this.request('push', {
      method: 'PUT',
      url: this.url(`manifests/${reference}`),
      headers: { 'Content-Type': mediaType, ...conditions },
      body: bytes,
      maxBytes: REGISTRY_LIMITS.maxSmallBodyBytes,
      what,
    });
    // A registry that honours If-Match / If-None-Match says a conditional push lost the race.
    if (res.status === 412 && Object.keys(conditions).length > 0)
      return { digest: digestOf(bytes), ociSubject: undefined, conflict: true };
    if (res.status !== 201 && res.status !== 200) throw this.unexpected(res, what);
    const digest = digestOf(bytes);
    const served = res.headers.get('docker-content-digest');
    if (served !== null && served.startsWith('sha256:') && served !== digest)
      throw invalid(
        `${what}: ${this.name} stored it as ${quoted(served, 80)}, its bytes hash to ${digest}`,
      );
    return { digest, ociSubject: res.headers.get('oci-subject') ?? undefined };
  }

  /** A blob, its bytes checked against its digest; `what` names it for messages. */
  async getBlob(digest: string, maxBytes: number, what: string): Promise<Uint8Array> {
    const res = await this.request('pull', {
      method: 'GET',
      url: this.url(`blobs/${digest}`),
      maxBytes,
      what,
    });
    if (res.status === 404)
      throw invalid(`${what} is missing from ${this.name} (HTTP 404 for blob ${digest})`);
    if (res.status !== 200) throw this.unexpected(res, what);
    if (!verifyDigest(res.body, digest))
      throw invalid(`${what} from ${this.name}: its bytes do not hash to ${digest}`, {
        expected: digest,
        actual: digestOf(res.body),
      });
    return res.body;
  }

  /** Push a blob (monolithic upload), unless the registry has it already. */
  async pushBlob(bytes: Uint8Array, what: string): Promise<string> {
    const digest = digestOf(bytes);
    const head = await this.request('push', {
      method: 'HEAD',
      url: this.url(`blobs/${digest}`),
      maxBytes: 0,
      what,
    });
    if (head.status === 200) return digest;
    const start = await this.request('push', {
      method: 'POST',
      url: this.url('blobs/uploads/'),
      maxBytes: REGISTRY_LIMITS.maxSmallBodyBytes,
      what: `upload of ${what}`,
    });
    if (start.status !== 202) throw this.unexpected(start, `upload of ${what}`);
    const location = start.headers.get('location');
    if (!location) throw invalid(`upload of ${what}: ${this.name} gave no upload Location`);
    let put: URL;
    try {
      put = new URL(location, start.url);
    } catch (e) {
      throw invalid(`upload of ${what}: ${this.name} gave an invalid upload Location`, undefined, {
        cause: e,
      });
    }
    put.searchParams.set('digest', digest);
    const done = await this.request('push', {
      method: 'PUT',
      url: put,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
      maxBytes: REGISTRY_LIMITS.maxSmallBodyBytes,
      what: `upload of ${what}`,
    });
    if (done.status !== 201 && done.status !== 204)
      throw this.unexpected(done, `upload of ${what}`);
    return digest;
  }

  /**
   * The referrers API (`GET /v2/<name>/referrers/<digest>`), pages followed up to the limit;
   * undefined when the registry does not have it (404), so the caller falls back to the tag.
   */
  async referrers(digest: string, artifactType?: string): Promise<Descriptor[] | undefined> {
    let url: URL | undefined = this.url(`referrers/${digest}`);
    if (artifactType) url.searchParams.set('artifactType', artifactType);
    const out: Descriptor[] = [];
    for (let page = 0; url; page++) {
      if (page >= REGISTRY_LIMITS.maxReferrerPages)
        throw this.error(
          'REGISTRY_LIMIT_EXCEEDED',
          `referrers of ${digest} at ${this.name}: more than ${REGISTRY_LIMITS.maxReferrerPages} pages`,
        );
      const what = `referrers of ${digest}`;
      const res = await this.request('pull', {
        method: 'GET',
        url,
        headers: { Accept: MEDIA_TYPES.ociIndex },
        maxBytes: REGISTRY_LIMITS.maxManifestBytes,
        what,
      });
      if (res.status === 404 && page === 0) {
        // A registry with the API answers an index (possibly empty) for any digest; a 404
        // means no API — unless it answered in the API's own media type.
        return undefined;
      }
      if (res.status !== 200) throw this.unexpected(res, what);
      const mediaType = mediaTypeOf(res.headers.get('content-type'));
      if (mediaType !== MEDIA_TYPES.ociIndex)
        throw invalid(
          `${what} from ${this.name} has media type ${quoted(mediaType, 100)}, expected ${MEDIA_TYPES.ociIndex}`,
        );
      const index = parseIndex(res.body, `${what} from ${this.name}`);
      out.push(...index);
      if (out.length > REGISTRY_LIMITS.maxReferrers)
        throw this.error(
          'REGISTRY_LIMIT_EXCEEDED',
          `${what} at ${this.name}: more than ${REGISTRY_LIMITS.maxReferrers} referrers`,
        );
      url = nextLink(res.headers.get('link'), res.url, `${what} from ${this.name}`);
      if (url && url.origin !== this.base.origin)
        throw invalid(`${what} from ${this.name}: the next page is on another origin`);
    }
    return out;
  }
}

/** Parse an OCI image index (the referrers API answer or the fallback tag's content). */
export function parseIndex(bytes: Uint8Array, what: string): Descriptor[] {
  const json = parseJsonStrict(bytes, {
    what,
    maxBytes: REGISTRY_LIMITS.maxManifestBytes,
    maxDepth: 32,
    code: 'REGISTRY_RESPONSE_INVALID',
    limitCode: 'REGISTRY_LIMIT_EXCEEDED',
    check: 'registry',
  });
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw invalid(`${what} is not a JSON object`);
  const o = json as Record<string, unknown>;
  if (o.schemaVersion !== 2) throw invalid(`${what} is not schemaVersion 2`);
  if (o.mediaType !== undefined && o.mediaType !== MEDIA_TYPES.ociIndex)
    throw invalid(`${what} is not an OCI image index (mediaType ${quoted(o.mediaType, 100)})`);
  if (!Array.isArray(o.manifests)) throw invalid(`${what} has no manifests array`);
  if (o.manifests.length > REGISTRY_LIMITS.maxReferrers)
    throw new StellaError(
      'REGISTRY_LIMIT_EXCEEDED',
      'registry',
      `${what} lists ${o.manifests.length} manifests, more than ${REGISTRY_LIMITS.maxReferrers}`,
    );
  return o.manifests.map((m, i) => parseDescriptor(m, `${what}, manifests[${i}]`));
}

/** RFC 8288 `Link: <url>; rel="next"`; `where` names the page in a refusal. */
function nextLink(header: string | null, base: URL, where: string): URL | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/.test(m[2]!)) {
      try {
        return new URL(m[1]!, base);
      } catch (e) {
        throw invalid(
          `${where}: its next page link ${quoted(m[1]!, 100)} is not a URL`,
          undefined,
          {
            cause: e,
          },
        );
      }
    }
  }
  return undefined;
}
