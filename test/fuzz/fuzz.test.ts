/**
 * Issue 7's fuzz test: seeded, bounded, part of `npm test`. Real bundles, certificates, TSA
 * tokens, Rekor bodies, checkpoints and export archives are mutated (structure-aware: see
 * ./mutate-*.ts) and fed to the library in process; every outcome must be a StellaError with
 * a code in EXIT_CODES, or a pass a reference verdict allows (./oracle.ts). A handful of the
 * mutated inputs also go through the real CLI, which must exit 0, 2 or a listed code (never
 * 1) and print one JSON object.
 *
 * Seeds: bundles signed in process by the project's own authority, samples/, and — in the
 * tests whose titles say "shared" — ../shared/conformance (skipped when absent).
 *
 * Run longer:  STELLA_FUZZ_ITERATIONS=100000 (or STELLA_FUZZ_SECONDS=600) npx ava dist/test/fuzz/fuzz.test.js
 * Other seed:  STELLA_FUZZ_SEED=0x1234 (or "random"; the seed is printed). See ./harness.ts and the README.
 */
import test, { type ExecutionContext } from 'ava';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXIT_CODES, StellaError } from '../../src/errors.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import { sha256 } from '../../src/crypto.js';
import { readExportArchive } from '../../src/archive/export.js';
import { toHex } from '../../src/util/encoding.js';
import { runCli } from '../helpers/cli.js';
import { NO_NETWORK_PRELOAD } from '../helpers/paths.js';
import { sharedTest } from '../helpers/shared.js';
import { archiveSeeds, bundleSeeds, policyFor, type BundleSeed } from './corpus.js';
import { runFuzz, fuzzConfig, type FuzzTarget, type IterationResult } from './harness.js';
import { Prng, iterationSeed } from './prng.js';
import { mutateBundle, bundleHooks } from './mutate-bundle.js';
import { mutateTar } from './mutate-tar.js';
import {
  attemptSettling,
  classifyThrow,
  isHang,
  judgeAcceptedBundle,
  KNOWN_CRASHES,
  MAX_REFUSAL_DETAILS,
  MAX_REFUSAL_MESSAGE,
} from './oracle.js';
import {
  archiveStreamTarget,
  archiveTarget,
  bodySeeds,
  bodyTarget,
  bundleTarget,
  certificateSeeds,
  certificateTarget,
  consistencySeeds,
  consistencyTarget,
  gzipTarget,
  contextTwins,
  judgeBundle,
  mutateGzip,
  noteSeeds,
  noteTarget,
  policyTarget,
  signingConfigTarget,
  pools,
  tokenSeeds,
  tokenTarget,
  trustedRootSeeds,
  judgeWitness,
  witnessSeeds,
  witnessTarget,
  trustedRootTarget,
} from './targets.js';
import type { Json } from './mutate-json.js';
import {
  judgeRotation,
  mutateRotation,
  rotationSeeds,
  rotationTarget,
  ROTATION_KEYS,
  type SignedPayloads,
} from './rotation.js';
import { dumpStore } from '../trust/store/helpers.js';
import { legacyFileSeeds, legacyFileTarget, legacySeeds, legacyTarget } from './cosign-legacy.js';
import { registryTarget } from './registry.js';
import {
  answerText,
  judgeRekorAnswer,
  rekorAnswerSetup,
  rekorAnswerTarget,
  judgeRekorV2Answer,
  rekorV2AnswerSetup,
  rekorV2AnswerTarget,
} from './rekor-answer.js';
import {
  fulcioAnswerSetup,
  fulcioAnswerTarget,
  fulcioAnswerText,
  judgeFulcioAnswer,
} from './fulcio-answer.js';
import { judgeTsaAnswer, tsaAnswerSetup, tsaAnswerTarget } from './tsa-answer.js';
import { judgeSignerConfig, signerConfigTarget, SIGNER_CONFIG_SEEDS } from './signer-config.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

const { inProcess, samples, conformance } = bundleSeeds();
const local = [...inProcess, ...samples];
const localPools = pools(local);

/**
 * Iterations per target in `npm test`, from the CPU each costs here (bundle ~4.3 ms,
 * conformance bundle ~2.9 ms, archive ~1.8 ms, streamed archive ~3 ms, gzip ~9 ms, trusted root
 * and policy ~1.5 ms, rotation ~1.8 ms, a Fulcio answer ~3.3 ms, a Rekor answer ~1.3 ms, a TSA
 * answer ~1.1 ms, a cosign layer and signer.yaml ~0.9 ms, the primitives 0.13-0.7 ms): the whole
 * file, CLI runs included, about 52-57 s of CPU (user and system, /usr/bin/time, two runs, stop
 * 32, with the Fulcio and TSA answer targets and @sigstore/verify in the four answer judges). Counts, not the clock, so every run judges the same
 * inputs.
 */
