/**
 * The checks `discoverBundles` and `attachBundle` (src/oci/bundles.ts) make on a bundle layer,
 * against a loopback registry written for the test: the bundle size limit at its edge, a
 * bundle that is not about the image it is attached to (another digest, or no SHA-256 one),
 * a bundle artifact with a second layer, and a referrers page that links to another origin.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import {
  attachBundle,
  BUNDLE_ARTIFACT_TYPE,
  buildReferrerManifest,
  discoverBundles,
} from '../../src/oci/bundles.js';
import { digestOf, MEDIA_TYPES, RegistryClient } from '../../src/oci/client.js';
import { REGISTRY_LIMITS } from '../../src/oci/http.js';
import { parseImageReference, referrersTag } from '../../src/oci/reference.js';
import { serializeBundle } from '../../src/bundle/serialize.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { StellaError } from '../../src/errors.js';
import { SAMPLES } from '../helpers/samples.js';
import { imageManifest, sendContent, startFakeRegistry, type Front } from '../helpers/oci.js';
import {
  AUTHORITY_CREATED_AT,
  ecSigner,
  signBlob,
  signBlobWithHash,
  testAuthority,
} from '../helpers/authority-bundles.js';

const enc = new TextEncoder();
const LIMIT = REGISTRY_LIMITS.maxBundleBytes;
const NOW = AUTHORITY_CREATED_AT + 60_000;
const authority = testAuthority('oci-bundles');

/** The image every referrer below is attached to, and another one. */
const IMAGE = imageManifest(enc.encode('{}'), enc.encode('the image'));
const OTHER = imageManifest(enc.encode('{}'), enc.encode('another image'));
const IMAGE_DIGEST = digestOf(IMAGE);
const subject = {
  mediaType: MEDIA_TYPES.ociManifest,
  digest: IMAGE_DIGEST,
  size: IMAGE.byteLength,
};

const signed = (artifact: Uint8Array) =>
  serializeBundle(signBlob(authority, artifact, { repo: 'org/repo', now: NOW }).bundle);

/** A bundle for the image, padded with JSON whitespace to `size` bytes (still one bundle). */
function bundleOfSize(size: number): Uint8Array {
  const json = signed(IMAGE);
  return enc.encode(json + ' '.repeat(size - enc.encode(json).byteLength));
}

interface Referrer {
  name: string;
  /** The bundle layer's bytes. */
  blob: Uint8Array;
  /** The size its descriptor claims (default: the blob's). */
  claimedSize?: number; /** A second layer beside the bundle's (a bundle artifact has exactly one). */
  extraLayer?: boolean;
  /** Changes to the referrer manifest (its artifactType, its layers' media types). */
  edit?: (m: { artifactType?: string; layers: { mediaType: string }[]; subject?: unknown }) => void;
  /** The referrers index lists it without an artifactType (allowed: the manifest then says). */
  untyped?: boolean;
  /** Listed only under the fallback tag (sha256-HEX), as by a registry without the referrers API. */
  fallback?: boolean;
  /** The size the referrers index gives for the referrer manifest (default: its own). */
  claimedManifestSize?: number;
}

/** One repository per referrer, so each discovery sees exactly one candidate. */
function serve(referrers: Referrer[]) {
  const routes = new Map<string, { type: string; bytes: Uint8Array }>();
  for (const r of referrers) {
    const layer = {
      mediaType: BUNDLE_ARTIFACT_TYPE,
      digest: digestOf(r.blob),
      size: r.claimedSize ?? r.blob.byteLength,
    };
    let manifest = buildReferrerManifest(parseBundle(r.blob), layer, subject);
    if (r.extraLayer) {
      const m = JSON.parse(new TextDecoder().decode(manifest)) as { layers: unknown[] };
      m.layers.push({ mediaType: 'application/octet-stream', digest: digestOf(IMAGE), size: 1 });
      manifest = enc.encode(JSON.stringify(m));
    }
    if (r.edit) {
      const m = JSON.parse(new TextDecoder().decode(manifest)) as Parameters<
        NonNullable<Referrer['edit']>
      >[0];
      r.edit(m);
      manifest = enc.encode(JSON.stringify(m));
    }
    const base = `/v2/org/${r.name}`;
    routes.set(`${base}/manifests/${IMAGE_DIGEST}`, {
      type: MEDIA_TYPES.ociManifest,
      bytes: IMAGE,
    });
    routes.set(`${base}/manifests/${digestOf(manifest)}`, {
      type: MEDIA_TYPES.ociManifest,
      bytes: manifest,
    });
    routes.set(`${base}/blobs/${layer.digest}`, {
      type: 'application/octet-stream',
      bytes: r.blob,
    });
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: digestOf(manifest),
          size: r.claimedManifestSize ?? manifest.byteLength,
          ...(r.untyped ? {} : { artifactType: BUNDLE_ARTIFACT_TYPE }),
        },
      ],
    };
    routes.set(
      r.fallback
        ? `${base}/manifests/${referrersTag(IMAGE_DIGEST)}`
        : `${base}/referrers/${IMAGE_DIGEST}`,
      { type: MEDIA_TYPES.ociIndex, bytes: enc.encode(JSON.stringify(index)) },
    );
  }
  return (res: ServerResponse, path: string): boolean => {
    const r = routes.get(path);
    return r !== undefined && sendContent(res, r.type, r.bytes);
  };
}

