/**
 * The trust store's consistency step (src/trust/store/consistency.ts) on checkpoints made
 * here: what one batch of bundles shows is judged as a whole, so a log that shows two roots
 * for one tree size inside a single shipment is caught even with nothing stored yet.
 */
import test from 'ava';
import { sha256 } from '../../../src/crypto.js';
import { StellaError } from '../../../src/errors.js';
import type { TrustMaterial } from '../../../src/model/trust-material.js';
import { signCheckpoint } from '../../../src/tlog/note.js';
import { checkConsistency, cosigningKeys } from '../../../src/trust/store/consistency.js';
import { listCheckpoints } from '../../../src/trust/store/checkpoints.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { toHex, utf8 } from '../../../src/util/encoding.js';
import { makeLog } from '../../tlog/helpers.js';
import { CTX, tempStorePath } from './helpers.js';

const log = makeLog('https://rekor.split.test', 'ec');
const other = makeLog('https://rekor.other.test', 'ec');
const trust: TrustMaterial = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  certificateAuthorities: [],
  tlogs: [log.log],
  ctlogs: [],
  timestampAuthorities: [],
};
const checkpoint = (l: typeof log, treeSize: number, root: string, logIndex = 0) => ({
  logId: toHex(l.log.logId),
  logIndex,
  rekor: 'v1' as const,
  note: signCheckpoint(
    {
      origin: 'rekor.split.test - 1193050959916656506',
      treeSize,
      rootHash: sha256(utf8.encode(root)),
    },
    l.signer,
  ),
});
const store = () => openTrustStore(tempStorePath('consistency'), { create: true, now: CTX.now });

test('two roots for one tree size in one batch are a split view, with nothing stored before', (t) => {
  const s = store();
  const e = t.throws(
    () =>
      checkConsistency(
        s,
        {
          trust,
          checkpoints: [checkpoint(log, 10, 'a'), checkpoint(log, 10, 'b', 1)],
          source: 'x.tar',
        },
        CTX,
      ),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'SPLIT_VIEW_DETECTED', e?.message);
  // The same checkpoint twice is one observation, not a split view.
  const ok = checkConsistency(
    store(),
    {
      trust,
      checkpoints: [checkpoint(log, 10, 'a'), checkpoint(log, 10, 'a', 1)],
      source: 'y.tar',
    },
    CTX,
  );
  t.is(ok.checkpoints.length, 1);
});

test("a bundle's own checkpoint that its log did not sign refuses the batch; another bundle's is left out", (t) => {
  const forged = checkpoint(other, 12, 'c');
  forged.logId = toHex(log.log.logId);
  const s = store();
  const e = t.throws(
    () => checkConsistency(s, { trust, checkpoints: [forged], source: 'x.tar' }, CTX),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'CHECKPOINT_INVALID', e?.message);
  const report = checkConsistency(
    s,
    {
      trust,
      checkpoints: [checkpoint(log, 10, 'a')],
      shipmentCheckpoints: [forged],
      source: 'x.tar',
    },
    CTX,
  );
  t.deepEqual(
    report.checkpoints.map((c) => c.treeSize),
    [10],
  );
  t.deepEqual(
    listCheckpoints(s).logs.flatMap((l) => l.checkpoints.map((c) => c.treeSize)),
    [10],
  );
});

test("another bundle's valid checkpoint is evidence (checked for a split view against the accepted ones) but not reported as theirs", (t) => {
  const s = store();
  const report = checkConsistency(
    s,
    {
      trust,
      checkpoints: [checkpoint(log, 10, 'a')],
      shipmentCheckpoints: [checkpoint(log, 12, 'b', 1)],
      source: 'x.tar',
    },
    CTX,
  );
  t.deepEqual(
    report.checkpoints.map((c) => c.treeSize),
    [10],
  );
  // As evidence it still counts: the same tree size with another root is a split view.
  const e = t.throws(
    () =>
      checkConsistency(
        store(),
        {
          trust,
          checkpoints: [checkpoint(log, 10, 'a')],
          shipmentCheckpoints: [checkpoint(log, 10, 'z', 1)],
          source: 'x.tar',
        },
        CTX,
      ),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'SPLIT_VIEW_DETECTED', e?.message);
});

