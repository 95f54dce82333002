/**
 * `export-bundle --refresh-proofs` (issue 12), through the real CLI against the sandbox: every
 * bundle's inclusion proof is re-fetched against its log's one latest checkpoint (Rekor v1 by
 * the entries API, Rekor v2 from tlog-tiles), so all bundles of a log carry the same checkpoint;
 * the refreshed archive verifies offline (networking made to throw) and in @sigstore/verify,
 * and a tampered refreshed proof is refused.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../../src/sandbox/server/sandbox.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { buildExportArchive, readExportArchive } from '../../../src/archive/export.js';
import { parseShipmentConsistency } from '../../../src/archive/consistency.js';
import { parseCheckpoint, parseSignedNote } from '../../../src/tlog/note.js';
import { runCli } from '../../helpers/cli.js';
import { consistencyKit, GITHUB_SAN, OFFLINE } from '../../helpers/consistency-kit.js';
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
