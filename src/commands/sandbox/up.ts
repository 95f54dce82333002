import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { writeStdout } from '../render.js';

export default class SandboxUp extends StellaCommand {
  static override summary =
    'Start the local signing stack (OIDC issuer, Fulcio, CT log, Rekor v1 and v2, TSA) on 127.0.0.1';
  static override description = [
    'Serves the Fulcio v2, Rekor v1, Rekor v2 (with the tlog-tiles read API) and RFC 3161 TSA HTTP',
    'APIs and an OIDC issuer on one loopback port, with both logs kept in SQLite under --data-dir',
    '(a restart keeps them). Writes DIR/sandbox.json, DIR/trusted_root.json, DIR/signer.yaml (Rekor v1)',
    'and DIR/signing_config.json (Rekor v2 + TSA). For tests, demos and labs: not a production Sigstore.',
  ].join(' ');

  static override examples = [
    '<%= config.bin %> sandbox up --data-dir .sandbox --detach',
    '<%= config.bin %> sandbox up --data-dir .sandbox --port 8080',
  ];

  static override flags = {
    'data-dir': Flags.string({
      description: 'directory for keys, log database and generated files',
      required: true,
    }),
    port: Flags.integer({
      description: 'TCP port on 127.0.0.1 (0 = any free port)',
      default: 0,
      min: 0,
      max: 65535,
    }),
    detach: Flags.boolean({
      description: 'run in the background and return once it answers',
      default: false,
    }),
    witnesses: Flags.integer({
      description:
        "witnesses cosigning both logs' checkpoints (C2SP tlog-cosignature v1); their vkeys go to DIR/witnesses.vkeys",
      default: 0,
      min: 0,
      max: 16,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SandboxUp);
    this.progress(`starting the sandbox in ${flags['data-dir']} (first start creates its keys)...`);
    if (flags.detach) {
      const { startDetachedSandbox } = await import('../../sandbox/server/control.js');
      const state = await startDetachedSandbox({
        dataDir: flags['data-dir'],
        port: flags.port,
        witnesses: flags.witnesses,
      });
      if (this.jsonMode) this.printJson({ ok: true, detached: true, ...state });
      else this.describe(state.urls, state.pid, state.files);
      return;
    }
    const { startSandbox } = await import('../../sandbox/server/sandbox.js');
    const { readSandboxState } = await import('../../sandbox/server/data-dir.js');
    const sandbox = await startSandbox({
      dataDir: flags['data-dir'],
      port: flags.port,
      witnesses: flags.witnesses,
    });
    const state = readSandboxState(sandbox.dataDir)!;
    if (this.jsonMode) this.printJson({ ok: true, detached: false, ...state });
    else {
      this.describe(state.urls, state.pid, state.files);
      writeStdout('press Ctrl-C to stop\n');
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      void sandbox.closed.then(resolve);
    });
    await sandbox.close();
  }

  private describe(
    urls: { base: string; rekorV2?: string; tsa?: string },
    pid: number | null,
    files: {
      trustedRoot: string;
      signerConfig: string;
      signingConfig?: string;
      witnesses?: string;
    },
  ): void {
    const base = urls.base;
    writeStdout(`${this.paint('green', 'sandbox running')} at ${base} (pid ${pid})\n`);
    writeStdout(
      `  OIDC issuer: ${base}\n  Fulcio:      ${base}/api/v2\n  Rekor:       ${base}/api/v1\n`,
    );
    if (urls.rekorV2)
      writeStdout(
        `  Rekor v2:    ${urls.rekorV2}/api/v2/log/entries (tiles: ${urls.rekorV2}/checkpoint, /tile/...)\n`,
      );
    if (urls.tsa) writeStdout(`  TSA:         ${urls.tsa}\n`);
    writeStdout(`  trust root:  ${files.trustedRoot}\n  signer config: ${files.signerConfig}\n`);
    if (files.signingConfig)
      writeStdout(
        `  signing config: ${files.signingConfig} (Rekor v2 + TSA: attest sign --signing-config)\n`,
      );
    if (files.witnesses)
      writeStdout(`  witnesses:   ${files.witnesses} (vkeys for stella trust witness add)\n`);
  }
}
