import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { StellaError, type ErrorCode } from '../../src/errors.js';
import {
  bundlePredicateType,
  buildInTotoStatement,
  IN_TOTO_PAYLOAD_TYPE,
  checkPredicateTypeFlag,
  COSIGN_PREDICATE_TYPES,
  predicateTypeURI,
  IN_TOTO_STATEMENT_V01,
  IN_TOTO_STATEMENT_V1,
  matchSubject,
  parseInTotoStatement,
  predicateTypeMistake,
} from '../../src/bundle/intoto.js';
import type { DigestName } from '../../src/util/digest.js';

/** An artifact known by these digests (hex), for matchSubject. */
const known =
  (d: Partial<Record<DigestName, string>>) =>
  (n: DigestName): Uint8Array | undefined =>
    d[n] === undefined ? undefined : new Uint8Array(Buffer.from(d[n], 'hex'));
import { parseBundle } from '../../src/bundle/parse.js';

type Json = Record<string, any>;
const fixtureText = readFileSync(
  new URL('../../../test/fixtures/bundle/intoto-statement-v1.json', import.meta.url),
  'utf8',
);
const load = (): Json => JSON.parse(fixtureText);
const enc = (v: unknown): Uint8Array =>
  new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const SHA = 'a'.repeat(64);

function refused(t: ExecutionContext, doc: unknown, code: ErrorCode, pattern: RegExp): void {
  const err = t.throws(() => parseInTotoStatement(enc(doc)), { instanceOf: StellaError });
  t.is(err?.code, code, err?.message);
  t.regex(err?.message ?? '', pattern);
}

test('parses a v1 statement and finds its subject digest', (t) => {
  const s = parseInTotoStatement(enc(fixtureText));
  t.is(s._type, IN_TOTO_STATEMENT_V1);
  t.is(s.subject.length, 1);
  t.is(s.subject[0]!.name, 'a.txt');
  t.is(s.predicateType, 'https://slsa.dev/provenance/v1');
  t.deepEqual(s.predicate, { buildDefinition: { buildType: 'https://example.test/build' } });
  const d = s.subject[0]!.digest.sha256!;
  const m = matchSubject(s, known({ sha256: d }));
  t.true(m.matched && m.subject.name === 'a.txt' && m.algorithm === 'sha256' && m.hex === d);
  const upper = parseInTotoStatement(
    enc({ ...load(), subject: [{ name: 'a.txt', digest: { sha256: d.toUpperCase() } }] }),
  );
  t.true(matchSubject(upper, known({ sha256: d })).matched, 'hex case in the statement is ignored');
  t.deepEqual(matchSubject(s, known({ sha256: SHA })), {
    matched: false,
    compared: ['sha256'],
    unsupported: [],
  });
  t.deepEqual(
    matchSubject(s, known({ sha512: d + d })),
    { matched: false, compared: [], unsupported: [] },
    'no subject lists sha512',
  );
});

test('a subject matches when any digest it lists matches; unknown algorithms are skipped and reported', (t) => {
  const A256 = 'a'.repeat(64);
  const B512 = 'b'.repeat(128);
  const s = parseInTotoStatement(
    enc({
      ...load(),
      subject: [
        { name: 'git', digest: { gitCommit: 'c'.repeat(40) } },
        { name: 'npm.tgz', digest: { sha512: B512 } },
        { name: 'both', digest: { sha256: A256, sha384: 'd'.repeat(96) } },
      ],
    }),
  );
  const npm = matchSubject(
    s,
    known({ sha256: 'e'.repeat(64), sha384: 'f'.repeat(96), sha512: B512 }),
  );
  t.true(npm.matched && npm.subject.name === 'npm.tgz' && npm.algorithm === 'sha512');
  const both = matchSubject(s, known({ sha256: A256, sha384: '0'.repeat(96) }));
  t.true(
    both.matched && both.subject.name === 'both' && both.algorithm === 'sha256',
    'one matching digest of several is enough',
  );
  t.deepEqual(
    matchSubject(
      s,
      known({ sha256: 'e'.repeat(64), sha384: 'f'.repeat(96), sha512: 'f'.repeat(128) }),
    ),
    {
      matched: false,
      compared: ['sha256', 'sha384', 'sha512'],
      unsupported: [{ name: 'git', algorithms: ['gitCommit'] }],
    },
  );
});

test('the DSSE payload of the bundle fixture is a statement', (t) => {
  const b = parseBundle(
    readFileSync(new URL('../../../test/fixtures/bundle/v03-dsse.json', import.meta.url)),
  );
  if (b.content.kind !== 'dsseEnvelope') return t.fail();
  t.is(parseInTotoStatement(b.content.payload).subject[0]!.name, 'a.txt');
});

