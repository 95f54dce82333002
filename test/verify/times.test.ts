/**
 * Step 1, verified times, and how every later window check reads them (checklist H50, H58):
 * a time out of range never reaches the pipeline (the bundle is refused when parsed, naming
 * the field), and a TSA genTime with digits below the millisecond is held to every window at
 * full precision — 100 µs past the leaf's notAfter is past it.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { serializeBundle } from '../../src/bundle/serialize.js';
import type { Bundle } from '../../src/bundle/model.js';
import { buildPolicy } from '../../src/verify/policy.js';
import { verifyBundleReport } from '../../src/verify/pipeline.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { utf8 } from '../../src/util/encoding.js';
import type { PreciseTime } from '../../src/util/time.js';
import { signBlob, testAuthority, testTsa, ORG_REPO_POLICY } from '../helpers/authority-bundles.js';

const authority = testAuthority('verify-times');
const ARTIFACT = utf8.encode('an artifact signed at a precise time\n');
const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const signed = signBlob(authority, ARTIFACT, { repo: 'org/repo', now: T });
const leaf = parseCertificate(signed.certificate);
const tsa = testTsa('verify-times', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
const trust = { ...authority.trustMaterial(), timestampAuthorities: [tsa.authority] };
const policyAt = (now: number) => buildPolicy({ ...ORG_REPO_POLICY, now });

/** The signed bundle with one more RFC 3161 token over its signature, at `genTime`. */
function stamped(genTime: PreciseTime): Bundle {
  const b = signed.bundle;
  if (b.content.kind !== 'messageSignature') throw new Error('expected a message signature');
  return {
    ...b,
    verificationMaterial: {
      ...b.verificationMaterial,
      rfc3161Timestamps: [tsa.stamp(b.content.signature, genTime)],
    },
  };
}

async function verdict(
  bundle: Bundle,
  now = Date.UTC(2025, 6, 1),
): Promise<{ ok: boolean; code?: string; message?: string; times: string[] }> {
  // Through the serialized form, as a file would arrive.
  const r = await verifyBundleReport({
    bundle: parseBundle(serializeBundle(bundle)),
    artifact: { kind: 'bytes', data: ARTIFACT },
    trust,
    policy: policyAt(now),
  });
  return {
    ok: r.ok,
    code: r.error?.code,
    message: r.error?.message,
    times: r.verifiedTimes.map((v) => v.time),
  };
}

test("a TSA time 100 µs past the leaf certificate's notAfter is refused; exactly at notAfter it verifies (checklist H58)", async (t) => {
  const atEnd = await verdict(stamped({ ms: leaf.notAfter, subMs: '' }));
  t.true(atEnd.ok, atEnd.message);
  const past = await verdict(stamped({ ms: leaf.notAfter, subMs: '1' }));
  t.false(past.ok);
  t.is(past.code, 'CERT_EXPIRED');
  t.regex(
    past.message!,
    /^certificate expired: leaf valid .*\.\.2025-06-01T12:10:00\.000Z, verified time 2025-06-01T12:10:00\.0001Z$/,
  );
  // Before notBefore by a fraction of a millisecond.
  const early = await verdict(stamped({ ms: leaf.notBefore - 1, subMs: '9999' }));
  t.is(early.code, 'CERT_EXPIRED');
  t.regex(
    early.message!,
    /^certificate not yet valid: .* verified time 2025-06-01T11:59:59\.9999999Z$/,
  );
});

test('the report shows a TSA time at full precision, and "in the future" is judged at full precision', async (t) => {
  const genTime = { ms: T + 60_000, subMs: '25' };
  const ok = await verdict(stamped(genTime), T + 60_001);
  t.true(ok.ok, ok.message);
  t.true(ok.times.includes('2025-06-01T12:01:00.00025Z'), ok.times.join(', '));
  const future = await verdict(stamped(genTime), T + 60_000);
  t.is(future.code, 'TIME_IN_FUTURE');
  t.regex(
    future.message!,
    /verified time 2025-06-01T12:01:00\.00025Z from https:\/\/verify-times\.tsa\.test\.invalid is in the future/,
  );
});

test('an integrated time a Date cannot hold is refused when the bundle is parsed, naming the field (checklist H50)', async (t) => {
  const json = JSON.parse(serializeBundle(signed.bundle)) as {
    verificationMaterial: { tlogEntries: { integratedTime: string }[] };
  };
  for (const value of ['253402300800', '10000000000000', '9007199254740991']) {
    json.verificationMaterial.tlogEntries[0]!.integratedTime = value;
    const e = t.throws(() => parseBundle(JSON.stringify(json)), {
      instanceOf: StellaError,
    }) as StellaError;
    t.is(e.code, 'BUNDLE_MALFORMED');
    t.regex(
      e.message,
      new RegExp(
        `^verificationMaterial\\.tlogEntries\\[0\\]\\.integratedTime: ${value} is not a time in range \\(whole seconds from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59\\.999Z\\)$`,
      ),
    );
  }
  json.verificationMaterial.tlogEntries[0]!.integratedTime = '253402300799';
  t.is(
    parseBundle(JSON.stringify(json)).verificationMaterial.tlogEntries[0]!.integratedTime,
    253402300799,
    'the last second of 9999 parses (its SET will not verify)',
  );
});
