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
 * and, for scale, `@sigstore/verify` looping over the 1,000 shipment's bundles in one process.
 * `node dist/bench/shipment.bench.js [sizes...]` picks other sizes.
 */
import { spawnSync } from 'node:child_process';
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
import { sha256 } from '../src/crypto.js';
import { toHex, utf8 } from '../src/util/encoding.js';
import { AttestationStore } from '../src/store/attestations.js';
import { readTarStrict } from '../src/archive/tar.js';
import { EXPORT_TAR_LIMITS } from '../src/archive/export.js';

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

/** The store of n signed bundles (and its trusted root), generated once and cached. */
async function shipment(n: number): Promise<Shipment> {
  const dir = path.join(CACHE, `shipment-${FORMAT}-${n}`);
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
  for (let start = 0; start < n; start += 1000) {
    // One transaction per thousand bundles.
    await s.batch(async (save) => {
      for (let i = start; i < Math.min(n, start + 1000); i++) {
        const art = artifactOf(i);
        const now = T0 + i * 1000;
        const json = serializeBundle(signBlob(a, art, { repo: REPO, now }).bundle);
        save({
          artifactDigest: `sha256:${toHex(sha256(art))}`,
          bundleJson: json,
          contentKind: 'messageSignature',
          identity: IDENTITY,
          issuer: ISSUER_URL,
          createdAt: now,
        });
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
  code: number;
  stdout: string;
}

/** Run the CLI under /usr/bin/time (peak RSS) when it is there. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Timed {
  const rssFile = path.join(CACHE, 'rss.txt');
  const haveTime = existsSync('/usr/bin/time');
  const cmd = haveTime ? '/usr/bin/time' : process.execPath;
  const argv = haveTime
    ? ['-f', '%M', '-o', rssFile, process.execPath, CLI, ...args]
    : [CLI, ...args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, {
    env: { ...process.env, NO_COLOR: '1', STELLA_TRUST_STORE: '', ...env },
    maxBuffer: 1024 * 1024 * 1024,
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const maxRssMb = haveTime
    ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024
    : null;
  return { seconds, maxRssMb, code: r.status ?? -1, stdout: r.stdout };
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

const sizes =
  process.argv.length > 2
    ? process.argv.slice(2).map(Number)
    : [1000, 10_000, ...(process.env['BENCH_SHIPMENT_100K'] === '1' ? [100_000] : [])];
const cores = availableParallelism();
mkdirSync(CACHE, { recursive: true });
console.log(
  `\nshipments (node ${process.version}, ${cores} cores; through bin/run.js; peak RSS from /usr/bin/time)`,
);
const results: Record<string, unknown> = {};
for (const n of sizes) {
  const s = await shipment(n);
  const tar = path.join(CACHE, `shipment-${FORMAT}-${n}.tar`);
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
  const policy = [
    '--trusted-root',
    s.root,
    '--certificate-identity',
    IDENTITY.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    '--certificate-oidc-issuer',
    ISSUER_URL,
    '--json',
  ];
  const verify = (jobs: number, extra: string[] = []): Timed => {
    const t = cli([
      'attest',
      'verify',
      '--archive',
      tar,
      '--all',
      '--jobs',
      String(jobs),
      ...policy,
      ...extra,
    ]);
    const o = JSON.parse(t.stdout) as { ok: boolean; summary: { passed: number } };
    if (t.code !== 0 || !o.ok || o.summary.passed !== n)
      throw new Error(
        `verify --jobs ${jobs} did not verify all ${n} (exit ${t.code}, passed ${o.summary.passed})`,
      );
    return t;
  };
  const one = verify(1);
  const all = verify(cores);
  // --json (above) and --report are written as verification goes: their peak RSS should not
  // grow with n (compare with --json-lines, which never held anything).
  const reportFile = path.join(CACHE, `shipment-${FORMAT}-${n}.report.html`);
  const report = verify(cores, ['--report', reportFile]);
  rmSync(reportFile, { force: true });
  console.log(
    `${n.toLocaleString('en-US')} bundles (archive ${(readFileSync(tar).length / 1e6).toFixed(1)} MB)`,
  );
  console.log(line('export-bundle --all', n, exp));
  console.log(line('verify --jobs 1', n, one));
  console.log(line(`verify --jobs ${cores}`, n, all));
  console.log(line(`  + --report (and --json)`, n, report));
  const entry: Record<string, number | null> = {
    export: n / exp.seconds,
    exportRssMb: exp.maxRssMb,
    jobs1: n / one.seconds,
    jobs1RssMb: one.maxRssMb,
    jobsAll: n / all.seconds,
    jobsAllRssMb: all.maxRssMb,
    reportRssMb: report.maxRssMb,
  };
  if (n === sizes[0]) {
    const peer = peerRate(s, tar, 1000);
    console.log(
      `  ${'@sigstore/verify loop'.padEnd(26)} ${peer.toFixed(0).padStart(7)} bundles/s  (one process, the first ${Math.min(1000, n)} bundles of this shipment)`,
    );
    entry['peer'] = peer;
  }
  results[String(n)] = entry;
}
if (process.env['BENCH_JSON'])
  writeFileSync(
    process.env['BENCH_JSON'].replace(/(\.json)?$/, '.shipment.json'),
    JSON.stringify({ cores, results }, null, 2),
  );