const DEFAULT = {
  bundle: 1200,
  bundleShared: 800,
  certificate: 3000,
  rfc3161: 2000,
  checkpoint: 3000,
  witness: 2000,
  body: 3000,
  shared: { certificate: 2000, rfc3161: 1500, checkpoint: 3000, body: 3000 },
  archive: 600,
  archiveStream: 400,
  gzip: 500,
  trustedRoot: 1500,
  policy: 1500,
  consistency: 1500,
  signingConfig: 1500,
  rotation: 1000,
  legacy: 1500,
  legacyFile: 1500,
  registry: 3000,
  signerConfig: 1500,
  rekorAnswer: 1500,
  rekorV2Answer: 1500,
  fulcioAnswer: 1000,
  tsaAnswer: 1000,
};

/** Run a target; it fails the test itself at the first bad outcome. */
async function fuzz(t: ExecutionContext, target: FuzzTarget): Promise<void> {
  const stats = await runFuzz(t, target);
  t.true(stats.iterations > 0, `${target.name}: no iteration ran`);
}

async function verdictOf(seed: BundleSeed): Promise<'pass' | 'fail'> {
  try {
    const report = await verifyBundleReport({
      bundle: parseBundle(seed.text),
      artifact: seed.artifact,
      trust: seed.trust,
      policy: seed.policy,
    });
    return report.ok ? 'pass' : 'fail';
  } catch (e) {
    if (e instanceof StellaError) return 'fail';
    throw e;
  }
}

test('fuzz seeds: every in-process and sample seed gets its reference verdict', async (t) => {
  for (const s of local) t.is(await verdictOf(s), s.reference, s.name);
  // And each DSSE seed with a signed entry timestamp, stored as cosign stores a .att layer and
  // converted back: the v0.1 bundle verifies.
  for (const s of legacySeeds(local)) t.is(await verdictOf(s.seed), 'pass', s.seed.name);
  // And each seed with a SET, written as cosign's legacy bundle file (sign-blob's or attest-blob's) and
  // converted back: the v0.1 bundle verifies.
  for (const s of legacyFileSeeds(local)) t.is(await verdictOf(s.seed), 'pass', s.seed.name);
});

sharedTest('fuzz seeds (shared conformance): every case gets the suite verdict', async (t) => {
  t.true(conformance.length > 40);
  for (const s of conformance) t.is(await verdictOf(s), s.reference, s.name);
});

test('fuzz bundle: in-process and sample bundles, mutated and re-signed, through parseBundle + verifyBundleReport', async (t) => {
  await fuzz(t, bundleTarget(local, localPools, DEFAULT.bundle));
});

sharedTest(
  'fuzz bundle (shared conformance): real public-good and staging bundles, mutated',
  async (t) => {
    await fuzz(
      t,
      bundleTarget(
        conformance,
        pools([...conformance, ...local]),
        DEFAULT.bundleShared,
        'bundle-conformance',
      ),
    );
  },
);

test('fuzz certificate, rfc3161, checkpoint, witness, rekor-body: the primitives on their own (in-process and samples)', async (t) => {
  await fuzz(t, certificateTarget(certificateSeeds(local), DEFAULT.certificate));
  await fuzz(t, tokenTarget(tokenSeeds(local), localPools, DEFAULT.rfc3161));
  await fuzz(t, noteTarget(noteSeeds(local), DEFAULT.checkpoint));
  await fuzz(t, witnessTarget(witnessSeeds(noteSeeds(local)), DEFAULT.witness));
  await fuzz(t, bodyTarget(bodySeeds(local), DEFAULT.body));
});

sharedTest('fuzz certificate, rfc3161, checkpoint, rekor-body (shared conformance)', async (t) => {
  const p = pools(conformance);
  await fuzz(t, {
    ...certificateTarget(certificateSeeds(conformance), DEFAULT.shared.certificate),
    name: 'certificate-conformance',
  });
  await fuzz(t, {
    ...tokenTarget(tokenSeeds(conformance), p, DEFAULT.shared.rfc3161),
    name: 'rfc3161-conformance',
  });
  await fuzz(t, {
    ...noteTarget(noteSeeds(conformance), DEFAULT.shared.checkpoint),
    name: 'checkpoint-conformance',
  });
  await fuzz(t, {
    ...bodyTarget(bodySeeds(conformance), DEFAULT.shared.body),
    name: 'rekor-body-conformance',
  });
});

test('fuzz archive: export archives through readExportArchive', async (t) => {
  await fuzz(t, archiveTarget(await archiveSeeds(), local, localPools, DEFAULT.archive));
});

