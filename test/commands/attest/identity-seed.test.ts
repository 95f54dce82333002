/**
 * The identity-constraints seed (../shared/seeds/002_*.txt), every pattern row and example, in
 * the seed's own strings, through the real CLI. Per platform, tokens are minted with
 * `stella sandbox token` under the issuers the seed names (GitHub Actions, gitlab.com, a
 * self-hosted GitLab, a Gitea instance), signed through the sandbox's Fulcio and Rekor (and its
 * pre-v1.8.6 Fulcio, which leaves out the OIDC subject extension), stored in an attestation
 * store, and verified with the seed's commands as written — `--artifact sha256:<digest>`, no
 * --bundle, trust from a trust store — with networking disabled. Each row lists the bundles
 * that must verify and those that must not (another branch, a tag for a branch rule, a
 * non-environment run for an environment rule, another repository, another issuer).
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES } from '../../../src/errors.js';
import { startSandbox, type RunningSandbox } from '../../../src/sandbox/server/sandbox.js';
import { LEGACY_FULCIO_PREFIX } from '../../../src/sandbox/server/routes.js';
import { runSign } from '../../../src/commands/attest/sign-run.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { NO_NETWORK_PRELOAD, PROJECT_ROOT } from '../../helpers/paths.js';
import { verifyFlags } from '../../helpers/argv.js';

const GH = 'https://token.actions.githubusercontent.com';
const GL = 'https://gitlab.com';
const GL_SELF = 'https://gitlab.internal.example.com';
const GITEA = 'https://git.stella-ops.org';
const GITEA_ANY = 'https://your-gitea-instance.com';

interface Case {
  platform: 'github' | 'gitlab' | 'gitea';
  repo: string;
  issuer: string;
  ref?: string;
  environment?: string;
  event?: string;
  /** Signed through the pre-v1.8.6 Fulcio: no OIDC subject extension (.24). */
  legacy?: boolean;
}

/** Every bundle the table needs, signed once each (one artifact per bundle, so a digest names one bundle). */
const CASES = {
  'gh-main': { platform: 'github', repo: 'stellaops/scanner', issuer: GH },
  'gh-release': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    ref: 'refs/heads/release/2.0',
  },
  'gh-develop': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    ref: 'refs/heads/develop',
  },
  'gh-tag': { platform: 'github', repo: 'stellaops/scanner', issuer: GH, ref: 'refs/tags/v1.2.3' },
  'gh-tag-nightly': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    ref: 'refs/tags/nightly',
  },
  'gh-env-production': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    environment: 'production',
  },
  'gh-env-staging': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    environment: 'staging',
  },
  'gh-pull-request': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    event: 'pull_request',
  },
  'gh-other-repo': { platform: 'github', repo: 'stellaops/scanner-fork', issuer: GH },
  'gh-other-owner': { platform: 'github', repo: 'evilorg/scanner', issuer: GH },
  'gh-other-issuer': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: 'https://token.actions.githubusercontent.com.evil.example',
  },
  'gh-legacy-main': { platform: 'github', repo: 'stellaops/scanner', issuer: GH, legacy: true },
  'gh-legacy-develop': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    ref: 'refs/heads/develop',
    legacy: true,
  },
  'gh-legacy-env': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    environment: 'production',
    legacy: true,
  },
  'gh-legacy-pr': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    event: 'pull_request',
    legacy: true,
  },
  'myorg-repo1': { platform: 'github', repo: 'myorg/repo1', issuer: GH },
  'myorg-repo3': { platform: 'github', repo: 'myorg/repo3', issuer: GH },
  'myorg-other': { platform: 'github', repo: 'myorg/other', issuer: GH },
  'myorg-evil': { platform: 'github', repo: 'myorg-evil/repo1', issuer: GH },
  'myrepo-main': { platform: 'github', repo: 'myorg/myrepo', issuer: GH },
  'myrepo-feature': {
    platform: 'github',
    repo: 'myorg/myrepo',
    issuer: GH,
    ref: 'refs/heads/feature/x',
  },
  'myrepo-tag': { platform: 'github', repo: 'myorg/myrepo', issuer: GH, ref: 'refs/tags/v2.0.0' },
  'gl-main': { platform: 'gitlab', repo: 'stellaops/scanner', issuer: GL },
  'gl-dev': { platform: 'gitlab', repo: 'stellaops/scanner', issuer: GL, ref: 'refs/heads/dev' },
  'gl-tag': { platform: 'gitlab', repo: 'stellaops/scanner', issuer: GL, ref: 'refs/tags/v1.0.0' },
  'gl-env-production': {
    platform: 'gitlab',
    repo: 'stellaops/scanner',
    issuer: GL,
    environment: 'production',
  },
  'gl-other-repo': { platform: 'gitlab', repo: 'stellaops/scanner2', issuer: GL },
  'gl-legacy-main': { platform: 'gitlab', repo: 'stellaops/scanner', issuer: GL, legacy: true },
  'gl-legacy-tag': {
    platform: 'gitlab',
    repo: 'stellaops/scanner',
    issuer: GL,
    ref: 'refs/tags/v1.0.0',
    legacy: true,
  },
  'gl-self': { platform: 'gitlab', repo: 'mygroup/myproject', issuer: GL_SELF },
  'gl-self-on-saas': { platform: 'gitlab', repo: 'mygroup/myproject', issuer: GL },
  'gt-main': { platform: 'gitea', repo: 'stellaops/scanner', issuer: GITEA_ANY },
  'gt-dev': {
    platform: 'gitea',
    repo: 'stellaops/scanner',
    issuer: GITEA_ANY,
    ref: 'refs/heads/dev',
  },
  'gt-tag': {
    platform: 'gitea',
    repo: 'stellaops/scanner',
    issuer: GITEA_ANY,
    ref: 'refs/tags/v1.0.0',
  },
  'gt-legacy-main': {
    platform: 'gitea',
    repo: 'stellaops/scanner',
    issuer: GITEA_ANY,
    legacy: true,
  },
  'gt-example-main': {
    platform: 'gitea',
    repo: 'stella-ops.org/git.stella-ops.org',
    issuer: GITEA,
  },
  'gt-example-dev': {
    platform: 'gitea',
    repo: 'stella-ops.org/git.stella-ops.org',
    issuer: GITEA,
    ref: 'refs/heads/dev',
  },
  // Identities that must never match: a control character, and a value not in NFC.
  'gh-env-control': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    environment: 'production\u0007',
  },
  'gh-env-nfd': {
    platform: 'github',
    repo: 'stellaops/scanner',
    issuer: GH,
    environment: 'produccio\u0301n',
  },
} satisfies Record<string, Case>;
type CaseName = keyof typeof CASES;

