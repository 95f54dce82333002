/**
 * `npm run demo`: the main job end to end on one machine, with no network beyond loopback.
 *   1. start the local signing stack (OIDC issuer, Fulcio, CT log, Rekor) on 127.0.0.1
 *   2. mint a GitHub-Actions-shaped token and sign a sample keylessly with the real CLI
 *      (a blob, and an in-toto attestation for the same artifact)
 *   3. export every bundle in the attestation store into one reproducible tar (what crosses
 *      the network boundary), then stop the stack: from here on nothing can be reached
 *   4. verify offline with the real CLI, networking made to throw in the verifying process:
 *      by file + bundle, by digest alone from the attestation store, and from the export archive
 *   5. verify the committed, deterministic samples the same way
 * Optional image part, when Debian's docker-registry is installed (scripts/ensure-test-tools.sh):
 * a registry on loopback, a minimal image pushed to it, signed by reference with the bundle
 * attached as an OCI referrer (step 2), exported from the registry (step 3) and verified from
 * the archive offline (step 4).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../src/sandbox/server/index.js';
import { readFileBounded, writeFileAtomic } from '../src/util/fs.js';
import { parseJsonStrict } from '../src/util/json.js';
import { EXPORT_LIMITS } from '../src/archive/export.js';
import {
  registryMissingReason,
  startRegistry,
  type RunningRegistry,
} from '../test/helpers/registry.js';
import { pushTestImage } from '../test/helpers/oci.js';
import { identityFlags, verifyFlags } from '../test/helpers/argv.js';

const ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
const CLI = path.join(ROOT, 'bin', 'run.js');
const NO_NETWORK = path.join(ROOT, 'test', 'fixtures', 'verify', 'no-network.mjs');
const tty = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s: string): string => (tty ? `\u001b[1m${s}\u001b[0m` : s);
const green = (s: string): string => (tty ? `\u001b[32m${s}\u001b[0m` : s);

function stella(
  args: string[],
  opts: { offline?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const nodeArgs = opts.offline ? ['--import', NO_NETWORK] : [];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, CLI, ...args],
      { env: { ...process.env, ...opts.env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function step(n: number, text: string): void {
  process.stdout.write(`\n${bold(`${n}. ${text}`)}\n`);
}

async function must(label: string, p: ReturnType<typeof stella>): Promise<string> {
  const r = await p;
  if (r.code !== 0) {
    process.stderr.write(`demo failed at "${label}" (exit ${r.code}):\n${r.stdout}${r.stderr}`);
    process.exit(r.code || 1);
  }
  return r.stdout;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'stella-demo-'));
  const dataDir = path.join(work, 'sandbox');
  const store = path.join(work, 'attestations.db');
  const artifact = path.join(ROOT, 'samples', 'artifact.txt');
  let registry: RunningRegistry | undefined;
  try {
    step(1, 'Start the local signing stack on loopback');
    const sandbox = await startSandbox({ dataDir, port: 0 });
    process.stdout.write(
      `   OIDC ${sandbox.urls.oidcIssuer}\n   Fulcio ${sandbox.urls.fulcio}\n   Rekor ${sandbox.urls.rekor} (v1 and v2)\n   TSA ${sandbox.urls.tsa}\n`,
    );

    step(2, 'Sign keylessly (ephemeral key in memory, Fulcio certificate, Rekor entry)');
    const token = sandbox.mintToken({
      platform: 'github',
      repo: 'stella-demo/app',
      ref: 'refs/heads/main',
    });
    const blobBundle = path.join(work, 'artifact.txt.sigstore.json');
    const signed = JSON.parse(
      await must(
        'sign blob',
        stella([
          'attest',
          'sign',
          '--keyless',
          '--artifact',
          artifact,
          '--identity-token',
          token,
          '--config',
          sandbox.signerConfigPath,
          '--output',
          blobBundle,
          '--attestation-store',
          store,
          '--json',
        ]),
      ),
    ) as { identity: string; issuer: string; artifactDigest: string; rekor: { logIndex: number } };
    process.stdout.write(
      `   ${green('signed')} ${signed.artifactDigest}\n   identity ${signed.identity}\n   issuer   ${signed.issuer}\n   Rekor log index ${signed.rekor.logIndex}\n`,
    );
    const predicate = path.join(work, 'provenance.json');
    writeFileAtomic(
      predicate,
      JSON.stringify({
        builder: { id: signed.identity },
        buildType: 'https://stella.invalid/demo/v1',
      }),
      { what: 'predicate' },
    );
    const attBundle = path.join(work, 'artifact.txt.intoto.sigstore.json');
    await must(
      'sign attestation',
      stella([
        'attest',
        'sign',
        '--keyless',
        '--artifact',
        artifact,
        '--predicate',
        predicate,
        '--predicate-type',
        'https://slsa.dev/provenance/v1',
        '--identity-token',
        token,
        '--config',
        sandbox.signerConfigPath,
        '--output',
        attBundle,
        '--attestation-store',
        store,
        '--json',
      ]),
    );
    process.stdout.write(
      `   ${green('signed')} in-toto attestation (DSSE) for the same artifact\n`,
    );
    // Rekor v2 + TSA, chosen by the sandbox's Sigstore signing config (kept out of the store, so
    // the export below stays the same).
    const v2Bundle = path.join(work, 'artifact.txt.rekor-v2.sigstore.json');
    const v2 = JSON.parse(
      await must(
        'sign with Rekor v2',
        stella([
          'attest',
          'sign',
          '--keyless',
          '--artifact',
          artifact,
          '--identity-token',
          token,
          '--signing-config',
          sandbox.signingConfigPath,
          '--trusted-root',
          sandbox.trustedRootPath,
          '--output',
          v2Bundle,
          '--attestation-store',
          path.join(work, 'v2.db'),
          '--json',
        ]),
      ),
    ) as { tlog: { logIndex: number; kind: string }[]; timestamps: { time: string }[] };
    process.stdout.write(
      `   ${green('signed')} with Rekor v2 (${v2.tlog[0]!.kind}, log index ${v2.tlog[0]!.logIndex}) and an RFC 3161 time ${v2.timestamps[0]!.time}\n`,
    );
    const noRegistry = registryMissingReason();
    let imageRef: string | undefined;
    if (noRegistry) {
      process.stdout.write(`   (image part skipped: ${noRegistry})\n`);
    } else {
      registry = await startRegistry();
      const image = await pushTestImage(registry.host, 'stella-demo/app', 'demo image');
      imageRef = `${image.registry}/${image.repository}@${image.digest}`;
      const attached = JSON.parse(
        await must(
          'sign image',
          stella([
            'attest',
            'sign',
            '--keyless',
            '--artifact',
            imageRef,
            '--allow-insecure-registry',
            '--identity-token',
            token,
            '--config',
            sandbox.signerConfigPath,
            '--output',
            path.join(work, 'image.sigstore.json'),
            '--attestation-store',
            store,
            '--json',
          ]),
        ),
      ) as { attached: { manifestDigest: string; indexedBy: string } };
      process.stdout.write(
        `   ${green('signed')} image ${imageRef}\n   ${green('attached')} as OCI referrer ${attached.attached.manifestDigest} (${attached.attached.indexedBy}) in a registry on loopback\n`,
      );
    }

    step(
      3,
      'Export at the network boundary, then stop the stack: the verifier below has no network at all',
    );
    const exportTar = path.join(work, 'export.tar');
    const exported = JSON.parse(
      await must(
        'export bundles',
        stella([
          'attest',
          'export-bundle',
          '--all',
          '--attestation-store',
          store,
          '--include-trusted-root',
          sandbox.trustedRootPath,
          '--output',
          exportTar,
          '--json',
        ]),
      ),
    ) as {
      sha256: string;
      bundles: unknown[];
      artifacts: number;
      createdAt: string;
    };
    process.stdout.write(
      `   ${green('exported')} ${exported.bundles.length} bundles for ${exported.artifacts} artifact(s) to export.tar (sha256 ${exported.sha256.slice(0, 16)}..., created ${exported.createdAt})\n`,
    );
    const again = path.join(work, 'export-again.tar');
    await must(
      'export again',
      stella([
        'attest',
        'export-bundle',
        '--all',
        '--attestation-store',
        store,
        '--include-trusted-root',
        sandbox.trustedRootPath,
        '--output',
        again,
      ]),
    );
    const archive = (p: string): Buffer =>
      Buffer.from(
        readFileBounded(p, { what: 'export archive', maxBytes: EXPORT_LIMITS.maxArchiveBytes }),
      );
    if (!archive(again).equals(archive(exportTar)))
      throw new Error('exporting twice gave different archives');
    process.stdout.write(`   ${green('ok')} exporting again gives the same bytes\n`);
    const imageTar = path.join(work, 'image-export.tar');
    if (imageRef) {
      const fromRegistry = JSON.parse(
        await must(
          'export from the registry',
          stella([
            'attest',
            'export-bundle',
            '--image',
            imageRef,
            '--allow-insecure-registry',
            '--output',
            imageTar,
            '--json',
          ]),
        ),
      ) as { bundles: unknown[] };
      process.stdout.write(
        `   ${green('exported')} ${fromRegistry.bundles.length} bundle(s) pulled from the registry for ${imageRef} to image-export.tar\n`,
      );
      await registry?.close();
      registry = undefined;
    }
    await sandbox.close();

    step(4, 'Verify offline (networking throws in the verifying process)');
    const identity = [
      ...identityFlags(escapeRegex(signed.identity), signed.issuer),
      '--trusted-root',
      sandbox.trustedRootPath,
    ];
    process.stdout.write(
      await must(
        'verify blob',
        stella(
          [
            'attest',
            'verify',
            '--offline',
            '--bundle',
            blobBundle,
            '--artifact',
            artifact,
            ...identity,
            '--require-rekor',
          ],
          { offline: true },
        ),
      ),
    );
    await must(
      'verify attestation',
      stella(
        [
          'attest',
          'verify',
          '--offline',
          '--bundle',
          attBundle,
          '--artifact',
          artifact,
          ...identity,
          '--require-rekor',
        ],
        { offline: true },
      ),
    );
    process.stdout.write(
      `   ${green('ok')} in-toto attestation verifies; the artifact is its subject\n`,
    );
    await must(
      'verify Rekor v2 bundle',
      stella(
        [
          'attest',
          'verify',
          '--offline',
          '--bundle',
          v2Bundle,
          '--artifact',
          artifact,
          ...identity,
          '--require-rekor',
        ],
        { offline: true },
      ),
    );
    process.stdout.write(
      `   ${green('ok')} the Rekor v2 bundle verifies (its time is the TSA's: Rekor v2 gives no signed entry timestamp)\n`,
    );
    await must(
      'verify by digest',
      stella(
        [
          'attest',
          'verify',
          '--offline',
          '--artifact',
          signed.artifactDigest,
          '--attestation-store',
          store,
          ...identity,
          '--require-rekor',
        ],
        { offline: true },
      ),
    );
    process.stdout.write(
      `   ${green('ok')} found by digest ${signed.artifactDigest} in the attestation store and verified\n`,
    );
    await must(
      'verify from archive',
      stella(
        [
          'attest',
          'verify',
          '--offline',
          '--archive',
          exportTar,
          '--artifact',
          signed.artifactDigest,
          ...identity,
          '--require-rekor',
        ],
        { offline: true },
      ),
    );
    await must(
      'verify file from archive',
      stella(
        [
          'attest',
          'verify',
          '--offline',
          '--archive',
          exportTar,
          '--artifact',
          artifact,
          ...identity,
          '--require-rekor',
        ],
        { offline: true },
      ),
    );
    process.stdout.write(
      `   ${green('ok')} verified from export.tar alone (by digest and by file; trust from --trusted-root, not from the archive)\n`,
    );
    if (imageRef) {
      await must(
        'verify image from archive',
        stella(
          [
            'attest',
            'verify',
            '--offline',
            '--archive',
            imageTar,
            '--artifact',
            imageRef.slice(imageRef.indexOf('@') + 1),
            ...identity,
            '--require-rekor',
          ],
          { offline: true },
        ),
      );
      process.stdout.write(
        `   ${green('ok')} the image's bundle, pulled from the registry, verified from image-export.tar\n`,
      );
    }
    const wrong = await stella(
      [
        'attest',
        'verify',
        ...verifyFlags({
          offline: true,
          bundle: blobBundle,
          artifact,
          identity: 'https://github.com/stella-demo/other/.*',
          issuer: signed.issuer,
          trustedRoot: sandbox.trustedRootPath,
        }),
      ],
      { offline: true },
    );
    process.stdout.write(
      `   ${green('refused')} another identity, as it must (exit ${wrong.code}): ${wrong.stderr.trim()}\n`,
    );
    if (wrong.code === 0) throw new Error('a wrong identity verified');

    step(5, 'Verify the committed samples offline');
    const manifest = parseJsonStrict(
      readFileBounded(path.join(ROOT, 'samples', 'samples.json'), {
        what: 'samples.json',
        maxBytes: 1024 * 1024,
      }),
      { what: 'samples.json', maxBytes: 1024 * 1024, maxDepth: 8 },
    ) as {
      trustedRoot: string;
      bundles: {
        name: string;
        bundle: string;
        artifact: string;
        artifactDigest?: string;
        identity?: string;
        issuer?: string;
        key?: string;
      }[];
    };
    for (const b of manifest.bundles) {
      const s = (f: string): string => path.join(ROOT, 'samples', f);
      const policy = b.key
        ? ['--key', s(b.key)]
        : identityFlags(escapeRegex(b.identity!), b.issuer!);
      await must(
        `verify sample ${b.name}`,
        stella(
          [
            'attest',
            'verify',
            '--offline',
            '--bundle',
            s(b.bundle),
            '--artifact',
            b.artifactDigest ?? s(b.artifact),
            '--trusted-root',
            s(manifest.trustedRoot),
            ...policy,
          ],
          { offline: true },
        ),
      );
      process.stdout.write(`   ${green('ok')} samples/${b.bundle}\n`);
    }
    process.stdout.write(
      `\n${bold('Demo complete:')} signed on loopback, verified with no network.\n`,
    );
  } finally {
    await registry?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
