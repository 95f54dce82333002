/**
 * Where the OIDC identity token comes from, in order: an explicit token (--identity-token: the
 * token itself, or as in cosign the path of a file holding it, such as a Kubernetes projected
 * token), STELLAOPS_OIDC_TOKEN, then the CI platform's ambient credentials:
 *  - GitHub Actions: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<clientId> with
 *    "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" (needs `permissions: id-token: write`).
 *  - Gitea Actions (GITEA_ACTIONS=true): Gitea's OIDC support follows the same request-URL
 *    protocol as GitHub when the instance and workflow enable it; otherwise pass a token via
 *    STELLAOPS_OIDC_TOKEN.
 *  - GitLab CI: the job's `id_tokens:` entry named SIGSTORE_ID_TOKEN (aud: sigstore); as in
 *    cosign, SIGSTORE_ID_TOKEN is read wherever it is set.
 *  - Buildkite (BUILDKITE_AGENT_ACCESS_TOKEN): the agent API's job token, as cosign's
 *    buildkite-agent provider asks it.
 *  - cosign's token file, /var/run/sigstore/cosign/oidc-token, when it exists (cosign's
 *    "filesystem" provider: a Kubernetes projected service account token mounted there).
 * The token is only decoded here, never trusted: Fulcio verifies it. Decoding lets us refuse an
 * expired token before any request is made.
 */
import { existsSync } from 'node:fs';
import { fail, StellaError } from '../errors.js';
import { readTextFileBounded } from '../util/fs.js';
import { readBodyWithin } from '../util/http-body.js';
import { parseJsonStrict } from '../util/json.js';
import { decodeJwt } from '../util/jwt.js';
import { boundedSeconds, formatTime } from '../util/time.js';
import { quoted, withoutTrailing } from '../util/text.js';

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number | undefined;
  nbf: number | undefined;
  [claim: string]: unknown;
}

export type TokenSource =
  | 'flag'
  | 'file'
  | 'env'
  | 'github-actions'
  | 'gitea-actions'
  | 'gitlab-ci'
  | 'buildkite'
  | 'cosign-token-file';

/** Where cosign's "filesystem" provider reads an ambient token (a projected service account token). */
export const COSIGN_TOKEN_FILE = '/var/run/sigstore/cosign/oidc-token';

export interface ResolvedToken {
  token: string;
  claims: TokenClaims;
  source: TokenSource;
}

export interface TokenOptions {
  /** --identity-token: a token, or the path of a file holding one. */
  explicit?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Allow CI platforms' ambient credentials (config oidc.useAmbientToken). */
  useAmbient?: boolean;
  /** The audience to request from an ambient provider. */
  audience?: string;
  /** Seconds since the epoch. */
  now?: number;
  /** Timeout for the ambient token request, ms. */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** cosign's ambient token file (default COSIGN_TOKEN_FILE). */
  cosignTokenFile?: string;
}

/** The ambient token service's answer: `{"value": "<JWT>"}`, a few kB; a token file the same. */
const TOKEN_RESPONSE_MAX_BYTES = 64 * 1024;

const TOKEN_ERROR = { code: 'OIDC_TOKEN_INVALID', check: 'signing' } as const;

/** A NumericDate claim (RFC 7519: seconds, a fraction allowed), bounded to Stella's time range. */
function numericDate(v: unknown, claim: string): number {
  return boundedSeconds(
    v,
    `identity token "${claim}" claim`,
    { code: 'OIDC_TOKEN_INVALID', check: 'signing' },
    { fraction: true },
  );
}

/** Decode a JWT's claims without verifying it (the CA does that). */
export function decodeTokenClaims(token: string): TokenClaims {
  const jwt = decodeJwt(token, {
    code: 'OIDC_TOKEN_INVALID',
    check: 'signing',
    what: 'identity token',
  });
  // Unsigned tokens exist (alg "none"); no issuer Fulcio trusts makes them.
  if (jwt.signature.length === 0)
    fail(
      'OIDC_TOKEN_INVALID',
      'signing',
      'identity token is not a JWT (expected three dot-separated parts; the signature is empty)',
    );
  const claims = jwt.payload;
  const { iss, sub, aud, exp, iat, nbf } = claims;
  if (typeof iss !== 'string' || iss.length === 0)
    fail('OIDC_TOKEN_INVALID', 'signing', 'identity token has no "iss" claim');
  if (typeof sub !== 'string' || sub.length === 0)
    fail('OIDC_TOKEN_INVALID', 'signing', 'identity token has no "sub" claim');
  if (exp === undefined)
    fail('OIDC_TOKEN_INVALID', 'signing', 'identity token has no numeric "exp" claim');
  const audList =
    typeof aud === 'string'
      ? [aud]
      : Array.isArray(aud) && aud.every((a) => typeof a === 'string')
        ? aud
        : undefined;
  if (!audList) fail('OIDC_TOKEN_INVALID', 'signing', 'identity token has no "aud" claim');
  return {
    ...claims,
    iss,
    sub,
    aud: audList,
    exp: numericDate(exp, 'exp'),
    // Optional, but when present a NumericDate like exp: an odd one is refused, not ignored.
    iat: iat === undefined ? undefined : numericDate(iat, 'iat'),
    nbf: nbf === undefined ? undefined : numericDate(nbf, 'nbf'),
  };
}

