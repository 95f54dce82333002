/**
 * `stella attest export-bundle` and `stella attest verify --archive` through the real CLI:
 * export the committed samples (from files and from an attestation store), check the archive
 * is reproducible, then verify from it in a process where every network call throws.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { CLI, NO_NETWORK_PRELOAD, PROJECT_ROOT } from '../../helpers/paths.js';
import { runCli, usageJson } from '../../helpers/cli.js';
import { AttestationStore } from '../../../src/store/attestations.js';
import { EXIT_CODES, StellaError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/temp.js';
import { literalPattern } from '../../../src/verify/identity-pattern.js';

interface SampleEntry {
  name: string;
  bundle: string;
  artifact: string;
  artifactDigest?: string;
  identity?: string;
  issuer?: string;
  key?: string;
}
const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const s = (f: string): string => path.join(SAMPLES, f);
const manifest = JSON.parse(readFileSync(s('samples.json'), 'utf8')) as {
  trustedRoot: string;
  bundles: SampleEntry[];
};
const ARTIFACT_DIGEST = 'sha256:ce123e3b1696dcb279b0db568fe3897d5d4859efac4e98856586de920bfec0e9'; // samples/artifact.txt
const OFFLINE = { nodeArgs: ['--import', NO_NETWORK_PRELOAD] };

const tmp = (t: import('ava').ExecutionContext): string => tempDir(t, 'stella-export-');

function policyOf(b: SampleEntry): string[] {
  return b.key
    ? ['--key', s(b.key)]
    : [
        '--certificate-identity',
        literalPattern(b.identity!),
        '--certificate-oidc-issuer',
        b.issuer!,
      ];
}

const allSampleBundles = manifest.bundles.flatMap((b) => ['--bundle', s(b.bundle)]);

/** `attest verify --archive ARCHIVE --artifact artifact.txt` under the blob sample's policy, offline. */
const verifyBlobIn = (archive: string, extra: string[] = []) =>
  runCli(
    [
      'attest',
      'verify',
      '--archive',
      archive,
      '--artifact',
      s('artifact.txt'),
      '--trusted-root',
      s(manifest.trustedRoot),
      ...policyOf(manifest.bundles.find((b) => b.name === 'blob')!),
      ...extra,
    ],
    OFFLINE,
  );

test('export-bundle from files is reproducible, and every sample verifies offline from the archive', async (t) => {
  const dir = tmp(t);
  const out1 = path.join(dir, 'one.tar');
  const out2 = path.join(dir, 'two.tar');
  const r1 = await runCli([
    'attest',
    'export-bundle',
    '--all',
    ...allSampleBundles,
    '--include-trusted-root',
    s(manifest.trustedRoot),
    '--output',
    out1,
    '--json',
  ]);
  t.is(r1.code, 0, r1.stdout + r1.stderr);
  // Same inputs in another order: the same bytes.
  const r2 = await runCli([
    'attest',
    'export-bundle',
    '--all',
    ...[...manifest.bundles].reverse().flatMap((b) => ['--bundle', s(b.bundle)]),
    '--include-trusted-root',
    s(manifest.trustedRoot),
    '--output',
    out2,
    '--json',
  ]);
  t.is(r2.code, 0, r2.stderr);
  t.true(readFileSync(out1).equals(readFileSync(out2)), 'byte-identical archives');
  const report = JSON.parse(r1.stdout) as {
    ok: boolean;
    sha256: string;
    createdAt: string;
    artifacts: number;
    bundles: { artifactDigest: string }[];
    trustedRoot: boolean;
    attestationStore: string | null;
  };
  t.true(report.ok);
  t.is(report.bundles.length, manifest.bundles.length);
  t.is(
    report.artifacts,
    2,
    'artifact.txt (blob, attestation, managed key, rekor-v2) and the image digest',
  );
  t.true(report.trustedRoot);
  t.is(report.attestationStore, null, 'only --bundle files: the store is not read');
  t.is(
    report.createdAt,
    new Date(1748779385 * 1000).toISOString(),
    'the newest integrated time among the samples',
  );

  for (const b of manifest.bundles) {
    const artifact = b.artifactDigest ?? ARTIFACT_DIGEST;
    const r = await runCli(
      [
        'attest',
        'verify',
        '--archive',
        out1,
        '--artifact',
        artifact,
        '--trusted-root',
        s(manifest.trustedRoot),
        '--require-rekor',
        '--json',
        ...policyOf(b),
      ],
      OFFLINE,
    );
    t.notRegex(r.stderr, /NETWORK ATTEMPT/);
    t.is(r.code, 0, `${b.name}: ${r.stdout}${r.stderr}`);
    t.true((JSON.parse(r.stdout) as { ok: boolean }).ok, b.name);
  }
  // --artifact as a file: looked up by its sha256.
  const byFile = await verifyBlobIn(out1);
  t.is(byFile.code, 0, byFile.stderr);
  t.regex(byFile.stdout, /Verified OK/);
});

