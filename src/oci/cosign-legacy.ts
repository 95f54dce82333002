/**
 * Legacy cosign signatures and attestations, stored under the tags `sha256-<hex>.sig` and
 * `sha256-<hex>.att` before bundles became OCI referrers. Each layer is judged on its own:
 *
 *   - `.att`, layer `application/vnd.dsse.envelope.v1+json` with the annotations
 *     `dev.sigstore.cosign/certificate` (PEM leaf) and `dev.sigstore.cosign/bundle` (the Rekor
 *     entry: body, integrated time, log index, log ID, signed entry timestamp): turned into a
 *     Sigstore bundle v0.1 (the DSSE envelope, the leaf certificate alone — the verifier builds
 *     the chain from its own trust — and one tlog entry with its inclusion promise). It has no
 *     inclusion proof: it verifies on a connected host with the Rekor key trusted, and
 *     `export-bundle` refuses it like any bundle without one (Rekor proof missing);
 *   - anything else is skipped, with the reason: a `.sig` simple-signing layer signs a JSON
 *     payload naming the image, not the image digest, so it is no bundle "for this digest" and
 *     Stella's verifier does not check simple-signing payloads; a layer without a certificate
 *     or a Rekor entry (key-based, or not logged) cannot be verified keylessly.
 */
import { StellaError, failureOf } from '../errors.js';
import { parseBundle, type RefusedItem } from '../bundle/parse.js';
import { artifactDigestsOf } from '../bundle/artifact-digests.js';
import type { Bundle } from '../bundle/model.js';
import { isPlainObject, parseJsonStrict } from '../util/json.js';
import { pemToDerList } from '../util/pem.js';
import { toBase64, utf8 } from '../util/encoding.js';
import {
  BUNDLE_V01_MEDIA_TYPE,
  readCosignRekorBundle,
  tlogEntryOfRekorBundle,
} from '../bundle/cosign-legacy.js';
import { MEDIA_TYPES, parseDescriptor, type RegistryClient } from './client.js';
import { isRegistryOutage, REGISTRY_LIMITS } from './http.js';
import { referrersTag, type ImageRef } from './reference.js';
import { quoted } from '../util/text.js';

const DSSE_LAYER = 'application/vnd.dsse.envelope.v1+json';
const SIMPLE_SIGNING_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
const CERT_ANNOTATION = 'dev.sigstore.cosign/certificate';
const REKOR_ANNOTATION = 'dev.sigstore.cosign/bundle';

export interface LegacyResult {
  bundles: { source: string; bytes: Uint8Array; bundle: Bundle }[];
  refused: RefusedItem[];
  skipped: { source: string; reason: string }[];
}

function bad(message: string): never {
  throw new StellaError('REGISTRY_RESPONSE_INVALID', 'registry', message);
}

/** How the JSON a registry served is refused: malformed, or past a limit. */
const REGISTRY_JSON = {
  code: 'REGISTRY_RESPONSE_INVALID',
  limitCode: 'REGISTRY_LIMIT_EXCEEDED',
  check: 'registry',
} as const;

/** A cosign `.att` layer's blob: a DSSE envelope. */
function parseCosignEnvelope(
  envelopeBytes: Uint8Array,
  what: string,
): { payload: string; payloadType: string; signatures: unknown[] } {
  const env = parseJsonStrict(envelopeBytes, {
    what,
    maxBytes: REGISTRY_LIMITS.maxBundleBytes,
    maxDepth: 16,
    ...REGISTRY_JSON,
  });
  if (
    !isPlainObject(env) ||
    typeof env.payload !== 'string' ||
    typeof env.payloadType !== 'string' ||
    !Array.isArray(env.signatures)
  )
    bad(`${what} is not a DSSE envelope`);
  return { payload: env.payload, payloadType: env.payloadType, signatures: env.signatures };
}

/** A cosign `.att` layer (DSSE envelope + annotations) as a Sigstore bundle v0.1, bytes as JSON. */
export function bundleFromCosignAttestation(
  envelopeBytes: Uint8Array,
  annotations: Record<string, string>,
  what: string,
): Uint8Array {
  const env = parseCosignEnvelope(envelopeBytes, what);
  const pem = annotations[CERT_ANNOTATION];
  if (!pem) throw new SkipError('no certificate annotation: a key-based attestation, not keyless');
  const rekorJson = annotations[REKOR_ANNOTATION];
  if (!rekorJson)
    throw new SkipError(
      'no Rekor entry annotation (dev.sigstore.cosign/bundle): not logged, nothing to verify it against',
    );
  // The first block is the leaf (cosign keeps the chain in another annotation). A block that
  // is not a certificate is the registry's fault, named by layer and annotation.
  const leaf = pemToDerList(pem, 'CERTIFICATE', {
    code: 'REGISTRY_RESPONSE_INVALID',
    check: 'registry',
    what: `${what}: ${CERT_ANNOTATION}`,
  })[0]!;
  const rekor = readCosignRekorBundle(rekorJson, `${what}: ${REKOR_ANNOTATION}`, REGISTRY_JSON);
  const bundle = {
    mediaType: BUNDLE_V01_MEDIA_TYPE,
    verificationMaterial: {
      x509CertificateChain: { certificates: [{ rawBytes: toBase64(leaf) }] },
      tlogEntries: [tlogEntryOfRekorBundle(rekor)],
    },
    dsseEnvelope: {
      payload: env.payload,
      payloadType: env.payloadType,
      signatures: env.signatures,
    },
  };
  return utf8.encode(JSON.stringify(bundle));
}

