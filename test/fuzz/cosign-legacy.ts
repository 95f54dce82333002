/**
 * Fuzz target for legacy cosign attestations (`src/oci/cosign-legacy.ts`): a `.att` layer
 * read from a registry (a DSSE envelope, and the certificate and Rekor-bundle annotations cosign
 * stores beside it) turned into a Sigstore bundle v0.1 by `bundleFromCosignAttestation`, which
 * `export-bundle` then carries to the disconnected side. All three inputs come from the
 * registry, so any of them may be hostile.
 *
 * Seeds: every DSSE seed bundle with a signed entry timestamp, split into the three inputs
 * the way cosign stores them. Each input is mutated (the envelope and the Rekor bundle as JSON,
 * the body inside it as a Rekor body, the certificate as a DER tree or as PEM text, an
 * annotation dropped or emptied), converted, and the bundle judged exactly as the bundle target
 * judges one (./targets.ts judgeBundle: parse, verify both ways, and every pass held to a
 * reference), against the seed's own conversion.
 */
import { cosignLegacyBundle } from '../../src/bundle/cosign-legacy.js';
import { bundleFromCosignAttestation } from '../../src/oci/cosign-legacy.js';
import { utf8 } from '../../src/util/encoding.js';
import { derToPem } from '../../src/util/pem.js';
import { cosignLegacyFileOf } from '../helpers/cosign-legacy-file.js';
import { cosignAttestationParts } from '../helpers/oci.js';
import type { BundleSeed } from './corpus.js';
import type { FuzzTarget, IterationResult } from './harness.js';
import { havoc, type Trail } from './mutate-bytes.js';
import { mutateRekorBody } from './mutate-bundle.js';
import { mutateDer } from './mutate-der.js';
import { mutateJson, stringifyFuzz, type Json, type JsonHooks } from './mutate-json.js';
import { classifyThrow } from './oracle.js';
import type { Prng } from './prng.js';
import { fromThrow, judgeBundle } from './targets.js';

const CERT_ANNOTATION = 'dev.sigstore.cosign/certificate';
const REKOR_ANNOTATION = 'dev.sigstore.cosign/bundle';

export interface LegacySeed {
  /** The bundle seed, its text replaced by the seed's own conversion (what a neutral mutation gives). */
  seed: BundleSeed;
  envelope: Json;
  certificateDer: Uint8Array;
  rekor: Json;
}

/** The DSSE seeds with a signed entry timestamp, as cosign stores them in a `.att` layer. */
export function legacySeeds(seeds: readonly BundleSeed[]): LegacySeed[] {
  const out: LegacySeed[] = [];
  for (const s of seeds) {
    const parts = cosignAttestationParts(JSON.parse(s.text) as Record<string, any>);
    if (!parts) continue;
    const envelope = parts.envelope as Json;
    const certificateDer = new Uint8Array(Buffer.from(parts.certificateB64, 'base64'));
    const rekor = parts.rekor as unknown as Json;
    const text = Buffer.from(
      bundleFromCosignAttestation(
        utf8.encode(JSON.stringify(envelope)),
        { [CERT_ANNOTATION]: derToPem(certificateDer), [REKOR_ANNOTATION]: JSON.stringify(rekor) },
        'seed',
      ),
    ).toString('utf8');
    out.push({
      seed: { ...s, name: `cosign-legacy/${s.name}`, text, resign: undefined },
      envelope,
      certificateDer,
      rekor,
    });
  }
  return out;
}

/** The payload and signatures' bytes, byte by byte; the rest as JSON. */
const ENVELOPE_HOOKS: JsonHooks = {
  bytesField: (p) => {
    const k = p[p.length - 1];
    return k === 'payload' || k === 'sig' ? (rng, b, t) => havoc(rng, b, t) : undefined;
  },
};

/** The Rekor body inside cosign's bundle annotation, as the bundle target mutates one. */
const REKOR_HOOKS: JsonHooks = {
  bytesField: (p) => (p[p.length - 1] === 'body' ? mutateRekorBody : undefined),
};

