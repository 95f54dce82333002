/**
 * `attest inspect`'s description of a bundle (src/verify/inspect.ts), read in process from the
 * samples: what it says of the signer depends on which kind of verification material the
 * bundle carries. The command's own output is tested in test/commands/attest/identity-seed.test.ts.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseBundle } from '../../src/bundle/parse.js';
import { describeBundle, describeLines } from '../../src/verify/inspect.js';
import { SAMPLES } from '../helpers/samples.js';

const sample = (file: string) => parseBundle(readFileSync(path.join(SAMPLES, file)));

test('a key bundle is described by its public key hint, a certificate bundle by its certificate', (t) => {
  const keyed = describeBundle(sample('managed-key.sigstore.json'));
  t.is(keyed.publicKeyHint, 'ZD1nzMIBz+m0LXFaIoxMulUl2YBXEujWcY05iHChQRQ=');
  t.is(keyed.certificate, undefined);
  t.true(describeLines(keyed, false).includes(`Public key hint: ${keyed.publicKeyHint}`));

  const certified = describeBundle(sample('blob.sigstore.json'));
  t.false('publicKeyHint' in certified, 'no hint field at all, so --json has none');
  t.is(
    certified.certificate?.san[0],
    'https://github.com/stella-samples/demo/.github/workflows/release.yml@refs/heads/main',
  );
  t.false(describeLines(certified, false).some((l) => l.startsWith('Public key hint')));
  t.deepEqual(certified.problems, []);
});
