/**
 * `stella trust history` for people: each kind of change shows the details that say what
 * happened (a checkpoint its log, size and status), a source file with or without its digest,
 * and no trailing blanks. The JSON form carries every field and is tested with the commands.
 */
import test from 'ava';
import { historyText } from '../../../src/commands/trust/history.js';
import type { HistoryItem } from '../../../src/trust/store/operations.js';

const AT = '2026-12-07T02:23:08.990Z';
const row = (o: Partial<HistoryItem>): HistoryItem => ({
  id: 1,
  at: AT,
  action: 'create',
  entryId: null,
  detail: {},
  sourceFile: null,
  sourceSha256: null,
  command: 'stella trust init',
  hash: '00',
  ...o,
});

test('a checkpoint row names its log, tree size and status, and its bundle without a digest it never had', (t) => {
  const text = historyText(
    row({
      action: 'checkpoint',
      detail: {
        latest: false,
        log: 'https://rekor.example',
        origin: 'rekor.example - 1',
        rootHash: 'd2'.repeat(32),
        status: 'proven',
        treeSize: 10,
      },
      sourceFile: 'f.att.json',
      command: 'stella attest verify f.txt --bundle f.att.json',
    }),
  );
  t.is(
    text,
    `${AT} checkpoint    log=https://rekor.example treeSize=10 status=proven latest=false from f.att.json\n    by: stella attest verify f.txt --bundle f.att.json\n`,
  );
  t.false(text.includes('undefined'));
});

test('an entry row: its id, kind and subject, and the file it came from with the start of its digest', (t) => {
  t.is(
    historyText(
      row({
        action: 'add',
        entryId: 3,
        detail: { kind: 'tlog', subject: 'https://rekor.example', fingerprint: 'ab' },
        sourceFile: 'trusted_root.json',
        sourceSha256: '45a67812c9991f68' + '0'.repeat(48),
        command: 'stella trust import trusted_root.json',
      }),
    ),
    `${AT} add           #3 kind=tlog subject=https://rekor.example from trusted_root.json (sha256 45a67812c9991f68…)\n    by: stella trust import trusted_root.json\n`,
  );
  t.is(
    historyText(
      row({
        action: 'retire',
        entryId: 1,
        detail: { kind: 'ca', fingerprint: 'ab', at: AT, previousEnd: null },
        command: 'stella trust retire 1',
      }),
    ).split('\n')[0],
    `${AT} retire        #1 kind=ca at=${AT} previousEnd=null`,
  );
});

test('a row with no details ends at its action, without trailing blanks', (t) => {
  t.is(historyText(row({})), `${AT} create\n    by: stella trust init\n`);
});

test('split views, witnesses and exporters show what was caught or added', (t) => {
  const first = (o: Partial<HistoryItem>) => historyText(row(o)).split('\n')[0];
  t.is(
    first({
      action: 'split-view',
      detail: {
        code: 'SPLIT_VIEW_DETECTED',
        origin: 'rekor.example - 1',
        heldTreeSize: 8,
        presentedTreeSize: 8,
        reason: 'same size, other root',
      },
      sourceFile: 'x.tar',
    }),
    `${AT} split-view    code=SPLIT_VIEW_DETECTED origin=rekor.example - 1 heldTreeSize=8 presentedTreeSize=8 reason=same size, other root from x.tar`,
  );
  t.is(
    first({
      action: 'witness-policy',
      detail: { log: 'https://rekor.example', threshold: 2, witnesses: ['w1', 'w2'] },
    }),
    `${AT} witness-policy log=https://rekor.example threshold=2 witnesses=["w1","w2"]`,
  );
  t.is(
    first({
      action: 'exporter-add',
      detail: { identity: 'https://ci.example/ship', issuer: 'https://issuer.example' },
    }),
    `${AT} exporter-add  identity=https://ci.example/ship issuer=https://issuer.example`,
  );
});

test('a value from a file cannot clear the terminal or start a line of its own', (t) => {
  const text = historyText(
    row({ action: 'add', entryId: 2, detail: { kind: 'ca', subject: 'CN=a\u001b[2Jcleared\nx' } }),
  );
  t.false(text.includes('\u001b'));
  t.is(text.split('\n').length, 3, 'two lines and the final newline');
});
