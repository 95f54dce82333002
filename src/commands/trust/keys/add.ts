import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../../base.js';
import { commandLine, storeFlag } from '../shared.js';
import { writeStdout } from '../../render.js';

export default class TrustKeysAdd extends StellaCommand {
  static override summary =
    'Add rotation keys and/or set the rotation threshold; or add exporters (--role exporter), who may seal export archives';
  static override description = [
    'FILE holds one or more PEM public keys. A key already present (compared by its public key bytes, whatever its id or encoding) is not added twice.',
    'With --role exporter the keys (ECDSA) may seal export archives; --identity and --issuer add a keyless exporter instead (or too).',
    'Once the store has an exporter, `attest verify --archive` and `attest import` require a seal from one of them.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> trust keys add new-signer.pub --threshold 2',
    '<%= config.bin %> trust keys add exporter.pub --role exporter',
    '<%= config.bin %> trust keys add --role exporter --identity https://github.com/org/repo/.github/workflows/export.yml@refs/heads/main --issuer https://token.actions.githubusercontent.com',
  ];
  static override args = {
    file: Args.string({
      ignoreStdin: true,
      description: 'PEM file of public keys',
      required: false,
    }),
  };
  static override flags = {
    ...storeFlag,
    threshold: Flags.integer({
      description: 'how many distinct rotation keys must sign a rotation',
      min: 1,
    }),
    role: Flags.string({
      description:
        'rotation (default): may sign trust rotations; exporter: may seal export archives',
      options: ['rotation', 'exporter'],
      default: 'rotation',
    }),
    identity: Flags.string({
      description:
        'with --role exporter: exact certificate identity of a keyless exporter (with --issuer)',
    }),
    issuer: Flags.string({ description: 'with --role exporter: exact OIDC issuer of --identity' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TrustKeysAdd);
    const t = await import('../../../trust/store/index.js');
    const { FILE_LIMITS, readTextFileBounded } = await import('../../../util/fs.js');
    /** The keys of FILE (none without one), for either role. */
    const keysOf = (file: string | undefined) =>
      file
        ? t.parsePublicKeysPem(
            readTextFileBounded(file, { what: 'key file', maxBytes: FILE_LIMITS.keyBytes }),
            file,
          )
        : [];
    if (flags.role === 'exporter') {
      if (flags.threshold !== undefined)
        this.usage('--threshold is for rotation keys, not exporters');
      if ((flags.identity === undefined) !== (flags.issuer === undefined))
        this.usage('--identity and --issuer go together');
      if (!args.file && flags.identity === undefined)
        this.usage('give a PEM file of exporter keys, or --identity and --issuer');
      const path = t.resolveStorePath(flags.store);
      const keys = keysOf(args.file);
      const store = t.openTrustStore(path);
      try {
        const identity =
          flags.identity !== undefined
            ? { identity: flags.identity, issuer: flags.issuer! }
            : undefined;
        const r = t.addExporters(store, keys, identity, args.file ?? 'keys add --identity', {
          now: Date.now(),
          command: commandLine(),
        });
        if (this.jsonMode) {
          this.printJson({ ok: true, store: path, role: 'exporter', ...r });
          return;
        }
        writeStdout(`exporters: ${r.added.length} added, ${r.duplicates.length} already present\n`);
        for (const k of r.added) writeStdout(`  + ${k}\n`);
        for (const k of r.duplicates) writeStdout(`  = ${k} (duplicate)\n`);
        return;
      } finally {
        store.close();
      }
    }
    if (flags.identity !== undefined || flags.issuer !== undefined)
      this.usage('--identity and --issuer are for --role exporter');
    if (!args.file && flags.threshold === undefined)
      this.usage('give a PEM file of keys, --threshold K, or both');
    const path = t.resolveStorePath(flags.store);
    const keys = keysOf(args.file);
    const store = t.openTrustStore(path);
    try {
      const r = t.addRotationKeys(store, keys, flags.threshold, args.file ?? 'keys add', {
        now: Date.now(),
        command: commandLine(),
      });
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, ...r });
        return;
      }
      writeStdout(
        `rotation keys: ${r.added.length} added, ${r.duplicates.length} already present; threshold ${r.threshold}\n`,
      );
      for (const k of r.added) writeStdout(`  + ${k}\n`);
      for (const k of r.duplicates) writeStdout(`  = ${k} (duplicate)\n`);
    } finally {
      store.close();
    }
  }
}
