/**
 * initStore: a refused init leaves no trace. Until stop 50 a threshold the rotation keys could
 * not meet was refused inside the write transaction, after the store had been created, so a
 * failed `trust init` left an empty store behind.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../../src/errors.js';
import { initStore } from '../../../src/trust/store/init.js';
import { history, openTrustStore } from '../../../src/trust/store/index.js';
import { CTX, rotationKeyPair, tempDir } from './helpers.js';

const KEYS = (() => {
  const [a, b] = [rotationKeyPair(), rotationKeyPair('ed25519')];
  return { path: 'keys.pem', bytes: new TextEncoder().encode(a.publicPem + b.publicPem) };
})();

/** Each refusal initStore can meet only once the store is open. */
const REFUSED = [
  { what: 'a threshold above the distinct keys', opts: { rotationKeys: KEYS, threshold: 3 } },
  { what: 'a threshold of 0', opts: { rotationKeys: KEYS, threshold: 0 } },
  { what: 'keys without a threshold', opts: { rotationKeys: KEYS } },
  {
    what: 'the public-good root with a bad threshold',
    opts: { withPublicGood: true, rotationKeys: KEYS, threshold: 5 },
  },
];

function refused(t: import('ava').ExecutionContext, fn: () => unknown, what: string): StellaError {
  const e = t.throws(fn, { instanceOf: StellaError }, what);
  t.is(e!.code, 'ROTATION_KEYS_INVALID', what);
  return e!;
}

test('a refused init at a missing path creates nothing: no store, no WAL or shared-memory file', (t) => {
  for (const { what, opts } of REFUSED) {
    const dir = tempDir('init-refused');
    const file = path.join(dir, 'trust.db');
    refused(t, () => initStore(file, opts, CTX), what);
    t.false(existsSync(file), what);
    t.deepEqual(readdirSync(dir), [], `${what}: the folder is as it was`);
    // The same init with a threshold the keys meet then creates the store.
    const ok = initStore(file, { rotationKeys: KEYS, threshold: 2 }, CTX);
    t.true(ok.created, what);
  }
});

test('a refused init on an empty file leaves it empty (init may make an empty file a store)', (t) => {
  const dir = tempDir('init-empty');
  const file = path.join(dir, 'trust.db');
  writeFileSync(file, '');
  refused(t, () => initStore(file, REFUSED[0]!.opts, CTX), REFUSED[0]!.what);
  t.is(readFileSync(file).length, 0);
  t.deepEqual(readdirSync(dir), ['trust.db']);
});

test('a refused init on an existing store keeps it, with its entries and history', (t) => {
  const dir = tempDir('init-existing');
  const file = path.join(dir, 'trust.db');
  initStore(file, { withPublicGood: true }, CTX);
  const historyOf = () => {
    const s = openTrustStore(file, { readonly: true });
    try {
      return history(s);
    } finally {
      s.close();
    }
  };
  const before = historyOf();
  for (const { what, opts } of REFUSED) {
    refused(t, () => initStore(file, opts, CTX), what);
    t.true(existsSync(file), what);
    t.deepEqual(historyOf(), before, what);
  }
});
