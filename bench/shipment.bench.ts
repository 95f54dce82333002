/**
 * `npm run bench` (second part): whole shipments. Shipments of 1,000 and 10,000 distinct
 * bundles (100,000 too with BENCH_SHIPMENT_100K=1) are generated deterministically in process by
 * the project's own sandbox authority (test/helpers/authority-bundles.ts: OIDC token, Fulcio
 * certificate with SCT, Rekor entry with inclusion proof and checkpoint; no HTTP), stored in an
 * attestation store and cached under .bench-cache/ (git-ignored; delete it to regenerate). Each
 * run then times, through the real CLI (`node bin/run.js`) and `/usr/bin/time` for peak RSS:
 *   export   `attest export-bundle --all` from that store to a tar;
 *   verify   `attest verify --archive X.tar --all --json` with `--jobs 1` and with every core,
 *            and with every core and `--report` (peak RSS of the streamed outputs);
 * then Stella's in-process rate on the same bundles (verifyArchivedBundle in a loop, no CLI, in
 * a fresh process: bench/inprocess-verify.ts), the same loops one per core side by side (what
 * this machine gives parallel work), and the issue's ratios: `--jobs 1` / in process (goal >=
 * 0.9), every core / (cores x in process) (goal >= 0.9), and peak RSS at the largest size / at
 * 10,000 (goal <= 1.2), with --jobs N against the side-by-side loops too (the share of what
 * the machine gives that Stella's pool reaches). Beside the goal's measure, the same loop
 * with V8's helper threads off (`node --single-threaded`): the default loop runs V8's garbage
 * collection and optimizing compiler on another core, so its rate is not one core's, and
 * every core / (cores x that one-core rate) is printed too. Up to 10,000 bundles the verifications and
 * loops run in three interleaved rounds and each ratio is the median round's; and, for scale,
 * `@sigstore/verify` looping over the first size's bundles (up to 1,000) in one process.
 * At the first size it also verifies a shipment whose proofs were refreshed (`export-bundle
 * --refresh-proofs`: every bundle re-proved to the log's one latest checkpoint, by the same
 * refreshShipmentProofs, here asking the in-process log instead of HTTP), so the checkpoint's
 * signature is verified once per verifier instead of once per bundle, and prints the ratio.
 * BENCH_SHIPMENT_ROUNDS=N sets the rounds at every size (a tighter median when the machine is noisy).
 * `node dist/bench/shipment.bench.js [sizes...]` picks other sizes; `--generate` only fills the
 * cache for them (and the refreshed shipment of the first size).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  ISSUER_URL,
  githubIdentity,
  signBlob,
  testAuthority,
} from '../test/helpers/authority-bundles.js';
import { serializeBundle } from '../src/bundle/serialize.js';
import { verifyArchiveArgs } from '../test/helpers/argv.js';
import { sha256 } from '../src/crypto.js';
import { toHex, utf8 } from '../src/util/encoding.js';
import { literalPattern } from '../src/verify/identity-pattern.js';
import { AttestationStore } from '../src/store/attestations.js';
import { readTarStrict } from '../src/archive/tar.js';
import { EXPORT_TAR_LIMITS } from '../src/archive/export.js';
import { refreshShipmentProofs } from '../src/sign/log-consistency-client.js';
import type { SandboxAuthority } from '../src/sandbox/authority/index.js';
import { median, medianBy } from './median.js';

const ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
const CACHE = path.join(ROOT, '.bench-cache');
const CLI = path.join(ROOT, 'bin', 'run.js');
const T0 = Date.UTC(2025, 5, 1, 0, 0, 0);
const REPO = 'bench/shipment';
const IDENTITY = githubIdentity(REPO);
/** Bump when the generated content changes, so stale caches are not reused. */
const FORMAT = 'v1';
const CREATED_AT = '2025-07-01T00:00:00Z';

const artifactOf = (i: number): Uint8Array => utf8.encode(`bench shipment artifact ${i}\n`);

interface Shipment {
  n: number;
  store: string;
  root: string;
}

/**
 * The in-process log answering the two Rekor v1 reads `--refresh-proofs` makes (GET /api/v1/log
 * and GET /api/v1/log/entries?logIndex=), as the sandbox's HTTP routes do.
 */
function authorityFetch(a: SandboxAuthority): typeof fetch {
  return (input) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const body =
      url.pathname === '/api/v1/log'
        ? a.rekor.logInfo()
        : a.rekor.entryByIndex(Number(url.searchParams.get('logIndex')));
    return Promise.resolve(
      new Response(JSON.stringify(body), {
        status: body ? 200 : 404,
        headers: { 'Content-Type': 'application/json' },
      }),
    );
  };
}

