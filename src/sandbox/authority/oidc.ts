/**
 * A local OIDC issuer for the sandbox: mints ES256 JWTs with each CI platform's real claim
 * set and `sub` format, serves the JWKS and discovery documents, and verifies tokens the way
 * Fulcio does before issuing a certificate (signature, iss, aud, exp, nbf, iat).
 *
 * Pure: the clock is a parameter (`now`, ms since the epoch, like TrustMaterial); claim times
 * are whole seconds as JWT requires. Given the same key, options and clock, the same token
 * bytes come out (RFC 6979 signatures, ids derived from the claims).
 */
import { createPublicKey, verify as nodeVerify, type JsonWebKey } from 'node:crypto';
import { fail } from '../../errors.js';
import { sha256 } from '../../crypto.js';
import { toBase64Url, toHex, utf8 } from '../../util/encoding.js';
import { decodeJwt } from '../../util/jwt.js';
import { canonicalizeBytes } from '../../util/canonical-json.js';
import { boundedSeconds } from '../../util/time.js';
import type { AuthorityKey } from './keys.js';
import { quoted, withoutTrailing } from '../../util/text.js';

export type CiPlatform = 'github' | 'gitlab' | 'gitea';

/** Decoded, verified JWT claims. Values are JSON values as the issuer sent them. */
export type OidcClaims = Record<string, unknown> & {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
};

export interface MintTokenOptions {
  platform: CiPlatform;
  /** "ORG/REPO" (GitLab: "GROUP/PROJECT", subgroups allowed). */
  repo: string;
  /** A git ref ("refs/heads/main", "refs/tags/v1.2.0") or a bare branch name; default main. */
  ref?: string;
  /** Deployment environment: GitHub then uses the ":environment:ENV" subject form. */
  environment?: string;
  audience?: string;
  /** Lifetime in seconds (GitHub and GitLab tokens: 5 minutes by default here). */
  expiresIn?: number;
  /** Clock, ms since the epoch. */
  now: number;
  /** Workflow file path within the repo; default per platform (.github/workflows/release.yml, ...). */
  workflowPath?: string;
  /** Commit SHA; default: derived from repo and ref, so samples are stable. */
  sha?: string;
  /** The forge's web URL (https://github.com, https://gitlab.com, ...). */
  serverUrl?: string;
  /** Extra or overriding claims (tests). */
  extraClaims?: Record<string, unknown>;
  /**
   * What triggered the run: GitHub/Gitea `event_name`, GitLab `pipeline_source` (default push).
   * GitHub `pull_request` (and `pull_request_target`) runs get the subject
   * repo:ORG/REPO:pull_request and, by default, the ref refs/pull/1/merge.
   */
  event?: string;
  /** GitLab `ref_protected` (default: true for branches, false for tags). */
  refProtected?: boolean;
}

const DEFAULT_SERVER: Record<CiPlatform, string> = {
  github: 'https://github.com',
  gitlab: 'https://gitlab.com',
  gitea: 'https://gitea.com',
};

const DEFAULT_WORKFLOW: Record<CiPlatform, string> = {
  github: '.github/workflows/release.yml',
  gitlab: '.gitlab-ci.yml',
  gitea: '.gitea/workflows/release.yml',
};

const b64url = toBase64Url;

/** A stable fake number from text (run ids, repository ids): 9 decimal digits. */
function stableNumber(text: string): string {
  const h = sha256(utf8.encode(text));
  const n = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  return String(100_000_000 + (n % 900_000_000));
}

function stableSha(text: string): string {
  return toHex(sha256(utf8.encode(text))).slice(0, 40);
}

interface NormalizedRef {
  /** refs/heads/main */
  full: string;
  /** main */
  short: string;
  type: 'branch' | 'tag' | 'pull';
}

const PULL_EVENTS = new Set(['pull_request', 'pull_request_target']);

