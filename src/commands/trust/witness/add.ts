import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../../base.js';
import { commandLine, storeFlag } from '../shared.js';
import { writeStdout } from '../../render.js';

export default class TrustWitnessAdd extends StellaCommand {
  static override summary =
    'Add a witness (C2SP tlog-cosignature v1, Ed25519) whose cosignatures on checkpoints count';
  static override description = [
    'KEY is a vkey ("<name>+<key ID>+<base64 0x04||key>", as witnesses publish them) or a file',
    'holding one, or a PEM Ed25519 public key file (then --name is required). A cosignature counts',
    'only while its time lies in --valid-from..--valid-until. One key is one witness: a key',
    'already present under another name is refused.',
  ].join(' ');

  static override examples = [
    '<%= config.bin %> trust witness add witness.example.com/w1+2a4b6c8d+BCdf... --valid-from 2026-01-01T00:00:00Z',
    '<%= config.bin %> trust witness add w1.pub --name witness.example.com/w1',
  ];

  static override args = {
    key: Args.string({
      ignoreStdin: true,
      description: 'vkey, or a file with a vkey or a PEM Ed25519 public key',
      required: true,
    }),
  };
  static override flags = {
    ...storeFlag,
    name: Flags.string({
      description: "witness name (required with a PEM key; must equal a vkey's name)",
    }),
    'valid-from': Flags.string({
      description: 'start of the validity window (RFC 3339; default: the Unix epoch)',
    }),
    'valid-until': Flags.string({
      description: 'end of the validity window (RFC 3339; default: open)',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TrustWitnessAdd);
    const t = await import('../../../trust/store/index.js');
    const { addWitness } = await import('../../../trust/store/checkpoints.js');
    const { parseTimeFlag } = await import('../../../util/time.js');
    const { existsSync } = await import('node:fs');
    const { FILE_LIMITS, readTextFileBounded } = await import('../../../util/fs.js');
    const fromFile = existsSync(args.key);
    const keyText = fromFile
      ? readTextFileBounded(args.key, { what: 'witness key', maxBytes: FILE_LIMITS.keyBytes })
      : args.key;
    const path = t.resolveStorePath(flags.store);
    const store = t.openTrustStore(path);
    try {
      const w = addWitness(
        store,
        {
          keyText,
          name: flags.name,
          validFrom:
            flags['valid-from'] === undefined
              ? 0
              : parseTimeFlag(flags['valid-from'], '--valid-from', 'start'),
          validUntil:
            flags['valid-until'] === undefined
              ? undefined
              : parseTimeFlag(flags['valid-until'], '--valid-until', 'end'),
          source: fromFile ? args.key : 'command line',
        },
        { now: Date.now(), command: commandLine() },
      );
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, witness: w });
        return;
      }
      writeStdout(
        `added witness ${w.name} (key ${w.keyFingerprint.slice(0, 16)}…, valid ${w.validFrom}..${w.validUntil ?? 'open'})\n`,
      );
    } finally {
      store.close();
    }
  }
}
