/**
 * Every case of ../shared/conformance (the public Sigstore conformance suite) through the real
 * CLI, with networking made to throw in the child process, and through @sigstore/verify in the
 * same file so a disagreement between the two clients shows. Declared skipped when ../shared
 * is absent (test/helpers/shared.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { CONFORMANCE_DIR, NO_NETWORK_PRELOAD, PROJECT_ROOT } from '../helpers/paths.js';
import { SHARED_MISSING, sharedTest } from '../helpers/shared.js';
import { runCli } from '../helpers/cli.js';
import { StellaError } from '../../src/errors.js';
import { runVerify } from '../../src/commands/attest/verify-run.js';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';

const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

interface Expectations {
  /** _fail case -> the error code Stella must give. */
  failCodes: Record<string, string>;
  /** Cases where @sigstore/verify's verdict differs from the suite's, with the reason. */
  peerDisagreements: Record<string, string>;
}
const expectations = JSON.parse(
  readFileSync(
    path.join(PROJECT_ROOT, 'test', 'fixtures', 'verify', 'conformance-expectations.json'),
    'utf8',
  ),
) as Expectations;

interface Case {
  name: string;
  dir: string;
  shouldPass: boolean;
  bundle: string;
  artifact: string;
  trustedRoot: string;
  identity: string;
  issuer: string;
  key: string | undefined;
}

function loadCases(): Case[] {
  const casesDir = path.join(CONFORMANCE_DIR, 'cases');
  return readdirSync(casesDir)
    .filter((n) => existsSync(path.join(casesDir, n, 'bundle.sigstore.json')))
    .sort()
    .map((name) => {
      const dir = path.join(casesDir, name);
      const opt = (f: string): string | undefined =>
        existsSync(path.join(dir, f)) ? path.join(dir, f) : undefined;
      const text = (f: string): string | undefined => {
        const p = opt(f);
        return p ? readFileSync(p, 'utf8').trim() : undefined;
      };
      return {
        name,
        dir,
        shouldPass: !name.endsWith('_fail'),
        bundle: path.join(dir, 'bundle.sigstore.json'),
        artifact: opt('artifact') ?? path.join(CONFORMANCE_DIR, 'a.txt'),
        trustedRoot:
          opt('trusted_root.json') ?? path.join(CONFORMANCE_DIR, 'public-good-trusted-root.json'),
        identity: text('identity') ?? DEFAULT_IDENTITY,
        issuer: text('issuer') ?? DEFAULT_ISSUER,
        key: opt('key.pub'),
      };
    });
}

// Declared in every run, so a clone without ../shared shows them as skipped (not passed).
sharedTest('conformance (shared): every _fail case has an expected error code', (t) => {
  const failCases = loadCases()
    .filter((c) => !c.shouldPass)
    .map((c) => c.name);
  t.true(failCases.length > 20);
  t.deepEqual(
    failCases.filter((n) => !(n in expectations.failCodes)),
    [],
  );
});

sharedTest('conformance (shared): every case the expectations name is present', (t) => {
  // A case listed in the expectations but gone from ../shared fails here (it is not skipped).
  const names = new Set(loadCases().map((c) => c.name));
  t.deepEqual(
    [...Object.keys(expectations.failCodes), ...Object.keys(expectations.peerDisagreements)].filter(
      (n) => !names.has(n),
    ),
    [],
  );
});

// One test per case: the cases can only be listed when ../shared is there.
if (SHARED_MISSING === undefined) {
  const cases = loadCases();

  for (const c of cases) {
    sharedTest(`conformance (shared) CLI: ${c.name}`, async (t) => {
      const args = [
        'attest',
        'verify',
        '--offline',
        '--bundle',
        c.bundle,
        '--artifact',
        c.artifact,
        '--trusted-root',
        c.trustedRoot,
        '--json',
      ];
      if (c.key) args.push('--key', c.key);
      else args.push('--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer);
      const r = await runCli(args, { nodeArgs: ['--import', NO_NETWORK_PRELOAD] });
      t.notRegex(r.stderr, /NETWORK ATTEMPT/, 'verification must not touch the network');
      t.notRegex(r.stderr + r.stdout, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
      let out: { ok: boolean; error?: { code: string; check: string; message: string } };
      try {
        out = JSON.parse(r.stdout);
      } catch {
        return t.fail(`stdout is not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
      }
      if (c.shouldPass) {
        t.is(r.code, 0, `expected success, got ${JSON.stringify(out.error)}`);
        t.true(out.ok);
      } else {
        t.not(r.code, 0);
        t.not(r.code, 1, 'exit 1 is reserved for internal errors');
        t.false(out.ok);
        t.is(
          out.error?.code,
          expectations.failCodes[c.name],
          `${c.name}: ${out.error?.check}: ${out.error?.message}`,
        );
      }
    });

    sharedTest(`conformance (shared) library: ${c.name}`, async (t) => {
      // The same verification in process through runVerify, the library function the CLI
      // wraps: the CLI and the library must agree, and this one is fast enough for
      // `npm run mutate` to run every case against every mutant.
      let verdict: { ok: boolean; code?: string; message?: string };
      try {
        const { report } = await runVerify({
          bundlePath: c.bundle,
          artifact: c.artifact,
          trustedRootPath: c.trustedRoot,
          ...(c.key
            ? { keyPath: c.key }
            : { certificateIdentity: c.identity, certificateOidcIssuer: c.issuer }),
        });
        verdict = { ok: report.ok, code: report.error?.code, message: report.error?.message };
      } catch (e) {
        if (!(e instanceof StellaError)) throw e;
        verdict = { ok: false, code: e.code, message: e.message };
      }
      if (c.shouldPass) {
        t.true(verdict.ok, `expected success, got ${verdict.code}: ${verdict.message}`);
      } else {
        t.false(verdict.ok);
        t.is(verdict.code, expectations.failCodes[c.name], `${c.name}: ${verdict.message}`);
      }
    });

    sharedTest(`conformance (shared) @sigstore/verify: ${c.name}`, (t) => {
      let peerOk: boolean;
      let peerError = '';
      try {
        const bundle = bundleFromJSON(JSON.parse(readFileSync(c.bundle, 'utf8')));
        const keyPem = c.key ? readFileSync(c.key, 'utf8') : undefined;
        const keyFinder = keyPem
          ? () => ({ publicKey: createPublicKey(keyPem), validFor: () => true })
          : undefined;
        const trust = toTrustMaterial(
          TrustedRoot.fromJSON(JSON.parse(readFileSync(c.trustedRoot, 'utf8'))),
          keyFinder,
        );
        const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: c.key ? 0 : 1 });
        const artifact = readFileSync(c.artifact);
        const entity = toSignedEntity(bundle, artifact);
        verifier.verify(
          entity,
          c.key
            ? undefined
            : { subjectAlternativeName: c.identity, extensions: { issuer: c.issuer } },
        );
        peerOk = true;
      } catch (e) {
        peerOk = false;
        peerError = (e as Error).message;
      }
      const disagreement = expectations.peerDisagreements[c.name];
      if (disagreement) {
        t.log(`known disagreement with @sigstore/verify: ${disagreement}`);
        t.is(
          peerOk,
          !c.shouldPass,
          `the recorded disagreement no longer holds (peer now says ${peerOk ? 'ok' : peerError})`,
        );
      } else {
        t.is(peerOk, c.shouldPass, `@sigstore/verify says ${peerOk ? 'ok' : peerError}`);
      }
    });
  }
}