function normalizeRef(
  ref: string | undefined,
  platform: CiPlatform,
  event: string | undefined,
): NormalizedRef {
  const pull = platform === 'github' && event !== undefined && PULL_EVENTS.has(event);
  const r = ref ?? (pull ? 'refs/pull/1/merge' : 'refs/heads/main');
  if (r.startsWith('refs/heads/'))
    return { full: r, short: r.slice('refs/heads/'.length), type: 'branch' };
  if (r.startsWith('refs/tags/'))
    return { full: r, short: r.slice('refs/tags/'.length), type: 'tag' };
  if (/^refs\/pull\/\d+\/(merge|head)$/.test(r)) {
    if (platform !== 'github')
      fail(
        'INPUT_INVALID',
        'input',
        `token ref "${r}": pull request refs are GitHub's (--platform github --event pull_request)`,
      );
    return { full: r, short: r, type: 'pull' };
  }
  if (r.startsWith('refs/') || r.length === 0)
    fail(
      'INPUT_INVALID',
      'input',
      `token ref "${r}": only refs/heads/*, refs/tags/* and (GitHub) refs/pull/N/merge are supported`,
    );
  return { full: `refs/heads/${r}`, short: r, type: 'branch' };
}

function splitRepo(repo: string): { owner: string; name: string } {
  const i = repo.lastIndexOf('/');
  if (i <= 0 || i === repo.length - 1 || /\s/.test(repo))
    fail('INPUT_INVALID', 'input', `token repo "${repo}": expected OWNER/NAME`);
  return { owner: repo.slice(0, i), name: repo.slice(i + 1) };
}

/** What every platform's claims are made from, with the defaults applied. */
interface TokenRun {
  repo: string;
  owner: string;
  ref: NormalizedRef;
  event: string;
  server: string;
  workflowPath: string;
  sha: string;
  runId: string;
  env: string | undefined;
  refProtected: boolean | undefined;
}

function githubClaims(run: TokenRun): Record<string, unknown> {
  const { repo, owner, ref, event, workflowPath, sha, runId, env } = run;
  const workflowRef = `${repo}/${workflowPath}@${ref.full}`;
  // GitHub's default subject: the environment wins, then a pull request, then the ref.
  const sub =
    env !== undefined
      ? `repo:${repo}:environment:${env}`
      : PULL_EVENTS.has(event)
        ? `repo:${repo}:pull_request`
        : `repo:${repo}:ref:${ref.full}`;
  const workflowName = workflowPath.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  return {
    jti: '',
    sub,
    ref: ref.full,
    sha,
    repository: repo,
    repository_owner: owner,
    repository_owner_id: stableNumber(`owner:${owner}`),
    repository_id: stableNumber(`repo:${repo}`),
    repository_visibility: 'public',
    actor: owner,
    actor_id: stableNumber(`owner:${owner}`),
    run_id: runId,
    run_number: '1',
    run_attempt: '1',
    workflow: workflowName,
    head_ref: ref.type === 'pull' ? 'feature' : '',
    base_ref: ref.type === 'pull' ? 'main' : '',
    event_name: event,
    ref_type: ref.type === 'pull' ? '' : ref.type,
    ref_protected: (run.refProtected ?? ref.type === 'branch') ? 'true' : 'false',
    ...(env !== undefined ? { environment: env } : {}),
    workflow_ref: workflowRef,
    workflow_sha: sha,
    job_workflow_ref: workflowRef,
    job_workflow_sha: sha,
    runner_environment: 'github-hosted',
  };
}