test("a shipment's consistency.json entry for a log the receiver does not trust is left out: the same report and store as without it", (t) => {
  const untrusted = checkpoint(other, 20, 'z');
  const run = (withUntrusted: boolean) => {
    const s = store();
    const report = checkConsistency(
      s,
      {
        trust,
        checkpoints: [checkpoint(log, 10, 'a')],
        shipment: {
          logs: withUntrusted
            ? [
                {
                  logId: untrusted.logId,
                  baseUrl: 'https://rekor.other.test',
                  rekor: 'v1',
                  checkpoint: untrusted.note,
                  proofs: [],
                },
              ]
            : [],
        },
        source: 'x.tar',
      },
      CTX,
    );
    return { report, held: listCheckpoints(s).logs };
  };
  const without = run(false);
  t.deepEqual(
    without.report.checkpoints.map((c) => [c.log, c.treeSize]),
    [['https://rekor.split.test', 10]],
  );
  const withIt = run(true);
  t.deepEqual({ ...withIt.report, store: '' }, { ...without.report, store: '' });
  t.deepEqual(
    withIt.held.map((l) => l.checkpoints.map((c) => c.treeSize)),
    [[10]],
  );
});

test('the report lists checkpoints by log, then tree size, whatever order they came in and whatever their roots', (t) => {
  const both: TrustMaterial = { ...trust, tlogs: [log.log, other.log] };
  // Roots chosen so that their order is the reverse of the sizes': sorting by root would show.
  const small = checkpoint(log, 3, 'r0');
  const large = checkpoint(log, 20, 'r1');
  const rootOf = (c: typeof small) => c.note.split('\n')[2]!;
  t.true(
    toHex(Buffer.from(rootOf(small), 'base64')) > toHex(Buffer.from(rootOf(large), 'base64')),
    'fixture: the smaller tree has the larger root',
  );
  const report = checkConsistency(
    store(),
    {
      trust: both,
      checkpoints: [checkpoint(other, 5, 'o5'), large, checkpoint(other, 2, 'o2'), small],
      source: 'x.tar',
    },
    CTX,
  );
  // https://rekor.other.test sorts before https://rekor.split.test.
  t.deepEqual(
    report.checkpoints.map((c) => [c.log, c.treeSize]),
    [
      [other.log.baseUrl, 2],
      [other.log.baseUrl, 5],
      [log.log.baseUrl, 3],
      [log.log.baseUrl, 20],
    ],
  );
});

test('a cosignature counts while its witness is valid: --valid-from..--valid-until, both ends inclusive; one key counts once', (t) => {
  const from = Date.UTC(2026, 0, 1);
  const until = Date.UTC(2026, 6, 1);
  const witness = (name: string) => ({
    name,
    publicKey: new Uint8Array(32),
    validFrom: from,
    validUntil: until,
  });
  const sig = (name: string, ms: number, keyFingerprint = `fp-${name}`) => ({
    name,
    keyFingerprint,
    timestamp: ms / 1000,
  });
  const witnesses = [witness('w1'), witness('w2'), { ...witness('open'), validUntil: null }];
  const counted = (ms: number, name = 'w1') => [
    ...cosigningKeys([sig(name, ms)], witnesses).values(),
  ];
  t.deepEqual(counted(from), ['w1'], 'at --valid-from');
  t.deepEqual(counted(until), ['w1'], 'at --valid-until');
  t.deepEqual(counted(from - 1000), [], 'a second before');
  t.deepEqual(counted(until + 1000), [], 'a second after');
  t.deepEqual(counted(Date.UTC(2100, 0, 1), 'open'), ['open'], 'an open window');
  // Two names for one key: the first name it was seen under.
  const one = cosigningKeys([sig('w1', from, 'same'), sig('w2', from, 'same')], witnesses);
  t.deepEqual([...one.entries()], [['same', 'w1']]);
});
