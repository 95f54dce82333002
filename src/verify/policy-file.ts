/**
 * Policy files: the seed's "Multi-Environment Trust" as YAML, one verification policy per
 * environment. Pure (text in, validated policy out); reading the file is the caller's
 * (src/commands/policy-source.ts).
 *
 *   version: 1                       # optional
 *   environments:
 *     staging:
 *       issuer: https://token.actions.githubusercontent.com     # or issuers: [A, B]
 *       identity: "repo:myorg/myrepo:ref:refs/heads/.*"         # or identities: [..]
 *     production:
 *       issuers: [https://token.actions.githubusercontent.com]
 *       identities:
 *         - "repo:myorg/myrepo:ref:refs/(heads/main|tags/v.*)"
 *       extensions:
 *         deployment-environment: production
 *       requireRekor: true
 *       requireConsistency: true      # like --require-consistency
 *       predicateType: https://slsa.dev/provenance/v1   # like --predicate-type
 *       allowBroadIdentity: false
 *
 * The environments may also sit at the top level, as the seed writes them. Validated strictly,
 * like signer.yaml: an unknown key, a wrong type, a pattern that does not compile (RE2), that is
 * not NFC, that is broad (unless allowBroadIdentity) or that no certificate can satisfy, an
 * environment without an issuer or identity: POLICY_INVALID naming the key and its line.
 */
import type { Node } from 'yaml';
import { parseYamlStrict, yaml } from '../util/yaml.js';
import { fail, StellaError } from '../errors.js';
import {
  compileIdentityPolicyPattern,
  CONSTRAINABLE_EXTENSIONS,
  isPlainIssuerText,
  issuerLooksLikePattern,
  type PolicyOptions,
} from './policy.js';
import { compileIdentityPattern } from './identity-pattern.js';
import { describeBreadth, type IdentityBreadth } from './identity-breadth.js';
import { fulcioExtensionByName } from '../x509/fulcio-extensions.js';
import { quoted } from '../util/text.js';
import { PREDICATE_TYPE_RULE, predicateTypeMistake, predicateTypeURI } from '../bundle/intoto.js';

export interface PolicyEnvironment {
  name: string;
  issuers: string[];
  identities: {
    pattern: string;
    breadth: IdentityBreadth;
    key: string;
    line: number | undefined;
  }[];
  extensions: [string, string][];
  /** Fail a bundle with no transparency log entry (like --require-rekor). */
  requireRekor: boolean;
  /**
   * Refuse a bundle whose checkpoint is not proven consistent with the checkpoints the trust
   * store holds (like --require-consistency).
   */
  requireConsistency: boolean;
  /** The predicate type an attestation must have (like --predicate-type); undefined: any. */
  predicateType: string | undefined;
  allowBroadIdentity: boolean;
  line: number | undefined;
  /** Organization-wide and any-ref patterns, accepted broad patterns. */
  warnings: string[];
}

export interface PolicyFile {
  source: string;
  environments: Map<string, PolicyEnvironment>;
}

/** Environment names: what a shell and a YAML key both take without quoting. */
const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ENV_KEYS = [
  'issuer',
  'issuers',
  'identity',
  'identities',
  'extensions',
  'requireRekor',
  'requireConsistency',
  'predicateType',
  'allowBroadIdentity',
  'description',
] as const;

type Entry = [key: string, keyNode: Node | null, value: Node | null];

/** Parse and validate a policy file's text. `source` names it in errors (its path). */
export function parsePolicyFile(text: string, source: string): PolicyFile {
  const { doc, lineOf } = parseYamlStrict(text, source, 'POLICY_INVALID');
  const r = new PolicyYaml(lineOf, source);
  const { envNodes, prefix } = environmentEntries(r, doc.contents);
  const environments = new Map<string, PolicyEnvironment>();
  for (const [name, nameNode, body] of envNodes)
    environments.set(name, readEnvironment(r, `${prefix}${name}`, name, nameNode, body));
  return { source, environments };
}

/**
 * The typed readers of one policy file's YAML: each refusal is POLICY_INVALID naming the key
 * and its line.
 */
