/**
 * C2SP signed-note and tlog-checkpoint: parse, verify against the trust root, and sign (for
 * the local log).
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[<extension>\n...]\n— <name> <base64(hint4 || sig)>\n...
 *
 * Which signature lines count depends on which Rekor wrote the checkpoint (the caller knows
 * from the entry's kind/version):
 * - Rekor v2 (and a checkpoint verified on its own): a line counts only when its NAME equals,
 *   exactly, the signer name of a trusted log AND its 4-byte key hint equals that log's key
 *   hint for that name (checklist E34: sigstore-js tests `baseURL.match(name)`, later
 *   `includes(name)`, so a name like "." or "rekor" passes there). For Ed25519 note keys the
 *   key ID is computed over the name, so the name is part of what identifies the key.
 * - Rekor v1: a line counts when its key hint is the log's (the first 4 bytes of SHA-256 of the
 *   log key's SPKI, rekor pkg/util/signed_note.go getPublicKeyHash), whatever its name. Rekor
 *   v1 signs under `rekor_server.hostname`, which defaults to the host name of the machine or
 *   pod, so a private deployment's checkpoints carry a name unrelated to its public URL; the
 *   hint is derived from the key alone and the name is bound to nothing (it is not even in the
 *   signed text). sigstore-go (via rekor's SignedNote.Verify) and sigstore-python ignore it.
 *   The signature by the trusted key is what counts; the name is reported.
 * Lines from unknown signers (witness cosignatures) are ignored; a line that claims a trusted
 * log's key (and, where names count, its name) but does not verify makes the whole note
 * invalid (E38). At least one line must verify.
 *
 * Signer name and key hint, as Sigstore's logs use them:
 * - name: the host of the log's baseUrl ("rekor.sigstore.dev", "log2025-1.rekor.sigstore.dev";
 *   see logSignerNames for ports). sigstore-go passes `url.Hostname()` as the note verifier
 *   name for Rekor v2.
 * - key hint = first 4 bytes of the key ID, which (rekor-tiles pkg/note) is
 *     Ed25519: SHA-256(name || "\n" || 0x01 || 32-byte public key)   (C2SP signed-note)
 *     ECDSA:   SHA-256(DER SubjectPublicKeyInfo)                     (= Rekor v1 log ID)
 *     RSA:     SHA-256(name || "\n" || 0xff || "PKIX-RSA-PKCS#1v1.5" || DER SPKI)
 *   For Rekor v2 the trust root's logId.keyId is this full 32-byte key ID (checked against
 *   log2025-alpha1.rekor.sigstage.dev in the conformance trust root).
 * Origin: Rekor v2 origins equal the signer name (transparency-dev ParseCheckpoint requires
 * that); Rekor v1 origins are "<hostname> - <tree id>" (rekor pkg/util/checkpoint.go). For
 * Rekor v2 the origin must be exactly the log's name; for Rekor v1 it must have the v1 form,
 * with any valid name (sigstore-go does not check the v1 origin at all); a checkpoint verified
 * on its own may have either form, with the log's name.
 */
import type { KeyObject } from 'node:crypto';
import { defaultDigestForKey, ed25519PublicKeyBytes, sha256, verifySignature } from '../crypto.js';
import { fail, StellaError } from '../errors.js';
import {
  bytesEqual,
  concatBytes,
  decodeBase64,
  isWellFormedText,
  toBase64,
  toHex,
  utf8,
} from '../util/encoding.js';
import type { TransparencyLogInstance } from '../model/trust-material.js';
import { HASH_SIZE } from './merkle.js';
import { quoted } from '../util/text.js';

export const MAX_NOTE_SIGNATURES = 100;
/** Far above any real checkpoint; bounds the work on hostile input. */
export const MAX_NOTE_BYTES = 64 * 1024;

const EM_DASH_PREFIX = '\u2014 ';
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const MAX_TREE_SIZE = 2n ** 63n - 1n;

export interface NoteSignature {
  name: string;
  keyHint: Uint8Array;
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text: everything up to and including the newline before the blank line. */
  text: string;
  signatures: NoteSignature[];
}

