/**
 * Registry credentials, found the way docker and cosign find them, first match wins:
 *
 *   1. given explicitly (`--registry-username` with `--registry-password-stdin`, or
 *      STELLA_REGISTRY_USERNAME / STELLA_REGISTRY_PASSWORD): used for every registry the
 *      command contacts;
 *   2. the Docker config file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
 *      `credHelpers[host]`, else `auths[host]` (`auth` = base64 "user:password", or
 *      `username`/`password`, or an `identitytoken`), else `credsStore` — a credential helper
 *      is run as `docker-credential-<name> get` with the host on stdin, bounded in time and
 *      output;
 *   3. none: anonymous.
 *
 * Secrets are held here and in ./auth.ts only; `source` says where they came from for
 * messages, and nothing else about them is ever printed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from '../util/os.js';
import { join } from 'node:path';
import { fail, StellaError } from '../errors.js';
import { readFileBounded } from '../util/fs.js';
import { isPlainObject, parseJsonStrict } from '../util/json.js';
import { decodeBase64, toBase64, utf8, utf8Decoder } from '../util/encoding.js';
import { DOCKER_HUB } from './reference.js';
import { quoted } from '../util/text.js';

export type Credentials =
  | { kind: 'basic'; username: string; password: string; source: string }
  | { kind: 'identity-token'; username: string; token: string; source: string };

export interface CredentialOptions {
  /** Explicit credentials for every registry contacted (flags or environment). */
  explicit?: { username: string; password: string; source: string } | undefined;
  env?: NodeJS.ProcessEnv;
  /** Tests: a fixed docker config path instead of DOCKER_CONFIG / ~/.docker. */
  dockerConfigPath?: string;
}

export const CREDENTIAL_LIMITS = {
  dockerConfigBytes: 1024 * 1024,
  helperOutputBytes: 64 * 1024,
  helperTimeoutMs: 10_000,
} as const;

/** The explicit credentials from STELLA_REGISTRY_USERNAME / STELLA_REGISTRY_PASSWORD, if set. */
export function credentialsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): CredentialOptions['explicit'] {
  const username = env.STELLA_REGISTRY_USERNAME;
  const password = env.STELLA_REGISTRY_PASSWORD;
  if (username === undefined && password === undefined) return undefined;
  if (!username || password === undefined)
    fail(
      'INPUT_INVALID',
      'input',
      'STELLA_REGISTRY_USERNAME and STELLA_REGISTRY_PASSWORD go together',
    );
  return { username, password, source: 'STELLA_REGISTRY_USERNAME/STELLA_REGISTRY_PASSWORD' };
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG
    ? join(env.DOCKER_CONFIG, 'config.json')
    : join(homedir(), '.docker', 'config.json');
}

