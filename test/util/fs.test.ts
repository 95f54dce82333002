/**
 * The file I/O primitives (src/util/fs.ts): inputs are regular files, size-checked on the
 * open descriptor and read no further than the limit (checklist H54); atomic writes go
 * through an unpredictable, exclusively created, never-followed temporary (H56).
 */
import test from 'ava';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import {
  AtomicFile,
  checkFolderCreatable,
  checkWritableTarget,
  fsyncDirectory,
  openAppendOnly,
  readArtifactFile,
  readFileBounded,
  readFileChunks,
  readTextFileBounded,
  SpoolFile,
  writeFileAtomic,
} from '../../src/util/fs.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { sparseFile } from '../helpers/temp.js';

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `stella-fs-${label}-`));

function refused(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  code: ErrorCode,
  pattern: RegExp,
): StellaError | undefined {
  const e = t.throws(fn, { instanceOf: StellaError });
  t.is(e?.code, code, e?.message);
  t.regex(e?.message ?? '', pattern);
  return e;
}

function fifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

const opts = { what: '--thing', maxBytes: 1024 };

test('H54 readFileBounded: a regular file up to the limit is read whole', (t) => {
  const dir = tmp('ok');
  const exact = join(dir, 'exact');
  writeFileSync(exact, Buffer.alloc(1024, 7));
  t.deepEqual(Buffer.from(readFileBounded(exact, opts)), Buffer.alloc(1024, 7));
  writeFileSync(join(dir, 'empty'), '');
  t.is(readFileBounded(join(dir, 'empty'), opts).length, 0);
  // Through a symlink is fine for inputs: the rule is about what is at the end of it.
  symlinkSync(exact, join(dir, 'link'));
  t.is(readFileBounded(join(dir, 'link'), opts).length, 1024);
});

test('H54 readTextFileBounded: UTF-8 text (a byte-order mark dropped); other bytes refused by the file name', (t) => {
  const dir = tmp('text');
  const text = join(dir, 'key.pem');
  writeFileSync(text, '-----BEGIN PUBLIC KEY-----\nkéy\n');
  t.is(readTextFileBounded(text, opts), '-----BEGIN PUBLIC KEY-----\nkéy\n');
  writeFileSync(text, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('pem')]));
  t.is(readTextFileBounded(text, opts), 'pem');
  // Latin-1 é, and a lone continuation byte: a lenient decoder would make both U+FFFD.
  for (const bytes of [[0x6b, 0xe9, 0x79], [0x80], [0xed, 0xa0, 0x80]]) {
    writeFileSync(text, Buffer.from(bytes));
    refused(
      t,
      () => readTextFileBounded(text, { ...opts, code: 'CONFIG_INVALID' }),
      'CONFIG_INVALID',
      /^--thing ".*key\.pem": not UTF-8 text$/,
    );
  }
  // UTF-16 (PowerShell 5's `>`), with a byte order mark or without, is named as such.
  const pem = '-----BEGIN PUBLIC KEY-----\n';
  for (const [bytes, form] of [
    [
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(pem, 'utf16le')]),
      'UTF-16LE \\(it starts with the byte order mark FF FE\\)',
    ],
    [Buffer.from(pem, 'utf16le'), 'UTF-16LE'],
    [Buffer.from(pem, 'utf16le').swap16(), 'UTF-16BE'],
  ] as const) {
    writeFileSync(text, bytes);
    refused(
      t,
      () => readTextFileBounded(text, { ...opts, code: 'CONFIG_INVALID' }),
      'CONFIG_INVALID',
      new RegExp(`^--thing ".*key\\.pem": ${form}, not UTF-8 text: save it as UTF-8$`),
    );
  }
  writeFileSync(text, Buffer.alloc(1025, 0x61));
  refused(
    t,
    () => readTextFileBounded(text, opts),
    'INPUT_INVALID',
    /larger than the 1024-byte limit/,
  );
  // textError names bytes that are not UTF-8 as the content's fault; the file's own faults
  // keep `code` (a policy file: POLICY_INVALID for its text, INPUT_INVALID for a missing file).
  const policy = { ...opts, textError: { code: 'POLICY_INVALID', check: 'config' } } as const;
  writeFileSync(text, Buffer.from([0x80]));
  const e = refused(
    t,
    () => readTextFileBounded(text, policy),
    'POLICY_INVALID',
    /not UTF-8 text$/,
  );
  t.is(e?.check, 'config');
  refused(
    t,
    () => readTextFileBounded(join(dir, 'missing'), policy),
    'INPUT_INVALID',
    /does not exist|no such file/i,
  );
});

