/**
 * `attest export-bundle --image`'s collection over many images (src/oci/collect.ts): each
 * image judged on its own, once, and an image with nothing attached reported as such, against
 * a loopback registry written for the test; and the `--images-from` file's rules.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  collectFromRegistries,
  IMAGES_FILE_LIMITS,
  readImagesFile,
} from '../../src/oci/collect.js';
import { BUNDLE_ARTIFACT_TYPE } from '../../src/oci/bundles.js';
import { digestOf, MEDIA_TYPES } from '../../src/oci/client.js';
import { parseImageReference } from '../../src/oci/reference.js';
import { StellaError } from '../../src/errors.js';
import { imageManifest, sendContent, startFakeRegistry, type Front } from '../helpers/oci.js';

const enc = new TextEncoder();
const manifestOf = (seed: string) => imageManifest(enc.encode('{}'), enc.encode(seed));
/** org/empty: nothing attached. org/broken: one referrer listed that the registry does not have. */
const EMPTY = manifestOf('empty');
const BROKEN = manifestOf('broken');
const GHOST_REFERRER = `sha256:${'1'.repeat(64)}`;

let registry: Front;
let root: string;
test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'stella-collect-'));
  registry = await startFakeRegistry((_req, res, url) => {
    for (const [repo, manifest] of [
      ['org/empty', EMPTY],
      ['org/broken', BROKEN],
    ] as const) {
      const digest = digestOf(manifest);
      if (url.pathname === `/v2/${repo}/manifests/${digest}`)
        return sendContent(res, MEDIA_TYPES.ociManifest, manifest);
      if (url.pathname === `/v2/${repo}/referrers/${digest}`) {
        const manifests =
          repo === 'org/broken'
            ? [
                {
                  mediaType: MEDIA_TYPES.ociManifest,
                  digest: GHOST_REFERRER,
                  size: 500,
                  artifactType: BUNDLE_ARTIFACT_TYPE,
                },
              ]
            : [];
        return sendContent(
          res,
          MEDIA_TYPES.ociIndex,
          enc.encode(
            JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }),
          ),
        );
      }
    }
    return false;
  });
});
test.after.always(async () => {
  await registry.close();
  rmSync(root, { recursive: true, force: true });
});

const OPTS = { allowInsecure: true, retries: 0 };

test.serial(
  'each image once, each on its own: nothing attached is "no attestations found", a bad referrer is refused alone, an unreachable registry does not stop the rest',
  async (t) => {
    const empty = parseImageReference(`${registry.host}/org/empty@${digestOf(EMPTY)}`);
    const broken = parseImageReference(`${registry.host}/org/broken@${digestOf(BROKEN)}`);
    // Port 1 on loopback: nothing listens there.
    const unreachable = parseImageReference(`127.0.0.1:1/org/gone@${digestOf(EMPTY)}`);
    const before = registry.requests.length;
    const r = await collectFromRegistries([unreachable, empty, broken, empty, broken], OPTS);

    t.deepEqual(r.inputs, []);
    t.deepEqual(
      r.images.map((i) => [i.image, i.via, i.bundles]),
      [
        [`${registry.host}/org/empty@${digestOf(EMPTY)}`, 'referrers-api', 0],
        [`${registry.host}/org/broken@${digestOf(BROKEN)}`, 'referrers-api', 0],
      ],
      'each image listed once, the unreachable one not at all',
    );
    const refusals = r.refused.map((x) => [x.source, (x.error as StellaError).code]);
    t.deepEqual(refusals, [
      [`--image 127.0.0.1:1/org/gone@${digestOf(EMPTY)}`, 'REGISTRY_UNAVAILABLE'],
      [`--image ${registry.host}/org/empty@${digestOf(EMPTY)}`, 'NO_ATTESTATIONS_FOUND'],
      [
        `registry ${registry.host}/org/broken referrer ${GHOST_REFERRER}`,
        'REGISTRY_RESPONSE_INVALID',
      ],
    ]);
    t.regex(
      (r.refused[1]!.error as StellaError).message,
      /org\/empty.*the referrers API/,
      'names the image and where it looked',
    );
    t.regex(
      (r.refused[2]!.error as StellaError).message,
      /listed as a referrer .* but .* does not have it \(HTTP 404\)/,
    );
    // Asked once each: manifest and referrers, plus the referrer that is not there.
    const asked = registry.requests.slice(before);
    t.is(asked.filter((q) => q.includes(`/org/empty/manifests/${digestOf(EMPTY)}`)).length, 1);
    t.is(asked.filter((q) => q.includes(`/org/broken/manifests/${digestOf(BROKEN)}`)).length, 1);
  },
);

function imagesFile(name: string, text: string): string {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
}

test('--images-from: one image a line, comments and blank lines ignored, bare digests kept', (t) => {
  const d = `sha256:${'ab'.repeat(32)}`;
  const p = imagesFile(
    'list',
    `# images for release 1.2\n\nregistry.example/org/app@${d}  # the app\r\n  ${d}\n`,
  );
  t.deepEqual(readImagesFile(p), [`registry.example/org/app@${d}`, d]);
});

test('--images-from: a comment runs to the end of its line, a lone carriage return in it too; a long one is read at once', (t) => {
  const d = `sha256:${'ab'.repeat(32)}`;
  // "#…\r…" used to be kept as a line with a space in it (`/#.*$/` stops at a CR), and a
  // line of '#'s ending in a CR was searched again from each '#'.
  const p = imagesFile('cr', `${d} # a note\r with a CR\n${'#'.repeat(500_000)}\r\n`);
  t.deepEqual(readImagesFile(p), [d]);
});

test('--images-from: two words on a line, or a line that is not an image, refused with its line number', (t) => {
  const d = `sha256:${'ab'.repeat(32)}`;
  const two = imagesFile(
    'two',
    `registry.example/a@${d}\nregistry.example/b@${d} registry.example/c@${d}\n`,
  );
  const e1 = t.throws(() => readImagesFile(two), { instanceOf: StellaError });
  t.is(e1.code, 'INPUT_INVALID');
  t.regex(e1.message, /line 2: one image per line/);
  const bad = imagesFile('bad', `\n\nregistry.example/a:latest\n`);
  const e2 = t.throws(() => readImagesFile(bad), { instanceOf: StellaError });
  t.is(e2.code, 'INPUT_INVALID');
  t.regex(e2.message, /line 3:/);
});

test(`--images-from: ${IMAGES_FILE_LIMITS.maxImages} images taken, one more refused`, (t) => {
  const line = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;
  const lines = Array.from({ length: IMAGES_FILE_LIMITS.maxImages }, (_, i) => line(i));
  t.is(readImagesFile(imagesFile('max', lines.join('\n'))).length, IMAGES_FILE_LIMITS.maxImages);
  const over = imagesFile('over', [...lines, line(IMAGES_FILE_LIMITS.maxImages)].join('\n'));
  const e = t.throws(() => readImagesFile(over), { instanceOf: StellaError });
  t.is(e.code, 'INPUT_INVALID');
  t.regex(e.message, new RegExp(`more than ${IMAGES_FILE_LIMITS.maxImages} images`));
});
