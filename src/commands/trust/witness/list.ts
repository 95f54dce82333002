import { StellaCommand } from '../../base.js';
import { storeFlag } from '../shared.js';
import { writeStdout } from '../../render.js';
import { terminalLine } from '../../../util/text.js';

export default class TrustWitnessList extends StellaCommand {
  static override summary = 'List witnesses and per-log witness policies';
  static override flags = { ...storeFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustWitnessList);
    const t = await import('../../../trust/store/index.js');
    const { listWitnesses } = await import('../../../trust/store/checkpoints.js');
    const path = t.resolveStorePath(flags.store);
    const store = t.openTrustStore(path, { readonly: true });
    try {
      const r = listWitnesses(store);
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, ...r });
        return;
      }
      if (r.witnesses.length === 0) writeStdout(`no witnesses in ${path}\n`);
      for (const w of r.witnesses)
        writeStdout(
          `${terminalLine(`${w.name} ${w.keyFingerprint.slice(0, 16)}… valid ${w.validFrom}..${w.validUntil ?? 'open'}`)}\n  ${terminalLine(w.vkey)}\n`,
        );
      for (const p of r.policies)
        writeStdout(
          `${terminalLine(`policy: ${p.logUrl} needs ${p.threshold} of ${p.witnesses.join(', ')}`)}\n`,
        );
    } finally {
      store.close();
    }
  }
}
