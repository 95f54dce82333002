import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { sha256 } from '../../../src/crypto.js';
import { toBase64, toHex, utf8 } from '../../../src/util/encoding.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import {
  MAX_IMPORT_BYTES,
  planImport,
  orderCertificateChain,
} from '../../../src/trust/store/importers.js';
import {
  importFile,
  listEntries,
  trustMaterialFromStore,
} from '../../../src/trust/store/operations.js';
import {
  CTX,
  DAY,
  NOW,
  caEntry,
  dumpStore,
  makeCa,
  makeLeaf,
  makeSelfSignedLeaf,
  misnamedIntermediate,
  pemOf,
  tempStorePath,
  trustedRootOf,
} from './helpers.js';

const YEAR = 365 * DAY;

async function pki() {
  const root = await makeCa('Private Root', NOW - YEAR, NOW + 10 * YEAR);
  const intermediate = await makeCa('Private Intermediate', NOW - YEAR / 2, NOW + 5 * YEAR, root);
  return { root, intermediate };
}

function store() {
  return openTrustStore(tempStorePath('imp'), { create: true, now: NOW });
}

test("PEM bundle (root first or last) becomes one CA entry ordered issuing-first, with --uri and the chain's start", async (t) => {
  const { root, intermediate } = await pki();
  for (const pem of [pemOf(root.der, intermediate.der), pemOf(intermediate.der, root.der)]) {
    const plan = planImport(utf8.encode(pem), { uri: 'https://fulcio.private.test' });
    t.is(plan.format, 'pem-bundle');
    t.is(plan.candidates.length, 1);
    const c = plan.candidates[0]!;
    t.is(c.kind, 'ca');
    t.is(c.uri, 'https://fulcio.private.test');
    t.is(c.fingerprint, toHex(sha256(root.der)));
    const m = JSON.parse(c.material) as { certChain: string[] };
    t.deepEqual(m.certChain, [toBase64(intermediate.der), toBase64(root.der)]);
    // Default window: from when every certificate is valid (the intermediate's notBefore, to the second), open-ended.
    t.is(c.validFrom, Math.floor((NOW - YEAR / 2) / 1000) * 1000);
    t.is(c.validUntil, null);
    t.is(c.subject, 'O=stella.test, CN=Private Root');
  }
});

test('PEM bundle with --valid-from/--valid-until sets the window; until before from is refused', async (t) => {
  const { root } = await pki();
  const uri = 'https://fulcio.private.test';
  const plan = planImport(utf8.encode(pemOf(root.der)), {
    validFrom: NOW,
    validUntil: NOW + YEAR,
    uri,
  });
  t.is(plan.candidates[0]!.validFrom, NOW);
  t.is(plan.candidates[0]!.validUntil, NOW + YEAR);
  const e = t.throws(
    () => planImport(utf8.encode(pemOf(root.der)), { validFrom: NOW, validUntil: NOW - 1, uri }),
    { instanceOf: StellaError },
  ) as StellaError;
  t.is(e.code, 'IMPORT_INVALID');
  // By the flags' own check (the certificate's validity refuses that window too, same code).
  t.regex(e.message, /--valid-until is before --valid-from/);
  // Without --uri a CA chain is refused: an empty URI could not be fixed by importing it again.
  const noUri = t.throws(() => planImport(utf8.encode(pemOf(root.der)), { validFrom: NOW }), {
    instanceOf: StellaError,
  }) as StellaError;
  t.is(noUri.code, 'IMPORT_INVALID');
  t.regex(noUri.message, /needs --uri/);
});

