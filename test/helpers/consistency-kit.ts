/**
 * Issue 12's consistency tests share this setup: a sandbox that signs (Rekor v1, or v2 + TSA),
 * bundles' checkpoints read and edited, trust stores made from the sandbox's trusted root,
 * shipments exported with --include-consistency (the connected side), and the store's
 * checkpoints read back through `stella trust checkpoints --json`.
 */
import type { ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { RunningSandbox } from '../../src/sandbox/server/sandbox.js';
import { runSign } from '../../src/commands/attest/sign-run.js';
import { parseCheckpoint, parseSignedNote } from '../../src/tlog/note.js';
import { runCli } from './cli.js';
import { NO_NETWORK_PRELOAD } from './paths.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

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

/** A Rekor v1 log entry as the API answers it: its inclusion proof is under `verification`. */
export type RekorV1EntryAnswer = { verification?: Record<string, unknown> };

/** What a Rekor v1 proxy changes of the sandbox's answers before passing them on. */
export interface RekorV1Edits {
  /** Each entry of `GET /api/v1/log/entries?logIndex=I`. */
  entry?: (entry: RekorV1EntryAnswer) => void;
  /** `GET /api/v1/log`: the tree head. */
  log?: (info: { signedTreeHead: string }) => void;
  /** `GET /api/v1/log/proof?firstSize=M&lastSize=N`: a consistency proof. */
  proof?: (proof: { hashes: unknown }) => void;
}

/** The identity flags a bundle signed with `sandbox`'s GitHub-style token (org/repo) satisfies. */
export function sandboxIdentityFlags(sandbox: RunningSandbox): string[] {
  return [
    '--certificate-identity',
    literalPattern(GITHUB_SAN),
    '--certificate-oidc-issuer',
    sandbox.urls.oidcIssuer,
  ];
}

/** The helpers over one sandbox, with temporary files under `root`. */
export function consistencyKit(sandbox: RunningSandbox, root: string) {
  let counter = 0;
  return {
    /** The identity flags the sandbox's GitHub-style tokens satisfy. */
    identity(): string[] {
      return sandboxIdentityFlags(sandbox);
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

    /**
     * The arguments of `attest export-bundle --all` of these bundles into a new `out`; with
     * --include-consistency and a trust root (the sandbox's unless another is given) unless `plain`.
     */
    shipmentExport(
      bundles: Signed[],
      extra: string[] = [],
      plain = false,
      trustedRootPath = sandbox.trustedRootPath,
    ): { args: string[]; out: string } {
      const out = join(mkdtempSync(join(root, 'ship-')), 'shipment.tar');
      const args = [
        'attest',
        'export-bundle',
        '--all',
        '--output',
        out,
        ...(plain ? [] : ['--include-consistency', '--trusted-root', trustedRootPath]),
        '--created-at',
        '2026-01-01T00:00:00Z',
        '--json',
        ...extra,
      ];
      for (const b of bundles) args.push('--bundle', b.bundle);
      return { args, out };
    },

    /** `attest export-bundle --all` of these bundles (shipmentExport's arguments); the archive's path. */
    async exportShipment(bundles: Signed[], extra: string[] = [], plain = false): Promise<string> {
      const { args, out } = this.shipmentExport(bundles, extra, plain);
      const r = await runCli(args, { timeoutMs: 90_000 });
      if (r.code !== 0) throw new Error(r.stdout + r.stderr);
      return out;
    },

    /**
     * A Rekor v1 on loopback in front of the sandbox's, passing every GET through with `edits`
     * applied; closed when the test ends. Its URL stands in for the sandbox's in a trust root.
     */
    async editingRekorV1(t: ExecutionContext, edits: RekorV1Edits): Promise<string> {
      const upstream = this.rekorV1Url();
      const s = createServer((req, res) => {
        void (async () => {
          const r = await fetch(`${upstream}${req.url}`);
          const body = (await r.json()) as Record<string, unknown>;
          if (req.url?.startsWith('/api/v1/log/entries?'))
            for (const e of Object.values(body)) edits.entry?.(e as RekorV1EntryAnswer);
          if (req.url === '/api/v1/log') edits.log?.(body as { signedTreeHead: string });
          if (req.url?.startsWith('/api/v1/log/proof?')) edits.proof?.(body as { hashes: unknown });
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        })();
      });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      t.teardown(() => s.close());
      return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    },

    /** The sandbox's Rekor v1 URL as its trusted root lists it (no trailing slash). */
    rekorV1Url(): string {
      return sandbox.urls.rekor.replace(/\/+$/, '');
    },

    async checkpoints(store: string): Promise<StoreCheckpoints> {
      const r = await runCli(['trust', 'checkpoints', '--store', store, '--json']);
      if (r.code !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as StoreCheckpoints;
    },
  };
}
