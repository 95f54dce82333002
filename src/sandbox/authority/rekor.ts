/**
 * A Rekor-v1-compatible transparency log core. It accepts the proposed entries a Rekor v1
 * client POSTs to /api/v1/log/entries (hashedrekord 0.0.1 and dsse 0.0.1), verifies the
 * submitted signature against the submitted certificate or key as Rekor does, stores the
 * canonicalized body, and answers with Rekor's LogEntry JSON: a signed entry timestamp (SET)
 * and an inclusion proof with a signed-note checkpoint.
 *
 * The Merkle tree, checkpoint format, SET payload and body builders are the ones the verifier
 * checks with (src/tlog/*). Storage is an interface so the sandbox can persist in SQLite; the
 * in-memory implementation here serves tests and the samples script. Pure apart from the
 * storage it is handed: the clock is a parameter.
 */
import { fail, isStellaError } from '../../errors.js';
import { parsePublicKey, sha256, verifySignature } from '../../crypto.js';
import { verifyPrehashed } from '../../crypto-prehash.js';
import { fromHex, toBase64, toHex, utf8, utf8Decoder } from '../../util/encoding.js';
import {
  readArray,
  readBase64,
  readObject,
  readString,
  type JsonReadContext,
} from '../../util/json.js';
import { parseEnvelope, preAuthEncoding } from '../../bundle/dsse.js';
import { digestSize, hashAlgorithmOf, isDigestName, parseSha256Digest } from '../../util/digest.js';
import { parseCertificate } from '../../x509/certificate.js';
import { canonicalizeBytes } from '../../util/canonical-json.js';
import { leafHash, MerkleTree } from '../../tlog/merkle.js';
import {
  formatCheckpoint,
  isValidNoteName,
  noteKeyHint,
  signCheckpoint,
  type NoteSigner,
} from '../../tlog/note.js';
import type { TreeView } from './witness.js';
import {
  buildHashedRekordBody,
  parsePemVerifier,
  verifierPem,
  type EntryVerifier,
  type VerifierInput,
} from '../../tlog/rekor-entry.js';
import { derToPem } from '../../util/pem.js';
import { signSet } from '../../tlog/set.js';
import type { AuthorityKey } from './keys.js';
import { compareCodeUnits, quoted, withoutTrailing } from '../../util/text.js';

// ---------------------------------------------------------------------------------------
// Storage

export interface StoredEntry {
  /** The canonicalized body (RFC 8785 JSON bytes). */
  body: Uint8Array;
  /** Seconds since the epoch. */
  integratedTime: number;
  /** RFC 6962 leaf hash of the body. */
  leafHash: Uint8Array;
}

/** Where the log keeps its entries. Append-only; indexes are dense from 0. */
export interface LogStorage {
  size(): number;
  leafHash(index: number): Uint8Array;
  append(entry: StoredEntry): number;
  entry(index: number): StoredEntry;
  /** Index of the entry whose leaf hash is `uuid` (64 hex digits), if any. */
  findByUuid(uuid: string): number | undefined;
  /** Drop every entry from index `size` on (`stella sandbox fork`: the log's second history starts there). */
  truncate(size: number): void;
}

export class MemoryLogStorage implements LogStorage {
  readonly #entries: StoredEntry[] = [];
  readonly #byUuid = new Map<string, number>();

  size(): number {
    return this.#entries.length;
  }

  leafHash(index: number): Uint8Array {
    return this.entry(index).leafHash;
  }

  append(entry: StoredEntry): number {
    const uuid = toHex(entry.leafHash);
    if (this.#byUuid.has(uuid))
      fail('REKOR_REJECTED', 'tlog', `entry ${uuid} is already in the log`);
    const i =
      this.#entries.push({
        body: Uint8Array.from(entry.body),
        integratedTime: entry.integratedTime,
        leafHash: Uint8Array.from(entry.leafHash),
      }) - 1;
    this.#byUuid.set(uuid, i);
    return i;
  }

  entry(index: number): StoredEntry {
    const e = Number.isSafeInteger(index) ? this.#entries[index] : undefined;
    if (!e) fail('INPUT_INVALID', 'tlog', `no log entry at index ${index}`);
    return e;
  }

  findByUuid(uuid: string): number | undefined {
    return this.#byUuid.get(uuid.toLowerCase());
  }

  truncate(size: number): void {
    for (const e of this.#entries.splice(size)) this.#byUuid.delete(toHex(e.leafHash));
  }
}

