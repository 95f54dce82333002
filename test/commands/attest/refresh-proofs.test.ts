/**
 * `export-bundle --refresh-proofs` (issue 12), through the real CLI against the sandbox: every
 * bundle's inclusion proof is re-fetched against its log's one latest checkpoint (Rekor v1 by
 * the entries API, Rekor v2 from tlog-tiles), so all bundles of a log carry the same checkpoint;
 * the refreshed archive verifies offline (networking made to throw) and in @sigstore/verify,
 * and a tampered refreshed proof is refused.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../../src/sandbox/server/sandbox.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { buildExportArchive, readExportArchive } from '../../../src/archive/export.js';
import { parseShipmentConsistency } from '../../../src/archive/consistency.js';
import { parseCheckpoint, parseSignedNote } from '../../../src/tlog/note.js';
import { runCli } from '../../helpers/cli.js';
import { runSign } from '../../../src/commands/attest/sign-run.js';
import { consistencyKit, GITHUB_SAN, OFFLINE, type Signed } from '../../helpers/consistency-kit.js';
import { cosignLegacyFileOf } from '../../helpers/cosign-legacy-file.js';
import { verifyWithSigstoreJs } from '../../sign/helpers.js';

let sandbox: RunningSandbox;
let root: string;
let kit: ReturnType<typeof consistencyKit>;

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'stella-refresh-proofs-'));
  sandbox = await startSandbox({ dataDir: join(root, 'sandbox'), port: 0 });
  kit = consistencyKit(sandbox, root);
});
test.after.always(async () => {
  await sandbox?.close();
});

interface ProofJson {
  logIndex: string;
  treeSize: string;
  rootHash: string;
  hashes: string[];
  checkpoint: { envelope: string };
}
const proofOf = (bytes: Uint8Array): ProofJson =>
  JSON.parse(Buffer.from(bytes).toString('utf8')).verificationMaterial.tlogEntries[0]
    .inclusionProof as ProofJson;

const verifyAll = (archive: string) =>
  runCli(
    [
      'attest',
      'verify',
      '--archive',
      archive,
      '--all',
      '--trusted-root',
      sandbox.trustedRootPath,
      ...kit.identity(),
      '--json',
    ],
    OFFLINE,
  );

test.serial(
  'refreshed proofs: one checkpoint per log, verifies offline and in @sigstore/verify, a tampered proof is refused',
  async (t) => {
    const v1 = [await kit.sign(), await kit.sign(), await kit.sign()];
    const v2 = [await kit.sign(true), await kit.sign(true)];
    const signed = [...v1, ...v2];
    t.not(v1[0]!.treeSize, v1[2]!.treeSize, 'signed at different tree sizes');
    const ship = await kit.exportShipment(signed, ['--refresh-proofs']);
    const a = readExportArchive(readFileSync(ship));
    t.is(a.bundles.length, 5);
    const byLog = new Map<string, Set<string>>();
    for (const b of a.bundles) {
      const p = proofOf(b.bytes);
      const cp = parseCheckpoint(parseSignedNote(p.checkpoint.envelope).text);
      t.is(String(cp.treeSize), p.treeSize, 'the proof is to the checkpoint it carries');
      const origin = cp.origin;
      if (!byLog.has(origin)) byLog.set(origin, new Set());
      byLog.get(origin)!.add(p.checkpoint.envelope);
    }
    t.is(byLog.size, 2, 'two logs: Rekor v1 and v2');
    for (const [origin, notes] of byLog) t.is(notes.size, 1, `${origin}: one checkpoint`);
    const cons = parseShipmentConsistency(a.consistency!);
    t.deepEqual(
      cons.logs.map((l) => l.proofs.length),
      [0, 0],
      'every bundle is at the latest checkpoint: no consistency proof is needed',
    );

    const ok = await verifyAll(ship);
    t.is(ok.code, 0, ok.stdout + ok.stderr);
    t.is(JSON.parse(ok.stdout).summary.passed, 5);
    t.notRegex(ok.stderr, /NETWORK ATTEMPT/);

    // Unmodified @sigstore/verify accepts every refreshed bundle.
    for (const b of a.bundles) {
      const s = signed.find(
        (x) =>
          JSON.parse(readFileSync(x.bundle, 'utf8')).messageSignature?.signature ===
          JSON.parse(Buffer.from(b.bytes).toString('utf8')).messageSignature?.signature,
      )!;
      t.notThrows(() =>
        verifyWithSigstoreJs(
          Buffer.from(b.bytes).toString('utf8'),
          sandbox.trustedRootPath,
          readFileSync(s.artifact),
          { san: GITHUB_SAN, issuer: sandbox.urls.oidcIssuer },
        ),
      );
    }

    // A tampered refreshed proof: one hash of the first bundle's proof flipped.
    const tampered = a.bundles.map((b, i) => {
      if (i !== 0)
        return { artifactDigest: b.entry.artifactDigest, bytes: b.bytes, source: b.entry.path };
      const j = JSON.parse(Buffer.from(b.bytes).toString('utf8'));
      const h = Buffer.from(
        j.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0],
        'base64',
      );
      h[0] = h[0]! ^ 1;
      j.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] = h.toString('base64');
      return {
        artifactDigest: b.entry.artifactDigest,
        bytes: new Uint8Array(Buffer.from(JSON.stringify(j))),
        source: b.entry.path,
      };
    });
    const bad = await buildExportArchive({
      bundles: tampered,
      createdAt: Date.parse(a.manifest.createdAt),
      consistency: a.consistency,
    });
    const badPath = join(mkdtempSync(join(root, 'bad-')), 'bad.tar');
    writeFileSync(badPath, bad.archive);
    const refused = await verifyAll(badPath);
    t.is(refused.code, EXIT_CODES.SHIPMENT_INCOMPLETE, refused.stdout);
    const out = JSON.parse(refused.stdout);
    t.is(out.summary.failed, 1);
    const failed = out.artifacts.find((x: { ok: boolean }) => !x.ok);
    t.is(failed.artifactDigest, a.bundles[0]!.entry.artifactDigest);
    t.is(failed.failures[0].code, 'INCLUSION_PROOF_INVALID');
  },
);

test.serial(
  'a log answering a wrong inclusion proof fails the export (INCLUSION_PROOF_INVALID), and no archive is written',
  async (t) => {
    const signed = [await kit.sign(), await kit.sign()];
    // A Rekor v1 in front of the sandbox's that flips one hash of every inclusion proof it serves.
    let served = 0;
    const proxyUrl = await kit.editingRekorV1(t, {
      entry: (e) => {
        const h = (e.verification?.inclusionProof as { hashes?: string[] } | undefined)?.hashes;
        if (h?.length) {
          h[0] = `${h[0]!.startsWith('0') ? '1' : '0'}${h[0]!.slice(1)}`;
          served++;
        }
      },
    });
    const upstream = kit.rekorV1Url();
    const trusted = JSON.parse(readFileSync(sandbox.trustedRootPath, 'utf8')) as {
      tlogs: { baseUrl: string }[];
    };
    // The sandbox's logs are listed at its one address; only Rekor v1 entries are refreshed here.
    const atSandbox = trusted.tlogs.filter((l) => l.baseUrl.replace(/\/+$/, '') === upstream);
    t.true(atSandbox.length > 0);
    for (const l of atSandbox) l.baseUrl = proxyUrl;
    const dir = mkdtempSync(join(root, 'wrong-proof-'));
    const trustedRootPath = join(dir, 'trusted_root.json');
    writeFileSync(trustedRootPath, JSON.stringify(trusted));
    const { args, out } = kit.shipmentExport(signed, ['--refresh-proofs'], false, trustedRootPath);
    const r = await runCli(args, { timeoutMs: 90_000 });
    t.is(r.code, EXIT_CODES.INCLUSION_PROOF_INVALID, r.stdout + r.stderr);
    t.true(served > 0, 'the proxy served a changed proof');
    t.regex(
      JSON.parse(r.stdout).error.message,
      /^--refresh-proofs: the log's new inclusion proof for entry \d+ does not verify, so nothing was exported: /,
    );
    t.false(existsSync(out), 'no archive');
    // Control: the same export through the log itself succeeds.
    for (const l of atSandbox) l.baseUrl = upstream;
    writeFileSync(trustedRootPath, JSON.stringify(trusted));
    const ok = await runCli(args, { timeoutMs: 90_000 });
    t.is(ok.code, 0, ok.stdout + ok.stderr);
    t.true(existsSync(out));
  },
);

test.serial(
  "cosign's legacy bundle file (sign-blob's and attest-blob's) crosses with --refresh-proofs: carried as a bundle v0.1 with the log's proof, it verifies offline and in @sigstore/verify; without the flag, or naming another entry, nothing is exported",
  async (t) => {
    const s = await kit.sign();
    const dir = mkdtempSync(join(root, 'legacy-'));
    const legacyPath = join(dir, 'artifact.txt.bundle');
    const original = JSON.parse(readFileSync(s.bundle, 'utf8'));
    writeFileSync(legacyPath, JSON.stringify(cosignLegacyFileOf(original)));
    const legacy: Signed = { ...s, bundle: legacyPath };

    // Without --refresh-proofs the file has no proof to carry: refused, saying what would.
    const plain = kit.shipmentExport([legacy]);
    const refused = await runCli(plain.args, { timeoutMs: 90_000 });
    t.is(refused.code, EXIT_CODES.REKOR_PROOF_MISSING, refused.stdout + refused.stderr);
    t.regex(
      JSON.parse(refused.stdout).error.message,
      /is cosign's legacy bundle format .* keeps no inclusion proof, so it cannot be verified offline: add --refresh-proofs to fetch its proof from the log/,
    );
    t.false(existsSync(plain.out));

    const ship = await kit.exportShipment([legacy], ['--refresh-proofs']);
    const [carried] = readExportArchive(readFileSync(ship)).bundles;
    const j = JSON.parse(Buffer.from(carried!.bytes).toString('utf8'));
    t.is(j.mediaType, 'application/vnd.dev.sigstore.bundle+json;version=0.1');
    // The digest its log entry records, the SET cosign kept, and now a proof to a checkpoint.
    t.deepEqual(j.messageSignature, original.messageSignature);
    const [entry] = j.verificationMaterial.tlogEntries;
    t.deepEqual(
      entry.inclusionPromise,
      original.verificationMaterial.tlogEntries[0].inclusionPromise,
    );
    t.truthy(entry.inclusionProof.checkpoint.envelope);
    t.is(
      carried!.entry.artifactDigest,
      `sha256:${Buffer.from(original.messageSignature.messageDigest.digest, 'base64').toString('hex')}`,
    );
    const ok = await verifyAll(ship);
    t.is(ok.code, 0, ok.stdout + ok.stderr);
    t.is(JSON.parse(ok.stdout).summary.passed, 1);
    t.notThrows(() =>
      verifyWithSigstoreJs(
        Buffer.from(carried!.bytes).toString('utf8'),
        sandbox.trustedRootPath,
        readFileSync(s.artifact),
        { san: GITHUB_SAN, issuer: sandbox.urls.oidcIssuer },
      ),
    );

    // The seed's single-bundle form: one standard bundle, verified offline by its artifact.
    const one = join(dir, 'artifact.sigstore.json');
    const single = await runCli(
      [
        'attest',
        'export-bundle',
        '--bundle',
        legacyPath,
        '--refresh-proofs',
        '--trusted-root',
        sandbox.trustedRootPath,
        '--output',
        one,
      ],
      { timeoutMs: 90_000 },
    );
    t.is(single.code, 0, single.stdout + single.stderr);
    const verified = await runCli(
      [
        'attest',
        'verify',
        s.artifact,
        '--bundle',
        one,
        '--trusted-root',
        sandbox.trustedRootPath,
        ...kit.identity(),
      ],
      OFFLINE,
    );
    t.is(verified.code, 0, verified.stdout + verified.stderr);

    // cosign attest-blob's file (the DSSE envelope in base64Signature) crosses the same way,
    // and verifies offline as the attestation it is.
    const predicate = join(dir, 'predicate.json');
    writeFileSync(predicate, JSON.stringify({ builder: { id: 'legacy' } }));
    const attested = await runSign({
      artifact: s.artifact,
      predicatePath: predicate,
      predicateType: 'https://slsa.dev/provenance/v1',
      identityToken: sandbox.mintToken({ platform: 'github', repo: 'org/repo' }),
      configPath: sandbox.signerConfigPath,
      attestationStorePath: false,
      outputPath: join(dir, 'attestation.sigstore.json'),
      env: {},
    });
    const attestationFile = join(dir, 'attestation.bundle');
    writeFileSync(
      attestationFile,
      JSON.stringify(cosignLegacyFileOf(JSON.parse(attested.bundleJson))),
    );
    const attShip = await kit.exportShipment(
      [{ ...s, bundle: attestationFile }],
      ['--refresh-proofs'],
    );
    const [att] = readExportArchive(readFileSync(attShip)).bundles;
    t.truthy(JSON.parse(Buffer.from(att!.bytes).toString('utf8')).dsseEnvelope);
    const attOk = await runCli(
      [
        'attest',
        'verify',
        '--archive',
        attShip,
        '--all',
        '--trusted-root',
        sandbox.trustedRootPath,
        '--predicate-type',
        'https://slsa.dev/provenance/v1',
        ...kit.identity(),
        '--json',
      ],
      OFFLINE,
    );
    t.is(attOk.code, 0, attOk.stdout + attOk.stderr);

    // A file that was never logged (cosign sign-blob --tlog-upload=false) names no digest and
    // has no entry to take one from, or a proof to fetch: refused by name, before any request.
    const unlogged = cosignLegacyFileOf(original);
    delete unlogged.rekorBundle;
    const unloggedPath = join(dir, 'unlogged.bundle');
    writeFileSync(unloggedPath, JSON.stringify(unlogged));
    const noDigest = kit.shipmentExport([{ ...s, bundle: unloggedPath }], ['--refresh-proofs']);
    const nd = await runCli(noDigest.args, { timeoutMs: 90_000 });
    t.is(nd.code, EXIT_CODES.INPUT_INVALID, nd.stdout + nd.stderr);
    t.regex(
      JSON.parse(nd.stdout).error.message,
      /cannot tell which artifact it is for \(no sha256 message digest or in-toto subject; cosign's legacy file names none beside its signature, and it has no hashedrekord log entry/,
    );

    // A file whose log index names another entry: the log's proof is for that entry's leaf, not
    // this one's, so the export fails at the boundary.
    const other = await kit.sign();
    const shifted = cosignLegacyFileOf(original);
    shifted.rekorBundle.Payload.logIndex = Number(
      JSON.parse(readFileSync(other.bundle, 'utf8')).verificationMaterial.tlogEntries[0].logIndex,
    );
    const shiftedPath = join(dir, 'shifted.bundle');
    writeFileSync(shiftedPath, JSON.stringify(shifted));
    const wrong = kit.shipmentExport([{ ...s, bundle: shiftedPath }], ['--refresh-proofs']);
    const r = await runCli(wrong.args, { timeoutMs: 90_000 });
    t.is(r.code, EXIT_CODES.INCLUSION_PROOF_INVALID, r.stdout + r.stderr);
    t.regex(
      JSON.parse(r.stdout).error.message,
      /^--refresh-proofs: the log's new inclusion proof for entry \d+ does not verify/,
    );
    t.false(existsSync(wrong.out));
  },
);

test.serial(
  "a cosign trust variable is said by an export that selects the logs' trust: in --json's warnings and on stderr, once; and before the error when the export fails",
  async (t) => {
    const s = await kit.sign();
    const dir = mkdtempSync(join(root, 'cosign-vars-'));
    const store = join(dir, 'trust.db');
    const storeEnv = { STELLA_TRUST_STORE: store };
    t.is((await runCli(['trust', 'init'], { env: storeEnv })).code, 0);
    const imp = await runCli(['trust', 'import', sandbox.trustedRootPath], { env: storeEnv });
    t.is(imp.code, 0, imp.stdout + imp.stderr);
    const foreign = join(dir, 'other-rekor.pem');
    writeFileSync(
      foreign,
      generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    );
    const said =
      /^SIGSTORE_REKOR_PUBLIC_KEY names a Rekor public key and it is not trusted by this run\. Stella does not read cosign's trust variables; this run trusts the trust store /;
    // No --trusted-root: --refresh-proofs (and the consistency it implies) take the store's logs.
    const env = { ...storeEnv, SIGSTORE_REKOR_PUBLIC_KEY: foreign };
    const json = kit.shipmentExport([s], ['--refresh-proofs'], true);
    const r = await runCli(json.args, { env, timeoutMs: 90_000 });
    t.is(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { warnings: string[]; refreshedProofs: unknown[] };
    t.is(out.refreshedProofs.length, 1);
    t.is(out.warnings.filter((w) => said.test(w)).length, 1, out.warnings.join('\n'));
    const human = kit.shipmentExport([s], ['--refresh-proofs'], true);
    const h = await runCli(
      human.args.filter((a) => a !== '--json'),
      { env, timeoutMs: 90_000 },
    );
    t.is(h.code, 0, h.stdout + h.stderr);
    t.is(
      h.stderr.match(/^warning: SIGSTORE_REKOR_PUBLIC_KEY names a Rekor public key/gm)?.length,
      1,
      h.stderr,
    );
    // The same key imported in the store and kept for cosign: nothing said.
    const sandboxKey = join(dir, 'sandbox-rekor.pem');
    const trusted = JSON.parse(readFileSync(sandbox.trustedRootPath, 'utf8')) as {
      tlogs: { publicKey: { rawBytes: string } }[];
    };
    writeFileSync(
      sandboxKey,
      createPublicKey({
        key: Buffer.from(trusted.tlogs[0]!.publicKey.rawBytes, 'base64'),
        format: 'der',
        type: 'spki',
      })
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    );
    const quiet = await runCli(kit.shipmentExport([s], ['--refresh-proofs'], true).args, {
      env: { ...storeEnv, SIGSTORE_REKOR_PUBLIC_KEY: sandboxKey },
      timeoutMs: 90_000,
    });
    t.is(quiet.code, 0, quiet.stdout + quiet.stderr);
    t.deepEqual(JSON.parse(quiet.stdout).warnings, []);
    // No store: the embedded public-good root, which lacks the sandbox's log, so a legacy file
    // gets no proof and is refused; the variable naming that log's key is said before the error.
    const legacyPath = join(dir, 'artifact.txt.bundle');
    writeFileSync(
      legacyPath,
      JSON.stringify(cosignLegacyFileOf(JSON.parse(readFileSync(s.bundle, 'utf8')))),
    );
    const home = mkdtempSync(join(dir, 'home-'));
    const failed = await runCli(
      kit.shipmentExport([{ ...s, bundle: legacyPath }], ['--refresh-proofs'], true).args,
      {
        env: {
          HOME: home,
          XDG_DATA_HOME: home,
          STELLA_TRUST_STORE: '',
          SIGSTORE_REKOR_PUBLIC_KEY: sandboxKey,
        },
        timeoutMs: 90_000,
      },
    );
    t.is(failed.code, EXIT_CODES.REKOR_PROOF_MISSING, failed.stdout + failed.stderr);
    // The refusal says why --refresh-proofs fetched no proof, not only that there is none.
    t.regex(
      JSON.parse(failed.stdout).error.message,
      /^Rekor proof missing: --bundle .*artifact\.txt\.bundle \(cosign's legacy bundle file, carried as a bundle v0\.1\) has no inclusion proof, and --refresh-proofs cannot fetch one: its log \(log ID [0-9a-f]{64}\) is not in the trust this export uses \(embedded public-good trusted root\); give --trusted-root/,
    );
    t.regex(
      failed.stderr,
      /^warning: SIGSTORE_REKOR_PUBLIC_KEY names a Rekor public key and it is not trusted by this run\. .*this run trusts the embedded public-good trusted root\./m,
    );
    // Among others, with the store's trust: files naming a log the trust lacks are left out,
    // each said; the bundle between them is carried, and the export is incomplete.
    const elsewhere = (name: string): string => {
      const f = cosignLegacyFileOf(JSON.parse(readFileSync(s.bundle, 'utf8')));
      f.rekorBundle!.Payload.logID = 'ab'.repeat(32);
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify(f));
      return p;
    };
    const mixed = kit.shipmentExport(
      [
        { ...s, bundle: elsewhere('first.bundle') },
        s,
        { ...s, bundle: elsewhere('second.bundle') },
      ],
      ['--refresh-proofs'],
      true,
    );
    const m = await runCli(mixed.args, { env: storeEnv, timeoutMs: 90_000 });
    t.is(m.code, EXIT_CODES.EXPORT_INCOMPLETE, m.stdout + m.stderr);
    const mo = JSON.parse(m.stdout) as {
      refused: { source: string; code: string; message: string }[];
      bundles: unknown[];
    };
    t.deepEqual(
      mo.refused.map((x) => [x.code, /(first|second)\.bundle/.exec(x.source)?.[1]]),
      [
        ['REKOR_PROOF_MISSING', 'first'],
        ['REKOR_PROOF_MISSING', 'second'],
      ],
    );
    for (const x of mo.refused)
      t.regex(
        x.message,
        new RegExp(
          `its log \\(log ID ${'ab'.repeat(32)}\\) is not in the trust this export uses \\(trust store `,
        ),
      );
    t.is(mo.bundles.length, 1);
  },
);
