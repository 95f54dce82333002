/**
 * The whole path through the real CLI: sign an image digest on the connected side and attach
 * the bundle to the image in a real registry (password-protected), export from the registry
 * at the boundary, verify offline from the archive (every network call throws), and verify
 * from the registry directly. Credentials never appear in any output. Then misbehaving
 * registries (a loopback server written to misbehave): each a clear error, nothing written.
 */
import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../../src/sandbox/server/sandbox.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { digestOf, MEDIA_TYPES } from '../../../src/oci/client.js';
import { referrersTag } from '../../../src/oci/reference.js';
import { runCli } from '../../helpers/cli.js';
import { NO_NETWORK_PRELOAD } from '../../helpers/paths.js';
import { imageManifest, pushTestImage, startFakeRegistry } from '../../helpers/oci.js';
import {
  registryMissingReason,
  startRegistry,
  type RunningRegistry,
} from '../../helpers/registry.js';
import { identityFlags } from '../../helpers/argv.js';

const missing = registryMissingReason();
const USER = 'release-bot';
const PASSWORD = 'pa55-never-printed-7f3c';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const GITHUB_SAN =
  'https://github\\.com/org/repo/\\.github/workflows/release\\.yml@refs/heads/main';
const OFFLINE = { nodeArgs: ['--import', NO_NETWORK_PRELOAD] };
const enc = new TextEncoder();

let root: string;
test.before(() => {
  root = mkdtempSync(join(tmpdir(), 'stella-cli-oci-'));
});
test.after.always(() => rmSync(root, { recursive: true, force: true }));

function tmp(): string {
  return mkdtempSync(join(root, 't-'));
}

// ---------------------------------------------------------------- misbehaving registries

const CONFIG = enc.encode('{"architecture":"amd64","os":"linux"}');
const LAYER = enc.encode('layer');
const IMAGE = imageManifest(CONFIG, LAYER);
const IMAGE_DIGEST = digestOf(IMAGE);

function serveImage(res: ServerResponse, url: URL): boolean {
  if (url.pathname.endsWith(`/manifests/${IMAGE_DIGEST}`)) {
    res.writeHead(200, {
      'Content-Type': MEDIA_TYPES.ociManifest,
      'Docker-Content-Digest': IMAGE_DIGEST,
    });
    res.end(Buffer.from(IMAGE));
    return true;
  }
  return false;
}

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): true {
  res.writeHead(status, { 'Content-Type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
  return true;
}

const otherImage = `sha256:${'ab'.repeat(32)}`;
const wrongSubject = enc.encode(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    config: { mediaType: MEDIA_TYPES.ociEmpty, digest: digestOf(enc.encode('{}')), size: 2 },
    layers: [
      {
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        digest: digestOf(enc.encode('{}')),
        size: 2,
      },
    ],
    subject: { mediaType: MEDIA_TYPES.ociManifest, digest: otherImage, size: 10 },
  }),
);

/** The referrers API's answer for IMAGE_DIGEST: one page listing `manifests`, with a Link header when given. */
function referrersPage(
  res: ServerResponse,
  url: URL,
  manifests: unknown[],
  link?: string,
): boolean {
  if (!url.pathname.endsWith(`/referrers/${IMAGE_DIGEST}`)) return false;
  res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociIndex, ...(link ? { Link: link } : {}) });
  res.end(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
  return true;
}

/** The descriptor the referrers API lists for a bundle referrer of `bytes` (size as given). */
function referrerOf(bytes: Uint8Array, size = bytes.byteLength) {
  return {
    mediaType: MEDIA_TYPES.ociManifest,
    digest: digestOf(bytes),
    size,
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  };
}

/** A bundle referrer of IMAGE_DIGEST whose annotations are not all strings. */
const badAnnotations = enc.encode(
  JSON.stringify({
    ...(JSON.parse(new TextDecoder().decode(wrongSubject)) as Record<string, unknown>),
    subject: { mediaType: MEDIA_TYPES.ociManifest, digest: IMAGE_DIGEST, size: IMAGE.byteLength },
    annotations: { 'dev.sigstore.bundle.content': 1 },
  }),
);