const AT_LIMIT = bundleOfSize(LIMIT);
const signedImage = enc.encode(signed(IMAGE));
const FOR_OTHER = enc.encode(signed(OTHER));
const SHA384_ONLY = enc.encode(
  serializeBundle(
    signBlobWithHash(authority, IMAGE, {
      repo: 'org/repo',
      now: NOW,
      signer: ecSigner('P-384'),
      hash: 'sha384',
    }).bundle,
  ),
);

let registry: Front;
test.before(async () => {
  const route = serve([
    { name: 'at-limit', blob: AT_LIMIT },
    // The descriptor claims one byte more than the limit: refused before the blob is asked for.
    { name: 'over-limit', blob: AT_LIMIT, claimedSize: LIMIT + 1 },
    { name: 'other', blob: FOR_OTHER },
    { name: 'sha384', blob: SHA384_ONLY },
    { name: 'two-layers', blob: signedImage, extraLayer: true },
    // The right digest, and a size one byte larger than the blob's.
    { name: 'size-lie', blob: signedImage, claimedSize: signedImage.byteLength + 1 },
    // Listed without an artifactType: the manifest says what it is. An SBOM is passed over; a
    // manifest typed as a bundle but holding none is refused.
    {
      name: 'sbom',
      blob: signedImage,
      untyped: true,
      edit: (m) => {
        m.artifactType = 'application/spdx+json';
        m.layers[0]!.mediaType = 'application/spdx+json';
      },
    },
    // No subject: the referrers API must not list such a manifest; the fallback tag may (its
    // tag names the image).
    ...[false, true].map((fallback) => ({
      name: fallback ? 'no-subject-fallback' : 'no-subject',
      blob: signedImage,
      fallback,
      edit: (m: { subject?: unknown }) => {
        delete m.subject;
      },
    })),
    // The index claims the manifest is as large as a manifest may be, or a byte larger.
    ...[0, 1].map((over) => ({
      name: `manifest-limit-${over}`,
      blob: signedImage,
      claimedManifestSize: REGISTRY_LIMITS.maxManifestBytes + over,
    })),
    {
      name: 'no-bundle-layer',
      blob: signedImage,
      untyped: true,
      edit: (m) => {
        m.layers[0]!.mediaType = 'application/octet-stream';
      },
    },
  ]);
  registry = await startFakeRegistry((_req, res, url) => route(res, url.pathname));
});
test.after.always(() => registry.close());

const OPTS = { allowInsecure: true, retries: 0 };
const image = (name: string) => parseImageReference(`${registry.host}/org/${name}@${IMAGE_DIGEST}`);

test('a bundle layer of exactly the bundle limit is read; its descriptor claiming one byte more is REGISTRY_LIMIT_EXCEEDED before the blob is asked for', async (t) => {
  t.is(AT_LIMIT.byteLength, LIMIT);
  const found = await discoverBundles(image('at-limit'), OPTS);
  t.deepEqual(found.refused, []);
  t.is(found.bundles.length, 1);
  t.is(found.bundles[0]!.bytes.byteLength, LIMIT);

  const over = await discoverBundles(image('over-limit'), OPTS);
  t.is(over.bundles.length, 0);
  t.is(over.refused.length, 1);
  const e = over.refused[0]!.error as StellaError;
  t.is(e.code, 'REGISTRY_LIMIT_EXCEEDED');
  t.regex(
    e.message,
    new RegExp(`its bundle layer is ${LIMIT + 1} bytes, more than the ${LIMIT}-byte bundle limit`),
  );
  // Only this image's requests: the file's other tests share the registry and run at once
  // (counted from a start index, one of theirs fetching a blob failed this test, stop 61).
  t.true(registry.requests.some((q) => q.includes('/v2/org/over-limit/manifests/')));
  t.false(
    registry.requests.some((q) => q.includes('/v2/org/over-limit/blobs/')),
    'the blob is never asked for',
  );
});

