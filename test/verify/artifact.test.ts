import test from 'ava';
import { createHash } from 'node:crypto';
import { artifactDigest, digestMatches, isDigestReference, parseDigestReference } from '../../src/verify/artifact.js';
import { StellaError } from '../../src/errors.js';

const HEX = 'a'.repeat(64);

test('sha256:<64 hex> is a digest reference', (t) => {
  t.true(isDigestReference(`sha256:${HEX}`));
  t.false(isDigestReference('./sha256-file'));
  const a = parseDigestReference(`sha256:${HEX}`);
  t.is(a.kind, 'digest');
  t.true(digestMatches(a, 'SHA2_256', Buffer.from(HEX, 'hex')));
});

test('malformed digest references are refused with the expected form', (t) => {
  for (const bad of ['sha256:abc', `sha256:${'A'.repeat(64)}`, `sha256:${HEX}00`, `sha256:${'g'.repeat(64)}`, 'sha384:' + HEX]) {
    const e = t.throws(() => parseDigestReference(bad), { instanceOf: StellaError }, bad);
    t.is(e.code, 'INPUT_INVALID');
  }
});

test('bytes are hashed with the requested algorithm; a digest only answers for its own', (t) => {
  const data = new TextEncoder().encode('hello');
  const want = createHash('sha256').update(data).digest();
  t.deepEqual(Buffer.from(artifactDigest({ kind: 'bytes', data }, 'SHA2_256')!), want);
  t.is(artifactDigest(parseDigestReference(`sha256:${HEX}`), 'SHA2_384'), undefined);
});
