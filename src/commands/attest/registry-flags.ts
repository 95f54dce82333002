/** The registry flags shared by `attest sign`, `attest attach` and `attest export-bundle` (`attest verify` declares the same in verify-spec.ts). */
import { Flags } from '@oclif/core';

export const REGISTRY_FLAGS = {
  'allow-insecure-registry': Flags.boolean({
    description:
      'plain HTTP to a loopback registry (127.0.0.0/8, ::1, localhost); other hosts must also be in STELLA_INSECURE_REGISTRIES',
    default: false,
  }),
  'registry-username': Flags.string({
    description:
      'registry user name (password from --registry-password-stdin or STELLA_REGISTRY_PASSWORD); default: the Docker config file, else anonymous',
  }),
  'registry-password-stdin': Flags.boolean({
    description: 'read the registry password from standard input',
    default: false,
  }),
};

export function registryFlagValues(flags: {
  'allow-insecure-registry'?: boolean;
  'registry-username'?: string | undefined;
  'registry-password-stdin'?: boolean;
}) {
  return {
    allowInsecureRegistry: flags['allow-insecure-registry'],
    registryUsername: flags['registry-username'],
    registryPasswordStdin: flags['registry-password-stdin'],
  };
}