export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
  /** Optional extension lines after the root hash, without their newlines. */
  extensions: string[];
}

export interface VerifiedCheckpoint extends Checkpoint {
  /** The trusted log whose signature verified. */
  log: TransparencyLogInstance;
  /** The name on the signature line that verified. */
  signerName: string;
  /** The tree ID of a Rekor v1 origin "<name> - <tree id>" (a shard); undefined otherwise. */
  treeId: string | undefined;
}

export interface NoteSigner {
  name: string;
  keyHint: Uint8Array;
  /** Signature over the note text bytes (Ed25519: pure; ECDSA: DER over SHA-256). */
  sign(message: Uint8Array): Uint8Array;
}

function invalid(
  message: string,
  details?: Record<string, unknown>,
  options?: { cause?: unknown },
): never {
  return fail('CHECKPOINT_INVALID', 'tlog', message, details, options);
}

/**
 * A base64 field of a note, by the one strict decoder; refused with this module's message. It
 * must also be the canonical encoding of what it decodes to: base64 leaves 2 or 4 bits unused
 * in the last character before padding, and decoders (this one, Go's) ignore them, so a root
 * hash line could be written several ways for one hash. A note is signed text: the one way
 * makes what Stella reads from a verified checkpoint exactly what its text says (found by the
 * fuzz test: a log-signed checkpoint whose root hash line ended in "5=" for "4=").
 */
function base64Field(b64: string, refusal: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(b64, 'checkpoint', 'tlog', 'CHECKPOINT_INVALID');
  } catch (e) {
    throw new StellaError('CHECKPOINT_INVALID', 'tlog', refusal, undefined, { cause: e });
  }
  if (toBase64(bytes) !== b64)
    invalid(`${refusal} (not the canonical encoding: unused bits in its last character are set)`);
  return bytes;
}

/** C2SP signed-note key names: non-empty, no whitespace, no "+". */
export function isValidNoteName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && isWellFormedText(name);
}