test('H54 readFileBounded: over the limit is refused from fstat, before reading (sparse file)', (t) => {
  const dir = tmp('big');
  refused(
    t,
    () => readFileBounded(sparseFile(join(dir, 'one-over'), 1025), opts),
    'INPUT_INVALID',
    /^--thing ".*one-over": larger than the 1024-byte limit \(1025 bytes\)$/,
  );
  // 1.2 GB costs nothing to refuse: it is never read.
  const e = refused(
    t,
    () =>
      readFileBounded(sparseFile(join(dir, 'huge'), 1_200_000_000), {
        ...opts,
        limitCode: 'BUNDLE_LIMIT_EXCEEDED',
      }),
    'BUNDLE_LIMIT_EXCEEDED',
    /1200000000 bytes/,
  );
  t.is(e?.check, 'input');
});

/** Tests that read Linux's /proc: declared skipped where there is none. */
const withProc = existsSync('/proc/self/maps') ? test : test.skip;

withProc(
  'H54 readFileBounded: a file larger than fstat says is still cut at limit + 1 and refused (reads /proc)',
  (t) => {
    // /proc files report size 0 and have content: the read, not the fstat, must hold the limit.
    refused(
      t,
      () => readFileBounded('/proc/self/maps', { what: 'maps', maxBytes: 64 }),
      'INPUT_INVALID',
      /larger than the 64-byte limit \(grew past it while being read\)/,
    );
    t.true(readFileBounded('/proc/self/maps', { what: 'maps', maxBytes: 1 << 20 }).length > 64);
  },
);

test('H54 readFileBounded: devices, FIFOs, directories and sockets are refused before reading', async (t) => {
  const dir = tmp('special');
  refused(
    t,
    () => readFileBounded('/dev/zero', opts),
    'INPUT_INVALID',
    /"\/dev\/zero": a character device, not a regular file/,
  );
  refused(t, () => readFileBounded(dir, opts), 'INPUT_INVALID', /a directory, not a regular file/);
  refused(
    t,
    () =>
      readFileBounded(join(dir, 'missing'), { ...opts, code: 'CONFIG_INVALID', check: 'config' }),
    'CONFIG_INVALID',
    /no such file/,
  );
  const sock = join(dir, 'sock');
  const server = createServer().listen(sock);
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => server.close());
  // Linux refuses to open a socket (ENXIO), so it is said from the errno, before any fstat.
  refused(
    t,
    () => readFileBounded(sock, opts),
    'INPUT_INVALID',
    /sock": not a regular file \(a socket or a device with nothing behind it\)$/,
  );
});

test('H54 a FIFO with no writer is refused at once (the open does not wait for a writer)', async (t) => {
  const dir = tmp('fifo');
  const path = fifo(join(dir, 'pipe'));
  // In a child with a deadline, so a regression fails this test instead of hanging the suite.
  const script = `import('${join(PROJECT_ROOT, 'dist', 'src', 'util', 'fs.js')}').then((m) => {
    for (const f of [() => m.readFileBounded(process.argv[1], { what: 'x', maxBytes: 10 }), () => m.readArtifactFile(process.argv[1], { what: 'x' })]) {
      try { f(); console.log('read'); } catch (e) { console.log(e.code + ' ' + e.message); }
    }
  });`;
  const out = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script, path],
      { timeout: 10_000, killSignal: 'SIGKILL' },
      (err, stdout) => resolve(err ? `failed: ${err.message}` : stdout),
    );
  });
  t.regex(
    out,
    /^INPUT_INVALID x ".*pipe": a FIFO, not a regular file\nINPUT_INVALID x ".*pipe": a FIFO, not a regular file\n$/,
  );
});

