import test, { type ExecutionContext } from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StellaError } from '../../src/errors.js';
import {
  parseTrustedRoot,
  serializeTrustedRoot,
  TRUSTED_ROOT_MEDIA_TYPE_V01,
  TRUSTED_ROOT_MEDIA_TYPE_V02,
} from '../../src/trust/trusted-root.js';
import { publicGoodTrustedRootPath } from '../../src/trust/public-good.js';
import { windowContains, type TrustMaterial } from '../../src/model/trust-material.js';
import { toBase64 } from '../../src/util/encoding.js';
import { CONFORMANCE_DIR } from '../helpers/paths.js';
import { conformanceCase, sharedTest } from '../helpers/shared.js';

type Json = Record<string, any>;
const require = createRequire(import.meta.url);
const publicGoodText = readFileSync(publicGoodTrustedRootPath(), 'utf8');
const load = (): Json => JSON.parse(publicGoodText);

function refused(t: ExecutionContext, doc: Json | string, pattern: RegExp): void {
  const err = t.throws(
    () => parseTrustedRoot(typeof doc === 'string' ? doc : JSON.stringify(doc)),
    { instanceOf: StellaError },
  );
  t.is(err?.code, 'TRUSTED_ROOT_INVALID', err?.message);
  t.is(err?.check, 'trusted-root');
  t.regex(err?.message ?? '', pattern);
}

/** TrustMaterial without the KeyObjects (compared separately with KeyObject.equals). */
function plain(tm: TrustMaterial): unknown {
  const log = (l: TrustMaterial['tlogs'][number]) => ({
    ...l,
    publicKey: {
      ...l.publicKey,
      key: l.publicKey.key.export({ format: 'der', type: 'spki' }).toString('base64'),
    },
  });
  return { ...tm, tlogs: tm.tlogs.map(log), ctlogs: tm.ctlogs.map(log) };
}

test('parses the public-good trusted root', (t) => {
  const tm = parseTrustedRoot(publicGoodText);
  t.is(tm.mediaType, TRUSTED_ROOT_MEDIA_TYPE_V01);
  t.true(tm.tlogs.length >= 1);
  t.true(tm.ctlogs.length >= 1);
  t.true(tm.certificateAuthorities.length >= 1);
  t.true(tm.timestampAuthorities.length >= 1);
  const rekor = tm.tlogs.find((l) => l.baseUrl === 'https://rekor.sigstore.dev');
  t.truthy(rekor);
  if (!rekor) return;
  t.is(rekor.hashAlgorithm, 'SHA2_256');
  t.is(rekor.publicKey.keyDetails, 'PKIX_ECDSA_P256_SHA_256');
  t.is(rekor.publicKey.key.asymmetricKeyType, 'ec');
  t.is(rekor.publicKey.validFor.start, Date.parse('2021-01-12T11:53:27Z'));
  t.is(rekor.publicKey.validFor.end, undefined);
  // Rekor v1 log id = SHA-256 of the DER SPKI.
  t.is(
    toBase64(rekor.logId),
    createHash('sha256').update(rekor.publicKey.rawBytes).digest('base64'),
  );
  t.is(rekor.checkpointKeyId, undefined);
  const ed = tm.tlogs.find((l) => l.publicKey.keyDetails === 'PKIX_ED25519');
  t.is(ed?.publicKey.key.asymmetricKeyType, 'ed25519');
  const fulcio = tm.certificateAuthorities[0]!;
  t.deepEqual(fulcio.subject, { organization: 'sigstore.dev', commonName: 'sigstore' });
  t.is(fulcio.uri, 'https://fulcio.sigstore.dev');
  t.true(fulcio.certChain.length >= 1);
  t.true(fulcio.certChain[0]![0]! === 0x30);
  t.true(
    windowContains(tm.certificateAuthorities[1]!.validFor, Date.parse('2024-01-01T00:00:00Z')),
  );
});

