/**
 * `stella attest verify --archive X (--all | --artifact ... | --artifacts-dir DIR)`: a line per
 * artifact (or --json one object, --json-lines one object per artifact), progress on stderr
 * when it is a terminal, a summary table at the end, an HTML report with --report. Exit 0
 * when every artifact verified, SHIPMENT_INCOMPLETE (158) when any failed or is missing.
 */
import { StellaError, failureOf } from '../../errors.js';
import {
  colourEnabled,
  paint,
  printErrorLine,
  printJson,
  printJsonLine,
  printWarning,
  progressEnabled,
  reportError,
  writeStdout,
} from '../render.js';
import { terminalLine, terminalText } from '../../util/text.js';
import { tmpdir } from '../../util/os.js';
import { looksLikeDigestReference } from '../../util/digest.js';
import { resolveStorePath } from '../../trust/store/paths.js';
import { dirname, resolve } from 'node:path';
import {
  checkWritableTarget,
  type CommandInput,
  SpoolFile,
  writeFileAtomic,
} from '../../util/fs.js';
import {
  artifactRow,
  failureRow,
  REPORT_FOOT,
  REPORT_MIDDLE,
  reportHead,
} from './shipment-report.js';
import { buildPolicy, type PolicyOptions } from '../../verify/policy.js';
import { identityPolicyOptions } from '../identity-flags.js';
import { selectTrust } from './trust-selection.js';
import {
  archiveFileSource,
  exportersFor,
  parseJobs,
  sealPinMistake,
  selectArtifacts,
  selectionMistake,
} from './shipment-run.js';
import {
  checkConsistencyAgainstStore,
  commandLine,
  consistencyStorePath,
  printConsistencyEvidence,
} from './consistency-run.js';
import type { FlagValues } from '../flag-spec.js';
import type { VERIFY_FLAGS } from './verify-spec.js';
import { describeSeal } from '../../shipment/seal.js';
import type { ArtifactResult, ShipmentSummary } from '../../shipment/verify.js';
import type { ConsistencyReport } from '../../trust/store/consistency.js';
import { readPublicKeyRef } from '../key-ref.js';

export function artifactJson(r: ArtifactResult): Record<string, unknown> {
  return {
    artifactDigest: r.artifactDigest,
    names: r.names,
    ok: r.ok,
    missing: r.missing,
    verified: r.verified
      ? {
          path: r.verified.path,
          identity: r.verified.identity,
          issuer: r.verified.issuer,
          verifiedTime: r.verified.verifiedTime,
          logIndex: r.verified.logIndex,
        }
      : null,
    failures: r.ok
      ? []
      : r.missing
        ? [
            {
              path: null,
              code: 'NO_ATTESTATIONS_FOUND',
              check: 'archive',
              message: 'not in the archive',
              exitCode: 73,
            },
          ]
        : r.bundles.map((b) => ({ path: b.path, ...b.error })),
  };
}

function summaryJson(s: ShipmentSummary): Record<string, unknown> {
  return {
    artifacts: s.artifacts,
    passed: s.passed,
    failed: s.failed,
    missing: s.missing,
    bundles: s.bundles,
    jobs: s.jobs,
    seal: s.seal,
    manifestSha256: s.manifestSha256,
    createdAt: s.createdAt,
  };
}

/** Spooled output, opened as the flags ask and closed by whoever opened the holder. */
interface ShipmentSpools {
  /** --json's artifacts. */
  json?: JsonArtifactsSpool;
  /** --report's failures table and every-artifact table. */
  failures?: SpoolFile;
  rows?: SpoolFile;
}

/**
 * Flags that make no sense over a whole archive, refused before anything is read: usage
 * errors (exit 2), like shipment flags without --archive.
 */
