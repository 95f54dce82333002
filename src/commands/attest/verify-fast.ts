/**
 * The launcher bin/run.js uses for `stella attest verify` (without --help): the same flags
 * (VERIFY_FLAGS), the same command-line reader (../argv.ts: same rules and wording as every
 * oclif command, a flag given twice refused) and the same executor as the oclif command,
 * without loading oclif, which alone costs more start-up than a whole @sigstore/verify run.
 */
import { VERIFY_ARGS, VERIFY_FLAGS } from './verify-spec.js';
import { executeVerify } from './verify-execute.js';
import { reportError } from '../render.js';
import { asksForJson, parseArgv } from '../argv.js';
import { argvShapeOfSpecs, type FlagValues } from '../flag-spec.js';
import { StellaError } from '../../errors.js';
import { setLogLevel } from '../../util/log.js';

// The CLI's shipment worker threads run from this bundle too (bin/shipment-worker.js).
export { runShipmentWorker } from '../../shipment/worker-main.js';

type Values = FlagValues<typeof VERIFY_FLAGS>;

export async function runVerifyFast(argv: string[]): Promise<number> {
  const json = asksForJson(argv);
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ flags: values, positionals } = parseArgv(argv, argvShapeOfSpecs(VERIFY_FLAGS, VERIFY_ARGS)));
  } catch (e) {
    if (e instanceof StellaError) return reportError(e, json);
    throw e;
  }
  for (const [name, f] of Object.entries(VERIFY_FLAGS)) {
    if (values[name] === undefined && f.type === 'boolean')
      values[name] = 'default' in f ? f.default : false;
  }
  if (values.verbose) setLogLevel('debug');
  return executeVerify(values as Values, positionals[0]);
}
