/**
 * Step 2: the certificate chain, judged at every verified time (the cert-validity-window
 * rule: a certificate expired now still verifies if it was valid when signed).
 */
import { fail } from '../errors.js';
import { verifyCertificateChain } from '../x509/chain.js';
import { preciseTime, type VerifyInput, type VerifyState } from './context.js';

export function verifyChainStep(
  input: VerifyInput,
  state: VerifyState,
): NonNullable<VerifyState['chain']> {
  const key = state.signingKey!;
  if (key.kind !== 'certificate')
    fail('INPUT_INVALID', 'certificate-chain', 'no certificate to verify');
  const times = state.verifiedTimes!.map(preciseTime);
  return verifyCertificateChain(
    key.leaf,
    key.intermediates,
    input.trust.certificateAuthorities,
    times,
  );
}
