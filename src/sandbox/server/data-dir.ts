/**
 * The sandbox data directory: what persists between runs and what a client reads.
 *
 *   authority-keys.json   the authority's private keys (root/intermediate CA, CT log, Rekor
 *                         log, OIDC issuer), mode 0600. NEVER a signer's key.
 *   authority.json        creation time (the CA certificates' notBefore): same keys + same
 *                         time = the same CA certificates after a restart.
 *   log.db                the Rekor v1 log (SQLite).
 *   authority-v2-keys.json  the Rekor v2 log key (Ed25519) and the TSA's CA and signing keys,
 *                         with the time they start being valid, mode 0600 (created on first
 *                         start; a data dir from before they existed gains them, nothing else changes).
 *   log-v2.db             the Rekor v2 log (SQLite, the same schema as log.db).
 *   sandbox.json          URLs and pid of the running server (pid null once stopped). Only
 *                         a hint: `sandbox down` acts on what the server proves, not on it.
 *   control.key           random key of the running server's control channel, mode 0600
 *                         (./control-channel.ts).
 *   trusted_root.json     trust root for verifiers (CA chain, Rekor key, CT log key).
 *   fulcio-roots.pem      the CA chain as PEM (signer.yaml's certificate.rootBundlePath).
 *   signer.yaml           a signer config pointing at this sandbox (Rekor v1; its trustedRoot
 *                         is trusted_root.json).
 *   signing_config.json   a Sigstore signing config (v0.2) for this sandbox: its CA, the Rekor v2
 *                         and v1 logs, its TSA (Rekor v2 is chosen: the highest API version).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail, StellaError } from '../../errors.js';
import { boundedMs } from '../../util/time.js';
import {
  FILE_LIMITS,
  makeFolder,
  readFileBounded,
  readTextFileBounded,
  writeFileAtomic,
} from '../../util/fs.js';
import { parseJsonStrict } from '../../util/json.js';
import {
  exportAuthorityKeys,
  generateAuthorityKeys,
  importAuthorityKeys,
  type AuthorityKeys,
} from '../authority/keys.js';
import {
  exportV2AuthorityKeys,
  generateV2AuthorityKeys,
  importV2AuthorityKeys,
  type V2AuthorityKeys,
} from '../authority/keys-v2.js';
import { decodeControlKey, encodeControlKey } from './control-channel.js';

export const SANDBOX_FILES = {
  keys: 'authority-keys.json',
  authority: 'authority.json',
  log: 'log.db',
  state: 'sandbox.json',
  control: 'control.key',
  trustedRoot: 'trusted_root.json',
  roots: 'fulcio-roots.pem',
  signerConfig: 'signer.yaml',
  log_output: 'sandbox.log',
  v2Keys: 'authority-v2-keys.json',
  logV2: 'log-v2.db',
  signingConfig: 'signing_config.json',
  witnessSeeds: 'witness-keys.json',
  witnessVkeys: 'witnesses.vkeys',
  witnessState: 'witness-state.json',
} as const;

export interface SandboxUrls {
  /** The one loopback base URL every service is served under. */
  base: string;
  oidcIssuer: string;
  fulcio: string;
  rekor: string;
  /** The Rekor v2 log's base URL (POST <url>/api/v2/log/entries; tiles under <url>/). */
  rekorV2?: string;
  /** The TSA's full URL (POST a TimeStampReq here). */
  tsa?: string;
}

export interface SandboxState {
  version: 1;
  /** pid of the serving process; null after `sandbox down` / close(). */
  pid: number | null;
  host: string;
  port: number;
  urls: SandboxUrls;
  startedAt: string;
  /** Random per start; named in the server's control-channel proof (and its X-Stella-Sandbox header). */
  instanceId: string;
  files: {
    trustedRoot: string;
    signerConfig: string;
    roots: string;
    log: string;
    signingConfig?: string;
    logV2?: string;
    witnesses?: string;
  };
}

export function sandboxPath(dataDir: string, file: keyof typeof SANDBOX_FILES): string {
  return join(resolve(dataDir), SANDBOX_FILES[file]);
}

export function ensureDataDir(dataDir: string): string {
  const dir = resolve(dataDir);
  // Checked first: Node's recursive mkdir spins at 100% CPU where it cannot succeed (/proc).
  makeFolder(dir, {
    what: 'sandbox data dir',
    code: 'SANDBOX_ERROR',
    check: 'sandbox',
    mode: 0o700,
  });
  return dir;
}

/** A file of the data directory, written atomically (../../util/fs.ts); `mode` 0o600 for secrets. */
export function writeDataFile(path: string, text: string, mode = 0o644): void {
  writeFileAtomic(path, text, {
    mode,
    what: 'sandbox file',
    code: 'SANDBOX_ERROR',
    check: 'sandbox',
  });
}

