/**
 * The sandbox data directory: what persists between runs and what a client reads.
 *
 *   authority-keys.json   the authority's private keys (root/intermediate CA, CT log, Rekor
 *                         log, OIDC issuer), mode 0600. NEVER a signer's key.
 *   authority.json        creation time (the CA certificates' notBefore): same keys + same
 *                         time = the same CA certificates after a restart.
 *   log.db                the Rekor log (SQLite).
 *   sandbox.json          URLs and pid of the running server (pid null once stopped).
 *   trusted_root.json     trust root for verifiers (CA chain, Rekor key, CT log key).
 *   fulcio-roots.pem      the CA chain as PEM (signer.yaml's certificate.rootBundlePath).
 *   signer.yaml           a signer config pointing at this sandbox.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail, StellaError } from '../../errors.js';
import { exportAuthorityKeys, generateAuthorityKeys, importAuthorityKeys, type AuthorityKeys } from '../authority/keys.js';

export const SANDBOX_FILES = {
  keys: 'authority-keys.json',
  authority: 'authority.json',
  log: 'log.db',
  state: 'sandbox.json',
  trustedRoot: 'trusted_root.json',
  roots: 'fulcio-roots.pem',
  signerConfig: 'signer.yaml',
  log_output: 'sandbox.log',
} as const;

export interface SandboxUrls {
  /** The one loopback base URL every service is served under. */
  base: string;
  oidcIssuer: string;
  fulcio: string;
  rekor: string;
}

export interface SandboxState {
  version: 1;
  /** pid of the serving process; null after `sandbox down` / close(). */
  pid: number | null;
  host: string;
  port: number;
  urls: SandboxUrls;
  startedAt: string;
  /** Random per start; the server sends it in X-Stella-Sandbox so `down` signals the right process. */
  instanceId: string;
  files: { trustedRoot: string; signerConfig: string; roots: string; log: string };
}

export function sandboxPath(dataDir: string, file: keyof typeof SANDBOX_FILES): string {
  return join(resolve(dataDir), SANDBOX_FILES[file]);
}

export function ensureDataDir(dataDir: string): string {
  const dir = resolve(dataDir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    fail('SANDBOX_ERROR', 'sandbox', `cannot create sandbox data dir ${dir}: ${(e as Error).message}`, undefined, { cause: e });
  }
  return dir;
}

/** Write via a temporary file and rename, so readers never see half a file. */
export function writeFileAtomic(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new StellaError('SANDBOX_ERROR', 'sandbox', `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, undefined, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail('SANDBOX_ERROR', 'sandbox', `${what} ${path} is not valid JSON`, undefined, { cause: e });
  }
}

export interface Authority {
  keys: AuthorityKeys;
  /** ms since the epoch. */
  createdAt: number;
}

/** The authority of this data dir: loaded, or created on first use. */
export function loadOrCreateAuthority(dataDir: string, now: number): Authority {
  const keysPath = sandboxPath(dataDir, 'keys');
  const metaPath = sandboxPath(dataDir, 'authority');
  if (!existsSync(keysPath)) {
    const keys = generateAuthorityKeys();
    // A minute of slack so a CI runner's slightly slow clock still sees valid CA certificates.
    const createdAt = Math.floor(now / 1000) * 1000 - 60_000;
    writeFileAtomic(keysPath, JSON.stringify(exportAuthorityKeys(keys), null, 2) + '\n', 0o600);
    writeFileAtomic(metaPath, JSON.stringify({ version: 1, createdAt }, null, 2) + '\n');
    return { keys, createdAt };
  }
  const keys = importAuthorityKeys(readJson(keysPath, 'authority keys'));
  const meta = readJson(metaPath, 'authority metadata') as { version?: unknown; createdAt?: unknown } | null;
  if (!meta || meta.version !== 1 || typeof meta.createdAt !== 'number' || !Number.isSafeInteger(meta.createdAt)) {
    fail('SANDBOX_ERROR', 'sandbox', `authority metadata ${metaPath} is malformed`);
  }
  return { keys, createdAt: meta.createdAt };
}

/** The authority of an existing sandbox (never creates one). */
export function loadAuthority(dataDir: string): Authority {
  if (!existsSync(sandboxPath(dataDir, 'keys'))) {
    fail('SANDBOX_ERROR', 'sandbox', `no sandbox in ${resolve(dataDir)}: run \`stella sandbox up --data-dir ${dataDir}\` first`);
  }
  return loadOrCreateAuthority(dataDir, Date.now());
}

export function readSandboxState(dataDir: string): SandboxState | undefined {
  const path = sandboxPath(dataDir, 'state');
  if (!existsSync(path)) return undefined;
  const s = readJson(path, 'sandbox state') as Partial<SandboxState> | null;
  if (!s || s.version !== 1 || typeof s.urls?.base !== 'string' || typeof s.port !== 'number') {
    fail('SANDBOX_ERROR', 'sandbox', `sandbox state ${path} is malformed`);
  }
  return s as SandboxState;
}

export function writeSandboxState(dataDir: string, state: SandboxState): void {
  writeFileAtomic(sandboxPath(dataDir, 'state'), JSON.stringify(state, null, 2) + '\n');
}
