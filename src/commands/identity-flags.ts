/**
 * The identity flags every verifying command shares, and the one function that turns them
 * into buildPolicy options: `--certificate-identity` (alias `--certificate-identity-regexp`),
 * `--certificate-oidc-issuer`, `--certificate-extension NAME=REGEX` (repeatable),
 * `--policy FILE --environment NAME`, `--allow-broad-identity`; with none of them (and no
 * `--key`), the default policy: $STELLA_POLICY, else policy.yaml next to the trust store, its
 * `default` environment (or --environment). Never a verification that skips the identity.
 *
 * A command adds IDENTITY_FLAGS (./identity-flag-spec.ts: plain data, so a command's flag table
 * loads nothing heavy) to its flag table and calls identityPolicyOptions(values):
 *
 *   const identity = identityPolicyOptions(flags, { keyGiven: flags.key !== undefined, store: flags.store });
 *   const policy = buildPolicy({ ...identity.options, publicKeyPem, requireTlog: flags['require-rekor'] || identity.options.requireTlog });
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { readTextFileBounded } from '../util/fs.js';
import { resolveStorePath } from '../trust/store/paths.js';
import {
  checkPolicyOptions,
  IDENTITY_REQUIRED_HELP,
  type PolicyOptions,
} from '../verify/policy.js';
import { compileIdentityPattern, literalPattern } from '../verify/identity-pattern.js';
import { GITHUB_WORKFLOW_FLAGS, type GithubWorkflowFlag } from './identity-flag-spec.js';
import {
  parsePolicyFile,
  policyOptionsForEnvironment,
  type PolicyFile,
} from '../verify/policy-file.js';
import { quoted } from '../util/text.js';
import { checkPredicateTypeFlag, predicateTypeURI } from '../bundle/intoto.js';

export interface IdentityFlagValues {
  'certificate-identity'?: string | undefined;
  'certificate-identity-regexp'?: string | undefined;
  'certificate-oidc-issuer'?: string | undefined;
  'certificate-extension'?: string[] | undefined;
  policy?: string | undefined;
  'certificate-github-workflow-trigger'?: string | undefined;
  'certificate-github-workflow-sha'?: string | undefined;
  'certificate-github-workflow-name'?: string | undefined;
  'certificate-github-workflow-repository'?: string | undefined;
  'certificate-github-workflow-ref'?: string | undefined;
  'predicate-type'?: string | undefined;
  environment?: string | undefined;
  'allow-broad-identity'?: boolean;
}

export interface IdentityContext {
  /** --key was given: managed-key verification, no identity needed. */
  keyGiven: boolean;
  /** --store (the default policy sits next to the trust store). */
  store?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedIdentity {
  /** Options for buildPolicy (empty with --key). */
  options: PolicyOptions;
  /** The policy file used, if any. */
  policyFile?: PolicyFile;
  environment?: string;
  /** Why the default policy was used ("$STELLA_POLICY", "policy.yaml next to the trust store"). */
  defaultPolicy?: string;
}

/** Largest policy file read. */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;

export const DEFAULT_ENVIRONMENT = 'default';

/** Read and validate a policy file (POLICY_INVALID naming key and line). */
export function loadPolicyFile(path: string, what = '--policy'): PolicyFile {
  const text = readTextFileBounded(path, {
    what,
    maxBytes: MAX_POLICY_FILE_BYTES,
    textError: { code: 'POLICY_INVALID', check: 'config' },
  });
  return parsePolicyFile(text, path);
}

/** Where the default policy is: $STELLA_POLICY, else policy.yaml beside the trust store (if it exists). */
export function defaultPolicyPath(ctx: IdentityContext): { path: string; why: string } | undefined {
  const env = ctx.env ?? process.env;
  if (env.STELLA_POLICY) {
    if (!existsSync(env.STELLA_POLICY))
      fail(
        'INPUT_INVALID',
        'input',
        `$STELLA_POLICY names ${env.STELLA_POLICY}, which does not exist`,
      );
    return { path: env.STELLA_POLICY, why: '$STELLA_POLICY' };
  }
  const beside = join(dirname(resolveStorePath(ctx.store, env)), 'policy.yaml');
  return existsSync(beside)
    ? { path: beside, why: 'policy.yaml next to the trust store' }
    : undefined;
}

/** Parse one `--certificate-extension NAME=REGEX`. */
function extensionPair(raw: string): [string, string] {
  const i = raw.indexOf('=');
  if (i <= 0 || i === raw.length - 1)
    fail(
      'INPUT_INVALID',
      'input',
      `--certificate-extension ${quoted(raw)}: expected NAME=REGEX, e.g. deployment-environment=production`,
    );
  return [raw.slice(0, i), raw.slice(i + 1)];
}

/**
 * The identity options the flags ask for. Usage mistakes (both spellings of the identity flag,
 * --policy with identity flags, no identity at all) are INPUT_INVALID; a bad policy file is
 * POLICY_INVALID; an unknown environment POLICY_ENVIRONMENT_NOT_FOUND.
 */
