/**
 * The local signing stack as one node:http server on 127.0.0.1: OIDC issuer, Fulcio CA (with
 * its CT log), Rekor v1 log, Rekor v2 log (with the tlog-tiles read API) and RFC 3161 TSA,
 * built from the pure authority cores with both logs persisted in SQLite. `startSandbox` is
 * the library entry (tests, the demo, `stella sandbox up`).
 *
 * This is a stand-in for labs and tests, not a production Sigstore: one process, one key set
 * on local disk, no HSM; witnesses (--witnesses N) are in-process keys (../authority/witness.ts).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromHex, toHex } from '../../util/encoding.js';
import { fail } from '../../errors.js';
import { derToPem } from '../../util/pem.js';
import { defaultSignerConfig, renderSignerConfig } from '../../sign/config.js';
import { FulcioCA } from '../authority/fulcio.js';
import { OidcIssuer, type CiPlatform } from '../authority/oidc.js';
import { LocalRekorLog } from '../authority/rekor.js';
import { authorityTrustedRootJson } from '../authority/trust.js';
import { LocalRekorV2Log } from '../authority/rekor-v2.js';
import { LocalTsa } from '../authority/tsa.js';
import { renderSigningConfig } from '../../sign/signing-config.js';
import { TSA_PATH } from './routes-v2.js';
import {
  ensureDataDir,
  loadAuthority,
  loadOrCreateAuthority,
  loadOrCreateV2Authority,
  readControlKey,
  readSandboxState,
  sandboxPath,
  writeControlKey,
  writeDataFile,
  writeSandboxState,
  type SandboxState,
  type SandboxUrls,
} from './data-dir.js';
import { createHandler } from './routes.js';
import { SqliteLogStorage } from './storage.js';
import { formatTime } from '../../util/time.js';
import { readFileBounded } from '../../util/fs.js';
import { parseJsonStrict } from '../../util/json.js';
import { cosignCheckpoint, SandboxWitness, type TreeView } from '../authority/witness.js';
import {
  ControlServer,
  HELLO_TIMEOUT_MS,
  helloSandbox,
  isLoopbackUrl,
  newControlKey,
  type HelloResult,
} from './control-channel.js';

export const SANDBOX_HOST = '127.0.0.1';

export interface StartSandboxOptions {
  dataDir: string;
  /** 0 (default) = an ephemeral port. */
  port?: number;
  /** Clock (ms since the epoch); tests move it to expire tokens and certificates. */
  now?: () => number;
  /** Witnesses cosigning both logs' checkpoints (`--witnesses N`, 0..16); their keys persist in the data dir. */
  witnesses?: number;
}

export interface RunningSandbox {
  urls: Required<SandboxUrls>;
  port: number;
  dataDir: string;
  trustedRootPath: string;
  signerConfigPath: string;
  /** A Sigstore signing_config.json (v0.2) for this sandbox: Rekor v2 + TSA are what it selects. */
  signingConfigPath: string;
  /** The in-process Rekor v2 log (tests: its checkpoint, tiles, proofs). */
  rekorV2: LocalRekorV2Log;
  /** The in-process TSA. */
  tsa: LocalTsa;
  /** The witnesses cosigning checkpoints (vkeys also in DIR/witnesses.vkeys). */
  witnesses: SandboxWitness[];
  /** Mint a token from this sandbox's issuer (what `stella sandbox token` prints). */
  mintToken(opts: SandboxTokenOptions): string;
  close(): Promise<void>;
  /** Settles once the sandbox has closed, by close() or by an authenticated stop request. */
  readonly closed: Promise<void>;
}

