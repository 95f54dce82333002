/**
 * Issue 12's consistency tests share this setup: a sandbox that signs (Rekor v1, or v2 + TSA),
 * bundles' checkpoints read and edited, trust stores made from the sandbox's trusted root,
 * shipments exported with --include-consistency (the connected side), and the store's
 * checkpoints read back through `stella trust checkpoints --json`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSandbox } from '../../src/sandbox/server/sandbox.js';
import { runSign } from '../../src/commands/attest/sign-run.js';
import { parseCheckpoint, parseSignedNote } from '../../src/tlog/note.js';
import { runCli } from './cli.js';
import { NO_NETWORK_PRELOAD } from './paths.js';
import { escapeRegex } from '../sign/helpers.js';

export const GITHUB_SAN =
  'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
/** The verifying side: networking made to throw. */
export const OFFLINE = { nodeArgs: ['--import', NO_NETWORK_PRELOAD], timeoutMs: 90_000 };

export interface Signed {
  artifact: string;
  bundle: string;
  treeSize: number;
}

export function noteOf(bundle: string): string {
  return JSON.parse(readFileSync(bundle, 'utf8')).verificationMaterial.tlogEntries[0].inclusionProof
    .checkpoint.envelope as string;
}

export function checkpointOf(bundle: string) {
  return parseCheckpoint(parseSignedNote(noteOf(bundle)).text);
}

export interface StoreCheckpoints {
  logs: {
    logUrl: string;
    checkpoints: { treeSize: number; rootHash: string; status: string; latest: boolean }[];
  }[];
  splitViews: { code: string; heldNote: string; presentedNote: string }[];
}

/** The helpers over one sandbox, with temporary files under `root`. */
export function consistencyKit(sandbox: RunningSandbox, root: string) {
  let counter = 0;
  return {
    /** The identity flags the sandbox's GitHub-style tokens satisfy. */
    identity(): string[] {
      return [
        '--certificate-identity',
        escapeRegex(GITHUB_SAN),
        '--certificate-oidc-issuer',
        sandbox.urls.oidcIssuer,
      ];
    },

    async sign(v2 = false): Promise<Signed> {
      const dir = mkdtempSync(join(root, 'sig-'));
      const artifact = join(dir, 'artifact.txt');
      writeFileSync(artifact, `release ${++counter} ${v2 ? 'v2' : 'v1'} ${root}\n`);
      const r = await runSign({
        artifact,
        identityToken: sandbox.mintToken({ platform: 'github', repo: 'org/repo' }),
        ...(v2
          ? {
              signingConfigPath: sandbox.signingConfigPath,
              trustedRootPath: sandbox.trustedRootPath,
            }
          : { configPath: sandbox.signerConfigPath }),
        attestationStorePath: false,
        env: {},
      });
      const bundle = join(dir, 'artifact.sigstore.json');
      writeFileSync(bundle, r.bundleJson);
      return { artifact, bundle, treeSize: checkpointOf(bundle).treeSize };
    },

    /** A copy of the bundle with its checkpoint note replaced (the log's signature is over the text only). */
    withNote(bundle: string, note: string): string {
      const j = JSON.parse(readFileSync(bundle, 'utf8'));
      j.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope = note;
      const out = join(mkdtempSync(join(root, 'edit-')), 'edited.sigstore.json');
      writeFileSync(out, JSON.stringify(j));
      return out;
    },

    async newStore(): Promise<string> {
      const store = join(mkdtempSync(join(root, 'store-')), 'trust.db');
      const i = await runCli(['trust', 'init', '--store', store]);
      if (i.code !== 0) throw new Error(i.stderr);
      const m = await runCli(['trust', 'import', sandbox.trustedRootPath, '--store', store]);
      if (m.code !== 0) throw new Error(m.stderr);
      return store;
    },

    /** `attest export-bundle --all` of these bundles; with --include-consistency unless `plain`. */
    async exportShipment(bundles: Signed[], extra: string[] = [], plain = false): Promise<string> {
      const out = join(mkdtempSync(join(root, 'ship-')), 'shipment.tar');
      const args = [
        'attest',
        'export-bundle',
        '--all',
        '--output',
        out,
        ...(plain ? [] : ['--include-consistency', '--trusted-root', sandbox.trustedRootPath]),
        '--created-at',
        '2026-01-01T00:00:00Z',
        '--json',
        ...extra,
      ];
      for (const b of bundles) args.push('--bundle', b.bundle);
      const r = await runCli(args, { timeoutMs: 90_000 });
      if (r.code !== 0) throw new Error(r.stdout + r.stderr);
      return out;
    },

    async checkpoints(store: string): Promise<StoreCheckpoints> {
      const r = await runCli(['trust', 'checkpoints', '--store', store, '--json']);
      if (r.code !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as StoreCheckpoints;
    },
  };
}
