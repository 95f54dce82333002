/**
 * Verification never opens a network connection: the real CLI verifies every committed sample
 * in a process where every networking call throws (test/fixtures/verify/no-network.mjs).
 * Self-contained (samples/ only); the conformance test does the same over ../shared.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NO_NETWORK_PRELOAD, PROJECT_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

interface SamplesManifest {
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
}
const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const manifest = JSON.parse(
  readFileSync(path.join(SAMPLES, 'samples.json'), 'utf8'),
) as SamplesManifest;

test('the no-network preload really makes networking throw (control)', async (t) => {
  const r = await runCli([], {
    nodeArgs: [
      '--import',
      NO_NETWORK_PRELOAD,
      '--input-type=module',
      '-e',
      "await fetch('http://127.0.0.1:9/')",
    ] as string[],
  });
  // runCli appends the CLI path after nodeArgs; with -e the script ignores it.
  t.regex(r.stderr, /NETWORK ATTEMPT: fetch/);
  t.not(r.code, 0);
});

for (const b of manifest.bundles) {
  test(`offline: samples/${b.bundle} verifies with every network call throwing`, async (t) => {
    const s = (f: string): string => path.join(SAMPLES, f);
    const policy = b.key
      ? ['--key', s(b.key)]
      : [
          '--certificate-identity',
          literalPattern(b.identity!),
          '--certificate-oidc-issuer',
          b.issuer!,
        ];
    const r = await runCli(
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
        '--require-rekor',
        '--json',
        ...policy,
      ],
      {
        nodeArgs: ['--import', NO_NETWORK_PRELOAD],
      },
    );
    t.notRegex(r.stderr, /NETWORK ATTEMPT/);
    t.is(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: { check: string; status: string }[];
      verifiedTimes: unknown[];
    };
    t.true(report.ok);
    t.deepEqual(
      report.checks.map((c) => c.check),
      ['verified-times', 'certificate-chain', 'sct', 'tlog', 'signature', 'policy'],
    );
    t.true(report.verifiedTimes.length >= 1);
  });
}

test('offline: the default trust source (no --trusted-root, no store) is the embedded public-good root, read from disk', async (t) => {
  const b = manifest.bundles.find((x) => x.name === 'blob')!;
  const r = await runCli(
    [
      'attest',
      'verify',
      '--bundle',
      path.join(SAMPLES, b.bundle),
      '--artifact',
      path.join(SAMPLES, b.artifact),
      '--certificate-identity',
      literalPattern(b.identity!),
      '--certificate-oidc-issuer',
      b.issuer!,
      '--json',
    ],
    {
      nodeArgs: ['--import', NO_NETWORK_PRELOAD],
      env: {
        STELLA_TRUST_STORE: '',
        XDG_DATA_HOME: path.join(PROJECT_ROOT, 'dist', 'no-such-data-home'),
      },
    },
  );
  t.notRegex(r.stderr, /NETWORK ATTEMPT/);
  const report = JSON.parse(r.stdout) as { ok: boolean; trust: string; error: { code: string } };
  // The sandbox-signed sample is not trusted by the public-good root: refused, offline.
  t.false(report.ok);
  t.is(report.trust, 'embedded public-good trusted root');
  t.is(report.error.code, 'TLOG_UNTRUSTED');
});
