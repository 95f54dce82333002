import { Flags } from '@oclif/core';
import { StellaCommand } from '../../base.js';
import { commandLine, storeFlag } from '../shared.js';
import { quoted, withoutTrailing } from '../../../util/text.js';
import { writeStdout } from '../../render.js';

export default class TrustWitnessPolicy extends StellaCommand {
  static override summary =
    "Set a log's witness policy: its checkpoints need cosignatures from at least K of these N witnesses";
  static override description = [
    'Once set, a bundle whose log has a policy verifies only when its checkpoint (or the',
    "shipment's latest checkpoint it is proven consistent with) carries valid cosignatures from at",
    'least --threshold distinct witnesses named by --witness; each witness key counts once.',
    'Unknown cosignatures are ignored. --threshold 0 without --witness removes the policy.',
  ].join(' ');

  static override examples = [
    '<%= config.bin %> trust witness policy --log https://rekor.example.com --threshold 2 --witness w1 --witness w2 --witness w3',
  ];
  static override flags = {
    ...storeFlag,
    log: Flags.string({
      description: 'the log, by its base URL as the trust store lists it',
      required: true,
    }),
    threshold: Flags.integer({
      description: 'K: how many distinct witnesses must cosign',
      required: true,
      min: 0,
    }),
    witness: Flags.string({
      description: 'a witness name from `trust witness list` (repeatable): the N',
      multiple: true,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustWitnessPolicy);
    const t = await import('../../../trust/store/index.js');
    const { setWitnessPolicy } = await import('../../../trust/store/checkpoints.js');
    const { fail } = await import('../../../errors.js');
    const path = t.resolveStorePath(flags.store);
    const store = t.openTrustStore(path);
    try {
      const trust = t.trustMaterialFromStore(store);
      const log = trust.tlogs.find(
        (l) => l.baseUrl === flags.log || l.baseUrl === withoutTrailing(flags.log, '/'),
      );
      if (!log)
        return fail(
          'WITNESS_INVALID',
          'witness',
          `no transparency log ${quoted(flags.log)} in the trust store (known: ${trust.tlogs.map((l) => l.baseUrl).join(', ') || 'none'})`,
        );
      const p = setWitnessPolicy(
        store,
        { log, threshold: flags.threshold, witnesses: flags.witness ?? [] },
        { now: Date.now(), command: commandLine() },
      );
      if (this.jsonMode) {
        this.printJson({ ok: true, store: path, log: log.baseUrl, policy: p });
        return;
      }
      writeStdout(
        p
          ? `witness policy for ${log.baseUrl}: at least ${p.threshold} of ${p.witnesses.join(', ')}\n`
          : `witness policy for ${log.baseUrl} removed\n`,
      );
    } finally {
      store.close();
    }
  }
}
