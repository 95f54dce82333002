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
import {
  SANDBOX_FILES,
  loadOrCreateAuthority,
  readControlKey,
  readSandboxState,
  sandboxPath,
  writeControlKey,
} from '../../../src/sandbox/server/data-dir.js';
import { StellaError } from '../../../src/errors.js';
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

test('authority metadata: written on first use, read back; another version or a bad createdAt is refused by name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-datadir-'));
  const now = Date.UTC(2026, 11, 4, 12, 0, 0, 500);
  const made = loadOrCreateAuthority(dir, now);
  // A minute of slack, on a whole second.
  t.is(made.createdAt, Date.UTC(2026, 11, 4, 11, 59, 0));
  const again = loadOrCreateAuthority(dir, now + 3_600_000);
  t.is(again.createdAt, made.createdAt);
  t.deepEqual(again.keys.rootCa.secretKey, made.keys.rootCa.secretKey);
  const meta = sandboxPath(dir, 'authority');
  for (const bad of [
    { version: 2, createdAt: made.createdAt },
    { createdAt: made.createdAt },
    { version: 1, createdAt: String(made.createdAt) },
    { version: 1, createdAt: 1.5 },
    null,
  ]) {
    writeFileSync(meta, JSON.stringify(bad));
    const e = t.throws(() => loadOrCreateAuthority(dir, now), { instanceOf: StellaError });
    t.is(e.code, 'SANDBOX_ERROR', JSON.stringify(bad));
    t.regex(e.message, /authority metadata .* is malformed/, JSON.stringify(bad));
  }
});

test('sandbox state: none is undefined; a state without its version, base URL or port is refused by name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-datadir-'));
  t.is(readSandboxState(dir), undefined);
  const good = { version: 1, pid: null, port: 8080, urls: { base: 'http://127.0.0.1:8080' } };
  writeFileSync(sandboxPath(dir, 'state'), JSON.stringify(good));
  t.is(readSandboxState(dir)?.port, 8080);
  for (const bad of [
    { ...good, version: 2 },
    { ...good, port: '8080' },
    { ...good, urls: {} },
    { version: 1, pid: null },
    [],
  ]) {
    writeFileSync(sandboxPath(dir, 'state'), JSON.stringify(bad));
    const e = t.throws(() => readSandboxState(dir), { instanceOf: StellaError });
    t.is(e.code, 'SANDBOX_ERROR', JSON.stringify(bad));
    t.regex(e.message, /sandbox state .* is malformed/);
  }
});

test('a data file cut short (a crash while another tool wrote it) is refused as not JSON, by name, never its contents', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-datadir-'));
  const now = Date.UTC(2026, 11, 4, 12, 0, 0);
  loadOrCreateAuthority(dir, now);
  writeFileSync(
    sandboxPath(dir, 'state'),
    JSON.stringify({ version: 1, pid: null, port: 8080, urls: { base: 'http://127.0.0.1:8080' } }),
  );
  const cases: [keyof typeof SANDBOX_FILES, string, () => unknown][] = [
    ['keys', 'authority keys', () => loadOrCreateAuthority(dir, now)],
    ['authority', 'authority metadata', () => loadOrCreateAuthority(dir, now)],
    ['state', 'sandbox state', () => readSandboxState(dir)],
  ];
  for (const [file, what, read] of cases) {
    const path = sandboxPath(dir, file);
    const whole = readFileSync(path, 'utf8');
    writeFileSync(path, whole.slice(0, Math.floor(whole.length / 2)));
    const e = t.throws(read, { instanceOf: StellaError }, file);
    t.is(e.code, 'SANDBOX_ERROR', file);
    t.is(e.message, `${what} ${path} is not valid JSON`, file);
    writeFileSync(path, whole);
    t.notThrows(read, `${file} restored`);
  }
});

test('the control key: none is undefined, a written one reads back, and one that is not a key is refused by name, never taken as none', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-datadir-'));
  t.is(readControlKey(dir), undefined);
  const key = new Uint8Array(32).map((_, i) => i);
  writeControlKey(dir, key);
  t.deepEqual(readControlKey(dir), key);
  for (const bad of ['', 'not a key', '00'.repeat(31), `${'00'.repeat(32)}zz`]) {
    writeFileSync(sandboxPath(dir, 'control'), bad);
    const e = t.throws(() => readControlKey(dir), { instanceOf: StellaError });
    t.is(e.code, 'SANDBOX_ERROR', JSON.stringify(bad));
    t.regex(e.message, /^sandbox control key .*control\.key is malformed$/, JSON.stringify(bad));
  }
});
