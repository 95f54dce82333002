/**
 * `npm run mutate`: mutation testing of the verification code with a small harness of our own
 * (no StrykerJS). For each source file under the folders below it makes mutants
 * (scripts/mutants.ts), compiles just that file with ts.transpileModule into a private copy of
 * dist/, runs the tests that can see the change, and restores the file. A mutant the tests do
 * not notice "survives": a check the suite does not pin down.
 *
 *   npm run mutate                         build, then the default (sampled) run
 *   node dist/scripts/mutate.js [options]  on an existing build
 *     --only <text>         only source files whose path contains <text> (repeatable)
 *     --max-per-file <n>    sample at most n mutants a file (default 6; 0: all)
 *     --seed <s>            sampling seed (default "stella"); same seed, same source: same mutants
 *     --jobs <n>            mutants run in parallel, each in its own copy (default 1)
 *     --timeout <s>         per-mutant time limit (default: 3 x the baseline run, at least 120)
 *     --budget <min>        start no mutant after this many minutes (default 27; 0: no limit);
 *                           mutants not run are reported as such, never counted
 *     --reach <n>           also run the test files that import the file or run its command,
 *                           when there are at most n of them (default 8; 0: none)
 *     --second-look <min>   after the run, spend at most this long (default 20; 0: none)
 *                           running each survivor against the tests that reach its file but
 *                           were not run for it (see below)
 *     --list                print the mutants and exit
 *
 * The copy lives in .mutate/ (git-ignored): dist/, bin/ and package.json are copied, the
 * rest of the project is symlinked, and .mutate/shared points at ../shared so the shared
 * conformance tests run there too. The real dist/ is never written. A report is written to
 * .mutate/report.json and .mutate/report.txt.
 *
 * Tests a mutant is run against: the mirror test of its file (test/<path>.test.ts), a few
 * related ones (RELATED below), the test files that reach it on their own (they import it, or
 * run the command it is or a command that imports it; scripts/test-reach.ts; only when there
 * are at most --reach of them), and the end-to-end suites (adversarial checklist, pipeline,
 * identity, algorithms, and every conformance case through the library). ava runs with
 * --fail-fast and worker threads (cheaper than a process per test file; these tests do not
 * need their own process): a mutant is killed by the first failing test. Timeouts count as
 * killed. A survivor's run must pass as many tests as the unmutated run of the same files
 * (checked), so a survivor is never a run that silently did less.
 * Left out for time: the conformance and real-bundle tests that go through the CLI (a process
 * per case); the library run covers the same cases.
 *
 * `stella attest verify` runs from one bundled file, dist/verify-fast (scripts/bundle-verify.ts),
 * not from dist/src. A mutant of a module in that bundle (listed in its inputs.json) is
 * bundled again in the workspace before its tests run, and the bundle is put back after:
 * otherwise the CLI tests would run the unmutated code (a false survivor) and the bundle's
 * staleness test would fail on every such mutant (a false kill).
 *
 * Second look. A survivor may be a check no test holds, or one a test holds that this run did
 * not run for its file (stop 59 found three, by hand). So each survivor whose file is reached
 * by tests not run for it (more than --reach of them, or CLI tests of a command that imports
 * it through other command files: scripts/test-reach.ts commandReach) is run again against
 * just those tests, after the same tests have passed unmutated. A survivor killed there is
 * reported with the test that killed it, to be added to RELATED; it still counts as a
 * survivor in the score, which measures the mapping as it stands.
 */
import ts from 'typescript';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  commandReach,
  failedTestFile,
  projectTexts,
  reachingTests,
  tsFilesUnder,
} from './test-reach.js';
import {
  applyMutant,
  generateMutants,
  mutantDiff,
  sampleMutants,
  type Mutant,
  type Operator,
} from './mutants.js';

const PROJECT_ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
const WORK = path.join(PROJECT_ROOT, '.mutate');
/** The verify bundle, relative to a project or workspace root. */
const VERIFY_BUNDLE_DIR = path.join('dist', 'verify-fast');
/** In each workspace: the unmutated verify bundle, as copied when the workspace was made. */
const PRISTINE_BUNDLE_DIR = 'verify-fast.unmutated';

