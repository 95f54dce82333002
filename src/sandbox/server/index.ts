/** The sandbox server's public API (library use: tests, the demo, `stella sandbox`). */
export {
  startSandbox,
  mintSandboxToken,
  sandboxAnswers,
  proveSandbox,
  SANDBOX_HOST,
  type RunningSandbox,
  type StartSandboxOptions,
  type SandboxTokenOptions,
} from './sandbox.js';
export { startDetachedSandbox, stopSandbox, isSandboxMain, type StopResult } from './control.js';
export { isLoopbackUrl } from './control-channel.js';
export {
  readSandboxState,
  sandboxPath,
  SANDBOX_FILES,
  type SandboxState,
  type SandboxUrls,
} from './data-dir.js';
export { SqliteLogStorage } from './storage.js';
