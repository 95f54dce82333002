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
  printWarning,
  reportError,
  writeStderr,
  writeStdout,
} from '../render.js';
import { terminalLine } from '../../util/text.js';
import { bundleSourceMistake, runVerify } from './verify-run.js';
import { commandLineIdentity, type ResolvedIdentity } from '../identity-flags.js';
import { givenTwiceMistake, inputAsUsage, inputName } from '../argv.js';
import { explainLines } from './explain-render.js';
import type { IdentityExplanation } from '../../verify/identity.js';
import type { FlagValues } from '../flag-spec.js';
import type { VERIFY_FLAGS } from './verify-spec.js';
import type { CheckpointReport } from '../../trust/store/consistency.js';
import { maxAgeDaysMistake } from '../../trust/store/max-age.js';
import { commandLine, printConsistencyEvidence } from './consistency-run.js';

function describeCheckpoint(c: CheckpointReport): string {
  const w = c.witnesses.length ? `, cosigned by ${c.witnesses.join(', ')}` : '';
  return `${c.log} tree size ${c.treeSize}: ${c.status === 'proven' ? 'consistent with the trust store' : 'recorded, not yet proven consistent'}${w}`;
}

/**
 * Which identities to accept: flags, a policy file, or the default policy. Mistakes in flags
 * (a pattern that is not an RE2 regular expression on its own, an identity without an issuer,
 * ...) are found here, before anything is read.
 */
function resolveIdentity(flags: FlagValues<typeof VERIFY_FLAGS>): ResolvedIdentity {
  return commandLineIdentity(flags, { keyGiven: flags.key !== undefined, store: flags.store });
}

/** Why --max-age cannot be used as given, if it cannot. */
function maxAgeMistake(flags: FlagValues<typeof VERIFY_FLAGS>): string | undefined {
  const maxAge = flags['max-age'];
  if (maxAge === undefined) return undefined;
  // --max-age is about the trust store; with --trusted-root no store is read, so it would be ignored.
  if (flags['trusted-root'] !== undefined)
    return '--max-age limits the age of the trust store, which is not read with --trusted-root: give one or the other';
  return maxAgeDaysMistake(maxAge);
}

/** Flags that only mean something when a whole export archive is verified. */
function asksForShipment(flags: FlagValues<typeof VERIFY_FLAGS>): boolean {
  return (
    flags.all ||
    flags['artifacts-dir'] !== undefined ||
    flags.jobs !== undefined ||
    flags['json-lines'] ||
    flags.report !== undefined ||
    flags['seal-key'] !== undefined ||
    flags['seal-identity'] !== undefined ||
    flags['seal-issuer'] !== undefined
  );
}

/** Why the flags do not name exactly one thing to verify, if they do not. */
function singleTargetMistake(flags: FlagValues<typeof VERIFY_FLAGS>): string | undefined {
  if (asksForShipment(flags))
    return '--all, --artifacts-dir, --jobs, --json-lines, --report and --seal-* verify a whole export archive: give --archive';
  if ((flags.artifact ?? []).length > 1) return '--artifact may be repeated only with --archive';
  if (flags.artifact === undefined && flags.image === undefined)
    return 'missing required flag --artifact (or the artifact as an argument, or --image)';
  return undefined;
}

function verifyOptions(
  flags: FlagValues<typeof VERIFY_FLAGS>,
  identity: ResolvedIdentity,
  artifactAsArgument: boolean,
): Parameters<typeof runVerify>[0] {
  return {
    bundlePath: flags.bundle,
    artifact: flags.artifact?.[0],
    artifactWhat: inputName('artifact', artifactAsArgument),
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
  };
}

type VerifyOutcome = Awaited<ReturnType<typeof runVerify>>;

/** --explain: how the identity policy matched, or that verification never reached it. */
function printExplanation(report: VerifyOutcome['report'], identity: ResolvedIdentity): void {
  const details = report.checks.find((c) => c.check === 'policy')?.details as
    { explain?: IdentityExplanation } | undefined;
  if (details?.explain)
    writeStdout(
      explainLines(details.explain, identity.options.identitySource ?? 'command line').join('\n') +
        '\n',
    );
  else if (report.checks.some((c) => c.check === 'policy' && c.status === 'skip'))
    writeStdout('identity policy: not reached (an earlier check failed)\n');
}

