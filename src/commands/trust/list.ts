import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { storeFlag } from './shared.js';
import { formatTime } from '../../util/time.js';
import { renderTimeline } from './timeline.js';
import { writeStdout } from '../render.js';
import { terminalLine } from '../../util/text.js';

export default class TrustList extends StellaCommand {
  static override summary = 'List trust entries';
  static override description =
    "--timeline draws every entry's validity window on one time axis with now marked (plain ASCII when stdout is not a terminal).";
  static override flags = {
    ...storeFlag,
    timeline: Flags.boolean({
      description: 'draw validity windows on a time axis',
      default: false,
    }),
    width: Flags.integer({
      description:
        'with --timeline: its width in columns, 60 to 1000 (default: terminal width or 100)',
      min: 60,
      max: 1000,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustList);
    if (flags.width !== undefined && !flags.timeline)
      this.usage("--width is the timeline's width: give it with --timeline");
    const t = await import('../../trust/store/index.js');
    const path = t.resolveStorePath(flags.store);
    const store = t.openTrustStore(path, { readonly: true });
    try {
      const entries = t.listEntries(store);
      const now = Date.now();
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, now: formatTime(now), entries });
        return;
      }
      if (flags.timeline) {
        const width = flags.width ?? (process.stdout.isTTY ? process.stdout.columns : 100);
        for (const line of renderTimeline(entries, { now, width, unicode: this.isTty }))
          writeStdout(line + '\n');
        return;
      }
      if (entries.length === 0) {
        writeStdout(`no trust entries in ${path}\n`);
        return;
      }
      writeStdout(
        `${'ID'.padEnd(4)} ${'KIND'.padEnd(5)} ${'VALID FROM'.padEnd(20)} ${'VALID UNTIL'.padEnd(20)} ${'FINGERPRINT'.padEnd(16)} SUBJECT\n`,
      );
      for (const e of entries) {
        const until = e.effectiveUntil === null ? 'open' : e.effectiveUntil.slice(0, 19) + 'Z';
        const ended = e.effectiveUntil !== null && Date.parse(e.effectiveUntil) < now;
        const never =
          e.effectiveUntil !== null && Date.parse(e.effectiveUntil) < Date.parse(e.validFrom);
        // The subject is a certificate's text: kept on its line (terminalLine).
        const line = terminalLine(
          `${String(e.id).padEnd(4)} ${e.kind.padEnd(5)} ${(e.validFrom.slice(0, 19) + 'Z').padEnd(20)} ${until.padEnd(20)} ${e.fingerprint.slice(0, 16)} ${e.subject}${never ? ' (never valid: ends before it starts)' : e.retiredAt ? ' (retired)' : ''}`,
        );
        writeStdout((ended ? this.paint('dim', line) : line) + '\n');
      }
    } finally {
      store.close();
    }
  }
}
