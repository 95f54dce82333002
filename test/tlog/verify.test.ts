import test, { type ExecutionContext } from 'ava';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import { utf8 } from '../../src/util/encoding.js';
import type { TransparencyLogEntry } from '../../src/bundle/model.js';
import { MerkleTree } from '../../src/tlog/merkle.js';
import { signCheckpoint } from '../../src/tlog/note.js';
import { verifyTlogEntryInclusion } from '../../src/tlog/verify.js';
import { sharedTest } from '../helpers/shared.js';
import { loadCase, makeLog, type TestLog } from './helpers.js';

const NOW = Date.UTC(2030, 0, 1);

/**
 * A local log of `n` bodies; returns entry `i` with a proof and checkpoint at `size`. Entries
 * are Rekor v2 kinds unless `kind` says otherwise (a Rekor v1 kind/version).
 */
function localLog(
  l: TestLog,
  n: number,
  origin = new URL(l.log.baseUrl).host,
  kind = { kind: 'hashedrekord', version: '0.0.2' },
) {
  const mt = new MerkleTree();
  const bodies = Array.from({ length: n }, (_, i) => utf8.encode(`{"entry":${i}}`));
  for (const b of bodies) mt.appendData(b);
  const entry = (i: number, size = n, signer = l.signer): TransparencyLogEntry => ({
    logIndex: i,
    logId: l.log.logId,
    kindVersion: kind,
    integratedTime: 0,
    inclusionPromise: undefined,
    canonicalizedBody: bodies[i]!,
    inclusionProof: {
      logIndex: i,
      treeSize: size,
      rootHash: mt.root(size),
      hashes: mt.inclusionProof(i, size),
      checkpoint: signCheckpoint({ origin, treeSize: size, rootHash: mt.root(size) }, signer),
    },
  });
  return { mt, entry };
}

function refused(
  t: ExecutionContext,
  fn: () => unknown,
  code: ErrorCode,
  re?: RegExp | string,
): void {
  const err = t.throws(fn, { instanceOf: StellaError });
  t.is(err?.code, code);
  if (typeof re === 'string') t.is(err?.message, re);
  else if (re) t.regex(err?.message ?? '', re);
}

for (const type of ['ec', 'ed25519'] as const) {
  test(`${type}: every entry of a local log verifies`, (t) => {
    const l = makeLog('https://log.example.dev', type);
    const { entry } = localLog(l, 13);
    for (let i = 0; i < 13; i++) {
      const r = verifyTlogEntryInclusion(entry(i), [l.log], [NOW]);
      t.is(r.log, l.log);
      t.is(r.treeSize, 13);
      t.is(r.checkpointOrigin, 'log.example.dev');
    }
  });
}

test('proof tree size must equal the checkpoint size (E35)', (t) => {
  const l = makeLog('https://log.example.dev', 'ed25519');
  const { mt, entry } = localLog(l, 8);
  const e = entry(5, 8);
  // A self-consistent proof for size 7 under a checkpoint for size 8: same root chain, other size.
  const p = e.inclusionProof!;
  refused(
    t,
    () => verifyTlogEntryInclusion({ ...e, inclusionProof: { ...p, treeSize: 7 } }, [l.log], [NOW]),
    'INCLUSION_PROOF_INVALID',
    'inclusion proof tree size 7 does not match the signed checkpoint size 8',
  );
  // Proof and root for size 7, checkpoint for size 8.
  const e7 = entry(5, 7);
  refused(
    t,
    () =>
      verifyTlogEntryInclusion(
        { ...e7, inclusionProof: { ...e7.inclusionProof!, checkpoint: p.checkpoint } },
        [l.log],
        [NOW],
      ),
    'INCLUSION_PROOF_INVALID',
    /tree size 7 does not match the signed checkpoint size 8/,
  );
  // Root hash in the proof differs from the checkpoint's.
  refused(
    t,
    () =>
      verifyTlogEntryInclusion(
        { ...e, inclusionProof: { ...p, rootHash: mt.root(7) } },
        [l.log],
        [NOW],
      ),
    'INCLUSION_PROOF_INVALID',
    'inclusion proof root hash does not match the signed checkpoint root hash',
  );
});