/**
 * The store of n signed bundles (and its trusted root), generated once and cached; with
 * `refreshed`, another shipment of n whose inclusion proofs all lead to the log's last checkpoint.
 */
async function shipment(n: number, refreshed = false): Promise<Shipment> {
  const dir = path.join(CACHE, `shipment-${FORMAT}-${n}${refreshed ? '-refreshed' : ''}`);
  const store = path.join(dir, 'attestations.db');
  const root = path.join(dir, 'trusted_root.json');
  if (existsSync(path.join(dir, 'done'))) return { n, store, root };
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // Each size has its own authority, so its log holds exactly its own entries.
  const a = testAuthority(`bench-shipment-${n}`);
  writeFileSync(path.join(tmp, 'trusted_root.json'), a.trustedRootJson());
  const s = AttestationStore.open(path.join(tmp, 'attestations.db'), 'write');
  const t0 = process.hrtime.bigint();
  let done = 0;
  const signed = (i: number) => ({
    artifactDigest: `sha256:${toHex(sha256(artifactOf(i)))}`,
    bundleJson: serializeBundle(
      signBlob(a, artifactOf(i), { repo: REPO, now: T0 + i * 1000 }).bundle,
    ),
    contentKind: 'messageSignature',
    identity: IDENTITY,
    issuer: ISSUER_URL,
    createdAt: T0 + i * 1000,
  });
  if (refreshed) {
    const all = Array.from({ length: n }, (_, i) => signed(i));
    const r = await refreshShipmentProofs(
      all.map((b) => utf8.encode(b.bundleJson)),
      a.trustMaterial().tlogs,
      { fetchImpl: authorityFetch(a) },
    );
    await s.batch(async (save) => {
      for (const [i, b] of all.entries()) {
        save({ ...b, bundleJson: Buffer.from(r.bundles[i]!).toString('utf8') });
        done++;
      }
      return Promise.resolve();
    });
  }
  for (let start = 0; start < (refreshed ? 0 : n); start += 1000) {
    // One transaction per thousand bundles.
    await s.batch(async (save) => {
      for (let i = start; i < Math.min(n, start + 1000); i++) {
        save(signed(i));
        done++;
      }
      return Promise.resolve();
    });
  }
  s.close();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  renameSync(tmp, dir);
  writeFileSync(path.join(dir, 'done'), `${done}\n`);
  console.log(
    `generated ${done} bundles in ${secs.toFixed(1)} s (${(done / secs).toFixed(0)} bundles/s, in process, cached in ${path.relative(ROOT, dir)})`,
  );
  return { n, store, root };
}

interface Timed {
  seconds: number;
  maxRssMb: number | null;
  /** User + system CPU seconds of the whole process, every thread (from /usr/bin/time). */
  cpuSeconds: number | null;
  code: number;
  stdout: string;
}

/** Run the CLI under /usr/bin/time (peak RSS) when it is there. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Timed {
  const rssFile = path.join(CACHE, 'rss.txt');
  const haveTime = existsSync('/usr/bin/time');
  const cmd = haveTime ? '/usr/bin/time' : process.execPath;
  const argv = haveTime
    ? ['-f', '%M %U %S', '-o', rssFile, process.execPath, CLI, ...args]
    : [CLI, ...args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, {
    env: { ...process.env, NO_COLOR: '1', STELLA_TRUST_STORE: '', ...env },
    maxBuffer: 1024 * 1024 * 1024,
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const [rssKb, user, system] = haveTime
    ? readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
    : [];
  const maxRssMb = rssKb === undefined ? null : rssKb / 1024;
  const cpuSeconds = user === undefined || system === undefined ? null : user + system;
  return { seconds, maxRssMb, cpuSeconds, code: r.status ?? -1, stdout: r.stdout };
}

const rss = (t: Timed): string => (t.maxRssMb === null ? 'n/a' : `${t.maxRssMb.toFixed(0)} MB`);
const line = (what: string, n: number, t: Timed): string =>
  `  ${what.padEnd(26)} ${(n / t.seconds).toFixed(0).padStart(7)} bundles/s  ${t.seconds.toFixed(1).padStart(6)} s  peak RSS ${rss(t).padStart(7)}`;

function peerRate(s: Shipment, tar: string, limit: number): number {
  const entries = [...readTarStrict(readFileSync(tar), EXPORT_TAR_LIMITS)].filter(
    ([name]) => name.startsWith('bundles/') && name.endsWith('.sigstore.json'),
  );
  const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(s.root, 'utf8'))));
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1 });
  const byDigest = new Map<string, Buffer>();
  for (let i = 0; i < s.n; i++)
    byDigest.set(toHex(sha256(artifactOf(i))), Buffer.from(artifactOf(i)));
  const work = entries.slice(0, limit).map(([name, data]) => ({
    json: Buffer.from(data).toString('utf8'),
    artifact: byDigest.get(name.split('/')[1]!)!,
  }));
  const t0 = process.hrtime.bigint();
  for (const w of work)
    verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(w.json)), w.artifact), {
      subjectAlternativeName: IDENTITY,
      extensions: { issuer: ISSUER_URL },
    });
  return work.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

// `--generate`: fill the cache for these sizes and stop (generation needs no quiet machine;
// the timed part that follows does).
const generateOnly = process.argv.includes('--generate');
const sizeArgs = process.argv.slice(2).filter((a) => a !== '--generate');
/** The identity flag value every verification of a shipment uses: its one SAN, escaped. */
const IDENTITY_PATTERN = literalPattern(IDENTITY);

