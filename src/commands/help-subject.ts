/**
 * What `stella help WORDS...` is about, and its --json form. The words name the whole program
 * (none), a topic (`trust`, `trust keys`) or a command (`attest verify`); anything else is a
 * usage error naming the closest command or topic, as an unknown command is. Hidden commands
 * and flags are left out, as oclif's help leaves them out.
 */
import type { Command, Interfaces } from '@oclif/core';

type Topic = Interfaces.Topic;
type Config = Interfaces.Config;
import { closest, usageError } from './argv.js';

export type HelpSubject =
  | { kind: 'root' }
  | { kind: 'topic'; id: string; description: string | undefined }
  | { kind: 'command'; id: string; command: Command.Loadable };

/** `trust:keys:add` as a user types it: `trust keys add`. */
export const spoken = (id: string): string => id.split(':').join(' ');

/** The subject `words` name; an unknown one is a usage error with "did you mean". */
export function helpSubject(config: Config, words: readonly string[]): HelpSubject {
  if (words.length === 0) return { kind: 'root' };
  const id = words.join(':');
  const command = config.findCommand(id);
  if (command && !command.hidden) return { kind: 'command', id, command };
  const topic = config.findTopic(id);
  if (topic && !topic.hidden) return { kind: 'topic', id, description: topic.description };
  throw usageError(unknownCommandMessage(config, id), { command: spoken(id) });
}

/**
 * cosign's commands, as a cosign user types them (`stella verify-blob ...`), and the Stella
 * command that does the same: said instead of a spelling hint, which would point elsewhere.
 * (cosign's `attest IMAGE` is not here: `attest` is Stella's topic, and its words are read as
 * Stella's; `attest sign --keyless --image ... --predicate ...` is the command.)
 */
export const COSIGN_COMMANDS: Readonly<Record<string, { command: string; note?: string }>> = {
  'sign-blob': {
    command: 'stella attest sign ARTIFACT --keyless',
    note: 'the bundle goes to ARTIFACT.sigstore.json',
  },
  'attest-blob': {
    command: 'stella attest sign ARTIFACT --keyless --predicate FILE --predicate-type TYPE',
  },
  sign: { command: 'stella attest sign --keyless --image IMAGE@sha256:DIGEST' },
  'verify-blob': {
    command:
      'stella attest verify ARTIFACT --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL',
  },
  'verify-blob-attestation': {
    command:
      'stella attest verify ARTIFACT --bundle FILE --predicate-type TYPE --certificate-identity ID --certificate-oidc-issuer URL',
  },
  verify: {
    command:
      'stella attest verify --image IMAGE@sha256:DIGEST --certificate-identity ID --certificate-oidc-issuer URL',
  },
  'verify-attestation': {
    command:
      'stella attest verify --image IMAGE@sha256:DIGEST --predicate-type TYPE --certificate-identity ID --certificate-oidc-issuer URL',
  },
  attach: { command: 'stella attest attach --bundle FILE --image IMAGE@sha256:DIGEST' },
  download: {
    command: 'stella attest export-bundle --image IMAGE@sha256:DIGEST --output FILE.json',
  },
  initialize: {
    command: 'stella trust import TRUSTED_ROOT.json',
    note: 'Stella fetches no TUF metadata: it trusts the embedded public-good root, or what you import',
  },
  'trusted-root': {
    command: 'stella trust import FILE --kind ca|tsa|tlog|ctlog',
    note: 'once for each chain or key, into the trust store; then `stella trust export --output trusted_root.json`',
  },
  bundle: {
    command: 'stella attest inspect FILE',
    note: "cosign's bundle inspect; cosign's legacy bundle files are read as they are, so there is nothing to upgrade",
  },
  completion: { command: 'stella autocomplete SHELL', note: 'bash, zsh or fish' },
  version: { command: 'stella --version' },
};

/**
 * The one wording of an unknown command (here and in the command_not_found hook), with the
 * closest visible command or topic: a hidden one is never suggested.
 */
export function unknownCommandMessage(config: Config, id: string): string {
  // cosign's word, unless it is Stella's own topic (`stella attest verfy` is a misspelling).
  const first = id.split(':')[0]!;
  const cosign = Object.hasOwn(COSIGN_COMMANDS, first) ? COSIGN_COMMANDS[first] : undefined;
  if (cosign !== undefined && !config.findTopic(first) && !config.findCommand(first))
    return `unknown command "stella ${first}": cosign's ${first} is \`${cosign.command}\`${cosign.note ? ` (${cosign.note})` : ''}`;
  const { commands, topics } = listedUnder(config, '', true);
  const hint = closest(id, [...commands.map((c) => c.id), ...topics.map((t) => t.name)]);
  return `unknown command "stella ${spoken(id)}"${hint ? ` (did you mean "stella ${spoken(hint)}"?)` : ''}`;
}

