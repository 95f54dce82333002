/**
 * The sandbox's witnesses remember what they cosigned across a restart (DIR/witness-state.json,
 * written atomically): after `stella sandbox fork` a restarted witness still refuses to cosign
 * the log's second history (without it, a fresh witness would take the fork as its first tree).
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../../../src/sandbox/server/sandbox.js';
import { parseSignedNote } from '../../../src/tlog/note.js';
import { runCli } from '../../helpers/cli.js';
import { checkpointOf, consistencyKit, noteOf } from '../../helpers/consistency-kit.js';

test('a restarted sandbox witness still refuses a forked history', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'stella-witness-state-'));
  const dataDir = join(root, 'sandbox');
  const first = await startSandbox({ dataDir, port: 0, witnesses: 1 });
  let before;
  try {
    before = await consistencyKit(first, root).sign();
  } finally {
    await first.close();
  }
  t.is(parseSignedNote(noteOf(before.bundle)).signatures.length, 2, 'log and witness signed');
  const statePath = join(dataDir, 'witness-state.json');
  t.true(existsSync(statePath));
  t.regex(readFileSync(statePath, 'utf8'), /witness-1\.sandbox\.stella\.local/);

  const second = await startSandbox({ dataDir, port: 0, witnesses: 1 });
  try {
    const kit = consistencyKit(second, root);
    const fork = await runCli(['sandbox', 'fork', '--data-dir', dataDir, '--log', 'v1', '--json']);
    t.is(fork.code, 0, fork.stderr);
    const after = await kit.sign();
    t.is(after.treeSize, before.treeSize, 'the fork re-signs the same tree size');
    t.notDeepEqual(checkpointOf(after.bundle).rootHash, checkpointOf(before.bundle).rootHash);
    t.is(
      parseSignedNote(noteOf(after.bundle)).signatures.length,
      1,
      'the restarted witness refuses to cosign the second history',
    );
  } finally {
    await second.close();
  }
});