// The streamed targets wait on zlib's thread pool and on the event loop many times per input;
// the other targets run synchronously and give the loop a turn only every 200 iterations. Run
// side by side, a streamed input waited that long for each step (one random-seed run managed
// 12 gzip inputs in 300 s), so these two run serially, before the concurrent tests start.
test.serial(
  'fuzz archive-stream: the streamed reader (cut into pieces, sometimes gzipped) agrees with readExportArchive',
  async (t) => {
    await fuzz(
      t,
      archiveStreamTarget(await archiveSeeds(), local, localPools, DEFAULT.archiveStream),
    );
  },
);

test('fuzz trusted-root: trusted_root.json through parseTrustedRoot (and back) and planImport', (t) => {
  return fuzz(t, trustedRootTarget(trustedRootSeeds(local), DEFAULT.trustedRoot));
});

sharedTest("fuzz trusted-root (shared conformance): the suite's trusted roots", (t) => {
  return fuzz(t, {
    ...trustedRootTarget(trustedRootSeeds(conformance), DEFAULT.trustedRoot),
    name: 'trusted-root-conformance',
  });
});

test('fuzz consistency: consistency.json through parseShipmentConsistency (and back)', (t) => {
  return fuzz(t, consistencyTarget(consistencySeeds(local), DEFAULT.consistency));
});

test('fuzz signing-config: signing_config.json through parseSigningConfig and selectSigningServices', (t) => {
  return fuzz(t, signingConfigTarget(DEFAULT.signingConfig));
});

test('fuzz signer-config: signer.yaml through parseSignerConfig, and back through renderSignerConfig', (t) => {
  for (const s of SIGNER_CONFIG_SEEDS) t.is(judgeSignerConfig(s.text).kind, 'accepted', s.name);
  return fuzz(t, signerConfigTarget(DEFAULT.signerConfig));
});

test('fuzz policy: policy files through parsePolicyFile and buildPolicy for every environment', (t) => {
  return fuzz(t, policyTarget(DEFAULT.policy));
});

test('fuzz cosign-legacy: cosign .att layers (envelope, certificate and Rekor annotations) through bundleFromCosignAttestation, then judged as bundles', (t) => {
  const seeds = legacySeeds(local);
  t.true(seeds.length >= 2, 'DSSE seeds with a signed entry timestamp');
  return fuzz(t, legacyTarget(seeds, localPools.certificates, DEFAULT.legacy));
});

test("fuzz cosign-legacy-file: cosign's legacy bundle file (signature, certificate text, Rekor bundle and body) through cosignLegacyBundle, then judged as bundles", (t) => {
  const seeds = legacyFileSeeds(local);
  t.true(
    seeds.some((s) => JSON.parse(s.seed.text).dsseEnvelope) &&
      seeds.some((s) => JSON.parse(s.seed.text).messageSignature),
    'sign-blob and attest-blob seeds with a signed entry timestamp',
  );
  return fuzz(t, legacyFileTarget(seeds, localPools.certificates, DEFAULT.legacyFile));
});

test('fuzz registry: referrers indexes, WWW-Authenticate headers, image references and identity tokens, each against a plain reading', (t) => {
  return fuzz(t, registryTarget(DEFAULT.registry));
});

/** The unmutated answers are taken by the signer, by Stella's verifier and by @sigstore/verify. */
async function seedAnswersTaken<S>(
  t: ExecutionContext,
  seeds: readonly S[],
  judge: (s: S) => Promise<IterationResult>,
): Promise<void> {
  for (const s of seeds)
    t.deepEqual(await judge(s), {
      kind: 'accepted',
      by: 'signer, verifier and @sigstore/verify agree',
    });
}

test('fuzz rekor-answer: what Rekor v1 answers the signer, through parseEntryResponse and acceptRekorV1Answer; what the signer takes, verifyBundleReport and @sigstore/verify must take', async (t) => {
  const setup = rekorAnswerSetup();
  await seedAnswersTaken(t, setup.seeds, (s) => judgeRekorAnswer(setup, s, answerText(s)));
  await fuzz(t, rekorAnswerTarget(setup, DEFAULT.rekorAnswer));
});

test('fuzz rekor-v2-answer: what Rekor v2 answers the signer, through the strict entry reader and checkLogEntryV2; what the signer takes, verifyBundleReport and @sigstore/verify must take', async (t) => {
  const setup = rekorV2AnswerSetup();
  await seedAnswersTaken(t, setup.seeds, (s) =>
    judgeRekorV2Answer(setup, s, JSON.stringify(s.answer)),
  );
  await fuzz(t, rekorV2AnswerTarget(setup, DEFAULT.rekorV2Answer));
});

test('fuzz fulcio-answer: what Fulcio answers the signer, through parseCertificateResponse, checkIssuedCertificate and the window check, then logged and made a bundle; what the signer takes, verifyBundleReport and @sigstore/verify must take', async (t) => {
  const setup = fulcioAnswerSetup();
  await seedAnswersTaken(t, setup.seeds, (s) => judgeFulcioAnswer(setup, s, fulcioAnswerText(s)));
  await fuzz(t, fulcioAnswerTarget(setup, DEFAULT.fulcioAnswer));
});

