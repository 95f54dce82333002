import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { StellaError } from '../../errors.js';
import { printErrorLine, writeStderr, writeStdout } from '../render.js';
import { STDOUT_PATH } from '../../util/fs.js';
import type { RegistryCollection } from '../../oci/index.js';
import type { ExportBundleResult } from './export-bundle-run.js';
import { REGISTRY_FLAGS, registryFlagValues } from './registry-flags.js';
import { badServiceUrl, KEYLESS_SIGNING_FLAGS, signingFlagValues } from './signing-flags.js';

export default class AttestExportBundle extends StellaCommand {
  static override summary =
    'Export the bundles of many artifacts into one portable, reproducible tar for the other side of a network boundary';
  static override description = [
    'Each bundle (signature, certificate with its SCT, Rekor entry with inclusion proof and',
    'checkpoint) goes into FILE.tar unchanged, under bundles/<artifact sha256>/<n>.sigstore.json,',
    'after manifest.cbor, which lists every entry with its SHA-256. A bundle without an inclusion',
    'proof and checkpoint is refused (Rekor proof missing), as is one that does not parse; each',
    'refused bundle is reported and the others are still exported, and the command then exits',
    'EXPORT_INCOMPLETE (95). The same inputs give the same bytes:',
    'the archive time is --created-at, else the newest integrated time, never the clock.',
    'Bundles come from the attestation store, and from --bundle files (the store is then read',
    'only when --attestation-store is given). Verify from it with `stella attest verify --archive`.',
  ].join(' ');

  // oclif draws the exclusions as groups that say less than the rules (--fulcio-url seeming to
  // exclude --rekor-url; "[--image <value>... | ]"): the choices as they are.
  static override usage =
    'attest export-bundle -o <value> [--all | [--artifact <value>...] [--image <value>...] [--images-from <value>]] [--bundle <value>...] [--json] [--verbose] [--include-proofs] [--attestation-store <value>] [--predicate-type <value>] [--include-trusted-root <value>] [--created-at <value>] [--seal-key <value> | --seal-keyless [--identity-token <value>] [--config <value>] [--signing-config <value> | [--fulcio-url <value>] [--rekor-url <value>]]] [--include-consistency] [--refresh-proofs] [--trusted-root <value>] [--store <value>] [--allow-insecure-registry] [--registry-username <value>] [--registry-password-stdin]';

  static override examples = [
    '<%= config.bin %> attest export-bundle --all --output export.tar',
    '<%= config.bin %> attest export-bundle --artifact sha256:0123...cdef --artifact sha256:4567...89ab --include-trusted-root trusted_root.json --output export.tar',
    '<%= config.bin %> attest export-bundle --artifact sha256:0123...cdef --bundle app.sigstore.json --created-at 2026-01-31T00:00:00Z --output export.tar',
    '<%= config.bin %> attest export-bundle --image ghcr.io/org/app@sha256:0123...cdef --images-from images.txt --output export.tar',
    '<%= config.bin %> attest export-bundle --all --seal-key exporter.pem --output shipment.tar',
    '<%= config.bin %> attest export-bundle --image sha256:0123...cdef --predicate-type https://slsa.dev/provenance/v1 --output provenance.json',
    '<%= config.bin %> attest export-bundle --all --seal-keyless --config signer.yaml --output shipment.tar',
  ];

