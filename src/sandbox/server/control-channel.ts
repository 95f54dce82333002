/**
 * How `stella sandbox down` (and `up`, checking for a running instance) knows it is talking to
 * the sandbox of a data directory, and how the sandbox knows the request comes from someone who
 * may stop it (checklist H57: process control only on proof, never on a writable file's word).
 *
 * At start the server writes a random 32-byte control key to DIR/control.key (mode 0600). Both
 * sides of the exchange are in this one module:
 *
 *   POST /stella/v1/sandbox/hello {clientNonce}
 *     -> {pid, instanceId, serverNonce, proof = HMAC(key, hello | clientNonce | serverNonce | pid | instanceId)}
 *        The client checks the proof: only the holder of the key can make it, so the pid and
 *        instance it names are the server's own word, not sandbox.json's.
 *   POST /stella/v1/sandbox/stop {serverNonce, mac = HMAC(key, stop | serverNonce)}
 *     -> 202, then the server closes itself. The nonce is single use and expires.
 *
 * The client only ever sends a MAC after the server proved itself, and the MACs of the two
 * messages are domain-separated, so a server that cannot prove itself learns nothing it could
 * replay. MACs are compared in constant time. The client speaks only to loopback URLs.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { StellaError } from '../../errors.js';
import { readBodyWithin } from '../../util/http-body.js';
import { parseJsonStrict } from '../../util/json.js';
import { fromHex, toHex } from '../../util/encoding.js';

export const CONTROL_PATHS = {
  hello: '/stella/v1/sandbox/hello',
  stop: '/stella/v1/sandbox/stop',
  fork: '/stella/v1/sandbox/fork',
} as const;

const HELLO_LABEL = 'stella-sandbox-hello-v1';
const STOP_LABEL = 'stella-sandbox-stop-v1';
const FORK_LABEL = 'stella-sandbox-fork-v1';
const NONCE_BYTES = 32;
const NONCE_RE = /^[0-9a-f]{64}$/;
/** Outstanding server nonces: bounded, so hello requests cannot grow memory without limit. */
const MAX_OUTSTANDING_NONCES = 64;
const NONCE_TTL_MS = 60_000;

export function newControlKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export function encodeControlKey(key: Uint8Array): string {
  return toHex(key) + '\n';
}

/** The key from DIR/control.key's text, or undefined when it is not 64 hex digits. */
export function decodeControlKey(text: string): Uint8Array | undefined {
  const t = text.trim();
  return NONCE_RE.test(t) ? fromHex(t) : undefined;
}

export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('hex');
}

/** HMAC-SHA256 over label and parts, NUL-separated (parts are hex or decimal: no NULs in them). */
function mac(key: Uint8Array, label: string, ...parts: string[]): Buffer {
  return createHmac('sha256', key)
    .update([label, ...parts].join('\0'))
    .digest();
}

/** Constant-time comparison of a computed MAC with a claimed hex one. */
function macMatches(expected: Buffer, claimedHex: unknown): boolean {
  if (typeof claimedHex !== 'string' || !NONCE_RE.test(claimedHex)) return false;
  return timingSafeEqual(expected, fromHex(claimedHex));
}

export interface HelloAnswer {
  pid: number;
  instanceId: string;
  serverNonce: string;
  proof: string;
}

export function helloProof(
  key: Uint8Array,
  clientNonce: string,
  a: Omit<HelloAnswer, 'proof'>,
): string {
  return mac(key, HELLO_LABEL, clientNonce, a.serverNonce, String(a.pid), a.instanceId).toString(
    'hex',
  );
}

