/**
 * The README cannot drift (issue 11): every ```sh block in README.md is run, in order, with
 * bash (`set -e -o pipefail`), `stella` on PATH (this checkout), in a scratch folder where
 * `.sandbox` is a running local signing stack, `STELLAOPS_OIDC_TOKEN` a token from it and
 * `./app.tgz` an artifact already signed once. A block that starts its own sandbox gets the
 * folder without one (and the fixture's is started again after it). A block that cannot run
 * here starts with the visible line `# not run by the README test: <why>`; they are counted
 * and kept few. The TypeScript entry points the README shows must import.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, PROJECT_ROOT } from './helpers/paths.js';
import { mintSandboxToken } from '../src/sandbox/server/index.js';

export const NOT_RUN_MARKER = '# not run by the README test: ';
const MAX_NOT_RUN = 5;

/** The ```sh blocks of a markdown text, in order, with their first line number. */
export function shellBlocks(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```sh\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++)
      body.push(lines[j]!.slice(indent));
    out.push({ line: i + 1, text: body.join('\n') });
    i = j;
  }
  return out;
}

function bash(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-e', '-o', 'pipefail', '-c', script],
      { cwd, env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({
          code: err
            ? typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 1
            : 0,
          out: `${stdout}${stderr}`,
        });
      },
    );
  });
}

test('the block reader finds sh blocks, indented ones too, and only those', (t) => {
  const md = 'x\n```sh\necho a\n```\n```json\n{}\n```\n  ```sh\n  echo b\n  ```\n';
  t.deepEqual(shellBlocks(md), [
    { line: 2, text: 'echo a' },
    { line: 8, text: 'echo b' },
  ]);
});

test('every shell block in README.md runs against the sandbox, or says why not', async (t) => {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const blocks = shellBlocks(readme);
  t.true(blocks.length >= 8);
  const skipped = blocks.filter((b) => b.text.startsWith(NOT_RUN_MARKER));
  t.true(
    skipped.length <= MAX_NOT_RUN,
    `at most ${MAX_NOT_RUN} blocks may be left out, ${skipped.length} are`,
  );
  for (const b of skipped)
    t.regex(b.text.split('\n')[0]!, /: \S.{8,}/, `README.md:${b.line}: say why it is not run`);

  const work = mkdtempSync(join(tmpdir(), 'stella-readme-'));
  for (const name of ['bin', 'dist', 'samples', 'node_modules', 'package.json', 'trust-roots'])
    symlinkSync(join(PROJECT_ROOT, name), join(work, name));
  const shim = join(work, '.bin');
  mkdirSync(shim);
  writeFileSync(join(shim, 'stella'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(shim, 'stella'), 0o755);
  const home = join(work, '.home');
  mkdirSync(home);
  const env: NodeJS.ProcessEnv = {
    PATH: `${shim}:${process.env.PATH}`,
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    NO_COLOR: '1',
    TMPDIR: tmpdir(),
  };
  const sandboxDir = join(work, '.sandbox');
  const running = () =>
    existsSync(join(sandboxDir, 'sandbox.json')) &&
    JSON.parse(readFileSync(join(sandboxDir, 'sandbox.json'), 'utf8')).pid !== undefined;
  const up = async () => {
    const r = await bash(
      'stella sandbox up --data-dir .sandbox --detach --json >/dev/null',
      work,
      env,
    );
    if (r.code !== 0) throw new Error(`fixture sandbox: ${r.out}`);
  };
  const down = () => bash('stella sandbox down --data-dir .sandbox', work, env);
  t.teardown(async () => {
    await down();
  });
  await up();
  const token = () => mintSandboxToken(sandboxDir, { platform: 'github', repo: 'org/repo' });
  writeFileSync(join(work, 'app.tgz'), 'the artifact of the README examples\n');
  const signed = await bash(
    'stella attest sign --keyless --artifact ./app.tgz --config .sandbox/signer.yaml >/dev/null',
    work,
    { ...env, STELLAOPS_OIDC_TOKEN: token() },
  );
  t.is(signed.code, 0, signed.out);

  let ran = 0;
  for (const b of blocks) {
    if (b.text.startsWith(NOT_RUN_MARKER)) continue;
    const startsItsOwn = /stella sandbox up --data-dir \.sandbox/.test(b.text);
    if (startsItsOwn) await down();
    const r = await bash(b.text, work, { ...env, STELLAOPS_OIDC_TOKEN: token() });
    t.is(r.code, 0, `README.md:${b.line}:\n${b.text}\n--- output ---\n${r.out}`);
    ran++;
    const stopped = !running() || /stella sandbox down --data-dir \.sandbox/.test(b.text);
    if (stopped) await up();
  }
  t.is(ran, blocks.length - skipped.length);
});

test('the library entry points the README shows import, with the names it uses', async (t) => {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const imports = [...readme.matchAll(/import \{ ([^}]+) \} from '(stella(?:\/[a-z-]+)?)'/g)];
  t.true(imports.length >= 5);
  for (const [, names, specifier] of imports) {
    const mod = (await import(specifier!)) as Record<string, unknown>;
    for (const n of names!.split(',').map((x) => x.trim()))
      t.truthy(mod[n], `${specifier} exports ${n}`);
  }
});