/**
 * Tokens minted with the real `stella sandbox token` (one per flag the seed needs: --issuer for
 * a self-hosted GitLab and a Gitea instance, --environment, --event pull_request); the others
 * in process with the same function, to keep the suite's start-up short on a loaded machine.
 */
const VIA_CLI: ReadonlySet<CaseName> = new Set([
  'gh-env-production',
  'gh-pull-request',
  'gl-self',
  'gt-example-main',
  'gl-tag',
]);

let sandbox: RunningSandbox;
let root: string;
let env: NodeJS.ProcessEnv;
const digests = new Map<CaseName, string>();
const bundles = new Map<CaseName, string>();

async function cli(
  t: ExecutionContext | undefined,
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const r = await runCli(args, {
    nodeArgs: ['--import', NO_NETWORK_PRELOAD],
    env: { ...env, ...extraEnv },
  });
  if (t)
    t.notRegex(
      r.stderr,
      /NETWORK ATTEMPT|\n\s+at /,
      `${args.join(' ')}: no network, no stack trace`,
    );
  return r;
}

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'stella-identity-seed-'));
  sandbox = await startSandbox({ dataDir: join(root, 'sandbox'), port: 0 });
  env = {
    STELLA_TRUST_STORE: join(root, 'trust.db'),
    STELLA_ATTESTATION_STORE: join(root, 'attestations.db'),
    XDG_DATA_HOME: join(root, 'xdg'),
    STELLA_POLICY: '',
  };
  // Trust: the sandbox's root in a trust store (the seed's commands name no --trusted-root).
  for (const args of [
    ['trust', 'init'],
    ['trust', 'import', sandbox.trustedRootPath],
  ]) {
    const r = await runCli(args, { env });
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  }
  // Signing without the sandbox's issuer pin: these tokens come from the seed's issuers.
  // (Generous timeouts: the sandbox shares this process and the machine may be loaded.)
  const config = readFileSync(sandbox.signerConfigPath, 'utf8')
    .replace(/^\s+issuer: .*\n/m, '')
    .replace(/timeout: \d+ms/g, 'timeout: 2m');
  const configPath = join(root, 'signer.yaml');
  writeFileSync(configPath, config);
  // Three at a time: each signing is a token, a Fulcio request and a Rekor request.
  const queue = Object.entries(CASES) as [CaseName, Case][];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) await signCase(...next);
  };
  const signCase = async (name: CaseName, c: Case): Promise<void> => {
    {
      let token: string;
      if (VIA_CLI.has(name)) {
        const args = [
          'sandbox',
          'token',
          '--data-dir',
          sandbox.dataDir,
          '--platform',
          c.platform,
          '--repo',
          c.repo,
          '--issuer',
          c.issuer,
        ];
        if (c.ref) args.push('--ref', c.ref);
        if (c.environment) args.push('--environment', c.environment);
        if (c.event) args.push('--event', c.event);
        const tok = await runCli(args, { env });
        if (tok.code !== 0) throw new Error(`token for ${name}: ${tok.stderr}`);
        token = tok.stdout.trim();
      } else {
        token = sandbox.mintToken({
          platform: c.platform,
          repo: c.repo,
          issuer: c.issuer,
          ...(c.ref ? { ref: c.ref } : {}),
          ...(c.environment ? { environment: c.environment } : {}),
          ...(c.event ? { event: c.event } : {}),
        });
      }
      const artifact = join(root, `${name}.bin`);
      writeFileSync(artifact, `artifact of ${name}\n`);
      const r = await runSign({
        artifact,
        identityToken: token,
        configPath,
        attestationStorePath: env.STELLA_ATTESTATION_STORE!,
        ...(c.legacy ? { fulcioUrl: `${sandbox.urls.fulcio}${LEGACY_FULCIO_PREFIX}` } : {}),
        env: {},
      });
      digests.set(name, r.artifactDigest);
      bundles.set(name, r.outputPath);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
});

