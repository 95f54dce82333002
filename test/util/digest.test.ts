import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { digest } from '../../src/crypto.js';
import {
  digestNameOf,
  digestSize,
  formatDigest,
  hashAlgorithmOf,
  isDigestName,
  looksLikeDigestReference,
  parseDigest,
  parseSha256Digest,
  DIGEST_NAMES,
} from '../../src/util/digest.js';
import { toHex, utf8 } from '../../src/util/encoding.js';

const data = utf8.encode('npm pack output\n');

test('sha256, sha384 and sha512 references parse to the digest bytes; format gives the text back', (t) => {
  for (const name of DIGEST_NAMES) {
    const bytes = digest(name, data);
    t.is(bytes.length, digestSize(name));
    const text = `${name}:${toHex(bytes)}`;
    t.true(looksLikeDigestReference(text));
    const p = parseDigest(text, '--artifact');
    t.is(p.name, name);
    t.is(p.algorithm, hashAlgorithmOf(name));
    t.is(digestNameOf(p.algorithm), name);
    t.deepEqual(p.digest, bytes);
    t.is(formatDigest(p.name, p.digest), text);
  }
});

test('only lower-case hex of the algorithm length; other algorithms are refused, naming the forms', (t) => {
  const h256 = toHex(digest('sha256', data));
  const h512 = toHex(digest('sha512', data));
  const bad = [
    `sha256:${h256.toUpperCase()}`,
    `SHA256:${h256}`,
    `sha256:${h256}0`,
    `sha256:${h256.slice(2)}`,
    `sha384:${h256}`,
    `sha512:${h256}`,
    `sha256:${h512}`,
    `sha1:${h256.slice(0, 40)}`,
    `sha3_256:${h256}`,
    `sha256: ${h256}`,
    `sha256:${h256}\n`,
    '',
  ];
  for (const s of bad) {
    const e = t.throws(
      () => parseDigest(s, '--artifact'),
      { instanceOf: StellaError },
      JSON.stringify(s),
    );
    t.is(e?.code, 'INPUT_INVALID');
    t.regex(
      e?.message ?? '',
      /expected sha256:<64 lower-case hex digits>, sha384:<96> or sha512:<128>/,
    );
  }
  const custom = t.throws(
    () => parseDigest('x', 'store key', 'BUNDLE_MALFORMED', 'attestation-store'),
    { instanceOf: StellaError },
  );
  t.is(custom?.code, 'BUNDLE_MALFORMED');
  t.is(custom?.check, 'attestation-store');
  t.true(isDigestName('sha384'));
  t.false(isDigestName('sha1'));
  t.false(isDigestName('__proto__'));
});

test('parseSha256Digest: sha256 with 64 lower-case hex digits only (a longer or another digest is refused)', (t) => {
  const hex = toHex(digest('sha256', data));
  const d = parseSha256Digest(`sha256:${hex}`, '--artifact');
  t.is(d.name, 'sha256');
  t.is(toHex(d.digest), hex);
  for (const bad of [
    `sha256:${hex}00`,
    `sha256:${hex.slice(2)}`,
    `sha256:${toHex(digest('sha384', data))}`,
    `sha384:${toHex(digest('sha384', data))}`,
    `sha256:${hex.toUpperCase()}`,
  ]) {
    const e = t.throws(
      () => parseSha256Digest(bad, '--artifact'),
      { instanceOf: StellaError },
      bad,
    );
    t.regex(e?.message ?? '', /expected sha256:<64 hex digits> in lower case/);
  }
});
