import test, { type ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { serializeTrustedRoot } from '../../src/trust/trusted-root.js';
import { identityFlags, verifyArchiveArgs } from '../helpers/argv.js';
import { runCli } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';
import { buildExportArchive } from '../../src/archive/export.js';
import { bytesSource } from '../../src/archive/export-stream.js';

import { sha256 } from '../../src/crypto.js';
import { serializeShipmentConsistency } from '../../src/archive/consistency.js';
import { verifyShipment } from '../../src/shipment/verify.js';
import { BUNDLES_PER_THREAD, MAX_JOBS } from '../../src/shipment/pool.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import { availableParallelism } from '../../src/util/os.js';
import { verifyArchivedBundle, type BundleVerdict } from '../../src/shipment/verdict.js';
import { buildPolicy } from '../../src/verify/policy.js';
import { readExportArchive } from '../../src/archive/export.js';
import { toHex, utf8 } from '../../src/util/encoding.js';
import {
  testAuthority,
  ORG_REPO_POLICY,
  signedExportInputs,
} from '../helpers/authority-bundles.js';

const T0 = Date.UTC(2025, 5, 1);

/**
 * A shipment of `n` (three) artifacts from one log: each bundle carries its own checkpoint.
 * `consistency`: a consistency.json to carry beside them.
 */
async function shipment(n = 3, consistency?: Uint8Array) {
  const a = testAuthority('shipment-verify-checkpoints');
  const bundles = signedExportInputs(a, n, { label: 'artifact', now: T0 });
  const { archive } = await buildExportArchive({ bundles, consistency });
  return { trust: a.trustMaterial(), archive, digests: bundles.map((b) => b.artifactDigest) };
}

/** The one signer of shipment(): its workflow identity, exactly. */
const POLICY = ORG_REPO_POLICY;

test('verifyShipment keeps the checkpoints for the consistency step, unless told no store takes them', async (t) => {
  const { trust, archive } = await shipment();
  const run = (keepCheckpoints?: boolean, jobs = 1) =>
    verifyShipment({
      source: bytesSource(archive),
      trust,
      policy: POLICY,
      jobs,
      ...(keepCheckpoints === undefined ? {} : { keepCheckpoints }),
    });
  const kept = await run();
  t.is(kept.passed, 3);
  t.is(kept.jobs, 1, 'in process');
  // Three entries of a growing log: three distinct checkpoints.
  t.is(kept.checkpoints.verified.length, 3);
  const dropped = await run(false);
  t.is(dropped.passed, 3);
  t.deepEqual(dropped.checkpoints, { verified: [], others: [] });
  // The same through worker threads.
  const threads = await run(undefined, 2);
  t.is(threads.jobs, 2, 'two worker threads');
  t.deepEqual(threads.checkpoints, kept.checkpoints);
  t.deepEqual((await run(false, 2)).checkpoints, { verified: [], others: [] });
});

test("with --artifact, the other bundles' checkpoints are kept when the archive carries consistency.json (its proofs start at them), and only then", async (t) => {
  const run = async (consistency: Uint8Array | undefined) => {
    const { trust, archive, digests } = await shipment(3, consistency);
    return verifyShipment({
      source: bytesSource(archive),
      trust,
      policy: POLICY,
      jobs: 1,
      select: new Map([[digests[0]!, [digests[0]!]]]),
    });
  };
  const plain = await run(undefined);
  t.is(plain.passed, 1);
  t.is(plain.checkpoints.verified.length, 1);
  t.deepEqual(plain.checkpoints.others, [], 'nothing to start a proof from: not kept');
  const withProofs = await run(serializeShipmentConsistency({ logs: [] }));
  t.is(withProofs.passed, 1);
  t.is(withProofs.checkpoints.verified.length, 1);
  t.is(withProofs.checkpoints.others.length, 2, 'the two bundles not asked for');
});

test('the default --jobs: in process for a small shipment, threads by the shipment and the cores for a larger one; a given jobs stands', async (t) => {
  const run = async (
    archive: Uint8Array,
    trust: TrustMaterial,
    jobs?: number,
    select?: Map<string, string[]>,
  ) =>
    verifyShipment({
      source: bytesSource(archive),
      trust,
      policy: POLICY,
      ...(jobs === undefined ? {} : { jobs }),
      ...(select === undefined ? {} : { select }),
    });
  const small = await shipment();
  const three = await run(small.archive, small.trust);
  t.is(three.passed, 3);
  t.is(three.jobs, 1, 'three bundles: no thread is started for them');
  t.is((await run(small.archive, small.trust, 2)).jobs, 2, 'a --jobs given is taken as given');
  const larger = await shipment(2 * BUNDLES_PER_THREAD);
  const many = await run(larger.archive, larger.trust);
  t.is(many.passed, 2 * BUNDLES_PER_THREAD);
  t.is(many.jobs, Math.min(2, availableParallelism()), "two threads' worth, as the cores allow");
  // Three artifacts asked for out of that archive: counted by the structural pass, in process.
  const asked = new Map(
    [0, 7, 2 * BUNDLES_PER_THREAD - 1].map((i) => [
      `sha256:${toHex(sha256(utf8.encode(`artifact ${i}\n`)))}`,
      [`artifact ${i}`],
    ]),
  );
  const picked = await run(larger.archive, larger.trust, undefined, asked);
  t.is(picked.passed, 3);
  t.is(picked.artifacts, 3);
  t.is(picked.jobs, 1, 'the bundles asked for, not the archive, decide the threads');
  const every = new Map(
    Array.from({ length: 2 * BUNDLES_PER_THREAD }, (_, i) => [
      `sha256:${toHex(sha256(utf8.encode(`artifact ${i}\n`)))}`,
      [`artifact ${i}`],
    ]),
  );
  const all = await run(larger.archive, larger.trust, undefined, every);
  t.is(all.passed, 2 * BUNDLES_PER_THREAD);
  t.is(all.jobs, Math.min(2, availableParallelism()), 'every artifact asked for: as without');
});

test("a library caller's jobs outside 1..MAX_JOBS is refused by name before anything is verified (0 was in process, 10^6 would start a million threads)", async (t) => {
  const { trust, archive } = await shipment();
  for (const jobs of [0, -1, 1.5, Number.NaN, MAX_JOBS + 1, 1_000_000]) {
    let verified = 0;
    const e = await t.throwsAsync(
      verifyShipment({
        source: bytesSource(archive),
        trust,
        policy: POLICY,
        jobs,
        onArtifact: () => {
          verified++;
        },
      }),
    );
    t.like(e, { code: 'INPUT_INVALID' }, String(jobs));
    t.is(e!.message, `jobs must be a whole number from 1 to ${MAX_JOBS}, not ${jobs}`);
    t.is(verified, 0);
  }
  t.is(
    (await verifyShipment({ source: bytesSource(archive), trust, policy: POLICY, jobs: 1 })).passed,
    3,
  );
});

test('verifyArchivedBundle computes the checkpoints unless told they are not wanted', async (t) => {
  const { trust, archive } = await shipment();
  const policy = buildPolicy(POLICY);
  const { entry, bytes } = readExportArchive(archive).bundles[0]!;
  const b = { path: entry.path, artifactDigest: entry.artifactDigest, bytes };
  const withThem = await verifyArchivedBundle(b, trust, policy);
  t.true(withThem.ok);
  t.is(withThem.checkpoints.length, 1);
  const without = await verifyArchivedBundle(b, trust, policy, { checkpoints: false });
  t.true(without.ok);
  t.deepEqual(without.checkpoints, []);
});

test('the report timeline (certificate validity, trust windows) is in each verdict unless told no report draws it; through threads too', async (t) => {
  const { trust, archive } = await shipment();
  const verdicts = async (timeline: boolean | undefined, jobs: number) => {
    const got: BundleVerdict[] = [];
    const summary = await verifyShipment({
      source: bytesSource(archive),
      trust,
      policy: POLICY,
      jobs,
      ...(timeline === undefined ? {} : { timeline }),
      onArtifact: (r) => {
        got.push(...r.bundles);
      },
    });
    t.is(summary.passed, 3);
    return got;
  };
  for (const jobs of [1, 2]) {
    const withIt = await verdicts(undefined, jobs);
    t.is(withIt.length, 3);
    for (const v of withIt) {
      t.truthy(v.certificate?.notBefore);
      t.deepEqual(
        v.windows.map((w) => w.kind),
        ['ca', 'tlog', 'ctlog'],
      );
    }
    const without = await verdicts(false, jobs);
    for (const [i, v] of without.entries()) {
      t.is(v.certificate, null);
      t.deepEqual(v.windows, []);
      // Everything else is the same verdict.
      t.deepEqual(
        { ...v, certificate: null, windows: [] },
        {
          ...withIt[i]!,
          certificate: null,
          windows: [],
        },
      );
    }
  }
});

/** A three-artifact archive, its trusted root and the `verify --archive --jobs 2` arguments, in a temporary directory. */
async function workerFaultRun(t: ExecutionContext) {
  const { trust, archive } = await shipment();
  const dir = tempDir(t, 'stella-worker-fault-');
  const tar = path.join(dir, 'x.tar');
  const root = path.join(dir, 'trusted_root.json');
  writeFileSync(tar, archive);
  writeFileSync(root, serializeTrustedRoot(trust));
  const args = verifyArchiveArgs(
    tar,
    2,
    '--trusted-root',
    root,
    ...identityFlags(POLICY.certificateIdentity, POLICY.certificateOidcIssuer),
  );
  const env = { STELLA_TRUST_STORE: '' };
  /**
   * Runs with test/fixtures/cli/<fault>.cjs preloaded in every thread; `bin` bin/dev.js for
   * the threads of the library's pool (src/shipment/worker.ts), which a module loader hook
   * reaches, where bin/run.js's threads run from the verify bundle.
   */
  const withFault = (fault: string, extra: string[] = [], bin?: string) =>
    runCli([...args, ...extra], {
      nodeArgs: ['--require', path.join(PROJECT_ROOT, 'test', 'fixtures', 'cli', `${fault}.cjs`)],
      env,
      timeoutMs: 60_000,
      ...(bin === undefined ? {} : { bin }),
    });
  const withoutFault = () => runCli([...args, '--json'], { env, timeoutMs: 60_000 });
  return { withFault, withoutFault };
}

/** The internal-error report of a run (--json, then text) that failed with `message`. */
async function assertInternalError(
  t: ExecutionContext,
  run: (extra?: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>,
  message: string,
): Promise<void> {
  const json = await run(['--json']);
  t.is(json.code, 1, json.stdout + json.stderr);
  t.deepEqual(JSON.parse(json.stdout), {
    ok: false,
    error: { code: 'INTERNAL', check: 'internal', message, exitCode: 1 },
  });
  t.is(json.stderr, '');
  const text = await run();
  t.is(text.code, 1);
  t.is(text.stderr, `error: internal: ${message}\n`);
}

test('a verifier worker that dies with several bundles in flight gives one internal-error report (exit 1), not a stack trace', async (t) => {
  const { withFault, withoutFault } = await workerFaultRun(t);
  await assertInternalError(
    t,
    (extra) => withFault('worker-fault', extra),
    'worker fault injected',
  );
  // Without the fault the same run passes: the three bundles verify.
  const real = await withoutFault();
  t.is(real.code, 0, real.stdout + real.stderr);
});

test('a verifier worker that ends itself (process.exit, no error) fails the run (exit 1) instead of leaving it waiting for ever', async (t) => {
  const { withFault } = await workerFaultRun(t);
  await assertInternalError(
    t,
    (extra) => withFault('worker-exit', extra),
    'a verifier worker thread stopped (exit code 0) before it answered',
  );
});

test('verifier workers that end before any bundle is sent fail the run (exit 1) at the first bundle, which is not sent to a stopped thread', async (t) => {
  // The archive is read only after every worker has ended (the preload holds fs.read back).
  // Without the pool's own check, the first bundle would be sent to a stopped thread, and the
  // run would end only through bin/run.js's guard (the command stopped before it finished).
  const { withFault } = await workerFaultRun(t);
  await assertInternalError(
    t,
    (extra) => withFault('worker-exit-at-start', extra),
    'a verifier worker thread stopped (exit code 0) before it answered',
  );
});

test('a verification that waits for something nothing will deliver ends its worker, and the run fails (exit 1) instead of waiting for ever', async (t) => {
  // The stall is a module that never finishes loading (worker-stall.cjs), so it is injected
  // into the library's threads (bin/dev.js: oclif, the modules of dist/src). The CLI's threads
  // run the same worker body (src/shipment/worker-main.ts) from the verify bundle, where there
  // is no module loading to hook.
  const { withFault } = await workerFaultRun(t);
  await assertInternalError(
    t,
    (extra) => withFault('worker-stall', extra, path.join(PROJECT_ROOT, 'bin', 'dev.js')),
    'a verifier worker thread stopped (exit code 0) before it answered',
  );
});