function gitlabClaims(run: TokenRun): Record<string, unknown> {
  const { repo, owner, ref, event, server, workflowPath, sha, runId, env } = run;
  if (ref.type === 'pull') fail('INPUT_INVALID', 'input', 'GitLab tokens have no pull request ref');
  const host = new URL(server).host;
  const namespace = owner;
  return {
    jti: '',
    sub: `project_path:${repo}:ref_type:${ref.type}:ref:${ref.short}`,
    namespace_id: stableNumber(`ns:${namespace}`),
    namespace_path: namespace,
    project_id: stableNumber(`project:${repo}`),
    project_path: repo,
    project_visibility: 'public',
    user_id: stableNumber(`user:${namespace}`),
    user_login: namespace.split('/')[0],
    user_access_level: 'developer',
    pipeline_id: runId,
    pipeline_source: event,
    job_id: stableNumber(`job:${runId}`),
    ref: ref.short,
    ref_type: ref.type,
    ref_path: ref.full,
    ref_protected: (run.refProtected ?? ref.type === 'branch') ? 'true' : 'false',
    ...(env !== undefined
      ? { environment: env, environment_protected: 'true', deployment_tier: env }
      : {}),
    runner_id: stableNumber(`runner:${host}`),
    runner_environment: 'gitlab-hosted',
    sha,
    ci_config_ref_uri: `${host}/${repo}//${workflowPath}@${ref.full}`,
    ci_config_sha: sha,
  };
}

/** Gitea Actions tokens carry GitHub-style claims with a "OWNER/REPO:ref:REF" subject. */
function giteaClaims(run: TokenRun): Record<string, unknown> {
  const { repo, owner, ref, event, server, workflowPath, sha, runId, env } = run;
  const workflowRef = `${repo}/${workflowPath}@${ref.full}`;
  return {
    jti: '',
    sub: env !== undefined ? `${repo}:environment:${env}` : `${repo}:ref:${ref.full}`,
    ref: ref.full,
    ref_type: ref.type === 'pull' ? '' : ref.type,
    sha,
    repository: repo,
    repository_owner: owner,
    actor: owner,
    run_id: runId,
    run_number: '1',
    run_attempt: '1',
    workflow: workflowPath.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    workflow_ref: workflowRef,
    event_name: event,
    ...(env !== undefined ? { environment: env } : {}),
    runner_environment: 'self-hosted',
    server_url: server,
  };
}

/**
 * The platform's claim set, minus iss/aud/iat/nbf/exp. Claim names and formats follow each
 * platform's documentation (GitHub Actions OIDC, GitLab CI id_tokens, Gitea Actions).
 */
export function platformClaims(opts: MintTokenOptions): Record<string, unknown> {
  const { owner } = splitRepo(opts.repo);
  const ref = normalizeRef(opts.ref, opts.platform, opts.event);
  const event = opts.event ?? 'push';
  if (!/^[a-z_]{1,64}$/.test(event))
    fail(
      'INPUT_INVALID',
      'input',
      `token event "${event}": expected an event name such as push, pull_request, workflow_dispatch, schedule`,
    );
  const sha = opts.sha ?? stableSha(`${opts.platform}:${opts.repo}@${ref.full}`);
  const run: TokenRun = {
    repo: opts.repo,
    owner,
    ref,
    event,
    server: withoutTrailing(opts.serverUrl ?? DEFAULT_SERVER[opts.platform], '/'),
    workflowPath: opts.workflowPath ?? DEFAULT_WORKFLOW[opts.platform],
    sha,
    runId: stableNumber(`run:${opts.platform}:${opts.repo}:${ref.full}:${sha}`),
    env: opts.environment,
    refProtected: opts.refProtected,
  };
  switch (opts.platform) {
    case 'github':
      return githubClaims(run);
    case 'gitlab':
      return gitlabClaims(run);
    case 'gitea':
      return giteaClaims(run);
  }
}

export interface JwksDocument {
  keys: Array<
    JsonWebKey & {
      kid: string;
      kty: 'EC';
      crv: 'P-256';
      x: string;
      y: string;
      alg: 'ES256';
      use: 'sig';
    }
  >;
}

export interface VerifyTokenOptions {
  audience: string;
  /** Clock, ms since the epoch. */
  now: number;
  /** Allowed clock skew in seconds for exp/nbf/iat (default 0: the sandbox shares the clock). */
  leewaySeconds?: number;
}

/** An issuer a verifier trusts: its URL (the exact `iss`) and its JWKS. */
export interface TrustedOidcIssuer {
  issuerUrl: string;
  jwks: JwksDocument;
}

export class OidcIssuer {
  readonly issuerUrl: string;
  /** RFC 7638 JWK thumbprint of the signing key. */
  readonly kid: string;
  readonly #key: AuthorityKey;