test('H57 a secret named - (standard input) is refused before standard input is read: it has no owner or mode to check', (t) => {
  // In a child given a key on its standard input, so a regression reads it instead of hanging.
  const script = `import('${join(PROJECT_ROOT, 'dist', 'src', 'util', 'fs.js')}').then((m) => {
    const read = (secret) => Buffer.from(m.readFileBounded('-', { what: 'key', maxBytes: 64, secret })).toString();
    try { console.log('read ' + read(true)); } catch (e) { console.log(e.code + ' ' + e.message); }
    console.log('then read ' + read(false));
  });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    input: 'the key',
    timeout: 10_000,
    killSignal: 'SIGKILL',
  }).toString();
  t.is(
    out,
    'INPUT_INVALID key "-": a key cannot come from standard input (its owner and mode cannot be checked)\n' +
      'then read the key\n',
    'refused, and standard input is still there for what may read it',
  );
});

test('spoolStdin: standard input copied to a private file removed at exit; over the limit refused as it passes it; standard input taken once', (t) => {
  const tmpRoot = tmp('spool');
  const script = `import('${join(PROJECT_ROOT, 'dist', 'src', 'util', 'fs.js')}').then((m) => {
    const opts = { what: '--archive', maxBytes: 10, limitCode: 'ARCHIVE_LIMIT_EXCEEDED' };
    try {
      const p = m.spoolStdin(opts);
      const st = require('node:fs').statSync(p);
      const dir = require('node:fs').statSync(require('node:path').dirname(p));
      console.log(p);
      console.log((st.mode & 0o777).toString(8) + ' ' + (dir.mode & 0o777).toString(8));
      console.log(require('node:fs').readFileSync(p, 'utf8'));
    } catch (e) { console.log(e.code + ' ' + e.message); }
    try { m.spoolStdin(opts); } catch (e) { console.log(e.code + ' ' + e.message); }
  });`;
  const run = (input: string) =>
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); ${script}`,
      ],
      {
        input,
        env: { ...process.env, TMPDIR: tmpRoot },
        timeout: 10_000,
        killSignal: 'SIGKILL',
      },
    )
      .toString()
      .split('\n');
  // Spools of a process that is gone are removed by the next spool; the rest are left alone.
  const gone = spawnSync('true').pid;
  const planted = [
    `stella-stdin-${gone}-AbC123`,
    `stella-stdin-${process.pid}-AbC123`,
    'stella-stdin-x-AbC123',
    `stella-stdin-${gone}-AbC123.bak`,
    'unrelated',
  ];
  for (const name of planted) {
    mkdirSync(join(tmpRoot, name));
    writeFileSync(join(tmpRoot, name, 'stdin'), 'an old spool');
  }
  const [path, modes, content, again] = run('0123456789');
  t.true(path!.startsWith(join(tmpRoot, 'stella-stdin-')), path);
  t.is(modes, '600 700');
  t.is(content, '0123456789');
  t.is(
    again,
    'INPUT_INVALID --archive "-": standard input was already read for --archive: only one input can be -',
  );
  t.false(existsSync(path!), 'removed when the process exited');
  t.regex(path!, new RegExp(`/stella-stdin-\\d+-[A-Za-z0-9]{6}/stdin$`));
  t.deepEqual(
    readdirSync(tmpRoot).sort(),
    planted.slice(1).sort(),
    "the dead process's spool removed",
  );
  for (const name of planted.slice(1)) rmSync(join(tmpRoot, name), { recursive: true });
  const [over] = run('0123456789A');
  t.is(
    over,
    'ARCHIVE_LIMIT_EXCEEDED --archive "-": larger than the 10-byte limit (grew past it while being read)',
  );
  t.deepEqual(readdirSync(tmpRoot), [], 'nothing left behind by a refusal either');
});