test('export-bundle --output X.tar.gz writes the same tar gzipped (one member, fixed header), reproducibly, and it verifies offline', async (t) => {
  const dir = tmp(t);
  const exportTo = async (out: string, bundles: string[]) => {
    const r = await runCli([
      'attest',
      'export-bundle',
      '--all',
      ...bundles,
      '--output',
      out,
      '--json',
    ]);
    t.is(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout) as { sha256: string; size: number };
  };
  const reversed = [...manifest.bundles].reverse().flatMap((b) => ['--bundle', s(b.bundle)]);
  const tar = path.join(dir, 'x.tar');
  const gz = path.join(dir, 'x.tar.gz');
  const tgz = path.join(dir, 'y.TGZ');
  await exportTo(tar, allSampleBundles);
  const reported = await exportTo(gz, allSampleBundles);
  await exportTo(tgz, reversed);
  const gzBytes = readFileSync(gz);
  t.deepEqual([...gzBytes.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
  t.true(gunzipSync(gzBytes).equals(readFileSync(tar)), 'the tar, gzipped');
  t.true(gzBytes.length < readFileSync(tar).length);
  t.true(readFileSync(tgz).equals(gzBytes), 'byte-identical, inputs in another order');
  t.is(reported.sha256, createHash('sha256').update(gzBytes).digest('hex'), 'of the file written');
  t.is(reported.size, gzBytes.length);
  const r = await verifyBlobIn(gz, ['--json']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.true((JSON.parse(r.stdout) as { ok: boolean }).ok);
});

test('verify --archive still applies the policy, and does not trust the trusted_root.json inside the archive', async (t) => {
  const dir = tmp(t);
  const out = path.join(dir, 'export.tar');
  // Only the blob bundle, so the one failure reported is that bundle's.
  t.is(
    (
      await runCli([
        'attest',
        'export-bundle',
        '--all',
        '--bundle',
        s('blob.sigstore.json'),
        '--include-trusted-root',
        s(manifest.trustedRoot),
        '--output',
        out,
      ])
    ).code,
    0,
  );
  const blob = manifest.bundles.find((b) => b.name === 'blob')!;
  const wrong = await runCli(
    [
      'attest',
      'verify',
      '--archive',
      out,
      '--artifact',
      ARTIFACT_DIGEST,
      '--trusted-root',
      s(manifest.trustedRoot),
      '--certificate-identity',
      'https://github\\.com/someone/else/.*',
      '--certificate-oidc-issuer',
      blob.issuer!,
    ],
    OFFLINE,
  );
  t.is(wrong.code, EXIT_CODES.IDENTITY_MISMATCH, wrong.stderr);
  t.regex(wrong.stderr, /identity mismatch/);
  // No --trusted-root and no trust store: the embedded public-good root is used, which does not
  // trust the sandbox that signed the samples, even though the archive carries its root.
  const r = await runCli(
    [
      'attest',
      'verify',
      '--archive',
      out,
      '--artifact',
      ARTIFACT_DIGEST,
      '--json',
      ...policyOf(blob),
    ],
    {
      ...OFFLINE,
      env: { STELLA_TRUST_STORE: '', XDG_DATA_HOME: path.join(dir, 'no-data-home') },
    },
  );
  const report = JSON.parse(r.stdout) as { ok: boolean; trust: string; error: { code: string } };
  t.false(report.ok);
  t.is(report.trust, 'embedded public-good trusted root');
  t.is(report.error.code, 'TLOG_UNTRUSTED');
});

test('export-bundle --all and --artifact from an attestation store; no attestations found for other digests', async (t) => {
  const dir = tmp(t);
  const storePath = path.join(dir, 'attestations.db');
  const store = AttestationStore.open(storePath, 'write');
  for (const b of manifest.bundles) {
    store.save({
      artifactDigest: b.artifactDigest ?? ARTIFACT_DIGEST,
      bundleJson: readFileSync(s(b.bundle), 'utf8'),
      contentKind: b.name === 'attestation' ? 'dsseEnvelope' : 'messageSignature',
      createdAt: 1,
    });
  }
  store.close();
  const all = path.join(dir, 'all.tar');
  const r = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--attestation-store',
    storePath,
    '--output',
    all,
    '--created-at',
    '2026-01-31T00:00:00Z',
    '--json',
  ]);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    bundles: unknown[];
    createdAt: string;
    attestationStore: string;
  };
  t.is(out.bundles.length, manifest.bundles.length);
  t.is(out.createdAt, '2026-01-31T00:00:00.000Z');
  t.is(out.attestationStore, storePath);

  const one = path.join(dir, 'one.tar');
  const digestOnly = manifest.bundles.find((b) => b.name === 'digest-only')!;
  const r1 = await runCli([
    'attest',
    'export-bundle',
    '--artifact',
    digestOnly.artifactDigest!,
    '--attestation-store',
    storePath,
    '--output',
    one,
    '--json',
  ]);
  t.is(r1.code, 0, r1.stderr);
  t.is((JSON.parse(r1.stdout) as { bundles: unknown[] }).bundles.length, 1);
  // Without --attestation-store: the store STELLA_ATTESTATION_STORE names (no --bundle given).
  const byEnv = await runCli(
    [
      'attest',
      'export-bundle',
      '--artifact',
      digestOnly.artifactDigest!,
      '--output',
      path.join(dir, 'by-env.tar'),
      '--json',
    ],
    { env: { STELLA_ATTESTATION_STORE: storePath } },
  );
  t.is(byEnv.code, 0, byEnv.stdout + byEnv.stderr);
  const viaEnv = JSON.parse(byEnv.stdout) as { attestationStore: string; bundles: unknown[] };
  t.is(viaEnv.attestationStore, storePath);
  t.is(viaEnv.bundles.length, 1);
  t.deepEqual(readFileSync(path.join(dir, 'by-env.tar')), readFileSync(one));
  const v = await runCli(
    [
      'attest',
      'verify',
      '--archive',
      one,
      '--artifact',
      digestOnly.artifactDigest!,
      '--trusted-root',
      s(manifest.trustedRoot),
      ...policyOf(digestOnly),
    ],
    OFFLINE,
  );
  t.is(v.code, 0, v.stderr);
  // artifact.txt was not exported into one.tar.
  const none = await runCli(
    [
      'attest',
      'verify',
      '--archive',
      one,
      '--artifact',
      ARTIFACT_DIGEST,
      '--trusted-root',
      s(manifest.trustedRoot),
      '--json',
      ...policyOf(digestOnly),
    ],
    OFFLINE,
  );
  t.is(none.code, EXIT_CODES.NO_ATTESTATIONS_FOUND, none.stdout);
  t.regex(none.stdout, /no attestations found for sha256:ce123e3b/);

  const missing = await runCli([
    'attest',
    'export-bundle',
    '--artifact',
    `sha256:${'0'.repeat(64)}`,
    '--attestation-store',
    storePath,
    '--output',
    path.join(dir, 'x.tar'),
  ]);
  t.is(missing.code, EXIT_CODES.NO_ATTESTATIONS_FOUND, missing.stderr);
  t.regex(missing.stderr, /no attestations found/);

  // One artifact found and one not: the found one is exported, the other reported, and the
  // export is incomplete (nothing was refused before stop 57's test: a mutant that stopped at
  // the first refusal survived).
  const partly = path.join(dir, 'partly.tar');
  const half = await runCli([
    'attest',
    'export-bundle',
    '--artifact',
    digestOnly.artifactDigest!,
    '--artifact',
    `sha256:${'0'.repeat(64)}`,
    '--attestation-store',
    storePath,
    '--output',
    partly,
    '--json',
  ]);
  t.is(half.code, EXIT_CODES.EXPORT_INCOMPLETE, half.stdout + half.stderr);
  const halfOut = JSON.parse(half.stdout) as {
    bundles: unknown[];
    refused: { source: string; code: string }[];
  };
  t.is(halfOut.bundles.length, 1);
  t.deepEqual(
    halfOut.refused.map((r) => [r.source, r.code]),
    [[`--artifact sha256:${'0'.repeat(64)}`, 'NO_ATTESTATIONS_FOUND']],
  );
  t.deepEqual(readFileSync(partly), readFileSync(one), 'the same archive as the found one alone');
});

