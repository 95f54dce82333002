import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { storeFlag } from './shared.js';
import { writeStdout } from '../render.js';
import { terminalLine } from '../../util/text.js';

export default class TrustCheckpoints extends StellaCommand {
  static override summary =
    'Show what each transparency log has shown: the checkpoints the store verified, and any split view caught';
  static override description = [
    'Per log: every checkpoint verified so far (tree size, root hash, proven consistent or not yet,',
    "whether a shipment presented it as the log's latest, when and from which file), the log's",
    'witness policy, and every split view or rollback the store caught, with both signed',
    'checkpoints as evidence (--evidence prints the notes).',
  ].join(' ');

  static override examples = [
    '<%= config.bin %> trust checkpoints',
    '<%= config.bin %> trust checkpoints --json',
  ];
  static override flags = {
    ...storeFlag,
    evidence: Flags.boolean({
      description: 'print the signed checkpoints of each split view in full',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustCheckpoints);
    const t = await import('../../trust/store/index.js');
    const { listCheckpoints } = await import('../../trust/store/checkpoints.js');
    const path = t.resolveStorePath(flags.store);
    const store = t.openTrustStore(path, { readonly: true });
    try {
      const r = listCheckpoints(store);
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, ...r });
        return;
      }
      if (r.logs.length === 0)
        writeStdout(
          `no checkpoints in ${path} yet (verifying a bundle records its log's checkpoint)\n`,
        );
      for (const l of r.logs) {
        writeStdout(
          `${this.paint('bold', terminalLine(l.logUrl ?? l.logId))} ${terminalLine(`(${l.origin || 'no checkpoint yet'})${l.policy ? `; witness policy: ${l.policy.threshold} of ${l.policy.witnesses.join(', ')}` : ''}`)}\n`,
        );
        for (const c of l.checkpoints) {
          const status =
            c.status === 'proven'
              ? this.paint('green', 'proven  ')
              : this.paint('yellow', 'unproven');
          writeStdout(
            `  ${String(c.treeSize).padStart(10)} ${c.rootHash.slice(0, 16)}… ${status}${c.latest ? ' latest' : '       '} first seen ${c.firstSeenAt} from ${terminalLine(c.source)}\n`,
          );
        }
      }
      for (const s of r.splitViews) {
        writeStdout(
          `${this.paint('red', s.code === 'CHECKPOINT_ROLLBACK' ? 'ROLLBACK' : 'SPLIT VIEW')} #${s.id} ${terminalLine(`${s.origin} at ${s.detectedAt} (from ${s.source}): ${s.reason}`)}\n`,
        );
        if (flags.evidence)
          writeStdout(
            `  held:\n${s.heldNote.replace(/^/gm, '    ')}\n  presented:\n${s.presentedNote.replace(/^/gm, '    ')}\n`,
          );
      }
    } finally {
      store.close();
    }
  }
}
