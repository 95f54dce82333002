/** Paths shared by tests. Compiled tests live in dist/test/..., the project root is above dist. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)));
export const SHARED_DIR = path.resolve(PROJECT_ROOT, '..', 'shared');
export const CONFORMANCE_DIR = path.join(SHARED_DIR, 'conformance');
export const CLI = path.join(PROJECT_ROOT, 'bin', 'run.js');
export const NO_NETWORK_PRELOAD = path.join(
  PROJECT_ROOT,
  'test',
  'fixtures',
  'verify',
  'no-network.mjs',
);

/** Why tests that read ../shared cannot run here, or undefined when they can. */
export function sharedMissingReason(): string | undefined {
  return existsSync(path.join(CONFORMANCE_DIR, 'cases'))
    ? undefined
    : `../shared/conformance not found at ${CONFORMANCE_DIR}: skipping tests that read the shared conformance data`;
}
