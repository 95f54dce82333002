/**
 * The rotation bundle: a TUF-style root rotation, kept small. Three files in a plain tar:
 *
 *   payload.json     canonical JSON, the bytes every signature covers:
 *                    {"expires":"<RFC 3339>","root":{"sha256":"<hex>","size":N},
 *                     "rotationKeys":{"keys":["<base64 SPKI>",...],"threshold":K}?,   (optional)
 *                     "type":"stella.dev/trust-rotation/v1","version":N}
 *   root.json        the new trusted_root.json, bound to the payload by its SHA-256 and size
 *   signatures.json  {"signatures":[{"keyId":"<hex SHA-256 of SPKI>","signature":"<base64>"}]}
 *
 * Key ids are hints only: a signature counts for the trusted key it verifies under, and each
 * key (compared by its normalised SPKI bytes) counts once.
 */
import { createPublicKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { fail, StellaError } from '../../errors.js';
import { defaultDigestForKey, keyIdOf, sha256, spkiOf } from '../../crypto.js';
import { toBase64, toHex, utf8 } from '../../util/encoding.js';
import { parseJsonStrict, readBase64, readObject, type JsonReadContext } from '../../util/json.js';
import { boundedMs, formatTime, parseRfc3339, windowEndMs } from '../../util/time.js';
import { parseTrustedRoot } from '../trusted-root.js';
import { candidatesFromTrustMaterial } from '../store/entries.js';
import { canonicalize } from '../../util/canonical-json.js';
import { readTarStrict, writeTar } from '../../archive/tar.js';
import { quoted } from '../../util/text.js';

export const ROTATION_PAYLOAD_TYPE = 'stella.dev/trust-rotation/v1';
export const ROTATION_FILES = ['payload.json', 'root.json', 'signatures.json'] as const;
export const ROTATION_LIMITS = {
  maxArchiveBytes: 5 * 1024 * 1024,
  maxSize: {
    'payload.json': 64 * 1024,
    'root.json': 4 * 1024 * 1024,
    'signatures.json': 64 * 1024,
  } as Record<string, number>,
  maxSignatures: 64,
  maxKeys: 64,
};

export interface RotationPayload {
  type: typeof ROTATION_PAYLOAD_TYPE;
  version: number;
  /** ms since epoch. */
  expires: number;
  root: { sha256: string; size: number };
  /** New rotation keys (normalised DER SPKI) and threshold, when the rotation replaces them. */
  rotationKeys: { keys: Uint8Array[]; threshold: number } | undefined;
}

export interface RotationSignature {
  keyId: string;
  signature: Uint8Array;
}

export interface RotationBundle {
  payload: RotationPayload;
  payloadBytes: Uint8Array;
  rootBytes: Uint8Array;
  signatures: RotationSignature[];
}

function rotationInvalid(message: string, details?: Record<string, unknown>): never {
  throw new StellaError('ROTATION_INVALID', 'rotation', message, details);
}

function keysInvalid(
  message: string,
  details?: Record<string, unknown>,
  options?: { cause?: unknown },
): never {
  throw new StellaError('ROTATION_KEYS_INVALID', 'rotation', message, details, options);
}

/**
 * A threshold is a whole number >= 1 and at most the number of distinct keys (G44). It may
 * come from a payload's JSON, so anything else (a string, null) is refused here too, shown
 * as JSON.
 */
export function checkThreshold(
  threshold: unknown,
  distinctKeys: number,
  what: string,
): asserts threshold is number {
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold <= 0) {
    const shown = typeof threshold === 'number' ? String(threshold) : quoted(threshold);
    keysInvalid(`${what}: threshold must be a whole number of at least 1, not ${shown}`);
  }
  if (threshold > distinctKeys)
    keysInvalid(`${what}: threshold ${threshold} is more than the ${distinctKeys} distinct key(s)`);
}

/** Normalise keys and refuse one key listed twice (under any encoding or id). */
export function distinctKeys(keys: KeyObject[], what: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Map<string, number>();
  keys.forEach((k, i) => {
    if (k.type !== 'public') keysInvalid(`${what}: key ${i + 1} is not a public key`);
    const spki = spkiOf(k);
    const hex = toHex(spki);
    const prev = seen.get(hex);
    if (prev !== undefined) keysInvalid(`${what}: key ${i + 1} is the same key as key ${prev + 1}`);
    seen.set(hex, i);
    out.push(spki);
  });
  return out;
}

function payloadJson(p: RotationPayload): string {
  return canonicalize(
    {
      type: p.type,
      version: p.version,
      expires: formatTime(p.expires),
      root: { sha256: p.root.sha256, size: p.root.size },
      rotationKeys: p.rotationKeys
        ? { keys: p.rotationKeys.keys.map(toBase64), threshold: p.rotationKeys.threshold }
        : undefined,
    },
    { integersOnly: true },
  );
}

