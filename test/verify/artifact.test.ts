import test from 'ava';
import { createHash } from 'node:crypto';
import {
  artifactDigest,
  digestMatches,
  isDigestReference,
  parseDigestReference,
} from '../../src/verify/artifact.js';
import { StellaError } from '../../src/errors.js';

const HEX = 'a'.repeat(64);

test('sha256:<64 hex> is a digest reference', (t) => {
  t.true(isDigestReference(`sha256:${HEX}`));
  t.false(isDigestReference('./sha256-file'));
  const a = parseDigestReference(`sha256:${HEX}`);
  t.is(a.kind, 'digest');
  t.true(digestMatches(a, 'SHA2_256', Buffer.from(HEX, 'hex')));
});

test('sha384 and sha512 references are digests of their own algorithm', (t) => {
  const a384 = parseDigestReference(`sha384:${'b'.repeat(96)}`);
  const a512 = parseDigestReference(`sha512:${'c'.repeat(128)}`);
  t.true(digestMatches(a384, 'SHA2_384', Buffer.from('b'.repeat(96), 'hex')));
  t.true(digestMatches(a512, 'SHA2_512', Buffer.from('c'.repeat(128), 'hex')));
  t.is(artifactDigest(a512, 'SHA2_256'), undefined);
  // Another digest, or a digest of another algorithm than the reference's, does not match.
  t.false(digestMatches(a512, 'SHA2_512', Buffer.from('d'.repeat(128), 'hex')));
  t.false(digestMatches(a512, 'SHA2_256', Buffer.from('c'.repeat(64), 'hex')));
  const bytes = { kind: 'bytes' as const, data: new TextEncoder().encode('abc') };
  t.false(digestMatches(bytes, 'SHA2_256', Buffer.from(HEX, 'hex')));
});

test('malformed digest references are refused with the expected form', (t) => {
  for (const bad of [
    'sha256:abc',
    `sha256:${'A'.repeat(64)}`,
    `sha256:${HEX}00`,
    `sha256:${'g'.repeat(64)}`,
    'sha384:' + HEX,
    `sha512:${'C'.repeat(128)}`,
  ]) {
    const e = t.throws(() => parseDigestReference(bad), { instanceOf: StellaError }, bad);
    t.is(e.code, 'INPUT_INVALID');
  }
});

test('bytes are hashed with the requested algorithm; a digest only answers for its own', (t) => {
  const data = new TextEncoder().encode('hello');
  for (const [alg, name] of [
    ['SHA2_256', 'sha256'],
    ['SHA2_384', 'sha384'],
    ['SHA2_512', 'sha512'],
  ] as const) {
    t.deepEqual(
      Buffer.from(artifactDigest({ kind: 'bytes', data }, alg)!),
      createHash(name).update(data).digest(),
    );
  }
  t.is(artifactDigest(parseDigestReference(`sha256:${HEX}`), 'SHA2_384'), undefined);
});