test('broken proofs, wrong body, wrong index are refused', (t) => {
  const l = makeLog('https://log.example.dev', 'ec');
  const { entry } = localLog(l, 8);
  const e = entry(5);
  const p = e.inclusionProof!;
  refused(
    t,
    () =>
      verifyTlogEntryInclusion(
        { ...e, canonicalizedBody: utf8.encode('{"entry":4}') },
        [l.log],
        [NOW],
      ),
    'INCLUSION_PROOF_INVALID',
    'inclusion proof: computed root hash does not match',
  );
  refused(
    t,
    () =>
      verifyTlogEntryInclusion(
        { ...e, inclusionProof: { ...p, hashes: p.hashes.slice(1) } },
        [l.log],
        [NOW],
      ),
    'INCLUSION_PROOF_INVALID',
    'inclusion proof: expected 3 hashes, got 2',
  );
  const flipped = p.hashes.map((h) => h.slice());
  flipped[1]![7]! ^= 1;
  refused(
    t,
    () =>
      verifyTlogEntryInclusion({ ...e, inclusionProof: { ...p, hashes: flipped } }, [l.log], [NOW]),
    'INCLUSION_PROOF_INVALID',
    /computed root hash does not match/,
  );
  refused(
    t,
    () =>
      verifyTlogEntryInclusion(
        { ...e, inclusionProof: { ...p, logIndex: 9 }, logIndex: 9 },
        [l.log],
        [NOW],
      ),
    'INCLUSION_PROOF_INVALID',
    'inclusion proof: log index 9 >= tree size 8',
  );
  // Unsharded (v2-style) log: proof index must equal the entry index.
  refused(
    t,
    () => verifyTlogEntryInclusion({ ...e, logIndex: 6 }, [l.log], [NOW]),
    'INCLUSION_PROOF_INVALID',
    'inclusion proof log index 5 does not fit entry log index 6',
  );
});

const V1_KIND = { kind: 'hashedrekord', version: '0.0.1' };

test('Rekor v1 shards: the proof index is shard-local and cannot exceed the global index', (t) => {
  const l = makeLog('https://log.example.dev', 'ec');
  const { entry } = localLog(l, 8, 'log.example.dev - 1193050959916656506', V1_KIND);
  const e = entry(5);
  const r = verifyTlogEntryInclusion({ ...e, logIndex: 1_000_005 }, [l.log], [NOW]);
  t.is(r.checkpointOrigin, 'log.example.dev - 1193050959916656506');
  t.is(r.rekor, 'v1');
  refused(
    t,
    () => verifyTlogEntryInclusion({ ...e, logIndex: 4 }, [l.log], [NOW]),
    'INCLUSION_PROOF_INVALID',
    /does not fit entry log index 4/,
  );
});

test('Rekor v2 entries: a sharded (v1-form) origin is refused, so the proof index must equal the entry index', (t) => {
  const l = makeLog('https://log.example.dev', 'ec');
  const { entry } = localLog(l, 8, 'log.example.dev - 1193050959916656506');
  refused(
    t,
    () => verifyTlogEntryInclusion({ ...entry(5), logIndex: 1_000_005 }, [l.log], [NOW]),
    'CHECKPOINT_INVALID',
    /origin "log\.example\.dev - 1193050959916656506" does not belong to log log\.example\.dev/,
  );
});