function checkShipmentFlags(flags: FlagValues<typeof VERIFY_FLAGS>): void {
  if (flags.bundle !== undefined || flags.image !== undefined)
    throw new StellaError(
      'USAGE_ERROR',
      'input',
      '--archive over several artifacts takes the bundles from the archive: --bundle and --image do not apply',
    );
  if (flags.json && flags['json-lines'])
    throw new StellaError('USAGE_ERROR', 'input', 'give --json or --json-lines, not both');
  const mistake =
    selectionMistake({
      all: flags.all,
      artifacts: flags.artifact ?? [],
      artifactsDir: flags['artifacts-dir'],
    }) ??
    sealPinMistake({ sealIdentity: flags['seal-identity'], sealIssuer: flags['seal-issuer'] });
  if (mistake !== undefined) throw new StellaError('USAGE_ERROR', 'input', mistake);
}

function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) printWarning(w);
}

/**
 * --json and --report are written as verification goes: results are spooled to scratch files
 * (the report's beside it), never held, and joined at the end. Each spool is put in `spools`
 * as soon as it exists, so the caller closes what was opened even when a later one fails.
 */
function openSpools(flags: FlagValues<typeof VERIFY_FLAGS>, spools: ShipmentSpools): void {
  if (flags.json)
    spools.json = new JsonArtifactsSpool(SpoolFile.create(tmpdir(), { what: '--json' }));
  if (flags.report !== undefined) {
    const dir = dirname(resolve(flags.report));
    spools.failures = SpoolFile.create(dir, { what: '--report' });
    spools.rows = SpoolFile.create(dir, { what: '--report' });
  }
}

/**
 * What a shipment's verification reads, so --report is never written over it (the archive
 * itself, say), nor inside --artifacts-dir, where the next run would hash it as an artifact.
 */
function shipmentInputs(
  flags: FlagValues<typeof VERIFY_FLAGS>,
  policyPath: string | undefined,
): CommandInput[] {
  return [
    { what: '--archive', path: flags.archive },
    ...(flags.artifact ?? [])
      .filter((a) => !looksLikeDigestReference(a))
      .map((path) => ({ what: '--artifact', path })),
    { what: '--artifacts-dir', path: flags['artifacts-dir'], folder: true },
    { what: 'the policy file', path: policyPath },
    { what: '--trusted-root', path: flags['trusted-root'] },
    { what: 'the trust store', path: resolveStorePath(flags.store) },
    { what: '--key', path: flags.key },
    { what: '--seal-key', path: flags['seal-key'] },
  ];
}

function closeSpools(spools: ShipmentSpools): void {
  spools.json?.close();
  spools.failures?.close();
  spools.rows?.close();
}

/** What happens to each artifact's result as it is judged: spooled, and printed as a line. */
function artifactSink(
  flags: FlagValues<typeof VERIFY_FLAGS>,
  spools: ShipmentSpools,
  colour: boolean,
): (r: ArtifactResult) => void {
  let failures = 0;
  let rows = 0;
  return (r) => {
    spools.json?.add(r);
    if (spools.rows && spools.failures) {
      if (!r.ok) spools.failures.append(`${failures++ ? '\n' : ''}${failureRow(r)}`);
      spools.rows.append(`${rows++ ? '\n' : ''}${artifactRow(r)}`);
    }
    if (flags['json-lines']) printJsonLine(artifactJson(r));
    else if (!flags.json) printArtifactLine(r, colour);
  };
}

/**
 * The consistency step, once per run in the main thread, over the bundles that verified: a
 * split view, a rollback or an unproven checkpoint under --require-consistency refuses the
 * whole shipment (its own code), the evidence kept and printed. Its warnings are printed and
 * added to `warnings`.
 */
async function shipmentConsistency(
  flags: FlagValues<typeof VERIFY_FLAGS>,
  run: {
    trust: Awaited<ReturnType<typeof shipmentTrust>>['trust'];
    trustStorePath: string | undefined;
    requireConsistency: boolean;
    summary: ShipmentSummary;
  },
  warnings: string[],
): Promise<ConsistencyReport | undefined> {
  const consistencyWarnings: string[] = [];
  const consistency = await checkConsistencyAgainstStore(
    {
      trust: run.trust,
      trustStorePath: run.trustStorePath,
      trustedRootPath: flags['trusted-root'],
      storePath: flags.store,
      requireConsistency: flags['require-consistency'] || run.requireConsistency,
      checkpoints: run.summary.checkpoints.verified,
      shipmentCheckpoints: run.summary.checkpoints.others,
      consistency: run.summary.consistency,
      source: flags.archive!,
      command: commandLine(['attest', 'verify']),
    },
    consistencyWarnings,
  );
  printWarnings(consistencyWarnings);
  warnings.push(...consistencyWarnings);
  return consistency;
}

