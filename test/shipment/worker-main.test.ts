/**
 * The shipment worker's body (src/shipment/worker-main.ts) run where it must not be: on a main
 * thread it has no port to answer on, and says so instead of failing on a null. Its work
 * inside a worker is tested through the pool (pool.test.ts, verify.test.ts).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';

test('runShipmentWorker outside a worker thread refuses, naming why', (t) => {
  // In a process of its own: ava may run this file in a worker thread, whose port is ava's.
  const module = new URL('../../src/shipment/worker-main.js', import.meta.url).href;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { runShipmentWorker } from ${JSON.stringify(module)};
       try { runShipmentWorker(); console.log('returned'); }
       catch (e) { console.log(e.constructor.name + ': ' + e.message); }`,
    ],
    { encoding: 'utf8' },
  );
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'Error: runShipmentWorker: not in a worker thread\n');
});
