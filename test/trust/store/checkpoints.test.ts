/**
 * Schema v3 of the trust store (src/trust/store/checkpoints.ts): a genuine schema-2 store is
 * refused by every other open and migrated by `trust migrate` only; checkpoints, split-view
 * evidence, witnesses and policies are under the tamper seal; witnesses are added once.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore, writeTransaction } from '../../../src/trust/store/db.js';
import { migrateTrustStore } from '../../../src/trust/store/migrate.js';
import { sealChanges, setMeta } from '../../../src/trust/store/integrity.js';
import { APPLICATION_ID, SCHEMA_DDL, SCHEMA_VERSION } from '../../../src/trust/store/schema.js';
import {
  addWitness,
  listCheckpoints,
  listWitnesses,
  setWitnessPolicy,
  writeCheckpoints,
} from '../../../src/trust/store/checkpoints.js';
import {
  history,
  importFile,
  trustMaterialFromStore,
} from '../../../src/trust/store/operations.js';
import { formatWitnessVkey } from '../../../src/tlog/cosignature.js';
import { publicGoodTrustedRootPath } from '../../../src/trust/public-good.js';
import { CTX, DAY, NOW, tempStorePath } from './helpers.js';
import { CHILD_LOG, syntheticCheckpoints } from './child-writer.js';
import type { HeldCheckpoint } from '../../../src/tlog/consistency.js';
import { toHex } from '../../../src/util/encoding.js';

const PUBLIC_GOOD = new Uint8Array(readFileSync(publicGoodTrustedRootPath()));

/** A store exactly as a schema-2 Stella made it: DDL 1 and 2, sealed at version 2. */
function v2Store(): string {
  const file = tempStorePath('v2');
  const db = new Database(file);
  db.transaction(() => {
    db.exec(SCHEMA_DDL[0]!);
    db.exec(SCHEMA_DDL[1]!);
    db.pragma('user_version = 2');
    db.pragma(`application_id = ${APPLICATION_ID}`);
    setMeta(db, 'created_at', String(NOW));
    sealChanges(db, [
      {
        at: NOW,
        action: 'create',
        entryId: null,
        detail: { schemaVersion: 2 },
        sourceFile: null,
        sourceSha256: null,
        command: 'stella trust init',
      },
    ]);
  })();
  db.close();
  return file;
}

const code = (t: import('ava').ExecutionContext, fn: () => unknown) =>
  (t.throws(fn, { instanceOf: StellaError }) as StellaError).code;

const newWitnessKey = () =>
  new Uint8Array(
    generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }),
  ).slice(12);
const vkey = (name: string, publicKey = newWitnessKey()) => formatWitnessVkey({ name, publicKey });

test('a schema-2 store is refused by other opens and migrated to schema 3 by trust migrate, its seal kept', (t) => {
  t.is(SCHEMA_VERSION, 3);
  const file = v2Store();
  t.is(
    code(t, () => openTrustStore(file, { readonly: true })),
    'STORE_MIGRATION_REQUIRED',
  );
  const s = openTrustStore(file, { allowOlderSchema: true });
  const r = migrateTrustStore(s, {}, { now: NOW + DAY, command: 'stella trust migrate' });
  s.close();
  t.like(r, { from: 2, to: 3, migrated: true });
  const s2 = openTrustStore(file);
  t.deepEqual(listCheckpoints(s2), { logs: [], splitViews: [] });
  t.is(addWitness(s2, { keyText: vkey('w1'), validFrom: 0, source: 'test' }, CTX).name, 'w1');
  s2.close();
  t.notThrows(() => openTrustStore(file, { readonly: true }).close());
});

const EDITS: [string, string][] = [
  ['a checkpoint marked proven', 'UPDATE checkpoints SET proven = 1'],
  ['a checkpoint deleted', 'DELETE FROM checkpoints WHERE tree_size = 2'],
  ['split-view evidence removed', 'DELETE FROM split_views'],
  ['a witness key swapped', "UPDATE witnesses SET key_fingerprint = '00'"],
  ['a witness policy lowered', 'UPDATE witness_policies SET threshold = 0'],
];

