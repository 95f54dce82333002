/**
 * A Rekor-v2-compatible transparency log core (rekor-tiles): it accepts what a Rekor v2 client
 * POSTs to /api/v2/log/entries (CreateEntryRequest: hashedRekordRequestV002 or
 * dsseRequestV002, protobuf JSON, camelCase or snake_case field names as protojson reads
 * them), verifies the signature(s) as rekor-tiles does, stores the canonicalized body, and
 * answers with a TransparencyLogEntry: inclusion proof and checkpoint, no integrated time and
 * no signed entry timestamp (a Rekor v2 bundle gets its time from an RFC 3161 TSA).
 *
 * The checkpoint is a C2SP signed note signed with Ed25519 under the log's name, and its
 * origin is that name (rekor-tiles passes one string as both). The log ID in entries and in
 * the trusted root is the full signed-note key ID, SHA-256(name || 0x0A || 0x01 || public key),
 * so it binds the name. The read side is C2SP tlog-tiles (../../tlog/tiles.ts): checkpoint,
 * tiles and entry bundles straight from the Merkle tree the proofs come from.
 *
 * Merkle tree, checkpoints, note key IDs and entry bodies are the code the verifier checks
 * them with (src/tlog/*). Storage is the v1 log's interface (./rekor.ts), so the sandbox keeps
 * this log in SQLite too and a restart rebuilds the tree from its rows. Pure apart from the
 * storage: the clock is a parameter.
 *
 * Upstream note: rekor-tiles dropped dsse requests in June 2026 (clients now log a DSSE
 * envelope as a hashedrekord over its PAE). This log accepts both, so clients of either age
 * (and @sigstore/sign 4.x, which sends dsseRequestV002) can use it.
 */
import type { KeyObject } from 'node:crypto';
import { fail, isStellaError } from '../../errors.js';
import { parsePublicKey, verifySignature } from '../../crypto.js';
import { verifyPrehashed } from '../../crypto-prehash.js';
import {
  decodeProtoJsonBytes,
  fromLatin1,
  toBase64,
  toHex,
  toLatin1,
} from '../../util/encoding.js';
import { digestSize, hashAlgorithmOf, type DigestName } from '../../util/digest.js';
import { preAuthEncoding } from '../../bundle/dsse.js';
import { parseCertificate } from '../../x509/certificate.js';
import { canonicalizeBytes } from '../../util/canonical-json.js';
import { leafHash, MerkleTree } from '../../tlog/merkle.js';
import { isValidNoteName, noteKeyId, signCheckpoint, type NoteSigner } from '../../tlog/note.js';
import { buildHashedRekordBody, type VerifierInput } from '../../tlog/rekor-entry.js';
import {
  encodeEntryBundle,
  MAX_BUNDLED_ENTRY_BYTES,
  readTile,
  tileAvailableWidth,
  TILE_WIDTH,
} from '../../tlog/tiles.js';
import type { TransparencyLogInstance } from '../../model/trust-material.js';
import { sha256 } from '../../crypto.js';
import { appendToLog, forkLog, treeOf, type LogStorage } from './rekor.js';
import type { TreeView } from './witness.js';
import { formatCheckpoint } from '../../tlog/note.js';
import type { Ed25519AuthorityKey } from './keys-v2.js';
import { quoted, withoutTrailing } from '../../util/text.js';

// ---------------------------------------------------------------------------------------
// JSON shapes (protobuf JSON of dev.sigstore.rekor.v1.TransparencyLogEntry, as grpc-gateway
// writes it: int64 as decimal strings, bytes as base64)

export interface RekorV2LogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  inclusionPromise: null;
  inclusionProof: {
    logIndex: string;
    rootHash: string;
    treeSize: string;
    hashes: string[];
    checkpoint: { envelope: string };
  };
  canonicalizedBody: string;
}

export interface CreateV2EntryResult {
  logIndex: number;
  /** false when the same body was already logged (rekor-tiles answers 409 AlreadyExists with x-log-index). */
  created: boolean;
  entry: RekorV2LogEntryJson;
}

export interface LocalRekorV2LogOptions {
  key: Ed25519AuthorityKey;
  storage: LogStorage;
  /** The log's base URL (trusted root baseUrl; clients POST to <baseUrl>/api/v2/log/entries). */
  baseUrl: string;
  /** The checkpoint signer name and origin; default: the host name of baseUrl. */
  name?: string;
  /** When the log key starts being valid (ms): its validFor.start in the trusted root. */
  validFrom: number;
}