/** Client side: does `answer` (untrusted JSON) prove the key for our `clientNonce`? */
export function checkHello(
  key: Uint8Array,
  clientNonce: string,
  answer: unknown,
): HelloAnswer | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  const a = answer as Partial<Record<keyof HelloAnswer, unknown>>;
  if (typeof a.pid !== 'number' || !Number.isSafeInteger(a.pid) || a.pid <= 0) return undefined;
  if (typeof a.instanceId !== 'string' || !/^[0-9a-f]{1,64}$/.test(a.instanceId)) return undefined;
  if (typeof a.serverNonce !== 'string' || !NONCE_RE.test(a.serverNonce)) return undefined;
  const expected = mac(key, HELLO_LABEL, clientNonce, a.serverNonce, String(a.pid), a.instanceId);
  if (!macMatches(expected, a.proof)) return undefined;
  return {
    pid: a.pid,
    instanceId: a.instanceId,
    serverNonce: a.serverNonce,
    proof: a.proof as string,
  };
}

/** Client side: the stop request's MAC for a proven server's nonce. */
export function stopMac(key: Uint8Array, serverNonce: string): string {
  return mac(key, STOP_LABEL, serverNonce).toString('hex');
}

/** Client side: the fork request's MAC (`stella sandbox fork`), binding which log and where. */
export function forkMac(key: Uint8Array, serverNonce: string, log: string, at: string): string {
  return mac(key, FORK_LABEL, serverNonce, log, at).toString('hex');
}

/** Server side: answers hello and checks stop requests. */
export class ControlServer {
  readonly #key: Uint8Array;
  readonly #pid: number;
  readonly #instanceId: string;
  readonly #nonces = new Map<string, number>();
  readonly #now: () => number;

  constructor(key: Uint8Array, pid: number, instanceId: string, now: () => number = Date.now) {
    this.#key = key;
    this.#pid = pid;
    this.#instanceId = instanceId;
    this.#now = now;
  }

