/**
 * The consistency step of every command that takes bundles in — `attest verify` (one bundle),
 * `attest verify --archive` over a whole shipment, `attest import` — in one place: pick the
 * trust store, read the archive's consistency.json, and run
 * src/trust/store/consistency.ts checkConsistency once per run (in the main thread, after the
 * bundles were verified or, for import, inside the import transaction).
 */
import { fail, StellaError } from '../../errors.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import type { EntryCheckpoint } from '../../tlog/consistency.js';
import type { ConsistencyReport } from '../../trust/store/consistency.js';
import { writeStderr } from '../render.js';

export interface StoreConsistencyOptions {
  trust: TrustMaterial;
  /** The trust store the trust came from (selectTrust's storePath), if it did. */
  trustStorePath: string | undefined;
  /** --trusted-root and --store: with both, the --store given holds the checkpoints. */
  trustedRootPath?: string | undefined;
  storePath?: string | undefined;
  /** --require-consistency, or a policy environment's requireConsistency. */
  requireConsistency: boolean;
  /** The checkpoints of the bundles accepted (verified, or imported). */
  checkpoints: readonly EntryCheckpoint[];
  /** With consistency.json: the checkpoints of the shipment's other bundles. */
  shipmentCheckpoints?: readonly EntryCheckpoint[] | undefined;
  /** The archive's consistency.json bytes, when it has one. */
  consistency?: Uint8Array | undefined;
  /** Where the checkpoints came from (a file name), recorded with them. */
  source: string;
  now?: number | undefined;
  /** The command line, as the trust store's history records it. */
  command: string;
}

/** The trust store the consistency step holds checkpoints against, if any (see below). */
export function consistencyStorePath(
  o: Pick<StoreConsistencyOptions, 'trustStorePath' | 'trustedRootPath' | 'storePath'>,
): string | undefined {
  return o.trustStorePath ?? (o.trustedRootPath && o.storePath ? o.storePath : undefined);
}

/**
 * Against the store the trust came from, or the --store given with --trusted-root. Without a
 * store there is nothing to remember checkpoints in: --require-consistency then refuses, and an
 * archive's consistency.json is left unchecked (a warning pushed to `warnings`).
 */
export async function checkConsistencyAgainstStore(
  o: StoreConsistencyOptions,
  warnings: string[],
): Promise<ConsistencyReport | undefined> {
  const storePath = consistencyStorePath(o);
  if (!storePath) {
    if (o.requireConsistency)
      fail(
        'INPUT_INVALID',
        'input',
        "--require-consistency (or a policy environment's requireConsistency) needs the trust store (it holds the checkpoints to be consistent with): use the store, or give --store with --trusted-root",
      );
    if (o.consistency)
      warnings.push(
        'the archive carries consistency proofs, but no trust store is in use to check them against: not checked',
      );
    return undefined;
  }
  const { openTrustStore } = await import('../../trust/store/db.js');
  const { checkConsistency } = await import('../../trust/store/consistency.js');
  const { parseShipmentConsistency } = await import('../../archive/consistency.js');
  const shipment = o.consistency ? parseShipmentConsistency(o.consistency) : undefined;
  const store = openTrustStore(storePath, { now: o.now });
  try {
    return checkConsistency(
      store,
      {
        trust: o.trust,
        checkpoints: o.checkpoints,
        shipmentCheckpoints: o.shipmentCheckpoints,
        shipment,
        requireConsistency: o.requireConsistency,
        source: o.source,
      },
      { now: o.now ?? Date.now(), command: o.command },
    );
  } finally {
    store.close();
  }
}

/** A split view's or rollback's evidence on stderr: both signed checkpoints, as the log signed them. */
export function printConsistencyEvidence(e: unknown): void {
  if (
    !(e instanceof StellaError) ||
    (e.code !== 'SPLIT_VIEW_DETECTED' && e.code !== 'CHECKPOINT_ROLLBACK')
  )
    return;
  const d = e.details as
    | { held?: { checkpoint: string }; presented?: { checkpoint: string }; proof?: string[] | null }
    | undefined;
  if (!d?.held || !d.presented) return;
  writeStderr(
    `evidence: checkpoint held by the trust store:\n${d.held.checkpoint}\nevidence: checkpoint presented now:\n${d.presented.checkpoint}\n`,
  );
  if (d.proof) writeStderr(`evidence: the failing consistency proof: ${d.proof.join(' ')}\n`);
}

/** The command line as the trust store's history records it: `stella <words> <args after the last word>`. */
export function commandLine(words: string[]): string {
  const last = words[words.length - 1]!;
  return ['stella', ...words, ...process.argv.slice(process.argv.indexOf(last) + 1)].join(' ');
}
