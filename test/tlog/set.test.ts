import test, { type ExecutionContext } from 'ava';
import { StellaError } from '../../src/errors.js';
import { bytesEqual, fromHex, utf8 } from '../../src/util/encoding.js';
import type { TransparencyLogEntry } from '../../src/bundle/model.js';
import type { TransparencyLogInstance } from '../../src/model/trust-material.js';
import { setPayload, signSet, verifySet } from '../../src/tlog/set.js';
import { sharedTest } from '../helpers/shared.js';
import { loadCase, makeLog } from './helpers.js';

function refused(t: ExecutionContext, fn: () => unknown, re: RegExp): void {
  const err = t.throws(fn, { instanceOf: StellaError });
  t.is(err?.code, 'SET_INVALID');
  t.is(err?.check, 'verified-times');
  t.regex(err?.message ?? '', re);
}

const body = utf8.encode('{"apiVersion":"0.0.1","kind":"hashedrekord"}');

test('SET payload is the canonical JSON Rekor signs', (t) => {
  const p = setPayload({
    canonicalizedBody: body,
    integratedTime: 1710869596,
    logIndex: 79571823,
    logId: fromHex('c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d'),
  });
  t.is(
    Buffer.from(p).toString(),
    '{"body":"eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIn0=","integratedTime":1710869596,"logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d","logIndex":79571823}',
  );
});

function localEntry(
  log: TransparencyLogInstance,
  sign: (b: Uint8Array) => Uint8Array,
  integratedTime = 1_700_000_000,
): TransparencyLogEntry {
  const fields = { canonicalizedBody: body, integratedTime, logIndex: 42, logId: log.logId };
  return {
    ...fields,
    kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
    inclusionPromise: { signedEntryTimestamp: signSet(fields, sign) },
    inclusionProof: undefined,
  };
}

test('sign and verify a SET round trip; each signed field is bound', (t) => {
  const l = makeLog('https://rekor.example.dev', 'ec');
  const e = localEntry(l.log, l.sign);
  t.is(verifySet(e, l.log), 1_700_000_000_000);
  refused(
    t,
    () => verifySet({ ...e, integratedTime: e.integratedTime + 1 }, l.log),
    /does not verify/,
  );
  refused(t, () => verifySet({ ...e, logIndex: 43 }, l.log), /does not verify/);
  refused(
    t,
    () => verifySet({ ...e, canonicalizedBody: utf8.encode('{}') }, l.log),
    /does not verify/,
  );
  refused(
    t,
    () => verifySet({ ...e, inclusionPromise: undefined }, l.log),
    /has no signed entry timestamp/,
  );
  refused(
    t,
    () => verifySet({ ...e, integratedTime: 0 }, l.log),
    /integrated time 0 is not a positive integer/,
  );
  refused(t, () => verifySet({ ...e, logIndex: -1 }, l.log), /log index -1/);
  const other = makeLog('https://other.example.dev', 'ec');
  refused(t, () => verifySet(e, other.log), /is not the id of log https:\/\/other\.example\.dev/);
  // Same log id, different key (a rotated key claiming the old id).
  refused(t, () => verifySet(e, { ...other.log, logId: l.log.logId }), /does not verify/);
});

test('the log key must be valid at the integrated time (end inclusive)', (t) => {
  const start = 1_700_000_000_000;
  const l = makeLog('https://rekor.example.dev', 'ec', { start, end: start + 1000 });
  t.notThrows(() => verifySet(localEntry(l.log, l.sign, 1_700_000_000), l.log));
  t.notThrows(() => verifySet(localEntry(l.log, l.sign, 1_700_000_001), l.log));
  refused(
    t,
    () => verifySet(localEntry(l.log, l.sign, 1_699_999_999), l.log),
    /not valid at integrated time 2023-11-14T22:13:19\.000Z/,
  );
  refused(
    t,
    () => verifySet(localEntry(l.log, l.sign, 1_700_000_002), l.log),
    /not valid at integrated time/,
  );
});

test('signSet refuses impossible fields', (t) => {
  const l = makeLog('https://rekor.example.dev', 'ec');
  for (const f of [
    { integratedTime: 0, logIndex: 1 },
    { integratedTime: 1.5, logIndex: 1 },
    { integratedTime: 1, logIndex: -1 },
  ]) {
    const err = t.throws(
      () => signSet({ canonicalizedBody: body, logId: l.log.logId, ...f }, l.sign),
      { instanceOf: StellaError },
    );
    t.is(err?.code, 'INPUT_INVALID');
  }
});

for (const name of [
  'happy-path-v0.1',
  'happy-path-v0.3',
  'happy-path-intoto-in-dsse-v3',
  'managed-key-happy-path',
  'managed-key-and-trusted-root',
  'intoto-expired-certificate_fail',
]) {
  sharedTest(`shared conformance SET verifies: ${name}`, (t) => {
    const { bundle, trust } = loadCase(name);
    for (const e of bundle.verificationMaterial.tlogEntries) {
      const log = trust.tlogs.find((l) => bytesEqual(l.logId, e.logId))!;
      t.is(verifySet(e, log), e.integratedTime * 1000);
      refused(
        t,
        () => verifySet({ ...e, integratedTime: e.integratedTime - 1 }, log),
        /does not verify/,
      );
      refused(
        t,
        () => verifySet({ ...e, logIndex: e.inclusionProof!.logIndex }, log),
        /does not verify/,
      );
    }
  });
}

sharedTest('shared conformance SET refused: incorrect-public-key_fail', (t) => {
  const { bundle, trust } = loadCase('incorrect-public-key_fail');
  const e = bundle.verificationMaterial.tlogEntries[0]!;
  refused(
    t,
    () =>
      verifySet(
        e,
        trust.tlogs.find((l) => bytesEqual(l.logId, e.logId))!,
      ),
    /does not verify/,
  );
});
