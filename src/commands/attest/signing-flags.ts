/** The keyless signing flags shared by `attest sign` and `attest export-bundle --seal-keyless`. */
import { Flags } from '@oclif/core';
import { quoted } from '../../util/text.js';

export const KEYLESS_SIGNING_FLAGS = {
  'identity-token': Flags.string({
    description:
      'OIDC identity token (JWT), or the path of a file holding one (as in cosign); default STELLAOPS_OIDC_TOKEN or the CI ambient token',
  }),
  config: Flags.string({
    description:
      'signer.yaml (Fulcio/Rekor/TSA URLs, timeouts, retries, OIDC, algorithms, certificate checks)',
  }),
  'signing-config': Flags.string({
    description:
      'Sigstore signing_config.json (v0.2): the CA, Rekor logs and TSAs to use, chosen by its rules',
    exclusive: ['fulcio-url', 'rekor-url'],
  }),
  'fulcio-url': Flags.string({ description: 'Fulcio base URL (overrides the config)' }),
  'rekor-url': Flags.string({ description: 'Rekor (v1) base URL (overrides the config)' }),
};

/** The keyless signing flags' values, as runSign / prepareSigning take them. */
export function signingFlagValues(flags: {
  'identity-token'?: string | undefined;
  config?: string | undefined;
  'signing-config'?: string | undefined;
  'fulcio-url'?: string | undefined;
  'rekor-url'?: string | undefined;
}) {
  return {
    identityToken: flags['identity-token'],
    configPath: flags.config,
    signingConfigPath: flags['signing-config'],
    fulcioUrl: flags['fulcio-url'],
    rekorUrl: flags['rekor-url'],
  };
}

/** A --fulcio-url / --rekor-url that cannot work is a mistake in the command line: said at once, never retried. */
export function badServiceUrl(flags: {
  'fulcio-url'?: string | undefined;
  'rekor-url'?: string | undefined;
}): string | undefined {
  for (const name of ['fulcio-url', 'rekor-url'] as const) {
    const v = flags[name];
    if (v === undefined) continue;
    let u: URL | undefined;
    try {
      u = new URL(v);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:'))
      return `--${name} ${quoted(v)} is not an http(s) URL`;
  }
  return undefined;
}
