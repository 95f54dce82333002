import test from 'ava';
import { describeSeal, exportersTrusted } from '../../src/shipment/seal.js';

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
