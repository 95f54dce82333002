import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';

export default class SandboxToken extends StellaCommand {
  static override summary = "Print an OIDC token from the sandbox issuer with a CI platform's claims";
  static override description = [
    "The token carries that platform's real claim set and `sub` format (GitHub:",
    'repo:ORG/REPO:ref:REF, GitLab: project_path:GROUP/PROJECT:ref_type:TYPE:ref:REF, Gitea:',
    'ORG/REPO:ref:REF) and expires after --expires-in seconds (default 300).',
  ].join(' ');

  static override examples = [
    'export STELLAOPS_OIDC_TOKEN=$(<%= config.bin %> sandbox token --data-dir .sandbox --platform github --repo org/repo)',
    '<%= config.bin %> sandbox token --data-dir .sandbox --platform gitlab --repo group/project --ref refs/tags/v1.0.0',
  ];

  static override flags = {
    'data-dir': Flags.string({ description: 'the sandbox data directory', required: true }),
    platform: Flags.string({ description: 'CI platform whose claims to mint', options: ['github', 'gitlab', 'gitea'], required: true }),
    repo: Flags.string({ description: 'ORG/REPO (GitLab: GROUP/PROJECT)', required: true }),
    ref: Flags.string({ description: 'git ref (refs/heads/main, refs/tags/v1.0.0, or a branch name)', default: 'refs/heads/main' }),
    environment: Flags.string({ description: 'deployment environment claim' }),
    'expires-in': Flags.integer({ description: 'lifetime in seconds', default: 300, min: 1, max: 86400 }),
    audience: Flags.string({ description: 'aud claim', default: 'sigstore' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SandboxToken);
    for (const name of ['repo', 'ref', 'environment', 'audience'] as const) {
      if (flags[name] !== undefined && flags[name].trim() === '') this.usage(`--${name} must not be empty`);
    }
    const { mintSandboxToken } = await import('../../sandbox/server/sandbox.js');
    const token = mintSandboxToken(flags['data-dir'], {
      platform: flags.platform as 'github' | 'gitlab' | 'gitea',
      repo: flags.repo,
      ref: flags.ref,
      environment: flags.environment,
      expiresIn: flags['expires-in'],
      audience: flags.audience,
    });
    if (this.jsonMode) this.printJson({ ok: true, token });
    else process.stdout.write(`${token}\n`);
  }
}
