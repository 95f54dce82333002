/**
 * Entry point of a detached sandbox (`stella sandbox up --detach` spawns
 * `node main.js --data-dir DIR --port N`): serve until SIGTERM/SIGINT or an authenticated stop
 * request, then close cleanly so sandbox.json records that it stopped.
 */
import { startSandbox } from './sandbox.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const dataDir = arg('--data-dir');
const port = Number(arg('--port') ?? '0');
const witnesses = Number(arg('--witnesses') ?? '0');
if (!dataDir) {
  process.stderr.write('usage: main.js --data-dir DIR [--port N] [--witnesses N]\n');
  process.exit(2);
}
try {
  const sandbox = await startSandbox({ dataDir, port, witnesses });
  process.stdout.write(`stella sandbox listening on ${sandbox.urls.base} (pid ${process.pid})\n`);
  const stop = () => {
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // An authenticated stop request (`stella sandbox down`) closes the sandbox from inside.
  void sandbox.closed.then(() => process.exit(0));
} catch (e) {
  process.stderr.write(`error: sandbox: ${(e as Error).message}\n`);
  process.exit(1);
}
