/**
 * Checklist G46 and the reliability list: a writer killed with SIGKILL at random
 * points of an import or a rotation leaves the store at exactly the old or the new state
 * (never a mix, and the tamper seal still holds); two processes writing at once both
 * succeed or one gets "store busy".
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { importFile, listEntries, history } from '../../../src/trust/store/operations.js';
import { applyRotation } from '../../../src/trust/rotation/apply.js';
import { sha256 } from '../../../src/crypto.js';
import type { TransparencyLogInstance } from '../../../src/model/trust-material.js';
import { utf8 } from '../../../src/util/encoding.js';
import {
  caEntry,
  DAY,
  dumpStore,
  makeCa,
  NOW,
  rotationKeyPair,
  tempDir,
  trustedRootOf,
} from './helpers.js';
import { rotationTar, storeWithKeys } from '../rotation/helpers.js';
import { CHILD_COMMAND, CHILD_NOW } from './child-writer.js';
import { runTogether } from '../../helpers/together.js';

const CHILD = fileURLToPath(new URL('./child-writer.js', import.meta.url));
const ITERATIONS = 20;

function logs(n: number, baseUrl: string): TransparencyLogInstance[] {
  return Array.from({ length: n }, (_, i) => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    return {
      baseUrl: `${baseUrl}/${i}`,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: spki,
        keyDetails: 'PKIX_ED25519',
        key: publicKey,
        validFor: { start: NOW - DAY, end: undefined },
      },
      logId: sha256(spki),
      checkpointKeyId: undefined,
    };
  });
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** When to SIGKILL the child: `delayMs` after it printed `after` ("ready" or "begin"). */
interface KillPlan {
  after: 'ready' | 'begin';
  delayMs: number;
}

/** Run the child with --mark; kill it as planned (undefined: let it finish). */
function runChild(args: string[], kill: KillPlan | undefined): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, ...args, '--mark'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let stdout = '';
    let scheduled = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (kill && !scheduled && new RegExp(`^${kill.after}\\b`, 'm').test(stdout)) {
        scheduled = true;
        setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout }));
  });
}

/** Open (recovering the WAL, checking the seal) and dump. */
function recoverAndDump(file: string): string {
  openTrustStore(file, { readonly: false }).close();
  return dumpStore(file);
}

function checkpointed(file: string): void {
  const s = openTrustStore(file);
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  s.close();
}

/** From an uninterrupted run: ms from "go" to the first row written, and to the commit returning. */
function timings(run: ChildRun): { beginMs: number; doneMs: number } {
  const beginMs = Number(/^begin (\d+)ms$/m.exec(run.stdout)?.[1]);
  const doneMs = Number(/^done \d+ (\d+)ms$/m.exec(run.stdout)?.[1]);
  if (!Number.isFinite(beginMs) || !Number.isFinite(doneMs) || doneMs <= beginMs)
    throw new Error(`the child did not report begin/done: ${run.stdout}`);
  return { beginMs, doneMs };
}

/**
 * Kills that must land inside the write: after the child reported its first row written and
 * with the store coming back in the old state (so before the commit took effect). Fewer means
 * the kills missed the transaction and the test proves nothing about atomicity.
 */
const MIN_INTERRUPTED = 6;