  static override flags = {
    output: Flags.string({
      char: 'o',
      description:
        'archive to write (plain tar, written atomically; FILE.tar.gz or FILE.tgz: gzipped; -: the tar to standard output); FILE.json: the one bundle of the one artifact selected, as a standard Sigstore bundle',
      required: true,
    }),
    'include-proofs': Flags.boolean({
      description:
        "require and carry each bundle's Rekor inclusion proof and checkpoint (always on: a bundle without them is refused; accepted so the requirement can be stated)",
      default: true,
      allowNo: false,
    }),
    'seal-key': Flags.string({
      description:
        'seal the archive: sign manifest.cbor with this ECDSA private key into manifest.sigstore.json (a file, mode 0600, or env://VAR; PEM, or a cosign.key with $COSIGN_PASSWORD)',
    }),
    'seal-keyless': Flags.boolean({
      description:
        'seal the archive keylessly: sign manifest.cbor through the `attest sign` path (OIDC token, Fulcio certificate, Rekor entry; --identity-token, --config, --signing-config, --fulcio-url, --rekor-url, and --trusted-root for the answers) into manifest.sigstore.json',
      default: false,
      exclusive: ['seal-key'],
    }),
    ...KEYLESS_SIGNING_FLAGS,
    artifact: Flags.string({
      description: 'sha256:<64 hex> of an artifact to export (repeatable)',
      multiple: true,
      exclusive: ['all'],
    }),
    all: Flags.boolean({
      description: 'export every bundle in the attestation store (and every --bundle)',
      default: false,
      exclusive: ['artifact'],
    }),
    'attestation-store': Flags.string({
      description:
        'attestation store path (default $STELLA_ATTESTATION_STORE or the per-user store)',
    }),
    bundle: Flags.string({
      description:
        'bundle file to include (repeatable); filed under the artifact digests it covers; without --artifact or --all, the --bundle files are the export (the attestation store is read only if named)',
      multiple: true,
    }),
    'predicate-type': Flags.string({
      description:
        "export only in-toto attestations of exactly this predicate type URI (e.g. https://slsa.dev/provenance/v1, or cosign's name for one, slsaprovenance1): the provenance of each artifact where the store also holds its signature; with FILE.json output, the filter that picks the one",
    }),
    'include-trusted-root': Flags.string({
      description:
        'trusted_root.json to carry in the archive (the receiver does not trust it automatically)',
    }),
    'created-at': Flags.string({
      description: 'archive time (RFC 3339); default the newest integrated time among the bundles',
    }),
    image: Flags.string({
      description:
        'REGISTRY/REPO@sha256:<hex>: every Sigstore bundle attached to that image in its registry; sha256:<hex>: that digest from the attestation store (repeatable)',
      multiple: true,
      exclusive: ['all'],
    }),
    'images-from': Flags.string({
      description: 'file with one --image per line (# comments)',
      exclusive: ['all'],
    }),
    'include-consistency': Flags.boolean({
      description:
        "fetch each log's latest checkpoint and consistency proofs from every bundle checkpoint to it (the log must be reachable), for the receiver's split-view check",
      default: false,
    }),
    'refresh-proofs': Flags.boolean({
      description:
        "re-fetch every bundle's inclusion proof against its log's one latest checkpoint (the log must be reachable; for an archive, implies --include-consistency; with --output FILE.json, the one bundle gets its fresh proof; a bundle with none yet, such as cosign's legacy --bundle file, gets one), so the whole shipment shares one checkpoint and the receiver verifies its signature once instead of once per bundle",
      default: false,
    }),
    'trusted-root': Flags.string({
      description:
        "trusted_root.json naming the logs' URLs for --include-consistency (default: --include-trusted-root, else the trust store, else the public-good root), and checking Rekor's and the TSA's answers for --seal-keyless (default: the config's, else the trust store, else the public-good root)",
    }),
    store: Flags.string({
      description:
        'trust store naming the logs for --include-consistency (default: $STELLA_TRUST_STORE or the per-user store)',
    }),
    ...REGISTRY_FLAGS,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AttestExportBundle);
    const badUrl = badServiceUrl(flags);
    if (badUrl !== undefined) this.usage(badUrl);
    const signing = signingFlagValues(flags);
    if (!flags['seal-keyless'] && Object.values(signing).some((v) => v !== undefined))
      this.usage(
        '--identity-token, --config, --signing-config, --fulcio-url and --rekor-url are for --seal-keyless',
      );
    const { checkExportOutput, exportOptionsMistake, isBundleOutput, runExportBundle } =
      await import('./export-bundle-run.js');
    // The options the flags give; the artifacts of --image are added once they are pulled.
    const options = {
      outputPath: flags.output,
      all: flags.all,
      attestationStorePath: flags['attestation-store'],
      bundlePaths: flags.bundle ?? [],
      trustedRootPath: flags['include-trusted-root'],
      createdAt: flags['created-at'],
      // A single bundle (--output FILE.json) carries its fresh proof but no consistency.json.
      includeConsistency:
        flags['include-consistency'] || (flags['refresh-proofs'] && !isBundleOutput(flags.output)),
      refreshProofs: flags['refresh-proofs'],
      logsTrustedRootPath: flags['trusted-root'],
      storePath: flags.store,
      sealKeyPath: flags['seal-key'],
      sealKeyless: flags['seal-keyless'] ? signing : undefined,
      predicateType: flags['predicate-type'],
    };
    if (flags.output === STDOUT_PATH) {
      if (this.jsonMode)
        this.usage(
          '--output - writes the archive to standard output, where --json writes its object: give one',
        );
      if (process.stdout.isTTY)
        this.usage(
          '--output - writes a tar archive to standard output, which is a terminal here: redirect it (> shipment.tar) or pipe it, or give --output FILE.tar',
        );
    }
    const mistake = exportOptionsMistake({
      ...options,
      artifacts: flags.artifact ?? [],
      registry: (flags.image ?? []).length > 0 || flags['images-from'] !== undefined,
    });
    if (mistake !== undefined) this.usage(mistake);
    checkExportOutput(options, flags['images-from']);
    const { digests, registry } = await pullImages(
      [...(flags.image ?? [])],
      flags['images-from'],
      registryFlagValues(flags),
      (text) => this.progress(text),
    );
    this.progress(
      `reading and checking bundles${flags.all ? ' (all in the store)' : ''}, then writing ${flags.output}...`,
    );
    const r = await runExportBundle({
      ...options,
      registry,
      artifacts: [...(flags.artifact ?? []), ...digests],
    });
    // One bad bundle never stops the others: they are exported, the bad ones reported one by
    // one, and the command fails with EXPORT_INCOMPLETE so no script takes it for complete.
    const incomplete =
      r.refused.length === 0
        ? undefined
        : new StellaError(
            'EXPORT_INCOMPLETE',
            'archive',
            `export incomplete: ${r.refused.length} bundle(s) left out of ${r.outputPath}, ${r.manifest.entries.length} exported`,
          );
    if (this.jsonMode) {
      this.printJson(exportJson(r, registry, incomplete));
      if (incomplete) this.exit(incomplete.exitCode);
      return;
    }
    this.printExport(r, registry);
    if (incomplete) {
      for (const x of r.refused)
        printErrorLine(x.failure.check, `left out ${x.source}: ${x.failure.message}`);
      throw incomplete;
    }
  }

  /** The human lines: what was exported, its seal, digest and extras. */
  private printExport(r: ExportBundleResult, registry: RegistryCollection | undefined): void {
    const artifacts = new Set(r.manifest.entries.map((e) => e.artifactDigest)).size;
    for (const x of registry?.skipped ?? []) this.warning(`skipped ${x.source}: ${x.reason}`);
    for (const w of r.warnings) this.warning(w);
    // With the archive on standard output, the summary goes to standard error.
    const toStdout = r.outputPath === STDOUT_PATH;
    const say = toStdout ? writeStderr : writeStdout;
    say(
      `${this.paint('green', 'exported')} ${r.manifest.entries.length} bundle(s) for ${artifacts} artifact(s) to ${toStdout ? 'standard output' : r.outputPath}${r.format === 'bundle' ? ' (a standard Sigstore bundle)' : ''}\n`,
    );
    if (r.seal?.kind === 'key') say(`  sealed by:  exporter key ${r.seal.keyId}\n`);
    if (r.seal?.kind === 'keyless')
      say(
        `  sealed by:  ${r.seal.identity ?? '(no identity)'} (${r.seal.issuer ?? 'no issuer'}), log index ${r.seal.logIndex}\n`,
      );
    say(`  sha256:     ${r.sha256} (${r.size} bytes)\n  created at: ${r.manifest.createdAt}\n`);
    if (r.manifest.trustedRoot)
      say('  includes trusted_root.json (not trusted automatically by the receiver)\n');
    for (const c of r.refreshedProofs ?? [])
      say(
        `  proofs:     ${c.proofs} entr${c.proofs === 1 ? 'y' : 'ies'} of ${c.log} re-proved to its checkpoint at tree size ${c.treeSize}\n`,
      );
    for (const c of r.consistency ?? [])
      say(`  consistency: ${c.log} latest tree size ${c.treeSize}, ${c.proofs} proof(s)\n`);
  }
}

