import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../../base.js';
import { commandLine, storeFlag } from '../shared.js';

export default class TrustKeysAdd extends StellaCommand {
  static override summary = 'Add rotation keys and/or set the rotation threshold';
  static override description = 'FILE holds one or more PEM public keys. A key already present (compared by its public key bytes, whatever its id or encoding) is not added twice.';
  static override examples = ['<%= config.bin %> trust keys add new-signer.pub --threshold 2'];
  static override args = { file: Args.string({ description: 'PEM file of public keys', required: false }) };
  static override flags = {
    ...storeFlag,
    threshold: Flags.integer({ description: 'how many distinct rotation keys must sign a rotation' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TrustKeysAdd);
    const t = await import('../../../trust/store/index.js');
    const { fail } = await import('../../../errors.js');
    const { FILE_LIMITS, readFileBounded } = await import('../../../util/fs.js');
    if (!args.file && flags.threshold === undefined) fail('INPUT_INVALID', 'input', 'give a PEM file of keys, --threshold K, or both');
    const path = t.resolveStorePath(flags.store);
    const keys = args.file ? t.parsePublicKeysPem(Buffer.from(readFileBounded(args.file, { what: 'key file', maxBytes: FILE_LIMITS.keyBytes })).toString('utf8'), args.file) : [];
    const store = t.openTrustStore(path);
    try {
      const r = t.addRotationKeys(store, keys, flags.threshold, args.file ?? 'keys add', { now: Date.now(), command: commandLine() });
      if (this.jsonMode) { this.printJson({ ok: true, store: path, ...r }); return; }
      process.stdout.write(`rotation keys: ${r.added.length} added, ${r.duplicates.length} already present; threshold ${r.threshold}\n`);
      for (const k of r.added) process.stdout.write(`  + ${k}\n`);
      for (const k of r.duplicates) process.stdout.write(`  = ${k} (duplicate)\n`);
    } finally {
      store.close();
    }
  }
}
