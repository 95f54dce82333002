/**
 * The predicate-type comparison of the policy step (src/verify/predicate.ts), on the signature
 * step's result alone: exact, and only an attestation has a type.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { verifyPredicateType } from '../../src/verify/predicate.js';
import type { SignatureResult } from '../../src/verify/signature.js';

const ALGORITHM = { key: 'ECDSA P-256', hash: 'sha256', declared: false };
const dsse = (predicateType: string): SignatureResult => ({
  content: 'dsseEnvelope',
  digest: `sha256:${'ab'.repeat(32)}`,
  subject: 'a.txt',
  predicateType,
  algorithm: ALGORITHM,
});

test('the same predicate type passes; any other, a prefix, a case variant or a message signature is PREDICATE_TYPE_MISMATCH', (t) => {
  const SLSA = 'https://slsa.dev/provenance/v1';
  t.notThrows(() => verifyPredicateType(SLSA, dsse(SLSA)));
  for (const other of [
    'https://slsa.dev/provenance/v1.0',
    'https://slsa.dev/provenance/',
    'HTTPS://SLSA.DEV/PROVENANCE/V1',
    'https://slsa.dev/provenance/v1/',
  ]) {
    const e = t.throws(() => verifyPredicateType(SLSA, dsse(other)), { instanceOf: StellaError });
    t.is(e.code, 'PREDICATE_TYPE_MISMATCH', other);
    t.is(e.check, 'policy');
    t.deepEqual(e.details, { required: SLSA, predicateType: other });
  }
  const plain = t.throws(
    () =>
      verifyPredicateType(SLSA, {
        content: 'messageSignature',
        digest: 'sha256:00',
        algorithm: ALGORITHM,
      }),
    { instanceOf: StellaError },
  );
  t.is(plain.code, 'PREDICATE_TYPE_MISMATCH');
  t.deepEqual(plain.details, { required: SLSA, predicateType: null });
  t.regex(plain.message, /a signature over the artifact itself, not an in-toto attestation/);
  // How the identity matched rides along, for --explain.
  const explain = {
    candidates: [],
    patterns: [],
    extensions: [],
    hints: [],
  } as unknown as Parameters<typeof verifyPredicateType>[2];
  const withExplain = t.throws(
    () => verifyPredicateType(SLSA, dsse('https://x.invalid/t'), explain),
    {
      instanceOf: StellaError,
    },
  );
  t.deepEqual(withExplain.details, {
    required: SLSA,
    predicateType: 'https://x.invalid/t',
    explain,
  });
});
