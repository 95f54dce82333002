/**
 * The public entry points, imported as a user imports them (the package's own name, resolved
 * through package.json "exports"), and what `import 'stella'` loads: only what a verifier
 * needs. A child process records every module URL Node loads (a loader hook), so a static
 * import of the SQLite store, CBOR or the sandbox from the main entry fails this test.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from './helpers/paths.js';

/** Load `specifier` in a fresh Node (cwd: the project, so the package resolves by its name) and list every module URL loaded. */
function modulesLoadedBy(specifier: string): { urls: string[]; exported: string[] } {
  const log = path.join(mkdtempSync(path.join(tmpdir(), 'stella-entry-')), 'loaded.txt');
  const hook = `import { appendFileSync } from 'node:fs'; export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }`;
  const script = [
    `import { register } from 'node:module';`,
    `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`,
    `const m = await import(${JSON.stringify(specifier)});`,
    `process.stdout.write(JSON.stringify(Object.keys(m).sort()));`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`node could not import ${specifier}: ${r.stderr}`);
  return {
    urls: readFileSync(log, 'utf8').split('\n').filter(Boolean),
    exported: JSON.parse(r.stdout) as string[],
  };
}

test("import 'stella' (by package name) gives the verifier and loads no SQLite, CBOR, sandbox, signing or registry code", (t) => {
  const { urls, exported } = modulesLoadedBy('stella');
  for (const name of [
    'parseBundle',
    'parseTrustedRoot',
    'buildPolicy',
    'verifyBundle',
    'verifyBundleReport',
    'StellaError',
    'EXIT_CODES',
    'verifyInclusion',
    'verifyCheckpoint',
  ]) {
    t.true(exported.includes(name), `stella exports ${name}`);
  }
  t.true(
    urls.some((u) => u.endsWith('/dist/src/index.js')),
    'the hook saw the entry point (it records loads)',
  );
  const heavy = urls.filter((u) =>
    /better-sqlite3|cbor-x|tar-stream|@oclif|\/dist\/src\/(sandbox|trust\/store|trust\/rotation|archive|store|sign|oci|commands)\//.test(
      u,
    ),
  );
  t.deepEqual(heavy, []);
});

for (const [specifier, names] of [
  ['stella/sign', ['signArtifact', 'loadSignerConfig', 'parseSigningConfig', 'readPrivateKeyFile']],
  [
    'stella/trust-store',
    ['openTrustStore', 'trustMaterialFromStore', 'importFile', 'migrateTrustStore'],
  ],
  [
    'stella/archive',
    ['buildExportArchive', 'readExportArchive', 'bundlesForArtifact', 'fileSource', 'bytesSource'],
  ],
  ['stella/shipment', ['verifyShipment', 'readSealedArchive', 'keySeal', 'describeSeal']],
  ['stella/sandbox', ['startSandbox', 'mintSandboxToken', 'stopSandbox']],
] as const) {
  test(`import '${specifier}' resolves through package.json "exports" and gives ${names.join(', ')}`, (t) => {
    const { exported } = modulesLoadedBy(specifier);
    for (const name of names) t.true(exported.includes(name), `${specifier} exports ${name}`);
  });
}

test("import 'stella/shipment' loads no SQLite, oclif, sandbox, signing or command code: a disconnected verifier needs none", (t) => {
  const { urls } = modulesLoadedBy('stella/shipment');
  t.true(urls.some((u) => u.endsWith('/dist/src/shipment/index.js')));
  t.deepEqual(
    urls.filter((u) =>
      /better-sqlite3|@oclif|\/dist\/src\/(sandbox|trust\/store|trust\/rotation|store|sign|oci|commands)\//.test(
        u,
      ),
    ),
    [],
  );
});

test('every import path the README shows resolves', (t) => {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const specifiers = [
    ...new Set([...readme.matchAll(/from '(stella(?:\/[^']*)?)'/g)].map((m) => m[1]!)),
  ];
  t.true(
    specifiers.includes('stella') && specifiers.includes('stella/sandbox'),
    `README imports: ${specifiers.join(', ')}`,
  );
  for (const s of specifiers) t.notThrows(() => modulesLoadedBy(s), s);
});