/** SHIPMENT_INCOMPLETE when any artifact failed or is missing. */
function incompleteError(summary: ShipmentSummary): StellaError | undefined {
  if (summary.failed + summary.missing === 0) return undefined;
  return new StellaError(
    'SHIPMENT_INCOMPLETE',
    'shipment',
    `${summary.failed + summary.missing} of ${summary.artifacts} artifact(s) not verified (${summary.failed} failed, ${summary.missing} missing)`,
  );
}

/** --report: the head, then the spooled failures and artifact rows, written atomically. */
function writeReport(path: string, head: string, failures: SpoolFile, rows: SpoolFile): void {
  writeFileAtomic(
    path,
    (write) => {
      write(head);
      for (const chunk of failures.chunks()) write(chunk);
      write(REPORT_MIDDLE);
      for (const chunk of rows.chunks()) write(chunk);
      write(REPORT_FOOT);
    },
    { what: '--report' },
  );
}

/** The end of the run as --json's object, --json-lines' last line, or the human summary. */
function printShipmentOutcome(
  flags: FlagValues<typeof VERIFY_FLAGS>,
  spools: ShipmentSpools,
  o: {
    summary: ShipmentSummary;
    trustSource: string;
    warnings: string[];
    consistency: ConsistencyReport | undefined;
    incomplete: StellaError | undefined;
    colour: boolean;
    started: number;
  },
): void {
  const { summary, consistency, incomplete } = o;
  if (spools.json) {
    spools.json.print({
      ok: !incomplete,
      archive: flags.archive,
      trust: o.trustSource,
      warnings: o.warnings,
      summary: summaryJson(summary),
      consistency: consistency ?? null,
      artifacts: [],
      ...(incomplete ? { error: incomplete.toJSON() } : {}),
    });
  } else if (flags['json-lines']) {
    printJsonLine({
      summary: summaryJson(summary),
      consistency: consistency ?? null,
      ok: !incomplete,
      ...(incomplete ? { error: incomplete.toJSON() } : {}),
    });
  } else printSummary(summary, o);
}

/** What bundles are checked against (--trusted-root or the trust store) and which exporters may seal. */
async function shipmentTrust(flags: FlagValues<typeof VERIFY_FLAGS>) {
  const {
    trust,
    source: trustSource,
    warnings,
    storePath: trustStorePath,
  } = await selectTrust({
    trustedRootPath: flags['trusted-root'],
    storePath: flags.store,
    maxAge: flags['max-age'],
  });
  const exporters = await exportersFor({
    sealKey: flags['seal-key'],
    sealIdentity: flags['seal-identity'],
    sealIssuer: flags['seal-issuer'],
    storePath: flags.store,
  });
  return { trust, trustSource, warnings, trustStorePath, exporters };
}

