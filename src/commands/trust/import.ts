import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { commandLine, storeFlag } from './shared.js';
import { parseTimeFlag } from '../../util/time.js';
import { writeStdout } from '../render.js';
import { terminalLine } from '../../util/text.js';

export default class TrustImport extends StellaCommand {
  static override summary = 'Import trust material into the store';
  static override description = [
    'FILE is one of: a trusted_root.json (v0.1/v0.2); a PEM bundle of a private Fulcio root and',
    'intermediates (--valid-from/--valid-until, --uri; --kind tsa for a timestamp authority); a',
    'Fulcio /api/v2/trustBundle response; or a Rekor / CT log public key PEM (--log-url,',
    '--valid-from, --kind tlog|ctlog). Entries already present are recognised and not added',
    'twice. The import is one transaction: a bad file leaves the store as it was.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> trust import trusted_root.json',
    '<%= config.bin %> trust import fulcio-chain.pem --uri https://fulcio.example.internal',
    '<%= config.bin %> trust import rekor.pub --log-url https://rekor.example.internal --valid-from 2025-01-01T00:00:00Z',
  ];
  static override args = {
    file: Args.string({ ignoreStdin: true, description: 'file to import', required: true }),
  };
  static override flags = {
    ...storeFlag,
    kind: Flags.string({
      description: 'role of the imported material',
      options: ['ca', 'tsa', 'tlog', 'ctlog'],
    }),
    'valid-from': Flags.string({ description: 'start of the validity window (RFC 3339)' }),
    'valid-until': Flags.string({
      description: 'end of the validity window, inclusive (RFC 3339)',
    }),
    uri: Flags.string({ description: 'CA URI (certificate bundles)' }),
    'log-url': Flags.string({ description: 'log base URL (public keys)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TrustImport);
    const t = await import('../../trust/store/index.js');
    const path = t.resolveStorePath(flags.store);
    const { readFileBounded } = await import('../../util/fs.js');
    const { MAX_IMPORT_BYTES } = await import('../../trust/store/importers.js');
    const file = {
      path: args.file,
      bytes: readFileBounded(args.file, {
        what: 'import file',
        maxBytes: MAX_IMPORT_BYTES,
        limitCode: 'IMPORT_INVALID',
      }),
    };
    this.progress(`importing ${args.file} into ${path}...`);
    const store = t.openTrustStore(path);
    try {
      const r = t.importFile(
        store,
        file,
        {
          kind: flags.kind as 'ca' | 'tsa' | 'tlog' | 'ctlog' | undefined,
          validFrom:
            flags['valid-from'] === undefined
              ? undefined
              : parseTimeFlag(flags['valid-from'], '--valid-from', 'start'),
          validUntil:
            flags['valid-until'] === undefined
              ? undefined
              : parseTimeFlag(flags['valid-until'], '--valid-until', 'end'),
          uri: flags.uri,
          logUrl: flags['log-url'],
        },
        { now: Date.now(), command: commandLine() },
      );
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, ...r });
        return;
      }
      writeStdout(
        `${r.format} ${args.file} (sha256 ${r.source.sha256.slice(0, 16)}…): ${r.added.length} added, ${r.duplicates.length} already present\n`,
      );
      for (const e of r.added)
        writeStdout(
          `  + #${e.id} ${e.kind} ${terminalLine(e.subject)}  ${e.validFrom} .. ${e.effectiveUntil ?? 'open'}\n`,
        );
      for (const e of r.duplicates)
        writeStdout(`  = #${e.id} ${e.kind} ${terminalLine(e.subject)} (duplicate)\n`);
    } finally {
      store.close();
    }
  }
}