export interface SandboxTokenOptions {
  platform: CiPlatform;
  repo: string;
  ref?: string;
  environment?: string;
  /** The token's `iss` (default: the stack's own issuer URL): e.g. https://token.actions.githubusercontent.com, https://gitlab.com, a self-hosted instance. */
  issuer?: string;
  /** The forge's web URL (default: the platform's public one; for GitLab and Gitea with --issuer, the issuer URL). */
  serverUrl?: string;
  /** GitHub/Gitea event_name, GitLab pipeline_source (pull_request: GitHub's repo:ORG/REPO:pull_request subject). */
  event?: string;
  /** GitLab ref_protected. */
  refProtected?: boolean;
  /** Seconds; default 300 (5 minutes, like CI tokens). */
  expiresIn?: number;
  audience?: string;
  /** Clock for the token's iat (ms); default now. */
  now?: number;
}

/** One sandbox per data folder: refused while the one recorded there still answers. */
async function refuseIfRunning(dataDir: string): Promise<void> {
  const previous = readSandboxState(dataDir);
  if (previous?.pid && (await sandboxAnswers(dataDir, previous))) {
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `a sandbox is already running for ${dataDir} at ${previous.urls.base} (pid ${previous.pid}); run \`stella sandbox down --data-dir ${dataDir}\``,
    );
  }
}

/** The files the state records for clients: those written for them, and the logs' storage. */
function stateFiles(
  dataDir: string,
  files: ReturnType<typeof writeClientFiles>,
  witnesses: boolean,
): SandboxState['files'] {
  return {
    trustedRoot: files.trustedRoot,
    signerConfig: files.signerConfig,
    roots: files.roots,
    log: sandboxPath(dataDir, 'log'),
    signingConfig: files.signingConfig,
    logV2: sandboxPath(dataDir, 'logV2'),
    ...(witnesses ? { witnesses: sandboxPath(dataDir, 'witnessVkeys') } : {}),
  };
}

export async function startSandbox(opts: StartSandboxOptions): Promise<RunningSandbox> {
  const now = opts.now ?? (() => Date.now());
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail('INPUT_INVALID', 'sandbox', `--port must be 0-65535, got ${port}`);
  checkWitnessCount(opts.witnesses ?? 0);
  const dataDir = ensureDataDir(opts.dataDir);

  await refuseIfRunning(dataDir);

  const freshAuthority = !existsSync(sandboxPath(dataDir, 'keys'));
  const authority = loadOrCreateAuthority(dataDir, now());
  const v2Authority = loadOrCreateV2Authority(dataDir, now(), authority.createdAt, freshAuthority);
  const storages = openLogStorages(dataDir);
  const instanceId = randomBytes(12).toString('hex');
  const controlKey = newControlKey();
  let stopRequested = () => {};

  // The URLs (issuer, log origin) need the port, so the services are built after listening.
  let handler: ReturnType<typeof createHandler> | undefined;
  const server = createServer((req, res) => {
    if (!handler) {
      res.writeHead(503).end();
      return;
    }
    handler(req, res);
  });
  server.keepAliveTimeout = 1000;
  const actualPort = await listenOnLoopback(server, port, () => closeLogStorages(storages));
  try {
    const urls = sandboxUrls(actualPort);
    const services = buildServices(dataDir, urls, authority, v2Authority, storages, opts, now);
    // The control channel proves this process with the key written below; the real clock, not
    // the test clock `now`, times its nonces.
    const control = new ControlServer(controlKey, process.pid, instanceId);
    handler = createHandler({
      issuer: services.issuer,
      fulcio: services.fulcio,
      rekor: services.rekor,
      now,
      instanceId,
      control,
      onStop: () => stopRequested(),
      v2: { rekorV2: services.rekorV2, tsa: services.tsa },
    });

    const files = writeClientFiles(dataDir, urls, authority, v2Authority, services);
    writeControlKey(dataDir, controlKey);
    writeSandboxState(dataDir, {
      version: 1,
      pid: process.pid,
      host: SANDBOX_HOST,
      port: actualPort,
      urls,
      startedAt: formatTime(now()),
      files: stateFiles(dataDir, files, services.witnesses.length > 0),
      instanceId,
    });

    const running = runningSandbox(server, storages, dataDir, actualPort, urls, files, services, {
      mintToken: (t) => mintFrom(authority.keys.oidc, urls.base, t, now()),
    });
    stopRequested = () => {
      running.close().catch(() => {
        // close() settles `closed` itself on every path but a throw before it; nothing to add.
      });
    };
    return running;
  } catch (e) {
    // Nothing is left listening or open when start-up fails after the port was bound (a
    // library caller's process would otherwise be held open by it).
    server.closeAllConnections();
    server.close();
    closeLogStorages(storages);
    throw e;
  }
}