/** Folders whose files are mutated. */
const TARGET_DIRS = [
  'src/verify',
  'src/x509',
  'src/tlog',
  'src/timestamp',
  'src/bundle',
  'src/der',
  'src/archive',
  'src/shipment',
  'src/trust/rotation',
  'src/trust/store',
  'src/store',
  'src/oci',
  'src/sign',
  'src/sandbox',
];
/** The command files mutated, with the CLI tests that run them. */
const COMMAND_TESTS: Record<string, string[]> = {
  // --key and --seal-key as cosign names keys (env://VAR), on every verify path.
  'src/commands/key-ref.ts': [
    'test/commands/attest/verify-refusals.test.ts',
    'test/commands/attest/shipment.test.ts',
  ],
  // Private keys as cosign names them (a file, env://VAR), and a cosign key's password asked
  // on a terminal.
  'src/commands/private-key-ref.ts': [
    'test/commands/attest/shipment.test.ts',
    'test/commands/trust/rotation/create.test.ts',
    'test/commands/terminal-password.test.ts',
  ],
  'src/commands/terminal-password.ts': ['test/commands/terminal-password.test.ts'],
  'src/commands/argv.ts': [
    'test/commands/attest/registry.test.ts',
    'test/commands/attest/verify-refusals.test.ts',
  ],
  'src/commands/identity-flags.ts': [
    'test/commands/attest/identity-seed.test.ts',
    'test/commands/attest/verify-refusals.test.ts',
    'test/commands/attest/verify-bundle.test.ts',
  ],
  'src/commands/attest/import-run.ts': [
    'test/commands/attest/shipment.test.ts',
    'test/commands/attest/consistency-paths.test.ts',
    'test/commands/attest/shipment-seal-keyless.test.ts',
  ],
  'src/commands/attest/shipment-execute.ts': [
    'test/commands/attest/shipment.test.ts',
    // The progress line, under a pseudo-terminal.
    'test/commands/base.test.ts',
    'test/commands/attest/shipment-seal-keyless.test.ts',
    'test/commands/attest/consistency-paths.test.ts',
  ],
  'src/commands/attest/shipment-run.ts': [
    'test/commands/attest/shipment.test.ts',
    // exportersFor's --seal-identity pin (a false survivor in stop 50 without it).
    'test/commands/attest/shipment-seal-keyless.test.ts',
    // Single-artifact verify --archive, --archive -, and its consistency.json (three false
    // survivors in stop 59: these tests held them, the harness did not run them).
    'test/commands/attest/export-bundle.test.ts',
    'test/commands/trust/consistency.test.ts',
  ],
  'src/commands/attest/export-bundle-run.ts': [
    'test/commands/attest/export-bundle.test.ts',
    'test/commands/attest/refresh-proofs.test.ts',
    'test/commands/attest/shipment.test.ts',
    // --image from a registry, alone and beside --artifact from the store (a stop-46 survivor).
    'test/commands/attest/registry.test.ts',
  ],
  'src/commands/attest/verify-run.ts': [
    'test/commands/messages.test.ts',
    'test/commands/times.test.ts',
    'test/commands/attest/consistency-paths.test.ts',
    'test/commands/trust/consistency.test.ts',
    'test/commands/attest/verify-run.test.ts',
    'test/commands/attest/verify-bundle.test.ts',
    'test/commands/attest/verify-refusals.test.ts',
    // `attest sign --output - | attest verify --bundle -`: the clock is read once the bundle
    // has arrived (stop 60's second look found this test holding a survivor).
    'test/commands/attest/sign-preflight.test.ts',
  ],
  // Which trust a command uses, and the warning for cosign's trust variables: its mirror test,
  // the verify edge's trust tests, and signing's fallback to the store or the public-good root.
  'src/commands/attest/trust-selection.ts': [
    'test/commands/attest/verify-run.test.ts',
    'test/sign/rekor-v2.test.ts',
  ],
  'src/commands/attest/verify-execute.ts': [
    // The oclif path's usage errors (--max-age with --trusted-root: a stop-56 false survivor).
    'test/commands/messages.test.ts',
    'test/commands/attest/shipment.test.ts',
    'test/commands/attest/verify-run.test.ts',
    'test/commands/attest/verify-bundle.test.ts',
    'test/commands/attest/verify-refusals.test.ts',
    'test/commands/attest/identity-seed.test.ts',
  ],
  'src/commands/attest/sign-run.ts': [
    'test/commands/attest/sign-preflight.test.ts',
    'test/sign/sign.test.ts',
    'test/commands/input-files.test.ts',
    // Where the trust to check Rekor v2 and TSA answers comes from (a stop-46 survivor).
    'test/sign/rekor-v2.test.ts',
  ],
};
/**
 * The commands' output: what every command prints (errors, usage errors, exit codes, colour only
 * on a terminal), `--explain`'s lines, and the shipment report (every string from a bundle
 * escaped; its browser test renders it in Chromium), with the tests that read that output.
 */
const RENDER_TESTS: Record<string, string[]> = (() => {
  const output = [
    'test/commands/base.test.ts',
    'test/commands/messages.test.ts',
    'test/commands/argv.test.ts',
  ];
  return {
    'src/commands/render.ts': output,
    'src/commands/base.ts': output,
    'src/commands/attest/explain-render.ts': ['test/commands/attest/identity-seed.test.ts'],
    'src/commands/attest/shipment-report.ts': [
      'test/commands/attest/shipment-report-browser.test.ts',
      'test/commands/attest/shipment.test.ts',
    ],
    // Unknown commands and extra words; a topic given flags; `stella help` (their mirror tests
    // run the CLI).
    'src/commands/hooks/command-not-found.ts': [],
    'src/commands/hooks/topic-argv.ts': [],
    'src/commands/help-subject.ts': ['test/commands/help.test.ts'],
    // The completion script, run in real bash, zsh and fish by its mirror test; the command that prints it.
    'src/commands/completion.ts': ['test/commands/autocomplete.test.ts'],
    'src/commands/autocomplete.ts': [],
  };
})();
/**
 * Files outside those folders that take untrusted input or make a verification's decision:
 * the signature primitives, the trusted root's parser, the strict encodings, JSON reader and
 * file, time, HTTP, SQLite and log primitives every parser above stands on, the one error
 * type, and the commands' logic and output.
 */
const TARGET_FILES = [
  'src/model/media-types.ts',
  'src/crypto.ts',
  'src/crypto-prehash.ts',
  'src/trust/trusted-root.ts',
  'src/util/json.ts',
  'src/util/encoding.ts',
  'src/util/digest.ts',
  'src/util/pem.ts',
  'src/util/canonical-json.ts',
  'src/util/fs.ts',
  'src/util/time.ts',
  'src/util/http-body.ts',
  'src/util/retry.ts',
  'src/util/jwt.ts',
  'src/util/yaml.ts',
  'src/util/sqlite-file.ts',
  'src/util/log.ts',
  'src/errors.ts',
  // The commands' logic (argument rules, what a run reads, decides and writes) and their output
  // (RENDER_TESTS); not the oclif classes that wire them.
  ...Object.keys(COMMAND_TESTS),
  ...Object.keys(RENDER_TESTS),
];
/**
 * Not mutated: they build certificates and tokens for the sandbox and the tests (a mutant
 * there changes the fixtures, not a check), or only render the CLI's output.
 */
const EXCLUDED = new Set([
  'src/x509/issue.ts',
  'src/timestamp/issue.ts',
  'src/verify/command.ts',
  // Re-exports and the sandbox process's entry point (argument handling only).
  'src/sandbox/authority/index.ts',
  'src/sandbox/server/index.ts',
  'src/sandbox/server/main.ts',
]);
/** The tests of keyless signing (against the sandbox on loopback, and through the CLI), by src/sign file. */
const SIGN_TESTS: Record<string, string[]> = (() => {
  const sign = (t: string): string => `test/sign/${t}.test.ts`;
  const preflight = 'test/commands/attest/sign-preflight.test.ts';
  const inputFiles = 'test/commands/input-files.test.ts';
  const sandboxCli = 'test/commands/sandbox/sandbox.test.ts';
  const tests: Record<string, string[]> = {
    config: [sign('sign'), sign('signing-config'), sign('rekor-v2'), preflight, inputFiles],
    'fulcio-client': [sign('sign'), sign('rekor-v2'), preflight],
    http: [sign('sign'), sign('rekor-v2')],
    keys: [sign('sign')],
    'log-consistency-client': [
      'test/commands/attest/refresh-proofs.test.ts',
      'test/commands/attest/consistency-paths.test.ts',
      'test/commands/trust/consistency.test.ts',
    ],
    'rekor-client': [sign('sign'), sign('check-log-entry')],
    'rekor-v2-client': [sign('rekor-v2')],
    services: [sign('signing-config'), sign('sign'), sign('rekor-v2')],
    sign: [sign('sign'), sign('rekor-v2'), sign('check-log-entry'), preflight, sandboxCli],
    'signing-config': [sign('rekor-v2'), inputFiles],
    token: [sign('sign'), preflight, sandboxCli],
    'tsa-client': [sign('rekor-v2')],
  };
  return Object.fromEntries(Object.entries(tests).map(([f, t]) => [`src/sign/${f}.ts`, t]));
})();
/**
 * The tests of the sandbox (the local signing stack): its own, and the clients that talk to
 * it over loopback. A mutant in an authority's request checks survives unless a test sends it
 * a request it must refuse.
 */