test('v0.1 statements are accepted; other _type values are not', (t) => {
  t.is(
    parseInTotoStatement(enc({ ...load(), _type: IN_TOTO_STATEMENT_V01 }))._type,
    IN_TOTO_STATEMENT_V01,
  );
  refused(
    t,
    { ...load(), _type: 'https://in-toto.io/Statement/v2' },
    'BUNDLE_UNSUPPORTED',
    /unsupported _type/,
  );
  refused(t, { ...load(), _type: undefined }, 'BUNDLE_UNSUPPORTED', /unsupported _type null/);
});

test('1024 subjects are accepted, 1025 refused', (t) => {
  const many = (n: number) => ({
    ...load(),
    subject: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, digest: { sha256: SHA } })),
  });
  t.is(parseInTotoStatement(enc(many(1024))).subject.length, 1024);
  refused(t, many(1025), 'BUNDLE_LIMIT_EXCEEDED', /1025 subjects exceeds the limit of 1024/);
});

test('32 digests per subject are accepted, 33 refused', (t) => {
  const digests = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`alg${i}`, 'ff']));
  t.is(
    Object.keys(
      parseInTotoStatement(enc({ ...load(), subject: [{ name: 'x', digest: digests(32) }] }))
        .subject[0]!.digest,
    ).length,
    32,
  );
  refused(
    t,
    { ...load(), subject: [{ name: 'x', digest: digests(33) }] },
    'BUNDLE_LIMIT_EXCEEDED',
    /subject\[0\]\.digest: 33 digests exceeds the limit of 32/,
  );
});

test('malformed statements are refused', (t) => {
  refused(t, '{"_type":', 'BUNDLE_MALFORMED', /malformed JSON in in-toto statement/);
  refused(
    t,
    fixtureText.replace('{', '{"predicateType":"x",'),
    'BUNDLE_MALFORMED',
    /duplicate key "predicateType"/,
  );
  refused(t, [], 'BUNDLE_MALFORMED', /expected a JSON object/);
  refused(t, { ...load(), subject: [] }, 'BUNDLE_MALFORMED', /subject is empty/);
  refused(t, { ...load(), subject: {} }, 'BUNDLE_MALFORMED', /subject: expected an array/);
  refused(
    t,
    { ...load(), subject: [{ name: 'x', digest: {} }] },
    'BUNDLE_MALFORMED',
    /subject\[0\]\.digest is empty/,
  );
  // A digest that is not an object: an array's indexes must not pass for algorithm names.
  for (const digest of [[SHA], SHA, null])
    refused(
      t,
      { ...load(), subject: [{ name: 'x', digest }] },
      'BUNDLE_MALFORMED',
      /^in-toto statement: subject\[0\]\.digest: expected an object$/,
    );
  refused(
    t,
    { ...load(), subject: [{ name: 'x', digest: { sha256: 'abc' } }] },
    'BUNDLE_MALFORMED',
    /digest\.sha256: expected 64 hex characters/,
  );
  refused(
    t,
    { ...load(), subject: [{ name: 'x', digest: { sha256: 'g'.repeat(64) } }] },
    'BUNDLE_MALFORMED',
    /expected 64 hex characters/,
  );
  refused(
    t,
    { ...load(), subject: [{ name: 'x', digest: { sha256: 5 } }] },
    'BUNDLE_MALFORMED',
    /digest\.sha256: expected a non-empty string/,
  );
  refused(
    t,
    { ...load(), subject: [{ name: 7, digest: { sha256: SHA } }] },
    'BUNDLE_MALFORMED',
    /subject\[0\]\.name: expected a string/,
  );
  refused(t, { ...load(), predicateType: '' }, 'BUNDLE_MALFORMED', /predicateType missing/);
  refused(t, { ...load(), predicate: 'text' }, 'BUNDLE_MALFORMED', /predicate: expected an object/);
  const bad = new Uint8Array([...enc('{"_type":"'), 0xff, ...enc('"}')]);
  const err = t.throws(() => parseInTotoStatement(bad), { instanceOf: StellaError });
  t.regex(err?.message ?? '', /invalid UTF-8/);
});

test('a "__proto__" digest name stays plain data', (t) => {
  const s = parseInTotoStatement(
    enc(
      '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"__proto__":"ab"}}],"predicateType":"p"}',
    ),
  );
  t.is(Object.getPrototypeOf(s.subject[0]!.digest), Object.prototype);
  t.deepEqual(Object.keys(s.subject[0]!.digest), ['__proto__']);
  t.deepEqual(matchSubject(s, known({ sha256: SHA })), {
    matched: false,
    compared: [],
    unsupported: [{ name: 'x', algorithms: ['__proto__'] }],
  });
});

