/**
 * `attest sign`'s image target (src/oci/sign-target.ts): which spellings name an image, which
 * are refused before anything is signed, and the image looked up in its registry first (a
 * loopback registry written for the test).
 */
import test from 'ava';
import type { ServerResponse } from 'node:http';
import { imageTarget } from '../../src/oci/sign-target.js';
import { digestOf, MEDIA_TYPES } from '../../src/oci/client.js';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import { imageManifest, sendContent, startFakeRegistry, type Front } from '../helpers/oci.js';

const enc = new TextEncoder();
const MANIFEST = imageManifest(enc.encode('{}'), enc.encode('layer'));
const DIGEST = digestOf(MANIFEST);
const FLAGS = { allowInsecureRegistry: true };

let registry: Front;
test.before(async () => {
  // Has exactly one image: org/app@DIGEST.
  registry = await startFakeRegistry((_req, res: ServerResponse, url) => {
    if (url.pathname !== `/v2/org/app/manifests/${DIGEST}`) return false;
    return sendContent(res, MEDIA_TYPES.ociManifest, MANIFEST);
  });
});
test.after.always(() => registry.close());

async function refusal(
  t: import('ava').ExecutionContext,
  p: Promise<unknown>,
  code: ErrorCode,
  message: RegExp,
): Promise<void> {
  const e = await t.throwsAsync(p, { instanceOf: StellaError });
  t.is(e.code, code);
  t.regex(e.message, message);
}

test.serial(
  'a file or a bare digest without --image is not an image target (serial: first, before any lookup)',
  async (t) => {
    t.is(await imageTarget('./dist/app.tar.gz', undefined, FLAGS), undefined);
    t.is(await imageTarget(DIGEST, undefined, FLAGS), undefined);
    t.deepEqual(registry.requests, [], 'no registry asked');
  },
);

test('--artifact REGISTRY/REPO@sha256:… names the image, looked up before signing', async (t) => {
  const target = (await imageTarget(`${registry.host}/org/app@${DIGEST}`, undefined, FLAGS))!;
  t.is(target.image.digest, DIGEST);
  t.is(target.image.repository, 'org/app');
  t.is(target.name, `${registry.host}/org/app@${DIGEST}`);
  t.true(registry.requests.some((r) => r.includes(`/v2/org/app/manifests/${DIGEST}`)));
});

test('--image REGISTRY/REPO with --artifact sha256:… names the same image', async (t) => {
  const target = (await imageTarget(DIGEST, `${registry.host}/org/app`, FLAGS))!;
  t.is(target.name, `${registry.host}/org/app@${DIGEST}`);
  t.is(target.image.registry, registry.host);
});

test('--image with an image that is not in the registry: IMAGE_NOT_FOUND before anything is signed', async (t) => {
  const ghost = `sha256:${'0'.repeat(64)}`;
  await refusal(
    t,
    imageTarget(ghost, `${registry.host}/org/app`, FLAGS),
    'IMAGE_NOT_FOUND',
    /image not found: .*org\/app@sha256:0{64}/,
  );
});

test('--image beside --artifact REGISTRY/REPO@sha256:…: refused, the image is named twice', async (t) => {
  await refusal(
    t,
    imageTarget(`${registry.host}/org/app@${DIGEST}`, `${registry.host}/org/app`, FLAGS),
    'INPUT_INVALID',
    /--image goes with --artifact sha256:<hex>/,
  );
});

test('--image with an --artifact that is not a digest: refused, naming what --image needs', async (t) => {
  await refusal(
    t,
    imageTarget('./dist/app.tar.gz', `${registry.host}/org/app`, FLAGS),
    'INPUT_INVALID',
    /--image needs --artifact sha256:<64 hex digits>/,
  );
});

test('--image with a digest not written as signing writes one (upper case, short, sha512): refused by the one digest rule', async (t) => {
  for (const artifact of [
    DIGEST.toUpperCase().replace('SHA256', 'sha256'),
    DIGEST.slice(0, -2),
    `sha512:${'ab'.repeat(64)}`,
  ])
    await refusal(
      t,
      imageTarget(artifact, `${registry.host}/org/app`, FLAGS),
      'INPUT_INVALID',
      /--artifact .*expected sha256:<64 hex digits> in lower case/,
    );
});

test('--image that is not a repository reference: refused by name', async (t) => {
  await refusal(t, imageTarget(DIGEST, 'not a reference', FLAGS), 'INPUT_INVALID', /--image/);
});
