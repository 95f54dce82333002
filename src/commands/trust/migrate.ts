import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { commandLine, storeFlag } from './shared.js';
import { writeStdout } from '../render.js';

export default class TrustMigrate extends StellaCommand {
  static override summary = 'Bring a trust store at an older schema to the current one';
  static override description = [
    'The only command that migrates: every other command refuses an older store (exit 100) and',
    'changes nothing. Before writing, the store is checked against its own history: every',
    'entry, rotation key, applied rotation and setting must be what its history rows say, and',
    'no trace of a newer schema may be left (a downgrade). Anything unaccounted for is refused',
    '(STORE_TAMPERED, exit 62) and the file is left as it was. Prints what it seals; --dry-run',
    'checks and prints without writing.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> trust migrate --dry-run',
    '<%= config.bin %> trust migrate',
  ];
  static override flags = {
    ...storeFlag,
    'dry-run': Flags.boolean({
      description: 'check the store and show what would be sealed, without writing',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustMigrate);
    const t = await import('../../trust/store/index.js');
    const path = t.resolveStorePath(flags.store);
    const dryRun = flags['dry-run'];
    const store = t.openTrustStore(path, { readonly: dryRun, allowOlderSchema: true });
    try {
      const r = t.migrateTrustStore(store, { dryRun }, { now: Date.now(), command: commandLine() });
      if (this.jsonMode) {
        this.printJson({ ok: true, ...r });
        return;
      }
      if (r.upToDate) {
        writeStdout(`trust store ${path} is already at schema ${r.to}; nothing to migrate\n`);
        return;
      }
      writeStdout(
        `trust store ${path}: schema ${r.from} -> ${r.to}; history (${r.historyRows} rows) accounts for everything it holds\n`,
      );
      writeStdout(
        `${dryRun ? 'would seal' : 'sealed'}: ${r.entries.length} entries, ${r.rotationKeys.filter((k) => k.active).length} active rotation key(s), threshold ${r.threshold}, last rotation version ${r.lastRotationVersion}\n`,
      );
      for (const e of r.entries)
        writeStdout(
          `  #${e.id} ${e.kind} ${e.subject}  ${e.validFrom} .. ${e.effectiveUntil ?? 'open'}  sha256:${e.fingerprint.slice(0, 16)}…\n`,
        );
      for (const k of r.rotationKeys)
        writeStdout(
          `  key ${k.keyId.slice(0, 16)}… ${k.keyDetails}${k.active ? '' : ' (removed)'}\n`,
        );
      writeStdout(
        dryRun ? 'dry run: nothing was written\n' : `migrated; history head ${r.historyHead}\n`,
      );
    } finally {
      store.close();
    }
  }
}