const MISBEHAVIOURS: {
  name: string;
  code: keyof typeof EXIT_CODES;
  message: RegExp;
  handler: Parameters<typeof startFakeRegistry>[0];
}[] = [
  {
    name: '401 to everything, whatever the credentials',
    code: 'REGISTRY_AUTH_FAILED',
    message:
      /registry auth failed: .* refused image manifest .* with the credentials from STELLA_REGISTRY_USERNAME/,
    handler: (_req, res) => {
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="fake"',
        'Content-Type': 'application/json',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return true;
    },
  },
  {
    name: '404: the image is not there',
    code: 'IMAGE_NOT_FOUND',
    message: /image not found: .*repository org\/app, digest sha256:/,
    handler: () => false,
  },
  {
    name: '500 to everything',
    code: 'REGISTRY_UNAVAILABLE',
    message: /registry unavailable: .* answered HTTP 500/,
    handler: (_req, res) => json(res, 500, { errors: [{ code: 'UNKNOWN', message: 'boom' }] }),
  },
  {
    name: 'a malformed referrers index',
    code: 'REGISTRY_RESPONSE_INVALID',
    message: /malformed JSON in referrers index \(tag sha256-/,
    handler: (_req, res, url) =>
      serveImage(res, url) ||
      (url.pathname.endsWith(`/manifests/${referrersTag(IMAGE_DIGEST)}`) &&
        json(res, 200, '{"schemaVersion":2,"manifests":[', MEDIA_TYPES.ociIndex)),
  },
  {
    name: 'a referrers index with a duplicate key',
    code: 'REGISTRY_RESPONSE_INVALID',
    message: /duplicate/,
    handler: (_req, res, url) =>
      serveImage(res, url) ||
      (url.pathname.endsWith(`/manifests/${referrersTag(IMAGE_DIGEST)}`) &&
        json(res, 200, '{"schemaVersion":2,"manifests":[],"manifests":[]}', MEDIA_TYPES.ociIndex)),
  },
  {
    name: 'an image manifest larger than the 4 MiB limit (declared)',
    code: 'REGISTRY_LIMIT_EXCEEDED',
    message: /larger than its 4194304-byte limit \(Content-Length/,
    handler: (_req, res) => {
      res.writeHead(200, {
        'Content-Type': MEDIA_TYPES.ociManifest,
        'Content-Length': String(5 * 1024 * 1024),
      });
      res.end(Buffer.alloc(5 * 1024 * 1024, 0x20));
      return true;
    },
  },
  {
    name: 'an image manifest larger than the limit (streamed, no length)',
    code: 'REGISTRY_LIMIT_EXCEEDED',
    message: /more than 4194304 bytes sent/,
    handler: (_req, res) => {
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociManifest });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => undefined);
      pump();
      return true;
    },
  },
  {
    name: 'an image manifest whose bytes are not its digest',
    code: 'REGISTRY_RESPONSE_INVALID',
    message: /its bytes do not hash to sha256:/,
    handler: (_req, res, url) =>
      url.pathname.includes('/manifests/sha256:') &&
      json(
        res,
        200,
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          config: {},
          layers: [],
        }),
        MEDIA_TYPES.ociManifest,
      ),
  },
  {
    name: 'a referrer whose subject is another image',
    code: 'REGISTRY_RESPONSE_INVALID',
    message: /its subject is another image, sha256:abab/,
    handler: (_req, res, url) => {
      if (serveImage(res, url)) return true;
      if (url.pathname.endsWith(`/referrers/${IMAGE_DIGEST}`)) {
        return json(
          res,
          200,
          {
            schemaVersion: 2,
            mediaType: MEDIA_TYPES.ociIndex,
            manifests: [
              {
                mediaType: MEDIA_TYPES.ociManifest,
                digest: digestOf(wrongSubject),
                size: wrongSubject.byteLength,
                artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
              },
            ],
          },
          MEDIA_TYPES.ociIndex,
        );
      }
      if (url.pathname.endsWith(`/manifests/${digestOf(wrongSubject)}`)) {
        res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociManifest });
        res.end(Buffer.from(wrongSubject));
        return true;
      }
      return false;
    },
  },
  {
    name: 'a referrer listed as larger than the 4 MiB manifest limit',
    code: 'REGISTRY_LIMIT_EXCEEDED',
    message:
      /referrer manifest sha256:[0-9a-f]{64} at .* is 5242880 bytes, more than the 4194304-byte limit/,
    handler: (_req, res, url) =>
      serveImage(res, url) || referrersPage(res, url, [referrerOf(wrongSubject, 5 * 1024 * 1024)]),
  },
  {
    name: 'a referrer listed that the registry does not have',
    code: 'REGISTRY_RESPONSE_INVALID',
    message: /is listed as a referrer of sha256:[0-9a-f]{64} but .* does not have it \(HTTP 404\)/,
    handler: (_req, res, url) =>
      serveImage(res, url) || referrersPage(res, url, [referrerOf(wrongSubject)]),
  },
  {
    name: 'a referrer whose annotations are not strings',
    code: 'REGISTRY_RESPONSE_INVALID',
    message: /annotation "dev\.sigstore\.bundle\.content" is not a string/,
    handler: (_req, res, url) => {
      if (serveImage(res, url) || referrersPage(res, url, [referrerOf(badAnnotations)]))
        return true;
      if (!url.pathname.endsWith(`/manifests/${digestOf(badAnnotations)}`)) return false;
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociManifest });
      res.end(Buffer.from(badAnnotations));
      return true;
    },
  },
  {
    name: 'a referrers API that pages without end',
    code: 'REGISTRY_LIMIT_EXCEEDED',
    message: /referrers of sha256:[0-9a-f]{64} at .*: more than 16 pages/,
    handler: (_req, res, url) => {
      if (serveImage(res, url)) return true;
      const page = Number(url.searchParams.get('page') ?? '0');
      return referrersPage(res, url, [], `<${url.pathname}?page=${page + 1}>; rel="next"`);
    },
  },
  {
    name: 'a redirect loop',
    code: 'REGISTRY_RESPONSE_INVALID',
    message: /more than 5 redirects/,
    handler: (_req, res, url) => {
      res.writeHead(307, { Location: url.pathname });
      res.end();
      return true;
    },
  },
];

