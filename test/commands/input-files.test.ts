/**
 * Checklist H54 through the real CLI, for every flag that names an input file: /dev/zero, a
 * FIFO with no writer, a directory and a sparse file one byte over the flag's limit are each
 * refused with the flag's exit code, before anything is read (no hang, no memory spent), and
 * an artifact of any size is hashed, never refused for its size.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES } from '../../src/errors.js';
import { BUNDLE_LIMITS } from '../../src/bundle/model.js';
import { TRUSTED_ROOT_LIMITS } from '../../src/trust/trusted-root.js';
import { EXPORT_LIMITS, STREAM_LIMITS } from '../../src/archive/export.js';
import { ROTATION_LIMITS } from '../../src/trust/rotation/bundle.js';
import { MAX_IMPORT_BYTES } from '../../src/trust/store/importers.js';
import { FILE_LIMITS } from '../../src/util/fs.js';
import { SIGNING_CONFIG_LIMITS } from '../../src/sign/signing-config.js';
import { runCli } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { rotationKeyPair } from '../trust/store/helpers.js';

const S = (f: string) => join(PROJECT_ROOT, 'samples', f);
const ART = S('artifact.txt');
const BUNDLE = S('blob.sigstore.json');
const ROOT = S('trusted_root.json');
const IDENTITY = [
  '--certificate-identity',
  'https://github.com/stella-samples/demo/.github/workflows/release.yml@refs/heads/main',
  '--certificate-oidc-issuer',
  'https://oidc.stella.invalid',
];

const dir = mkdtempSync(join(tmpdir(), 'stella-inputs-'));
const key = rotationKeyPair();
const signKey = join(dir, 'k1.pem');
writeFileSync(signKey, key.privatePem);
const fifoPath = join(dir, 'pipe');
execFileSync('mkfifo', [fifoPath]);
const aDirectory = join(dir, 'a-directory');
mkdirSync(aDirectory);

/** A sparse file of `size` bytes (ftruncate: no disk used, nothing to read). */
function sparse(size: number): string {
  const path = join(dir, `sparse-${size}`);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

interface InputFlag {
  flag: string;
  /** The command line with `file` in the flag's place (every other input valid). */
  args: (file: string, out: string) => string[];
  limit: number;
  /** Exit code for a file that is not a regular file. */
  notRegular: number;
  /** Exit code for a file over the limit. */
  tooLarge: number;
}

const verify = ['attest', 'verify', '--json'];
const trustEnv = (label: string) => ({ STELLA_TRUST_STORE: join(dir, `${label}.db`) });
const rotationCreate = (root: string, signWith: string, out: string, extra: string[] = []) => [
  'trust',
  'rotation',
  'create',
  '--root',
  root,
  '--version',
  '2',
  '--expires',
  '2030-01-01T00:00:00Z',
  '--sign-with',
  signWith,
  '--output',
  out,
  ...extra,
];

const FLAGS: InputFlag[] = [
  {
    flag: 'attest verify --bundle',
    args: (f) => [...verify, '--artifact', ART, '--bundle', f, '--trusted-root', ROOT, ...IDENTITY],
    limit: BUNDLE_LIMITS.maxBytes,
    notRegular: 10,
    tooLarge: EXIT_CODES.BUNDLE_LIMIT_EXCEEDED,
  },
  {
    flag: 'attest verify --trusted-root',
    args: (f) => [
      ...verify,
      '--artifact',
      ART,
      '--bundle',
      BUNDLE,
      '--trusted-root',
      f,
      ...IDENTITY,
    ],
    limit: TRUSTED_ROOT_LIMITS.maxBytes,
    notRegular: 10,
    tooLarge: EXIT_CODES.TRUSTED_ROOT_INVALID,
  },
  {
    flag: 'attest verify --key',
    args: (f) => [
      ...verify,
      '--artifact',
      ART,
      '--bundle',
      S('managed-key.sigstore.json'),
      '--trusted-root',
      ROOT,
      '--key',
      f,
    ],
    limit: FILE_LIMITS.keyBytes,
    notRegular: 10,
    tooLarge: 10,
  },
  // Streamed: the archive limit is STREAM_LIMITS' (1 TiB), still checked from fstat before anything is read.
  {
    flag: 'attest verify --archive',
    args: (f) => [
      ...verify,
      '--artifact',
      ART,
      '--archive',
      f,
      '--trusted-root',
      ROOT,
      ...IDENTITY,
    ],
    limit: STREAM_LIMITS.maxArchiveBytes,
    notRegular: 10,
    tooLarge: EXIT_CODES.ARCHIVE_LIMIT_EXCEEDED,
  },
  {
    flag: 'attest sign --predicate',
    args: (f, out) => [
      'attest',
      'sign',
      '--keyless',
      '--artifact',
      ART,
      '--predicate',
      f,
      '--predicate-type',
      'https://example.com/p/v1',
      '--identity-token',
      'a.b.c',
      '--output',
      out,
      '--json',
    ],
    limit: FILE_LIMITS.predicateBytes,
    notRegular: 10,
    tooLarge: 10,
  },
  {
    flag: 'attest sign --config',
    args: (f, out) => [
      'attest',
      'sign',
      '--keyless',
      '--artifact',
      ART,
      '--config',
      f,
      '--identity-token',
      'a.b.c',
      '--output',
      out,
      '--json',
    ],
    limit: FILE_LIMITS.configBytes,
    notRegular: EXIT_CODES.CONFIG_INVALID,
    tooLarge: EXIT_CODES.CONFIG_INVALID,
  },
  {
    flag: 'attest sign --signing-config',
    args: (f, out) => [
      'attest',
      'sign',
      '--keyless',
      '--artifact',
      ART,
      '--signing-config',
      f,
      '--identity-token',
      'a.b.c',
      '--output',
      out,
      '--json',
    ],
    limit: SIGNING_CONFIG_LIMITS.maxBytes,
    notRegular: EXIT_CODES.CONFIG_INVALID,
    tooLarge: EXIT_CODES.CONFIG_INVALID,
  },
  {
    flag: 'attest sign --trusted-root',
    args: (f, out) => [
      'attest',
      'sign',
      '--keyless',
      '--artifact',
      ART,
      '--trusted-root',
      f,
      '--identity-token',
      'a.b.c',
      '--output',
      out,
      '--json',
    ],
    limit: TRUSTED_ROOT_LIMITS.maxBytes,
    notRegular: 10,
    tooLarge: EXIT_CODES.TRUSTED_ROOT_INVALID,
  },
  {
    flag: 'attest export-bundle --bundle',
    args: (f, out) => [
      'attest',
      'export-bundle',
      '--all',
      '--bundle',
      f,
      '--output',
      out,
      '--json',
    ],
    limit: BUNDLE_LIMITS.maxBytes,
    notRegular: 10,
    tooLarge: EXIT_CODES.BUNDLE_LIMIT_EXCEEDED,
  },
  {
    flag: 'attest export-bundle --include-trusted-root',
    args: (f, out) => [
      'attest',
      'export-bundle',
      '--all',
      '--bundle',
      BUNDLE,
      '--include-trusted-root',
      f,
      '--output',
      out,
      '--json',
    ],
    limit: EXPORT_LIMITS.maxTrustedRootBytes,
    notRegular: 10,
    tooLarge: EXIT_CODES.TRUSTED_ROOT_INVALID,
  },
  {
    flag: 'trust import',
    args: (f) => ['trust', 'import', f, '--json'],
    limit: MAX_IMPORT_BYTES,
    notRegular: 10,
    tooLarge: EXIT_CODES.IMPORT_INVALID,
  },
  {
    flag: 'trust rotate',
    args: (f) => ['trust', 'rotate', f, '--json'],
    limit: ROTATION_LIMITS.maxArchiveBytes,
    notRegular: 10,
    tooLarge: EXIT_CODES.ARCHIVE_LIMIT_EXCEEDED,
  },
  {
    flag: 'trust init --rotation-keys',
    args: (f) => ['trust', 'init', '--rotation-keys', f, '--threshold', '1', '--json'],
    limit: FILE_LIMITS.keyBytes,
    notRegular: 10,
    tooLarge: 10,
  },
  {
    flag: 'trust keys add',
    args: (f) => ['trust', 'keys', 'add', f, '--json'],
    limit: FILE_LIMITS.keyBytes,
    notRegular: 10,
    tooLarge: 10,
  },
  {
    flag: 'trust rotation create --root',
    args: (f, out) => rotationCreate(f, signKey, out),
    limit: TRUSTED_ROOT_LIMITS.maxBytes,
    notRegular: 10,
    tooLarge: EXIT_CODES.TRUSTED_ROOT_INVALID,
  },
  {
    flag: 'trust rotation create --sign-with',
    args: (f, out) => rotationCreate(ROOT, f, out),
    limit: FILE_LIMITS.keyBytes,
    notRegular: 10,
    tooLarge: 10,
  },
  {
    flag: 'trust rotation create --new-rotation-keys',
    args: (f, out) =>
      rotationCreate(ROOT, signKey, out, ['--new-rotation-keys', f, '--new-threshold', '1']),
    limit: FILE_LIMITS.keyBytes,
    notRegular: 10,
    tooLarge: 10,
  },
];

const SPECIAL: { name: string; path: () => string; message: RegExp }[] = [
  { name: '/dev/zero', path: () => '/dev/zero', message: /a character device, not a regular file/ },
  { name: 'a FIFO with no writer', path: () => fifoPath, message: /a FIFO, not a regular file/ },
  { name: 'a directory', path: () => aDirectory, message: /a directory, not a regular file/ },
];

/** The error object of a --json run, else the stderr line. */
function errorText(r: { stdout: string; stderr: string }): string {
  try {
    return (JSON.parse(r.stdout) as { error?: { message?: string } }).error?.message ?? r.stderr;
  } catch {
    return r.stderr;
  }
}

for (const [i, f] of FLAGS.entries()) {
  test(`H54 ${f.flag}: /dev/zero, a FIFO, a directory and a sparse file over ${f.limit} bytes are refused`, async (t) => {
    const env = trustEnv(`store-${i}`);
    for (const s of SPECIAL) {
      const out = join(dir, `out-${i}-${s.name.replace(/\W/g, '')}`);
      // Bounded: a CLI that waited on the FIFO or read /dev/zero would be killed, and fail here.
      const r = await runCli(f.args(s.path(), out), { env, timeoutMs: 120_000 });
      t.is(r.code, f.notRegular, `${s.name}: ${r.stdout}${r.stderr}`);
      t.regex(errorText(r), s.message, s.name);
    }
    const big = sparse(f.limit + 1);
    const r = await runCli(f.args(big, join(dir, `out-${i}-big`)), { env, timeoutMs: 120_000 });
    t.is(r.code, f.tooLarge, r.stdout + r.stderr);
    t.regex(
      errorText(r),
      new RegExp(`larger than the ${f.limit}-byte limit \\(${f.limit + 1} bytes\\)`),
    );
  });
}

test('H54 --artifact (verify and sign): never a device, FIFO or directory; any size is hashed, not refused', async (t) => {
  for (const s of SPECIAL) {
    const v = await runCli(
      [...verify, '--artifact', s.path(), '--bundle', BUNDLE, '--trusted-root', ROOT, ...IDENTITY],
      { timeoutMs: 120_000 },
    );
    t.is(v.code, 10, v.stdout + v.stderr);
    t.regex(errorText(v), s.message);
    const sign = await runCli(
      [
        'attest',
        'sign',
        '--keyless',
        '--artifact',
        s.path(),
        '--identity-token',
        'a.b.c',
        '--output',
        join(dir, 'sig.json'),
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    t.is(sign.code, 10, sign.stdout + sign.stderr);
    t.regex(errorText(sign), s.message);
  }
  // 100 MB of zeros, sparse: past the in-memory size, so hashed in chunks; the verdict is
  // about its digest (not the bundle's artifact: the first check comparing digests is the
  // tlog body's), not about its size.
  const huge = sparse(100 * 1024 * 1024);
  const v = await runCli(
    [...verify, '--artifact', huge, '--bundle', BUNDLE, '--trusted-root', ROOT, ...IDENTITY],
    { timeoutMs: 60_000 },
  );
  t.is(v.code, EXIT_CODES.TLOG_BODY_MISMATCH, v.stdout + v.stderr);
  t.regex(errorText(v), /tlog entry digest does not match the artifact digest/);
});

test('an input given as the command argument is named as given, never as a flag that was not typed', async (t) => {
  const q = JSON.stringify;
  const cases: { args: string[]; message: string }[] = [
    {
      args: [...verify, aDirectory, '--bundle', BUNDLE, '--trusted-root', ROOT, ...IDENTITY],
      message: `artifact ${q(aDirectory)}: a directory, not a regular file`,
    },
    {
      args: [
        ...verify,
        '--artifact',
        aDirectory,
        '--bundle',
        BUNDLE,
        '--trusted-root',
        ROOT,
      ].concat(IDENTITY),
      message: `--artifact ${q(aDirectory)}: a directory, not a regular file`,
    },
    {
      args: [...verify, 'sha256:abc', '--bundle', BUNDLE, '--trusted-root', ROOT, ...IDENTITY],
      message: 'artifact "sha256:abc": expected sha256:<64 lower-case hex digits>',
    },
    {
      args: ['attest', 'sign', aDirectory, '--keyless', '--identity-token', 'a.b.c', '--json'],
      message: `artifact ${q(aDirectory)}: a directory, not a regular file`,
    },
    {
      args: ['attest', 'sign', 'sha256:zz', '--keyless', '--identity-token', 'a.b.c', '--json'],
      message: 'artifact "sha256:zz": expected sha256:<64 hex digits> in lower case',
    },
    {
      args: ['attest', 'inspect', aDirectory, '--json'],
      message: `bundle ${q(aDirectory)}: a directory, not a regular file`,
    },
    {
      args: ['attest', 'inspect', '--bundle', aDirectory, '--json'],
      message: `--bundle ${q(aDirectory)}: a directory, not a regular file`,
    },
    {
      args: ['attest', 'import', aDirectory, '--json'],
      message: `archive ${q(aDirectory)}: a directory, not a regular file`,
    },
  ];
  for (const c of cases) {
    const r = await runCli(c.args, { env: trustEnv('argument-names') });
    t.is(r.code, 10, `${c.args.join(' ')}: ${r.stdout}${r.stderr}`);
    t.true(errorText(r).startsWith(c.message), `${c.args.join(' ')}: ${errorText(r)}`);
  }
});
