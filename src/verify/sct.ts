/** Step 3: the embedded SCT proves the certificate was logged to a trusted CT log. */
import { verifyEmbeddedScts } from '../x509/sct.js';
import { certificateKeyOf, type VerifyInput, type VerifyState } from './context.js';

export function verifySctStep(
  input: VerifyInput,
  state: VerifyState,
): NonNullable<VerifyState['scts']> {
  const key = certificateKeyOf(state, 'sct');
  const path = state.chain!.path;
  // A validated path is [leaf, issuer, ..., root] (x509/chain.ts): the SCTs are bound to path[1].
  return verifyEmbeddedScts(key.leaf, path[1]!, input.trust.ctlogs);
}