for (const [what, edit] of EDITS) {
  test(`G47: checkpoints and witnesses are under the tamper seal: ${what}`, (t) => {
    const file = tempStorePath('seal3');
    const s = openTrustStore(file, { create: true, now: NOW });
    importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
    const log = trustMaterialFromStore(s).tlogs[0]!;
    writeTransaction(s, CTX, (tx) => {
      writeCheckpoints(
        tx,
        CHILD_LOG,
        syntheticCheckpoints(3).map((c) => ({ ...c, proven: false })),
        'test',
      );
      tx.db
        .prepare(
          "INSERT INTO split_views (log_id, origin, detected_at, code, reason, held_note, presented_note, proof, source) VALUES ('5a', 'o', 1, 'SPLIT_VIEW_DETECTED', 'r', 'a', 'b', NULL, 's')",
        )
        .run();
      tx.record('split-view', {});
    });
    addWitness(s, { keyText: vkey('w1'), validFrom: 0, source: 'test' }, CTX);
    addWitness(s, { keyText: vkey('w2'), validFrom: 0, source: 'test' }, CTX);
    setWitnessPolicy(s, { log, threshold: 2, witnesses: ['w1', 'w2'] }, CTX);
    s.close();
    const db = new Database(file);
    db.exec(edit);
    db.close();
    t.is(
      code(t, () => openTrustStore(file, { readonly: true })),
      'STORE_TAMPERED',
    );
  });
}

test('witnesses: added once by name and by key, windows checked, policies name known witnesses only', (t) => {
  const file = tempStorePath('witness');
  const s = openTrustStore(file, { create: true, now: NOW });
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  const log = trustMaterialFromStore(s).tlogs[0]!;
  const w1Key = newWitnessKey();
  const v = vkey('w1', w1Key);
  addWitness(s, { keyText: v, validFrom: NOW - DAY, validUntil: NOW + DAY, source: 'test' }, CTX);
  t.is(
    code(t, () => addWitness(s, { keyText: v, validFrom: 0, source: 'test' }, CTX)),
    'WITNESS_INVALID',
  );
  // The name again with another key, and the key again under another name: each named.
  const again = (keyText: string) =>
    t.throws(() => addWitness(s, { keyText, validFrom: 0, source: 'test' }, CTX), {
      instanceOf: StellaError,
    }).message;
  t.is(again(vkey('w1')), 'a witness named "w1" is already in the store');
  t.regex(
    again(vkey('w1-renamed', w1Key)),
    /^this key is already in the store as witness "w1": one key is one witness/,
  );
  t.is(
    code(t, () =>
      addWitness(
        s,
        { keyText: vkey('w2'), validFrom: NOW, validUntil: NOW - 1, source: 'test' },
        CTX,
      ),
    ),
    'WITNESS_INVALID',
  );
  // An end equal to the start is refused too: the window must end after it starts.
  t.throws(
    () =>
      addWitness(s, { keyText: vkey('w2'), validFrom: NOW, validUntil: NOW, source: 'test' }, CTX),
    { instanceOf: StellaError, message: 'witness w2: --valid-until must be after --valid-from' },
  );
  t.is(
    code(t, () => setWitnessPolicy(s, { log, threshold: 1, witnesses: ['nobody'] }, CTX)),
    'WITNESS_INVALID',
  );
  t.is(
    code(t, () => setWitnessPolicy(s, { log, threshold: 2, witnesses: ['w1'] }, CTX)),
    'WITNESS_INVALID',
  );
  // A threshold that is not a whole number from 0 up is refused with the range it must be in.
  for (const threshold of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY])
    t.throws(() => setWitnessPolicy(s, { log, threshold, witnesses: ['w1'] }, CTX), {
      instanceOf: StellaError,
      message: '--threshold must be 0..1 (the number of --witness names)',
    });
  t.like(setWitnessPolicy(s, { log, threshold: 1, witnesses: ['w1'] }, CTX), {
    threshold: 1,
    witnesses: ['w1'],
  });
  const l = listWitnesses(s);
  t.deepEqual(
    l.witnesses.map((w) => [w.name, w.vkey]),
    [['w1', v]],
  );
  t.is(l.policies.length, 1);
  const policyRecords = () => history(s).filter((h) => h.action === 'witness-policy').length;
  t.is(policyRecords(), 1);
  t.is(setWitnessPolicy(s, { log, threshold: 0, witnesses: [] }, CTX), null);
  t.is(listWitnesses(s).policies.length, 0);
  t.is(policyRecords(), 2, 'the policy removed is a change in the history');
  // Removing a policy the log does not have changes nothing, and the history says nothing.
  t.is(setWitnessPolicy(s, { log, threshold: 0, witnesses: [] }, CTX), null);
  t.is(policyRecords(), 2);
  s.close();
});

