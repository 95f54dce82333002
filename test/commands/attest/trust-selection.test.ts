/**
 * Which trust a command checks against (src/commands/attest/trust-selection.ts), and the warning
 * for cosign's trust variables, which Stella does not read: in process, and through the real
 * CLI. Self-contained (samples/ and the embedded public-good root).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  cosignTrustWarnings,
  EMBEDDED_TRUST_SOURCE,
  readTrustedRoot,
  selectTrust,
} from '../../../src/commands/attest/trust-selection.js';
import { publicGoodTrustedRootPath } from '../../../src/trust/public-good.js';
import { openTrustStore } from '../../../src/trust/store/db.js';
import { importFile } from '../../../src/trust/store/operations.js';
import { derToPem } from '../../../src/util/pem.js';
import { runCli } from '../../helpers/cli.js';
import { BLOB, BLOB_POLICY, SAMPLES, SAMPLES_TRUSTED_ROOT } from '../../helpers/samples.js';
import { tempDir } from '../../helpers/temp.js';

const samples = readTrustedRoot(SAMPLES_TRUSTED_ROOT, 'samples');
const publicGood = readTrustedRoot(publicGoodTrustedRootPath(), 'public good');
const samplesChain = samples.certificateAuthorities[0]!.certChain;
const publicGoodCert = publicGood.certificateAuthorities.at(-1)!.certChain.at(-1)!;
const sampleRekorKey = samples.tlogs[0]!.publicKey.rawBytes;

const pem = (ders: readonly Uint8Array[], label: 'CERTIFICATE' | 'PUBLIC KEY' = 'CERTIFICATE') =>
  ders.map((d) => derToPem(d, label)).join('');

function file(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The sample Rekor key (P-256) as a SubjectPublicKeyInfo with its point compressed. */
function compressedSpki(uncompressedSpki: Uint8Array): Uint8Array {
  const point = uncompressedSpki.subarray(uncompressedSpki.length - 65);
  if (point[0] !== 0x04) throw new Error('not an uncompressed P-256 point');
  const x = point.subarray(1, 33);
  const yOdd = (point[64]! & 1) === 1;
  const algorithm = Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex');
  const bitString = Buffer.concat([Buffer.from([0x03, 0x22, 0x00, yOdd ? 0x03 : 0x02]), x]);
  return Buffer.concat([
    Buffer.from([0x30, algorithm.length + bitString.length]),
    algorithm,
    bitString,
  ]);
}

const importLine = (name: string, rest: string) =>
  `To trust the file here: \`stella trust import "$${name}" ${rest}\`, or --trusted-root with a trusted_root.json that holds it`;

test('cosignTrustWarnings: nothing when no variable is set, or one is set empty (cosign takes that as unset)', (t) => {
  t.deepEqual(cosignTrustWarnings({}, publicGood, EMBEDDED_TRUST_SOURCE), []);
  t.deepEqual(
    cosignTrustWarnings(
      { SIGSTORE_ROOT_FILE: '', SIGSTORE_REKOR_PUBLIC_KEY: '', TUF_MIRROR: '' },
      publicGood,
      EMBEDDED_TRUST_SOURCE,
    ),
    [],
  );
});

test('cosignTrustWarnings: SIGSTORE_ROOT_FILE naming certificates the trust does not hold is said, with the import line; one it holds is not', (t) => {
  const dir = tempDir(t, 'cosign-env-');
  const chain = file(dir, 'fulcio.pem', pem(samplesChain));
  const env = { SIGSTORE_ROOT_FILE: chain };
  t.deepEqual(cosignTrustWarnings(env, samples, 'trust store /x/trust.db'), []);
  t.deepEqual(cosignTrustWarnings(env, publicGood, EMBEDDED_TRUST_SOURCE), [
    `SIGSTORE_ROOT_FILE names 2 Fulcio certificates and none is trusted by this run. Stella does not read cosign's trust variables; this run trusts the embedded public-good trusted root. ${importLine('SIGSTORE_ROOT_FILE', '--uri FULCIO_URL')}`,
  ]);
  // One certificate the trust holds and one it does not: the count of those it does not.
  const mixed = file(dir, 'mixed.pem', pem([samplesChain[0]!, publicGoodCert]));
  const [w] = cosignTrustWarnings({ SIGSTORE_ROOT_FILE: mixed }, samples, 'trust store /x');
  t.regex(
    w!,
    /^SIGSTORE_ROOT_FILE names 2 Fulcio certificates and 1 is not trusted by this run\. .*this run trusts the trust store \/x\./,
  );
  const one = file(dir, 'one.pem', pem([publicGoodCert]));
  t.regex(
    cosignTrustWarnings({ SIGSTORE_ROOT_FILE: one }, samples, 'trust store /x')[0]!,
    /^SIGSTORE_ROOT_FILE names a Fulcio certificate and it is not trusted by this run\./,
  );
});

