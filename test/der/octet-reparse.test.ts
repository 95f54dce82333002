/**
 * The model of sigstore-js's OCTET STRING re-reading (src/der/octet-reparse.ts), held to the
 * real thing: @sigstore/core's own ASN.1 reader parses and writes back the same bytes, and
 * the model must say "rewritten" exactly when what comes back differs. Cases written by hand
 * for each rule, then generated element trees with every length spelling, then random bytes.
 */
import test from 'ava';
import { ASN1Obj } from '@sigstore/core';
import { sigstoreJsRewrites } from '../../src/der/octet-reparse.js';
import { octetString } from '../../src/der/writer.js';
import { fromHex } from '../../src/util/encoding.js';

/** What @sigstore/core does with `contents` as an OCTET STRING's: written back differently? */
function peerRewrites(contents: Uint8Array): boolean {
  const der = Buffer.from(octetString(contents));
  return !ASN1Obj.parseBuffer(der).toDER().equals(der);
}

const CASES: [hex: string, rewritten: boolean, why: string][] = [
  // A SHA-1 key identifier found among real keys (test/x509/issue.test.ts): context tag 8,
  // its 17 bytes' length written in long form.
  [
    '8881113659b03bcd6aa4ba44afd50eef17b800a1',
    true,
    'a 20-byte key id read as [8] with length 81 11',
  ],
  ['0481050102030405', true, 'long form for a short length'],
  ['048200050102030405', true, 'two length octets for a short length'],
  ['0482008001' + '00'.repeat(127), true, 'a leading zero octet in a long length'],
  ['048180' + '00'.repeat(128), false, '128 in the one long octet it needs'],
  ['3003020105', false, 'minimal DER'],
  ['0404048101aa', true, 'non-minimal inside an OCTET STRING inside the contents'],
  ['04020000', false, 'an inner OCTET STRING whose contents do not parse stays as it is'],
  ['30050481010000', false, 'a constructed child that does not parse: nothing is read as elements'],
  ['0481010000', false, 'trailing bytes that are not an element: nothing is read as elements'],
  ['00020101', false, 'universal tag 0 is refused'],
  ['1f020101', false, 'a high tag number is refused'],
  ['048001', false, 'indefinite length (long form 0) is refused'],
  ['0487000000000000000101', false, 'seven length octets are refused'],
  ['0486000000000001aa', true, 'six length octets are read'],
  ['048101aa05', false, 'a tag with no length after it: nothing is read as elements'],
  ['0481', false, 'a length cut off'],
  ['040501', false, 'a value past the end'],
  ['', false, 'nothing'],
];

test('each rule, by hand: the model says what @sigstore/core does', (t) => {
  for (const [hex, rewritten, why] of CASES) {
    const bytes = fromHex(hex);
    t.is(peerRewrites(bytes), rewritten, `@sigstore/core: ${why}`);
    t.is(sigstoreJsRewrites(bytes), rewritten, why);
  }
});

/** A small deterministic generator (xorshift32), so a failure can be replayed. */
function generator(seed: number) {
  let x = seed || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const below = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => below(256));
  /** A length, spelled minimally or not. */
  const length = (n: number): number[] => {
    const minimal = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    switch (below(4)) {
      case 0:
        return n < 0x100 ? [0x81, n] : minimal;
      case 1:
        return [0x82, n >> 8, n & 0xff];
      default:
        return minimal;
    }
  };
  const TAGS = [0x02, 0x04, 0x04, 0x0c, 0x30, 0x31, 0x80, 0xa0, 0x24];
  const element = (depth: number): number[] => {
    const tag = below(10) === 0 ? below(256) : TAGS[below(TAGS.length)]!;
    let value: number[];
    if ((tag & 0x20 || tag === 0x04) && depth < 3 && below(3) > 0) {
      value = [];
      for (let i = below(3); i >= 0; i--) value.push(...element(depth + 1));
    } else value = [...bytes(below(12))];
    return [tag, ...length(value.length), ...value];
  };
  return {
    below,
    bytes,
    tree(): Uint8Array {
      const out: number[] = [];
      for (let i = below(3); i >= 0; i--) out.push(...element(0));
      // Now and then one byte changed: lengths that overrun, tags that are refused.
      if (below(4) === 0 && out.length > 0) out[below(out.length)] = below(256);
      return Uint8Array.from(out);
    },
  };
}

test('20,000 generated element trees (every length spelling, nesting, one byte changed now and then): the model says what @sigstore/core does', (t) => {
  const g = generator(0x5eed);
  const seen = { rewritten: 0, kept: 0 };
  for (let i = 0; i < 20_000; i++) {
    const bytes = g.tree();
    const expected = peerRewrites(bytes);
    if (sigstoreJsRewrites(bytes) !== expected) {
      t.fail(
        `case ${i}: ${Buffer.from(bytes).toString('hex')}: @sigstore/core rewrites: ${expected}`,
      );
      return;
    }
    seen[expected ? 'rewritten' : 'kept']++;
  }
  // Both answers are well represented, so agreement is not agreement on one answer.
  t.true(seen.rewritten > 2_000 && seen.kept > 2_000, JSON.stringify(seen));
});

test('20,000 random 20- and 32-byte strings: the model says what @sigstore/core does', (t) => {
  const g = generator(0xd16e57);
  for (let i = 0; i < 20_000; i++) {
    const bytes = g.bytes(i % 2 ? 20 : 32);
    t.is(sigstoreJsRewrites(bytes), peerRewrites(bytes), Buffer.from(bytes).toString('hex'));
  }
});
