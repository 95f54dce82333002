/**
 * `npm run bench`: offline verification throughput and start-up time, Stella vs @sigstore/verify,
 * in the same run on the same inputs. Inputs: the happy-path conformance bundles from
 * ../shared (when present) and the project's own samples/.
 * Single process, one core: `node dist/bench/verify.bench.js [iterations]`.
 *
 * Floor: every node:crypto signature verification Stella makes for one (warm) verification of
 * each bundle is recorded, then the same calls, same arguments, are timed alone; their share of
 * Stella's in-process time is what is not ours to remove (goal: >= 85%). Both are measured in
 * CPU time, in alternating rounds, and the median round's share is printed: other jobs on the
 * machine then move both sides of a round alike. Beside it, not the goal's measure: the share
 * when the replay also builds anew each key the bundle's verification built (its certificate's).
 * Cold start: whole processes, interleaved, medians of `node -e 0`, `stella attest verify` (the
 * bundled fast path) and one @sigstore/verify verification (goals: <= 1.4x and <= 0.5x).
 */
import { readFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import nodeCrypto, { createPublicKey } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { parseBundle } from '../src/bundle/parse.js';
import { parseTrustedRoot } from '../src/trust/trusted-root.js';
import { buildPolicy } from '../src/verify/policy.js';
import { verifyBundle } from '../src/verify/pipeline.js';
import { median } from './median.js';

const ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
const CONFORMANCE = path.resolve(ROOT, '..', 'shared', 'conformance');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

interface BenchCase {
  name: string;
  bundleText: string;
  artifact: Uint8Array;
  artifactPath: string;
  bundlePath: string;
  rootPath: string;
  rootText: string;
  identity?: string;
  issuer?: string;
  keyPath?: string;
}

function conformanceCases(): BenchCase[] {
  const dir = path.join(CONFORMANCE, 'cases');
  if (!existsSync(dir)) return [];
  const out: BenchCase[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('_fail')) continue;
    const c = path.join(dir, name);
    const f = (n: string) => (existsSync(path.join(c, n)) ? path.join(c, n) : undefined);
    const rootPath =
      f('trusted_root.json') ?? path.join(CONFORMANCE, 'public-good-trusted-root.json');
    const artifactPath = f('artifact') ?? path.join(CONFORMANCE, 'a.txt');
    out.push({
      name,
      bundlePath: path.join(c, 'bundle.sigstore.json'),
      bundleText: readFileSync(path.join(c, 'bundle.sigstore.json'), 'utf8'),
      artifact: readFileSync(artifactPath),
      artifactPath,
      rootPath,
      rootText: readFileSync(rootPath, 'utf8'),
      keyPath: f('key.pub'),
      identity: f('key.pub') ? undefined : DEFAULT_IDENTITY,
      issuer: f('key.pub') ? undefined : DEFAULT_ISSUER,
    });
  }
  return out;
}

function sampleCases(): BenchCase[] {
  const manifest = path.join(ROOT, 'samples', 'samples.json');
  if (!existsSync(manifest)) return [];
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as {
    bundles: {
      name: string;
      bundle: string;
      artifact: string;
      identity?: string;
      issuer?: string;
      key?: string;
    }[];
    trustedRoot: string;
  };
  const rootPath = path.join(ROOT, 'samples', m.trustedRoot);
  return m.bundles.map((b) => ({
    name: `samples/${b.name}`,
    bundlePath: path.join(ROOT, 'samples', b.bundle),
    bundleText: readFileSync(path.join(ROOT, 'samples', b.bundle), 'utf8'),
    artifactPath: path.join(ROOT, 'samples', b.artifact),
    artifact: readFileSync(path.join(ROOT, 'samples', b.artifact)),
    rootPath,
    rootText: readFileSync(rootPath, 'utf8'),
    identity: b.identity,
    issuer: b.issuer,
    keyPath: b.key ? path.join(ROOT, 'samples', b.key) : undefined,
  }));
}

