/** Flags shared by the trust commands (imports only @oclif/core, so commands load fast). */
import { Flags } from '@oclif/core';

export const storeFlag = {
  store: Flags.string({
    description:
      'trust store path (default: $STELLA_TRUST_STORE, else $XDG_DATA_HOME/stella/trust.db or ~/.local/share/stella/trust.db)',
  }),
};

/** The command line, as history records it. */
export function commandLine(): string {
  return ['stella', ...process.argv.slice(2)].join(' ');
}
