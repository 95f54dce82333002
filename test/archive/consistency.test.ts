/**
 * consistency.json read from an archive (untrusted until its checkpoint and proofs verify, in
 * ../trust/store/consistency.ts): every field's rule refused by name, and the canonical form
 * it is written in read back to the same value.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import {
  CONSISTENCY_LIMITS,
  CONSISTENCY_MEDIA_TYPE,
  parseShipmentConsistency,
  serializeShipmentConsistency,
  type ShipmentConsistency,
} from '../../src/archive/consistency.js';
import { utf8 } from '../../src/util/encoding.js';

const HEX = (c: string): string => c.repeat(64);
const GOOD: ShipmentConsistency = {
  logs: [
    {
      logId: HEX('b'),
      baseUrl: 'https://rekor.example',
      rekor: 'v2',
      checkpoint: 'rekor.example\n9\nAAAA\n\n— rekor.example sig\n',
      proofs: [{ fromSize: 5, fromRootHash: HEX('c'), hashes: [HEX('d'), HEX('e')] }],
    },
    {
      logId: HEX('a'),
      baseUrl: 'https://rekor.sigstore.dev',
      rekor: 'v1',
      checkpoint: 'rekor.sigstore.dev - 1\n7\nAAAA\n\n— rekor.sigstore.dev sig\n',
      proofs: [],
    },
  ],
};

type Doc = { mediaType: unknown; logs: Record<string, unknown>[] };
const doc = (): Doc =>
  JSON.parse(new TextDecoder().decode(serializeShipmentConsistency(GOOD))) as Doc;
const bytesOf = (d: unknown): Uint8Array => utf8.encode(JSON.stringify(d));

test('what export writes reads back: the logs sorted by id, the proofs by size', (t) => {
  const read = parseShipmentConsistency(serializeShipmentConsistency(GOOD));
  t.deepEqual(
    read.logs.map((l) => l.logId),
    [HEX('a'), HEX('b')],
  );
  t.deepEqual(read.logs[1], GOOD.logs[0]);
  t.deepEqual(read.logs[0], GOOD.logs[1]);
});

test('every rule is refused by name, as CONSISTENCY_PROOF_INVALID', (t) => {
  const cases: [string, (d: Doc) => unknown, RegExp][] = [
    ['another media type', (d) => ({ ...d, mediaType: 'application/json' }), /mediaType: expected/],
    [
      'a log id that is not hex',
      (d) => set(d, 0, { logId: 'X'.repeat(64) }),
      /logs\[0\]\.logId: expected 64 lower-case hex/,
    ],
    ['an upper-case log id', (d) => set(d, 0, { logId: HEX('A') }), /logs\[0\]\.logId/],
    ['a short log id', (d) => set(d, 0, { logId: 'ab' }), /logs\[0\]\.logId/],
    ['Rekor v3', (d) => set(d, 1, { rekor: 'v3' }), /logs\[1\]\.rekor: expected "v1" or "v2"/],
    ['an empty checkpoint', (d) => set(d, 0, { checkpoint: '' }), /logs\[0\]\.checkpoint/],
    ['an empty base URL', (d) => set(d, 0, { baseUrl: '' }), /logs\[0\]\.baseUrl/],
    [
      'a proof root that is not hex',
      (d) => set(d, 1, { proofs: [{ fromSize: 5, fromRootHash: 'zz', hashes: [] }] }),
      /logs\[1\]\.proofs\[0\]\.fromRootHash/,
    ],
    [
      'a proof hash that is not hex',
      (d) => set(d, 1, { proofs: [{ fromSize: 5, fromRootHash: HEX('c'), hashes: ['x'] }] }),
      /logs\[1\]\.proofs\[0\]\.hashes\[0\]/,
    ],
    [
      'a negative size',
      (d) => set(d, 1, { proofs: [{ fromSize: -1, fromRootHash: HEX('c'), hashes: [] }] }),
      /fromSize/,
    ],
    [
      'the same log twice',
      (d) => ({ ...d, logs: [d.logs[0], { ...d.logs[1], logId: d.logs[0]!.logId }] }),
      /listed twice/,
    ],
    ['a log missing its proofs', (d) => set(d, 0, { proofs: undefined }), /proofs/],
  ];
  for (const [what, change, re] of cases) {
    const e = t.throws(
      () => parseShipmentConsistency(bytesOf(change(doc()))),
      {
        instanceOf: StellaError,
      },
      what,
    );
    t.is(e?.code, 'CONSISTENCY_PROOF_INVALID', what);
    t.regex(e?.message ?? '', re, what);
  }
});

test('more logs or hashes than the limits are refused as too large; at the limit they read', (t) => {
  const log = doc().logs[0]!;
  const many = (n: number): unknown[] => Array.from({ length: n }, () => HEX('d'));
  const cases: [string, unknown][] = [
    [
      'logs',
      {
        ...doc(),
        logs: Array.from({ length: CONSISTENCY_LIMITS.maxLogs + 1 }, (_, i) => ({
          ...log,
          logId: i.toString(16).padStart(64, '0'),
        })),
      },
    ],
    [
      'hashes',
      {
        ...doc(),
        logs: [
          {
            ...log,
            proofs: [
              {
                fromSize: 1,
                fromRootHash: HEX('c'),
                hashes: many(CONSISTENCY_LIMITS.maxHashes + 1),
              },
            ],
          },
        ],
      },
    ],
  ];
  for (const [what, d] of cases) {
    const e = t.throws(
      () => parseShipmentConsistency(bytesOf(d)),
      { instanceOf: StellaError },
      what,
    );
    t.is(e?.code, 'ARCHIVE_LIMIT_EXCEEDED', what);
    t.regex(e?.message ?? '', /items exceeds the limit of 64/, what);
  }
  // At the limit it reads.
  const atLimit = {
    ...doc(),
    logs: [
      {
        ...log,
        proofs: [
          { fromSize: 1, fromRootHash: HEX('c'), hashes: many(CONSISTENCY_LIMITS.maxHashes) },
        ],
      },
    ],
  };
  t.is(
    parseShipmentConsistency(bytesOf(atLimit)).logs[0]!.proofs[0]!.hashes.length,
    CONSISTENCY_LIMITS.maxHashes,
  );
  t.is(doc().mediaType, CONSISTENCY_MEDIA_TYPE);
});

function set(d: Doc, i: number, over: Record<string, unknown>): Doc {
  const logs = d.logs.map((l, j) => (j === i ? { ...l, ...over } : l));
  return { ...d, logs };
}
