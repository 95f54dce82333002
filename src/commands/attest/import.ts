import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';

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
    "Before the import commits, the bundles' checkpoints and the archive's consistency.json (export-bundle --include-consistency) are held against the checkpoints the trust store holds, as `attest verify` does: a split view (exit 170), a rollback (172), a bad proof (171) or, with --require-consistency, an unproven checkpoint (173) imports nothing; the evidence is kept and printed.",
  ].join(' ');
  static override examples = [
    '<%= config.bin %> attest import shipment.tar.gz',
    '<%= config.bin %> attest import shipment.tar --seal-key exporter.pub --attestation-store /var/lib/stella/attestations.db',
  ];
  static override args = {
    archive: Args.string({
      ignoreStdin: true,
      description: 'export archive (stella attest export-bundle)',
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
    'seal-key': Flags.string({ description: 'require a seal by this PEM public key' }),
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
        'trusted_root.json to check a keyless seal against (default: the trust store, else the public-good root)',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AttestImport);
    const { runImport } = await import('./import-run.js');
    const { commandLine, printConsistencyEvidence } = await import('./consistency-run.js');
    const r = await runImport({
      requireConsistency: flags['require-consistency'],
      command: commandLine(['attest', 'import']),
      archivePath: args.archive,
      attestationStorePath: flags['attestation-store'],
      storePath: flags.store,
      sealKey: flags['seal-key'],
      sealIdentity: flags['seal-identity'],
      sealIssuer: flags['seal-issuer'],
      trustedRootPath: flags['trusted-root'],
    }).catch((e: unknown) => {
      if (!this.jsonMode) printConsistencyEvidence(e);
      throw e;
    });
    for (const w of r.warnings) process.stderr.write(`${this.paint('yellow', 'warning')}: ${w}\n`);
    if (this.jsonMode) {
      this.printJson({ ok: true, ...r });
      return;
    }
    process.stdout.write(
      `${this.paint('green', 'imported')} ${r.added} new bundle(s) (${r.duplicates} already present) for ${r.artifacts} artifact(s) into ${r.attestationStore}\n`,
    );
    process.stdout.write(
      `  seal: ${r.seal.status === 'verified' ? `verified, ${r.seal.by}` : r.seal.status === 'unchecked' ? 'present, not checked (no exporter trusted)' : 'none'}\n`,
    );
    if (r.consistency) {
      const c = r.consistency;
      const proven = c.checkpoints.filter((x) => x.status === 'proven').length;
      process.stdout.write(
        `  consistency: ${c.checkpoints.length} checkpoint(s), ${proven} proven, ${c.checkpoints.length - proven} unproven; ${c.recorded} recorded in ${c.store}${c.latest.map((l) => `; ${l.log} latest tree size ${l.treeSize} (${l.status})`).join('')}\n`,
      );
    }
  }
}