/** PEM text around a certificate, written in the ways a registry might serve it. */
function certificateText(rng: Prng, der: Uint8Array, donors: readonly Uint8Array[], trail: Trail) {
  const how = rng.weighted<string>([
    [4, 'der'],
    [1, 'two'],
    [1, 'label'],
    [1, 'crlf'],
    [1, 'around'],
    [1, 'unclosed'],
    [1, 'text'],
  ]);
  trail.push(`certificate: ${how}`);
  switch (how) {
    case 'der':
      return derToPem(mutateDer(rng, der, trail, donors));
    case 'two':
      return derToPem(rng.pick(donors)) + derToPem(der);
    case 'label':
      return derToPem(der).replaceAll('CERTIFICATE', rng.pick(['PUBLIC KEY', 'X509 CERTIFICATE']));
    case 'crlf':
      return derToPem(der).replaceAll('\n', '\r\n');
    case 'around':
      return `junk before\n${derToPem(der)}junk after`;
    case 'unclosed':
      return derToPem(der).replace(/-----END CERTIFICATE-----\n$/, '');
    default:
      return Buffer.from(havoc(rng, utf8.encode(derToPem(der)), trail)).toString('latin1');
  }
}

/** One `.att` layer's three inputs, one or more of them mutated. */
export function mutateLegacy(
  rng: Prng,
  s: LegacySeed,
  donors: readonly Uint8Array[],
  trail: Trail,
): { envelope: Uint8Array; annotations: Record<string, string> } {
  let envelope = s.envelope;
  let rekor = s.rekor;
  let certificate = derToPem(s.certificateDer);
  const drop: string[] = [];
  const steps = 1 + rng.smallSize(2);
  for (let i = 0; i < steps; i++) {
    const what = rng.weighted<string>([
      [3, 'envelope'],
      [3, 'rekor'],
      [2, 'certificate'],
      [1, 'annotations'],
    ]);
    if (what === 'envelope') envelope = mutateJson(rng, envelope, trail, ENVELOPE_HOOKS);
    else if (what === 'rekor') rekor = mutateJson(rng, rekor, trail, REKOR_HOOKS);
    else if (what === 'certificate')
      certificate = certificateText(rng, s.certificateDer, donors, trail);
    else {
      const k = rng.pick([CERT_ANNOTATION, REKOR_ANNOTATION]);
      trail.push(`annotation ${k} dropped`);
      drop.push(k);
    }
  }
  const annotations = Object.fromEntries(
    [
      [CERT_ANNOTATION, certificate],
      [REKOR_ANNOTATION, stringifyFuzz(rekor)],
      ['org.opencontainers.image.created', '2025-06-01T00:00:00Z'],
    ].filter(([k]) => !drop.includes(k!)),
  );
  return { envelope: utf8.encode(stringifyFuzz(envelope)), annotations };
}

/**
 * The conversion refuses with a StellaError, skips the layer (no certificate or Rekor
 * annotation: cosign-legacy's own SkipError, which `readLegacyCosign` reports as a reason),
 * or gives a bundle that judgeBundle holds to the bundle target's oracle.
 */
export async function judgeLegacy(
  s: LegacySeed,
  input: { envelope: Uint8Array; annotations: Record<string, string> },
): Promise<IterationResult> {
  let bytes: Uint8Array;
  try {
    bytes = bundleFromCosignAttestation(input.envelope, input.annotations, 'fuzzed layer');
  } catch (e) {
    if (e instanceof Error && e.constructor.name === 'SkipError') return { kind: 'skipped' };
    return fromThrow(
      classifyThrow(e),
      `${Buffer.from(input.envelope).toString('utf8')}\n${JSON.stringify(input.annotations)}`,
      'bundleFromCosignAttestation',
    );
  }
  return judgeBundle(s.seed, Buffer.from(bytes).toString('utf8'));
}

export function legacyTarget(
  seeds: readonly LegacySeed[],
  donors: readonly Uint8Array[],
  defaultIterations: number,
): FuzzTarget {
  return {
    name: 'cosign-legacy',
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(seeds);
      trail.push(`seed ${s.seed.name}`);
      return judgeLegacy(s, mutateLegacy(rng, s, donors, trail));
    },
  };
}