export async function executeShipment(flags: FlagValues<typeof VERIFY_FLAGS>): Promise<number> {
  const json = flags.json;
  const jsonLines = flags['json-lines'];
  const colour = colourEnabled(json || jsonLines);
  const started = Date.now();
  const spools: ShipmentSpools = {};
  try {
    checkShipmentFlags(flags);
    const { identity, policy } = shipmentPolicy(flags);
    // Before the trust store is opened or the archive read: the report must not replace either.
    if (flags.report !== undefined)
      checkWritableTarget(flags.report, {
        what: '--report',
        inputs: shipmentInputs(flags, identity.policyFile?.source),
      });
    // Said before the trust material's own warnings: --jobs beyond the cores, skipped entries.
    const earlyWarnings: string[] = [];
    const jobs = parseJobs(flags.jobs, earlyWarnings);
    const select = selectArtifacts(
      {
        all: flags.all,
        artifacts: flags.artifact ?? [],
        artifactsDir: flags['artifacts-dir'],
      },
      earlyWarnings,
    );
    const source = archiveFileSource(flags.archive!);
    const { trust, trustSource, warnings, trustStorePath, exporters } = await shipmentTrust(flags);
    warnings.unshift(...earlyWarnings);
    printWarnings(warnings);
    openSpools(flags, spools);
    // Kept with --json and --json-lines too (stdout only carries the JSON): a shipment can take minutes.
    const tty = progressEnabled();
    const { verifyShipment } = await import('../../shipment/verify.js');
    const summary = await verifyShipment({
      source,
      trust,
      policy,
      jobs,
      select,
      exporters,
      onProgress: tty ? progressPrinter(started) : undefined,
      onArtifact: artifactSink(flags, spools, colour),
      timeline: flags.report !== undefined,
      keepCheckpoints:
        consistencyStorePath({
          trustStorePath,
          trustedRootPath: flags['trusted-root'],
          storePath: flags.store,
        }) !== undefined,
    });
    const consistency = await shipmentConsistency(
      flags,
      {
        trust,
        trustStorePath,
        requireConsistency: identity.options.requireConsistency ?? false,
        summary,
      },
      warnings,
    );
    const incomplete = incompleteError(summary);
    if (flags.report !== undefined && spools.failures && spools.rows) {
      const head = reportHead({
        archive: flags.archive!,
        trustSource,
        summary,
        generatedAt: new Date().toISOString(),
      });
      writeReport(flags.report, head, spools.failures, spools.rows);
    }
    printShipmentOutcome(flags, spools, {
      summary,
      trustSource,
      warnings,
      consistency,
      incomplete,
      colour,
      started,
    });
    return incomplete ? incomplete.exitCode : 0;
  } catch (e) {
    if (json || jsonLines) {
      const error = e instanceof StellaError ? e.toJSON() : failureOf(e);
      // --json-lines is read a line at a time: a run that stops ends with one line too.
      (jsonLines ? printJsonLine : printJson)({ ok: false, error });
      return error.exitCode;
    }
    printConsistencyEvidence(e);
    if (e instanceof StellaError) return reportError(e, false);
    const f = failureOf(e);
    printErrorLine(f.check, f.message);
    return f.exitCode;
  } finally {
    closeSpools(spools);
  }
}

/**
 * --json's one object, written in flat memory: each artifact's JSON goes to a scratch file as
 * it is judged; at the end the object is printed around them. The bytes are those of
 * printJson(object) (JSON.stringify(object, null, 2) and a newline) with the artifacts in
 * place: each element indented as that nesting indents it.
 */
class JsonArtifactsSpool {
  private n = 0;
  constructor(private readonly spool: SpoolFile) {}

  add(r: ArtifactResult): void {
    const element = JSON.stringify(artifactJson(r), null, 2).replace(/\n/g, '\n    ');
    // Guarded as writeStdout guards printJson's text, so the bytes stay those of printJson.
    this.spool.append(terminalText(`${this.n++ ? ',\n' : ''}    ${element}`));
  }

  /** Print `envelope` (whose `artifacts` is []) with the spooled artifacts in that place. */
  print(envelope: Record<string, unknown> & { artifacts: [] }): void {
    const text = JSON.stringify(envelope, null, 2) + '\n';
    // A newline never occurs inside a JSON string, so this is the key itself.
    const at = text.indexOf('\n  "artifacts": []');
    if (this.n === 0 || at < 0) {
      writeStdout(text);
      return;
    }
    const open = at + '\n  "artifacts": '.length;
    writeStdout(`${text.slice(0, open)}[\n`);
    for (const chunk of this.spool.chunks()) process.stdout.write(chunk); // guarded in add()
    writeStdout(`\n  ]${text.slice(open + 2)}`);
  }

  close(): void {
    this.spool.close();
  }
}