test("cosignTrustWarnings: the log keys are compared by their key, not the file's encoding of it; a CT key is looked for among CT logs, not Rekor's", (t) => {
  const dir = tempDir(t, 'cosign-env-');
  const rekor = file(dir, 'rekor.pub', pem([sampleRekorKey], 'PUBLIC KEY'));
  const compressed = file(dir, 'rekor-c.pub', pem([compressedSpki(sampleRekorKey)], 'PUBLIC KEY'));
  t.notDeepEqual(compressedSpki(sampleRekorKey), sampleRekorKey);
  for (const p of [rekor, compressed])
    t.deepEqual(cosignTrustWarnings({ SIGSTORE_REKOR_PUBLIC_KEY: p }, samples, 'x'), [], p);
  t.deepEqual(
    cosignTrustWarnings({ SIGSTORE_REKOR_PUBLIC_KEY: rekor }, publicGood, EMBEDDED_TRUST_SOURCE),
    [
      `SIGSTORE_REKOR_PUBLIC_KEY names a Rekor public key and it is not trusted by this run. Stella does not read cosign's trust variables; this run trusts the embedded public-good trusted root. ${importLine('SIGSTORE_REKOR_PUBLIC_KEY', '--kind tlog --log-url REKOR_URL --valid-from KEY_START_TIME')}`,
    ],
  );
  // The Rekor key named as the CT log's: the samples' trust holds it, but not as a CT log.
  const ct = cosignTrustWarnings({ SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: rekor }, samples, 'x');
  t.is(ct.length, 1);
  t.regex(
    ct[0]!,
    /^SIGSTORE_CT_LOG_PUBLIC_KEY_FILE names a CT log public key and it is not trusted.*--kind ctlog --log-url CT_LOG_URL/,
  );
  const ctKey = file(dir, 'ct.pub', pem([samples.ctlogs[0]!.publicKey.rawBytes], 'PUBLIC KEY'));
  t.deepEqual(cosignTrustWarnings({ SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: ctKey }, samples, 'x'), []);
});

test('cosignTrustWarnings: SIGSTORE_TSA_CERTIFICATE_FILE is looked for among the timestamp authorities', (t) => {
  const dir = tempDir(t, 'cosign-env-');
  const tsa = file(dir, 'tsa.pem', pem(samples.timestampAuthorities[0]!.certChain));
  t.deepEqual(cosignTrustWarnings({ SIGSTORE_TSA_CERTIFICATE_FILE: tsa }, samples, 'x'), []);
  // The Fulcio chain named as the TSA's: held by the trust, but not as a TSA.
  const fulcio = file(dir, 'fulcio.pem', pem(samplesChain));
  t.regex(
    cosignTrustWarnings({ SIGSTORE_TSA_CERTIFICATE_FILE: fulcio }, samples, 'x')[0]!,
    /^SIGSTORE_TSA_CERTIFICATE_FILE names 2 timestamp authority certificates and none is trusted.*--kind tsa --uri TSA_URL/,
  );
});

test('cosignTrustWarnings: a file that cannot be read, or holds no block of its kind, is said with why', (t) => {
  const dir = tempDir(t, 'cosign-env-');
  const [missing] = cosignTrustWarnings(
    { SIGSTORE_ROOT_FILE: path.join(dir, 'absent.pem') },
    samples,
    'x',
  );
  t.regex(
    missing!,
    /^SIGSTORE_ROOT_FILE is set, but its file cannot be read \(.*absent\.pem.*\)\. Stella does not read cosign's trust variables/,
  );
  const key = file(dir, 'k.pub', pem([sampleRekorKey], 'PUBLIC KEY'));
  t.regex(
    cosignTrustWarnings({ SIGSTORE_ROOT_FILE: key }, samples, 'x')[0]!,
    /^SIGSTORE_ROOT_FILE is set, but its file cannot be read \(.*expected CERTIFICATE, found PUBLIC KEY\)/,
  );
});

test("cosignTrustWarnings: TUF_MIRROR other than the public good's is said only when the trust is the embedded root", (t) => {
  const other = { TUF_MIRROR: 'https://tuf.example.internal' };
  t.deepEqual(cosignTrustWarnings(other, publicGood, EMBEDDED_TRUST_SOURCE), [
    'TUF_MIRROR is set, but Stella does not fetch TUF metadata; this run trusts the embedded public-good trusted root. For the deployment that TUF repository serves, give its trusted_root.json to --trusted-root or `stella trust import`',
  ]);
  t.deepEqual(cosignTrustWarnings(other, samples, 'trust store /x'), []);
  for (const mirror of ['https://tuf-repo-cdn.sigstore.dev', 'https://tuf-repo-cdn.sigstore.dev/'])
    t.deepEqual(
      cosignTrustWarnings({ TUF_MIRROR: mirror }, publicGood, EMBEDDED_TRUST_SOURCE),
      [],
      mirror,
    );
});

