/**
 * A child process for the reliability tests (not a test file itself): opens the store, says
 * "ready", then (after "go" on stdin when asked) performs imports or a rotation with a fixed
 * clock and command line, so the resulting state is byte-for-byte predictable.
 * With --mark it also reports, on stdout and synchronously, "begin <ms>" when the write
 * transaction writes its first entry row (so a parent that kills it knows whether the kill
 * landed inside the transaction); "done" is printed only after the commit has returned.
 * Usage: node child-writer.js <store> <import|rotate|checkpoints> [--wait] [--mark] FILE...
 * (checkpoints: FILE holds a count; that many checkpoints of one log are recorded in one
 * transaction by the function the consistency check writes with.)
 * Or: node child-writer.js <store> create: says "ready", waits for "go", then opens the store
 * with create: true and says "created" or "opened" (or "error CODE message").
 */
import { readFileSync, writeSync } from 'node:fs';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { importFile } from '../../../src/trust/store/operations.js';
import { applyRotation } from '../../../src/trust/rotation/apply.js';
import { writeTransaction } from '../../../src/trust/store/db.js';
import { writeCheckpoints } from '../../../src/trust/store/checkpoints.js';
import type { HeldCheckpoint } from '../../../src/tlog/consistency.js';
import type { TransparencyLogInstance } from '../../../src/model/trust-material.js';
import { generateKeyPairSync } from 'node:crypto';
import { sha256 } from '../../../src/crypto.js';
import { toHex } from '../../../src/util/encoding.js';

export const CHILD_NOW = Date.UTC(2025, 5, 2, 0, 0, 0);
export const CHILD_COMMAND = 'stella child-writer';

const LOG_KEY = generateKeyPairSync('ed25519').publicKey;
/** A log for the checkpoints mode (its key is never used: only its ID and URL are stored). */
export const CHILD_LOG: TransparencyLogInstance = {
  baseUrl: 'https://rekor.kill.test',
  hashAlgorithm: 'SHA2_256',
  publicKey: {
    rawBytes: new Uint8Array(32),
    keyDetails: 'PKIX_ED25519',
    key: LOG_KEY,
    validFor: { start: 0, end: undefined },
  },
  logId: new Uint8Array(32).fill(0x5a),
  checkpointKeyId: undefined,
};

/** `n` checkpoints of CHILD_LOG, sizes 1..n, deterministic roots, the first proven. */
export function syntheticCheckpoints(n: number): HeldCheckpoint[] {
  return Array.from({ length: n }, (_, i) => ({
    logId: '5a'.repeat(32),
    origin: 'rekor.kill.test',
    treeSize: i + 1,
    rootHash: toHex(sha256(new TextEncoder().encode(`root ${i + 1}`))),
    note: `rekor.kill.test\n${i + 1}\n\n— rekor.kill.test AAAA\n`,
    proven: i === 0,
    latest: i === n - 1,
  }));
}

/** The create mode: many of these told "go" at once race to create one store. */
async function createWhenTold(storePath: string): Promise<void> {
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  try {
    const store = openTrustStore(storePath, {
      create: true,
      now: CHILD_NOW,
      command: CHILD_COMMAND,
    });
    process.stdout.write(store.created ? 'created\n' : 'opened\n');
    store.close();
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    process.stdout.write(`error ${e.code} ${e.message}\n`);
    process.exitCode = e.exitCode;
  }
}

async function main(): Promise<void> {
  const [storePath, mode, ...args] = process.argv.slice(2);
  if (mode === 'create') return createWhenTold(storePath!);
  const wait = args.includes('--wait');
  const mark = args.includes('--mark');
  const files = args.filter((a) => a !== '--wait' && a !== '--mark');
  const ctx = { now: CHILD_NOW, command: CHILD_COMMAND };
  const store = openTrustStore(storePath!);
  let started = performance.now();
  if (mark) {
    // TEMP triggers live in this connection only: the store file (and its seal) is unchanged.
    // writeSync: the marker is in the pipe before the next row is written, so a SIGKILL after
    // it cannot lose it.
    let begun = false;
    store.db.function('stella_test_begin', () => {
      if (!begun) {
        begun = true;
        writeSync(1, `begin ${Math.round(performance.now() - started)}ms\n`);
      }
      return null;
    });
    for (const table of ['entries', 'checkpoints']) {
      for (const op of ['INSERT', 'UPDATE'])
        store.db.exec(
          `CREATE TEMP TRIGGER stella_test_mark_${table}_${op} AFTER ${op} ON main.${table} BEGIN SELECT stella_test_begin(); END`,
        );
    }
  }
  process.stdout.write('ready\n');
  if (wait) {
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  }
  let done = 0;
  started = performance.now();
  try {
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f));
      if (mode === 'import') importFile(store, { path: f, bytes }, {}, ctx);
      else if (mode === 'checkpoints')
        writeTransaction(store, ctx, (tx) =>
          writeCheckpoints(
            tx,
            CHILD_LOG,
            syntheticCheckpoints(Number(Buffer.from(bytes).toString('utf8'))),
            f,
          ),
        );
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
