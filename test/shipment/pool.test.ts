import test from 'ava';
import { BUNDLES_PER_THREAD, defaultJobs } from '../../src/shipment/pool.js';

test("defaultJobs: one thread per core, none fewer than BUNDLES_PER_THREAD bundles each, in process below two threads' worth", (t) => {
  const k = BUNDLES_PER_THREAD;
  t.is(defaultJobs(0, 64), 1);
  t.is(defaultJobs(3, 64), 1, 'three bundles on 64 cores: in process, not 64 threads');
  t.is(defaultJobs(2 * k - 1, 64), 1);
  t.is(defaultJobs(2 * k, 64), 2);
  t.is(defaultJobs(10 * k + k - 1, 64), 10);
  t.is(defaultJobs(1_000_000, 64), 64, 'a large shipment: every core');
  t.is(defaultJobs(1_000_000, 2), 2);
  t.is(defaultJobs(1_000_000, 1), 1);
  t.true(defaultJobs(1_000_000) >= 1, 'the cores this process can use by default');
});
