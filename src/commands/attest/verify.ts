import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';

export default class AttestVerify extends StellaCommand {
  static override summary = 'Verify a Sigstore bundle entirely offline';
  static override description = [
    'Checks, in order: verified times (signed entry timestamp, RFC 3161), certificate chain to a',
    'trusted Fulcio root at the signing time, embedded SCT, transparency log (body binding,',
    'inclusion proof, signed checkpoint), signature over the artifact, and the identity policy.',
    'Nothing is fetched: trust comes from --trusted-root, else the local trust store, else the',
    'embedded public-good root.',
  ].join('\n');

  static override examples = [
    '<%= config.bin %> attest verify --offline --bundle artifact.sigstore.json --artifact ./artifact.tgz --certificate-identity "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main" --certificate-oidc-issuer https://token.actions.githubusercontent.com',
    '<%= config.bin %> attest verify --bundle b.json --artifact sha256:0123...cdef --key cosign.pub',
  ];

  static override flags = {
    offline: Flags.boolean({ description: 'verify without any network access (always the case; accepted for cosign compatibility)', default: true, allowNo: false }),
    bundle: Flags.string({ description: 'Sigstore bundle (v0.1-v0.3 JSON); without it, the local attestation store is searched by artifact digest' }),
    artifact: Flags.string({ description: 'artifact path, or sha256:<64 hex> to verify from the digest alone', required: true }),
    'certificate-identity': Flags.string({ description: 'regex the certificate identity must match WHOLE (implicitly anchored)' }),
    'certificate-oidc-issuer': Flags.string({ description: 'exact OIDC issuer URL the certificate must carry' }),
    key: Flags.string({ description: 'PEM public key for managed-key bundles (instead of an identity)' }),
    'trusted-root': Flags.string({ description: 'trusted_root.json (v0.1 or v0.2) to verify against' }),
    'require-rekor': Flags.boolean({ description: 'fail a bundle that has no transparency log entry', default: false }),
    store: Flags.string({ description: 'trust store path (default: $STELLA_TRUST_STORE or the per-user store)' }),
    'max-age': Flags.string({ description: 'trust store age limit in days; given explicitly, a staler store is an error (default 90: a warning)' }),
    'attestation-store': Flags.string({ description: 'attestation store path used when --bundle is not given' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AttestVerify);
    const { runVerify } = await import('../../verify/cli.js');
    const outcome = await runVerify({
      bundlePath: flags.bundle,
      artifact: flags.artifact,
      certificateIdentity: flags['certificate-identity'],
      certificateOidcIssuer: flags['certificate-oidc-issuer'],
      keyPath: flags.key,
      trustedRootPath: flags['trusted-root'],
      requireRekor: flags['require-rekor'],
      storePath: flags.store,
      maxAge: flags['max-age'],
      attestationStorePath: flags['attestation-store'],
    });
    for (const w of outcome.warnings) process.stderr.write(`${this.paint('yellow', 'warning')}: ${w}\n`);
    const report = outcome.report;
    if (this.jsonMode) {
      this.printJson({ ...report, trust: outcome.trustSource, warnings: outcome.warnings });
      if (report.error) this.exit(report.error.exitCode);
      return;
    }
    if (report.error) {
      process.stderr.write(`${this.paint('red', 'error')}: ${report.error.check}: ${report.error.message}\n`);
      this.exit(report.error.exitCode);
    }
    for (const c of report.checks) {
      const mark = c.status === 'pass' ? this.paint('green', 'ok  ') : this.paint('dim', 'skip');
      process.stdout.write(`${mark} ${c.check.padEnd(17)} ${c.summary}\n`);
    }
    process.stdout.write(`${this.paint('bold', 'Verified OK')} (trust: ${outcome.trustSource})\n`);
  }
}
