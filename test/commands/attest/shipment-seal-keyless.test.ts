/**
 * Keyless seals through the real CLI against the sandbox: `export-bundle --seal-keyless` signs
 * manifest.cbor through the `attest sign` path (token, signer.yaml); the receiving side, every
 * network call made to throw, trusts a keyless exporter (`trust keys add --role exporter
 * --identity --issuer`) or pins one (`--seal-identity --seal-issuer`). A seal by another
 * identity or issuer, or whose certificate does not chain to the trusted Fulcio, is refused
 * with SEAL_INVALID; an edited sealed archive is refused before any bundle is checked.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../../src/sandbox/server/sandbox.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { EXPORT_TAR_LIMITS } from '../../../src/archive/export.js';
import { readTarStrict, writeTar } from '../../../src/archive/tar.js';
import { runCli } from '../../helpers/cli.js';
import { NO_NETWORK_PRELOAD } from '../../helpers/paths.js';
import { literalPattern } from '../../../src/verify/identity-pattern.js';

let root: string;
let sandbox: RunningSandbox;
/** Another authority: its Fulcio is not the one the receiver trusts. */
let foreign: RunningSandbox;
test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'stella-seal-keyless-'));
  sandbox = await startSandbox({ dataDir: join(root, 'sandbox'), port: 0 });
  foreign = await startSandbox({ dataDir: join(root, 'foreign'), port: 0 });
});
test.after.always(async () => {
  await sandbox?.close();
  await foreign?.close();
  rmSync(root, { recursive: true, force: true });
});

/** `attest sign --keyless` of `file` by org/repo through the sandbox, kept in `store`. */
const signCli = (file: string, store: string, extra: string[]) =>
  runCli([
    'attest',
    'sign',
    '--keyless',
    '--artifact',
    file,
    '--identity-token',
    sandbox.mintToken({ platform: 'github', repo: 'org/repo' }),
    '--config',
    sandbox.signerConfigPath,
    '--attestation-store',
    store,
    ...extra,
  ]);

interface Sealed {
  tar: string;
  seal: { kind: string; identity: string; issuer: string; logIndex: number };
}