test('export-bundle refuses a bundle without its Rekor proof; verify --archive refuses a tampered archive and --bundle with --archive', async (t) => {
  const dir = tmp(t);
  const doc = JSON.parse(readFileSync(s('blob.sigstore.json'), 'utf8')) as {
    verificationMaterial: { tlogEntries: Record<string, unknown>[] };
  };
  delete doc.verificationMaterial.tlogEntries[0]!.inclusionProof;
  const noProof = path.join(dir, 'no-proof.sigstore.json');
  writeFileSync(noProof, JSON.stringify(doc));
  const out = path.join(dir, 'export.tar');
  const r = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--bundle',
    noProof,
    '--output',
    out,
  ]);
  t.is(r.code, EXIT_CODES.REKOR_PROOF_MISSING, r.stderr);
  t.regex(r.stderr, /Rekor proof missing/);

  // Nothing chosen to export: a usage error (until stop 48, INPUT_INVALID 10).
  const usage = await runCli(['attest', 'export-bundle', '--output', out]);
  t.is(usage.code, 2, usage.stderr);
  t.is(
    usage.stderr,
    'error: say what to export: --artifact sha256:<hex>, --image or --bundle (repeatable), or --all\nSee more help with --help\n',
  );

  t.is(
    (
      await runCli([
        'attest',
        'export-bundle',
        '--all',
        '--bundle',
        s('blob.sigstore.json'),
        '--output',
        out,
      ])
    ).code,
    0,
  );
  const bytes = readFileSync(out);
  const at = bytes.indexOf(Buffer.from('"mediaType"'));
  t.true(at > 0);
  bytes[at + 2]! ^= 0x20; // "mediaType" -> "mEdiaType": same size, different digest
  const tampered = path.join(dir, 'tampered.tar');
  writeFileSync(tampered, bytes);
  const blob = manifest.bundles.find((b) => b.name === 'blob')!;
  const v = await runCli(
    [
      'attest',
      'verify',
      '--archive',
      tampered,
      '--artifact',
      ARTIFACT_DIGEST,
      '--trusted-root',
      s(manifest.trustedRoot),
      ...policyOf(blob),
    ],
    OFFLINE,
  );
  t.is(v.code, EXIT_CODES.ARCHIVE_MANIFEST_MISMATCH, v.stderr);
  t.regex(v.stderr, /does not match the manifest/);

  const both = await runCli(
    [
      'attest',
      'verify',
      '--archive',
      out,
      '--bundle',
      s('blob.sigstore.json'),
      '--artifact',
      ARTIFACT_DIGEST,
      '--trusted-root',
      s(manifest.trustedRoot),
      ...policyOf(blob),
    ],
    OFFLINE,
  );
  t.is(both.code, 2, both.stderr);
  t.is(
    both.stderr,
    'error: --bundle and --archive cannot be combined: the bundles come from one or the other\nSee more help with --help\n',
  );
});

