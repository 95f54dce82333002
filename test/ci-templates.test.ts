/**
 * The GitHub Action (action.yml) and the CI templates: they parse, grant the OIDC token
 * permission, and every `stella ...` command they run uses a real command with flags that
 * command really has (read from the oclif command classes).
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { COMMANDS } from '../src/commands/index.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
type Json = Record<string, any>;
const load = (rel: string): Json => parse(readFileSync(join(repo, rel), 'utf8')) as Json;

/** Shell text -> every `stella <topic> <verb> ...` invocation as [id, flags]. */
export function stellaInvocations(
  script: string,
): Array<{ id: string; flags: string[]; text: string }> {
  const joined = script.replace(/\\\r?\n/g, ' ');
  const out: Array<{ id: string; flags: string[]; text: string }> = [];
  for (const line of joined.split(/\r?\n/)) {
    for (const m of line.matchAll(
      /(?:^|[\s;&|(])stella\s+([a-z-]+)\s+([a-z-]+)((?:[^;&|]|\|\|?(?=\s*-))*)/g,
    )) {
      const rest = m[3] ?? '';
      out.push({
        id: `${m[1]}:${m[2]}`,
        flags: [...rest.matchAll(/(?:^|[\s"'{+])--([a-z][a-z0-9-]*)/g)].map((f) => f[1]!),
        text: m[0].trim(),
      });
    }
  }
  return out;
}

function scriptsOfWorkflow(doc: Json): string[] {
  const out: string[] = [];
  const steps =
    doc.runs?.steps ?? Object.values(doc.jobs ?? {}).flatMap((j) => (j as Json).steps ?? []);
  for (const s of steps as Json[]) if (typeof s.run === 'string') out.push(s.run);
  return out;
}

function scriptsOfGitlab(doc: Json): string[] {
  const out: string[] = [];
  for (const [name, job] of Object.entries(doc)) {
    if (name === 'variables' || name === 'stages' || typeof job !== 'object' || job === null)
      continue;
    for (const key of ['before_script', 'script', 'after_script']) {
      const v = (job as Json)[key];
      if (Array.isArray(v)) out.push(...v.filter((x): x is string => typeof x === 'string'));
      else if (typeof v === 'string') out.push(v);
    }
  }
  return out;
}

function checkCommands(t: import('ava').ExecutionContext, file: string, scripts: string[]): number {
  let n = 0;
  for (const script of scripts) {
    for (const inv of stellaInvocations(script)) {
      n++;
      const cmd = (
        COMMANDS as Record<
          string,
          { flags?: Record<string, unknown>; baseFlags?: Record<string, unknown> }
        >
      )[inv.id];
      t.truthy(cmd, `${file}: \`stella ${inv.id.replace(':', ' ')}\` is not a Stella command`);
      if (!cmd) continue;
      const known = new Set([...Object.keys(cmd.flags ?? {}), ...Object.keys(cmd.baseFlags ?? {})]);
      for (const f of inv.flags)
        t.true(
          known.has(f),
          `${file}: \`${inv.text}\` uses --${f}, which stella ${inv.id.replace(':', ' ')} does not have`,
        );
    }
  }
  return n;
}

test('the invocation scanner finds commands, continuations and optional flags', (t) => {
  const inv = stellaInvocations(
    'set -e\nstella attest sign --keyless \\\n  --artifact "$X" \\\n  ${P:+--predicate "$P"}\necho --not-this\nnpx stella trust import --file a && stella attest verify --bundle b',
  );
  t.deepEqual(
    inv.map((i) => [i.id, i.flags]),
    [
      ['attest:sign', ['keyless', 'artifact', 'predicate']],
      ['trust:import', ['file']],
      ['attest:verify', ['bundle']],
    ],
  );
  // The flag check has teeth: the command classes' flags are what is compared against.
  const sign = (COMMANDS as Record<string, { flags: Record<string, unknown> }>)['attest:sign']!;
  t.truthy(sign.flags['keyless']);
  t.truthy(sign.flags['artifact']);
  t.falsy(sign.flags['outptu']);
});

test('action.yml: inputs artifact-digest and artifact-type, documents id-token: write, real commands', (t) => {
  const action = load('action.yml');
  t.is(action.runs.using, 'composite');
  t.true(action.inputs['artifact-digest'].required);
  t.is(action.inputs['artifact-type'].default, 'image');
  t.regex(action.description, /id-token: write/);
  t.regex(readFileSync(join(repo, 'action.yml'), 'utf8'), /permissions:\n#\s+id-token: write/);
  // Every input is used, and every ${{ inputs.X }} is a declared input.
  const text = readFileSync(join(repo, 'action.yml'), 'utf8');
  for (const m of text.matchAll(/inputs\.([a-z-]+)/g))
    t.truthy(action.inputs[m[1]!], `undeclared input ${m[1]}`);
  for (const name of Object.keys(action.inputs))
    t.true(text.includes(`inputs.${name}`), `input ${name} is never used`);
  const n = checkCommands(t, 'action.yml', scriptsOfWorkflow(action));
  t.true(n >= 1);
});

test('ci-templates: every template parses, grants the OIDC token, and runs real commands and flags', (t) => {
  const files = readdirSync(join(repo, 'ci-templates')).filter((f) => f.endsWith('.yml'));
  t.true(
    files.includes('gitlab-ci.yml') &&
      files.includes('gitea-actions.yml') &&
      files.includes('github-actions.yml'),
  );

  const gh = load('ci-templates/github-actions.yml');
  const ghJob = Object.values(gh.jobs)[0] as Json;
  t.is(ghJob.permissions['id-token'], 'write');
  const uses = (ghJob.steps as Json[]).find(
    (s) => typeof s.uses === 'string' && s.uses.startsWith('stella-ops/stella'),
  );
  t.truthy(uses, 'the GitHub template uses the action');
  const action = load('action.yml');
  for (const k of Object.keys(uses!.with))
    t.truthy(action.inputs[k], `the GitHub template passes unknown input ${k}`);
  t.true(checkCommands(t, 'github-actions.yml', scriptsOfWorkflow(gh)) >= 1);

  const gitea = load('ci-templates/gitea-actions.yml');
  for (const job of Object.values(gitea.jobs) as Json[]) t.is(job.permissions['id-token'], 'write');
  t.true(checkCommands(t, 'gitea-actions.yml', scriptsOfWorkflow(gitea)) >= 2);

  const gl = load('ci-templates/gitlab-ci.yml');
  const signJobs = Object.values(gl).filter(
    (j) =>
      typeof j === 'object' &&
      j !== null &&
      scriptsOfGitlab({ j }).some((s) => /stella attest sign/.test(s)),
  ) as Json[];
  t.true(signJobs.length >= 1);
  for (const job of signJobs) t.is(job.id_tokens?.SIGSTORE_ID_TOKEN?.aud, 'sigstore');
  t.true(checkCommands(t, 'gitlab-ci.yml', scriptsOfGitlab(gl)) >= 2);
});