type SandboxAuthority = ReturnType<typeof loadOrCreateAuthority>;
type SandboxV2Authority = ReturnType<typeof loadOrCreateV2Authority>;
interface LogStorages {
  storage: SqliteLogStorage;
  storageV2: SqliteLogStorage;
}
interface SandboxServices {
  issuer: OidcIssuer;
  fulcio: FulcioCA;
  rekor: LocalRekorLog;
  rekorV2: LocalRekorV2Log;
  tsa: LocalTsa;
  witnesses: SandboxWitness[];
}
interface ClientFiles {
  trustedRoot: string;
  signerConfig: string;
  roots: string;
  signingConfig: string;
}

/** Both logs' SQLite files; the first is closed again if the second cannot be opened. */
function openLogStorages(dataDir: string): LogStorages {
  const storage = new SqliteLogStorage(sandboxPath(dataDir, 'log'));
  try {
    return { storage, storageV2: new SqliteLogStorage(sandboxPath(dataDir, 'logV2')) };
  } catch (e) {
    storage.close();
    throw e;
  }
}

function closeLogStorages({ storage, storageV2 }: LogStorages): void {
  storage.close();
  storageV2.close();
}

/** Listen on 127.0.0.1:port (0: ephemeral) and answer the port bound; `onFail` cleans up first. */
async function listenOnLoopback(server: Server, port: number, onFail: () => void) {
  try {
    await listen(server, port);
  } catch (e) {
    onFail();
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      'SANDBOX_ERROR',
      'sandbox',
      `cannot listen on ${SANDBOX_HOST}:${port}: ${code === 'EADDRINUSE' ? 'port in use' : (e as Error).message}`,
      undefined,
      { cause: e },
    );
  }
  return (server.address() as AddressInfo).port;
}

/** Every service answers on the one origin; the TSA under its own path. */
function sandboxUrls(port: number): Required<SandboxUrls> {
  const base = `http://${SANDBOX_HOST}:${port}`;
  return {
    base,
    oidcIssuer: base,
    fulcio: base,
    rekor: base,
    rekorV2: base,
    tsa: `${base}${TSA_PATH}`,
  };
}

function buildServices(
  dataDir: string,
  urls: Required<SandboxUrls>,
  authority: SandboxAuthority,
  v2Authority: SandboxV2Authority,
  { storage, storageV2 }: LogStorages,
  opts: StartSandboxOptions,
  now: () => number,
): SandboxServices {
  const base = urls.base;
  const issuer = new OidcIssuer({ issuerUrl: base, key: authority.keys.oidc });
  const fulcio = new FulcioCA({
    rootKey: authority.keys.rootCa,
    intermediateKey: authority.keys.intermediateCa,
    ctLogKey: authority.keys.ctLog,
    createdAt: authority.createdAt,
    issuers: [
      { issuerUrl: base, audience: 'sigstore' },
      { issuerUrl: '*', audience: 'sigstore' },
    ],
  });
  const rekor = new LocalRekorLog({ key: authority.keys.rekorLog, storage, baseUrl: base });
  // The v2 log's name (checkpoint origin and signer; its key ID binds it) is the host without
  // the port, so it stays the same when a restart picks another port.
  const rekorV2 = new LocalRekorV2Log({
    key: v2Authority.keys.rekorV2Log,
    storage: storageV2,
    baseUrl: urls.rekorV2,
    name: SANDBOX_HOST,
    validFrom: v2Authority.createdAt,
  });
  const witnesses = loadOrCreateWitnesses(dataDir, opts.witnesses ?? 0);
  if (witnesses.length > 0) {
    const cosign = (signed: string, text: string, tree: TreeView) =>
      cosignCheckpoint(signed, text, tree, witnesses, now());
    rekor.cosign = cosign;
    rekorV2.cosign = cosign;
  }
  const tsa = new LocalTsa({
    rootKey: v2Authority.keys.tsaRoot,
    signerKey: v2Authority.keys.tsaSigner,
    createdAt: v2Authority.createdAt,
    url: urls.tsa,
  });
  return { issuer, fulcio, rekor, rekorV2, tsa, witnesses };
}