/** Signatures and verifiers a dsse request may carry (rekor-tiles: 10 each). */
export const MAX_DSSE_SIGNATURES = 10;

function rejected(message: string): never {
  return fail('REKOR_REJECTED', 'tlog', `Rekor v2: ${message}`);
}

/** PublicKeyDetails this log verifies: the registry pairs (rekor-tiles' default algorithm registry, ECDSA and pure Ed25519). */
const KEY_DETAILS: Readonly<Record<string, { curve: string | null; hash: DigestName | null }>> = {
  PKIX_ECDSA_P256_SHA_256: { curve: 'prime256v1', hash: 'sha256' },
  PKIX_ECDSA_P384_SHA_384: { curve: 'secp384r1', hash: 'sha384' },
  PKIX_ECDSA_P521_SHA_512: { curve: 'secp521r1', hash: 'sha512' },
  PKIX_ED25519: { curve: null, hash: null },
};

export class LocalRekorV2Log {
  readonly baseUrl: string;
  /** Signer name and checkpoint origin. */
  readonly name: string;
  /** Full signed-note key ID: logId.keyId in entries, logId and checkpointKeyId in the trusted root. */
  readonly keyId: Uint8Array;
  readonly validFrom: number;
  readonly #key: Ed25519AuthorityKey;
  readonly #storage: LogStorage;
  #tree: MerkleTree;
  /** Adds witness cosignatures to a signed checkpoint (the sandbox's witnesses), if any. */
  cosign: ((signed: string, text: string, tree: TreeView) => string) | undefined;
  readonly #noteSigner: NoteSigner;