test('fuzz tsa-answer: what a TSA answers the signer, through checkTimestamp; what the signer takes, verifyBundleReport and @sigstore/verify must take', async (t) => {
  const setup = tsaAnswerSetup();
  await seedAnswersTaken(t, setup.seeds, (s) => judgeTsaAnswer(setup, s, s.answer));
  await fuzz(t, tsaAnswerTarget(setup, DEFAULT.tsaAnswer));
});

const rotationSigned: SignedPayloads = new Map();
const rotation = await rotationSeeds(rotationSigned);

test('fuzz rotation: trust-root rotation bundles through readRotationBundle and verifyRotation', (t) => {
  return fuzz(t, rotationTarget(rotation.seeds, rotation.roots, rotationSigned, DEFAULT.rotation));
});

test.serial(
  'fuzz gzip: the bounded inflater on mutated gzip, cut into pieces, under drawn limits',
  async (t) => {
    await fuzz(t, gzipTarget(await archiveSeeds(), DEFAULT.gzip));
  },
);

// ---------------------------------------------------------------------------------------
// The real CLI on a handful of mutated inputs

const CLI_EXITS = new Set<number>([0, 2, ...Object.values(EXIT_CODES)]);

/**
 * The first inputs (by iteration of PRNG stream `stream`) whose outcomes differ, at most `want`
 * of them within `tries` iterations, so the handful the CLI runs takes several paths. `make`
 * draws one input and names its outcome, or returns undefined to pass over it.
 */
async function distinctInputs<T>(
  stream: string,
  want: number,
  tries: number,
  make: (
    rng: Prng,
    i: number,
  ) => Promise<{ value: T; key: string } | undefined> | { value: T; key: string } | undefined,
): Promise<T[]> {
  const out: T[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < tries && out.length < want; i++) {
    const made = await make(new Prng(iterationSeed(fuzzConfig(0).seed, stream, i)), i);
    if (!made || seen.has(made.key)) continue;
    seen.add(made.key);
    out.push(made.value);
  }
  return out;
}

/** An outcome as the key distinctInputs compares: a refusal's code, else its kind. */
const outcomeKey = (o: IterationResult): string => (o.kind === 'refused' ? o.code : o.kind);

/** The first mutated bundles (by iteration) with distinct in-process outcomes. */
function distinctBundleInputs(
  seedList: readonly BundleSeed[],
  want: number,
): Promise<{ seed: BundleSeed; text: string; outcome: IterationResult }[]> {
  const hooks = new Map(
    seedList.map((s) => [s, bundleHooks(s, localPools.certificates, localPools.tokens)]),
  );
  return distinctInputs('cli', want, 400, async (rng) => {
    const seed = rng.pick(seedList);
    const text = mutateBundle(rng, seed, [], hooks.get(seed)!, []);
    const outcome = await judgeBundle(seed, text);
    // Known crash classes are counted in process; the CLI's exit for them is fixed with them.
    if (outcome.kind === 'known-crash' || outcome.kind === 'skipped') return undefined;
    return { value: { seed, text, outcome }, key: outcomeKey(outcome) };
  });
}