test.after.always(async () => {
  await sandbox?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The seed's command, as written, for one bundle's digest. */
function seedVerify(
  name: CaseName,
  identity: string,
  issuer: string,
  extra: string[] = [],
): string[] {
  return [
    'attest',
    'verify',
    '--artifact',
    digests.get(name)!,
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    issuer,
    ...extra,
  ];
}

interface Row {
  what: string;
  identity: string;
  issuer: string;
  extra?: string[];
  verifies: CaseName[];
  /** Bundle -> expected exit code. */
  refuses: Partial<Record<CaseName, number>>;
  /** A warning every verification prints. */
  warning?: RegExp;
  /** Bundles whose match is on a derived subject (no .24). */
  derived?: CaseName[];
}

const MISMATCH = EXIT_CODES.IDENTITY_MISMATCH;
const ISSUER = EXIT_CODES.ISSUER_MISMATCH;

const ROWS: Row[] = [
  // --- GitHub Actions: the Identity Patterns table (Example column) ----------------------
  {
    what: 'GitHub "Any ref"',
    identity: 'repo:stellaops/scanner:.*',
    issuer: GH,
    verifies: [
      'gh-main',
      'gh-develop',
      'gh-tag',
      'gh-env-production',
      'gh-pull-request',
      'gh-legacy-main',
    ],
    refuses: {
      'gh-other-repo': MISMATCH,
      'gh-other-owner': MISMATCH,
      'gh-other-issuer': ISSUER,
      'gl-main': ISSUER,
    },
    warning: /accepts refs of stellaops\/scanner that nobody chose in advance/,
    derived: ['gh-legacy-main'],
  },
  {
    what: 'GitHub "Main branch" (and the first example command: "Accept only main branch")',
    identity: 'repo:stellaops/scanner:ref:refs/heads/main',
    issuer: GH,
    verifies: ['gh-main', 'gh-legacy-main'],
    refuses: {
      'gh-develop': MISMATCH,
      'gh-tag': MISMATCH,
      'gh-env-production': MISMATCH,
      'gh-pull-request': MISMATCH,
      'gh-other-repo': MISMATCH,
      'gh-other-issuer': ISSUER,
      'gh-legacy-develop': MISMATCH,
      'gh-legacy-pr': MISMATCH,
    },
    derived: ['gh-legacy-main'],
  },
  {
    what: 'GitHub "Any branch"',
    identity: 'repo:stellaops/scanner:ref:refs/heads/.*',
    issuer: GH,
    verifies: ['gh-main', 'gh-release', 'gh-develop'],
    refuses: {
      'gh-tag': MISMATCH,
      'gh-env-production': MISMATCH,
      'gh-pull-request': MISMATCH,
      'gh-other-repo': MISMATCH,
    },
    warning: /nobody chose in advance/,
  },
  {
    what: 'GitHub "Version tags"',
    identity: 'repo:stellaops/scanner:ref:refs/tags/v.*',
    issuer: GH,
    verifies: ['gh-tag'],
    refuses: { 'gh-tag-nightly': MISMATCH, 'gh-main': MISMATCH, 'gh-other-issuer': ISSUER },
  },
  {
    what: 'GitHub "Environment" (and the example "Accept production environment only")',
    identity: 'repo:stellaops/scanner:environment:production',
    issuer: GH,
    verifies: ['gh-env-production', 'gh-legacy-env'],
    refuses: {
      'gh-env-staging': MISMATCH,
      'gh-main': MISMATCH,
      'gh-env-control': MISMATCH,
      'gh-env-nfd': MISMATCH,
      'gh-other-issuer': ISSUER,
    },
    derived: ['gh-legacy-env'],
  },
  {
    what: 'GitHub example "Accept main or release branches"',
    identity: 'repo:stellaops/scanner:ref:refs/heads/(main|release/.*)',
    issuer: GH,
    verifies: ['gh-main', 'gh-release'],
    refuses: { 'gh-develop': MISMATCH, 'gh-tag': MISMATCH },
  },
  {
    what: 'GitHub example "Accept any version tag"',
    identity: 'repo:stellaops/scanner:ref:refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+.*',
    issuer: GH,
    verifies: ['gh-tag'],
    refuses: { 'gh-tag-nightly': MISMATCH, 'gh-main': MISMATCH },
  },
  {
    what: 'Best practice "Always Constrain to Repository": GOOD',
    identity: 'repo:stellaops/scanner:.*',
    issuer: GH,
    verifies: ['gh-main'],
    refuses: { 'gh-other-owner': MISMATCH },
  },
  {
    what: 'Best practice "Always Require Rekor Proofs"',
    identity: 'repo:stellaops/scanner:ref:refs/heads/main',
    issuer: GH,
    extra: ['--require-rekor'],
    verifies: ['gh-main'],
    refuses: { 'gh-develop': MISMATCH },
  },
  {
    what: 'Common pattern "Cross-Repository Trust"',
    identity: 'repo:myorg/(repo1|repo2|repo3):ref:refs/heads/main',
    issuer: GH,
    verifies: ['myorg-repo1', 'myorg-repo3'],
    refuses: { 'myorg-other': MISMATCH, 'myorg-evil': MISMATCH },
  },
  {
    what: 'Common pattern "Organization-Wide Trust" (verifies with a warning)',
    identity: 'repo:myorg/.*:ref:refs/heads/main',
    issuer: GH,
    verifies: ['myorg-repo1', 'myorg-other', 'myrepo-main'],
    refuses: { 'myorg-evil': MISMATCH, 'myrepo-feature': MISMATCH, 'gh-main': MISMATCH },
    warning: /accepts any repository of "myorg".*organization-wide trust/,
  },
  // --- GitLab CI ----------------------------------------------------------------------------
  {
    what: 'GitLab "Any ref"',
    identity: 'project_path:stellaops/scanner:.*',
    issuer: GL,
    verifies: ['gl-main', 'gl-dev', 'gl-tag', 'gl-legacy-tag'],
    refuses: { 'gl-other-repo': MISMATCH, 'gh-main': ISSUER },
    warning: /nobody chose in advance/,
    derived: ['gl-legacy-tag'],
  },
  {
    what: 'GitLab "Main branch" (and the example "Accept main branch only")',
    identity: 'project_path:stellaops/scanner:ref_type:branch:ref:main',
    issuer: GL,
    verifies: ['gl-main', 'gl-env-production', 'gl-legacy-main'],
    refuses: {
      'gl-dev': MISMATCH,
      'gl-tag': MISMATCH,
      'gl-legacy-tag': MISMATCH,
      'gl-other-repo': MISMATCH,
    },
    derived: ['gl-legacy-main'],
  },
  {
    what: 'GitLab "Tags"',
    identity: 'project_path:stellaops/scanner:ref_type:tag:ref:.*',
    issuer: GL,
    verifies: ['gl-tag', 'gl-legacy-tag'],
    refuses: { 'gl-main': MISMATCH, 'gl-dev': MISMATCH },
    derived: ['gl-legacy-tag'],
  },
  {
    what: 'GitLab deployment environment: the subject pins main, --certificate-extension the environment (.23)',
    identity: 'project_path:stellaops/scanner:ref_type:branch:ref:main',
    issuer: GL,
    extra: ['--certificate-extension', 'deployment-environment=production'],
    verifies: ['gl-env-production'],
    refuses: { 'gl-main': EXIT_CODES.EXTENSION_MISMATCH, 'gl-dev': MISMATCH },
  },
  {
    what: 'GitLab example "Self-hosted GitLab"',
    identity: 'project_path:mygroup/myproject:.*',
    issuer: GL_SELF,
    verifies: ['gl-self'],
    refuses: { 'gl-self-on-saas': ISSUER, 'gl-main': ISSUER },
    warning: /nobody chose in advance/,
  },
  // --- Gitea ----------------------------------------------------------------------------------
  {
    what: 'Gitea "Any ref"',
    identity: 'stellaops/scanner:.*',
    issuer: GITEA_ANY,
    verifies: ['gt-main', 'gt-dev', 'gt-tag', 'gt-legacy-main'],
    refuses: { 'gt-example-main': ISSUER, 'gh-main': ISSUER },
    warning: /nobody chose in advance/,
    derived: ['gt-legacy-main'],
  },
  {
    what: 'Gitea "Main branch"',
    identity: 'stellaops/scanner:ref:refs/heads/main',
    issuer: GITEA_ANY,
    verifies: ['gt-main', 'gt-legacy-main'],
    refuses: { 'gt-dev': MISMATCH, 'gt-tag': MISMATCH },
    derived: ['gt-legacy-main'],
  },
  {
    what: 'Gitea "Tags"',
    identity: 'stellaops/scanner:ref:refs/tags/.*',
    issuer: GITEA_ANY,
    verifies: ['gt-tag'],
    refuses: { 'gt-main': MISMATCH },
  },
  {
    what: 'Gitea example "Accept main branch"',
    identity: 'stella-ops.org/git.stella-ops.org:ref:refs/heads/main',
    issuer: GITEA,
    verifies: ['gt-example-main'],
    refuses: { 'gt-example-dev': MISMATCH, 'gt-main': ISSUER },
  },
];

for (const row of ROWS) {
  test(`seed row: ${row.what}: ${row.identity}`, async (t) => {
    for (const name of row.verifies) {
      const r = await cli(t, seedVerify(name, row.identity, row.issuer, row.extra));
      t.is(r.code, 0, `${name} must verify under ${row.identity}: exit ${r.code}\n${r.stderr}`);
      t.regex(r.stdout, /Verified OK/);
      if (row.warning) t.regex(r.stderr, row.warning, `${name}: the warning`);
      if (row.derived?.includes(name))
        t.regex(
          r.stderr,
          /derived subject .*no OIDC subject extension \(1\.3\.6\.1\.4\.1\.57264\.1\.24, Fulcio before v1\.8\.6\)/,
          `${name}: the derived match says so`,
        );
      else t.notRegex(r.stderr, /derived subject/, `${name}: not derived`);
    }
    for (const [name, code] of Object.entries(row.refuses) as [CaseName, number][]) {
      const r = await cli(t, seedVerify(name, row.identity, row.issuer, row.extra));
      t.is(
        r.code,
        code,
        `${name} must be refused under ${row.identity} with exit ${code}: exit ${r.code}\n${r.stderr}`,
      );
      t.notRegex(r.stdout, /Verified OK/);
    }
  });
}

test('seed: identities with a control character or not in NFC never match, and the report says why', async (t) => {
  const control = await cli(
    t,
    seedVerify('gh-env-control', 'repo:stellaops/scanner:environment:production.', GH),
  );
  t.is(control.code, MISMATCH, control.stderr);
  t.regex(control.stderr, /never matches: contains the control character U\+0007/);
  const nfd = await cli(
    t,
    seedVerify('gh-env-nfd', 'repo:stellaops/scanner:environment:.*', GH, [
      '--allow-broad-identity',
    ]),
  );
  t.is(nfd.code, MISMATCH, nfd.stderr);
  t.regex(nfd.stderr, /never matches: is not in Unicode NFC/);
  // A pattern that is not NFC is a usage error.
  const pattern = await cli(
    t,
    seedVerify('gh-env-nfd', 'repo:stellaops/scanner:environment:produccio\u0301n', GH),
  );
  t.is(pattern.code, 2, pattern.stderr);
  t.regex(pattern.stderr, /--certificate-identity is not in Unicode NFC/);
});

test('seed: "BAD - accepts any repository" and other broad patterns are refused unless --allow-broad-identity', async (t) => {
  for (const [identity, issuer] of [
    ['repo:.*', GH],
    ['.*', GH],
    ['project_path:.*', GL],
    ['[^/]+/[^:]+:.*', GITEA_ANY],
    ['repo:[^/]+/scanner:.*', GH],
    ['repo:stellaops.*:ref:refs/heads/main', GH],
  ] as const) {
    const r = await cli(t, seedVerify('gh-main', identity, issuer));
    t.is(r.code, EXIT_CODES.IDENTITY_TOO_BROAD, `${identity}: ${r.stderr}`);
    t.regex(
      r.stderr,
      /matches identities of arbitrary, unrelated owners .*never accept wildcards that could match any repository.*--allow-broad-identity/,
      identity,
    );
  }
  const allowed = await cli(t, seedVerify('gh-main', 'repo:.*', GH, ['--allow-broad-identity']));
  t.is(allowed.code, 0, allowed.stderr);
  t.regex(
    allowed.stderr,
    /warning: .*arbitrary, unrelated owners.*accepted: --allow-broad-identity/,
  );
});

test('seed: "Accept any protected ref" (GitLab ref_protected) cannot match a Fulcio certificate, and verify says so', async (t) => {
  for (const identity of [
    'project_path:stellaops/scanner:ref_protected:true',
    'project_path:stellaops/scanner:ref_protected:true.*',
  ]) {
    const r = await cli(t, seedVerify('gl-main', identity, GL));
    t.is(r.code, MISMATCH, r.stderr);
    t.regex(
      r.stderr,
      /can never match: GitLab's OIDC subject is project_path:<group>\/<project>:ref_type:<branch\|tag>:ref:<name> \(it has no ref_protected field\)/,
    );
    t.regex(
      r.stderr,
      /"project_path:stellaops\/scanner:ref_type:branch:ref:main" \(protect main in GitLab\)/,
    );
  }
});

test('seed: --certificate-identity-regexp is an alias; both spellings together, a bad pattern, or no identity at all are usage errors', async (t) => {
  const alias = await cli(t, [
    'attest',
    'verify',
    '--artifact',
    digests.get('gh-main')!,
    '--certificate-identity-regexp',
    'repo:stellaops/scanner:ref:refs/heads/main',
    '--certificate-oidc-issuer',
    GH,
  ]);
  t.is(alias.code, 0, alias.stderr);
  const both = await cli(t, [
    ...seedVerify('gh-main', 'repo:stellaops/scanner:ref:refs/heads/main', GH),
    '--certificate-identity-regexp',
    'x',
  ]);
  t.is(both.code, 2);
  t.regex(both.stderr, /are the same flag/);
  // RE2 (Go) syntax as cosign users write it: (?i), [[:alpha:]], \-.
  const re2 = await cli(
    t,
    seedVerify('gh-main', '(?i)REPO:stellaops/[[:alpha:]]+:ref:refs/heads/ma\\-?in', GH),
  );
  t.is(re2.code, 0, re2.stderr);
  const look = await cli(
    t,
    seedVerify('gh-main', 'repo:stellaops/scanner(?=:):ref:refs/heads/main', GH),
  );
  t.is(look.code, 2);
  t.regex(
    look.stderr,
    /not a valid RE2 regular expression on its own: invalid or unsupported Perl syntax.*RE2 has no lookahead/,
  );
  const escape = await cli(t, seedVerify('gh-main', 'x)|(.*', GH));
  t.is(escape.code, 2, 'an unbalanced pattern never escapes the anchoring');
  const none = await cli(t, [
    'attest',
    'verify',
    '--offline',
    '--bundle',
    bundles.get('gh-main')!,
    '--artifact',
    digests.get('gh-main')!,
  ]);
  t.is(none.code, 2, none.stderr);
  t.regex(
    none.stderr,
    /an identity is required .*--certificate-identity REGEX and --certificate-oidc-issuer URL, or --policy FILE --environment NAME/,
  );
});

test("cosign's --certificate-github-workflow-* flags: each pins its GitHub extension to the exact value", async (t) => {
  const tag = 'repo:stellaops/scanner:ref:refs/tags/v1\\.2\\.3';
  const pinned = await cli(
    t,
    seedVerify('gh-tag', tag, GH, [
      '--certificate-github-workflow-repository',
      'stellaops/scanner',
      '--certificate-github-workflow-ref',
      'refs/tags/v1.2.3',
      '--certificate-github-workflow-trigger',
      'push',
      '--json',
    ]),
  );
  t.is(pinned.code, 0, pinned.stdout);
  t.true(JSON.parse(pinned.stdout).ok);
  for (const [flag, value, shown] of [
    [
      '--certificate-github-workflow-repository',
      'stellaops/scanner-evil',
      'stellaops/scanner-evil',
    ],
    // Taken literally, as cosign compares: a dot is a dot, and the whole value must match.
    ['--certificate-github-workflow-ref', 'refs/tags/v1.2.', 'refs/tags/v1\\.2\\.'],
    ['--certificate-github-workflow-trigger', 'release', 'release'],
  ] as const) {
    const r = await cli(t, seedVerify('gh-tag', tag, GH, [flag, value]));
    t.is(r.code, EXIT_CODES.EXTENSION_MISMATCH, `${flag}: ${r.stderr}`);
    t.true(r.stderr.includes(`which does not match ^(?:${shown})$`), `${flag}: ${r.stderr}`);
  }
});

test('mistakes in identity flags are usage errors (exit 2) before anything is read, in attest verify and attest import', async (t) => {
  const issuer = ['--certificate-oidc-issuer', GH];
  const identity = ['--certificate-identity', 'repo:stellaops/scanner:ref:refs/heads/main'];
  for (const [flags, why] of [
    [identity, /^--certificate-oidc-issuer is required with --certificate-identity$/],
    [issuer, /^--certificate-identity is required with --certificate-oidc-issuer$/],
    [
      [...identity, '--certificate-oidc-issuer', 'https://token.*'],
      /^--certificate-oidc-issuer "https:\/\/token\.\*" looks like a pattern/,
    ],
    [
      [...identity, ...issuer, '--certificate-extension', 'no-such=x'],
      /^--certificate-extension no-such: unknown Fulcio extension name/,
    ],
    [
      [
        ...identity,
        ...issuer,
        '--certificate-extension',
        'github-workflow-ref=refs/heads/main',
        '--certificate-github-workflow-ref',
        'refs/heads/main',
      ],
      /^--certificate-extension github-workflow-ref and --certificate-github-workflow-ref both constrain github-workflow-ref/,
    ],
    [
      [...identity, '--certificate-oidc-issuer-regexp', 'https://token.*'],
      /^unknown flag --certificate-oidc-issuer-regexp: issuers are compared exactly, never as a pattern: give --certificate-oidc-issuer URL, or several issuers in a policy file \(--policy\)$/,
    ],
  ] as const) {
    // The bundle and the archive do not exist: nothing is read before the flags are judged.
    for (const command of [
      [
        'attest',
        'verify',
        '--bundle',
        join(root, 'none.json'),
        '--artifact',
        digests.get('gh-main')!,
      ],
      ['attest', 'import', join(root, 'none.tar')],
    ]) {
      const r = await cli(t, [...command, ...flags, '--json']);
      t.is(r.code, 2, `${command[1]} ${flags.join(' ')}: ${r.stdout}`);
      const error = JSON.parse(r.stdout).error;
      t.is(error.code, 'USAGE_ERROR');
      t.regex(error.message, why, `${command[1]} ${flags.join(' ')}`);
    }
  }
  // A detached signature is cosign's older form: verify says what to give instead.
  const detached = await cli(t, [
    'attest',
    'verify',
    '--signature',
    'a.sig',
    ...identity,
    ...issuer,
  ]);
  t.is(detached.code, 2);
  t.regex(
    detached.stderr,
    /^error: unknown flag --signature: Stella verifies Sigstore bundles, not a detached signature and certificate: give --bundle FILE/,
  );
});

/** `attest verify` of the managed-key sample with its key (offline), then `extra`. */
const managedKeyVerify = (extra: string[]): string[] => [
  'attest',
  'verify',
  ...verifyFlags({
    offline: true,
    bundle: join(PROJECT_ROOT, 'samples', 'managed-key.sigstore.json'),
    artifact: join(PROJECT_ROOT, 'samples', 'artifact.txt'),
    key: join(PROJECT_ROOT, 'samples', 'key.pub'),
  }),
  ...extra,
];

test('--key (a managed-key bundle) with --policy or with --environment is refused by name, each on its own', async (t) => {
  for (const extra of [
    ['--policy', join(root, 'any-policy.yaml')],
    ['--environment', 'prod'],
  ]) {
    const r = await cli(t, managedKeyVerify([...extra, '--json']));
    t.is(r.code, 2, `${extra[0]}: ${r.stdout}`);
    t.regex(
      JSON.parse(r.stdout).error.message,
      /^--key verifies a managed-key bundle: it cannot be combined with --policy or --environment$/,
    );
  }
});

test('--explain on a managed-key bundle: the key policy ran (no identity to explain), so nothing says "not reached"', async (t) => {
  const r = await cli(
    t,
    managedKeyVerify([
      '--trusted-root',
      join(PROJECT_ROOT, 'samples', 'trusted_root.json'),
      '--explain',
    ]),
  );
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /^skip sct +SCT not required$/m, 'a check was skipped');
  t.regex(r.stdout, /^ok {3}policy +signed by the given public key$/m);
  t.notRegex(r.stdout, /not reached/);
});

test('seed: the air-gap command (no identity flags) verifies with a default policy, from $STELLA_POLICY or next to the trust store', async (t) => {
  const policy = join(root, 'default-policy.yaml');
  writeFileSync(
    policy,
    `environments:\n  default:\n    issuer: ${GH}\n    identity: "repo:stellaops/scanner:ref:refs/heads/main"\n    requireRekor: true\n`,
  );
  const airgap = [
    'attest',
    'verify',
    '--offline',
    '--bundle',
    bundles.get('gh-main')!,
    '--artifact',
    digests.get('gh-main')!,
  ];
  const ok = await cli(t, airgap, { STELLA_POLICY: policy });
  t.is(ok.code, 0, ok.stderr);
  t.regex(
    ok.stderr,
    /identity policy: policy .*default-policy\.yaml, environment default \(the default policy: \$STELLA_POLICY\)/,
  );
  const other = await cli(
    t,
    [
      'attest',
      'verify',
      '--offline',
      '--bundle',
      bundles.get('gh-develop')!,
      '--artifact',
      digests.get('gh-develop')!,
    ],
    { STELLA_POLICY: policy },
  );
  t.is(other.code, MISMATCH, 'the default policy is applied, not skipped');
  // Next to the trust store.
  const storeDir = mkdtempSync(join(root, 'store-'));
  writeFileSync(join(storeDir, 'policy.yaml'), readFileSync(policy));
  const beside = await cli(t, [...airgap, '--trusted-root', sandbox.trustedRootPath], {
    STELLA_TRUST_STORE: join(storeDir, 'trust.db'),
  });
  t.is(beside.code, 0, beside.stderr);
  t.regex(beside.stderr, /policy\.yaml next to the trust store/);
  const missing = await cli(t, airgap, { STELLA_POLICY: join(root, 'nope.yaml') });
  t.is(missing.code, 2);
  t.regex(missing.stderr, /\$STELLA_POLICY names .*nope\.yaml, which does not exist/);
});

test('seed: "Multi-Environment Trust" as a policy file: --policy FILE --environment NAME', async (t) => {
  const file = join(root, 'multi-env.yaml');
  writeFileSync(
    file,
    [
      '# GitHub Actions - Different constraints per environment',
      'environments:',
      '  staging:',
      `    issuer: ${GH}`,
      '    identity: "repo:myorg/myrepo:ref:refs/heads/.*"',
      '  production:',
      `    issuers: [${GH}, ${GL}]`,
      '    identities:',
      '      - "repo:myorg/myrepo:ref:refs/(heads/main|tags/v.*)"',
      '      - "project_path:stellaops/scanner:ref_type:branch:ref:main"',
      '    requireRekor: true',
      '',
    ].join('\n'),
  );
  const run = (name: CaseName, envName: string) =>
    cli(t, [
      'attest',
      'verify',
      '--artifact',
      digests.get(name)!,
      '--policy',
      file,
      '--environment',
      envName,
    ]);
  for (const [name, envName, code] of [
    ['myrepo-main', 'staging', 0],
    ['myrepo-feature', 'staging', 0],
    ['myrepo-tag', 'staging', MISMATCH],
    ['myrepo-main', 'production', 0],
    ['myrepo-tag', 'production', 0],
    ['gl-main', 'production', 0],
    ['myrepo-feature', 'production', MISMATCH],
    ['gl-main', 'staging', ISSUER],
  ] as const) {
    const r = await run(name, envName);
    t.is(r.code, code, `${name} under ${envName}: ${r.stderr}`);
  }
  const unknown = await run('myrepo-main', 'prod');
  t.is(unknown.code, EXIT_CODES.POLICY_ENVIRONMENT_NOT_FOUND);
  t.regex(unknown.stderr, /no environment "prod" \(it has: staging, production\)/);
  const mixed = await cli(t, [
    'attest',
    'verify',
    '--artifact',
    digests.get('myrepo-main')!,
    '--policy',
    file,
    '--environment',
    'staging',
    '--certificate-identity',
    'x',
  ]);
  t.is(mixed.code, 2);

  // The seed's snippet exactly as written names no issuer: the tool says so, with the line.
  const seedSnippet = join(root, 'seed-snippet.yaml');
  writeFileSync(
    seedSnippet,
    '# GitHub Actions - Different constraints per environment\nstaging:\n  identity: "repo:myorg/myrepo:ref:refs/heads/.*"\nproduction:\n  identity: "repo:myorg/myrepo:ref:refs/(heads/main|tags/v.*)"\n',
  );
  const lint = await cli(t, ['policy', 'lint', seedSnippet]);
  t.is(lint.code, EXIT_CODES.POLICY_INVALID);
  t.regex(
    lint.stderr,
    /staging \(line 2\): no issuer: issuers are pinned exactly.*issuer: https:\/\/token\.actions\.githubusercontent\.com/,
  );
  const withIssuer = join(root, 'seed-snippet-fixed.yaml');
  writeFileSync(
    withIssuer,
    `staging:\n  issuer: ${GH}\n  identity: "repo:myorg/myrepo:ref:refs/heads/.*"\nproduction:\n  issuer: ${GH}\n  identity: "repo:myorg/myrepo:ref:refs/(heads/main|tags/v.*)"\n`,
  );
  const fixed = await cli(t, ['policy', 'lint', withIssuer, '--json']);
  t.is(fixed.code, 0, fixed.stderr);
  const report = JSON.parse(fixed.stdout) as {
    environments: { name: string; identities: { breadth: string }[] }[];
  };
  t.deepEqual(
    report.environments.map((e) => [e.name, e.identities[0]!.breadth]),
    [
      ['staging', 'any-ref'],
      ['production', 'narrow'],
    ],
  );
  const prod = await cli(t, [
    'attest',
    'verify',
    '--artifact',
    digests.get('myrepo-tag')!,
    '--policy',
    withIssuer,
    '--environment',
    'production',
  ]);
  t.is(prod.code, 0, prod.stderr);
});

test('policy files: every mistake names the key and its line', async (t) => {
  const cases: [string, string, RegExp][] = [
    [
      'typo',
      `environments:\n  default:\n    issuer: ${GH}\n    identity: "repo:a/b:ref:refs/heads/main"\n    requireRekr: true\n`,
      /environments\.default\.requireRekr \(line 5\): unknown key/,
    ],
    [
      'type',
      `environments:\n  default:\n    issuer: ${GH}\n    identity: "repo:a/b:ref:refs/heads/main"\n    requireRekor: "yes"\n`,
      /environments\.default\.requireRekor \(line 5\): must be true or false/,
    ],
    [
      'regex',
      `environments:\n  default:\n    issuer: ${GH}\n    identity: "repo:a/b:ref:refs/heads/(main"\n`,
      /environments\.default\.identity \(line 4\): pattern is not a valid RE2 regular expression on its own: missing closing \)/,
    ],
    [
      'broad',
      `environments:\n  default:\n    issuer: ${GH}\n    identities:\n      - "repo:a/b:ref:refs/heads/main"\n      - "repo:.*"\n`,
      /environments\.default\.identities\[1\] \(line 6\): .*arbitrary, unrelated owners/,
    ],
    [
      'wildcard issuer',
      `environments:\n  default:\n    issuer: "https://.*"\n    identity: "repo:a/b:ref:refs/heads/main"\n`,
      /environments\.default\.issuer \(line 3\): .*issuers are compared exactly, never as a wildcard/,
    ],
    [
      'protected',
      `environments:\n  default:\n    issuer: ${GL}\n    identity: "project_path:g/p:ref_protected:true"\n`,
      /environments\.default\.identity \(line 4\): .*can never match/,
    ],
    [
      'extension',
      `environments:\n  default:\n    issuer: ${GH}\n    identity: "repo:a/b:ref:refs/heads/main"\n    extensions:\n      deploy-env: production\n`,
      /environments\.default\.extensions\.deploy-env \(line 6\): unknown or unconstrainable Fulcio extension name/,
    ],
    [
      'duplicate',
      `environments:\n  default:\n    issuer: ${GH}\n    issuer: ${GL}\n    identity: "repo:a/b:ref:refs/heads/main"\n`,
      /line 4: not valid YAML: Map keys must be unique/,
    ],
  ];
  for (const [what, text, message] of cases) {
    const file = join(root, `bad-${what.replace(/\W/g, '-')}.yaml`);
    writeFileSync(file, text);
    const lint = await cli(t, ['policy', 'lint', file]);
    t.is(lint.code, EXIT_CODES.POLICY_INVALID, `${what}: ${lint.stderr}`);
    t.regex(lint.stderr, message, what);
    const verify = await cli(t, [
      'attest',
      'verify',
      '--artifact',
      digests.get('gh-main')!,
      '--policy',
      file,
      '--environment',
      'default',
    ]);
    t.is(verify.code, EXIT_CODES.POLICY_INVALID, `${what} (verify): ${verify.stderr}`);
  }
  const allowed = join(root, 'allowed-broad.yaml');
  writeFileSync(
    allowed,
    `environments:\n  default:\n    issuer: ${GH}\n    identity: "repo:.*"\n    allowBroadIdentity: true\n`,
  );
  const ok = await cli(t, [
    'attest',
    'verify',
    '--artifact',
    digests.get('gh-main')!,
    '--policy',
    allowed,
  ]);
  t.is(ok.code, 0, ok.stderr);
});

