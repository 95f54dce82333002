/**
 * The sandbox's witnesses remember what they cosigned across a restart (DIR/witness-state.json,
 * written atomically): after `stella sandbox fork` a restarted witness still refuses to cosign
 * the log's second history (without it, a fresh witness would take the fork as its first tree).
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SANDBOX_WITNESSES, startSandbox } from '../../../src/sandbox/server/sandbox.js';
import { StellaError } from '../../../src/errors.js';
import { sandboxPath } from '../../../src/sandbox/server/data-dir.js';
import { parseSignedNote } from '../../../src/tlog/note.js';
import { runCli } from '../../helpers/cli.js';
import { readSandboxState } from '../../../src/sandbox/server/data-dir.js';
import { checkpointOf, consistencyKit, noteOf } from '../../helpers/consistency-kit.js';

test('a restarted sandbox witness still refuses a forked history', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'stella-witness-state-'));
  const dataDir = join(root, 'sandbox');
  const first = await startSandbox({ dataDir, port: 0, witnesses: 1 });
  // The state names the witnesses' vkeys file, which `trust witness add` reads.
  const vkeys = readSandboxState(dataDir)?.files.witnesses;
  t.true(vkeys !== undefined && existsSync(vkeys), String(vkeys));
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

test('a witness count outside 0..16, or not whole, is refused before anything is served', async (t) => {
  for (const witnesses of [-1, 1.5, MAX_SANDBOX_WITNESSES + 1, Number.NaN]) {
    const dataDir = mkdtempSync(join(tmpdir(), 'stella-witness-count-'));
    const e = await t.throwsAsync(startSandbox({ dataDir, port: 0, witnesses }), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'INPUT_INVALID', String(witnesses));
    t.regex(
      e.message,
      new RegExp(`--witnesses must be 0\\.\\.${MAX_SANDBOX_WITNESSES}, got ${witnesses}`),
    );
  }
});

/** Listen on `port` of 127.0.0.1 and close again: the port is free. */
async function bindAndRelease(port: number): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return bound;
}

test('start-up failing after the port is bound (bad witness keys) leaves nothing listening or open', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stella-witness-keys-'));
  writeFileSync(sandboxPath(dataDir, 'witnessSeeds'), '{"seeds":["zz"]}', { mode: 0o600 });
  const port = await bindAndRelease(0);
  const e = await t.throwsAsync(startSandbox({ dataDir, port, witnesses: 1 }), {
    instanceOf: StellaError,
  });
  t.is(e.code, 'SANDBOX_ERROR');
  t.regex(e.message, /witness-keys\.json: not a list of 32-byte hex seeds/);
  t.is(await bindAndRelease(port), port, 'the port is free again');
  // The log databases were closed: a sandbox starts on the same directory once the file is fixed.
  writeFileSync(sandboxPath(dataDir, 'witnessSeeds'), JSON.stringify({ seeds: ['ab'.repeat(32)] }));
  const sb = await startSandbox({ dataDir, port, witnesses: 1 });
  t.is(sb.port, port);
  await sb.close();
});

test('a witness state file whose remembered trees are not a size and a hex root stops the start, naming the file', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stella-witness-state-'));
  const first = await startSandbox({ dataDir, port: 0, witnesses: 1 });
  await first.close();
  const path = sandboxPath(dataDir, 'witnessState');
  const name = 'witness-1.sandbox.stella.local';
  const good = { treeSize: 3, rootHash: 'ab'.repeat(32) };
  for (const witnesses of [
    null,
    { [name]: null },
    { [name]: { origin: { ...good, treeSize: '3' } } },
    { [name]: { origin: { ...good, treeSize: 1.5 } } },
    { [name]: { origin: { ...good, rootHash: 'AB'.repeat(32) } } },
    { [name]: { origin: { treeSize: 3 } } },
  ]) {
    writeFileSync(path, JSON.stringify({ version: 1, witnesses }));
    const e = await t.throwsAsync(startSandbox({ dataDir, port: 0, witnesses: 1 }), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'SANDBOX_ERROR', JSON.stringify(witnesses));
    t.is(e.message, `${path}: not a witness state file`);
  }
  // The same file with a well-formed tree is read.
  writeFileSync(path, JSON.stringify({ version: 1, witnesses: { [name]: { origin: good } } }));
  const again = await startSandbox({ dataDir, port: 0, witnesses: 1 });
  await again.close();
  t.regex(readFileSync(path, 'utf8'), /"origin":\{"treeSize":3,/);
});
