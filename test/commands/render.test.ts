/**
 * How commands print (src/commands/render.ts), in process. What whole commands print is tested
 * through the CLI in base.test.ts and messages.test.ts.
 */
import test from 'ava';
import { printWarning } from '../../src/commands/render.js';
import { setLogLevel } from '../../src/util/log.js';
import { capturedOutput } from '../helpers/output.js';

test('a warning is one "warning:" line on stderr, and nothing at log level error', async (t) => {
  try {
    setLogLevel('warn');
    const shown = await capturedOutput(() => printWarning('the store is 40 days old'));
    t.is(shown.stdout.length, 0);
    t.is(shown.stderr.toString(), 'warning: the store is 40 days old\n');
    setLogLevel('error');
    const quiet = await capturedOutput(() => printWarning('the store is 40 days old'));
    t.is(quiet.stderr.length, 0);
    t.is(quiet.stdout.length, 0);
  } finally {
    setLogLevel('warn');
  }
});