test('seals and consistency proofs with a .json output are usage errors (exit 2), before any input is read', async (t) => {
  const dir = tmp(t);
  const store = path.join(dir, 'never-opened.db');
  for (const [flags, message] of [
    [
      ['--seal-key', path.join(dir, 'never-read.pem')],
      '--seal-key seals an archive: give --output FILE.tar',
    ],
    [
      ['--include-consistency'],
      '--include-consistency adds consistency.json to an archive: give --output FILE.tar',
    ],
  ] as const) {
    const args = [
      'attest',
      'export-bundle',
      '--all',
      '--attestation-store',
      store,
      ...flags,
      '--output',
      path.join(dir, 'x.json'),
    ];
    const r = await runCli(args);
    t.is(r.code, 2, r.stderr);
    t.is(r.stderr, `error: ${message}\nSee more help with --help\n`);
    const json = await runCli([...args, '--json']);
    t.like(JSON.parse(json.stdout), { ok: false, error: { code: 'USAGE_ERROR', message } });
  }
  t.false(existsSync(store));
  t.false(existsSync(path.join(dir, 'x.json')));
});

test('an --output named for a format Stella does not write (.zip, .tar.xz, .bz2, ...) is a usage error before any input is read; .tar, .tar.gz, .tgz and .json are its names', async (t) => {
  const dir = tmp(t);
  const store = path.join(dir, 'never-opened.db');
  const exportTo = (name: string, json = false) =>
    runCli([
      'attest',
      'export-bundle',
      '--all',
      '--attestation-store',
      store,
      '--output',
      path.join(dir, name),
      ...(json ? ['--json'] : []),
    ]);
  for (const [name, ending] of [
    ['shipment.zip', '.zip'],
    ['shipment.tar.xz', '.xz'],
    ['shipment.TAR.BZ2', '.BZ2'],
    ['shipment.tar.zst', '.zst'],
    ['shipment.7z', '.7z'],
  ] as const) {
    const message = `--output ${JSON.stringify(path.join(dir, name))}: Stella writes an export archive as a tar (X.tar, or gzipped X.tar.gz or X.tgz), or one bundle as X.json; a name ending in ${ending} would mislabel it`;
    const r = await exportTo(name);
    t.is(r.code, 2, r.stderr);
    t.is(r.stderr, `error: ${message}\nSee more help with --help\n`);
    t.like(JSON.parse((await exportTo(name, true)).stdout), {
      error: { code: 'USAGE_ERROR', message },
    });
    t.false(existsSync(path.join(dir, name)));
  }
  t.false(existsSync(store));
  // The names it writes go on to read the (absent) store: not a usage error.
  for (const name of ['x.tar', 'x.tar.gz', 'x.tgz', 'x.json', 'x.archive'])
    t.not((await exportTo(name)).code, 2, name);
});

test('a library caller: --seal-key and --seal-keyless exclude each other, refused before any input is read (the CLI refuses the pair as a usage error)', async (t) => {
  const { runExportBundle } = await import('../../../src/commands/attest/export-bundle-run.js');
  const dir = tmp(t);
  const e = await t.throwsAsync(
    runExportBundle({
      outputPath: path.join(dir, 'x.tar'),
      artifacts: [],
      all: true,
      attestationStorePath: path.join(dir, 'never-opened.db'),
      bundlePaths: [],
      sealKeyPath: path.join(dir, 'never-read.pem'),
      sealKeyless: { identityToken: 'x' },
    }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'INPUT_INVALID');
  t.is(e.message, '--seal-key and --seal-keyless exclude each other');
  t.false(existsSync(path.join(dir, 'never-opened.db')));
  const cli = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--seal-key',
    path.join(dir, 'k.pem'),
    '--seal-keyless',
    '--output',
    path.join(dir, 'x.tar'),
    '--json',
  ]);
  t.is(cli.code, EXIT_CODES.USAGE_ERROR, cli.stdout);
});