export function signPayload(privateKey: KeyObject, payloadBytes: Uint8Array): Uint8Array {
  const pub = createPublicKey(privateKey);
  return new Uint8Array(nodeSign(defaultDigestForKey(pub), payloadBytes, privateKey));
}

export interface CreateRotationInput {
  rootBytes: Uint8Array;
  version: number;
  expires: number;
  signWith: KeyObject[];
  /** Clock for the expiry check (default: now). */
  now?: number;
  /** Replace the rotation keys: new public keys and threshold. */
  newRotationKeys?: { keys: KeyObject[]; threshold: number };
}

/** Build and sign a rotation bundle; returns the tar bytes. */
export async function createRotation(
  input: CreateRotationInput,
): Promise<{ tar: Uint8Array; payload: RotationPayload; payloadBytes: Uint8Array }> {
  if (!Number.isSafeInteger(input.version) || input.version <= 0)
    fail(
      'INPUT_INVALID',
      'rotation',
      `--version must be a whole number of at least 1, not ${input.version}`,
    );
  if (input.signWith.length === 0)
    fail('INPUT_INVALID', 'rotation', 'at least one --sign-with key is needed');
  boundedMs(input.expires, '--expires', { code: 'INPUT_INVALID', check: 'rotation' });
  // Every host would refuse it (freeze check): never sign one.
  const now = input.now ?? Date.now();
  if (input.expires <= now) {
    fail(
      'ROTATION_EXPIRED',
      'rotation',
      `--expires ${formatTime(input.expires)} is not in the future: every host would refuse this rotation as expired`,
      {
        expires: formatTime(input.expires),
      },
    );
  }
  // Refuse to ship a root the receiving side would refuse.
  const root = parseTrustedRoot(input.rootBytes);
  if (
    root.certificateAuthorities.length +
      root.tlogs.length +
      root.ctlogs.length +
      root.timestampAuthorities.length ===
    0
  ) {
    rotationInvalid('the new trusted root has no entries');
  }
  // The entries every host makes of it (trust/store/entries.ts): a CA chain no verification
  // could pass, for one, is refused there.
  try {
    candidatesFromTrustMaterial(root);
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    rotationInvalid(`every host would refuse the new trusted root: ${e.message}`, e.details);
  }
  let rotationKeys: RotationPayload['rotationKeys'];
  if (input.newRotationKeys) {
    const keys = distinctKeys(input.newRotationKeys.keys, 'new rotation keys');
    checkThreshold(input.newRotationKeys.threshold, keys.length, 'new rotation keys');
    rotationKeys = { keys, threshold: input.newRotationKeys.threshold };
  }
  const payload: RotationPayload = {
    type: ROTATION_PAYLOAD_TYPE,
    version: input.version,
    expires: input.expires,
    root: { sha256: toHex(sha256(input.rootBytes)), size: input.rootBytes.byteLength },
    rotationKeys,
  };
  const payloadBytes = utf8.encode(payloadJson(payload));
  const signatures = input.signWith.map((k) => {
    if (k.type !== 'private') fail('INPUT_INVALID', 'rotation', '--sign-with needs a private key');
    return {
      keyId: keyIdOf(k),
      signature: toBase64(signPayload(k, payloadBytes)),
    };
  });
  const sigBytes = utf8.encode(canonicalize({ signatures }, { integersOnly: true }));
  const tar = await writeTar([
    { name: 'payload.json', data: payloadBytes },
    { name: 'root.json', data: input.rootBytes },
    { name: 'signatures.json', data: sigBytes },
  ]);
  return { tar, payload, payloadBytes };
}

/** Rotation files, read by util/json.ts's readers in this format's words. */
const ROTATION: JsonReadContext = {
  code: 'ROTATION_INVALID',
  check: 'rotation',
  words: {
    notObject: (what) => `${what} must be a JSON object`,
    unknownKey: (what, k) => `${what}: unexpected field ${quoted(k)}`,
    missingKey: (what, k) => `${what}: missing ${quoted(k)}`,
  },
};

function exactKeys(
  o: unknown,
  keys: string[],
  optional: string[],
  what: string,
): Record<string, unknown> {
  return readObject(o, what, ROTATION, { required: keys, optional });
}