/** Refuse a token that has expired (or is not yet valid) at `now` (seconds). */
export function assertTokenUsable(claims: TokenClaims, now: number): void {
  if (claims.exp <= now) {
    fail(
      'OIDC_TOKEN_EXPIRED',
      'signing',
      `OIDC token expired at ${formatTime(Math.floor(claims.exp * 1000))} (issuer ${quoted(claims.iss)}); get a fresh token`,
      {
        exp: claims.exp,
        now,
      },
    );
  }
  // A small allowance for clock skew between the CI runner and the issuer.
  if (claims.nbf !== undefined && claims.nbf > now + 60) {
    fail(
      'OIDC_TOKEN_INVALID',
      'signing',
      `OIDC token is not valid before ${formatTime(Math.floor(claims.nbf * 1000))}`,
    );
  }
}

/** Find the identity token, decode it and refuse it if expired. No request is made for flag/env tokens. */
export async function resolveIdentityToken(opts: TokenOptions = {}): Promise<ResolvedToken> {
  const env = opts.env ?? process.env;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const found = await findToken(opts, env);
  const claims = decodeTokenClaims(found.token);
  assertTokenUsable(claims, now);
  return { token: found.token.trim(), claims, source: found.source };
}

async function findToken(
  opts: TokenOptions,
  env: NodeJS.ProcessEnv,
): Promise<{ token: string; source: TokenSource }> {
  if (opts.explicit !== undefined) {
    if (opts.explicit.trim() === '')
      fail('OIDC_TOKEN_MISSING', 'signing', '--identity-token is empty');
    return explicitToken(opts.explicit);
  }
  if (env.STELLAOPS_OIDC_TOKEN) return { token: env.STELLAOPS_OIDC_TOKEN, source: 'env' };
  if (opts.useAmbient !== false) {
    if (env.SIGSTORE_ID_TOKEN)
      return {
        token: env.SIGSTORE_ID_TOKEN,
        source: env.GITLAB_CI === 'true' ? 'gitlab-ci' : 'env',
      };
    if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      const source: TokenSource = env.GITEA_ACTIONS === 'true' ? 'gitea-actions' : 'github-actions';
      const token = await requestActionsToken(
        env.ACTIONS_ID_TOKEN_REQUEST_URL,
        env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
        opts,
        source,
      );
      return { token, source };
    }
    if (env.BUILDKITE_AGENT_ACCESS_TOKEN)
      return { token: await requestBuildkiteToken(env, opts), source: 'buildkite' };
    const tokenFile = opts.cosignTokenFile ?? COSIGN_TOKEN_FILE;
    if (existsSync(tokenFile))
      return {
        token: tokenFromFile(tokenFile, `cosign's token file`),
        source: 'cosign-token-file',
      };
    if (env.GITHUB_ACTIONS === 'true' || env.GITEA_ACTIONS === 'true') {
      fail(
        'OIDC_TOKEN_MISSING',
        'signing',
        'no OIDC token: running in Actions but ACTIONS_ID_TOKEN_REQUEST_URL is not set; add `permissions: id-token: write` to the job',
      );
    }
    if (env.GITLAB_CI === 'true') {
      fail(
        'OIDC_TOKEN_MISSING',
        'signing',
        'no OIDC token: running in GitLab CI but SIGSTORE_ID_TOKEN is not set; add `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore` to the job',
      );
    }
  }
  return fail(
    'OIDC_TOKEN_MISSING',
    'signing',
    `no OIDC token: pass --identity-token, set STELLAOPS_OIDC_TOKEN (or SIGSTORE_ID_TOKEN), mount one at ${COSIGN_TOKEN_FILE}, or run in a CI job with OIDC enabled`,
  );
}

/**
 * --identity-token as cosign reads it: a value that parses as a JWT is the token; otherwise it
 * is the path of a file holding one. The value is never echoed in a message, since a
 * mistyped token is still a credential.
 */
function explicitToken(value: string): { token: string; source: TokenSource } {
  const notJwt = jwtProblem(value);
  if (notJwt === undefined) return { token: value, source: 'flag' };
  if (!existsSync(value))
    fail(
      TOKEN_ERROR.code,
      TOKEN_ERROR.check,
      `--identity-token is neither a JWT nor the path of a file that exists (read as a token: ${notJwt.message}); give the token, or a file holding it`,
    );
  return { token: tokenFromFile(value, '--identity-token file'), source: 'file' };
}