/** Files for clients in the data directory: trust root, CA roots, signer.yaml, signing config. */
function writeClientFiles(
  dataDir: string,
  urls: Required<SandboxUrls>,
  authority: SandboxAuthority,
  v2Authority: SandboxV2Authority,
  { fulcio, rekorV2, tsa }: SandboxServices,
): ClientFiles {
  const base = urls.base;
  const files: ClientFiles = {
    trustedRoot: sandboxPath(dataDir, 'trustedRoot'),
    signerConfig: sandboxPath(dataDir, 'signerConfig'),
    roots: sandboxPath(dataDir, 'roots'),
    signingConfig: sandboxPath(dataDir, 'signingConfig'),
  };
  writeDataFile(
    files.trustedRoot,
    authorityTrustedRootJson({
      fulcio,
      fulcioUrl: base,
      rekorUrl: base,
      rekorKeySpki: authority.keys.rekorLog.spki,
      ctLogUrl: base,
      extraTlogs: [rekorV2.logInstance()],
      timestampAuthorities: [tsa.authority()],
    }) + '\n',
  );
  writeDataFile(
    files.roots,
    derToPem(fulcio.intermediateCertificate) + derToPem(fulcio.rootCertificate),
  );
  const signer = defaultSignerConfig();
  signer.fulcio = { url: base, timeoutMs: 10_000, retries: 1 };
  signer.rekor = { url: base, timeoutMs: 10_000, retries: 1, majorApiVersion: 1 };
  signer.oidc = { issuer: base, clientId: 'sigstore', useAmbientToken: true };
  signer.certificate = { rootBundlePath: files.roots, validateChain: true, requireSCT: true };
  signer.tsa = { url: undefined, timeoutMs: 10_000, retries: 1 };
  signer.trustedRootPath = files.trustedRoot;
  writeDataFile(
    files.signerConfig,
    `# Signer config for the Stella sandbox at ${base} (written by \`stella sandbox up\`).\n` +
      renderSignerConfig(signer),
  );
  // The Sigstore signing config: Rekor v2 listed first and v1 after it, as Sigstore's own
  // lists both during the transition; a client that speaks v2 picks it (the highest version).
  const operator = 'stella-sandbox.local';
  const since = { start: authority.createdAt };
  const sinceV2 = { start: v2Authority.createdAt };
  writeDataFile(
    files.signingConfig,
    renderSigningConfig({
      caUrls: [{ url: base, majorApiVersion: 1, validFor: since, operator }],
      oidcUrls: [{ url: base, majorApiVersion: 1, validFor: since, operator }],
      rekorTlogUrls: [
        { url: urls.rekorV2, majorApiVersion: 2, validFor: sinceV2, operator },
        { url: base, majorApiVersion: 1, validFor: since, operator },
      ],
      rekorTlogConfig: { selector: 'ANY' },
      tsaUrls: [{ url: urls.tsa, majorApiVersion: 1, validFor: sinceV2, operator }],
      tsaConfig: { selector: 'ANY' },
    }),
  );
  return files;
}

