/**
 * Checklist H56 through the real CLI: every command that writes a file writes it atomically
 * through the one primitive. A symlink an attacker planted at the output name is replaced,
 * never written through; a failed write leaves neither the output nor a temporary behind.
 */
import test from 'ava';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { rotationKeyPair } from '../trust/store/helpers.js';

const S = (f: string) => join(PROJECT_ROOT, 'samples', f);

interface Writer {
  name: string;
  args: (out: string, dir: string) => string[];
  env?: (dir: string) => NodeJS.ProcessEnv;
  before?: (dir: string) => Promise<void>;
}

const WRITERS: Writer[] = [
  {
    name: 'attest export-bundle --output',
    args: (out) => [
      'attest',
      'export-bundle',
      '--all',
      '--bundle',
      S('blob.sigstore.json'),
      '--output',
      out,
    ],
  },
  {
    name: 'trust export --output',
    args: (out) => ['trust', 'export', '--output', out],
    env: (dir) => ({ STELLA_TRUST_STORE: join(dir, 'trust.db') }),
    before: async (dir) => {
      const r = await runCli(['trust', 'init', '--with', 'public-good'], {
        env: { STELLA_TRUST_STORE: join(dir, 'trust.db') },
      });
      if (r.code !== 0) throw new Error(r.stderr);
    },
  },
  {
    name: 'trust rotation create --output',
    args: (out, dir) => [
      'trust',
      'rotation',
      'create',
      '--root',
      S('trusted_root.json'),
      '--version',
      '2',
      '--expires',
      '2030-01-01T00:00:00Z',
      '--sign-with',
      join(dir, 'k.pem'),
      '--output',
      out,
    ],
    before: async (dir) => writeFileSync(join(dir, 'k.pem'), rotationKeyPair().privatePem),
  },
];

for (const w of WRITERS) {
  test(`H56 ${w.name}: a symlink at the output is replaced, its target untouched; a failed write leaves nothing`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'stella-out-'));
    const outside = mkdtempSync(join(tmpdir(), 'stella-outside-'));
    await w.before?.(dir);
    const work = join(dir, 'work');
    mkdirSync(work);
    const victim = join(outside, 'victim');
    writeFileSync(victim, 'precious', { mode: 0o600 });
    const out = join(work, 'out.file');
    symlinkSync(victim, out);
    const r = await runCli(w.args(out, dir), { env: w.env?.(dir), timeoutMs: 60_000 });
    t.is(r.code, 0, r.stdout + r.stderr);
    t.false(lstatSync(out).isSymbolicLink(), 'the link itself was replaced');
    t.true(readFileSync(out).length > 8);
    t.is(readFileSync(victim, 'utf8'), 'precious');
    t.is(statSync(victim).mode & 0o777, 0o600);
    t.deepEqual(readdirSync(work), ['out.file'], 'no temporary left behind');
    t.deepEqual(readdirSync(outside), ['victim']);

    // The output is a directory: refused with a one-line error, nothing left behind.
    const asDir = join(work, 'a-dir');
    mkdirSync(asDir);
    const f = await runCli(w.args(asDir, dir), { env: w.env?.(dir), timeoutMs: 60_000 });
    t.is(f.code, 10, f.stdout + f.stderr);
    t.regex(f.stderr, /^error: input: cannot write .*a-dir": is a directory/);
    t.deepEqual(readdirSync(work).sort(), ['a-dir', 'out.file']);
  });
}
