import test from 'ava';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultStorePath, resolveStorePath } from '../../../src/trust/store/paths.js';

test('the store is --store, else STELLA_TRUST_STORE, else under XDG_DATA_HOME when it is absolute', (t) => {
  const env = { STELLA_TRUST_STORE: '/env/trust.db', XDG_DATA_HOME: '/xdg', HOME: homedir() };
  t.is(resolveStorePath('/flag/trust.db', env), '/flag/trust.db');
  t.is(resolveStorePath(undefined, env), '/env/trust.db');
  t.is(resolveStorePath('', env), '/env/trust.db');
  t.is(resolveStorePath(undefined, { XDG_DATA_HOME: '/xdg' }), '/xdg/stella/trust.db');
  // A relative XDG_DATA_HOME is invalid (XDG Base Directory spec): the default is used.
  const fallback = join(homedir(), '.local', 'share', 'stella', 'trust.db');
  t.is(defaultStorePath({ XDG_DATA_HOME: 'relative/dir' }), fallback);
  t.is(defaultStorePath({}), fallback);
});
