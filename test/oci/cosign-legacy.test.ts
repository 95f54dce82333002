/**
 * Legacy cosign tags in a real registry: a `.att` attestation (DSSE envelope + certificate and
 * Rekor annotations, built here from a bundle the sandbox signed, the way cosign stores one)
 * comes back as a bundle v0.1 that verifies; a `.sig` simple-signing layer is skipped with its
 * reason; export refuses the v0.1 bundle (no inclusion proof) and says why.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSandbox } from '../../src/sandbox/server/sandbox.js';
import { runSign } from '../../src/commands/attest/sign-run.js';
import { discoverBundles } from '../../src/oci/bundles.js';
import { bundleFromCosignAttestation } from '../../src/oci/cosign-legacy.js';
import { StellaError } from '../../src/errors.js';
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { RegistryClient, MEDIA_TYPES, digestOf } from '../../src/oci/client.js';
import { REGISTRY_LIMITS } from '../../src/oci/http.js';
import { parseImageReference, referrersTag } from '../../src/oci/reference.js';
import { buildExportArchive } from '../../src/archive/export.js';
import {
  cosignAttestationParts,
  imageManifest,
  pushTestImage,
  sendContent,
  startFakeRegistry,
} from '../helpers/oci.js';
import { registryMissingReason, type RunningRegistry } from '../helpers/registry.js';
import { withSandboxAndRegistry } from '../helpers/registry-hooks.js';
import { verifyWithStella } from '../sign/helpers.js';
import { runCli } from '../helpers/cli.js';
import { cosignRekorBundleOf } from '../helpers/cosign-legacy-file.js';
import { OFFLINE } from '../helpers/consistency-kit.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

const missing = registryMissingReason();
const enc = new TextEncoder();

/** cosign's annotations for the sample attestation bundle, the Rekor entry's body replaced by `body`. */
function sampleAnnotations(body?: string) {
  const b = JSON.parse(
    readFileSync(join(PROJECT_ROOT, 'samples', 'attestation.sigstore.json'), 'utf8'),
  );
  const parts = cosignAttestationParts(b)!;
  return {
    envelope: enc.encode(JSON.stringify(parts.envelope)),
    entry: b.verificationMaterial.tlogEntries[0],
    annotations: {
      'dev.sigstore.cosign/certificate': `-----BEGIN CERTIFICATE-----\n${parts.certificateB64}\n-----END CERTIFICATE-----\n`,
      'dev.sigstore.cosign/bundle': JSON.stringify({
        ...parts.rekor,
        Payload: { ...parts.rekor.Payload, body: body ?? parts.rekor.Payload.body },
      }),
    },
  };
}

test('a cosign Rekor annotation becomes the tlog entry of the bundle; its body is read strictly (base64, then JSON)', (t) => {
  const ok = sampleAnnotations();
  const made = JSON.parse(
    Buffer.from(bundleFromCosignAttestation(ok.envelope, ok.annotations, 'layer')).toString('utf8'),
  );
  const e = made.verificationMaterial.tlogEntries[0];
  t.is(e.logId.keyId, ok.entry.logId.keyId);
  t.deepEqual(e.kindVersion, ok.entry.kindVersion);
  t.is(e.canonicalizedBody, ok.entry.canonicalizedBody);
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  for (const [body, why] of [
    // Buffer's decoder would skip the junk and the spaces and read the JSON in the rest.
    [`${ok.entry.canonicalizedBody}!!`, /the Rekor entry body: invalid base64/],
    [ok.entry.canonicalizedBody.slice(0, -1), /the Rekor entry body: invalid base64/],
    [
      b64('{"kind":"dsse","kind":"hashedrekord","apiVersion":"0.0.1"}'),
      /malformed JSON in layer: dev\.sigstore\.cosign\/bundle: the Rekor entry body: duplicate key "kind"/,
    ],
    [
      b64('{"kind":"dsse","apiVersion":"0.0.1"} x'),
      /malformed JSON in layer: dev\.sigstore\.cosign\/bundle: the Rekor entry body/,
    ],
    [b64('{"kind":"dsse"}'), /the Rekor entry body has no kind and apiVersion/],
  ] as const) {
    const bad = sampleAnnotations(body);
    const err = t.throws(
      () => bundleFromCosignAttestation(bad.envelope, bad.annotations, 'layer'),
      { instanceOf: StellaError },
    );
    t.is(err?.code, 'REGISTRY_RESPONSE_INVALID', err?.message);
    t.regex(err?.message ?? '', why);
  }
});

