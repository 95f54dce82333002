/**
 * A program a test needs from the OS: one of the Debian packages scripts/ensure-test-tools.sh
 * installs (npm test's pretest). Where it is missing, the test is declared skipped with
 * `missing` as its reason, never passed.
 */
import { existsSync } from 'node:fs';

export interface OsTool {
  path: string;
  /** Why the test cannot run, or undefined when the program is there. */
  missing: string | undefined;
}

export function osTool(path: string, debianPackage: string): OsTool {
  return {
    path,
    missing: existsSync(path)
      ? undefined
      : `${path} not found (Debian's ${debianPackage} package; scripts/ensure-test-tools.sh installs it as root)`,
  };
}