test.serial(
  'a keyless-sealed shipment verifies and imports; wrong identity, wrong issuer, a foreign Fulcio and an edited archive are refused',
  async (t) => {
    // Some 15 CLI runs, five of them signing through the sandbox: slow on a loaded machine.
    t.timeout(10 * 60_000);
    const dir = mkdtempSync(join(root, 't-'));
    const att = join(dir, 'attestations.db');
    // The connected side: two artifacts signed keylessly, kept in the attestation store.
    let signer = '';
    for (const name of ['app.tgz', 'lib.tgz']) {
      const file = join(dir, name);
      writeFileSync(file, `the contents of ${name}\n`);
      const sign = await signCli(file, att, ['--json']);
      t.is(sign.code, 0, sign.stdout + sign.stderr);
      signer = (JSON.parse(sign.stdout) as { identity: string }).identity;
    }
    const exportSealed = async (
      by: RunningSandbox,
      repo: string,
      out: string,
      extra: string[] = [],
    ): Promise<Sealed> => {
      const r = await runCli([
        'attest',
        'export-bundle',
        '--all',
        '--attestation-store',
        att,
        '--seal-keyless',
        '--identity-token',
        by.mintToken({ platform: 'github', repo }),
        '--config',
        by.signerConfigPath,
        ...extra,
        '--output',
        out,
        '--json',
      ]);
      t.is(r.code, 0, r.stdout + r.stderr);
      const o = JSON.parse(r.stdout) as { seal: Sealed['seal']; sealed: unknown };
      t.is(o.seal.kind, 'keyless');
      t.is(o.sealed, null, '`sealed` stays the key id of a key seal');
      return { tar: out, seal: o.seal };
    };
    const good = await exportSealed(sandbox, 'org/exporter', join(dir, 'sealed.tar'));
    t.regex(good.seal.identity, /org\/exporter/);
    t.is(good.seal.issuer, sandbox.urls.oidcIssuer);
    const names = [...readTarStrict(readFileSync(good.tar), EXPORT_TAR_LIMITS).keys()];
    t.deepEqual(names.slice(0, 2), ['manifest.cbor', 'manifest.sigstore.json']);
    const other = await exportSealed(sandbox, 'org/intruder', join(dir, 'other.tar'));
    // Certified by the foreign Fulcio, logged in the trusted Rekor: only the certificate chain
    // is wrong for the receiver. The signer checks every answer against the trust root it is
    // given, so the exporter's own root trusts both Fulcios (and both CT logs).
    const both = JSON.parse(readFileSync(sandbox.trustedRootPath, 'utf8')) as Record<
      string,
      unknown[]
    >;
    const foreignRoot = JSON.parse(readFileSync(foreign.trustedRootPath, 'utf8')) as Record<
      string,
      unknown[]
    >;
    for (const k of ['certificateAuthorities', 'ctlogs']) both[k]!.push(...foreignRoot[k]!);
    const bothPath = join(dir, 'both-fulcios.trusted_root.json');
    writeFileSync(bothPath, JSON.stringify(both));
    const alien = await exportSealed(foreign, 'org/exporter', join(dir, 'foreign.tar'), [
      '--rekor-url',
      sandbox.urls.rekor,
      '--trusted-root',
      bothPath,
    ]);

    // The disconnected side: a trust store naming the keyless exporter; nothing on the network.
    const env = { STELLA_TRUST_STORE: join(dir, 'trust.db') };
    const offline = { env, nodeArgs: ['--import', NO_NETWORK_PRELOAD] };
    t.is((await runCli(['trust', 'init'], { env })).code, 0);
    const add = await runCli(
      [
        'trust',
        'keys',
        'add',
        '--role',
        'exporter',
        '--identity',
        good.seal.identity,
        '--issuer',
        good.seal.issuer,
        '--json',
      ],
      { env },
    );
    t.is(add.code, 0, add.stdout + add.stderr);
    t.deepEqual((JSON.parse(add.stdout) as { added: string[] }).added, [
      `${good.seal.identity} (${good.seal.issuer})`,
    ]);
    const history = await runCli(['trust', 'history', '--json'], { env });
    t.regex(history.stdout, /exporter-add/, 'the change is in the store history');

    const verify = (tar: string, extra: string[] = []): ReturnType<typeof runCli> =>
      runCli(
        [
          'attest',
          'verify',
          '--archive',
          tar,
          '--all',
          '--trusted-root',
          sandbox.trustedRootPath,
          '--certificate-identity',
          literalPattern(signer),
          '--certificate-oidc-issuer',
          sandbox.urls.oidcIssuer,
          '--json',
          ...extra,
        ],
        offline,
      );
    const ok = await verify(good.tar);
    t.is(ok.code, 0, ok.stdout + ok.stderr);
    t.notRegex(ok.stderr, /NETWORK ATTEMPT/);
    t.like(JSON.parse(ok.stdout), {
      ok: true,
      summary: {
        passed: 2,
        seal: { status: 'verified', by: `exporter ${good.seal.identity} (${good.seal.issuer})` },
      },
    });

    // Another identity of the same issuer: not a trusted exporter.
    const wrongId = await verify(other.tar);
    t.is(wrongId.code, EXIT_CODES.SEAL_INVALID, wrongId.stdout);
    t.regex(wrongId.stdout, /SEAL_INVALID/);
    // Pinned per command: that identity passes; the right identity with another issuer fails.
    const pinned = await verify(other.tar, [
      '--seal-identity',
      other.seal.identity,
      '--seal-issuer',
      other.seal.issuer,
    ]);
    t.is(pinned.code, 0, pinned.stdout);
    const wrongIssuer = await verify(good.tar, [
      '--seal-identity',
      good.seal.identity,
      '--seal-issuer',
      'https://token.actions.githubusercontent.com',
    ]);
    t.is(wrongIssuer.code, EXIT_CODES.SEAL_INVALID, wrongIssuer.stdout);
    // The seal's own identity and issuer, but its certificate is from a Fulcio not trusted here.
    const untrusted = await verify(alien.tar, [
      '--seal-identity',
      alien.seal.identity,
      '--seal-issuer',
      alien.seal.issuer,
    ]);
    t.is(untrusted.code, EXIT_CODES.SEAL_INVALID, untrusted.stdout);
    t.regex(
      (JSON.parse(untrusted.stdout) as { error: { message: string } }).error.message,
      /CERT_CHAIN_INVALID \(certificate-chain\)/,
    );

    // A sealed archive with a bundle dropped: refused before any bundle is checked.
    const files = readTarStrict(readFileSync(good.tar), EXPORT_TAR_LIMITS);
    const lastBundle = [...files.keys()].filter((n) => n.startsWith('bundles/')).pop()!;
    const dropped = join(dir, 'dropped.tar');
    writeFileSync(
      dropped,
      await writeTar(
        [...files.keys()]
          .filter((n) => n !== lastBundle)
          .map((name) => ({ name, data: files.get(name)! })),
      ),
    );
    const edited = await verify(dropped);
    t.is(edited.code, EXIT_CODES.SEALED_ARCHIVE_MISMATCH, edited.stdout);
    t.falsy((JSON.parse(edited.stdout) as { summary?: unknown }).summary);

    // attest import holds the same rule: the keyless seal from the stored exporter lets it in.
    const imported = join(dir, 'imported.db');
    const imp = await runCli(
      [
        'attest',
        'import',
        good.tar,
        '--attestation-store',
        imported,
        '--trusted-root',
        sandbox.trustedRootPath,
        '--json',
      ],
      offline,
    );
    t.is(imp.code, 0, imp.stdout + imp.stderr);
    t.like(JSON.parse(imp.stdout), { added: 2, seal: { status: 'verified' } });
    const refused = await runCli(
      [
        'attest',
        'import',
        other.tar,
        '--attestation-store',
        imported,
        '--trusted-root',
        sandbox.trustedRootPath,
      ],
      offline,
    );
    t.is(refused.code, EXIT_CODES.SEAL_INVALID, refused.stderr);
  },
);