test('H54 readArtifactFile: bytes when small, a chunked SHA-256 when large, never a non-regular file', (t) => {
  const dir = tmp('artifact');
  const small = join(dir, 'small');
  writeFileSync(small, 'hello');
  t.deepEqual(readArtifactFile(small, { what: '--artifact' }), {
    kind: 'bytes',
    bytes: Buffer.from('hello'),
  });
  const big = join(dir, 'big');
  const content = Buffer.alloc(3 * 1024 * 1024 + 17, 0x61);
  writeFileSync(big, content);
  const r = readArtifactFile(big, { what: '--artifact', inMemoryMaxBytes: 4096 });
  t.is(r.kind, 'digest');
  if (r.kind === 'digest') {
    t.is(Buffer.from(r.digest).toString('hex'), createHash('sha256').update(content).digest('hex'));
    t.is(r.size, content.length);
  }
  // A file whose fstat size is under the in-memory limit but whose content is not (/proc) is hashed too.
  if (existsSync('/proc/self/maps'))
    t.is(
      readArtifactFile('/proc/self/maps', { what: 'maps', inMemoryMaxBytes: 16 }).kind,
      'digest',
    );
  refused(
    t,
    () => readArtifactFile('/dev/zero', { what: '--artifact' }),
    'INPUT_INVALID',
    /a character device, not a regular file/,
  );
  refused(
    t,
    () => readArtifactFile(dir, { what: '--artifact' }),
    'INPUT_INVALID',
    /a directory, not a regular file/,
  );
});

test('H56 writeFileAtomic: content, mode at creation, no temporary left behind', (t) => {
  const dir = tmp('write');
  const target = join(dir, 'out.json');
  writeFileAtomic(target, 'one');
  writeFileAtomic(target, new Uint8Array([0x74, 0x77, 0x6f]));
  t.is(readFileSync(target, 'utf8'), 'two');
  const secret = join(dir, 'secret.key');
  writeFileAtomic(secret, 'k', { mode: 0o600 });
  t.is(statSync(secret).mode & 0o777, 0o600);
  t.deepEqual(readdirSync(dir).sort(), ['out.json', 'secret.key']);
});

test('AtomicFile: written over time, committed into place; aborted, the old file stays and no temporary is left', (t) => {
  const dir = tmp('atomic');
  const target = join(dir, 'out.tar');
  writeFileAtomic(target, 'old');
  const f = AtomicFile.create(target, { what: 'test archive' });
  f.write('ne');
  f.write(new Uint8Array([0x77]));
  t.is(readFileSync(target, 'utf8'), 'old', 'nothing reaches the target before commit');
  t.is(readdirSync(dir).length, 2, 'the temporary sits beside it');
  f.commit();
  t.is(readFileSync(target, 'utf8'), 'new');
  t.deepEqual(readdirSync(dir), ['out.tar']);
  const g = AtomicFile.create(target, { what: 'test archive' });
  g.write('half of a new one');
  g.abort();
  g.abort();
  t.is(readFileSync(target, 'utf8'), 'new');
  t.deepEqual(readdirSync(dir), ['out.tar']);
  // Writing after abort is the caller's fault, not the file's: it is not worded as a refusal
  // (errors.ts reports it as an internal error, exit 1).
  const late = t.throws(() => g.write('more'), {
    message: 'AtomicFile used after commit() or abort()',
  });
  t.false(late instanceof StellaError);
  // A file system error is a write error naming the file; a producer's own error, and any
  // other fault of the code, pass through as themselves.
  let systemError: unknown;
  try {
    readFileSync(join(dir, 'no-such-file'));
  } catch (e) {
    systemError = e;
  }
  t.like(g.writeError(systemError), {
    code: 'INPUT_INVALID',
    message: `cannot write test archive "${target}": no such file`,
  });
  const own = new StellaError('INPUT_INVALID', 'input', 'the producer failed');
  t.is(g.writeError(own), own);
  const fault = new TypeError("Cannot read properties of undefined (reading 'byteLength')");
  t.is(g.writeError(fault), fault);
  refused(
    t,
    () => AtomicFile.create(join(dir, 'no-such-folder', 'x.tar'), { what: 'test archive' }),
    'INPUT_INVALID',
    /cannot write test archive/,
  );
});

