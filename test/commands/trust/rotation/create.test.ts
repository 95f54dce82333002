/**
 * `stella trust rotation create`: new rotation keys and their threshold go together, a usage
 * error (exit 2) before any file is read (until stop 48 it was INPUT_INVALID, exit 10); the
 * signing keys are read by the one private key reader (a cosign key too).
 */
import test from 'ava';
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES } from '../../../../src/errors.js';
import { parsePrivateKeyPem } from '../../../../src/sign/private-key.js';
import { runCli, usageStderr } from '../../../helpers/cli.js';
import { PROJECT_ROOT } from '../../../helpers/paths.js';
import {
  caEntry,
  DAY,
  makeCa,
  rotationKeyPair,
  tempDir,
  trustedRootOf,
} from '../../../trust/store/helpers.js';

test('--new-rotation-keys and --new-threshold go together: a usage error, nothing read or written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-rotation-create-'));
  const out = join(dir, 'rotation.tar');
  const base = [
    'trust',
    'rotation',
    'create',
    '--root',
    join(dir, 'never-read.json'),
    '--version',
    '2',
    '--expires',
    '2099-01-01T00:00:00Z',
    '--sign-with',
    join(dir, 'never-read.pem'),
    '--output',
    out,
  ];
  for (const pair of [
    ['--new-threshold', '1'],
    ['--new-rotation-keys', join(dir, 'never-read-keys.pem')],
  ]) {
    const r = await runCli([...base, ...pair]);
    t.is(r.code, 2, r.stderr);
    t.is(r.stderr, usageStderr('--new-rotation-keys and --new-threshold go together'));
  }
  // Without the pair the same command goes on to read --root, and fails on its absence.
  const r = await runCli(base);
  t.not(r.code, 2);
  t.regex(r.stderr, /never-read\.json/);
  t.false(existsSync(out));
});

test('--sign-with reads a cosign key ($COSIGN_PASSWORD) and env://VAR as export-bundle --seal-key does: the rotation it signs applies; a public key given as --sign-with is named as one and nothing is written', async (t) => {
  const dir = tempDir('rotation-cosign-key');
  const store = join(dir, 'trust.db');
  const env = { STELLA_TRUST_STORE: store, COSIGN_PASSWORD: 'hello' };
  const cosignKey = join(dir, 'cosign.key');
  writeFileSync(
    cosignKey,
    readFileSync(join(PROJECT_ROOT, 'test/fixtures/sign/cosign-keys/sigstore-ec-p256.key')),
    { mode: 0o600 },
  );
  const cosignPub = createPublicKey(
    parsePrivateKeyPem(readFileSync(cosignKey, 'utf8'), 'k', () => 'hello'),
  ).export({ format: 'pem', type: 'spki' }) as string;
  const other = rotationKeyPair();
  writeFileSync(join(dir, 'keys.pem'), cosignPub + other.publicPem);
  const init = await runCli(
    ['trust', 'init', '--rotation-keys', join(dir, 'keys.pem'), '--threshold', '2'],
    { env },
  );
  t.is(init.code, 0, init.stderr);
  const now = Date.now();
  const root = await makeCa('Rotated Root', now - 365 * DAY, now + 3650 * DAY);
  writeFileSync(join(dir, 'root.json'), trustedRootOf([caEntry([root.der], now - 365 * DAY)]));
  const create = (signWith: string[], out: string, password = 'hello') =>
    runCli(
      [
        'trust',
        'rotation',
        'create',
        '--root',
        join(dir, 'root.json'),
        '--version',
        '1',
        '--expires',
        new Date(now + 30 * DAY).toISOString(),
        ...signWith.flatMap((k) => ['--sign-with', k]),
        '--output',
        out,
        '--json',
      ],
      { env: { ...env, COSIGN_PASSWORD: password, OTHER_ROTATION_KEY: other.privatePem } },
    );
  const tar = join(dir, 'rotation.tar');
  // One key from a file, the other from the environment (env://VAR), as cosign takes a key.
  const made = await create([cosignKey, 'env://OTHER_ROTATION_KEY'], tar);
  t.is(made.code, 0, made.stdout + made.stderr);
  const applied = await runCli(['trust', 'rotate', tar, '--json'], { env });
  t.is(applied.code, 0, applied.stdout + applied.stderr);
  t.true(JSON.parse(applied.stdout).applied);

  writeFileSync(join(dir, 'cosign.pub'), cosignPub);
  const refusedTar = join(dir, 'refused.tar');
  const pub = await create([join(dir, 'cosign.pub')], refusedTar);
  t.is(pub.code, EXIT_CODES.INPUT_INVALID, pub.stdout + pub.stderr);
  t.is(
    JSON.parse(pub.stdout).error.message,
    `--sign-with ${JSON.stringify(join(dir, 'cosign.pub'))}: a public key, not a private key`,
  );
  const wrong = await create([cosignKey], refusedTar, 'nope');
  t.is(wrong.code, EXIT_CODES.INPUT_INVALID, wrong.stdout + wrong.stderr);
  t.regex(JSON.parse(wrong.stdout).error.message, /cannot decrypt this cosign key/);
  t.false(existsSync(refusedTar));
});
