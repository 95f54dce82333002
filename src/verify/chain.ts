/**
 * Step 2: the certificate chain, judged at every verified time (the cert-validity-window
 * rule: a certificate expired now still verifies if it was valid when signed).
 */
import { verifyCertificateChain } from '../x509/chain.js';
import { certificateKeyOf, preciseTime, type VerifyInput, type VerifyState } from './context.js';

export function verifyChainStep(
  input: VerifyInput,
  state: VerifyState,
): NonNullable<VerifyState['chain']> {
  const key = certificateKeyOf(state, 'certificate-chain');
  const times = state.verifiedTimes!.map(preciseTime);
  return verifyCertificateChain(
    key.leaf,
    key.intermediates,
    input.trust.certificateAuthorities,
    times,
  );
}
