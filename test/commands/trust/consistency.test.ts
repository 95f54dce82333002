/**
 * Issue 12, consistency and witnesses, through the real CLI with networking disabled on the
 * verifying side: the sandbox (with three witnesses) signs; `attest verify` against a trust
 * store records each log's checkpoints; `export-bundle --include-consistency` (connected side)
 * carries the logs' latest checkpoints and consistency proofs (Rekor v1 proof API and, for
 * Rekor v2, proofs computed from tlog-tiles); `sandbox fork` makes a log present a second
 * history, caught by a stored checkpoint and by a shipment's proofs; a rollback; a bad proof;
 * witness policy met, unmet (K-1), and one witness under two encodings counted once.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../../src/sandbox/server/sandbox.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { readExportArchive, buildExportArchive } from '../../../src/archive/export.js';
import {
  parseShipmentConsistency,
  serializeShipmentConsistency,
} from '../../../src/archive/consistency.js';
import { cosignatureLine } from '../../../src/tlog/cosignature.js';
import { parseSignedNote } from '../../../src/tlog/note.js';
import { runCli } from '../../helpers/cli.js';
import {
  checkpointOf,
  consistencyKit,
  noteOf,
  OFFLINE,
  sandboxIdentityFlags,
  type Signed,
} from '../../helpers/consistency-kit.js';
import { deterministicEd25519Signer } from '../../../src/x509/issue.js';

let sandbox: RunningSandbox;
let root: string;
let dataDir: string;
let kit: ReturnType<typeof consistencyKit>;

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'stella-consistency-'));
  dataDir = join(root, 'sandbox');
  sandbox = await startSandbox({ dataDir, port: 0, witnesses: 3 });
  kit = consistencyKit(sandbox, root);
});
test.after.always(async () => {
  await sandbox?.close();
});

const sign = (v2 = false) => kit.sign(v2);
const withNote = (bundle: string, note: string) => kit.withNote(bundle, note);
const newStore = () => kit.newStore();
const exportShipment = (bundles: Signed[]) => kit.exportShipment(bundles);
const checkpoints = (store: string) => kit.checkpoints(store);

function verifyArgs(
  store: string,
  s: { artifact: string },
  source: ['--bundle' | '--archive', string],
  extra: string[] = [],
): string[] {
  return [
    'attest',
    'verify',
    source[0],
    source[1],
    '--artifact',
    s.artifact,
    '--store',
    store,
    ...sandboxIdentityFlags(sandbox),
    '--json',
    ...extra,
  ];
}

async function verify(store: string, s: Signed, extra: string[] = [], bundle = s.bundle) {
  const r = await runCli(verifyArgs(store, s, ['--bundle', bundle], extra), OFFLINE);
  return { ...r, json: r.stdout ? JSON.parse(r.stdout) : undefined };
}

async function verifyArchive(store: string, s: Signed, archive: string, extra: string[] = []) {
  const r = await runCli(verifyArgs(store, s, ['--archive', archive], extra), OFFLINE);
  return { ...r, json: r.stdout ? JSON.parse(r.stdout) : undefined };
}

const vkeys = () => readFileSync(join(dataDir, 'witnesses.vkeys'), 'utf8').trim().split('\n');

test.serial(
  'Rekor v1: stored checkpoints, unproven newer ones, a shipment proves them, witnesses, and a fork caught by the stored checkpoint and by the proofs',
  async (t) => {
    const store = await newStore();
    const b1 = await sign();
    const v1 = await verify(store, b1);
    t.is(v1.code, 0, v1.stdout + v1.stderr);
    t.notRegex(v1.stderr, /NETWORK ATTEMPT/);
    t.is(
      v1.json.consistency.checkpoints[0].status,
      'proven',
      'the first checkpoint of a log is its anchor',
    );
    t.is(v1.json.consistency.checkpoints[0].treeSize, b1.treeSize);
    // The sandbox's witnesses cosigned; the store knows none of them yet.
    t.is(parseSignedNote(noteOf(b1.bundle)).signatures.length, 4);
    t.deepEqual(v1.json.consistency.checkpoints[0].witnesses, []);

    const b2 = await sign();
    t.is(b2.treeSize, b1.treeSize + 1);
    const v2 = await verify(store, b2);
    t.is(v2.code, 0, v2.stderr);
    t.is(
      v2.json.consistency.checkpoints[0].status,
      'unproven',
      'a newer checkpoint nothing links yet is recorded as unproven',
    );
    const req = await verify(store, b2, ['--require-consistency']);
    t.is(req.code, EXIT_CODES.CONSISTENCY_UNPROVEN, req.stdout);
    t.is(req.json.error.code, 'CONSISTENCY_UNPROVEN');

    let cps = await checkpoints(store);
    const v1log = cps.logs.find((l) => l.logUrl === sandbox.urls.rekor)!;
    t.deepEqual(
      v1log.checkpoints.map((c) => [c.treeSize, c.status]),
      [
        [b1.treeSize, 'proven'],
        [b2.treeSize, 'unproven'],
      ],
    );

    // The connected side ships the log's latest checkpoint and proofs from both bundles' checkpoints.
    const ship = await exportShipment([b1, b2]);
    const c = parseShipmentConsistency(readExportArchive(readFileSync(ship)).consistency!);
    t.is(c.logs.length, 1);
    t.deepEqual(
      c.logs[0]!.proofs.map((p) => p.fromSize),
      [b1.treeSize],
      'b2 is the latest: no proof needed for it',
    );
    const va = await verifyArchive(store, b2, ship, ['--require-consistency']);
    t.is(va.code, 0, va.stdout + va.stderr);
    t.is(va.json.consistency.checkpoints[0].status, 'proven');
    t.deepEqual(va.json.consistency.latest, [
      { log: sandbox.urls.rekor, treeSize: b2.treeSize, status: 'proven' },
    ]);
    cps = await checkpoints(store);
    t.deepEqual(
      cps.logs
        .find((l) => l.logUrl === sandbox.urls.rekor)!
        .checkpoints.map((x) => [x.treeSize, x.status, x.latest]),
      [
        [b1.treeSize, 'proven', false],
        [b2.treeSize, 'proven', true],
      ],
    );

    // Witnesses: policy 2 of w1, w2 is met by the sandbox's cosignatures.
    const [w1, w2, w3] = vkeys();
    for (const v of [w1!, w2!, w3!]) {
      const a = await runCli(['trust', 'witness', 'add', v, '--store', store]);
      t.is(a.code, 0, a.stderr);
    }
    const dup = await runCli(['trust', 'witness', 'add', w1!, '--store', store, '--json']);
    t.is(dup.code, EXIT_CODES.WITNESS_INVALID, 'a witness is added once');
    const pol = await runCli([
      'trust',
      'witness',
      'policy',
      '--log',
      sandbox.urls.rekor,
      '--threshold',
      '2',
      '--witness',
      'witness-1.sandbox.stella.local',
      '--witness',
      'witness-2.sandbox.stella.local',
      '--store',
      store,
    ]);
    t.is(pol.code, 0, pol.stderr);
    const met = await verify(store, b2);
    t.is(met.code, 0, met.stderr);
    t.deepEqual(met.json.consistency.checkpoints[0].witnesses, [
      'witness-1.sandbox.stella.local',
      'witness-2.sandbox.stella.local',
      'witness-3.sandbox.stella.local',
    ]);

    // Unmet (K-1): only one of the policy's witnesses' lines left on the checkpoint.
    const note = noteOf(b2.bundle);
    const lines = note.split('\n');
    const onlyW1 = lines
      .filter((l) => !l.startsWith('\u2014 witness-2') && !l.startsWith('\u2014 witness-3'))
      .join('\n');
    const unmet = await verify(store, b2, [], withNote(b2.bundle, onlyW1));
    t.is(unmet.code, EXIT_CODES.WITNESS_POLICY_UNMET, unmet.stdout);
    t.regex(unmet.json.error.message, /cosigned by 1 of the required 2/);

    // One witness under two encodings (two valid cosignature lines of w1, other timestamps) counts once.
    const text = parseSignedNote(note).text;
    const witness1 = sandbox.witnesses[0]!;
    const second = cosignatureLine(text, witness1.key, Math.floor(Date.now() / 1000) - 60, (m) =>
      signWith(0, m),
    );
    const twice = await verify(store, b2, [], withNote(b2.bundle, `${onlyW1}${second}\n`));
    t.is(twice.code, EXIT_CODES.WITNESS_POLICY_UNMET, twice.stdout);
    t.regex(twice.json.error.message, /cosigned by 1 of the required 2/);
    // An unknown cosignature stays tolerated.
    const unknownLine = `\u2014 witness.unknown.example ${Buffer.alloc(76, 7).toString('base64')}`;
    const tolerated = await verify(store, b2, [], withNote(b2.bundle, `${note}${unknownLine}\n`));
    t.is(tolerated.code, 0, tolerated.stdout);
    t.is(
      (
        await runCli([
          'trust',
          'witness',
          'policy',
          '--log',
          sandbox.urls.rekor,
          '--threshold',
          '0',
          '--store',
          store,
        ])
      ).code,
      0,
    );

    // Fork: the log drops b2's entry and signs a second history; the next checkpoint of b2's size has another root.
    const fork = await runCli(['sandbox', 'fork', '--data-dir', dataDir, '--log', 'v1', '--json']);
    t.is(fork.code, 0, fork.stderr);
    t.like(JSON.parse(fork.stdout), { log: 'v1', from: b2.treeSize, to: b2.treeSize - 1 });
    const b3 = await sign();
    t.is(b3.treeSize, b2.treeSize);
    t.notDeepEqual(checkpointOf(b3.bundle).rootHash, checkpointOf(b2.bundle).rootHash);
    t.is(
      parseSignedNote(noteOf(b3.bundle)).signatures.length,
      1,
      'the witnesses refuse to cosign the second history',
    );
    const split = await runCli(
      verifyArgs(store, b3, ['--bundle', b3.bundle]).filter((a) => a !== '--json'),
      OFFLINE,
    );
    t.is(split.code, EXIT_CODES.SPLIT_VIEW_DETECTED, split.stdout + split.stderr);
    t.regex(split.stderr, /split view/);
    t.regex(split.stderr, /evidence: checkpoint held by the trust store:/);
    t.true(
      split.stderr.includes(noteOf(b2.bundle)) && split.stderr.includes(noteOf(b3.bundle)),
      'both signed checkpoints are printed',
    );
    cps = await checkpoints(store);
    t.is(cps.splitViews.length, 1);
    t.is(cps.splitViews[0]!.heldNote, noteOf(b2.bundle));
    t.is(cps.splitViews[0]!.presentedNote, noteOf(b3.bundle));
    t.false(
      cps.logs
        .find((l) => l.logUrl === sandbox.urls.rekor)!
        .checkpoints.some(
          (x) => x.rootHash !== undefined && x.treeSize === b3.treeSize && x.status === 'unproven',
        ),
      'nothing from the forked checkpoint was imported',
    );
    // The same refusal with --json, on a store anchored at b2: the evidence is the error's
    // details (both signed checkpoints), and nothing is printed on stderr.
    const jsonStore = await newStore();
    const anchored = await runCli(verifyArgs(jsonStore, b2, ['--bundle', b2.bundle]), OFFLINE);
    t.is(anchored.code, 0, anchored.stdout + anchored.stderr);
    const splitJson = await runCli(verifyArgs(jsonStore, b3, ['--bundle', b3.bundle]), OFFLINE);
    t.is(splitJson.code, EXIT_CODES.SPLIT_VIEW_DETECTED, splitJson.stdout + splitJson.stderr);
    const splitError = JSON.parse(splitJson.stdout).error;
    t.is(splitError.code, 'SPLIT_VIEW_DETECTED');
    t.is(splitError.details.held.checkpoint, noteOf(b2.bundle));
    t.is(splitError.details.presented.checkpoint, noteOf(b3.bundle));
    t.is(splitJson.stderr, '');

    // Caught by a shipment's proofs: b2 (held) to the forked log's latest does not verify.
    const b4 = await sign();
    const ship2 = await exportShipment([b2, b4]);
    const proofSplit = await verifyArchive(store, b4, ship2);
    t.is(proofSplit.code, EXIT_CODES.SPLIT_VIEW_DETECTED, proofSplit.stdout);
    t.regex(proofSplit.json.error.message, /consistency proof from the held checkpoint/);
    t.is(proofSplit.json.error.details.held.checkpoint, noteOf(b2.bundle));
    t.is((await checkpoints(store)).splitViews.length, 2);

    // A bad proof (one hash flipped), to a store that holds neither end: CONSISTENCY_PROOF_INVALID.
    const fresh = await newStore();
    const shipGood = await exportShipment([b3, b4]);
    const a = readExportArchive(readFileSync(shipGood));
    const cons = parseShipmentConsistency(a.consistency!);
    t.true(cons.logs[0]!.proofs.length > 0);
    const h = cons.logs[0]!.proofs[0]!.hashes;
    h[0] = (h[0]![0] === '0' ? '1' : '0') + h[0]!.slice(1);
    const bad = await buildExportArchive({
      bundles: a.bundles.map((b) => ({
        artifactDigest: b.entry.artifactDigest,
        bytes: b.bytes,
        source: b.entry.path,
      })),
      createdAt: Date.parse(a.manifest.createdAt),
      consistency: serializeShipmentConsistency(cons),
    });
    const badPath = join(mkdtempSync(join(root, 'bad-')), 'bad.tar');
    writeFileSync(badPath, bad.archive);
    const badProof = await verifyArchive(fresh, b3, badPath);
    t.is(badProof.code, EXIT_CODES.CONSISTENCY_PROOF_INVALID, badProof.stdout);
    t.deepEqual((await checkpoints(fresh)).logs, [], 'nothing recorded');
  },
);

/** Sign as sandbox witness `i`, with its seed from the data directory (its in-process signer is private). */
function signWith(i: number, m: Uint8Array): Uint8Array {
  const seeds = JSON.parse(readFileSync(join(dataDir, 'witness-keys.json'), 'utf8'))
    .seeds as string[];
  return deterministicEd25519Signer(Uint8Array.from(Buffer.from(seeds[i]!, 'hex'))).sign(m);
}

