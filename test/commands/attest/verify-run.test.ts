/**
 * The I/O edge of `stella attest verify` (src/commands/attest/verify-run.ts), in process: which inputs are
 * refused before any verification, and which trust source is used. Self-contained (samples/).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError, type ErrorCode } from '../../../src/errors.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { importFile } from '../../../src/trust/store/operations.js';
import { parseTrustedRoot } from '../../../src/trust/trusted-root.js';
import { toHex } from '../../../src/util/encoding.js';
import { runVerify, type VerifyCommandOptions } from '../../../src/commands/attest/verify-run.js';
import { selectTrust } from '../../../src/commands/attest/trust-selection.js';
import { PROJECT_ROOT } from '../../helpers/paths.js';
import { tempDir } from '../../trust/store/helpers.js';
import { literalPattern } from '../../../src/verify/identity-pattern.js';

const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const MANIFEST = JSON.parse(readFileSync(path.join(SAMPLES, 'samples.json'), 'utf8')) as {
  trustedRoot: string;
  bundles: { name: string; bundle: string; identity?: string; issuer?: string }[];
};
const BLOB = MANIFEST.bundles.find((b) => b.name === 'blob')!;
const TRUSTED_ROOT = path.join(SAMPLES, MANIFEST.trustedRoot);
const base: VerifyCommandOptions = {
  artifact: path.join(SAMPLES, 'artifact.txt'),
  certificateIdentity: literalPattern(BLOB.identity!),
  certificateOidcIssuer: BLOB.issuer!,
  trustedRootPath: TRUSTED_ROOT,
};

async function refused(
  t: import('ava').ExecutionContext,
  opts: VerifyCommandOptions,
  code: ErrorCode,
  message: RegExp,
): Promise<StellaError | undefined> {
  const e = await t.throwsAsync(runVerify(opts), { instanceOf: StellaError });
  t.is(e?.code, code, e?.message);
  t.regex(e?.message ?? '', message);
  return e;
}

test('runVerify verifies the blob sample (control for the refusals below)', async (t) => {
  const { report, trustSource } = await runVerify({
    ...base,
    bundlePath: path.join(SAMPLES, BLOB.bundle),
  });
  t.true(report.ok, report.error?.message);
  t.is(trustSource, `trusted root ${TRUSTED_ROOT}`);
});

test('inputs refused before verification: --bundle with --archive, no bundle for a file, a non-sha256 digest with --archive, a missing file', async (t) => {
  await refused(
    t,
    { ...base, bundlePath: path.join(SAMPLES, BLOB.bundle), archivePath: '/nonexistent.tar' },
    'INPUT_INVALID',
    /^--bundle and --archive cannot be combined/,
  );
  await refused(
    t,
    { ...base },
    'INPUT_INVALID',
    /^--bundle \(or --archive\) is required unless --artifact is a sha256:<hex> digest/,
  );
  await refused(
    t,
    { ...base, artifact: `sha512:${'ab'.repeat(64)}`, archivePath: '/nonexistent.tar' },
    'NO_ATTESTATIONS_FOUND',
    /export archives are keyed by sha256 digests/,
  );
  const missing = await refused(
    t,
    { ...base, bundlePath: path.join(SAMPLES, 'no-such.sigstore.json') },
    'INPUT_INVALID',
    /^--bundle ".*no-such\.sigstore\.json": no such file$/,
  );
  t.is(
    (missing?.cause as NodeJS.ErrnoException | undefined)?.code,
    'ENOENT',
    'the errno is kept as the cause',
  );
});

test('--image sha256:<hex> alone names the artifact; with --artifact the two must be the same digest', async (t) => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  const dir = tempDir('verify-image-digest');
  const store = path.join(dir, 'attestations.db');
  // No --artifact: the digest is the artifact, looked up in the attestation store.
  await refused(
    t,
    { ...base, artifact: undefined, image: digest, attestationStorePath: store },
    'NO_ATTESTATIONS_FOUND',
    /no attestations found/,
  );
  await refused(
    t,
    { ...base, artifact: `sha256:${'cd'.repeat(32)}`, image: digest, attestationStorePath: store },
    'INPUT_INVALID',
    /^--artifact "sha256:cdcd.*" is not the digest of --image "sha256:abab.*": give one, or the same digest$/,
  );
});

test('a --bundle file is called gzip or tar only by its real magic bytes, not by one of them', async (t) => {
  const dir = tempDir('verify-sniff');
  const file = path.join(dir, 'b.json');
  // '{' then 0x8b: the second byte of gzip's magic alone, which is not gzip (and not UTF-8).
  writeFileSync(file, Buffer.from([0x7b, 0x8b]));
  const e = await refused(t, { ...base, bundlePath: file }, 'BUNDLE_MALFORMED', /invalid UTF-8/);
  t.notRegex(e?.message ?? '', /gzip/);
  writeFileSync(file, Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
  await refused(
    t,
    { ...base, bundlePath: file },
    'INPUT_INVALID',
    /is a gzip file, not a Sigstore bundle/,
  );
});

test('selectTrust: --trusted-root first, else the trust store named by --store, never the embedded root instead', async (t) => {
  const fromFile = await selectTrust({ trustedRootPath: TRUSTED_ROOT });
  t.is(fromFile.source, `trusted root ${TRUSTED_ROOT}`);

  // A store holding only the samples' trust: selecting it must give that trust, not public-good.
  const store = path.join(tempDir('verify-cli'), 'trust.db');
  const now = Date.UTC(2025, 6, 1);
  const s = openTrustStore(store, { create: true, now });
  importFile(
    s,
    { path: TRUSTED_ROOT, bytes: new Uint8Array(readFileSync(TRUSTED_ROOT)) },
    {},
    { now, command: 'test' },
  );
  s.close();
  const fromStore = await selectTrust({ storePath: store, now });
  t.is(fromStore.source, `trust store ${store}`);
  const logIds = (tm: { tlogs: { logId: Uint8Array }[] }) =>
    tm.tlogs.map((l) => toHex(l.logId)).sort();
  t.deepEqual(logIds(fromStore.trust), logIds(parseTrustedRoot(readFileSync(TRUSTED_ROOT))));
  // And the blob verifies against it (the public-good root would refuse it).
  const { report, trustSource } = await runVerify({
    ...base,
    trustedRootPath: undefined,
    storePath: store,
    now,
    bundlePath: path.join(SAMPLES, BLOB.bundle),
  });
  t.true(report.ok, report.error?.message);
  t.is(trustSource, `trust store ${store}`);
});