test("selectTrust: a named trusted root is the trust and hears nothing of cosign's variables; with none named, the embedded root is said against them", async (t) => {
  const dir = tempDir(t, 'cosign-env-');
  const env = {
    XDG_DATA_HOME: dir,
    HOME: dir,
    SIGSTORE_ROOT_FILE: file(dir, 'f.pem', pem(samplesChain)),
  };
  const named = await selectTrust({ trustedRootPath: SAMPLES_TRUSTED_ROOT, env });
  t.deepEqual(named.warnings, []);
  const embedded = await selectTrust({ env });
  t.is(embedded.source, EMBEDDED_TRUST_SOURCE);
  t.is(embedded.warnings.length, 1);
  t.regex(
    embedded.warnings[0]!,
    /^SIGSTORE_ROOT_FILE names 2 Fulcio certificates and none is trusted/,
  );
});

test("CLI: attest verify with SIGSTORE_ROOT_FILE set warns (stderr, --json warnings) naming the trust it used; the verdict is the trust's", async (t) => {
  const dir = tempDir(t, 'cosign-env-');
  const store = path.join(dir, 'trust.db');
  const s = openTrustStore(store, { create: true });
  importFile(
    s,
    { path: SAMPLES_TRUSTED_ROOT, bytes: new Uint8Array(readFileSync(SAMPLES_TRUSTED_ROOT)) },
    {},
    { now: Date.now(), command: 'test' },
  );
  s.close();
  const args = [
    'attest',
    'verify',
    path.join(SAMPLES, BLOB.artifact),
    '--bundle',
    path.join(SAMPLES, BLOB.bundle),
    ...BLOB_POLICY,
  ];
  const foreign = file(dir, 'public-good.pem', pem([publicGoodCert]));
  const ok = await runCli([...args, '--store', store], { env: { SIGSTORE_ROOT_FILE: foreign } });
  t.is(ok.code, 0, ok.stderr);
  t.regex(
    ok.stderr,
    new RegExp(
      `^warning: SIGSTORE_ROOT_FILE names a Fulcio certificate and it is not trusted by this run\\. Stella does not read cosign's trust variables; this run trusts the trust store ${store.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\.`,
      'm',
    ),
  );
  const json = await runCli([...args, '--store', store, '--json'], {
    env: { SIGSTORE_ROOT_FILE: foreign },
  });
  t.is(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { ok: boolean; warnings: string[] };
  t.true(out.ok);
  t.is(
    out.warnings.filter((w) => w.startsWith('SIGSTORE_ROOT_FILE names a Fulcio certificate'))
      .length,
    1,
  );
  // The same roots imported into the store, and the variable kept for cosign: nothing said.
  const quiet = await runCli([...args, '--store', store], {
    env: { SIGSTORE_ROOT_FILE: file(dir, 'samples.pem', pem(samplesChain)) },
  });
  t.is(quiet.code, 0, quiet.stderr);
  t.notRegex(quiet.stderr, /SIGSTORE_ROOT_FILE/);
  // No store, no --trusted-root: the embedded root, which does not hold the samples' CA. The
  // verdict is its verdict; the warning says why the variable did not help.
  const home = tempDir(t, 'cosign-env-home-');
  const refused = await runCli(args, {
    env: {
      HOME: home,
      XDG_DATA_HOME: home,
      STELLA_TRUST_STORE: '',
      SIGSTORE_ROOT_FILE: file(dir, 'samples2.pem', pem(samplesChain)),
    },
  });
  t.not(refused.code, 0);
  t.regex(
    refused.stderr,
    /^warning: SIGSTORE_ROOT_FILE names 2 Fulcio certificates and none is trusted by this run\. .*this run trusts the embedded public-good trusted root\. To trust the file here: `stella trust import "\$SIGSTORE_ROOT_FILE" --uri FULCIO_URL`/m,
  );
});

test('selectTrust: --max-age and the time reach the trust store: a store older than --max-age is refused', async (t) => {
  const dir = tempDir(t, 'cosign-env-');
  const store = path.join(dir, 'trust.db');
  const now = Date.UTC(2026, 0, 1);
  const s = openTrustStore(store, { create: true, now });
  importFile(
    s,
    { path: SAMPLES_TRUSTED_ROOT, bytes: new Uint8Array(readFileSync(SAMPLES_TRUSTED_ROOT)) },
    {},
    { now, command: 'test' },
  );
  s.close();
  const threeDaysLater = now + 3 * 86_400_000;
  t.is(
    (await selectTrust({ storePath: store, now: threeDaysLater })).source,
    `trust store ${store}`,
  );
  const e = await t.throwsAsync(
    selectTrust({ storePath: store, maxAge: '1', now: threeDaysLater }),
  );
  t.regex(e!.message, /older than|stale|max-age/i);
  // At the time of the import the same --max-age passes.
  t.is((await selectTrust({ storePath: store, maxAge: '1', now })).source, `trust store ${store}`);
});
