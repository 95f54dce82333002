/**
 * `stella attest verify` from parsed flags to exit code: run the verification and render it
 * (human lines or one JSON report). Both front ends call this: the oclif command and the
 * dependency-free launcher that bin/run.js uses so a verification in CI starts fast.
 */
import { failureOf, StellaError } from '../../errors.js';
import { colourEnabled, paint, printErrorLine, printJson, printUsageError, reportError, stderrColour } from '../render.js';
import { runVerify } from './verify-run.js';
import { compileIdentityPattern } from '../../verify/identity-pattern.js';
import type { FlagValues } from '../flag-spec.js';
import type { VERIFY_FLAGS } from './verify-spec.js';
import type { CheckpointReport } from '../../trust/store/consistency.js';

function describeCheckpoint(c: CheckpointReport): string {
  const w = c.witnesses.length ? `, cosigned by ${c.witnesses.join(', ')}` : '';
  return `${c.log} tree size ${c.treeSize}: ${c.status === 'proven' ? 'consistent with the trust store' : 'recorded, not yet proven consistent'}${w}`;
}

/** A split view's or rollback's evidence: both signed checkpoints, as the log signed them. */
function printEvidence(e: StellaError): void {
  const d = e.details as { held?: { checkpoint: string }; presented?: { checkpoint: string }; proof?: string[] | null } | undefined;
  if (!d?.held || !d.presented) return;
  process.stderr.write(`evidence: checkpoint held by the trust store:\n${d.held.checkpoint}\nevidence: checkpoint presented now:\n${d.presented.checkpoint}\n`);
  if (d.proof) process.stderr.write(`evidence: the failing consistency proof: ${d.proof.join(' ')}\n`);
}

export async function executeVerify(flags: FlagValues<typeof VERIFY_FLAGS>): Promise<number> {
  const json = flags.json;
  const colour = colourEnabled(json);
  // A pattern that is not a regular expression on its own is a mistake in the command line,
  // reported like any other bad flag (exit 2) before anything is read.
  const pattern = flags['certificate-identity'];
  if (pattern !== undefined) {
    try {
      compileIdentityPattern(pattern);
    } catch (e) {
      if (e instanceof StellaError) return printUsageError(e.message);
      throw e;
    }
  }
  if (flags.artifact === undefined && flags.image === undefined) return printUsageError('Missing required flag --artifact (or --image)');
  try {
    const outcome = await runVerify({
      bundlePath: flags.bundle,
      artifact: flags.artifact,
      image: flags.image,
      registry: { allowInsecureRegistry: flags['allow-insecure-registry'], registryUsername: flags['registry-username'], registryPasswordStdin: flags['registry-password-stdin'] },
      certificateIdentity: flags['certificate-identity'],
      certificateOidcIssuer: flags['certificate-oidc-issuer'],
      keyPath: flags.key,
      trustedRootPath: flags['trusted-root'],
      requireRekor: flags['require-rekor'],
      storePath: flags.store,
      maxAge: flags['max-age'],
      attestationStorePath: flags['attestation-store'],
      archivePath: flags.archive,
      requireConsistency: flags['require-consistency'],
      command: ['stella', 'attest', 'verify', ...process.argv.slice(process.argv.indexOf('verify') + 1)].join(' '),
    });
    for (const w of outcome.warnings) process.stderr.write(`${paint(stderrColour(), 'yellow', 'warning')}: ${w}\n`);
    const report = outcome.report;
    if (json) {
      printJson({ ...report, trust: outcome.trustSource, warnings: outcome.warnings, consistency: outcome.consistency ?? null });
      return report.error ? report.error.exitCode : 0;
    }
    if (report.error) {
      printErrorLine(report.error.check, report.error.message);
      return report.error.exitCode;
    }
    for (const c of report.checks) {
      const mark = c.status === 'pass' ? paint(colour, 'green', 'ok  ') : paint(colour, 'dim', 'skip');
      process.stdout.write(`${mark} ${c.check.padEnd(17)} ${c.summary}\n`);
    }
    for (const c of outcome.consistency?.checkpoints ?? []) {
      process.stdout.write(`${paint(colour, c.status === 'proven' ? 'green' : 'dim', c.status === 'proven' ? 'ok  ' : 'new ')} ${'consistency'.padEnd(17)} ${describeCheckpoint(c)}\n`);
    }
    for (const l of outcome.consistency?.latest ?? []) process.stdout.write(`${paint(colour, 'green', 'ok  ')} ${'consistency'.padEnd(17)} ${l.log} latest checkpoint tree size ${l.treeSize} recorded (${l.status})\n`);
    process.stdout.write(`${paint(colour, 'bold', 'Verified OK')} (trust: ${outcome.trustSource})\n`);
    return 0;
  } catch (e) {
    if (e instanceof StellaError && !json && (e.code === 'SPLIT_VIEW_DETECTED' || e.code === 'CHECKPOINT_ROLLBACK')) printEvidence(e);
    if (e instanceof StellaError) return reportError(e, json);
    // A bug, not bad input: still one line (and with --json one object), never a bare stack trace.
    const f = failureOf(e);
    if (json) printJson({ ok: false, error: f });
    else printErrorLine(f.check, f.message);
    return f.exitCode;
  }
}