class PolicyYaml {
  private readonly y = yaml();

  constructor(
    readonly lineOf: (node: Node | null | undefined) => number | undefined,
    private readonly source: string,
  ) {}

  bad(
    key: string,
    node: Node | null | undefined,
    what: string,
    options?: { cause?: unknown },
  ): never {
    const line = this.lineOf(node);
    throw new StellaError(
      'POLICY_INVALID',
      'config',
      `${this.source}: ${key}${line === undefined ? '' : ` (line ${line})`}: ${what}`,
      { key, ...(line === undefined ? {} : { line }) },
      options,
    );
  }

  isVersionOne(node: Node | null): boolean {
    return this.y.isScalar(node) && node.value === 1;
  }

  entries(node: unknown, key: string): Entry[] {
    if (!this.y.isMap(node))
      return this.bad(key || '(top level)', node as Node, 'must be a mapping');
    return node.items.map((pair) => {
      const k = pair.key as Node | null;
      if (!this.y.isScalar(k) || typeof k.value !== 'string')
        return this.bad(key || '(top level)', k, 'keys must be plain strings');
      return [k.value, k, (pair.value as Node | null) ?? null];
    });
  }

  str(node: Node | null, key: string): string {
    const v = this.y.isScalar(node) ? node.value : undefined;
    if (typeof v !== 'string' || v.length === 0)
      return this.bad(key, node, 'must be a non-empty string');
    return v;
  }

  bool(node: Node | null, key: string): boolean {
    const v = this.y.isScalar(node) ? node.value : undefined;
    if (typeof v !== 'boolean') return this.bad(key, node, 'must be true or false');
    return v;
  }

  /** A string, or a non-empty list of strings. */
  strings(
    node: Node | null,
    key: string,
    single: boolean,
  ): { value: string; node: Node | null; key: string }[] {
    if (single) return [{ value: this.str(node, key), node, key }];
    if (!this.y.isSeq(node) || node.items.length === 0)
      return this.bad(key, node, 'must be a non-empty list');
    return node.items.map((item, i) => ({
      value: this.str(item as Node, `${key}[${i}]`),
      node: item as Node,
      key: `${key}[${i}]`,
    }));
  }

