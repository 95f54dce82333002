import test from 'ava';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { publicGoodTrustedRootPath } from '../../src/trust/public-good.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { CONFORMANCE_DIR } from '../helpers/paths.js';
import { sharedTest } from '../helpers/shared.js';

const require = createRequire(import.meta.url);
const publicGoodText = readFileSync(publicGoodTrustedRootPath(), 'utf8');
const load = (): Record<string, unknown> => JSON.parse(publicGoodText);
const SHARED = pathToFileURL(`${CONFORMANCE_DIR}/`);

test('the path points at trust-roots/ in the package root and the file is a valid trusted root', (t) => {
  const p = publicGoodTrustedRootPath();
  t.true(isAbsolute(p));
  t.true(p.endsWith('/trust-roots/public-good.trusted_root.json'));
  t.false(p.includes('/dist/'));
  t.true(parseTrustedRoot(publicGoodText).tlogs.length > 0);
});

test('the shipped public-good root equals the trusted_root.json target in @sigstore/tuf seeds.json', (t) => {
  const seeds = JSON.parse(readFileSync(require.resolve('@sigstore/tuf/seeds.json'), 'utf8'));
  const target = Buffer.from(
    seeds['https://tuf-repo-cdn.sigstore.dev'].targets['trusted_root.json'],
    'base64',
  );
  t.true(target.equals(readFileSync(publicGoodTrustedRootPath())));
});

sharedTest(
  'shared conformance: public-good-trusted-root.json is JSON-equal (not byte-equal) to the shipped root',
  (t) => {
    const shared = readFileSync(new URL('public-good-trusted-root.json', SHARED));
    t.deepEqual(JSON.parse(shared.toString()), load());
    t.false(
      shared.equals(Buffer.from(publicGoodText)),
      'whitespace differs; update this note if it ever matches byte-for-byte',
    );
  },
);