function parseOneJsonObject(stdout: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(stdout) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

test('fuzz CLI: mutated bundles and archives through `stella attest verify --json` exit 0, 2 or a listed code, never 1, and print one JSON object', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-fuzz-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const seed = inProcess[0]!;
  const root = path.join(dir, 'trusted_root.json');
  const artifact = path.join(dir, 'artifact.bin');
  writeFileSync(root, seed.trustedRootJson);
  writeFileSync(artifact, seed.artifactBytes!);
  const common = [
    '--trusted-root',
    root,
    '--certificate-identity',
    literalPattern(seed.identity!),
    '--certificate-oidc-issuer',
    seed.issuer!,
    '--json',
  ];

  const bundles = await distinctBundleInputs(inProcess, 5);
  t.true(bundles.length >= 3, 'the mutated bundles reach several outcomes');
  const archives: Uint8Array[] = [];
  const base = (await archiveSeeds())[1]!.bytes;
  for (let i = 0; archives.length < 2; i++) {
    const rng = new Prng(iterationSeed(fuzzConfig(0).seed, 'cli-archive', i));
    archives.push(mutateTar(rng, base, []));
  }
  // Gzipped, then the gzip mutated: read through the bounded inflater by the shipment path,
  // with worker threads (a reader that never settled once hung it, or exited 0 on one thread).
  const gzipped: Uint8Array[] = [];
  for (let i = 0; gzipped.length < 2; i++) {
    const rng = new Prng(iterationSeed(fuzzConfig(0).seed, 'cli-gzip', i));
    gzipped.push(mutateGzip(rng, new Uint8Array(gzipSync(base)), []));
  }
  const runs = [
    ...bundles.map(async (b, i) => {
      const file = path.join(dir, `bundle-${i}.json`);
      writeFileSync(file, b.text);
      // The CLI reads the clock; the library is judged again at the same time, not FUZZ_NOW
      // (a TSA time between today and FUZZ_NOW is in the future for one and not the other).
      const expected = await judgeBundle(
        { ...b.seed, policy: policyFor(b.seed, Date.now()) },
        b.text,
      );
      return {
        what: `bundle ${i} (${expected.kind === 'refused' ? expected.code : expected.kind})`,
        expected,
        r: await runCli(
          ['attest', 'verify', '--offline', '--bundle', file, '--artifact', artifact, ...common],
          { nodeArgs: ['--import', NO_NETWORK_PRELOAD] },
        ),
      };
    }),
    ...archives.map(async (a, i) => {
      const file = path.join(dir, `archive-${i}.tar`);
      writeFileSync(file, a);
      const digest = `sha256:${toHex(sha256(seed.artifactBytes!))}`;
      return {
        what: `archive ${i}`,
        expected: undefined,
        r: await runCli(
          ['attest', 'verify', '--offline', '--archive', file, '--artifact', digest, ...common],
          { nodeArgs: ['--import', NO_NETWORK_PRELOAD] },
        ),
      };
    }),
    ...gzipped.map(async (a, i) => {
      const file = path.join(dir, `archive-${i}.tar.gz`);
      writeFileSync(file, a);
      return {
        what: `gzipped archive ${i}`,
        expected: undefined,
        r: await runCli(
          ['attest', 'verify', '--offline', '--archive', file, '--all', '--jobs', '2', ...common],
          { nodeArgs: ['--import', NO_NETWORK_PRELOAD], timeoutMs: 60_000 },
        ),
      };
    }),
  ];
  const results = await Promise.all(runs);
  t.log(results.map(({ what, r }) => `${what}: exit ${r.code}`).join('; '));
  for (const { what, expected, r } of results) {
    t.true(
      CLI_EXITS.has(r.code),
      `${what}: exit ${r.code} is not 0, 2 or a code in EXIT_CODES\n${r.stdout}${r.stderr}`,
    );
    t.not(r.code, 1, `${what}: exit 1 is an internal error`);
    t.notRegex(
      r.stderr + r.stdout,
      /NETWORK ATTEMPT|\n\s+at .+:\d+:\d+\)?\n/,
      `${what}: no network, no stack trace`,
    );
    const out = parseOneJsonObject(r.stdout);
    t.truthy(out, `${what}: stdout is not one JSON object: ${r.stdout.slice(0, 300)}`);
    // The CLI gives the library's verdict.
    if (expected?.kind === 'refused') {
      t.is((out?.error as { code?: string } | undefined)?.code, expected.code, what);
      t.is(r.code, EXIT_CODES[expected.code as keyof typeof EXIT_CODES], what);
    } else if (expected?.kind === 'accepted') {
      t.is(r.code, 0, what);
      t.is(out?.ok, true, what);
    }
  }
});

