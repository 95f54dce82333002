/** Rotation test helpers: a store with rotation keys, and signed (or hand-crafted) rotation bundles. */
import { canonicalize as canonicalJson } from '../../../src/util/canonical-json.js';
import { initStore } from '../../../src/trust/store/init.js';
import { createRotation, signPayload } from '../../../src/trust/rotation/bundle.js';
import { writeTar } from '../../../src/archive/tar.js';
import { keyIdOf, sha256, spkiOf } from '../../../src/crypto.js';
import { toBase64, toHex, utf8 } from '../../../src/util/encoding.js';
import { DAY, NOW, tempStorePath, type RotationKeyPair } from '../store/helpers.js';

export function storeWithKeys(keys: RotationKeyPair[], threshold: number, label = 'rot'): string {
  const file = tempStorePath(label);
  initStore(
    file,
    {
      rotationKeys: {
        path: 'rotation-keys.pem',
        bytes: utf8.encode(keys.map((k) => k.publicPem).join('')),
      },
      threshold,
    },
    { now: NOW - 1000, command: 'stella trust init' },
  );
  return file;
}

export interface RotationSpec {
  root: string;
  version: number;
  expires: number;
  signers: RotationKeyPair[];
  newKeys?: RotationKeyPair[];
  newThreshold?: number;
  /** When the signing side makes it (default: a day before the tests' fixed clock). */
  createdAt?: number;
}

export async function rotationTar(spec: RotationSpec): Promise<Uint8Array> {
  const r = await createRotation({
    rootBytes: utf8.encode(spec.root),
    version: spec.version,
    expires: spec.expires,
    signWith: spec.signers.map((k) => k.privateKey),
    now: spec.createdAt ?? NOW - DAY,
    newRotationKeys: spec.newKeys
      ? { keys: spec.newKeys.map((k) => k.publicKey), threshold: spec.newThreshold! }
      : undefined,
  });
  return r.tar;
}

/** A payload object as the format defines it (for hand-crafted, possibly invalid, bundles). */
export function payloadFor(
  root: string,
  version: number,
  expires: number,
  rotationKeys?: { keys: string[]; threshold: number },
): Record<string, unknown> {
  const rootBytes = utf8.encode(root);
  return {
    type: 'stella.dev/trust-rotation/v1',
    version,
    expires: new Date(expires).toISOString(),
    root: { sha256: toHex(sha256(rootBytes)), size: rootBytes.length },
    ...(rotationKeys ? { rotationKeys } : {}),
  };
}

export function keyB64(k: RotationKeyPair): string {
  return toBase64(spkiOf(k.publicKey));
}

/** Assemble a bundle from raw parts; signatures are made over `payloadText` by `signers`. */
export async function craftTar(
  payloadText: string,
  root: string | Uint8Array,
  signers: RotationKeyPair[],
  extraSignatures: { keyId: string; signature: string }[] = [],
): Promise<Uint8Array> {
  const payload = utf8.encode(payloadText);
  const signatures = [
    ...signers.map((k) => ({
      keyId: keyIdOf(k.publicKey),
      signature: toBase64(signPayload(k.privateKey, payload)),
    })),
    ...extraSignatures,
  ];
  return writeTar([
    { name: 'payload.json', data: payload },
    { name: 'root.json', data: typeof root === 'string' ? utf8.encode(root) : root },
    { name: 'signatures.json', data: utf8.encode(canonicalJson({ signatures })) },
  ]);
}

export { canonicalJson, NOW };
