/**
 * `npm run bench`: offline verification throughput and start-up time, Stella vs @sigstore/verify,
 * in the same run on the same inputs. Inputs: the happy-path conformance bundles from
 * ../shared (when present) and the project's own samples/.
 * Single process, one core: `node dist/bench/verify.bench.js [iterations]`.
 */
import { readFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { parseBundle } from '../src/bundle/parse.js';
import { parseTrustedRoot } from '../src/trust/trusted-root.js';
import { buildPolicy } from '../src/verify/policy.js';
import { verifyBundle } from '../src/verify/pipeline.js';

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

async function throughput(fns: (() => Promise<void>)[], iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(20, iterations); i++) for (const f of fns) await f(); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) for (const f of fns) await f();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (iterations * fns.length) / seconds;
}

function wallTime(cmd: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    try {
      execFileSync(process.execPath, cmd, { stdio: 'ignore' });
    } catch {
      throw new Error(`benchmark command failed: node ${cmd.join(' ')}`);
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!; // median
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
const stella = await throughput(usable.map(stellaVerifier), iterations);
const peer = await throughput(usable.map(peerVerifier), Math.max(5, Math.floor(iterations / 10)));
console.log(`Stella            ${stella.toFixed(0).padStart(7)} bundles/s`);
console.log(`@sigstore/verify  ${peer.toFixed(0).padStart(7)} bundles/s`);
console.log(`ratio             ${(stella / peer).toFixed(1).padStart(7)}x (goal: >= 20x)`);

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
const runs = 15;
const stellaMs = wallTime(cliArgs, runs);
const peerMs = wallTime(
  [peerScript, c.bundlePath, c.artifactPath, c.rootPath, c.identity ?? '', c.issuer ?? ''],
  runs,
);
const bareMs = wallTime([path.join(ROOT, 'bin', 'run.js'), '--version'], runs);
console.log(`start-up (median of ${runs}, ${c.name}):`);
console.log(`  stella attest verify            ${stellaMs.toFixed(0).padStart(5)} ms`);
console.log(`  @sigstore/verify in one process ${peerMs.toFixed(0).padStart(5)} ms`);
console.log(`  stella --version (bare oclif)   ${bareMs.toFixed(0).padStart(5)} ms`);
if (process.env.BENCH_JSON)
  writeFileSync(
    process.env.BENCH_JSON,
    JSON.stringify({ stella, peer, ratio: stella / peer, stellaMs, peerMs, bareMs }, null, 2),
  );
