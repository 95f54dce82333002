/**
 * The Rekor v1 client's reading of answers: the entry map's shape and its UUID, and a 409's
 * Location, against a loopback server that answers as told.
 */
import test from 'ava';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StellaError } from '../../src/errors.js';
import {
  ENTRY_UUID,
  hashedRekordProposal,
  parseEntryResponse,
  uploadEntry,
} from '../../src/sign/rekor-client.js';

const LEAF = 'ab'.repeat(32);
const ENTRY = { body: 'e30=', integratedTime: 1, logID: 'cd'.repeat(32), logIndex: 0 };

test('ENTRY_UUID: the leaf hash, after a 16-digit tree ID on sharded logs; lower-case hex only', (t) => {
  t.true(ENTRY_UUID.test(LEAF));
  t.true(ENTRY_UUID.test(`24296fb24b8ad77a${LEAF}`));
  for (const bad of [
    LEAF.toUpperCase(),
    LEAF.slice(1),
    `0${LEAF}`,
    `24296fb24b8ad77${LEAF}`,
    `${LEAF}\n`,
    `../${LEAF}`,
    '',
  ])
    t.false(ENTRY_UUID.test(bad), bad);
});

test('parseEntryResponse: one entry, keyed by an entry UUID, its fields typed', (t) => {
  t.deepEqual(parseEntryResponse({ [LEAF]: ENTRY }), { uuid: LEAF, entry: ENTRY });
  const refused = (body: unknown, why: RegExp): void => {
    const e = t.throws(() => parseEntryResponse(body), { instanceOf: StellaError });
    t.is(e.code, 'REKOR_REJECTED');
    t.regex(e.message, why);
  };
  refused({ [`${LEAF}?x=1`]: ENTRY }, /UUID ".*\?x=1" is not a Rekor entry UUID/);
  refused({ '../../metrics': ENTRY }, /is not a Rekor entry UUID/);
  refused({ [LEAF]: ENTRY, [`00${LEAF.slice(2)}`]: ENTRY }, /expected one entry .* got 2/);
  refused([ENTRY], /not a JSON object/);
  refused({ [LEAF]: { ...ENTRY, logIndex: -1 } }, /malformed/);
  refused({ [LEAF]: { ...ENTRY, logID: 'CD'.repeat(32) } }, /malformed/);
  // Each field on its own: missing, or of another type.
  for (const field of ['body', 'integratedTime', 'logID', 'logIndex'] as const) {
    const without = Object.fromEntries(Object.entries(ENTRY).filter(([k]) => k !== field));
    refused({ [LEAF]: without }, new RegExp(`entry ${LEAF} is malformed$`));
    refused(
      { [LEAF]: { ...ENTRY, [field]: field === 'body' || field === 'logID' ? 1 : '1' } },
      /malformed/,
    );
  }
  refused({ [LEAF]: { ...ENTRY, logIndex: 2 ** 53 } }, /malformed/);
  refused({ [LEAF]: null }, /malformed/);
  const proof = { logIndex: 0, treeSize: 1, rootHash: LEAF, hashes: [] as unknown[] };
  const withProof = (p: object) => ({ [LEAF]: { ...ENTRY, verification: { inclusionProof: p } } });
  t.notThrows(() => parseEntryResponse(withProof({ ...proof, hashes: [LEAF] })));
  for (const hashes of [['zz'], [LEAF.toUpperCase()], [LEAF.slice(2)], [7], 'x'])
    refused(withProof({ ...proof, hashes }), /malformed inclusion proof/);
  refused(withProof({ ...proof, rootHash: 'x' }), /malformed inclusion proof/);
  refused(withProof({ ...proof, treeSize: '1' }), /malformed inclusion proof/);
  // A null proof or verification is an absent one (uploadEntry then asks for the entry again,
  // and refuses it as REKOR_PROOF_MISSING if it still has none), not a TypeError: found by the
  // rekor-answer fuzz target, where `attest sign` exited 1 on such an answer.
  t.notThrows(() => parseEntryResponse(withProof(null as unknown as object)));
  t.notThrows(() => parseEntryResponse({ [LEAF]: { ...ENTRY, verification: null } }));
});

