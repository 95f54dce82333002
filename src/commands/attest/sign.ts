import { Args, Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { StellaError } from '../../errors.js';
import type { ImageTarget } from '../../oci/sign-target.js';
import type { RunSignResult } from './sign-run.js';
import { REGISTRY_FLAGS, registryFlagValues } from './registry-flags.js';
import { badServiceUrl, KEYLESS_SIGNING_FLAGS, signingFlagValues } from './signing-flags.js';
import { givenTwiceMistake, inputName } from '../argv.js';
import { writeStderr, writeStdout } from '../render.js';
import { STDOUT_PATH } from '../../util/fs.js';

export default class AttestSign extends StellaCommand {
  static override summary =
    'Sign an artifact keylessly (OIDC -> Fulcio certificate -> Rekor) and write a v0.3 bundle';
  static override description = [
    'The identity token comes from --identity-token, else STELLAOPS_OIDC_TOKEN, else the CI',
    "platform's ambient credentials (GitHub/Gitea Actions with `id-token: write`, GitLab",
    'SIGSTORE_ID_TOKEN). The signing key is generated in memory for this run and never stored.',
    'The bundle is written to --output and kept in the local attestation store by digest.',
    'With --signing-config (a Sigstore signing_config.json v0.2) the CA, Rekor logs (v1 or v2) and',
    'TSAs are chosen by its rules; Rekor v2 needs a TSA, whose timestamp replaces the signed entry',
    "timestamp. Rekor's and the TSA's answers are checked against --trusted-root before the bundle is written.",
  ].join(' ');

  // oclif draws --signing-config's exclusions as one group of three, as if --fulcio-url excluded
  // --rekor-url, which a private Fulcio needs beside it.
  static override usage =
    'attest sign [ARTIFACT] --keyless [--json] [--verbose] [--artifact <value>] [--image <value>] [--allow-insecure-registry] [--registry-username <value>] [--registry-password-stdin] [--type blob|image] [--predicate <value> --predicate-type <value>] [--identity-token <value>] [--config <value>] [--signing-config <value> | [--fulcio-url <value>] [--rekor-url <value>]] [--trusted-root <value>] [-o <value>] [--attestation-store <value>]';

  static override examples = [
    '<%= config.bin %> attest sign --keyless --artifact ./dist/app.tgz',
    '<%= config.bin %> attest sign --keyless --artifact sha256:0123...cdef --type image --output image.sigstore.json',
    '<%= config.bin %> attest sign --keyless --artifact ./app.tgz --predicate provenance.json --predicate-type https://slsa.dev/provenance/v1',
    '<%= config.bin %> attest sign --keyless --artifact ./app.tgz --signing-config .sandbox/signing_config.json --trusted-root .sandbox/trusted_root.json',
    '<%= config.bin %> attest sign --keyless --artifact sha256:0123...cdef --image ghcr.io/org/app',
    '<%= config.bin %> attest sign --keyless --artifact ghcr.io/org/app@sha256:0123...cdef',
  ];

  static override flags = {
    keyless: Flags.boolean({
      description: 'keyless signing with a short-lived Fulcio certificate (the only mode)',
      required: true,
    }),
    artifact: Flags.string({
      description:
        'file to sign (- for standard input), sha256:<64 hex> to sign a digest only, or REGISTRY/REPO@sha256:<hex> to sign an image and attach the bundle to it; or give it as the argument',
    }),
    image: Flags.string({
      description:
        'REGISTRY/REPO: attach the bundle to the image --artifact sha256:<hex> there, as an OCI 1.1 referrer',
    }),
    ...REGISTRY_FLAGS,
    type: Flags.string({
      description: 'what the artifact is',
      options: ['blob', 'image'],
      default: 'blob',
    }),
    predicate: Flags.string({
      description: 'predicate JSON file: sign an in-toto attestation (DSSE) about the artifact',
      dependsOn: ['predicate-type'],
    }),
    'predicate-type': Flags.string({
      description:
        "predicate type URI (e.g. https://slsa.dev/provenance/v1), or cosign's name for one (slsaprovenance1, spdxjson, cyclonedx, ...: cosign attest --type)",
      dependsOn: ['predicate'],
    }),
    ...KEYLESS_SIGNING_FLAGS,
    'trusted-root': Flags.string({
      description:
        "trusted_root.json that Rekor's and the TSA's answers are checked against before the bundle is written",
    }),
    output: Flags.string({
      char: 'o',
      description:
        'bundle path (default <artifact>.sigstore.json); - writes the bundle to standard output (the summary goes to standard error)',
    }),
    'attestation-store': Flags.string({
      description:
        'attestation store path (default $STELLA_ATTESTATION_STORE or the per-user store)',
    }),
  };

  // ignoreStdin: oclif would otherwise fill a missing argument from piped stdin, which may hold a
  // password (--registry-password-stdin); stdin is read only when a flag or argument says `-`.
  static override args = {
    artifact: Args.string({
      ignoreStdin: true,
      description: 'what to sign, as --artifact (cosign sign-blob FILE)',
      required: false,
    }),
  };

  async run(): Promise<void> {
    const { flags: parsed, args } = await this.parse(AttestSign);
    const twice = givenTwiceMistake('artifact', args.artifact, 'artifact', parsed.artifact);
    if (twice !== undefined) this.usage(twice);
    const artifact = args.artifact ?? parsed.artifact;
    if (artifact === undefined)
      this.usage('missing required flag --artifact (or the artifact as an argument)');
    const flags = { ...parsed, artifact };
    const artifactWhat = inputName('artifact', args.artifact !== undefined);
    const badUrl = badServiceUrl(flags);
    if (badUrl !== undefined) this.usage(badUrl);
    const { signTargetMistake } = await import('../../oci/reference.js');
    const badTarget = signTargetMistake(flags);
    if (badTarget !== undefined) this.usage(badTarget);
    const { bundlePlace, runSign } = await import('./sign-run.js');
    const toStdout = flags.output === STDOUT_PATH;
    if (toStdout && this.jsonMode)
      this.usage(
        '--output - writes the bundle to standard output, where --json writes its object: give one',
      );
    // An image in a registry: the digest is signed, then the bundle is attached there too.
    const { imageTarget } = await import('../../oci/sign-target.js');
    const target = await imageTarget(
      flags.artifact,
      flags.image,
      registryFlagValues(flags),
      artifactWhat,
    );
    this.progress('signing...');
    const r = await runSign({
      artifact: target ? target.image.digest : flags.artifact,
      artifactWhat,
      type: target ? 'image' : (flags.type as 'blob' | 'image'),
      predicatePath: flags.predicate,
      predicateType: flags['predicate-type'],
      ...signingFlagValues(flags),
      trustedRootPath: flags['trusted-root'],
      outputPath: flags.output,
      attestationStorePath: flags['attestation-store'],
    });
    const attached = target
      ? await this.attach(target, r, {
          place: bundlePlace(r.outputPath),
          file: toStdout ? 'FILE' : r.outputPath,
        })
      : undefined;
    for (const w of r.warnings) this.warning(w);
    if (this.jsonMode) {
      this.printJson(signJson(r, attached));
      return;
    }
    // With the bundle on standard output, the summary goes to standard error.
    const say = toStdout ? writeStderr : writeStdout;
    say(`${this.paint('green', 'signed')} ${r.artifactDigest}\n`);
    say(`  bundle:   ${bundlePlace(r.outputPath)}\n`);
    say(`  identity: ${r.identity}\n  issuer:   ${r.issuer}\n`);
    for (const e of r.tlog)
      say(
        `  rekor:    ${e.apiVersion === 2 ? 'v2 ' : ''}log index ${e.logIndex} at ${e.url} (${e.kind})${e.apiVersion === 1 && e === r.tlog[0] ? `, entry ${r.rekor.uuid}` : ''}\n`,
      );
    for (const t of r.timestamps) say(`  time:     ${t.time} (RFC 3161, ${t.url})\n`);
    if (attached)
      say(
        `  attached: ${attached.image} (referrer ${attached.manifestDigest}, ${attached.indexedBy === 'referrers-api' ? 'referrers API' : `referrers tag ${attached.tag}`})\n`,
      );
  }

  /** Attaches the bundle to the signed image; signed and kept but not attached says how to attach it later. */
  private async attach(
    target: ImageTarget,
    r: RunSignResult,
    bundle: { place: string; file: string },
  ): Promise<Attached> {
    this.progress('attaching to the image...');
    try {
      return await target.attach(r.bundleJson);
    } catch (e) {
      if (!(e instanceof StellaError)) throw e;
      throw e.reworded(
        `${e.message} (signed: the bundle is in ${bundle.place} and the attestation store; attach it with \`stella attest attach --bundle ${bundle.file} --image ${target.name}\`)`,
      );
    }
  }
}

type Attached = Awaited<ReturnType<ImageTarget['attach']>>;

/** --json's one object. */
function signJson(r: RunSignResult, attached: Attached | undefined): Record<string, unknown> {
  return {
    ok: true,
    bundle: r.outputPath,
    ...(attached ? { attached } : {}),
    artifactDigest: r.artifactDigest,
    content: r.contentKind,
    predicateType: r.predicateType ?? null,
    identity: r.identity,
    issuer: r.issuer,
    algorithm: r.algorithm,
    tokenSource: r.tokenSource,
    rekor: r.rekor,
    tlog: r.tlog,
    timestamps: r.timestamps,
    fulcio: r.fulcioUrl,
    signingConfig: r.signingConfigPath ?? null,
    trust: r.trustSource ?? null,
    attestationStore: r.attestationStorePath ?? null,
    warnings: r.warnings,
  };
}