class SkipError extends Error {}

/** One layer of a legacy tag: a bundle about the image, or why it is skipped. Throws to refuse it. */
async function readLegacyLayer(
  client: RegistryClient,
  image: ImageRef,
  tag: string,
  i: number,
  raw: unknown,
): Promise<{ bytes: Uint8Array; bundle: Bundle } | { skip: string }> {
  const layer = parseDescriptor(raw, `${tag} layers[${i}]`);
  if (layer.mediaType === SIMPLE_SIGNING_LAYER)
    return {
      skip: 'cosign simple-signing signature: it signs a payload naming the image, not the image digest, and carries no inclusion proof; Stella does not verify these',
    };
  if (layer.mediaType !== DSSE_LAYER)
    return {
      skip: `layer media type ${quoted(layer.mediaType, 100)} is not a cosign attestation`,
    };
  if (layer.size > REGISTRY_LIMITS.maxBundleBytes)
    throw new StellaError(
      'REGISTRY_LIMIT_EXCEEDED',
      'registry',
      `${tag} layer ${i} is ${layer.size} bytes, more than ${REGISTRY_LIMITS.maxBundleBytes}`,
    );
  const envelope = await client.getBlob(layer.digest, layer.size, `${tag} layer ${i}`);
  let bytes: Uint8Array;
  try {
    bytes = bundleFromCosignAttestation(envelope, layer.annotations ?? {}, `${tag} layer ${i}`);
  } catch (e) {
    if (e instanceof SkipError) return { skip: `cosign attestation: ${e.message}` };
    throw e;
  }
  const bundle = parseBundle(bytes);
  const covers = artifactDigestsOf(bundle);
  if (!covers.includes(image.digest))
    bad(
      `${tag} layer ${i} is an attestation about ${covers.join(', ') || 'no sha256 digest'}, not ${image.digest}`,
    );
  return { bytes, bundle };
}

/** The layers of a legacy `.sig` or `.att` tag; undefined when the tag is absent or refused (then in `out.refused`). */
async function legacyTagLayers(
  client: RegistryClient,
  tag: string,
  suffix: 'sig' | 'att',
  source: string,
  out: LegacyResult,
): Promise<unknown[] | undefined> {
  let m;
  try {
    m = await client.getManifest(
      tag,
      [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest],
      `cosign ${suffix} manifest (tag ${tag})`,
    );
  } catch (e) {
    if (isRegistryOutage(e)) throw e;
    out.refused.push({ source, failure: failureOf(e), error: e });
    return undefined;
  }
  if (!m) return undefined;
  const layers = Array.isArray(m.json.layers) ? m.json.layers : [];
  if (layers.length > REGISTRY_LIMITS.maxReferrers) {
    out.refused.push({
      source,
      failure: failureOf(
        new StellaError(
          'REGISTRY_LIMIT_EXCEEDED',
          'registry',
          `${tag} has ${layers.length} layers, more than ${REGISTRY_LIMITS.maxReferrers}`,
        ),
      ),
      error: undefined,
    });
    return undefined;
  }
  return layers as unknown[];
}

/** Read `.sig` and `.att` for an image; every layer either becomes a bundle, is refused, or is skipped with a reason. */
export async function readLegacyCosign(
  client: RegistryClient,
  image: ImageRef,
): Promise<LegacyResult> {
  const out: LegacyResult = { bundles: [], refused: [], skipped: [] };
  for (const suffix of ['sig', 'att'] as const) {
    const tag = `${referrersTag(image.digest)}.${suffix}`;
    const source = `registry ${client.name} cosign tag ${tag}`;
    const layers = await legacyTagLayers(client, tag, suffix, source, out);
    for (const [i, raw] of (layers ?? []).entries()) {
      const layerSource = `${source} layer ${i}`;
      try {
        const r = await readLegacyLayer(client, image, tag, i, raw);
        if ('skip' in r) out.skipped.push({ source: layerSource, reason: r.skip });
        else
          out.bundles.push({
            source: `${layerSource} (cosign attestation as bundle v0.1)`,
            bytes: r.bytes,
            bundle: r.bundle,
          });
      } catch (e) {
        if (isRegistryOutage(e)) throw e;
        out.refused.push({ source: layerSource, failure: failureOf(e), error: e });
      }
    }
  }
  return out;
}
