/**
 * Times in the trust store (checklist H50): a time column is bounded when its row is read, so
 * a row holding an impossible time is a corrupt store (STORE_CORRUPT naming the row and
 * column), never a time that crashes `list`, `show`, `export` or `attest verify` later.
 * The tamper seal catches such an edit at open; these read paths must hold on their own.
 */
import test from 'ava';
import { StellaError } from '../../../src/errors.js';
import { openTrustStore, readSnapshot } from '../../../src/trust/store/db.js';
import {
  allEntryRows,
  authorityFromRow,
  entryFromRow,
  logFromRow,
  type EntryRow,
} from '../../../src/trust/store/entries.js';
import { importFile } from '../../../src/trust/store/operations.js';
import { publicGoodTrustedRootPath } from '../../../src/trust/public-good.js';
import { readFileSync } from 'node:fs';
import { CTX, NOW, tempStorePath } from './helpers.js';

function rows(): EntryRow[] {
  const store = openTrustStore(tempStorePath('time'), {
    create: true,
    now: NOW,
    command: 'stella test init',
  });
  try {
    importFile(
      store,
      {
        path: 'trusted_root.json',
        bytes: new Uint8Array(readFileSync(publicGoodTrustedRootPath())),
      },
      {},
      CTX,
    );
    return readSnapshot(store, (db) => allEntryRows(db));
  } finally {
    store.close();
  }
}

test('a stored time out of range is STORE_CORRUPT naming the row and column, on every read path', (t) => {
  const all = rows();
  const ca = all.find((r) => r.kind === 'ca')!;
  const log = all.find((r) => r.kind === 'tlog')!;
  t.notThrows(() => entryFromRow(ca));
  for (const [column, value] of [
    ['valid_from', 1e20],
    ['valid_from', -1],
    ['valid_until', 8.64e15 + 1],
    ['retired_at', 1.5],
    ['added_at', Number.MAX_SAFE_INTEGER],
  ] as const) {
    for (const [what, read, row] of [
      ['entryFromRow', entryFromRow, ca],
      ['authorityFromRow', authorityFromRow, ca],
      ['logFromRow', logFromRow, log],
    ] as const) {
      const bad = { ...row, [column]: value };
      const e = t.throws(
        () => (read as (r: EntryRow) => unknown)(bad),
        { instanceOf: StellaError },
        `${what} ${column}=${value}`,
      ) as StellaError;
      t.is(e.code, 'STORE_CORRUPT');
      t.regex(
        e.message,
        new RegExp(`^trust store entry ${row.id} ${column}: .* is not a time in range`),
      );
    }
  }
});