test('PEM bundles that are not one CA chain are refused with IMPORT_INVALID', async (t) => {
  const { root, intermediate } = await pki();
  const other = await makeCa('Other Root', NOW - YEAR, NOW + YEAR);
  const leaf = await makeLeaf(intermediate, NOW, NOW + DAY);
  const cases: [string, string, RegExp][] = [
    ['two roots', pemOf(root.der, other.der), /exactly one self-signed root/],
    ['no root', pemOf(intermediate.der), /exactly one self-signed root/],
    ['a broken chain', pemOf(other.der, intermediate.der), /chain is broken/],
    ['a leaf (not a CA)', pemOf(root.der, intermediate.der, leaf), /not a CA certificate/],
    ['a repeated certificate', pemOf(root.der, root.der), /repeats/],
    [
      'bad base64',
      '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n',
      /invalid base64/,
    ],
    [
      'garbage DER',
      `-----BEGIN CERTIFICATE-----\n${toBase64(new Uint8Array([0x30, 0x03, 1, 2, 3]))}\n-----END CERTIFICATE-----\n`,
      /certificate 1/,
    ],
    [
      'certificates and keys mixed',
      pemOf(root.der) +
        generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      /mixes/,
    ],
    ['neither JSON nor PEM', 'hello', /unrecognised import file/],
  ];
  for (const [what, pem, msg] of cases) {
    const e = t.throws(
      () => planImport(utf8.encode(pem)),
      { instanceOf: StellaError },
      what,
    ) as StellaError;
    t.is(e.code, 'IMPORT_INVALID', what);
    t.regex(e.message, msg, what);
  }
  // A certificate bundle is a CA or TSA chain, never a log's key: --kind tlog or ctlog refused.
  for (const kind of ['tlog', 'ctlog'] as const)
    t.like(
      t.throws(() => planImport(utf8.encode(pemOf(root.der, intermediate.der)), { kind }), {
        instanceOf: StellaError,
      }),
      {
        code: 'IMPORT_INVALID',
        message: `a certificate bundle imports as --kind ca or tsa, not ${kind}`,
      },
    );
  // At most 10 certificates in one chain: the 10th is judged as a certificate (here, a repeat),
  // the 11th refused by count before any is parsed.
  const ten = Array.from({ length: 10 }, () => root.der);
  t.like(
    t.throws(() => orderCertificateChain(ten, 'ca', 'x'), { instanceOf: StellaError }),
    { code: 'IMPORT_INVALID', message: 'x: certificate 2 repeats certificate 1' },
  );
  t.like(
    t.throws(() => orderCertificateChain([...ten, root.der], 'ca', 'x'), {
      instanceOf: StellaError,
    }),
    { code: 'IMPORT_INVALID', message: 'x: more than 10 certificates in one chain' },
  );
  // Said as such: without the check, an empty chain was refused as "exactly one self-signed root certificate, found 0".
  t.like(
    t.throws(() => orderCertificateChain([], 'ca', 'x'), { instanceOf: StellaError }),
    { code: 'IMPORT_INVALID', message: 'x: no certificates' },
  );
});

test("a CA chain whose intermediate's authority key identifier names another key than its root's is refused at import, the store unchanged", async (t) => {
  const { root } = await pki();
  // The chain check refuses this link at every verification (x509/chain.ts), so it must not
  // be stored.
  const misnamed = await misnamedIntermediate(root, NOW - YEAR / 2, NOW + 5 * YEAR);
  const s = store();
  const before = dumpStore(s.path);
  for (const pem of [pemOf(misnamed.der, root.der), pemOf(root.der, misnamed.der)]) {
    const e = t.throws(
      () =>
        importFile(
          s,
          { path: 'chain.pem', bytes: utf8.encode(pem) },
          { uri: 'https://fulcio.private.test' },
          CTX,
        ),
      { instanceOf: StellaError },
    ) as StellaError;
    t.is(e.code, 'IMPORT_INVALID');
    t.regex(
      e.message,
      /^PEM bundle: certificate O=stella\.test, CN=Private Intermediate: its authority key identifier [0-9a-f]{40} is not the subject key identifier [0-9a-f]{40} of O=stella\.test, CN=Private Root$/,
    );
  }
  t.is(dumpStore(s.path), before);
  // Control: the same chain with the AKI naming the root's key imports.
  const named = await makeCa('Private Intermediate', NOW - YEAR / 2, NOW + 5 * YEAR, root);
  const r = importFile(
    s,
    { path: 'chain.pem', bytes: utf8.encode(pemOf(named.der, root.der)) },
    { uri: 'https://fulcio.private.test' },
    CTX,
  );
  t.is(r.added.length, 1);
});