test.serial(
  'Rekor v2: proofs computed from tlog-tiles prove a shipment; a log rolled back to an older tree size is refused',
  async (t) => {
    const store = await newStore();
    const c1 = await sign(true);
    const c2 = await sign(true);
    const c3 = await sign(true);
    t.is(c3.treeSize, c1.treeSize + 2);
    const ship = await exportShipment([c1, c2]);
    const cons = parseShipmentConsistency(readExportArchive(readFileSync(ship)).consistency!);
    t.is(cons.logs[0]!.rekor, 'v2');
    t.deepEqual(
      cons.logs[0]!.proofs.map((p) => p.fromSize),
      [c1.treeSize, c2.treeSize],
    );
    const ok = await verifyArchive(store, c1, ship, ['--require-consistency']);
    t.is(ok.code, 0, ok.stdout + ok.stderr);
    t.deepEqual(ok.json.consistency.latest, [
      { log: sandbox.urls.rekorV2, treeSize: c3.treeSize, status: 'proven' },
    ]);

    // The log forgets c3: its latest checkpoint is now smaller than the one it presented.
    const fork = await runCli(['sandbox', 'fork', '--data-dir', dataDir, '--log', 'v2', '--json']);
    t.is(fork.code, 0, fork.stderr);
    const ship2 = await exportShipment([c1]);
    const rb = await verifyArchive(store, c1, ship2);
    t.is(rb.code, EXIT_CODES.CHECKPOINT_ROLLBACK, rb.stdout);
    t.regex(
      rb.json.error.message,
      new RegExp(
        `latest checkpoint has tree size ${c2.treeSize}, but the log already presented tree size ${c3.treeSize}`,
      ),
    );
    t.is((await checkpoints(store)).splitViews[0]!.code, 'CHECKPOINT_ROLLBACK');
  },
);