test('a witness policy whose stored witness list is not a list of names is STORE_CORRUPT, even under a valid seal', (t) => {
  const file = tempStorePath('policy-list');
  const s = openTrustStore(file, { create: true, now: NOW });
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  const log = trustMaterialFromStore(s).tlogs[0]!;
  addWitness(s, { keyText: vkey('w1'), validFrom: 0, source: 'test' }, CTX);
  setWitnessPolicy(s, { log, threshold: 1, witnesses: ['w1'] }, CTX);
  // Written through Stella's own transaction, so the seal holds and the list itself is judged.
  const storeList = (stored: string) =>
    writeTransaction(s, CTX, (tx) => {
      tx.db.prepare('UPDATE witness_policies SET witnesses = ?').run(stored);
      tx.record('witness-policy', {});
    });
  for (const [stored, why] of [
    ['w1', /its witness list is not JSON$/],
    ['{"0":"w1"}', /its witness list is not a list of names$/],
    ['[1]', /its witness list is not a list of names$/],
    ['["w1",null]', /its witness list is not a list of names$/],
  ] as const) {
    storeList(stored);
    const e = t.throws(() => listCheckpoints(s), { instanceOf: StellaError }) as StellaError;
    t.is(e.code, 'STORE_CORRUPT', stored);
    t.regex(e.message, why, stored);
  }
  storeList('["w1"]');
  t.notThrows(() => listCheckpoints(s));
  s.close();
});

test('a checkpoint seen again keeps what it had: proven stays proven since it first was, latest stays latest; a log with only a witness policy is listed with no checkpoints', (t) => {
  const file = tempStorePath('merge');
  const s = openTrustStore(file, { create: true, now: NOW });
  importFile(s, { path: 'pg.json', bytes: PUBLIC_GOOD }, {}, CTX);
  const [one, two] = syntheticCheckpoints(2).map((c) => ({ ...c, proven: false }));
  const write = (at: number, cs: HeldCheckpoint[]) =>
    writeTransaction(s, { now: at, command: 'stella test' }, (tx) =>
      writeCheckpoints(tx, CHILD_LOG, cs, `at ${at}`),
    );
  const stored = () =>
    Object.fromEntries(
      listCheckpoints(s)
        .logs.find((l) => l.logId === '5a'.repeat(32))!
        .checkpoints.map((c) => [c.treeSize, [c.status, c.latest, c.provenAt]]),
    );
  // Size 1 proven and latest; size 2 neither.
  write(NOW, [
    { ...one!, proven: true, latest: true },
    { ...two!, latest: false },
  ]);
  const provenAt = new Date(NOW).toISOString();
  t.deepEqual(stored(), { 1: ['proven', true, provenAt], 2: ['unproven', false, null] });
  // Seen again later, neither proven nor latest: size 1 keeps both, and when it was proven.
  write(NOW + DAY, [{ ...one!, latest: false }]);
  t.deepEqual(stored()[1], ['proven', true, provenAt]);
  // Size 2 seen again, now proven and latest: it gains both, proven now.
  write(NOW + 2 * DAY, [{ ...two!, proven: true, latest: true }]);
  t.deepEqual(stored()[2], ['proven', true, new Date(NOW + 2 * DAY).toISOString()]);
  // The same size with another root is never merged.
  t.throws(() => write(NOW + 3 * DAY, [{ ...two!, rootHash: '00'.repeat(32) }]), {
    message: /different root hash/,
  });

  // A witness policy for a log with no checkpoint held: listed, with none.
  const log = trustMaterialFromStore(s).tlogs[0]!;
  addWitness(s, { keyText: vkey('w1'), validFrom: 0, source: 'test' }, CTX);
  setWitnessPolicy(s, { log, threshold: 1, witnesses: ['w1'] }, CTX);
  const listed = listCheckpoints(s).logs.find((l) => l.logId === toHex(log.logId));
  t.truthy(listed, 'the policy-only log is listed');
  t.deepEqual(listed!.checkpoints, []);
  t.is(listed!.origin, '');
  t.is(listed!.logUrl, log.baseUrl);
  t.like(listed!.policy, { threshold: 1, witnesses: ['w1'] });
  s.close();
});
