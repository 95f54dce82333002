/**
 * The sandbox TSA's tokens and sigstore-js (src/der/octet-reparse.ts): a token whose bytes
 * @sigstore/core would misread is drawn again with another serial. The serial below was found
 * by counting serials up from 0 for this key, time and request: its token is misread (the
 * signed attributes' digest of the TSTInfo reads as ASN.1 with a non-minimal length).
 */
import test from 'ava';
import { RFC3161Timestamp } from '@sigstore/core';
import { sha256 } from '../../../src/crypto.js';
import { sigstoreJsRewrites } from '../../../src/der/octet-reparse.js';
import { deriveV2AuthorityKeys } from '../../../src/sandbox/authority/keys-v2.js';
import { seedFromString } from '../../../src/sandbox/authority/keys.js';
import { LocalTsa } from '../../../src/sandbox/authority/tsa.js';
import { verifyRfc3161Timestamp } from '../../../src/timestamp/rfc3161.js';
import { encodeTimeStampReq, parseTimeStampResp } from '../../../src/timestamp/request.js';
import { utf8 } from '../../../src/util/encoding.js';
import { CREATED_AT, NOW } from './helpers.js';

const keys = deriveV2AuthorityKeys(seedFromString('tsa serial tests'));
const SIGNATURE = utf8.encode('a bundle signature');
const REQUEST = encodeTimeStampReq({ hash: 'sha256', digest: sha256(SIGNATURE), certReq: false });
const MISREAD_SERIAL = 12664;

/** A TSA drawing its serials' random bytes from `serials` (the number in the last 4 bytes). */
function tsaDrawing(serials: () => number): { tsa: LocalTsa; drawn: number[] } {
  const drawn: number[] = [];
  const tsa = new LocalTsa({
    rootKey: keys.tsaRoot,
    signerKey: keys.tsaSigner,
    createdAt: CREATED_AT,
    url: 'https://tsa.test.invalid/api/v1/timestamp',
    serialBytes: () => {
      const n = serials();
      drawn.push(n);
      const b = new Uint8Array(16);
      new DataView(b.buffer).setUint32(12, n);
      return b;
    },
  });
  return { tsa, drawn };
}

/** The TimeStampResp (what a bundle carries as `signedTimestamp`) and the token in it. */
function stamp(tsa: LocalTsa): { response: Uint8Array; token: Uint8Array } {
  const { response } = tsa.answerDer(REQUEST, NOW);
  return { response, token: parseTimeStampResp(response).token! };
}

/** What @sigstore/verify does with a bundle's `signedTimestamp`: throws when it refuses it. */
function peerVerify(response: Uint8Array): void {
  RFC3161Timestamp.parse(Buffer.from(response)).verify(
    Buffer.from(SIGNATURE),
    keys.tsaSigner.keyObject,
  );
}

test('a serial whose token @sigstore/core would misread is drawn again; the next token both verifiers accept', (t) => {
  let next = MISREAD_SERIAL;
  const { tsa, drawn } = tsaDrawing(() => next++);
  const { response, token } = stamp(tsa);
  t.deepEqual(drawn, [MISREAD_SERIAL, MISREAD_SERIAL + 1]);
  t.false(sigstoreJsRewrites(token));
  t.notThrows(() => verifyRfc3161Timestamp(response, SIGNATURE, [tsa.authority()]));
  t.notThrows(() => peerVerify(response));
});

test('the misread token itself (drawn four times, then given): Stella accepts it, @sigstore/core refuses its valid signature', (t) => {
  const { tsa, drawn } = tsaDrawing(() => MISREAD_SERIAL);
  const { response, token } = stamp(tsa);
  t.is(drawn.length, 4, 'four tries, then the token is given as it is');
  t.true(sigstoreJsRewrites(token));
  t.notThrows(() => verifyRfc3161Timestamp(response, SIGNATURE, [tsa.authority()]));
  t.throws(() => peerVerify(response), {
    message: /signed data does not match tstInfo|signature verification failed/,
  });
});

test('an ordinary serial: drawn once', (t) => {
  const { tsa, drawn } = tsaDrawing(() => 1);
  t.notThrows(() => peerVerify(stamp(tsa).response));
  t.deepEqual(drawn, [1]);
});

test('a fault inside the TSA (its serial source throws) is thrown, never answered as a refusal of the request', (t) => {
  const { tsa } = tsaDrawing(() => {
    throw new RangeError('no entropy');
  });
  t.throws(() => tsa.answerDer(REQUEST, NOW), { instanceOf: RangeError, message: 'no entropy' });
  // A request it does refuse is still answered, before any serial is drawn.
  const refused = tsa.answerDer(REQUEST, CREATED_AT - 1);
  t.is(refused.httpStatus, 400);
  t.is(parseTimeStampResp(refused.response).token, undefined);
});
