/**
 * Bundles attached to images in a real registry (Debian's docker-registry, the CNCF
 * distribution registry 2.8, on loopback; it has no referrers API, so the fallback tag is
 * exercised for real) and through a loopback referrers-API front computed from that
 * registry's own manifests. Bundles are signed in process against the loopback sandbox.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSandbox } from '../../src/sandbox/server/sandbox.js';
import { runSign } from '../../src/commands/attest/sign-run.js';
import { attachBundle, BUNDLE_ARTIFACT_TYPE, discoverBundles } from '../../src/oci/bundles.js';
import { RegistryClient, MEDIA_TYPES, digestOf } from '../../src/oci/client.js';
import { parseImageReference, referrersTag, type ImageRef } from '../../src/oci/reference.js';
import { StellaError } from '../../src/errors.js';
import { pushTestImage, startReferrersFront } from '../helpers/oci.js';
import { registryMissingReason, type RunningRegistry } from '../helpers/registry.js';
import { withSandboxAndRegistry } from '../helpers/registry-hooks.js';
import { verifyWithStella } from '../sign/helpers.js';

const missing = registryMissingReason();
const GITHUB_SAN = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const enc = new TextEncoder();

let sandbox: RunningSandbox;
let registry: RunningRegistry;
let root: string;

if (missing) {
  // Declared skipped, not passed: the registry binary is absent (npm test's pretest installs it).
  test.skip(`OCI registry (real registry) [skipped: ${missing}]`, () => {});
} else {
  withSandboxAndRegistry('stella-oci-', (started) => ({ sandbox, registry, root } = started));

  const opts = { allowInsecure: true };

  async function signDigest(digest: string, predicate?: unknown): Promise<string> {
    const dir = mkdtempSync(join(root, 'sign-'));
    let predicatePath: string | undefined;
    if (predicate !== undefined) {
      predicatePath = join(dir, 'predicate.json');
      writeFileSync(predicatePath, JSON.stringify(predicate));
    }
    const r = await runSign({
      artifact: digest,
      type: 'image',
      identityToken: sandbox.mintToken({ platform: 'github', repo: 'org/repo' }),
      configPath: sandbox.signerConfigPath,
      outputPath: join(dir, 'b.sigstore.json'),
      attestationStorePath: false,
      env: {},
      ...(predicatePath ? { predicatePath, predicateType: 'https://example.com/test/v1' } : {}),
    });
    return r.bundleJson;
  }

  test.serial(
    "fallback tag (no referrers API): attach, find again, attach twice adds nothing, layout is cosign/@sigstore/oci's",
    async (t) => {
      const image = await pushTestImage(registry.host, 'org/fallback', 'fallback image');
      const bundleJson = await signDigest(image.digest);
      const r = await attachBundle({
        ...opts,
        image,
        bundleBytes: enc.encode(bundleJson),
        settleMs: 50,
        windowMs: 10_000,
      });
      t.is(r.indexedBy, 'referrers-tag');
      t.is(r.tag, referrersTag(image.digest));
      t.is(r.rounds, 2, 'one push, then the settle read finds it');

      // The manifest, as cosign --new-bundle-format and @sigstore/oci write it.
      const client = new RegistryClient(image, opts);
      const m = (await client.getManifest(
        r.manifestDigest,
        [MEDIA_TYPES.ociManifest],
        'referrer',
      ))!;
      t.is(m.json.artifactType, BUNDLE_ARTIFACT_TYPE);
      t.deepEqual(m.json.config, {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
      });
      const layers = m.json.layers as { mediaType: string; digest: string; size: number }[];
      t.is(layers.length, 1);
      t.is(layers[0]!.mediaType, BUNDLE_ARTIFACT_TYPE);
      t.is(layers[0]!.digest, digestOf(enc.encode(bundleJson)));
      t.is((m.json.subject as { digest: string }).digest, image.digest);
      t.is(
        (m.json.annotations as Record<string, string>)['dev.sigstore.bundle.content'],
        'message-signature',
      );
      t.regex(
        (m.json.annotations as Record<string, string>)['org.opencontainers.image.created']!,
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      );
      const index = (await client.getManifest(
        referrersTag(image.digest),
        [MEDIA_TYPES.ociIndex],
        'index',
      ))!;
      const entries = index.json.manifests as { digest: string; artifactType: string }[];
      t.deepEqual(
        entries.map((e) => [e.digest, e.artifactType]),
        [[r.manifestDigest, BUNDLE_ARTIFACT_TYPE]],
      );

      const found = await discoverBundles(image, opts);
      t.is(found.via, 'referrers-tag');
      t.is(found.bundles.length, 1);
      t.is(
        Buffer.from(found.bundles[0]!.bytes).toString('utf8'),
        bundleJson,
        'the bytes exactly as signed',
      );
      t.deepEqual(found.refused, []);
      await t.notThrowsAsync(
        verifyWithStella(bundleJson, sandbox.trustedRootPath, image.digest, {
          san: GITHUB_SAN,
          issuer: sandbox.urls.oidcIssuer,
        }),
      );

      // Attaching the same bundle again: same manifest (its time is the bundle's), index unchanged.
      const again = await attachBundle({
        ...opts,
        image,
        bundleBytes: enc.encode(bundleJson),
        settleMs: 50,
        windowMs: 10_000,
      });
      t.is(again.manifestDigest, r.manifestDigest);
      t.is(again.rounds, 1);
      const index2 = (await client.getManifest(
        referrersTag(image.digest),
        [MEDIA_TYPES.ociIndex],
        'index',
      ))!;
      t.is((index2.json.manifests as unknown[]).length, 1);
    },
  );

  test.serial(
    'referrers API (front computed from the real registry): attach says OCI-Subject, no fallback tag; discovery uses the API',
    async (t) => {
      const front = await startReferrersFront(registry.host);
      t.teardown(() => front.close());
      const image = await pushTestImage(front.host, 'org/api', 'api image');
      const attestation = await signDigest(image.digest, { built: 'by the test' });
      const signature = await signDigest(image.digest);
      for (const b of [signature, attestation]) {
        const r = await attachBundle({ ...opts, image, bundleBytes: enc.encode(b), settleMs: 50 });
        t.is(r.indexedBy, 'referrers-api');
      }
      // No fallback tag was written in the registry behind the front.
      const direct = new RegistryClient(
        parseImageReference(`${registry.host}/org/api@${image.digest}`),
        opts,
      );
      t.is(
        await direct.getManifest(referrersTag(image.digest), [MEDIA_TYPES.ociIndex], 'index'),
        undefined,
      );

      const found = await discoverBundles(image, opts);
      t.is(found.via, 'referrers-api');
      t.deepEqual(
        found.bundles.map((b) => Buffer.from(b.bytes).toString('utf8')).sort(),
        [signature, attestation].sort(),
      );
      t.true(front.requests.some((r) => r.startsWith(`GET /v2/org/api/referrers/${image.digest}`)));

      // The registry alone (no API, no tag): nothing, and the message names where it looked.
      const none = await discoverBundles(
        parseImageReference(`${registry.host}/org/api@${image.digest}`),
        opts,
      );
      t.is(none.bundles.length, 0);
      t.is(none.via, 'referrers-tag');
    },
  );

  test.serial(
    'two clients attaching to one image at the same moment lose nothing (reads forced to overlap)',
    async (t) => {
      // Every read of the referrers tag is held 300 ms, so all four clients read the empty index
      // before any of them pushes: each one's first push overwrites the others'.
      const front = await startReferrersFront(registry.host, {
        referrersApi: false,
        delayTagReadsMs: 300,
      });
      t.teardown(() => front.close());
      const image = await pushTestImage(front.host, 'org/race', 'race image');
      const bundles = await Promise.all([0, 1, 2, 3].map(() => signDigest(image.digest)));
      const results = await Promise.all(
        bundles.map((b) =>
          attachBundle({
            ...opts,
            image,
            bundleBytes: enc.encode(b),
            settleMs: 1500,
            windowMs: 1000,
          }),
        ),
      );
      t.true(results.every((r) => r.indexedBy === 'referrers-tag'));
      t.true(
        results.some((r) => (r.rounds ?? 0) > 2),
        `at least one client had to repair the index (rounds: ${results.map((r) => r.rounds).join(', ')})`,
      );
      const client = new RegistryClient(
        parseImageReference(`${registry.host}/org/race@${image.digest}`),
        opts,
      );
      const index = (await client.getManifest(
        referrersTag(image.digest),
        [MEDIA_TYPES.ociIndex],
        'index',
      ))!;
      const digests = (index.json.manifests as { digest: string }[]).map((e) => e.digest).sort();
      t.deepEqual(
        digests,
        results.map((r) => r.manifestDigest).sort(),
        "every client's referrer is in the index",
      );
      const found = await discoverBundles(
        parseImageReference(`${registry.host}/org/race@${image.digest}`),
        opts,
      );
      t.is(found.bundles.length, 4);
    },
  );

  test.serial(
    'a bundle for another digest is not attached; an image that is not there is IMAGE_NOT_FOUND',
    async (t) => {
      const image = await pushTestImage(registry.host, 'org/other', 'other image');
      const elsewhere = await pushTestImage(registry.host, 'org/other', 'second image');
      const bundleJson = await signDigest(elsewhere.digest);
      const e1 = await t.throwsAsync(
        attachBundle({ ...opts, image, bundleBytes: enc.encode(bundleJson) }),
        { instanceOf: StellaError },
      );
      t.is(e1.code, 'INPUT_INVALID');
      const ghost: ImageRef = { ...image, digest: `sha256:${'0'.repeat(64)}` };
      const e2 = await t.throwsAsync(discoverBundles(ghost, opts), { instanceOf: StellaError });
      t.is(e2.code, 'IMAGE_NOT_FOUND');
      t.regex(
        e2.message,
        new RegExp(
          `registry ${registry.host.replace(/\./g, '\\.')}, repository org/other, digest sha256:0{64}`,
        ),
      );
    },
  );

  test.serial(
    'plain HTTP only with allowInsecure: without it a loopback registry is contacted over HTTPS and fails with a hint',
    async (t) => {
      const image = await pushTestImage(registry.host, 'org/tls', 'tls image');
      const e = await t.throwsAsync(discoverBundles(image, { retries: 0 }), {
        instanceOf: StellaError,
      });
      t.is(e.code, 'REGISTRY_UNAVAILABLE');
      t.regex(e.message, /--allow-insecure-registry/);
      t.regex(e.message, /https:\/\/127\.0\.0\.1/);
    },
  );
}