test('a referrer whose bundle is for another digest, or names no SHA-256 digest, is refused with what it is for', async (t) => {
  for (const [name, covers] of [
    ['other', [digestOf(OTHER)]],
    ['sha384', []],
  ] as const) {
    const found = await discoverBundles(image(name), OPTS);
    t.is(found.bundles.length, 0);
    const e = found.refused[0]!.error as StellaError;
    t.is(e.code, 'REGISTRY_RESPONSE_INVALID');
    const forWhat = covers.length > 0 ? covers.join(', ') : 'no sha256 digest';
    t.regex(
      e.message,
      new RegExp(`is attached to ${IMAGE_DIGEST} but its bundle is for ${forWhat}$`),
    );
    t.deepEqual(e.details, { expected: IMAGE_DIGEST, actual: covers });
  }
});

test('a referrer without a subject is refused from the referrers API; under the fallback tag, which names the image, it is read', async (t) => {
  const api = await discoverBundles(image('no-subject'), OPTS);
  t.is(api.via, 'referrers-api');
  t.is(api.bundles.length, 0);
  t.deepEqual(
    api.refused.map((r) => [r.failure.code, r.failure.message.replace(/^.*?: the/, 'X: the')]),
    [['REGISTRY_RESPONSE_INVALID', 'X: the referrers API listed a manifest without a subject']],
  );
  const tag = await discoverBundles(image('no-subject-fallback'), OPTS);
  t.is(tag.via, 'referrers-tag');
  t.deepEqual(tag.refused, []);
  t.is(tag.bundles.length, 1);
});

test('a referrer manifest the index says is exactly the manifest limit is asked for; one a byte larger is REGISTRY_LIMIT_EXCEEDED, never asked for', async (t) => {
  const LIMIT = REGISTRY_LIMITS.maxManifestBytes;
  const asked = (name: string) =>
    registry.requests.filter(
      // The referrer manifest by digest: not the image, not the legacy cosign tags.
      (q) => q.includes(`/v2/org/${name}/manifests/sha256:`) && !q.includes(IMAGE_DIGEST),
    );
  // At the limit it is fetched, and then refused for its real size, which is not the claimed
  // one (until stop 61 a manifest whose digest matched was taken whatever size the index gave).
  const at = await discoverBundles(image('manifest-limit-0'), OPTS);
  t.is(asked('manifest-limit-0').length, 1);
  t.is(at.bundles.length, 0);
  t.deepEqual(
    at.refused.map((r) => r.failure.code),
    ['REGISTRY_RESPONSE_INVALID'],
  );
  t.regex(
    at.refused[0]!.failure.message,
    new RegExp(
      `^referrer manifest sha256:[0-9a-f]{64} at .+ is \\d+ bytes, its descriptor says ${LIMIT}$`,
    ),
  );
  const over = await discoverBundles(image('manifest-limit-1'), OPTS);
  t.deepEqual(asked('manifest-limit-1'), [], 'never asked for');
  t.deepEqual(
    over.refused.map((r) => [r.failure.code, r.failure.message.replace(/^.*? at /, 'X at ')]),
    [
      [
        'REGISTRY_LIMIT_EXCEEDED',
        `X at ${registry.host}/org/manifest-limit-1 is ${LIMIT + 1} bytes, more than the ${LIMIT}-byte limit`,
      ],
    ],
  );
});

test('a bundle artifact with a layer beside its bundle is refused: it has exactly one', async (t) => {
  const found = await discoverBundles(image('two-layers'), OPTS);
  t.is(found.bundles.length, 0);
  const e = found.refused[0]!.error as StellaError;
  t.is(e.code, 'REGISTRY_RESPONSE_INVALID');
  t.regex(e.message, /has 2 layers; a Sigstore bundle artifact has exactly one$/);
});

test('a referrer the index lists untyped is judged by its manifest: another artifact type is passed over, a bundle-typed one without a bundle layer refused', async (t) => {
  const sbom = await discoverBundles(image('sbom'), OPTS);
  t.deepEqual(sbom.bundles, []);
  t.deepEqual(sbom.refused, []);
  t.is(sbom.skipped.length, 1);
  t.regex(
    sbom.skipped[0]!.reason,
    /^not a Sigstore bundle \(artifactType "application\/spdx\+json"\)$/,
  );
  const empty = await discoverBundles(image('no-bundle-layer'), OPTS);
  t.deepEqual(empty.bundles, []);
  t.deepEqual(empty.skipped, []);
  const e = empty.refused[0]!.error as StellaError;
  t.is(e.code, 'REGISTRY_RESPONSE_INVALID');
  t.regex(e.message, /is a Sigstore bundle artifact without a bundle layer$/);
});

test("a bundle layer whose descriptor gives another size than the blob's is refused, naming both", async (t) => {
  const found = await discoverBundles(image('size-lie'), OPTS);
  t.is(found.bundles.length, 0);
  const e = found.refused[0]!.error as StellaError;
  t.is(e.code, 'REGISTRY_RESPONSE_INVALID');
  t.regex(
    e.message,
    new RegExp(
      `is ${signedImage.byteLength} bytes, its descriptor says ${signedImage.byteLength + 1}$`,
    ),
  );
});

