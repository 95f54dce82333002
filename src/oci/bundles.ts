/**
 * Sigstore bundles as OCI 1.1 referrers of the image they sign — the layout cosign
 * (`--new-bundle-format`) and sigstore-js's `@sigstore/oci` write:
 *
 *   { schemaVersion: 2, mediaType: application/vnd.oci.image.manifest.v1+json,
 *     artifactType: application/vnd.dev.sigstore.bundle.v0.3+json,
 *     config: the empty descriptor (application/vnd.oci.empty.v1+json, "{}"),
 *     layers: [ the bundle, mediaType application/vnd.dev.sigstore.bundle.v0.3+json ],
 *     subject: the image's descriptor,
 *     annotations: { dev.sigstore.bundle.content, dev.sigstore.bundle.predicateType,
 *                    org.opencontainers.image.created } }
 *
 * Attaching pushes that manifest; a registry with the referrers API says so with an
 * `OCI-Subject` header, and for one without it the referrers index under the tag
 * `sha256-<hex>` (the distribution spec's fallback) is updated by read–merge–push (./fallback.ts).
 *
 * Discovering reads the referrers API, else the fallback tag, and checks every candidate: the
 * manifest's digest and media type, its subject is this image, exactly one bundle layer within
 * the bundle size limit and matching its digest, a bundle that parses strictly and covers this
 * image's digest. Legacy cosign `.sig`/`.att` tags are read too (./cosign-legacy.ts).
 */
import { StellaError, failureOf } from '../errors.js';
import { utf8 } from '../util/encoding.js';
import { parseBundle, type RefusedItem } from '../bundle/parse.js';
import { artifactDigestsOf } from '../bundle/artifact-digests.js';
import type { Bundle } from '../bundle/model.js';
import { bundlePredicateType } from '../bundle/intoto.js';
import { formatImage, referrersTag, type ImageRef } from './reference.js';
import {
  digestOf,
  IMAGE_MANIFEST_TYPES,
  MEDIA_TYPES,
  parseAnnotations,
  parseDescriptor,
  parseIndex,
  RegistryClient,
  type Descriptor,
  type RegistryClientOptions,
} from './client.js';
import { isRegistryOutage, REGISTRY_LIMITS } from './http.js';
import { updateReferrersIndex, type FallbackOptions } from './fallback.js';
import { readLegacyCosign } from './cosign-legacy.js';
import { quoted } from '../util/text.js';

/** The artifact type (and layer media type) Stella writes. */
export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** Every spelling of a bundle media type clients have attached with (ECR-downgraded included). */
export function isBundleMediaType(t: string | undefined): boolean {
  if (t === undefined) return false;
  return /^application\/vnd\.dev\.sigstore\.bundle(?:\.v0\.[123]\+json|\+json(?:;\s*version=0\.[123])?)$/.test(
    t.trim(),
  );
}

const EMPTY_CONFIG = utf8.encode('{}');

export interface AttachOptions extends RegistryClientOptions, FallbackOptions {
  image: ImageRef;
  /** The bundle bytes exactly as signed. */
  bundleBytes: Uint8Array;
}

export interface AttachResult {
  image: string;
  /** Digest of the referrer manifest pushed. */
  manifestDigest: string;
  /** 'referrers-api' when the registry indexed it itself (OCI-Subject), else 'referrers-tag'. */
  indexedBy: 'referrers-api' | 'referrers-tag';
  /** The fallback tag updated, when indexedBy is 'referrers-tag'. */
  tag?: string;
  /** Read–merge–push rounds the fallback took (1 without contention). */
  rounds?: number;
}

function annotationsFor(bundle: Bundle): Record<string, string> {
  const out: Record<string, string> = {};
  const c = bundle.content;
  out['dev.sigstore.bundle.content'] =
    c.kind === 'dsseEnvelope' ? 'dsse-envelope' : 'message-signature';
  const predicateType = bundlePredicateType(c);
  if (predicateType !== undefined) out['dev.sigstore.bundle.predicateType'] = predicateType;
  // The creation time is the bundle's own log time, not the clock: attaching one bundle twice
  // gives the same manifest (and so the same digest), never a duplicate.
  const t = bundle.verificationMaterial.tlogEntries[0]?.integratedTime;
  if (t !== undefined && t > 0)
    out['org.opencontainers.image.created'] = new Date(t * 1000)
      .toISOString()
      .replace('.000Z', 'Z');
  return out;
}

