/** Signing that must fail: a clear StellaError, and no bundle written and nothing stored. */
import type { ExecutionContext } from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSign, type RunSignOptions } from '../../src/commands/attest/sign-run.js';
import { StellaError } from '../../src/errors.js';

/**
 * Sign a fresh artifact in `dir` with `opts` (which name the signer: a signer config, or a
 * signing config and trust root, and a token); the signing must fail with `code` and a message
 * matching `message`, with no bundle written and nothing in the attestation store.
 */
export async function signFailsWithoutBundle(
  t: ExecutionContext,
  dir: string,
  opts: Partial<RunSignOptions>,
  code: string,
  message: RegExp,
): Promise<StellaError> {
  const artifact = join(dir, 'a.txt');
  // Its own bytes each time: a log never sees the same entry twice.
  writeFileSync(artifact, `x ${Math.random()}`);
  const output = join(dir, 'out.sigstore.json');
  const store = join(dir, 'att.db');
  const err = (await t.throwsAsync(
    runSign({ artifact, outputPath: output, attestationStorePath: store, env: {}, ...opts }),
  )) as StellaError;
  t.true(err instanceof StellaError, String(err));
  t.is(err.code, code as StellaError['code'], err.message);
  t.regex(err.message, message);
  t.false(existsSync(output), 'no bundle written');
  t.false(existsSync(store), 'nothing stored');
  return err;
}
