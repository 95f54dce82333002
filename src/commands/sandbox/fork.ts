import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { writeStdout } from '../render.js';

export default class SandboxFork extends StellaCommand {
  static override summary =
    "Make a running sandbox's log present a second history from now on (to test the split-view defence)";
  static override description = [
    'The log drops its entries from --at on (default: its last entry) and appends new ones after',
    'them, so its next checkpoint of an already signed size has another root hash: a split view',
    'that a trust store holding the first history detects. Without new entries its checkpoint is',
    "smaller than before: a rollback. The sandbox's witnesses refuse to cosign the second history.",
  ].join(' ');

  static override examples = [
    '<%= config.bin %> sandbox fork --data-dir .sandbox --log v2',
    '<%= config.bin %> sandbox fork --data-dir .sandbox --log v1 --at 3',
  ];
  static override flags = {
    'data-dir': Flags.string({ description: 'the sandbox data directory', required: true }),
    log: Flags.string({ description: 'which log forks', options: ['v1', 'v2'], default: 'v1' }),
    at: Flags.integer({
      description:
        'the fork point: entries from this index on are dropped (default: the last entry)',
      min: 0,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SandboxFork);
    const { forkSandboxLog } = await import('../../sandbox/server/control.js');
    const r = await forkSandboxLog({
      dataDir: flags['data-dir'],
      log: flags.log as 'v1' | 'v2',
      at: flags.at,
    });
    if (this.jsonMode) {
      this.printJson({ ok: true, ...r });
      return;
    }
    writeStdout(
      `forked the sandbox's Rekor ${r.log} log: ${r.from} entries -> ${r.to}; new entries now follow a second history\n`,
    );
  }
}
