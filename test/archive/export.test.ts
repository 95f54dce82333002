/**
 * Export archives end to end: three artifacts signed in process by a sandbox authority,
 * exported, read back and verified from the archive; reproducibility; and the manifest
 * checks (checklist A14: entries not on the manifest, digests that do not match).
 */
import test from 'ava';
import { Encoder } from 'cbor-x';
import { StellaError } from '../../src/errors.js';
import { sha256, sha256OfChunks } from '../../src/crypto.js';
import { concatBytes, toHex, utf8 } from '../../src/util/encoding.js';
import { serializeBundle } from '../../src/bundle/serialize.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { buildInTotoStatement, IN_TOTO_PAYLOAD_TYPE } from '../../src/bundle/intoto.js';
import { buildPolicy } from '../../src/verify/policy.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import { readTarStrict, writeTar } from '../../src/archive/tar.js';
import {
  artifactDigestsOf,
  buildExportArchive,
  checkEntryOrder,
  requireProof,
  bundlesForArtifact,
  entryLimit,
  EXPORT_LIMITS,
  EXPORT_TAR_LIMITS,
  prepareExportArchive,
  readExportArchive,
  type ExportInput,
} from '../../src/archive/export.js';
import {
  decodeManifest,
  encodeManifest,
  MANIFEST_NAME,
  type ExportManifest,
} from '../../src/archive/manifest.js';
import {
  AUTHORITY_CREATED_AT,
  ISSUER_URL,
  signBlob,
  signDsse,
  testAuthority,
} from '../helpers/authority-bundles.js';
import { rawExportArchive } from '../helpers/export-archive.js';
import { CONSISTENCY_LIMITS } from '../../src/archive/consistency.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

const authority = testAuthority('export-archive');
const T0 = AUTHORITY_CREATED_AT + 3_600_000;

interface Artifact {
  data: Uint8Array;
  digest: string;
}
const artifacts: Artifact[] = ['first artifact\n', 'second artifact\n', 'third artifact\n'].map(
  (s) => {
    const data = utf8.encode(s);
    return { data, digest: `sha256:${toHex(sha256(data))}` };
  },
);

// Artifact 0: a blob signature; artifact 1: a blob signature and an in-toto attestation;
// artifact 2: a blob signature. Signed at increasing times, so the newest is known.
const signed = [
  { artifact: 0, ...signBlob(authority, artifacts[0]!.data, { repo: 'org/one', now: T0 }) },
  {
    artifact: 1,
    ...signBlob(authority, artifacts[1]!.data, { repo: 'org/two', now: T0 + 60_000 }),
  },
  {
    artifact: 1,
    ...signDsse(
      authority,
      buildInTotoStatement(
        [{ name: 'second', digest: { sha256: artifacts[1]!.digest.slice(7) } }],
        'https://slsa.dev/provenance/v1',
        { ok: true },
      ).payload,
      IN_TOTO_PAYLOAD_TYPE,
      {
        repo: 'org/two',
        now: T0 + 120_000,
      },
    ),
  },
  {
    artifact: 2,
    ...signBlob(authority, artifacts[2]!.data, { repo: 'org/three', now: T0 + 180_000 }),
  },
];
/** Inputs whose bytes are held (the tests read them back). */
type HeldInput = ExportInput & { bytes: Uint8Array };

const inputs: HeldInput[] = signed.map((s, i) => ({
  artifactDigest: artifacts[s.artifact]!.digest,
  bytes: utf8.encode(serializeBundle(s.bundle)),
  source: `bundle ${i}`,
}));
const trustedRootBytes = utf8.encode(authority.trustedRootJson());

function refused(
  t: import('ava').ExecutionContext,
  f: () => unknown,
  code: string,
  msg?: RegExp,
): StellaError {
  const e = t.throws(f, { instanceOf: StellaError }) as StellaError;
  t.is<string, string>(e.code, code, e.message);
  if (msg) t.regex(e.message, msg);
  return e;
}

