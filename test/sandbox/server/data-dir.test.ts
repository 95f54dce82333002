/**
 * Checklist H56 for the sandbox's data directory: its files are written through the one
 * atomic-write primitive, so symlinks planted at the old predictable temporary names
 * (`<file>.<pid>.tmp`, followed, then chmod-ed by path) change nothing outside.
 */
import test from 'ava';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDBOX_FILES, sandboxPath } from '../../../src/sandbox/server/data-dir.js';
import { startSandbox } from '../../../src/sandbox/server/sandbox.js';

test('H56 symlinks planted at the old temporary names of every data file lead nowhere', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'stella-datadir-'));
  const dir = join(root, 'sandbox');
  mkdirSync(dir);
  const outside = join(root, 'outside');
  mkdirSync(outside);
  const files = [
    'keys',
    'authority',
    'state',
    'trustedRoot',
    'roots',
    'signerConfig',
    'control',
  ] as const;
  for (const f of files) {
    const victim = join(outside, SANDBOX_FILES[f]);
    writeFileSync(victim, `precious ${f}`, { mode: 0o644 });
    // The old helper wrote `${path}.${process.pid}.tmp` with writeFileSync, then chmod-ed it.
    symlinkSync(victim, `${sandboxPath(dir, f)}.${process.pid}.tmp`);
  }
  const sb = await startSandbox({ dataDir: dir, port: 0 });
  await sb.close();
  for (const f of files) {
    const victim = join(outside, SANDBOX_FILES[f]);
    t.is(readFileSync(victim, 'utf8'), `precious ${f}`, `${f}: nothing written through the link`);
    t.is(statSync(victim).mode & 0o777, 0o644, `${f}: no chmod through the link`);
    t.true(lstatSync(`${sandboxPath(dir, f)}.${process.pid}.tmp`).isSymbolicLink());
    t.true(lstatSync(sandboxPath(dir, f)).isFile(), `${f} written in place`);
  }
  t.is(
    statSync(sandboxPath(dir, 'keys')).mode & 0o777,
    0o600,
    'the authority keys are created 0600',
  );
  t.is(
    statSync(sandboxPath(dir, 'control')).mode & 0o777,
    0o600,
    'the control key is created 0600',
  );
});
