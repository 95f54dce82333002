/**
 * Exporters in the trust store (src/trust/store/exporters.ts): keys are one exporter each,
 * known by the SHA-256 of their SPKI; an identity is one exporter with its issuer. Adding one
 * twice is reported as a duplicate and changes nothing; a different one is added.
 */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore, writeTransaction } from '../../../src/trust/store/db.js';
import { setMeta } from '../../../src/trust/store/integrity.js';
import {
  addExporters,
  exporterTrustOf,
  listExporters,
} from '../../../src/trust/store/exporters.js';
import { CTX, tempStorePath } from './helpers.js';

const ec = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;

test('a second key is added; the same key again is a duplicate', (t) => {
  const store = openTrustStore(tempStorePath('exporters'), { create: true, now: CTX.now });
  const [a, b] = [ec(), ec()];
  const first = addExporters(store, [a], undefined, 'a.pem', CTX);
  t.is(first.added.length, 1);
  const second = addExporters(store, [b, a], undefined, 'b.pem', CTX);
  t.is(second.added.length, 1);
  t.deepEqual(second.duplicates, first.added);
  t.is(listExporters(store).length, 2);
});

test('an identity is the pair: the same identity with another issuer, or another identity, is added', (t) => {
  const store = openTrustStore(tempStorePath('exporters'), { create: true, now: CTX.now });
  const id = {
    identity: 'https://github.com/org/repo/.github/workflows/export.yml@refs/heads/main',
    issuer: 'https://token.actions.githubusercontent.com',
  };
  t.is(addExporters(store, [], id, 'cli', CTX).added.length, 1);
  t.deepEqual(addExporters(store, [], id, 'cli', CTX).duplicates, [
    `${id.identity} (${id.issuer})`,
  ]);
  t.is(
    addExporters(store, [], { ...id, issuer: 'https://gitlab.com' }, 'cli', CTX).added.length,
    1,
  );
  t.is(addExporters(store, [], { ...id, identity: `${id.identity}x` }, 'cli', CTX).added.length, 1);
  t.is(listExporters(store).length, 3);
  // What a seal check trusts: the three identities, and no key among them.
  addExporters(store, [ec()], undefined, 'k.pem', CTX);
  const trusted = exporterTrustOf(listExporters(store));
  t.is(trusted.keys.length, 1);
  t.deepEqual(
    trusted.identities.map((i) => i.issuer).sort(),
    [id.issuer, id.issuer, 'https://gitlab.com'].sort(),
  );
});

test('exporter keys must be ECDSA', (t) => {
  const store = openTrustStore(tempStorePath('exporters'), { create: true, now: CTX.now });
  const e = t.throws(
    () => addExporters(store, [generateKeyPairSync('ed25519').publicKey], undefined, 'ed.pem', CTX),
    { instanceOf: StellaError },
  );
  t.regex(e?.message ?? '', /exporter keys must be ECDSA/);
  t.is(listExporters(store).length, 0);
});

test('stored exporters that are not a list of exporter keys and identities are STORE_CORRUPT, even under a valid seal', (t) => {
  const store = openTrustStore(tempStorePath('exporters-corrupt'), { create: true, now: CTX.now });
  addExporters(
    store,
    [ec()],
    { identity: 'https://ci.example/x', issuer: 'https://idp.example' },
    'a.pem',
    CTX,
  );
  const good = listExporters(store);
  // Written through Stella's own transaction, so the seal holds and the list itself is judged.
  const storeList = (stored: unknown) =>
    writeTransaction(store, CTX, (tx) => {
      setMeta(tx.db, 'exporters', JSON.stringify(stored));
      tx.record('exporter-add', {});
    });
  const [key, identity] = [
    good.find((e) => e.kind === 'key')!,
    good.find((e) => e.kind === 'identity')!,
  ];
  for (const [stored, why] of [
    [{ 0: key }, /exporters: expected a list$/],
    [[key, null], /exporters: item 2 is not an exporter key or identity$/],
    [[{ ...key, kind: 'witness' }], /item 1 is not/],
    [[{ ...key, spki: 5 }], /item 1 is not/],
    [[{ ...identity, identity: undefined }], /item 1 is not/],
    [[{ ...identity, issuer: '' }], /item 1 is not/],
    [[{ ...identity, source: null }], /item 1 is not/],
  ] as const) {
    storeList(stored);
    const e = t.throws(() => listExporters(store), { instanceOf: StellaError }) as StellaError;
    t.is(e.code, 'STORE_CORRUPT', JSON.stringify(stored));
    t.regex(e.message, why, JSON.stringify(stored));
  }
  storeList(good);
  t.deepEqual(listExporters(store), good);
  store.close();
});
