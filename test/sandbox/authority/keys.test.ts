import test from 'ava';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import {
  deriveV2AuthorityKeys,
  v2AuthorityKeysEqual,
} from '../../../src/sandbox/authority/keys-v2.js';
import { sha256 } from '../../../src/crypto.js';
import { bytesEqual, toHex, utf8 } from '../../../src/util/encoding.js';
import {
  AUTHORITY_KEY_NAMES,
  authorityKeysEqual,
  deriveAuthorityKeys,
  exportAuthorityKeys,
  generateAuthorityKeys,
  importAuthorityKeys,
  seedFromString,
} from '../../../src/sandbox/authority/keys.js';

test('keys derived from a seed are reproducible and distinct per role', (t) => {
  const a = deriveAuthorityKeys(seedFromString('seed one'));
  const b = deriveAuthorityKeys(seedFromString('seed one'));
  const c = deriveAuthorityKeys(seedFromString('seed two'));
  t.true(authorityKeysEqual(a, b));
  t.false(authorityKeysEqual(a, c));
  const spkis = new Set(AUTHORITY_KEY_NAMES.map((n) => toHex(a[n].spki)));
  t.is(spkis.size, AUTHORITY_KEY_NAMES.length);
});

test('signatures are deterministic (RFC 6979) and verify with node:crypto', (t) => {
  const k = deriveAuthorityKeys(seedFromString('seed one')).rekorLog;
  const msg = utf8.encode('hello');
  const s1 = k.sign(msg);
  t.true(bytesEqual(s1, k.sign(msg)));
  const pub = createPublicKey({ key: Buffer.from(k.spki), format: 'der', type: 'spki' });
  t.true(nodeVerify('sha256', msg, pub, s1));
  t.true(nodeVerify('sha256', msg, { key: pub, dsaEncoding: 'ieee-p1363' }, k.signRaw(msg)));
  t.true(nodeVerify('sha256', msg, pub, k.signDigest(sha256(msg))));
  // signDigest signs a SHA-256 digest as given; anything but 32 bytes is refused, not signed.
  for (const n of [31, 33, 48]) {
    t.throws(() => k.signDigest(new Uint8Array(n)), {
      message: new RegExp(`expected a 32-byte SHA-256 digest, got ${n} bytes`),
    });
  }
  t.false(nodeVerify('sha256', utf8.encode('other'), pub, s1));
});

test('export/import round trip; random keys differ', (t) => {
  const keys = generateAuthorityKeys();
  const json = JSON.parse(JSON.stringify(exportAuthorityKeys(keys)));
  t.true(authorityKeysEqual(importAuthorityKeys(json), keys));
  t.false(authorityKeysEqual(generateAuthorityKeys(), keys));
});

test('import refuses malformed key files with CONFIG_INVALID naming the field', (t) => {
  const good = exportAuthorityKeys(deriveAuthorityKeys(seedFromString('x')));
  for (const [bad, field] of [
    [null, 'JSON object'],
    [{ ...good, version: 2 }, 'version'],
    // "keys" that is no object (before the test: an internal TypeError for null).
    [{ version: 1, keys: null }, '"keys" must be an object'],
    [{ version: 1, keys: [] }, '"keys" must be an object'],
    [{ version: 1, keys: 'x' }, '"keys" must be an object'],
    [{ version: 1 }, '"keys" must be an object'],
    [{ version: 1, keys: { ...good.keys, ctLog: { secretKey: 'zz' } } }, 'keys.ctLog.secretKey'],
    [{ version: 1, keys: { ...good.keys, oidc: undefined } }, 'keys.oidc.secretKey'],
    [
      { version: 1, keys: { ...good.keys, rootCa: { secretKey: '0'.repeat(64) } } },
      'not a valid P-256 secret key',
    ],
  ] as const) {
    const err = t.throws(() => importAuthorityKeys(bad), { instanceOf: StellaError });
    t.is(err?.code, 'CONFIG_INVALID');
    t.true(err.message.includes(field), err.message);
  }
});

test('v2 authority keys are equal only when all three keys are: the log seed, the TSA root and the TSA signer', (t) => {
  const a = deriveV2AuthorityKeys(seedFromString('keys-v2-equal-a'));
  const b = deriveV2AuthorityKeys(seedFromString('keys-v2-equal-b'));
  t.true(v2AuthorityKeysEqual(a, deriveV2AuthorityKeys(seedFromString('keys-v2-equal-a'))));
  t.false(v2AuthorityKeysEqual(a, b));
  // One key differing is enough, whichever it is.
  for (const k of ['rekorV2Log', 'tsaRoot', 'tsaSigner'] as const)
    t.false(v2AuthorityKeysEqual(a, { ...a, [k]: b[k] }), k);
});
