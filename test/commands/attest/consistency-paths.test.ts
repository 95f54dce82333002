/**
 * Issue 12: the consistency step on every path that takes bundles in, through the real CLI with
 * networking made to throw on the verifying side. `attest import X.tar` and whole-shipment
 * `attest verify --archive X.tar --all` hold the bundles' checkpoints and the archive's
 * consistency.json against the trust store like a single `attest verify`: a forked sandbox log
 * is caught by a stored checkpoint and by the shipment's consistency proofs, a refused import
 * leaves the attestation store as it was, and --require-consistency (or a policy file's
 * requireConsistency) refuses unproven checkpoints in shipment verify.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../../src/sandbox/server/sandbox.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { AttestationStore } from '../../../src/store/attestations.js';
import { runCli } from '../../helpers/cli.js';
import { consistencyKit, GITHUB_SAN, noteOf, OFFLINE } from '../../helpers/consistency-kit.js';
import { literalPattern } from '../../../src/verify/identity-pattern.js';

let sandbox: RunningSandbox;
let root: string;
let dataDir: string;
let kit: ReturnType<typeof consistencyKit>;

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'stella-consistency-paths-'));
  dataDir = join(root, 'sandbox');
  sandbox = await startSandbox({ dataDir, port: 0 });
  kit = consistencyKit(sandbox, root);
});
test.after.always(async () => {
  await sandbox?.close();
});

const identity = () => kit.identity();

async function json(args: string[]) {
  const r = await runCli([...args, '--json'], OFFLINE);
  assertOffline(r.stderr);
  return { ...r, json: r.stdout ? JSON.parse(r.stdout) : undefined };
}
function assertOffline(stderr: string): void {
  if (/NETWORK ATTEMPT/.test(stderr))
    throw new Error(`the verifying side used the network: ${stderr}`);
}

/** `verify --archive X --all` as a person runs it (no --json): the summary is read. */
async function verifyAllRead(store: string, archive: string, who: string[]) {
  const r = await runCli(
    ['attest', 'verify', '--archive', archive, '--all', '--store', store, ...who],
    OFFLINE,
  );
  assertOffline(r.stderr);
  return r;
}
/** The summary's consistency line. */
const consistencyLine = (proven: number, unproven: number, recorded: number): RegExp =>
  new RegExp(
    `^ {2}consistency ${proven + unproven} checkpoint\\(s\\) of verified bundles: ${proven} proven, ${unproven} unproven; ${recorded} recorded in `,
    'm',
  );

const verifyOne = (store: string, artifact: string, bundle: string) =>
  json([
    'attest',
    'verify',
    '--bundle',
    bundle,
    '--artifact',
    artifact,
    '--store',
    store,
    ...identity(),
  ]);
/** `verify --archive X --all`, by the identity flags or (`who`) a policy file's environment. */
const verifyAll = (store: string, archive: string, extra: string[] = [], who = identity()) =>
  json(['attest', 'verify', '--archive', archive, '--all', '--store', store, ...who, ...extra]);
const verifyByPolicy = (store: string, archive: string, policy: string) =>
  verifyAll(store, archive, [], ['--policy', policy, '--environment', 'release']);
const importArchive = (
  store: string,
  attestations: string,
  archive: string,
  extra: string[] = [],
) =>
  json([
    'attest',
    'import',
    archive,
    '--store',
    store,
    '--attestation-store',
    attestations,
    ...extra,
  ]);

function storedBundles(path: string): number {
  const s = AttestationStore.open(path, 'read');
  try {
    return s.count();
  } finally {
    s.close();
  }
}