test('buildInTotoStatement produces a v1 payload that parses back to the same statement', (t) => {
  const subject = [{ name: 'pkg.tgz', digest: { sha256: SHA, sha512: 'b'.repeat(128) } }];
  const { statement, payload } = buildInTotoStatement(subject, 'https://slsa.dev/provenance/v1', {
    a: 1,
  });
  t.deepEqual(parseInTotoStatement(payload), statement);
  t.deepEqual(Object.keys(JSON.parse(new TextDecoder().decode(payload))), [
    '_type',
    'subject',
    'predicateType',
    'predicate',
  ]);
  t.is(statement._type, IN_TOTO_STATEMENT_V1);
  t.true(matchSubject(statement, known({ sha512: 'b'.repeat(128) })).matched);
  t.is(buildInTotoStatement(subject, 'p').statement.predicate, undefined);
  const err = t.throws(
    () => buildInTotoStatement([{ name: 'x', digest: { sha256: 'nothex' } }], 'p'),
    { instanceOf: StellaError },
  );
  t.is(err?.code, 'BUNDLE_MALFORMED');
});

test('a predicate type a user gives is a URI written as it is compared: no whitespace or control character (URL would trim them), NFC', (t) => {
  for (const good of [
    'https://slsa.dev/provenance/v1',
    'https://in-toto.io/attestation/vulns/v0.1',
    'urn:example:predicate',
  ])
    t.is(predicateTypeMistake(good), undefined, good);
  for (const [bad, why] of [
    ['', 'is empty'],
    [' https://slsa.dev/provenance/v1', 'holds whitespace or a control character'],
    ['https://slsa.dev/provenance/v1\n', 'holds whitespace or a control character'],
    ['https://slsa.dev/\u0085v1', 'holds whitespace or a control character'],
    ['not a uri', 'holds whitespace or a control character'],
    ['https://example.com/cafe\u0301', 'is not in Unicode NFC'],
    ['slsa-provenance', 'is not a URI'],
  ] as const)
    t.is(predicateTypeMistake(bad), why, JSON.stringify(bad));
  // cosign's names (cmd/cosign/cli/options/predicate.go) stand for their URIs; nothing else is renamed.
  t.deepEqual(
    Object.fromEntries(Object.keys(COSIGN_PREDICATE_TYPES).map((n) => [n, predicateTypeURI(n)])),
    {
      custom: 'https://cosign.sigstore.dev/attestation/v1',
      cyclonedx: 'https://cyclonedx.org/bom',
      link: 'https://in-toto.io/Link/v1',
      openvex: 'https://openvex.dev/ns',
      slsaprovenance: 'https://slsa.dev/provenance/v0.2',
      slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
      slsaprovenance1: 'https://slsa.dev/provenance/v1',
      spdx: 'https://spdx.dev/Document',
      spdxjson: 'https://spdx.dev/Document',
      vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
    },
  );
  for (const kept of [
    'https://slsa.dev/provenance/v1',
    'SLSAprovenance1',
    'constructor',
    'toString',
  ])
    t.is(predicateTypeURI(kept), kept, kept);
  t.notThrows(() => checkPredicateTypeFlag('spdxjson'));
  t.throws(() => checkPredicateTypeFlag('constructor'), { message: /"constructor" is not a URI/ });
  const e = t.throws(() => checkPredicateTypeFlag('slsa', '--type'), { instanceOf: StellaError });
  t.is(e.code, 'INPUT_INVALID');
  t.is(
    e.message,
    `--type "slsa" is not a URI: a predicate type is a URI, compared exactly, or cosign's name for one (custom, cyclonedx, link, openvex, slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, vuln)`,
  );
});

test("bundlePredicateType: the statement's predicate type for an in-toto envelope; none for a message signature or another payload type, whatever the payload", (t) => {
  const statement = enc(load());
  t.is(
    bundlePredicateType({
      kind: 'dsseEnvelope',
      payload: statement,
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [],
    }),
    load().predicateType,
  );
  // Another payload type: not read as a statement, even when its bytes are not one.
  t.is(
    bundlePredicateType({
      kind: 'dsseEnvelope',
      payload: enc('not a statement'),
      payloadType: 'application/vnd.example+json',
      signatures: [],
    }),
    undefined,
  );
  t.is(
    bundlePredicateType({
      kind: 'messageSignature',
      messageDigest: undefined,
      signature: new Uint8Array(64),
    }),
    undefined,
  );
  // Claiming in-toto and not a statement: refused as parseInTotoStatement refuses it.
  t.throws(
    () =>
      bundlePredicateType({
        kind: 'dsseEnvelope',
        payload: enc('not a statement'),
        payloadType: IN_TOTO_PAYLOAD_TYPE,
        signatures: [],
      }),
    { instanceOf: StellaError },
  );
});