function stellaVerifier(c: BenchCase): () => Promise<void> {
  const trust = parseTrustedRoot(c.rootText);
  const policy = buildPolicy(
    c.keyPath
      ? { publicKeyPem: readFileSync(c.keyPath, 'utf8') }
      : {
          certificateIdentity: c.identity!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
          certificateOidcIssuer: c.issuer!,
        },
  );
  return () =>
    verifyBundle({
      bundle: parseBundle(c.bundleText),
      artifact: { kind: 'bytes', data: c.artifact },
      trust,
      policy,
    });
}

function peerVerifier(c: BenchCase): () => Promise<void> {
  const keyPem = c.keyPath ? readFileSync(c.keyPath, 'utf8') : undefined;
  const trust = toTrustMaterial(
    TrustedRoot.fromJSON(JSON.parse(c.rootText)),
    keyPem ? () => ({ publicKey: createPublicKey(keyPem), validFor: () => true }) : undefined,
  );
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: keyPem ? 0 : 1 });
  const artifact = Buffer.from(c.artifact);
  return async () => {
    const entity = toSignedEntity(bundleFromJSON(JSON.parse(c.bundleText)), artifact);
    verifier.verify(
      entity,
      keyPem
        ? undefined
        : { subjectAlternativeName: c.identity!, extensions: { issuer: c.issuer! } },
    );
  };
}

/**
 * CPU seconds this process has used (user + system). Throughput is measured in CPU time, not
 * wall time: on a machine other jobs keep busy, wall time counts the moments this process
 * waited for a core, and differently for each measurement.
 */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Bundles per CPU second: `iterations` passes over `fns`. */
async function throughput(fns: (() => Promise<void>)[], iterations: number): Promise<number> {
  const start = cpuSeconds();
  for (let i = 0; i < iterations; i++) for (const f of fns) await f();
  return (iterations * fns.length) / (cpuSeconds() - start);
}

async function warmUp(fns: (() => Promise<void>)[], iterations: number): Promise<void> {
  for (let i = 0; i < Math.min(20, iterations); i++) for (const f of fns) await f();
}

type VerifyArgs = [
  algorithm: string | null | undefined,
  data: NodeJS.ArrayBufferView,
  key: Parameters<typeof nodeCrypto.verify>[2],
  signature: NodeJS.ArrayBufferView,
];
/** node:crypto's verify without a callback (synchronous: a boolean). */
type SyncVerify = (...args: VerifyArgs) => boolean;

type CreateKeyArgs = Parameters<typeof createPublicKey>;

/** One bundle's signature checks, and how each key built during the verification was built. */
interface RecordedChecks {
  calls: VerifyArgs[];
  /** Keys made by createPublicKey while verifying this bundle (the certificate's own key). */
  built: Map<unknown, CreateKeyArgs>;
}

/**
 * The node:crypto verify calls `fn` makes (every signature check goes through it; ECDSA over a
 * bare digest, @noble/curves, only for digest-only bundles, none of which are here), and the
 * createPublicKey calls that built a key for it. The module's exports are replaced and synced
 * into the ESM bindings Stella's modules hold.
 */
async function recordSignatureChecks(fn: () => Promise<void>): Promise<RecordedChecks> {
  const original = nodeCrypto.verify;
  const originalCreate = nodeCrypto.createPublicKey;
  const calls: VerifyArgs[] = [];
  const built = new Map<unknown, CreateKeyArgs>();
  const recording = (...args: VerifyArgs): boolean => {
    calls.push(args);
    return (original as SyncVerify)(...args);
  };
  nodeCrypto.verify = recording as typeof nodeCrypto.verify;
  nodeCrypto.createPublicKey = (...args: CreateKeyArgs) => {
    const key = originalCreate(...args);
    built.set(key, args);
    return key;
  };
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    nodeCrypto.verify = original;
    nodeCrypto.createPublicKey = originalCreate;
    syncBuiltinESMExports();
  }
  return { calls, built };
}

/**
 * The recorded checks again, each key the bundle's verification built (its certificate's key)
 * built anew from the same input first: what any verifier must do for a key it has not seen.
 */