test('Rekor v1 entries: the checkpoint signer is found by key hint, its name (any) is reported', (t) => {
  // A private Rekor v1 signs as its pod name, with origin "<pod name> - <tree id>".
  const l = makeLog('https://rekor.internal.example', 'ec');
  const pod = { ...l.signer, name: 'rekor-server-7d9f8b6c4-x2x9q' };
  const { entry } = localLog(l, 4, 'rekor-server-7d9f8b6c4-x2x9q - 42', V1_KIND);
  const mt = new MerkleTree();
  for (let i = 0; i < 4; i++) mt.appendData(utf8.encode(`{"entry":${i}}`));
  const e = entry(2);
  const podSigned = {
    ...e,
    inclusionProof: {
      ...e.inclusionProof!,
      checkpoint: signCheckpoint(
        { origin: 'rekor-server-7d9f8b6c4-x2x9q - 42', treeSize: 4, rootHash: mt.root(4) },
        pod,
      ),
    },
  };
  const r = verifyTlogEntryInclusion(podSigned, [l.log], [NOW]);
  t.is(r.checkpointSigner, 'rekor-server-7d9f8b6c4-x2x9q');
  t.is(r.log, l.log);
  // The same checkpoint for a Rekor v2 kind: the name must be the log's, exactly.
  refused(
    t,
    () =>
      verifyTlogEntryInclusion(
        { ...podSigned, kindVersion: { kind: 'hashedrekord', version: '0.0.2' } },
        [l.log],
        [NOW],
      ),
    'CHECKPOINT_INVALID',
    /no signature from a trusted log/,
  );
  // Another key under the log's own name and with the log's key hint does not verify (E38).
  const other = makeLog('https://rekor.internal.example', 'ec');
  const forged = {
    ...e,
    inclusionProof: {
      ...e.inclusionProof!,
      checkpoint: signCheckpoint(
        { origin: 'rekor.internal.example - 42', treeSize: 4, rootHash: mt.root(4) },
        { ...other.signer, keyHint: l.signer.keyHint },
      ),
    },
  };
  refused(
    t,
    () => verifyTlogEntryInclusion(forged, [l.log], [NOW]),
    'CHECKPOINT_INVALID',
    /does not verify with the key of https:\/\/rekor\.internal\.example/,
  );
  // A v1 origin must have the "<name> - <tree id>" form.
  const bare = {
    ...e,
    inclusionProof: {
      ...e.inclusionProof!,
      checkpoint: signCheckpoint(
        { origin: 'rekor.internal.example', treeSize: 4, rootHash: mt.root(4) },
        l.signer,
      ),
    },
  };
  refused(
    t,
    () => verifyTlogEntryInclusion(bare, [l.log], [NOW]),
    'CHECKPOINT_INVALID',
    /is not a Rekor v1 origin "<name> - <tree id>"/,
  );
});

test('untrusted log, missing proof, foreign checkpoint signer, future key', (t) => {
  const a = makeLog('https://a.example.dev', 'ed25519');
  const b = makeLog('https://b.example.dev', 'ed25519');
  const { entry } = localLog(a, 4);
  refused(
    t,
    () => verifyTlogEntryInclusion(entry(1), [b.log], [NOW]),
    'TLOG_UNTRUSTED',
    /is not a trusted transparency log/,
  );
  refused(
    t,
    () => verifyTlogEntryInclusion({ ...entry(1), inclusionProof: undefined }, [a.log], [NOW]),
    'REKOR_PROOF_MISSING',
    /Rekor proof missing/,
  );
  // Checkpoint signed by another trusted log (with its own name): not this entry's log.
  const { entry: entryB } = localLog(b, 4);
  const mixed = {
    ...entry(1),
    inclusionProof: {
      ...entry(1).inclusionProof!,
      checkpoint: entryB(1).inclusionProof!.checkpoint,
    },
  };
  refused(
    t,
    () => verifyTlogEntryInclusion(mixed, [a.log, b.log], [NOW]),
    'CHECKPOINT_INVALID',
    /no signature from a trusted log/,
  );
  const future = makeLog('https://f.example.dev', 'ec', { start: NOW + 1, end: undefined });
  refused(
    t,
    () => verifyTlogEntryInclusion(localLog(future, 2).entry(0), [future.log], [NOW]),
    'TLOG_UNTRUSTED',
    /key of log https:\/\/f\.example\.dev is not valid at verified time 2030-01-01T00:00:00\.000Z/,
  );
});

