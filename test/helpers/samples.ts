/** The self-contained samples (samples/): paths, and the arguments that verify one with the CLI. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './paths.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

export const SAMPLES = path.join(PROJECT_ROOT, 'samples');

interface SampleBundle {
  name: string;
  bundle: string;
  artifact: string;
  identity?: string;
  issuer?: string;
}

const manifest = JSON.parse(readFileSync(path.join(SAMPLES, 'samples.json'), 'utf8')) as {
  trustedRoot: string;
  bundles: SampleBundle[];
};

/** Every sample bundle samples.json lists. */
export const SAMPLE_BUNDLES: readonly SampleBundle[] = manifest.bundles;
export const SAMPLES_TRUSTED_ROOT = path.join(SAMPLES, manifest.trustedRoot);
export const BLOB = manifest.bundles.find((b) => b.name === 'blob')!;
export const BLOB_DIGEST = `sha256:${createHash('sha256')
  .update(readFileSync(path.join(SAMPLES, BLOB.artifact)))
  .digest('hex')}`;

/** The blob sample's identity policy (its identity escaped, its issuer). */
export const BLOB_POLICY = [
  '--certificate-identity',
  literalPattern(BLOB.identity!),
  '--certificate-oidc-issuer',
  BLOB.issuer!,
];

/** The sample `name` as samples.json lists it. */
export function sampleBundle(name: string): SampleBundle {
  const s = manifest.bundles.find((b) => b.name === name);
  if (s === undefined) throw new Error(`samples.json has no sample named ${name}`);
  return s;
}

/** `attest verify` of the keyless sample `name` with its identity policy; add a trust source. */
export function verifySampleArgs(name: string, ...extra: string[]): string[] {
  const s = manifest.bundles.find((b) => b.name === name);
  if (s?.identity === undefined || s.issuer === undefined)
    throw new Error(`samples.json has no keyless sample named ${name}`);
  return [
    'attest',
    'verify',
    '--bundle',
    path.join(SAMPLES, s.bundle),
    '--artifact',
    path.join(SAMPLES, s.artifact),
    '--certificate-identity',
    literalPattern(s.identity),
    '--certificate-oidc-issuer',
    s.issuer,
    ...extra,
  ];
}

/** `attest verify` of the blob sample with its identity policy; add a trust source. */
export function verifyBlobArgs(...extra: string[]): string[] {
  return verifySampleArgs('blob', ...extra);
}

/** `attest verify --artifact sha256:...` of the blob sample, its bundles looked up in an attestation store. */
export function verifyFromAttestationStoreArgs(store: string, ...extra: string[]): string[] {
  return [
    'attest',
    'verify',
    '--artifact',
    BLOB_DIGEST,
    '--attestation-store',
    store,
    '--trusted-root',
    SAMPLES_TRUSTED_ROOT,
    ...BLOB_POLICY,
    ...extra,
  ];
}