/**
 * cosign's legacy bundle FILE (`cosign sign-blob --bundle` without --new-bundle-format:
 * `{"base64Signature", "cert", "rekorBundle"}`), which `attest verify --bundle` reads and
 * `export-bundle --refresh-proofs` carries (src/bundle/cosign-legacy.ts). The whole file comes
 * from the user's side of the gap, so all of it may be hostile: the signature's bytes, the
 * certificate's PEM text (base64 of it), the Rekor bundle and the entry body inside it, and the
 * digest the conversion takes from that body. Seeds: every seed with a signed entry timestamp
 * and a certificate, written as cosign writes the file (sign-blob's: the signature; attest-blob's:
 * the DSSE envelope's JSON in base64Signature).
 */
export interface LegacyFileSeed {
  /** The bundle seed, its text replaced by the seed file's own conversion. */
  seed: BundleSeed;
  file: Json;
  certificateDer: Uint8Array;
}

export function legacyFileSeeds(seeds: readonly BundleSeed[]): LegacyFileSeed[] {
  const out: LegacyFileSeed[] = [];
  for (const s of seeds) {
    const b = JSON.parse(s.text) as Record<string, any>;
    const vm = b.verificationMaterial ?? {};
    const certificateB64: unknown =
      vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates?.[0]?.rawBytes;
    if (!(b.messageSignature || b.dsseEnvelope) || !vm.tlogEntries?.[0]?.inclusionPromise) continue;
    if (typeof certificateB64 !== 'string') continue;
    const file = cosignLegacyFileOf(b) as Json;
    const converted = cosignLegacyBundle(utf8.encode(JSON.stringify(file)), 'seed');
    if (!converted) continue;
    out.push({
      seed: {
        ...s,
        name: `cosign-legacy-file/${s.name}`,
        text: Buffer.from(converted.bytes).toString('utf8'),
        resign: undefined,
      },
      file,
      certificateDer: new Uint8Array(Buffer.from(certificateB64, 'base64')),
    });
  }
  return out;
}

/** The signature's bytes and the entry body as the bundle target mutates them; `cert` as PEM text a file might hold. */
function legacyFileHooks(s: LegacyFileSeed, donors: readonly Uint8Array[]): JsonHooks {
  return {
    bytesField: (p) => {
      const k = p[p.length - 1];
      if (k === 'base64Signature') return (rng, b, t) => havoc(rng, b, t);
      if (k === 'body') return mutateRekorBody;
      if (k === 'cert')
        return (rng, _b, t) => utf8.encode(certificateText(rng, s.certificateDer, donors, t));
      return undefined;
    },
  };
}

/**
 * The file as `attest verify --bundle` reads it: the legacy shape is converted and the bundle
 * judged as the bundle target judges one; a file that lost the shape gets the one bundle
 * parser's verdict, as the CLI gives it.
 */
export async function judgeLegacyFile(s: LegacyFileSeed, text: string): Promise<IterationResult> {
  let converted: ReturnType<typeof cosignLegacyBundle>;
  try {
    converted = cosignLegacyBundle(utf8.encode(text), 'fuzzed file');
  } catch (e) {
    return fromThrow(classifyThrow(e), text, 'cosignLegacyBundle');
  }
  return judgeBundle(
    s.seed,
    converted === undefined ? text : Buffer.from(converted.bytes).toString('utf8'),
  );
}

export function legacyFileTarget(
  seeds: readonly LegacyFileSeed[],
  donors: readonly Uint8Array[],
  defaultIterations: number,
): FuzzTarget {
  return {
    name: 'cosign-legacy-file',
    defaultIterations,
    run(rng, trail) {
      const s = rng.pick(seeds);
      trail.push(`seed ${s.seed.name}`);
      let file = s.file;
      const steps = 1 + rng.smallSize(2);
      for (let i = 0; i < steps; i++)
        file = mutateJson(rng, file, trail, legacyFileHooks(s, donors));
      return judgeLegacyFile(s, stringifyFuzz(file));
    },
  };
}