  constructor(opts: { issuerUrl: string; key: AuthorityKey }) {
    if (!isHttpUrl(opts.issuerUrl))
      fail(
        'CONFIG_INVALID',
        'sandbox',
        `OIDC issuer URL "${opts.issuerUrl}" must be an http(s) URL`,
      );
    this.issuerUrl = withoutTrailing(opts.issuerUrl, '/');
    this.#key = opts.key;
    this.kid = jwkThumbprint(publicJwk(opts.key));
  }

  /** Sign an arbitrary claim set (iss is forced to this issuer). */
  sign(claims: Record<string, unknown>): string {
    const header = { alg: 'ES256', kid: this.kid, typ: 'JWT' };
    const body = { ...claims, iss: this.issuerUrl };
    const signingInput = `${b64url(utf8.encode(JSON.stringify(header)))}.${b64url(utf8.encode(JSON.stringify(body)))}`;
    return `${signingInput}.${b64url(this.#key.signRaw(utf8.encode(signingInput)))}`;
  }

  /** A CI token as the platform would mint it for a workflow run. */
  mintToken(opts: MintTokenOptions): string {
    const iat = Math.floor(opts.now / 1000);
    const expiresIn = opts.expiresIn ?? 300;
    if (!Number.isSafeInteger(expiresIn) || expiresIn <= 0)
      fail('INPUT_INVALID', 'input', 'token lifetime must be a positive whole number of seconds');
    const claims: Record<string, unknown> = {
      ...platformClaims(opts),
      ...(opts.extraClaims ?? {}),
    };
    // jti: unique per (subject, time), yet reproducible from the inputs.
    if (claims['jti'] === '')
      claims['jti'] = uuidFrom(`${String(claims['sub'])}|${iat}|${opts.platform}`);
    return this.sign({
      ...claims,
      aud: opts.audience ?? 'sigstore',
      iat,
      nbf: iat,
      exp: iat + expiresIn,
    });
  }