for (const m of MISBEHAVIOURS) {
  test(`a registry with ${m.name}: ${m.code}, exit ${EXIT_CODES[m.code]}, nothing written (export-bundle and verify)`, async (t) => {
    const fake = await startFakeRegistry(m.handler);
    t.teardown(() => fake.close());
    const dir = tmp();
    const out = join(dir, 'export.tar');
    const image = `${fake.host}/org/app@${IMAGE_DIGEST}`;
    const env = {
      STELLA_REGISTRY_USERNAME: USER,
      STELLA_REGISTRY_PASSWORD: PASSWORD,
      DOCKER_CONFIG: dir,
    };
    const r = await runCli(
      [
        'attest',
        'export-bundle',
        '--image',
        image,
        '--allow-insecure-registry',
        '--output',
        out,
        '--json',
      ],
      { env, timeoutMs: 60_000 },
    );
    t.is(r.code, EXIT_CODES[m.code], r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      error: { code: string; message: string };
    };
    t.false(report.ok);
    t.is(report.error.code, m.code);
    t.regex(report.error.message, m.message);
    t.false(existsSync(out), 'no archive written');
    const v = await runCli(
      [
        'attest',
        'verify',
        '--image',
        image,
        '--allow-insecure-registry',
        '--certificate-identity',
        GITHUB_SAN,
        '--certificate-oidc-issuer',
        'https://x.example',
      ],
      { env, timeoutMs: 60_000 },
    );
    t.is(v.code, EXIT_CODES[m.code], v.stderr);
    t.regex(v.stderr, /^error: registry: /m);
    for (const s of [r.stdout, r.stderr, v.stdout, v.stderr]) {
      t.false(s.includes(PASSWORD));
      t.false(s.includes(BASIC));
    }
  });
}

test('plain HTTP is refused for a registry that is not on loopback, and without --allow-insecure-registry HTTPS is used', async (t) => {
  const r = await runCli(
    [
      'attest',
      'export-bundle',
      '--image',
      `registry.invalid/org/app@${IMAGE_DIGEST}`,
      '--allow-insecure-registry',
      '--output',
      join(tmp(), 'x.tar'),
      '--json',
    ],
    { env: { STELLA_INSECURE_REGISTRIES: '' }, timeoutMs: 60_000 },
  );
  // Not loopback and not listed: HTTPS, which cannot resolve here.
  t.is(r.code, EXIT_CODES.REGISTRY_UNAVAILABLE, r.stdout);
  t.regex(r.stdout, /https:\/\/registry\.invalid\/v2\/org\/app\/manifests/);
  const bad = await runCli([
    'attest',
    'export-bundle',
    '--image',
    'not a reference',
    '--output',
    join(tmp(), 'x.tar'),
  ]);
  t.is(bad.code, EXIT_CODES.INPUT_INVALID, bad.stderr);
});