const SANDBOX_TESTS: Record<string, string[]> = (() => {
  const own = (t: string): string => `test/sandbox/${t}.test.ts`;
  const authority = [
    'fulcio',
    'fulcio-identity',
    'keys',
    'oidc',
    'rekor',
    'rekor-v2',
    'tsa',
    'witness',
  ].map((t) => own(`authority/${t}`));
  const server = ['control', 'data-dir', 'rekor-v2', 'sandbox', 'storage', 'witness-state'].map(
    (t) => own(`server/${t}`),
  );
  const sign = ['test/sign/sign.test.ts', 'test/sign/rekor-v2.test.ts'];
  const cli = 'test/commands/sandbox/sandbox.test.ts';
  const all = [...authority, ...server, ...sign, cli];
  const files = [
    'authority/fulcio-identity',
    'authority/fulcio',
    'authority/keys-v2',
    'authority/keys',
    'authority/oidc',
    'authority/rekor-v2',
    'authority/rekor',
    'authority/trust',
    'authority/tsa',
    'authority/witness',
    'server/control-channel',
    'server/control',
    'server/data-dir',
    'server/routes-v2',
    'server/routes',
    'server/sandbox',
    'server/storage',
  ];
  return Object.fromEntries(files.map((f) => [`src/sandbox/${f}.ts`, all]));
})();
/** Test files that exercise a source file beyond its mirror test. */
const RELATED: Record<string, string[]> = {
  'src/x509/certificate.ts': ['test/x509/chain.test.ts', 'test/verify/sct.test.ts'],
  'src/x509/sct.ts': ['test/verify/sct.test.ts'],
  'src/x509/verify-cache.ts': ['test/x509/chain.test.ts', 'test/timestamp/rfc3161.test.ts'],
  'src/verify/pipeline.ts': ['test/verify/sct.test.ts', 'test/commands/attest/verify-run.test.ts'],
  'src/der/reader.ts': ['test/x509/certificate.test.ts', 'test/timestamp/rfc3161.test.ts'],
  'src/verify/chain.ts': ['test/x509/chain.test.ts'],
  'src/verify/sct.ts': ['test/x509/sct.test.ts'],
  'src/verify/tlog.ts': ['test/tlog/verify.test.ts'],
  'src/verify/times.ts': ['test/timestamp/rfc3161.test.ts', 'test/tlog/set.test.ts'],
  'src/verify/signature.ts': ['test/verify/artifact.test.ts'],
  'src/bundle/parse.ts': ['test/bundle/serialize.test.ts'],
  'src/tlog/rekor-entry.ts': ['test/bundle/from-rekor.test.ts'],
  // Proofs built from tiles are checked against the same proofs built from the whole tree.
  'src/tlog/tiles.ts': ['test/tlog/tiles-consistency.test.ts'],
  // Policy files and `attest inspect` are tested through the CLI as well as in process.
  'src/verify/policy-file.ts': ['test/commands/attest/identity-seed.test.ts'],
  'src/verify/inspect.ts': ['test/commands/attest/identity-seed.test.ts'],
  'src/verify/policy.ts': [
    'test/verify/policy-file.test.ts',
    'test/commands/attest/identity-seed.test.ts',
  ],
  // The hints and `pattern test` have no mirror test: they are tested beside the patterns and
  // through the CLI (a mutant of each survived the stop-40 run unreached). The breadth check
  // has one since stop 46, for the candidates the search builds; its verdicts on the seed's
  // rows are tested here.
  'src/verify/identity-breadth.ts': [
    'test/verify/identity-pattern.test.ts',
    'test/commands/attest/identity-seed.test.ts',
  ],
  'src/verify/identity-hints.ts': ['test/commands/attest/identity-seed.test.ts'],
  // --certificate-extension through the CLI (a stop-50 survivor: the library tests lacked it).
  'src/verify/identity.ts': ['test/commands/attest/identity-seed.test.ts'],
  'src/verify/pattern-test.ts': ['test/commands/attest/identity-seed.test.ts'],
  // Whole exchanges with the sandbox TSA, beside the mirror test's encodings.
  'src/timestamp/request.ts': ['test/sandbox/authority/rekor-v2.test.ts'],
  // The archive readers: the streamed ones are held to the in-memory ones in stream.test.ts.
  'src/archive/manifest-stream.ts': ['test/archive/stream.test.ts', 'test/archive/export.test.ts'],
  'src/archive/manifest.ts': [
    'test/archive/manifest-stream.test.ts',
    'test/archive/stream.test.ts',
    'test/archive/export.test.ts',
  ],
  'src/archive/export-stream.ts': ['test/archive/stream.test.ts', 'test/archive/export.test.ts'],
  'src/archive/gzip.ts': ['test/archive/stream.test.ts'],
  'src/archive/tar.ts': ['test/archive/stream.test.ts', 'test/archive/export.test.ts'],
  // Shipments are tested through the CLI as well as the library.
  'src/shipment/verify.ts': ['test/commands/attest/shipment.test.ts'],
  'src/shipment/verdict.ts': [
    'test/shipment/verify.test.ts',
    'test/commands/attest/shipment.test.ts',
  ],
  'src/shipment/pool.ts': ['test/shipment/verify.test.ts', 'test/commands/attest/shipment.test.ts'],
  'src/shipment/worker.ts': [
    'test/shipment/verify.test.ts',
    'test/commands/attest/shipment.test.ts',
  ],
  // The worker's body: its stall and exit paths are tested through the pool.
  'src/shipment/worker-main.ts': [
    'test/shipment/verify.test.ts',
    'test/commands/attest/shipment.test.ts',
  ],
  'src/shipment/seal.ts': [
    'test/commands/attest/shipment.test.ts',
    'test/commands/attest/shipment-seal-keyless.test.ts',
  ],
  // The trust store and rotation are tested by behaviour, not file by file.
  ...Object.fromEntries(
    ['apply', 'bundle', 'verify'].map((f) => [
      `src/trust/rotation/${f}.ts`,
      [
        'test/trust/rotation/rotation.test.ts',
        'test/trust/rotation/scenario.test.ts',
        'test/commands/trust/rotation-rules.test.ts',
      ],
    ]),
  ),
  ...Object.fromEntries(
    [
      'checkpoints',
      'consistency',
      'db',
      'entries',
      'exporters',
      'importers',
      'init',
      'integrity',
      'keys',
      'migrate',
      'operations',
      'rotation-keys',
      'schema',
      'verify-source',
    ].map((f) => [
      `src/trust/store/${f}.ts`,
      [
        'test/trust/store/store.test.ts',
        'test/trust/store/importers.test.ts',
        'test/trust/store/checkpoints.test.ts',
        'test/trust/store/migrate.test.ts',
        'test/trust/store/foreign-files.test.ts',
        'test/trust/store/export-roundtrip.test.ts',
        // --max-age and the store's time columns; operations across a store's life.
        'test/trust/store/time.test.ts',
        'test/trust/store/operations.test.ts',
        // The busy timeout and SQLite's errors, as every open sets and maps them (db.ts).
        'test/trust/store/errors.test.ts',
        'test/trust/rotation/rotation.test.ts',
        'test/commands/trust/cli.test.ts',
        'test/commands/trust/consistency.test.ts',
        'test/commands/trust/foreign-files.test.ts',
        'test/commands/trust/rotation-rules.test.ts',
        'test/commands/attest/consistency-paths.test.ts',
        'test/commands/attest/shipment.test.ts',
      ],
    ]),
  ),
  'src/store/lookup.ts': [
    'test/store/attestations.test.ts',
    'test/commands/attest/verify-run.test.ts',
    'test/commands/attest/verify-bundle.test.ts',
    'test/commands/attest/verify-refusals.test.ts',
  ],
  'src/store/attestations.ts': ['test/commands/attest/export-bundle.test.ts'],
  // The registry client is tested against loopback registries, by behaviour, and through the CLI.
  ...Object.fromEntries(
    readdirSync(path.join(PROJECT_ROOT, 'src', 'oci'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [
        `src/oci/${f}`,
        [
          'test/oci/registry.test.ts',
          'test/oci/auth.test.ts',
          'test/oci/cosign-legacy.test.ts',
          'test/oci/reference.test.ts',
          // Conditional pushes and lost races (the 412 answer), and the transport's timeouts.
          'test/oci/fallback.test.ts',
          'test/oci/http.test.ts',
          'test/commands/attest/registry.test.ts',
        ],
      ]),
  ),
  ...SIGN_TESTS,
  ...SANDBOX_TESTS,
  ...COMMAND_TESTS,
  ...RENDER_TESTS,
  // The library's seal maker and archive opener: the library round trip, and through the CLI.
  'src/shipment/key-seal.ts': [
    'test/shipment/index.test.ts',
    'test/commands/attest/shipment.test.ts',
  ],
  'src/archive/file-source.ts': ['test/commands/attest/shipment.test.ts'],
  // No mirror test of its own: keys and signatures are tested where they are used.
  'src/crypto.ts': [
    'test/sign/keys.test.ts',
    'test/crypto-prehash.test.ts',
    'test/x509/certificate.test.ts',
  ],
  'src/util/json.ts': ['test/bundle/parse.test.ts'],
  'src/util/encoding.ts': ['test/bundle/parse.test.ts'],
  'src/util/pem.ts': ['test/x509/certificate.test.ts'],
  'src/util/canonical-json.ts': ['test/tlog/rekor-entry.test.ts'],
  // Bounded reads and atomic writes: through the CLI's inputs and outputs too.
  'src/util/fs.ts': [
    'test/commands/input-files.test.ts',
    'test/commands/output-files.test.ts',
    'test/sign/sign.test.ts',
  ],
  'src/util/time.ts': ['test/commands/times.test.ts', 'test/sign/token.test.ts'],
  'src/util/http-body.ts': ['test/oci/http.test.ts', 'test/sign/token.test.ts'],
  'src/util/retry.ts': ['test/oci/http.test.ts', 'test/sign/http.test.ts'],
  'src/util/network-failure.ts': ['test/oci/http.test.ts', 'test/sign/http.test.ts'],
  // No mirror tests: identity tokens, signer.yaml and policy files, and SQLite files are
  // read through these where they are tested.
  'src/util/jwt.ts': ['test/sign/token.test.ts', 'test/sandbox/authority/oidc.test.ts'],
  'src/util/yaml.ts': [
    'test/sign/config.test.ts',
    'test/sign/signing-config.test.ts',
    'test/commands/attest/identity-seed.test.ts',
  ],
  'src/util/log.ts': ['test/commands/messages.test.ts'],
  'src/errors.ts': ['test/commands/messages.test.ts', 'test/commands/base.test.ts'],
  'src/util/sqlite-file.ts': [
    'test/store/attestations.test.ts',
    'test/trust/store/foreign-files.test.ts',
    'test/commands/trust/foreign-files.test.ts',
  ],
};
/** Run against every mutant. */
const END_TO_END = [
  'test/verify/adversarial.test.ts',
  'test/verify/pipeline.test.ts',
  'test/verify/identity.test.ts',
  'test/verify/algorithms.test.ts',
  'test/verify/conformance.test.ts',
];
/** The conformance file's CLI and @sigstore/verify tests are left out (see above). */
const MATCH = ['!conformance (shared) CLI:*', '!conformance (shared) @sigstore/verify:*'];
/** ava settings for mutant runs (the project's own keep a process per test file). */
const AVA_CONFIG = `export default { files: ['dist/test/**/*.test.js'], timeout: '120s', workerThreads: true };\n`;

interface Options {
  only: string[];
  maxPerFile: number;
  seed: string;
  jobs: number;
  timeoutS: number | undefined;
  budgetMin: number;
  list: boolean;
  reach: number;
  secondLookMin: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    only: [],
    maxPerFile: 6,
    seed: 'stella',
    jobs: 1,
    timeoutS: undefined,
    budgetMin: 27,
    list: false,
    reach: 8,
    secondLookMin: 20,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (v: string): number => {
      if (!/^\d+$/.test(v)) throw new Error(`${a}: not a whole number: ${v}`);
      return Number(v);
    };
    if (a === '--only') o.only.push(value());
    else if (a === '--max-per-file') o.maxPerFile = int(value());
    else if (a === '--seed') o.seed = value();
    else if (a === '--jobs') o.jobs = Math.max(1, int(value()));
    else if (a === '--timeout') o.timeoutS = int(value());
    else if (a === '--budget') o.budgetMin = int(value());
    else if (a === '--list') o.list = true;
    else if (a === '--reach') o.reach = int(value());
    else if (a === '--second-look') o.secondLookMin = int(value());
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const rel = (p: string): string => path.relative(PROJECT_ROOT, p).split(path.sep).join('/');
const jsOf = (tsRel: string): string => tsRel.replace(/\.ts$/, '.js');

function sourceFiles(): string[] {
  const out = TARGET_DIRS.flatMap((d) => tsFilesUnder(PROJECT_ROOT, d));
  out.push(...TARGET_FILES);
  return out.filter((f) => !EXCLUDED.has(f));
}

/** `src/a/b.ts` -> `test/a/b.test.ts`: the test that mirrors a source file. */
function mirrorTestOf(file: string): string {
  return file.replace(/^src\//, 'test/').replace(/\.ts$/, '.test.ts');
}

/** Compiled test files (dist/...) for a source file: mirror, related, reaching, end to end. */
function testsFor(file: string, reach: readonly string[]): string[] {
  const wanted = [mirrorTestOf(file), ...(RELATED[file] ?? []), ...reach, ...END_TO_END];
  return [...new Set(wanted)]
    .filter((t) => existsSync(path.join(PROJECT_ROOT, t)))
    .map((t) => `dist/${jsOf(t)}`);
}

function compile(fileName: string, text: string): string {
  return ts.transpileModule(text, {
    fileName,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      sourceMap: false,
    },
  }).outputText;
}

/** A private copy of the built project to run mutants in. */
function makeWorkspace(name: string): string {
  const ws = path.join(WORK, name);
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
  for (const entry of readdirSync(PROJECT_ROOT)) {
    if (entry === '.git' || entry === '.mutate') continue;
    const from = path.join(PROJECT_ROOT, entry);
    const to = path.join(ws, entry);
    // Copied: what the tests load code from (bin/run.js imports ../dist relative to itself).
    if (entry === 'dist' || entry === 'bin' || entry === 'package.json')
      cpSync(from, to, { recursive: true });
    else symlinkSync(realpathSync(from), to);
  }
  writeFileSync(path.join(ws, 'ava.mutate.config.mjs'), AVA_CONFIG);
  // The unmutated bundle, kept apart: rebuilding the project during a run replaces (and for a
  // moment removes) dist/verify-fast, which a restore from the project would then copy.
  cpSync(path.join(ws, VERIFY_BUNDLE_DIR), path.join(ws, PRISTINE_BUNDLE_DIR), { recursive: true });
  return ws;
}

/** .mutate/shared -> ../shared, so tests in .mutate/<ws> find the shared data where they look for it. */
function linkShared(): void {
  const shared = path.join(PROJECT_ROOT, '..', 'shared');
  const link = path.join(WORK, 'shared');
  rmSync(link, { force: true, recursive: false });
  if (existsSync(shared)) symlinkSync(realpathSync(shared), link);
}

type Status = 'killed' | 'survived' | 'timeout';

interface RunResult {
  status: Status;
  ms: number;
  /** From ava's summary line; undefined when it printed none. */
  passed: number | undefined;
  output: string;
}

/** Run ava in `ws` on `tests`; killed on any failure, timeout after `timeoutMs`. */
function runTests(ws: string, tests: string[], timeoutMs: number): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const args = [
      path.join(ws, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'),
      '--config',
      'ava.mutate.config.mjs',
      '--fail-fast',
      ...MATCH.flatMap((m) => ['--match', m]),
      ...tests,
    ];
    // Own process group, so a timeout stops ava and the workers it started (and nothing else).
    const child = spawn(process.execPath, args, {
      cwd: ws,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let output = '';
    const keep = (d: Buffer): void => {
      output += d.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const passed = /^\s*(\d+) tests? passed/m.exec(output)?.[1];
      resolve({
        status: timedOut ? 'timeout' : code === 0 ? 'survived' : 'killed',
        ms: Date.now() - started,
        passed: passed === undefined ? undefined : Number(passed),
        output,
      });
    });
  });
}

interface FileJob {
  file: string;
  text: string;
  compiledOriginal: string;
  tests: string[];
  /** Test files that reach the file (reachingTests) but are not run: there are more than --reach. */
  reachLeftOut: string[];
  /** Compiled test files a survivor is run against on its second look: every reaching test not in `tests`. */
  secondLook: string[];
  mutants: Mutant[];
  total: number;
  /**
   * The SHA-256 its compiled file had when the verify bundle was made, when it is in that
   * bundle (a mutant is then bundled again before its tests); undefined when it is not.
   */
  bundledSha256: string | undefined;
}

/** dist/... files in the verify bundle, with the SHA-256 each had when it was bundled. */
function bundleInputs(root: string): Record<string, string> {
  return JSON.parse(
    readFileSync(path.join(root, VERIFY_BUNDLE_DIR, 'inputs.json'), 'utf8'),
  ) as Record<string, string>;
}

/** Bundles dist/src of workspace `ws` again, as the build does (with its code cache). */
function rebundle(ws: string): void {
  const r = spawnSync(process.execPath, [path.join(ws, 'dist', 'scripts', 'bundle-verify.js')], {
    cwd: ws,
    encoding: 'utf8',
  });
  // A mutant that breaks the warm-up verification leaves the bundle without its code cache;
  // its tests decide. A bundle that was not written at all is the harness's failure.
  if (!existsSync(path.join(ws, VERIFY_BUNDLE_DIR, 'verify-fast.cjs')))
    throw new Error(`bundling the mutant in ${rel(ws)} failed:\n${r.stdout}${r.stderr}`);
}

/** Puts workspace `ws`'s verify bundle back to the unmutated one copied with the workspace. */
function restoreBundle(ws: string): void {
  const dir = path.join(ws, VERIFY_BUNDLE_DIR);
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(ws, PRISTINE_BUNDLE_DIR), dir, { recursive: true });
}