// ---------------------------------------------------------------------------------------
// Rekor v1 JSON shapes

export interface RekorInclusionProofJson {
  checkpoint: string;
  hashes: string[];
  logIndex: number;
  rootHash: string;
  treeSize: number;
}

export interface RekorLogEntryJson {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: { inclusionProof: RekorInclusionProofJson; signedEntryTimestamp: string };
}

/** The answer to POST /api/v1/log/entries and GET /api/v1/log/entries/{uuid}: `{ uuid: entry }`. */
export type RekorLogEntryResponse = Record<string, RekorLogEntryJson>;

export interface RekorLogInfoJson {
  rootHash: string;
  treeSize: number;
  signedTreeHead: string;
  treeID: string;
  inactiveShards: never[];
}

export interface CreateEntryResult {
  uuid: string;
  logIndex: number;
  /** false when the same body was already logged (Rekor answers 409 with its location). */
  created: boolean;
  response: RekorLogEntryResponse;
}

// ---------------------------------------------------------------------------------------
// The log

export interface LocalRekorLogOptions {
  key: AuthorityKey;
  storage: LogStorage;
  /** The log's base URL (as in the trusted root); its host names the checkpoint signer. */
  baseUrl: string;
  /** Tree ID; default derived from the log key. */
  treeId?: bigint;
  /**
   * The name checkpoints are signed under and their origin starts with: Rekor v1's
   * `rekor_server.hostname`, which defaults to the machine's (pod's) host name, so a private
   * deployment's name need not be its URL's host. Default: the host of baseUrl.
   */
  checkpointName?: string;
}

/** Largest proposed entry accepted (a DSSE envelope is the big part), in bytes of JSON text. */
export const MAX_PROPOSED_ENTRY_CHARS = 8 * 1024 * 1024;

function rejected(message: string, details?: Record<string, unknown>): never {
  return fail('REKOR_REJECTED', 'tlog', message, details);
}

export class LocalRekorLog {
  readonly baseUrl: string;
  readonly treeId: bigint;
  /** sha256(SPKI) of the log key: logID in entries, logId.keyId in the trusted root. */
  readonly logId: Uint8Array;
  readonly origin: string;
  readonly #key: AuthorityKey;
  readonly #storage: LogStorage;
  #tree: MerkleTree;
  readonly #noteSigner: NoteSigner;
  /** Adds witness cosignatures to a signed checkpoint (the sandbox's witnesses), if any. */
  cosign: ((signed: string, text: string, tree: TreeView) => string) | undefined;

