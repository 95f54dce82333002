/**
 * `attest import --policy`'s refusal on its own (the CLI runs are in shipment.test.ts): every
 * unmet artifact in the details, the first 50 in the message, and how many more.
 */
import test from 'ava';
import { policyUnmet, type UnmetArtifact } from '../../../src/commands/attest/import-run.js';

const unmet = (n: number): UnmetArtifact[] =>
  Array.from({ length: n }, (_, i) => ({
    artifactDigest: `sha256:${i.toString(16).padStart(64, '0')}`,
    failures: [
      { path: `bundles/${i}.json`, check: 'policy', code: 'IDENTITY_MISMATCH', message: 'no' },
    ],
  }));

test('IMPORT_POLICY_UNMET names the first 50 unmet artifacts and says how many more; the details list them all', (t) => {
  const fifty = policyUnmet(unmet(50), 60, 'x.tar');
  t.is(fifty.code, 'IMPORT_POLICY_UNMET');
  t.regex(
    fifty.message,
    /^nothing imported: 50 of 60 artifact\(s\) in x\.tar have no bundle that verifies under the policy: sha256:0{64} \(bundles\/0\.json: policy: IDENTITY_MISMATCH: no\), /,
  );
  t.regex(fifty.message, /sha256:0{62}31 \(bundles\/49\.json: policy: IDENTITY_MISMATCH: no\)$/);
  t.notRegex(fifty.message, /more/);
  const more = policyUnmet(unmet(52), 60, 'x.tar');
  t.regex(more.message, /sha256:0{62}31 \(bundles\/49\.json: [^)]*\), and 2 more$/);
  t.notRegex(more.message, /bundles\/50\.json/);
  t.is((more.details as { artifacts: UnmetArtifact[] }).artifacts.length, 52);
  // A failure without its check, code or message (a bundle that could not be read) still reads.
  const bare = policyUnmet(
    [{ artifactDigest: `sha256:${'a'.repeat(64)}`, failures: [{ path: 'bundles/a.json' }] }],
    1,
    'y.tar',
  );
  t.regex(bare.message, /\(bundles\/a\.json: \?: \?: \)$/);
});
