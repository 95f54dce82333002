import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { commandLine, storeFlag } from './shared.js';
import { writeStdout } from '../render.js';
import { terminalLine } from '../../util/text.js';

export default class TrustRotate extends StellaCommand {
  static override summary = 'Apply a signed rotation bundle';
  static override description = [
    'Applies only if at least K distinct trusted rotation keys signed it, its version is exactly',
    'one more than the last applied (an older one is a rollback, a later one skips rotations:',
    'both refused), and it has not expired (freeze refused). A rotation that replaces the',
    'rotation keys must be signed by K old and K new keys. Rotations manage only the entries',
    'rotations added: one whose root lists an entry imported by hand is refused unless that',
    'entry is handed over with --adopt ID. Replaced roots keep their history and get an end',
    'time. --dry-run shows what would change.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> trust rotate rotation.tar --dry-run',
    '<%= config.bin %> trust rotate rotation.tar',
    '<%= config.bin %> trust rotate rotation.tar --adopt 3',
  ];
  static override args = {
    file: Args.string({ ignoreStdin: true, description: 'rotation bundle (tar)', required: true }),
  };
  static override flags = {
    ...storeFlag,
    'dry-run': Flags.boolean({
      description: 'verify and show the changes without applying them',
      default: false,
    }),
    adopt: Flags.integer({
      description:
        "hand this hand-imported entry (id) over to rotations: it takes the rotation's window (repeatable)",
      multiple: true,
      min: 1,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TrustRotate);
    const t = await import('../../trust/store/index.js');
    const r = await import('../../trust/rotation/index.js');
    const path = t.resolveStorePath(flags.store);
    const { readFileBounded } = await import('../../util/fs.js');
    const file = {
      path: args.file,
      bytes: readFileBounded(args.file, {
        what: 'rotation bundle',
        maxBytes: r.ROTATION_LIMITS.maxArchiveBytes,
        limitCode: 'ARCHIVE_LIMIT_EXCEEDED',
      }),
    };
    this.progress(`checking rotation ${args.file} against ${path}...`);
    const store = t.openTrustStore(path, { readonly: flags['dry-run'] });
    try {
      const res = r.applyRotation(
        store,
        file.bytes,
        { dryRun: flags['dry-run'], sourceFile: args.file, adopt: flags.adopt ?? [] },
        { now: Date.now(), command: commandLine() },
      );
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, ...res });
        return;
      }
      writeStdout(
        `${res.dryRun ? 'would apply' : 'applied'} rotation version ${res.version} (previous ${res.previousVersion}), signed by ${res.signers.length} trusted key(s), expires ${res.expires}\n`,
      );
      for (const c of res.changes) {
        if (c.action === 'add')
          writeStdout(
            `  + ${c.kind} ${terminalLine(c.subject)} ${c.validFrom} .. ${c.validUntil ?? 'open'}\n`,
          );
        else if (c.action === 'update')
          writeStdout(
            `  ~ #${c.id} ${c.kind} ${terminalLine(c.subject)} ${c.from.validFrom}..${c.from.validUntil ?? 'open'} -> ${c.to.validFrom}..${c.to.validUntil ?? 'open'}\n`,
          );
        else if (c.action === 'adopt')
          writeStdout(
            `  ^ #${c.id} ${c.kind} ${terminalLine(c.subject)} adopted from hand import: ${c.from.validFrom}..${c.from.validUntil ?? 'open'} -> ${c.to.validFrom}..${c.to.validUntil ?? 'open'}\n`,
          );
        else if (c.action === 'close')
          writeStdout(
            `  - #${c.id} ${c.kind} ${terminalLine(c.subject)} closed at ${c.validUntil}\n`,
          );
        else
          writeStdout(
            `  keys: ${c.added.length} added, ${c.removed.length} removed, threshold ${c.threshold}\n`,
          );
      }
      if (res.changes.length === 0) writeStdout('  (no entry changes)\n');
    } finally {
      store.close();
    }
  }
}