test.serial(
  'import and shipment verify: proofs prove, --require-consistency and the policy key refuse unproven checkpoints, a fork is caught by a stored checkpoint and by the proofs, and a refused import imports nothing',
  async (t) => {
    const b1 = await kit.sign();
    const b2 = await kit.sign();
    t.is(b2.treeSize, b1.treeSize + 1);
    // Three stores anchored at b1's checkpoint (a first checkpoint is the anchor).
    const [storeI, storeV, storeU] = [
      await kit.newStore(),
      await kit.newStore(),
      await kit.newStore(),
    ];
    for (const s of [storeI, storeV, storeU]) {
      const v = await verifyOne(s, b1.artifact, b1.bundle);
      t.is(v.code, 0, v.stdout + v.stderr);
    }
    const proven = await kit.exportShipment([b1, b2]);
    const plain = await kit.exportShipment([b1, b2], [], true);

    // Shipment verify, plain archive: b2's newer checkpoint is unproven.
    const unproven = await verifyAll(storeU, plain);
    t.is(unproven.code, 0, unproven.stdout + unproven.stderr);
    t.deepEqual(
      unproven.json.consistency.checkpoints.map((c: { treeSize: number; status: string }) => [
        c.treeSize,
        c.status,
      ]),
      [
        [b1.treeSize, 'proven'],
        [b2.treeSize, 'unproven'],
      ],
    );
    // A person reads the same counts in the summary (the JSON above recorded both, so nothing
    // is new to record).
    const human = await verifyAllRead(storeU, plain, identity());
    t.is(human.code, 0, human.stdout + human.stderr);
    t.regex(human.stdout, consistencyLine(1, 1, 0));
    t.notRegex(human.stdout, /^ {2}latest /m, 'a plain archive has no latest checkpoint');
    const required = await verifyAll(storeU, plain, ['--require-consistency']);
    t.is(required.code, EXIT_CODES.CONSISTENCY_UNPROVEN, required.stdout);
    t.is(required.json.error.code, 'CONSISTENCY_UNPROVEN');
    const policy = join(root, 'policy.yaml');
    writeFileSync(
      policy,
      [
        'environments:',
        '  release:',
        `    issuer: ${sandbox.urls.oidcIssuer}`,
        `    identity: ${JSON.stringify(literalPattern(GITHUB_SAN))}`,
        '    requireConsistency: true',
        '',
      ].join('\n'),
    );
    const lint = await runCli(['policy', 'lint', policy, '--json']);
    t.is(lint.code, 0, lint.stderr);
    t.true(JSON.parse(lint.stdout).environments[0].requireConsistency);
    const byPolicy = await verifyByPolicy(storeU, plain, policy);
    t.is(byPolicy.code, EXIT_CODES.CONSISTENCY_UNPROVEN, byPolicy.stdout);
    t.deepEqual(
      (await kit.checkpoints(storeU)).logs[0]!.checkpoints.map((c) => [c.treeSize, c.status]),
      [
        [b1.treeSize, 'proven'],
        [b2.treeSize, 'unproven'],
      ],
      'the refusals recorded nothing',
    );

    // With the shipment's proofs both paths prove b2, under --require-consistency.
    const attI = join(mkdtempSync(join(root, 'att-')), 'attestations.db');
    const imp = await importArchive(storeI, attI, proven, ['--require-consistency']);
    t.is(imp.code, 0, imp.stdout + imp.stderr);
    t.is(imp.json.added, 2);
    t.deepEqual(imp.json.consistency.latest, [
      { log: sandbox.urls.rekor, treeSize: b2.treeSize, status: 'proven' },
    ]);
    const all = await verifyAll(storeV, proven, ['--require-consistency']);
    t.is(all.code, 0, all.stdout + all.stderr);
    t.is(all.json.summary.passed, 2);
    t.deepEqual(all.json.consistency.latest, [
      { log: sandbox.urls.rekor, treeSize: b2.treeSize, status: 'proven' },
    ]);
    // By the policy, read by a person: the shipment's proof newly proves b2 in storeU.
    const byPolicyProven = await verifyAllRead(storeU, proven, [
      '--policy',
      policy,
      '--environment',
      'release',
    ]);
    t.is(byPolicyProven.code, 0, byPolicyProven.stdout + byPolicyProven.stderr);
    t.regex(byPolicyProven.stdout, consistencyLine(2, 0, 1));
    t.true(
      byPolicyProven.stdout.includes(
        `\n  latest     ${sandbox.urls.rekor} tree size ${b2.treeSize} recorded (proven)\n`,
      ),
      byPolicyProven.stdout,
    );

    // Fork: the log drops b2's entry; b3 gets b2's tree size with another root.
    const fork = await runCli(['sandbox', 'fork', '--data-dir', dataDir, '--log', 'v1', '--json']);
    t.is(fork.code, 0, fork.stderr);
    const b3 = await kit.sign();
    t.is(b3.treeSize, b2.treeSize);
    const forked = await kit.exportShipment([b3], [], true);
    const before = storedBundles(attI);
    const splitI = await runCli(
      ['attest', 'import', forked, '--store', storeI, '--attestation-store', attI],
      OFFLINE,
    );
    t.is(splitI.code, EXIT_CODES.SPLIT_VIEW_DETECTED, splitI.stdout + splitI.stderr);
    t.regex(splitI.stderr, /split view/);
    t.true(
      splitI.stderr.includes(noteOf(b2.bundle)) && splitI.stderr.includes(noteOf(b3.bundle)),
      'both signed checkpoints are printed',
    );
    t.is(storedBundles(attI), before, 'nothing imported');
    let cps = await kit.checkpoints(storeI);
    t.is(cps.splitViews.length, 1, 'the evidence is kept');
    t.is(cps.splitViews[0]!.presentedNote, noteOf(b3.bundle));
    t.deepEqual(
      cps.logs[0]!.checkpoints.map((c) => [c.treeSize, c.status]),
      [
        [b1.treeSize, 'proven'],
        [b2.treeSize, 'proven'],
      ],
      'nothing from the forked checkpoint was recorded',
    );
    const splitV = await verifyAll(storeV, forked);
    t.is(splitV.code, EXIT_CODES.SPLIT_VIEW_DETECTED, splitV.stdout);
    t.is(splitV.json.error.details.held.checkpoint, noteOf(b2.bundle));
    t.is(splitV.json.error.details.presented.checkpoint, noteOf(b3.bundle));
    t.false(splitV.stderr.includes('evidence:'), '--json: the evidence is in the JSON');
    // --json-lines is machine output too: the evidence in its error line, nothing on stderr.
    const verifyArgs = ['attest', 'verify', '--archive', forked, '--all', '--store', storeV];
    const splitLines = await runCli([...verifyArgs, ...identity(), '--json-lines'], OFFLINE);
    assertOffline(splitLines.stderr);
    t.is(splitLines.code, EXIT_CODES.SPLIT_VIEW_DETECTED, splitLines.stdout);
    t.false(splitLines.stderr.includes('evidence:'), splitLines.stderr);
    const errorLine = JSON.parse(splitLines.stdout.trim().split('\n').at(-1)!);
    t.is(errorLine.error.details.held.checkpoint, noteOf(b2.bundle));
    // A person gets both signed checkpoints on stderr.
    const splitHuman = await runCli([...verifyArgs, ...identity()], OFFLINE);
    t.is(splitHuman.code, EXIT_CODES.SPLIT_VIEW_DETECTED, splitHuman.stdout);
    t.true(
      splitHuman.stderr.includes(
        `evidence: checkpoint held by the trust store:\n${noteOf(b2.bundle)}`,
      ),
      splitHuman.stderr,
    );

    // Caught by the shipment's proofs: b2 (held) to the forked log's latest does not verify.
    const b4 = await kit.sign();
    const proofShip = await kit.exportShipment([b2, b4]);
    const proofI = await importArchive(storeI, attI, proofShip);
    t.is(proofI.code, EXIT_CODES.SPLIT_VIEW_DETECTED, proofI.stdout);
    t.regex(proofI.json.error.message, /consistency proof from the held checkpoint/);
    t.is(storedBundles(attI), before, 'nothing imported');
    cps = await kit.checkpoints(storeI);
    t.is(cps.splitViews.length, 2);
    const proofV = await verifyAll(storeV, proofShip);
    t.is(proofV.code, EXIT_CODES.SPLIT_VIEW_DETECTED, proofV.stdout);
    t.regex(proofV.json.error.message, /consistency proof from the held checkpoint/);
  },
);