/** The referrer manifest for a bundle attached to `subject`. */
export function buildReferrerManifest(
  bundle: Bundle,
  bundleDescriptor: Descriptor,
  subject: Descriptor,
): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: BUNDLE_ARTIFACT_TYPE,
    config: {
      mediaType: MEDIA_TYPES.ociEmpty,
      digest: digestOf(EMPTY_CONFIG),
      size: EMPTY_CONFIG.byteLength,
    },
    layers: [bundleDescriptor],
    subject,
    annotations: annotationsFor(bundle),
  };
  return utf8.encode(JSON.stringify(manifest));
}

/** The image's manifest descriptor (it must exist: a referrer's subject is a real image). */
export async function imageDescriptor(
  client: RegistryClient,
  image: ImageRef,
): Promise<Descriptor> {
  const m = await client.getManifest(
    image.digest,
    IMAGE_MANIFEST_TYPES,
    `image manifest ${image.digest}`,
  );
  if (!m)
    throw new StellaError(
      'IMAGE_NOT_FOUND',
      'registry',
      `image not found: ${formatImage(image)} (registry ${image.registry}, repository ${image.repository}, digest ${image.digest}): HTTP 404`,
      { registry: image.registry, repository: image.repository, digest: image.digest },
    );
  return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.byteLength };
}

/** Attach a bundle to an image as an OCI 1.1 referrer (and in the fallback index when needed). */
export async function attachBundle(opts: AttachOptions): Promise<AttachResult> {
  const { image } = opts;
  const bundle = parseBundle(opts.bundleBytes);
  const covers = artifactDigestsOf(bundle);
  if (!covers.includes(image.digest)) {
    throw new StellaError(
      'INPUT_INVALID',
      'input',
      `the bundle is for ${covers.join(', ') || 'no sha256 digest'}, not ${image.digest}: it cannot be attached to ${formatImage(image)}`,
    );
  }
  const client = new RegistryClient(image, opts);
  const subject = await imageDescriptor(client, image);
  await client.pushBlob(EMPTY_CONFIG, 'empty config blob');
  const bundleDigest = await client.pushBlob(opts.bundleBytes, 'bundle blob');
  const layer: Descriptor = {
    mediaType: BUNDLE_ARTIFACT_TYPE,
    digest: bundleDigest,
    size: opts.bundleBytes.byteLength,
  };
  const manifestBytes = buildReferrerManifest(bundle, layer, subject);
  const manifestDigest = digestOf(manifestBytes);
  const put = await client.putManifest(
    manifestDigest,
    manifestBytes,
    MEDIA_TYPES.ociManifest,
    `referrer manifest ${manifestDigest}`,
  );
  if (put.ociSubject === image.digest)
    return { image: formatImage(image), manifestDigest, indexedBy: 'referrers-api' };
  // The same annotations the manifest carries (annotationsFor is a pure function of the bundle).
  const annotations = annotationsFor(bundle);
  const descriptor: Descriptor = {
    mediaType: MEDIA_TYPES.ociManifest,
    digest: manifestDigest,
    size: manifestBytes.byteLength,
    artifactType: BUNDLE_ARTIFACT_TYPE,
    annotations,
  };
  const rounds = await updateReferrersIndex(client, image.digest, descriptor, opts);
  return {
    image: formatImage(image),
    manifestDigest,
    indexedBy: 'referrers-tag',
    tag: referrersTag(image.digest),
    rounds,
  };
}

export interface DiscoveredBundle {
  /** Where it came from, for reports: `registry R/REPO referrer sha256:…`. */
  source: string;
  bytes: Uint8Array;
  bundle: Bundle;
}

export interface SkippedItem {
  source: string;
  reason: string;
}

export interface DiscoveryResult {
  image: string;
  /** How the referrers were listed. */
  via: 'referrers-api' | 'referrers-tag';
  bundles: DiscoveredBundle[];
  /** Candidates that were bundles (or claimed to be) and failed a check: each a refusal. */
  refused: RefusedItem[];
  /** Referrers that are not Sigstore bundles, and legacy cosign content that cannot become one. */
  skipped: SkippedItem[];
}

type Manifest = NonNullable<Awaited<ReturnType<RegistryClient['getManifest']>>>['json'];