/** The handle startSandbox returns: close() stops the server, the logs and clears the pid. */
function runningSandbox(
  server: Server,
  storages: LogStorages,
  dataDir: string,
  port: number,
  urls: Required<SandboxUrls>,
  files: ClientFiles,
  { rekorV2, tsa, witnesses }: SandboxServices,
  { mintToken }: Pick<RunningSandbox, 'mintToken'>,
): RunningSandbox {
  let closed = false;
  let markClosed = () => {};
  const closedPromise = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  return {
    urls,
    port,
    dataDir,
    trustedRootPath: files.trustedRoot,
    signerConfigPath: files.signerConfig,
    signingConfigPath: files.signingConfig,
    rekorV2,
    tsa,
    witnesses,
    mintToken,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        closeLogStorages(storages);
        const current = readSandboxState(dataDir);
        if (current && current.pid === process.pid)
          writeSandboxState(dataDir, { ...current, pid: null });
      } finally {
        markClosed();
      }
    },
    closed: closedPromise,
  };
}

export const MAX_SANDBOX_WITNESSES = 16;

/** Checked before anything is opened: a bad count leaves nothing to clean up. */
function checkWitnessCount(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_SANDBOX_WITNESSES)
    fail('INPUT_INVALID', 'sandbox', `--witnesses must be 0..${MAX_SANDBOX_WITNESSES}, got ${n}`);
}

/**
 * The first `n` witnesses of the data directory, created (random Ed25519 seeds, mode 0600) as
 * needed; DIR/witnesses.vkeys lists their vkeys for `stella trust witness add`. `n` has passed
 * checkWitnessCount (startSandbox checks it first).
 */
function loadOrCreateWitnesses(dataDir: string, n: number): SandboxWitness[] {
  if (n === 0) return [];
  const path = sandboxPath(dataDir, 'witnessSeeds');
  let seeds: string[] = [];
  if (existsSync(path)) {
    const doc = parseJsonStrict(
      readFileBounded(path, {
        what: 'sandbox witness keys',
        maxBytes: 64 * 1024,
        code: 'SANDBOX_ERROR',
        check: 'sandbox',
        secret: true,
      }),
      {
        maxDepth: 3,
        maxBytes: 64 * 1024,
        what: 'sandbox witness keys',
        code: 'SANDBOX_ERROR',
        check: 'sandbox',
      },
    ) as { seeds?: unknown };
    if (
      !Array.isArray(doc.seeds) ||
      !doc.seeds.every((x) => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x))
    )
      fail('SANDBOX_ERROR', 'sandbox', `${path}: not a list of 32-byte hex seeds`);
    seeds = doc.seeds as string[];
  }
  if (seeds.length < n) {
    while (seeds.length < n) seeds.push(randomBytes(32).toString('hex'));
    writeDataFile(path, JSON.stringify({ version: 1, seeds }) + '\n', 0o600);
  }
  const witnesses = seeds
    .slice(0, n)
    .map((hex, i) => new SandboxWitness(`witness-${i + 1}.sandbox.stella.local`, fromHex(hex)));
  writeDataFile(
    sandboxPath(dataDir, 'witnessVkeys'),
    witnesses.map((w) => w.vkey).join('\n') + '\n',
  );
  persistWitnessMemory(dataDir, witnesses);
  return witnesses;
}

/**
 * What each witness cosigned, kept in DIR/witness-state.json (written atomically after each
 * change): a restarted sandbox's witnesses still refuse a rolled-back or forked history.
 * `{version: 1, witnesses: {<name>: {<origin>: {treeSize, rootHash: hex}}}}`.
 */