/** The archive's entries, to edit and write back with the project's own tar writer. */
async function entriesOf(archive: Uint8Array): Promise<Map<string, Uint8Array>> {
  return readTarStrict(archive, EXPORT_TAR_LIMITS);
}
function retar(
  files: Map<string, Uint8Array>,
  names: string[] = [...files.keys()],
): Promise<Uint8Array> {
  return writeTar(names.map((name) => ({ name, data: files.get(name)! })));
}
const manifestOf = (files: Map<string, Uint8Array>): ExportManifest =>
  decodeManifest(files.get(MANIFEST_NAME)!, 100);

test('round trip: three artifacts exported, read back, and every bundle verifies from the archive', async (t) => {
  const { archive, manifest } = await buildExportArchive({
    bundles: inputs,
    trustedRoot: trustedRootBytes,
  });
  const read = readExportArchive(archive);
  t.deepEqual(read.manifest, manifest);
  t.is(read.bundles.length, 4);
  t.deepEqual(read.trustedRoot, trustedRootBytes);
  // Layout: manifest first, bundles sorted by artifact digest, trusted root last.
  const names = [...readTarStrict(archive, EXPORT_TAR_LIMITS).keys()];
  t.is(names[0], MANIFEST_NAME);
  t.is(names.at(-1), 'trusted_root.json');
  const bundleNames = names.slice(1, -1);
  t.deepEqual(bundleNames, [...bundleNames].sort());
  t.true(bundleNames.every((n) => /^bundles\/[0-9a-f]{64}\/[0-9]+\.sigstore\.json$/.test(n)));
  // Created-at is the newest integrated time (the last signature), not the clock.
  const newest = Math.max(
    ...signed.map((s) => s.bundle.verificationMaterial.tlogEntries[0]!.integratedTime),
  );
  t.is(manifest.createdAt, new Date(newest * 1000).toISOString());
  for (const e of manifest.entries) {
    t.is(e.issuer, ISSUER_URL);
    t.regex(e.identity!, /^https:\/\/github\.com\/org\//);
    t.true(Number.isInteger(e.logIndex));
  }

  const trust = authority.trustMaterial();
  for (const s of signed) {
    const a = artifacts[s.artifact]!;
    const { bundles, refused } = bundlesForArtifact(read, a.digest);
    t.deepEqual(refused, []);
    t.is(bundles.length, s.artifact === 1 ? 2 : 1);
    const policy = buildPolicy({
      certificateIdentity: literalPattern(s.identity),
      certificateOidcIssuer: ISSUER_URL,
      requireTlog: true,
    });
    let ok = 0;
    for (const bundle of bundles) {
      for (const artifact of [
        { kind: 'bytes' as const, data: a.data },
        { kind: 'digest' as const, algorithm: 'SHA2_256' as const, digest: sha256(a.data) },
      ]) {
        const report = await verifyBundleReport({ bundle, artifact, trust, policy });
        if (report.ok) ok++;
      }
    }
    t.is(
      ok,
      bundles.length * 2,
      `every bundle for artifact ${s.artifact} verifies from the archive, by bytes and by digest`,
    );
  }
  // The bundles come back byte for byte.
  for (const b of read.bundles) t.true(inputs.some((i) => Buffer.from(i.bytes).equals(b.bytes)));
  refused(
    t,
    () => bundlesForArtifact(read, `sha256:${'0'.repeat(64)}`),
    'NO_ATTESTATIONS_FOUND',
    /no attestations found/,
  );
});

test('reproducible: the same inputs, in any order, give byte-identical archives', async (t) => {
  const a = await buildExportArchive({ bundles: inputs, trustedRoot: trustedRootBytes });
  const b = await buildExportArchive({
    bundles: [...inputs].reverse(),
    trustedRoot: trustedRootBytes,
  });
  const c = await buildExportArchive({
    bundles: [...inputs, inputs[0]!] /* a duplicate is kept once */,
    trustedRoot: trustedRootBytes,
  });
  t.deepEqual(a.archive, b.archive);
  t.deepEqual(a.archive, c.archive);
  // The chunks the CLI writes out one by one are the archive, in order.
  const chunks: Uint8Array[] = [];
  const writer = await prepareExportArchive({ bundles: inputs, trustedRoot: trustedRootBytes });
  for await (const c of writer.chunks()) chunks.push(c);
  t.true(chunks.length > 3);
  t.deepEqual(new Uint8Array(Buffer.concat(chunks)), a.archive);
  t.deepEqual(sha256OfChunks(chunks), sha256(a.archive));
  const fixed = await buildExportArchive({ bundles: inputs, createdAt: Date.UTC(2026, 0, 31) });
  t.is(fixed.manifest.createdAt, '2026-01-31T00:00:00.000Z');
  t.notDeepEqual(fixed.archive, a.archive);
  t.deepEqual(
    fixed.archive,
    (await buildExportArchive({ bundles: inputs, createdAt: Date.UTC(2026, 0, 31) })).archive,
  );
});

test('inputs read again when written (a store row by id) give the same archive, read twice and never held; one that changed in between is refused', async (t) => {
  const held = await buildExportArchive({ bundles: inputs, trustedRoot: trustedRootBytes });
  const reads = new Map<number, number>();
  const reread = (mutate?: (n: number, b: Uint8Array) => Uint8Array): ExportInput[] =>
    inputs.map((input, i) => ({
      ...input,
      bytes: () => {
        const n = (reads.get(i) ?? 0) + 1;
        reads.set(i, n);
        return mutate ? mutate(n, input.bytes) : input.bytes.slice();
      },
    }));
  const again = await buildExportArchive({ bundles: reread(), trustedRoot: trustedRootBytes });
  t.deepEqual(again.archive, held.archive);
  t.deepEqual(
    [...reads.values()],
    inputs.map(() => 2),
    'each bundle read once to judge, once to write',
  );
  // Judged before anything is written: the manifest exists before the first chunk is asked for.
  reads.clear();
  const writer = await prepareExportArchive({ bundles: reread() });
  t.is(writer.manifest.entries.length, held.manifest.entries.length);
  t.deepEqual(
    [...reads.values()],
    inputs.map(() => 1),
  );
  t.throws(
    () => {
      void writer.chunks();
      void writer.chunks();
    },
    { message: /written once/ },
  );
  // A bundle that is different the second time (a store row replaced) refuses the archive.
  reads.clear();
  const changed = reread((n, b) => (n === 2 ? utf8.encode(` ${Buffer.from(b).toString()}`) : b));
  const e = await t.throwsAsync(buildExportArchive({ bundles: changed }), {
    instanceOf: StellaError,
  });
  t.is(e.code, 'INPUT_INVALID');
  t.regex(e.message, /changed while the archive was being written/);
  // Same size, other bytes: the digest catches it.
  reads.clear();
  const flipped = reread((n, b) => {
    if (n !== 2) return b;
    const c = b.slice();
    c[c.length - 2] = c[c.length - 2]! ^ 1;
    return c;
  });
  await t.throwsAsync(buildExportArchive({ bundles: flipped }), {
    message: /changed while the archive was being written/,
  });
});

test('the in-toto attestation is filed under its subject; a message signature under its digest', (t) => {
  t.deepEqual(artifactDigestsOf(signed[2]!.bundle), [artifacts[1]!.digest]);
  t.deepEqual(artifactDigestsOf(signed[0]!.bundle), [artifacts[0]!.digest]);
});

test('a bundle without an inclusion proof and checkpoint is refused: Rekor proof missing (alone, or left out of the others)', async (t) => {
  const b = parseBundle(inputs[0]!.bytes);
  const noProof = {
    ...b,
    verificationMaterial: {
      ...b.verificationMaterial,
      tlogEntries: b.verificationMaterial.tlogEntries.map((e) => ({
        ...e,
        inclusionProof: undefined,
      })),
    },
  };
  const noEntry = { ...b, verificationMaterial: { ...b.verificationMaterial, tlogEntries: [] } };
  const good = await buildExportArchive({ bundles: inputs });
  for (const bundle of [noProof, noEntry]) {
    const bad: ExportInput = {
      artifactDigest: inputs[0]!.artifactDigest,
      bytes: utf8.encode(serializeBundle(bundle)),
      source: 'bad.json',
    };
    const e = await t.throwsAsync(buildExportArchive({ bundles: [bad] }), {
      instanceOf: StellaError,
    });
    t.is(e.code, 'REKOR_PROOF_MISSING');
    t.regex(e.message, /Rekor proof missing/);
    // Among good bundles it is left out and reported; the archive is the one without it.
    const mixed = await buildExportArchive({ bundles: [bad, ...inputs] });
    t.deepEqual(mixed.archive, good.archive);
    t.is(mixed.refused.length, 1);
    t.is(mixed.refused[0]!.source, 'bad.json');
    t.is(mixed.refused[0]!.failure.code, 'REKOR_PROOF_MISSING');
    // The model-level check names the source (the strict v0.3 parser may refuse first).
    refused(
      t,
      () => requireProof(bundle, 'bad.json'),
      'REKOR_PROOF_MISSING',
      /Rekor proof missing: bad\.json has no transparency log entry with an inclusion proof and checkpoint/,
    );
  }
  const noCheckpoint = {
    ...b,
    verificationMaterial: {
      ...b.verificationMaterial,
      tlogEntries: b.verificationMaterial.tlogEntries.map((e) => ({
        ...e,
        inclusionProof: { ...e.inclusionProof!, checkpoint: '' },
      })),
    },
  };
  refused(t, () => requireProof(noCheckpoint, 'bad.json'), 'REKOR_PROOF_MISSING');
  t.is(requireProof(b, 'good.json').logIndex, b.verificationMaterial.tlogEntries[0]!.logIndex);
  const empty = await t.throwsAsync(buildExportArchive({ bundles: [] }), {
    instanceOf: StellaError,
  });
  t.is(empty.code, 'NO_ATTESTATIONS_FOUND');
});

/** inputs[i] with its first entry's integrated time set to `seconds` (text, as protobuf JSON allows). */
function withIntegratedTime(i: number, seconds: string): HeldInput {
  const json = JSON.parse(new TextDecoder().decode(inputs[i]!.bytes)) as {
    verificationMaterial: { tlogEntries: { integratedTime: string }[] };
  };
  json.verificationMaterial.tlogEntries[0]!.integratedTime = seconds;
  return {
    ...inputs[i]!,
    bytes: utf8.encode(JSON.stringify(json)),
    source: `bundle ${i} with integratedTime ${seconds}`,
  };
}

test('H50: a bundle with an integrated time out of range is left out and reported; the others are exported', async (t) => {
  const good = await buildExportArchive({ bundles: inputs, createdAt: Date.UTC(2026, 0, 31) });
  // 1e13 s is past what a Date holds: it used to crash the manifest's time formatting.
  for (const seconds of ['10000000000000', '253402300800']) {
    const bad = withIntegratedTime(1, seconds);
    const r = await buildExportArchive({
      bundles: [inputs[0]!, bad, ...inputs.slice(1)],
      createdAt: Date.UTC(2026, 0, 31),
    });
    t.deepEqual(r.archive, good.archive, 'exactly the archive of the good bundles');
    t.is(r.refused.length, 1);
    t.is(r.refused[0]!.source, bad.source);
    t.is(r.refused[0]!.failure.code, 'BUNDLE_MALFORMED');
    t.regex(
      r.refused[0]!.failure.message,
      new RegExp(`integratedTime: ${seconds} is not a time in range`),
    );
    // Without --created-at the archive time is the newest GOOD integrated time.
    t.is(
      (await buildExportArchive({ bundles: [bad, ...inputs] })).manifest.createdAt,
      (await buildExportArchive({ bundles: inputs })).manifest.createdAt,
    );
  }
  // Only bad bundles: nothing to export, the first refusal is the error.
  const e = await t.throwsAsync(
    buildExportArchive({
      bundles: [withIntegratedTime(0, '1e13'), withIntegratedTime(1, '10000000000000')],
    }),
    { instanceOf: StellaError },
  );
  t.is(e.code, 'BUNDLE_MALFORMED');
  t.regex(e.message, /integratedTime: not a non-negative integer \("1e13"\)/);
  t.is(
    (
      await t.throwsAsync(buildExportArchive({ bundles: inputs, createdAt: 8.64e15 + 1 }), {
        instanceOf: StellaError,
      })
    ).code,
    'INPUT_INVALID',
  );
});

test('H50: an archive holding a bad bundle still yields the good ones for its artifact, the bad one reported', async (t) => {
  const digest = artifacts[1]!.digest;
  const bad = withIntegratedTime(1, '10000000000000');
  const archive = readExportArchive(
    await rawExportArchive([
      { artifactDigest: digest, bytes: bad.bytes },
      { artifactDigest: digest, bytes: inputs[2]!.bytes },
    ]),
  );
  const { bundles, refused } = bundlesForArtifact(archive, digest, 'archive x.tar');
  t.is(bundles.length, 1);
  t.deepEqual(bundles[0], parseBundle(inputs[2]!.bytes));
  t.is(refused.length, 1);
  t.is(refused[0]!.source, `archive x.tar: bundles/${digest.slice(7)}/0.sigstore.json`);
  t.is(refused[0]!.failure.code, 'BUNDLE_MALFORMED');
  // Nothing readable for the artifact: the refusal itself is the error.
  const onlyBad = readExportArchive(
    await rawExportArchive([{ artifactDigest: digest, bytes: bad.bytes }]),
  );
  t.is(
    (
      t.throws(() => bundlesForArtifact(onlyBad, digest), {
        instanceOf: StellaError,
      }) as StellaError
    ).code,
    'BUNDLE_MALFORMED',
  );
});

test('A14: a bundle whose bytes do not match the manifest digest is refused', async (t) => {
  const { archive } = await buildExportArchive({ bundles: inputs });
  t.notThrows(() => readExportArchive(archive));
  const files = await entriesOf(archive);
  const target = [...files.keys()][1]!;
  // Same size, one byte changed: only the digest can catch it.
  const edited = new Uint8Array(files.get(target)!);
  edited[edited.length - 2]! ^= 0x01;
  files.set(target, edited);
  const tampered = await retar(files);
  refused(
    t,
    () => readExportArchive(tampered),
    'ARCHIVE_MANIFEST_MISMATCH',
    /does not match the manifest/,
  );
  // The same, by flipping the byte in place in the archive (tar header checksums cover headers only).
  const inPlace = new Uint8Array(archive);
  const at = Buffer.from(archive).indexOf(Buffer.from(files.get(target)!.subarray(0, 64)));
  t.true(at > 0);
  inPlace[at + 10]! ^= 0x01;
  refused(
    t,
    () => readExportArchive(inPlace),
    'ARCHIVE_MANIFEST_MISMATCH',
    /does not match the manifest/,
  );
});

test('A14: a manifest that states another digest or size for an untouched bundle is refused', async (t) => {
  const files = await entriesOf((await buildExportArchive({ bundles: inputs })).archive);
  const m = manifestOf(files);
  files.set(
    MANIFEST_NAME,
    encodeManifest({
      ...m,
      entries: m.entries.map((e, i) => (i === 0 ? { ...e, sha256: 'f'.repeat(64) } : e)),
    }),
  );
  const wrongDigest = await retar(files);
  refused(
    t,
    () => readExportArchive(wrongDigest),
    'ARCHIVE_MANIFEST_MISMATCH',
    /does not match the manifest/,
  );
  files.set(
    MANIFEST_NAME,
    encodeManifest({
      ...m,
      entries: m.entries.map((e, i) => (i === 0 ? { ...e, size: e.size + 1 } : e)),
    }),
  );
  const wrongSize = await retar(files);
  refused(
    t,
    () => readExportArchive(wrongSize),
    'ARCHIVE_MANIFEST_MISMATCH',
    /does not match the manifest/,
  );
});

test('A14: entries not on the manifest, missing, out of order, misplaced, or a manifest not first are refused', async (t) => {
  const files = await entriesOf((await buildExportArchive({ bundles: inputs })).archive);
  const names = [...files.keys()];
  const m = manifestOf(files);

  // An extra bundle the manifest does not list (a valid name and a valid bundle).
  const extraName = `bundles/${artifacts[0]!.digest.slice(7)}/7.sigstore.json`;
  files.set(extraName, inputs[3]!.bytes);
  const unlisted = await retar(files, [...names, extraName]);
  refused(
    t,
    () => readExportArchive(unlisted),
    'ARCHIVE_MANIFEST_MISMATCH',
    /is not on the manifest/,
  );
  files.delete(extraName);

  // A trusted root the manifest does not mention.
  files.set('trusted_root.json', trustedRootBytes);
  const unlistedRoot = await retar(files, [...names, 'trusted_root.json']);
  refused(
    t,
    () => readExportArchive(unlistedRoot),
    'ARCHIVE_MANIFEST_MISMATCH',
    /"trusted_root\.json" is not on the manifest/,
  );

  // A consistency file the manifest does not mention (it names one in `consistency` when it
  // carries one).
  files.set('consistency.json', utf8.encode('{}'));
  const unlistedConsistency = await retar(files, [...names, 'consistency.json']);
  refused(
    t,
    () => readExportArchive(unlistedConsistency),
    'ARCHIVE_MANIFEST_MISMATCH',
    /"consistency\.json" is not on the manifest/,
  );

  const missing = await retar(files, names.slice(0, -1));
  refused(t, () => readExportArchive(missing), 'ARCHIVE_MANIFEST_MISMATCH', /archive is missing/);

  const swapped = await retar(files, [names[0]!, names[2]!, names[1]!, ...names.slice(3)]);
  refused(t, () => readExportArchive(swapped), 'ARCHIVE_MANIFEST_MISMATCH', /out of order/);

  const notFirst = await retar(files, [...names.slice(1), names[0]!]);
  refused(
    t,
    () => readExportArchive(notFirst),
    'ARCHIVE_MANIFEST_MISMATCH',
    /first entry must be manifest\.cbor/,
  );

  // A manifest filing artifact 0's bundle under artifact 1's directory.
  const other = artifacts[1]!.digest;
  files.set(
    MANIFEST_NAME,
    encodeManifest({
      ...m,
      entries: m.entries.map((e, i) =>
        i === 0
          ? { ...e, artifactDigest: e.artifactDigest === other ? artifacts[0]!.digest : other }
          : e,
      ),
    }),
  );
  const misplaced = await retar(files, names);
  refused(t, () => readExportArchive(misplaced), 'ARCHIVE_MANIFEST_MISMATCH', /outside bundles\//);
});

test('A14: a bundle filed in its own directory under another number than its place is refused, naming where it belongs', async (t) => {
  const files = await entriesOf((await buildExportArchive({ bundles: inputs })).archive);
  const names = [...files.keys()];
  const m = manifestOf(files);
  const first = m.entries[0]!;
  // The same directory and a well-formed name, so only the number is wrong: on the manifest
  // and in the tar alike, so nothing but the numbering can refuse it.
  const renamed = first.path.replace(/\/0\.sigstore\.json$/, '/7.sigstore.json');
  t.not(renamed, first.path);
  files.set(renamed, files.get(first.path)!);
  files.set(
    MANIFEST_NAME,
    encodeManifest({
      ...m,
      entries: m.entries.map((e, i) => (i === 0 ? { ...e, path: renamed } : e)),
    }),
  );
  const renumbered = await retar(
    files,
    names.map((n) => (n === first.path ? renamed : n)),
  );
  const e = refused(t, () => readExportArchive(renumbered), 'ARCHIVE_MANIFEST_MISMATCH');
  t.is(
    e.message,
    `manifest.cbor: entries[0] is "${renamed}" where ${first.path} belongs (listed twice or out of order)`,
  );
});

test('the manifest must be exactly the canonical CBOR Stella writes', async (t) => {
  const files = await entriesOf((await buildExportArchive({ bundles: inputs })).archive);
  const m = manifestOf(files);
  const plain = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
  const variants: [string, unknown, RegExp][] = [
    [
      'other key order',
      {
        version: m.version,
        format: m.format,
        createdAt: m.createdAt,
        trustedRoot: m.trustedRoot,
        entries: m.entries,
      },
      /canonical/,
    ],
    ['an extra key', { ...m, extra: 1 }, /unexpected key "extra"/],
    [
      'a missing key',
      { format: m.format, version: m.version, createdAt: m.createdAt, entries: m.entries },
      /missing key trustedRoot/,
    ],
    ['another format', { ...m, format: 'other/v1' }, /unknown format/],
    ['a newer version', { ...m, version: 2 }, /unsupported version 2/],
    ['a bad time', { ...m, createdAt: 'yesterday' }, /RFC 3339/],
    [
      'a non-hex digest',
      { ...m, entries: [{ ...m.entries[0]!, sha256: 'zz' }] },
      /64 lowercase hex/,
    ],
    ['an array instead of a map', [m], /expected a map/],
    ['entries that are not an array', { ...m, entries: {} }, /entries: expected an array/],
    [
      'a consistency.json digest that is not hex',
      {
        format: m.format,
        version: m.version,
        createdAt: m.createdAt,
        trustedRoot: m.trustedRoot,
        consistency: { path: 'consistency.json', sha256: 'Z'.repeat(64), size: 1 },
        entries: m.entries,
      },
      /consistency\.sha256: expected 64 lowercase hex digits/,
    ],
  ];
  for (const [what, value, re] of variants) {
    files.set(MANIFEST_NAME, new Uint8Array(plain.encode(value)));
    const bytes = await retar(files);
    const e = t.throws(
      () => readExportArchive(bytes),
      { instanceOf: StellaError },
      what,
    ) as StellaError;
    t.is(e.code, 'ARCHIVE_INVALID', `${what}: ${e.message}`);
    t.regex(e.message, re, what);
  }
  // Duplicate keys (the later would win in a naive decoder), written byte by byte: a map of 1
  // key repeated is not canonical.
  const canonical = encodeManifest(m);
  t.is(canonical[0], 0xa5, 'a map of five keys');
  const dup = new Uint8Array([
    0xa6,
    ...canonical.subarray(1),
    0x67,
    ...utf8.encode('version'),
    0x02,
  ]);
  files.set(MANIFEST_NAME, dup);
  const dupArchive = await retar(files);
  refused(t, () => readExportArchive(dupArchive), 'ARCHIVE_INVALID');
  files.set(MANIFEST_NAME, utf8.encode('not cbor at all \xff'));
  const garbage = await retar(files);
  refused(t, () => readExportArchive(garbage), 'ARCHIVE_INVALID', /manifest\.cbor/);
  files.set(
    MANIFEST_NAME,
    encodeManifest({ ...m, entries: Array.from({ length: 10_001 }, () => m.entries[0]!) }),
  );
  const tooMany = await retar(files);
  refused(t, () => readExportArchive(tooMany), 'ARCHIVE_LIMIT_EXCEEDED', /more than the 10000/);
});

test('entry size limits by name: the manifest, the seal, the trusted root, consistency.json, a bundle', (t) => {
  t.is(entryLimit('manifest.cbor'), EXPORT_LIMITS.maxManifestBytes);
  t.is(entryLimit('manifest.sigstore.json'), EXPORT_LIMITS.maxBundleBytes);
  t.is(entryLimit('trusted_root.json'), EXPORT_LIMITS.maxTrustedRootBytes);
  t.is(entryLimit('consistency.json'), CONSISTENCY_LIMITS.maxBytes);
  t.is(entryLimit(`bundles/${'a'.repeat(64)}/0.sigstore.json`), EXPORT_LIMITS.maxBundleBytes);
});

test('a manifest whose consistency entry names another file is refused', async (t) => {
  const files = await entriesOf((await buildExportArchive({ bundles: inputs })).archive);
  const m = manifestOf(files);
  const sha = 'c'.repeat(64);
  files.set(
    MANIFEST_NAME,
    encodeManifest({
      ...m,
      consistency: { path: 'other.json' as 'consistency.json', sha256: sha, size: 2 },
    }),
  );
  const bytes = await retar(files);
  refused(
    t,
    () => readExportArchive(bytes),
    'ARCHIVE_INVALID',
    /consistency\.path must be consistency\.json/,
  );
});

test('bundles per artifact: 10,000 are exported, numbered 0 to 9999; 10,001 are refused before anything is written, not written for every reader to refuse', async (t) => {
  // Distinct bundles by their bytes: the same bundle followed by i written in 14 bits of
  // JSON whitespace (a space for 0, a newline for 1).
  const base = inputs[0]!;
  const variants = (n: number): ExportInput[] =>
    Array.from({ length: n }, (_, i) => ({
      artifactDigest: base.artifactDigest,
      bytes: concatBytes(
        base.bytes,
        Uint8Array.from({ length: 14 }, (_, bit) => ((i >> bit) & 1 ? 0x0a : 0x20)),
      ),
      source: `variant ${i}`,
    }));
  const writer = await prepareExportArchive({
    bundles: variants(EXPORT_LIMITS.maxBundlesPerArtifact),
  });
  const paths = writer.manifest.entries.map((e) => e.path);
  t.is(paths.length, 10_000);
  t.true(paths.every((p) => /\/(0|[1-9][0-9]{0,3})\.sigstore\.json$/.test(p)));
  t.true(paths.some((p) => p.endsWith('/9999.sigstore.json')));
  const e = await t.throwsAsync(
    prepareExportArchive({ bundles: variants(EXPORT_LIMITS.maxBundlesPerArtifact + 1) }),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'ARCHIVE_LIMIT_EXCEEDED');
  t.is(
    e?.message,
    `10001 bundles to export for ${base.artifactDigest}, more than the 10000 an archive may hold for one artifact`,
  );
});

test('a manifest numbering a bundle 10000 within its artifact is refused by the reader as over the limit', (t) => {
  const hex = inputs[0]!.artifactDigest.slice('sha256:'.length);
  const entry = (n: number) => ({
    artifactDigest: inputs[0]!.artifactDigest,
    path: `bundles/${hex}/${n}.sigstore.json`,
    sha256: '0'.repeat(64),
    size: 1,
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    content: 'messageSignature' as const,
    identity: null,
    issuer: null,
    logIndex: 0,
    integratedTime: null,
  });
  t.notThrows(() => checkEntryOrder(entry(9998), entry(9999), 9999));
  const e = t.throws(() => checkEntryOrder(entry(9999), entry(10_000), 10_000), {
    instanceOf: StellaError,
  });
  t.is(e?.code, 'ARCHIVE_LIMIT_EXCEEDED');
  t.is(e?.message, `more than 10000 bundles for ${inputs[0]!.artifactDigest}`);
});