/** The failed check as one line; failures that depend on what is trusted name where the trust came from. */
function printFailure(
  outcome: VerifyOutcome,
  error: NonNullable<VerifyOutcome['report']['error']>,
): void {
  const trustBound = ['verified-times', 'certificate-chain', 'sct', 'tlog'].includes(error.check);
  const hint = outcome.trustSource.startsWith('embedded')
    ? '; pass --trusted-root or import into the trust store with `stella trust import`'
    : '';
  printErrorLine(
    error.check,
    trustBound ? `${error.message} (trust: ${outcome.trustSource}${hint})` : error.message,
  );
}

/** One line a check, then the consistency of the logs' checkpoints, then the verdict. */
function printPassed(outcome: VerifyOutcome, colour: boolean): void {
  for (const c of outcome.report.checks) {
    const mark =
      c.status === 'pass' ? paint(colour, 'green', 'ok  ') : paint(colour, 'dim', 'skip');
    writeStdout(`${mark} ${c.check.padEnd(17)} ${terminalLine(c.summary)}\n`);
  }
  for (const c of outcome.consistency?.checkpoints ?? []) {
    writeStdout(
      `${paint(colour, c.status === 'proven' ? 'green' : 'dim', c.status === 'proven' ? 'ok  ' : 'new ')} ${'consistency'.padEnd(17)} ${terminalLine(describeCheckpoint(c))}\n`,
    );
  }
  for (const l of outcome.consistency?.latest ?? [])
    writeStdout(
      `${paint(colour, 'green', 'ok  ')} ${'consistency'.padEnd(17)} ${l.log} latest checkpoint tree size ${l.treeSize} recorded (${l.status})\n`,
    );
  writeStdout(`${paint(colour, 'bold', 'Verified OK')} (trust: ${outcome.trustSource})\n`);
}

/** Renders a finished verification (human lines or one JSON report) and returns the exit code. */
function renderOutcome(
  outcome: VerifyOutcome,
  identity: ResolvedIdentity,
  flags: FlagValues<typeof VERIFY_FLAGS>,
): number {
  const json = flags.json;
  for (const w of outcome.warnings) printWarning(w);
  const report = outcome.report;
  if (identity.defaultPolicy && !json)
    writeStderr(
      `identity policy: ${identity.options.identitySource} (the default policy: ${identity.defaultPolicy})\n`,
    );
  if (flags.explain && !json) printExplanation(report, identity);
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
    printFailure(outcome, report.error);
    return report.error.exitCode;
  }
  printPassed(outcome, colourEnabled(json));
  return 0;
}

export async function executeVerify(
  flags: FlagValues<typeof VERIFY_FLAGS>,
  positionalArtifact?: string,
): Promise<number> {
  const json = flags.json;
  if (positionalArtifact !== undefined) {
    const twice = givenTwiceMistake('artifact', positionalArtifact, 'artifact', flags.artifact);
    if (twice !== undefined) return printUsageError(twice, json);
    flags = { ...flags, artifact: [positionalArtifact] };
  }
  // A usage mistake (no identity at all, both spellings of a flag, a pattern that is not an
  // RE2 regular expression on its own) is reported like any other bad flag (exit 2) before
  // anything is read; a bad policy file has its own code.
  let identity: ResolvedIdentity;
  try {
    identity = resolveIdentity(flags);
  } catch (e) {
    const reported = inputAsUsage(e);
    if (reported instanceof StellaError) return reportError(reported, json);
    throw e;
  }
  const maxAgeError = maxAgeMistake(flags);
  if (maxAgeError !== undefined) return printUsageError(maxAgeError, json);
  if (
    flags.archive !== undefined &&
    (asksForShipment(flags) || (flags.artifact ?? []).length > 1)
  ) {
    const { executeShipment } = await import('./shipment-execute.js');
    return executeShipment(flags);
  }
  const targetError =
    singleTargetMistake(flags) ??
    bundleSourceMistake({
      bundlePath: flags.bundle,
      archivePath: flags.archive,
      image: flags.image,
    });
  if (targetError !== undefined) return printUsageError(targetError, json);
  try {
    return renderOutcome(
      await runVerify(verifyOptions(flags, identity, positionalArtifact !== undefined)),
      identity,
      flags,
    );
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
