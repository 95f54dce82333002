/**
 * The one command-line reader every command goes through, oclif or not: the oclif commands
 * (StellaCommand.parse runs it before oclif's parser) and the fast `attest verify` launcher
 * (which takes its values from it). So the rules and their wording are the same everywhere:
 *
 *   - an unknown flag, a flag without its value, a value given to a switch, an argument too
 *     many: a usage error (exit 2) naming it;
 *   - a flag given twice is an error, not "the last one wins" — unless it is declared
 *     repeatable (`--artifact` of export-bundle, `--sign-with`, ...);
 *   - `-` alone is a value (standard input), `--` ends the flags.
 *
 * No oclif import here: the fast launcher must not load it.
 */
import { StellaError } from '../errors.js';
import { quoted } from '../util/text.js';

export interface ArgvFlag {
  name: string;
  char?: string | undefined;
  /** true: takes a value (`--x V`, `--x=V`); false: a switch. */
  takesValue: boolean;
  /** May be given more than once (values collected in order). */
  multiple?: boolean | undefined;
  required?: boolean | undefined;
  /** A switch that also has a `--no-<name>` form. */
  allowNo?: boolean | undefined;
  /** Flags that cannot be given with this one (oclif `exclusive`). */
  exclusive?: readonly string[] | undefined;
  /** Flags that must be given with this one (oclif `dependsOn`). */
  dependsOn?: readonly string[] | undefined;
  /** The values this flag takes, when it takes only some (oclif `options`). */
  options?: readonly string[] | undefined;
}

export interface ArgvShape {
  flags: readonly ArgvFlag[];
  /** Names of the positional arguments, in order (at most this many are accepted). */
  args?: readonly string[];
  /** Accept any number of positional arguments (oclif `strict = false`). */
  variadic?: boolean;
  /** The leading positional arguments that must be given, in order, with what each is. */
  requiredArgs?: readonly { name: string; description?: string | undefined }[];
}

export interface ParsedArgv {
  flags: Record<string, string | boolean | string[]>;
  positionals: string[];
}

/**
 * Whether a command line asks for --json, before it is read (an error in reading it is then
 * still answered in JSON). After `--` every word is an argument, never the flag.
 */
export function asksForJson(argv: readonly string[]): boolean {
  return flagWords(argv).includes('--json');
}

