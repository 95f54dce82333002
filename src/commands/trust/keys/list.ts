import { StellaCommand } from '../../base.js';
import { storeFlag } from '../shared.js';
import { writeStdout } from '../../render.js';
import { terminalLine } from '../../../util/text.js';

export default class TrustKeysList extends StellaCommand {
  static override summary =
    'List rotation keys, the threshold, the last applied rotation version and the exporters';
  static override flags = { ...storeFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustKeysList);
    const t = await import('../../../trust/store/index.js');
    const path = t.resolveStorePath(flags.store);
    const store = t.openTrustStore(path, { readonly: true });
    try {
      const r = t.listRotationKeys(store);
      const exporters = t.listExporters(store);
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, ...r, exporters });
        return;
      }
      writeStdout(`threshold ${r.threshold}; last applied rotation version ${r.lastVersion}\n`);
      for (const k of r.keys) {
        const line = terminalLine(
          `${k.active ? 'active ' : 'removed'} ${k.keyId} ${k.keyDetails} added ${k.addedAt}${k.removedAt ? ` removed ${k.removedAt}` : ''} (${k.source})`,
        );
        writeStdout((k.active ? line : this.paint('dim', line)) + '\n');
      }
      for (const e of exporters)
        writeStdout(
          `${terminalLine(`exporter ${e.kind === 'key' ? `key ${e.keyId} ${e.keyDetails}` : `identity ${e.identity} issuer ${e.issuer}`} (${e.source})`)}\n`,
        );
    } finally {
      store.close();
    }
  }
}