test('SpoolFile: unlinked at once, gives back what was appended in order; writeFileAtomic writes chunk by chunk', (t) => {
  const dir = tmp('spool');
  const a = SpoolFile.create(dir, { what: 'test' });
  const b = SpoolFile.create(dir, { what: 'test' });
  t.deepEqual(readdirSync(dir), [], 'nothing is visible in the folder, even while in use');
  const parts = Array.from({ length: 5000 }, (_, i) => `row ${i} ${'é'.repeat(i % 37)}\n`);
  for (const p of parts) a.append(p);
  b.append('second');
  const target = join(dir, 'out.html');
  writeFileAtomic(target, (write) => {
    write('<head>');
    for (const c of a.chunks()) write(c);
    write(new Uint8Array([0x7c]));
    for (const c of b.chunks()) write(c);
  });
  t.is(readFileSync(target, 'utf8'), `<head>${parts.join('')}|second`);
  // Read again: the same bytes.
  t.is(Buffer.concat([...a.chunks()]).toString('utf8'), parts.join(''));
  a.close();
  a.close();
  b.close();
  t.deepEqual(readdirSync(dir), ['out.html']);
  const err = t.throws(() => SpoolFile.create(join(dir, 'no-such-folder'), { what: '--report' }));
  t.true(err instanceof StellaError && /scratch space for --report/.test(err.message));
});

test('H56 writeFileAtomic: symlinks planted at the old predictable temporary names are not followed', (t) => {
  const dir = tmp('plant');
  const outside = tmp('outside');
  const victim = join(outside, 'victim');
  writeFileSync(victim, 'precious', { mode: 0o644 });
  const target = join(dir, 'trusted_root.json');
  // The three old helpers' names: trust store files, sandbox data dir, signing output (one guess).
  const planted = [
    `.trusted_root.json.${process.pid}.tmp`,
    `trusted_root.json.${process.pid}.tmp`,
    `.${process.pid}.${Date.now()}.tmp`,
  ];
  for (const name of planted) symlinkSync(victim, join(dir, name));
  // And one to a file that does not exist yet: the old code would have created it.
  symlinkSync(join(outside, 'created'), join(dir, `.secret.${process.pid}.tmp`));
  writeFileAtomic(target, 'new root');
  writeFileAtomic(join(dir, 'secret'), 'key', { mode: 0o600 });
  t.is(readFileSync(target, 'utf8'), 'new root');
  t.is(readFileSync(victim, 'utf8'), 'precious');
  t.is(statSync(victim).mode & 0o777, 0o644, 'no chmod through a link');
  t.false(existsSync(join(outside, 'created')));
  for (const name of planted)
    t.true(lstatSync(join(dir, name)).isSymbolicLink(), `${name} untouched`);
});

test('H56 writeFileAtomic: a symlink at the target is replaced, not written through', (t) => {
  const dir = tmp('target-link');
  const outside = tmp('outside2');
  const victim = join(outside, 'victim');
  writeFileSync(victim, 'precious');
  const target = join(dir, 'export.tar');
  symlinkSync(victim, target);
  writeFileAtomic(target, 'archive');
  t.false(lstatSync(target).isSymbolicLink());
  t.is(readFileSync(target, 'utf8'), 'archive');
  t.is(readFileSync(victim, 'utf8'), 'precious');
});

test('H56 writeFileAtomic: a failure removes the temporary and says why', (t) => {
  const dir = tmp('fail');
  mkdirSync(join(dir, 'is-a-dir'));
  refused(
    t,
    () =>
      writeFileAtomic(join(dir, 'is-a-dir'), 'x', {
        what: 'bundle',
        code: 'SANDBOX_ERROR',
        check: 'sandbox',
      }),
    'SANDBOX_ERROR',
    /^cannot write bundle ".*is-a-dir": /,
  );
  t.deepEqual(readdirSync(dir), ['is-a-dir'], 'no temporary left behind');
  const e = refused(
    t,
    () => writeFileAtomic(join(dir, 'no', 'such', 'dir', 'f'), 'x'),
    'INPUT_INVALID',
    /no such file/,
  );
  t.truthy(e?.cause, 'the errno is kept as the cause');
});

test('H56 openAppendOnly: never through a symlink, only a regular file', (t) => {
  const dir = tmp('append');
  const outside = tmp('outside3');
  const victim = join(outside, 'victim');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, join(dir, 'sandbox.log'));
  refused(
    t,
    () => openAppendOnly(join(dir, 'sandbox.log'), { what: 'sandbox log' }),
    'INPUT_INVALID',
    /symbolic link/,
  );
  t.is(readFileSync(victim, 'utf8'), 'precious');
  const fd = openAppendOnly(join(dir, 'real.log'), { what: 'log', mode: 0o600 });
  closeSync(fd);
  t.is(statSync(join(dir, 'real.log')).mode & 0o777, 0o600);
  refused(
    t,
    () => openAppendOnly(fifo(join(dir, 'pipe')), { what: 'log' }),
    'INPUT_INVALID',
    /not a regular file/,
  );
});

