/**
 * The one way to declare a test that reads ../shared (the conformance data kept beside the
 * project, not in it). Whether such a test runs is decided here, where it is declared: with
 * ../shared present it is an ordinary test; without it, it is declared with `test.skip`, so
 * ava reports it as skipped. A test that cannot run must never show as passed.
 *
 * Inside a test, a case the test names must exist: `conformanceCase` throws (the test fails)
 * when ../shared is present but the case is not. Only the absence of ../shared as a whole is
 * a skip.
 */
import test, { type ImplementationFn } from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ErrorCode } from '../../src/errors.js';
import { CONFORMANCE_DIR, sharedMissingReason } from './paths.js';

/** Why shared-data tests cannot run here, or undefined when they can. */
export const SHARED_MISSING: string | undefined = sharedMissingReason();

/** Titles of shared-data tests must say so, so a report shows at a glance what needs ../shared. */
const SAYS_SHARED = /\bshared\b|\bconformance\b/i;

/**
 * Declare a test that reads ../shared. Runs when ../shared/conformance exists; otherwise it is
 * declared with `test.skip` and the reason is appended to its title.
 */
export function sharedTest(title: string, impl: ImplementationFn<[]>): void {
  if (!SAYS_SHARED.test(title))
    throw new Error(
      `a test that reads ../shared must say "shared" or "conformance" in its title: ${JSON.stringify(title)}`,
    );
  if (SHARED_MISSING === undefined) test(title, impl);
  else test.skip(`${title} [skipped: ../shared/conformance absent]`, impl);
}

/**
 * The directory of a named conformance case. Throws when it is missing: a test that lists a
 * case relies on it, so a missing case fails the test instead of being passed over.
 */
export function conformanceCase(name: string): string {
  const dir = path.join(CONFORMANCE_DIR, 'cases', name);
  if (!existsSync(path.join(dir, 'bundle.sigstore.json')))
    throw new Error(
      `conformance case ${name} is missing from ${path.dirname(dir)} (../shared is present, so this is a failure, not a skip)`,
    );
  return dir;
}

/** The trusted root a conformance case is verified with: its own, else the public-good root. */
export function conformanceTrustedRootPath(dir: string): string {
  const own = path.join(dir, 'trusted_root.json');
  return existsSync(own) ? own : path.join(CONFORMANCE_DIR, 'public-good-trusted-root.json');
}

/** Every conformance case name, sorted (only call inside a shared test: ../shared must exist). */
export function conformanceCaseNames(): string[] {
  return readdirSync(path.join(CONFORMANCE_DIR, 'cases')).sort();
}

/**
 * Conformance cases the bundle parser refuses, with the code: the four bundle-* cases, the two
 * whose tlog entry lacks the inclusion proof a v0.2+ bundle must carry, and a v0.2 proof
 * without a checkpoint. (rekor2-timestamp-with-incorrect-time_fail carries line-wrapped
 * base64, which parses, as in Go and Python; it is refused later, by the certificate-validity
 * check.)
 */
export const CONFORMANCE_PARSE_FAILURES: Readonly<Record<string, ErrorCode>> = {
  'bundle-malformed-json_fail': 'BUNDLE_MALFORMED',
  'bundle-unknown-version_fail': 'BUNDLE_UNSUPPORTED',
  'bundle-invalid-base64-signature_fail': 'BUNDLE_MALFORMED',
  'bundle-empty-certificate-chain_fail': 'BUNDLE_MALFORMED',
  'intoto-missing-inclusion-proof_fail': 'REKOR_PROOF_MISSING',
  'rekor2-no-inclusion-proof_fail': 'REKOR_PROOF_MISSING',
  'invalid-inclusion-proof_fail': 'BUNDLE_MALFORMED',
};
