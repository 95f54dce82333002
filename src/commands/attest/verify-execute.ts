/**
 * `stella attest verify` from parsed flags to exit code: run the verification and render it
 * (human lines or one JSON report). Both front ends call this: the oclif command and the
 * dependency-free launcher that bin/run.js uses so a verification in CI starts fast.
 */
import { failureOf, StellaError } from '../../errors.js';
import {
  colourEnabled,
  paint,
  printErrorLine,
  printJson,
  printUsageError,
  reportError,
  stderrColour,
} from '../render.js';
import { runVerify } from './verify-run.js';
import { compileIdentityPattern } from '../../verify/identity-pattern.js';
import { identityPolicyOptions, type ResolvedIdentity } from '../identity-flags.js';
import { explainLines } from './explain-render.js';
import type { IdentityExplanation } from '../../verify/identity.js';
import type { FlagValues } from '../flag-spec.js';
import type { VERIFY_FLAGS } from './verify-spec.js';
import type { CheckpointReport } from '../../trust/store/consistency.js';
import { commandLine, printConsistencyEvidence } from './consistency-run.js';

function describeCheckpoint(c: CheckpointReport): string {
  const w = c.witnesses.length ? `, cosigned by ${c.witnesses.join(', ')}` : '';
  return `${c.log} tree size ${c.treeSize}: ${c.status === 'proven' ? 'consistent with the trust store' : 'recorded, not yet proven consistent'}${w}`;
}

