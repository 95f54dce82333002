import { Args } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { quoted } from '../../util/text.js';
import { writeStdout } from '../render.js';

export default class PolicyLint extends StellaCommand {
  static override summary = 'Check a policy file: keys, types, issuers, and every identity pattern';
  static override description = [
    'Validates like `attest verify --policy` does: an unknown key, a wrong type, an environment',
    'without an issuer or identity, a pattern that is not RE2 or not NFC, a broad pattern without',
    'allowBroadIdentity, or one no Fulcio certificate can satisfy is an error naming the key and',
    'its line (exit 150). Organization-wide and any-ref patterns are warnings.',
  ].join(' ');

  static override examples = ['<%= config.bin %> policy lint policy.yaml'];
  static override args = {
    file: Args.string({ ignoreStdin: true, description: 'policy file (YAML)', required: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(PolicyLint);
    const { loadPolicyFile } = await import('../identity-flags.js');
    const file = loadPolicyFile(args.file, 'policy file');
    const envs = [...file.environments.values()];
    if (this.jsonMode) {
      this.printJson({
        ok: true,
        file: args.file,
        environments: envs.map((e) => ({
          name: e.name,
          issuers: e.issuers,
          identities: e.identities.map((i) => ({ pattern: i.pattern, breadth: i.breadth.kind })),
          extensions: Object.fromEntries(e.extensions),
          requireRekor: e.requireRekor,
          requireConsistency: e.requireConsistency,
          predicateType: e.predicateType ?? null,
          allowBroadIdentity: e.allowBroadIdentity,
          warnings: e.warnings,
        })),
      });
      return;
    }
    writeStdout(
      `${this.paint('green', 'ok')} ${args.file}: ${envs.length} environment${envs.length === 1 ? '' : 's'}\n`,
    );
    for (const e of envs) {
      writeStdout(
        `  ${e.name}: issuer${e.issuers.length > 1 ? 's' : ''} ${e.issuers.join(', ')}; identit${e.identities.length > 1 ? 'ies' : 'y'} ${e.identities.map((i) => quoted(i.pattern)).join(', ')}`,
      );
      if (e.extensions.length > 0)
        writeStdout(`; extensions ${e.extensions.map(([n, p]) => `${n}=${quoted(p)}`).join(', ')}`);
      writeStdout(
        `${e.predicateType !== undefined ? `; predicateType ${quoted(e.predicateType)}` : ''}${e.requireRekor ? '; requireRekor' : ''}${e.requireConsistency ? '; requireConsistency' : ''}\n`,
      );
      for (const w of e.warnings) this.warning(w);
    }
  }
}