test('fuzz CLI: mutated archives through `stella attest import --json` exit 0 or a listed code, never 1, and one that is refused leaves the attestation store exactly as it was', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-fuzz-import-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const base = (await archiveSeeds())[1]!.bytes;
  const env = { STELLA_TRUST_STORE: '' };
  // A store holding the unmutated archive's bundles, so a mutated one may add, repeat or break.
  const seeded = path.join(dir, 'seeded.db');
  const basePath = path.join(dir, 'base.tar');
  writeFileSync(basePath, base);
  const first = await runCli(
    ['attest', 'import', basePath, '--attestation-store', seeded, '--json'],
    { env },
  );
  t.is(first.code, 0, first.stdout + first.stderr);
  // The first mutated archives (by iteration) the in-memory reader judges differently, and two
  // gzipped ones (the streamed reader and the bounded inflater).
  const inputs = await distinctInputs('cli-import', 4, 200, (rng, i) => {
    const bytes = mutateTar(rng, base, []);
    let verdict = 'accepted';
    try {
      readExportArchive(bytes);
    } catch (e) {
      verdict = e instanceof StellaError ? e.code : 'crash';
    }
    return { value: { name: `archive-${i}.tar`, bytes, verdict }, key: verdict };
  });
  const seen = new Set(inputs.map((x) => x.verdict));
  for (let i = 0; inputs.length < 6; i++) {
    const rng = new Prng(iterationSeed(fuzzConfig(0).seed, 'cli-import-gzip', i));
    inputs.push({
      name: `archive-${i}.tar.gz`,
      bytes: mutateGzip(rng, new Uint8Array(gzipSync(base)), []),
      verdict: 'gzip',
    });
  }
  t.true(seen.size >= 3, `the mutated archives reach several outcomes: ${[...seen].join(', ')}`);
  const exits: string[] = [];
  for (const { name, bytes, verdict } of inputs) {
    const what = `${name} (${verdict})`;
    const store = path.join(dir, `${name}.db`);
    copyFileSync(seeded, store);
    const file = path.join(dir, name);
    writeFileSync(file, bytes);
    const before = dumpStore(store);
    const r = await runCli(['attest', 'import', file, '--attestation-store', store, '--json'], {
      env,
      nodeArgs: ['--import', NO_NETWORK_PRELOAD],
      timeoutMs: 60_000,
    });
    t.true(CLI_EXITS.has(r.code), `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    t.not(r.code, 1, `${what}: exit 1 is an internal error\n${r.stdout}${r.stderr}`);
    t.notRegex(r.stderr + r.stdout, /NETWORK ATTEMPT|\n\s+at .+:\d+:\d+\)?\n/, what);
    const out = parseOneJsonObject(r.stdout);
    t.truthy(out, `${what}: stdout is not one JSON object: ${r.stdout.slice(0, 300)}`);
    // What the in-memory reader refuses, the streamed import refuses too (perhaps by another
    // code: it meets the first fault in archive order).
    if (verdict !== 'accepted' && verdict !== 'gzip') t.not(r.code, 0, what);
    if (r.code !== 0) t.is(dumpStore(store), before, `${what}: the store is exactly as it was`);
    exits.push(`${what}: exit ${r.code}`);
  }
  t.log(exits.join('; '));
});

test("fuzz CLI: mutated rotation bundles through `stella trust rotate --json` give the library's verdict and exit code, never 1, and a refused one leaves the store exactly as it was", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-fuzz-rotate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The seed a fresh store takes: version 1, signed by both of its two rotation keys.
  const seed = rotation.seeds.find((s) => s.name === 'rotation/two-of-two')!;
  const keys = path.join(dir, 'rotation-keys.pem');
  writeFileSync(
    keys,
    [ROTATION_KEYS.a, ROTATION_KEYS.b]
      .map((k) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString())
      .join(''),
  );
  // The first inputs (by iteration) with distinct library outcomes, judged on the CLI's clock.
  const signed: SignedPayloads = new Map(rotationSigned);
  const inputs = await distinctInputs('cli-rotation', 5, 300, async (rng, i) => {
    const tar = await mutateRotation(rng, seed, rotation.roots, signed, []);
    const outcome = judgeRotation(tar, seed.trust, signed, Date.now());
    t.not(outcome.kind, 'failure', `iteration ${i}: the library's own verdict is a failure`);
    return { value: { tar, outcome }, key: outcomeKey(outcome) };
  });
  t.true(inputs.length >= 3, 'the mutated rotations reach several outcomes');
  for (const [i, { tar, outcome }] of inputs.entries()) {
    const what = `rotation ${i} (${outcomeKey(outcome)})`;
    const store = path.join(dir, `trust-${i}.db`);
    const env = { env: { STELLA_TRUST_STORE: store } };
    const init = await runCli(
      ['trust', 'init', '--rotation-keys', keys, '--threshold', '2', '--json'],
      env,
    );
    t.is(init.code, 0, init.stdout + init.stderr);
    const file = path.join(dir, `rotation-${i}.tar`);
    writeFileSync(file, tar);
    const before = dumpStore(store);
    const r = await runCli(['trust', 'rotate', file, '--json'], {
      ...env,
      nodeArgs: ['--import', NO_NETWORK_PRELOAD],
    });
    t.not(r.code, 1, `${what}: exit 1 is an internal error\n${r.stdout}${r.stderr}`);
    const out = parseOneJsonObject(r.stdout);
    t.truthy(out, `${what}: stdout is not one JSON object: ${r.stdout.slice(0, 300)}`);
    if (outcome.kind === 'refused') {
      t.is((out?.error as { code?: string } | undefined)?.code, outcome.code, what);
      t.is(r.code, EXIT_CODES[outcome.code as keyof typeof EXIT_CODES], what);
      t.is(dumpStore(store), before, `${what}: the store is exactly as it was`);
    } else {
      t.is(r.code, 0, `${what}\n${r.stdout}${r.stderr}`);
      t.not(dumpStore(store), before, `${what}: the rotation was applied`);
    }
  }
});

// ---------------------------------------------------------------------------------------
// The oracle itself: it must be able to say no