/** A referrer's subject must be the image; only the fallback tag may list one without a subject. */
function checkSubject(
  j: Manifest,
  image: ImageRef,
  via: DiscoveryResult['via'],
  what: string,
): void {
  if (j.subject !== undefined) {
    const subject = parseDescriptor(j.subject, `${what}: subject`);
    if (subject.digest !== image.digest) {
      throw new StellaError(
        'REGISTRY_RESPONSE_INVALID',
        'registry',
        `${what} is listed as a referrer of ${image.digest} but its subject is another image, ${subject.digest}`,
        { expected: image.digest, actual: subject.digest },
      );
    }
  } else if (via === 'referrers-api') {
    throw new StellaError(
      'REGISTRY_RESPONSE_INVALID',
      'registry',
      `${what}: the referrers API listed a manifest without a subject`,
    );
  }
}

/** The one bundle layer of a Sigstore bundle artifact, or why the referrer is something else. */
function bundleLayerOf(j: Manifest, what: string): Descriptor | { skip: string } {
  if (j.annotations !== undefined) parseAnnotations(j.annotations, what);
  const artifactType = typeof j.artifactType === 'string' ? j.artifactType : undefined;
  if (!Array.isArray(j.layers))
    throw new StellaError('REGISTRY_RESPONSE_INVALID', 'registry', `${what} has no layers array`);
  const layers = j.layers.map((l, i) => parseDescriptor(l, `${what}: layers[${i}]`));
  const bundleLayers = layers.filter((l) => isBundleMediaType(l.mediaType));
  if (bundleLayers.length === 0) {
    if (isBundleMediaType(artifactType))
      throw new StellaError(
        'REGISTRY_RESPONSE_INVALID',
        'registry',
        `${what} is a Sigstore bundle artifact without a bundle layer`,
      );
    return {
      skip: `not a Sigstore bundle (artifactType ${quoted(artifactType ?? layers[0]?.mediaType ?? 'none', 100)})`,
    };
  }
  if (layers.length !== 1)
    throw new StellaError(
      'REGISTRY_RESPONSE_INVALID',
      'registry',
      `${what} has ${layers.length} layers; a Sigstore bundle artifact has exactly one`,
    );
  return bundleLayers[0]!;
}

/** The bundle layer's blob: within the limit, the size its descriptor says, a bundle about the image. */
async function pullBundleLayer(
  client: RegistryClient,
  image: ImageRef,
  layer: Descriptor,
  what: string,
): Promise<{ bytes: Uint8Array; bundle: Bundle }> {
  if (layer.size > REGISTRY_LIMITS.maxBundleBytes) {
    throw new StellaError(
      'REGISTRY_LIMIT_EXCEEDED',
      'registry',
      `${what}: its bundle layer is ${layer.size} bytes, more than the ${REGISTRY_LIMITS.maxBundleBytes}-byte bundle limit`,
    );
  }
  const bytes = await client.getBlob(
    layer.digest,
    layer.size,
    `bundle layer ${layer.digest} of ${what}`,
  );
  if (bytes.byteLength !== layer.size)
    throw new StellaError(
      'REGISTRY_RESPONSE_INVALID',
      'registry',
      `bundle layer ${layer.digest} of ${what} is ${bytes.byteLength} bytes, its descriptor says ${layer.size}`,
    );
  const bundle = parseBundle(bytes);
  const covers = artifactDigestsOf(bundle);
  if (!covers.includes(image.digest)) {
    throw new StellaError(
      'REGISTRY_RESPONSE_INVALID',
      'registry',
      `${what} is attached to ${image.digest} but its bundle is for ${covers.join(', ') || 'no sha256 digest'}`,
      { expected: image.digest, actual: covers },
    );
  }
  return { bytes, bundle };
}