/** The same identity flags, policy files and default policy as a single verify. */
function shipmentPolicy(flags: FlagValues<typeof VERIFY_FLAGS>) {
  const identity = identityPolicyOptions(flags, {
    keyGiven: flags.key !== undefined,
    store: flags.store,
  });
  const policy: PolicyOptions = {
    ...identity.options,
    publicKeyPem: flags.key ? readPublicKeyRef(flags.key, '--key') : undefined,
    requireTlog: flags['require-rekor'] || (identity.options.requireTlog ?? false),
  };
  printWarnings(buildPolicy(policy).warnings);
  return { identity, policy };
}

/** Progress on a TTY's stderr: bundles done, rate and ETA, at most five times a second. */
function progressPrinter(started: number): (done: number, total: number) => void {
  let lastProgress = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - lastProgress < 200 && done < total) return;
    lastProgress = now;
    const rate = done / Math.max(0.001, (now - started) / 1000);
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    process.stderr.write(
      `\r${done}/${total} bundles, ${rate.toFixed(0)}/s, ETA ${eta}s   ${done === total ? '\n' : ''}`,
    );
  };
}

/**
 * One artifact's human line: who signed it, or every bundle's failed check. Names, identities
 * and messages are a stranger's text, each kept on its line (terminalLine).
 */
function printArtifactLine(r: ArtifactResult, colour: boolean): void {
  const label = r.names.length ? ` (${terminalLine(r.names.join(', '))})` : '';
  if (r.ok) {
    const v = r.verified!;
    const identity = terminalLine(v.identity ?? '-');
    const issuer = terminalLine(v.issuer ?? '-');
    writeStdout(
      `${paint(colour, 'green', 'ok  ')} ${r.artifactDigest}${label} ${identity} issuer=${issuer} time=${v.verifiedTime ?? '-'} logIndex=${v.logIndex ?? '-'}\n`,
    );
  } else if (r.missing) {
    writeStdout(
      `${paint(colour, 'red', 'FAIL')} ${r.artifactDigest}${label} missing: not in the archive (NO_ATTESTATIONS_FOUND)\n`,
    );
  } else {
    writeStdout(`${paint(colour, 'red', 'FAIL')} ${r.artifactDigest}${label}\n`);
    for (const b of r.bundles)
      writeStdout(
        `       ${terminalLine(b.path)}: ${b.error?.check ?? '?'}: ${b.error?.code ?? '?'}: ${terminalLine(b.error?.message ?? '')}\n`,
      );
  }
}

/** The human summary table after the per-artifact lines. */
function printSummary(
  summary: ShipmentSummary,
  o: {
    colour: boolean;
    started: number;
    trustSource: string;
    consistency: ConsistencyReport | undefined;
    incomplete: StellaError | undefined;
  },
): void {
  const { colour, consistency, incomplete } = o;
  const seal = describeSeal(summary.seal);
  const secs = (Date.now() - o.started) / 1000;
  writeStdout(
    [
      '',
      `  artifacts  ${summary.artifacts}`,
      `  passed     ${summary.passed}`,
      `  failed     ${summary.failed}`,
      `  missing    ${summary.missing}`,
      `  bundles    ${summary.bundles} (${summary.jobs} job(s), ${secs.toFixed(1)} s)`,
      `  seal       ${seal}`,
      `  trust      ${o.trustSource}`,
      ...(consistency
        ? [
            `  consistency ${consistency.checkpoints.length} checkpoint(s) of verified bundles: ${consistency.checkpoints.filter((c) => c.status === 'proven').length} proven, ${consistency.checkpoints.filter((c) => c.status === 'unproven').length} unproven; ${consistency.recorded} recorded in ${consistency.store}`,
            ...consistency.latest.map(
              (l) => `  latest     ${l.log} tree size ${l.treeSize} recorded (${l.status})`,
            ),
          ]
        : []),
      '',
    ].join('\n'),
  );
  if (incomplete) printErrorLine(incomplete.check, incomplete.message);
  else writeStdout(`${paint(colour, 'bold', 'Verified OK')}: every artifact verified\n`);
}