/**
 * --image and --images-from: a registry reference is pulled from its registry; a bare digest
 * is an --artifact.
 */
async function pullImages(
  images: string[],
  imagesFrom: string | undefined,
  registryFlags: ReturnType<typeof registryFlagValues>,
  progress: (text: string) => void,
): Promise<{ digests: string[]; registry: RegistryCollection | undefined }> {
  if (imagesFrom !== undefined)
    images.push(...(await import('../../oci/index.js')).readImagesFile(imagesFrom));
  const digests = images.filter((i) => i.startsWith('sha256:'));
  const references = images.filter((i) => !i.startsWith('sha256:'));
  if (references.length === 0) return { digests, registry: undefined };
  const { collectFromRegistries, parseImageReference, registryOptionsFrom } =
    await import('../../oci/index.js');
  const refs = references.map((i) => parseImageReference(i, '--image'));
  progress(`pulling bundles for ${refs.length} image(s)...`);
  const registry = await collectFromRegistries(refs, registryOptionsFrom(registryFlags));
  return { digests, registry };
}

/** --json's one object. */
function exportJson(
  r: ExportBundleResult,
  registry: RegistryCollection | undefined,
  incomplete: StellaError | undefined,
): Record<string, unknown> {
  return {
    ok: incomplete === undefined,
    output: r.outputPath,
    format: r.format,
    sealed: r.seal?.kind === 'key' ? r.seal.keyId : null,
    seal: r.seal ?? null,
    sha256: r.sha256,
    size: r.size,
    createdAt: r.manifest.createdAt,
    artifacts: new Set(r.manifest.entries.map((e) => e.artifactDigest)).size,
    bundles: r.manifest.entries.map((e) => ({
      artifactDigest: e.artifactDigest,
      path: e.path,
      sha256: e.sha256,
      identity: e.identity,
      issuer: e.issuer,
      logIndex: e.logIndex,
    })),
    trustedRoot: r.manifest.trustedRoot !== null,
    consistency: r.consistency ?? null,
    refreshedProofs: r.refreshedProofs ?? null,
    attestationStore: r.attestationStore ?? null,
    refused: r.refused.map((x) => ({ source: x.source, ...x.failure })),
    warnings: r.warnings,
    ...(registry ? { images: registry.images, skipped: registry.skipped } : {}),
    ...(incomplete ? { error: incomplete.toJSON() } : {}),
  };
}
