import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readTrustedRoot } from '../../src/commands/attest/trust-selection.js';
import { StellaError } from '../../src/errors.js';
import { checkSeal, describeSeal, exportersTrusted } from '../../src/shipment/seal.js';
import { SAMPLES, SAMPLES_TRUSTED_ROOT } from '../helpers/samples.js';

test('describeSeal: one wording for the summary and the report, saying why a seal was not checked', (t) => {
  t.is(
    describeSeal({ status: 'verified', by: 'exporter key ab12' }),
    'sealed by exporter key ab12',
  );
  t.is(describeSeal({ status: 'unchecked' }), 'sealed, not checked (no exporter trusted)');
  t.is(describeSeal({ status: 'unsealed' }), 'not sealed');
});

test('exportersTrusted: only a trust with at least one exporter key or identity requires a seal', (t) => {
  t.false(exportersTrusted(undefined));
  t.false(exportersTrusted({ keys: [], identities: [] }));
  t.true(exportersTrusted({ keys: [], identities: [{ identity: 'x', issuer: 'https://y' }] }));
});

test("checkSeal: a seal that is not a bundle is SEAL_INVALID keeping the parser's refusal as its cause; a seal over other bytes has no cause to keep", async (t) => {
  const trust = readTrustedRoot(SAMPLES_TRUSTED_ROOT, 'samples');
  const exporters = {
    keys: [{ keyId: 'k', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey }],
    identities: [],
  };
  const pre = (seal: string) => ({
    manifestSha256: 'ab'.repeat(32),
    manifestSize: 1,
    seal: new TextEncoder().encode(seal),
  });
  const notABundle = await t.throwsAsync(
    checkSeal(pre('{"mediaType": 1}'), exporters, trust, Date.now(), 'a.tar'),
    { instanceOf: StellaError },
  );
  t.is(notABundle.code, 'SEAL_INVALID');
  t.regex(notABundle.message, /^manifest\.sigstore\.json is not a valid Sigstore bundle: /);
  t.true(notABundle.cause instanceof StellaError, "the parser's refusal is kept");
  t.is((notABundle.cause as StellaError).code, 'BUNDLE_MALFORMED');
  const blob = readFileSync(path.join(SAMPLES, 'blob.sigstore.json'), 'utf8');
  const otherBytes = await t.throwsAsync(
    checkSeal(pre(blob), exporters, trust, Date.now(), 'a.tar'),
    { instanceOf: StellaError },
  );
  t.regex(otherBytes.message, /^the seal is over other bytes/);
  t.false('cause' in otherBytes, 'raised outside any catch: no cause');
});