test("cosign's Rekor annotation must have its shape: each part missing or mistyped is REGISTRY_RESPONSE_INVALID naming it", (t) => {
  const ok = sampleAnnotations();
  const good = JSON.parse(ok.annotations['dev.sigstore.cosign/bundle']) as {
    SignedEntryTimestamp: string;
    Payload: Record<string, unknown>;
  };
  const shape = /dev\.sigstore\.cosign\/bundle is not a cosign Rekor bundle/;
  const fields = /dev\.sigstore\.cosign\/bundle lacks body, integratedTime, logIndex or logID/;
  for (const [rekor, why] of [
    [[good], shape],
    ['"a string"', shape],
    [{ Payload: good.Payload }, shape],
    [{ ...good, SignedEntryTimestamp: 7 }, shape],
    [{ ...good, Payload: [good.Payload] }, shape],
    [{ ...good, Payload: { ...good.Payload, body: undefined } }, fields],
    [{ ...good, Payload: { ...good.Payload, logID: 'AB'.repeat(32) } }, fields],
    [{ ...good, Payload: { ...good.Payload, logID: 'ab'.repeat(31) } }, fields],
    [{ ...good, Payload: { ...good.Payload, integratedTime: '1700000000' } }, fields],
    [{ ...good, Payload: { ...good.Payload, logIndex: 1.5 } }, fields],
  ] as const) {
    const annotations = {
      ...ok.annotations,
      'dev.sigstore.cosign/bundle': typeof rekor === 'string' ? rekor : JSON.stringify(rekor),
    };
    const err = t.throws(() => bundleFromCosignAttestation(ok.envelope, annotations, 'layer'), {
      instanceOf: StellaError,
    });
    t.is(err.code, 'REGISTRY_RESPONSE_INVALID', err.message);
    t.regex(err.message, why);
  }
});

test("a cosign certificate annotation that is not a PEM certificate is refused as the registry's answer, naming the layer and the annotation", (t) => {
  const ok = sampleAnnotations();
  const pem = ok.annotations['dev.sigstore.cosign/certificate'];
  for (const [text, why] of [
    ['not a certificate', /no CERTIFICATE block found/],
    [pem.replaceAll('CERTIFICATE', 'PUBLIC KEY'), /expected CERTIFICATE, found PUBLIC KEY/],
    [
      pem.replace('-----END CERTIFICATE-----', '-----END PUBLIC KEY-----'),
      /BEGIN CERTIFICATE closed by END PUBLIC KEY/,
    ],
  ] as const) {
    const annotations = { ...ok.annotations, 'dev.sigstore.cosign/certificate': text };
    const err = t.throws(
      () => bundleFromCosignAttestation(ok.envelope, annotations, 'sha256-ab.att layer 0'),
      {
        instanceOf: StellaError,
      },
    );
    t.is(err.code, 'REGISTRY_RESPONSE_INVALID', err.message);
    t.is(err.check, 'registry');
    t.regex(err.message, /^sha256-ab\.att layer 0: dev\.sigstore\.cosign\/certificate: /);
    t.regex(err.message, why);
  }
  // A chain in the annotation: the first block is the leaf, as cosign writes it.
  const twice = { ...ok.annotations, 'dev.sigstore.cosign/certificate': pem + pem };
  t.notThrows(() => bundleFromCosignAttestation(ok.envelope, twice, 'layer'));
});

test('a cosign .att layer without the certificate or the Rekor annotation is skipped with its reason (key-based, or not logged); a layer that is not DSSE is refused', (t) => {
  const ok = sampleAnnotations();
  const without = (key: keyof typeof ok.annotations) =>
    Object.fromEntries(Object.entries(ok.annotations).filter(([k]) => k !== key));
  const keyBased = without('dev.sigstore.cosign/certificate');
  const noCert = t.throws(() => bundleFromCosignAttestation(ok.envelope, keyBased, 'layer'));
  t.false(noCert instanceof StellaError, 'a skip, not a refusal');
  t.regex(noCert.message, /no certificate annotation: a key-based attestation, not keyless/);
  const unlogged = without('dev.sigstore.cosign/bundle');
  const noRekor = t.throws(() => bundleFromCosignAttestation(ok.envelope, unlogged, 'layer'));
  t.false(noRekor instanceof StellaError);
  t.regex(noRekor.message, /no Rekor entry annotation .*not logged/);
  for (const envelope of [
    '[]',
    '{"payload":"e30=","payloadType":"x"}',
    '{"payload":1,"payloadType":"x","signatures":[]}',
  ]) {
    const err = t.throws(
      () => bundleFromCosignAttestation(enc.encode(envelope), ok.annotations, 'layer'),
      { instanceOf: StellaError },
    );
    t.is(err.code, 'REGISTRY_RESPONSE_INVALID');
    t.regex(err.message, /layer is not a DSSE envelope/);
  }
});