export function identityPolicyOptions(
  flags: IdentityFlagValues,
  ctx: IdentityContext,
): ResolvedIdentity {
  const regexp = flags['certificate-identity-regexp'];
  const plain = flags['certificate-identity'];
  if (regexp !== undefined && plain !== undefined) {
    fail(
      'INPUT_INVALID',
      'input',
      '--certificate-identity and --certificate-identity-regexp are the same flag (both RE2 patterns): give one',
    );
  }
  const identity = plain ?? regexp;
  const issuer = flags['certificate-oidc-issuer'];
  // --certificate-extension NAME=REGEX as given, then cosign's workflow flags, each an exact value.
  const given = (flags['certificate-extension'] ?? []).map(extensionPair);
  const workflow = (Object.keys(GITHUB_WORKFLOW_FLAGS) as GithubWorkflowFlag[]).filter(
    (f) => flags[f] !== undefined,
  );
  const extensions: [string, string][] = [
    ...given,
    ...workflow.map((f): [string, string] => [
      GITHUB_WORKFLOW_FLAGS[f].extension,
      literalPattern(flags[f]!),
    ]),
  ];
  const identityFlags = identity !== undefined || issuer !== undefined || extensions.length > 0;
  const allowBroadIdentity = flags['allow-broad-identity'] ?? false;
  const asked =
    flags['predicate-type'] !== undefined ? predicateTypeURI(flags['predicate-type']) : undefined;
  const predicateType = asked !== undefined ? { predicateType: asked } : {};

  if (flags.policy !== undefined && identityFlags) {
    fail(
      'INPUT_INVALID',
      'input',
      "--policy cannot be combined with --certificate-identity, --certificate-oidc-issuer, --certificate-extension or --certificate-github-workflow-*: the policy file's environment says which identities to accept",
    );
  }
  if (ctx.keyGiven && (flags.policy !== undefined || flags.environment !== undefined)) {
    fail(
      'INPUT_INVALID',
      'input',
      '--key verifies a managed-key bundle: it cannot be combined with --policy or --environment',
    );
  }
  if (identityFlags) {
    if (flags.environment !== undefined)
      fail(
        'INPUT_INVALID',
        'input',
        '--environment selects an environment of a policy file: give --policy FILE (or configure a default policy), not identity flags',
      );
    const name = plain !== undefined ? '--certificate-identity' : '--certificate-identity-regexp';
    return {
      options: {
        certificateIdentity: identity,
        certificateOidcIssuer: issuer,
        certificateExtensions: extensions,
        allowBroadIdentity,
        patternName: () => name,
        extensionName: (n, i) =>
          i < given.length ? `--certificate-extension ${n}` : `--${workflow[i - given.length]!}`,
        ...predicateType,
      },
    };
  }
  if (ctx.keyGiven) return { options: { ...predicateType } };
  let path = flags.policy;
  let why: string | undefined;
  if (path === undefined) {
    const found = defaultPolicyPath(ctx);
    if (!found) {
      fail(
        'INPUT_INVALID',
        'input',
        `an identity is required (a keyless signature proves nothing without one): ${IDENTITY_REQUIRED_HELP}`,
      );
    }
    path = found.path;
    why = found.why;
  }
  const file = loadPolicyFile(path, flags.policy !== undefined ? '--policy' : why!);
  const environment = flags.environment ?? DEFAULT_ENVIRONMENT;
  const options = policyOptionsForEnvironment(file, environment);
  if (allowBroadIdentity) options.allowBroadIdentity = true;
  if (asked !== undefined) {
    if (options.predicateType !== undefined && options.predicateType !== asked)
      fail(
        'INPUT_INVALID',
        'input',
        `--predicate-type ${quoted(asked)} and the policy's predicateType ${quoted(options.predicateType)} (${path}, environment ${environment}) differ: give one`,
      );
    options.predicateType = asked;
  }
  return { options, policyFile: file, environment, ...(why ? { defaultPolicy: why } : {}) };
}

/**
 * identityPolicyOptions, then, for identities given as flags (a policy file is checked when it
 * is read), every mistake in them that needs nothing read: each pattern compiled alone in RE2,
 * and the pairs and values checkPolicyOptions refuses (an identity without an issuer, an
 * issuer written as a pattern, an extension named wrongly or twice, identity flags with
 * --key). Each is INPUT_INVALID naming the flag, which a command reports as a usage error.
 */
export function commandLineIdentity(
  flags: IdentityFlagValues,
  ctx: IdentityContext,
): ResolvedIdentity {
  if (flags['predicate-type'] !== undefined) checkPredicateTypeFlag(flags['predicate-type']);
  const identity = identityPolicyOptions(flags, ctx);
  if (!identity.policyFile) {
    const o = identity.options;
    if (o.certificateIdentity !== undefined)
      compileIdentityPattern(o.certificateIdentity, o.patternName?.(0));
    (o.certificateExtensions ?? []).forEach(([name, p], i) =>
      compileIdentityPattern(p, o.extensionName?.(name, i)),
    );
    checkPolicyOptions(o, ctx.keyGiven);
  }
  return identity;
}
