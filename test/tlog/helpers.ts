/** Test helpers for the tlog tests: generated logs, and loading the shared conformance data. */
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from '../../src/crypto.js';
import { noteKeyHint, noteKeyId, type NoteSigner } from '../../src/tlog/note.js';
import type { TransparencyLogInstance, ValidityWindow } from '../../src/model/trust-material.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import type { Bundle } from '../../src/bundle/model.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import { conformanceCase, conformanceTrustedRootPath } from '../helpers/shared.js';

export interface TestLog {
  log: TransparencyLogInstance;
  signer: NoteSigner;
  privateKey: KeyObject;
  sign(message: Uint8Array): Uint8Array;
}

/** A log with a fresh key. ECDSA logs get the Rekor v1 log ID, Ed25519 logs the note key ID. */
export function makeLog(
  baseUrl: string,
  type: 'ec' | 'ed25519',
  validFor: ValidityWindow = { start: 0, end: undefined },
): TestLog {
  const { publicKey, privateKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519');
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const name = new URL(baseUrl).host;
  const log: TransparencyLogInstance = {
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: spki,
      keyDetails: type === 'ec' ? 'PKIX_ECDSA_P256_SHA_256' : 'PKIX_ED25519',
      key: publicKey,
      validFor,
    },
    logId: type === 'ec' ? sha256(spki) : noteKeyId(name, publicKey),
    checkpointKeyId: undefined,
  };
  const sign = (m: Uint8Array): Uint8Array =>
    new Uint8Array(nodeSign(type === 'ec' ? 'sha256' : null, m, privateKey));
  return { log, privateKey, sign, signer: { name, keyHint: noteKeyHint(name, publicKey), sign } };
}

export interface ConformanceCase {
  bundle: Bundle;
  trust: TrustMaterial;
}

export function loadCase(name: string): ConformanceCase {
  // A missing case throws: the test that names it fails (it is not skipped).
  const dir = conformanceCase(name);
  const root = conformanceTrustedRootPath(dir);
  return {
    bundle: parseBundle(readFileSync(path.join(dir, 'bundle.sigstore.json'))),
    trust: parseTrustedRoot(readFileSync(root)),
  };
}

/** The leaf certificate DER of a bundle, if it has one. */
export function leafDer(b: Bundle): Uint8Array | undefined {
  const c = b.verificationMaterial.content;
  return c.kind === 'certificate'
    ? c.certificate
    : c.kind === 'x509CertificateChain'
      ? c.certificates[0]
      : undefined;
}
