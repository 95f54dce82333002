/**
 * C2SP tlog-cosignature v1 (https://c2sp.org/tlog-cosignature), Ed25519: a witness's
 * statement that, at a time, the largest consistent tree it has seen for a log has this root.
 * One implementation for the sandbox's witnesses (signing) and the verifier.
 *
 *   signature line   — <witness name> base64(key ID[:4] || u64 big-endian timestamp || Ed25519 signature)
 *   key ID           SHA-256(<name> || "\n" || 0x04 || 32-byte public key)
 *   signed message   "cosignature/v1\n" || "time <timestamp>\n" || the checkpoint's note text
 *
 * A witness key can be written as a C2SP vkey, `<name>+<8 hex key ID>+base64(0x04 || key)`,
 * or as a PEM Ed25519 public key (with the name given separately): parseWitnessKey reads both.
 *
 * Counting: a line counts only when its name equals a configured witness's name exactly and its
 * key hint equals that witness's; lines from anyone else are ignored (checklist E38: unknown
 * cosignatures are tolerated). A line that claims a configured witness but does not verify
 * makes the whole checkpoint invalid. The Ed25519 message does not commit to the name, so
 * witnesses are counted by public key: one key is one witness, however many lines or names
 * carry it.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ed25519PublicKeyBytes, parsePublicKey, sha256, verifySignature } from '../crypto.js';
import { fail } from '../errors.js';
import {
  bytesEqual,
  concatBytes,
  decodeBase64,
  toBase64,
  toBase64Url,
  toHex,
  utf8,
} from '../util/encoding.js';
import { pemToDer } from '../util/pem.js';
import { isValidNoteName, type SignedNote } from './note.js';
import { quoted } from '../util/text.js';

export const COSIGNATURE_V1_ALG = 0x04;
const MAX_TIMESTAMP = 2n ** 63n - 1n;

export interface WitnessKey {
  /** The cosigner name on its signature lines. */
  name: string;
  /** The 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export interface VerifiedCosignature {
  name: string;
  /** Hex SHA-256 of the raw public key: what witnesses are counted by. */
  keyFingerprint: string;
  /** Seconds since the epoch, as the witness signed it. */
  timestamp: number;
}

function bad(message: string): never {
  return fail('WITNESS_INVALID', 'witness', message);
}

export function cosignatureKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8.encode(name), Uint8Array.of(0x0a, COSIGNATURE_V1_ALG), publicKey));
}

export function witnessFingerprint(publicKey: Uint8Array): string {
  return toHex(sha256(publicKey));
}

/** The message a v1 cosignature signs: header, time line, then the checkpoint's note text. */
export function cosignatureMessage(noteText: string, timestamp: number | bigint): Uint8Array {
  return utf8.encode(`cosignature/v1\ntime ${BigInt(timestamp).toString()}\n${noteText}`);
}

function ed25519Key(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(raw) },
    format: 'jwk',
  });
}

/** `witness` vkey: `<name>+<hex key ID>+base64(0x04 || key)`. */
export function formatWitnessVkey(w: WitnessKey): string {
  return `${w.name}+${toHex(cosignatureKeyId(w.name, w.publicKey).slice(0, 4))}+${toBase64(concatBytes(Uint8Array.of(COSIGNATURE_V1_ALG), w.publicKey))}`;
}

/**
 * A witness key from a vkey (`name+hash+key`, whose name must equal `name` when both are
 * given) or from a PEM Ed25519 public key (then `name` is required).
 */
export function parseWitnessKey(text: string, name?: string): WitnessKey {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) {
    if (name === undefined) bad('a PEM witness key needs a --name');
    if (!isValidNoteName(name))
      bad(
        `witness name ${quoted(name)} is not a valid signed-note key name (non-empty, no spaces or "+")`,
      );
    const { der } = pemToDer(t, ['PUBLIC KEY'], {
      what: 'witness key',
      code: 'WITNESS_INVALID',
      check: 'witness',
    });
    const key = parsePublicKey(der, 'witness key', 'WITNESS_INVALID', 'witness');
    const publicKey = ed25519PublicKeyBytes(key);
    if (publicKey === undefined)
      return bad(
        'the PEM witness key is not an Ed25519 public key (tlog-cosignature v1 witnesses sign with Ed25519)',
      );
    return { name, publicKey };
  }
  // The base64 key may itself contain "+": split at the first two only (as golang.org/x/mod/sumdb/note does).
  const i = t.indexOf('+');
  const j = i < 0 ? -1 : t.indexOf('+', i + 1);
  const parts = i < 0 || j < 0 ? [] : [t.slice(0, i), t.slice(i + 1, j), t.slice(j + 1)];
  if (parts.length !== 3)
    bad('a witness key is a vkey "<name>+<key ID hex>+<base64 key>" or a PEM Ed25519 public key');
  const [vname, hint, b64] = parts as [string, string, string];
  if (!isValidNoteName(vname))
    bad(`vkey name ${quoted(vname)} is not a valid signed-note key name`);
  if (name !== undefined && name !== vname)
    bad(`--name ${quoted(name)} differs from the vkey's name ${quoted(vname)}`);
  if (!/^[0-9a-f]{8}$/.test(hint)) bad('vkey key ID must be 8 lower-case hex digits');
  const raw = decodeBase64(b64, 'vkey key', 'witness', 'WITNESS_INVALID');
  if (raw.length !== 33 || raw[0] !== COSIGNATURE_V1_ALG)
    bad(
      `vkey key must be 0x04 followed by a 32-byte Ed25519 key (a tlog-cosignature v1 witness), got ${raw.length} bytes of type 0x${(raw[0] ?? 0).toString(16).padStart(2, '0')}`,
    );
  const publicKey = raw.slice(1);
  if (toHex(cosignatureKeyId(vname, publicKey).slice(0, 4)) !== hint)
    bad(`vkey key ID ${hint} does not match its name and key`);
  return { name: vname, publicKey };
}