/**
 * A fake registry serving one image and its legacy `.att` tag, whose one layer (with the
 * sample's annotations) is `blob`, served by `serveBlob`; or whose layers are `layers` when
 * given. Returns the image reference.
 */
async function legacyAttRegistry(
  t: import('ava').ExecutionContext,
  blob: Uint8Array,
  serveBlob: (res: import('node:http').ServerResponse) => boolean,
  layers: unknown[] = [
    {
      mediaType: 'application/vnd.dsse.envelope.v1+json',
      digest: digestOf(blob),
      size: blob.byteLength,
      annotations: sampleAnnotations().annotations,
    },
  ],
): Promise<string> {
  const image = imageManifest(enc.encode('{}'), enc.encode('the legacy image'));
  const imageDigest = digestOf(image);
  const att = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: digestOf(enc.encode('{}')), size: 2 },
      layers,
    }),
  );
  const registry = await startFakeRegistry((_req, res, url) => {
    if (url.pathname === `/v2/org/legacy/manifests/${imageDigest}`)
      return sendContent(res, MEDIA_TYPES.ociManifest, image);
    if (url.pathname === `/v2/org/legacy/manifests/${referrersTag(imageDigest)}.att`)
      return sendContent(res, MEDIA_TYPES.ociManifest, att);
    if (url.pathname === `/v2/org/legacy/blobs/${digestOf(blob)}`) return serveBlob(res);
    return false;
  });
  t.teardown(() => registry.close());
  return `${registry.host}/org/legacy@${imageDigest}`;
}

test('a legacy .att layer that is not DSSE is refused by name from a registry (REGISTRY_RESPONSE_INVALID), the pull going on', async (t) => {
  const notDsse = enc.encode('[]');
  const image = await legacyAttRegistry(t, notDsse, (res) =>
    sendContent(res, 'application/octet-stream', notDsse),
  );
  const found = await discoverBundles(parseImageReference(image), {
    allowInsecure: true,
    retries: 0,
  });
  t.is(found.bundles.length, 0);
  t.is(found.refused.length, 1);
  t.is(found.refused[0]!.failure.code, 'REGISTRY_RESPONSE_INVALID');
  t.regex(found.refused[0]!.failure.message, /layer 0 is not a DSSE envelope/);
});

