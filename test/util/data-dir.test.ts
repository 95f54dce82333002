import test from 'ava';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stellaDataDir } from '../../src/util/data-dir.js';
import { defaultStorePath } from '../../src/trust/store/paths.js';
import { resolveAttestationStorePath } from '../../src/store/attestations.js';

const FALLBACK = join(homedir(), '.local', 'share', 'stella');

test('the data folder is $XDG_DATA_HOME/stella when that is absolute, else ~/.local/share/stella', (t) => {
  t.is(stellaDataDir({ XDG_DATA_HOME: '/xdg' }), '/xdg/stella');
  // Empty or relative: ignored, as the XDG Base Directory spec says.
  for (const XDG_DATA_HOME of [undefined, '', 'relative/dir', './data', '~/data'])
    t.is(stellaDataDir({ XDG_DATA_HOME }), FALLBACK, String(XDG_DATA_HOME));
});

test('the trust store and the attestation store default to the same folder, by the same rule', (t) => {
  for (const env of [{ XDG_DATA_HOME: '/xdg' }, { XDG_DATA_HOME: 'relative' }, {}]) {
    t.is(defaultStorePath(env), join(stellaDataDir(env), 'trust.db'));
    t.is(resolveAttestationStorePath(undefined, env), join(stellaDataDir(env), 'attestations.db'));
  }
});
