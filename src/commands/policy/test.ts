import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { quoted } from '../../util/text.js';
import { writeStdout } from '../render.js';

export default class PolicyTest extends StellaCommand {
  static override summary =
    'Test an identity against a pattern or a policy environment: match or no match, and why';
  static override description = [
    "The seed's `echo ID | grep -E PATTERN`, with verify's rules: RE2 syntax, matched whole",
    '(implicitly anchored), values with control characters or not in NFC never match. Exit 0 on a',
    'match, 45 (identity mismatch) otherwise; a bad pattern is a usage error (exit 2).',
  ].join(' ');

  // oclif draws --pattern's exclusions as three alternatives, as if --environment excluded --policy.
  static override usage =
    'policy test --identity <value> (--pattern <value> | --policy <value> [--environment <value>]) [--json] [--verbose]';

  static override examples = [
    '<%= config.bin %> policy test --identity "repo:myorg/myrepo:ref:refs/heads/main" --pattern "repo:myorg/myrepo:ref:refs/heads/(main|develop)"',
    '<%= config.bin %> policy test --identity "repo:myorg/myrepo:ref:refs/tags/v1.2.0" --policy policy.yaml --environment production',
  ];

  static override flags = {
    identity: Flags.string({
      description: 'the identity value to test (a certificate subject or SAN)',
      required: true,
    }),
    pattern: Flags.string({
      description: 'RE2 pattern, as --certificate-identity takes it',
      exclusive: ['policy', 'environment'],
    }),
    policy: Flags.string({ description: 'policy file whose environment to test against' }),
    environment: Flags.string({ description: 'environment of the policy file (default: default)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(PolicyTest);
    const { compileIdentityPolicyPattern, buildPolicy } = await import('../../verify/policy.js');
    const { testIdentity } = await import('../../verify/pattern-test.js');
    let patterns;
    let source: string;
    if (flags.pattern !== undefined) {
      const pattern = flags.pattern;
      patterns = [
        this.usageMistakes(() => compileIdentityPolicyPattern(pattern, '--pattern', true)),
      ];
      source = '--pattern';
    } else {
      if (flags.policy === undefined)
        this.usage('give --pattern REGEX, or --policy FILE [--environment NAME]');
      const { loadPolicyFile, DEFAULT_ENVIRONMENT } = await import('../identity-flags.js');
      const { policyOptionsForEnvironment } = await import('../../verify/policy-file.js');
      const file = loadPolicyFile(flags.policy);
      const env = flags.environment ?? DEFAULT_ENVIRONMENT;
      patterns = buildPolicy(policyOptionsForEnvironment(file, env)).identity!.patterns;
      source = `policy ${flags.policy}, environment ${env}`;
    }
    const r = testIdentity(flags.identity, patterns);
    if (this.jsonMode) this.printJson({ ok: r.match, source, ...r });
    else {
      writeStdout(
        r.match
          ? `${this.paint('green', 'match')}: ${quoted(r.identity)} matches ${r.matched.map((p) => `^(?:${p})$`).join(', ')} (${source})\n`
          : `${this.paint('red', 'no match')}: ${quoted(r.identity)} (${source})\n`,
      );
      for (const why of r.reasons) writeStdout(`  ${why}\n`);
    }
    if (!r.match) this.exit((await import('../../errors.js')).EXIT_CODES.IDENTITY_MISMATCH);
  }
}