async function killLoop(
  t: import('ava').ExecutionContext,
  base: string,
  expectedNew: string,
  reference: ChildRun,
  args: (file: string) => string[],
): Promise<void> {
  const expectedOld = dumpStore(base);
  t.not(expectedOld, expectedNew);
  const { beginMs, doneMs } = timings(reference);
  const txMs = doneMs - beginMs;
  const dir = tempDir('kill');
  const seen = { beforeBegin: 0, interrupted: 0, afterCommit: 0 };
  // Aimed kills land in [0, aim) ms after the first row. The commit is durable some time before
  // "done" (a WAL checkpoint can follow it inside the same call), so an aimed kill that found
  // the new state lowers the aim below its delay.
  let aim = txMs;
  for (let i = 0; i < ITERATIONS; i++) {
    const file = path.join(dir, `store-${i}.db`);
    copyFileSync(base, file);
    // One kill in four anywhere from "ready" to a little past the end; the rest aimed inside
    // the transaction, after its first row was written.
    const aimed = i % 4 !== 0;
    const plan: KillPlan = aimed
      ? { after: 'begin', delayMs: Math.floor(Math.random() * aim) }
      : { after: 'ready', delayMs: Math.floor(Math.random() * doneMs * 1.3) };
    const run = await runChild(args(file), plan);
    const began = /^begin /m.test(run.stdout);
    const committed = /^done /m.test(run.stdout);
    const state = recoverAndDump(file);
    const what = `iteration ${i} (kill ${plan.delayMs} ms after ${plan.after}, ${run.signal ?? run.code}, ${began ? 'after' : 'before'} the first row${committed ? ', after the commit' : ''})`;
    t.true(
      state === expectedOld || state === expectedNew,
      `${what}: the store is neither the old nor the new state`,
    );
    if (!began) {
      t.is(state, expectedOld, `${what}: nothing was written yet`);
      seen.beforeBegin++;
    } else if (committed) {
      t.is(state, expectedNew, `${what}: the commit had returned`);
      seen.afterCommit++;
    } else if (state === expectedOld) {
      seen.interrupted++;
    } else {
      // Killed between the commit and the "done" line (the commit is durable): new state.
      seen.afterCommit++;
    }
    if (aimed && state === expectedNew) aim = Math.max(1, Math.min(aim, plan.delayMs));
  }
  t.log(
    `${ITERATIONS} kills (first row to return ${txMs} ms of ${doneMs} ms; aim narrowed to ${aim} ms): ${seen.beforeBegin} before the first row, ${seen.interrupted} inside the transaction (old state), ${seen.afterCommit} after the commit`,
  );
  t.true(
    seen.interrupted >= MIN_INTERRUPTED,
    `only ${seen.interrupted} of ${ITERATIONS} kills interrupted the transaction (need ${MIN_INTERRUPTED}): the test did not exercise atomicity`,
  );
}

test('G46: SIGKILL at random points of an import leaves exactly the old or the new state (20 runs)', async (t) => {
  const dir = tempDir('kill-import');
  const base = path.join(dir, 'base.db');
  openTrustStore(base, { create: true, now: NOW }).close();
  checkpointed(base);
  // A big import (250 log keys) so a kill often lands inside the transaction.
  const rootFile = path.join(dir, 'big-root.json');
  writeFileSync(rootFile, trustedRootOf([], { tlogs: logs(250, 'https://rekor.kill.test') }));
  // Expected new state: the same import, same clock, same command, done here without a kill.
  const reference = path.join(dir, 'reference.db');
  copyFileSync(base, reference);
  const full = await runChild([reference, 'import', rootFile], undefined);
  t.regex(full.stdout, /^begin \d+ms\ndone 1 /m);
  const expectedNew = recoverAndDump(reference);
  const s = openTrustStore(reference, { readonly: true });
  t.is(listEntries(s).length, 250);
  t.is(history(s).at(-1)!.command, CHILD_COMMAND);
  t.is(history(s).at(-1)!.at, new Date(CHILD_NOW).toISOString());
  s.close();
  await killLoop(t, base, expectedNew, full, (file) => [file, 'import', rootFile]);
});

test('G46: SIGKILL at random points of a rotation leaves exactly the old or the new state (20 runs)', async (t) => {
  const k = [rotationKeyPair(), rotationKeyPair()];
  const base = storeWithKeys(k, 2, 'kill-rotate');
  const rootA = await makeCa('Kill Root A', NOW - 365 * DAY, NOW + 3650 * DAY);
  const rootB = await makeCa('Kill Root B', NOW - DAY, NOW + 3650 * DAY);
  const s0 = openTrustStore(base);
  applyRotation(
    s0,
    await rotationTar({
      root: trustedRootOf([caEntry([rootA.der], NOW - 365 * DAY)], {
        tlogs: logs(100, 'https://rekor.a.test'),
      }),
      version: 1,
      expires: NOW + 90 * DAY,
      signers: k,
    }),
    { sourceFile: 'v1.tar' },
    { now: NOW, command: 'v1' },
  );
  s0.close();
  checkpointed(base);
  const dir = path.dirname(base);
  const tarFile = path.join(dir, 'v2.tar');
  // Version 2 ends root A, adds root B and 150 new log keys, and closes the 100 old ones.
  writeFileSync(
    tarFile,
    await rotationTar({
      root: trustedRootOf([caEntry([rootA.der], NOW - 365 * DAY, NOW), caEntry([rootB.der], NOW)], {
        tlogs: logs(150, 'https://rekor.b.test'),
      }),
      version: 2,
      expires: NOW + 90 * DAY,
      signers: k,
    }),
  );
  const reference = path.join(dir, 'reference.db');
  copyFileSync(base, reference);
  const full = await runChild([reference, 'rotate', tarFile], undefined);
  t.regex(full.stdout, /^begin \d+ms\ndone 1 /m);
  const expectedNew = recoverAndDump(reference);
  await killLoop(t, base, expectedNew, full, (file) => [file, 'rotate', tarFile]);
});