test('H57 a secret is read only from a file of ours, closed to others, not through a symlink', (t) => {
  const dir = tmp('secret');
  const key = join(dir, 'control.key');
  writeFileAtomic(key, 'k', { mode: 0o600 });
  t.is(
    Buffer.from(readFileBounded(key, { what: 'key', maxBytes: 64, secret: true })).toString(),
    'k',
  );
  const open = join(dir, 'open.key');
  writeFileSync(open, 'k', { mode: 0o644 });
  refused(
    t,
    () => readFileBounded(open, { what: 'key', maxBytes: 64, secret: true }),
    'INPUT_INVALID',
    /mode 0644 lets others read or write it/,
  );
  symlinkSync(key, join(dir, 'link.key'));
  refused(
    t,
    () => readFileBounded(join(dir, 'link.key'), { what: 'key', maxBytes: 64, secret: true }),
    'INPUT_INVALID',
    /symbolic link/,
  );
  // Owned by someone else: as root, a file given to another user (nobody, 65534); otherwise
  // /etc/passwd, which belongs to root. One of the two holds wherever the tests run.
  if (process.getuid?.() === 0) {
    const theirs = join(dir, 'theirs.key');
    writeFileAtomic(theirs, 'k', { mode: 0o600 });
    chownSync(theirs, 65534, 65534);
    refused(
      t,
      () => readFileBounded(theirs, { what: 'key', maxBytes: 64, secret: true }),
      'INPUT_INVALID',
      /^key ".*theirs\.key": owned by uid 65534, not by this user \(0\)$/,
    );
  } else {
    refused(
      t,
      () => readFileBounded('/etc/passwd', { what: 'key', maxBytes: 1 << 20, secret: true }),
      'INPUT_INVALID',
      /owned by uid 0, not by this user/,
    );
  }
});

test('H54 readFileBounded: a file whose size fstat does not know (/proc) is read whole, exactly; a read error names the file', (t) => {
  // fstat says 0 bytes: the reads go by chunks, the last one short.
  const cmdline = readFileBounded('/proc/self/cmdline', { what: 'x', maxBytes: 1 << 20 });
  t.true(cmdline.length > 0);
  t.deepEqual(Buffer.from(cmdline), readFileSync('/proc/self/cmdline'));
  // Reading /proc/self/mem at offset 0 fails with EIO: an input error, not a hang or a crash.
  refused(
    t,
    () => readFileBounded('/proc/self/mem', { what: 'x', maxBytes: 1 << 20 }),
    'INPUT_INVALID',
    /^x "\/proc\/self\/mem": EIO/,
  );
  // The artifact reader too: the read error is an input error naming the file, never raw.
  refused(
    t,
    () => readArtifactFile('/proc/self/mem', { what: '--artifact' }),
    'INPUT_INVALID',
    /^--artifact "\/proc\/self\/mem": EIO/,
  );
});

test('H56 checkWritableTarget: a missing folder, a folder at the target, a file for a folder are refused by name; a writable place passes and is left clean', (t) => {
  const dir = tmp('writable');
  const opts = { what: 'bundle (--output)' };
  checkWritableTarget(join(dir, 'b.json'), opts);
  t.deepEqual(readdirSync(dir), [], 'the probe is removed');
  writeFileSync(join(dir, 'exists.json'), 'x');
  checkWritableTarget(join(dir, 'exists.json'), opts);
  refused(
    t,
    () => checkWritableTarget(join(dir, 'no-such', 'b.json'), opts),
    'INPUT_INVALID',
    /^cannot write bundle \(--output\) ".*no-such\/b\.json": its folder ".*no-such" does not exist$/,
  );
  refused(t, () => checkWritableTarget(dir, opts), 'INPUT_INVALID', /: is a directory$/);
  // "-" means standard input or output everywhere: never a file of that name, by mistake.
  refused(
    t,
    () => checkWritableTarget('-', opts),
    'INPUT_INVALID',
    /^cannot write bundle \(--output\) "-": standard output is not supported for this file: give a path \(\.\/- for a file named -\)$/,
  );
  checkWritableTarget(join(dir, '-'), opts);
  refused(
    t,
    () =>
      checkWritableTarget(join(dir, 'exists.json', 'b.json'), { ...opts, code: 'CONFIG_INVALID' }),
    'CONFIG_INVALID',
    /exists\.json\/b\.json": a component of the path is not a directory$/,
  );
  refused(
    t,
    () => checkWritableTarget('/proc/self/stella-test', opts),
    'INPUT_INVALID',
    /a file cannot be created in "\/proc\/self"/,
  );
});