test('seed "Testing Patterns": stella policy test answers match / no match and why', async (t) => {
  const yes = await cli(t, [
    'policy',
    'test',
    '--identity',
    'repo:myorg/myrepo:ref:refs/heads/main',
    '--pattern',
    'repo:myorg/myrepo:ref:refs/heads/(main|develop)',
  ]);
  t.is(yes.code, 0, yes.stderr);
  t.regex(
    yes.stdout,
    /^match: "repo:myorg\/myrepo:ref:refs\/heads\/main" matches \^\(\?:repo:myorg\/myrepo:ref:refs\/heads\/\(main\|develop\)\)\$/,
  );
  const no = await cli(t, [
    'policy',
    'test',
    '--identity',
    'repo:myorg/myrepo:ref:refs/heads/main',
    '--pattern',
    'repo:myorg/myrepo:ref:main',
  ]);
  t.is(no.code, MISMATCH);
  t.regex(no.stdout, /no match.*\n.*does not match\n.*check the ref format/);
  const part = await cli(t, [
    'policy',
    'test',
    '--identity',
    'repo:myorg/myrepo:ref:refs/heads/main',
    '--pattern',
    'repo:myorg/myrepo',
    '--json',
  ]);
  t.is(part.code, MISMATCH);
  t.regex(
    (JSON.parse(part.stdout) as { reasons: string[] }).reasons.join('\n'),
    /matches only part of the identity; patterns are matched whole/,
  );
  const protectedRef = await cli(t, [
    'policy',
    'test',
    '--identity',
    'project_path:stellaops/scanner:ref_type:branch:ref:main',
    '--pattern',
    'project_path:stellaops/scanner:ref_protected:true.*',
  ]);
  t.is(protectedRef.code, MISMATCH);
  t.regex(protectedRef.stdout, /can never match/);
});