interface Outcome {
  file: string;
  mutant: Mutant;
  status: Status;
  ms: number;
  diff: { before: string; after: string };
  /** A survivor that passed fewer tests than the unmutated run of the same files. */
  shortRun?: string;
  /** A survivor run again against its file's second-look tests (FileJob.secondLook). */
  secondLook?: SecondLook;
}

/**
 * A second look's outcome: killed (by the first failing test, named as ava names it), survived
 * every test that reaches the file, timed out, or not run (the second look's budget ran out, or
 * those tests fail unmutated, so a failure would prove nothing).
 */
type SecondLook =
  | { status: 'killed'; by: string }
  | { status: 'survived'; tests: number }
  | { status: 'timeout' }
  | { status: 'not run'; why: string };

/**
 * Tests passed per test file in a verbose ava run over `files`. ava prefixes each title with
 * the file's path below the files' common folder ("x509 › chain › "), or nothing for one file.
 */
function testsPerFile(output: string, files: string[]): Map<string, number> {
  const dirs = files.map((f) => path.posix.dirname(f).split('/'));
  const common: string[] = [];
  for (let i = 0; dirs.every((d) => d[i] !== undefined && d[i] === dirs[0]![i]); i++)
    common.push(dirs[0]![i]!);
  const passedLines = output
    .split('\n')
    .map((l) => l.trimStart())
    .filter((l) => l.startsWith('✔ '));
  const counts = new Map<string, number>();
  for (const f of files) {
    const name = path.posix.relative(common.join('/'), f).replace(/\.test\.js$/, '');
    const prefix = files.length === 1 ? '✔ ' : `✔ ${name.split('/').join(' › ')} › `;
    const n = passedLines.filter((l) => l.startsWith(prefix)).length;
    if (n === 0) throw new Error(`baseline: no passing test counted for ${f}`);
    counts.set(f, n);
  }
  return counts;
}

