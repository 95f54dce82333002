/**
 * Step 0: what key signed the bundle. A certificate that fails X.509 parsing is an error —
 * never a fall back to "raw key" mode (cosign GHSA-fx35-mq7g-6g98).
 */
import type { KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { parseCertificate } from '../x509/certificate.js';
import type { Bundle } from '../bundle/model.js';
import type { VerificationPolicy } from './policy.js';
import type { SigningKey } from './context.js';
import { quoted } from '../util/text.js';

/** The managed key's SPKI, exported once per key (the same KeyObject for every bundle). */
const spkiMemo = new WeakMap<KeyObject, Uint8Array>();

function spkiDer(key: KeyObject): Uint8Array {
  let spki = spkiMemo.get(key);
  if (!spki)
    spkiMemo.set(key, (spki = new Uint8Array(key.export({ format: 'der', type: 'spki' }))));
  return spki;
}

export function resolveSigningKey(bundle: Bundle, policy: VerificationPolicy): SigningKey {
  const m = bundle.verificationMaterial.content;
  if (m.kind === 'publicKey') {
    if (!policy.publicKey) {
      fail(
        'KEY_MISMATCH',
        'policy',
        `bundle is signed with a managed key (hint ${quoted(m.hint)}) but no key was given: use --key`,
      );
    }
    return { kind: 'publicKey', key: policy.publicKey, spki: spkiDer(policy.publicKey) };
  }
  if (policy.publicKey) {
    fail(
      'KEY_MISMATCH',
      'policy',
      'bundle is signed with a certificate but --key was given: use --certificate-identity and --certificate-oidc-issuer',
    );
  }
  const ders = m.kind === 'certificate' ? [m.certificate] : m.certificates;
  const [leafDer, ...rest] = ders;
  if (!leafDer) fail('BUNDLE_MALFORMED', 'bundle', 'bundle certificate chain is empty');
  const leaf = parseCertificate(leafDer);
  const intermediates = rest.map((d) => parseCertificate(d));
  // The leaf's key is built when first asked for: a digest-only ECDSA check verifies under a
  // key derived from its point instead, and building a key costs about as much as a P-256
  // verification (OpenSSL 3.0's import).
  return {
    kind: 'certificate',
    leaf,
    intermediates,
    get key() {
      return leaf.publicKey;
    },
  };
}

/** The bytes a timestamp must cover: the message signature, or the (single) DSSE signature. */
export function signatureBytes(bundle: Bundle): Uint8Array {
  const c = bundle.content;
  if (c.kind === 'messageSignature') return c.signature;
  if (c.signatures.length !== 1) {
    fail(
      'DSSE_INVALID',
      'signature',
      `DSSE envelope must carry exactly one signature, found ${c.signatures.length}`,
    );
  }
  return c.signatures[0]!.sig;
}