function readDataFile(path: string, what: string, secret = false): string {
  return readTextFileBounded(path, {
    what,
    maxBytes: FILE_LIMITS.sandboxFileBytes,
    code: 'SANDBOX_ERROR',
    check: 'sandbox',
    secret,
  });
}

function readJson(path: string, what: string, secret = false): unknown {
  const bytes = readFileBounded(path, {
    what,
    maxBytes: FILE_LIMITS.sandboxFileBytes,
    code: 'SANDBOX_ERROR',
    check: 'sandbox',
    secret,
  });
  try {
    return parseJsonStrict(bytes, {
      maxBytes: FILE_LIMITS.sandboxFileBytes,
      maxDepth: 32,
      what: `${what} ${path}`,
      code: 'SANDBOX_ERROR',
      limitCode: 'SANDBOX_ERROR',
      check: 'sandbox',
    });
  } catch (e) {
    throw new StellaError(
      'SANDBOX_ERROR',
      'sandbox',
      `${what} ${path} is not valid JSON`,
      undefined,
      { cause: e },
    );
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
    writeDataFile(keysPath, JSON.stringify(exportAuthorityKeys(keys), null, 2) + '\n', 0o600);
    writeDataFile(metaPath, JSON.stringify({ version: 1, createdAt }, null, 2) + '\n');
    return { keys, createdAt };
  }
  const keys = importAuthorityKeys(readJson(keysPath, 'authority keys', true));
  const meta = readJson(metaPath, 'authority metadata') as {
    version?: unknown;
    createdAt?: unknown;
  } | null;
  if (
    !meta ||
    meta.version !== 1 ||
    typeof meta.createdAt !== 'number' ||
    !Number.isSafeInteger(meta.createdAt)
  ) {
    fail('SANDBOX_ERROR', 'sandbox', `authority metadata ${metaPath} is malformed`);
  }
  // The CA certificates' validity starts here: a time no certificate can encode is refused now,
  // not as a crash when the CA is built.
  return {
    keys,
    createdAt: boundedMs(meta.createdAt, `authority metadata ${metaPath} createdAt`, {
      code: 'SANDBOX_ERROR',
      check: 'sandbox',
    }),
  };
}

export interface V2Authority {
  keys: V2AuthorityKeys;
  /** When the Rekor v2 log key and the TSA start being valid (ms since the epoch). */
  createdAt: number;
}

/**
 * The Rekor v2 log and TSA keys of this data dir: loaded, or created on first use. A new data
 * dir gets the authority's creation time; an older one (made before these keys existed) gets
 * `now` less a minute, so the new log and TSA are not trusted for times before they existed.
 */
export function loadOrCreateV2Authority(
  dataDir: string,
  now: number,
  authorityCreatedAt: number,
  freshAuthority: boolean,
): V2Authority {
  const path = sandboxPath(dataDir, 'v2Keys');
  if (!existsSync(path)) {
    const keys = generateV2AuthorityKeys();
    const createdAt = freshAuthority
      ? authorityCreatedAt
      : Math.max(authorityCreatedAt, Math.floor(now / 1000) * 1000 - 60_000);
    writeDataFile(
      path,
      JSON.stringify(exportV2AuthorityKeys(keys, createdAt), null, 2) + '\n',
      0o600,
    );
    return { keys, createdAt };
  }
  const { keys, createdAt } = importV2AuthorityKeys(
    readJson(path, 'Rekor v2 / TSA authority keys', true),
  );
  return {
    keys,
    createdAt: boundedMs(createdAt, `Rekor v2 / TSA authority keys ${path} createdAt`, {
      code: 'SANDBOX_ERROR',
      check: 'sandbox',
    }),
  };
}

/** The authority of an existing sandbox (never creates one). */
export function loadAuthority(dataDir: string): Authority {
  if (!existsSync(sandboxPath(dataDir, 'keys'))) {
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `no sandbox in ${resolve(dataDir)}: run \`stella sandbox up --data-dir ${dataDir}\` first`,
    );
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
  writeDataFile(sandboxPath(dataDir, 'state'), JSON.stringify(state, null, 2) + '\n');
}

/** Write a new control key for this start (mode 0600: whoever reads it may stop the sandbox). */
export function writeControlKey(dataDir: string, key: Uint8Array): void {
  writeDataFile(sandboxPath(dataDir, 'control'), encodeControlKey(key), 0o600);
}

/** The control key of the sandbox last started in `dataDir`, or undefined when there is none. */
export function readControlKey(dataDir: string): Uint8Array | undefined {
  const path = sandboxPath(dataDir, 'control');
  if (!existsSync(path)) return undefined;
  const key = decodeControlKey(readDataFile(path, 'sandbox control key', true));
  if (!key) fail('SANDBOX_ERROR', 'sandbox', `sandbox control key ${path} is malformed`);
  return key;
}
