/**
 * Making a key seal (the export side of shipment/seal.ts): kept apart from the checking side,
 * which imports the whole verifier pipeline to check keyless seals; making a key seal needs
 * none of it.
 */
import { sign as nodeSign, type KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { keyIdOf, sha256 } from '../crypto.js';
import { utf8 } from '../util/encoding.js';
import type { Bundle } from '../bundle/model.js';
import { BUNDLE_V03_MEDIA_TYPE, serializeBundle } from '../bundle/serialize.js';

/** A seal maker for an export (archive/export.ts `seal`), and the key id it is trusted by. */
export interface KeySeal {
  /** The exporter key's id: `trust keys add --role exporter` lists it so. */
  keyId: string;
  seal: (manifest: Uint8Array) => Promise<Uint8Array>;
}

/**
 * A seal by an exporter key: a v0.3 message-signature bundle over manifest.cbor's exact bytes
 * (ECDSA with SHA-256 whatever the curve, as checkSeal verifies it), the key named by its id in
 * the bundle's public-key hint. `what` names the key in the refusal of one that is not ECDSA.
 */
export function keySeal(key: KeyObject, what = 'the seal key'): KeySeal {
  if (key.type !== 'private')
    fail('INPUT_INVALID', 'input', `${what}: a private key is required to seal`);
  if (key.asymmetricKeyType !== 'ec')
    fail('INPUT_INVALID', 'input', `${what}: an ECDSA key (P-256, P-384 or P-521) is required`);
  const keyId = keyIdOf(key);
  return {
    keyId,
    seal: (manifest) => {
      const bundle: Bundle = {
        mediaType: BUNDLE_V03_MEDIA_TYPE,
        version: '0.3',
        verificationMaterial: {
          content: { kind: 'publicKey', hint: keyId },
          tlogEntries: [],
          rfc3161Timestamps: [],
        },
        content: {
          kind: 'messageSignature',
          messageDigest: { algorithm: 'SHA2_256', digest: sha256(manifest) },
          signature: new Uint8Array(nodeSign('sha256', manifest, key)),
        },
      };
      return Promise.resolve(utf8.encode(serializeBundle(bundle, { indent: 2 }) + '\n'));
    },
  };
}