test('checkWritableTarget with inputs: the output may not be a file the command reads, however it is spelled or linked, nor inside a folder it reads whole', (t) => {
  const dir = tmp('inputs');
  const archive = join(dir, 'ship.tar');
  writeFileSync(archive, 'tar');
  const opts = (inputs: { what: string; path: string | undefined; folder?: boolean }[]) => ({
    what: '--report',
    inputs,
  });
  const clash =
    /^cannot write --report ".*": it is --archive ".*ship\.tar": writing there would replace it; give another path$/;
  // The same name, another spelling of it, and a symlink given as the input.
  refused(
    t,
    () => checkWritableTarget(archive, opts([{ what: '--archive', path: archive }])),
    'INPUT_INVALID',
    clash,
  );
  refused(
    t,
    () =>
      checkWritableTarget(
        join(dir, '.', 'x', '..', 'ship.tar'),
        opts([{ what: '--archive', path: archive }]),
      ),
    'INPUT_INVALID',
    clash,
  );
  mkdirSync(join(dir, 'x'));
  symlinkSync(archive, join(dir, 'link.tar'));
  const e = refused(
    t,
    () => checkWritableTarget(archive, opts([{ what: '--archive', path: join(dir, 'link.tar') }])),
    'INPUT_INVALID',
    /it is --archive ".*link\.tar"/,
  );
  t.regex(e?.message ?? '', /^cannot write --report ".*\/ship\.tar"/);
  t.is(readFileSync(archive, 'utf8'), 'tar', 'nothing was written');
  // A symlink at the output is replaced by the write, not written through: its target is safe.
  checkWritableTarget(join(dir, 'link.tar'), opts([{ what: '--archive', path: archive }]));
  // Neither exists yet (a store the command will create): the same name is still the same file.
  refused(
    t,
    () =>
      checkWritableTarget(
        join(dir, 'new.db'),
        opts([{ what: '--archive', path: join(dir, 'x', '..', 'new.db') }]),
      ),
    'INPUT_INVALID',
    /it is --archive/,
  );
  // Other files, standard input and flags not given pass.
  checkWritableTarget(
    join(dir, 'report.html'),
    opts([
      { what: '--archive', path: archive },
      { what: '--artifact', path: '-' },
      { what: '--key', path: undefined },
      { what: '--artifacts-dir', path: join(dir, 'x'), folder: true },
    ]),
  );
  // Inside a folder read whole, at any depth; a sibling folder with the same prefix is outside.
  mkdirSync(join(dir, 'x', 'deep'));
  for (const inside of [join(dir, 'x', 'r.html'), join(dir, 'x', 'deep', 'r.html')])
    refused(
      t,
      () =>
        checkWritableTarget(
          inside,
          opts([{ what: '--artifacts-dir', path: join(dir, 'x'), folder: true }]),
        ),
      'INPUT_INVALID',
      /: it is inside --artifacts-dir ".*\/x", which this command reads whole: write it elsewhere$/,
    );
  mkdirSync(join(dir, 'xy'));
  checkWritableTarget(
    join(dir, 'xy', 'r.html'),
    opts([{ what: '--artifacts-dir', path: join(dir, 'x'), folder: true }]),
  );
  t.deepEqual(readdirSync(join(dir, 'x')), ['deep'], 'no probe was left in the folder refused');
});

test('SpoolFile: close() closes its descriptor (the unlinked file is gone from /proc/self/fd)', (t) => {
  const dir = tmp('spool-close');
  const open = (): string[] =>
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        return target.startsWith(dir) ? [target] : [];
      } catch {
        return [];
      }
    });
  const s = SpoolFile.create(dir, { what: 'test' });
  s.append('x');
  t.is(open().length, 1, 'the spool is open (and unlinked)');
  s.close();
  t.deepEqual(open(), []);
  s.close();
});

