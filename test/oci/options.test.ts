/**
 * --registry-password-stdin through the real CLI: the password is read from standard input by
 * the one bounded reader, so what is not a password (a directory, more than 64 KiB, bytes
 * that are not UTF-8, nothing) is refused by the flag's name, as bad input, before any
 * registry is asked (networking throws in these runs).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES, StellaError } from '../../src/errors.js';
import { registryOptionsFrom } from '../../src/oci/options.js';
import { CLI, NO_NETWORK_PRELOAD, PROJECT_ROOT } from '../helpers/paths.js';

let root: string;
test.before(() => {
  root = mkdtempSync(join(tmpdir(), 'stella-password-stdin-'));
});
test.after.always(() => rmSync(root, { recursive: true, force: true }));

const IMAGE = `127.0.0.1:5000/org/app@sha256:${'ab'.repeat(32)}`;

/** `attest export-bundle` from a registry with the password on stdin, stdin being `stdinPath`. */
function exportWithStdin(stdinPath: string): { code: number | null; stderr: string } {
  const fd = openSync(stdinPath, 'r');
  try {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        NO_NETWORK_PRELOAD,
        CLI,
        'attest',
        'export-bundle',
        '--image',
        IMAGE,
        '--allow-insecure-registry',
        '--registry-username',
        'release-bot',
        '--registry-password-stdin',
        '--output',
        join(root, 'never-written.json'),
      ],
      {
        cwd: PROJECT_ROOT,
        stdio: [fd, 'pipe', 'pipe'],
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    return { code: r.status, stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}

function stdinFile(name: string, bytes: Uint8Array | string): string {
  const p = join(root, name);
  writeFileSync(p, bytes);
  return p;
}

const cases: { name: string; stdin: () => string; message: RegExp }[] = [
  {
    name: 'a directory',
    stdin: () => root,
    message: /--registry-password-stdin "-": is a directory/,
  },
  {
    name: 'more than 64 KiB',
    stdin: () => stdinFile('big', 'p'.repeat(64 * 1024 + 1)),
    message: /--registry-password-stdin "-": larger than the 65536-byte limit/,
  },
  {
    name: 'bytes that are not UTF-8',
    stdin: () => stdinFile('latin1', new Uint8Array([0x70, 0xe9, 0x0a])),
    message: /--registry-password-stdin "-": not UTF-8 text/,
  },
  {
    name: 'only a newline',
    stdin: () => stdinFile('empty', '\n'),
    message: /--registry-password-stdin: the password is empty/,
  },
];

for (const c of cases) {
  test(`--registry-password-stdin with ${c.name} on standard input: INPUT_INVALID, exit ${EXIT_CODES.INPUT_INVALID}, nothing written`, (t) => {
    const r = exportWithStdin(c.stdin());
    t.is(r.code, EXIT_CODES.INPUT_INVALID, r.stderr);
    t.regex(r.stderr, c.message);
    t.false(existsSync(join(root, 'never-written.json')));
  });
}

test('--registry-password-stdin: exactly 64 KiB of password, with its newline, is read and the registry asked (here: no network)', (t) => {
  const r = exportWithStdin(stdinFile('max', `${'p'.repeat(64 * 1024 - 1)}\n`));
  // The password was taken: the run got as far as the registry, which this process cannot reach.
  t.not(r.code, EXIT_CODES.INPUT_INVALID, r.stderr);
  t.notRegex(r.stderr, /--registry-password-stdin/);
  t.regex(r.stderr, /network/i);
});

test('--registry-password-stdin without --registry-username: refused before standard input is read', (t) => {
  const e = t.throws(() => registryOptionsFrom({ registryPasswordStdin: true }, {}), {
    instanceOf: StellaError,
  });
  t.is(e.code, 'INPUT_INVALID');
  t.regex(e.message, /--registry-password-stdin needs --registry-username/);
});

test('STELLA_INSECURE_REGISTRIES: a comma list, each host trimmed, empty items dropped; none without it', (t) => {
  const hosts = (value: string | undefined) =>
    registryOptionsFrom({}, value === undefined ? {} : { STELLA_INSECURE_REGISTRIES: value })
      .insecureHosts;
  t.deepEqual(hosts(' a.example , ,b.example:5000,'), ['a.example', 'b.example:5000']);
  t.deepEqual(hosts(''), []);
  t.deepEqual(hosts(' , '), []);
  t.deepEqual(hosts(undefined), []);
});