export async function executeVerify(
  flags: FlagValues<typeof VERIFY_FLAGS>,
  positionalArtifact?: string,
): Promise<number> {
  const json = flags.json;
  const colour = colourEnabled(json);
  if (positionalArtifact !== undefined) {
    if (flags.artifact !== undefined)
      return printUsageError(
        `the artifact was given twice (${JSON.stringify(positionalArtifact)} and --artifact ${JSON.stringify(flags.artifact)}): give it once`,
        json,
      );
    flags = { ...flags, artifact: [positionalArtifact] };
  }
  // Which identities to accept: flags, a policy file, or the default policy. A usage mistake
  // (no identity at all, both spellings of a flag, a pattern that is not an RE2 regular
  // expression on its own) is reported like any other bad flag (exit 2) before anything is
  // read; a bad policy file has its own code.
  let identity: ResolvedIdentity;
  try {
    identity = identityPolicyOptions(flags, {
      keyGiven: flags.key !== undefined,
      store: flags.store,
    });
    if (!identity.policyFile) {
      const o = identity.options;
      if (o.certificateIdentity !== undefined)
        compileIdentityPattern(o.certificateIdentity, o.patternName?.(0));
      for (const [name, p] of o.certificateExtensions ?? [])
        compileIdentityPattern(p, `--certificate-extension ${name}`);
    }
  } catch (e) {
    if (e instanceof StellaError && e.code === 'INPUT_INVALID')
      return printUsageError(e.message, json);
    if (e instanceof StellaError) return reportError(e, json);
    throw e;
  }
  // --max-age is about the trust store; with --trusted-root no store is read, so it would be ignored.
  if (flags['max-age'] !== undefined) {
    if (flags['trusted-root'] !== undefined)
      return printUsageError(
        '--max-age limits the age of the trust store, which is not read with --trusted-root: give one or the other',
        json,
      );
    if (!/^[0-9]+(\.[0-9]+)?$/.test(flags['max-age'].trim()))
      return printUsageError(
        `--max-age must be a positive number of days, not ${JSON.stringify(flags['max-age'])}`,
        json,
      );
  }
  const artifacts = flags.artifact ?? [];
  const shipmentOnly =
    flags.all ||
    flags['artifacts-dir'] !== undefined ||
    flags.jobs !== undefined ||
    flags['json-lines'] ||
    flags.report !== undefined ||
    flags['seal-key'] !== undefined ||
    flags['seal-identity'] !== undefined;
  if (flags.archive !== undefined && (shipmentOnly || artifacts.length > 1)) {
    const { executeShipment } = await import('./shipment-execute.js');
    return executeShipment(flags);
  }
  if (shipmentOnly)
    return printUsageError(
      '--all, --artifacts-dir, --jobs, --json-lines, --report and --seal-* verify a whole export archive: give --archive',
      json,
    );
  if (artifacts.length > 1)
    return printUsageError('--artifact may be repeated only with --archive', json);
  if (flags.artifact === undefined && flags.image === undefined)
    return printUsageError(
      'missing required flag --artifact (or the artifact as an argument, or --image)',
      json,
    );
  try {
    const outcome = await runVerify({
      bundlePath: flags.bundle,
      artifact: artifacts[0],
      image: flags.image,
      registry: {
        allowInsecureRegistry: flags['allow-insecure-registry'],
        registryUsername: flags['registry-username'],
        registryPasswordStdin: flags['registry-password-stdin'],
      },
      identityOptions: identity.options,
      keyPath: flags.key,
      trustedRootPath: flags['trusted-root'],
      requireRekor: flags['require-rekor'],
      storePath: flags.store,
      maxAge: flags['max-age'],
      attestationStorePath: flags['attestation-store'],
      archivePath: flags.archive,
      requireConsistency: flags['require-consistency'],
      command: commandLine(['attest', 'verify']),
    });
    for (const w of outcome.warnings)
      process.stderr.write(`${paint(stderrColour(), 'yellow', 'warning')}: ${w}\n`);
    const report = outcome.report;
    if (identity.defaultPolicy && !json)
      process.stderr.write(
        `identity policy: ${identity.options.identitySource} (the default policy: ${identity.defaultPolicy})\n`,
      );
    if (flags.explain && !json) {
      const details = report.checks.find((c) => c.check === 'policy')?.details as
        { explain?: IdentityExplanation } | undefined;
      if (details?.explain)
        process.stdout.write(
          explainLines(details.explain, identity.options.identitySource ?? 'command line').join(
            '\n',
          ) + '\n',
        );
      else if (report.checks.some((c) => c.check === 'policy' && c.status === 'skip'))
        process.stdout.write('identity policy: not reached (an earlier check failed)\n');
    }
    if (json) {
      printJson({
        ...report,
        trust: outcome.trustSource,
        warnings: outcome.warnings,
        consistency: outcome.consistency ?? null,
      });
      return report.error ? report.error.exitCode : 0;
    }
    if (report.error) {
      // Failures that depend on what is trusted name where the trust came from.
      const trustBound = ['verified-times', 'certificate-chain', 'sct', 'tlog'].includes(
        report.error.check,
      );
      const hint = outcome.trustSource.startsWith('embedded')
        ? '; pass --trusted-root or import into the trust store with `stella trust import`'
        : '';
      printErrorLine(
        report.error.check,
        trustBound
          ? `${report.error.message} (trust: ${outcome.trustSource}${hint})`
          : report.error.message,
      );
      return report.error.exitCode;
    }
    for (const c of report.checks) {
      const mark =
        c.status === 'pass' ? paint(colour, 'green', 'ok  ') : paint(colour, 'dim', 'skip');
      process.stdout.write(`${mark} ${c.check.padEnd(17)} ${c.summary}\n`);
    }
    for (const c of outcome.consistency?.checkpoints ?? []) {
      process.stdout.write(
        `${paint(colour, c.status === 'proven' ? 'green' : 'dim', c.status === 'proven' ? 'ok  ' : 'new ')} ${'consistency'.padEnd(17)} ${describeCheckpoint(c)}\n`,
      );
    }
    for (const l of outcome.consistency?.latest ?? [])
      process.stdout.write(
        `${paint(colour, 'green', 'ok  ')} ${'consistency'.padEnd(17)} ${l.log} latest checkpoint tree size ${l.treeSize} recorded (${l.status})\n`,
      );
    process.stdout.write(
      `${paint(colour, 'bold', 'Verified OK')} (trust: ${outcome.trustSource})\n`,
    );
    return 0;
  } catch (e) {
    if (!json) printConsistencyEvidence(e);
    if (e instanceof StellaError) return reportError(e, json);
    // A bug, not bad input: still one line (and with --json one object), never a bare stack trace.
    const f = failureOf(e);
    if (json) printJson({ ok: false, error: f });
    else printErrorLine(f.check, f.message);
    return f.exitCode;
  }
}