test('fuzz oracle: only a StellaError with a listed code is a refusal; known crash classes match by type and message only', (t) => {
  t.deepEqual(classifyThrow(new StellaError('BUNDLE_MALFORMED', 'bundle', 'x')), {
    kind: 'refused',
    code: 'BUNDLE_MALFORMED',
  });
  t.is(
    classifyThrow(new StellaError('NOT_A_CODE' as 'BUNDLE_MALFORMED', 'bundle', 'x')).kind,
    'crash',
  );
  t.is(
    classifyThrow(new TypeError("Cannot read properties of undefined (reading 'length')")).kind,
    'crash',
  );
  t.is(classifyThrow('a string').kind, 'crash');
  const long = (n: number) => new StellaError('BUNDLE_MALFORMED', 'bundle', 'x'.repeat(n));
  t.is(classifyThrow(long(MAX_REFUSAL_MESSAGE)).kind, 'refused');
  t.is(
    classifyThrow(long(MAX_REFUSAL_MESSAGE + 1)).kind,
    'crash',
    "a message that grows with the input (a stranger's value quoted whole) is a crash",
  );
  // {"v":"…"} is 8 characters around the value.
  const withDetails = (n: number) =>
    new StellaError('TLOG_BODY_MISMATCH', 'tlog', 'x', { v: 'x'.repeat(n - 8) });
  t.is(classifyThrow(withDetails(MAX_REFUSAL_DETAILS)).kind, 'refused');
  t.is(
    classifyThrow(withDetails(MAX_REFUSAL_DETAILS + 1)).kind,
    'crash',
    "details that grow with the input (a stranger's value carried whole) are a crash",
  );
  for (const k of KNOWN_CRASHES) {
    const Ctor = (globalThis as unknown as Record<string, new (m: string) => Error>)[k.error]!;
    const matching = k.example;
    t.regex(matching, k.message, `${k.id}: its example matches`);
    t.deepEqual(classifyThrow(new Ctor(matching)), { kind: 'known-crash', id: k.id }, k.id);
    t.is(
      classifyThrow(new Ctor('some other message')).kind,
      'crash',
      `${k.id}: another message is a crash`,
    );
    t.is(
      classifyThrow(new (k.error === 'TypeError' ? RangeError : TypeError)(matching)).kind,
      'crash',
      `${k.id}: another type is a crash`,
    );
  }
});

test('fuzz oracle: a reader that stops making progress without settling is a crash (a hang); a slow one that progresses is not', async (t) => {
  const none = { steps: 0 };
  const hang = await attemptSettling(() => new Promise<never>(() => {}), none, 50);
  t.is(hang.kind, 'crash');
  t.true(isHang(hang));
  t.regex(
    String((hang as { error: unknown }).error),
    /HANG: not settled, and no progress for 50 ms/,
  );
  // Slow but moving: 20 steps 20 ms apart, 400 ms in all, over a 200 ms stall limit.
  const moving = { steps: 0 };
  const slow = await attemptSettling(
    async () => {
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 20));
        moving.steps++;
      }
      return 'done';
    },
    moving,
    200,
  );
  t.deepEqual(slow, { kind: 'ok', value: 'done' });
  t.deepEqual(await attemptSettling(() => Promise.resolve(7), none, 50), { kind: 'ok', value: 7 });
  const refused = await attemptSettling(
    () => Promise.reject(new StellaError('ARCHIVE_INVALID', 'archive', 'x')),
    none,
  );
  t.deepEqual(refused, { kind: 'refused', code: 'ARCHIVE_INVALID' });
  t.false(isHang(refused));
});

/** The in-process blob seed, its parse and its passing report: what the oracle tests judge against. */
async function blobSeedPassing() {
  const seed = inProcess.find((s) => s.name === 'in-process/blob')!;
  const seedParsed = parseBundle(seed.text);
  const ok = await verifyBundleReport({
    bundle: seedParsed,
    artifact: seed.artifact,
    trust: seed.trust,
    policy: seed.policy,
  });
  return { seed, seedParsed, ok };
}

test('fuzz oracle: a pass of a bundle whose signature or artifact binding was changed is reported as a possible bypass', async (t) => {
  const { seed, seedParsed, ok } = await blobSeedPassing();
  t.true(ok.ok);
  // What the oracle would see if Stella accepted these: each must be judged not allowed.
  const doc = JSON.parse(seed.text) as {
    messageSignature: { signature: string; messageDigest: { digest: string } };
  };
  const sig = Buffer.from(doc.messageSignature.signature, 'base64');
  sig[sig.length - 1]! ^= 1;
  const tampered = [
    { ...doc, messageSignature: { ...doc.messageSignature, signature: sig.toString('base64') } },
    {
      ...doc,
      messageSignature: {
        ...doc.messageSignature,
        messageDigest: {
          ...doc.messageSignature.messageDigest,
          digest: Buffer.alloc(32, 7).toString('base64'),
        },
      },
    },
  ];
  for (const json of tampered) {
    const v = judgeAcceptedBundle(seed, seedParsed, json, parseBundle(JSON.stringify(json)), ok);
    t.false(v.allowed, JSON.stringify(v));
  }
  t.deepEqual(judgeAcceptedBundle(seed, seedParsed, JSON.parse(seed.text), seedParsed, ok), {
    allowed: true,
    by: 'neutral',
  });
});

