/**
 * `stella trust migrate` and the older-schema refusal, through the real CLI (checklist H52,
 * review item 4): every other command refuses an older store and names `trust migrate`;
 * migrate seals a genuine old store and refuses a downgraded, edited one.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES } from '../../../src/errors.js';
import { runCli } from '../../helpers/cli.js';
import { PROJECT_ROOT } from '../../helpers/paths.js';
import { verifyBlobArgs } from '../../helpers/samples.js';
import { tempDir } from '../../trust/store/helpers.js';

const V1_SQL = readFileSync(
  path.join(PROJECT_ROOT, 'test', 'fixtures', 'trust', 'store-v1.sql'),
  'utf8',
);

function env(store: string) {
  return { env: { STELLA_TRUST_STORE: store } };
}

function json(stdout: string): Record<string, any> {
  return JSON.parse(stdout) as Record<string, any>;
}

function snapshot(file: string): Record<string, string> {
  const dir = path.dirname(file);
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((n) => [n, readFileSync(path.join(dir, n)).toString('hex')]),
  );
}

function v1Store(): string {
  const file = path.join(tempDir('cli-v1'), 'trust.db');
  const raw = new Database(file);
  raw.exec(V1_SQL);
  raw.close();
  return file;
}

/** Every command that reads or writes the store, with the arguments it needs to get to the open. */
function storeCommands(dir: string): string[][] {
  const junk = path.join(dir, '..', 'x.bin');
  writeFileSync(junk, 'x');
  return [
    ['trust', 'list'],
    ['trust', 'list', '--timeline'],
    ['trust', 'show', '1'],
    ['trust', 'export', '--output', '-'],
    ['trust', 'history'],
    ['trust', 'keys', 'list'],
    ['trust', 'rotate', junk, '--dry-run'],
    ['trust', 'retire', '1'],
    ['trust', 'import', path.join(PROJECT_ROOT, 'samples', 'trusted_root.json')],
    ['trust', 'keys', 'add', '--threshold', '1'],
    ['trust', 'init'],
  ];
}

test('every command but `trust migrate` refuses a store at an older schema (exit 100), names trust migrate, and writes nothing', async (t) => {
  const file = v1Store();
  const before = snapshot(file);
  const runs = [
    ...storeCommands(path.dirname(file)).map((args) => runCli(args, env(file))),
    runCli(verifyBlobArgs('--store', file)),
  ];
  for (const r of await Promise.all(runs)) {
    t.is(r.code, EXIT_CODES.STORE_MIGRATION_REQUIRED, r.stderr);
    t.regex(
      r.stderr,
      /^error: trust-store: trust store .* has schema version 1, older than this stella's \(3\); nothing was changed: run `stella trust migrate`/,
    );
  }
  const j = await runCli(['trust', 'list', '--json'], env(file));
  t.is(json(j.stdout).error.code, 'STORE_MIGRATION_REQUIRED');
  t.deepEqual(snapshot(file), before);
});

test('trust migrate --dry-run shows what it would seal and writes nothing; trust migrate seals it; then every command works', async (t) => {
  const file = v1Store();
  const before = snapshot(file);
  const dry = await runCli(['trust', 'migrate', '--dry-run'], env(file));
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /schema 1 -> 3; history \(3 rows\) accounts for everything it holds/);
  t.regex(
    dry.stdout,
    /would seal: 2 entries, 0 active rotation key\(s\), threshold 0, last rotation version 0/,
  );
  t.regex(dry.stdout, /#1 ca O=sigstore\.dev, CN=sigstore/);
  t.regex(dry.stdout, /dry run: nothing was written/);
  const dj = json((await runCli(['trust', 'migrate', '--dry-run', '--json'], env(file))).stdout);
  t.like(dj, {
    ok: true,
    from: 1,
    to: 3,
    dryRun: true,
    migrated: false,
    upToDate: false,
    historyRows: 3,
  });
  t.is(dj.entries.length, 2);
  t.deepEqual(snapshot(file), before);

  const real = await runCli(['trust', 'migrate', '--json'], env(file));
  t.is(real.code, 0, real.stderr);
  t.like(json(real.stdout), { ok: true, from: 1, to: 3, migrated: true });
  t.regex(json(real.stdout).historyHead, /^[0-9a-f]{64}$/);
  const hist = json((await runCli(['trust', 'history', '--json'], env(file))).stdout);
  t.deepEqual(
    hist.history.map((h: { action: string }) => h.action),
    ['create', 'add', 'add', 'migrate'],
  );
  t.regex(hist.history[3].command, /^stella trust migrate --json$/);
  t.is((await runCli(['trust', 'list'], env(file))).code, 0);
  const again = await runCli(['trust', 'migrate'], env(file));
  t.is(again.code, 0);
  t.regex(again.stdout, /already at schema 3; nothing to migrate/);
});

test('the downgrade attack (drop the newer columns, set the version back, edit an entry) is refused by read commands and by trust migrate', async (t) => {
  const dir = tempDir('cli-downgrade');
  const file = path.join(dir, 'trust.db');
  t.is((await runCli(['trust', 'init', '--with', 'public-good'], env(file))).code, 0);
  t.is((await runCli(['trust', 'retire', '2', '--at', '2030-01-01T00:00:00Z'], env(file))).code, 0);
  // The attacker's edit: re-open the retired root, and hide what schema 2 left behind.
  const db = new Database(file);
  db.pragma('journal_mode = DELETE');
  db.exec(`
    ALTER TABLE entries DROP COLUMN rotation_version;
    ALTER TABLE history DROP COLUMN state_digest;
    ALTER TABLE history DROP COLUMN prev_hash;
    ALTER TABLE history DROP COLUMN hash;
    DROP TABLE checkpoints; DROP TABLE split_views; DROP TABLE witnesses; DROP TABLE witness_policies;
    DELETE FROM meta WHERE key IN ('history_head', 'state_digest');
    UPDATE history SET detail = '{"schemaVersion":1}' WHERE action = 'create';
    UPDATE entries SET retired_at = NULL WHERE id = 2;
  `);
  db.pragma('user_version = 1');
  db.close();
  const before = snapshot(file);
  for (const args of [
    ['trust', 'list'],
    ['trust', 'export', '--output', '-'],
    ['trust', 'show', '2'],
  ]) {
    const r = await runCli(args, env(file));
    t.is(r.code, EXIT_CODES.STORE_MIGRATION_REQUIRED, `${args.join(' ')}: ${r.stderr}`);
  }
  const v = await runCli(verifyBlobArgs('--store', file));
  t.is(v.code, EXIT_CODES.STORE_MIGRATION_REQUIRED, v.stderr);
  const m = await runCli(['trust', 'migrate'], env(file));
  t.is(m.code, EXIT_CODES.STORE_TAMPERED);
  t.regex(
    m.stderr,
    /^error: trust-store: trust store .* was modified outside stella and cannot be migrated: .*entry #2 .*retired_at is null, history says 2030-01-01T00:00:00\.000Z; nothing was changed\n$/,
  );
  const mj = json((await runCli(['trust', 'migrate', '--dry-run', '--json'], env(file))).stdout);
  t.is(mj.error.code, 'STORE_TAMPERED');
  t.true(mj.error.details.problems.length >= 1);
  t.deepEqual(snapshot(file), before, 'left byte for byte');
});