/** The words of a command line before `--`, the only ones that can be flags. */
export function flagWords(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

/** A usage error: one line naming what is wrong, exit 2 (printed with a pointer to --help). */
export function usageError(message: string, details?: Record<string, unknown>): StellaError {
  return new StellaError('USAGE_ERROR', 'input', message, details);
}

/**
 * What a command reports for an error from the library behind it: INPUT_INVALID (the library
 * refusing a value or pair it was handed, which came from the command's flags) as a usage
 * error with the same message; anything else as it is.
 */
export function inputAsUsage(e: unknown): unknown {
  return e instanceof StellaError && e.code === 'INPUT_INVALID' ? usageError(e.message) : e;
}

/**
 * A value a command takes as its argument or as a flag (`attest verify FILE` is `--artifact
 * FILE`, as cosign takes the file of `verify-blob`): why both at once cannot be, or undefined.
 */
export function givenTwiceMistake(
  what: string,
  argument: string | undefined,
  flag: string,
  values: string | readonly string[] | undefined,
): string | undefined {
  if (argument === undefined || values === undefined) return undefined;
  const list = typeof values === 'string' ? [values] : values;
  return `the ${what} was given twice (${quoted(argument)} and ${list.map((v) => `--${flag} ${quoted(v)}`).join(', ')}): give it once`;
}

/**
 * How errors name a value the command takes as its argument or as `--flag`: as the user gave it
 * (`artifact "x"` for `attest verify x`, `--artifact "x"` for `--artifact x`), so a message
 * never names a flag that was not typed.
 */
export function inputName(flag: string, asArgument: boolean): string {
  return asArgument ? flag : `--${flag}`;
}

/** The closest known name (a flag, a command), for "did you mean"; none when nothing is near. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  let best: { n: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d <= Math.max(2, Math.floor(k.length / 4)) && (!best || d < best.d)) best = { n: k, d };
  }
  return best?.n;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** A flag token read: which flag, how it was spelled, its `=value` if any; `negated` for `--no-<name>`. */
interface FlagToken {
  flag: ArgvFlag;
  spelled: string;
  inline: string | undefined;
  negated: boolean;
}

/**
 * cosign's flags that Stella has on purpose no form of, or spells another way, with what to
 * give instead: said in place of "unknown flag" by a command that has every flag `instead`
 * names (a cosign line pasted into `attest sign` or `attest verify` should say how to write it
 * here, not only that a flag is unknown). A flag may have one entry for signing and one for
 * verifying; the first whose flags the command has is said. Read only on the error path.
 */
const SIGNING = ['keyless', 'output'] as const;
const VERIFYING = ['bundle', 'certificate-oidc-issuer'] as const;
const ONE_BUNDLE =
  'Stella writes one Sigstore bundle, which holds the signature, the certificate and the log entry: give --output FILE';
const CA_FROM_TRUST =
  'CA certificates come from a trusted_root.json (--trusted-root) or the trust store (stella trust import FILE, a PEM bundle of a private Fulcio root), never from a flag per run';
const FOREIGN_FLAGS: readonly { flag: string; instead: readonly string[]; advice: string }[] = [
  {
    flag: 'certificate-oidc-issuer-regexp',
    instead: ['certificate-oidc-issuer'],
    advice:
      'issuers are compared exactly, never as a pattern: give --certificate-oidc-issuer URL, or several issuers in a policy file (--policy)',
  },
  {
    flag: 'signature',
    instead: VERIFYING,
    advice:
      'Stella verifies Sigstore bundles, not a detached signature and certificate: give --bundle FILE (cosign sign-blob --bundle FILE writes one)',
  },
  {
    flag: 'certificate',
    instead: VERIFYING,
    advice:
      'Stella verifies Sigstore bundles, which carry the certificate: give --bundle FILE (cosign sign-blob --bundle FILE writes one)',
  },
  {
    flag: 'bundle',
    instead: SIGNING,
    advice:
      "cosign sign-blob's --bundle FILE is --output FILE (-o) here: the bundle is what Stella writes",
  },
  { flag: 'output-signature', instead: SIGNING, advice: ONE_BUNDLE },
  { flag: 'output-certificate', instead: SIGNING, advice: ONE_BUNDLE },
  { flag: 'output-attestation', instead: SIGNING, advice: ONE_BUNDLE },
  { flag: 'yes', instead: SIGNING, advice: 'Stella never asks for confirmation: leave --yes out' },
  {
    flag: 'tlog-upload',
    instead: SIGNING,
    advice:
      'every signature Stella makes is logged in Rekor, since a bundle verifies offline only with its log entry: leave --tlog-upload out',
  },
  {
    flag: 'new-bundle-format',
    instead: SIGNING,
    advice: 'Stella always writes a Sigstore bundle (v0.3): leave --new-bundle-format out',
  },
  {
    flag: 'new-bundle-format',
    instead: VERIFYING,
    advice: 'Stella reads Sigstore bundles v0.1 to v0.3 as they are: leave --new-bundle-format out',
  },
  {
    flag: 'type',
    instead: ['predicate-type', ...VERIFYING],
    advice:
      "cosign verify-blob-attestation's --type is --predicate-type here (a URI, or cosign's name for one such as slsaprovenance1)",
  },
  {
    flag: 'rekor-url',
    instead: ['offline', ...VERIFYING],
    advice:
      "verification is offline: the log entry, its inclusion proof and checkpoint come from the bundle, and the log's key from --trusted-root or the trust store",
  },
  {
    flag: 'insecure-ignore-tlog',
    instead: VERIFYING,
    advice:
      "a log entry is required only with --require-rekor (or a policy environment's requireRekor), and one a bundle carries is always checked: leave --insecure-ignore-tlog out",
  },
  {
    flag: 'insecure-ignore-sct',
    instead: VERIFYING,
    advice:
      "a Fulcio certificate's embedded SCT is always required and checked (the seed's requireSCT); there is no switch to skip it",
  },
  { flag: 'ca-roots', instead: VERIFYING, advice: CA_FROM_TRUST },
  { flag: 'ca-intermediates', instead: VERIFYING, advice: CA_FROM_TRUST },
  { flag: 'certificate-chain', instead: VERIFYING, advice: CA_FROM_TRUST },
  {
    flag: 'use-signed-timestamps',
    instead: VERIFYING,
    advice:
      "a bundle's RFC 3161 timestamps are always verified, against the TSAs of --trusted-root or the trust store: leave --use-signed-timestamps out",
  },
  {
    flag: 'max-workers',
    instead: ['jobs', ...VERIFYING],
    advice: "cosign's --max-workers is --jobs N here",
  },
  {
    flag: 'output',
    instead: ['json', ...VERIFYING],
    advice: "cosign verify's --output json is --json here (one JSON object on stdout)",
  },
  {
    flag: 'sct',
    instead: VERIFYING,
    advice:
      "Stella checks the SCT embedded in the bundle's certificate, as Fulcio issues it; a detached SCT is not read: leave --sct out",
  },
  {
    flag: 'rfc3161-timestamp',
    instead: VERIFYING,
    advice:
      'a bundle carries its RFC 3161 timestamps, and Stella verifies each against the TSAs of --trusted-root or the trust store: give the bundle (--bundle FILE), not a timestamp file',
  },
  {
    flag: 'timestamp-certificate-chain',
    instead: VERIFYING,
    advice:
      'TSA certificates come from a trusted_root.json (--trusted-root) or the trust store (stella trust import FILE --kind tsa --uri TSA_URL), never from a flag per run',
  },
  {
    flag: 'private-infrastructure',
    instead: VERIFYING,
    advice:
      "a private deployment's trust is its trusted_root.json (--trusted-root) or the trust store; a log entry is checked when the bundle has one and required only with --require-rekor: leave --private-infrastructure out",
  },
  {
    flag: 'sk',
    instead: ['key', ...VERIFYING],
    advice:
      "Stella verifies offline and opens no hardware key: export the security key's public key at the boundary (`cosign public-key --sk`) and give it as --key PUB.pem",
  },
  {
    flag: 'local-image',
    instead: ['archive', 'image', ...VERIFYING],
    advice:
      "a local OCI layout is not read: give the image's bundles from a registry (--image REGISTRY/REPO@sha256:...) or, on a disconnected host, from an export archive (--archive X.tar, written by `stella attest export-bundle --image ...` at the boundary)",
  },
  {
    flag: 'check-claims',
    instead: ['predicate-type', ...VERIFYING],
    advice:
      "an attestation's subject is always checked against the artifact's digest: leave --check-claims out",
  },
  {
    flag: 'oidc-issuer',
    instead: SIGNING,
    advice:
      'the token comes from --identity-token, STELLAOPS_OIDC_TOKEN, SIGSTORE_ID_TOKEN or the CI platform (Stella opens no browser); to refuse tokens of other issuers, set oidc.issuer in signer.yaml (--config)',
  },
  {
    flag: 'oidc-client-id',
    instead: SIGNING,
    advice:
      'the audience requested from a CI token endpoint is oidc.clientId in signer.yaml (--config)',
  },
  {
    flag: 'oidc-provider',
    instead: SIGNING,
    advice:
      "the CI platform is found from its environment (GitHub, Gitea, GitLab, Buildkite, cosign's token file): give --identity-token to choose the token yourself",
  },
  {
    flag: 'signing-algorithm',
    instead: SIGNING,
    advice:
      'the algorithm is keyless.algorithms.preferred in signer.yaml (--config): ECDSA_P256 (the default) or Ed25519, among keyless.algorithms.allowed',
  },
  {
    flag: 'use-signing-config',
    instead: SIGNING,
    advice:
      "Stella fetches no signing config through TUF: give the signing_config.json with --signing-config FILE (or signer.yaml's keyless.signingConfig)",
  },
  {
    flag: 'timestamp-server-url',
    instead: SIGNING,
    advice:
      "the TSA is tsa.url in signer.yaml (--config), or a signing config's tsaUrls (--signing-config); the timestamp goes into the bundle",
  },
  {
    flag: 'key',
    instead: SIGNING,
    advice:
      'attest sign is keyless: an ephemeral key held in memory and a Fulcio certificate (stella attest verify --key verifies bundles signed with a managed key)',
  },
];

/**
 * What to add when a value is outside a flag's options: the option it is a slip of, or, for a
 * value that is what cosign means by the same flag, where it goes here (`attest sign --type
 * slsaprovenance1` is cosign attest's predicate type, not what the artifact is).
 */
function optionAdvice(
  name: string,
  options: readonly string[],
  value: string,
  byName: ReadonlyMap<string, ArgvFlag>,
): string {
  const near = closest(value, options);
  if (near !== undefined) return ` (did you mean ${near}?)`;
  return name === 'type' && byName.has('predicate-type') && byName.has('keyless')
    ? "; cosign attest's --type (the predicate type) is --predicate-type here"
    : '';
}

/** cosign's one-letter flags with advice of their own: the long name they stand for. */
const COSIGN_SHORT_FLAGS: Readonly<Record<string, string>> = { y: 'yes' };

/** The advice for cosign's flag `name`, when this command has every flag the advice names. */
function foreignFlag(
  name: string,
  byName: ReadonlyMap<string, ArgvFlag>,
): (typeof FOREIGN_FLAGS)[number] | undefined {
  return FOREIGN_FLAGS.find((e) => e.flag === name && e.instead.every((f) => byName.has(f)));
}

/** Which declared flag `tok` (starting with `-`, not `-` or `--` alone) names; an unknown one is a usage error. */
function readFlagToken(
  tok: string,
  byName: Map<string, ArgvFlag>,
  byChar: Map<string, ArgvFlag>,
): FlagToken {
  if (!tok.startsWith('--')) {
    const c = tok[1]!;
    const flag = byChar.get(c);
    const spelled = `-${c}`;
    if (!flag) {
      // cosign's own short forms (`cosign sign-blob -y`) get the advice their long form gets.
      const long = Object.hasOwn(COSIGN_SHORT_FLAGS, c) ? COSIGN_SHORT_FLAGS[c] : undefined;
      const foreign = long === undefined ? undefined : foreignFlag(long, byName);
      const advice = foreign?.advice.replaceAll(`--${long}`, spelled);
      throw usageError(`unknown flag ${spelled}${advice ? `: ${advice}` : ''}`, {
        flag: c,
      });
    }
    return {
      flag,
      spelled,
      inline: tok.length > 2 ? tok.slice(2).replace(/^=/, '') : undefined,
      negated: false,
    };
  }
  const eq = tok.indexOf('=');
  const name = eq === -1 ? tok.slice(2) : tok.slice(2, eq);
  const inline = eq === -1 ? undefined : tok.slice(eq + 1);
  const spelled = `--${name}`;
  const flag = byName.get(name);
  if (flag) return { flag, spelled, inline, negated: false };
  if (name.startsWith('no-')) {
    const negated = byName.get(name.slice(3));
    if (negated && !negated.takesValue && negated.allowNo)
      return { flag: negated, spelled, inline, negated: true };
  }
  const foreign = foreignFlag(name, byName);
  if (foreign) throw usageError(`unknown flag ${spelled}: ${foreign.advice}`, { flag: name });
  const hint = closest(name, [...byName.keys()]);
  throw usageError(`unknown flag ${spelled}${hint ? ` (did you mean --${hint}?)` : ''}`, {
    flag: name,
  });
}

/**
 * Why a flag that is only ever one thing is still required, for a user who left it out: a
 * cosign user types `sign-blob FILE`, keyless when no --key is given.
 */
const REQUIRED_BECAUSE: Readonly<Record<string, string>> = {
  keyless:
    'Stella signs keylessly only (an ephemeral key held in memory, a short-lived Fulcio certificate), and asks you to say so: add --keyless',
};

/** More positional arguments than the shape takes is a usage error; so is a required flag or argument not given. */
function checkComplete(shape: ArgvShape, positionals: string[], seen: Map<string, string>): void {
  const max = shape.args?.length ?? 0;
  if (!shape.variadic && positionals.length > max) {
    const extra = positionals[max]!;
    throw usageError(
      max === 0
        ? `unexpected argument ${quoted(extra)}: this command takes flags only`
        : `unexpected argument ${quoted(extra)}: this command takes at most ${max} (${shape.args!.map((a) => a.toUpperCase()).join(' ')})`,
      { argument: extra },
    );
  }
  for (const f of shape.flags) {
    if (f.required && !seen.has(f.name))
      throw usageError(
        `missing required flag --${f.name}${REQUIRED_BECAUSE[f.name] === undefined ? '' : `: ${REQUIRED_BECAUSE[f.name]}`}`,
        { flag: f.name },
      );
  }
  // Pairs, in the order the flags were given: the first one given names the conflict.
  const byName = new Map(shape.flags.map((f) => [f.name, f]));
  const excludes = (a: string, b: string): boolean =>
    Boolean(byName.get(a)!.exclusive?.includes(b) || byName.get(b)!.exclusive?.includes(a));
  const given = [...seen.keys()];
  for (const name of given) {
    const f = byName.get(name)!;
    // Either flag may declare it (oclif's `exclusive` is often written on one side only).
    const other = given.find((x) => x !== name && excludes(name, x));
    if (other !== undefined)
      throw usageError(`--${name} and --${other} cannot be combined`, { flags: [name, other] });
    const needed = f.dependsOn?.filter((x) => !seen.has(x)) ?? [];
    if (needed.length > 0)
      throw usageError(`--${name} needs ${needed.map((x) => `--${x}`).join(' and ')}`, {
        flag: name,
      });
  }
  const missing = shape.requiredArgs?.[positionals.length];
  if (missing !== undefined)
    throw usageError(
      `missing required argument ${missing.name.toUpperCase()}${missing.description ? `: ${missing.description}` : ''}`,
      { argument: missing.name },
    );
}

/**
 * Read `argv` against `shape`. Throws a usage error (StellaError USAGE_ERROR) for anything
 * the shape does not allow; returns the values otherwise (switches not given are absent).
 */
export function parseArgv(argv: readonly string[], shape: ArgvShape): ParsedArgv {
  const byName = new Map(shape.flags.map((f) => [f.name, f]));
  const byChar = new Map(shape.flags.filter((f) => f.char).map((f) => [f.char!, f]));
  const flags: ParsedArgv['flags'] = {};
  const positionals: string[] = [];
  /** How each flag given was spelled, for "given twice" messages. */
  const seen = new Map<string, string>();

  const isFlagToken = (t: string): boolean => {
    if (t.startsWith('--')) return byName.has(t.slice(2).split('=')[0]!) || t === '--';
    return t.length === 2 && t[0] === '-' && byChar.has(t[1]!);
  };
  const set = (f: ArgvFlag, spelled: string, value: string | boolean): void => {
    const before = seen.get(f.name);
    if (before !== undefined && !f.multiple) {
      throw usageError(
        `--${f.name} was given twice${before !== spelled ? ` (as ${before} and ${spelled})` : ''}: it takes one value, give it once`,
        { flag: f.name },
      );
    }
    if (typeof value === 'string' && f.options && !f.options.includes(value))
      throw usageError(
        `${spelled} must be one of ${f.options.join(', ')} (got ${quoted(value)})${optionAdvice(f.name, f.options, value, byName)}`,
        { flag: f.name },
      );
    seen.set(f.name, spelled);
    if (f.multiple && typeof value === 'string') {
      const list = (flags[f.name] as string[] | undefined) ?? [];
      list.push(value);
      flags[f.name] = list;
    } else flags[f.name] = value;
  };

  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (tok === '-' || !tok.startsWith('-')) {
      positionals.push(tok);
      continue;
    }
    const { flag: f, spelled, inline, negated } = readFlagToken(tok, byName, byChar);
    if (!f.takesValue) {
      if (inline !== undefined)
        throw usageError(`${spelled} is a switch and takes no value (got ${quoted(tok)})`, {
          flag: f.name,
        });
      set(f, spelled, !negated);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next !== '-' && isFlagToken(next)))
        throw usageError(`${spelled} needs a value`, { flag: f.name });
      value = next;
      i++;
    }
    set(f, spelled, value);
  }
  checkComplete(shape, positionals, seen);
  return { flags, positionals };
}
