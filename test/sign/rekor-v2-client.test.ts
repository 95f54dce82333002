/**
 * The Rekor v2 client's reading of what a log answers to an upload (`uploadEntryV2`), against
 * a loopback server that answers as told: which answers are refusals, and how each is worded.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import {
  checkLogEntryV2,
  uploadEntryV2,
  type CreateEntryRequestV2,
} from '../../src/sign/rekor-v2-client.js';
import { parseTransparencyLogEntryJson } from '../../src/bundle/parse.js';
import { readServiceJson } from '../../src/sign/http.js';
import { utf8 } from '../../src/util/encoding.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import { rekorV2AnswerSetup } from '../fuzz/rekor-answer.js';
import { serve } from '../helpers/loopback.js';

/** What is sent does not matter here: the server answers the same whatever it gets. */
const REQUEST = {} as CreateEntryRequestV2;
const POLICY = { timeoutMs: 5000, retries: 0 };

/** A log that answers every upload 201 with `body` (JSON text). */
const logAnswering = (t: import('ava').ExecutionContext, body: () => string) =>
  serve(t, (_req, res) => {
    res.writeHead(201, { 'content-type': 'application/json' }).end(body());
  });

test('an answer that is not a JSON object (a string, null, an array, a number) is REKOR_REJECTED as such', async (t) => {
  let answer = '';
  const url = await logAnswering(t, () => answer);
  for (const body of ['"entry"', 'null', '[{}]', '7']) {
    answer = body;
    const e = await t.throwsAsync(uploadEntryV2(url, REQUEST, POLICY), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'REKOR_REJECTED', body);
    t.is(
      e.message,
      `Rekor proof missing: Rekor v2 at ${url} answered with something that is not a JSON object`,
      body,
    );
  }
});

test('an entry without its inclusion proof is REKOR_PROOF_MISSING; a malformed one REKOR_REJECTED; each says "Rekor proof missing" once', async (t) => {
  const entry = {
    logIndex: '3',
    logId: { keyId: Buffer.alloc(32, 1).toString('base64') },
    kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
    canonicalizedBody: Buffer.from('{}').toString('base64'),
  };
  let answer: object = entry;
  const url = await logAnswering(t, () => JSON.stringify(answer));
  const missing = await t.throwsAsync(uploadEntryV2(url, REQUEST, POLICY), {
    instanceOf: StellaError,
  });
  t.is(missing.code, 'REKOR_PROOF_MISSING');
  t.regex(
    missing.message,
    new RegExp(`^Rekor v2 at ${url}: Rekor proof missing: .*inclusionProof`),
  );
  t.is(missing.message.split('Rekor proof missing').length, 2);

  answer = { ...entry, logIndex: 'three' };
  const malformed = await t.throwsAsync(uploadEntryV2(url, REQUEST, POLICY), {
    instanceOf: StellaError,
  });
  t.is(malformed.code, 'REKOR_REJECTED');
  t.regex(malformed.message, new RegExp(`^Rekor proof missing: Rekor v2 at ${url}: .*logIndex`));
  t.is(malformed.message.split('Rekor proof missing').length, 2);
  t.true(malformed.cause instanceof StellaError, 'the parse error is kept as the cause');
});

test("checkLogEntryV2: a fault while checking (not a refusal: the trust's own code throwing) reaches the caller as it was thrown, never as the log's REKOR_REJECTED", (t) => {
  const setup = rekorV2AnswerSetup();
  const s = setup.seeds[0]!;
  const input = (trust: TrustMaterial) => ({
    url: setup.url,
    content: s.content,
    leaf: s.leaf,
    artifactDigest: (alg: string) => (alg === 'SHA2_256' ? s.artifactDigest : undefined),
    trust,
    times: [s.tsaTime],
  });
  const entry = () =>
    parseTransparencyLogEntryJson(readServiceJson(utf8.encode(JSON.stringify(s.answer))), 'answer');
  t.notThrows(() => checkLogEntryV2(entry(), input(setup.trust)));
  const faulty = {
    ...setup.trust,
    get tlogs(): never {
      throw new TypeError('the trust could not list its logs');
    },
  };
  t.throws(() => checkLogEntryV2(entry(), input(faulty)), {
    instanceOf: TypeError,
    message: 'the trust could not list its logs',
  });
});