test('a registry outage while a legacy .att layer is read stops the whole pull (REGISTRY_UNAVAILABLE), never a refusal of that one layer', async (t) => {
  // The image and its .att tag are served; the layer's blob answers 503 (a registry down).
  const image = await legacyAttRegistry(t, sampleAnnotations().envelope, (res) => {
    res.writeHead(503).end();
    return true;
  });
  const e = await t.throwsAsync(
    discoverBundles(parseImageReference(image), { allowInsecure: true, retries: 0 }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'REGISTRY_UNAVAILABLE', e.message);
});

test('a legacy .att tag of 1,024 layers is read layer by layer; one of 1,025 is refused whole (REGISTRY_LIMIT_EXCEEDED naming the count)', async (t) => {
  // Layers of another media type: each is skipped with its reason, no blob fetched, so the
  // count alone decides.
  const other = (i: number) => ({
    mediaType: 'application/vnd.example.not-cosign',
    digest: digestOf(enc.encode(`layer ${i}`)),
    size: 7,
  });
  const discover = async (count: number) =>
    discoverBundles(
      parseImageReference(
        await legacyAttRegistry(
          t,
          new Uint8Array(0),
          () => false,
          Array.from({ length: count }, (_, i) => other(i)),
        ),
      ),
      { allowInsecure: true, retries: 0 },
    );
  const atLimit = await discover(REGISTRY_LIMITS.maxReferrers);
  t.is(REGISTRY_LIMITS.maxReferrers, 1024);
  t.deepEqual(atLimit.refused, []);
  t.is(atLimit.skipped.length, 1024);
  t.regex(atLimit.skipped[1023]!.source, /\.att layer 1023$/);
  t.regex(atLimit.skipped[1023]!.reason, /not-cosign" is not a cosign attestation/);
  const past = await discover(REGISTRY_LIMITS.maxReferrers + 1);
  t.deepEqual(past.skipped, []);
  t.deepEqual(
    past.refused.map((r) => [
      r.failure.code,
      r.failure.message.replace(/sha256-[0-9a-f]{64}/, 'TAG'),
    ]),
    [['REGISTRY_LIMIT_EXCEEDED', 'TAG.att has 1025 layers, more than 1024']],
  );
});

test('a legacy .att layer of exactly the bundle limit is fetched; one whose descriptor claims a byte more is REGISTRY_LIMIT_EXCEEDED, its blob never asked for', async (t) => {
  const LIMIT = REGISTRY_LIMITS.maxBundleBytes;
  // Spaces, no envelope: fetched, it is refused for what it holds, not for its size.
  const blob = new Uint8Array(LIMIT).fill(0x20);
  let blobAsked = 0;
  const discover = async (size: number) =>
    discoverBundles(
      parseImageReference(
        await legacyAttRegistry(
          t,
          blob,
          (res) => {
            blobAsked++;
            return sendContent(res, 'application/octet-stream', blob);
          },
          [
            {
              mediaType: 'application/vnd.dsse.envelope.v1+json',
              digest: digestOf(blob),
              size,
              annotations: sampleAnnotations().annotations,
            },
          ],
        ),
      ),
      { allowInsecure: true, retries: 0 },
    );
  const atLimit = await discover(LIMIT);
  t.is(blobAsked, 1);
  t.deepEqual(
    atLimit.refused.map((r) => r.failure.code),
    ['REGISTRY_RESPONSE_INVALID'],
  );
  t.regex(
    atLimit.refused[0]!.failure.message,
    /^malformed JSON in .*\.att layer 0: the input is empty/,
  );
  const over = await discover(LIMIT + 1);
  t.is(blobAsked, 1, 'the blob is never asked for');
  t.deepEqual(
    over.refused.map((r) => [
      r.failure.code,
      r.failure.message.replace(/sha256-[0-9a-f]{64}/, 'TAG'),
    ]),
    [['REGISTRY_LIMIT_EXCEEDED', `TAG.att layer 0 is ${LIMIT + 1} bytes, more than ${LIMIT}`]],
  );
});

if (missing) {
  // Declared skipped, not passed: the registry binary is absent (npm test's pretest installs it).
  test.skip(`legacy cosign tags (real registry) [skipped: ${missing}]`, () => {});
} else {
  let sandbox: RunningSandbox;
  let registry: RunningRegistry;
  let root: string;
  withSandboxAndRegistry('stella-cosign-', (started) => ({ sandbox, registry, root } = started));

  test('a cosign .att becomes a verifying bundle v0.1; a key-based .att layer and a .sig are skipped with their reasons; export refuses the v0.1 bundle for its missing proof, and carries it with --refresh-proofs', async (t) => {
    const opts = { allowInsecure: true };
    const image = await pushTestImage(registry.host, 'org/legacy', 'legacy image');
    const predicate = join(root, 'predicate.json');
    writeFileSync(predicate, JSON.stringify({ builder: 'legacy' }));
    const signed = await runSign({
      artifact: image.digest,
      type: 'image',
      predicatePath: predicate,
      predicateType: 'https://example.com/legacy/v1',
      identityToken: sandbox.mintToken({ platform: 'github', repo: 'org/repo' }),
      configPath: sandbox.signerConfigPath,
      outputPath: join(root, 'att.sigstore.json'),
      attestationStorePath: false,
      env: {},
    });
    const b = JSON.parse(signed.bundleJson);
    const entry = b.verificationMaterial.tlogEntries[0];
    const envelope = enc.encode(JSON.stringify(b.dsseEnvelope));
    const pem = `-----BEGIN CERTIFICATE-----\n${b.verificationMaterial.certificate.rawBytes}\n-----END CERTIFICATE-----\n`;
    const rekorBundle = JSON.stringify(cosignRekorBundleOf(entry));
    const client = new RegistryClient(image, opts);
    const config = enc.encode('{}');
    await client.pushBlob(config, 'config');
    await client.pushBlob(envelope, 'envelope');
    const att = enc.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: MEDIA_TYPES.ociConfig, digest: digestOf(config), size: 2 },
        layers: [
          {
            mediaType: 'application/vnd.dsse.envelope.v1+json',
            digest: digestOf(envelope),
            size: envelope.byteLength,
            annotations: {
              'dev.sigstore.cosign/certificate': pem,
              'dev.sigstore.cosign/bundle': rekorBundle,
              predicateType: 'https://example.com/legacy/v1',
            },
          },
          // A key-based attestation beside it (`cosign attest --key`): no certificate.
          {
            mediaType: 'application/vnd.dsse.envelope.v1+json',
            digest: digestOf(envelope),
            size: envelope.byteLength,
            annotations: { predicateType: 'https://example.com/legacy/v1' },
          },
        ],
      }),
    );
    await client.putManifest(
      `${referrersTag(image.digest)}.att`,
      att,
      MEDIA_TYPES.ociManifest,
      'att',
    );
    const payload = enc.encode(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': `${registry.host}/org/legacy` },
          image: { 'docker-manifest-digest': image.digest },
          type: 'cosign container image signature',
        },
        optional: null,
      }),
    );
    await client.pushBlob(payload, 'simple signing payload');
    const sig = enc.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: MEDIA_TYPES.ociConfig, digest: digestOf(config), size: 2 },
        layers: [
          {
            mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
            digest: digestOf(payload),
            size: payload.byteLength,
            annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' },
          },
        ],
      }),
    );
    await client.putManifest(
      `${referrersTag(image.digest)}.sig`,
      sig,
      MEDIA_TYPES.ociManifest,
      'sig',
    );

    const found = await discoverBundles(image, opts);
    t.deepEqual(
      found.refused.map((r) => r.failure.message),
      [],
    );
    t.is(found.bundles.length, 1);
    t.regex(
      found.bundles[0]!.source,
      /cosign tag sha256-[0-9a-f]{64}\.att layer 0 \(cosign attestation as bundle v0\.1\)/,
    );
    t.is(
      found.bundles[0]!.bundle.mediaType,
      'application/vnd.dev.sigstore.bundle+json;version=0.1',
    );
    t.deepEqual(
      found.skipped.map((x) => x.source.replace(/sha256-[0-9a-f]{64}/, 'TAG')),
      [
        `registry ${registry.host}/org/legacy cosign tag TAG.sig layer 0`,
        `registry ${registry.host}/org/legacy cosign tag TAG.att layer 1`,
      ],
    );
    t.regex(
      found.skipped[1]!.reason,
      /^cosign attestation: no certificate annotation: a key-based attestation, not keyless/,
    );
    t.regex(
      found.skipped[0]!.reason,
      /simple-signing signature: it signs a payload naming the image, not the image digest/,
    );
    // The same .att under another image's tag: an attestation about the first image, refused
    // by name for the second (a registry that files it wrongly must not make it count there).
    const other = await pushTestImage(registry.host, 'org/legacy', 'another image');
    await client.putManifest(
      `${referrersTag(other.digest)}.att`,
      att,
      MEDIA_TYPES.ociManifest,
      'att',
    );
    const misfiled = await discoverBundles(other, opts);
    t.is(misfiled.bundles.length, 0);
    t.deepEqual(
      misfiled.refused.map((r) => [r.failure.code, r.failure.message]),
      [
        [
          'REGISTRY_RESPONSE_INVALID',
          `${referrersTag(other.digest)}.att layer 0 is an attestation about ${image.digest}, not ${other.digest}`,
        ],
      ],
    );
    const v01 = Buffer.from(found.bundles[0]!.bytes).toString('utf8');
    await t.notThrowsAsync(
      verifyWithStella(v01, sandbox.trustedRootPath, image.digest, {
        san: 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main',
        issuer: sandbox.urls.oidcIssuer,
      }),
    );

    const err = await t.throwsAsync(
      buildExportArchive({
        bundles: [
          {
            artifactDigest: image.digest,
            bytes: found.bundles[0]!.bytes,
            source: found.bundles[0]!.source,
          },
        ],
      }),
    );
    t.regex(err.message, /Rekor proof missing/);

    // With --refresh-proofs the log gives its entry a proof at the boundary, and it crosses:
    // the archive verifies offline.
    const out = join(root, 'legacy-att.tar');
    const exported = await runCli(
      [
        'attest',
        'export-bundle',
        '--image',
        `${registry.host}/org/legacy@${image.digest}`,
        '--allow-insecure-registry',
        '--refresh-proofs',
        '--trusted-root',
        sandbox.trustedRootPath,
        '--output',
        out,
        '--json',
      ],
      { timeoutMs: 90_000 },
    );
    t.is(exported.code, 0, exported.stdout + exported.stderr);
    t.deepEqual(
      (
        JSON.parse(exported.stdout) as { refreshedProofs: { proofs: number }[] }
      ).refreshedProofs.map((l) => l.proofs),
      [1],
    );
    const verified = await runCli(
      [
        'attest',
        'verify',
        '--archive',
        out,
        '--all',
        '--trusted-root',
        sandbox.trustedRootPath,
        '--certificate-identity',
        literalPattern('https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main'),
        '--certificate-oidc-issuer',
        sandbox.urls.oidcIssuer,
        '--json',
      ],
      OFFLINE,
    );
    t.is(verified.code, 0, verified.stdout + verified.stderr);
    t.is(JSON.parse(verified.stdout).summary.passed, 1);
  });
}