const fmtMs = (ms: number): string =>
  ms >= 60_000
    ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`
    : `${(ms / 1000).toFixed(1)}s`;
const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const jobs = planJobs(opts);
  const count = jobs.reduce((n, j) => n + j.mutants.length, 0);
  // A file whose only tests are the end-to-end verify suites: its survivors may be tests this
  // run does not know about (stop 46 found two such gaps). Said before anything runs.
  for (const file of unmappedFiles(jobs))
    console.log(
      `warning: ${file} has no mirror test, no entry in RELATED and no test reaching it under --reach: only the end-to-end suites run for it`,
    );
  if (opts.list) {
    listMutants(jobs, count, opts.reach);
    return;
  }
  checkBuildMatches(jobs);

  mkdirSync(WORK, { recursive: true });
  linkShared();
  const workspaces = Array.from({ length: opts.jobs }, (_, i) => makeWorkspace(`ws-${i}`));
  const restoreAll = (): void => {
    for (const ws of workspaces) {
      for (const j of jobs) writeFileSync(path.join(ws, 'dist', jsOf(j.file)), j.compiledOriginal);
      if (jobs.some((j) => j.bundledSha256 !== undefined)) restoreBundle(ws);
    }
  };
  process.on('SIGINT', () => {
    restoreAll();
    process.exit(130);
  });
  console.log(
    `mutate: ${count} mutants in ${jobs.length} files (seed ${JSON.stringify(opts.seed)}, at most ${opts.maxPerFile || 'all'} a file), ${opts.jobs} job(s)`,
  );
  const baseline = await runBaseline(workspaces[0]!, jobs, opts);
  const deadline = opts.budgetMin > 0 ? started + opts.budgetMin * 60_000 : Infinity;
  // Reported in file order, then source order.
  const outcomes = (await runMutants(workspaces, jobs, baseline, deadline, count)).sort(
    (a, b) =>
      jobs.findIndex((j) => j.file === a.file) - jobs.findIndex((j) => j.file === b.file) ||
      a.mutant.start - b.mutant.start,
  );
  await takeSecondLook(
    workspaces,
    jobs,
    outcomes,
    baseline,
    Date.now() + opts.secondLookMin * 60_000,
  );
  restoreAll();
  const notRun = count - outcomes.length;
  const elapsed = Date.now() - started;
  const text = reportText(jobs, outcomes, elapsed, notRun, opts.budgetMin);
  console.log(`\n${text}`);
  writeReports(text, outcomes, { opts, elapsed, notRun, baselineMs: baseline.ms });
}

/** The source files to mutate, each with its sampled mutants and the tests that see it. */
function planJobs(opts: Options): FileJob[] {
  const files = sourceFiles().filter(
    (f) => opts.only.length === 0 || opts.only.some((o) => f.includes(o)),
  );
  const bundled = bundleInputs(PROJECT_ROOT);
  const { tests, sources } = projectTexts(PROJECT_ROOT);
  return files.map((file) => {
    const text = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
    const all = generateMutants(file, text);
    const mutants =
      opts.maxPerFile === 0 ? all : sampleMutants(all, opts.maxPerFile, `${opts.seed}:${file}`);
    // A file many tests reach (errors.ts, encoding.ts) is left to its mapped tests: running
    // them all for each mutant would cost minutes a mutant.
    const reach = reachingTests(file, tests, sources);
    const runReach = reach.length <= opts.reach;
    const run = testsFor(file, runReach ? reach : []);
    const notRun = (ts: readonly string[]): string[] =>
      ts.filter((t) => !run.includes(`dist/${jsOf(t)}`));
    return {
      file,
      text,
      compiledOriginal: compile(file, text),
      tests: run,
      reachLeftOut: notRun(reach),
      secondLook: [...new Set(notRun([...reach, ...commandReach(file, tests, sources)]))]
        .sort()
        .map((t) => `dist/${jsOf(t)}`),
      mutants,
      total: all.length,
      bundledSha256: bundled[`dist/${jsOf(file)}`],
    };
  });
}

/** The planned files (with mutants) for which only the end-to-end suites run. */
function unmappedFiles(jobs: readonly FileJob[]): string[] {
  const e2e = new Set(END_TO_END.map((t) => `dist/${jsOf(t)}`));
  return jobs
    .filter(
      (j) =>
        j.mutants.length > 0 &&
        j.tests.every((t) => e2e.has(t)) &&
        !e2e.has(`dist/${jsOf(mirrorTestOf(j.file))}`),
    )
    .map((j) => j.file);
}

/** --list: each file's mutants and tests, nothing run. */
function listMutants(jobs: readonly FileJob[], count: number, reach: number): void {
  for (const j of jobs) {
    console.log(
      `${j.file}: ${j.mutants.length} of ${j.total} mutants; tests: ${j.tests.join(' ')}`,
    );
    if (j.reachLeftOut.length > 0)
      console.log(`  not run (more than --reach ${reach} reach it): ${j.reachLeftOut.join(' ')}`);
    if (j.secondLook.length > 0)
      console.log(`  second look for survivors: ${j.secondLook.join(' ')}`);
    for (const m of j.mutants) {
      const d = mutantDiff(j.text, m);
      console.log(`  ${j.file}:${m.line} ${m.operator}\n    - ${d.before}\n    + ${d.after}`);
    }
  }
  console.log(`${count} mutants in ${jobs.length} files`);
}

/**
 * The mutants are compiled one file at a time; the unmutated file compiled the same way must
 * be what tsc built, or a "kill" could come from the compiler instead of the tests.
 */
function checkBuildMatches(jobs: readonly FileJob[]): void {
  for (const j of jobs) {
    const built = path.join(PROJECT_ROOT, 'dist', jsOf(j.file));
    if (!existsSync(built)) throw new Error(`${rel(built)} is missing: run npm run build first`);
    const text = readFileSync(built, 'utf8');
    if (text !== j.compiledOriginal)
      throw new Error(
        `${j.file}: transpileModule output differs from tsc's ${rel(built)}; rebuild (npm run build)`,
      );
    // The unmutated runs use the project's bundle: it must be of the same sources.
    if (
      j.bundledSha256 !== undefined &&
      createHash('sha256').update(text).digest('hex') !== j.bundledSha256
    )
      throw new Error(`the verify bundle is older than ${rel(built)}; rebuild (npm run build)`);
  }
}

