/**
 * TUF-style root rotation rules (checklist G43–G45), as a pure function of the bundle, the
 * store's current rotation keys, threshold and last applied version, and a clock:
 *  1. at least K distinct trusted keys signed exactly the payload bytes (a key counts once,
 *     whatever id or encoding it comes under);
 *  2. version > last applied (rollback refused), and exactly the next one (TUF: no skipping);
 *  3. not expired (freeze refused);
 *  4. root.json is exactly the file the payload names (SHA-256 and size) and a valid root;
 *  5. a rotation that replaces the rotation keys is also signed by K' of the NEW keys.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { StellaError } from '../../errors.js';
import { sha256, spkiKeyId, verifySignature } from '../../crypto.js';
import { toHex } from '../../util/encoding.js';
import { formatTime } from '../../util/time.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import { parseTrustedRoot } from '../trusted-root.js';
import { checkThreshold, type RotationBundle, type RotationPayload } from './bundle.js';

export interface TrustedRotationKey {
  /** Normalised DER SPKI. */
  spki: Uint8Array;
}

export interface RotationTrust {
  keys: TrustedRotationKey[];
  threshold: number;
  /** Highest version applied so far (0 = none). */
  lastVersion: number;
}

export interface VerifiedRotation {
  payload: RotationPayload;
  root: TrustMaterial;
  rootBytes: Uint8Array;
  payloadSha256: string;
  /** Key ids (hex SHA-256 of SPKI) of the trusted keys whose signatures verified. */
  signers: string[];
  /** Same, for the new rotation keys (key rotation only). */
  newKeySigners: string[];
}

function refuse(
  code:
    | 'ROTATION_THRESHOLD_NOT_MET'
    | 'ROTATION_ROLLBACK'
    | 'ROTATION_VERSION_GAP'
    | 'ROTATION_EXPIRED'
    | 'ROTATION_INVALID'
    | 'ROTATION_KEYS_INVALID',
  message: string,
  details?: Record<string, unknown>,
  options?: { cause?: unknown },
): never {
  throw new StellaError(code, 'rotation', message, details, options);
}

/** Distinct keys among `spkis` with a valid signature over `payload` (each key counted once). */
export function signingKeys(
  spkis: Uint8Array[],
  payload: Uint8Array,
  bundle: RotationBundle,
): string[] {
  const signed = new Set<string>();
  for (const spki of spkis) {
    const id = spkiKeyId(spki);
    if (signed.has(id)) continue;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    } catch {
      continue;
    }
    if (bundle.signatures.some((s) => verifySignature(key, payload, s.signature))) signed.add(id);
  }
  return [...signed].sort();
}

/** Rules 1–5 above, in order; the first broken one refuses the rotation. */
export function verifyRotation(
  bundle: RotationBundle,
  trust: RotationTrust,
  now: number,
): VerifiedRotation {
  const { payload } = bundle;
  const signers = trustedSigners(bundle, trust);
  checkNextVersion(payload.version, trust.lastVersion);
  if (payload.expires <= now) {
    refuse(
      'ROTATION_EXPIRED',
      `rotation expired at ${formatTime(payload.expires)} (freeze refused)`,
      { expires: formatTime(payload.expires) },
    );
  }
  const root = signedRoot(bundle);
  return {
    payload,
    root,
    rootBytes: bundle.rootBytes,
    payloadSha256: toHex(sha256(bundle.payloadBytes)),
    signers,
    newKeySigners: newKeySigners(bundle),
  };
}

/** Rule 1: at least the store's threshold of its distinct rotation keys signed the payload. */
function trustedSigners(bundle: RotationBundle, trust: RotationTrust): string[] {
  const trusted = trust.keys.map((k) => k.spki);
  const distinct = new Set(trusted.map((k) => toHex(k))).size;
  if (distinct === 0)
    refuse(
      'ROTATION_KEYS_INVALID',
      'the trust store has no rotation keys (set them with `stella trust init --rotation-keys FILE --threshold K` or `stella trust keys add`)',
    );
  checkThreshold(trust.threshold, distinct, 'trust store rotation keys');
  const signers = signingKeys(trusted, bundle.payloadBytes, bundle);
  if (signers.length < trust.threshold) {
    refuse(
      'ROTATION_THRESHOLD_NOT_MET',
      `rotation signed by ${signers.length} of the ${trust.threshold} required trusted rotation keys`,
      {
        signed: signers.length,
        threshold: trust.threshold,
        signers,
      },
    );
  }
  return signers;
}

/** Rule 2: newer than the last applied (no rollback) and exactly the next (no skipping). */
function checkNextVersion(version: number, lastVersion: number): void {
  if (version <= lastVersion) {
    refuse(
      'ROTATION_ROLLBACK',
      `rotation version ${version} is not greater than the last applied version ${lastVersion} (rollback refused)`,
      {
        version,
        lastVersion,
      },
    );
  }
  // TUF: each root is exactly the next version. Skipping ahead is refused, so one signed
  // rotation with a huge version cannot make every later one a "rollback" (a freeze).
  if (version !== lastVersion + 1) {
    refuse(
      'ROTATION_VERSION_GAP',
      `rotation version ${version} is not the next version (the last applied is ${lastVersion}: apply version ${lastVersion + 1} first)`,
      {
        version,
        lastVersion,
        expected: lastVersion + 1,
      },
    );
  }
}

/** Rule 4: root.json is exactly the file the payload names, and a trusted root with entries. */
function signedRoot(bundle: RotationBundle): TrustMaterial {
  const { payload } = bundle;
  const rootSha = toHex(sha256(bundle.rootBytes));
  if (rootSha !== payload.root.sha256 || bundle.rootBytes.byteLength !== payload.root.size) {
    refuse(
      'ROTATION_INVALID',
      `root.json does not match the signed payload (sha256 ${rootSha}, signed ${payload.root.sha256})`,
      {
        rootSha256: rootSha,
        signedSha256: payload.root.sha256,
      },
    );
  }
  let root: TrustMaterial;
  try {
    root = parseTrustedRoot(bundle.rootBytes);
  } catch (e) {
    return refuse('ROTATION_INVALID', `root.json: ${(e as Error).message}`, undefined, {
      cause: e,
    });
  }
  if (
    root.certificateAuthorities.length +
      root.tlogs.length +
      root.ctlogs.length +
      root.timestampAuthorities.length ===
    0
  ) {
    refuse('ROTATION_INVALID', 'root.json has no entries');
  }
  return root;
}

/** Rule 5: a rotation that replaces the rotation keys is also signed by K' of the new keys. */
function newKeySigners(bundle: RotationBundle): string[] {
  const next = bundle.payload.rotationKeys;
  if (!next) return [];
  const signers = signingKeys(next.keys, bundle.payloadBytes, bundle);
  if (signers.length < next.threshold) {
    refuse(
      'ROTATION_THRESHOLD_NOT_MET',
      `rotation replaces the rotation keys but is signed by ${signers.length} of the ${next.threshold} required NEW keys`,
      {
        signed: signers.length,
        threshold: next.threshold,
      },
    );
  }
  return signers;
}