test('null fields, offsets and fractional seconds are read as protobuf JSON allows', (t) => {
  const doc = load();
  doc.tlogs[0].checkpointKeyId = null;
  doc.tlogs[0].operator = null;
  doc.tlogs[0].publicKey.validFor = { start: '2021-01-12T12:53:27.250+01:00', end: null };
  const tm = parseTrustedRoot(JSON.stringify(doc));
  t.is(tm.tlogs[0]!.publicKey.validFor.start, Date.parse('2021-01-12T11:53:27.250Z'));
  t.is(tm.tlogs[0]!.publicKey.validFor.end, undefined);
});

test("validFor times outside Stella's range are refused naming the field (checklist H50)", (t) => {
  for (const [value, re] of [
    ['10000-01-01T00:00:00Z', /is not an RFC 3339 time/],
    [
      '9999-12-31T23:59:59-00:01',
      // Every error of this module starts "invalid trusted root", the shared time parser's too.
      /^invalid trusted root: tlogs\[0\]\.publicKey\.validFor\.end: "9999-12-31T23:59:59-00:01" is not a time in range/,
    ],
    [
      '1969-12-31T23:59:59Z',
      /tlogs\[0\]\.publicKey\.validFor\.end: "1969-12-31T23:59:59Z" is not a time in range/,
    ],
    ['2021-06-31T00:00:00Z', /is not a valid date-time/],
    ['2030-01-01T24:00:00Z', /is not a valid date-time/],
  ] as const) {
    const d = load();
    d.tlogs[0].publicKey.validFor.end = value;
    refused(t, d, re);
  }
});

test('a validFor bound with digits below the millisecond narrows the window, never widens it (checklist H58)', (t) => {
  const doc = load();
  doc.tlogs[0].publicKey.validFor = {
    start: '2021-01-12T11:53:27.000000001Z',
    end: '2030-01-01T00:00:00.999999999Z',
  };
  const w = parseTrustedRoot(JSON.stringify(doc)).tlogs[0]!.publicKey.validFor;
  t.is(w.start, Date.parse('2021-01-12T11:53:27.001Z'), 'start rounded up');
  t.is(w.end, Date.parse('2030-01-01T00:00:00.999Z'), 'end rounded down');
  t.false(
    windowContains(w, Date.parse('2021-01-12T11:53:27.000Z')),
    'the instant before a fractional start is outside',
  );
});

test('v0.2 media type and checkpointKeyId are read', (t) => {
  const doc = load();
  doc.mediaType = TRUSTED_ROOT_MEDIA_TYPE_V02;
  doc.tlogs[1].checkpointKeyId = { keyId: 'AAECAw==' };
  const tm = parseTrustedRoot(new TextEncoder().encode(JSON.stringify(doc)));
  t.is(tm.mediaType, TRUSTED_ROOT_MEDIA_TYPE_V02);
  t.deepEqual(tm.tlogs[1]!.checkpointKeyId, new Uint8Array([0, 1, 2, 3]));
});

test('a tlog or ctlog key without validFor.start is an invalid trust root', (t) => {
  const a = load();
  delete a.tlogs[1].publicKey.validFor.start;
  refused(t, a, /tlogs\[1\]\.publicKey\.validFor\.start missing/);
  const b = load();
  delete b.ctlogs[0].publicKey.validFor;
  refused(t, b, /ctlogs\[0\]\.publicKey\.validFor missing/);
  const c = load();
  c.certificateAuthorities[0].validFor.start = null;
  refused(t, c, /certificateAuthorities\[0\]\.validFor\.start missing/);
});