// ---------------------------------------------------------------- the real path

if (missing) {
  // Declared skipped, not passed: the registry binary is absent (npm test's pretest installs it).
  test.skip(`sign -> attach -> export from the registry -> verify offline (real registry) [skipped: ${missing}]`, () => {});
} else {
  let sandbox: RunningSandbox;
  let registry: RunningRegistry;
  test.before(async () => {
    sandbox = await startSandbox({ dataDir: join(root, 'sandbox'), port: 0 });
    registry = await startRegistry({ htpasswd: { username: USER, password: PASSWORD } });
  });
  test.after.always(async () => {
    await registry?.close();
    await sandbox?.close();
  });

  test.serial(
    'sign --artifact REGISTRY/REPO@digest attaches; export-bundle --image pulls; verify --archive offline and verify --image online pass; no secret printed',
    async (t) => {
      const creds = {
        allowInsecure: true,
        credentials: { explicit: { username: USER, password: PASSWORD, source: 'test' } },
      };
      const image = await pushTestImage(registry.host, 'org/app', 'the app', creds);
      const second = await pushTestImage(registry.host, 'org/app', 'the app, v2', creds);
      const ref = `${registry.host}/org/app@${image.digest}`;
      const dir = tmp();
      const store = join(dir, 'attestations.db');
      const env = { STELLA_REGISTRY_PASSWORD: PASSWORD };
      const outputs: string[] = [];
      const token = () => sandbox.mintToken({ platform: 'github', repo: 'org/repo' });

      // 1. CI: sign the image by reference; the bundle goes to the registry and the store.
      const sign = await runCli(
        [
          'attest',
          'sign',
          '--keyless',
          '--artifact',
          ref,
          '--identity-token',
          token(),
          '--config',
          sandbox.signerConfigPath,
          '--allow-insecure-registry',
          '--registry-username',
          USER,
          '--attestation-store',
          store,
          '--output',
          join(dir, 'app.sigstore.json'),
          '--json',
        ],
        { env },
      );
      outputs.push(sign.stdout, sign.stderr);
      t.is(sign.code, 0, sign.stdout + sign.stderr);
      const signed = JSON.parse(sign.stdout) as {
        artifactDigest: string;
        attached: { image: string; indexedBy: string; manifestDigest: string };
      };
      t.is(signed.artifactDigest, image.digest);
      t.is(signed.attached.image, ref);
      t.is(signed.attached.indexedBy, 'referrers-tag');
      // The same with --image REGISTRY/REPO and --artifact sha256:, password on stdin, human output.
      const sign2 = await runCli(
        [
          'attest',
          'sign',
          '--keyless',
          '--artifact',
          second.digest,
          '--image',
          `${registry.host}/org/app`,
          '--identity-token',
          token(),
          '--config',
          sandbox.signerConfigPath,
          '--allow-insecure-registry',
          '--registry-username',
          USER,
          '--registry-password-stdin',
          '--attestation-store',
          store,
          '--output',
          join(dir, 'v2.sigstore.json'),
        ],
        { input: `${PASSWORD}\n` },
      );
      outputs.push(sign2.stdout, sign2.stderr);
      t.is(sign2.code, 0, sign2.stdout + sign2.stderr);
      t.regex(
        sign2.stdout,
        new RegExp(
          `attached: ${registry.host.replace(/\./g, '\\.')}/org/app@${second.digest} \\(referrer sha256:[0-9a-f]{64}, referrers tag sha256-`,
        ),
      );

      // 2. Boundary: export from the registry (credentials from a docker config file this time).
      const cfg = join(dir, 'docker');
      rmSync(cfg, { recursive: true, force: true });
      await import('node:fs').then((fs) => fs.mkdirSync(cfg));
      writeFileSync(
        join(cfg, 'config.json'),
        JSON.stringify({ auths: { [registry.host]: { auth: BASIC } } }),
      );
      const imagesFile = join(dir, 'images.txt');
      writeFileSync(
        imagesFile,
        `# images to carry across\n${registry.host}/org/app@${second.digest}\n\n`,
      );
      const tar = join(dir, 'export.tar');
      const exp = await runCli(
        [
          'attest',
          'export-bundle',
          '--image',
          ref,
          '--images-from',
          imagesFile,
          '--allow-insecure-registry',
          '--output',
          tar,
          '--json',
        ],
        // The attestation store is there to be found, and images alone do not read it.
        { env: { DOCKER_CONFIG: cfg, STELLA_ATTESTATION_STORE: store } },
      );
      outputs.push(exp.stdout, exp.stderr);
      t.is(exp.code, 0, exp.stdout + exp.stderr);
      const exported = JSON.parse(exp.stdout) as {
        bundles: { artifactDigest: string }[];
        images: { image: string; via: string; bundles: number }[];
        attestationStore: string | null;
      };
      t.deepEqual(
        exported.bundles.map((b) => b.artifactDigest).sort(),
        [image.digest, second.digest].sort(),
      );
      t.is(exported.attestationStore, null, 'registry images alone: the store is not read');
      t.deepEqual(
        exported.images.map((i) => i.via),
        ['referrers-tag', 'referrers-tag'],
      );
      // An image and an --artifact together: the image from the registry, the artifact from
      // the attestation store (found through STELLA_ATTESTATION_STORE, no flag), both exported.
      const mixed = await runCli(
        [
          'attest',
          'export-bundle',
          '--image',
          ref,
          '--artifact',
          second.digest,
          '--allow-insecure-registry',
          '--output',
          join(dir, 'mixed.tar'),
          '--json',
        ],
        { env: { DOCKER_CONFIG: cfg, STELLA_ATTESTATION_STORE: store } },
      );
      outputs.push(mixed.stdout, mixed.stderr);
      t.is(mixed.code, 0, mixed.stdout + mixed.stderr);
      const mixedReport = JSON.parse(mixed.stdout) as typeof exported;
      t.deepEqual(
        mixedReport.bundles.map((b) => b.artifactDigest).sort(),
        [image.digest, second.digest].sort(),
      );
      t.is(mixedReport.attestationStore, store);

      // 3. Disconnected host: verify from the archive with every network call made to throw.
      for (const digest of [image.digest, second.digest]) {
        const v = await runCli(
          [
            'attest',
            'verify',
            '--archive',
            tar,
            '--artifact',
            digest,
            '--trusted-root',
            sandbox.trustedRootPath,
            ...identityFlags(GITHUB_SAN, sandbox.urls.oidcIssuer),
            '--require-rekor',
            '--json',
          ],
          OFFLINE,
        );
        t.notRegex(v.stderr, /NETWORK ATTEMPT/);
        t.is(v.code, 0, v.stdout + v.stderr);
      }

      // 4. Connected host: verify from the registry (bundles fetched, trust local).
      /** `attest verify --image ref` from the registry as USER, trusting the sandbox, then `extra`. */
      const verifyFromRegistry = (extra: string[], runEnv: NodeJS.ProcessEnv = env) =>
        runCli(
          [
            'attest',
            'verify',
            '--image',
            ref,
            '--allow-insecure-registry',
            '--registry-username',
            USER,
            '--trusted-root',
            sandbox.trustedRootPath,
            ...extra,
          ],
          { env: runEnv },
        );
      const online = await verifyFromRegistry([
        ...identityFlags(GITHUB_SAN, sandbox.urls.oidcIssuer),
      ]);
      outputs.push(online.stdout, online.stderr);
      t.is(online.code, 0, online.stdout + online.stderr);
      t.regex(online.stdout, /Verified OK/);
      // --image sha256:<hex> alone means the attestation store, like --artifact.
      const local = await runCli(
        [
          'attest',
          'verify',
          '--image',
          image.digest,
          '--attestation-store',
          store,
          '--trusted-root',
          sandbox.trustedRootPath,
          ...identityFlags(GITHUB_SAN, sandbox.urls.oidcIssuer),
        ],
        OFFLINE,
      );
      t.is(local.code, 0, local.stderr);
      // Policy still applies to registry bundles.
      const wrongId = await verifyFromRegistry([
        ...identityFlags('https://github\\.com/evil/.*', sandbox.urls.oidcIssuer),
      ]);
      t.is(wrongId.code, EXIT_CODES.IDENTITY_MISMATCH, wrongId.stderr);
      // So does what was signed: the image carries a signature, not a SLSA provenance attestation.
      const notProvenance = await verifyFromRegistry([
        ...identityFlags(GITHUB_SAN, sandbox.urls.oidcIssuer),
        '--predicate-type',
        'https://slsa.dev/provenance/v1',
      ]);
      t.is(notProvenance.code, EXIT_CODES.PREDICATE_TYPE_MISMATCH, notProvenance.stderr);
      t.regex(
        notProvenance.stderr,
        /predicate type mismatch: the bundle is a signature over the artifact itself/,
      );

      // 5. An image with nothing attached: "no attestations found" naming registry, repository, digest.
      const bare = await pushTestImage(registry.host, 'org/app', 'unsigned', creds);
      const none = await runCli(
        [
          'attest',
          'verify',
          '--image',
          `${registry.host}/org/app@${bare.digest}`,
          '--allow-insecure-registry',
          '--registry-username',
          USER,
          '--trusted-root',
          sandbox.trustedRootPath,
          ...identityFlags(GITHUB_SAN, sandbox.urls.oidcIssuer),
        ],
        { env },
      );
      t.is(none.code, EXIT_CODES.NO_ATTESTATIONS_FOUND, none.stderr);
      t.regex(
        none.stderr,
        new RegExp(
          `no attestations found: registry ${registry.host.replace(/\./g, '\\.')}, repository org/app, digest ${bare.digest}`,
        ),
      );
      const noneOut = join(dir, 'none.tar');
      const noneExp = await runCli(
        [
          'attest',
          'export-bundle',
          '--image',
          `${registry.host}/org/app@${bare.digest}`,
          '--allow-insecure-registry',
          '--output',
          noneOut,
        ],
        { env: { DOCKER_CONFIG: cfg } },
      );
      t.is(noneExp.code, EXIT_CODES.NO_ATTESTATIONS_FOUND, noneExp.stderr);
      t.false(existsSync(noneOut));

      // 6. Wrong password: refused, and neither password shows.
      const wrong = await verifyFromRegistry(
        [...identityFlags(GITHUB_SAN, sandbox.urls.oidcIssuer), '--json'],
        { STELLA_REGISTRY_PASSWORD: `${PASSWORD}-wrong` },
      );
      t.is(wrong.code, EXIT_CODES.REGISTRY_AUTH_FAILED, wrong.stdout);
      outputs.push(wrong.stdout, wrong.stderr);
      for (const o of outputs) {
        t.false(o.includes(PASSWORD), 'password never printed');
        t.false(o.includes(BASIC), 'nor its base64 Basic form');
      }
    },
  );

  test.serial(
    'two `attest attach` processes on one image at once: both referrers end up in the index',
    async (t) => {
      const creds = {
        allowInsecure: true,
        credentials: { explicit: { username: USER, password: PASSWORD, source: 'test' } },
      };
      const image = await pushTestImage(registry.host, 'org/pair', 'pair', creds);
      const ref = `${registry.host}/org/pair@${image.digest}`;
      const dir = tmp();
      const env = { STELLA_REGISTRY_PASSWORD: PASSWORD };
      const paths: string[] = [];
      for (const n of [1, 2]) {
        const p = join(dir, `${n}.sigstore.json`);
        const s = await runCli([
          'attest',
          'sign',
          '--keyless',
          '--artifact',
          image.digest,
          '--type',
          'image',
          '--identity-token',
          sandbox.mintToken({ platform: 'github', repo: 'org/repo' }),
          '--config',
          sandbox.signerConfigPath,
          '--attestation-store',
          join(dir, 'a.db'),
          '--output',
          p,
        ]);
        t.is(s.code, 0, s.stderr);
        paths.push(p);
      }
      const results = await Promise.all(
        paths.map((p) =>
          runCli(
            [
              'attest',
              'attach',
              '--bundle',
              p,
              '--image',
              ref,
              '--allow-insecure-registry',
              '--registry-username',
              USER,
              '--json',
            ],
            { env },
          ),
        ),
      );
      for (const r of results) t.is(r.code, 0, r.stdout + r.stderr);
      const digests = results.map(
        (r) => (JSON.parse(r.stdout) as { manifestDigest: string }).manifestDigest,
      );
      const found = await runCli(
        [
          'attest',
          'export-bundle',
          '--image',
          ref,
          '--allow-insecure-registry',
          '--registry-username',
          USER,
          '--output',
          join(dir, 'pair.tar'),
          '--json',
        ],
        { env },
      );
      t.is(found.code, 0, found.stderr);
      t.is(
        (JSON.parse(found.stdout) as { bundles: unknown[] }).bundles.length,
        2,
        `both of ${digests.join(', ')}`,
      );
    },
  );
}
