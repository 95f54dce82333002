import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { writeStdout } from '../render.js';

export default class SandboxToken extends StellaCommand {
  static override summary =
    "Print an OIDC token from the sandbox issuer with a CI platform's claims";
  static override description = [
    "The token carries that platform's real claim set and `sub` format (GitHub:",
    'repo:ORG/REPO:ref:REF, GitLab: project_path:GROUP/PROJECT:ref_type:TYPE:ref:REF, Gitea:',
    'ORG/REPO:ref:REF) and expires after --expires-in seconds (default 300).',
    'GitHub: --environment gives repo:ORG/REPO:environment:ENV, --event pull_request gives',
    "repo:ORG/REPO:pull_request. --issuer mints under another issuer URL (the seed's",
    'https://token.actions.githubusercontent.com, https://gitlab.com, a self-hosted GitLab or Gitea),',
    "signed by the stack's OIDC key: the stack's Fulcio accepts it, and only the stack's trust root",
    'trusts the certificates. For certificates without the OIDC subject extension (.24), as Fulcio',
    'before v1.8.6 issued them, sign with --fulcio-url BASE/fulcio-pre-1.8.6.',
  ].join(' ');

  static override examples = [
    'export STELLAOPS_OIDC_TOKEN=$(<%= config.bin %> sandbox token --data-dir .sandbox --platform github --repo org/repo)',
    '<%= config.bin %> sandbox token --data-dir .sandbox --platform gitlab --repo group/project --ref refs/tags/v1.0.0',
    '<%= config.bin %> sandbox token --data-dir .sandbox --platform github --repo stellaops/scanner --issuer https://token.actions.githubusercontent.com --environment production',
    '<%= config.bin %> sandbox token --data-dir .sandbox --platform gitlab --repo mygroup/myproject --issuer https://gitlab.internal.example.com',
  ];

  static override flags = {
    'data-dir': Flags.string({ description: 'the sandbox data directory', required: true }),
    platform: Flags.string({
      description: 'CI platform whose claims to mint',
      options: ['github', 'gitlab', 'gitea'],
      required: true,
    }),
    repo: Flags.string({ description: 'ORG/REPO (GitLab: GROUP/PROJECT)', required: true }),
    ref: Flags.string({
      description:
        'git ref (refs/heads/main, refs/tags/v1.0.0, a branch name, or refs/pull/N/merge with --event pull_request; default refs/heads/main)',
    }),
    environment: Flags.string({ description: 'deployment environment claim' }),
    'expires-in': Flags.integer({
      description: 'lifetime in seconds',
      default: 300,
      min: 1,
      max: 86400,
    }),
    audience: Flags.string({ description: 'aud claim', default: 'sigstore' }),
    issuer: Flags.string({ description: "the token's iss (default: the stack's own issuer URL)" }),
    'server-url': Flags.string({
      description:
        "the forge's web URL (default: github.com/gitlab.com/gitea.com; for GitLab and Gitea with --issuer, the issuer)",
    }),
    event: Flags.string({
      description:
        'GitHub/Gitea event_name, GitLab pipeline_source (default push); pull_request: a GitHub pull request run',
    }),
    'ref-protected': Flags.string({
      description: 'GitLab ref_protected claim (default: true for branches, false for tags)',
      options: ['true', 'false'],
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SandboxToken);
    for (const name of ['repo', 'ref', 'environment', 'audience'] as const) {
      if (flags[name] !== undefined && flags[name].trim() === '')
        this.usage(`--${name} must not be empty`);
    }
    const { mintSandboxToken } = await import('../../sandbox/server/sandbox.js');
    const token = mintSandboxToken(flags['data-dir'], {
      platform: flags.platform as 'github' | 'gitlab' | 'gitea',
      repo: flags.repo,
      ref: flags.ref,
      environment: flags.environment,
      expiresIn: flags['expires-in'],
      audience: flags.audience,
      ...(flags.issuer !== undefined ? { issuer: flags.issuer } : {}),
      ...(flags['server-url'] !== undefined ? { serverUrl: flags['server-url'] } : {}),
      ...(flags.event !== undefined ? { event: flags.event } : {}),
      ...(flags['ref-protected'] !== undefined
        ? { refProtected: flags['ref-protected'] === 'true' }
        : {}),
    });
    if (this.jsonMode) this.printJson({ ok: true, token });
    else writeStdout(`${token}\n`);
  }
}