interface Baseline {
  ms: number;
  timeoutMs: number;
  /** Tests an unmutated run passes over `tests`: what a survivor's run must match. */
  expectedFor: (tests: string[]) => number;
}

/** Every test set passes unmutated (the union, once): how long that takes, and how many pass per file. */
async function runBaseline(ws: string, jobs: readonly FileJob[], opts: Options): Promise<Baseline> {
  const union = [...new Set(jobs.flatMap((j) => j.tests))];
  console.log(`baseline: ${union.length} test files, unmutated...`);
  const base = await runTests(ws, union, 30 * 60_000);
  if (base.status !== 'survived') {
    console.error(base.output);
    throw new Error('the baseline run fails: fix the suite before measuring mutants');
  }
  const timeoutMs = (opts.timeoutS ?? Math.max(120, Math.ceil((3 * base.ms) / 1000))) * 1000;
  const expected = testsPerFile(base.output, union);
  const expectedFor = (tests: string[]): number => tests.reduce((n, t) => n + expected.get(t)!, 0);
  if (base.passed !== expectedFor(union))
    throw new Error(
      `baseline: counted ${expectedFor(union)} tests by file, ava says ${base.passed}`,
    );
  console.log(`baseline passed in ${fmtMs(base.ms)}; per-mutant timeout ${fmtMs(timeoutMs)}`);
  return { ms: base.ms, timeoutMs, expectedFor };
}

