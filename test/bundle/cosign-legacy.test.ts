/**
 * cosign's legacy formats read as a bundle v0.1 (src/bundle/cosign-legacy.ts): the file
 * `cosign sign-blob --bundle` writes without `--new-bundle-format`, made here from real
 * bundles exactly as cosign makes it from a bundle's parts (NewLegacyBundleFromProtoBundle-
 * Components: base64Signature, cert = base64 of PEM, rekorBundle from the first log entry),
 * and verified through the CLI: samples, and the public-good conformance cases (shared).
 */
import test from 'ava';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  bundleFromCosignBlobBundle,
  cosignLegacyBundle,
  isCosignBlobBundle,
} from '../../src/bundle/cosign-legacy.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { leafCertificateDer } from '../../src/bundle/model.js';
import { StellaError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { cosignLegacyFileOf } from '../helpers/cosign-legacy-file.js';
import { CONFORMANCE_DIR } from '../helpers/paths.js';
import { SAMPLES } from '../helpers/samples.js';
import { conformanceCase, conformanceTrustedRootPath, sharedTest } from '../helpers/shared.js';

type Json = Record<string, any>;
const legacyOf = cosignLegacyFileOf;

const sample = (name: string): Json =>
  JSON.parse(readFileSync(path.join(SAMPLES, name), 'utf8')) as Json;
const bytesOf = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

test('a legacy blob bundle becomes a bundle v0.1 carrying the same signature, leaf, entry body, SET and coordinates', (t) => {
  const blob = sample('blob.sigstore.json');
  const original = parseBundle(JSON.stringify(blob));
  for (const form of ['pem', 'der'] as const) {
    const legacy = legacyOf(blob, form);
    t.true(isCosignBlobBundle(legacy));
    const read = cosignLegacyBundle(bytesOf(legacy), 'b.json');
    if (!read) return t.fail('not read as legacy');
    const b = read.bundle;
    t.is(b.mediaType, 'application/vnd.dev.sigstore.bundle+json;version=0.1');
    t.regex(read.note, /^b\.json is cosign's legacy bundle format/);
    // The digest is the one the hashedrekord entry records (cosign's file names none itself).
    t.deepEqual(b.content, original.content);
    const leaf = (x: typeof b) => leafCertificateDer(x.verificationMaterial.content);
    t.deepEqual(leaf(b), leaf(original), form);
    const [e] = b.verificationMaterial.tlogEntries;
    const [o] = original.verificationMaterial.tlogEntries;
    t.deepEqual(
      [e!.canonicalizedBody, e!.inclusionPromise, e!.logId, e!.integratedTime, e!.logIndex],
      [o!.canonicalizedBody, o!.inclusionPromise, o!.logId, o!.integratedTime, o!.logIndex],
    );
    t.is(e!.inclusionProof, undefined, 'cosign keeps no inclusion proof');
  }
  // A key-based one (`cosign sign-blob --key`): the public key's PEM in "cert".
  const keyed = cosignLegacyBundle(
    bytesOf(
      legacyOf(sample('managed-key.sigstore.json'), {
        keyPem: readFileSync(path.join(SAMPLES, 'key.pub'), 'utf8'),
      }),
    ),
    'k.json',
  );
  t.is(keyed?.bundle.verificationMaterial.content.kind, 'publicKey');
  // Not logged (`--tlog-upload=false`): no entry.
  const unlogged = legacyOf(blob);
  delete unlogged.rekorBundle;
  const unloggedRead = cosignLegacyBundle(bytesOf(unlogged), 'u.json')?.bundle;
  t.deepEqual(unloggedRead?.verificationMaterial.tlogEntries, []);
  t.like(unloggedRead?.content, { kind: 'messageSignature', messageDigest: undefined });
  // An entry that records no SHA-256 (another algorithm, another kind) gives no digest either.
  const logged = legacyOf(blob);
  const body = JSON.parse(Buffer.from(logged.rekorBundle.Payload.body, 'base64').toString());
  for (const edit of [
    (b: Json) => (b.spec.data.hash.algorithm = 'sha512'),
    (b: Json) => (b.kind = 'rekord'),
    (b: Json) => (b.spec.data.hash.value = b.spec.data.hash.value.toUpperCase()),
  ]) {
    const edited = structuredClone(body);
    edit(edited);
    logged.rekorBundle.Payload.body = Buffer.from(JSON.stringify(edited)).toString('base64');
    t.like(cosignLegacyBundle(bytesOf(logged), 'e.json')?.bundle.content, {
      messageDigest: undefined,
    });
  }
});

test("cosign attest-blob's legacy file (the DSSE envelope's JSON in base64Signature) becomes a bundle v0.1 with that envelope; an envelope with a field DSSE has not is refused naming it", (t) => {
  const att = sample('attestation.sigstore.json');
  const original = parseBundle(JSON.stringify(att));
  const legacy = legacyOf(att);
  const read = cosignLegacyBundle(bytesOf(legacy), 'a.json');
  if (!read) return t.fail('not read as legacy');
  t.is(read.bundle.content.kind, 'dsseEnvelope');
  t.deepEqual(read.bundle.content, original.content);
  const [e] = read.bundle.verificationMaterial.tlogEntries;
  t.deepEqual(
    e!.canonicalizedBody,
    original.verificationMaterial.tlogEntries[0]!.canonicalizedBody,
  );
  const envelope = JSON.parse(Buffer.from(legacy.base64Signature, 'base64').toString('utf8'));
  const withExtra = {
    ...legacy,
    base64Signature: Buffer.from(JSON.stringify({ ...envelope, mediaType: 'x' })).toString(
      'base64',
    ),
  };
  const err = t.throws(() => cosignLegacyBundle(bytesOf(withExtra), 'a.json'), {
    instanceOf: StellaError,
  });
  t.is(err.code, 'BUNDLE_MALFORMED');
  t.regex(
    err.message,
    /^a\.json: base64Signature holds a JSON object, read as the DSSE envelope cosign attest-blob writes there, which has no field "mediaType"$/,
  );
  // A message signature whose bytes only start like JSON stays a message signature.
  const blob = legacyOf(sample('blob.sigstore.json'));
  blob.base64Signature = Buffer.from('{not json').toString('base64');
  t.is(cosignLegacyBundle(bytesOf(blob), 'b.json')?.bundle.content.kind, 'messageSignature');
});

test('only the legacy shape is read as one; a wrong legacy file is refused as BUNDLE_MALFORMED naming the field', (t) => {
  const blob = sample('blob.sigstore.json');
  // A Sigstore bundle (it has a mediaType), or any other JSON: not legacy, the caller's refusal stands.
  t.false(isCosignBlobBundle(blob));
  t.is(cosignLegacyBundle(bytesOf({ foo: 1 }), 'x'), undefined);
  t.is(cosignLegacyBundle(new TextEncoder().encode('not json'), 'x'), undefined);
  const legacy = legacyOf(blob);
  for (const [change, message] of [
    [{ extra: 1 }, /^x: cosign's legacy bundle has no field "extra"$/],
    [{ cert: '' }, /^x: cosign's legacy bundle has no "cert"/],
    [{ base64Signature: 'not base64!' }, /^x: base64Signature: invalid base64/],
    [{ base64Signature: '' }, /^x: base64Signature is empty$/],
    [
      { cert: Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n').toString('base64') },
      /has no END line/,
    ],
    [
      { cert: Buffer.from('-----BEGIN CERTIFICATE-----\n\xff\n', 'latin1').toString('base64') },
      /^x: cert is PEM with bytes that are not UTF-8$/,
    ],
    [
      { rekorBundle: { SignedEntryTimestamp: 'x' } },
      /^x: rekorBundle is not a cosign Rekor bundle$/,
    ],
    [
      {
        rekorBundle: {
          ...legacy.rekorBundle,
          Payload: { ...legacy.rekorBundle.Payload, logID: 'ab' },
        },
      },
      /^x: rekorBundle lacks body, integratedTime, logIndex or logID$/,
    ],
    // Each of the four on its own (stop 57: a mutant that let a bad integratedTime through
    // when logIndex was good survived).
    ...[{ integratedTime: '1700000000' }, { logIndex: 1.5 }, { body: 7 }, { logID: undefined }].map(
      (field) =>
        [
          {
            rekorBundle: {
              ...legacy.rekorBundle,
              Payload: { ...legacy.rekorBundle.Payload, ...field },
            },
          },
          /^x: rekorBundle lacks body, integratedTime, logIndex or logID$/,
        ] as const,
    ),
    // The entry body names its kind and its version; either missing is no Rekor entry.
    ...[{ kind: 'hashedrekord' }, { apiVersion: '0.0.1' }].map(
      (body) =>
        [
          {
            rekorBundle: {
              ...legacy.rekorBundle,
              Payload: {
                ...legacy.rekorBundle.Payload,
                body: Buffer.from(JSON.stringify(body)).toString('base64'),
              },
            },
          },
          /^x: rekorBundle: the Rekor entry body has no kind and apiVersion$/,
        ] as const,
    ),
  ] as const) {
    const e = t.throws(() => bundleFromCosignBlobBundle({ ...legacy, ...change }, 'x'), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'BUNDLE_MALFORMED', JSON.stringify(change));
    t.regex(e.message, message);
  }
});

const IDENTITY = (s: Json) => [
  '--certificate-identity',
  s.identity,
  '--certificate-oidc-issuer',
  s.issuer,
];

test('attest verify and inspect read a cosign legacy --bundle file (sign-blob and attest-blob), say so, and verify it; a flipped signature bit no longer matches its log entry', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-legacy-'));
  const manifest = JSON.parse(readFileSync(path.join(SAMPLES, 'samples.json'), 'utf8')) as {
    bundles: Json[];
  };
  const s = manifest.bundles.find((b) => b.name === 'blob')!;
  const legacy = legacyOf(sample('blob.sigstore.json'));
  const file = path.join(dir, 'artifact.txt.bundle');
  writeFileSync(file, JSON.stringify(legacy));
  const args = (bundle: string, of = s) => [
    'attest',
    'verify',
    path.join(SAMPLES, of.artifact),
    '--bundle',
    bundle,
    '--trusted-root',
    path.join(SAMPLES, 'trusted_root.json'),
    ...IDENTITY(of),
  ];
  const ok = await runCli([...args(file), '--json']);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  const out = JSON.parse(ok.stdout) as { ok: boolean; warnings: string[] };
  t.true(out.ok);
  t.true(
    out.warnings.some((w) => /cosign's legacy bundle format/.test(w)),
    out.warnings.join('\n'),
  );
  const sig = Buffer.from(legacy.base64Signature, 'base64');
  sig[sig.length - 1]! ^= 1;
  const bad = path.join(dir, 'bad.bundle');
  writeFileSync(bad, JSON.stringify({ ...legacy, base64Signature: sig.toString('base64') }));
  const refused = await runCli([...args(bad), '--json']);
  t.not(refused.code, 0);
  // The log entry's body names the original signature: the tlog check sees the change first.
  t.is(
    (JSON.parse(refused.stdout) as { error: { code: string } }).error.code,
    'TLOG_BODY_MISMATCH',
  );
  // cosign attest-blob's file: the envelope, verified as the attestation it is.
  const a = manifest.bundles.find((b) => b.name === 'attestation')!;
  const attestation = path.join(dir, 'attestation.bundle');
  writeFileSync(attestation, JSON.stringify(legacyOf(sample(a.bundle))));
  const attested = await runCli([...args(attestation, a), '--json']);
  t.is(attested.code, 0, attested.stdout + attested.stderr);
  const attInspect = await runCli(['attest', 'inspect', attestation]);
  t.regex(
    attInspect.stdout,
    /^Bundle: application\/vnd\.dev\.sigstore\.bundle\+json;version=0\.1 \(dsseEnvelope\)$/m,
  );
  const inspect = await runCli(['attest', 'inspect', file]);
  t.is(inspect.code, 0, inspect.stderr);
  t.regex(
    inspect.stdout,
    /^Bundle: application\/vnd\.dev\.sigstore\.bundle\+json;version=0\.1 \(messageSignature\)$/m,
  );
  t.regex(inspect.stderr, /cosign's legacy bundle format/);
  const inspectJson = await runCli(['attest', 'inspect', file, '--json']);
  t.regex(
    (JSON.parse(inspectJson.stdout) as { warnings: string[] }).warnings.join('\n'),
    /cosign's legacy bundle format/,
  );
  // export-bundle takes only bundles that verify offline with a proof: refused as such.
  const exported = await runCli([
    'attest',
    'export-bundle',
    '--bundle',
    file,
    '--output',
    path.join(dir, 'x.tar'),
    '--json',
  ]);
  t.is(exported.code, 34, exported.stdout + exported.stderr);
  t.regex(
    (JSON.parse(exported.stdout) as { error: { message: string } }).error.message,
    /^Rekor proof missing: --bundle ".*artifact\.txt\.bundle" is cosign's legacy bundle format .* keeps no inclusion proof/,
  );
  // A JSON file that is neither: the parser's own refusal, unchanged.
  const other = path.join(dir, 'other.json');
  writeFileSync(other, '{"foo":1}');
  const neither = await runCli([...args(other), '--json']);
  t.is(
    (JSON.parse(neither.stdout) as { error: { message: string } }).error.message,
    'bundle mediaType missing',
  );
});

sharedTest(
  "shared conformance: public-good bundles written in cosign's legacy format verify through the CLI as the originals do",
  async (t) => {
    const identity =
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
    const issuer = 'https://token.actions.githubusercontent.com';
    const dir = mkdtempSync(path.join(tmpdir(), 'stella-legacy-shared-'));
    const verify = async (name: string, legacy: boolean) => {
      const caseDir = conformanceCase(name);
      let file = path.join(caseDir, 'bundle.sigstore.json');
      if (legacy) {
        const bundle = JSON.parse(readFileSync(file, 'utf8')) as Json;
        file = path.join(dir, `${name}.bundle`);
        writeFileSync(file, JSON.stringify(legacyOf(bundle)));
      }
      const r = await runCli([
        'attest',
        'verify',
        path.join(CONFORMANCE_DIR, 'a.txt'),
        '--bundle',
        file,
        '--trusted-root',
        conformanceTrustedRootPath(caseDir),
        '--certificate-identity',
        identity,
        '--certificate-oidc-issuer',
        issuer,
        '--json',
      ]);
      return { ...r, error: (JSON.parse(r.stdout) as { error?: { code: string } }).error?.code };
    };
    // cosign attest-blob's file too (since stop 54): the in-toto happy path below, and these
    // failures (two of them DSSE), refused with the code the original is refused with.
    for (const name of [
      'dsse-invalid-sig_fail',
      'dsse-mismatch-envelope_fail',
      'signature-mismatch_fail',
    ]) {
      const original = await verify(name, false);
      const legacy = await verify(name, true);
      t.not(original.code, 0, name);
      t.is(legacy.error, original.error, `${name}: ${legacy.stdout}${legacy.stderr}`);
    }
    for (const name of [
      'happy-path-v0.1',
      'happy-path-v0.3',
      'happy-path-v0.3-new-mediaType',
      'happy-path-intoto-in-dsse-v3',
    ]) {
      const r = await verify(name, true);
      t.is(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
    }
  },
);
