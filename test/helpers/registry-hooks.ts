/**
 * ava hooks for the registry tests: a sandbox and a real registry before a file's tests, both
 * closed after. Apart from ./registry.ts because that file is also imported by the demo
 * (scripts/demo.ts), which must not load ava.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server/sandbox.js';
import { startRegistry, type RunningRegistry } from './registry.js';

export interface SandboxAndRegistry {
  sandbox: RunningSandbox;
  registry: RunningRegistry;
  /** A temporary directory (the sandbox's data is in root/sandbox), removed after the tests. */
  root: string;
}

/**
 * Declare the hooks of a file's registry tests: before them, a sandbox and a real registry
 * (handed to `use`); after them, both closed and the directory removed.
 */
export function withSandboxAndRegistry(
  prefix: string,
  use: (started: SandboxAndRegistry) => void,
): void {
  const started: Partial<SandboxAndRegistry> = {};
  test.before(async () => {
    const root = mkdtempSync(join(tmpdir(), prefix));
    started.root = root;
    started.sandbox = await startSandbox({ dataDir: join(root, 'sandbox'), port: 0 });
    started.registry = await startRegistry();
    use({ root, sandbox: started.sandbox, registry: started.registry });
  });
  test.after.always(async () => {
    await started.registry?.close();
    await started.sandbox?.close();
    if (started.root !== undefined) rmSync(started.root, { recursive: true, force: true });
  });
}