/** A file holding a token (whitespace around it dropped), refused by its name when it holds something else. */
function tokenFromFile(path: string, what: string): string {
  const token = readTextFileBounded(path, {
    what,
    maxBytes: TOKEN_RESPONSE_MAX_BYTES,
    textError: TOKEN_ERROR,
  });
  if (token.trim() === '')
    fail('OIDC_TOKEN_MISSING', 'signing', `${what} ${quoted(path)} is empty`);
  // Said by the file's name: the user gave a path, and it held something else.
  const content = jwtProblem(token);
  if (content !== undefined)
    fail(TOKEN_ERROR.code, TOKEN_ERROR.check, `${what} ${quoted(path)}: ${content.message}`);
  return token;
}

/** Why a value is not a compact JWT, or undefined when it is one (its structure; the claims are checked later). */
function jwtProblem(value: string): StellaError | undefined {
  try {
    decodeJwt(value, { ...TOKEN_ERROR, what: 'identity token' });
    return undefined;
  } catch (e) {
    if (e instanceof StellaError) return e;
    throw e;
  }
}

/** The file --identity-token names, when its value is not a token itself: an input no output may replace. */
export function identityTokenPath(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' || jwtProblem(value) === undefined
    ? undefined
    : value;
}

/** The GitHub Actions (and Gitea Actions) token request: GET url&audience=..., bearer auth, {"value": jwt}. */
async function requestActionsToken(
  requestUrl: string,
  bearer: string,
  opts: TokenOptions,
  source: TokenSource,
): Promise<string> {
  const url = ciTokenUrl(requestUrl, 'ACTIONS_ID_TOKEN_REQUEST_URL');
  url.searchParams.set('audience', opts.audience ?? 'sigstore');
  return requestCiToken(
    url,
    { headers: { Authorization: `bearer ${bearer}`, Accept: 'application/json' } },
    'value',
    opts,
    source,
  );
}

/** Where a Buildkite agent asks for a job's token when BUILDKITE_AGENT_ENDPOINT is not set. */
export const BUILDKITE_AGENT_ENDPOINT = 'https://agent.buildkite.com/v3';

/**
 * Buildkite, as cosign's buildkite-agent provider asks it (the agent API's OIDCToken): POST
 * <endpoint>/jobs/<job id>/oidc/tokens with {"audience"}, the agent's access token as
 * `Authorization: Token …`; the answer is {"token": jwt}.
 */
async function requestBuildkiteToken(env: NodeJS.ProcessEnv, opts: TokenOptions): Promise<string> {
  const job = env.BUILDKITE_JOB_ID;
  if (!job)
    fail(
      'OIDC_TOKEN_MISSING',
      'signing',
      'no OIDC token: BUILDKITE_AGENT_ACCESS_TOKEN is set but BUILDKITE_JOB_ID is not, so there is no job to ask a token for',
    );
  const endpoint = withoutTrailing(env.BUILDKITE_AGENT_ENDPOINT || BUILDKITE_AGENT_ENDPOINT, '/');
  const url = ciTokenUrl(
    `${endpoint}/jobs/${encodeURIComponent(job)}/oidc/tokens`,
    'BUILDKITE_AGENT_ENDPOINT',
  );
  return requestCiToken(
    url,
    {
      method: 'POST',
      headers: {
        Authorization: `Token ${env.BUILDKITE_AGENT_ACCESS_TOKEN}`,
        Accept: 'application/json',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ audience: opts.audience ?? 'sigstore' }),
    },
    'token',
    opts,
    'buildkite',
  );
}

function ciTokenUrl(text: string, variable: string): URL {
  try {
    return new URL(text);
  } catch (e) {
    return fail('OIDC_TOKEN_MISSING', 'signing', `${variable} is not a URL`, undefined, {
      cause: e,
    });
  }
}

/**
 * A CI platform's token request, answered with a JSON object whose `field` is the token. Read
 * as every other answer is: within a limit (a token is a few kB), strict JSON. The credential
 * that asks is never in a message.
 */
async function requestCiToken(
  url: URL,
  init: RequestInit,
  field: string,
  opts: TokenOptions,
  source: TokenSource,
): Promise<string> {
  const doFetch = opts.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { ...init, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
  } catch (e) {
    return fail(
      'OIDC_TOKEN_MISSING',
      'signing',
      `${source}: OIDC token request failed: ${(e as Error).message}`,
      undefined,
      { cause: e },
    );
  }
  if (!res.ok)
    fail(
      'OIDC_TOKEN_MISSING',
      'signing',
      `${source}: OIDC token request returned HTTP ${res.status}`,
    );
  const what = `${source}: the OIDC token response`;
  const bytes = await readBodyWithin(res, {
    maxBytes: TOKEN_RESPONSE_MAX_BYTES,
    what,
    code: 'OIDC_TOKEN_INVALID',
    check: 'signing',
  });
  const body = parseJsonStrict(bytes, {
    maxBytes: TOKEN_RESPONSE_MAX_BYTES,
    maxDepth: 8,
    what,
    code: 'OIDC_TOKEN_INVALID',
    limitCode: 'OIDC_TOKEN_INVALID',
    check: 'signing',
  });
  const value = (body as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || value.length === 0)
    fail('OIDC_TOKEN_INVALID', 'signing', `${source}: OIDC token response has no "${field}"`);
  return value;
}
