/**
 * A child process for the reliability tests (not a test file itself): opens the store, says
 * "ready", then (after "go" on stdin when asked) performs imports or a rotation with a fixed
 * clock and command line, so the resulting state is byte-for-byte predictable.
 * Usage: node child-writer.js <store> <import|rotate> [--wait] FILE...
 */
import { readFileSync } from 'node:fs';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { importFile } from '../../../src/trust/store/operations.js';
import { applyRotation } from '../../../src/trust/rotation/apply.js';

export const CHILD_NOW = Date.UTC(2025, 5, 2, 0, 0, 0);
export const CHILD_COMMAND = 'stella child-writer';

async function main(): Promise<void> {
  const [storePath, mode, ...rest] = process.argv.slice(2);
  const wait = rest[0] === '--wait';
  const files = wait ? rest.slice(1) : rest;
  const ctx = { now: CHILD_NOW, command: CHILD_COMMAND };
  const store = openTrustStore(storePath!);
  process.stdout.write('ready\n');
  if (wait) {
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  }
  let done = 0;
  const started = performance.now();
  try {
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f));
      if (mode === 'import') importFile(store, { path: f, bytes }, {}, ctx);
      else applyRotation(store, bytes, { sourceFile: f }, ctx);
      done++;
    }
    // Elapsed time lets the kill test spread its kill points over the whole operation.
    process.stdout.write(`done ${done} ${Math.ceil(performance.now() - started)}ms\n`);
    store.close();
  } catch (e) {
    if (e instanceof StellaError) {
      process.stdout.write(`error ${e.code} ${done}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    throw e;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
