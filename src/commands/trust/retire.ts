import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { commandLine, storeFlag } from './shared.js';
import { parseTimeFlag } from '../../util/time.js';
import { writeStdout } from '../render.js';
import { terminalLine } from '../../util/text.js';

export default class TrustRetire extends StellaCommand {
  static override summary = "Close a trust entry's validity window";
  static override description =
    'Signatures whose verified time falls after --at stop verifying against this entry; older ones keep verifying. The entry and its history are kept.';
  static override examples = ['<%= config.bin %> trust retire 3 --at 2026-01-31T00:00:00Z'];
  static override args = {
    id: Args.string({ ignoreStdin: true, description: 'entry id', required: true }),
  };
  static override flags = {
    ...storeFlag,
    at: Flags.string({ description: 'end of the window, inclusive (RFC 3339; default: now)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TrustRetire);
    const t = await import('../../trust/store/index.js');
    const path = t.resolveStorePath(flags.store);
    const now = Date.now();
    const at = flags.at === undefined ? now : parseTimeFlag(flags.at, '--at', 'end');
    const store = t.openTrustStore(path);
    try {
      const r = t.retireEntry(store, args.id, at, { now, command: commandLine() });
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, ...r });
        return;
      }
      writeStdout(
        r.changed
          ? `retired #${r.entry.id} ${r.entry.kind} ${terminalLine(r.entry.subject)} at ${r.entry.retiredAt} (was ${r.previousEnd ?? 'open'})\n`
          : `#${r.entry.id} already ended at ${r.previousEnd}, before ${flags.at ?? 'now'}; nothing changed (no history row)\n`,
      );
    } finally {
      store.close();
    }
  }
}