/** A cosignature line (without its newline) by a witness signing with `sign` (pure Ed25519). */
export function cosignatureLine(
  noteText: string,
  witness: WitnessKey,
  timestamp: number,
  sign: (message: Uint8Array) => Uint8Array,
): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    fail(
      'INPUT_INVALID',
      'witness',
      `cosignature timestamp ${timestamp} is not a non-negative integer`,
    );
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, BigInt(timestamp));
  const sig = sign(cosignatureMessage(noteText, timestamp));
  return `\u2014 ${witness.name} ${toBase64(concatBytes(cosignatureKeyId(witness.name, witness.publicKey).slice(0, 4), ts, sig))}`;
}

/** Append cosignature lines to a signed note (its text and existing signatures kept as they are). */
export function addCosignatures(note: string, lines: readonly string[]): string {
  if (!note.endsWith('\n')) fail('INPUT_INVALID', 'tlog', 'a signed note ends in a newline');
  return note + lines.map((l) => `${l}\n`).join('');
}

const keyMemo = new Map<string, KeyObject>();
function keyOf(raw: Uint8Array): KeyObject {
  const k = toHex(raw);
  let key = keyMemo.get(k);
  if (!key) {
    key = ed25519Key(raw);
    if (keyMemo.size > 1000) keyMemo.clear();
    keyMemo.set(k, key);
  }
  return key;
}

/**
 * The cosignatures on `note` by the given witnesses that verify, each witness key once (its
 * earliest valid line). Unknown lines are ignored; a line with a configured witness's name and
 * key hint that does not verify is refused (CHECKPOINT_INVALID).
 */
export function verifyCosignatures(
  note: SignedNote,
  witnesses: readonly WitnessKey[],
): VerifiedCosignature[] {
  const byKey = new Map<string, VerifiedCosignature>();
  const candidates = witnesses.map((w) => ({
    w,
    hint: cosignatureKeyId(w.name, w.publicKey).slice(0, 4),
  }));
  for (const sig of note.signatures) {
    const c = candidates.find((x) => x.w.name === sig.name && bytesEqual(x.hint, sig.keyHint));
    if (!c) continue;
    if (sig.signature.length !== 8 + 64) {
      fail(
        'CHECKPOINT_INVALID',
        'witness',
        `cosignature by witness ${sig.name} is ${sig.signature.length} bytes, not an 8-byte timestamp and a 64-byte Ed25519 signature`,
      );
    }
    const ts = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8).getBigUint64(0);
    if (ts > MAX_TIMESTAMP)
      fail(
        'CHECKPOINT_INVALID',
        'witness',
        `cosignature by witness ${sig.name} has a timestamp beyond 2^63-1`,
      );
    if (
      !verifySignature(
        keyOf(c.w.publicKey),
        cosignatureMessage(note.text, ts),
        sig.signature.slice(8),
        null,
      )
    ) {
      fail(
        'CHECKPOINT_INVALID',
        'witness',
        `cosignature by witness ${sig.name} (key hint ${toHex(sig.keyHint)}) does not verify`,
      );
    }
    const fp = witnessFingerprint(c.w.publicKey);
    const timestamp = Number(
      ts > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : ts,
    );
    const prev = byKey.get(fp);
    if (!prev || timestamp < prev.timestamp)
      byKey.set(fp, { name: sig.name, keyFingerprint: fp, timestamp });
  }
  return [...byKey.values()];
}

/** Base64url of a raw key, for display. */
export function witnessKeyText(w: WitnessKey): string {
  return toBase64(w.publicKey);
}
