/**
 * Every write of a command goes through render.ts's writeStdout/writeStderr, which keep what a
 * terminal would act on out of the output (src/util/text.ts: terminalText). This holds the
 * rule in place: a raw process.stdout/stderr.write in src/commands is allowed only where it is
 * listed here, with why.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/paths.js';

/** file -> the text right after the raw write that may stand there. */
const ALLOWED: Record<string, string[]> = {
  // The two edge writers themselves.
  'render.ts': ['terminalText(text));', 'terminalText(text));'],
  // Spooled --json elements, guarded when they were spooled (JsonArtifactsSpool.add).
  'attest/shipment-execute.ts': [
    'chunk); // guarded in add()',
    // Progress: Stella's own counters, redrawn with a carriage return, on a terminal only.
    '\n      `\\r${done}/${total} bundles',
  ],
  // The trusted root document itself, byte for byte: data, not a message.
  'trust/export.ts': ['json);'],
  // attest sign --output -: the bundle itself, byte for byte, as trust export writes its document.
  'attest/sign-run.ts': ['k.result.bundleJson);'],
  // export-bundle --output -: the tar itself, byte for byte (binary: never terminal text).
  'attest/export-bundle-run.ts': ["c)) await once(process.stdout, 'drain');"],
};

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** The raw writes in one source file that ALLOWED does not list. */
function unlistedWrites(rel: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/process\.std(?:out|err)\.write\(/g)) {
    const after = text.slice(m.index + m[0].length);
    if (!(ALLOWED[rel] ?? []).some((a) => after.startsWith(a)))
      found.push(`${rel}: ${after.split('\n')[0]!.slice(0, 60)}`);
  }
  return found;
}

test('command output goes through writeStdout/writeStderr: a raw process.stdout/stderr.write stands only where listed', (t) => {
  const root = path.join(PROJECT_ROOT, 'src', 'commands');
  const found = sourcesUnder(root).flatMap((file) =>
    unlistedWrites(path.relative(root, file).split(path.sep).join('/'), readFileSync(file, 'utf8')),
  );
  t.deepEqual(found, [], 'write through writeStdout/writeStderr (src/commands/render.ts)');
  // Controls: the check reports a raw write that is not listed, in a listed file or another.
  t.deepEqual(unlistedWrites('trust/list.ts', 'process.stdout.write(`${e.subject}\\n`);'), [
    'trust/list.ts: `${e.subject}\\n`);',
  ]);
  t.is(unlistedWrites('trust/export.ts', 'process.stderr.write(note);').length, 1);
  t.is(unlistedWrites('trust/export.ts', 'process.stdout.write(json);').length, 0);
});