function parsePayload(bytes: Uint8Array): RotationPayload {
  const doc = parseJsonStrict(bytes, {
    maxDepth: 8,
    maxBytes: ROTATION_LIMITS.maxSize['payload.json']!,
    what: 'rotation payload',
    code: 'ROTATION_INVALID',
    limitCode: 'ROTATION_INVALID',
    check: 'rotation',
  });
  const o = exactKeys(
    doc,
    ['type', 'version', 'expires', 'root'],
    ['rotationKeys'],
    'rotation payload',
  );
  if (o.type !== ROTATION_PAYLOAD_TYPE)
    rotationInvalid(`rotation payload: type must be ${ROTATION_PAYLOAD_TYPE}`);
  if (typeof o.version !== 'number' || !Number.isSafeInteger(o.version) || o.version <= 0)
    rotationInvalid('rotation payload: version must be a whole number of at least 1');
  // The one strict parser (no 2026-02-30 rolled over to March); the canonical-bytes check
  // below then holds it to the one form createRotation writes.
  const expires = windowEndMs(
    parseRfc3339(o.expires, 'rotation payload: expires', {
      code: 'ROTATION_INVALID',
      check: 'rotation',
    }),
  );
  const root = exactKeys(o.root, ['sha256', 'size'], [], 'rotation payload root');
  if (typeof root.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(root.sha256))
    rotationInvalid('rotation payload: root.sha256 must be 64 lowercase hex digits');
  if (typeof root.size !== 'number' || !Number.isSafeInteger(root.size) || root.size < 0)
    rotationInvalid('rotation payload: root.size must be a whole number');
  let rotationKeys: RotationPayload['rotationKeys'];
  if (o.rotationKeys !== undefined) {
    const rk = exactKeys(
      o.rotationKeys,
      ['keys', 'threshold'],
      [],
      'rotation payload rotationKeys',
    );
    if (!Array.isArray(rk.keys) || rk.keys.length === 0 || rk.keys.length > ROTATION_LIMITS.maxKeys)
      keysInvalid(
        `rotation payload: rotationKeys.keys must list 1 to ${ROTATION_LIMITS.maxKeys} keys`,
      );
    const parsed = (rk.keys as unknown[]).map((k, i) => {
      const der = readBase64(k, `rotation payload: rotationKeys.keys[${i}]`, {
        ...ROTATION,
        code: 'ROTATION_KEYS_INVALID',
      });
      try {
        return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
      } catch (e) {
        return keysInvalid(
          `rotation payload: rotationKeys.keys[${i}] is not a public key`,
          undefined,
          { cause: e },
        );
      }
    });
    const keys = distinctKeys(parsed, 'rotation payload rotationKeys');
    checkThreshold(rk.threshold, keys.length, 'rotation payload rotationKeys');
    rotationKeys = { keys, threshold: rk.threshold };
  }
  const payload: RotationPayload = {
    type: ROTATION_PAYLOAD_TYPE,
    version: o.version,
    expires,
    root: { sha256: root.sha256, size: root.size },
    rotationKeys,
  };
  // One encoding only: the signed bytes must be the canonical form (no malleable variants).
  if (payloadJson(payload) !== Buffer.from(bytes).toString('utf8'))
    rotationInvalid('rotation payload is not in canonical form');
  return payload;
}

function parseSignatures(bytes: Uint8Array): RotationSignature[] {
  const doc = parseJsonStrict(bytes, {
    maxDepth: 4,
    maxBytes: ROTATION_LIMITS.maxSize['signatures.json']!,
    what: 'rotation signatures',
    code: 'ROTATION_INVALID',
    limitCode: 'ROTATION_INVALID',
    check: 'rotation',
  });
  const o = exactKeys(doc, ['signatures'], [], 'rotation signatures');
  if (!Array.isArray(o.signatures))
    rotationInvalid('rotation signatures: "signatures" must be an array');
  if (o.signatures.length > ROTATION_LIMITS.maxSignatures)
    rotationInvalid(`rotation signatures: more than ${ROTATION_LIMITS.maxSignatures} signatures`);
  return (o.signatures as unknown[]).map((s, i) => {
    const e = exactKeys(s, ['keyId', 'signature'], [], `rotation signatures[${i}]`);
    if (typeof e.keyId !== 'string' || !/^[0-9a-f]{64}$/.test(e.keyId))
      rotationInvalid(`rotation signatures[${i}].keyId must be 64 lowercase hex digits`);
    const signature = readBase64(e.signature, `rotation signatures[${i}].signature`, ROTATION);
    if (signature.length === 0) rotationInvalid(`rotation signatures[${i}].signature is empty`);
    return { keyId: e.keyId, signature };
  });
}

/** Read a rotation bundle (tar bytes) strictly. Says nothing yet about trust: see ./verify.ts. */
export function readRotationBundle(tarBytes: Uint8Array): RotationBundle {
  const files = readTarStrict(tarBytes, {
    names: ROTATION_FILES,
    maxSize: ROTATION_LIMITS.maxSize,
    maxArchiveBytes: ROTATION_LIMITS.maxArchiveBytes,
  });
  const payloadBytes = files.get('payload.json')!;
  return {
    payload: parsePayload(payloadBytes),
    payloadBytes,
    rootBytes: files.get('root.json')!,
    signatures: parseSignatures(files.get('signatures.json')!),
  };
}