/** Whether `child` sits directly under `parent` ('' for the root), or anywhere under it. */
function isUnder(child: string, parent: string, nested: boolean): boolean {
  if (parent !== '' && !child.startsWith(`${parent}:`)) return false;
  const rest = parent === '' ? child : child.slice(parent.length + 1);
  return nested || !rest.includes(':');
}

/**
 * The visible topics and commands a topic (`''`: the root) lists, sorted: its direct ones, or
 * with `nested` every one under it. A command's id is no topic of its own (oclif makes a
 * command a topic when a command sits under it, even a hidden one).
 */
export function listedUnder(
  config: Config,
  parent: string,
  nested: boolean,
): { topics: Topic[]; commands: Command.Loadable[] } {
  const commands = config.commands
    .filter((c) => !c.hidden && isUnder(c.id, parent, nested))
    .sort((a, b) => a.id.localeCompare(b.id));
  const topics = config.topics
    .filter((t) => !t.hidden && isUnder(t.name, parent, nested) && !config.findCommand(t.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { topics, commands };
}

/** oclif's two template words in examples and descriptions, filled in. */
function filled(text: string, config: Config, id: string): string {
  return text
    .replaceAll('<%= config.bin %>', config.bin)
    .replaceAll('<%= command.id %>', spoken(id));
}

export interface HelpFlagJson {
  name: string;
  char: string | null;
  takesValue: boolean;
  repeatable: boolean;
  required: boolean;
  options: string[] | null;
  default: string | number | boolean | null;
  description: string;
}

/**
 * The --json form of a subject, one schema for the three kinds. A topic (and the root) lists
 * its direct topics and commands (every command under it with `nested`); a command gives its
 * arguments, flags and examples.
 */
export function helpJson(config: Config, subject: HelpSubject, nested = false): object {
  if (subject.kind === 'command') {
    const c = subject.command;
    return {
      ok: true,
      kind: 'command',
      command: spoken(c.id),
      summary: c.summary ?? null,
      description: c.description === undefined ? null : filled(c.description, config, c.id),
      args: Object.values(c.args).map((a) => ({
        name: a.name,
        required: Boolean(a.required),
        description: a.description ?? '',
      })),
      flags: flagsJson(c),
      examples: (c.examples ?? []).map((e) =>
        filled(typeof e === 'string' ? e : e.command, config, c.id),
      ),
    };
  }
  const { topics, commands } = listedUnder(
    config,
    subject.kind === 'root' ? '' : subject.id,
    nested,
  );
  return {
    ok: true,
    kind: subject.kind,
    topic: subject.kind === 'root' ? null : spoken(subject.id),
    description:
      (subject.kind === 'root'
        ? (config.pjson.description as string | undefined)
        : subject.description) ?? null,
    ...(subject.kind === 'root' ? { version: config.version } : {}),
    topics: topics.map((t) => ({ topic: spoken(t.name), description: t.description ?? null })),
    commands: commands.map((c) => ({
      command: spoken(c.id),
      summary: c.summary ?? firstLine(c.description),
    })),
  };
}

/** A command's visible flags, as `help --json` lists them and the completion script completes them. */
export function flagsJson(c: Command.Loadable): HelpFlagJson[] {
  return Object.values(c.flags)
    .filter((f) => !f.hidden)
    .map((f) => ({
      name: f.name,
      char: f.char ?? null,
      takesValue: f.type === 'option',
      repeatable: f.type === 'option' && Boolean(f.multiple),
      required: Boolean(f.required),
      options: f.type === 'option' && f.options ? [...f.options] : null,
      // A switch not given is off: oclif's command cache keeps no default for it.
      default: plainDefault(f.default) ?? (f.type === 'boolean' ? false : null),
      description: f.summary ?? f.description ?? '',
    }));
}

/** A flag's default when it is a plain value; oclif also allows functions, which help cannot show. */
function plainDefault(value: unknown): string | number | boolean | null {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? value
    : null;
}

function firstLine(text: string | undefined): string | null {
  return text === undefined ? null : (text.split('\n')[0] ?? null);
}
