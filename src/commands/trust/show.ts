import { Args } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { storeFlag } from './shared.js';
import { writeStdout } from '../render.js';
import { terminalLine } from '../../util/text.js';

export default class TrustShow extends StellaCommand {
  static override summary = 'Show one trust entry';
  static override description =
    'Subject, fingerprint, key id, validity window, where it came from, when it was added, and its history.';
  static override args = {
    id: Args.string({
      ignoreStdin: true,
      description: 'entry id (from `stella trust list`)',
      required: true,
    }),
  };
  static override flags = { ...storeFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TrustShow);
    const t = await import('../../trust/store/index.js');
    const path = t.resolveStorePath(flags.store);
    const store = t.openTrustStore(path, { readonly: true });
    try {
      const e = t.showEntry(store, args.id);
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, entry: e });
        return;
      }
      const rows: [string, string][] = [
        ['id', String(e.id)],
        ['kind', e.kind],
        ['subject', e.subject],
        ['uri', e.uri],
        ['fingerprint', `sha256:${e.fingerprint}`],
        ['key id', e.keyId],
        ['valid from', e.validFrom],
        ['valid until', e.validUntil ?? 'open'],
        ['retired at', e.retiredAt ?? '-'],
        ['effective end', e.effectiveUntil ?? 'open'],
        ['source', `${e.sourceKind} ${e.sourceFile} (sha256 ${e.sourceSha256})`],
        ['added at', e.addedAt],
        ['rotation', e.rotationVersion === null ? '-' : `version ${e.rotationVersion}`],
      ];
      for (const [k, v] of rows) writeStdout(`${k.padEnd(14)} ${terminalLine(v)}\n`);
      writeStdout('history:\n');
      for (const h of e.history)
        writeStdout(`  ${terminalLine(`${h.at} ${h.action} ${h.command}`)}\n`);
    } finally {
      store.close();
    }
  }
}
