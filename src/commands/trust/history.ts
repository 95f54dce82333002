import { StellaCommand } from '../base.js';
import { storeFlag } from './shared.js';
import { writeStdout } from '../render.js';
import { terminalLine } from '../../util/text.js';
import type { HistoryItem } from '../../trust/store/operations.js';

/**
 * The detail fields a person reads for each kind of change (the JSON has them all). Before stop
 * 53 one list served every action, so a checkpoint row showed neither its log nor its size.
 */
const SHOWN: Readonly<Record<string, readonly string[]>> = {
  checkpoint: ['log', 'treeSize', 'status', 'latest'],
  'checkpoint-update': ['log', 'treeSize', 'status', 'latest'],
  'split-view': ['code', 'origin', 'heldTreeSize', 'presentedTreeSize', 'reason'],
  'witness-add': ['name', 'keyFingerprint', 'validFrom', 'validUntil'],
  'witness-policy': ['log', 'threshold', 'witnesses'],
  'exporter-add': ['keyId', 'identity', 'issuer'],
  rotate: ['version', 'expires', 'signers'],
  retire: ['kind', 'at', 'previousEnd'],
};
const SHOWN_OTHERWISE = ['kind', 'subject', 'at', 'version', 'keyId', 'from', 'to'];

/** One history row as two lines: when, what, which entry, its details and source; then the command. */
export function historyText(h: HistoryItem): string {
  const keys = Object.hasOwn(SHOWN, h.action) ? SHOWN[h.action]! : SHOWN_OTHERWISE;
  const detail = keys
    .filter((k) => Object.hasOwn(h.detail, k))
    .map((k) => {
      const v = h.detail[k];
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    });
  // A file with no digest recorded (a bundle whose checkpoint was stored) is named alone.
  const source =
    h.sourceFile === null
      ? []
      : [
          `from ${h.sourceFile}${h.sourceSha256 === null ? '' : ` (sha256 ${h.sourceSha256.slice(0, 16)}…)`}`,
        ];
  const line = [
    h.at,
    h.action.padEnd(13),
    ...(h.entryId !== null ? [`#${h.entryId}`] : []),
    ...detail,
    ...source,
  ].join(' ');
  return `${terminalLine(line.trimEnd())}\n    by: ${terminalLine(h.command)}\n`;
}

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
      for (const h of rows) writeStdout(historyText(h));
    } finally {
      store.close();
    }
  }
}