/**
 * Stella's in-process rate on the shipment's bundles (bench/inprocess-verify.ts, in fresh
 * processes): `parallel` processes side by side, each on its share; the sum of their rates.
 * With one, the rate `--jobs 1` is held against; with one per core, what this machine gives
 * work that shares nothing (its ceiling for `--jobs N`).
 */
async function inProcessRate(
  s: Shipment,
  tar: string,
  parallel: number,
  nodeFlags: string[] = [],
): Promise<{ rate: number; cpuRate: number }> {
  const script = path.join(ROOT, 'dist', 'bench', 'inprocess-verify.js');
  const share = Math.ceil(s.n / parallel);
  const runs = Array.from(
    { length: parallel },
    (_, i) =>
      new Promise<{ rate: number; cpuRate: number }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            ...nodeFlags,
            script,
            tar,
            s.root,
            IDENTITY_PATTERN,
            ISSUER_URL,
            String(i * share),
            String(share),
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => {
          if (code !== 0) {
            reject(new Error(`inprocess-verify exited ${String(code)}`));
            return;
          }
          const r = JSON.parse(out) as { count: number; seconds: number; cpuSeconds: number };
          resolve({ rate: r.count / r.seconds, cpuRate: r.count / r.cpuSeconds });
        });
      }),
  );
  const all = await Promise.all(runs);
  return {
    rate: all.reduce((a, b) => a + b.rate, 0),
    cpuRate: all.reduce((a, b) => a + b.cpuRate, 0),
  };
}

const sizes =
  sizeArgs.length > 0
    ? sizeArgs.map(Number)
    : [1000, 10_000, ...(process.env['BENCH_SHIPMENT_100K'] === '1' ? [100_000] : [])];
if (generateOnly) {
  for (const n of sizes) await shipment(n);
  await shipment(sizes[0]!, true);
  process.exit(0);
}
const cores = availableParallelism();
mkdirSync(CACHE, { recursive: true });
console.log(
  `\nshipments (node ${process.version}, ${cores} cores; through bin/run.js; peak RSS from /usr/bin/time)`,
);
const results: Record<string, unknown> = {};
/** `attest export-bundle --all` of a shipment's store to a tar (timed). */
function exportTar(s: Shipment, tar: string): Timed {
  rmSync(tar, { force: true });
  const exp = cli([
    'attest',
    'export-bundle',
    '--all',
    '--attestation-store',
    s.store,
    '--output',
    tar,
    '--created-at',
    CREATED_AT,
  ]);
  if (exp.code !== 0) throw new Error(`export-bundle failed (exit ${exp.code})`);
  return exp;
}

/** `attest verify --archive TAR --all --jobs N` of a shipment (timed), every bundle required to pass. */
function verifyTar(s: Shipment, tar: string, jobs: number, extra: string[] = []): Timed {
  const n = s.n;
  const policy = [
    '--trusted-root',
    s.root,
    '--certificate-identity',
    IDENTITY_PATTERN,
    '--certificate-oidc-issuer',
    ISSUER_URL,
    '--json',
  ];
  const t = cli(verifyArchiveArgs(tar, jobs, ...policy, ...extra));
  const o = JSON.parse(t.stdout) as { ok: boolean; summary: { passed: number } };
  if (t.code !== 0 || !o.ok || o.summary.passed !== n)
    throw new Error(
      `verify --jobs ${jobs} did not verify all ${n} (exit ${t.code}, passed ${o.summary.passed})`,
    );
  return t;
}