test.serial(
  "a keyless seal's signing warnings reach the export: in --json's warnings and on stderr",
  async (t) => {
    const dir = mkdtempSync(join(root, 'warn-'));
    const file = join(dir, 'app.tgz');
    writeFileSync(file, 'the contents of app.tgz\n');
    const bundle = join(dir, 'app.tgz.sigstore.json');
    const sign = await signCli(file, join(dir, 'att.db'), ['--output', bundle]);
    t.is(sign.code, 0, sign.stdout + sign.stderr);
    // A config preferring Ed25519: manifest.cbor is signed as a blob, which Ed25519 cannot be
    // for Rekor, so the seal is ECDSA P-256 and the signer says so.
    const config = join(dir, 'signer.yaml');
    const yaml = readFileSync(sandbox.signerConfigPath, 'utf8');
    const ed25519 = yaml.replace(
      /preferred: "ECDSA_P256"\n\s+allowed: \["ECDSA_P256"\]/,
      'preferred: "Ed25519"\n        allowed: ["Ed25519", "ECDSA_P256"]',
    );
    t.not(ed25519, yaml);
    writeFileSync(config, ed25519);
    const exportArgs = (out: string) => [
      'attest',
      'export-bundle',
      '--bundle',
      bundle,
      '--all',
      '--seal-keyless',
      '--identity-token',
      sandbox.mintToken({ platform: 'github', repo: 'org/exporter' }),
      '--config',
      config,
      '--output',
      join(dir, out),
    ];
    const said = /^algorithms\.preferred is Ed25519, which cannot sign a blob for Rekor/;
    const json = await runCli([...exportArgs('a.tar'), '--json']);
    t.is(json.code, 0, json.stdout + json.stderr);
    const o = JSON.parse(json.stdout) as { warnings: string[]; seal: { kind: string } };
    t.is(o.seal.kind, 'keyless');
    t.is(o.warnings.filter((w) => said.test(w)).length, 1, o.warnings.join('\n'));
    const human = await runCli(exportArgs('b.tar'));
    t.is(human.code, 0, human.stdout + human.stderr);
    t.regex(human.stderr, /^warning: algorithms\.preferred is Ed25519/m);
  },
);
