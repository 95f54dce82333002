/**
 * Stella's in-process rate on part of a shipment, in a process of its own (for
 * shipment.bench.ts): the archive's bundles `start` to `start + count` are read by the
 * streaming reader and held, then verifyArchivedBundle — the function every `--jobs` worker
 * calls — runs over them in a loop, with the options the benchmark's `verify --archive` runs
 * give it (`--trusted-root` and no trust store: no checkpoints kept; no `--report`: no
 * timeline); only the loop is timed, in wall and in CPU seconds. Prints one JSON line:
 * {count, seconds, cpuSeconds}. Several run side by side measure what the machine gives parallel work.
 *
 *   node dist/bench/inprocess-verify.js TAR TRUSTED_ROOT IDENTITY_PATTERN ISSUER START COUNT
 */
import { readFileSync } from 'node:fs';
import { readExportArchiveStream } from '../src/archive/export-stream.js';
import { STREAM_LIMITS } from '../src/archive/export.js';
import { archiveFileSource } from '../src/commands/attest/shipment-run.js';
import { parseTrustedRoot } from '../src/trust/trusted-root.js';
import { buildPolicy } from '../src/verify/policy.js';
import { verifyArchivedBundle, type ArchivedBundle } from '../src/shipment/verdict.js';

const [tar, root, identity, issuer, startArg, countArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const start = Number(startArg);
const end = start + Number(countArg);
const work: ArchivedBundle[] = [];
let index = 0;
await readExportArchiveStream(archiveFileSource(tar), {
  limits: STREAM_LIMITS,
  onBundle: (entry, bytes) => {
    if (index >= start && index < end)
      work.push({ path: entry.path, artifactDigest: entry.artifactDigest, bytes });
    index++;
  },
});
const trust = parseTrustedRoot(readFileSync(root));
const policy = buildPolicy({ certificateIdentity: identity, certificateOidcIssuer: issuer });
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
for (const b of work) {
  const v = await verifyArchivedBundle(b, trust, policy, { checkpoints: false, timeline: false });
  if (!v.ok) throw new Error(`in-process verification of ${b.path} failed: ${v.error?.message}`);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
// CPU of every thread of the process (GC helpers too), as /usr/bin/time counts the CLI's.
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({ count: work.length, seconds, cpuSeconds }));
