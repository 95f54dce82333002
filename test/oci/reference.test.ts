import test from 'ava';
import {
  isImageReference,
  parseImageReference,
  parseRepositoryReference,
  referrersTag,
  signTargetMistake,
} from '../../src/oci/reference.js';
import { StellaError } from '../../src/errors.js';

const D = `sha256:${'a1'.repeat(32)}`;

test('image references: registry host rules, Docker Hub, tags before the digest dropped', (t) => {
  t.like(parseImageReference(`ghcr.io/org/app@${D}`), {
    registry: 'ghcr.io',
    apiHost: 'ghcr.io',
    repository: 'org/app',
    digest: D,
  });
  t.like(parseImageReference(`127.0.0.1:5000/a/b/c@${D}`), {
    registry: '127.0.0.1:5000',
    repository: 'a/b/c',
  });
  t.like(parseImageReference(`localhost/app:v1@${D}`), {
    registry: 'localhost',
    repository: 'app',
  });
  t.like(parseImageReference(`alpine@${D}`), {
    registry: 'docker.io',
    apiHost: 'registry-1.docker.io',
    repository: 'library/alpine',
  });
  t.like(parseImageReference(`org/app@${D}`), { registry: 'docker.io', repository: 'org/app' });
  t.like(parseImageReference(`[::1]:5000/app@${D}`), { registry: '[::1]:5000', repository: 'app' });
  t.is(referrersTag(D), `sha256-${'a1'.repeat(32)}`);
});

test('image references refused: no digest, tag only, upper case, bad digest, bad components, bad port', (t) => {
  for (const bad of [
    'ghcr.io/org/app',
    'ghcr.io/org/app:v1',
    `ghcr.io/Org/app@${D}`,
    `ghcr.io/org/app@sha256:${'A1'.repeat(32)}`,
    'ghcr.io/org/app@sha256:abc',
    `ghcr.io/org//app@${D}`,
    `ghcr.io/-x@${D}`,
    `ghcr.io:99999/x@${D}`,
    `ghcr.io/org/app@sha512:${'a'.repeat(128)}`,
    `ghcr.io/${'a'.repeat(300)}@${D}`,
  ]) {
    t.is(
      t.throws(() => parseImageReference(bad), { instanceOf: StellaError }, bad).code,
      'INPUT_INVALID',
      bad,
    );
  }
  t.like(parseRepositoryReference('ghcr.io/org/app'), {
    registry: 'ghcr.io',
    repository: 'org/app',
  });
  // One word, no slash and no colon: Docker Hub's official image, as `docker push app` reads it.
  t.like(parseRepositoryReference('app'), { registry: 'docker.io', repository: 'library/app' });
  // A port is no tag: the colon sits before the last slash.
  t.like(parseRepositoryReference('localhost:5000/app'), {
    registry: 'localhost:5000',
    repository: 'app',
  });
  t.throws(() => parseRepositoryReference('ghcr.io/org/app:v1'), { instanceOf: StellaError });
  t.throws(() => parseRepositoryReference('app:v1'), {
    instanceOf: StellaError,
    message: /without a tag/,
  });
  t.throws(() => parseRepositoryReference(`ghcr.io/org/app@${D}`), {
    instanceOf: StellaError,
    message: /expected REGISTRY\/REPOSITORY without a digest \(the digest comes from --artifact\)/,
  });
});

test('what counts as an image reference (else a file path or a bare digest)', (t) => {
  t.true(isImageReference(`ghcr.io/org/app@${D}`));
  t.false(isImageReference(D));
  t.false(isImageReference('./dist/app@1.0.tgz'));
  t.false(isImageReference('dist/app.tgz'));
});

test('what attest sign can be asked to sign: --image with a bare digest, --type image with a digest or an image', (t) => {
  const image = `ghcr.io/org/app@${D}`;
  // Fine: a file or a digest as a blob, a digest or an image as an image.
  for (const o of [
    { artifact: './dist/app.tgz' },
    { artifact: D },
    { artifact: D, type: 'blob' },
    { artifact: D, type: 'image' },
    { artifact: image },
    { artifact: image, type: 'image' },
    { artifact: D, image: 'ghcr.io/org/app' },
    { artifact: D, image: 'ghcr.io/org/app', type: 'image' },
    // Written wrongly, but a digest: the digest rule names what is wrong with it.
    { artifact: `sha256:${'A1'.repeat(32)}`, image: 'ghcr.io/org/app' },
  ])
    t.is(signTargetMistake(o), undefined, JSON.stringify(o));
  t.is(
    signTargetMistake({ artifact: image, image: 'ghcr.io/org/app' }),
    '--image goes with --artifact sha256:<hex>; --artifact REGISTRY/REPO@sha256:<hex> names the image already',
  );
  for (const type of [undefined, 'blob', 'image'])
    t.is(
      signTargetMistake({ artifact: './dist/app.tgz', image: 'ghcr.io/org/app', type }),
      '--image needs --artifact sha256:<64 hex digits>, the image manifest digest',
    );
  t.is(
    signTargetMistake({ artifact: './dist/app.tgz', type: 'image' }),
    '--type image needs --artifact sha256:<64 hex digits>, the image manifest digest',
  );
});

test('registry ports: 1 and 65535 taken, 0 and 65536 refused as out of range', (t) => {
  t.like(parseImageReference(`registry.example:1/app@${D}`), { registry: 'registry.example:1' });
  t.like(parseImageReference(`registry.example:65535/app@${D}`), {
    registry: 'registry.example:65535',
  });
  for (const port of ['0', '65536', '00000']) {
    const e = t.throws(() => parseImageReference(`registry.example:${port}/app@${D}`), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'INPUT_INVALID');
    t.regex(e.message, new RegExp(`port ${port} is out of range`));
  }
});

test('Docker Hub in each spelling is docker.io, a one-part name under library/', (t) => {
  for (const host of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'Docker.IO'])
    t.like(parseImageReference(`${host}/alpine@${D}`), {
      registry: 'docker.io',
      apiHost: 'registry-1.docker.io',
      repository: 'library/alpine',
    });
  t.like(parseImageReference(`ghcr.io/alpine@${D}`), { registry: 'ghcr.io', repository: 'alpine' });
});
