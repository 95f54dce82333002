import { Flags } from '@oclif/core';
import { StellaCommand } from '../base.js';
import { REGISTRY_FLAGS, registryFlagValues } from './registry-flags.js';
import { writeStdout } from '../render.js';

export default class AttestAttach extends StellaCommand {
  static override summary =
    'Attach a Sigstore bundle to an image in an OCI registry, as an OCI 1.1 referrer';
  static override description = [
    'Pushes the bundle as an artifact manifest whose subject is the image (artifact type',
    'application/vnd.dev.sigstore.bundle.v0.3+json, the layout cosign and @sigstore/oci write).',
    'A registry without the referrers API gets the referrers index under the tag sha256-<hex>,',
    'updated without losing entries other clients add at the same time. The bundle must be for',
    'the image digest. `attest sign --image` does this itself; this command retries it.',
  ].join(' ');

  static override examples = [
    '<%= config.bin %> attest attach --bundle app.sigstore.json --image ghcr.io/org/app@sha256:0123...cdef',
  ];

  static override flags = {
    bundle: Flags.string({ description: 'bundle file to attach', required: true }),
    image: Flags.string({
      description: 'REGISTRY/REPO@sha256:<hex>: the image to attach it to',
      required: true,
    }),
    ...REGISTRY_FLAGS,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AttestAttach);
    const { readFileBounded } = await import('../../util/fs.js');
    const { BUNDLE_LIMITS } = await import('../../bundle/model.js');
    const { attachBundle, parseImageReference, registryOptionsFrom } =
      await import('../../oci/index.js');
    const image = parseImageReference(flags.image, '--image');
    const bundleBytes = readFileBounded(flags.bundle, {
      what: '--bundle',
      maxBytes: BUNDLE_LIMITS.maxBytes,
      limitCode: 'BUNDLE_LIMIT_EXCEEDED',
    });
    const r = await attachBundle({
      ...registryOptionsFrom(registryFlagValues(flags)),
      image,
      bundleBytes,
    });
    if (this.jsonMode) {
      this.printJson({ ok: true, ...r });
      return;
    }
    writeStdout(`${this.paint('green', 'attached')} ${flags.bundle} to ${r.image}\n`);
    writeStdout(
      `  referrer: ${r.manifestDigest} (${r.indexedBy === 'referrers-api' ? 'referrers API' : `referrers tag ${r.tag}`})\n`,
    );
  }
}