/** Run the mutants, round robin over the files, one per workspace at a time, until the deadline. */
async function runMutants(
  workspaces: readonly string[],
  jobs: readonly FileJob[],
  baseline: Baseline,
  deadline: number,
  count: number,
): Promise<Outcome[]> {
  // Round robin, so a run cut short by the budget still samples every file.
  const queue: { j: FileJob; m: Mutant }[] = [];
  for (let r = 0; jobs.some((j) => r < j.mutants.length); r++)
    for (const j of jobs) if (r < j.mutants.length) queue.push({ j, m: j.mutants[r]! });
  const outcomes: Outcome[] = [];
  const worker = async (ws: string): Promise<void> => {
    for (let next = queue.shift(); next && Date.now() < deadline; next = queue.shift()) {
      const o = await runMutant(ws, next.j, next.m, baseline);
      outcomes.push(o);
      console.log(
        `[${outcomes.length}/${count}] ${o.file}:${o.mutant.line} ${o.mutant.operator}: ${o.status}${o.shortRun ? ` (${o.shortRun})` : ''} (${fmtMs(o.ms)})${o.status === 'survived' ? `\n    - ${o.diff.before}\n    + ${o.diff.after}` : ''}`,
      );
    }
  };
  await Promise.all(workspaces.map(worker));
  return outcomes;
}

/** Mutant `m` compiled into workspace `ws` (and its verify bundle), `tests` run, the file restored. */
async function runWithMutant(
  ws: string,
  j: FileJob,
  m: Mutant,
  tests: string[],
  timeoutMs: number,
): Promise<RunResult> {
  const target = path.join(ws, 'dist', jsOf(j.file));
  writeFileSync(target, compile(j.file, applyMutant(j.text, m)));
  try {
    if (j.bundledSha256 !== undefined) rebundle(ws);
    return await runTests(ws, tests, timeoutMs);
  } finally {
    writeFileSync(target, j.compiledOriginal);
    if (j.bundledSha256 !== undefined) restoreBundle(ws);
  }
}

/** One mutant against its file's tests. */
async function runMutant(ws: string, j: FileJob, m: Mutant, baseline: Baseline): Promise<Outcome> {
  const r = await runWithMutant(ws, j, m, j.tests, baseline.timeoutMs);
  const o: Outcome = {
    file: j.file,
    mutant: m,
    status: r.status,
    ms: r.ms,
    diff: mutantDiff(j.text, m),
  };
  if (r.status === 'survived' && r.passed !== baseline.expectedFor(j.tests))
    o.shortRun = `passed ${r.passed ?? '?'} of ${baseline.expectedFor(j.tests)} tests`;
  return o;
}

/**
 * Second look: each survivor (not a short run) whose file has second-look tests is run against
 * them, one per workspace at a time, until `deadline`. Those tests first run unmutated, once a
 * file, and must pass: only then does a failure under the mutant say the mutant was seen.
 * Sets `secondLook` on each survivor it considers.
 */
async function takeSecondLook(
  workspaces: readonly string[],
  jobs: readonly FileJob[],
  outcomes: readonly Outcome[],
  baseline: Baseline,
  deadline: number,
): Promise<void> {
  const jobOf = (o: Outcome): FileJob => jobs.find((j) => j.file === o.file)!;
  const queue = outcomes.filter(
    (o) => o.status === 'survived' && !o.shortRun && jobOf(o).secondLook.length > 0,
  );
  if (queue.length === 0) return;
  console.log(
    `\nsecond look: ${queue.length} survivor(s), against the tests that reach their file but were not run for it`,
  );
  for (const o of queue)
    o.secondLook = { status: 'not run', why: 'the second look ran out of time' };
  const unmutated = new Map<string, Promise<RunResult>>();
  let done = 0;
  const worker = async (ws: string): Promise<void> => {
    for (let o = queue.shift(); o && Date.now() < deadline; o = queue.shift()) {
      const j = jobOf(o);
      // Started in this workspace and awaited before any mutant is written to it.
      if (!unmutated.has(j.file)) unmutated.set(j.file, runTests(ws, j.secondLook, 30 * 60_000));
      const base = await unmutated.get(j.file)!;
      if (base.status !== 'survived') {
        o.secondLook = { status: 'not run', why: `${j.file}'s second-look tests fail unmutated` };
      } else {
        const r = await runWithMutant(
          ws,
          j,
          o.mutant,
          j.secondLook,
          Math.max(baseline.timeoutMs, 3 * base.ms),
        );
        o.secondLook =
          r.status === 'killed'
            ? { status: 'killed', by: killerOf(r.output, j.secondLook) }
            : r.status === 'timeout'
              ? { status: 'timeout' }
              : r.passed === base.passed
                ? { status: 'survived', tests: r.passed ?? 0 }
                : {
                    status: 'not run',
                    why: `passed ${r.passed ?? '?'} of the ${base.passed ?? '?'} tests that pass unmutated`,
                  };
      }
      console.log(
        `[second look ${++done}] ${o.file}:${o.mutant.line} ${o.mutant.operator}: ${secondLookText(o.secondLook)}`,
      );
    }
  };
  await Promise.all(workspaces.map(worker));
}