test('broken trusted roots are refused naming the entry', (t) => {
  const cases: [(d: Json) => void, RegExp][] = [
    [
      (d) => (d.mediaType = 'application/vnd.dev.sigstore.trustedroot.v9+json'),
      /unsupported trusted root media type/,
    ],
    [(d) => delete d.mediaType, /mediaType missing/],
    [
      (d) => (d.tlogs[0].publicKey.rawBytes = 'not base64!'),
      /tlogs\[0\]\.publicKey\.rawBytes: invalid base64/,
    ],
    [
      (d) => (d.tlogs[0].publicKey.rawBytes = 'AAAA'),
      /tlogs\[0\]\.publicKey\.rawBytes: not a valid SubjectPublicKeyInfo/,
    ],
    [(d) => delete d.tlogs[0].logId, /tlogs\[0\]\.logId missing/],
    [(d) => delete d.ctlogs[1].baseUrl, /ctlogs\[1\]\.baseUrl missing/],
    [
      (d) => (d.tlogs[0].publicKey.validFor.start = '2021-02-30T00:00:00Z'),
      /tlogs\[0\]\.publicKey\.validFor\.start: "2021-02-30T00:00:00Z" is not a valid date-time/,
    ],
    [
      (d) => (d.tlogs[0].publicKey.validFor.start = 'yesterday'),
      /"yesterday" is not an RFC 3339 time/,
    ],
    [
      (d) => (d.tlogs[0].publicKey.validFor.start = 1610452407),
      /validFor\.start: expected an RFC 3339 time/,
    ],
    [
      (d) => (d.tlogs[0].publicKey.validFor.end = '2020-01-01T00:00:00Z'),
      /tlogs\[0\]\.publicKey\.validFor: end is before start/,
    ],
    [
      (d) => (d.certificateAuthorities[0].certChain.certificates = []),
      /certificateAuthorities\[0\]\.certChain has no certificates/,
    ],
    [
      (d) => (d.timestampAuthorities[0].certChain.certificates[0].rawBytes = ''),
      /timestampAuthorities\[0\]\.certChain\.certificates\[0\]\.rawBytes missing/,
    ],
    [(d) => (d.tlogs = {}), /tlogs: expected an array/],
  ];
  for (const [mutate, pattern] of cases) {
    const d = load();
    mutate(d);
    refused(t, d, pattern);
  }
  refused(t, publicGoodText.slice(0, 100), /malformed JSON in trusted root/);
  refused(t, publicGoodText.replace('"tlogs"', '"ctlogs": [], "tlogs"'), /duplicate key "ctlogs"/);
  refused(t, '{"mediaType":' + '['.repeat(40) + ']'.repeat(40) + '}', /deeper than the limit/);
});

test('a PKCS#1 RSA key (PKCS1_RSA_PKCS1V5) is parsed as PKCS#1', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto');
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const doc = load();
  doc.ctlogs[0].publicKey.rawBytes = publicKey
    .export({ format: 'der', type: 'pkcs1' })
    .toString('base64');
  doc.ctlogs[0].publicKey.keyDetails = 'PKCS1_RSA_PKCS1V5';
  const tm = parseTrustedRoot(JSON.stringify(doc));
  t.true(tm.ctlogs[0]!.publicKey.key.equals(publicKey));
});

test('serialize then parse gives the same trust material (v0.2 by default, or the original media type)', (t) => {
  const tm = parseTrustedRoot(publicGoodText);
  const v02 = serializeTrustedRoot(tm);
  t.is(JSON.parse(v02).mediaType, TRUSTED_ROOT_MEDIA_TYPE_V02);
  const back = parseTrustedRoot(v02);
  t.deepEqual(plain(back), plain({ ...tm, mediaType: TRUSTED_ROOT_MEDIA_TYPE_V02 }));
  t.true(back.tlogs.every((l, i) => l.publicKey.key.equals(tm.tlogs[i]!.publicKey.key)));
  t.deepEqual(plain(parseTrustedRoot(serializeTrustedRoot(tm, tm.mediaType))), plain(tm));
  // Same content as the source file, field for field (protobuf-specs order; nulls dropped).
  t.deepEqual(JSON.parse(serializeTrustedRoot(tm, tm.mediaType)), load());
  const withCheckpointKey: TrustMaterial = {
    ...tm,
    tlogs: tm.tlogs.map((l) => ({ ...l, checkpointKeyId: new Uint8Array([9, 9, 9, 9]) })),
  };
  t.deepEqual(
    plain(parseTrustedRoot(serializeTrustedRoot(withCheckpointKey))),
    plain({ ...withCheckpointKey, mediaType: TRUSTED_ROOT_MEDIA_TYPE_V02 }),
  );
  const err = t.throws(() => serializeTrustedRoot(tm, 'text/plain'), { instanceOf: StellaError });
  t.is(err?.code, 'TRUSTED_ROOT_INVALID');
});

