/**
 * RFC 3161 requests and responses (src/timestamp/request.ts): what the signer's TSA client
 * writes is what the sandbox TSA reads back, field for field, and the strict reader refuses
 * what DER or RFC 3161 does not allow. Whole exchanges with a TSA are tested in
 * test/sandbox/authority/rekor-v2.test.ts and the signing tests.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { bool, contextPrimitive, int, nul, octetString, oid, seq } from '../../src/der/writer.js';
import {
  encodeTimeStampReq,
  encodeTimeStampResp,
  parseTimeStampReq,
  parseTimeStampResp,
  PKI_FAILURE,
  PKI_STATUS,
  type TimeStampRequest,
} from '../../src/timestamp/request.js';
import { OID } from '../../src/x509/oids.js';
import { sha256 } from '../../src/crypto.js';
import { utf8 } from '../../src/util/encoding.js';

const DIGEST = sha256(utf8.encode('a bundle signature'));
const POLICY = '1.3.6.1.4.1.57264.2';
const imprint = seq(seq(oid(OID.sha256), nul()), octetString(DIGEST));

test('TimeStampReq: every field the client sets is read back as set, and only those', (t) => {
  const requests: TimeStampRequest[] = [
    { hash: 'sha256', digest: DIGEST, certReq: false },
    { hash: 'sha256', digest: DIGEST, nonce: 0n, certReq: false },
    { hash: 'sha256', digest: DIGEST, nonce: 0x7fffffffffffffffn, certReq: true },
    { hash: 'sha256', digest: DIGEST, policy: POLICY, certReq: true },
    {
      hash: 'sha384',
      digest: new Uint8Array(48).fill(7),
      policy: POLICY,
      nonce: 5n,
      certReq: true,
    },
    { hash: 'sha512', digest: new Uint8Array(64).fill(9), certReq: false },
  ];
  for (const r of requests) {
    const back = parseTimeStampReq(encodeTimeStampReq(r));
    t.deepEqual(
      back,
      r,
      JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
    );
  }
  // The encoding itself: version, imprint, then the optional fields in ASN.1 order, and a
  // false certReq left out (DER omits a DEFAULT value).
  t.deepEqual(
    encodeTimeStampReq({
      hash: 'sha256',
      digest: DIGEST,
      policy: POLICY,
      nonce: 42n,
      certReq: true,
    }),
    seq(int(1), imprint, oid(POLICY), int(42n), bool(true)),
  );
  t.deepEqual(
    encodeTimeStampReq({ hash: 'sha256', digest: DIGEST, certReq: false }),
    seq(int(1), imprint),
  );
});

test('TimeStampReq: a digest of the wrong length for its algorithm is never written', (t) => {
  t.throws(() => encodeTimeStampReq({ hash: 'sha384', digest: DIGEST, certReq: false }), {
    instanceOf: RangeError,
    message: 'TimeStampReq: a sha384 digest is 48 bytes, not 32',
  });
});

test('TimeStampReq: the strict reader refuses what RFC 3161 or DER does not allow, naming it', (t) => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['version 2', seq(int(2), imprint), /unsupported TimeStampReq version 2/],
    [
      'an unknown hash',
      seq(int(1), seq(seq(oid('1.2.840.113549.2.5'), nul()), octetString(DIGEST))),
      /unsupported messageImprint hash algorithm 1\.2\.840\.113549\.2\.5/,
    ],
    [
      'hash parameters other than NULL',
      seq(int(1), seq(seq(oid(OID.sha256), int(0)), octetString(DIGEST))),
      /unexpected parameters/,
    ],
    [
      // Empty, like NULL's content, but not NULL.
      'hash parameters an empty SEQUENCE',
      seq(int(1), seq(seq(oid(OID.sha256), seq()), octetString(DIGEST))),
      /unexpected parameters/,
    ],
    [
      'a short imprint',
      seq(int(1), seq(seq(oid(OID.sha256), nul()), octetString(DIGEST.subarray(1)))),
      /a sha256 imprint is 32 bytes, not 31/,
    ],
    [
      'certReq FALSE written out',
      seq(int(1), imprint, bool(false)),
      /certReq FALSE must be omitted/,
    ],
    [
      'extensions',
      seq(int(1), imprint, contextPrimitive(0, new Uint8Array())),
      /extensions are not supported/,
    ],
    [
      'fields out of order',
      seq(int(1), imprint, int(5), oid(POLICY)),
      /unexpected TimeStampReq field/,
    ],
    ['a field twice', seq(int(1), imprint, int(5), int(6)), /unexpected TimeStampReq field/],
    ['no imprint', seq(int(1)), /TimeStampReq/],
    ['trailing bytes', Uint8Array.from([...seq(int(1), imprint), 0]), /trailing|after/],
  ];
  for (const [what, der, message] of cases) {
    const e = t.throws(
      () => parseTimeStampReq(der),
      { instanceOf: StellaError },
      what,
    ) as StellaError;
    t.is(e.code, 'INPUT_INVALID', what);
    t.regex(e.message, message, what);
  }
  // The caller's code: the sandbox TSA answers with its own.
  const e = t.throws(() => parseTimeStampReq(seq(int(2), imprint), { code: 'TIMESTAMP_INVALID' }), {
    instanceOf: StellaError,
  }) as StellaError;
  t.is(e.code, 'TIMESTAMP_INVALID');
});

test('TimeStampResp: granted with its token, or refused with the reason and failure bits', (t) => {
  const token = seq(oid(OID.sha256)); // any DER: the token is read by rfc3161.ts
  const granted = parseTimeStampResp(encodeTimeStampResp(PKI_STATUS.granted, token));
  t.is(granted.status, PKI_STATUS.granted);
  t.is(granted.statusText, undefined);
  t.deepEqual(granted.token, token);
  const refused = parseTimeStampResp(
    encodeTimeStampResp(PKI_STATUS.rejection, undefined, {
      text: 'bad imprint',
      failure: PKI_FAILURE.badDataFormat,
    }),
  );
  t.is(refused.status, PKI_STATUS.rejection);
  t.is(refused.statusText, 'bad imprint');
  t.is(refused.token, undefined);
  const e = t.throws(() => parseTimeStampResp(utf8.encode('not DER')), {
    instanceOf: StellaError,
  }) as StellaError;
  t.is(e.code, 'TIMESTAMP_INVALID');
});