function replayBuildingKeys(bundles: RecordedChecks[], verify: SyncVerify): void {
  for (const { calls, built } of bundles) {
    const fresh = new Map<unknown, ReturnType<typeof createPublicKey>>();
    for (const [algorithm, data, key, signature] of calls) {
      const how = built.get(key);
      let k: unknown = key;
      if (how) {
        k = fresh.get(key);
        if (!k) fresh.set(key, (k = createPublicKey(...how)));
      }
      verify(algorithm, data, k as VerifyArgs[2], signature);
    }
  }
}

/**
 * One round of `passes` passes over the bundles, each pass followed by the replay of the
 * signature checks it made (the same node:crypto calls, alone), then by that replay with each
 * bundle's own keys built anew: Stella's and the two floors' bundles per CPU second.
 * Alternating pass by pass, a drift in the machine's speed (15-30% over seconds here) falls on
 * every side of the ratios alike.
 */
async function alternatingRound(
  fns: (() => Promise<void>)[],
  recorded: RecordedChecks[],
  passes: number,
): Promise<{ stella: number; floor: number; floorWithKeys: number }> {
  const all = recorded.flatMap((r) => r.calls);
  const verify = nodeCrypto.verify as SyncVerify;
  let stellaSeconds = 0;
  let floorSeconds = 0;
  let withKeysSeconds = 0;
  for (let i = 0; i < passes; i++) {
    let start = cpuSeconds();
    for (const f of fns) await f();
    stellaSeconds += cpuSeconds() - start;
    start = cpuSeconds();
    for (const args of all) verify(...args);
    floorSeconds += cpuSeconds() - start;
    start = cpuSeconds();
    replayBuildingKeys(recorded, verify);
    withKeysSeconds += cpuSeconds() - start;
  }
  return {
    stella: (passes * fns.length) / stellaSeconds,
    floor: (passes * recorded.length) / floorSeconds,
    floorWithKeys: (passes * recorded.length) / withKeysSeconds,
  };
}

