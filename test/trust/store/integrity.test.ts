/**
 * The trust store's seal (src/trust/store/integrity.ts): a digest over every sealed row in a
 * canonical form. Every store on disk carries one, checked at each open, so the form is a file
 * format: a change to it, however harmless it looks, makes every existing store fail its
 * integrity check. This pins it to a known value for a store made deterministically.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { initStore } from '../../../src/trust/store/init.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { importFile } from '../../../src/trust/store/operations.js';
import { computeStateDigest } from '../../../src/trust/store/integrity.js';
import { SAMPLES } from '../../helpers/samples.js';
import { CTX, tempStorePath } from './helpers.js';

test("the seal's canonical form is stable: a known store has a known state digest", (t) => {
  const file = tempStorePath('integrity');
  initStore(file, {}, CTX);
  const store = openTrustStore(file);
  t.teardown(() => store.close());
  const bytes = new Uint8Array(readFileSync(path.join(SAMPLES, 'trusted_root.json')));
  importFile(store, { path: 'trusted_root.json', bytes }, {}, CTX);
  const stored = store.db
    .prepare("SELECT value FROM meta WHERE key = 'state_digest'")
    .pluck()
    .get() as string;
  t.is(computeStateDigest(store.db), stored);
  // Rows of text, integers, blobs and NULLs (entries, history), in schema 3. If this changes,
  // existing stores no longer open: change it only together with a migration that reseals.
  t.is(stored, '6c175bf8be1c03fa9e94a53014b0cbf071a4cba479810b5757e295eb9a373bf7');
});