  issuerUrl(node: Node | null, key: string, v: string): string {
    if (!isPlainIssuerText(v))
      return this.bad(key, node, 'must be NFC with no whitespace or control characters');
    if (issuerLooksLikePattern(v))
      return this.bad(
        key,
        node,
        `${quoted(v)} looks like a pattern: issuers are compared exactly, never as a wildcard; list each issuer`,
      );
    let u: URL;
    try {
      u = new URL(v);
    } catch (e) {
      return this.bad(key, node, `not a URL: ${quoted(v)}`, { cause: e });
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      return this.bad(key, node, `must be an http(s) URL, got ${u.protocol}`);
    return v;
  }

  /** Re-throw a pattern's refusal as POLICY_INVALID at its key and line. */
  pattern<T>(key: string, node: Node | null, compile: () => T): T {
    try {
      return compile();
    } catch (e) {
      if (e instanceof StellaError) return this.bad(key, node, e.message, { cause: e });
      throw e;
    }
  }
}

/** The environments, under `environments:` or at the top level as the seed writes them. */
function environmentEntries(
  r: PolicyYaml,
  contents: unknown,
): { envNodes: Entry[]; prefix: string } {
  let envNodes: Entry[] = [];
  let sawEnvironments = false;
  const bare: Entry[] = [];
  for (const [k, kn, v] of r.entries(contents, '')) {
    if (k === 'version') {
      if (!r.isVersionOne(v)) r.bad('version', v ?? kn, 'must be 1');
    } else if (k === 'environments') {
      sawEnvironments = true;
      envNodes = r.entries(v, 'environments');
    } else bare.push([k, kn, v]);
  }
  if (sawEnvironments && bare.length > 0)
    r.bad(
      bare[0]![0],
      bare[0]![1],
      'unknown key (allowed at the top level: version, environments; or environments by name alone, as the seed writes them, without an environments: key)',
    );
  if (!sawEnvironments) envNodes = bare;
  if (envNodes.length === 0)
    r.bad(
      sawEnvironments ? 'environments' : '(top level)',
      contents as Node,
      'no environments: a policy file lists at least one environment',
    );
  return { envNodes, prefix: sawEnvironments ? 'environments.' : '' };
}

type EnvironmentFields = Map<string, [Node | null, Node | null]>;
type ListedString = ReturnType<PolicyYaml['strings']>[number];

function readEnvironment(
  r: PolicyYaml,
  at: string,
  name: string,
  nameNode: Node | null,
  body: Node | null,
): PolicyEnvironment {
  if (!ENV_NAME.test(name))
    r.bad(at, nameNode, 'environment names are letters, digits, ".", "_" and "-" (at most 64)');
  const fields = environmentFields(r, at, body);
  const flag = (key: string): boolean =>
    fields.has(key) ? r.bool(fields.get(key)![1], `${at}.${key}`) : false;
  const allowBroadIdentity = flag('allowBroadIdentity');
  const requireRekor = flag('requireRekor');
  const requireConsistency = flag('requireConsistency');
  if (fields.has('description')) r.str(fields.get('description')![1], `${at}.description`);
  const predicateType = fields.has('predicateType')
    ? readPredicateType(r, `${at}.predicateType`, fields.get('predicateType')![1])
    : undefined;

  const idKey = fields.has('identity') ? 'identity' : 'identities';
  if (!fields.has(idKey))
    r.bad(
      at,
      nameNode,
      'no identity: give identity: REGEX (or identities: [..]) — an environment never verifies without one',
    );
  const idList = r.strings(fields.get(idKey)![1], `${at}.${idKey}`, idKey === 'identity');
  const issuers = readIssuers(r, at, nameNode, fields, idList);
  const warnings: string[] = [];
  const identities = idList.map((i) => readIdentity(r, i, allowBroadIdentity, warnings));
  const extensions = fields.has('extensions')
    ? readExtensions(r, `${at}.extensions`, fields.get('extensions')![1])
    : [];
  return {
    name,
    issuers,
    identities,
    extensions,
    requireRekor,
    requireConsistency,
    predicateType,
    allowBroadIdentity,
    line: r.lineOf(nameNode),
    warnings,
  };
}

/** `predicateType:`, a URI written as it is compared (predicateTypeMistake), or cosign's name for one. */
function readPredicateType(r: PolicyYaml, at: string, node: Node | null): string {
  const value = predicateTypeURI(r.str(node, at));
  const mistake = predicateTypeMistake(value);
  if (mistake !== undefined) r.bad(at, node, `${quoted(value)} ${mistake}: ${PREDICATE_TYPE_RULE}`);
  return value;
}

/** An environment's keys, each known, with singular and plural forms never both given. */
function environmentFields(r: PolicyYaml, at: string, body: Node | null): EnvironmentFields {
  const fields: EnvironmentFields = new Map();
  for (const [k, kn, v] of r.entries(body, at)) {
    if (!(ENV_KEYS as readonly string[]).includes(k))
      r.bad(`${at}.${k}`, kn, `unknown key (allowed: ${ENV_KEYS.join(', ')})`);
    fields.set(k, [kn, v]);
  }
  const one = (a: string, b: string): void => {
    if (fields.has(a) && fields.has(b))
      r.bad(`${at}.${b}`, fields.get(b)![0], `give ${a} or ${b}, not both`);
  };
  one('issuer', 'issuers');
  one('identity', 'identities');
  return fields;
}

/**
 * `issuer:` or `issuers:`, required (issuers are pinned exactly), each a URL; a missing one
 * is refused with a guess from the identities' form.
 */
function readIssuers(
  r: PolicyYaml,
  at: string,
  nameNode: Node | null,
  fields: EnvironmentFields,
  idList: readonly ListedString[],
): string[] {
  const issKey = fields.has('issuer') ? 'issuer' : 'issuers';
  if (!fields.has(issKey)) {
    const guess = idList.some((i) => i.value.startsWith('repo:'))
      ? ' (GitHub Actions: issuer: https://token.actions.githubusercontent.com)'
      : idList.some((i) => i.value.startsWith('project_path:'))
        ? ' (GitLab.com: issuer: https://gitlab.com)'
        : '';
    r.bad(
      at,
      nameNode,
      `no issuer: issuers are pinned exactly, so each environment names its OIDC issuer${guess}`,
    );
  }
  return r
    .strings(fields.get(issKey)![1], `${at}.${issKey}`, issKey === 'issuer')
    .map((i) => r.issuerUrl(i.node, i.key, i.value));
}

/** One identity pattern, compiled and judged for breadth (a warning unless narrow). */
function readIdentity(
  r: PolicyYaml,
  i: ListedString,
  allowBroadIdentity: boolean,
  warnings: string[],
): PolicyEnvironment['identities'][number] {
  const c = r.pattern(i.key, i.node, () =>
    compileIdentityPolicyPattern(i.value, 'pattern', allowBroadIdentity),
  );
  if (c.unsatisfiable) r.bad(i.key, i.node, c.unsatisfiable);
  if (c.breadth.kind === 'broad')
    warnings.push(
      `${i.key}: ${describeBreadth(i.value, c.breadth)} (accepted: allowBroadIdentity)`,
    );
  else if (c.breadth.kind !== 'narrow')
    warnings.push(`${i.key}: ${describeBreadth(i.value, c.breadth)}`);
  return { pattern: i.value, breadth: c.breadth, key: i.key, line: r.lineOf(i.node) };
}

/** `extensions:` — Fulcio extension name to an RE2 pattern, constrainable names only. */
function readExtensions(r: PolicyYaml, ek: string, node: Node | null): [string, string][] {
  const list = r.entries(node, ek);
  if (list.length === 0) r.bad(ek, node, 'must list at least one extension');
  const extensions: [string, string][] = [];
  for (const [k, kn, v] of list) {
    const ext = fulcioExtensionByName(k);
    if (!ext || !CONSTRAINABLE_EXTENSIONS.includes(ext.name))
      return r.bad(
        `${ek}.${k}`,
        kn,
        `unknown or unconstrainable Fulcio extension name (names: ${CONSTRAINABLE_EXTENSIONS.join(', ')})`,
      );
    const value = r.str(v, `${ek}.${k}`);
    r.pattern(`${ek}.${k}`, v, () => compileIdentityPattern(value, 'pattern'));
    extensions.push([ext.name, value]);
  }
  return extensions;
}

/** One environment of a parsed policy file, or POLICY_ENVIRONMENT_NOT_FOUND listing those it has. */
export function policyEnvironment(file: PolicyFile, name: string): PolicyEnvironment {
  const env = file.environments.get(name);
  if (!env) {
    fail(
      'POLICY_ENVIRONMENT_NOT_FOUND',
      'config',
      `${file.source}: no environment ${quoted(name)} (it has: ${[...file.environments.keys()].join(', ')})`,
      {
        environment: name,
        environments: [...file.environments.keys()],
      },
    );
  }
  return env;
}

/** The identity part of buildPolicy's options for one environment. */
export function policyOptionsForEnvironment(file: PolicyFile, name: string): PolicyOptions {
  const env = policyEnvironment(file, name);
  return {
    certificateIdentities: env.identities.map((i) => i.pattern),
    certificateOidcIssuers: env.issuers,
    certificateExtensions: env.extensions,
    allowBroadIdentity: env.allowBroadIdentity,
    identitySource: `policy ${file.source}, environment ${name}`,
    patternName: (i) => `${file.source}: ${env.identities[i]?.key ?? `environment ${name}`}`,
    extensionName: (n) => `${file.source}: environment ${name} extensions.${n}`,
    requireTlog: env.requireRekor,
    requireConsistency: env.requireConsistency,
    ...(env.predicateType !== undefined ? { predicateType: env.predicateType } : {}),
  };
}