/** The keys a docker config may file a registry under: `host`, `https://host`, `https://host/v1/`, ... */
function configKeyHost(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

function hostsFor(registry: string): string[] {
  return registry === DOCKER_HUB
    ? ['docker.io', 'index.docker.io', 'registry-1.docker.io']
    : [registry.toLowerCase()];
}

function invalidConfig(path: string, why: string, cause?: unknown): never {
  throw new StellaError(
    'INPUT_INVALID',
    'input',
    `docker config ${path}: ${why}`,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

function runHelper(name: unknown, registry: string, path: string): Credentials | undefined {
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name))
    invalidConfig(path, `credential helper name ${quoted(name ?? null, 64)} is not valid`);
  const program = `docker-credential-${name}`;
  const serverUrl = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
  const run = spawnSync(program, ['get'], {
    input: serverUrl,
    timeout: CREDENTIAL_LIMITS.helperTimeoutMs,
    maxBuffer: CREDENTIAL_LIMITS.helperOutputBytes,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  // A helper that answers without reading the host it was given may exit before we finish
  // writing it: EPIPE is then ours, not its failure (docker's own client ignores it too), and
  // its exit status and output stand.
  const spawnError: NodeJS.ErrnoException | undefined = run.error;
  const error = spawnError?.code === 'EPIPE' ? undefined : spawnError;
  // "credentials not found" is how helpers say "none for this host": anonymous then.
  if (error === undefined && run.status === 1) return undefined;
  if (error !== undefined || run.status !== 0)
    throw new StellaError(
      'REGISTRY_AUTH_FAILED',
      'registry',
      `credential helper ${program} (from ${path}) failed for ${registry}: ${error?.code ?? (run.signal ? `killed by ${run.signal}` : `exit ${run.status ?? '?'}`)}`,
      undefined,
      error ? { cause: error } : undefined,
    );
  let parsed: unknown;
  try {
    parsed = parseJsonStrict(run.stdout, {
      what: `${program} output`,
      maxBytes: CREDENTIAL_LIMITS.helperOutputBytes,
      maxDepth: 4,
      code: 'REGISTRY_AUTH_FAILED',
      limitCode: 'REGISTRY_AUTH_FAILED',
      check: 'registry',
    });
  } catch (e) {
    throw new StellaError(
      'REGISTRY_AUTH_FAILED',
      'registry',
      `credential helper ${program} (from ${path}) printed something other than its JSON answer`,
      undefined,
      { cause: e },
    );
  }
  const o = parsed as { Username?: unknown; Secret?: unknown };
  if (typeof o.Username !== 'string' || typeof o.Secret !== 'string' || o.Secret.length === 0)
    return undefined;
  // A helper answers "<token>" as the user name for an identity token.
  if (o.Username === '<token>')
    return {
      kind: 'identity-token',
      username: o.Username,
      token: o.Secret,
      source: `credential helper ${program}`,
    };
  return {
    kind: 'basic',
    username: o.Username,
    password: o.Secret,
    source: `credential helper ${program}`,
  };
}

/** Credentials for `registry` (host[:port], `docker.io` for Docker Hub), or undefined: anonymous. */
export function resolveCredentials(
  registry: string,
  opts: CredentialOptions = {},
): Credentials | undefined {
  if (opts.explicit) return { kind: 'basic', ...opts.explicit };
  const env = opts.env ?? process.env;
  const path = opts.dockerConfigPath ?? dockerConfigPath(env);
  if (!existsSync(path)) return undefined;
  const bytes = readFileBounded(path, {
    what: 'docker config',
    maxBytes: CREDENTIAL_LIMITS.dockerConfigBytes,
  });
  const config = parseJsonStrict(bytes, {
    what: `docker config ${path}`,
    maxBytes: CREDENTIAL_LIMITS.dockerConfigBytes,
    maxDepth: 16,
    code: 'INPUT_INVALID',
    limitCode: 'INPUT_INVALID',
    check: 'input',
  });
  if (!isPlainObject(config)) return invalidConfig(path, 'not a JSON object');
  const hosts = hostsFor(registry);

  const helpers = config['credHelpers'];
  if (helpers !== undefined && !isPlainObject(helpers))
    invalidConfig(path, 'credHelpers must be an object');
  for (const [key, helper] of Object.entries(helpers ?? {})) {
    if (hosts.includes(configKeyHost(key))) return runHelper(helper, registry, path);
  }

  const auths = config['auths'];
  if (auths !== undefined && !isPlainObject(auths)) invalidConfig(path, 'auths must be an object');
  for (const [key, entry] of Object.entries(auths ?? {})) {
    if (!hosts.includes(configKeyHost(key)) || !isPlainObject(entry)) continue;
    const source = `docker config ${path}`;
    const { identitytoken, auth, username, password } = entry;
    if (typeof identitytoken === 'string' && identitytoken.length > 0) {
      return {
        kind: 'identity-token',
        username: typeof username === 'string' ? username : '<token>',
        token: identitytoken,
        source,
      };
    }
    if (typeof auth === 'string' && auth.length > 0) {
      const field = `auths[${quoted(key)}].auth`;
      const bytes = decodeBase64(auth, `docker config ${path}: ${field}`, 'input', 'INPUT_INVALID');
      // Strict: a lenient decoder would send U+FFFD in place of the bytes, and the registry's
      // refusal would hide why.
      let decoded: string;
      try {
        decoded = utf8Decoder.decode(bytes);
      } catch (e) {
        invalidConfig(path, `${field} is not UTF-8 text once base64-decoded`, e);
      }
      const colon = decoded.indexOf(':');
      if (colon <= 0) invalidConfig(path, `${field} is not base64 of "user:password"`);
      return {
        kind: 'basic',
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
        source,
      };
    }
    if (typeof username === 'string' && typeof password === 'string')
      return { kind: 'basic', username, password, source };
  }

  if (config['credsStore'] !== undefined) return runHelper(config['credsStore'], registry, path);
  return undefined;
}

/** The token of an `Authorization: Basic` header (RFC 7617): base64 of `username:password`. */
export function basicToken(c: { username: string; password: string }): string {
  return toBase64(utf8.encode(`${c.username}:${c.password}`));
}

/** The strings that must never appear in output once these credentials are in use. */
export function secretsOf(c: Credentials | undefined): string[] {
  if (!c) return [];
  const secret = c.kind === 'basic' ? c.password : c.token;
  const out = [secret];
  if (c.kind === 'basic') out.push(basicToken(c));
  return out.filter((s) => s.length >= 4);
}