test('H48 the checkpoint key must be valid at every verified time, not only now', (t) => {
  const T0 = Date.UTC(2026, 0, 1);
  const l = makeLog('https://w.example.dev', 'ed25519', { start: T0, end: T0 + 1000 });
  const e = localLog(l, 3).entry(1);
  t.is(
    verifyTlogEntryInclusion(e, [l.log], [T0, T0 + 1000]).treeSize,
    3,
    'both ends of the window are inclusive (control)',
  );
  refused(
    t,
    () => verifyTlogEntryInclusion(e, [l.log], [T0 - 1]),
    'TLOG_UNTRUSTED',
    /is not valid at verified time 2025-12-31T23:59:59\.999Z \(valid 2026-01-01T00:00:00\.000Z\.\.2026-01-01T00:00:01\.000Z\)/,
  );
  refused(
    t,
    () => verifyTlogEntryInclusion(e, [l.log], [T0 + 1001]),
    'TLOG_UNTRUSTED',
    /is not valid at verified time 2026-01-01T00:00:01\.001Z/,
  );
  refused(
    t,
    () => verifyTlogEntryInclusion(e, [l.log], [T0 + 500, T0 + 5000]),
    'TLOG_UNTRUSTED',
    /not valid at verified time 2026-01-01T00:00:05\.000Z/,
  ); // one inside, one after the end
  refused(
    t,
    () => verifyTlogEntryInclusion(e, [l.log], []),
    'NO_VERIFIED_TIME',
    /no verified time to check the key of log/,
  );
});

// --- the conformance suite's entries (shared data) ---

const PASS = [
  'happy-path-v0.3',
  'happy-path-v0.1',
  'happy-path-intoto-in-dsse-v3',
  'rekor2-happy-path',
  'rekor2-checkpoint-cosigned',
  'rekor2-checkpoint-multiple-cosigs',
  'rekor2-checkpoint-origin-not-first',
  'rekor2-checkpoint-two-sigs-from-origin',
  'rekor2-dsse-happy-path',
  'bundle-with-sct-with-extensions',
  'managed-key-and-trusted-root',
];
for (const name of PASS) {
  sharedTest(`shared conformance inclusion verifies: ${name}`, (t) => {
    const { bundle, trust } = loadCase(name);
    for (const e of bundle.verificationMaterial.tlogEntries) {
      const r = verifyTlogEntryInclusion(e, trust.tlogs, [NOW]);
      t.is(r.treeSize, e.inclusionProof!.treeSize);
    }
  });
}

const FAIL: [string, ErrorCode, RegExp][] = [
  [
    'checkpoint-wrong-roothash_fail',
    'INCLUSION_PROOF_INVALID',
    /tree size 23083062 does not match the signed checkpoint size 75610772/,
  ],
  ['invalid-checkpoint-signature_fail', 'CHECKPOINT_INVALID', /does not verify/],
  [
    'rekor2-checkpoint-missing-origin_fail',
    'CHECKPOINT_INVALID',
    /expected origin, tree size and root hash lines/,
  ],
  [
    'rekor2-checkpoint-no-matching-signature_fail',
    'CHECKPOINT_INVALID',
    /no signature from a trusted log/,
  ],
  [
    'rekor2-checkpoint-missing-size_fail',
    'CHECKPOINT_INVALID',
    /expected origin, tree size and root hash lines/,
  ],
  ['rekor2-checkpoint-missing-log-signature_fail', 'CHECKPOINT_INVALID', /no signature lines/],
  ['incorrect-public-key_fail', 'INCLUSION_PROOF_INVALID', /computed root hash does not match/],
];
for (const [name, code, re] of FAIL) {
  sharedTest(`shared conformance inclusion refused: ${name}`, (t) => {
    const { bundle, trust } = loadCase(name);
    refused(
      t,
      () =>
        verifyTlogEntryInclusion(bundle.verificationMaterial.tlogEntries[0]!, trust.tlogs, [NOW]),
      code,
      re,
    );
  });
}