test('a library caller: --all with --artifact, or no selection at all, is refused before the store is opened (the CLI refuses the pair as a usage error)', async (t) => {
  const { runExportBundle } = await import('../../../src/commands/attest/export-bundle-run.js');
  const dir = tmp(t);
  const store = path.join(dir, 'never-opened.db');
  for (const [selection, message] of [
    [
      { all: true, artifacts: [`sha256:${'a'.repeat(64)}`] },
      '--all and --artifact cannot be combined',
    ],
    [
      { all: false, artifacts: [] },
      'say what to export: --artifact sha256:<hex>, --image or --bundle (repeatable), or --all',
    ],
  ] as const) {
    const e = await t.throwsAsync(
      runExportBundle({
        outputPath: path.join(dir, 'x.tar'),
        ...selection,
        artifacts: [...selection.artifacts],
        attestationStorePath: store,
        bundlePaths: [],
      }),
      { instanceOf: StellaError },
    );
    t.is(e.code, 'INPUT_INVALID');
    t.is(e.message, message);
  }
  t.false(existsSync(store));
  const cli = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--artifact',
    `sha256:${'a'.repeat(64)}`,
    '--output',
    path.join(dir, 'x.tar'),
    '--json',
  ]);
  t.is(cli.code, EXIT_CODES.USAGE_ERROR, cli.stdout);
});

test('--seal-keyless checks the output can be written before signing anything (a seal is a permanent log entry)', async (t) => {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  // A token that passes the signer's own checks; no request is ever made (networking throws).
  const token = `${b64({ alg: 'ES256' })}.${b64({ iss: 'https://issuer.example', sub: 's', aud: 'sigstore', exp: now + 600 })}.c2ln`;
  const out = path.join(tmp(t), 'no-such-folder', 'x.tar');
  const r = await runCli(
    [
      'attest',
      'export-bundle',
      '--all',
      '--bundle',
      s('blob.sigstore.json'),
      '--seal-keyless',
      '--identity-token',
      token,
      '--output',
      out,
      '--json',
    ],
    OFFLINE,
  );
  t.is(r.code, EXIT_CODES.INPUT_INVALID, r.stdout + r.stderr);
  t.regex(
    JSON.parse(r.stdout).error.message,
    /^cannot write export archive \(--output\) ".*no-such-folder\/x\.tar": its folder ".*no-such-folder" does not exist$/,
  );
  t.notRegex(r.stderr, /NETWORK ATTEMPT/);
});

test('--output naming a file the export reads is refused before anything is read: the attestation store, a --bundle, the trusted root, the images list, the --identity-token file; each is left as it was', async (t) => {
  const dir = tmp(t);
  const storePath = path.join(dir, 'attestations.db');
  const store = AttestationStore.open(storePath, 'write');
  store.save({
    artifactDigest: ARTIFACT_DIGEST,
    bundleJson: readFileSync(s('blob.sigstore.json'), 'utf8'),
    contentKind: 'messageSignature',
    createdAt: 1,
  });
  store.close();
  const bundle = path.join(dir, 'b.json');
  writeFileSync(bundle, readFileSync(s('blob.sigstore.json')));
  const root = path.join(dir, 'trusted_root.json');
  writeFileSync(root, readFileSync(s(manifest.trustedRoot)));
  const images = path.join(dir, 'images.txt');
  writeFileSync(images, '# none\n');
  const tokenFile = path.join(dir, 'oidc-token');
  writeFileSync(tokenFile, 'a token file\n');
  const before = [storePath, bundle, root, images, tokenFile].map((f) => readFileSync(f));
  for (const [args, output, named] of [
    // Before stop 52 this replaced the whole attestation store with the archive.
    [
      ['--all', '--attestation-store', storePath],
      storePath,
      `the attestation store "${storePath}"`,
    ],
    [['--all', '--bundle', bundle], bundle, `--bundle "${bundle}"`],
    [['--all', '--bundle', bundle], `${dir}/./b.json`, `--bundle "${bundle}"`],
    [
      ['--all', '--attestation-store', storePath, '--include-trusted-root', root],
      root,
      `--include-trusted-root "${root}"`,
    ],
    [['--images-from', images], images, `--images-from "${images}"`],
    [
      ['--all', '--seal-keyless', '--identity-token', tokenFile],
      tokenFile,
      `--identity-token file "${tokenFile}"`,
    ],
  ] as const) {
    const r = await runCli(
      ['attest', 'export-bundle', ...args, '--output', output, '--json'],
      OFFLINE,
    );
    t.is(r.code, EXIT_CODES.INPUT_INVALID, r.stdout + r.stderr);
    const what = output.endsWith('.json') ? 'exported bundle' : 'export archive';
    t.is(
      (JSON.parse(r.stdout) as { error: { message: string } }).error.message,
      `cannot write ${what} (--output) "${output}": it is ${named}: writing there would replace it; give another path`,
    );
  }
  t.deepEqual(
    [storePath, bundle, root, images, tokenFile].map((f) => readFileSync(f)),
    before,
    'every input is as it was',
  );
  const reopened = AttestationStore.open(storePath, 'read');
  t.is([...reopened.eachStoredKey()].length, 1, 'the store still opens and holds its bundle');
  reopened.close();
});

