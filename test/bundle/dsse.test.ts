import test from 'ava';
import { StellaError } from '../../src/errors.js';
import {
  envelopeToJson,
  parseEnvelope,
  preAuthEncoding,
  serializeEnvelope,
} from '../../src/bundle/dsse.js';
import { utf8 } from '../../src/util/encoding.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

test('PAE: the DSSE specification example', (t) => {
  t.is(
    text(preAuthEncoding('http://example.com/HelloWorld', utf8.encode('hello world'))),
    'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
  );
  t.is(text(preAuthEncoding('', new Uint8Array(0))), 'DSSEv1 0  0 ');
});

test('PAE: lengths are UTF-8 byte counts, not UTF-16 lengths (F39)', (t) => {
  // "é" is 1 UTF-16 unit but 2 UTF-8 bytes; "€" is 1 unit but 3 bytes; "😀" is 2 units, 4 bytes.
  t.is(
    text(preAuthEncoding('application/vnd.\u00e9', utf8.encode('x'))),
    'DSSEv1 18 application/vnd.\u00e9 1 x',
  );
  t.is(text(preAuthEncoding('\u20ac', utf8.encode('\u20ac'))), 'DSSEv1 3 \u20ac 3 \u20ac');
  t.is(text(preAuthEncoding('\ud83d\ude00', new Uint8Array(0))), 'DSSEv1 4 \ud83d\ude00 0 ');
  // Two types with equal UTF-16 length but different byte lengths never share an encoding.
  const a = preAuthEncoding('application/json\u00e9', utf8.encode('p'));
  const b = preAuthEncoding('application/jsonx', utf8.encode('p'));
  t.notDeepEqual(a, b);
  t.is(text(a).split(' ')[1], '18');
  t.is(text(b).split(' ')[1], '17');
});

test('PAE: binary payloads are taken byte for byte', (t) => {
  const payload = new Uint8Array([0, 255, 32, 10]);
  const pae = preAuthEncoding('t', payload);
  t.deepEqual(pae.slice(-4), payload);
  t.is(text(pae.slice(0, -4)), 'DSSEv1 1 t 4 ');
});

test('envelope JSON round trip; keyid only when set', (t) => {
  const env = {
    payload: utf8.encode('{}'),
    payloadType: 'application/vnd.in-toto+json',
    signatures: [{ sig: new Uint8Array([1, 2, 3]), keyid: '' }],
  };
  t.deepEqual(envelopeToJson(env), {
    payload: 'e30=',
    payloadType: 'application/vnd.in-toto+json',
    signatures: [{ sig: 'AQID' }],
  });
  const back = parseEnvelope(serializeEnvelope(env));
  t.deepEqual(back, { kind: 'dsseEnvelope', ...env });
  const withKeyid = { ...env, signatures: [{ sig: new Uint8Array([1]), keyid: 'k1' }] };
  t.is(
    serializeEnvelope(withKeyid),
    '{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"k1","sig":"AQ=="}]}',
  );
  t.deepEqual(parseEnvelope(serializeEnvelope(withKeyid)).signatures, withKeyid.signatures);
});

test('parseEnvelope is strict', (t) => {
  const bad = [
    'not json',
    '[]',
    '{"payload":"e30=","payloadType":"t","signatures":[]}',
    '{"payload":"e30=","payloadType":"","signatures":[{"sig":"AQ=="}]}',
    '{"payload":"e30","payloadType":"t","signatures":[{"sig":"AQ=="}]}',
    '{"payload":"e30=","payloadType":"t","signatures":[{"sig":""}]}',
    '{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AQ==","extra":1}]}',
    '{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AQ==","keyid":5}]}',
    '{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AQ=="}],"x":1}',
  ];
  for (const s of bad) t.throws(() => parseEnvelope(s), { instanceOf: StellaError }, s);
});
