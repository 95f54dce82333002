/**
 * What `checkTimestamp` (src/sign/tsa-client.ts) makes of a TSA's answer before the bundle is
 * written: refusals name the TSA, and keep the error that caused them.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { checkTimestamp, requestTimestamp } from '../../src/sign/tsa-client.js';
import { parseTimeStampReq, parseTimeStampResp } from '../../src/timestamp/request.js';
import { parseTimeStampToken } from '../../src/timestamp/rfc3161.js';
import { servedTsa, signBlob, testAuthority, testTsa } from '../helpers/authority-bundles.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { utf8 } from '../../src/util/encoding.js';

const URL_ = 'http://127.0.0.1:1/api/v1/timestamp';
const trust = testAuthority('tsa-client').trustMaterial();
const signature = new Uint8Array([1, 2, 3]);

function refusal(response: Uint8Array): StellaError {
  try {
    checkTimestamp({ url: URL_, response, nonce: 1n }, signature, trust, undefined);
  } catch (e) {
    if (e instanceof StellaError) return e;
    throw e;
  }
  throw new Error('the answer was taken');
}

test('an answer that is not a TimeStampResp is TSA_REJECTED with the parse error as its cause; a tokenless one has no cause', (t) => {
  const garbage = refusal(new Uint8Array([0x30, 0x03, 0x02, 0x01]));
  t.is(garbage.code, 'TSA_REJECTED');
  t.regex(garbage.message, new RegExp(`^TSA at ${URL_}: the answer is not a TimeStampResp: `));
  t.true(garbage.cause instanceof StellaError, 'the DER error is kept');
  t.true(garbage.message.endsWith((garbage.cause as StellaError).message));

  // TimeStampResp { status PKIStatusInfo { granted } } and no timeStampToken.
  const tokenless = refusal(new Uint8Array([0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00]));
  t.is(tokenless.code, 'TSA_REJECTED');
  t.is(tokenless.message, `TSA at ${URL_}: granted, but the answer carries no token`);
  t.is(tokenless.cause, undefined);
});

test('each request carries a fresh positive 63-bit nonce, and the answer is returned with it', async (t) => {
  const asked: bigint[] = [];
  const url = await servedTsa(t, 'tsa-client nonce', (body) =>
    asked.push(parseTimeStampReq(body).nonce!),
  );
  const answers = [];
  for (let i = 0; i < 16; i++)
    answers.push(await requestTimestamp(url, signature, { timeoutMs: 10_000, retries: 0 }));
  t.is(asked.length, 16);
  t.is(new Set(asked).size, 16, 'no nonce repeats');
  for (const [i, n] of asked.entries()) {
    t.true(n > 0n && n < 2n ** 63n, String(n));
    t.is(answers[i]!.nonce, n);
    const token = parseTimeStampResp(answers[i]!.response).token!;
    t.is(parseTimeStampToken(token).tstInfo.nonce, n);
  }
});

test("a token whose time is outside the signing certificate's validity is TSA_REJECTED, naming both; one inside it is taken", (t) => {
  const a = testAuthority('tsa-client-validity');
  const T = Date.UTC(2025, 5, 1, 12);
  const leaf = parseCertificate(
    signBlob(a, utf8.encode('validity'), { repo: 'org/repo', now: T }).certificate,
  );
  const tsa = testTsa('tsa-client-validity', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
  const withTsa = { ...a.trustMaterial(), timestampAuthorities: [tsa.authority] };
  const answer = (genTime: number) => ({
    url: URL_,
    response: tsa.issue({ data: signature, genTime, nonce: 1n }),
    nonce: 1n,
  });
  t.is(checkTimestamp(answer(T + 60_000), signature, withTsa, leaf).time.ms, T + 60_000);
  const late = t.throws(() => checkTimestamp(answer(T + 3_600_000), signature, withTsa, leaf), {
    instanceOf: StellaError,
  })!;
  t.is(late.code, 'TSA_REJECTED');
  t.regex(
    late.message,
    /^TSA at .+: the timestamp's time 2025-06-01T13:00:00(\.0+)?Z is outside the signing certificate's validity \(2025-06-01T12:00:00(\.0+)?Z\.\.2025-06-01T12:10:00(\.0+)?Z\)$/,
  );
});
