/**
 * The predicate type a policy asks for (--predicate-type, a policy file's predicateType:):
 * the bundle must sign an in-toto statement of exactly that type. Without it any signature
 * over the artifact passes, a message signature or an attestation of any kind (a vulnerability
 * scan where provenance was meant); cosign's `verify-attestation --type` and
 * `gh attestation verify --predicate-type` ask the same. Part of the policy step: what was
 * signed is checked by then, so this only compares.
 */
import { fail } from '../errors.js';
import { quoted } from '../util/text.js';
import type { SignatureResult } from './signature.js';
import type { IdentityExplanation } from './identity.js';

/**
 * `explain`: how the identity matched, when a certificate's did (the policy step's first
 * half), carried in the refusal's details so that --explain still shows it.
 */
export function verifyPredicateType(
  required: string,
  signed: SignatureResult,
  explain?: IdentityExplanation,
): void {
  const details = (predicateType: string | null) => ({
    required,
    predicateType,
    ...(explain ? { explain } : {}),
  });
  if (signed.content !== 'dsseEnvelope')
    fail(
      'PREDICATE_TYPE_MISMATCH',
      'policy',
      `predicate type mismatch: the bundle is a signature over the artifact itself, not an in-toto attestation; required predicate type ${quoted(required)}`,
      details(null),
    );
  if (signed.predicateType !== required)
    fail(
      'PREDICATE_TYPE_MISMATCH',
      'policy',
      `predicate type mismatch: the bundle's in-toto statement has predicate type ${quoted(signed.predicateType)}, not ${quoted(required)}`,
      details(signed.predicateType ?? null),
    );
}