test('a 409 whose Location does not end in an entry UUID is refused without a second request', async (t) => {
  const requests: string[] = [];
  let answer: (res: ServerResponse) => void = () => undefined;
  const s = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => s.close());
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const proposal = hashedRekordProposal(LEAF, new Uint8Array([1]), 'PEM');
  for (const location of [`/api/v1/log/entries/${LEAF}x`, `/api/v1/log/entries/${LEAF.slice(2)}`]) {
    requests.length = 0;
    answer = (res) => res.writeHead(409, { location }).end('{"message":"exists"}');
    const e = await t.throwsAsync(uploadEntry(url, proposal, { timeoutMs: 5000, retries: 0 }), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'REKOR_REJECTED');
    t.regex(e.message, /entry already exists but Rekor gave no usable location/);
    t.deepEqual(requests, ['POST /api/v1/log/entries']);
  }
  // A usable one is fetched.
  requests.length = 0;
  answer = (res) =>
    requests.length === 1
      ? res.writeHead(409, { location: `/api/v1/log/entries/${LEAF}` }).end('{}')
      : res.writeHead(404).end('{"message":"gone"}');
  const e = await t.throwsAsync(uploadEntry(url, proposal, { timeoutMs: 5000, retries: 0 }), {
    instanceOf: StellaError,
  });
  t.is(e.code, 'REKOR_PROOF_MISSING', 'the log says it has the entry, then cannot show it');
  t.regex(e.message, /cannot fetch entry [0-9a-f]{64}: HTTP 404: gone/);
  t.deepEqual(requests, ['POST /api/v1/log/entries', `GET /api/v1/log/entries/${LEAF}`]);
  // The log failing on the second request is unavailable, not missing a proof.
  requests.length = 0;
  answer = (res) =>
    requests.length === 1
      ? res.writeHead(409, { location: `/api/v1/log/entries/${LEAF}` }).end('{}')
      : res.writeHead(503).end('{"message":"busy"}');
  const busy = await t.throwsAsync(uploadEntry(url, proposal, { timeoutMs: 5000, retries: 0 }), {
    instanceOf: StellaError,
  });
  t.is(busy.code, 'REKOR_UNAVAILABLE');
  t.regex(busy.message, /cannot fetch entry [0-9a-f]{64}: HTTP 503: busy/);
  // So is a log that throttles the second request: 429 is not a missing proof either.
  requests.length = 0;
  answer = (res) =>
    requests.length === 1
      ? res.writeHead(409, { location: `/api/v1/log/entries/${LEAF}` }).end('{}')
      : res.writeHead(429).end('{"message":"slow down"}');
  const throttled = await t.throwsAsync(
    uploadEntry(url, proposal, { timeoutMs: 5000, retries: 0 }),
    { instanceOf: StellaError },
  );
  t.is(throttled.code, 'REKOR_UNAVAILABLE');
  t.regex(throttled.message, /cannot fetch entry [0-9a-f]{64}: HTTP 429: slow down/);
});

test('POST answers by status: 503, 429 and 408 retried then REKOR_UNAVAILABLE; 400 REKOR_REJECTED at once', async (t) => {
  let status = 503;
  let hits = 0;
  const s = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.writeHead(status).end('{"message":"not now"}'));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => s.close());
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const proposal = hashedRekordProposal(LEAF, new Uint8Array([1]), 'PEM');
  const policy = { timeoutMs: 5000, retries: 1, backoffMs: () => 1 };
  for (const busy of [503, 429, 408]) {
    status = busy;
    hits = 0;
    const e = await t.throwsAsync(uploadEntry(url, proposal, policy), { instanceOf: StellaError });
    t.is(e.code, 'REKOR_UNAVAILABLE', `${busy}: ${e.message}`);
    t.regex(e.message, new RegExp(`Rekor unavailable at .*: HTTP ${busy}: not now`));
    t.is(hits, 2, `${busy}: tried again once`);
  }
  status = 400;
  hits = 0;
  const e = await t.throwsAsync(uploadEntry(url, proposal, policy), { instanceOf: StellaError });
  t.is(e.code, 'REKOR_REJECTED');
  t.regex(e.message, /Rekor refused the entry: HTTP 400: not now/);
  t.is(hits, 1);
});

for (const [what, inclusionProof] of [
  ['is null', null],
  // An empty checkpoint is no checkpoint (stop61c survivor rekor-client.ts 168).
  [
    'has an empty checkpoint',
    { logIndex: 0, treeSize: 1, rootHash: LEAF, hashes: [], checkpoint: '' },
  ],
] as const)
  test(`an answer whose inclusion proof ${what} is asked for again, then refused as REKOR_PROOF_MISSING (not a TypeError, exit 1)`, async (t) => {
    const requests: string[] = [];
    const answer = {
      [LEAF]: { ...ENTRY, verification: { inclusionProof, signedEntryTimestamp: 'c2V0' } },
    };
    const s = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () =>
        res
          .writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' })
          .end(JSON.stringify(answer)),
      );
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    t.teardown(() => s.close());
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const proposal = hashedRekordProposal(LEAF, new Uint8Array([1]), 'PEM');
    const e = await t.throwsAsync(uploadEntry(url, proposal, { timeoutMs: 5000, retries: 0 }), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'REKOR_PROOF_MISSING', e.message);
    t.is(e.message, `Rekor proof missing: entry ${LEAF} has no inclusion proof with a checkpoint`);
    t.deepEqual(requests, ['POST /api/v1/log/entries', `GET /api/v1/log/entries/${LEAF}`]);
  });