test('a trusted_root.json with a Fulcio CA chain that no verification could pass is refused whole, the store unchanged; TSA chains are not held to it', async (t) => {
  const { root, intermediate } = await pki();
  const other = await makeCa('Other Root', NOW - YEAR, NOW + YEAR);
  const misnamed = await misnamedIntermediate(root, NOW - YEAR / 2, NOW + 5 * YEAR);
  const leaf = await makeLeaf(intermediate, NOW, NOW + DAY);
  const good = caEntry([other.der], NOW - YEAR);
  const s = store();
  const before = dumpStore(s.path);
  const cases: [string, Uint8Array[], RegExp][] = [
    [
      'an authority key identifier naming another key',
      [misnamed.der, root.der],
      /^Certificate chain invalid: CA certificate O=stella\.test, CN=Private Intermediate: its authority key identifier [0-9a-f]{40} is not the subject key identifier [0-9a-f]{40} of O=stella\.test, CN=Private Root \(Fulcio CA https:\/\/fulcio\.stella\.test: nothing issued under it could verify\)$/,
    ],
    [
      'root first',
      [root.der, intermediate.der],
      /^Certificate chain invalid: CA certificate O=stella\.test, CN=Private Root is not issued by O=stella\.test, CN=Private Intermediate \(Fulcio CA/,
    ],
    [
      'a leaf in the chain',
      [leaf, intermediate.der, root.der],
      /^Certificate chain invalid: CA certificate .* is not a CA \(Fulcio CA/,
    ],
  ];
  for (const [what, chain, message] of cases) {
    const e = t.throws(
      () =>
        importFile(
          s,
          {
            path: 'trusted_root.json',
            bytes: utf8.encode(trustedRootOf([good, caEntry(chain, NOW - YEAR / 2)])),
          },
          {},
          CTX,
        ),
      { instanceOf: StellaError },
      what,
    ) as StellaError;
    t.is(e.code, 'IMPORT_INVALID', what);
    t.regex(e.message, message, what);
  }
  // A CA with no certificate at all: the trusted-root parser refuses it first.
  const empty = t.throws(
    () =>
      importFile(
        s,
        {
          path: 'trusted_root.json',
          bytes: utf8.encode(
            trustedRootOf([good, { ...caEntry([root.der], NOW - YEAR / 2), certChain: [] }]),
          ),
        },
        {},
        CTX,
      ),
    { instanceOf: StellaError },
  );
  t.is(empty.code, 'TRUSTED_ROOT_INVALID');
  t.is(
    empty.message,
    'invalid trusted root: certificateAuthorities[1].certChain has no certificates',
  );
  t.is(dumpStore(s.path), before);
  // Controls: the good chain alone, and a TSA chain with the same mismatched link (which
  // links a timestamp check walks depends on the token's signer), import.
  const r = importFile(
    s,
    {
      path: 'trusted_root.json',
      bytes: utf8.encode(
        trustedRootOf([good, caEntry([intermediate.der, root.der], NOW - YEAR / 2)], {
          timestampAuthorities: [caEntry([misnamed.der, root.der], NOW - YEAR / 2)],
        }),
      ),
    },
    {},
    CTX,
  );
  t.deepEqual(
    r.added.map((a) => a.kind),
    ['ca', 'ca', 'tsa'],
  );
});

test("a TSA chain's leaf may be an end-entity certificate, but a lone certificate is the chain's root and must be a CA, for a TSA as for a CA", async (t) => {
  const { root } = await pki();
  const tsaLeaf = await makeLeaf(root, NOW - YEAR / 2, NOW + YEAR);
  const chain = planImport(utf8.encode(pemOf(tsaLeaf, root.der)), { kind: 'tsa' });
  t.is(chain.candidates[0]!.kind, 'tsa');
  const lone = await makeSelfSignedLeaf(NOW - YEAR, NOW + YEAR);
  for (const kind of ['tsa', 'ca'] as const) {
    const e = t.throws(
      () =>
        planImport(utf8.encode(pemOf(lone)), {
          kind,
          ...(kind === 'ca' ? { uri: 'https://fulcio.test' } : {}),
        }),
      { instanceOf: StellaError },
      kind,
    );
    t.is(e.code, 'IMPORT_INVALID', kind);
    t.regex(
      e.message,
      /certificate "Lone TSA" is not a CA certificate \(basicConstraints cA is not set\)/,
      kind,
    );
  }
});

test('a Fulcio /api/v2/trustBundle response imports one CA per chain; the same chain as a PEM bundle is a duplicate', async (t) => {
  const { root, intermediate } = await pki();
  const other = await makeCa('Second Root', NOW - YEAR, NOW + YEAR);
  const bundle = {
    chains: [
      { certificates: [pemOf(intermediate.der), pemOf(root.der)] },
      { certificates: [pemOf(other.der)] },
    ],
  };
  const s = store();
  const r = importFile(
    s,
    { path: 'trustBundle.json', bytes: utf8.encode(JSON.stringify(bundle)) },
    { uri: 'https://fulcio.private.test' },
    CTX,
  );
  t.is(r.format, 'trust-bundle');
  t.is(r.added.length, 2);
  const before = dumpStore(s.path);
  const again = importFile(
    s,
    { path: 'chain.pem', bytes: utf8.encode(pemOf(root.der, intermediate.der)) },
    { uri: 'https://fulcio.private.test' },
    CTX,
  );
  t.is(again.added.length, 0);
  t.is(again.duplicates[0]!.id, r.added[0]!.id);
  t.is(dumpStore(s.path), before);
  for (const bad of [{ chains: [] }, { chains: [{ certificates: [1] }] }, { chains: [{}] }]) {
    t.is(
      (
        t.throws(() => planImport(utf8.encode(JSON.stringify(bad))), {
          instanceOf: StellaError,
        }) as StellaError
      ).code,
      'IMPORT_INVALID',
    );
  }
  s.close();
});

test('a Rekor or CT log public key needs --log-url and --valid-from; tlog and ctlog roles are distinct entries', (t) => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = utf8.encode(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  t.regex((t.throws(() => planImport(pem, { validFrom: NOW })) as Error).message, /--log-url/);
  t.regex(
    (t.throws(() => planImport(pem, { logUrl: 'https://rekor.private.test' })) as Error).message,
    /--valid-from/,
  );
  t.regex(
    (t.throws(() => planImport(pem, { logUrl: 'https://x', validFrom: NOW, kind: 'ca' })) as Error)
      .message,
    /--kind tlog or ctlog/,
  );
  const s = store();
  const a = importFile(
    s,
    { path: 'rekor.pub', bytes: pem },
    { logUrl: 'https://rekor.private.test', validFrom: NOW },
    CTX,
  );
  t.is(a.format, 'log-key');
  t.is(a.added[0]!.kind, 'tlog');
  t.is(a.added[0]!.keyId, toHex(sha256(spki)));
  const b = importFile(
    s,
    { path: 'rekor.pub', bytes: pem },
    { logUrl: 'https://rekor.private.test', validFrom: NOW, kind: 'ctlog' },
    CTX,
  );
  t.is(b.added.length, 1);
  const c = importFile(
    s,
    { path: 'rekor.pub', bytes: pem },
    { logUrl: 'https://elsewhere.test', validFrom: NOW - DAY },
    CTX,
  );
  t.is(c.added.length, 0, 'same key, same role: duplicate');
  const tm = trustMaterialFromStore(s);
  t.is(tm.tlogs.length, 1);
  t.is(tm.ctlogs.length, 1);
  t.is(tm.tlogs[0]!.publicKey.keyDetails, 'PKIX_ECDSA_P256_SHA_256');
  t.is(tm.tlogs[0]!.baseUrl, 'https://rekor.private.test');
  t.deepEqual(tm.tlogs[0]!.logId, sha256(spki));
  t.is(tm.tlogs[0]!.publicKey.validFor.start, NOW);
  t.is(listEntries(s).length, 2);
  s.close();
});

test('Ed25519 log keys get PKIX_ED25519; two PUBLIC KEY blocks in one file are refused', (t) => {
  const k1 = generateKeyPairSync('ed25519')
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  const k2 = generateKeyPairSync('ed25519')
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  const p = planImport(utf8.encode(k1), { logUrl: 'https://log.test', validFrom: NOW });
  t.is(JSON.parse(p.candidates[0]!.material).keyDetails, 'PKIX_ED25519');
  t.regex(
    (
      t.throws(() =>
        planImport(utf8.encode(k1 + k2), { logUrl: 'https://log.test', validFrom: NOW }),
      ) as Error
    ).message,
    /exactly one PUBLIC KEY/,
  );
});

test('a trusted_root.json refuses window and URL flags (it carries its own)', (t) => {
  const doc = utf8.encode(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json',
      tlogs: [],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    }),
  );
  t.is(planImport(doc).candidates.length, 0);
  t.regex(
    (t.throws(() => planImport(doc, { validFrom: NOW })) as Error).message,
    /carries its own/,
  );
});