for (const n of sizes) {
  const s = await shipment(n);
  const tar = path.join(CACHE, `shipment-${FORMAT}-${n}.tar`);
  const exp = exportTar(s, tar);
  const verify = (jobs: number, extra: string[] = []): Timed => verifyTar(s, tar, jobs, extra);
  // The verifications and the in-process loops they are held against, in interleaved rounds
  // (three up to 10,000 bundles, one above): this machine's speed drifts by 15-20% over
  // minutes, so each ratio is taken within a round and the median round's is printed.
  const ROUNDS = Number(process.env['BENCH_SHIPMENT_ROUNDS'] ?? (n <= 10_000 ? 3 : 1));
  const rounds: {
    one: Timed;
    all: Timed;
    inProcess: number;
    /** Bundles per CPU second of the in-process loop (every thread of its process). */
    inProcessCpu: number;
    sideBySide: number;
    /**
     * The loop with V8's helper threads off (node --single-threaded: garbage collection and
     * optimizing compilation on the loop's own thread): what one core alone gives it. The
     * default loop runs them on another core (its CPU seconds exceed its wall seconds).
     */
    oneCore: number;
  }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const one = verify(1);
    const all = verify(cores);
    const { rate: inProcess, cpuRate: inProcessCpu } = await inProcessRate(s, tar, 1);
    const { rate: sideBySide } = await inProcessRate(s, tar, cores);
    const { rate: oneCore } = await inProcessRate(s, tar, 1, ['--single-threaded']);
    rounds.push({ one, all, inProcess, inProcessCpu, sideBySide, oneCore });
  }
  // --json (above) and --report are written as verification goes: their peak RSS should not
  // grow with n (compare with --json-lines, which never held anything).
  const reportFile = path.join(CACHE, `shipment-${FORMAT}-${n}.report.html`);
  const report = verify(cores, ['--report', reportFile]);
  rmSync(reportFile, { force: true });
  const med = (f: (r: (typeof rounds)[number]) => number): number => median(rounds.map(f));
  const { one } = medianBy(rounds, (r) => r.one.seconds);
  const { all } = medianBy(rounds, (r) => r.all.seconds);
  const inProcess = med((r) => r.inProcess);
  const sideBySide = med((r) => r.sideBySide);
  const jobs1Ratio = med((r) => n / r.one.seconds / r.inProcess);
  const scaling = med((r) => n / r.all.seconds / (cores * r.inProcess));
  const machineScaling = med((r) => r.sideBySide / (cores * r.inProcess));
  const ofMachine = med((r) => n / r.all.seconds / r.sideBySide);
  const oneCore = med((r) => r.oneCore);
  const loopCores = med((r) => r.inProcess / r.inProcessCpu);
  const ofCores = med((r) => n / r.all.seconds / (cores * r.oneCore));
  console.log(
    `${n.toLocaleString('en-US')} bundles (archive ${(readFileSync(tar).length / 1e6).toFixed(1)} MB; ${ROUNDS === 1 ? 'one round' : `median of ${ROUNDS} interleaved rounds`})`,
  );
  console.log(line('export-bundle --all', n, exp));
  console.log(line('verify --jobs 1', n, one));
  console.log(line(`verify --jobs ${cores}`, n, all));
  console.log(line(`  + --report (and --json)`, n, report));
  console.log(
    `  ${'Stella in process'.padEnd(26)} ${inProcess.toFixed(0).padStart(7)} bundles/s  (verifyArchivedBundle in a loop over all of them, one process)`,
  );
  console.log(
    `  ${`${cores} such loops side by side`.padEnd(26)} ${sideBySide.toFixed(0).padStart(7)} bundles/s  (each on its share: what the machine gives ${cores} cores)`,
  );
  console.log(
    `  ${'the loop on one core'.padEnd(26)} ${oneCore.toFixed(0).padStart(7)} bundles/s  (node --single-threaded: V8's collector and compiler on the loop's thread; the loop above keeps ${loopCores.toFixed(2)} cores busy)`,
  );
  console.log(
    `  --jobs 1 / in process: ${jobs1Ratio.toFixed(2)} (goal >= 0.90); --jobs ${cores} / (${cores} x in process): ${scaling.toFixed(2)} (goal >= 0.90; ${cores} loops side by side reach ${machineScaling.toFixed(2)}, and --jobs ${cores} reaches ${ofMachine.toFixed(2)} of them)`,
  );
  // Not the goal's measure, beside it: the goal's "cores x in process" counts the loop as one
  // core's work, but the loop also keeps V8's helper threads busy on another core.
  console.log(`  --jobs ${cores} / (${cores} x the loop on one core): ${ofCores.toFixed(2)}`);
  // Each round's ratios too: the medians of the rates above come from different rounds, so
  // their quotients are not the ratios' medians; the spread says what one run can resolve.
  if (ROUNDS > 1) {
    const each = (f: (r: (typeof rounds)[number]) => number): string =>
      rounds.map((r) => f(r).toFixed(2)).join(' ');
    console.log(
      `    rounds, --jobs 1 / in process:  ${each((r) => n / r.one.seconds / r.inProcess)}`,
    );
    console.log(
      `    rounds, --jobs ${cores} / (${cores} x in process): ${each((r) => n / r.all.seconds / (cores * r.inProcess))}`,
    );
  }
  // The same --jobs 1 ratio in CPU seconds (both processes, every thread): what the CLI's
  // start-up, two reads of the archive and output cost, with the time the machine gave other
  // tenants left out of both sides.
  const cpuRatio = (r: (typeof rounds)[number]): number =>
    r.one.cpuSeconds === null ? NaN : n / r.one.cpuSeconds / r.inProcessCpu;
  const jobs1CpuRatio = med(cpuRatio);
  if (!Number.isNaN(jobs1CpuRatio)) {
    console.log(
      `  --jobs 1 / in process in CPU seconds: ${jobs1CpuRatio.toFixed(2)}${ROUNDS > 1 ? ` (rounds: ${rounds.map((r) => cpuRatio(r).toFixed(2)).join(' ')})` : ''}`,
    );
  }
  const entry: Record<string, number | null> = {
    export: n / exp.seconds,
    exportRssMb: exp.maxRssMb,
    jobs1: n / one.seconds,
    jobs1RssMb: one.maxRssMb,
    jobsAll: n / all.seconds,
    jobsAllRssMb: all.maxRssMb,
    reportRssMb: report.maxRssMb,
    inProcess,
    sideBySide,
    jobs1Ratio,
    jobs1CpuRatio: Number.isNaN(jobs1CpuRatio) ? null : jobs1CpuRatio,
    scaling,
    machineScaling,
    ofMachine,
    oneCore,
    loopCores,
    ofCores,
  };
  if (n === sizes[0]) {
    const peer = peerRate(s, tar, 1000);
    console.log(
      `  ${'@sigstore/verify loop'.padEnd(26)} ${peer.toFixed(0).padStart(7)} bundles/s  (one process, the first ${Math.min(1000, n)} bundles of this shipment)`,
    );
    entry['peer'] = peer;
    // The same size with refreshed proofs: one checkpoint for the whole shipment.
    const r = await shipment(n, true);
    const rtar = path.join(CACHE, `shipment-${FORMAT}-${n}-refreshed.tar`);
    exportTar(r, rtar);
    const rone = verifyTar(r, rtar, 1);
    const rall = verifyTar(r, rtar, cores);
    console.log(line('refreshed, verify --jobs 1', n, rone));
    console.log(line(`refreshed, verify --jobs ${cores}`, n, rall));
    console.log(
      `  refreshed / per-bundle checkpoints: ${(one.seconds / rone.seconds).toFixed(2)}x (--jobs 1), ${(all.seconds / rall.seconds).toFixed(2)}x (--jobs ${cores})`,
    );
    entry['refreshedJobs1'] = n / rone.seconds;
    entry['refreshedJobsAll'] = n / rall.seconds;
    entry['refreshedRatioJobs1'] = one.seconds / rone.seconds;
  }
  results[String(n)] = entry;
}
// Flat memory: peak RSS at the largest size against that at 10,000 (goal: within 20%).
const at = (n: number) => results[String(n)] as Record<string, number | null> | undefined;
const largest = Math.max(...sizes);
if (largest > 10_000 && at(10_000) && at(largest)) {
  for (const k of ['jobs1RssMb', 'jobsAllRssMb', 'reportRssMb']) {
    const a = at(10_000)![k];
    const b = at(largest)![k];
    if (a && b)
      console.log(
        `peak RSS ${k.replace('RssMb', '')}: ${largest.toLocaleString('en-US')} / 10,000 = ${(b / a).toFixed(2)} (goal <= 1.20)`,
      );
  }
}
if (process.env['BENCH_JSON'])
  writeFileSync(
    process.env['BENCH_JSON'].replace(/(\.json)?$/, '.shipment.json'),
    JSON.stringify({ cores, results }, null, 2),
  );
