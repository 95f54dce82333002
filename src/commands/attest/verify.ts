import { Args } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { oclifFlags } from '../oclif-flags.js';
import { VERIFY_FLAGS, VERIFY_SUMMARY } from './verify-spec.js';
import type { FlagValues } from '../flag-spec.js';

export default class AttestVerify extends StellaCommand {
  static override summary = VERIFY_SUMMARY;
  static override description = [
    'Checks, in order: verified times (signed entry timestamp, RFC 3161), certificate chain to a',
    'trusted Fulcio root at the signing time, embedded SCT, transparency log (body binding,',
    'inclusion proof, signed checkpoint), signature over the artifact, and the identity policy.',
    'Nothing is fetched: trust comes from --trusted-root, else the local trust store, else the',
    'embedded public-good root.',
  ].join(' ');

  static override examples = [
    '<%= config.bin %> attest verify --offline --bundle artifact.sigstore.json --artifact ./artifact.tgz --certificate-identity "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main" --certificate-oidc-issuer https://token.actions.githubusercontent.com',
    '<%= config.bin %> attest verify --bundle b.json --artifact sha256:0123...cdef --key cosign.pub',
  ];

  static override flags = oclifFlags(VERIFY_FLAGS);
  static override args = {
    artifact: Args.string({
      ignoreStdin: true,
      description:
        'the artifact (a path, - for standard input, or sha256:<hex>); the same as --artifact',
      required: false,
    }),
  };

  async run(): Promise<void> {
    const parsed: { flags: unknown; args: { artifact?: string } } = await this.parse(AttestVerify);
    const { executeVerify } = await import('./verify-execute.js');
    const code = await executeVerify(
      { ...(parsed.flags as FlagValues<typeof VERIFY_FLAGS>), json: this.jsonMode },
      parsed.args.artifact,
    );
    if (code !== 0) this.exit(code);
  }
}