test('issue 12: SIGKILL at random points while checkpoints are recorded leaves exactly the old or the new state (20 runs)', async (t) => {
  const dir = tempDir('kill-checkpoints');
  const base = path.join(dir, 'base.db');
  openTrustStore(base, { create: true, now: NOW }).close();
  checkpointed(base);
  // 300 checkpoints of one log in one transaction, so kills often land inside it.
  const countFile = path.join(dir, 'count.txt');
  writeFileSync(countFile, '300');
  const reference = path.join(dir, 'reference.db');
  copyFileSync(base, reference);
  const full = await runChild([reference, 'checkpoints', countFile], undefined);
  t.regex(full.stdout, /^begin \d+ms\ndone 1 /m);
  const expectedNew = recoverAndDump(reference);
  const s = openTrustStore(reference, { readonly: true });
  t.is((s.db.prepare('SELECT count(*) AS n FROM checkpoints').get() as { n: number }).n, 300);
  s.close();
  await killLoop(t, base, expectedNew, full, (file) => [file, 'checkpoints', countFile]);
});

test('two processes writing at once: each write succeeds or fails with "store busy"; nothing is lost or mixed', async (t) => {
  const dir = tempDir('concurrent');
  const file = path.join(dir, 'trust.db');
  openTrustStore(file, { create: true, now: NOW }).close();
  const filesFor = (who: string) =>
    Array.from({ length: 15 }, (_, i) => {
      const p = path.join(dir, `${who}-${i}.json`);
      writeFileSync(p, trustedRootOf([], { tlogs: logs(3, `https://rekor.${who}.test/${i}`) }));
      return p;
    });
  const a = filesFor('a');
  const b = filesFor('b');
  const [ra, rb] = await runTogether(
    [a, b].map((files) => [CHILD, file, 'import', '--wait', ...files]),
  );
  let expected = 0;
  for (const r of [ra!, rb!]) {
    const m = /^(?:done|error STORE_BUSY) (\d+)/.exec(r.said);
    t.truthy(m, `unexpected child output: ${r.said}`);
    if (r.said.startsWith('done')) t.is(r.code, 0);
    else t.is(r.code, 51, 'store busy exits 51');
    expected += Number(m![1]) * 3;
  }
  const s = openTrustStore(file, { readonly: true });
  t.is(listEntries(s).length, expected);
  s.close();
  t.log(`a: ${ra!.said}, b: ${rb!.said}`);
});

test('processes told at once to create one store: one creates it, the others open it; none takes it for a foreign file', async (t) => {
  // Each opener judges the file empty, then creates the schema in an IMMEDIATE transaction
  // that judges it again: a loser of the race finds our store there and opens it. Processes
  // started together, each told "go" only when all are loaded, so several judge the file
  // before any commits.
  const dir = tempDir('create-race');
  for (let round = 0; round < 6; round++) {
    const file = path.join(dir, `trust-${round}.db`);
    const results = await runTogether(Array.from({ length: 6 }, () => [CHILD, file, 'create']));
    const said = results.map((r) => r.said).sort();
    t.deepEqual(said, ['created', ...Array<string>(5).fill('opened')], `round ${round}`);
    t.true(
      results.every((r) => r.code === 0),
      `round ${round}`,
    );
    const s = openTrustStore(file, { readonly: true });
    t.deepEqual(
      history(s).map((h) => [h.action, h.command]),
      [['create', CHILD_COMMAND]],
    );
    s.close();
  }
});

test('the expected-state comparison can fail: a different clock gives a different state', async (t) => {
  // Guards the kill tests against comparing two things that are always equal.
  const dir = tempDir('guard');
  const p1 = path.join(dir, 'a.db');
  const p2 = path.join(dir, 'b.db');
  const root = utf8.encode(trustedRootOf([], { tlogs: logs(1, 'https://rekor.g.test') }));
  for (const [p, now] of [
    [p1, NOW],
    [p2, NOW + 1],
  ] as const) {
    const s = openTrustStore(p, { create: true, now: NOW });
    importFile(s, { path: 'x.json', bytes: root }, {}, { now, command: 'c' });
    s.close();
  }
  t.not(recoverAndDump(p1), recoverAndDump(p2));
});
