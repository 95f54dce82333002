import { StellaCommand } from '../base.js';
import { storeFlag } from './shared.js';
import { writeStdout } from '../render.js';
import { terminalLine } from '../../util/text.js';

export default class TrustHistory extends StellaCommand {
  static override summary = 'Show every change made to the trust store';
  static override description =
    'What changed, when, from which file (its sha256) and by which command. Rows are hash-chained; a store edited outside stella is refused at open.';
  static override flags = { ...storeFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustHistory);
    const t = await import('../../trust/store/index.js');
    const path = t.resolveStorePath(flags.store);
    const store = t.openTrustStore(path, { readonly: true });
    try {
      const rows = t.history(store);
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, history: rows });
        return;
      }
      for (const h of rows) {
        const what = h.entryId !== null ? ` #${h.entryId}` : '';
        const detail = Object.entries(h.detail)
          .filter(([k]) => ['kind', 'subject', 'at', 'version', 'keyId', 'from', 'to'].includes(k))
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        const src = h.sourceFile
          ? `  from ${h.sourceFile} (sha256 ${h.sourceSha256?.slice(0, 16)}…)`
          : '';
        writeStdout(
          `${terminalLine(`${h.at}  ${h.action.padEnd(13)}${what} ${detail}${src}`)}\n    by: ${terminalLine(h.command)}\n`,
        );
      }
    } finally {
      store.close();
    }
  }
}
