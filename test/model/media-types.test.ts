import test from 'ava';
import { sigstoreDocumentKind } from '../../src/model/media-types.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { StellaError } from '../../src/errors.js';

test('sigstoreDocumentKind names the family of every published media type form, and nothing else', (t) => {
  for (const [type, kind] of [
    ['application/vnd.dev.sigstore.bundle+json;version=0.1', 'a Sigstore bundle'],
    ['application/vnd.dev.sigstore.bundle.v0.3+json', 'a Sigstore bundle'],
    ['application/vnd.dev.sigstore.bundle.v0.4+json', 'a Sigstore bundle'],
    [
      'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      'a trusted root (trusted_root.json)',
    ],
    ['application/vnd.dev.sigstore.trustedroot.v0.2+json', 'a trusted root (trusted_root.json)'],
    [
      'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      'a signing config (signing_config.json)',
    ],
  ])
    t.is(sigstoreDocumentKind(type!), kind, type);
  for (const type of [
    'application/vnd.dev.sigstore.bundlex.v0.3+json',
    'application/vnd.dev.sigstore.bundle.trustedroot.v0.2+json',
    'application/vnd.in-toto+json',
    'application/json',
    '',
  ])
    t.is(sigstoreDocumentKind(type), undefined, type);
});

test('a trusted root given as a bundle, or a bundle given as a trusted root, is said to be what it is', (t) => {
  const root = JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json' });
  const bundle = JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' });
  const asBundle = t.throws(() => parseBundle(root), { instanceOf: StellaError });
  t.is(asBundle?.code, 'BUNDLE_UNSUPPORTED');
  t.is(
    asBundle?.message,
    'unsupported bundle media type "application/vnd.dev.sigstore.trustedroot.v0.2+json": that is a trusted root (trusted_root.json), not a Sigstore bundle',
  );
  const asRoot = t.throws(() => parseTrustedRoot(bundle), { instanceOf: StellaError });
  t.is(asRoot?.code, 'TRUSTED_ROOT_INVALID');
  t.regex(
    asRoot?.message ?? '',
    /unsupported trusted root media type "application\/vnd\.dev\.sigstore\.bundle\.v0\.3\+json": that is a Sigstore bundle, not a trusted root$/,
  );
  // A bundle or trusted root of a version Stella does not read is only unsupported.
  const v9 = t.throws(
    () =>
      parseBundle(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.9+json' })),
    { instanceOf: StellaError },
  );
  t.is(
    v9?.message,
    'unsupported bundle media type "application/vnd.dev.sigstore.bundle.v0.9+json"',
  );
  const r9 = t.throws(
    () =>
      parseTrustedRoot(
        JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.9+json' }),
      ),
    { instanceOf: StellaError },
  );
  t.regex(
    r9?.message ?? '',
    /media type "application\/vnd\.dev\.sigstore\.trustedroot\.v0\.9\+json"$/,
  );
});