test('an import file in UTF-16 is named as such; other bytes that are not UTF-8 are refused as before', (t) => {
  const json = JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json' });
  for (const [bytes, form] of [
    [
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]),
      'UTF-16LE (it starts with the byte order mark FF FE)',
    ],
    [Buffer.from('-----BEGIN PUBLIC KEY-----\n', 'utf16le'), 'UTF-16LE'],
  ] as const) {
    const e = t.throws(() => planImport(new Uint8Array(bytes)), { instanceOf: StellaError });
    t.is(e?.code, 'IMPORT_INVALID');
    t.is(
      e?.message,
      `import file (expected JSON or PEM): ${form}, not UTF-8 text: save it as UTF-8`,
    );
  }
  const latin1 = t.throws(() => planImport(Uint8Array.of(0x6b, 0xe9, 0x79)), {
    instanceOf: StellaError,
  });
  t.is(latin1?.message, 'import file (expected JSON or PEM): not UTF-8 text');
});

test('an import of exactly MAX_IMPORT_BYTES is read; one byte more is refused before it is parsed', (t) => {
  const doc = JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  });
  const padded = (size: number) => utf8.encode(doc.padEnd(size, ' '));
  t.is(planImport(padded(MAX_IMPORT_BYTES)).format, 'trusted-root');
  const e = t.throws(() => planImport(padded(MAX_IMPORT_BYTES + 1)), { instanceOf: StellaError });
  t.is(e.code, 'IMPORT_INVALID');
  t.is(e.message, `import file is larger than ${MAX_IMPORT_BYTES} bytes`);
});
