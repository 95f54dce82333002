import test from 'ava';
import { leafCertificateDer } from '../../src/bundle/model.js';

test('leafCertificateDer: the certificate of a v0.3 bundle, the first of a chain, none for a key', (t) => {
  const leaf = Uint8Array.of(0x30, 1, 2);
  const issuer = Uint8Array.of(0x30, 3, 4);
  t.is(leafCertificateDer({ kind: 'certificate', certificate: leaf }), leaf);
  t.is(leafCertificateDer({ kind: 'x509CertificateChain', certificates: [leaf, issuer] }), leaf);
  t.is(leafCertificateDer({ kind: 'x509CertificateChain', certificates: [] }), undefined);
  t.is(leafCertificateDer({ kind: 'publicKey', hint: 'k' }), undefined);
});
