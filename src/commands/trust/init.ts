import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { commandLine, storeFlag } from './shared.js';
import { writeStdout } from '../render.js';

export default class TrustInit extends StellaCommand {
  static override summary = 'Create the trust store';
  static override description =
    'Creates the SQLite trust store (idempotent). --with public-good loads the Sigstore public-good trusted root shipped in trust-roots/; --rotation-keys and --threshold set who may sign root rotations.';
  static override examples = [
    '<%= config.bin %> trust init --with public-good',
    '<%= config.bin %> trust init --rotation-keys rotation-keys.pem --threshold 2',
  ];
  static override flags = {
    ...storeFlag,
    with: Flags.string({
      description: 'also load a shipped trusted root',
      options: ['public-good'],
    }),
    'rotation-keys': Flags.string({
      description: 'PEM file of the public keys that may sign rotations',
    }),
    threshold: Flags.integer({
      description: 'how many distinct rotation keys must sign a rotation',
      min: 1,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustInit);
    const t = await import('../../trust/store/index.js');
    const { FILE_LIMITS, readFileBounded } = await import('../../util/fs.js');
    const path = t.resolveStorePath(flags.store);
    const r = t.initStore(
      path,
      {
        withPublicGood: flags.with === 'public-good',
        rotationKeys: flags['rotation-keys']
          ? {
              path: flags['rotation-keys'],
              bytes: readFileBounded(flags['rotation-keys'], {
                what: '--rotation-keys',
                maxBytes: FILE_LIMITS.keyBytes,
              }),
            }
          : undefined,
        threshold: flags.threshold,
      },
      { now: Date.now(), command: commandLine() },
    );
    if (this.jsonMode) {
      this.printJson({ ok: true, ...r });
      return;
    }
    writeStdout(
      `${r.created ? 'created' : 'opened existing'} trust store ${r.store} (schema ${r.schemaVersion})\n`,
    );
    if (flags.with)
      writeStdout(
        `${flags.with}: ${r.added.length} entries added, ${r.duplicates.length} already present\n`,
      );
    if (flags['rotation-keys'])
      writeStdout(
        `rotation keys: ${r.rotationKeys.added.length} added, ${r.rotationKeys.duplicates.length} already present, threshold ${r.rotationKeys.threshold}\n`,
      );
  }
}