  constructor(opts: LocalRekorLogOptions) {
    this.baseUrl = withoutTrailing(opts.baseUrl, '/');
    this.#key = opts.key;
    this.#storage = opts.storage;
    this.logId = sha256(opts.key.spki);
    this.treeId = opts.treeId ?? deriveTreeId(opts.key.spki);
    const name = opts.checkpointName ?? hostOf(this.baseUrl);
    if (!isValidNoteName(name))
      fail(
        'CONFIG_INVALID',
        'sandbox',
        `Rekor checkpoint name ${quoted(name)} is not a valid signed-note name`,
      );
    // Rekor v1 checkpoints: origin "<hostname> - <tree id>", signed by "<hostname>".
    this.origin = `${name} - ${this.treeId}`;
    this.#noteSigner = {
      name,
      keyHint: noteKeyHint(name, opts.key.keyObject),
      sign: (m) => opts.key.sign(m),
    };
    // Rebuild the tree from storage (the SQLite store survives restarts; the tree is a cache).
    this.#tree = treeOf(opts.storage, opts.storage.size());
  }

  get size(): number {
    return this.#tree.size;
  }

  /**
   * POST /api/v1/log/entries. Verifies and canonicalizes the proposed entry, appends it (or
   * finds the identical entry already logged) and returns the Rekor LogEntry response.
   */
  createEntry(proposed: unknown, ctx: { now: number }): CreateEntryResult {
    const body = canonicalizeProposedEntry(proposed);
    const lh = leafHash(body);
    const existing = this.#storage.findByUuid(toHex(lh));
    if (existing !== undefined) {
      return {
        uuid: this.entryId(lh),
        logIndex: existing,
        created: false,
        response: this.entryResponse(existing),
      };
    }
    const integratedTime = Math.floor(ctx.now / 1000);
    if (!Number.isSafeInteger(integratedTime) || integratedTime <= 0)
      rejected('Rekor: the clock is not a positive time');
    const index = appendToLog(
      this.#storage,
      this.#tree,
      { body, integratedTime, leafHash: lh },
      'Rekor',
    );
    return {
      uuid: this.entryId(lh),
      logIndex: index,
      created: true,
      response: this.entryResponse(index),
    };
  }

  /** The sharded entry ID Rekor returns: 16 hex digits of tree ID, then the leaf hash. */
  entryId(leaf: Uint8Array): string {
    return `${this.treeId.toString(16).padStart(16, '0')}${toHex(leaf)}`;
  }

  /** GET /api/v1/log/entries/{uuid} (64-hex UUID or 80-hex entry ID). */
  entryByUuid(uuid: string): RekorLogEntryResponse | undefined {
    const u = uuid.toLowerCase();
    let leafHex: string;
    if (/^[0-9a-f]{64}$/.test(u)) leafHex = u;
    else if (/^[0-9a-f]{80}$/.test(u)) {
      if (BigInt(`0x${u.slice(0, 16)}`) !== this.treeId) return undefined;
      leafHex = u.slice(16);
    } else rejected(`Rekor: "${uuid}" is not an entry UUID (64 or 80 hex digits)`);
    const i = this.#storage.findByUuid(leafHex);
    return i === undefined ? undefined : this.entryResponse(i);
  }

  /** GET /api/v1/log/entries?logIndex=N */
  entryByIndex(index: number): RekorLogEntryResponse | undefined {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) return undefined;
    return this.entryResponse(index);
  }

  /** The LogEntry for the entry at `index`, with a proof against the current tree head. */
  entryResponse(index: number): RekorLogEntryResponse {
    const e = this.#storage.entry(index);
    const treeSize = this.size;
    const logIndex = index;
    const set = signSet(
      { canonicalizedBody: e.body, integratedTime: e.integratedTime, logIndex, logId: this.logId },
      (p) => this.#key.sign(p),
    );
    return {
      [this.entryId(e.leafHash)]: {
        body: toBase64(e.body),
        integratedTime: e.integratedTime,
        logID: toHex(this.logId),
        logIndex,
        verification: {
          inclusionProof: {
            checkpoint: this.checkpoint(treeSize),
            hashes: this.#tree.inclusionProof(index, treeSize).map(toHex),
            logIndex,
            rootHash: toHex(this.#tree.root(treeSize)),
            treeSize,
          },
          signedEntryTimestamp: toBase64(set),
        },
      },
    };
  }

  /** The signed note for the tree of `treeSize` leaves (default: the current size), with any witness cosignatures. */
  checkpoint(treeSize: number = this.size): string {
    const rootHash = this.#tree.root(treeSize);
    const signed = signCheckpoint({ origin: this.origin, treeSize, rootHash }, this.#noteSigner);
    if (!this.cosign || treeSize === 0) return signed;
    const tree = this.#tree;
    return this.cosign(signed, formatCheckpoint({ origin: this.origin, treeSize, rootHash }), {
      origin: this.origin,
      treeSize,
      rootHash,
      proofFrom: (m) => tree.consistencyProof(m, treeSize),
    });
  }

  /**
   * `stella sandbox fork`: from now on the log presents a second history. Entries from index
   * `size` on are dropped and new ones are appended after them, so the next checkpoint of a
   * size already signed has another root: a split view. Default: drop the last entry.
   */
  fork(size: number = this.size - 1): { from: number; to: number } {
    return forkLog(this.#storage, size, (t) => (this.#tree = t), this.size);
  }

  /** GET /api/v1/log */
  logInfo(): RekorLogInfoJson {
    return {
      rootHash: toHex(this.#tree.root()),
      treeSize: this.size,
      signedTreeHead: this.checkpoint(),
      treeID: this.treeId.toString(),
      inactiveShards: [],
    };
  }

  /** GET /api/v1/log/proof?firstSize&lastSize */
  consistencyProof(
    firstSize: number,
    lastSize: number = this.size,
  ): { rootHash: string; hashes: string[] } {
    if (
      !Number.isSafeInteger(firstSize) ||
      !Number.isSafeInteger(lastSize) ||
      firstSize < 1 ||
      firstSize > lastSize ||
      lastSize > this.size
    ) {
      rejected(`Rekor: consistency proof needs 1 <= firstSize <= lastSize <= ${this.size}`);
    }
    return {
      rootHash: toHex(this.#tree.root(lastSize)),
      hashes: this.#tree.consistencyProof(firstSize, lastSize).map(toHex),
    };
  }

  /** GET /api/v1/log/publicKey (PEM) */
  publicKeyPem(): string {
    return derToPem(this.#key.spki, 'PUBLIC KEY');
  }

  /**
   * POST /api/v1/index/retrieve {hash: "sha256:<hex>"}: entry UUIDs whose hashedrekord digest or
   * dsse payload hash is that digest. A linear scan: the sandbox log is small.
   */
  searchByHash(hash: string): string[] {
    // One spelling of a digest (util/digest.ts): Rekor also takes bare and upper-case hex; the sandbox does not.
    const want = toHex(parseSha256Digest(hash, 'Rekor: hash', 'REKOR_REJECTED', 'tlog').digest);
    const out: string[] = [];
    for (let i = 0; i < this.size; i++) {
      const e = this.#storage.entry(i);
      const text = utf8Decoder.decode(e.body);
      // Bodies are canonical JSON written by this log, so the digest appears as "value":"<hex>".
      if (text.includes(`"value":"${want}"`)) out.push(this.entryId(e.leafHash));
    }
    return out;
  }
}

/** Truncate storage to `size` and rebuild the tree from it (both logs' fork). */
export function forkLog(
  storage: LogStorage,
  size: number,
  setTree: (t: MerkleTree) => void,
  current: number,
): { from: number; to: number } {
  // The caller's mistake, not the sandbox's: over HTTP it is a 400, not a 500.
  if (current === 0) fail('INPUT_INVALID', 'sandbox', 'fork: the log is empty; nothing to fork');
  if (!Number.isSafeInteger(size) || size < 0 || size >= current)
    fail(
      'INPUT_INVALID',
      'sandbox',
      `fork: the log has ${current} ${current === 1 ? 'entry' : 'entries'}; the fork point must be 0..${current - 1}`,
    );
  storage.truncate(size);
  setTree(treeOf(storage, size));
  return { from: current, to: size };
}

/** The tree of the first `size` stored entries (both logs: at start, and after a fork). */
export function treeOf(storage: LogStorage, size: number): MerkleTree {
  const t = new MerkleTree();
  for (let i = 0; i < size; i++) t.appendLeafHash(storage.leafHash(i));
  return t;
}

/**
 * Store an entry and add its leaf to the tree (both logs); returns its index. The index the
 * storage gives must be the tree's next leaf (another writer on the database breaks that). It
 * is checked before the tree takes the leaf, so a checkpoint signed afterwards never claims a
 * leaf the storage holds at another index; the log then refuses every append.
 */
export function appendToLog(
  storage: LogStorage,
  tree: MerkleTree,
  entry: StoredEntry,
  log: string,
): number {
  const index = storage.append(entry);
  if (index !== tree.size)
    fail(
      'SANDBOX_ERROR',
      'sandbox',
      `${log} storage returned index ${index}, the tree has ${tree.size}`,
    );
  tree.appendLeafHash(entry.leafHash);
  return index;
}

function hostOf(baseUrl: string): string {
  let host: string;
  try {
    host = new URL(baseUrl).hostname;
  } catch (e) {
    return fail(
      'CONFIG_INVALID',
      'sandbox',
      `Rekor base URL "${baseUrl}" is not a URL`,
      undefined,
      { cause: e },
    );
  }
  if (!isValidNoteName(host))
    fail('CONFIG_INVALID', 'sandbox', `Rekor base URL "${baseUrl}" has no usable host name`);
  return host;
}

/** A positive 63-bit tree ID from the log key (stable across restarts, distinct per key). */
export function deriveTreeId(spki: Uint8Array): bigint {
  const h = sha256(utf8.encode(`tree-id\n${toHex(spki)}`));
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(h[i]!);
  return v & 0x7fffffffffffffffn || 1n;
}

// ---------------------------------------------------------------------------------------
// Proposed entries: validation and canonicalization (what Rekor's types/*/v0.0.1 do)

type Obj = Record<string, unknown>;

/** Proposed entries are read by util/json.ts's readers; every refusal is REKOR_REJECTED. */
const PROPOSAL: JsonReadContext = { code: 'REKOR_REJECTED', check: 'tlog', prefix: 'Rekor: ' };

function obj(v: unknown, where: string): Obj {
  return readObject(v, where, PROPOSAL);
}

function str(v: unknown, where: string): string {
  return readString(v, where, PROPOSAL, { nonEmpty: true });
}

function b64(v: unknown, where: string): Uint8Array {
  return readBase64(v, where, PROPOSAL);
}

function pemVerifier(pem: Uint8Array, where: string): EntryVerifier {
  try {
    return parsePemVerifier(pem, where);
  } catch (e) {
    if (isStellaError(e)) rejected(`Rekor: ${where} is not a PEM certificate or public key`);
    throw e;
  }
}

/** The verifier's key, and its canonical form for the body (Rekor re-encodes the PEM). */
function verifierKey(
  v: EntryVerifier,
  where: string,
): { key: ReturnType<typeof parsePublicKey>; input: VerifierInput } {
  if (v.kind === 'certificate') {
    let spki: Uint8Array;
    try {
      spki = parseCertificate(v.der).spkiDer;
    } catch (e) {
      if (isStellaError(e)) rejected(`Rekor: ${where} is not a valid X.509 certificate`);
      throw e;
    }
    return {
      key: parsePublicKey(spki, `Rekor: ${where}`, 'REKOR_REJECTED', 'tlog'),
      input: { certificateDer: v.der },
    };
  }
  const key = parsePublicKey(v.spki, `Rekor: ${where}`, 'REKOR_REJECTED', 'tlog');
  return {
    key,
    input: { publicKeySpki: new Uint8Array(key.export({ format: 'der', type: 'spki' })) },
  };
}

/**
 * Validate a proposed entry and return the canonicalized body Rekor would store. Refuses
 * (REKOR_REJECTED) unknown kinds, malformed fields and signatures that do not verify.
 */
export function canonicalizeProposedEntry(proposed: unknown): Uint8Array {
  const p = obj(proposed, 'proposed entry');
  const kind = str(p['kind'], 'kind');
  const apiVersion = str(p['apiVersion'], 'apiVersion');
  const spec = obj(p['spec'], 'spec');
  if (kind === 'hashedrekord' && apiVersion === '0.0.1') return hashedRekord(spec);
  if (kind === 'dsse' && apiVersion === '0.0.1') return dsse(spec);
  return rejected(
    `Rekor: unsupported entry type ${kind} ${apiVersion} (hashedrekord 0.0.1 and dsse 0.0.1 are accepted)`,
  );
}

function hashedRekord(spec: Obj): Uint8Array {
  const hash = obj(obj(spec['data'], 'spec.data')['hash'], 'spec.data.hash');
  const algName = str(hash['algorithm'], 'spec.data.hash.algorithm');
  if (!isDigestName(algName)) rejected(`Rekor: unsupported hash algorithm "${algName}"`);
  const size = digestSize(algName);
  const hex = str(hash['value'], 'spec.data.hash.value');
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== size * 2)
    rejected(`Rekor: spec.data.hash.value must be ${size * 2} hex digits`);
  const digest = fromHex(hex.toLowerCase());
  const sig = obj(spec['signature'], 'spec.signature');
  const signature = b64(sig['content'], 'spec.signature.content');
  const pem = b64(
    obj(sig['publicKey'], 'spec.signature.publicKey')['content'],
    'spec.signature.publicKey.content',
  );
  const { key, input } = verifierKey(
    pemVerifier(pem, 'spec.signature.publicKey.content'),
    'spec.signature.publicKey.content',
  );
  if (key.asymmetricKeyType !== 'ec')
    rejected('Rekor: hashedrekord needs an ECDSA key (the signature is over a bare digest)');
  if (!verifyPrehashed(key, digest, signature))
    rejected('Rekor: signature does not verify against the submitted digest and key');
  return buildHashedRekordBody({
    version: '0.0.1',
    digest: { algorithm: hashAlgorithmOf(algName), digest },
    signature,
    verifier: input,
  });
}

function dsse(spec: Obj): Uint8Array {
  if (
    spec['envelopeHash'] !== undefined ||
    spec['payloadHash'] !== undefined ||
    spec['signatures'] !== undefined
  ) {
    rejected(
      'Rekor: a proposed dsse entry carries proposedContent only (hashes and signatures are computed by the log)',
    );
  }
  const pc = obj(spec['proposedContent'], 'spec.proposedContent');
  const envelopeText = str(pc['envelope'], 'spec.proposedContent.envelope');
  if (envelopeText.length > MAX_PROPOSED_ENTRY_CHARS) rejected('Rekor: envelope too large');
  let env: ReturnType<typeof parseEnvelope>;
  try {
    env = parseEnvelope(envelopeText);
  } catch (e) {
    if (isStellaError(e))
      rejected(`Rekor: spec.proposedContent.envelope is not a DSSE envelope: ${e.message}`);
    throw e;
  }
  const verifiersRaw = readArray(pc['verifiers'], 'spec.proposedContent.verifiers', PROPOSAL, {
    max: 16,
    nonEmpty: true,
  });
  const verifiers = verifiersRaw.map((v, i) =>
    verifierKey(
      pemVerifier(b64(v, `spec.proposedContent.verifiers[${i}]`), `verifiers[${i}]`),
      `verifiers[${i}]`,
    ),
  );
  if (env.signatures.length === 0) rejected('Rekor: the envelope has no signatures');
  const pae = preAuthEncoding(env.payloadType, env.payload);
  // Every signature must verify with some submitted key (rekor dsse v0.0.1 verifyEnvelope).
  const signatures = env.signatures.map((s, i) => {
    const v = verifiers.find((k) => verifySignature(k.key, pae, s.sig));
    if (!v) rejected(`Rekor: envelope signature ${i} does not verify with any submitted verifier`);
    return { signature: toBase64(s.sig), verifier: toBase64(utf8.encode(verifierPem(v.input))) };
  });
  const unique = new Map(signatures.map((s) => [s.signature, s]));
  const sorted = [...unique.values()].sort((a, b) => compareCodeUnits(a.signature, b.signature));
  // Rekor hashes the envelope text exactly as uploaded (types/dsse/v0.0.1 Unmarshal).
  return canonicalizeBytes({
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: toHex(sha256(utf8.encode(envelopeText))) },
      payloadHash: { algorithm: 'sha256', value: toHex(sha256(env.payload)) },
      signatures: sorted,
    },
  });
}