test('--explain lists every candidate identity, what each pattern matched, and the issuer comparison', async (t) => {
  const r = await cli(
    t,
    seedVerify('gh-main', 'repo:stellaops/scanner:ref:refs/heads/main', GH, ['--explain']),
  );
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stdout, /not reached/);
  // A check before the policy fails (the bundle signs another artifact): the policy never ran.
  const earlier = await cli(t, [
    'attest',
    'verify',
    ...verifyFlags({
      offline: true,
      bundle: bundles.get('gh-main')!,
      artifact: digests.get('gl-main')!,
      identity: 'repo:stellaops/scanner:ref:refs/heads/main',
      issuer: GH,
    }),
    '--explain',
  ]);
  t.not(earlier.code, 0, earlier.stderr);
  t.is(earlier.stdout, 'identity policy: not reached (an earlier check failed)\n');
  t.regex(
    r.stdout,
    /issuer +certificate "https:\/\/token\.actions\.githubusercontent\.com" vs "https:\/\/token\.actions\.githubusercontent\.com" \(exact\): match/,
  );
  t.regex(
    r.stdout,
    /SAN URI +"https:\/\/github\.com\/stellaops\/scanner\/\.github\/workflows\/release\.yml@refs\/heads\/main": no match/,
  );
  t.regex(
    r.stdout,
    /OIDC subject \(1\.3\.6\.1\.4\.1\.57264\.1\.24\) +"repo:stellaops\/scanner:ref:refs\/heads\/main": MATCH/,
  );
  const legacy = await cli(
    t,
    seedVerify('gh-legacy-develop', 'repo:stellaops/scanner:ref:refs/heads/main', GH, [
      '--explain',
    ]),
  );
  t.is(legacy.code, MISMATCH);
  t.regex(
    legacy.stdout,
    /derived subject \(GitHub\) +"repo:stellaops\/scanner:ref:refs\/heads\/develop": no match/,
  );
  t.regex(
    legacy.stderr,
    /identity mismatch: .*derived subject \(GitHub\) "repo:stellaops\/scanner:ref:refs\/heads\/develop".*check the ref format/,
  );
  const json = await cli(
    t,
    seedVerify('gl-main', 'project_path:stellaops/scanner:ref_type:branch:ref:main', GL, [
      '--json',
      '--explain',
    ]),
  );
  t.is(json.code, 0);
  const policy = (
    JSON.parse(json.stdout) as {
      checks: {
        check: string;
        details: { explain: { candidates: { field: string; matches: string[] }[] } };
      }[];
    }
  ).checks.find((c) => c.check === 'policy')!;
  t.deepEqual(
    policy.details.explain.candidates.map((c) => [c.field, c.matches.length]),
    [
      ['SAN URI', 0],
      ['OIDC subject (1.3.6.1.4.1.57264.1.24)', 1],
    ],
  );
});