function persistWitnessMemory(dataDir: string, witnesses: readonly SandboxWitness[]): void {
  const path = sandboxPath(dataDir, 'witnessState');
  const what = 'sandbox witness state';
  const state: Record<string, Record<string, { treeSize: number; rootHash: string }>> = {};
  if (existsSync(path)) {
    const doc = parseJsonStrict(
      readFileBounded(path, {
        what,
        maxBytes: 1024 * 1024,
        code: 'SANDBOX_ERROR',
        check: 'sandbox',
      }),
      { maxDepth: 5, maxBytes: 1024 * 1024, what, code: 'SANDBOX_ERROR', check: 'sandbox' },
    ) as { witnesses?: unknown };
    const ok =
      typeof doc.witnesses === 'object' &&
      doc.witnesses !== null &&
      Object.values(doc.witnesses).every(
        (logs) =>
          typeof logs === 'object' &&
          logs !== null &&
          Object.values(logs as object).every(
            (v: { treeSize?: unknown; rootHash?: unknown }) =>
              Number.isSafeInteger(v.treeSize) &&
              typeof v.rootHash === 'string' &&
              /^[0-9a-f]{64}$/.test(v.rootHash),
          ),
      );
    if (!ok) fail('SANDBOX_ERROR', 'sandbox', `${path}: not a witness state file`);
    Object.assign(state, doc.witnesses);
  }
  for (const w of witnesses) {
    const logs = state[w.key.name] ?? {};
    w.restore(
      new Map(
        Object.entries(logs).map(([origin, v]) => [
          origin,
          { treeSize: v.treeSize, rootHash: fromHex(v.rootHash) },
        ]),
      ),
    );
    w.onCosigned = (changed) => {
      state[changed.key.name] = Object.fromEntries(
        [...changed.memory()].map(([origin, v]) => [
          origin,
          { treeSize: v.treeSize, rootHash: toHex(v.rootHash) },
        ]),
      );
      writeDataFile(path, JSON.stringify({ version: 1, witnesses: state }) + '\n');
    };
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: SANDBOX_HOST, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Ask the server at the URL `state` records to prove it holds `dataDir`'s control key. A URL
 * that is not loopback is never contacted (it counts as silent).
 */
export async function proveSandbox(
  dataDir: string,
  state: SandboxState,
  timeoutMs = HELLO_TIMEOUT_MS,
): Promise<HelloResult> {
  if (!isLoopbackUrl(state.urls.base)) return { kind: 'silent' };
  let key: Uint8Array | undefined;
  try {
    key = readControlKey(dataDir);
  } catch {
    // A key we cannot trust (not ours, open to others, malformed) proves nothing: whatever
    // answers stays unproven.
    key = undefined;
  }
  return helloSandbox(state.urls.base, key, timeoutMs);
}

/** Does a sandbox of `dataDir` answer at the URL `state` records, and prove it is that instance? */
export async function sandboxAnswers(
  dataDir: string,
  state: SandboxState,
  timeoutMs = HELLO_TIMEOUT_MS,
): Promise<boolean> {
  const r = await proveSandbox(dataDir, state, timeoutMs);
  return r.kind === 'proven' && r.instanceId === state.instanceId;
}

/**
 * A token from the sandbox issuer of `dataDir` (server running or not: the issuer URL is the
 * one recorded in sandbox.json, the key is the authority's).
 */
export function mintSandboxToken(dataDir: string, opts: SandboxTokenOptions): string {
  const state = readSandboxState(dataDir);
  if (!state)
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `no sandbox state in ${dataDir}: run \`stella sandbox up --data-dir ${dataDir}\` first`,
    );
  const authority = loadAuthority(dataDir);
  return mintFrom(authority.keys.oidc, state.urls.oidcIssuer, opts, Date.now());
}

/** A token from the stack's OIDC key, under its own issuer URL or the one asked for. */
function mintFrom(
  key: ConstructorParameters<typeof OidcIssuer>[0]['key'],
  ownIssuer: string,
  opts: SandboxTokenOptions,
  now: number,
): string {
  const { issuer: iss, ...rest } = opts;
  const issuer = new OidcIssuer({ issuerUrl: iss ?? ownIssuer, key });
  // A GitLab or Gitea instance's issuer is its own URL: its forge URL too, unless told otherwise.
  const serverUrl =
    rest.serverUrl ?? (iss !== undefined && rest.platform !== 'github' ? iss : undefined);
  return issuer.mintToken({
    ...rest,
    ...(serverUrl !== undefined ? { serverUrl } : {}),
    now: opts.now ?? now,
  });
}