/** A bash pipeline (pipefail: any stage's failure is the status), the CLI as `stella` (and `offline_stella`, networking made to throw). */
function runPipeline(
  script: string,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [
        '-c',
        `set -o pipefail; stella() { "$NODE_BIN" "$CLI_JS" "$@"; }; offline_stella() { "$NODE_BIN" --import "$PRELOAD" "$CLI_JS" "$@"; }; ${script}`,
      ],
      {
        cwd,
        env: {
          ...process.env,
          NO_COLOR: '1',
          STELLA_TRUST_STORE: '',
          // The spool of --archive - goes here, where the test can see it is removed.
          TMPDIR: path.join(cwd, 'tmp'),
          NODE_BIN: process.execPath,
          CLI_JS: CLI,
          PRELOAD: NO_NETWORK_PRELOAD,
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('--output - streams the archive to standard output (the summary to stderr), byte for byte what --output FILE.tar writes; --archive - (verify, import) reads one piped in', async (t) => {
  const dir = tmp(t);
  mkdirSync(path.join(dir, 'tmp'));
  const bundles = allSampleBundles.map((a) => `'${a}'`).join(' ');
  const file = path.join(dir, 'file.tar');
  const r = await runCli(['attest', 'export-bundle', ...allSampleBundles, '--output', file]);
  t.is(r.code, 0, r.stderr);
  const piped = await runPipeline(
    `stella attest export-bundle ${bundles} --output - | cat > piped.tar`,
    dir,
  );
  t.is(piped.code, 0, piped.stderr);
  t.is(piped.stdout, '');
  t.regex(
    piped.stderr,
    new RegExp(
      `^exported ${manifest.bundles.length} bundle\\(s\\) for 2 artifact\\(s\\) to standard output\n  sha256:     ${createHash('sha256').update(readFileSync(file)).digest('hex')} `,
    ),
  );
  t.true(readFileSync(path.join(dir, 'piped.tar')).equals(readFileSync(file)));
  t.false(existsSync(path.join(dir, '-')), 'no file named "-"');

  // The connected side's pipe straight into the receiver, which spools it (it reads twice).
  const blob = manifest.bundles.find((b) => b.name === 'blob')!;
  const policy = policyOf(blob)
    .map((a) => `'${a}'`)
    .join(' ');
  const root = `'${s(manifest.trustedRoot)}'`;
  const verified = await runPipeline(
    `stella attest export-bundle ${bundles} --output - 2>/dev/null | offline_stella attest verify --archive - --artifact '${s('artifact.txt')}' --trusted-root ${root} ${policy} --json`,
    dir,
  );
  t.is(verified.code, 0, verified.stdout + verified.stderr);
  t.true((JSON.parse(verified.stdout) as { ok: boolean }).ok);
  const gz = await runPipeline(
    `stella attest export-bundle ${bundles} --output x.tar.gz > /dev/null && offline_stella attest verify --archive - --all --trusted-root ${root} ${policy} --json < x.tar.gz`,
    dir,
  );
  // Each of the two artifacts has a bundle by the blob's signer (an artifact passes on one).
  const all = JSON.parse(gz.stdout) as { summary: { artifacts: number; passed: number } };
  t.is(gz.code, 0, gz.stderr);
  t.like(all.summary, { artifacts: 2, passed: 2 });
  const imported = await runPipeline(
    `offline_stella attest import - --attestation-store att.db --trusted-root ${root} --json < file.tar`,
    dir,
  );
  t.is(imported.code, 0, imported.stdout + imported.stderr);
  t.like(JSON.parse(imported.stdout), { added: manifest.bundles.length });
  t.deepEqual(readdirSync(path.join(dir, 'tmp')), [], 'each spool removed at exit');

  // --json's object and the archive cannot share standard output.
  const json = await runCli(
    ['attest', 'export-bundle', ...allSampleBundles, '--output', '-', '--json'],
    { cwd: dir },
  );
  t.is(json.code, EXIT_CODES.USAGE_ERROR, json.stdout + json.stderr);
  t.deepEqual(
    JSON.parse(json.stdout),
    usageJson(
      '--output - writes the archive to standard output, where --json writes its object: give one',
    ),
  );
  // A terminal is neither a place for a tar nor a source of one: said, before anything is read.
  // (`script` gives the command a terminal; util-linux's, in every Debian.)
  const onTerminal = await runPipeline(
    `script -qec "$(printf '%q ' "$NODE_BIN" "$CLI_JS") attest export-bundle ${bundles.replaceAll("'", '')} --output -" /dev/null`,
    dir,
  );
  t.is(onTerminal.code, EXIT_CODES.USAGE_ERROR, onTerminal.stdout);
  t.regex(
    onTerminal.stdout,
    /--output - writes a tar archive to standard output, which is a terminal here: redirect it/,
  );
  const fromTerminal = await runPipeline(
    `script -qec "$(printf '%q ' "$NODE_BIN" "$CLI_JS") attest verify --archive - --all --trusted-root ${root.replaceAll("'", '')} ${policy.replaceAll("'", '')}" /dev/null`,
    dir,
  );
  t.is(fromTerminal.code, EXIT_CODES.INPUT_INVALID, fromTerminal.stdout);
  t.regex(fromTerminal.stdout, /--archive -: standard input is a terminal; pipe the archive in/);
  // Nothing piped: an empty archive, refused.
  const empty = await runPipeline(
    `offline_stella attest verify --archive - --all --trusted-root ${root} ${policy} < /dev/null`,
    dir,
  );
  t.is(empty.code, EXIT_CODES.ARCHIVE_INVALID, empty.stderr);
  t.regex(empty.stderr, /^error: archive: archive - \(standard input\)[ :]/);
});

test('a broken archive is refused naming its file: verify --archive (--all, --artifact) and import, from a file or a pipe', async (t) => {
  const dir = tmp(t);
  mkdirSync(path.join(dir, 'tmp'));
  const whole = path.join(dir, 'whole.tar');
  t.is((await runCli(['attest', 'export-bundle', ...allSampleBundles, '--output', whole])).code, 0);
  // Cut inside an entry: the strict reader refuses it whichever pass meets it first.
  const cut = path.join(dir, 'cut.tar');
  writeFileSync(cut, readFileSync(whole).subarray(0, 3000));
  const blob = manifest.bundles.find((b) => b.name === 'blob')!;
  const policy = policyOf(blob);
  const root = s(manifest.trustedRoot);
  const truncated = (named: string): RegExp =>
    new RegExp(`^error: archive: archive ${named} is truncated inside entry "`);
  for (const select of [['--all'], ['--artifact', s('artifact.txt')]]) {
    const r = await runCli(
      ['attest', 'verify', '--archive', cut, ...select, '--trusted-root', root, ...policy],
      OFFLINE,
    );
    t.is(r.code, EXIT_CODES.ARCHIVE_INVALID, r.stdout + r.stderr);
    t.regex(r.stderr, truncated(literalPattern(cut)), select.join(' '));
  }
  const imported = await runCli(
    [
      'attest',
      'import',
      cut,
      '--attestation-store',
      path.join(dir, 'att.db'),
      '--trusted-root',
      root,
    ],
    OFFLINE,
  );
  t.is(imported.code, EXIT_CODES.ARCHIVE_INVALID, imported.stdout + imported.stderr);
  t.regex(imported.stderr, truncated(literalPattern(cut)));
  const piped = await runPipeline(
    `offline_stella attest verify --archive - --all --trusted-root '${root}' ${policy.map((a) => `'${a}'`).join(' ')} < cut.tar`,
    dir,
  );
  t.is(piped.code, EXIT_CODES.ARCHIVE_INVALID, piped.stderr);
  t.regex(piped.stderr, truncated('- \\(standard input\\)'));
});

test('--bundle alone is the export: its bundles go as given, without --artifact or --all, and the attestation store is not read', async (t) => {
  const dir = tmp(t);
  const out = path.join(dir, 'x.tar');
  const r = await runCli(
    ['attest', 'export-bundle', '--bundle', s('blob.sigstore.json'), '--output', out, '--json'],
    { ...OFFLINE, env: { STELLA_ATTESTATION_STORE: path.join(dir, 'never-made.db') } },
  );
  t.is(r.code, 0, r.stdout + r.stderr);
  const json = JSON.parse(r.stdout) as {
    bundles: { artifactDigest: string }[];
    attestationStore: unknown;
  };
  t.deepEqual(
    json.bundles.map((b) => b.artifactDigest),
    [ARTIFACT_DIGEST],
  );
  t.false(existsSync(path.join(dir, 'never-made.db')));
  const blob = manifest.bundles.find((b) => b.bundle === 'blob.sigstore.json')!;
  const v = await runCli(
    [
      'attest',
      'verify',
      '--archive',
      out,
      '--artifact',
      s(blob.artifact),
      '--trusted-root',
      s(manifest.trustedRoot),
      ...policyOf(blob),
    ],
    OFFLINE,
  );
  t.is(v.code, 0, v.stdout + v.stderr);
});

test('--predicate-type picks the attestations of that type: the one bundle a FILE.json output needs where the store also holds the signature', async (t) => {
  const SLSA = 'https://slsa.dev/provenance/v1';
  const dir = tmp(t);
  // The store as an import leaves it: no predicate type recorded (stores before stop 51 held
  // none for imported bundles), so the filter reads what each bundle signs.
  const storePath = path.join(dir, 'attestations.db');
  const store = AttestationStore.open(storePath, 'write');
  for (const name of ['blob', 'attestation', 'rekor-v2'])
    store.save({
      artifactDigest: ARTIFACT_DIGEST,
      bundleJson: readFileSync(s(`${name}.sigstore.json`), 'utf8'),
      contentKind: name === 'attestation' ? 'dsseEnvelope' : 'messageSignature',
      createdAt: 1,
    });
  // Filed under another artifact: a DSSE bundle whose in-toto payload is no statement (it has
  // no type, so the filter leaves it out), and a row that is no bundle at all (kept, for the
  // export's own checks to refuse by name).
  const OTHER = `sha256:${'0'.repeat(64)}`;
  const notAStatement = JSON.parse(readFileSync(s('attestation.sigstore.json'), 'utf8'));
  notAStatement.dsseEnvelope.payload = Buffer.from('{"predicateType":"x"}').toString('base64');
  for (const bundleJson of [JSON.stringify(notAStatement), '{"mediaType":"nonsense"}'])
    store.save({ artifactDigest: OTHER, bundleJson, contentKind: 'dsseEnvelope', createdAt: 1 });
  store.close();
  const json = path.join(dir, 'provenance.json');
  const exportJson = (...extra: string[]) =>
    runCli(
      [
        'attest',
        'export-bundle',
        '--artifact',
        ARTIFACT_DIGEST,
        '--attestation-store',
        storePath,
        '--output',
        json,
        ...extra,
      ],
      OFFLINE,
    );
  const several = await exportJson();
  t.is(several.code, EXIT_CODES.EXPORT_NOT_SINGLE_BUNDLE, several.stderr);
  t.regex(
    several.stderr,
    /holds 3 bundle\(s\) for 1 artifact\(s\).*or --predicate-type URI\) to one bundle/,
  );
  const picked = await exportJson('--predicate-type', SLSA);
  t.is(picked.code, 0, picked.stderr);
  t.is(readFileSync(json, 'utf8'), readFileSync(s('attestation.sigstore.json'), 'utf8'));
  // An artifact with no attestation of that type is left out by name, and the export says so.
  // cosign's name for the type picks the same bundle.
  const byName = await exportJson('--predicate-type', 'slsaprovenance1');
  t.is(byName.code, 0, byName.stderr);
  t.is(readFileSync(json, 'utf8'), readFileSync(s('attestation.sigstore.json'), 'utf8'));
  const none = await exportJson('--predicate-type', 'spdxjson');
  t.is(none.code, EXIT_CODES.NO_ATTESTATIONS_FOUND, none.stderr);
  t.regex(
    none.stderr,
    /no attestations of predicate type "https:\/\/spdx\.dev\/Document" found for sha256:ce123e3b/,
  );
  // From --bundle files too, into an archive that holds only the attestation.
  const tar = path.join(dir, 'provenance.tar');
  const files = await runCli(
    [
      'attest',
      'export-bundle',
      '--all',
      '--bundle',
      s('blob.sigstore.json'),
      '--bundle',
      s('attestation.sigstore.json'),
      '--predicate-type',
      SLSA,
      '--output',
      tar,
      '--json',
    ],
    OFFLINE,
  );
  t.is(files.code, 0, files.stderr);
  t.is((JSON.parse(files.stdout) as { bundles: unknown[] }).bundles.length, 1);
  const all = await runCli(
    [
      'attest',
      'export-bundle',
      '--all',
      '--attestation-store',
      storePath,
      '--predicate-type',
      SLSA,
      '--output',
      path.join(dir, 'all.tar'),
      '--json',
    ],
    OFFLINE,
  );
  t.is(all.code, EXIT_CODES.EXPORT_INCOMPLETE, all.stderr);
  const allOut = JSON.parse(all.stdout) as {
    bundles: unknown[];
    refused: { source: string; code: string }[];
  };
  t.is(
    allOut.bundles.length,
    1,
    'the one SLSA attestation; the payload that is no statement left out',
  );
  t.deepEqual(
    allOut.refused.map((r) => r.code),
    ['BUNDLE_UNSUPPORTED'],
    'the row that is no bundle, refused by name',
  );
  // A value that cannot be a predicate type is a usage error before the store is read.
  const bad = await runCli(
    [
      'attest',
      'export-bundle',
      '--all',
      '--attestation-store',
      path.join(dir, 'none.db'),
      '--predicate-type',
      'slsa',
      '--output',
      tar,
    ],
    OFFLINE,
  );
  t.is(bad.code, 2, bad.stderr);
  t.regex(
    bad.stderr,
    /^error: --predicate-type "slsa" is not a URI: a predicate type is a URI, compared exactly, or cosign's name for one \(custom, [a-z0-9, ]+\)\n/,
  );
});
