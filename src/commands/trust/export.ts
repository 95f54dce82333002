import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { storeFlag } from './shared.js';
import { writeStdout } from '../render.js';

export default class TrustExport extends StellaCommand {
  static override summary = 'Export the store as a trusted_root.json (v0.2)';
  static override description =
    'Writes a v0.2 trusted root that sigstore clients accept. Retirements are applied to the windows. Importing it again changes nothing.';
  static override examples = ['<%= config.bin %> trust export --output trusted_root.json'];
  static override flags = {
    ...storeFlag,
    output: Flags.string({
      char: 'o',
      description: 'output file ("-" for stdout)',
      required: true,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustExport);
    const t = await import('../../trust/store/index.js');
    const { sha256 } = await import('../../crypto.js');
    const { toHex, utf8 } = await import('../../util/encoding.js');
    const path = t.resolveStorePath(flags.store);
    const { checkWritableTarget, STDOUT_PATH, writeFileAtomic } = await import('../../util/fs.js');
    if (flags.output !== STDOUT_PATH)
      checkWritableTarget(flags.output, {
        what: 'trusted root (--output)',
        inputs: [{ what: 'the trust store', path }],
      });
    const store = t.openTrustStore(path, { readonly: true });
    try {
      const json = t.exportTrustedRoot(store);
      const entries = t.listEntries(store).length;
      if (flags.output === STDOUT_PATH) {
        if (this.jsonMode) {
          this.printJson({
            ok: true,
            store: path,
            output: STDOUT_PATH,
            entries,
            trustedRoot: JSON.parse(json) as unknown,
          });
          return;
        }
        // The document itself, the bytes --output FILE would hold (data, not a message).
        process.stdout.write(json);
        return;
      }
      writeFileAtomic(flags.output, json, { what: 'trusted root' });
      const digest = toHex(sha256(utf8.encode(json)));
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, output: flags.output, entries, sha256: digest });
        return;
      }
      writeStdout(`wrote ${flags.output} (${entries} entries, sha256 ${digest})\n`);
    } finally {
      store.close();
    }
  }
}