async function pullReferrer(
  client: RegistryClient,
  image: ImageRef,
  desc: Descriptor,
  via: DiscoveryResult['via'],
): Promise<{ bytes: Uint8Array; bundle: Bundle } | { skip: string }> {
  const what = `referrer manifest ${desc.digest}`;
  if (desc.size > REGISTRY_LIMITS.maxManifestBytes) {
    throw new StellaError(
      'REGISTRY_LIMIT_EXCEEDED',
      'registry',
      `${what} at ${client.name} is ${desc.size} bytes, more than the ${REGISTRY_LIMITS.maxManifestBytes}-byte limit`,
    );
  }
  const m = await client.getManifest(desc.digest, [MEDIA_TYPES.ociManifest], what);
  if (!m)
    throw new StellaError(
      'REGISTRY_RESPONSE_INVALID',
      'registry',
      `${what} is listed as a referrer of ${image.digest} but ${client.name} does not have it (HTTP 404)`,
    );
  // Its digest matched; its size must too, as for the bundle layer (until stop 61 a referrers
  // index could give any size up to the limit and the manifest was taken).
  if (m.bytes.byteLength !== desc.size)
    throw new StellaError(
      'REGISTRY_RESPONSE_INVALID',
      'registry',
      `${what} at ${client.name} is ${m.bytes.byteLength} bytes, its descriptor says ${desc.size}`,
    );
  checkSubject(m.json, image, via, what);
  const layer = bundleLayerOf(m.json, what);
  if ('skip' in layer) return layer;
  return pullBundleLayer(client, image, layer, what);
}

/** Every Sigstore bundle attached to an image: checked, deduplicated, with what was refused or skipped and why. */
export async function discoverBundles(
  image: ImageRef,
  opts: RegistryClientOptions = {},
): Promise<DiscoveryResult> {
  const client = new RegistryClient(image, opts);
  await imageDescriptor(client, image);
  let via: DiscoveryResult['via'] = 'referrers-api';
  let descriptors = await client.referrers(image.digest);
  if (descriptors === undefined) {
    via = 'referrers-tag';
    const tag = referrersTag(image.digest);
    const index = await client.getManifest(
      tag,
      [MEDIA_TYPES.ociIndex],
      `referrers index (tag ${tag})`,
    );
    descriptors = index
      ? parseIndex(index.bytes, `referrers index (tag ${tag}) from ${client.name}`)
      : [];
  }
  const result: DiscoveryResult = {
    image: formatImage(image),
    via,
    bundles: [],
    refused: [],
    skipped: [],
  };
  const seen = new Set<string>();
  const seenBundles = new Set<string>();
  const keep = (source: string, bytes: Uint8Array, bundle: Bundle) => {
    const d = digestOf(bytes);
    if (seenBundles.has(d)) return;
    seenBundles.add(d);
    result.bundles.push({ source, bytes, bundle });
  };
  for (const desc of descriptors) {
    if (seen.has(desc.digest)) continue;
    seen.add(desc.digest);
    const source = `registry ${client.name} referrer ${desc.digest}`;
    if (desc.artifactType !== undefined && !isBundleMediaType(desc.artifactType)) {
      result.skipped.push({
        source,
        reason: `not a Sigstore bundle (artifactType ${quoted(desc.artifactType, 100)})`,
      });
      continue;
    }
    if (desc.mediaType !== MEDIA_TYPES.ociManifest) {
      result.skipped.push({
        source,
        reason: `not an OCI image manifest (${quoted(desc.mediaType, 100)})`,
      });
      continue;
    }
    try {
      const r = await pullReferrer(client, image, desc, via);
      if ('skip' in r) result.skipped.push({ source, reason: r.skip });
      else keep(source, r.bytes, r.bundle);
    } catch (e) {
      if (isRegistryOutage(e)) throw e;
      result.refused.push({ source, failure: failureOf(e), error: e });
    }
  }
  const legacy = await readLegacyCosign(client, image);
  for (const b of legacy.bundles) keep(b.source, b.bytes, b.bundle);
  result.refused.push(...legacy.refused);
  result.skipped.push(...legacy.skipped);
  return result;
}

/** "no attestations found" for an image: names the registry, repository and digest, and what was looked at. */
export function noAttestationsFound(image: ImageRef, r: DiscoveryResult): StellaError {
  const where =
    r.via === 'referrers-api'
      ? 'the referrers API'
      : `the referrers tag ${referrersTag(image.digest)} (no referrers API)`;
  const skipped =
    r.skipped.length > 0
      ? `; ${r.skipped.length} other referrer(s) or legacy signature(s) skipped`
      : '';
  return new StellaError(
    'NO_ATTESTATIONS_FOUND',
    'registry',
    `no attestations found: registry ${image.registry}, repository ${image.repository}, digest ${image.digest} (looked at ${where} and the cosign tags ${referrersTag(image.digest)}.sig/.att${skipped})`,
    {
      registry: image.registry,
      repository: image.repository,
      digest: image.digest,
    },
  );
}