test("fuzz oracle: a whole document taken from a passing seed judged in the same context gets that seed's verdict; a seed judged in another context is no such twin", async (t) => {
  const { seed, seedParsed, ok } = await blobSeedPassing();
  t.true(ok.ok);
  // A failing case with the same artifact, trust root and identity (as the conformance suite's
  // rekor2-dsse-invalid-sig_fail is to rekor2-dsse-happy-path), and a passing seed judged under
  // another identity.
  const doc = JSON.parse(seed.text) as { messageSignature: { signature: string } };
  const sig = Buffer.from(doc.messageSignature.signature, 'base64');
  sig[sig.length - 1]! ^= 1;
  const failing: BundleSeed = {
    ...seed,
    name: 'in-process/blob-bad-signature_fail',
    reference: 'fail',
    text: JSON.stringify({
      ...doc,
      messageSignature: { ...doc.messageSignature, signature: sig.toString('base64') },
    }),
  };
  const elsewhere: BundleSeed = {
    ...seed,
    name: 'in-process/blob-other-identity',
    identity: 'https://other.example/x',
  };
  const twins = contextTwins(failing, [seed, failing, elsewhere]);
  t.deepEqual(
    twins.map((x) => x.seed.name),
    ['in-process/blob'],
  );
  t.deepEqual(
    judgeAcceptedBundle(
      failing,
      parseBundle(failing.text),
      JSON.parse(seed.text),
      seedParsed,
      ok,
      twins,
    ),
    { allowed: true, by: 'another-seed' },
  );
  // The failing document itself is no twin's: still judged not allowed.
  const v = judgeAcceptedBundle(
    failing,
    parseBundle(failing.text),
    JSON.parse(failing.text),
    parseBundle(failing.text),
    ok,
    twins,
  );
  t.false(v.allowed, JSON.stringify(v));
});

test('fuzz oracle: a witness cosignature the seed did not record, or one on another text, is reported as a possible bypass', (t) => {
  const [seed] = witnessSeeds(noteSeeds(local));
  t.truthy(seed);
  t.deepEqual(judgeWitness(seed!, seed!.note), { kind: 'accepted', by: '2 witness(es)' });
  // The same valid lines, judged as if no witness had made them: the oracle must say no.
  const unrecorded = judgeWitness({ ...seed!, made: new Set() }, seed!.note);
  t.is(unrecorded.kind, 'failure');
  t.regex((unrecorded as { problem: string }).problem, /POSSIBLE BYPASS/);
  const otherText = judgeWitness({ ...seed!, text: `${seed!.text}x\n` }, seed!.note);
  t.is(otherText.kind, 'failure');
});

test('fuzz oracle: a rotation accepted without a recorded trusted signature on its payload, or at a version that is not the next, is reported as a possible bypass', (t) => {
  for (const seed of rotation.seeds) {
    t.is(judgeRotation(seed.tar, seed.trust, rotationSigned).kind, 'accepted', seed.name);
    // The same valid signatures, judged as if no key had signed these bytes.
    const unrecorded = judgeRotation(seed.tar, seed.trust, new Map());
    t.is(unrecorded.kind, 'failure', seed.name);
    t.regex((unrecorded as { problem: string }).problem, /POSSIBLE BYPASS.*trusted key/);
  }
  // Each rule read again on its own: a payload whose recorded signers are fewer than the
  // threshold, and (through verifyRotation's own clock) one judged after it expired.
  const seed = rotation.seeds.find((s) => s.name === 'rotation/two-of-two')!;
  const one: SignedPayloads = new Map([
    [toHex(sha256(seed.payloadBytes)), new Set([ROTATION_KEYS.a.id])],
  ]);
  t.is(judgeRotation(seed.tar, seed.trust, one).kind, 'failure');
  t.deepEqual(judgeRotation(seed.tar, seed.trust, rotationSigned, Date.UTC(2100, 0, 1)), {
    kind: 'refused',
    code: 'ROTATION_EXPIRED',
  });
});

test('fuzz harness: an iteration is a pure function of (seed, target, iteration)', (t) => {
  const seed = inProcess[0]!;
  const hooks = bundleHooks(seed, localPools.certificates, localPools.tokens);
  const gen = (i: number): string =>
    mutateBundle(new Prng(iterationSeed(1234, 'bundle', i)), seed, [], hooks, [
      JSON.parse(seed.text) as Json,
    ]);
  for (let i = 0; i < 20; i++) t.is(gen(i), gen(i), `iteration ${i}`);
  t.not(gen(0), gen(1));
});
