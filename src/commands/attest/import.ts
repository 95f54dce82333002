import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { oclifFlags } from '../oclif-flags.js';
import { IDENTITY_FLAGS, identityAsked, PREDICATE_TYPE_FLAG } from '../identity-flag-spec.js';
import type { FlagValues } from '../flag-spec.js';
import { writeStdout } from '../render.js';

/** The identity flags of `attest verify`; --policy's description says what it does here. */
const IMPORT_POLICY_FLAGS = {
  ...IDENTITY_FLAGS,
  ...PREDICATE_TYPE_FLAG,
  policy: {
    type: 'string',
    description:
      'policy file (YAML): every artifact must have a bundle that verifies under its environment, else nothing is imported (no default policy applies to import)',
  },
} as const;

export default class AttestImport extends StellaCommand {
  static override summary =
    "Import an export archive's bundles into the local attestation store, all or nothing";
  static override description = [
    'The archive (.tar or .tar.gz) is read as a stream and checked whole first: its structure',
    '(every rule of `verify --archive`) and its seal (required when the trust store has exporters,',
    'or pinned with --seal-key / --seal-identity --seal-issuer). Then every bundle goes into the',
    'attestation store in one transaction: a failure, or a killed process, leaves the store as it',
    'was. Bundles already in the store are recognised and counted as duplicates.',
    '`attest verify --artifact sha256:...` then finds them without --bundle.',
    'With --policy FILE [--environment NAME] (or --certificate-identity and --certificate-oidc-issuer), every artifact of the archive must first have a bundle that verifies under it, offline, as `verify --archive --all` checks; otherwise nothing is imported and IMPORT_POLICY_UNMET (160) lists each failing artifact with its failed checks.',
    "Before the import commits, the bundles' checkpoints and the archive's consistency.json (export-bundle --include-consistency) are held against the checkpoints the trust store holds, as `attest verify` does: a split view (exit 170), a rollback (172), a bad proof (171) or, with --require-consistency, an unproven checkpoint (173) imports nothing; the evidence is kept and printed.",
  ].join(' ');
  static override examples = [
    '<%= config.bin %> attest import shipment.tar.gz',
    '<%= config.bin %> attest import shipment.tar --seal-key exporter.pub --attestation-store /var/lib/stella/attestations.db',
    '<%= config.bin %> attest import shipment.tar --policy policy.yaml --environment production',
  ];
  static override args = {
    archive: Args.string({
      ignoreStdin: true,
      description:
        'export archive (stella attest export-bundle; .tar or .tar.gz; - reads it from standard input)',
      required: true,
    }),
  };
  static override flags = {
    'attestation-store': Flags.string({
      description:
        'attestation store path (default $STELLA_ATTESTATION_STORE or the per-user store)',
    }),
    store: Flags.string({
      description:
        'trust store path, for its exporters (default: $STELLA_TRUST_STORE or the per-user store)',
    }),
    'seal-key': Flags.string({
      description: 'require a seal by this PEM public key (a file, or env://VAR)',
    }),
    'seal-identity': Flags.string({
      description: 'require a keyless seal by this exact certificate identity (with --seal-issuer)',
    }),
    'seal-issuer': Flags.string({ description: 'OIDC issuer of --seal-identity' }),
    'require-consistency': Flags.boolean({
      description:
        'refuse the archive when a checkpoint its bundles carry is not proven consistent with the checkpoints the trust store holds for its log (prove it with an archive made by export-bundle --include-consistency)',
      default: false,
    }),
    'trusted-root': Flags.string({
      description:
        'trusted_root.json to check a keyless seal and, with a policy, the bundles against (default: the trust store, else the public-good root)',
    }),
    ...oclifFlags(IMPORT_POLICY_FLAGS),
    jobs: Flags.string({
      description:
        'with a policy: verifier threads (default: one per core, at most one per 128 bundles; 1 = in process)',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AttestImport);
    const { runImport } = await import('./import-run.js');
    const identityFlags = flags as unknown as FlagValues<typeof IMPORT_POLICY_FLAGS>;
    // No policy asked for: no verification (the default policy file is not applied here).
    let policy: import('../../verify/policy.js').PolicyOptions | undefined;
    if (identityAsked(identityFlags)) {
      const { commandLineIdentity } = await import('../identity-flags.js');
      const { buildPolicy } = await import('../../verify/policy.js');
      // Mistakes in the identity flags are usage errors, found before the archive is read.
      policy = this.usageMistakes(
        () => commandLineIdentity(identityFlags, { keyGiven: false, store: flags.store }).options,
      );
      for (const w of buildPolicy(policy).warnings) this.warning(w);
    } else if (
      flags.jobs !== undefined ||
      identityFlags['allow-broad-identity'] ||
      identityFlags['predicate-type'] !== undefined
    )
      this.usage(
        '--jobs, --allow-broad-identity and --predicate-type apply with a policy (--policy or identity flags)',
      );
    const { parseJobs } = await import('./shipment-run.js');
    const { commandLine, printConsistencyEvidence } = await import('./consistency-run.js');
    const jobsWarnings: string[] = [];
    const imported = await runImport({
      // --require-consistency, or the policy environment's requireConsistency.
      requireConsistency: flags['require-consistency'] || (policy?.requireConsistency ?? false),
      command: commandLine(['attest', 'import']),
      archivePath: args.archive,
      attestationStorePath: flags['attestation-store'],
      storePath: flags.store,
      sealKey: flags['seal-key'],
      sealIdentity: flags['seal-identity'],
      sealIssuer: flags['seal-issuer'],
      trustedRootPath: flags['trusted-root'],
      policy,
      jobs: parseJobs(flags.jobs, jobsWarnings),
    }).catch((e: unknown) => {
      if (!this.jsonMode) printConsistencyEvidence(e);
      throw e;
    });
    const r = { ...imported, warnings: [...jobsWarnings, ...imported.warnings] };
    for (const w of r.warnings) this.warning(w);
    if (this.jsonMode) {
      this.printJson({ ok: true, ...r });
      return;
    }
    writeStdout(
      `${this.paint('green', 'imported')} ${r.added} new bundle(s) (${r.duplicates} already present) for ${r.artifacts} artifact(s) into ${r.attestationStore}\n`,
    );
    if (r.verified !== null) writeStdout(`  policy: every artifact verified (${r.verified})\n`);
    writeStdout(
      `  seal: ${r.seal.status === 'verified' ? `verified, ${r.seal.by}` : r.seal.status === 'unchecked' ? 'present, not checked (no exporter trusted)' : 'none'}\n`,
    );
    if (r.consistency) {
      const c = r.consistency;
      const proven = c.checkpoints.filter((x) => x.status === 'proven').length;
      writeStdout(
        `  consistency: ${c.checkpoints.length} checkpoint(s), ${proven} proven, ${c.checkpoints.length - proven} unproven; ${c.recorded} recorded in ${c.store}${c.latest.map((l) => `; ${l.log} latest tree size ${l.treeSize} (${l.status})`).join('')}\n`,
      );
    }
  }
}
