/**
 * The memo of CA-link signature checks (src/x509/verify-cache.ts). A hit must give back the
 * very answer the check gave, failures included: a memo that turned a remembered "does not
 * verify" into "verifies" would let a forged intermediate through on its second use.
 */
import test from 'ava';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { utf8 } from '../../src/util/encoding.js';
import { memoizedVerify } from '../../src/x509/verify-cache.js';

const freshKey = (): KeyObject => generateKeyPairSync('ed25519').publicKey;
const data = utf8.encode('tbsCertificate bytes');
const sig = Uint8Array.of(1, 2, 3);

/** A check that counts its calls and answers `answer`. */
function check(answer: boolean): { calls: number; run: () => boolean } {
  const c = { calls: 0, run: () => (c.calls++, answer) };
  return c;
}

test('a remembered failure stays a failure; a remembered success stays a success; each is checked once', (t) => {
  const key = freshKey();
  const bad = check(false);
  t.false(memoizedVerify(key, 'alg', data, sig, bad.run));
  t.false(
    memoizedVerify(key, 'alg', data, sig, bad.run),
    'second use of a failed link: still refused',
  );
  t.is(bad.calls, 1, 'the second answer came from the memo');

  const good = check(true);
  const otherSig = Uint8Array.of(4, 5, 6);
  t.true(memoizedVerify(key, 'alg', data, otherSig, good.run));
  t.true(memoizedVerify(key, 'alg', data, otherSig, good.run));
  t.is(good.calls, 1);
});

test('a hit needs the same key object, algorithm, data and signature', (t) => {
  const key = freshKey();
  t.false(memoizedVerify(key, 'alg', data, sig, () => false));
  // Each differing part is a different check: it runs, and its own answer is returned.
  for (const [what, k, alg, d, s] of [
    ['another key object', freshKey(), 'alg', data, sig],
    ['another algorithm', key, 'alg2', data, sig],
    ['other data', key, 'alg', utf8.encode('other'), sig],
    ['another signature', key, 'alg', data, Uint8Array.of(1, 2, 4)],
  ] as const) {
    const c = check(true);
    t.true(memoizedVerify(k, alg, d, s, c.run), what);
    t.is(c.calls, 1, what);
  }
});

test.serial('the memo holds 4096 answers: the oldest is dropped by the 4096th newer one', (t) => {
  const key = freshKey();
  const first = check(false);
  t.false(memoizedVerify(key, 'alg', data, sig, first.run));
  const fill = (from: number, to: number): void => {
    for (let i = from; i < to; i++)
      memoizedVerify(key, 'fill', utf8.encode(String(i)), sig, () => true);
  };
  // 4095 newer entries: the first is still remembered (and this lookup refreshes it).
  fill(0, 4095);
  t.false(memoizedVerify(key, 'alg', data, sig, first.run));
  t.is(first.calls, 1, 'still cached after 4095 newer entries');
  // Refreshed, it is now the newest: 4095 more keep it, the 4096th drops it.
  fill(4095, 8190);
  t.false(memoizedVerify(key, 'alg', data, sig, first.run));
  t.is(first.calls, 1);
  fill(8190, 12286);
  t.false(
    memoizedVerify(key, 'alg', data, sig, first.run),
    'checked again after eviction, same answer',
  );
  t.is(first.calls, 2, 'evicted after 4096 newer entries');
});
