import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { writeStdout } from '../render.js';

export default class SandboxDown extends StellaCommand {
  static override summary = 'Stop a detached sandbox';
  static override examples = ['<%= config.bin %> sandbox down --data-dir .sandbox'];

  static override flags = {
    'data-dir': Flags.string({ description: 'the sandbox data directory', required: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SandboxDown);
    const { stopSandbox } = await import('../../sandbox/server/control.js');
    const r = await stopSandbox({ dataDir: flags['data-dir'] });
    if (this.jsonMode) this.printJson({ ok: true, ...r });
    else writeStdout(`${r.message}\n`);
  }
}
