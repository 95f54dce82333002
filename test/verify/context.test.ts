/**
 * certificateKeyOf: the one guard of the certificate-only steps (chain, SCT, identity). The
 * pipeline runs them for certificate bundles only; a library caller that runs one on a key
 * bundle is refused by name, never read as an absent certificate.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../src/errors.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { buildPolicy } from '../../src/verify/policy.js';
import { resolveSigningKey } from '../../src/verify/signing-key.js';
import { certificateKeyOf, type VerifyInput, type VerifyState } from '../../src/verify/context.js';
import { verifyChainStep } from '../../src/verify/chain.js';
import { verifySctStep } from '../../src/verify/sct.js';
import { verifyIdentityStep } from '../../src/verify/identity.js';
import { SAMPLES } from '../helpers/samples.js';

const read = (f: string) => readFileSync(path.join(SAMPLES, f));
const trust = parseTrustedRoot(read('trusted_root.json'));
const artifact = { kind: 'bytes', data: new Uint8Array(read('artifact.txt')) } as const;

function stateOf(bundleFile: string, policy: ReturnType<typeof buildPolicy>) {
  const bundle = parseBundle(read(bundleFile));
  const input: VerifyInput = { bundle, artifact, trust, policy };
  const state: VerifyState = { warnings: [], signingKey: resolveSigningKey(bundle, policy) };
  return { input, state };
}

test('a certificate bundle: its leaf, intermediates and key', (t) => {
  const policy = buildPolicy({
    certificateIdentity: '.*',
    certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
    allowBroadIdentity: true,
  });
  const { state } = stateOf('blob.sigstore.json', policy);
  const key = certificateKeyOf(state, 'sct');
  t.is(key.kind, 'certificate');
  t.true(key === state.signingKey);
  // buildPolicy always gives a certificate policy its identity; a hand-built one without it
  // is refused by the identity step, which has nothing to match.
  const { input } = stateOf('blob.sigstore.json', policy);
  const e = t.throws(
    () => verifyIdentityStep({ ...input, policy: { ...policy, identity: undefined } }, state),
    { instanceOf: StellaError },
  );
  t.is(e?.code, 'INPUT_INVALID');
  t.is(e?.check, 'policy');
  t.is(e?.message, 'a certificate bundle needs an identity policy');
});

test('a key bundle: each certificate-only step is refused by name, INPUT_INVALID in its own check', (t) => {
  const policy = buildPolicy({ publicKeyPem: read('key.pub').toString('utf8') });
  const { input, state } = stateOf('managed-key.sigstore.json', policy);
  t.is(state.signingKey?.kind, 'publicKey');
  for (const [check, step] of [
    ['certificate-chain', () => verifyChainStep(input, state)],
    ['sct', () => verifySctStep(input, state)],
    ['policy', () => verifyIdentityStep(input, state)],
  ] as const) {
    const e = t.throws(step, { instanceOf: StellaError }, check);
    t.is(e?.code, 'INPUT_INVALID', check);
    t.is(e?.check, check);
    t.is(e?.message, `the ${check} check applies to certificate bundles only`, check);
  }
  t.throws(() => certificateKeyOf({ warnings: [] }, 'sct'), { instanceOf: StellaError });
});