const SHARED = pathToFileURL(`${CONFORMANCE_DIR}/`);

sharedTest(
  'shared conformance: every trusted_root.json parses except the one missing validFor.start',
  (t) => {
    const cases = new URL('cases/', SHARED);
    let n = 0;
    for (const name of readdirSync(cases).sort()) {
      const file = new URL(`${name}/trusted_root.json`, cases);
      if (!existsSync(file)) continue; // most cases use the public-good root: they have no trusted_root.json of their own
      n++;
      if (name === 'trust-root-tlog-missing-validity-start_fail') {
        const err = t.throws(() => parseTrustedRoot(readFileSync(file)), {
          instanceOf: StellaError,
        });
        t.is(err?.code, 'TRUSTED_ROOT_INVALID');
        t.regex(err?.message ?? '', /tlogs\[1\]\.publicKey\.validFor\.start missing/);
      } else {
        const tm = parseTrustedRoot(readFileSync(file));
        t.deepEqual(
          plain(parseTrustedRoot(serializeTrustedRoot(tm, tm.mediaType))),
          plain(tm),
          name,
        );
      }
    }
    t.true(n > 10);
    conformanceCase('trust-root-tlog-missing-validity-start_fail'); // the refusal above must have run
    const inclusive = parseTrustedRoot(
      readFileSync(
        path.join(conformanceCase('trust-root-tlog-validity-end-inclusive'), 'trusted_root.json'),
      ),
    );
    const rekor = inclusive.tlogs.find(
      (l) => toBase64(l.logId) === 'wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=',
    );
    t.is(rekor?.publicKey.validFor.end, 1689177396 * 1000);
  },
);

sharedTest(
  'shared conformance: @sigstore/verify accepts the serialized v0.2 root and verifies real bundles with it',
  (t) => {
    const { toTrustMaterial, Verifier, toSignedEntity } =
      require('@sigstore/verify') as typeof import('@sigstore/verify');
    const { TrustedRoot } =
      require('@sigstore/protobuf-specs') as typeof import('@sigstore/protobuf-specs');
    const { bundleFromJSON } = require('@sigstore/bundle') as typeof import('@sigstore/bundle');
    const artifact = readFileSync(new URL('a.txt', SHARED));
    const runs: [string, URL, number][] = [
      ['happy-path-v0.3', new URL('public-good-trusted-root.json', SHARED), 0],
      ['happy-path-v0.1', new URL('public-good-trusted-root.json', SHARED), 0],
      [
        'rekor2-happy-path',
        pathToFileURL(path.join(conformanceCase('rekor2-happy-path'), 'trusted_root.json')),
        1,
      ],
    ];
    for (const [name, rootFile, tsaThreshold] of runs) {
      const tm = parseTrustedRoot(readFileSync(rootFile));
      const serialized = serializeTrustedRoot(tm);
      const bundle = bundleFromJSON(
        JSON.parse(readFileSync(path.join(conformanceCase(name), 'bundle.sigstore.json'), 'utf8')),
      );
      const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(serialized))), {
        tlogThreshold: 1,
        ctlogThreshold: 1,
        timestampThreshold: tsaThreshold,
      });
      const signer = verifier.verify(toSignedEntity(bundle, artifact));
      t.regex(
        signer.identity?.subjectAlternativeName ?? '',
        /extremely-dangerous-oidc-beacon/,
        name,
      );
      // Without the logs the same verification fails: the serialized keys are what made it pass.
      const noLogs = parseTrustedRoot(serialized);
      const stripped = serializeTrustedRoot({ ...noLogs, tlogs: [] });
      const bare = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(stripped))), {
        tlogThreshold: 1,
        ctlogThreshold: 1,
        timestampThreshold: tsaThreshold,
      });
      t.throws(() => bare.verify(toSignedEntity(bundle, artifact)), undefined, name);
    }
  },
);
