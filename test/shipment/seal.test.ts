import test from 'ava';
import { describeSeal } from '../../src/shipment/seal.js';

test('describeSeal: one wording for the summary and the report, saying why a seal was not checked', (t) => {
  t.is(
    describeSeal({ status: 'verified', by: 'exporter key ab12' }),
    'sealed by exporter key ab12',
  );
  t.is(describeSeal({ status: 'unchecked' }), 'sealed, not checked (no exporter trusted)');
  t.is(describeSeal({ status: 'unsealed' }), 'not sealed');
});
