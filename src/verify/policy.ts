/**
 * The verification policy, built once from options (sigstore-go's policy object). Everything
 * the checks compare against lives here, already validated, so checks never re-parse flags.
 * Command-line flags and policy files (policy-file.ts) both end here: one builder, one set of
 * rules (patterns compiled alone in RE2, NFC, broad patterns refused, issuers exact).
 */
import type { KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { parsePublicKey } from '../crypto.js';
import { fulcioExtensionByName, FULCIO_EXTENSIONS } from '../x509/fulcio-extensions.js';
import { compileIdentityPattern, type IdentityMatcher } from './identity-pattern.js';
import { describeBreadth, identityBreadth, type IdentityBreadth } from './identity-breadth.js';
import { surroundingSpaceHint, unsatisfiableHint } from './identity-hints.js';
import { quoted } from '../util/text.js';
import { checkPredicateTypeFlag, predicateTypeURI } from '../bundle/intoto.js';

export interface IdentityPolicyPattern {
  /** The pattern as the user gave it. */
  pattern: string;
  /** Compiled alone (RE2), matched whole. */
  matcher: IdentityMatcher;
  breadth: IdentityBreadth;
  /** Set when no Fulcio certificate can offer a matching identity (identity-hints.ts). */
  unsatisfiable?: string;
  /** Set when the pattern has white space at either end (identity-hints.ts): said, not refused. */
  surroundingSpace?: string;
}

export interface ExtensionConstraint {
  /** Kebab-case Fulcio extension name (x509/fulcio-extensions.ts). */
  name: string;
  oid: string;
  pattern: string;
  matcher: IdentityMatcher;
}

export interface CertificateIdentityPolicy {
  /** Compared exactly (no regex, no prefix): issuers are pinned. One, or several from a policy file. */
  issuers: string[];
  /** One or more patterns; an identity matching any of them is accepted. */
  patterns: IdentityPolicyPattern[];
  /** Claims beyond the subject: every one must be present and match whole. */
  extensions: ExtensionConstraint[];
  /** Where the policy came from ("command line", "policy FILE, environment NAME"). */
  source: string;
  /** The first pattern as given (reports). */
  pattern: string;
  /** The first pattern, compiled: ^(?:pattern)$ semantics, so `repo:org/repo` never matches `repo:org/repo-evil`. */
  regex: IdentityMatcher;
  /** The first issuer. */
  issuer: string;
}

export interface VerificationPolicy {
  identity: CertificateIdentityPolicy | undefined;
  /** Managed-key mode: verify with this key instead of a certificate identity. */
  publicKey: KeyObject | undefined;
  /** --require-rekor: a bundle with no transparency log entry fails. */
  requireTlog: boolean;
  /** requireSCT: true in the seed's config; on by default. */
  requireSct: boolean;
  /** Distinct logs that must include the entry (each log counted once). */
  tlogThreshold: number;
  /**
   * --predicate-type: the bundle must be an in-toto attestation (DSSE) whose statement has
   * exactly this predicate type; undefined: any bundle (a message signature too).
   */
  predicateType: string | undefined;
  /** The verifier's clock (ms). Verified times after it are rejected. */
  now: number;
  /** Said about the policy itself (organization-wide or any-ref patterns); copied into every report. */
  warnings: string[];
}

export interface PolicyOptions {
  /** One identity pattern (--certificate-identity). */
  certificateIdentity?: string;
  /** Several identity patterns (a policy file's `identities:`); combined with certificateIdentity. */
  certificateIdentities?: string[];
  /** One exact issuer (--certificate-oidc-issuer). */
  certificateOidcIssuer?: string;
  /** Several exact issuers (a policy file's `issuers:`). */
  certificateOidcIssuers?: string[];
  /** NAME=REGEX constraints on Fulcio extensions (--certificate-extension, `extensions:`). */
  certificateExtensions?: ReadonlyArray<readonly [string, string]>;
  /** Accept a pattern that matches identities of unrelated owners (--allow-broad-identity). */
  allowBroadIdentity?: boolean;
  /** Where the identity options came from, for reports and errors (default "command line"). */
  identitySource?: string;
  /** How a pattern is named in errors (default --certificate-identity). */
  patternName?: (index: number) => string;
  /**
   * How an extension constraint is named in errors (default --certificate-extension NAME):
   * `name` as given, `index` its place in certificateExtensions.
   */
  extensionName?: (name: string, index: number) => string;
  /** PEM public key text (managed-key bundles). */
  publicKeyPem?: string;
  requireTlog?: boolean;
  /**
   * A policy environment's requireConsistency (like --require-consistency): not a check of
   * the bundle itself, so buildPolicy ignores it; the consistency step against the trust store
   * (src/trust/store/consistency.ts) is what honours it.
   */
  requireConsistency?: boolean;
  requireSct?: boolean;
  tlogThreshold?: number;
  /** The predicate type an attestation must have (--predicate-type, a policy file's predicateType:). */
  predicateType?: string;
  now?: number;
}

/** The usage text every "no identity" error ends with. */
export const IDENTITY_REQUIRED_HELP =
  'give --certificate-identity REGEX and --certificate-oidc-issuer URL, or --policy FILE --environment NAME, or --key PUBLIC_KEY ' +
  '(or configure a default policy: $STELLA_POLICY, or policy.yaml next to the trust store, with a `default` environment)';

/** Extension names a constraint may use: every Fulcio extension but the issuers (pinned by --certificate-oidc-issuer). */
export const CONSTRAINABLE_EXTENSIONS = FULCIO_EXTENSIONS.filter(
  (e) => e.name !== 'issuer' && e.name !== 'issuer-v1',
).map((e) => e.name);

/** The Fulcio extension a constraint names (by name or OID), if a constraint may name it. */
function constrainableExtension(name: string, what: string) {
  const ext = fulcioExtensionByName(name);
  if (!ext || ext.name === 'issuer' || ext.name === 'issuer-v1') {
    const why = ext
      ? "issuers are pinned with --certificate-oidc-issuer (or a policy file's issuers:), never by a pattern"
      : `unknown Fulcio extension name ${quoted(name)}`;
    fail(
      'INPUT_INVALID',
      'input',
      `${what}: ${why} (names: ${CONSTRAINABLE_EXTENSIONS.join(', ')})`,
      { name },
    );
  }
  return ext;
}

/**
 * An issuer as plain text: no whitespace or control characters, NFC. Issuers are compared
 * exactly, so a byte a terminal does not show would pin one no token carries.
 */
export function isPlainIssuerText(issuer: string): boolean {
  return !/[\s\u0000-\u001f\u007f]/.test(issuer) && issuer.normalize('NFC') === issuer;
}

/** An issuer written as a pattern (`*`, `.*`, anchors): issuers are never patterns. */
export function issuerLooksLikePattern(issuer: string): boolean {
  return /[*]|\.\*|^\^|\$$/.test(issuer);
}

/**
 * Why no policy can pin `issuer`, or undefined when one can: the rules every issuer a user
 * gives is held to. The signer holds Fulcio's certificate to them too, since a certificate
 * whose issuer no policy can name can never verify.
 */
export function unpinnableIssuerReason(issuer: string): string | undefined {
  if (issuer.length === 0) return 'is empty';
  if (!isPlainIssuerText(issuer)) return 'contains whitespace or control characters, or is not NFC';
  if (issuerLooksLikePattern(issuer))
    return 'looks like a pattern: issuers are compared exactly, never as a wildcard';
  return undefined;
}

function checkIssuer(issuer: string, what: string): void {
  const why = unpinnableIssuerReason(issuer);
  if (why === undefined) return;
  if (issuer.length === 0) fail('INPUT_INVALID', 'input', `${what} is empty`);
  fail(
    'INPUT_INVALID',
    'input',
    `${what} ${quoted(issuer)} ${why}${issuerLooksLikePattern(issuer) ? '; list several issuers in a policy file instead' : ''}`,
  );
}

/** Compile one identity pattern with every rule: RE2 alone, NFC, breadth (refused unless allowed). */
export function compileIdentityPolicyPattern(
  pattern: string,
  what: string,
  allowBroad: boolean,
): IdentityPolicyPattern {
  const matcher = compileIdentityPattern(pattern, what);
  const breadth = identityBreadth(matcher);
  if (breadth.kind === 'broad' && !allowBroad) {
    fail(
      'IDENTITY_TOO_BROAD',
      'input',
      `${what}: ${describeBreadth(pattern, breadth)}; pass --allow-broad-identity (allowBroadIdentity: true in a policy file) only if you mean it`,
      { pattern, example: breadth.example },
    );
  }
  const unsatisfiable = unsatisfiableHint(pattern);
  const surroundingSpace = surroundingSpaceHint(pattern);
  return {
    pattern,
    matcher,
    breadth,
    ...(unsatisfiable ? { unsatisfiable } : {}),
    ...(surroundingSpace ? { surroundingSpace } : {}),
  };
}

function identityPatterns(opts: PolicyOptions): string[] {
  return [
    ...(opts.certificateIdentity !== undefined ? [opts.certificateIdentity] : []),
    ...(opts.certificateIdentities ?? []),
  ];
}

function identityIssuers(opts: PolicyOptions): string[] {
  return [
    ...(opts.certificateOidcIssuer !== undefined ? [opts.certificateOidcIssuer] : []),
    ...(opts.certificateOidcIssuers ?? []),
  ];
}

/**
 * The options' own mistakes, found without compiling a pattern or searching it for breadth:
 * an identity and a key together, or neither; patterns without issuers or issuers without
 * patterns; an issuer no certificate can carry as written; an extension a constraint may not
 * name, or two constraints on one extension; a log threshold below one. Each is INPUT_INVALID
 * naming the flag. buildPolicy starts here, and the commands call it first (`keyGiven`: --key
 * was given, its file not yet read), so each is a usage error before anything is read.
 */
export function checkPolicyOptions(
  opts: PolicyOptions,
  keyGiven = opts.publicKeyPem !== undefined,
): void {
  const patterns = identityPatterns(opts);
  const issuers = identityIssuers(opts);
  const extensions = opts.certificateExtensions ?? [];
  const hasIdentity = patterns.length > 0 || issuers.length > 0 || extensions.length > 0;
  if (hasIdentity && keyGiven) {
    fail(
      'INPUT_INVALID',
      'input',
      'give either --certificate-identity/--certificate-oidc-issuer or --key, not both',
    );
  }
  if (!hasIdentity && !keyGiven) {
    fail('INPUT_INVALID', 'input', `an identity policy is required: ${IDENTITY_REQUIRED_HELP}`);
  }
  if (hasIdentity) {
    if (patterns.length === 0)
      fail(
        'INPUT_INVALID',
        'input',
        '--certificate-identity is required with --certificate-oidc-issuer',
      );
    if (issuers.length === 0)
      fail(
        'INPUT_INVALID',
        'input',
        '--certificate-oidc-issuer is required with --certificate-identity',
      );
    const named = new Map<string, string>();
    extensions.forEach(([name], i) => {
      const what = extensionWhat(opts, name, i);
      const ext = constrainableExtension(name, what);
      const first = named.get(ext.name);
      if (first !== undefined)
        fail(
          'INPUT_INVALID',
          'input',
          `${first === what ? `${what} is given twice` : `${first} and ${what} both constrain ${ext.name}`}: give each extension once (alternatives go in one pattern: a|b)`,
        );
      named.set(ext.name, what);
    });
    for (const issuer of issuers) checkIssuer(issuer, '--certificate-oidc-issuer');
  }
  const threshold = opts.tlogThreshold ?? 1;
  if (!Number.isInteger(threshold) || threshold < 1)
    fail('INPUT_INVALID', 'input', 'tlog threshold must be a positive integer');
  if (opts.predicateType !== undefined) checkPredicateTypeFlag(opts.predicateType);
}

/** How the extension constraint at `index` is named in errors. */
function extensionWhat(opts: PolicyOptions, name: string, index: number): string {
  return opts.extensionName?.(name, index) ?? `--certificate-extension ${name}`;
}

export function buildPolicy(opts: PolicyOptions): VerificationPolicy {
  checkPolicyOptions(opts);
  const patterns = identityPatterns(opts);
  const issuers = identityIssuers(opts);
  const extensions = opts.certificateExtensions ?? [];
  const hasIdentity = patterns.length > 0 || issuers.length > 0 || extensions.length > 0;
  const warnings: string[] = [];
  const identity = hasIdentity
    ? identityPolicy(opts, patterns, issuers, extensions, warnings)
    : undefined;
  return {
    identity,
    publicKey:
      opts.publicKeyPem === undefined ? undefined : parsePublicKey(opts.publicKeyPem, '--key'),
    requireTlog: opts.requireTlog ?? false,
    requireSct: opts.requireSct ?? true,
    tlogThreshold: opts.tlogThreshold ?? 1,
    predicateType:
      opts.predicateType === undefined ? undefined : predicateTypeURI(opts.predicateType),
    now: opts.now ?? Date.now(),
    warnings,
  };
}

/**
 * The certificate identity policy: identity patterns (each judged for breadth; a warning for
 * each that is not narrow), exact issuers, extension patterns (each named once). Patterns and
 * issuers go together.
 */
function identityPolicy(
  opts: PolicyOptions,
  patterns: readonly string[],
  issuers: readonly string[],
  extensions: NonNullable<PolicyOptions['certificateExtensions']>,
  warnings: string[],
): CertificateIdentityPolicy {
  const patternName = opts.patternName ?? (() => '--certificate-identity');
  const compiled = patterns.map((p, i) =>
    compileIdentityPolicyPattern(p, patternName(i), opts.allowBroadIdentity ?? false),
  );
  for (const c of compiled) {
    if (c.breadth.kind === 'broad')
      warnings.push(`${describeBreadth(c.pattern, c.breadth)} (accepted: --allow-broad-identity)`);
    else if (c.breadth.kind !== 'narrow') warnings.push(describeBreadth(c.pattern, c.breadth));
  }
  const exts = extensions.map(([name, pattern], i): ExtensionConstraint => {
    const what = extensionWhat(opts, name, i);
    const ext = constrainableExtension(name, what);
    return {
      name: ext.name,
      oid: ext.oid,
      pattern,
      matcher: compileIdentityPattern(pattern, what),
    };
  });
  return {
    issuers: [...new Set(issuers)],
    patterns: compiled,
    extensions: exts,
    source: opts.identitySource ?? 'command line',
    pattern: compiled[0]!.pattern,
    regex: compiled[0]!.matcher,
    issuer: issuers[0]!,
  };
}