  jwks(): JwksDocument {
    return { keys: [{ ...publicJwk(this.#key), kid: this.kid, alg: 'ES256', use: 'sig' }] };
  }

  /** /.well-known/openid-configuration */
  discovery(): Record<string, unknown> {
    return {
      issuer: this.issuerUrl,
      jwks_uri: `${this.issuerUrl}/.well-known/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public', 'pairwise'],
      id_token_signing_alg_values_supported: ['ES256'],
      scopes_supported: ['openid'],
      claims_supported: [
        'sub',
        'aud',
        'exp',
        'iat',
        'iss',
        'jti',
        'nbf',
        'ref',
        'sha',
        'repository',
        'repository_owner',
        'workflow',
        'job_workflow_ref',
        'environment',
        'runner_environment',
        'project_path',
        'namespace_path',
        'ci_config_ref_uri',
        'pipeline_source',
      ],
    };
  }

  trusted(): TrustedOidcIssuer {
    return { issuerUrl: this.issuerUrl, jwks: this.jwks() };
  }

  verifyToken(jwt: string, opts: VerifyTokenOptions): OidcClaims {
    return verifyToken(jwt, { ...opts, issuers: [this.trusted()] });
  }
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

function publicJwk(key: AuthorityKey): { kty: 'EC'; crv: 'P-256'; x: string; y: string } {
  return {
    kty: 'EC',
    crv: 'P-256',
    x: b64url(key.publicKey.subarray(1, 33)),
    y: b64url(key.publicKey.subarray(33, 65)),
  };
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, base64url. */
export function jwkThumbprint(jwk: { crv: string; kty: string; x: string; y: string }): string {
  // The required members only, in RFC 8785 form (RFC 7638 §3.3: no whitespace, sorted keys).
  return b64url(sha256(canonicalizeBytes({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })));
}

function uuidFrom(text: string): string {
  const h = toHex(sha256(utf8.encode(text)));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function invalid(
  message: string,
  details?: Record<string, unknown>,
  options?: { cause?: unknown },
): never {
  return fail('OIDC_TOKEN_INVALID', 'signing', message, details, options);
}

/** How the issuer reads a token: the one JWT decoder, its errors in the issuer's words. */
const TOKEN = {
  code: 'OIDC_TOKEN_INVALID',
  check: 'signing',
  what: 'OIDC token invalid: token',
} as const;

/** A NumericDate claim (seconds, a fraction allowed), bounded to Stella's time range (util/time.ts). */
function numericClaim(
  claims: Record<string, unknown>,
  name: string,
  required: boolean,
): number | undefined {
  const v = claims[name];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number')
    invalid(
      `OIDC token invalid: "${name}" claim ${v === undefined ? 'missing' : 'is not a number'}`,
    );
  return boundedSeconds(
    v,
    `OIDC token invalid: "${name}" claim`,
    { code: 'OIDC_TOKEN_INVALID', check: 'signing' },
    { fraction: true },
  );
}

/**
 * Verify a JWT against trusted issuers, as Fulcio does before issuing: ES256 signature by a
 * key in the issuer's JWKS (matched by kid), exact `iss`, `aud` containing the audience,
 * `exp` not passed, `nbf`/`iat` not in the future. Expiry is OIDC_TOKEN_EXPIRED; every other
 * failure is OIDC_TOKEN_INVALID with the reason.
 */
export function verifyToken(
  jwt: string,
  opts: VerifyTokenOptions & { issuers: TrustedOidcIssuer[] },
): OidcClaims {
  if (typeof jwt !== 'string') invalid('OIDC token invalid: not a string');
  const { header, payload: claims, signingInput, signature: sig } = decodeJwt(jwt, TOKEN);
  if (header['alg'] !== 'ES256')
    invalid(
      `OIDC token invalid: unsupported alg ${JSON.stringify(header['alg'])} (ES256 expected)`,
    );

  const iss = claims['iss'];
  if (typeof iss !== 'string') invalid('OIDC token invalid: "iss" claim missing');
  const issuer = opts.issuers.find((i) => i.issuerUrl === iss);
  if (!issuer) invalid(`OIDC token invalid: untrusted issuer "${iss}"`, { issuer: iss });

  const kid = header['kid'];
  const jwk = issuer.jwks.keys.find((k) => kid === undefined || k.kid === kid);
  if (!jwk)
    invalid(`OIDC token invalid: no key "${String(kid)}" in the issuer's JWKS`, { issuer: iss });
  let ok: boolean;
  try {
    const key = createPublicKey({
      key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      format: 'jwk',
    });
    ok =
      sig.length === 64 &&
      nodeVerify('sha256', utf8.encode(signingInput), { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    ok = false;
  }
  if (!ok) invalid('OIDC token invalid: bad signature', { issuer: iss });

  const aud = claims['aud'];
  const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!auds.includes(opts.audience))
    invalid(
      `OIDC token invalid: wrong audience (expected "${opts.audience}", got ${quoted(aud)})`,
      { expected: opts.audience, actual: aud },
    );

  const leeway = opts.leewaySeconds ?? 0;
  const now = Math.floor(opts.now / 1000);
  const exp = numericClaim(claims, 'exp', true)!;
  const iat = numericClaim(claims, 'iat', true)!;
  const nbf = numericClaim(claims, 'nbf', false);
  if (now > exp + leeway) fail('OIDC_TOKEN_EXPIRED', 'signing', 'OIDC token expired', { exp, now });
  if (nbf !== undefined && now + leeway < nbf)
    invalid('OIDC token invalid: not valid yet (nbf in the future)', { nbf, now });
  if (now + leeway < iat) invalid('OIDC token invalid: issued in the future (iat)', { iat, now });

  if (typeof claims['sub'] !== 'string' || claims['sub'] === '')
    invalid('OIDC token invalid: "sub" claim missing');
  return claims as OidcClaims;
}

/** Read claims WITHOUT verifying (a client picking the challenge value); never trust them. */
export function unverifiedClaims(jwt: string): Record<string, unknown> {
  return decodeJwt(jwt, TOKEN).payload;
}
