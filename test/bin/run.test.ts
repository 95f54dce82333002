/**
 * bin/run.js: a command that can no longer finish (its promise awaits something that will
 * never happen, and nothing else is pending) is an internal error, exit 1, on both launch
 * paths (the verify bundle and oclif). Node alone would exit 0 with nothing printed there,
 * which for `attest verify` reads as a pass: the gzip reader did exactly that on corrupt
 * deflate data until it was fixed.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildExportArchive } from '../../src/archive/export.js';
import { EXIT_CODES } from '../../src/errors.js';
import { verifyArchiveArgs } from '../helpers/argv.js';
import { runCli } from '../helpers/cli.js';
import { CLI, PROJECT_ROOT } from '../helpers/paths.js';
import {
  BLOB,
  BLOB_DIGEST,
  BLOB_POLICY,
  SAMPLES,
  SAMPLES_TRUSTED_ROOT,
} from '../helpers/samples.js';
import { tempDir } from '../helpers/temp.js';

const NEVER_READ = path.join(PROJECT_ROOT, 'test', 'fixtures', 'cli', 'never-read.cjs');
const STUCK = 'the command stopped before it finished (a bug: please report it)';

async function sampleArchive(dir: string): Promise<string> {
  const { archive } = await buildExportArchive({
    bundles: [
      {
        artifactDigest: BLOB_DIGEST,
        bytes: readFileSync(path.join(SAMPLES, BLOB.bundle)),
        source: 'blob',
      },
    ],
  });
  const file = path.join(dir, 'x.tar');
  writeFileSync(file, archive);
  return file;
}

test('a command left with nothing to wait for exits 1 as an internal error, never 0: verify (bundle path), with and without --json', async (t) => {
  const dir = tempDir(t, 'stella-bin-');
  const tar = await sampleArchive(dir);
  const args = verifyArchiveArgs(tar, 1, '--trusted-root', SAMPLES_TRUSTED_ROOT, ...BLOB_POLICY);
  const opts = {
    nodeArgs: ['--require', NEVER_READ],
    env: { STELLA_TRUST_STORE: '' },
    timeoutMs: 60_000,
  };
  const json = await runCli([...args, '--json'], opts);
  t.is(json.code, 1, json.stdout + json.stderr);
  t.deepEqual(JSON.parse(json.stdout), {
    ok: false,
    error: { code: 'INTERNAL', check: 'internal', message: STUCK, exitCode: 1 },
  });
  const text = await runCli(args, opts);
  t.is(text.code, 1, text.stdout + text.stderr);
  t.is(text.stdout, '');
  t.is(text.stderr, `error: internal: ${STUCK}\n`);
  // The same command without the preload finishes on its own: the guard is silent then.
  const real = await runCli(args, { env: { STELLA_TRUST_STORE: '' }, timeoutMs: 60_000 });
  t.is(real.code, 0, real.stdout + real.stderr);
  t.notRegex(real.stdout + real.stderr, /stopped before it finished/);
});

test('a command left with nothing to wait for exits 1 as an internal error, never 0: attest import (oclif path)', async (t) => {
  const dir = tempDir(t, 'stella-bin-');
  const tar = await sampleArchive(dir);
  const args = [
    'attest',
    'import',
    tar,
    '--attestation-store',
    path.join(dir, 'att.db'),
    '--trusted-root',
    SAMPLES_TRUSTED_ROOT,
    '--json',
  ];
  const env = { STELLA_TRUST_STORE: path.join(dir, 'trust.db') };
  const stuck = await runCli(args, { nodeArgs: ['--require', NEVER_READ], env, timeoutMs: 60_000 });
  t.is(stuck.code, 1, stuck.stdout + stuck.stderr);
  t.is((JSON.parse(stuck.stdout) as { error: { message: string } }).error.message, STUCK);
  const real = await runCli(args, { env, timeoutMs: 60_000 });
  t.is(real.code, 0, real.stdout + real.stderr);
  t.notRegex(real.stdout + real.stderr, /stopped before it finished/);
});

/** Runs the CLI with its standard output's reader gone before the first byte is written. */
function runWithStdoutClosed(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NO_COLOR: '1', STELLA_TRUST_STORE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('`stella ... | head`: a reader that closes standard output stops the command silently with OUTPUT_CLOSED (3), never a crash with a stack trace: verify (bundle path) and oclif', async (t) => {
  const dir = tempDir(t, 'stella-bin-');
  const tar = await sampleArchive(dir);
  const verify = await runWithStdoutClosed([
    ...verifyArchiveArgs(tar, 1, '--trusted-root', SAMPLES_TRUSTED_ROOT, ...BLOB_POLICY),
    '--json',
  ]);
  t.is(verify.code, EXIT_CODES.OUTPUT_CLOSED, verify.stderr);
  t.is(verify.stderr, '');
  const help = await runWithStdoutClosed(['trust', '--help']);
  t.is(help.code, EXIT_CODES.OUTPUT_CLOSED, help.stderr);
  t.is(help.stderr, '');
});
