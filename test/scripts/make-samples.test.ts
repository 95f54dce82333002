import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { generateSamples, SAMPLES_URLS } from '../../scripts/make-samples.js';
import { createSandboxAuthority } from '../../src/sandbox/authority/index.js';
import { deriveAuthorityKeys, seedFromString } from '../../src/sandbox/authority/keys.js';

const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const SCRIPT = path.join(PROJECT_ROOT, 'dist', 'scripts', 'make-samples.js');

test('the committed samples are exactly what the generator writes', (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'stella-samples-'));
  try {
    execFileSync(process.execPath, [SCRIPT, out], { stdio: 'pipe' });
    const generated = readdirSync(out).sort();
    t.deepEqual(readdirSync(SAMPLES).sort(), generated);
    for (const name of generated) {
      t.true(
        readFileSync(path.join(out, name)).equals(readFileSync(path.join(SAMPLES, name))),
        `${name} differs from samples/${name}: run npm run samples`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('generating twice in one process gives identical bytes', (t) => {
  const a = generateSamples().files;
  const b = generateSamples().files;
  t.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of a) t.is(b.get(k), v, k);
});

const GITHUB_SAN =
  'https://github.com/stella-samples/demo/.github/workflows/release.yml@refs/heads/main';
const GITLAB_SAN = 'https://gitlab.com/stella-samples/demo//.gitlab-ci.yml@refs/heads/main';

function verifier(): Verifier {
  const root = TrustedRoot.fromJSON(
    JSON.parse(readFileSync(path.join(SAMPLES, 'trusted_root.json'), 'utf8')),
  );
  const key = createPublicKey(readFileSync(path.join(SAMPLES, 'key.pub'), 'utf8'));
  const tm = toTrustMaterial(root, () => ({ publicKey: key, validFor: () => true }));
  return new Verifier(tm, { tlogThreshold: 1, ctlogThreshold: 1 });
}

function load(name: string) {
  return bundleFromJSON(JSON.parse(readFileSync(path.join(SAMPLES, name), 'utf8')));
}

const artifact = readFileSync(path.join(SAMPLES, 'artifact.txt'));
const manifest = readFileSync(path.join(SAMPLES, 'image-manifest.json'));
const policy = (san: string) => ({
  subjectAlternativeName: san,
  extensions: { issuer: SAMPLES_URLS.oidcIssuer },
});

test('sample bundles verify with @sigstore/verify against samples/trusted_root.json', (t) => {
  const v = verifier();
  const blob = v.verify(toSignedEntity(load('blob.sigstore.json'), artifact), policy(GITHUB_SAN));
  t.is(blob.identity?.subjectAlternativeName, GITHUB_SAN);
  t.is(blob.identity?.extensions?.issuer, SAMPLES_URLS.oidcIssuer);
  // sigstore-js needs the bytes behind a digest-only signature: the manifest whose digest was signed.
  t.is(
    v.verify(toSignedEntity(load('digest-only.sigstore.json'), manifest), policy(GITHUB_SAN))
      .identity?.subjectAlternativeName,
    GITHUB_SAN,
  );
  t.is(
    v.verify(toSignedEntity(load('attestation.sigstore.json')), policy(GITLAB_SAN)).identity
      ?.subjectAlternativeName,
    GITLAB_SAN,
  );
  const managed = new Verifier(
    toTrustMaterial(
      TrustedRoot.fromJSON(
        JSON.parse(readFileSync(path.join(SAMPLES, 'trusted_root.json'), 'utf8')),
      ),
      () => ({
        publicKey: createPublicKey(readFileSync(path.join(SAMPLES, 'key.pub'), 'utf8')),
        validFor: () => true,
      }),
    ),
    { tlogThreshold: 1, ctlogThreshold: 0 },
  );
  t.notThrows(() => managed.verify(toSignedEntity(load('managed-key.sigstore.json'), artifact)));
});

test('@sigstore/verify rejects the samples with the wrong artifact, identity or trust root', (t) => {
  const v = verifier();
  t.throws(() =>
    v.verify(
      toSignedEntity(load('blob.sigstore.json'), Buffer.from('tampered')),
      policy(GITHUB_SAN),
    ),
  );
  t.throws(() =>
    v.verify(toSignedEntity(load('blob.sigstore.json'), artifact), policy(GITLAB_SAN)),
  );
  t.throws(() =>
    v.verify(toSignedEntity(load('attestation.sigstore.json')), {
      subjectAlternativeName: GITLAB_SAN,
      extensions: { issuer: 'https://token.actions.githubusercontent.com' },
    }),
  );
  // A trust root with another CA/log (same shape, other keys) must not accept them.
  const root = JSON.parse(readFileSync(path.join(SAMPLES, 'trusted_root.json'), 'utf8'));
  const otherRoot = JSON.parse(generateOtherRoot());
  t.notDeepEqual(otherRoot.certificateAuthorities, root.certificateAuthorities);
  const other = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(otherRoot)), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
  });
  t.throws(() =>
    other.verify(toSignedEntity(load('blob.sigstore.json'), artifact), policy(GITHUB_SAN)),
  );
});

function generateOtherRoot(): string {
  return createSandboxAuthority({
    keys: deriveAuthorityKeys(seedFromString('not the samples seed')),
    createdAt: Date.UTC(2025, 0, 1),
    urls: SAMPLES_URLS,
  }).trustedRootJson();
}