/**
 * A registry whose referrers page for IMAGE_DIGEST (empty) carries `link(pathname)` as its
 * Link header, and a client of it; `requests` counts what the registry was asked.
 */
async function referrersPageLinking(
  t: import('ava').ExecutionContext,
  link: (pathname: string) => string,
): Promise<{ client: RegistryClient; requests: readonly unknown[] }> {
  const front = await startFakeRegistry((_req, res, url) => {
    if (!url.pathname.endsWith(`/referrers/${IMAGE_DIGEST}`)) return false;
    res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociIndex, Link: link(url.pathname) });
    res.end(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] }));
    return true;
  });
  t.teardown(() => front.close());
  const client = new RegistryClient(
    parseImageReference(`${front.host}/org/app@${IMAGE_DIGEST}`),
    OPTS,
  );
  return { client, requests: front.requests };
}

test("a referrers page whose next page is on another origin is refused: the registry's credentials stay with it", async (t) => {
  const { client, requests } = await referrersPageLinking(
    t,
    (pathname) => `<http://elsewhere.invalid${pathname}?page=2>; rel="next"`,
  );
  const e = await t.throwsAsync(client.referrers(IMAGE_DIGEST), { instanceOf: StellaError });
  t.is(e?.code, 'REGISTRY_RESPONSE_INVALID');
  t.regex(e?.message ?? '', /: the next page is on another origin$/);
  t.is(requests.length, 1, 'the other origin is never asked');
});

test('a referrers page whose next link is not a URL is refused, not read as the last page', async (t) => {
  const { client } = await referrersPageLinking(t, () => '<http://[::1>; rel="next"');
  const e = await t.throwsAsync(client.referrers(IMAGE_DIGEST), { instanceOf: StellaError });
  t.is(e?.code, 'REGISTRY_RESPONSE_INVALID');
  // Named as every other refusal of the page is: which page, from which registry.
  t.regex(
    e?.message ?? '',
    /^referrers of sha256:[0-9a-f]{64} from .+: its next page link "http:\/\/\[::1" is not a URL$/,
  );
});

test('attaching a bundle that names no SHA-256 digest is refused before the registry is asked', async (t) => {
  // An image no other test uses: the file's tests share the registry and run at once.
  const e = await t.throwsAsync(
    attachBundle({ ...OPTS, image: image('attach-sha384'), bundleBytes: SHA384_ONLY }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'INPUT_INVALID');
  t.regex(
    e.message,
    new RegExp(
      `^the bundle is for no sha256 digest, not ${IMAGE_DIGEST}: it cannot be attached to `,
    ),
  );
  t.deepEqual(
    registry.requests.filter((q) => q.includes('/org/attach-sha384/')),
    [],
  );
});

test("a referrer manifest's annotations: content kind, an in-toto predicate type, the log time", (t) => {
  const sample = (f: string) => parseBundle(readFileSync(path.join(SAMPLES, f)));
  const annotationsOf = (b: ReturnType<typeof sample>) =>
    (
      JSON.parse(
        new TextDecoder().decode(
          buildReferrerManifest(
            b,
            { mediaType: BUNDLE_ARTIFACT_TYPE, digest: `sha256:${'a'.repeat(64)}`, size: 1 },
            { mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${'b'.repeat(64)}`, size: 2 },
          ),
        ),
      ) as { annotations: Record<string, string> }
    ).annotations;
  const attestation = sample('attestation.sigstore.json');
  t.deepEqual(annotationsOf(attestation), {
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
    'org.opencontainers.image.created': '2025-06-01T12:02:05Z',
  });
  t.deepEqual(annotationsOf(sample('blob.sigstore.json')), {
    'dev.sigstore.bundle.content': 'message-signature',
    'org.opencontainers.image.created': new Date(
      sample('blob.sigstore.json').verificationMaterial.tlogEntries[0]!.integratedTime * 1000,
    )
      .toISOString()
      .replace('.000Z', 'Z'),
  });
  // A Rekor v2 entry has no log time: no creation time rather than the clock's.
  t.deepEqual(annotationsOf(sample('rekor-v2.sigstore.json')), {
    'dev.sigstore.bundle.content': 'message-signature',
  });
  // A DSSE payload that is not an in-toto statement has no predicate type, and is not parsed as one.
  if (attestation.content.kind !== 'dsseEnvelope') return t.fail('sample is not DSSE');
  const other = {
    ...attestation,
    content: { ...attestation.content, payloadType: 'text/plain', payload: enc.encode('hello') },
  };
  t.false('dev.sigstore.bundle.predicateType' in annotationsOf(other));
});