/** Parse a signed note. Structure only; signatures are not checked here. */
export function parseSignedNote(note: string): SignedNote {
  if (typeof note !== 'string' || note.length === 0) invalid('checkpoint: empty signed note');
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES)
    invalid(`checkpoint: signed note larger than ${MAX_NOTE_BYTES} bytes`);
  if (!isWellFormedText(note)) invalid('checkpoint: signed note is not valid Unicode');
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note))
    invalid('checkpoint: signed note contains a control character');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) invalid('checkpoint: no blank line between the note text and its signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0) invalid('checkpoint: the note has no signature lines');
  if (!block.endsWith('\n')) invalid('checkpoint: signature block does not end in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES)
    invalid(`checkpoint: more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures = lines.map((line, i) => {
    const where = `checkpoint: signature line ${i + 1}`;
    if (!line.startsWith(EM_DASH_PREFIX)) invalid(`${where} does not start with "\u2014 "`);
    const fields = line.slice(EM_DASH_PREFIX.length).split(' ');
    if (fields.length !== 2) invalid(`${where} is not "\u2014 <name> <signature>"`);
    const [name, b64] = fields as [string, string];
    if (!isValidNoteName(name)) invalid(`${where}: invalid signer name ${quoted(name)}`);
    const raw = base64Field(b64, `${where}: signature is not valid base64`);
    if (raw.length < 5) invalid(`${where}: signature too short`);
    return { name, keyHint: raw.slice(0, 4), signature: raw.slice(4) };
  });
  return { text, signatures };
}

/** Parse a tlog-checkpoint note text (the signed part). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) invalid('checkpoint: note text does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3)
    invalid(
      `checkpoint: expected origin, tree size and root hash lines, got ${lines.length} line(s)`,
    );
  const [origin, sizeLine, hashLine, ...extensions] = lines as [
    string,
    string,
    string,
    ...string[],
  ];
  if (origin.length === 0) invalid('checkpoint: empty origin line');
  if (!DECIMAL.test(sizeLine))
    invalid(`checkpoint: tree size line ${quoted(sizeLine, 40)} is not a decimal number`);
  const big = BigInt(sizeLine);
  if (big > MAX_TREE_SIZE) invalid(`checkpoint: tree size ${sizeLine} exceeds 2^63-1`);
  if (big > BigInt(Number.MAX_SAFE_INTEGER))
    invalid(`checkpoint: tree size ${sizeLine} is beyond 2^53-1 (not supported)`);
  const rootHash = base64Field(hashLine, 'checkpoint: root hash line is not valid base64');
  if (rootHash.length !== HASH_SIZE)
    invalid(`checkpoint: root hash is ${rootHash.length} bytes, want ${HASH_SIZE}`);
  extensions.forEach((e, i) => {
    if (e.length === 0) invalid(`checkpoint: extension line ${i + 1} is empty`);
  });
  return { origin, treeSize: Number(big), rootHash, extensions };
}

export function formatCheckpoint(cp: {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
  extensions?: readonly string[];
}): string {
  const bad = (why: string): never => fail('INPUT_INVALID', 'tlog', `checkpoint: ${why}`);
  if (cp.origin.length === 0 || cp.origin.includes('\n')) bad('origin must be one non-empty line');
  if (!Number.isSafeInteger(cp.treeSize) || cp.treeSize < 0)
    bad(`tree size ${cp.treeSize} is not a non-negative integer`);
  if (cp.rootHash.length !== HASH_SIZE)
    bad(`root hash is ${cp.rootHash.length} bytes, want ${HASH_SIZE}`);
  const ext = cp.extensions ?? [];
  for (const e of ext)
    if (e.length === 0 || e.includes('\n')) bad('extension lines must be non-empty single lines');
  return [cp.origin, String(cp.treeSize), toBase64(cp.rootHash), ...ext].join('\n') + '\n';
}

/** Append signature lines to a note text. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (!text.endsWith('\n')) fail('INPUT_INVALID', 'tlog', 'note text must end in a newline');
  if (signers.length === 0)
    fail('INPUT_INVALID', 'tlog', 'a signed note needs at least one signer');
  const msg = utf8.encode(text);
  const lines = signers.map((s) => {
    if (!isValidNoteName(s.name))
      fail('INPUT_INVALID', 'tlog', `invalid note signer name ${quoted(s.name)}`);
    if (s.keyHint.length !== 4) fail('INPUT_INVALID', 'tlog', 'note key hint must be 4 bytes');
    return `${EM_DASH_PREFIX}${s.name} ${toBase64(concatBytes(s.keyHint, s.sign(msg)))}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

export function signCheckpoint(
  cp: { origin: string; treeSize: number; rootHash: Uint8Array; extensions?: readonly string[] },
  signer: NoteSigner | readonly NoteSigner[],
): string {
  return signNote(formatCheckpoint(cp), Array.isArray(signer) ? signer : [signer as NoteSigner]);
}

function rawEd25519(key: KeyObject): Uint8Array {
  return ed25519PublicKeyBytes(key) ?? fail('INPUT_INVALID', 'tlog', 'not an Ed25519 public key');
}

/**
 * Key IDs of trusted log keys, per key object and signer name: exporting a KeyObject costs
 * more than the rest of checkpoint parsing, and trust keys live as long as the trust material.
 */
const keyIdMemo = new WeakMap<KeyObject, Map<string, Uint8Array>>();

/** The full 32-byte note key ID for `key` under signer `name` (see the module comment). */
export function noteKeyId(name: string, key: KeyObject): Uint8Array {
  let byName = keyIdMemo.get(key);
  if (!byName) keyIdMemo.set(key, (byName = new Map<string, Uint8Array>()));
  let id = byName.get(name);
  if (!id) byName.set(name, (id = computeNoteKeyId(name, key)));
  return id;
}

function computeNoteKeyId(name: string, key: KeyObject): Uint8Array {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return sha256(concatBytes(utf8.encode(name), new Uint8Array([0x0a, 0x01]), rawEd25519(key)));
    case 'ec':
      return sha256(new Uint8Array(key.export({ format: 'der', type: 'spki' })));
    case 'rsa':
      return sha256(
        concatBytes(
          utf8.encode(name),
          new Uint8Array([0x0a, 0xff]),
          utf8.encode('PKIX-RSA-PKCS#1v1.5'),
          new Uint8Array(key.export({ format: 'der', type: 'spki' })),
        ),
      );
    default:
      return fail(
        'INPUT_INVALID',
        'tlog',
        `no signed-note key ID for ${String(key.asymmetricKeyType)} keys`,
      );
  }
}

export function noteKeyHint(name: string, key: KeyObject): Uint8Array {
  return noteKeyId(name, key).slice(0, 4);
}

/**
 * The checkpoint signer names of a log: the host of its base URL, with the port when the URL
 * has a non-default one ("localhost:8000", as local Rekor v1 instances sign) and without it
 * (sigstore-go uses url.Hostname() for Rekor v2). Each is compared exactly. The first is the
 * name the local log signs with.
 */
export function logSignerNames(log: Pick<TransparencyLogInstance, 'baseUrl'>): string[] {
  let url: URL;
  try {
    url = new URL(log.baseUrl);
  } catch (e) {
    return invalid(`transparency log base URL ${quoted(log.baseUrl)} is not a URL`, undefined, {
      cause: e,
    });
  }
  const names = [...new Set([url.host, url.hostname])].filter(isValidNoteName);
  if (names.length === 0)
    invalid(`transparency log base URL ${quoted(log.baseUrl)} has no usable host`);
  return names;
}

/** The Rekor v1 origin form "<name> - <tree id>", split; undefined for any other form. */
function rekorV1Origin(origin: string): { name: string; treeId: string } | undefined {
  const i = origin.lastIndexOf(' - ');
  if (i < 0) return undefined;
  const name = origin.slice(0, i);
  const treeId = origin.slice(i + 3);
  return isValidNoteName(name) && DECIMAL.test(treeId) ? { name, treeId } : undefined;
}

/** SHA-256 of a log key's SPKI: Rekor v1's log ID and checkpoint key hash, for any key type. */
const spkiIdMemo = new WeakMap<KeyObject, Uint8Array>();
function rekorV1KeyId(key: KeyObject): Uint8Array {
  let id = spkiIdMemo.get(key);
  if (!id)
    spkiIdMemo.set(key, (id = sha256(new Uint8Array(key.export({ format: 'der', type: 'spki' })))));
  return id;
}

/**
 * A number per KeyObject, for memo keys. The same object is the same key; two objects of one
 * key only miss the memo. Not the key's SPKI hash: the first export of a key costs OpenSSL's
 * encoder set-up (~0.2 ms of a one-bundle verification), for an answer no check needs.
 */
const keyObjectIds = new WeakMap<KeyObject, number>();
let nextKeyObjectId = 0;
function keyObjectId(key: KeyObject): number {
  let id = keyObjectIds.get(key);
  if (id === undefined) keyObjectIds.set(key, (id = nextKeyObjectId++));
  return id;
}

export interface VerifyCheckpointOptions {
  /**
   * Which Rekor wrote the checkpoint (see the module comment): 'v1' matches lines by key hint
   * alone and needs a "<name> - <tree id>" origin; 'v2' needs the exact name and origin.
   * Absent: exact name, origin the name or "<name> - <tree id>".
   */
  rekor?: 'v1' | 'v2';
}

/**
 * Checkpoints already verified, keyed by the note's exact text, the Rekor form asked for and
 * each candidate log's ID, key object and base URL (its signer names): a shipment whose bundles
 * share one checkpoint (`export-bundle --refresh-proofs`) has its signature verified once per
 * verifier (per worker thread) instead of once per bundle. Only successes are kept, and the
 * answer is a pure function of that key. Bounded: cleared when full.
 */
const verifiedCheckpoints = new Map<
  string,
  { logIndex: number; signerName: string; treeId: string | undefined; cp: Checkpoint }
>();
const VERIFIED_CHECKPOINTS_MAX = 1024;

/**
 * Verify a checkpoint against trusted logs (usually just the log the entry names). Returns
 * the parsed checkpoint and the log whose signature verified. Memoised (verifiedCheckpoints).
 */
export function verifyCheckpoint(
  noteText: string,
  tlogs: readonly TransparencyLogInstance[],
  opts: VerifyCheckpointOptions = {},
): VerifiedCheckpoint {
  const key = [
    opts.rekor ?? '',
    ...tlogs.map((l) => `${toHex(l.logId)} ${keyObjectId(l.publicKey.key)} ${l.baseUrl}`),
    noteText,
  ].join('\n');
  const hit = verifiedCheckpoints.get(key);
  if (hit)
    return {
      ...hit.cp,
      rootHash: hit.cp.rootHash.slice(),
      log: tlogs[hit.logIndex]!,
      signerName: hit.signerName,
      treeId: hit.treeId,
    };
  const v = verifyCheckpointOnce(noteText, tlogs, opts);
  if (verifiedCheckpoints.size >= VERIFIED_CHECKPOINTS_MAX) verifiedCheckpoints.clear();
  const { log, signerName, treeId, ...cp } = v;
  verifiedCheckpoints.set(key, {
    logIndex: tlogs.indexOf(log),
    signerName,
    treeId,
    cp: { ...cp, rootHash: cp.rootHash.slice() },
  });
  return v;
}

function verifyCheckpointOnce(
  noteText: string,
  tlogs: readonly TransparencyLogInstance[],
  opts: VerifyCheckpointOptions,
): VerifiedCheckpoint {
  const note = parseSignedNote(noteText);
  const cp = parseCheckpoint(note.text);
  const byName = opts.rekor !== 'v1';
  const signers = byName
    ? tlogs.flatMap((log) =>
        logSignerNames(log).map((name) => ({
          log,
          name,
          hint: noteKeyHint(name, log.publicKey.key),
        })),
      )
    : tlogs.map((log) => ({ log, name: '', hint: rekorV1KeyId(log.publicKey.key).slice(0, 4) }));
  const msg = utf8.encode(note.text);
  let verified: { log: TransparencyLogInstance; name: string } | undefined;
  for (const sig of note.signatures) {
    // Exact string and byte equality: never a pattern, prefix or substring match.
    const s = signers.find(
      (c) => (!byName || c.name === sig.name) && bytesEqual(c.hint, sig.keyHint),
    );
    if (!s) continue;
    const key = s.log.publicKey.key;
    if (!verifySignature(key, msg, sig.signature, defaultDigestForKey(key))) {
      invalid(
        `checkpoint: signature by trusted log ${sig.name} (key hint ${toHex(sig.keyHint)}) does not verify with the key of ${s.log.baseUrl}`,
      );
    }
    verified ??= { log: s.log, name: sig.name };
  }
  if (!verified) {
    const expected = signers
      .map((s) =>
        byName ? `${s.name}/${toHex(s.hint)}` : `key hint ${toHex(s.hint)} (${s.log.baseUrl})`,
      )
      .join(', ');
    invalid(`checkpoint: no signature from a trusted log (expected signer ${expected || 'none'})`, {
      signers: note.signatures.map((s) => `${s.name}/${toHex(s.keyHint)}`),
    });
  }
  const v1 = rekorV1Origin(cp.origin);
  const originOk =
    opts.rekor === 'v1'
      ? v1 !== undefined
      : opts.rekor === 'v2'
        ? cp.origin === verified.name
        : cp.origin === verified.name || v1?.name === verified.name;
  if (!originOk) {
    invalid(
      `checkpoint: origin ${quoted(cp.origin)} ${opts.rekor === 'v1' ? 'is not a Rekor v1 origin "<name> - <tree id>"' : `does not belong to log ${verified.name}`}`,
    );
  }
  return {
    ...cp,
    log: verified.log,
    signerName: verified.name,
    treeId: cp.origin === verified.name ? undefined : v1?.treeId,
  };
}
