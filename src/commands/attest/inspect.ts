import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { givenTwiceMistake, inputName } from '../argv.js';
import { writeStderr, writeStdout } from '../render.js';

export default class AttestInspect extends StellaCommand {
  static override summary =
    'Show what a bundle claims (certificate identity, Fulcio extensions, log entries), verifying nothing';
  static override description = [
    "The seed's debugging view: Certificate Subject (the OIDC subject, or one derived from the",
    'Fulcio extensions when the certificate has none), Certificate Issuer, Certificate SAN, every',
    'Fulcio extension by name, validity, SCTs, transparency log entries, and for DSSE the payload',
    'type, predicate type and subjects. Nothing is checked: use `attest verify` for that.',
  ].join(' ');

  static override examples = [
    '<%= config.bin %> attest inspect --artifact sha256:0123...cdef --show-cert',
    '<%= config.bin %> attest inspect app.tgz.sigstore.json',
    '<%= config.bin %> attest inspect --archive export.tar --artifact sha256:0123...cdef --json',
  ];

  static override args = {
    bundle: Args.string({
      ignoreStdin: true,
      description: 'the Sigstore bundle file; the same as --bundle',
      required: false,
    }),
  };

  static override flags = {
    bundle: Flags.string({ description: 'Sigstore bundle file' }),
    artifact: Flags.string({
      description:
        'artifact path or sha256:<hex>: its bundles in the attestation store (or in --archive)',
    }),
    archive: Flags.string({
      description: 'export archive to take the bundles for --artifact from',
    }),
    'attestation-store': Flags.string({
      description:
        'attestation store path (default: $STELLA_ATTESTATION_STORE or the per-user store)',
    }),
    'show-cert': Flags.boolean({
      description: 'also print the leaf certificate (PEM)',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { flags: parsed, args } = await this.parse(AttestInspect);
    const twice = givenTwiceMistake('bundle', args.bundle, 'bundle', parsed.bundle);
    if (twice !== undefined) this.usage(twice);
    const flags = { ...parsed, bundle: args.bundle ?? parsed.bundle };
    const { fail } = await import('../../errors.js');
    const { bundleSourceMistake, loadArtifact, loadBundles, readBundleFile } =
      await import('./verify-run.js');
    const { describeBundle, describeLines, NOT_VERIFIED_NOTE } =
      await import('../../verify/inspect.js');
    if (flags.bundle === undefined && flags.artifact === undefined)
      this.usage(
        'give the bundle (FILE or --bundle FILE), or --artifact sha256:<hex> (from the attestation store or --archive)',
      );
    let loaded;
    if (flags.bundle !== undefined && flags.artifact === undefined) {
      if (flags.archive !== undefined)
        this.usage('--archive needs --artifact (the archive is searched by artifact digest)');
      loaded = await readBundleFile(flags.bundle, inputName('bundle', args.bundle !== undefined));
    } else {
      const mistake = bundleSourceMistake({ bundlePath: flags.bundle, archivePath: flags.archive });
      if (mistake !== undefined) this.usage(mistake);
      const artifact = loadArtifact(flags.artifact!);
      loaded = await loadBundles(
        {
          bundlePath: flags.bundle,
          archivePath: flags.archive,
          attestationStorePath: flags['attestation-store'],
        },
        artifact,
      );
    }
    for (const w of loaded.skipped ?? []) this.warning(w);
    const descriptions = loaded.bundles.map((b) => describeBundle(b));
    const refused = loaded.refused.map((r) => `${r.source}: ${r.failure.message}`);
    if (descriptions.length === 0)
      fail('NO_ATTESTATIONS_FOUND', 'input', `no readable bundles: ${refused.join('; ')}`);
    if (this.jsonMode) {
      this.printJson({
        ok: true,
        verified: false,
        note: NOT_VERIFIED_NOTE,
        bundles: descriptions.map(({ certificate, ...d }) => ({
          ...d,
          ...(certificate
            ? { certificate: flags['show-cert'] ? certificate : { ...certificate, pem: undefined } }
            : {}),
        })),
        unreadable: refused,
        warnings: loaded.skipped ?? [],
      });
      return;
    }
    writeStderr(`note: ${NOT_VERIFIED_NOTE}\n`);
    descriptions.forEach((d, i) => {
      if (descriptions.length > 1)
        writeStdout(`${i > 0 ? '\n' : ''}# bundle ${i + 1} of ${descriptions.length}\n`);
      writeStdout(describeLines(d, flags['show-cert']).join('\n') + '\n');
    });
    for (const r of refused) this.warning(r);
  }
}