test('seed "Debugging Identity Patterns": stella attest inspect --artifact sha256:... --show-cert prints the expected lines, verifying nothing', async (t) => {
  const r = await cli(t, [
    'attest',
    'inspect',
    '--artifact',
    digests.get('gh-main')!,
    '--show-cert',
  ]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^note: inspect verifies nothing/);
  t.regex(r.stdout, /^Certificate Subject: repo:stellaops\/scanner:ref:refs\/heads\/main$/m);
  t.regex(r.stdout, /^Certificate Issuer: https:\/\/token\.actions\.githubusercontent\.com$/m);
  t.regex(
    r.stdout,
    /^Certificate SAN: https:\/\/github\.com\/stellaops\/scanner\/\.github\/workflows\/release\.yml@refs\/heads\/main$/m,
  );
  t.regex(
    r.stdout,
    /^ {2}source-repository-ref \(1\.3\.6\.1\.4\.1\.57264\.1\.14\): refs\/heads\/main$/m,
  );
  t.regex(r.stdout, /^SCT: log [0-9a-f]{64} at /m);
  t.regex(
    r.stdout,
    /^Transparency log entry: index \d+, hashedrekord\/0\.0\.1, log [0-9a-f]{64}, integrated .*, checkpoint size \d+/m,
  );
  t.regex(r.stdout, /-----BEGIN CERTIFICATE-----/);
  const legacy = await cli(t, [
    'attest',
    'inspect',
    '--bundle',
    bundles.get('gl-legacy-main')!,
    '--json',
  ]);
  t.is(legacy.code, 0, legacy.stderr);
  const d = JSON.parse(legacy.stdout) as {
    verified: boolean;
    bundles: {
      certificate: { subject: string; subjectField: string; extensions: { name: string }[] };
    }[];
  };
  t.false(d.verified);
  t.is(
    d.bundles[0]!.certificate.subject,
    'project_path:stellaops/scanner:ref_type:branch:ref:main',
  );
  t.is(d.bundles[0]!.certificate.subjectField, 'derived subject (GitLab)');
  t.false(d.bundles[0]!.certificate.extensions.some((e) => e.name === 'oidc-subject'));
  const none = await cli(t, ['attest', 'inspect']);
  t.is(none.code, 2);
});