  /** Answer a hello; undefined when the body is not {clientNonce: 64 hex}. */
  hello(body: unknown): HelloAnswer | undefined {
    const clientNonce = (body as { clientNonce?: unknown } | null)?.clientNonce;
    if (typeof clientNonce !== 'string' || !NONCE_RE.test(clientNonce)) return undefined;
    const now = this.#now();
    for (const [n, expiry] of this.#nonces) if (expiry <= now) this.#nonces.delete(n);
    while (this.#nonces.size >= MAX_OUTSTANDING_NONCES)
      this.#nonces.delete(this.#nonces.keys().next().value!);
    const serverNonce = newNonce();
    this.#nonces.set(serverNonce, now + NONCE_TTL_MS);
    const a = { pid: this.#pid, instanceId: this.#instanceId, serverNonce };
    return { ...a, proof: helloProof(this.#key, clientNonce, a) };
  }

  /** Is this a valid stop request? The nonce is used up either way. */
  authorizeStop(body: unknown): boolean {
    return this.#authorize(body, STOP_LABEL, []);
  }

  /** A valid fork request ({serverNonce, log, at, mac}): its log ("v1"/"v2") and fork point ("" = drop the last entry). */
  authorizeFork(body: unknown): { log: string; at: string } | undefined {
    const b = body as { log?: unknown; at?: unknown } | null;
    const log = b?.log;
    const at = b?.at;
    if (
      typeof log !== 'string' ||
      !/^v[12]$/.test(log) ||
      typeof at !== 'string' ||
      !/^(|0|[1-9][0-9]{0,15})$/.test(at)
    )
      return undefined;
    return this.#authorize(body, FORK_LABEL, [log, at]) ? { log, at } : undefined;
  }

  #authorize(body: unknown, label: string, parts: string[]): boolean {
    const b = body as { serverNonce?: unknown; mac?: unknown } | null;
    const nonce = b?.serverNonce;
    if (typeof nonce !== 'string' || !NONCE_RE.test(nonce)) return false;
    const expiry = this.#nonces.get(nonce);
    this.#nonces.delete(nonce);
    if (expiry === undefined || expiry <= this.#now()) return false;
    return macMatches(mac(this.#key, label, nonce, ...parts), b?.mac);
  }
}

/**
 * Is `url` a plain http URL on a loopback host (127.0.0.1, ::1, localhost)? The sandbox only
 * ever listens there, so a URL anywhere else in sandbox.json was put there by someone else.
 */
export function isLoopbackUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' || u.username !== '' || u.password !== '') return false;
  return u.hostname === '127.0.0.1' || u.hostname === '[::1]' || u.hostname === 'localhost';
}

/**
 * How long a hello may take. Nothing listening is refused at once; this only bounds a server
 * that accepted and hangs, and is generous because a busy machine is not a missing sandbox.
 */
export const HELLO_TIMEOUT_MS = 5000;

/** Largest control answer read: whatever answers at the URL may not be the sandbox. */
const MAX_ANSWER_BYTES = 16 * 1024;

/** POST JSON to a loopback URL, never following redirects; the answer's JSON or undefined. */
async function post(
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  let answer: Uint8Array;
  try {
    answer = await readBodyWithin(res, {
      maxBytes: MAX_ANSWER_BYTES,
      what: 'sandbox answer',
      code: 'SANDBOX_ERROR',
      check: 'sandbox',
    });
  } catch (e) {
    // Whatever answers at the URL may not be the sandbox: too long an answer is no answer.
    if (e instanceof StellaError) return { status: res.status, json: undefined };
    throw e;
  }
  let json: unknown;
  try {
    json = parseJsonStrict(answer, {
      maxBytes: MAX_ANSWER_BYTES,
      maxDepth: 8,
      what: 'sandbox answer',
      code: 'SANDBOX_ERROR',
      check: 'sandbox',
    });
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

export type HelloResult =
  /** The server holds this data directory's control key: its pid is its own word. */
  | { kind: 'proven'; pid: number; instanceId: string; serverNonce: string }
  /** Something answered at the URL but could not prove it holds the key. */
  | { kind: 'unproven'; status: number }
  /** Nothing answered (refused, reset, timed out). */
  | { kind: 'silent' };

/** Ask the server at `base` (a loopback URL: checked by the caller) to prove it holds `key`. */
export async function helloSandbox(
  base: string,
  key: Uint8Array | undefined,
  timeoutMs = HELLO_TIMEOUT_MS,
): Promise<HelloResult> {
  const clientNonce = newNonce();
  let answer: { status: number; json: unknown };
  try {
    answer = await post(new URL(CONTROL_PATHS.hello, base).href, { clientNonce }, timeoutMs);
  } catch {
    return { kind: 'silent' };
  }
  const proven =
    key && answer.status === 200 ? checkHello(key, clientNonce, answer.json) : undefined;
  if (!proven) return { kind: 'unproven', status: answer.status };
  return {
    kind: 'proven',
    pid: proven.pid,
    instanceId: proven.instanceId,
    serverNonce: proven.serverNonce,
  };
}

/** Ask a proven server to fork a log; its answer ({from, to}) or undefined when refused. */
export async function requestFork(
  base: string,
  key: Uint8Array,
  serverNonce: string,
  log: 'v1' | 'v2',
  at: string,
  timeoutMs = HELLO_TIMEOUT_MS,
): Promise<{ status: number; json: unknown }> {
  return post(
    new URL(CONTROL_PATHS.fork, base).href,
    { serverNonce, log, at, mac: forkMac(key, serverNonce, log, at) },
    timeoutMs,
  );
}

/** Ask a proven server to stop; true when it accepted. */
export async function requestStop(
  base: string,
  key: Uint8Array,
  serverNonce: string,
  timeoutMs = HELLO_TIMEOUT_MS,
): Promise<boolean> {
  try {
    const r = await post(
      new URL(CONTROL_PATHS.stop, base).href,
      { serverNonce, mac: stopMac(key, serverNonce) },
      timeoutMs,
    );
    return r.status === 202;
  } catch {
    return false;
  }
}