  constructor(opts: LocalRekorV2LogOptions) {
    this.baseUrl = withoutTrailing(opts.baseUrl, '/');
    this.#key = opts.key;
    this.#storage = opts.storage;
    this.validFrom = opts.validFrom;
    let name = opts.name;
    if (name === undefined) {
      try {
        name = new URL(this.baseUrl).hostname;
      } catch (e) {
        fail(
          'CONFIG_INVALID',
          'sandbox',
          `Rekor v2 base URL "${opts.baseUrl}" is not a URL`,
          undefined,
          { cause: e },
        );
      }
    }
    if (!isValidNoteName(name))
      fail(
        'CONFIG_INVALID',
        'sandbox',
        `Rekor v2 log name ${quoted(name)} is not a valid signed-note name`,
      );
    this.name = name;
    this.keyId = noteKeyId(name, opts.key.signer.publicKey);
    this.#noteSigner = {
      name,
      keyHint: this.keyId.slice(0, 4),
      sign: (m) => opts.key.signer.sign(m),
    };
    this.#tree = treeOf(opts.storage, opts.storage.size());
  }

  get size(): number {
    return this.#tree.size;
  }

  get publicKey(): KeyObject {
    return this.#key.signer.publicKey;
  }

  /** The log as a trusted root lists it (Rekor v2: logId = checkpointKeyId = the note key ID). */
  logInstance(): TransparencyLogInstance {
    return {
      baseUrl: this.baseUrl,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: this.#key.signer.spki,
        keyDetails: 'PKIX_ED25519',
        key: this.#key.signer.publicKey,
        validFor: { start: this.validFrom, end: undefined },
      },
      logId: this.keyId,
      checkpointKeyId: this.keyId,
    };
  }

  /** POST /api/v2/log/entries: verify, canonicalize, append (or find the same body already logged). */
  createEntry(request: unknown, ctx: { now: number }): CreateV2EntryResult {
    const body = canonicalizeRequest(request);
    if (body.length > MAX_BUNDLED_ENTRY_BYTES)
      rejected(
        `the entry is ${body.length} bytes; a tlog-tiles entry bundle holds at most ${MAX_BUNDLED_ENTRY_BYTES}`,
      );
    const lh = leafHash(body);
    const existing = this.#storage.findByUuid(toHex(lh));
    if (existing !== undefined)
      return { logIndex: existing, created: false, entry: this.entryJson(existing) };
    // Rekor v2 records no integrated time; the row keeps when it was appended (for monitors).
    const index = appendToLog(
      this.#storage,
      this.#tree,
      { body, integratedTime: Math.max(1, Math.floor(ctx.now / 1000)), leafHash: lh },
      'Rekor v2',
    );
    return { logIndex: index, created: true, entry: this.entryJson(index) };
  }

  /** The TransparencyLogEntry for `index`, proven against the tree of `treeSize` leaves (default: now). */
  entryJson(index: number, treeSize: number = this.size): RekorV2LogEntryJson {
    const e = this.#storage.entry(index);
    const kv = JSON.parse(Buffer.from(e.body).toString('utf8')) as {
      kind: string;
      apiVersion: string;
    };
    return {
      logIndex: String(index),
      logId: { keyId: toBase64(this.keyId) },
      kindVersion: { kind: kv.kind, version: kv.apiVersion },
      integratedTime: '0',
      inclusionPromise: null,
      inclusionProof: {
        logIndex: String(index),
        rootHash: toBase64(this.#tree.root(treeSize)),
        treeSize: String(treeSize),
        hashes: this.#tree.inclusionProof(index, treeSize).map(toBase64),
        checkpoint: { envelope: this.checkpoint(treeSize) },
      },
      canonicalizedBody: toBase64(e.body),
    };
  }

  /** The signed checkpoint for the tree of `treeSize` leaves (default: the current size). */
  checkpoint(treeSize: number = this.size): string {
    const rootHash = this.#tree.root(treeSize);
    const signed = signCheckpoint({ origin: this.name, treeSize, rootHash }, this.#noteSigner);
    if (!this.cosign || treeSize === 0) return signed;
    const tree = this.#tree;
    return this.cosign(signed, formatCheckpoint({ origin: this.name, treeSize, rootHash }), {
      origin: this.name,
      treeSize,
      rootHash,
      proofFrom: (m) => tree.consistencyProof(m, treeSize),
    });
  }

  /** `stella sandbox fork` (see LocalRekorLog.fork). */
  fork(size: number = this.size - 1): { from: number; to: number } {
    return forkLog(this.#storage, size, (t) => (this.#tree = t), this.size);
  }

  /** GET <prefix>/tile/<L>/<N>[.p/<W>]: the tile, or undefined when the tree does not have it yet. */
  tile(level: number, index: number, width: number | undefined): Uint8Array | undefined {
    return readTile(this.#tree, level, index, width);
  }

  /** GET <prefix>/tile/entries/<N>[.p/<W>] */
  entryBundle(index: number, width: number | undefined): Uint8Array | undefined {
    const want = width ?? TILE_WIDTH;
    if (tileAvailableWidth(0, index, this.size) < want) return undefined;
    const entries: Uint8Array[] = [];
    for (let i = 0; i < want; i++) entries.push(this.#storage.entry(index * TILE_WIDTH + i).body);
    return encodeEntryBundle(entries);
  }

  /** RFC 6962 consistency proof between two sizes of this tree (for a witness; not an HTTP API of Rekor v2). */
  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    return this.#tree.consistencyProof(size1, size2);
  }

  rootHash(treeSize: number = this.size): Uint8Array {
    return this.#tree.root(treeSize);
  }
}

// ---------------------------------------------------------------------------------------
// CreateEntryRequest -> canonicalized body (rekor-tiles pkg/types/hashedrekord and, before
// its removal, pkg/types/dsse)

type Obj = Record<string, unknown>;

/**
 * protojson reads a field by its JSON name (camelCase) or its proto name (snake_case); both
 * at once is an error there, and so is any field the message does not have.
 */
function message(
  v: unknown,
  where: string,
  fields: Record<string, string>,
  required: readonly string[] = Object.keys(fields),
): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    rejected(`${where} must be an object`);
  const o = v as Obj;
  const out: Obj = {};
  const known = new Map<string, string>();
  for (const [json, proto] of Object.entries(fields)) {
    known.set(json, json);
    known.set(proto, json);
  }
  for (const [k, val] of Object.entries(o)) {
    const name = known.get(k);
    if (!name) rejected(`unknown field ${where}.${k}`);
    if (out[name] !== undefined) rejected(`${where}.${name} is given twice`);
    if (val !== null) out[name] = val;
  }
  for (const r of required) if (out[r] === undefined) rejected(`${where}.${r} is missing`);
  return out;
}

function bytes(v: unknown, where: string): Uint8Array {
  if (typeof v !== 'string' || v.length === 0) rejected(`${where} must be non-empty base64`);
  // protojson accepts standard and URL-safe base64, padded or not; a 400 names the field.
  const b = decodeProtoJsonBytes(v, `Rekor v2 request: ${where}`, 'tlog', 'REKOR_REJECTED');
  if (b.length === 0) rejected(`${where} is empty`);
  return b;
}

interface ParsedVerifier {
  key: KeyObject;
  input: VerifierInput;
  keyDetails: string;
  hash: DigestName | null;
  raw: Uint8Array;
}

function verifier(v: unknown, where: string): ParsedVerifier {
  const o = message(
    v,
    where,
    { keyDetails: 'key_details', publicKey: 'public_key', x509Certificate: 'x509_certificate' },
    ['keyDetails'],
  );
  const keyDetails = o['keyDetails'];
  if (typeof keyDetails !== 'string')
    rejected(`${where}.keyDetails must be a PublicKeyDetails name`);
  const alg = KEY_DETAILS[keyDetails];
  if (!alg)
    rejected(
      `${where}.keyDetails ${quoted(keyDetails, 60)} is not supported (supported: ${Object.keys(KEY_DETAILS).join(', ')})`,
    );
  if ((o['publicKey'] === undefined) === (o['x509Certificate'] === undefined))
    rejected(`${where} needs exactly one of publicKey and x509Certificate`);
  let key: KeyObject;
  let input: VerifierInput;
  let raw: Uint8Array;
  if (o['x509Certificate'] !== undefined) {
    raw = bytes(
      message(o['x509Certificate'], `${where}.x509Certificate`, { rawBytes: 'raw_bytes' })[
        'rawBytes'
      ],
      `${where}.x509Certificate.rawBytes`,
    );
    let spki: Uint8Array;
    try {
      spki = parseCertificate(raw).spkiDer;
    } catch (e) {
      if (isStellaError(e))
        rejected(`${where}.x509Certificate is not a valid X.509 certificate: ${e.message}`);
      throw e;
    }
    key = parsePublicKey(spki, `Rekor v2: ${where}`, 'REKOR_REJECTED', 'tlog');
    input = { certificateDer: raw };
  } else {
    raw = bytes(
      message(o['publicKey'], `${where}.publicKey`, { rawBytes: 'raw_bytes' })['rawBytes'],
      `${where}.publicKey.rawBytes`,
    );
    key = parsePublicKey(raw, `Rekor v2: ${where}.publicKey`, 'REKOR_REJECTED', 'tlog');
    input = { publicKeySpki: raw };
  }
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  const matches = alg.curve === null ? key.asymmetricKeyType === 'ed25519' : curve === alg.curve;
  if (!matches)
    rejected(
      `${where}: the key (${key.asymmetricKeyType}${curve ? ` ${curve}` : ''}) is not the one keyDetails ${keyDetails} names`,
    );
  return { key, input, keyDetails, hash: alg.hash, raw };
}

/** Validate a CreateEntryRequest and return the canonical body rekor-tiles would store. */
export function canonicalizeRequest(request: unknown): Uint8Array {
  const r = message(
    request,
    'request',
    { hashedRekordRequestV002: 'hashed_rekord_request_v002', dsseRequestV002: 'dsse_request_v002' },
    [],
  );
  const hr = r['hashedRekordRequestV002'];
  const ds = r['dsseRequestV002'];
  if ((hr === undefined) === (ds === undefined))
    rejected('the request needs exactly one of hashedRekordRequestV002 and dsseRequestV002');
  return hr !== undefined ? hashedRekord(hr) : dsse(ds);
}

function hashedRekord(v: unknown): Uint8Array {
  const o = message(v, 'hashedRekordRequestV002', { digest: 'digest', signature: 'signature' });
  const digest = bytes(o['digest'], 'hashedRekordRequestV002.digest');
  const s = message(o['signature'], 'hashedRekordRequestV002.signature', {
    content: 'content',
    verifier: 'verifier',
  });
  const signature = bytes(s['content'], 'hashedRekordRequestV002.signature.content');
  const ver = verifier(s['verifier'], 'hashedRekordRequestV002.signature.verifier');
  // hashedrekord holds a digest: only algorithms that sign a prehash fit (not pure Ed25519).
  if (ver.hash === null)
    rejected(
      `hashedrekord cannot record a ${ver.keyDetails} signature: it signs the message, not a digest`,
    );
  if (digest.length !== digestSize(ver.hash))
    rejected(
      `the digest is ${digest.length} bytes; ${ver.keyDetails} needs a ${ver.hash} digest of ${digestSize(ver.hash)} bytes`,
    );
  if (!verifyPrehashed(ver.key, digest, signature))
    rejected('the signature does not verify against the digest and the verifier');
  return buildHashedRekordBody({
    version: '0.0.2',
    digest: { algorithm: hashAlgorithmOf(ver.hash), digest },
    signature,
    verifier: ver.input,
    keyDetails: ver.keyDetails,
  });
}

function dsse(v: unknown): Uint8Array {
  const o = message(v, 'dsseRequestV002', { envelope: 'envelope', verifiers: 'verifiers' });
  const env = message(o['envelope'], 'dsseRequestV002.envelope', {
    payload: 'payload',
    payloadType: 'payload_type',
    signatures: 'signatures',
  });
  const payload = bytes(env['payload'], 'dsseRequestV002.envelope.payload');
  const payloadType = env['payloadType'];
  if (typeof payloadType !== 'string' || payloadType === '')
    rejected('dsseRequestV002.envelope.payloadType must be a non-empty string');
  const sigList = env['signatures'];
  if (!Array.isArray(sigList) || sigList.length === 0 || sigList.length > MAX_DSSE_SIGNATURES)
    rejected(
      `dsseRequestV002.envelope.signatures must list 1 to ${MAX_DSSE_SIGNATURES} signatures`,
    );
  const sigs = sigList.map((x, i) => {
    const s = message(
      x,
      `dsseRequestV002.envelope.signatures[${i}]`,
      { sig: 'sig', keyid: 'keyid' },
      ['sig'],
    );
    if (s['keyid'] !== undefined && typeof s['keyid'] !== 'string')
      rejected(`dsseRequestV002.envelope.signatures[${i}].keyid must be a string`);
    return bytes(s['sig'], `dsseRequestV002.envelope.signatures[${i}].sig`);
  });
  const vList = o['verifiers'];
  if (!Array.isArray(vList) || vList.length === 0 || vList.length > MAX_DSSE_SIGNATURES)
    rejected(`dsseRequestV002.verifiers must list 1 to ${MAX_DSSE_SIGNATURES} verifiers`);
  const verifiers = vList.map((x, i) => verifier(x, `dsseRequestV002.verifiers[${i}]`));
  const seen = new Set<string>();
  for (const ver of verifiers) {
    const k = toBase64(ver.raw);
    if (seen.has(k)) rejected('dsseRequestV002.verifiers lists the same key twice');
    seen.add(k);
  }
  const pae = preAuthEncoding(payloadType, payload);
  // Every signature needs a verifier that verifies it (rekor-tiles: "all signatures must have a key that verifies it").
  const bySignature = new Map<string, ParsedVerifier>();
  sigs.forEach((sig, i) => {
    const ver = verifiers.find((x) => verifySignature(x.key, pae, sig, x.hash));
    if (!ver) rejected(`envelope signature ${i} does not verify with any of the verifiers`);
    bySignature.set(toLatin1(sig), ver);
  });
  // Signatures sorted by their raw bytes, duplicates once (rekor-tiles canonicalizes the order).
  const sorted = [...bySignature.keys()].sort();
  return canonicalizeBytes({
    apiVersion: '0.0.2',
    kind: 'dsse',
    spec: {
      dsseV002: {
        // SHA-256 whatever the signature algorithm (rekor-tiles; clients must not verify with it).
        payloadHash: { algorithm: 'SHA2_256', digest: toBase64(sha256(payload)) },
        signatures: sorted.map((k) => {
          const ver = bySignature.get(k)!;
          const verifierJson =
            'certificateDer' in ver.input
              ? { keyDetails: ver.keyDetails, x509Certificate: { rawBytes: toBase64(ver.raw) } }
              : { keyDetails: ver.keyDetails, publicKey: { rawBytes: toBase64(ver.raw) } };
          return { content: toBase64(fromLatin1(k)), verifier: verifierJson };
        }),
      },
    },
  });
}