/** Median wall times of whole processes, the commands interleaved so load drifts hit all alike. */
function wallTimes(cmds: Record<string, string[]>, runs: number): Record<string, number> {
  const times: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    for (const [name, cmd] of Object.entries(cmds)) {
      const t0 = process.hrtime.bigint();
      try {
        execFileSync(process.execPath, cmd, { stdio: 'ignore' });
      } catch {
        throw new Error(`benchmark command failed: node ${cmd.join(' ')}`);
      }
      (times[name] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  const medians: Record<string, number> = {};
  for (const [name, t] of Object.entries(times)) medians[name] = median(t);
  return medians;
}

const iterations = Number(process.argv[2] ?? 200);
const cases = [...conformanceCases(), ...sampleCases()];
if (cases.length === 0) {
  console.log('no inputs: neither ../shared/conformance nor samples/samples.json found');
  process.exit(0);
}
const usable: BenchCase[] = [];
for (const c of cases) {
  try {
    await stellaVerifier(c)();
    await peerVerifier(c)();
    usable.push(c);
  } catch (e) {
    console.log(`skipping ${c.name} (not verifiable by both clients): ${(e as Error).message}`);
  }
}
console.log(
  `${usable.length} happy-path bundles, ${iterations} iterations each, one process (node ${process.version})`,
);
const stellaFns = usable.map(stellaVerifier);
const recorded: RecordedChecks[] = [];
for (const f of stellaFns) {
  await f(); // memoized CA-to-CA links settle; what is recorded is per-bundle work
  recorded.push(await recordSignatureChecks(f));
}
const checks = recorded.map((r) => r.calls);
for (const args of checks.flat())
  if (!(nodeCrypto.verify as SyncVerify)(...args))
    throw new Error('a recorded check fails on replay');
const keysBuilt = recorded.reduce((n, r) => n + r.built.size, 0);
if (!recorded.some((r) => r.calls.some((c) => r.built.has(c[2]))))
  throw new Error('no recorded check used a key built while verifying its bundle');
// Stella and the floor pass by pass (alternatingRound), in rounds: the median round's share.
const ROUNDS = 5;
const perRound = Math.max(1, Math.round(iterations / ROUNDS));
await warmUp(stellaFns, iterations);
const rounds: { stella: number; floor: number; floorWithKeys: number }[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(await alternatingRound(stellaFns, recorded, perRound));
const stella = median(rounds.map((r) => r.stella));
const floor = median(rounds.map((r) => r.floor));
const peerFns = usable.map(peerVerifier);
const peerIterations = Math.max(5, Math.floor(iterations / 10));
await warmUp(peerFns, peerIterations);
const peer = await throughput(peerFns, peerIterations);
const share = median(rounds.map((r) => r.stella / r.floor));
const shareWithKeys = median(rounds.map((r) => r.stella / r.floorWithKeys));
console.log(`Stella            ${stella.toFixed(0).padStart(7)} bundles per CPU second`);
console.log(`@sigstore/verify  ${peer.toFixed(0).padStart(7)} bundles per CPU second`);
console.log(`ratio             ${(stella / peer).toFixed(1).padStart(7)}x (goal: >= 20x)`);
console.log(
  `signature checks alone ${floor.toFixed(0).padStart(7)} bundles per CPU second (${(checks.flat().length / checks.length).toFixed(1)} node:crypto verifications per bundle)`,
);
console.log(
  `floor: signature checks are ${(share * 100).toFixed(0)}% of in-process verification time (median of ${ROUNDS} rounds, each alternating pass by pass: ${rounds.map((r) => ((100 * r.stella) / r.floor).toFixed(0)).join(' ')}; goal: >= 85%)`,
);
// Not the goal's measure, beside it: the replay above verifies under keys already imported
// (the recorded KeyObjects), but a verifier meets each certificate's key for the first time.
console.log(
  `  with each bundle's own key built anew (${(keysBuilt / recorded.length).toFixed(1)} createPublicKey per bundle): ${(shareWithKeys * 100).toFixed(0)}% (rounds: ${rounds.map((r) => ((100 * r.stella) / r.floorWithKeys).toFixed(0)).join(' ')})`,
);

// Start-up: one whole verification per process, as in a CI job.
const c = usable.find((x) => x.identity) ?? usable[0]!;
const peerScript = path.join(ROOT, 'dist', 'bench', 'peer-verify-once.js');
const cliArgs = [
  path.join(ROOT, 'bin', 'run.js'),
  'attest',
  'verify',
  '--offline',
  '--bundle',
  c.bundlePath,
  '--artifact',
  c.artifactPath,
  '--trusted-root',
  c.rootPath,
  ...(c.keyPath
    ? ['--key', c.keyPath]
    : [
        '--certificate-identity',
        c.identity!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        '--certificate-oidc-issuer',
        c.issuer!,
      ]),
];
const runs = 20;
const ms = wallTimes(
  {
    node: ['-e', '0'],
    stella: cliArgs,
    peer: [peerScript, c.bundlePath, c.artifactPath, c.rootPath, c.identity ?? '', c.issuer ?? ''],
    bare: [path.join(ROOT, 'bin', 'run.js'), '--version'],
  },
  runs,
);
const [nodeMs, stellaMs, peerMs, bareMs] = [ms.node!, ms.stella!, ms.peer!, ms.bare!];
console.log(`start-up (median of ${runs}, interleaved, ${c.name}):`);
console.log(`  node -e 0                       ${nodeMs.toFixed(0).padStart(5)} ms`);
console.log(`  stella attest verify            ${stellaMs.toFixed(0).padStart(5)} ms`);
console.log(`  @sigstore/verify in one process ${peerMs.toFixed(0).padStart(5)} ms`);
console.log(`  stella --version (bare oclif)   ${bareMs.toFixed(0).padStart(5)} ms`);
console.log(
  `  stella / node -e 0              ${(stellaMs / nodeMs).toFixed(2).padStart(5)}x (goal: <= 1.4x)`,
);
console.log(
  `  stella / @sigstore/verify       ${(stellaMs / peerMs).toFixed(2).padStart(5)}x (goal: <= 0.5x)`,
);
if (process.env.BENCH_JSON)
  writeFileSync(
    process.env.BENCH_JSON,
    JSON.stringify(
      {
        stella,
        peer,
        ratio: stella / peer,
        floor,
        share,
        shareWithKeys,
        nodeMs,
        stellaMs,
        peerMs,
        bareMs,
      },
      null,
      2,
    ),
  );