test('an input error from the system keeps the system error as its cause; one of ours has none', (t) => {
  const dir = tmp('cause');
  const missing = refused(
    t,
    () => readFileBounded(join(dir, 'missing'), { what: 'x', maxBytes: 10 }),
    'INPUT_INVALID',
    /: no such file$/,
  );
  t.is((missing?.cause as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
  const folder = refused(
    t,
    () => readFileBounded(dir, { what: 'x', maxBytes: 10 }),
    'INPUT_INVALID',
    /a directory, not a regular file/,
  );
  t.is(folder?.cause, undefined);
});

test('checkFolderCreatable: an existing folder, or one mkdir -p can make, passes and nothing is created; a file on the way, or /proc, is refused by its name', (t) => {
  const dir = tmp('creatable');
  const opts = { what: '--attestation-store folder' };
  t.notThrows(() => checkFolderCreatable(dir, opts));
  t.notThrows(() => checkFolderCreatable(join(dir, 'a', 'b'), opts));
  t.false(existsSync(join(dir, 'a')), 'checked, not made');
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  refused(
    t,
    () => checkFolderCreatable(file, opts),
    'INPUT_INVALID',
    /^--attestation-store folder ".*\/file": .*\/file is not a folder$/,
  );
  // Below a file, stat itself fails (ENOTDIR), and says so.
  for (const target of [join(file, 'sub'), join(file, 'sub', 'deeper')])
    refused(
      t,
      () => checkFolderCreatable(target, opts),
      'INPUT_INVALID',
      /: .*\/file\/sub(\/deeper)?: a component of the path is not a directory$/,
    );
  refused(
    t,
    () => checkFolderCreatable('/proc/stella-test/x', opts),
    'INPUT_INVALID',
    /: a folder cannot be created under \/proc$/,
  );
});

/** Every chunk readFileChunks yields, stopping at `cap` so a generator that never ends fails the test. */
async function chunksOf(path: string, chunkBytes: number, cap = 1000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of readFileChunks(path, { what: '--archive', chunkBytes })) {
    out.push(new Uint8Array(c));
    if (out.length >= cap) break;
  }
  return out;
}

test('readFileChunks: a file in chunks of at most chunkBytes, in order, whole; an empty file yields none', async (t) => {
  const dir = tmp('chunks');
  const data = new Uint8Array(10).map((_, i) => i + 1);
  writeFileSync(join(dir, 'ten'), data);
  const chunks = await chunksOf(join(dir, 'ten'), 4);
  t.deepEqual(
    chunks.map((c) => c.length),
    [4, 4, 2],
  );
  t.deepEqual(Buffer.concat(chunks), Buffer.from(data));
  writeFileSync(join(dir, 'empty'), '');
  t.deepEqual(await chunksOf(join(dir, 'empty'), 4), []);
});

test('readFileChunks: a folder or a missing file is refused on the first read, naming the flag', async (t) => {
  const dir = tmp('chunks-bad');
  for (const [path, pattern] of [
    [dir, /^--archive .*: .*not a regular file/],
    [join(dir, 'absent.tar'), /^--archive .*absent\.tar/],
  ] as const) {
    const e = await t.throwsAsync(chunksOf(path, 4), { instanceOf: StellaError });
    t.regex(e?.message ?? '', pattern);
  }
});

// /proc answers a directory's fsync with EINVAL, as file systems that cannot sync a directory
// do; only Linux has one to hand, so elsewhere the test is declared skipped.
(process.platform === 'linux' ? test : test.skip)(
  'fsyncDirectory: a directory its file system cannot fsync (EINVAL, /proc) is nothing to do; a real one is synced; a missing one throws',
  (t) => {
    t.notThrows(() => fsyncDirectory('/proc'));
    const dir = tmp('fsync-dir');
    t.notThrows(() => fsyncDirectory(dir));
    t.is(
      (t.throws(() => fsyncDirectory(join(dir, 'gone'))) as NodeJS.ErrnoException).code,
      'ENOENT',
    );
  },
);
