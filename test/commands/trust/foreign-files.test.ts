/**
 * Checklist H51 (review item 9) through the real CLI: another program's SQLite database, or an
 * empty file, given as the trust store or the attestation store to any command is refused
 * (STORE_FOREIGN, exit 101) and left byte for byte — nothing switched to WAL, no table added,
 * nothing created beside it.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES } from '../../../src/errors.js';
import { runCli } from '../../helpers/cli.js';
import { PROJECT_ROOT } from '../../helpers/paths.js';
import { verifyBlobArgs, verifyFromAttestationStoreArgs } from '../../helpers/samples.js';
import { tempDir } from '../../trust/store/helpers.js';

const FILES: [string, (f: string) => void][] = [
  [
    "another program's SQLite database (WAL mode)",
    (f) => {
      const db = new Database(f);
      db.pragma('journal_mode = WAL');
      db.exec(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine')",
      );
      db.close();
    },
  ],
  ['an empty file', (f) => writeFileSync(f, '')],
];

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((n) => [n, readFileSync(path.join(dir, n)).toString('hex')]),
  );
}

for (const [what, make] of FILES) {
  // Serial: each runs ~16 CLI processes, on machines that may be busy.
  test.serial(
    `H51: ${what} as --store or --attestation-store is refused by every command (exit 101) and left byte for byte`,
    async (t) => {
      const dir = tempDir('cli-foreign');
      const file = path.join(dir, 'theirs.db');
      make(file);
      const out = tempDir('cli-foreign-out');
      const junk = path.join(out, 'x.bin');
      writeFileSync(junk, 'x');
      const before = snapshot(dir);
      const store = (args: string[]) => [...args, '--store', file];
      const reads = [
        store(['trust', 'list']),
        store(['trust', 'show', '1']),
        store(['trust', 'export', '--output', '-']),
        store(['trust', 'history']),
        store(['trust', 'keys', 'list']),
        store(['trust', 'rotate', junk, '--dry-run']),
        store(['trust', 'migrate', '--dry-run']),
        verifyBlobArgs('--store', file),
        verifyFromAttestationStoreArgs(file),
        [
          'attest',
          'export-bundle',
          '--all',
          '--attestation-store',
          file,
          '--output',
          path.join(out, 'export.tar'),
        ],
      ];
      // Write paths share one open (test/trust/store/foreign-files.test.ts covers each); two of them here.
      const writes = [
        store(['trust', 'import', path.join(PROJECT_ROOT, 'samples', 'trusted_root.json')]),
        store(['trust', 'migrate']),
        // `trust init` makes a store only where there is nothing: never of another program's file.
        ...(what === 'an empty file' ? [] : [store(['trust', 'init'])]),
      ];
      const results = await Promise.all(
        [...reads, ...writes].map((args) => runCli(args).then((r) => ({ args, r }))),
      );
      for (const { args, r } of results) {
        t.is(r.code, EXIT_CODES.STORE_FOREIGN, `${args.join(' ')}: ${r.stderr}`);
        t.regex(
          r.stderr,
          /^error: (trust-store|attestation-store): .* is not a Stella (trust|attestation) store \(.*\); it was left untouched\n$/,
          args.join(' '),
        );
      }
      const j = await runCli(store(['trust', 'list', '--json']));
      t.is(JSON.parse(j.stdout).error.code, 'STORE_FOREIGN');
      t.deepEqual(snapshot(dir), before, 'the file is left byte for byte, with nothing beside it');
      t.false(existsSync(path.join(out, 'export.tar')));
    },
  );
}

test('H51: a missing --attestation-store is "no attestations found" and is not created; a missing trust store is not created by a read', async (t) => {
  const dir = tempDir('cli-missing');
  const r = await runCli(verifyFromAttestationStoreArgs(path.join(dir, 'sub', 'attestations.db')));
  t.is(r.code, EXIT_CODES.NO_ATTESTATIONS_FOUND, r.stderr);
  const l = await runCli(['trust', 'list', '--store', path.join(dir, 'sub', 'trust.db')]);
  t.is(l.code, EXIT_CODES.STORE_NOT_FOUND);
  t.deepEqual(readdirSync(dir), []);
});