/**
 * The test file that killed a mutant on its second look, with ava's first failure line (title
 * and message run together, cut to that one line), or why none is named.
 */
function killerOf(output: string, files: readonly string[]): string {
  const line = output.split('\n').find((l) => l.includes('✘'));
  if (line === undefined) return 'a failure ava named no test for (exit status)';
  const said = line.trim().replace(/^✘\s*/, '');
  const file = failedTestFile(line, files);
  return file === undefined
    ? said
    : `${file.replace(/^dist\//, '').replace(/\.js$/, '.ts')} (${said})`;
}

function secondLookText(s: SecondLook): string {
  switch (s.status) {
    case 'killed':
      return `killed by ${s.by}`;
    case 'survived':
      return `survived (${s.tests} more tests)`;
    case 'timeout':
      return 'timed out';
    case 'not run':
      return `not run: ${s.why}`;
  }
}

const tally = (os: readonly Outcome[]) => ({
  killed: os.filter((o) => o.status === 'killed').length,
  survived: os.filter((o) => o.status === 'survived').length,
  timeout: os.filter((o) => o.status === 'timeout').length,
});

/** The printed report: per file, per operator, every survivor with its diff, the score. */
function reportText(
  jobs: readonly FileJob[],
  outcomes: readonly Outcome[],
  elapsed: number,
  notRun: number,
  budgetMin: number,
): string {
  const lines: string[] = [
    `${'file'.padEnd(32)} ${'mutants'.padStart(7)} ${'killed'.padStart(6)} ${'survived'.padStart(8)} ${'timeout'.padStart(7)} ${'score'.padStart(7)}`,
  ];
  for (const j of jobs) {
    const os = outcomes.filter((o) => o.file === j.file);
    const c = tally(os);
    lines.push(
      `${j.file.padEnd(32)} ${`${os.length}/${j.total}`.padStart(7)} ${String(c.killed).padStart(6)} ${String(c.survived).padStart(8)} ${String(c.timeout).padStart(7)} ${pct(c.killed + c.timeout, os.length).padStart(7)}`,
    );
  }
  const byOperator = new Map<Operator, Outcome[]>();
  for (const o of outcomes)
    byOperator.set(o.mutant.operator, [...(byOperator.get(o.mutant.operator) ?? []), o]);
  lines.push('', 'by operator:');
  for (const [op, os] of [...byOperator].sort()) {
    const c = tally(os);
    lines.push(
      `  ${op.padEnd(20)} ${String(os.length).padStart(4)} mutants, ${String(c.survived).padStart(3)} survived, score ${pct(c.killed + c.timeout, os.length)}`,
    );
  }
  const survivors = outcomes
    .filter((o) => o.status === 'survived')
    .sort((a, b) => a.file.localeCompare(b.file) || a.mutant.start - b.mutant.start);
  lines.push('', `surviving mutants (${survivors.length}):`);
  for (const o of survivors)
    lines.push(
      `  ${o.file}:${o.mutant.line} ${o.mutant.operator}${o.shortRun ? ` (${o.shortRun})` : ''}`,
      `    - ${o.diff.before}`,
      `    + ${o.diff.after}`,
      ...(o.secondLook ? [`    second look: ${secondLookText(o.secondLook)}`] : []),
    );
  const seen = survivors.filter((o) => o.secondLook?.status === 'killed');
  if (seen.length > 0)
    lines.push(
      '',
      `killed on second look (${seen.length}): a test that holds each exists but is not run for its file; add it to RELATED:`,
      ...seen.map((o) => `  ${o.file}:${o.mutant.line} ${o.mutant.operator}`),
    );
  const all = tally(outcomes);
  lines.push(
    '',
    `mutation score ${pct(all.killed + all.timeout, outcomes.length)}: ${all.killed} killed, ${all.timeout} timed out, ${all.survived} survived of ${outcomes.length} mutants (${jobs.reduce((n, j) => n + j.total, 0)} possible) in ${fmtMs(elapsed)}, ${new Date().toISOString().slice(0, 10)}`,
  );
  if (notRun > 0)
    lines.push(
      `${notRun} sampled mutant(s) not run: the ${budgetMin}-minute budget ran out (not counted in the score)`,
    );
  return lines.join('\n');
}

/** .mutate/report.txt (the printed report) and .mutate/report.json (every mutant's outcome). */
function writeReports(
  text: string,
  outcomes: readonly Outcome[],
  run: { opts: Options; elapsed: number; notRun: number; baselineMs: number },
): void {
  const all = tally(outcomes);
  writeFileSync(path.join(WORK, 'report.txt'), `${text}\n`);
  writeFileSync(
    path.join(WORK, 'report.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        seed: run.opts.seed,
        maxPerFile: run.opts.maxPerFile,
        elapsedMs: run.elapsed,
        notRun: run.notRun,
        baselineMs: run.baselineMs,
        score: outcomes.length ? (all.killed + all.timeout) / outcomes.length : null,
        ...all,
        mutants: outcomes.map((o) => ({
          file: o.file,
          id: o.mutant.id,
          line: o.mutant.line,
          operator: o.mutant.operator,
          status: o.status,
          ms: o.ms,
          ...(o.shortRun ? { shortRun: o.shortRun } : {}),
          ...(o.secondLook ? { secondLook: o.secondLook } : {}),
          before: o.diff.before,
          after: o.diff.after,
        })),
      },
      null,
      2,
    )}\n`,
  );
}

try {
  await main();
} catch (e) {
  console.error(`mutate: ${(e as Error).message}`);
  process.exitCode = 1;
}
